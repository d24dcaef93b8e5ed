"""Fixtures for the visual editors: the app on a copy of the example config (the
editors write into it) and an admin signed in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from gongdan.engine.store.database import Database
from gongdan.ui.app import create_app
from tests.bundles import EXAMPLE
from tests.ui.conftest import Client, Web, _url


@dataclass
class Editing:
    web: Web
    root: Path
    admin: Client

    def open(self, path: str) -> tuple[Any, dict[str, Any]]:
        """GET an editor page: the response and its form's fields as posted."""
        response = self.admin.get(path)
        assert response.status_code == 200, response.text
        return response, form_fields(response.text)

    def change(
        self, editor: str, fields: dict[str, Any], **more: Any
    ) -> tuple[Any, dict[str, Any]]:
        """POST the editor (as htmx does after a change): its re-rendered form."""
        data = {**fields, **more}
        response = self.admin.post(
            f"/admin/editors/{editor}/change",
            data=data,
            headers={"HX-Request": "true", "X-CSRF-Token": self.admin.csrf},
        )
        return response, form_fields(response.text)


_INPUT = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.S)
_ATTR = re.compile(r'([\w:-]+)(?:="([^"]*)")?')


def form_fields(html: str) -> dict[str, Any]:
    """The values the editor form would post (text inputs, selects' selected options,
    ticked checkboxes as lists, the hidden draft), like a browser."""
    start = html.find('id="editor-form"')
    end = html.find("</form>", start)
    body = html[start:end]
    out: dict[str, Any] = {}
    for match in _INPUT.finditer(body):
        tag, attrs = match.group(1), dict(_ATTR.findall(match.group(2)))
        name = attrs.get("name")
        if not name or name in ("_op", "_confirm"):
            continue
        if tag == "textarea":
            close = body.find("</textarea>", match.end())
            out[name] = unescape(body[match.end() : close])
        elif tag == "select":
            close = body.find("</select>", match.end())
            options = re.findall(r'<option value="([^"]*)"( selected)?', body[match.end() : close])
            chosen = [v for v, s in options if s] or [options[0][0] if options else ""]
            out[name] = unescape(chosen[0])
        elif attrs.get("type") == "checkbox":
            if "checked" in match.group(2):
                out.setdefault(name, []).append(unescape(attrs.get("value", "on")))
        elif attrs.get("type") != "submit":
            out[name] = unescape(attrs.get("value", ""))
    return out


@pytest.fixture
def editing(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Editing]:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GONGDAN_SECRET_KEY", raising=False)
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    app = create_app(root, database_url=_url(db))
    web = Web(app, app.state.db, app.state.service)
    web.user("admin@example.com", "admin")
    yield Editing(web, root, web.client("admin@example.com"))
    app.state.db.dispose()
