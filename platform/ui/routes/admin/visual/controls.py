"""Reading an editor's posted controls: each input is named by the document path it
edits (`fields[2].pattern`), so a problem `gongdan check` reports at that path is shown
at that control. Suffixes say how a value is typed: `P@en` / `P@zh-CN` are the two
languages of a label, `P?` marks a checkbox that was shown (unticked posts nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

__all__ = [
    "LOCALES",
    "Posted",
    "dom_id",
]

LOCALES = ("en", "zh-CN")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def dom_id(path: str) -> str:
    """The element id of the control at `path` (htmx keeps focus on it across swaps)."""
    return "e-" + _UNSAFE.sub("-", path).strip("-")


class Posted:
    """The posted form, read by document path."""

    def __init__(self, form: FormData) -> None:
        self.form = form

    def has(self, path: str) -> bool:
        return path in self.form or f"{path}?" in self.form or f"{path}@en" in self.form

    def text(self, path: str) -> str | None:
        value = self.form.get(path)
        return value.strip() if isinstance(value, str) else None

    def texts(self, path: str) -> list[str]:
        return [v for v in self.form.getlist(path) if isinstance(v, str) and v]

    def flag(self, path: str) -> bool | None:
        """A checkbox: None when it was not shown."""
        if f"{path}?" not in self.form:
            return None
        return path in self.form

    def number(self, path: str, *, whole: bool = False) -> Any:
        """A number typed at `path`: int or float; text that is no number is kept as
        typed so the check reports it at the control."""
        text = self.text(path)
        if not text:
            return None if text is not None else ...
        try:
            return int(text)
        except ValueError:
            if whole:
                return text
            try:
                return float(text)
            except ValueError:
                return text

    def items(self, path: str) -> list[str] | None:
        """A comma-separated list (None when not posted)."""
        text = self.text(path)
        if text is None:
            return None
        return [item.strip() for item in text.replace("，", ",").split(",") if item.strip()]

    def label(self, path: str, old: Any) -> Any:
        """A label typed in both languages: text when only English is given (and it was
        text), else a map of locales; other locales of the old map are kept. `...` when
        the label was not shown."""
        if f"{path}@en" not in self.form:
            return ...
        typed = {code: (self.text(f"{path}@{code}") or "") for code in LOCALES}
        kept = (
            {k: v for k, v in old.items() if k not in LOCALES} if isinstance(old, Mapping) else {}
        )
        if not typed["zh-CN"] and not kept and not isinstance(old, Mapping):
            return typed["en"] or None
        merged = {**{k: v for k, v in typed.items() if v}, **kept}
        return merged or None


def label_parts(value: Any) -> dict[str, str]:
    """A label's text in each editor language (a plain text label is English)."""
    if isinstance(value, Mapping):
        return {code: str(value.get(code, "")) for code in LOCALES}
    return {"en": "" if value is None else str(value), "zh-CN": ""}
