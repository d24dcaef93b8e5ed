"""Only admins reach the console: every `/admin` route of the app (enumerated from the
app itself, so a route added later is covered too), by GET and by POST, answers an
agent and a requester with a 404 (as if it did not exist) and sends a visitor who is
not signed in to the login page; an admin gets each page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from starlette.routing import Route

from tests.ui.admin.conftest import AGENT, Console

# A value for each path parameter of an admin route, naming something that exists.
SAMPLES = {
    "path": "teams/service_desk.yaml",
    "email": AGENT,
    "team_id": "service_desk",
    "token_id": "1",
    "name": "ticket_types",  # the visual editors: /admin/editors/{name}/{doc_id}
    "doc_id": "it_incident",
}


def every_route(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, in included routers too (FastAPI keeps an
    included router as one entry that holds its routes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from every_route(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Route):
            yield prefix + route.path, set(route.methods or ())


def admin_routes(console: Console) -> list[tuple[str, str]]:
    """(method, URL) of every admin route, path parameters filled in."""
    found = []
    for path, methods in every_route(console.web.app.routes):
        if not path.startswith("/admin"):
            continue
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "x"), path)
        for method in sorted(methods):
            if method != "HEAD":
                found.append((method, url))
    return found


def test_the_console_has_pages_and_actions_to_protect(console: Console) -> None:
    routes = admin_routes(console)
    assert ("GET", "/admin") in routes and ("POST", "/admin/files/save") in routes
    assert ("POST", f"/admin/people/{AGENT}/deactivate") in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_an_agent_or_requester_reaches_no_admin_page_or_action(console: Console, who: str) -> None:
    client = getattr(console, who)
    before = {p: p.read_bytes() for p in console.root.rglob("*.yaml")}
    for method, url in admin_routes(console):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.send_form(
                url, {"text": "kind: Team\nid: x\n", "path": "teams/x.yaml"}
            )
        assert response.status_code == 404, (who, method, url, response.status_code)
        assert "admin-nav" not in response.text
    assert {p: p.read_bytes() for p in console.root.rglob("*.yaml")} == before
    # The people stayed as they were.
    person = console.web.service.accounts.get_person(AGENT)
    assert person.active and person.role == "agent"


def test_a_visitor_is_sent_to_sign_in(console: Console) -> None:
    anonymous = console.web.client()
    for method, url in admin_routes(console):
        if method == "GET":
            response = anonymous.get(url)
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/login?next="
            ), url
        else:
            response = anonymous.send_form(url, {})
            assert response.status_code in (303, 403), (url, response.status_code)


def test_an_admin_gets_every_page(console: Console) -> None:
    for method, url in admin_routes(console):
        if method == "GET":
            response = console.admin.get(url)
            assert response.status_code == 200, (url, response.text[:300])
            assert "admin-nav" in response.text


def test_the_admin_link_shows_for_admins_only(console: Console) -> None:
    assert 'href="/admin"' in console.admin.get("/account").text
    assert 'href="/admin"' not in console.agent.get("/account").text
