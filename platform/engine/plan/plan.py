"""`plan_bundle`: what making a candidate bundle active would change, like `terraform plan`.

A `Plan` holds the config changes (`bundle.diff`), what they do to the live tickets
(`impacts`), its exit code (0 nothing changes, 2 something does) and, when the
candidate would leave live tickets in a state their workflow no longer has with no
`migrate` for them, the refusal that says how many, per workflow and state. The one
promotion path (reload, `gongdan apply`, the editor) refuses such a bundle with that
message; `gongdan plan` prints it. Reads only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.diff import ADDED, CHANGED, REMOVED, Change, bundle_changes
from gongdan.engine.plan.impacts import (
    FieldImpact,
    SLAImpact,
    StateImpact,
    TypeImpact,
    deadline_changes,
    field_impacts,
    state_impacts,
    type_impacts,
)
from gongdan.engine.unit_of_work import NO_BUNDLE, ReadContext

__all__ = ["EXIT_CHANGES", "EXIT_NO_CHANGE", "Plan", "plan_bundle", "refusal_message"]

EXIT_NO_CHANGE, EXIT_CHANGES = 0, 2
_SIGNS = {ADDED: "+", CHANGED: "~", REMOVED: "-"}


@dataclass(frozen=True, slots=True)
class Plan:
    """What making `candidate_version` active instead of `active_version` would do."""

    active_version: str
    candidate_version: str
    changes: tuple[Change, ...]
    states: tuple[StateImpact, ...] = ()
    ticket_types: tuple[TypeImpact, ...] = ()
    fields: tuple[FieldImpact, ...] = ()
    sla: SLAImpact = field(default_factory=SLAImpact)
    refusal: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when the candidate changes nothing, 2 when it changes something."""
        return EXIT_CHANGES if self.changes else EXIT_NO_CHANGE

    @property
    def stranded(self) -> tuple[StateImpact, ...]:
        """The live tickets left in a removed state with no `migrate` for them."""
        return tuple(s for s in self.states if s.migrate_to is None)

    def counts(self) -> dict[str, int]:
        """How many things are added, changed and removed."""
        seen = Counter(c.what for c in self.changes)
        return {what: seen[what] for what in (ADDED, CHANGED, REMOVED)}

    def as_json(self) -> dict[str, Any]:
        """The plan as JSON-ready data, for CI bots (`gongdan plan --format json`)."""
        return {
            "active_version": self.active_version,
            "candidate_version": self.candidate_version,
            "exit_code": self.exit_code,
            "refusal": self.refusal,
            "summary": self.counts(),
            "changes": [c.as_json() for c in self.changes],
            "tickets": {
                "states": [s.as_json() for s in self.states],
                "ticket_types": [t.as_json() for t in self.ticket_types],
                "fields": [f.as_json() for f in self.fields],
                "sla": self.sla.as_json(),
            },
        }

    def render(self) -> str:
        """The plan as text for a terminal or a pull request comment."""
        if not self.changes:
            return f"No changes: the bundle matches the active version ({self.active_version})."
        counts = self.counts()
        lines = [
            f"Plan: {counts[ADDED]} to add, {counts[CHANGED]} to change, "
            f"{counts[REMOVED]} to remove (active {self.active_version} → "
            f"candidate {self.candidate_version})",
            "",
        ]
        kind_width = max(len(c.kind) for c in self.changes)
        id_width = min(max(len(c.id) for c in self.changes), 48)
        for c in self.changes:
            row = f"  {_SIGNS[c.what]} {c.kind:<{kind_width}}  {c.id:<{id_width}}  {c.what}"
            lines.append(f"{row}: {c.detail}" if c.detail else row)
        lines += ["", *self._ticket_lines()]
        if self.refusal:
            lines += ["", self.refusal]
        return "\n".join(lines)

    def _ticket_lines(self) -> list[str]:
        out = []
        for s in self.states:
            where = f"{s.workflow}.{s.state} ({s.ticket_type}): {_tickets(s.tickets)}"
            out.append(
                f"  {where} → migrate to {s.migrate_to}"
                if s.migrate_to
                else f"  {where}, stranded: the state is removed and no `migrate` names it"
            )
        for t in self.ticket_types:
            out.append(f"  ticket type {t.ticket_type} is removed: {_tickets(t.tickets)}")
        for f in self.fields:
            where = f"  {f.ticket_type}.{f.field}: {_tickets(f.tickets)}"
            if f.what == "refused":
                out.append(f"{where} hold a value the field would refuse ({f.detail})")
            else:
                what = "is dropped" if f.what == "dropped" else f"changes type ({f.detail})"
                out.append(f"{where} hold a value; the field {what}")
        if self.sla.tickets:
            out.append(f"  SLA: {_tickets(self.sla.tickets)} would get another deadline, e.g.:")
            out += [
                f"    {d.key} {d.target}: {_when(d.old)} → {_when(d.new)}" for d in self.sla.sample
            ]
        if not out:
            return ["Live tickets (not closed): none affected."]
        return ["Live tickets (not closed):", *out]


def _tickets(n: int) -> str:
    return f"{n} ticket{'s' * (n != 1)}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "none"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def refusal_message(stranded: tuple[StateImpact, ...]) -> str | None:
    """Why a candidate that strands live tickets is refused, with the count per workflow
    and state (None: it strands none)."""
    if not stranded:
        return None
    per_state = Counter[tuple[str, str]]()
    for s in stranded:
        per_state[(s.workflow, s.state)] += s.tickets
    total = sum(per_state.values())
    places = ", ".join(f"{wf}.{state}: {n}" for (wf, state), n in sorted(per_state.items()))
    return (
        f"Refused: {_tickets(total)} not closed would be left in states their workflow no "
        f"longer has ({places}). Add `migrate: {{old_state: new_state}}` to the workflow, "
        "or move or close those tickets first."
    )


def plan_bundle(ctx: ReadContext, active: Bundle | None, candidate: Bundle) -> Plan:
    """Compare `candidate` with the `active` bundle and the live tickets `ctx` reads
    (no active bundle: everything in the candidate is new). Reads only."""
    if active is None:
        active = NO_BUNDLE
    changes = bundle_changes(active, candidate)
    if not changes:
        return Plan(active.version or "(none)", candidate.version, ())
    states = tuple(state_impacts(ctx, active, candidate))
    stranded = tuple(s for s in states if s.migrate_to is None)
    return Plan(
        active_version=active.version or "(none)",
        candidate_version=candidate.version,
        changes=changes,
        states=states,
        ticket_types=tuple(type_impacts(ctx, active, candidate)),
        fields=tuple(field_impacts(ctx, active, candidate)),
        sla=deadline_changes(ctx, active, candidate, _moves(candidate, states)),
        refusal=refusal_message(stranded),
    )


def _moves(candidate: Bundle, states: tuple[StateImpact, ...]) -> dict[tuple[str, str], str]:
    """The tickets a `migrate` moves, by (ticket type, state), to the category of their
    new state."""
    return {
        (s.ticket_type, s.state): candidate.workflows[s.workflow].states[s.migrate_to].category
        for s in states
        if s.migrate_to is not None
    }
