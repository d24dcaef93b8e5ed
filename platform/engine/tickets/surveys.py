"""Satisfaction surveys: the `survey: csat` action asks a ticket's requester to rate
how it went (1-5 and a comment), once.

The action writes an outbox row (topic `survey`) in the transition's transaction. Its
delivery calls `request_survey` in the unit of work that claims the outbox row, which
creates the survey row for the requester: one
per ticket per firing, keyed on the outbox row's time, so a retried delivery finds the
row it made before instead of making another. The notifier then gets the survey's id
and `answer_path` (where the requester answers it) in the notification's payload.
The requester answers on the portal's ticket page (`answer_survey`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from gongdan.engine.store.models import Survey, Ticket
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

__all__ = [
    "MAX_COMMENT",
    "SURVEY_KINDS",
    "SurveyRecord",
    "answer_path",
    "answer_survey",
    "check_rating",
    "list_surveys",
    "request_survey",
]

SURVEY_KINDS = ("csat",)
MAX_COMMENT = 5000


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    id: int
    ticket_key: str
    kind: str
    rating: int | None
    comment: str | None
    requested_at: datetime
    answered_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.answered_at is None

    @classmethod
    def build(cls, survey: Survey, ticket_key: str) -> SurveyRecord:
        return cls(
            id=survey.id,
            ticket_key=ticket_key,
            kind=survey.kind,
            rating=survey.rating,
            comment=survey.comment,
            requested_at=survey.requested_at,
            answered_at=survey.answered_at,
        )


def answer_path(key: str) -> str:
    """Where the requester answers the survey of ticket `key` (the portal ticket page)."""
    return f"/portal/tickets/{key}#survey"


def request_survey(ctx: UnitOfWork, ticket: Ticket, kind: str, requested_at: datetime) -> Survey:
    """The survey of `ticket`'s requester for one firing of `survey: <kind>` at
    `requested_at`: created the first time, found again on every retry."""
    session = ctx.session
    kind = kind if kind in SURVEY_KINDS else SURVEY_KINDS[0]
    existing = session.scalar(
        select(Survey).where(
            Survey.ticket_id == ticket.id,
            Survey.kind == kind,
            Survey.requested_at == requested_at,
        )
    )
    if existing is not None:
        return existing
    survey = Survey(
        ticket_id=ticket.id,
        requester_id=ticket.requester_id,
        kind=kind,
        requested_at=requested_at,
    )
    session.add(survey)
    session.flush()
    return survey


def check_rating(value: Any) -> int:
    """A rating of 1 to 5 from a form or an API body (a whole number, or its text)."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 5):
        raise ValidationFailed(
            f"'{value}' is not a rating", {"rating": "choose a rating from 1 to 5"}
        )
    return int(text)


def _clean_comment(value: Any) -> str | None:
    text = str(value or "").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            "the comment is too long", {"comment": f"must be at most {MAX_COMMENT} characters"}
        )
    if "\x00" in text:
        raise ValidationFailed(
            "the comment contains a NUL character", {"comment": "contains a NUL character"}
        )
    return text or None


def _surveys_of(ctx: ReadContext, ticket: Ticket) -> list[Survey]:
    """The ticket's surveys, newest first."""
    return list(
        ctx.session.scalars(
            select(Survey)
            .where(Survey.ticket_id == ticket.id)
            .order_by(Survey.requested_at.desc(), Survey.id.desc())
        )
    )


def list_surveys(ctx: ReadContext, key: str) -> list[SurveyRecord]:
    """The surveys of a ticket the actor may see, newest first."""
    ticket = ctx.ticket(key)
    return [SurveyRecord.build(s, key) for s in _surveys_of(ctx, ticket)]


def answer_survey(ctx: UnitOfWork, key: str, rating: Any, comment: Any = None) -> SurveyRecord:
    """The requester of `key` answers its latest survey, once; an event
    `survey.answered` records the answer in the same transaction."""
    ticket = ctx.ticket(key)
    if ctx.actor.user_id is None or ctx.actor.user_id != ticket.requester_id:
        raise PermissionDenied(f"only the requester of {key} answers its survey")
    surveys = [s for s in _surveys_of(ctx, ticket) if s.requester_id == ctx.actor.user_id]
    if not surveys:
        raise NotFound(f"no survey of {key} is waiting for an answer")
    pending = surveys[0]  # only the latest counts: an older one was overtaken by it
    if pending.answered_at is not None:
        raise Conflict(f"the survey of {key} is already answered")
    score, text = check_rating(rating), _clean_comment(comment)
    changed = ctx.session.execute(
        update(Survey)
        .where(Survey.id == pending.id, Survey.answered_at.is_(None))
        .values(rating=score, comment=text, answered_at=ctx.now)
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"the survey of {key} is already answered")
    ctx.event(
        ticket,
        "survey.answered",
        after={"rating": score, "comment": text},
        detail={"survey": pending.id, "kind": pending.kind},
    )
    ctx.session.flush()
    ctx.session.refresh(pending)
    return SurveyRecord.build(pending, key)
