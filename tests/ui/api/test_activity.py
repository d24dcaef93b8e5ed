"""Transitions, comments, events and the SLA explanation through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.api.conftest import INCIDENT, Login


def _new_incident(client: TestClient) -> str:
    response = client.post("/api/v1/tickets", json=INCIDENT)
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def test_transitions_listed_are_those_the_caller_may_take_now(
    admin: TestClient, login: Login
) -> None:
    requester = login("mei@example.com", "requester")
    key = _new_incident(requester)
    mine = requester.get(f"/api/v1/tickets/{key}/transitions").json()
    assert [t["id"] for t in mine] == ["withdraw"]
    assert mine[0]["comment"] == "optional" and mine[0]["to_category"] == "closed"
    assert mine[0]["label"] == {"en": "Withdraw", "zh-CN": "撤回"}
    agents = admin.get(f"/api/v1/tickets/{key}/transitions").json()
    # `resolve` needs an assignee first (its guard), so it is not offered yet.
    assert [t["id"] for t in agents] == ["start", "ask_requester"]
    assert agents[1]["comment"] == "required"
    assert admin.get("/api/v1/tickets/INC-404/transitions").status_code == 404


def test_taking_transitions_and_their_errors(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    login("li.wei@example.com", "agent")
    key = _new_incident(requester)
    url = f"/api/v1/tickets/{key}/transitions"

    not_theirs = requester.post(f"{url}/start", json={})
    assert not_theirs.status_code == 409
    assert not_theirs.json()["error"] == "transition_not_allowed"
    assert "agent" in not_theirs.json()["fields"]["transition"]
    unknown = admin.post(f"{url}/teleport", json={})
    assert unknown.status_code == 409
    no_comment = admin.post(f"{url}/ask_requester", json={"comment": "  "})
    assert no_comment.status_code == 422
    assert no_comment.json()["fields"] == {"comment": "is required for 'ask_requester'"}
    stale = admin.post(f"{url}/start", json={}, headers={"If-Match": '"99"'})
    assert stale.status_code == 412 and stale.json()["current_version"] >= 1

    started = admin.post(f"{url}/start", json={})
    assert started.status_code == 200
    assert started.json()["state"] == "in_progress"
    version = started.json()["version"]
    assigned = admin.patch(
        f"/api/v1/tickets/{key}",
        json={"assignee": "li.wei@example.com"},
        headers={"If-Match": str(version)},
    )
    assert assigned.status_code == 200
    bad_code = admin.post(
        f"{url}/resolve", json={"fields": {"resolution_code": "magic"}, "comment": "Done"}
    )
    assert bad_code.status_code == 422 and "resolution_code" in bad_code.json()["fields"]
    not_asked = admin.post(f"{url}/resolve", json={"fields": {"impact": "team"}, "comment": "x"})
    assert not_asked.status_code == 422 and "impact" in not_asked.json()["fields"]
    resolved = admin.post(
        f"{url}/resolve",
        json={"fields": {"resolution_code": "fixed"}, "comment": "Reinstalled Office."},
        headers={"If-Match": f'"{assigned.json()["version"]}"'},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["state"] == "resolved"
    assert resolved.json()["fields"]["resolution_code"] == "fixed"
    assert [t["id"] for t in requester.get(url).json()] == ["reopen", "close"]
    reopened = requester.post(f"{url}/reopen", json={"comment": "Crashed again."})
    assert reopened.status_code == 200 and reopened.json()["state"] == "in_progress"
    comments = requester.get(f"/api/v1/tickets/{key}/comments").json()
    assert [c["body"] for c in comments] == ["Reinstalled Office.", "Crashed again."]


def test_comments_and_internal_notes(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = _new_incident(requester)
    url = f"/api/v1/tickets/{key}/comments"
    note = admin.post(url, json={"body": "Known bug in build 4711.", "public": False})
    assert note.status_code == 201
    assert note.json()["public"] is False and note.json()["author"] == "admin@example.com"
    reply = admin.post(url, json={"body": "We are on it."})
    assert reply.status_code == 201 and reply.json()["public"] is True
    theirs = requester.post(url, json={"body": "Thanks!"})
    assert theirs.status_code == 201 and theirs.json()["ticket"] == key
    sneaky = requester.post(url, json={"body": "psst", "public": False})
    assert sneaky.status_code == 403
    empty = requester.post(url, json={"body": ""})
    assert empty.status_code == 422 and "body" in empty.json()["fields"]
    blank = requester.post(url, json={"body": "   "})
    assert blank.status_code == 422

    assert [c["body"] for c in admin.get(url).json()] == [
        "Known bug in build 4711.",
        "We are on it.",
        "Thanks!",
    ]
    assert [c["body"] for c in requester.get(url).json()] == ["We are on it.", "Thanks!"]
    stranger = login("stranger@example.com", "requester")
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, json={"body": "hi"}).status_code == 404


def test_events_hide_internal_ones_from_requesters(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    key = _new_incident(requester)
    admin.post(f"/api/v1/tickets/{key}/comments", json={"body": "note", "public": False})
    admin.post(f"/api/v1/tickets/{key}/comments", json={"body": "reply"})
    staff = admin.get(f"/api/v1/tickets/{key}/events").json()
    assert [e["kind"] for e in staff] == ["ticket.created", "comment.added", "comment.added"]
    assert [e["internal"] for e in staff] == [False, True, False]
    assert staff[0]["actor"] == "mei@example.com"
    theirs = requester.get(f"/api/v1/tickets/{key}/events").json()
    assert [e["internal"] for e in theirs] == [False, False]
    assert requester.get("/api/v1/tickets/INC-9/events").status_code == 404


def test_sla_explains_each_deadline_and_its_pause(admin: TestClient) -> None:
    key = _new_incident(admin)
    targets = admin.get(f"/api/v1/tickets/{key}/sla").json()
    by_target = {t["target"]: t for t in targets}
    assert set(by_target) == {"first_response", "resolution"}
    resolution = by_target["resolution"]
    assert resolution["status"] == "running" and resolution["calendar"] == "cn_business"
    counted = sum(i["seconds"] for i in resolution["intervals"])
    assert counted == resolution["remaining_seconds"] == resolution["budget_seconds"]
    assert resolution["intervals"][-1]["end"] == resolution["deadline"]
    assert "cn_business" in resolution["explanation"]["en"]
    assert "工作时间" in resolution["explanation"]["zh-CN"]
    ticket = admin.get(f"/api/v1/tickets/{key}").json()
    assert ticket["sla"]["resolution_due"] is not None

    admin.post(f"/api/v1/tickets/{key}/transitions/ask_requester", json={"comment": "Which PC?"})
    paused = {t["target"]: t for t in admin.get(f"/api/v1/tickets/{key}/sla").json()}
    assert paused["resolution"]["status"] == "paused"
    assert paused["resolution"]["deadline"] is None and paused["resolution"]["intervals"] == []
    assert "paused" in paused["resolution"]["explanation"]["en"]
    assert paused["first_response"]["status"] == "met"
    assert [p["end"] for p in paused["resolution"]["pauses"]] == [None]  # paused now
    assert len(paused["resolution"]["counted"]) == 1
    stretch = paused["resolution"]["counted"][0]
    assert stretch["seconds"] == paused["resolution"]["consumed_seconds"]
    assert stretch["end"] == paused["resolution"]["pauses"][0]["start"]
    assert admin.get("/api/v1/tickets/NOPE-1/sla").status_code == 404


def test_bodies_are_strict_json(admin: TestClient) -> None:
    key = _new_incident(admin)
    zero = admin.post(f"/api/v1/tickets/{key}/comments", json={"body": "x", "public": 0})
    assert zero.status_code == 422 and "public" in zero.json()["fields"]
