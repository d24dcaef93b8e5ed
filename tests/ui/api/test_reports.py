"""`/api/v1/reports`: the list for staff, a report's rows as JSON and as CSV (BOM,
header row, Chinese labels), filters from the query, 4xx JSON errors naming the
parameter, and requesters refused."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.ui.api.conftest import INCIDENT, Login


def make_tickets(admin: TestClient) -> None:
    for team, category in (
        ("service_desk", "software"),
        ("service_desk", "network"),
        ("field_service", "hardware"),
    ):
        fields = {**INCIDENT["fields"], "category": category}  # type: ignore[dict-item]
        if category == "hardware":
            fields["device_serial"] = "PC-12345"
        body = {**INCIDENT, "fields": fields, "team": team}
        assert admin.post("/api/v1/tickets", json=body).status_code == 201, body


def test_staff_list_the_reports_in_declared_order(admin: TestClient) -> None:
    listed = admin.get("/api/v1/reports")
    assert listed.status_code == 200
    first = listed.json()[0]
    assert first["id"] == "created_per_week" and first["chart"] == "stacked_bar"
    assert first["title"] == {"en": "Tickets created per week", "zh-CN": "每周新建工单"}
    assert [c["id"] for c in first["columns"]] == ["created_at_week", "type", "count"]


def test_a_report_as_json_with_filters(admin: TestClient) -> None:
    make_tickets(admin)
    got = admin.get("/api/v1/reports/incidents_by_category").json()
    assert got["id"] == "incidents_by_category"
    assert [c["id"] for c in got["columns"]] == ["category", "count"]
    assert got["rows"] == [["hardware", 1], ["network", 1], ["software", 1]]
    narrowed = admin.get(
        "/api/v1/reports/incidents_by_category?team=service_desk&fields.category=network"
    )
    assert narrowed.json()["rows"] == [["network", 1]]
    today = admin.get("/api/v1/reports/backlog_by_team?period=7d").json()
    assert today["rows"] == [["field_service", 1], ["service_desk", 2]]
    long_ago = admin.get("/api/v1/reports/backlog_by_team?from=2001-01-01&to=2001-12-31")
    assert long_ago.json()["rows"] == []


def test_a_report_as_csv_with_bom_header_and_chinese(admin: TestClient) -> None:
    make_tickets(admin)
    got = admin.get("/api/v1/reports/backlog_by_team?format=csv&lang=zh-CN")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert table[0] == ["团队", "工单数"]
    assert table[1:] == [["现场服务", "1"], ["IT 服务台", "2"]]


def test_bad_parameters_are_4xx_json_naming_them(admin: TestClient) -> None:
    cases = {
        "from=yesterday": "from",
        "to=2026-13-45": "to",
        "period=forever": "period",
        "type=it_incidnet": "type",
        "priority=highest": "priority",
        "fields.nope=1": "fields.nope",
        "from=2026-11-05&to=2026-11-01": "to",
        "colour=red": "colour",
        "format=xls": "format",
    }
    for query, name in cases.items():
        got = admin.get(f"/api/v1/reports/backlog_by_team?{query}")
        assert 400 <= got.status_code < 500, (query, got.status_code, got.text)
        assert name in got.json()["fields"], (query, got.json())
    assert admin.get("/api/v1/reports/nope").status_code == 404


def test_requesters_and_agents_of_other_teams(login: Login, admin: TestClient) -> None:
    make_tickets(admin)
    requester = login("zhang.san@example.com", "requester")
    assert requester.get("/api/v1/reports").status_code == 403
    assert requester.get("/api/v1/reports/backlog_by_team").status_code == 403
    fixer = login("zhao.lei@example.com", "agent", ("field_service",))
    assert fixer.get("/api/v1/reports/backlog_by_team").json()["rows"] == [["field_service", 1]]
