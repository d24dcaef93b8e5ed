"""What every page shares: static files, error pages, Vary, the UI catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from gongdan.ui.catalogue import CATALOGUE
from gongdan.ui.i18n import pick_language, translate, translate_message
from tests.ui.conftest import Web

UI = Path(__file__).parents[2] / "platform" / "ui"


def test_htmx_is_vendored_and_served_with_its_licence(web: Web) -> None:
    client = TestClient(web.app)
    script = client.get("/static/vendor/htmx/htmx.min.js")
    assert script.status_code == 200 and script.text.startswith("var htmx=")
    assert "2.0." in (UI / "static" / "vendor" / "htmx" / "VERSION").read_text()
    assert "BSD" in (UI / "static" / "vendor" / "htmx" / "LICENSE").read_text() or (
        "Zero-Clause" in (UI / "static" / "vendor" / "htmx" / "LICENSE").read_text()
    )
    assert client.get("/static/gongdan.css").status_code == 200


def test_pages_use_no_cdn() -> None:
    for template in (UI / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']https?://""", text), template


def test_base_page_has_skip_link_csrf_header_and_viewport(web: Web) -> None:
    page = web.client().get("/login").text
    assert 'class="skip-link" href="#main"' in page
    assert 'hx-headers=\'{"X-CSRF-Token": "' in page
    assert 'name="viewport" content="width=device-width' in page


def test_unknown_page_is_a_bilingual_404_page(web: Web) -> None:
    client = web.client()
    response = client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"] and "未找到" in response.text


def test_unknown_api_path_stays_json(web: Web) -> None:
    response = web.client().get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_pages_vary_on_htmx(web: Web) -> None:
    response = web.client().get("/login")
    assert "HX-Request" in response.headers["vary"]


def test_every_template_key_is_in_both_languages() -> None:
    used = set()
    for template in (UI / "templates").rglob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", template.read_text("utf-8"))
        )
    missing = sorted(key for key in used if key not in CATALOGUE)
    assert not missing, f"keys used in templates but not in the catalogue: {missing}"
    for key, entry in CATALOGUE.items():
        assert entry["en"].strip() and entry["zh-CN"].strip(), key


def test_language_choice_and_messages() -> None:
    assert pick_language("zh-TW,zh;q=0.9") == "zh-CN"
    assert pick_language("fr-FR, en;q=0.5") == "en"
    assert pick_language("") == "en"
    assert translate("zh-CN", "nav.signed_in_as", name="李伟") == "当前用户：李伟"
    assert translate_message("is required", "zh-CN") == "为必填项"
    assert translate_message("is required", "en") == "is required"
