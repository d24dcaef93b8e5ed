"""The desk's "new ticket" pages: choosing a type, fields shown and hidden by the server
as the agent types, inline checks, every error at once, uploads and downloads."""

from __future__ import annotations

import re

import pytest

from gongdan.rules.workflow import Actor
from tests.ui.conftest import Client, Web


@pytest.fixture
def agent(web: Web) -> Client:
    web.user("li.wei@example.com", "agent", teams=("service_desk", "field_service"))
    return web.client("li.wei@example.com")


def htmx(client: Client, trigger: str | None = None) -> dict[str, str]:
    headers = {"HX-Request": "true", "X-CSRF-Token": client.csrf}
    if trigger:
        headers["HX-Trigger-Name"] = trigger
    return headers


def test_choose_a_type(agent: Client) -> None:
    page = agent.get("/desk/new")
    assert page.status_code == 200
    assert 'href="/desk/new/it_incident"' in page.text and "IT incident" in page.text


def test_the_serial_field_appears_only_for_hardware(agent: Client) -> None:
    page = agent.get("/desk/new/it_incident").text
    assert re.search(r'<div class="field field-text" id="new-device_serial" hidden>', page)
    shown = agent.post(
        "/desk/new/it_incident/check",
        data={"title": "", "category": "hardware", "impact": "me"},
        headers=htmx(agent, "category"),
    )
    assert shown.status_code == 200
    swap = re.search(r'<div class="field[^"]*" id="new-device_serial"([^>]*)>', shown.text)
    assert swap and "hidden" not in swap.group(1) and 'hx-swap-oob="outerHTML"' in swap.group(1)
    assert 'name="device_serial"' in shown.text and 'aria-required="true"' in shown.text
    # Only the dependents and the changed field's error are sent: focus stays put.
    assert 'id="new-category-input"' not in shown.text
    assert "is required" not in shown.text  # a field just revealed starts clean
    hidden = agent.post(
        "/desk/new/it_incident/check",
        data={"category": "software", "device_serial": "X"},
        headers=htmx(agent, "category"),
    )
    assert re.search(r'id="new-device_serial" hidden hx-swap-oob="outerHTML"', hidden.text)


def test_leaving_a_field_checks_it_alone(agent: Client) -> None:
    response = agent.post(
        "/desk/new/it_incident/check",
        data={"title": "", "category": "hardware", "device_serial": "bad serial"},
        headers=htmx(agent, "device_serial"),
    )
    error = re.search(
        r'<p class="field-error" id="new-device_serial-error"[^>]*>(.*?)</p>', response.text
    )
    assert error and "must look like" in error.group(1)
    assert "new-title-error" not in response.text  # the title was not touched


def test_submit_shows_every_error_and_keeps_the_input(agent: Client) -> None:
    response = agent.post(
        "/desk/new/it_incident",
        data={
            "title": "",
            "description": "It beeps",
            "category": "hardware",
            "device_serial": "bad",
        },
        headers=htmx(agent),
    )
    assert response.status_code == 422
    html = response.text
    assert "<html" not in html and html.lstrip().startswith("<form")
    for field_id in ("title", "device_serial"):
        error = re.search(rf'id="new-{field_id}-error">(.*?)</p>', html, re.S)
        assert error and error.group(1).strip(), field_id
    assert ">It beeps</textarea>" in html and 'value="bad"' in html
    assert 'value="hardware" selected' in html


def test_create_and_land_on_the_ticket(web: Web, agent: Client) -> None:
    response = agent.post(
        "/desk/new/it_incident",
        data={
            "title": "Laptop will not boot",
            "category": "hardware",
            "device_serial": "PC-2024-0815",
            "impact": "me",
            "priority": "high",
        },
        headers=htmx(agent),
    )
    assert response.status_code == 204
    target = response.headers["HX-Redirect"]
    assert re.fullmatch(r"/desk/tickets/INC-\d+", target)
    ticket = web.service.get_ticket(Actor.system(), target.rsplit("/", 1)[1])
    assert ticket.title == "Laptop will not boot" and ticket.priority == "high"
    assert ticket.data["device_serial"] == "PC-2024-0815"
    assert agent.get(target).status_code == 200


def test_create_without_javascript(agent: Client) -> None:
    response = agent.send_form(
        "/desk/new/it_incident",
        {"title": "Wi-Fi drops", "category": "network", "impact": "me"},
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/desk/tickets/")


def test_upload_then_create_then_download(web: Web, agent: Client) -> None:
    uploaded = agent.post(
        "/desk/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("error.txt", b"BSOD 0x0000007B", "text/plain")},
        headers=htmx(agent),
    )
    assert uploaded.status_code == 200
    file_id = re.search(r'name="screenshots" value="([\w-]+)"', uploaded.text).group(1)
    created = agent.post(
        "/desk/new/it_incident",
        data={
            "title": "Blue screen",
            "category": "software",
            "impact": "me",
            "screenshots": [file_id],
        },
        headers=htmx(agent),
    )
    key = created.headers["HX-Redirect"].rsplit("/", 1)[1]
    page = agent.get(f"/desk/tickets/{key}").text
    assert f'href="/desk/attachments/{file_id}">error.txt' in page
    download = agent.get(f"/desk/attachments/{file_id}")
    assert download.status_code == 200 and download.content == b"BSOD 0x0000007B"
    assert "attachment;" in download.headers["content-disposition"]


def test_a_refused_upload_says_why_under_the_field(agent: Client) -> None:
    response = agent.post(
        "/desk/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("tool.exe", b"MZ", "application/x-msdownload")},
        headers=htmx(agent),
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#new-screenshots-error"
    assert "must be one of these file types" in response.text


def test_attachment_of_a_ticket_one_may_not_see_is_404(web: Web, agent: Client) -> None:
    web.user("outsider@example.com", "agent", teams=("after_sales",))
    uploaded = agent.post(
        "/desk/new/it_incident/upload/screenshots",
        files={"screenshots__upload": ("a.txt", b"secret", "text/plain")},
        headers=htmx(agent),
    )
    file_id = re.search(r'value="([\w-]+)"', uploaded.text).group(1)
    agent.post(
        "/desk/new/it_incident",
        data={"title": "x", "category": "software", "impact": "me", "screenshots": [file_id]},
        headers=htmx(agent),
    )
    other = web.client("outsider@example.com")
    assert other.get(f"/desk/attachments/{file_id}").status_code == 404


def test_bad_input_is_never_a_server_error(agent: Client) -> None:
    headers = htmx(agent)
    posts = [
        ("/desk/new/it_incident", {"title": "x" * 5000, "category": ["hardware", "software"]}),
        (
            "/desk/new/it_incident",
            {
                "title": "ok",
                "category": "software",
                "impact": "me",
                "screenshots": ["../../etc/passwd"],
            },
        ),
        (
            "/desk/new/it_incident",
            {"title": "\x00", "category": "nope", "priority": "extreme", "team": "ghosts"},
        ),
        (
            "/desk/new/it_incident",
            {"title": "ok", "category": "software", "impact": "me", "requester": "not an email"},
        ),
        (
            "/desk/new/it_incident",
            {
                "title": "nul \x00 here",
                "description": "and \x00",
                "category": "software",
                "impact": "me",
            },
        ),
        ("/desk/new/it_incident/check", {"category": "hardware"}),
        ("/desk/new/it_incident/upload/not_a_field", {}),
        ("/desk/new/no_such_type", {"title": "x"}),
        ("/desk/tickets/INC-1/transitions/teleport", {"comment": "x"}),
        ("/desk/tickets/NOPE-1/fields", {"version": "x"}),
    ]
    for path, data in posts:
        response = agent.post(path, data=data, headers=headers)
        assert response.status_code < 500, (path, response.status_code, response.text[:500])
    for path in (
        "/desk/attachments/not-a-number",
        "/desk/attachments/99999999",
        "/desk/tickets/%00",
    ):
        response = agent.get(path)
        assert 400 <= response.status_code < 500, path
        assert "text/html" in response.headers["content-type"]
    garbled = agent.post(
        "/desk/new/it_incident/upload/screenshots",
        content=b"--x\r\nnot really multipart",
        headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert garbled.status_code < 500
