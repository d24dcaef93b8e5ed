"""The document a visual editor works on: one YAML document of one config file, kept
as round-trip YAML (ruamel.yaml) so untouched parts keep their comments, key order,
quoting and layout, and checked by the same loader and messages as `gongdan check`.

An editor page carries its `Draft` (the file's whole text as edited so far, which of
its documents is edited, and the hash of the file as it was on disk when the editor
opened it) in hidden inputs: the server keeps no editing state between requests.
Each change posts the whole editor; the editor applies the posted controls to the
document with `set_value` (a key is written only when its value changed, removed when
emptied), dumps it back into the draft and checks the draft inside the bundle.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import bundle_version, load_sources, relative_sources
from gongdan.bundle.loader import check_bundle_sources as _check_sources
from gongdan.bundle.yamlio import parse_documents
from gongdan.errors import ConfigError, ConfigIssue

__all__ = [
    "Checked",
    "Draft",
    "check_draft",
    "content_hash",
    "flow",
    "read_draft",
    "set_value",
]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long label onto two lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def content_hash(text: str | bytes) -> str:
    """The hash an editor remembers of a file as it read it (conflict detection)."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Draft:
    """One file being edited: `path` inside the config folder, its `text` so far, which
    document (`index`) the editor edits, and `base`, the hash of the file on disk when
    the editor opened it ("" for a new file)."""

    path: str
    text: str
    index: int = 0
    base: str = ""
    _documents: list[Any] = field(default_factory=list, repr=False)

    @property
    def documents(self) -> list[Any]:
        if not self._documents:
            loaded = list(_yaml().load_all(self.text)) if self.text.strip() else []
            self._documents.extend(d for d in loaded if d is not None)
            if not self._documents:
                self._documents.append(CommentedMap())
        return self._documents

    @property
    def document(self) -> CommentedMap:
        found = self.documents[self.index] if self.index < len(self.documents) else None
        if not isinstance(found, CommentedMap):
            raise ConfigError(
                [ConfigIssue(self.path, 1, 1, "(document)", "this document is not a mapping")]
            )
        return found

    def dumped(self) -> str:
        """The draft's text with the edited document written back."""
        out = io.StringIO()
        docs = self.documents
        yaml = _yaml()
        if len(docs) == 1:
            yaml.dump(docs[0], out)
        else:
            yaml.explicit_start = False
            yaml.dump_all(docs, out)
        return out.getvalue()


def read_draft(directory: Path, path: str, kind: str, doc_id: str | None) -> Draft:
    """The draft of the file `path` of the config folder as it is on disk, at the
    document of `kind` with `doc_id` (the first of that kind when None)."""
    target = _inside(directory, path)
    data = target.read_bytes()
    text = data.decode("utf-8-sig")
    index = 0
    for number, doc in enumerate(parse_documents(data, path)):
        if isinstance(doc.data, dict) and doc.data.get("kind") == kind:
            shown = str(doc.data.get("id", Path(path).stem))
            if doc_id is None or shown == doc_id:
                index = number
                break
    return Draft(path, text, index, content_hash(data))


def _inside(directory: Path, path: str) -> Path:
    target = (directory / path).resolve()
    if not target.is_relative_to(directory.resolve()) or not path.endswith((".yaml", ".yml")):
        raise ConfigError([ConfigIssue(path, 1, 1, "(document)", "not a file of the config folder")])
    return target


def flow(value: Any) -> Any:
    """`value` as new YAML in flow style (`{category: open}`, `[a, b]`) where it is a
    small mapping or list: conditions and state maps read best on one line."""
    if isinstance(value, Mapping):
        out = CommentedMap((k, flow(v)) for k, v in value.items())
        out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(flow(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return list(old) == list(new) and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    return type(old) is type(new) and old == new if not isinstance(old, str) else old == new


def set_value(mapping: CommentedMap, key: str, value: Any, *, style: bool = True) -> None:
    """Write `value` at `key` only when it differs from what is there (so the quoting
    and layout of an unchanged value stay); None, "" and empty lists remove the key.
    New mappings and lists are written in flow style unless `style` is false."""
    if value is None or value == "" or value == [] or value == {}:
        if key in mapping:
            del mapping[key]
        return
    if key in mapping and _same(mapping[key], value):
        return
    old = mapping.get(key)
    if isinstance(old, CommentedMap) and isinstance(value, Mapping) and not _nested(value):
        # A label map edited in place keeps its own layout and comments.
        for name in [k for k in old if k not in value]:
            del old[name]
        for name, item in value.items():
            if name not in old or not _same(old[name], item):
                old[name] = item
        return
    mapping[key] = flow(value) if style else value


def _nested(value: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping | list) for v in value.values())


@dataclass(frozen=True)
class Checked:
    """A draft checked inside its bundle: the bundle when it compiles, the problems of
    the edited document by path (`fields[2].pattern`), and the other problems."""

    bundle: Bundle | None
    here: Mapping[str, tuple[str, ...]]
    elsewhere: tuple[ConfigIssue, ...]
    warnings: tuple[ConfigIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return self.bundle is not None

    def at(self, path: str) -> tuple[str, ...]:
        """The messages of the control at `path`."""
        return self.here.get(path, ())

    def under(self, path: str) -> tuple[str, ...]:
        """The messages of `path` and everything inside it."""
        return tuple(
            message
            for where, messages in self.here.items()
            if where == path or where.startswith((path + ".", path + "["))
            for message in messages
        )

    def count(self) -> int:
        return sum(len(m) for m in self.here.values()) + len(self.elsewhere)


def check_draft(directory: Path, draft: Draft) -> Checked:
    """Check the bundle of `directory` with the draft in place of its file, as `gongdan
    check` does (mail templates too): the same loader, the same messages."""
    root = Path(directory)
    try:
        sources = relative_sources(load_sources(root), root)
    except ConfigError as error:
        return Checked(None, {}, tuple(error.issues))
    replaced = [(n, c) for n, c in sources if n != draft.path]
    replaced.append((draft.path, draft.text.encode()))
    replaced.sort(key=lambda item: item[0])
    bundle, issues = _check_sources(replaced, version=bundle_version(replaced))
    if bundle is not None:
        from gongdan.channels.email.templates import check_templates  # Jinja2: only here

        issues = sorted([*issues, *check_templates(bundle)])
        if any(i.severity == "error" for i in issues):
            bundle = None
    starts = _document_lines(draft)
    here: dict[str, list[str]] = {}
    elsewhere: list[ConfigIssue] = []
    warnings: list[ConfigIssue] = []
    for issue in issues:
        if issue.severity != "error":
            warnings.append(issue)
            continue
        if issue.file == draft.path and _document_at(starts, issue.line) == draft.index:
            here.setdefault(issue.path, []).append(issue.message)
        else:
            elsewhere.append(issue)
    return Checked(
        bundle, {k: tuple(v) for k, v in here.items()}, tuple(elsewhere), tuple(warnings)
    )


def _document_lines(draft: Draft) -> list[int]:
    try:
        return [d.position[0] for d in parse_documents(draft.text, draft.path)]
    except ConfigError:
        return [1]


def _document_at(starts: list[int], line: int) -> int:
    index = 0
    for number, start in enumerate(starts):
        if line >= start:
            index = number
    return index
