"""The desk's search at scale: on PostgreSQL the trigram indexes of migration 0019 serve
a rare word, a Chinese phrase, a comment and a custom field (EXPLAIN, with enough
tickets that the planner must choose); a common word is read along the sort's index
with the same answers; one or two Chinese characters (a word) through the CJK pair
indexes of migration 0022; other text too short for a trigram looks at the newest
tickets and says so. SQLite answers the same."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from gongdan.engine import TicketQuery
from gongdan.engine.reads import queries
from gongdan.rules.workflow import Actor
from tests.factories import after_sales, incident
from tests.ui.conftest import Web

FILLER = 30_000


def _people(web: Web) -> dict[str, Actor]:
    return {
        "agent": web.user("li.wei@example.com", teams=("service_desk",)),
        "requester": web.user("zhang.san@example.com", "requester"),
        "admin": web.user("root@example.com", "admin"),
    }


def _ours(web: Web, people: dict[str, Actor], **values: object) -> str:
    key = incident(web.service, people["requester"], **values).ticket.key
    web.service.assign(people["admin"], key, team="service_desk", assignee="")
    return key


def _keys(web: Web, who: Actor, text: str) -> set[str]:
    return {t.key for t in web.service.list_tickets(who, TicketQuery(text=text)).items}


def _fill(web: Web, key: str, count: int) -> None:
    """`count` copies of ticket `key` (new keys, titles and descriptions of common
    words), each with a comment, then ANALYZE: the planner must choose an index over
    a scan."""
    with web.db.engine.begin() as conn:
        columns = [
            c["name"]
            for c in sa.inspect(conn).get_columns("tickets")
            if c["name"] not in {"id", "key", "number", "title", "description"}
        ]
        listed = ", ".join(columns)
        copies = (  # the column names are the table's own
            f"INSERT INTO tickets (key, number, title, description, {listed}) "  # noqa: S608
            f"SELECT 'INC-' || (100000 + g), 100000 + g, 'Printer ' || g || ' needs toner', "
            f"'The printer on floor ' || (g % 9) || ' is out of toner again', {listed} "
            "FROM tickets, generate_series(1, :count) AS g WHERE key = :key"
        )
        conn.execute(
            sa.text(copies),
            {"count": count, "key": key},
        )
        kept = [
            c["name"]
            for c in sa.inspect(conn).get_columns("comments")
            if c["name"] not in {"id", "ticket_id", "body"}
        ]
        comments = ", ".join(f"c.{name}" for name in kept)
        conn.execute(
            sa.text(  # the column names are the table's own
                f"INSERT INTO comments (ticket_id, body, {', '.join(kept)}) "  # noqa: S608
                f"SELECT t.id, repeat('Still happening after a restart. ', 12) || t.key, {comments} "
                "FROM tickets AS t, (SELECT * FROM comments LIMIT 1) AS c "
                "WHERE t.number > 100000"
            )
        )
        conn.execute(sa.text("ANALYZE tickets"))
        conn.execute(sa.text("ANALYZE comments"))


@contextmanager
def _statements(web: Web) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(web.db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(web.db.engine, "before_cursor_execute", before)


def _plans(web: Web, who: Actor, text: str) -> str:
    """The plans of every statement a search for `text` ran (EXPLAIN ANALYZE)."""
    with _statements(web) as seen:
        web.service.list_tickets(who, TicketQuery(text=text))
    plans = []
    with web.db.engine.connect() as conn:
        for statement, parameters in seen:
            if statement.lstrip().upper().startswith("SELECT"):
                rows = conn.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", parameters)
                plans.append("\n".join(r[0] for r in rows))
    return "\n\n".join(plans)


def test_trigram_indexes_serve_rare_words_chinese_comments_and_fields(web: Web) -> None:
    if web.db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's (SQLite scans)")
    people = _people(web)
    chinese = _ours(web, people, title="三楼打印机卡纸", description="固态硬盘彻底损坏")
    commented = _ours(web, people, title="Slow laptop")
    web.service.add_comment(people["agent"], commented, "Error 0x7F3A after the update")
    by_field = _ours(
        web, people, title="Dock broken",
        fields={"category": "hardware", "device_serial": "DOCK-7731-ZX", "impact": "me"},
    )  # fmt: skip
    _fill(web, chinese, FILLER)

    for who in (people["agent"], people["admin"]):
        assert _keys(web, who, "固态硬盘彻底") == {chinese}
        assert _keys(web, who, "0x7f3a") == {commented}
        assert _keys(web, who, "dock-7731") == {by_field}
        assert _keys(web, who, chinese) == {chinese}  # a key as text
    plans = _plans(web, people["agent"], "固态硬盘彻底")
    assert "ix_tickets_description_trgm" in plans and "Seq Scan on tickets" not in plans
    comment_plans = _plans(web, people["agent"], "0x7f3a")
    assert "ix_comments_body_trgm" in comment_plans, comment_plans
    assert "ix_tickets_data_trgm" in _plans(web, people["admin"], "dock-7731")


def test_a_common_word_gives_the_same_answers_along_the_sort(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = _people(web)
    keys = {_ours(web, people, title=f"VPN drops {n}") for n in range(3)}
    noted = _ours(web, people, title="Cannot connect")
    web.service.add_comment(people["agent"], noted, "the vpn client is outdated")
    expected = keys | {noted}
    assert _keys(web, people["agent"], "vpn") == expected  # the rare path: ids first
    monkeypatch.setattr(queries, "SEARCH_CANDIDATES", 2)  # now "common": row by row
    assert _keys(web, people["agent"], "vpn") == expected
    assert _keys(web, people["requester"], "vpn") == keys | {noted}  # public comment


def test_a_key_is_found_as_a_whole_word_in_text(web: Web) -> None:
    people = _people(web)
    first = _ours(web, people, title="Printer")
    mention = _ours(web, people, title="Same as before", description=f"See {first}.")
    _ours(web, people, title="Unrelated", description=f"See {first}0 and {first}1.")
    found = _keys(web, people["agent"], first)
    assert {first, mention} <= found
    if web.db.engine.dialect.name == "postgresql":
        assert found == {first, mention}  # INC-1 is not INC-10


def test_one_or_two_latin_characters_look_at_the_newest_tickets_and_say_so(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = _people(web)
    old = _ours(web, people, title="QZ relay slow")
    new = _ours(web, people, title="QZ relay down")
    assert _keys(web, people["agent"], "qz") == {old, new}
    monkeypatch.setattr(queries, "SHORT_SEARCH_WINDOW", 1)  # only the newest ticket
    assert _keys(web, people["agent"], "qz") == {new}
    assert _keys(web, people["agent"], "qz relay s") == {old}  # longer: every ticket
    client = web.client("li.wei@example.com")
    short = client.get("/desk/queues/search", params={"q": "qz"}).text
    assert "newest" in short and "QZ relay slow" not in short
    assert "newest" not in client.get("/desk/queues/search", params={"q": "qz r"}).text


def test_one_or_two_chinese_characters_are_found_among_every_ticket(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Chinese word is often two characters: on PostgreSQL migration 0022's pair
    indexes find it among every ticket (SQLite scans them all), in titles,
    descriptions, custom fields and comments, exactly as `ILIKE` would."""
    people = _people(web)
    old = _ours(web, people, title="网络很慢", description="三楼的打印机卡纸")
    by_field = after_sales(
        web.service, people["requester"], fields={"reason_details": "屏幕坞站有裂痕"}
    ).ticket.key
    web.service.assign(people["admin"], by_field, team="service_desk", assignee="")
    commented = _ours(web, people, title="Slow laptop")
    web.service.add_comment(people["agent"], commented, "重启后恢复正常")
    new = _ours(web, people, title="网络断开")
    monkeypatch.setattr(queries, "SHORT_SEARCH_WINDOW", 1)  # the window no longer applies
    for who in (people["agent"], people["admin"]):
        assert _keys(web, who, "网络") == {old, new}
        assert _keys(web, who, "卡纸") == {old}  # in the middle of a description
        assert _keys(web, who, "慢") == {old}  # one character, the last of its run
        assert _keys(web, who, "坞站") == {by_field}
        assert _keys(web, who, "重启") == {commented}
        assert _keys(web, who, "纸卡") == set()  # the pair in that order only
    client = web.client("li.wei@example.com")
    page = client.get("/desk/queues/search", params={"q": "网络"}).text
    assert "newest" not in page and f"/desk/tickets/{old}" in page


def test_chinese_pairs_are_index_lookups(web: Web) -> None:
    if web.db.engine.dialect.name != "postgresql":
        pytest.skip("the CJK pair indexes are PostgreSQL's (SQLite scans)")
    people = _people(web)
    chinese = _ours(web, people, title="三楼打印机卡纸")
    commented = _ours(web, people, title="Slow laptop")
    web.service.add_comment(people["agent"], commented, "重启后恢复正常")
    _fill(web, chinese, FILLER)
    for who in (people["agent"], people["admin"]):
        assert _keys(web, who, "卡纸") == {chinese}
        assert _keys(web, who, "重启") == {commented}
    plans = _plans(web, people["agent"], "卡纸")
    assert "ix_tickets_cjk_pairs" in plans and "Seq Scan on tickets" not in plans, plans
    assert "ix_comments_cjk_pairs" in _plans(web, people["admin"], "重启")
