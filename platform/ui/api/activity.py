"""What happens to a ticket: its transitions, comments, events and SLA explanation.

Requesters get public comments only and no internal events (the service scopes the
reads; these routes only shape them).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.engine import SLAExplanation
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import TransitionDef, WorkflowDef
from gongdan.ui.api.deps import (
    ApiActor,
    ApiBundle,
    ApiService,
    IfMatch,
    TicketKey,
    TransitionId,
    expect_version,
    parse_if_match,
)
from gongdan.ui.api.errors import ApiRoute, error_responses
from gongdan.ui.api.models import (
    CommentIn,
    CommentOut,
    CountedIntervalOut,
    CountedStretchOut,
    EventOut,
    PauseOut,
    SLATargetOut,
    TicketOut,
    TransitionFieldOut,
    TransitionIn,
    TransitionOut,
    comment_out,
    event_out,
    label,
    ticket_response,
)

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["activity"])


def _transition_out(
    transition: TransitionDef, workflow: WorkflowDef, ticket_type: TicketTypeDef, staff: bool
) -> TransitionOut:
    fields = []
    for name in transition.fields:
        field = ticket_type.field_map.get(name)
        if field is None or (field.internal and not staff):
            continue
        fields.append(
            TransitionFieldOut(
                id=field.id,
                type=field.type,
                label=label(field.label),
                required=True,
                options=[str(option.value) for option in field.options],
            )
        )
    target = workflow.states[transition.target]
    comment = transition.comment if transition.comment in ("required", "optional") else None
    return TransitionOut(
        id=transition.id,
        label=label(transition.label) or {"en": transition.id},
        to=target.id,
        to_category=target.category,
        fields=fields,
        comment=comment,  # type: ignore[arg-type]
    )


@router.get(
    "/tickets/{key}/transitions",
    response_model=list[TransitionOut],
    responses=error_responses(401, 404),
    summary="Transitions the caller may take now",
)
def list_transitions(
    key: TicketKey, actor: ApiActor, service: ApiService, bundle: ApiBundle
) -> list[TransitionOut]:
    record = service.get_ticket(actor, key)
    ticket_type = bundle.ticket_types.get(record.type)
    if ticket_type is None:
        return []
    workflow = bundle.workflows[ticket_type.workflow]
    return [
        _transition_out(t, workflow, ticket_type, actor.is_staff)
        for t in service.transitions_for(actor, key)
    ]


@router.post(
    "/tickets/{key}/transitions/{transition_id}",
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422),
    summary="Take a transition (If-Match optional)",
)
def take_transition(
    key: TicketKey,
    transition_id: TransitionId,
    body: TransitionIn,
    actor: ApiActor,
    service: ApiService,
    if_match: IfMatch = None,
) -> Response:
    expected = parse_if_match(if_match, required=False)
    with expect_version():
        result = service.take_transition(
            actor,
            key,
            transition_id,
            fields=body.fields,
            comment=body.comment,
            public=body.public,
            expected_version=expected,
        )
    return ticket_response(result.ticket)


@router.post(
    "/tickets/{key}/comments",
    status_code=201,
    response_model=CommentOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
    summary="Reply (public) or add an internal note, with files",
    description=(
        "`files`: ids of the caller's own reply uploads (`POST /uploads/reply`), which "
        "become the comment's files (a requester never reads those of an internal note)."
    ),
)
def add_comment(
    key: TicketKey, body: CommentIn, actor: ApiActor, service: ApiService
) -> CommentOut:
    try:
        result = service.add_comment(actor, key, body.body, public=body.public, files=body.files)
    except ValidationFailed as failed:
        if "comment" not in failed.fields:
            raise
        # The comment's text is this body's `body` (empty, with no files).
        fields = {("body" if k == "comment" else k): v for k, v in failed.fields.items()}
        raise ValidationFailed(failed.detail, fields) from failed
    assert result.comment is not None  # noqa: S101 - add_comment returns its comment
    return comment_out(result.comment)


@router.get(
    "/tickets/{key}/comments",
    response_model=list[CommentOut],
    responses=error_responses(401, 404),
    summary="Comments (requesters: public ones only)",
)
def list_comments(key: TicketKey, actor: ApiActor, service: ApiService) -> list[CommentOut]:
    return [comment_out(c) for c in service.list_comments(actor, key)]


@router.get(
    "/tickets/{key}/events",
    response_model=list[EventOut],
    responses=error_responses(401, 404),
    summary="The audit trail (requesters: no internal events or fields)",
)
def list_events(key: TicketKey, actor: ApiActor, service: ApiService) -> list[EventOut]:
    return [event_out(e) for e in service.list_events(actor, key)]


def _duration(seconds: int) -> str:
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _explanation(item: SLAExplanation, status: str, remaining: int) -> dict[str, str]:
    budget, used, left = (
        _duration(item.budget_seconds),
        _duration(item.consumed_seconds),
        _duration(remaining),
    )

    def at(moment: datetime | None) -> str:
        return moment.isoformat() if moment is not None else "-"

    base_en = (
        f"{item.target} under policy {item.policy}: {budget} of business time on calendar "
        f"{item.calendar}; {used} used before the clock last started"
    )
    base_zh = (
        f"{item.target}（策略 {item.policy}）：日历 {item.calendar} 上的 {budget} 工作时间；"
        f"计时最近一次开始前已用 {used}"
    )
    tails = {
        "met": (f"; met at {at(item.met_at)}.", f"；已于 {at(item.met_at)} 达成。"),
        "breached": (
            f"; breached at {at(item.breached_at)}.",
            f"；已于 {at(item.breached_at)} 超时。",
        ),
        "paused": (
            f"; paused (the state pauses the clock), {left} left.",
            f"；已暂停（当前状态暂停计时），剩余 {left}。",
        ),
        "running": (
            f"; running since {at(item.running_since)}, so the {left} left, counted over "
            f"{len(item.intervals)} working intervals, end at {at(item.deadline)}.",
            f"；自 {at(item.running_since)} 起计时，剩余 {left} 按 {len(item.intervals)} "
            f"个工作时段计算，截止于 {at(item.deadline)}。",
        ),
    }
    tail_en, tail_zh = tails[status]
    return {"en": base_en + tail_en, "zh-CN": base_zh + tail_zh}


def _sla_target_out(item: SLAExplanation) -> SLATargetOut:
    remaining = max(item.budget_seconds - item.consumed_seconds, 0)
    if item.breached_at is not None:
        status = "breached"
    elif item.met_at is not None:
        status = "met"
    elif item.running_since is None:
        status = "paused"
    else:
        status = "running"
    return SLATargetOut(
        target=item.target,
        policy=item.policy,
        calendar=item.calendar,
        budget_seconds=item.budget_seconds,
        consumed_seconds=item.consumed_seconds,
        remaining_seconds=remaining,
        status=status,  # type: ignore[arg-type]
        running_since=item.running_since,
        deadline=item.deadline,
        met_at=item.met_at,
        breached_at=item.breached_at,
        intervals=[
            CountedIntervalOut(day=i.day, start=i.start, end=i.end, seconds=i.seconds)
            for i in item.intervals
        ],
        counted=[
            CountedStretchOut(start=start, end=end, seconds=seconds)
            for start, end, seconds in item.counted
        ],
        pauses=[PauseOut(start=start, end=end) for start, end in item.pauses],
        explanation=_explanation(item, status, remaining),
    )


@router.get(
    "/tickets/{key}/sla",
    response_model=list[SLATargetOut],
    responses=error_responses(401, 404),
    summary="Why each SLA deadline is what it is",
)
def explain_sla(key: TicketKey, actor: ApiActor, service: ApiService) -> list[SLATargetOut]:
    return [_sla_target_out(item) for item in service.explain_sla(actor, key)]
