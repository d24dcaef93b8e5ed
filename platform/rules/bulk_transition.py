"""What a bulk transition asks for: one form for several tickets, or why there is none.

A transition id may exist in several workflows (`resolve` in `incident` asks for a
resolution code, in `complaint` for a root cause). When the desk takes a transition on
several tickets at once, the form it shows is the one their types share; if the
selected tickets' types ask for different things (other fields, other field
definitions, another comment rule), there is no one form, and the desk says so rather
than guessing. Pure over the compiled types and workflows: no session, no clock. The
ticket types are anything with an id, a workflow id and a field map (the bundle's
`TicketTypeDef`), so this module needs nothing above `rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from gongdan.rules.workflow import TransitionDef, WorkflowDef

__all__ = ["BulkTransitionForm", "Catalog", "TicketTypeLike", "plan_bulk_transition"]


class TicketTypeLike(Protocol):
    """What the plan reads of a ticket type."""

    @property
    def workflow(self) -> str: ...

    @property
    def field_map(self) -> Mapping[str, Any]: ...


T = TypeVar("T", bound=TicketTypeLike)
T_co = TypeVar("T_co", bound=TicketTypeLike, covariant=True)


class Catalog(Protocol[T_co]):
    """The ticket types and workflows to plan over (a compiled `Bundle`)."""

    @property
    def ticket_types(self) -> Mapping[str, T_co]: ...

    @property
    def workflows(self) -> Mapping[str, WorkflowDef]: ...


@dataclass(frozen=True, slots=True)
class BulkTransitionForm(Generic[T]):
    """The form of `transition_id` for the selected tickets' types.

    `shared` is the (type, transition) whose definitions render the one form when all
    types that have the transition agree; `differing` lists one (type, transition) per
    distinct form when they do not; both are empty when no selected type has it.
    """

    transition_id: str
    shared: tuple[T, TransitionDef] | None
    differing: tuple[tuple[T, TransitionDef], ...] = ()

    @property
    def asks(self) -> bool:
        """Whether the shared form asks for anything (fields or a comment)."""
        if self.shared is None:
            return False
        transition = self.shared[1]
        return bool(transition.fields or transition.comment)


def _transition(
    bundle: Catalog[TicketTypeLike], ticket_type: TicketTypeLike, transition_id: str
) -> Any:
    workflow = bundle.workflows.get(ticket_type.workflow)
    if workflow is None:
        return None
    return next((t for t in workflow.transitions if t.id == transition_id), None)


def _form_signature(ticket_type: TicketTypeLike, transition: TransitionDef) -> Any:
    """What the value typed into the form means: the fields asked for, by id, type,
    option values and parameters, and the comment rule (labels may differ)."""
    fields: list[tuple[Any, ...]] = []
    for field_id in transition.fields:
        definition = ticket_type.field_map.get(field_id)
        if definition is None:  # a built-in field: the same everywhere
            fields.append((field_id,))
            continue
        options = tuple(option.value for option in definition.options)
        params = sorted((k, repr(v)) for k, v in definition.params.items())
        fields.append((field_id, definition.type, options, tuple(params)))
    return (tuple(fields), transition.comment)


def plan_bulk_transition(
    bundle: Catalog[T], type_ids: Iterable[str], transition_id: str
) -> BulkTransitionForm[T]:
    """The form `transition_id` asks for on tickets of `type_ids` (types whose workflow
    lacks the transition are left out: those tickets will report it one by one)."""
    groups: list[tuple[Any, T, TransitionDef]] = []
    for type_id in sorted(set(type_ids)):
        ticket_type = bundle.ticket_types.get(type_id)
        if ticket_type is None:
            continue
        transition = _transition(bundle, ticket_type, transition_id)
        if transition is None:
            continue
        signature = _form_signature(ticket_type, transition)
        if all(signature != known for known, _, _ in groups):
            groups.append((signature, ticket_type, transition))
    if not groups:
        return BulkTransitionForm(transition_id, None)
    if len(groups) == 1:
        return BulkTransitionForm(transition_id, (groups[0][1], groups[0][2]))
    return BulkTransitionForm(transition_id, None, tuple((t, tr) for _, t, tr in groups))
