"""The progress step line a requester sees: where a ticket is on its workflow's way.

A pure function over the compiled workflow (no database, no clock). The line follows
the milestones of the state categories in order, open → resolved → closed:

- the steps done are the way from `initial` to the ticket's state through the
  milestones below that state's category (where the state can still be reached from
  them), so a closed ticket shows the way a resolved ticket takes, and a declined one
  only the way to its end;
- the steps to come are the shortest way on through the milestones above it.

Pending states (waiting for the customer, for parts) appear when the ticket is in
one. Ties go to the transition declared first, so the line is stable. Guards are
ignored: they depend on values that may still change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gongdan.rules.workflow import WorkflowDef
from gongdan.vocabulary import STATE_CATEGORIES, StateCategory

__all__ = ["Step", "progress_steps"]

StepStatus = Literal["done", "current", "todo"]
RANK: dict[str, int] = {category: rank for rank, category in enumerate(STATE_CATEGORIES)}
MILESTONES = (StateCategory.OPEN, StateCategory.RESOLVED, StateCategory.CLOSED)


@dataclass(frozen=True, slots=True)
class Step:
    """One state on the line: its id, label (text or {locale: text}), category, status."""

    state: str
    label: Any
    category: str
    status: StepStatus


def _edges(workflow: WorkflowDef) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {s: [] for s in workflow.states}
    for transition in workflow.transitions:
        for source in sorted(transition.sources):
            targets = edges.setdefault(source, [])
            if transition.target not in targets and transition.target != source:
                targets.append(transition.target)
    return edges


def _way(
    edges: dict[str, list[str]], start: str, accept: Callable[[str], bool]
) -> list[str] | None:
    """The states after `start` on the shortest way to a state `accept`s ([] when
    `start` is one; None when there is none)."""
    if accept(start):
        return []
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for nxt in edges.get(state, ()):
            if nxt in previous or nxt == start:
                continue
            previous[nxt] = state
            if accept(nxt):
                way = [nxt]
                while previous[way[-1]] != start:
                    way.append(previous[way[-1]])
                return way[::-1]
            queue.append(nxt)
    return None


def _is_state(state: str) -> Callable[[str], bool]:
    return lambda candidate: candidate == state


def progress_steps(workflow: WorkflowDef, state: str) -> tuple[Step, ...]:
    """The step line of a ticket in `state` (empty when the state no longer exists)."""
    if state not in workflow.states:
        return ()
    edges = _edges(workflow)
    states = workflow.states

    def rank(state_id: str) -> int:
        return RANK[states[state_id].category]

    def milestone_of(category: str, *, leading_to: str | None = None) -> Callable[[str], bool]:
        def accept(candidate: str) -> bool:
            return states[candidate].category == category and (
                leading_to is None or _way(edges, candidate, _is_state(leading_to)) is not None
            )

        return accept

    done = [workflow.initial]
    for milestone in MILESTONES:
        if rank(workflow.initial) < RANK[milestone] < rank(state):
            done += _way(edges, done[-1], milestone_of(milestone, leading_to=state)) or []
    if state in done:
        done = done[: done.index(state) + 1]
    else:
        way = _way(edges, done[-1], _is_state(state))
        # Unreachable from `initial` (the loader forbids it): show the state alone.
        done = done + way if way is not None else [state]
    ahead: list[str] = []
    for milestone in MILESTONES:
        if RANK[milestone] > rank(state):
            start = ahead[-1] if ahead else state
            ahead += _way(edges, start, milestone_of(milestone)) or []
    line: list[tuple[str, StepStatus]] = [(s, "done") for s in done[:-1]]
    line += [(state, "current"), *((s, "todo") for s in ahead)]
    return tuple(Step(s, states[s].label, states[s].category, status) for s, status in line)
