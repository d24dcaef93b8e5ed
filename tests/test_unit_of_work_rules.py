"""Every write runs in the unit of work (engine/unit_of_work.py), checked on the source:

- only `begin_write` opens a write transaction (`Database.transaction`), and only the
  database module begins one on the engine or the session factory itself;
- only `UnitOfWork.event` makes event rows and only `UnitOfWork.outbox` outbox rows
  (no `Event(…)`, `NewEvent(…)` or `Outbox(…)` anywhere else; the batch that inserts
  them lives in store/writes.py);
- a ticket's state, team, assignee and fields are assigned only in
  engine/tickets/changes.py, whose helpers write the event of each change.

The platform's modules are parsed (never imported) and their calls and assignments
checked, so a new write path that opens its own transaction or builds its own event
fails here with the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PLATFORM = Path(__file__).parent.parent / "platform"
UNIT_OF_WORK = "engine/unit_of_work.py"
DATABASE = "engine/store/database.py"
BATCH = "engine/store/writes.py"
CHANGES = "engine/tickets/changes.py"
ROW_MAKERS = frozenset({"Event", "NewEvent", "Outbox"})
# What `changes` owns of a ticket (SLA columns follow a ticket in `automation.sla`).
TICKET_ATTRIBUTES = frozenset(
    {
        "state",
        "state_category",
        "state_since",
        "resolved_at",
        "closed_at",
        "team_id",
        "assignee_id",
        "priority",
        "tags",
        "title",
        "description",
        "merged_into_id",
    }
)


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PLATFORM.rglob("*.py")):
        name = path.relative_to(PLATFORM).as_posix()
        yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def called(node: ast.Call) -> str:
    """The name a call calls: `f` for `f(…)`, `x.f` for `x.f(…)`."""
    function = node.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        owner = function.value
        prefix = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
        return f"{prefix}.{function.attr}"
    return ""


def calls(tree: ast.Module) -> Iterator[tuple[int, str, ast.Call]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node.lineno, called(node), node


def test_only_the_runner_opens_a_write_transaction() -> None:
    found = [
        f"{name}:{line}: {what}()"
        for name, tree in modules()
        if name not in (UNIT_OF_WORK, DATABASE)
        for line, what, _ in calls(tree)
        if what.endswith(".transaction")
        or what in ("engine.begin", "sessions.begin", "self.sessions")
        or what.endswith(("sessionmaker", ".begin_nested"))
    ]
    assert found == [], "write through unit_of_work.begin_write instead:\n" + "\n".join(found)


def test_only_the_unit_of_work_makes_event_and_outbox_rows() -> None:
    found = [
        f"{name}:{line}: {what}(…)"
        for name, tree in modules()
        if name != UNIT_OF_WORK
        for line, what, _ in calls(tree)
        if what in ROW_MAKERS or (what.startswith("models.") and what[7:] in ROW_MAKERS)
    ]
    assert found == [], "use UnitOfWork.event / UnitOfWork.outbox:\n" + "\n".join(found)


def test_only_the_batch_inserts_events_and_outbox_rows() -> None:
    tables = {"Event", "Outbox", "EVENTS", "OUTBOX"}
    found = [
        f"{name}:{line}: {what}({ast.unparse(call.args[0])})"
        for name, tree in modules()
        if name != BATCH
        for line, what, call in calls(tree)
        if what.rpartition(".")[2] == "insert"
        and call.args
        and ast.unparse(call.args[0]).split(".")[0] in tables
    ]
    assert found == [], "\n".join(found)


def test_ticket_attributes_change_only_through_the_helpers_that_record_them() -> None:
    found = []
    for name, tree in modules():
        if name == CHANGES:
            continue
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = [t for target in node.targets for t in _flat(target)]
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = _flat(node.target)
            found += [
                f"{name}:{node.lineno}: {ast.unparse(target)} = …"
                for target in targets
                if isinstance(target, ast.Attribute)
                and target.attr in TICKET_ATTRIBUTES
                and ast.unparse(target.value) in ("ticket", "source", "target", "new", "row")
            ]
    assert found == [], "change tickets through engine/tickets/changes.py:\n" + "\n".join(found)


def _flat(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for element in target.elts for t in _flat(element)]
    return [target]


def test_the_checks_see_what_they_look_for() -> None:
    """The scans find the forbidden forms in a sample (so a passing check means
    something)."""
    sample = ast.parse(
        "with db.transaction() as session:\n"
        "    session.add(Event(kind='x'))\n"
        "    ticket.state, ticket.team_id = 'done', None\n"
    )
    assert [what for _, what, _ in calls(sample)] == ["db.transaction", "session.add", "Event"]
    assigned = [t for n in ast.walk(sample) if isinstance(n, ast.Assign) for t in n.targets]
    assert [ast.unparse(t) for t in _flat(assigned[0])] == ["ticket.state", "ticket.team_id"]
