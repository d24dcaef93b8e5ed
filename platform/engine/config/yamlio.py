"""Read config YAML with YAML 1.2 semantics and remember where every value came from.

PyYAML (through libyaml when available) only tokenises; this module builds plain
Python values from the event stream itself, so that:

- scalars resolve by the YAML 1.2 core schema: `on`, `off`, `yes`, `no` stay strings,
  `09:00` is a string (not sexagesimal 540), dates stay strings;
- a duplicate key in a mapping is an error, not a silent overwrite;
- every value and every key has its line and column, looked up by document path;
- hostile input is bounded: nesting depth, alias expansion (billion laughs) and
  recursive aliases are errors, never a hang, a crash or a Python exception.

Anything wrong is reported as `ConfigIssue`s inside one `ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from gongdan.errors import ConfigError, ConfigIssue, Severity, format_path

__all__ = ["Document", "Path", "parse_documents"]

Path = tuple[str | int, ...]
Position = tuple[int, int]

MAX_DEPTH = 64
MAX_EXPANDED_NODES = 1_000_000

_CORE_TAG = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")

_Parser: Callable[[str], Any]
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _CParser

    _Parser = _CParser
else:  # pragma: no cover - libyaml ships with PyYAML wheels

    class _PureParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)

    _Parser = _PureParser


class _Problem(Exception):
    def __init__(self, position: Position, path: Path, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Document:
    """One YAML document: its plain value and where each part of it stands in the file."""

    file: str
    index: int
    data: Any
    position: Position
    marks: dict[Path, Position] = field(repr=False, compare=False)
    key_marks: dict[Path, Position] = field(repr=False, compare=False)

    def locate(self, path: Path, *, key: bool = False) -> Position:
        """Line and column of the value at `path` (or of its key), else of its nearest parent."""
        if key and path in self.key_marks:
            return self.key_marks[path]
        probe = tuple(path)
        while probe:
            if probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), self.position)

    def issue(
        self, path: Path, message: str, *, severity: Severity = "error", key: bool = False
    ) -> ConfigIssue:
        """A problem located at `path` (at its key with `key=True`)."""
        line, column = self.locate(path, key=key)
        return ConfigIssue(self.file, line, column, format_path(path), message, severity)


def _position(event: Any) -> Position:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1)


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema for an untagged plain scalar."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(text):
            return int(text)
        if _OCT.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
        if _FLOAT.fullmatch(text) or _INF.fullmatch(text) or _NAN.fullmatch(text):
            return float(
                text.replace(".inf", "inf")
                .replace(".Inf", "inf")
                .replace(".INF", "inf")
                .replace(".nan", "nan")
                .replace(".NaN", "nan")
                .replace(".NAN", "nan")
            )
    return text


def _scalar_value(event: Any, position: Position, path: Path) -> Any:
    tag = event.tag
    text: str = event.value
    try:
        if tag is None:
            return _resolve_plain(text) if event.implicit[0] else text
        if tag == "!":
            return text
        if not tag.startswith(_CORE_TAG):
            raise _Problem(position, path, f"unsupported tag '{tag}'")
        kind = tag[len(_CORE_TAG) :]
        if kind == "str":
            return text
        value = _resolve_plain(text)
        expected: dict[str, type | tuple[type, ...]] = {
            "int": int,
            "float": (int, float),
            "bool": bool,
            "null": type(None),
        }
        if kind not in expected:
            raise _Problem(position, path, f"unsupported tag '!!{kind}'")
        if (isinstance(value, bool) and kind != "bool") or not isinstance(value, expected[kind]):
            raise _Problem(position, path, f"cannot read {text!r} as !!{kind}")
        return float(value) if kind == "float" and isinstance(value, (int, float)) else value
    except ValueError as exc:  # e.g. an integer with more digits than Python will convert
        raise _Problem(position, path, f"cannot read this number: {exc}") from None


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path
    anchor: str | None
    size: int = 1
    pending_key: str | None = None


class _Builder:
    """Builds one document's value from parser events, iteratively (no recursion)."""

    def __init__(self, events: Iterator[Any]) -> None:
        self.events = events
        self.marks: dict[Path, Position] = {}
        self.key_marks: dict[Path, Position] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0

    def build(self) -> Any:
        stack: list[_Frame] = []
        result: Any = None
        while True:
            event = next(self.events)
            if isinstance(event, yaml.DocumentEndEvent):
                return result
            position = _position(event)
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value, size = frame.container, frame.size
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (value, size)
                if not stack:
                    result = value
                else:
                    self._attach(stack, value, size, position, is_container=True)
                continue
            parent_path = self._child_path(stack, position, event)
            if parent_path is None:  # the event was a mapping key
                continue
            self.marks[parent_path] = position
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar_value(event, position, parent_path)
                self._count(1, position, parent_path)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1)
                if not stack:
                    result = value
                else:
                    self._attach(stack, value, 1, position)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    raise _Problem(
                        position,
                        parent_path,
                        f"alias *{event.anchor} refers to an unknown or enclosing anchor",
                    )
                value, size = self.anchors[event.anchor]
                self._count(size, position, parent_path)
                if not stack:
                    result = value
                else:
                    self._attach(stack, value, size, position)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise _Problem(position, parent_path, f"nested deeper than {MAX_DEPTH} levels")
                tag = event.tag
                if tag not in (None, "!", _CORE_TAG + "map", _CORE_TAG + "seq"):
                    raise _Problem(position, parent_path, f"unsupported tag '{tag}'")
                self._count(1, position, parent_path)
                container: dict[str, Any] | list[Any] = (
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                )
                stack.append(_Frame(container, parent_path, event.anchor))

    def _count(self, size: int, position: Position, path: Path) -> None:
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise _Problem(
                position,
                path,
                f"document expands to more than {MAX_EXPANDED_NODES:,} values (alias bomb?)",
            )

    def _child_path(self, stack: list[_Frame], position: Position, event: Any) -> Path | None:
        """The path the next value goes to; None when `event` was consumed as a mapping key."""
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.pending_key is None:
            if not isinstance(event, yaml.ScalarEvent):
                raise _Problem(
                    position,
                    frame.path,
                    "a mapping key must be a plain value, not a "
                    + ("list or mapping" if not isinstance(event, yaml.AliasEvent) else "alias"),
                )
            key = str(event.value)
            if key in frame.container:
                line, column = self.key_marks[(*frame.path, key)]
                raise _Problem(
                    position,
                    (*frame.path, key),
                    f"duplicate key '{key}' (first given at line {line}, column {column})",
                )
            frame.pending_key = key
            self.key_marks[(*frame.path, key)] = position
            return None
        return (*frame.path, frame.pending_key)

    @staticmethod
    def _attach(
        stack: list[_Frame],
        value: Any,
        size: int,
        position: Position,
        *,
        is_container: bool = False,
    ) -> None:
        frame = stack[-1]
        frame.size += size
        if isinstance(frame.container, list):
            frame.container.append(value)
        else:
            assert frame.pending_key is not None  # noqa: S101 - guaranteed by _child_path
            frame.container[frame.pending_key] = value
            frame.pending_key = None


def _decode(source: str | bytes, file: str) -> str:
    if isinstance(source, str):
        return source
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        column = exc.start - (source.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [ConfigIssue(file, line, column, "(document)", "the file is not valid UTF-8 text")]
        ) from None


def parse_documents(source: str | bytes, file: str) -> list[Document]:
    """Parse every document of one YAML file into `Document`s, or raise `ConfigError`."""
    text = _decode(source, file)
    documents: list[Document] = []
    parser = _Parser(text)

    def events() -> Iterator[Any]:
        while True:
            yield parser.get_event()

    stream = events()
    try:
        while True:
            event = next(stream)
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                builder = _Builder(stream)
                data = builder.build()
                documents.append(
                    Document(
                        file,
                        len(documents),
                        data,
                        _position(event),
                        builder.marks,
                        builder.key_marks,
                    )
                )
    except _Problem as problem:
        line, column = problem.position
        raise ConfigError(
            [ConfigIssue(file, line, column, format_path(problem.path), problem.message)]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ConfigError(
            [ConfigIssue(file, line, column, "(document)", f"YAML syntax error: {message}")]
        ) from None
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        position = getattr(exc, "position", None)
        line, column = _line_column(text, position) if position is not None else (1, 1)
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise ConfigError(
            [ConfigIssue(file, line, column, "(document)", f"unreadable YAML: {reason}")]
        ) from None
    except (RecursionError, MemoryError):
        raise ConfigError(
            [
                ConfigIssue(
                    file, 1, 1, "(document)", "the document is too deeply nested or too large"
                )
            ]
        ) from None
    return documents


def _line_column(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
