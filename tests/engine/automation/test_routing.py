"""Routing on real databases: rules in order with `continue`, each strategy with real
members and loads, away agents, the team queue, re-routing when a field the rules read
changes, and round robin shared by two processes."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import update

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import NOW, make_user

TEAMS = {
    "teams/desk.yaml": """kind: Team
name: Desk
members:
  - {user: a1@example.com, skills: [hardware], capacity: 2}
  - {user: a2@example.com, skills: [hardware, printers]}
  - {user: a3@example.com}
""",
}
# Round robin without capacities, so turns are not skipped for being full.
EVEN_TEAMS = {
    "teams/desk.yaml": """kind: Team
name: Desk
members: [{user: a1@example.com}, {user: a2@example.com}, {user: a3@example.com}]
""",
}
RULES = """kind: RoutingRules
id: default
rules:
  - name: VIP first
    when: {requester.tier: vip}
    set: {priority: high}
    add_tags: [vip]
    continue: true
  - name: Printers need the skill
    when: {category: hardware, amount: {gt: 100}}
    assign: {team: desk, strategy: skills, skills: [printers]}
  - name: Hardware by load
    when: {category: hardware}
    assign: {team: desk, strategy: least_loaded}
  - name: Everything else
    assign: {team: desk, strategy: round_robin}
"""


@pytest.fixture(params=[TEAMS])
def routed(
    db: Database, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[TicketService, Bundle]:
    bundle = load_bundle(make_bundle(tmp_path, {**request.param, "routing/default.yaml": RULES}))
    for n in (1, 2, 3):
        make_user(db, f"a{n}@example.com")
    AccountService(db, bundle).sync_teams()
    return TicketService(db, bundle), bundle


def routing_of(service: TicketService, result: object) -> dict[str, object]:
    """What routing did to a new ticket: the `routing` part of its one created event,
    as staff read it (a requester's own view leaves it out)."""
    (created,) = result.events  # type: ignore[attr-defined]
    assert created.kind == "ticket.created"
    (event,) = service.list_events(Actor.system(), result.ticket.key)  # type: ignore[attr-defined]
    assert event.kind == "ticket.created" and event.id == created.id
    return event.detail["routing"]  # type: ignore[no-any-return]


def create(service: TicketService, who: object, category: str = "software", **fields: object):
    return service.create_ticket(
        who,
        "incident",
        title="Help",  # type: ignore[arg-type]
        fields={
            "category": category,
            **fields,
            **({"serial": "ABC-123"} if category == "hardware" else {}),
        },
    )


@pytest.mark.parametrize("routed", [EVEN_TEAMS], indirect=True)
def test_round_robin_is_fair_across_three_agents(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    requester = make_user(db, "r@example.com", "requester")
    assignees = [create(service, requester).ticket.assignee for _ in range(9)]
    assert Counter(assignees) == {"a1@example.com": 3, "a2@example.com": 3, "a3@example.com": 3}
    assert assignees[:3] == ["a1@example.com", "a2@example.com", "a3@example.com"]


def test_first_match_wins_unless_continue(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    vip = make_user(db, "vip@example.com", "requester", tier="vip")
    created = create(service, vip, "hardware")
    assert created.ticket.priority == "high" and created.ticket.tags == ("vip",)
    routing = routing_of(service, created)
    assert "routing" not in created.events[0].detail  # the requester's view: not how
    assert routing["rules"] == ["VIP first", "Hardware by load"]
    assert routing["strategy"] == "least_loaded"
    assert routing["before"] == {"team": None, "priority": "normal", "tags": []}
    after = created.events[0].after
    assert (after["team"], after["priority"], after["tags"]) == ("desk", "high", ["vip"])
    assert created.ticket.assignee is not None and after["assignee"] == created.ticket.assignee


def test_least_loaded_respects_capacity_and_skips_away(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    requester = make_user(db, "r@example.com", "requester")
    with db.transaction() as session:
        session.execute(update(User).where(User.email == "a3@example.com").values(away=True))
    first = [create(service, requester, "hardware").ticket.assignee for _ in range(6)]
    # a1 (capacity 2) and a2 share the load until a1 is full; a3 is away.
    assert Counter(first) == {"a1@example.com": 2, "a2@example.com": 4}


def test_skills_strategy_and_the_queue_when_nobody_qualifies(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    requester = make_user(db, "r@example.com", "requester")
    assert create(service, requester, "hardware", amount=500).ticket.assignee == "a2@example.com"
    with db.transaction() as session:
        session.execute(update(User).where(User.email == "a2@example.com").values(away=True))
    queued = create(service, requester, "hardware", amount=500)
    assert queued.ticket.team == "desk" and queued.ticket.assignee is None
    assert "printers" in str(routing_of(service, queued)["reason"])


def test_a_change_the_rules_read_routes_again(
    db: Database, routed: tuple[TicketService, Bundle]
) -> None:
    service, _ = routed
    requester = make_user(db, "r@example.com", "requester")
    admin = make_user(db, "boss@example.com", "admin")
    key = create(service, requester, "hardware").ticket.key
    before = service.get_ticket(admin, key).assignee
    changed = service.update_ticket(admin, key, {"amount": 900})
    assert changed.ticket.assignee == "a2@example.com"
    assert any(e.kind == "ticket.routed" for e in changed.events)
    # A change no rule reads leaves routing alone.
    quiet = service.update_ticket(admin, key, {"title": "Still broken"})
    assert not any(e.kind == "ticket.routed" for e in quiet.events)
    assert before is not None


TAGGING_RULES = """kind: RoutingRules
id: default
rules:
  - name: Tag VIPs
    when: {requester.tier: vip}
    add_tags: [vip]
    continue: true
  - name: VIPs wait for the desk lead
    when: {tags: {contains: vip}}
    assign: {team: desk, strategy: manual}
  - name: Everyone else in turn
    assign: {team: desk, strategy: round_robin}
"""


def test_later_rules_see_the_tags_earlier_ones_added(db: Database, tmp_path: Path) -> None:
    bundle = load_bundle(
        make_bundle(tmp_path, {**EVEN_TEAMS, "routing/default.yaml": TAGGING_RULES})
    )
    for n in (1, 2, 3):
        make_user(db, f"a{n}@example.com")
    AccountService(db, bundle).sync_teams()
    service = TicketService(db, bundle)
    vip = make_user(db, "vip@example.com", "requester", tier="vip")
    tagged = create(service, vip)
    assert tagged.ticket.tags == ("vip",)
    assert routing_of(service, tagged)["rules"] == ["Tag VIPs", "VIPs wait for the desk lead"]
    assert tagged.ticket.team == "desk" and tagged.ticket.assignee is None
    plain = create(service, make_user(db, "r@example.com", "requester"))
    assert routing_of(service, plain)["rules"] == ["Everyone else in turn"]
    assert plain.ticket.assignee == "a1@example.com"


def _create_many(url: str, config: str, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from gongdan.bundle.loader import load_bundle as load
    from gongdan.rules.workflow import Actor

    db = Database(url)
    service = TicketService(db, load(config))
    with db.reading() as session:
        requester = session.query(User).filter_by(email="r@example.com").one()
        who = Actor(requester.id, requester.email, "requester")
    for _ in range(count):
        queue.put(
            service.create_ticket(
                who, "incident", title="x", fields={"category": "software"}
            ).ticket.assignee
        )
    db.dispose()


def test_round_robin_is_shared_by_two_processes(db: Database, tmp_path: Path) -> None:
    config = make_bundle(tmp_path, {**EVEN_TEAMS, "routing/default.yaml": RULES})
    bundle = load_bundle(config)
    for n in (1, 2, 3):
        make_user(db, f"a{n}@example.com")
    make_user(db, "r@example.com", "requester")
    AccountService(db, bundle).sync_teams()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_create_many, args=(db.url, str(config), 15, queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in range(30)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert Counter(results) == {"a1@example.com": 10, "a2@example.com": 10, "a3@example.com": 10}


def test_example_bundle_routes_hardware_to_field_service(
    db: Database, routed_bundle: Bundle
) -> None:
    AccountService(db, routed_bundle).sync_teams()
    service = TicketService(db, routed_bundle)
    requester = make_user(db, "zhang.san@example.com", "requester")
    created = service.create_ticket(
        requester,
        "it_incident",
        title="Laptop",
        fields={"category": "hardware", "device_serial": "PC-2024-0815", "impact": "me"},
    )
    assert created.ticket.team == "field_service"
    assert NOW.year == 2026  # factories' clock, used by the rules' dates
