"""No internal note and no internal field ever reaches a requester through the API."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.ui.api.conftest import Login

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
