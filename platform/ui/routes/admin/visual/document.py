"""The document a visual editor works on: one YAML document of one config file, kept
as round-trip YAML (`bundle.roundtrip`, ruamel.yaml) so untouched parts keep their comments, key order,
quoting and layout, and checked by the same loader and messages as `gongdan check`
(the admin console's `ConfigEditor`).

An editor page carries its `Draft` (the file's whole text as edited so far, which of
its documents is edited, and the hash of the file as it was on disk when the editor
opened it) in hidden inputs: the server keeps no editing state between requests.
Each change posts the whole editor; the editor applies the posted controls to the
document with `set_value` (a key is written only when its value changed, removed when
emptied), dumps it back into the draft and checks the draft inside the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.edits import FileChange
from gongdan.bundle.roundtrip import YamlFile, content_hash
from gongdan.engine import ConfigEditor, EditIssue
from gongdan.errors import ConfigError, ConfigIssue
from gongdan.ui.routes.admin.visual.controls import Posted

__all__ = [
    "Checked",
    "Draft",
    "check_draft",
    "content_hash",
    "flow",
    "read_draft",
    "set_posted",
    "set_value",
]


@dataclass
class Draft:
    """One file being edited: `path` inside the config folder, its `text` so far, which
    document (`index`) the editor edits, and `base`, the hash of the file on disk when
    the editor opened it ("" for a new file)."""

    path: str
    text: str
    index: int = 0
    base: str = ""
    _yaml: list[YamlFile] = field(default_factory=list, repr=False)

    @property
    def yaml(self) -> YamlFile:
        if not self._yaml:
            self._yaml.append(YamlFile.parse(self.text, self.path))
            if not self._yaml[0].documents:
                self._yaml[0].documents.append(CommentedMap())
        return self._yaml[0]

    @property
    def document(self) -> CommentedMap:
        documents = self.yaml.documents
        found = documents[self.index] if self.index < len(documents) else None
        if not isinstance(found, CommentedMap):
            raise ConfigError(
                [ConfigIssue(self.path, 1, 1, "(document)", "this document is not a mapping")]
            )
        return found

    def dumped(self) -> str:
        """The draft's text with the edited document written back (only the changed
        lines differ)."""
        return self.yaml.dump()

    def change(self) -> FileChange:
        return FileChange(self.path, self.text, self.base or None)


def read_draft(editor: ConfigEditor, path: str, kind: str, doc_id: str | None) -> Draft:
    """The draft of the file `path` of the config folder as it is on disk, at the
    document of `kind` with `doc_id` (the first of that kind when None)."""
    opened = editor.read(path)
    draft = Draft(path, opened.text, 0, opened.base or "")
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for number, doc in enumerate(draft.yaml.documents):
        mine = isinstance(doc, Mapping) and doc.get("kind") == kind
        if mine and (doc_id is None or str(doc.get("id", stem)) == doc_id):
            draft.index = number
            break
    return draft


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


def set_posted(
    doc: CommentedMap, posted: Posted, texts: tuple[str, ...], labels: tuple[str, ...] = ("name",)
) -> None:
    """Write a document's top-level text keys and bilingual labels as posted (those not
    posted stay as they are)."""
    for key in texts:
        text = posted.text(key)
        if text is not None:
            set_value(doc, key, text)
    for key in labels:
        label = posted.label(key, doc.get(key))
        if label is not ...:
            set_value(doc, key, label)


def _nested(value: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping | list) for v in value.values())


@dataclass(frozen=True)
class Checked:
    """A draft checked inside its bundle: the bundle when it compiles, the problems of
    the edited document by path (`fields[2].pattern`), and the other problems."""

    bundle: Bundle | None
    here: Mapping[str, tuple[str, ...]]
    elsewhere: tuple[EditIssue, ...]
    conflict: bool = False

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


def check_draft(editor: ConfigEditor, draft: Draft) -> Checked:
    """Check the bundle of the config folder with the draft in place of its file, as
    `gongdan check` does (mail templates too): the same loader, the same messages."""
    proposal = editor.check([draft.change()])
    here: dict[str, list[str]] = {}
    elsewhere: list[EditIssue] = []
    for issue in proposal.errors:
        if issue.file == draft.path and issue.document == draft.index:
            here.setdefault(issue.path, []).append(issue.message)
        else:
            elsewhere.append(issue)
    return Checked(
        proposal.bundle,
        {k: tuple(v) for k, v in here.items()},
        tuple(elsewhere),
        bool(proposal.conflicts),
    )
