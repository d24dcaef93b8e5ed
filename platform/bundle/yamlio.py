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
from collections.abc import Callable
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


class _Shadow:
    """Where a container and each of its entries stand in the file (kept beside the
    data instead of one entry per path: loading stays cheap, locating walks it)."""

    __slots__ = ("children", "key_marks", "mark")

    def __init__(self, mark: Any, mapping: bool) -> None:
        self.mark = mark
        self.children: dict[str, Any] | list[Any] = {} if mapping else []
        self.key_marks: dict[str, Any] | None = {} if mapping else None


def _point(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1)


@dataclass(frozen=True)
class Document:
    """One YAML document: its plain value and where each part of it stands in the file.

    Positions are worked out only when a problem needs one: the file is then read once
    more, keeping every mark (`_Builder(track=True)`). Valid bundles never pay for them.
    """

    file: str
    index: int
    data: Any
    position: Position
    text: str = field(default="", repr=False, compare=False)
    _shadow: list[Any] = field(default_factory=list, repr=False, compare=False)
    # What the loader derives from `data` alone and keeps while the document is cached
    # (the loader's `PARSE_CACHE`): e.g. a ticket type's compiled fields.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shadow(self) -> Any:
        if not self._shadow:
            tracked = _parse(self.text, self.file, track=True)
            self._shadow.append(
                tracked[self.index].shadow_value if self.index < len(tracked) else None
            )
        return self._shadow[0]

    def locate(self, path: Path, *, key: bool = False) -> Position:
        """Line and column of the value at `path` (or of its key), else of its nearest parent."""
        node = self.shadow
        if node is None:
            return self.position
        best = node.mark if isinstance(node, _Shadow) else node
        for depth, part in enumerate(path):
            if not isinstance(node, _Shadow):
                break
            last = depth == len(path) - 1
            if key and last and node.key_marks is not None and part in node.key_marks:
                return _point(node.key_marks[part])
            try:
                node = node.children[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                break
            best = node.mark if isinstance(node, _Shadow) else node
        return _point(best)

    def issue(
        self, path: Path, message: str, *, severity: Severity = "error", key: bool = False
    ) -> ConfigIssue:
        """A problem located at `path` (at its key with `key=True`)."""
        line, column = self.locate(path, key=key)
        return ConfigIssue(self.file, line, column, format_path(path), message, severity)


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


def _scalar_value(event: Any, path: Path) -> Any:
    tag = event.tag
    text: str = event.value
    position = _point(event.start_mark)
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


class _Retrack(Exception):
    """Raised by an untracked build when a message needs marks: read again, tracked."""


class _Frame:
    __slots__ = ("anchor", "container", "mapping", "path", "pending_key", "shadow", "size")

    def __init__(
        self,
        container: dict[str, Any] | list[Any],
        shadow: Any,
        path: Path,
        anchor: str | None,
        mapping: bool,
    ) -> None:
        self.container, self.shadow, self.path, self.anchor = container, shadow, path, anchor
        self.mapping = mapping
        self.size = 1
        self.pending_key: str | None = None


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAP_START, _SEQ_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAP_END, _SEQ_END, _DOC_END = yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.DocumentEndEvent
_CONTAINER_TAGS = frozenset({None, "!", _CORE_TAG + "map", _CORE_TAG + "seq"})


class _Builder:
    """Builds one document's value from parser events, iteratively (no recursion).

    This loop runs once per YAML value of the whole bundle, so it is written for speed:
    event classes are compared by identity and marks are kept as the parser gives them.
    """

    def __init__(self, next_event: Any, *, track: bool) -> None:
        self.next_event = next_event
        self.track = track
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0
        self.shadow: Any = None

    def build(self) -> Any:
        stack: list[_Frame] = []
        top: _Frame | None = None
        result: Any = None
        anchors, track, next_event = self.anchors, self.track, self.next_event
        while True:
            event = next_event()
            cls = event.__class__
            if cls is _DOC_END:
                return result
            if cls is _MAP_END or cls is _SEQ_END:
                frame = stack.pop()
                top = stack[-1] if stack else None
                value, size, shadow = frame.container, frame.size, frame.shadow
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, size)
                if top is None:
                    result, self.shadow = value, shadow
                elif self.track:
                    self._attach(top, value, size, shadow)
                else:
                    self._attach_value(top, value, size)
                continue
            if top is not None and top.mapping and top.pending_key is None:
                # A mapping key. Fast path: a plain new key, positions not kept.
                if cls is _SCALAR and not track and event.value not in top.container:
                    top.pending_key = event.value
                else:
                    self._key(top, event)
                continue
            if cls is _SCALAR:
                if event.tag is None and not event.implicit[0]:
                    value = event.value  # quoted: always text
                elif event.tag is None:
                    try:
                        value = _resolve_plain(event.value)
                    except ValueError:  # a number Python will not convert: say where
                        value = _scalar_value(event, self._path(top))
                else:
                    value = _scalar_value(event, self._path(top))
                self.expanded += 1
                if self.expanded > MAX_EXPANDED_NODES:
                    self._count(0, event, top)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                if top is None:
                    result, self.shadow = value, event.start_mark
                elif track:
                    self._attach(top, value, 1, event.start_mark)
                else:
                    top.size += 1
                    key = top.pending_key
                    if key is None:
                        top.container.append(value)  # type: ignore[union-attr]
                    else:
                        top.container[key] = value  # type: ignore[call-overload]
                        top.pending_key = None
            elif cls is _ALIAS:
                if event.anchor not in anchors:
                    raise _Problem(
                        _point(event.start_mark),
                        self._path(top),
                        f"alias *{event.anchor} refers to an unknown or enclosing anchor",
                    )
                value, size = anchors[event.anchor]
                self._count(size, event, top)
                if top is None:
                    result, self.shadow = value, event.start_mark
                elif self.track:
                    self._attach(top, value, size, event.start_mark)
                else:
                    self._attach_value(top, value, size)
            else:  # a mapping or a sequence starts
                path = self._path(top)
                if len(stack) >= MAX_DEPTH:
                    raise _Problem(
                        _point(event.start_mark), path, f"nested deeper than {MAX_DEPTH} levels"
                    )
                if event.tag not in _CONTAINER_TAGS:
                    raise _Problem(_point(event.start_mark), path, f"unsupported tag '{event.tag}'")
                self._count(1, event, top)
                mapping = cls is _MAP_START
                shadow = _Shadow(event.start_mark, mapping) if self.track else None
                top = _Frame({} if mapping else [], shadow, path, event.anchor, mapping)
                stack.append(top)

    @staticmethod
    def _path(top: _Frame | None) -> Path:
        """The path of the value about to be attached to `top`."""
        if top is None:
            return ()
        if top.pending_key is not None:
            return (*top.path, top.pending_key)
        return (*top.path, len(top.container))

    def _count(self, size: int, event: Any, top: _Frame | None) -> None:
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise _Problem(
                _point(event.start_mark),
                self._path(top),
                f"document expands to more than {MAX_EXPANDED_NODES:,} values (alias bomb?)",
            )

    def _key(self, frame: _Frame, event: Any) -> None:
        if event.__class__ is not _SCALAR:
            raise _Problem(
                _point(event.start_mark),
                frame.path,
                "a mapping key must be a plain value, not a "
                + ("alias" if event.__class__ is _ALIAS else "list or mapping"),
            )
        key = str(event.value)
        if key in frame.container:
            if not self.track:
                raise _Retrack  # the message names where the key was first given
            line, column = _point(frame.shadow.key_marks[key])
            raise _Problem(
                _point(event.start_mark),
                (*frame.path, key),
                f"duplicate key '{key}' (first given at line {line}, column {column})",
            )
        frame.pending_key = key
        if self.track:
            frame.shadow.key_marks[key] = event.start_mark

    @staticmethod
    def _attach_value(frame: _Frame, value: Any, size: int) -> None:
        frame.size += size
        key = frame.pending_key
        if key is None:
            frame.container.append(value)  # type: ignore[union-attr]
        else:
            frame.container[key] = value  # type: ignore[call-overload]
            frame.pending_key = None

    @staticmethod
    def _attach(frame: _Frame, value: Any, size: int, mark: Any) -> None:
        frame.size += size
        key = frame.pending_key
        if key is None:
            frame.container.append(value)  # type: ignore[union-attr]
            frame.shadow.children.append(mark)
        else:
            frame.container[key] = value  # type: ignore[call-overload]
            frame.shadow.children[key] = mark
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


@dataclass(frozen=True)
class _Parsed:
    data: Any
    position: Position
    shadow_value: Any


def parse_documents(source: str | bytes, file: str) -> list[Document]:
    """Parse every document of one YAML file into `Document`s, or raise `ConfigError`."""
    text = _decode(source, file)
    try:
        parsed = _parse(text, file, track=False)
    except _Retrack:
        parsed = _parse(text, file, track=True)  # raises the located ConfigError
    return [Document(file, i, p.data, p.position, text) for i, p in enumerate(parsed)]


def _parse(text: str, file: str, *, track: bool) -> list[_Parsed]:
    documents: list[_Parsed] = []
    parser = _Parser(text)
    next_event = parser.get_event
    try:
        while True:
            event = next_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                builder = _Builder(next_event, track=track)
                data = builder.build()
                documents.append(_Parsed(data, _point(event.start_mark), builder.shadow))
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
