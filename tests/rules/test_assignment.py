"""Choosing an agent: each strategy, away agents, capacity, skills, the queue fallback."""

from __future__ import annotations

import pytest

from gongdan.rules.assignment import Candidate, choose_agent


def agent(
    user_id: int,
    *,
    away: bool = False,
    skills: tuple[str, ...] = (),
    capacity: int | None = None,
    open_tickets: int = 0,
) -> Candidate:
    return Candidate(
        user_id, f"a{user_id}@example.com", away, frozenset(skills), capacity, open_tickets
    )


def test_round_robin_takes_turns_from_the_shared_counter() -> None:
    team = [agent(3), agent(1), agent(2)]
    picked = []
    for turn in range(1, 8):
        choice = choose_agent("round_robin", team, turn=turn)
        assert choice.agent is not None
        picked.append(choice.agent.user_id)
    assert picked == [1, 2, 3, 1, 2, 3, 1]


def test_round_robin_skips_away_agents_and_full_ones() -> None:
    team = [agent(1), agent(2, away=True), agent(3, capacity=2, open_tickets=2), agent(4)]
    picked = [choose_agent("round_robin", team, turn=turn).agent for turn in range(1, 7)]
    # The two who qualify alternate: nobody gets two turns in a row for the others.
    assert [a.user_id if a else None for a in picked] == [1, 4, 1, 4, 1, 4]


def test_least_loaded_respects_capacity() -> None:
    team = [
        agent(1, open_tickets=5),
        agent(2, capacity=3, open_tickets=3),
        agent(3, open_tickets=4),
    ]
    choice = choose_agent("least_loaded", team)
    assert choice.agent is not None and choice.agent.user_id == 3
    assert "4 open" in choice.reason


def test_skills_need_every_skill_named() -> None:
    team = [
        agent(1, skills=("printers",)),
        agent(2, skills=("printers", "hardware"), open_tickets=9),
        agent(3, skills=("hardware", "printers", "network"), open_tickets=2),
    ]
    choice = choose_agent("skills", team, skills=frozenset({"hardware", "printers"}))
    assert choice.agent is not None and choice.agent.user_id == 3


@pytest.mark.parametrize(
    ("strategy", "team", "skills", "reason"),
    [
        ("manual", [agent(1)], (), "manual"),
        ("round_robin", [], (), "no members"),
        ("least_loaded", [agent(1, away=True)], (), "away"),
        ("skills", [agent(1, skills=("a",))], ("b",), "skills b"),
        ("least_loaded", [agent(1, capacity=1, open_tickets=1)], (), "capacity"),
        # Mixed teams: the reason is the furthest any member got, whatever their order.
        (
            "skills",
            [agent(1, skills=("b",), capacity=1, open_tickets=1), agent(2, skills=("a",))],
            ("b",),
            "capacity",
        ),
        (
            "skills",
            [agent(1, skills=("a",)), agent(2, skills=("b",), capacity=1, open_tickets=1)],
            ("b",),
            "capacity",
        ),
        (
            "skills",
            [agent(1, skills=("b",), away=True), agent(2, skills=("a",))],
            ("b",),
            "skills b",
        ),
        ("round_robin", [agent(1, away=True), agent(2, away=True)], (), "away"),
    ],
)
def test_nobody_qualifies_the_ticket_stays_in_the_queue(
    strategy: str, team: list[Candidate], skills: tuple[str, ...], reason: str
) -> None:
    choice = choose_agent(strategy, team, skills=frozenset(skills))
    assert choice.agent is None
    assert reason in choice.reason
