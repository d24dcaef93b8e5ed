"""Issue 20, finding 4: security headers on every HTML answer (`ui.headers`), and
templates the strict CSP can run (no inline script, handler or style), against a real
`gongdan serve` (a browser test checks that pages raise no CSP violation)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2 as httpx

from tests.ui.security.server import Served, served

TEMPLATES = Path(__file__).parents[3] / "platform" / "ui" / "templates"


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {words[0]: words[1:] for words in parts}


def test_html_pages_carry_a_strict_csp_frame_protection_and_nosniff(server: Served) -> None:
    with httpx.Client(base_url=server.base) as client:
        for path in ("/login", "/password/forgot", "/portal/signup", "/no-such-page"):
            page = client.get(path)
            assert page.headers["content-type"].startswith("text/html"), path
            csp = _directives(page.headers["content-security-policy"])
            assert csp["script-src"] == ["'self'"], path
            assert csp["style-src"] == ["'self'"], path
            assert csp["frame-ancestors"] == ["'none'"]
            assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
            assert page.headers["referrer-policy"] in ("same-origin", "no-referrer")
        # Password links keep their own, stricter policy.
        reset = client.get("/password/reset", params={"token": "x"})
        assert reset.headers["referrer-policy"] == "no-referrer"
        api = client.get("/healthz")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in api.headers
        docs = client.get("/docs")
        assert "<script>" not in docs.text
        assert _directives(docs.headers["content-security-policy"])["script-src"] == ["'self'"]


def test_hsts_only_over_https_as_a_trusted_proxy_says(server: Served, tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.base) as client:
        assert "strict-transport-security" not in client.get("/login").headers
        hsts = client.get("/login", headers=https).headers["strict-transport-security"]
        assert hsts.startswith("max-age=31536000")
    # A server with no trusted proxy believes no one's X-Forwarded-Proto.
    with served(tmp_path / "untrusted") as untrusted, httpx.Client() as client:
        answer = client.get(f"{untrusted.base}/login", headers=https)
        assert "strict-transport-security" not in answer.headers


def test_no_template_has_inline_script_event_handlers_or_styles() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
    style = re.compile(r"<style|\sstyle\s*=", re.IGNORECASE)
    # htmx evaluates trigger filters (`change[...]`) as code; the CSP forbids it.
    filtered_trigger = re.compile(r'hx-trigger="[^"]*\[')
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, handler, style, filtered_trigger):
            found += [
                f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in pattern.finditer(text)
            ]
    assert found == []
