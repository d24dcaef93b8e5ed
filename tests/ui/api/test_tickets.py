"""Tickets through the API: create, list with filters and cursor pages, read, PATCH
with If-Match, and each error code those routes give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from gongdan.engine.store.database import Database
from gongdan.ui.api import MAX_JSON_BODY
from tests.sql import StatementRecorder, Statements
from tests.ui.api.conftest import INCIDENT, Login


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tickets", json={**INCIDENT, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_returns_201_with_key_state_version_and_sla_deadlines(admin: TestClient) -> None:
    response = admin.post(
        "/api/v1/tickets", json={**INCIDENT, "requester": "Li.Lei@Example.com", "tags": ["vip"]}
    )
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["key"] == "INC-1" and ticket["state"] == "new"
    assert ticket["requester"] == "li.lei@example.com"  # created as a requester
    assert ticket["fields"] == {"category": "software", "impact": "me"}
    assert ticket["tags"] == ["vip"]
    assert response.headers["Location"] == "/api/v1/tickets/INC-1"
    assert response.headers["ETag"] == f'"{ticket["version"]}"'
    sla = ticket["sla"]
    assert sla["policy"] == "it_standard"
    assert sla["first_response_due"].endswith("Z") and sla["resolution_due"].endswith("Z")
    assert sla["first_response_due"] < sla["resolution_due"]
    again = admin.get("/api/v1/tickets/INC-1")
    assert again.status_code == 200 and again.json() == ticket


def test_bad_bodies_are_400_or_422_naming_the_field(admin: TestClient) -> None:
    broken = admin.post(
        "/api/v1/tickets", content=b'{"type": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "bad_request"
    assert broken.json()["detail"].startswith("the body is not valid JSON")

    shape = admin.post("/api/v1/tickets", json={"type": 7, "fields": [], "colour": "red"})
    assert shape.status_code == 422
    body = shape.json()
    assert body["error"] == "validation_failed"
    assert set(body["fields"]) == {"type", "title", "fields", "colour"}

    unknown = admin.post("/api/v1/tickets", json={**INCIDENT, "type": "nope"})
    assert unknown.status_code == 422
    assert unknown.json() == {
        "error": "validation_failed",
        "detail": "unknown ticket type 'nope'",
        "fields": {"type": "unknown ticket type"},
    }

    hardware = admin.post(
        "/api/v1/tickets", json={**INCIDENT, "fields": {"category": "hardware", "impact": "me"}}
    )
    assert hardware.status_code == 422
    assert "device_serial" in hardware.json()["fields"]

    nul = admin.post("/api/v1/tickets", json={**INCIDENT, "title": "a\u0000b"})
    assert nul.status_code == 422 and "NUL" in nul.json()["fields"]["title"]
    nul_field = admin.post(
        "/api/v1/tickets", json={**INCIDENT, "fields": {"category": "software", "x\u0000": 1}}
    )
    assert nul_field.status_code == 422


def test_requesters_may_not_set_staff_things_or_create_agent_only_types(login: Login) -> None:
    requester = login("mei@example.com", "requester")
    priority = requester.post("/api/v1/tickets", json={**INCIDENT, "priority": "urgent"})
    assert priority.status_code == 403 and priority.json()["error"] == "forbidden"
    complaint = requester.post(
        "/api/v1/tickets",
        json={"type": "complaint", "title": "Rude courier", "fields": {"channel": "web"}},
    )
    assert complaint.status_code == 403
    for_someone = requester.post("/api/v1/tickets", json={**INCIDENT, "requester": "x@example.com"})
    assert for_someone.status_code == 403
    own = create(requester)
    assert own["requester"] == "mei@example.com"


def test_read_of_unknown_or_invisible_ticket_is_404(admin: TestClient, login: Login) -> None:
    create(admin)
    assert admin.get("/api/v1/tickets/INC-99").status_code == 404
    stranger = login("stranger@example.com", "requester")
    response = stranger.get("/api/v1/tickets/INC-1")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no ticket 'INC-1'", "fields": {}}
    assert stranger.get("/api/v1/tickets").json() == {"items": [], "next_cursor": None}


def test_list_filters_on_built_ins_custom_fields_and_text(admin: TestClient) -> None:
    create(
        admin,
        title="Printer jams on floor 3",
        fields={"category": "hardware", "impact": "me", "device_serial": "PRN-00042"},
    )
    create(admin, title="VPN drops", fields={"category": "network", "impact": "team"})
    create(admin, title="Excel macro broken", fields={"category": "software", "impact": "me"})

    def keys(query: str) -> list[str]:
        response = admin.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.text
        return [t["key"] for t in response.json()["items"]]

    assert keys("") == ["INC-3", "INC-2", "INC-1"]
    assert keys("sort=created_at") == ["INC-1", "INC-2", "INC-3"]
    assert keys("fields.category=hardware") == ["INC-1"]
    assert keys("fields.category=hardware&fields.category=network") == ["INC-2", "INC-1"]
    assert keys("fields.category.ne=software&sort=key") == ["INC-1", "INC-2"]
    assert keys("priority=high") == ["INC-2"]  # impact: team raises the priority
    assert keys("priority=high,normal&q=printer") == ["INC-1"]
    assert keys("state=new&type=it_incident&state_category=new") == ["INC-3", "INC-2", "INC-1"]
    assert keys("state=closed") == []
    assert keys("requester=admin@example.com&assignee=none") == ["INC-3", "INC-2", "INC-1"]

    unknown_field = admin.get("/api/v1/tickets?fields.colour=red")
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["fields"]
    bad_op = admin.get("/api/v1/tickets?fields.category.like=x")
    assert bad_op.status_code == 422
    bad_sort = admin.get("/api/v1/tickets?sort=-colour")
    assert bad_sort.status_code == 422 and "sort" in bad_sort.json()["fields"]
    bad_limit = admin.get("/api/v1/tickets?limit=0")
    assert bad_limit.status_code == 422 and "limit" in bad_limit.json()["fields"]
    typo = admin.get("/api/v1/tickets?stat=new")
    assert typo.status_code == 422
    assert typo.json()["fields"] == {"stat": "is not a parameter of this operation"}
    twice = admin.get("/api/v1/tickets?state=new&state=closed")
    assert twice.status_code == 422 and "once" in twice.json()["fields"]["state"]
    bad_cursor = admin.get("/api/v1/tickets?cursor=not-a-cursor")
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json()["fields"]


def test_cursor_pages_walk_every_ticket_once(admin: TestClient) -> None:
    for n in range(23):
        create(admin, title=f"Ticket {n}")
    for sort in ("-created_at", "key", "-priority", "updated_at"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            query = f"/api/v1/tickets?limit=5&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            page = admin.get(query).json()
            seen += [t["key"] for t in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 5
        assert len(seen) == len(set(seen)) == 23, sort


def test_patch_needs_if_match_and_refuses_a_stale_version(admin: TestClient) -> None:
    ticket = create(admin)
    url = f"/api/v1/tickets/{ticket['key']}"
    missing = admin.patch(url, json={"title": "New title"})
    assert missing.status_code == 428
    assert missing.json()["error"] == "precondition_required"

    version = ticket["version"]
    ok = admin.patch(
        url,
        json={"title": "New title", "priority": "high", "fields": {"impact": "team"}},
        headers={"If-Match": f'"{version}"'},
    )
    assert ok.status_code == 200, ok.text
    changed = ok.json()
    assert changed["title"] == "New title" and changed["priority"] == "high"
    assert changed["fields"]["impact"] == "team"
    assert changed["version"] == version + 1
    assert ok.headers["ETag"] == f'"{version + 1}"'

    stale = admin.patch(url, json={"title": "Lost update"}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412
    assert stale.json()["error"] == "precondition_failed"
    assert stale.json()["current_version"] == version + 1
    assert stale.headers["ETag"] == f'"{version + 1}"'
    assert admin.get(url).json()["title"] == "New title"

    garbage = admin.patch(url, json={"title": "x"}, headers={"If-Match": "yesterday"})
    assert garbage.status_code == 412
    anything = admin.patch(url, json={"tags": ["a"]}, headers={"If-Match": "*"})
    assert anything.status_code == 200 and anything.json()["tags"] == ["a"]


def test_patch_assigns_and_refuses_what_it_cannot_change(admin: TestClient, login: Login) -> None:
    login("li.wei@example.com", "agent", teams=("field_service",))
    ticket = create(admin)
    url = f"/api/v1/tickets/{ticket['key']}"
    assigned = admin.patch(
        url,
        json={"team": "field_service", "assignee": "li.wei@example.com"},
        headers={"If-Match": str(ticket["version"])},
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["team"] == "field_service"
    assert assigned.json()["assignee"] == "li.wei@example.com"
    version = assigned.json()["version"]
    cleared = admin.patch(url, json={"assignee": None}, headers={"If-Match": str(version)})
    assert cleared.status_code == 200 and cleared.json()["assignee"] is None

    headers = {"If-Match": "*"}
    state = admin.patch(url, json={"fields": {"state": "closed"}}, headers=headers)
    assert state.status_code == 422 and "state" in state.json()["fields"]
    empty = admin.patch(url, json={}, headers=headers)
    assert empty.status_code == 422
    bad_team = admin.patch(url, json={"team": "nope"}, headers=headers)
    assert bad_team.status_code == 422 and "team" in bad_team.json()["fields"]


def test_one_patch_changes_fields_and_assignment_together_or_nothing(
    admin: TestClient, login: Login
) -> None:
    login("li.wei@example.com", "agent", teams=("field_service",))
    ticket = create(admin)
    url = f"/api/v1/tickets/{ticket['key']}"
    both = admin.patch(
        url,
        json={"title": "Printer on fire", "priority": "high", "team": "field_service",
              "assignee": "li.wei@example.com"},
        headers={"If-Match": str(ticket["version"])},
    )  # fmt: skip
    assert both.status_code == 200, both.text
    body = both.json()
    assert (body["title"], body["priority"]) == ("Printer on fire", "high")
    assert (body["team"], body["assignee"]) == ("field_service", "li.wei@example.com")
    assert both.headers["ETag"] == f'"{body["version"]}"'
    assert admin.get(url).json()["version"] == body["version"]
    # A bad assignee: the title given with it is not stored either.
    refused = admin.patch(
        url,
        json={"title": "Half done?", "assignee": "nobody@example.com"},
        headers={"If-Match": str(body["version"])},
    )
    assert refused.status_code == 422 and "assignee" in refused.json()["fields"]
    now = admin.get(url).json()
    assert (now["title"], now["version"]) == ("Printer on fire", body["version"])
    # A stale version: neither is applied.
    stale = admin.patch(
        url, json={"title": "Late", "assignee": None}, headers={"If-Match": str(ticket["version"])}
    )
    assert stale.status_code == 412
    assert admin.get(url).json()["assignee"] == "li.wei@example.com"


def test_an_oversized_json_body_is_413_before_it_is_read(admin: TestClient) -> None:
    big = {**INCIDENT, "description": "x" * (MAX_JSON_BODY + 10)}
    response = admin.post("/api/v1/tickets", json=big)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"
    assert admin.get("/api/v1/tickets").json()["items"] == []

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"type": "it_incident", "title": "Chunked", "description": "'
        for _ in range(2 * MAX_JSON_BODY // 65536):
            yield b"y" * 65536
        yield b'"}'

    chunked = admin.post(
        "/api/v1/tickets", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413 and chunked.json()["error"] == "payload_too_large"
    fine = create(admin, description="z" * 90_000)  # a long description still goes in
    assert fine["key"]

    # Every operation that takes a JSON body answers so, and its OpenAPI says it may.
    base = f"/api/v1/tickets/{fine['key']}"
    too_big = {"description": "x" * (MAX_JSON_BODY + 10)}
    for method, url in [
        ("PATCH", base),
        ("POST", f"{base}/comments"),
        ("POST", f"{base}/transitions/start"),
    ]:
        refused = admin.request(method, url, json=too_big, headers={"If-Match": "*"})
        assert refused.status_code == 413, (method, url, refused.text)
    spec = admin.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "413" in operation["responses"], (method, path)


def test_requesters_cannot_patch(login: Login) -> None:
    requester = login("mei@example.com", "requester")
    ticket = create(requester)
    response = requester.patch(
        f"/api/v1/tickets/{ticket['key']}", json={"title": "x"}, headers={"If-Match": "*"}
    )
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_nul_in_a_path_or_query_parameter_is_422(admin: TestClient) -> None:
    for url in (
        "/api/v1/tickets?priority=%00",
        "/api/v1/tickets/INC%00-1",
        "/api/v1/tickets?fields.a%00=1",
    ):
        response = admin.get(url)
        assert response.status_code == 422, url
        assert response.json()["error"] == "validation_failed"


def test_a_list_page_costs_the_same_queries_for_5_or_25_tickets(
    admin: TestClient, db: Database, statements: StatementRecorder
) -> None:
    def page_cost() -> Statements:
        with statements.recording(db) as seen:
            assert admin.get("/api/v1/tickets?limit=50").status_code == 200
        # The token's last use is refreshed once a minute: not a cost of the page.
        return seen.excluding("update", table="api_tokens")

    for n in range(5):
        create(admin, title=f"Ticket {n}", requester=f"r{n}@example.com")
    few = page_cost()
    for n in range(5, 25):
        create(admin, title=f"Ticket {n}", requester=f"r{n}@example.com")
    many = page_cost()
    # Token with user and teams (1), tickets, their people; the page's merge targets none.
    assert few.kinds() == many.kinds() == {"select": 3}, many
