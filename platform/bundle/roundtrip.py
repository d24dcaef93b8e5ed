"""Round-trip YAML: a config file edited as data and written back with its comments,
key order, quoting and the layout of every part the edit did not touch.

The editors of the admin console change a file as data (`YamlFile.documents`, the
ruamel.yaml round-trip values: `CommentedMap` and `CommentedSeq` behave as dicts and
lists) and write it back with `YamlFile.dump()`. ruamel.yaml keeps comments, key order
and quotes, but it normalises a few things a person wrote on purpose: values aligned in
a column (`new:      {...}`), comments above a leading `---`. So `dump` does not return
ruamel.yaml's text: it compares ruamel.yaml's text of the file as loaded with its text
of the file as edited, and applies only the lines that differ to the original text.
Every line the edit did not change stays byte for byte what it was; a changed line
takes ruamel.yaml's layout. When the lines cannot be matched (a rare reflow), or the
spliced text would not read back as the edited data, the whole file takes ruamel.yaml's
layout rather than risk a wrong file.

Validation is not done here: the text is checked by the one loader
(`loader.check_bundle_sources`), like any other file.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from gongdan.errors import ConfigError, ConfigIssue

__all__ = ["YamlFile", "assign", "content_hash", "unified_diff"]

_WIDTH = 4096  # never fold a long line the author wrote on one line
_KEY_LINE = re.compile(r"^( *)[^-#\s].*:\s*(#.*)?$")
_DASH = re.compile(r"^( *)- ")


def content_hash(content: str | bytes | None) -> str | None:
    """The hash of a file's content an edit is based on (None: the file does not exist)."""
    if content is None:
        return None
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    """The unified diff of one file (`a/path`, `b/path`; /dev/null for a new or
    deleted file), as `git diff` shows it."""
    before = [] if old is None else old.splitlines(keepends=True)
    after = [] if new is None else new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        "/dev/null" if old is None else f"a/{path}",
        "/dev/null" if new is None else f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _sequence_offset(text: str) -> int:
    """How far this file indents a list's dashes under their key (0 or 2, usually)."""
    previous = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        dash = _DASH.match(line)
        if dash and previous is not None and _KEY_LINE.match(previous):
            offset = len(dash.group(1)) - (len(previous) - len(previous.lstrip()))
            if offset >= 0:
                return offset
        previous = line
    return 2


def _yaml(offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    return yaml


@dataclass
class YamlFile:
    """A config file loaded for editing: `documents` (edit them in place), `text` (as
    read). `dump()` gives the new text."""

    text: str
    name: str = ""
    documents: list[Any] = field(default_factory=list)
    _offset: int = 2
    _explicit_start: bool = False
    _as_loaded: str = ""

    @classmethod
    def parse(cls, text: str, name: str = "") -> YamlFile:
        """Load `text` (every document of it). `ConfigError` with the line of a YAML
        syntax error."""
        offset = _sequence_offset(text)
        yaml = _yaml(offset)
        try:
            documents = list(yaml.load_all(text))
        except YAMLError as error:
            mark = (
                getattr(error, "problem_mark", None) if isinstance(error, MarkedYAMLError) else None
            )
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = getattr(error, "problem", None) or str(error)
            raise ConfigError(
                [ConfigIssue(name or "(text)", line, column, "(document)", f"YAML: {problem}")]
            ) from None
        explicit = text.lstrip().startswith("---") or _starts_after_comments(text)
        loaded = cls(text, name, documents, offset, explicit)
        loaded._as_loaded = loaded._ruamel_text()
        return loaded

    def _ruamel_text(self) -> str:
        yaml = _yaml(self._offset)
        yaml.explicit_start = self._explicit_start or len(self.documents) > 1
        out = io.StringIO()
        if self.documents:
            yaml.dump_all(self.documents, out)
        return out.getvalue()

    @staticmethod
    def from_data(*documents: Any) -> str:
        """The text of a new file holding `documents` (plain values): block style, with
        the innermost mappings and lists on one line (`name: {en: X, zh-CN: Y}`), as
        the example config is written."""
        yaml = _yaml(2)
        yaml.default_flow_style = None
        yaml.explicit_start = len(documents) > 1
        out = io.StringIO()
        yaml.dump_all(list(documents), out)
        return out.getvalue()

    def dump(self) -> str:
        """The text of the file as edited: the original text with only the lines the
        edit changed replaced (see the module's docstring)."""
        edited = self._ruamel_text()
        if edited == self._as_loaded:
            return self.text
        spliced = _splice(self.text, self._as_loaded, edited)
        if spliced is None or not self._reads_as(spliced, edited):
            return edited
        return spliced

    def _reads_as(self, spliced: str, edited: str) -> bool:
        plain = YAML(typ="safe", pure=True)
        try:
            return list(plain.load_all(spliced)) == list(plain.load_all(edited))
        except YAMLError:
            return False


def _starts_after_comments(text: str) -> bool:
    """Whether the first line that is not blank or a comment is `---`."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith("---")
    return False


def _splice(original: str, as_loaded: str, edited: str) -> str | None:
    """Apply the line changes from `as_loaded` to `edited` onto `original` (whose lines
    `as_loaded` renders, perhaps laid out differently). None when a changed line has no
    counterpart in `original`."""
    source = original.splitlines(keepends=True)
    base = as_loaded.splitlines(keepends=True)
    target = edited.splitlines(keepends=True)
    where: dict[int, int] = {}  # a line of `base` -> its line in `source`
    matcher = difflib.SequenceMatcher(None, base, source, autojunk=False)
    for tag, b1, b2, s1, s2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and b2 - b1 == s2 - s1:
            where.update({b1 + k: s1 + k for k in range(b2 - b1)})
    hunks = []
    for tag, b1, b2, t1, t2 in difflib.SequenceMatcher(
        None, base, target, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        if b1 < b2:  # replace or delete lines b1..b2 of base
            if any(k not in where for k in range(b1, b2)):
                return None
            start, end = where[b1], where[b2 - 1] + 1
            if end - start != b2 - b1:
                return None
        elif b1 < len(base):  # insert before line b1
            if b1 not in where:
                return None
            start = end = where[b1]
        else:  # append after the last line
            if base and len(base) - 1 not in where:
                return None
            start = end = where[len(base) - 1] + 1 if base else len(source)
        hunks.append((start, end, target[t1:t2]))
    out = list(source)
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    for start, end, lines in reversed(hunks):
        out[start:end] = lines
    return "".join(out)


def assign(container: Any, key: Any, value: Any) -> None:
    """`container[key] = value` (a mapping's key or a list's index; a list's index
    equal to its length appends), keeping the layout of what was there: nothing changes
    where the value is equal, mappings and lists are updated in place entry by entry,
    and a new mapping or list takes the flow or block style of what it replaces (or of
    its siblings). An editor sets plain values; only the lines that really change
    differ in `YamlFile.dump()`."""
    if isinstance(container, list) and key == len(container):
        sibling = container[-1] if container else None
        container.append(_styled(value, sibling))
        return
    old = container[key] if _has(container, key) else None
    if old == value and _has(container, key):
        return
    if isinstance(value, dict) and isinstance(old, CommentedMap):
        for gone in [k for k in old if k not in value]:
            del old[gone]
        for k, v in value.items():
            assign(old, k, v)
        return
    if isinstance(value, list) and isinstance(old, CommentedSeq):
        for index, item in enumerate(value):
            assign(old, index, item)
        del old[len(value) :]
        return
    container[key] = _styled(value, old)


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, list):
        return isinstance(key, int) and 0 <= key < len(container)
    return key in container


def _styled(value: Any, like: Any) -> Any:
    """`value` as round-trip data in the style of `like` (a value it replaces or sits
    beside)."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for k, v in value.items():
            mapping[k] = _styled(v, like.get(k) if isinstance(like, dict) else None)
        if isinstance(like, CommentedMap) and like.fa.flow_style():
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        first = like[0] if isinstance(like, list) and like else None
        sequence = CommentedSeq(_styled(v, first) for v in value)
        if isinstance(like, CommentedSeq) and like.fa.flow_style():
            sequence.fa.set_flow_style()
        return sequence
    return value
