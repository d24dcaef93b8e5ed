"""Field widgets: every field type renders with its label, help, placeholder, required
marker, current value, error and accessible ids, in English and Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gongdan.forms.fields import FIELD_TYPES
from gongdan.ui.app import create_app
from tests.bundles import make_bundle
from tests.factories import make_user
from tests.ui.conftest import PASSWORD, Client, page_token

ALL_TYPES = """\
kind: TicketType
id: everything
name: {en: Everything, zh-CN: 全部字段}
key_prefix: EV
workflow: basic
fields:
  - {id: f_text, type: text, label: {en: Text field, zh-CN: 文本字段}, help: {en: Some help, zh-CN: 帮助}, placeholder: {en: type here, zh-CN: 在此输入}, required: true}
  - {id: f_textarea, type: textarea, label: Textarea field}
  - {id: f_markdown, type: markdown, label: Markdown field}
  - {id: f_number, type: number, label: Number field, min: 0}
  - {id: f_integer, type: integer, label: Integer field}
  - {id: f_decimal, type: decimal, label: Decimal field, scale: 2}
  - {id: f_boolean, type: boolean, label: Boolean field}
  - {id: f_date, type: date, label: Date field}
  - {id: f_datetime, type: datetime, label: Datetime field}
  - {id: f_select, type: select, label: Select field, options: [{value: a, label: {en: Apple, zh-CN: 苹果}}, b]}
  - {id: f_multiselect, type: multiselect, label: Multiselect field, options: [x, y, z]}
  - {id: f_email, type: email, label: Email field}
  - {id: f_phone, type: phone, label: Phone field}
  - {id: f_url, type: url, label: Url field}
  - {id: f_user, type: user, label: User field}
  - {id: f_team, type: team, label: Team field}
  - {id: f_attachment, type: attachment, label: Attachment field, multiple: true, max_size_mb: 2}
  - {id: approver, type: user, label: Approver}
  - {id: amount, type: number, label: Amount}
  - {id: f_shown_if, type: text, label: Conditional field, visible_if: {f_select: a}, required_if: {f_select: a}}
forms:
  create:
    - section: {en: All of them, zh-CN: 全部}
      fields: [title, f_text, f_textarea, f_markdown, f_number, f_integer, f_decimal, f_boolean,
               f_date, f_datetime, f_select, f_multiselect, f_email, f_phone, f_url, f_user,
               f_team, f_attachment, f_shown_if]
"""


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    root = make_bundle(tmp_path, {"ticket_types/everything.yaml": ALL_TYPES})
    app = create_app(root, database_url=f"sqlite:///{tmp_path / 'g.db'}")
    make_user(app.state.db, "agent@example.com", "agent", teams=("desk",), password=PASSWORD)
    client = Client(app, follow_redirects=False)
    client.refresh_csrf("/login")
    client.send_form("/login", {"email": "agent@example.com", "password": PASSWORD})
    client.refresh_csrf("/desk/new")
    return client


def _field(html: str, field_id: str) -> str:
    match = re.search(rf'<div class="field[^"]*" id="new-{field_id}".*?</div>\n', html, re.S)
    assert match, f"no field {field_id}"
    return match.group(0)


def test_every_field_type_has_a_widget_template() -> None:
    templates = Path(__file__).parents[2] / "platform" / "ui" / "templates"
    for name, field_type in FIELD_TYPES.items():
        assert (templates / field_type.template).exists(), name


def test_every_type_renders_label_ids_and_aria(client: Client) -> None:
    html = client.get("/desk/new/everything").text
    for field_id in (f"f_{name}" for name in FIELD_TYPES):
        widget = _field(html, field_id)
        assert f'id="new-{field_id}-error"' in widget, field_id
        assert f"new-{field_id}-error" in re.search(r'aria-describedby="([^"]*)"', widget).group(1)
        assert " field" in widget.lower(), field_id  # its label


def test_label_help_placeholder_and_required_marker(client: Client) -> None:
    html = client.get("/desk/new/everything").text
    text = _field(html, "f_text")
    assert '<label for="new-f_text-input">Text field' in text
    assert 'class="req"' in text and 'aria-required="true"' in text
    assert 'id="new-f_text-help">Some help' in text and 'placeholder="type here"' in text
    assert "(required)" in text
    assert 'class="req"' not in _field(html, "f_textarea")
    client.send_form("/language", {"language": "zh-CN"})
    chinese = client.get("/desk/new/everything").text
    assert "文本字段" in chinese and "在此输入" in chinese and "苹果" in chinese
    assert "全部字段" in chinese and "（必填）" not in chinese and "(必填)" in chinese


def test_widgets_fit_their_types(client: Client) -> None:
    html = client.get("/desk/new/everything").text
    assert 'type="date"' in _field(html, "f_date")
    assert 'type="datetime-local"' in _field(html, "f_datetime")
    assert 'name="f_datetime__offset"' in _field(html, "f_datetime")
    assert 'type="checkbox"' in _field(html, "f_boolean")
    assert "<select" in _field(html, "f_select") and ">Apple</option>" in _field(html, "f_select")
    assert _field(html, "f_multiselect").count('type="checkbox"') == 3
    assert 'type="email"' in _field(html, "f_email") and 'type="tel"' in _field(html, "f_phone")
    assert 'type="url"' in _field(html, "f_url")
    assert "<textarea" in _field(html, "f_markdown")
    attachment = _field(html, "f_attachment")
    assert 'type="file"' in attachment and "<progress" in attachment and "2 MB" in attachment
    assert 'hx-encoding="multipart/form-data"' in attachment
    assert ">Service desk</option>" in _field(html, "f_team")  # the bundle's teams


def test_submitted_values_come_back_with_the_errors(client: Client) -> None:
    response = client.send_form(
        "/desk/new/everything",
        {
            "title": "All at once",
            "f_number": "-3",
            "f_integer": "1.5",
            "f_email": "not-an-email",
            "f_select": "a",
            "f_multiselect": ["x", "z"],
            "f_boolean": ["false", "true"],
            "f_date": "2026-02-30",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'value="All at once"' in html
    for field_id in ("f_text", "f_number", "f_integer", "f_email", "f_date", "f_shown_if"):
        widget = _field(html, field_id)
        assert "has-error" in widget and 'aria-invalid="true"' in widget, field_id
    assert "is required" in _field(html, "f_text")
    assert "must be at least 0" in _field(html, "f_number")
    assert 'value="-3"' in _field(html, "f_number")
    assert 'value="x" checked' in _field(html, "f_multiselect")
    assert 'value="y" checked' not in _field(html, "f_multiselect")
    assert "checked" in _field(html, "f_boolean")
    assert 'value="a" selected' in _field(html, "f_select")
    assert 'id="error-summary"' in html and 'href="#new-f_text-input"' in html


def test_chinese_errors(client: Client) -> None:
    client.send_form("/language", {"language": "zh-CN"})
    html = client.send_form("/desk/new/everything", {"title": "x"}).text
    assert "为必填项" in _field(html, "f_text")


def test_unknown_type_is_a_404_page(client: Client) -> None:
    response = client.get("/desk/new/nope")
    assert response.status_code == 404 and "Not found" in response.text


def test_page_token_is_per_session(tmp_path: Path, client: Client) -> None:
    other = TestClient(client.app)
    assert page_token(other.get("/login").text) != client.csrf
