"""The seams of the web layer: one table turns each engine error into the same status
and code on an HTML page and in the API, and route functions get what they need from
the dependencies of `ui.deps` (never from `app.state`, never by opening a database
session themselves).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from gongdan.errors import (
    ConfigError,
    ConfigIssue,
    Conflict,
    GongdanError,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)
from gongdan.ui.api.errors import ApiRoute
from gongdan.ui.errors import ENGINE_ERRORS, install_error_handlers

UI = Path(__file__).parents[2] / "platform" / "ui"
ROUTES = sorted(
    p
    for p in [*(UI / "routes").rglob("*.py"), *(UI / "api").glob("*.py"), UI / "app.py"]
    if p.name != "deps.py"
)

ERRORS: list[GongdanError] = [
    NotFound("no ticket 'X-1'"),
    PermissionDenied("only agents may do this"),
    TransitionNotAllowed("X-1: 'start' cannot be taken now", {"transition": "not now"}),
    Conflict("X-1 was changed by someone else"),
    ValidationFailed("the title is required", {"title": "is required"}),
    ConfigError([ConfigIssue("a.yaml", 1, 1, "id", "bad")]),
]


def _app(error: GongdanError) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    api = APIRouter(route_class=ApiRoute)

    @app.get("/page")
    def page() -> None:
        raise error

    @api.get("/api/v1/thing")
    def thing() -> None:
        raise error

    app.include_router(api)
    return app


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_engine_error_is_the_same_status_on_a_page_and_in_the_api(error: GongdanError) -> None:
    [kind] = [kind for cls, kind in ENGINE_ERRORS if type(error) is cls]
    client = TestClient(_app(error))
    page, answer = client.get("/page"), client.get("/api/v1/thing")
    assert page.status_code == answer.status_code == kind.status
    assert "text/html" in page.headers["content-type"]
    assert answer.json()["error"] == kind.code and answer.json()["detail"] == str(error)


def _offenders(path: Path) -> list[tuple[str, str, str]]:
    """(file, function, what) for each function of `path` that reads `app.state` or
    opens a database session (`reading`, `transaction`, `read_once`)."""
    found = []
    name = str(path.relative_to(UI))
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if not isinstance(inner, ast.Attribute):
                continue
            value = inner.value
            if inner.attr == "state" and isinstance(value, ast.Attribute) and value.attr == "app":
                found.append((name, node.name, "app.state"))
            if inner.attr in ("reading", "transaction", "read_once"):
                found.append((name, node.name, inner.attr))
    return found


def test_routes_get_what_they_need_from_the_dependencies() -> None:
    offenders = [o for path in ROUTES for o in _offenders(path)]
    assert offenders == []
