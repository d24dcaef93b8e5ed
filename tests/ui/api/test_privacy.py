"""No internal note and no internal field ever reaches a requester through the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from gongdan.bundle.compiled import Bundle
from gongdan.engine.store.database import Database
from tests.factories import make_user
from tests.ui.api.conftest import Login, api_app, token_for

RETURN = {
    "type": "after_sales",
    "title": "Return my laptop",
    "fields": {
        "order_number": "SO20260315000123",
        "product": "laptop",
        "purchase_date": "2026-10-20",
        "request_kind": "return",
        "reason": "changed_mind",
    },
}
SECRETS = ("SECRET-INSPECTION", "SECRET-NOTE", "refund_amount", "inspection_notes", "913.37")


def test_requester_never_sees_internal_fields_or_notes(admin: TestClient, login: Login) -> None:
    requester = login("mei@example.com", "requester")
    created = requester.post("/api/v1/tickets", json=RETURN)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    base = f"/api/v1/tickets/{key}"
    steps = [
        admin.post(f"{base}/transitions/accept", json={}),
        admin.post(f"{base}/transitions/receive", json={}),
        admin.patch(
            base,
            json={"fields": {"inspection_notes": "SECRET-INSPECTION", "under_warranty": True}},
            headers={"If-Match": "*"},
        ),
        admin.post(f"{base}/comments", json={"body": "SECRET-NOTE", "public": False}),
        admin.post(
            f"{base}/transitions/approve_refund",
            json={"fields": {"refund_amount": "913.37"}, "comment": "SECRET-NOTE", "public": False},
        ),
        admin.post(f"{base}/comments", json={"body": "Your refund is on its way."}),
    ]
    assert [s.status_code for s in steps] == [200, 200, 200, 201, 200, 201], [s.text for s in steps]
    staff_view = admin.get(base).json()
    assert staff_view["fields"]["refund_amount"] == "913.37"
    assert staff_view["state"] == "refunding"

    seen = [
        requester.get(base),
        requester.get("/api/v1/tickets"),
        requester.get(f"/api/v1/tickets?type=after_sales&state={staff_view['state']}"),
        requester.get(f"{base}/comments"),
        requester.get(f"{base}/events"),
        requester.get(f"{base}/transitions"),
        requester.get(f"{base}/sla"),
        requester.get("/api/v1/config/ticket-types/after_sales/schema"),
    ]
    for response in seen:
        assert response.status_code == 200, response.text
        text = json.dumps(response.json(), ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in text, (response.url, secret)
    assert seen[0].json()["state"] == "refunding"
    assert [c["body"] for c in seen[3].json()] == ["Your refund is on its way."]

    # Filtering on an internal field would reveal its value by elimination.
    probe = requester.get("/api/v1/tickets?fields.under_warranty=true&type=after_sales")
    assert probe.status_code == 422
    # And a requester cannot write one either.
    sneaky = requester.post(
        "/api/v1/tickets", json={**RETURN, "fields": {**RETURN["fields"], "refund_amount": "1.00"}}
    )
    assert sneaky.status_code == 422 and "refund_amount" in sneaky.json()["fields"]


def test_requester_does_not_see_how_routing_decided(
    db: Database, routed_bundle: Bundle, tmp_path: Path
) -> None:
    """Rule names and why an agent was picked are the desk's business (a rule may be
    named for the requester, "VIP requesters…"): a requester sees what routing changed,
    not its reasoning; staff see both."""
    app = api_app(db, routed_bundle, tmp_path / "attachments")

    def login(email: str, role: str) -> TestClient:
        make_user(db, email, role)
        return TestClient(app, headers={"Authorization": f"Bearer {token_for(db, email)}"})

    admin, requester = login("admin@example.com", "admin"), login("wen@example.com", "requester")
    created = requester.post(
        "/api/v1/tickets",
        json={"type": "it_incident", "title": "Excel crashes", "fields": {"category": "software"}},
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/tickets/{created.json()['key']}"
    moved = admin.patch(
        base,
        json={"fields": {"category": "hardware", "device_serial": "PC-2024-0815"}},
        headers={"If-Match": "*"},
    )
    assert moved.status_code == 200, moved.text

    staff = {e["kind"]: e for e in admin.get(f"{base}/events").json()}
    assert staff["ticket.created"]["detail"]["routing"]["rules"] == [
        "Software problems to the service desk"
    ]
    assert staff["ticket.routed"]["detail"]["rules"] == ["Hardware goes to field service"]

    events = requester.get(f"{base}/events")
    assert events.status_code == 200, events.text
    mine = {e["kind"]: e for e in events.json()}
    assert "routing" not in mine["ticket.created"]["detail"]
    assert mine["ticket.routed"]["detail"] == {}
    assert mine["ticket.routed"]["after"]["team"] == "field_service"  # what changed, still
    text = json.dumps(events.json(), ensure_ascii=False)
    for secret in ("Software problems", "Hardware goes", "round robin", "least loaded"):
        assert secret not in text, secret
