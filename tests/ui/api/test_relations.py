"""Merge, links and split through the API: staff only, both tickets visible, errors as
`{error, detail, fields}`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.api.conftest import INCIDENT, Login


def _new(client: TestClient, title: str = "Outlook keeps crashing") -> str:
    response = client.post("/api/v1/tickets", json={**INCIDENT, "title": title})
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def test_merge_closes_the_source_and_answers_the_survivor(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    survivor, duplicate = _new(requester, "Mail down"), _new(requester, "Mail down again")
    refused = requester.post(f"/api/v1/tickets/{duplicate}/merge", json={"into": survivor})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"

    merged = admin.post(f"/api/v1/tickets/{duplicate}/merge", json={"into": survivor})
    assert merged.status_code == 200, merged.text
    assert merged.json()["key"] == survivor
    source = requester.get(f"/api/v1/tickets/{duplicate}").json()
    assert (source["merged_into"], source["state_category"]) == (survivor, "closed")
    links = admin.get(f"/api/v1/tickets/{survivor}/links").json()
    assert [(link["type"], link["ticket"]) for link in links] == [("merged_from", duplicate)]

    again = admin.post(f"/api/v1/tickets/{duplicate}/merge", json={"into": survivor})
    assert again.status_code == 409 and "already merged" in again.json()["detail"]
    itself = admin.post(f"/api/v1/tickets/{survivor}/merge", json={"into": survivor})
    assert itself.status_code == 422 and "target" in itself.json()["fields"]
    missing = admin.post(f"/api/v1/tickets/{survivor}/merge", json={"into": "INC-404"})
    assert missing.status_code == 404
    bad_body = admin.post(f"/api/v1/tickets/{survivor}/merge", json={"to": duplicate})
    assert bad_body.status_code == 422


def test_merge_with_a_stale_if_match_is_412(admin: TestClient) -> None:
    a, b = _new(admin), _new(admin)
    stale = admin.post(f"/api/v1/tickets/{a}/merge", json={"into": b}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1


def test_links_in_every_reading(admin: TestClient) -> None:
    a, b, c, d = (_new(admin, f"Ticket {n}") for n in range(4))
    assert admin.get(f"/api/v1/tickets/{a}/links").json() == []
    made = admin.post(f"/api/v1/tickets/{a}/links", json={"type": "relates_to", "ticket": b})
    assert made.status_code == 201
    assert made.json() == [{"type": "relates_to", "ticket": b, "title": "Ticket 1", "state": "new"}]
    admin.post(f"/api/v1/tickets/{a}/links", json={"type": "blocked_by", "ticket": c})
    admin.post(f"/api/v1/tickets/{a}/links", json={"type": "parent_of", "ticket": d})
    seen = {(x["type"], x["ticket"]) for x in admin.get(f"/api/v1/tickets/{a}/links").json()}
    assert seen == {("relates_to", b), ("blocked_by", c), ("parent_of", d)}
    # The other ends read them the other way round.
    assert admin.get(f"/api/v1/tickets/{c}/links").json()[0]["type"] == "blocks"
    assert admin.get(f"/api/v1/tickets/{d}/links").json()[0]["type"] == "child_of"
    assert admin.get(f"/api/v1/tickets/{b}/links").json()[0]["type"] == "relates_to"

    unknown = admin.post(f"/api/v1/tickets/{a}/links", json={"type": "causes", "ticket": b})
    assert unknown.status_code == 422 and "type" in unknown.json()["fields"]
    itself = admin.post(f"/api/v1/tickets/{a}/links", json={"type": "blocks", "ticket": a})
    assert itself.status_code == 422


def test_staff_outside_a_team_cannot_link_or_list(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    outsider = login("yang.lei@example.com", "agent", teams=("field_service",))
    a, b = _new(requester), _new(requester)
    for key in (a, b):
        moved = admin.patch(
            f"/api/v1/tickets/{key}", json={"team": "service_desk"}, headers={"If-Match": "*"}
        )
        assert moved.status_code == 200, moved.text
    link = {"type": "relates_to", "ticket": b}
    assert outsider.post(f"/api/v1/tickets/{a}/links", json=link).status_code == 404
    assert outsider.get(f"/api/v1/tickets/{a}/links").status_code == 404
    assert outsider.post(f"/api/v1/tickets/{a}/merge", json={"into": b}).status_code == 404
    assert requester.get(f"/api/v1/tickets/{a}/links").status_code == 403
    assert requester.post(f"/api/v1/tickets/{a}/links", json=link).status_code == 403


def test_split_moves_the_comments_named_and_answers_201(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = _new(requester)
    first = requester.post(f"/api/v1/tickets/{key}/comments", json={"body": "Crash on start"})
    second = requester.post(f"/api/v1/tickets/{key}/comments", json={"body": "Calendar too"})
    moving = second.json()["id"]
    split = admin.post(
        f"/api/v1/tickets/{key}/split",
        json={"title": "Calendar does not sync", "comments": [moving]},
    )
    assert split.status_code == 201, split.text
    new = split.json()
    assert split.headers["Location"] == f"/api/v1/tickets/{new['key']}"
    assert (new["type"], new["requester"]) == ("it_incident", "mei@example.com")
    assert [c["id"] for c in admin.get(f"/api/v1/tickets/{key}/comments").json()] == [
        first.json()["id"]
    ]
    moved = requester.get(f"/api/v1/tickets/{new['key']}/comments").json()
    assert [c["body"] for c in moved] == ["Calendar too"]
    links = admin.get(f"/api/v1/tickets/{key}/links").json()
    assert [(x["type"], x["ticket"]) for x in links] == [("split_into", new["key"])]

    wrong = admin.post(
        f"/api/v1/tickets/{key}/split", json={"title": "x", "comments": [moving]}
    )  # that comment has moved away
    assert wrong.status_code == 422 and "comments" in wrong.json()["fields"]
    assert requester.post(f"/api/v1/tickets/{key}/split", json={"title": "x"}).status_code == 403
    assert admin.post(f"/api/v1/tickets/{key}/split", json={"title": ""}).status_code == 422


def test_split_with_an_id_no_comment_can_have_is_a_422(admin: TestClient) -> None:
    key = _new(admin)
    huge = admin.post(f"/api/v1/tickets/{key}/split", json={"title": "x", "comments": [2**70]})
    assert huge.status_code == 422 and "comments" in huge.json()["fields"]


def test_unlinking_in_either_reading_and_merges_stay(admin: TestClient, login: Login) -> None:
    a, b, c = (_new(admin, f"Ticket {n}") for n in range(3))
    admin.post(f"/api/v1/tickets/{a}/links", json={"type": "relates_to", "ticket": b})
    admin.post(f"/api/v1/tickets/{a}/links", json={"type": "blocked_by", "ticket": c})
    # "relates to" reads the same from both ends: removable from the other one.
    gone = admin.delete(f"/api/v1/tickets/{b}/links/{a}")
    assert gone.status_code == 200 and gone.json() == []
    # C blocks A, stored once: removed from A as "blocked_by" or from C as "blocks".
    assert admin.delete(f"/api/v1/tickets/{a}/links/{c}?type=blocks").status_code == 404
    assert admin.delete(f"/api/v1/tickets/{c}/links/{a}?type=blocks").json() == []
    assert admin.get(f"/api/v1/tickets/{a}/links").json() == []
    assert admin.delete(f"/api/v1/tickets/{a}/links/{c}?type=causes").status_code == 422
    admin.post(f"/api/v1/tickets/{a}/merge", json={"into": b})
    merged = admin.delete(f"/api/v1/tickets/{a}/links/{b}?type=merged_into")
    assert merged.status_code == 422  # history, not a link made by hand
    requester = login("mei@example.com", "requester")
    assert requester.delete(f"/api/v1/tickets/{a}/links/{b}").status_code == 403
    events = admin.get(f"/api/v1/tickets/{c}/events").json()
    assert any(e["kind"] == "ticket.unlinked" for e in events)
