"""Reference field types: user (by email), team (by id) and attachment (by id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gongdan.rules.conditions import FieldInfo

from ..fields import FieldDef, FieldProblem, FieldType, register_field_type
from ..shapes import FilterKind, Holds, Many, ValueShape
from ._input import (
    EMAIL,
    as_choice,
    as_email,
    as_items,
    as_text,
    matching,
    unique,
)

__all__ = ["USER_ROLES", "AttachmentType", "TeamType", "UserType", "role_matches"]

# Whom a user field may name (`role:`): staff are agents and admins.
USER_ROLES = ("staff", "agent", "admin", "requester")


def role_matches(wanted: str | None, role: str) -> bool:
    """Whether an account of `role` may be named by a user field of role `wanted`."""
    if not wanted:
        return True
    return role in ("agent", "admin") if wanted == "staff" else role == wanted


_TEAM = r"^[^\s]{1,100}$"
_ATTACHMENT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


@register_field_type
class UserType(FieldType):
    name = "user"
    template = "fields/user.html"
    allowed_params = frozenset({"multiple", "role"})
    filter_operators = ("eq", "ne", "in", "not_in", "contains", "empty")
    shape = ValueShape(many=Many.IF_MULTIPLE, holds=Holds.PEOPLE)

    def check_params(self, raw: Mapping[str, Any]) -> list[FieldProblem]:
        role = raw.get("role")
        if role is not None and role not in USER_ROLES:
            message = f"must be one of: {', '.join(USER_ROLES)} (whom the field may name)"
            return [FieldProblem(("role",), message)]
        return []

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        one = {"type": "string", "format": "email", "maxLength": 254, "pattern": EMAIL}
        if field.params.get("multiple"):
            return {"type": "array", "items": one, "uniqueItems": True}
        return one

    def parse(self, field: FieldDef, value: Any) -> Any:
        # Accounts are matched by email without regard to case (as at sign-in), so the
        # stored value is lower case: containment queries can then use the GIN index.
        if field.params.get("multiple"):
            return unique([as_email(item).lower() for item in as_items(value)])
        return as_email(value).lower()

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("list" if field.params.get("multiple") else "string")


@register_field_type
class TeamType(FieldType):
    name = "team"
    template = "fields/team.html"
    filter_operators = ("eq", "ne", "in", "not_in", "empty")
    shape = ValueShape(holds=Holds.TEAMS)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "pattern": _TEAM}

    def parse(self, field: FieldDef, value: Any) -> Any:
        return matching(as_text(value).strip(), _TEAM, "is not a team id")

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("string")


@register_field_type
class AttachmentType(FieldType):
    """Ids of uploaded files; max_size_mb and accept are checked at upload time."""

    name = "attachment"
    template = "fields/attachment.html"
    allowed_params = frozenset({"accept", "max_size_mb", "multiple"})
    filter_operators = ("empty",)
    quick_filter = False
    shape = ValueShape(FilterKind.OPAQUE, many=Many.IF_MULTIPLE, holds=Holds.FILES)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        one = {"type": "string", "pattern": _ATTACHMENT}
        if field.params.get("multiple"):
            return {"type": "array", "items": one, "uniqueItems": True}
        return one

    def parse(self, field: FieldDef, value: Any) -> Any:
        if field.params.get("multiple"):
            return unique([self._one(item) for item in as_items(value)])
        return self._one(value)

    def _one(self, value: Any) -> str:
        text = as_choice(value)
        return matching(text, _ATTACHMENT, f"'{text}' is not an attachment id")

    def check_upload(
        self, field: FieldDef, *, filename: str, content_type: str, size_bytes: int
    ) -> None:
        """Raise ValueError when an uploaded file is too big or not an accepted type."""
        limit = field.params.get("max_size_mb")
        if limit is not None and size_bytes > limit * 1024 * 1024:
            raise ValueError(f"'{filename}' is larger than {limit} MB")
        accept: tuple[str, ...] = field.params.get("accept", ())
        kind = content_type.split(";")[0].strip().lower()
        if accept and not any(_accepts(entry, filename.lower(), kind) for entry in accept):
            raise ValueError(f"'{filename}' must be one of these file types: {', '.join(accept)}")

    def condition_info(self, field: FieldDef) -> FieldInfo:
        return FieldInfo("list" if field.params.get("multiple") else "string")


def _accepts(entry: str, filename: str, content_type: str) -> bool:
    """Whether one `accept` entry (".pdf", "image/*", "application/pdf") admits a file."""
    if entry.startswith("."):
        return filename.endswith(entry)
    if entry.endswith("/*"):
        return content_type.startswith(entry[:-1])
    return content_type == entry
