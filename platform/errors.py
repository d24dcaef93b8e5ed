"""The one error hierarchy of Gongdan.

Every layer raises these; only `ui` turns them into HTTP or htmx responses, and only
the CLI turns them into exit codes. `ConfigError` carries every problem found in a
config bundle at once, each with its file, line, column and path in the document.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "Conflict",
    "GongdanError",
    "NotFound",
    "PermissionDenied",
    "Severity",
    "TransitionNotAllowed",
    "ValidationFailed",
    "did_you_mean",
    "format_path",
]

Severity = Literal["error", "warning"]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" when a candidate is close to `name`, else ""."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def format_path(path: Iterable[str | int]) -> str:
    """Render a document path the way users read it: `transitions[2].to`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem in a config bundle, located in its file."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {prefix}{self.message}"


class GongdanError(Exception):
    """Base of every error Gongdan raises on purpose."""


class ConfigError(GongdanError):
    """A config bundle (or one file of it) is invalid; `issues` lists every problem."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(sorted(issues))
        errors = [i for i in self.issues if i.severity == "error"]
        first = str(errors[0]) if errors else "invalid configuration"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    @property
    def errors(self) -> tuple[ConfigIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


class ValidationFailed(GongdanError):
    """Input data (form, API body, email) is invalid; `fields` maps field id to message."""

    def __init__(self, detail: str, fields: Mapping[str, str] | None = None) -> None:
        self.detail = detail
        self.fields: dict[str, str] = dict(fields or {})
        super().__init__(detail)


@dataclass
class _Reasoned(GongdanError):
    detail: str
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail


class TransitionNotAllowed(_Reasoned):
    """A workflow transition may not be taken now (wrong state, role, guard, fields)."""


class PermissionDenied(_Reasoned):
    """The caller may not do this."""


class NotFound(_Reasoned):
    """The thing does not exist, or the caller may not know it exists."""


class Conflict(_Reasoned):
    """Someone else changed the thing first (optimistic locking) or a uniqueness clash."""
