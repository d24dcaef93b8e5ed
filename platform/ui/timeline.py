"""The ticket page's timeline and SLA panel as views: events and comments in time order,
each change said in the reader's language, and each SLA clock with its time left.

Only presentation: the records come from `TicketService` (which already hides internal
notes and internal fields from requesters), the words from the catalogue and config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gongdan.bundle.compiled import Bundle, TicketTypeDef
from gongdan.engine import CommentRecord, EventRecord, SLAExplanation
from gongdan.ui.display import labelled_text
from gongdan.ui.i18n import localise, translate

__all__ = ["Change", "SLAView", "TimelineItem", "build_timeline", "sla_views", "span"]

_EVENT_KEYS = {
    "ticket.created": "event.created",
    "ticket.updated": "event.updated",
    "ticket.assigned": "event.assigned",
    "ticket.routed": "event.assigned",
    "ticket.transitioned": "event.transitioned",
    "ticket.migrated": "event.migrated",
}
# Issue 21's events, said in words with who or what they name (no field changes).
_NAMING_KEYS = {
    "ticket.follower_added": ("event.follower_added", "after", "user"),
    "ticket.follower_removed": ("event.follower_removed", "before", "user"),
    "ticket.cc_added": ("event.cc_added", "after", "user"),
    "ticket.cc_removed": ("event.cc_removed", "before", "user"),
    "macro.applied": ("event.macro_applied", "after", "macro"),
}


@dataclass(frozen=True, slots=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    actor: str
    what: str  # for an event: what happened; empty for a comment
    changes: tuple[Change, ...] = ()
    comment: CommentRecord | None = None
    internal: bool = False


def build_timeline(
    bundle: Bundle,
    ticket_type: TicketTypeDef | None,
    events: Iterable[EventRecord],
    comments: Iterable[CommentRecord],
    language: str,
) -> list[TimelineItem]:
    """Events (but comment events: the comments stand for themselves) and comments,
    oldest first; a comment made with a transition follows it."""
    items: list[tuple[datetime, int, TimelineItem]] = []
    system = translate(language, "event.system")
    for event in events:
        if event.kind in ("comment.added", "comment.files_added"):
            continue
        key = _EVENT_KEYS.get(event.kind)
        what = (
            translate(language, key) if key else translate(language, "event.other", kind=event.kind)
        )
        changes: tuple[Change, ...] = ()
        naming = _NAMING_KEYS.get(event.kind)
        if naming is not None:
            label, side, name = naming
            value = str((event.after if side == "after" else event.before).get(name) or "")
            if name == "macro" and value in bundle.macros:
                value = localise(bundle.macros[value].name, language)
            what = translate(language, label, name=value)
        elif event.kind != "ticket.created":  # its `after` is the whole new ticket
            changes = tuple(_changes(bundle, ticket_type, event.before, event.after, language))
        item = TimelineItem(event.at, event.actor or system, what, changes, internal=event.internal)
        items.append((event.at, 0, item))
        routing = event.detail.get("routing") if event.kind == "ticket.created" else None
        if isinstance(routing, Mapping):  # what routing did to the new ticket, said apart
            before = routing.get("before")
            routed = tuple(
                _changes(
                    bundle,
                    ticket_type,
                    before if isinstance(before, Mapping) else {},
                    {k: event.after.get(k) for k in ("team", "assignee", "priority", "tags")},
                    language,
                )
            )
            if routed:
                what = translate(language, "event.assigned")
                items.append((event.at, 0, TimelineItem(event.at, system, what, routed)))
    for comment in comments:
        item = TimelineItem(
            comment.created_at, comment.author or system, "", comment=comment,
            internal=not comment.public,
        )  # fmt: skip
        items.append((comment.created_at, 1, item))
    items.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in items]


def _changes(
    bundle: Bundle,
    ticket_type: TicketTypeDef | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    language: str,
) -> Iterable[Change]:
    for name in dict.fromkeys([*before, *after]):
        if name in ("data", "comment_id", "public", "sla") or before.get(name) == after.get(name):
            continue
        yield Change(
            _label(ticket_type, name, language),
            _shown(bundle, ticket_type, name, before.get(name), language),
            _shown(bundle, ticket_type, name, after.get(name), language),
        )


def _label(ticket_type: TicketTypeDef | None, name: str, language: str) -> str:
    if ticket_type is not None and name in ticket_type.field_map:
        return localise(ticket_type.field_map[name].label, language)
    text = translate(language, f"field.{name}")
    return name if text == f"field.{name}" else text


def _shown(
    bundle: Bundle, ticket_type: TicketTypeDef | None, name: str, value: Any, language: str
) -> str:
    if value is None or value == "" or value == []:
        return "—"
    field = ticket_type.field_map.get(name) if ticket_type is not None else None
    if field is not None:
        return labelled_text(field, value, language)
    if isinstance(value, list | tuple):
        return ", ".join(_shown(bundle, ticket_type, name, v, language) for v in value)
    if name == "priority":
        return translate(language, f"priority.{value}")
    if name == "state" and ticket_type is not None:
        state = bundle.workflows[ticket_type.workflow].states.get(str(value))
        return localise(state.label, language) or str(value) if state else str(value)
    if name == "team" and str(value) in bundle.teams:
        return localise(bundle.teams[str(value)].name, language)
    return str(value)


@dataclass(frozen=True, slots=True)
class SLAView:
    """One SLA clock: its state and time left, and the explanation behind it."""

    target: str
    label: str
    status: str  # running | warn | breached | met | paused
    text: str
    deadline: datetime | None
    explanation: SLAExplanation


def span(seconds: float, language: str) -> str:
    """A duration in words a person reads at a glance: `2d 3h`, `45m`, `3小时 5分`."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    units = ("天", "小时", "分") if language == "zh-CN" else ("d", "h", "m")
    parts = [f"{n}{u}" for n, u in zip((days, hours, minutes), units, strict=True) if n]
    return " ".join(parts[:2]) or f"0{units[2]}"


def sla_views(
    explanations: Sequence[SLAExplanation], now: datetime, language: str
) -> list[SLAView]:
    views = []
    for item in explanations:
        label = translate(language, f"ticket.sla_{item.target}")
        if label == f"ticket.sla_{item.target}":
            label = item.target
        if item.met_at is not None:
            status, text = "met", translate(language, "ticket.sla_met")
        elif item.breached_at is not None or (item.deadline is not None and item.deadline <= now):
            status = "breached"
            over = span(
                (now - (item.deadline or item.breached_at or now)).total_seconds(), language
            )
            text = translate(language, "ticket.sla_over", time=over)
        elif item.running_since is None or item.deadline is None:
            status, text = "paused", translate(language, "ticket.sla_paused")
        else:
            left = item.deadline - now
            status = "warn" if left <= _warning(item) else "running"
            text = translate(language, "ticket.sla_left", time=span(left.total_seconds(), language))
        views.append(SLAView(item.target, label, status, text, item.deadline, item))
    return views


def _warning(item: SLAExplanation) -> timedelta:
    """Within the last fifth of the budget a badge turns amber (80% used)."""
    return timedelta(seconds=item.budget_seconds * 0.2)
