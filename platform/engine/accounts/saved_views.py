"""An agent's saved views: a queue's filters and columns kept under a name of their own.

Personal only: a user lists, renames and deletes their own views, and another user's
view is `NotFound` (as if it did not exist). The filters are the queue page's query
parameters (`FILTER_KEYS` of the desk, and its sort), checked here only for size and
shape; the queue applies them as it applies a typed filter, so a view saved before a
config change is read exactly as a link with the same parameters would be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from gongdan.engine.store.models import SavedView
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import NotFound, ValidationFailed

__all__ = [
    "MAX_SAVED_VIEWS",
    "SavedViewRecord",
    "delete_view",
    "list_views",
    "rename_view",
    "save_view",
]

MAX_SAVED_VIEWS = 50
MAX_NAME = 100
_MAX_VALUE = 500
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class SavedViewRecord:
    id: int
    name: str
    queue: str
    filters: Mapping[str, str]
    columns: tuple[str, ...]


def _record(row: SavedView) -> SavedViewRecord:
    return SavedViewRecord(
        row.id, row.name, row.queue, dict(row.filters or {}), tuple(row.columns or ())
    )


def _name(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationFailed("a view needs a name", {"name": "is required"})
    if len(text) > MAX_NAME or "\x00" in text:
        raise ValidationFailed("the name is too long", {"name": f"at most {MAX_NAME} characters"})
    return text


def _mine(ctx: ReadContext, view_id: int) -> SavedView:
    ctx.require_staff("keep views")
    row = ctx.session.get(SavedView, view_id) if 0 < view_id <= _MAX_ID else None
    if row is None or row.user_id != ctx.actor.user_id:
        raise NotFound(f"no saved view {view_id}")
    return row


def list_views(ctx: ReadContext) -> list[SavedViewRecord]:
    """The acting agent's views, in the order they were saved."""
    ctx.require_staff("keep views")
    rows = ctx.session.scalars(
        select(SavedView).where(SavedView.user_id == ctx.actor.user_id).order_by(SavedView.id)
    )
    return [_record(r) for r in rows]


def save_view(
    ctx: UnitOfWork,
    name: str,
    queue: str,
    filters: Mapping[str, Any],
    columns: Sequence[str] = (),
) -> SavedViewRecord:
    """Save the acting agent's current filter of `queue` as a view named `name`."""
    ctx.require_staff("keep views")
    text = _name(name)
    kept = {str(k): str(v) for k, v in filters.items() if str(v).strip()}
    if any(len(k) > 64 or len(v) > _MAX_VALUE or "\x00" in k + v for k, v in kept.items()):
        raise ValidationFailed("a filter is too long", {"filters": "too long"})
    count = ctx.session.scalar(
        select(func.count()).select_from(SavedView).where(SavedView.user_id == ctx.actor.user_id)
    )
    if int(count or 0) >= MAX_SAVED_VIEWS:
        raise ValidationFailed(
            "too many saved views", {"name": f"at most {MAX_SAVED_VIEWS} views; delete one first"}
        )
    row = SavedView(
        user_id=ctx.actor.user_id,
        name=text,
        queue=str(queue)[:64],
        filters=kept,
        columns=[str(c)[:64] for c in columns][:30],
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.event(None, "view.saved", after={"view": row.id, "name": text})
    return _record(row)


def rename_view(ctx: UnitOfWork, view_id: int, name: str) -> SavedViewRecord:
    row = _mine(ctx, view_id)
    before, row.name = row.name, _name(name)
    ctx.event(
        None, "view.renamed", before={"name": before}, after={"view": row.id, "name": row.name}
    )
    return _record(row)


def delete_view(ctx: UnitOfWork, view_id: int) -> None:
    row = _mine(ctx, view_id)
    ctx.session.delete(row)
    ctx.event(None, "view.deleted", before={"view": row.id, "name": row.name})
