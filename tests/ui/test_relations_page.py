"""Link, merge and split from the desk's ticket page (TestClient, SQLite and PostgreSQL):
the target is found by key or title among the tickets the agent may see, a merge and a
split say what moves where before anything changes, and the requester's page of a
merged ticket points to the survivor."""

from __future__ import annotations

import pytest

from gongdan.rules.workflow import Actor
from tests.factories import incident
from tests.ui.conftest import Client, Web

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(web: Web) -> dict[str, Actor]:
    return {
        "agent": web.user("li.wei@example.com", "agent", teams=("service_desk",)),
        "outsider": web.user("outsider@example.com", "agent", teams=("field_service",)),
        "requester": web.user("zhang.san@example.com", "requester"),
        "admin": web.user("admin@example.com", "admin"),
    }


@pytest.fixture
def agent(web: Web, people: dict[str, Actor]) -> Client:
    return web.client("li.wei@example.com")


def _htmx(client: Client) -> dict[str, str]:
    return {**HTMX, "X-CSRF-Token": client.csrf}


def _two(web: Web, people: dict[str, Actor]) -> tuple[str, str]:
    first = incident(web.service, people["requester"], title="Outlook keeps crashing")
    second = incident(web.service, people["requester"], title="Mail client crashes as well")
    return first.ticket.key, second.ticket.key


def test_the_ticket_page_offers_link_merge_and_split(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, _ = _two(web, people)
    html = agent.get(f"/desk/tickets/{key}").text
    assert f'href="/desk/tickets/{key}/relate"' in html and "Link or merge…" in html
    assert f'href="/desk/tickets/{key}/split"' in html and "Split…" in html


def test_candidates_by_key_or_title_exclude_this_ticket_and_unseen_ones(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, other = _two(web, people)
    hidden = incident(web.service, people["requester"], title="Mail server down").ticket.key
    web.service.assign(people["admin"], hidden, team="field_service", assignee="")
    by_title = agent.get(f"/desk/tickets/{key}/relate/candidates?q=mail", headers=HTMX)
    assert by_title.status_code == 200
    assert (
        other in by_title.text and hidden not in by_title.text and f">{key}<" not in by_title.text
    )
    by_key = agent.get(f"/desk/tickets/{key}/relate?q={other.lower()}").text
    assert f'value="{other}" checked' in by_key  # the one match is chosen already


def test_link_at_once_and_listed_both_ways(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, other = _two(web, people)
    done = agent.post(
        f"/desk/tickets/{key}/relate",
        data={"target": other, "action": "blocked_by"},
        headers=_htmx(agent),
    )
    assert done.status_code == 200 and done.headers["HX-Retarget"] == "#ticket"
    assert "Linked." in done.text and f'Is blocked by <a href="/desk/tickets/{other}">' in done.text
    there = agent.get(f"/desk/tickets/{other}").text
    assert f'Blocks <a href="/desk/tickets/{key}">' in there


def test_merge_confirms_what_moves_where_then_merges(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    survivor, duplicate = _two(web, people)
    asked = agent.post(
        f"/desk/tickets/{duplicate}/relate",
        data={"target": survivor, "action": "merge_into"},
        headers=_htmx(agent),
    )
    assert asked.status_code == 200 and 'id="merge-confirm"' in asked.text
    assert f"Merge {duplicate} into {survivor}?" in asked.text
    assert f"{duplicate} “Mail client crashes as well” is closed" in asked.text
    assert web.service.get_ticket(people["agent"], duplicate).merged_into is None  # not yet

    merged = agent.post(
        f"/desk/tickets/{duplicate}/relate",
        data={"target": survivor, "action": "merge_into", "confirm": "1"},
        headers=_htmx(agent),
    )
    assert merged.headers["HX-Redirect"] == f"/desk/tickets/{survivor}"
    source = web.service.get_ticket(people["agent"], duplicate)
    assert (source.merged_into, source.state_category) == (survivor, "closed")
    page = agent.get(f"/desk/tickets/{survivor}").text
    assert f'Merged from <a href="/desk/tickets/{duplicate}">' in page
    closed = agent.get(f"/desk/tickets/{duplicate}")
    assert closed.status_code == 200 and f"Merged into {survivor}" in closed.text

    # The requester's own page of the merged ticket points to the survivor.
    requester = web.client("zhang.san@example.com")
    portal = requester.get(f"/portal/tickets/{duplicate}").text
    assert f"This request was merged into {survivor}" in portal
    assert f'href="/portal/tickets/{survivor}"' in portal


def test_merge_the_other_into_this_one_without_htmx(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    survivor, duplicate = _two(web, people)
    form = {"target": duplicate, "action": "merge_from", "confirm": "1"}
    merged = agent.send_form(f"/desk/tickets/{survivor}/relate", form)
    assert merged.status_code == 303 and merged.headers["location"] == f"/desk/tickets/{survivor}"
    assert web.service.get_ticket(people["agent"], duplicate).merged_into == survivor


def test_refusals_re_render_the_form_with_the_reason(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, other = _two(web, people)
    hidden = incident(web.service, people["requester"], title="Elsewhere").ticket.key
    web.service.assign(people["admin"], hidden, team="field_service", assignee="")

    def post(data: dict[str, str]) -> str:
        answer = agent.post(f"/desk/tickets/{key}/relate", data=data, headers=_htmx(agent))
        assert answer.status_code == 422, answer.text
        return answer.text

    assert "Choose the other ticket first." in post({"action": "relates"})
    assert "No ticket you may see has that key." in post({"target": hidden, "action": "relates"})
    assert "cannot be linked to itself" in post({"target": key, "action": "relates"})
    web.service.merge(people["agent"], other, key)
    again = post({"target": other, "action": "merge_from", "confirm": "1"})
    assert f"{other} is already merged" in again
    agent.send_form("/language", {"language": "zh-CN"})
    assert f"{other} 已被合并" in post({"target": other, "action": "merge_from", "confirm": "1"})


def test_outsiders_and_requesters_cannot_relate(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, other = _two(web, people)
    outsider = web.client("outsider@example.com")
    web.service.assign(people["agent"], key, team="service_desk")
    refused = outsider.post(
        f"/desk/tickets/{key}/relate",
        data={"target": other, "action": "relates"},
        headers=_htmx(outsider),
    )
    assert refused.status_code == 404
    requester = web.client("zhang.san@example.com")
    assert requester.get(f"/desk/tickets/{key}/relate").status_code in (303, 307)
    assert web.service.list_links(people["agent"], key) == []


def test_split_confirms_which_comments_move_then_opens_the_new_ticket(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, _ = _two(web, people)
    stays = web.service.add_comment(people["requester"], key, "Outlook crashes on start")
    moves = web.service.add_comment(people["requester"], key, "Also the calendar is empty")
    assert stays.comment is not None and moves.comment is not None
    form = agent.get(f"/desk/tickets/{key}/split", headers=HTMX).text
    assert f'name="comments" value="{moves.comment.id}"' in form

    empty = agent.post(f"/desk/tickets/{key}/split", data={"title": " "}, headers=_htmx(agent))
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text

    data = {"title": "Calendar is empty", "comments": [str(moves.comment.id)]}
    asked = agent.post(f"/desk/tickets/{key}/split", data=data, headers=_htmx(agent))
    assert asked.status_code == 200 and 'id="split-confirm"' in asked.text
    assert f"1 comment(s) move from {key} to the new ticket" in asked.text
    assert "Also the calendar is empty" in asked.text.split("stay on")[0]
    assert f"1 comment(s) stay on {key}" in asked.text
    assert len(web.service.list_tickets(people["agent"]).items) == 2  # nothing yet

    split = agent.post(
        f"/desk/tickets/{key}/split", data={**data, "confirm": "1"}, headers=_htmx(agent)
    )
    new_key = split.headers["HX-Redirect"].rsplit("/", 1)[1]
    assert [c.body for c in web.service.list_comments(people["agent"], new_key)] == [
        "Also the calendar is empty"
    ]
    assert [c.body for c in web.service.list_comments(people["agent"], key)] == [
        "Outlook crashes on start"
    ]
    page = agent.get(f"/desk/tickets/{new_key}").text
    assert f'Split from <a href="/desk/tickets/{key}">' in page


def test_a_portal_reply_to_a_closed_ticket_opens_the_follow_up_and_says_so(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, _ = _two(web, people)
    service = web.service
    service.assign(people["admin"], key, assignee="li.wei@example.com")
    service.take_transition(people["agent"], key, "start")
    service.take_transition(
        people["agent"], key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
    )
    requester = web.client("zhang.san@example.com")
    reopened = requester.send_form(f"/portal/tickets/{key}/reply", {"body": "Not fixed."})
    assert reopened.headers["location"] == f"/portal/tickets/{key}#conversation"
    assert service.get_ticket(people["agent"], key).state == "in_progress"

    service.take_transition(
        people["agent"], key, "resolve", fields={"resolution_code": "fixed"}, comment="Again."
    )
    service.take_transition(people["agent"], key, "close")
    answer = requester.send_form(f"/portal/tickets/{key}/reply", {"body": "Still broken!"})
    location = answer.headers["location"]
    assert location.endswith(f"?follow_up_of={key}") and f"/portal/tickets/{key}?" not in location
    page = requester.get(location).text
    assert f"{key} was already closed, so your reply started this new request" in page
    assert "Still broken!" in page
    new_key = location.split("/portal/tickets/")[1].split("?")[0]
    desk = agent.get(f"/desk/tickets/{new_key}").text
    assert f'Follow-up of <a href="/desk/tickets/{key}">' in desk


def test_a_portal_reply_to_a_merged_ticket_lands_on_the_survivor(
    web: Web, people: dict[str, Actor]
) -> None:
    survivor, duplicate = _two(web, people)
    web.service.merge(people["agent"], duplicate, survivor)
    requester = web.client("zhang.san@example.com")
    answer = requester.send_form(f"/portal/tickets/{duplicate}/reply", {"body": "Any news?"})
    assert answer.headers["location"] == f"/portal/tickets/{survivor}#conversation"
    assert "Any news?" in requester.get(f"/portal/tickets/{survivor}").text


def test_a_link_made_by_hand_can_be_removed_from_the_page(
    web: Web, people: dict[str, Actor], agent: Client
) -> None:
    key, other = _two(web, people)
    web.service.link(people["agent"], key, other, "blocks")
    third = incident(web.service, people["requester"], title="Third").ticket.key
    web.service.merge(people["agent"], third, key)
    page = agent.get(f"/desk/tickets/{key}").text
    assert page.count('action="/desk/tickets/' + key + '/unlink"') == 1  # not the merge
    assert f"Unlink {other}" in page
    done = agent.post(
        f"/desk/tickets/{key}/unlink",
        data={"target": other, "kind": "blocks"},
        headers=_htmx(agent),
    )
    assert done.status_code == 200 and "Unlinked." in done.text
    assert 'data-link="blocks"' not in done.text and 'data-link="merged_from"' in done.text
    assert [link.kind for link in web.service.list_links(people["agent"], other)] == []
