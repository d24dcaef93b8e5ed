"""The reports dashboard (`/reports`) on the real app: a panel per report in the
declared order with its chart (inline SVG) and its table, filters applied to every
panel and kept in the URL, htmx swapping only the dashboard, a CSV per panel, no
inline script, and requesters kept out."""

from __future__ import annotations

import csv
import io
import re

from tests.factories import incident
from tests.ui.conftest import Web

HTMX = {"HX-Request": "true"}


def _incidents(web: Web) -> None:
    admin = web.user("admin@example.com", "admin")
    requester = web.user("zhang.san@example.com", "requester")
    for category in ("software", "software", "hardware"):
        fields = {"category": category, "impact": "me"}
        if category == "hardware":
            fields["device_serial"] = "PC-12345"
        incident(web.service, admin, requester=requester.email, fields=fields)


def _panel(html: str, report_id: str) -> str:
    start = html.index(f'id="report-{report_id}"')
    return html[start : html.index("</section>", start)]


def _cells(panel: str) -> list[list[str]]:
    body = panel[panel.index("<tbody>") : panel.index("</tbody>")]
    return [re.findall(r"<td>(.*?)</td>", row) for row in body.split("</tr>") if "<td>" in row]


def test_the_dashboard_shows_every_report_in_order(web: Web) -> None:
    _incidents(web)
    client = web.client("admin@example.com")
    page = client.get("/reports")
    assert page.status_code == 200
    html = page.text
    order = [html.index(f'id="report-{rid}"') for rid in web.service.bundle.reports]
    assert order == sorted(order)
    category = _panel(html, "incidents_by_category")
    assert "<svg" in category and "<rect" in category
    assert _cells(category) == [["Hardware", "1"], ["Software", "2"]]
    assert 'href="/reports"' in html and 'aria-current="page"' in html  # the nav link
    # A strict CSP: no inline script and no event-handler attributes.
    assert "<script>" not in html and not re.search(r"\son[a-z]+=", html)


def test_filters_apply_to_every_panel_and_stay_in_the_url(web: Web) -> None:
    _incidents(web)
    client = web.client("admin@example.com")
    query = "/reports?period=all&type=it_incident&fields.category=hardware"
    page = client.get(query, headers=HTMX)
    assert page.status_code == 200
    html = page.text
    assert "<html" not in html and html.lstrip().startswith('<div id="dashboard">')
    assert _cells(_panel(html, "incidents_by_category")) == [["Hardware", "1"]]
    assert _cells(_panel(html, "created_per_week"))[0][-1] == "1"
    # The chosen type's select fields are offered, the chosen value kept.
    assert 'name="fields.category"' in html
    assert '<option value="hardware" selected>' in html
    assert "fields.category=hardware" in _panel(html, "backlog_by_team")  # the CSV link
    full = client.get(query).text
    assert 'hx-push-url="true"' in full and "<html" in full


def test_a_panel_downloads_as_csv_with_the_filters(web: Web) -> None:
    _incidents(web)
    client = web.client("admin@example.com")
    got = client.get("/reports/incidents_by_category.csv?period=all&fields.category=software")
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows == [["Category", "Tickets"], ["Software", "2"]]


def test_a_bad_filter_is_shown_not_a_500(web: Web) -> None:
    web.user("admin@example.com", "admin")
    client = web.client("admin@example.com")
    page = client.get("/reports?from=someday")
    assert page.status_code == 200
    assert 'role="alert"' in page.text and "from" in page.text


def test_requesters_are_sent_away(web: Web) -> None:
    web.user("zhang.san@example.com", "requester")
    client = web.client("zhang.san@example.com")
    assert client.get("/reports").status_code in (303, 403)
    assert client.get("/reports/backlog_by_team.csv").status_code in (303, 403)


def test_a_field_filter_of_another_type_is_dropped_when_the_type_changes(web: Web) -> None:
    _incidents(web)
    client = web.client("admin@example.com")
    page = client.get("/reports?period=all&type=complaint&fields.category=hardware", headers=HTMX)
    assert page.status_code == 200 and 'role="alert"' not in page.text
    assert 'name="fields.category"' not in page.text
    assert "fields.category" not in _panel(page.text, "backlog_by_team")


def test_the_lowest_rated_tickets_link_to_the_tickets(web: Web) -> None:
    from gongdan.channels import channels_for
    from gongdan.engine.outbox.relay import deliver, relay_once
    from tests.engine.reads.test_reports import _Quiet

    admin = web.user("admin@example.com", "admin")
    requester = web.user("zhang.san@example.com", "requester")
    web.user("li.wei@example.com", teams=("service_desk",))
    keys = []
    for _ in range(2):
        fields = {"category": "software", "impact": "me"}
        key = incident(web.service, admin, requester=requester.email, fields=fields).ticket.key
        web.service.assign(admin, key, assignee="li.wei@example.com")
        web.service.take_transition(
            admin, key, "resolve", fields={"resolution_code": "fixed"}, comment="Done."
        )
        web.service.take_transition(requester, key, "close")
        keys.append(key)
    channels = channels_for(_Quiet())
    now = web.service.clock()
    relay_once(web.db, lambda i: deliver(web.db, i, now, channels=channels), now)
    web.service.answer_survey(requester, keys[0], 4)
    web.service.answer_survey(requester, keys[1], 1)
    html = web.client("admin@example.com").get("/reports?period=all").text
    lowest = _panel(html, "csat_lowest_rated")
    title = "Outlook keeps crashing"
    assert _cells(lowest) == [
        [f'<a href="/desk/tickets/{keys[1]}">{keys[1]}</a>', title, "1"],
        [f'<a href="/desk/tickets/{keys[0]}">{keys[0]}</a>', title, "4"],
    ]
    assert _cells(_panel(html, "csat_distribution")) == [["1", "1"], ["4", "1"]]


def test_the_words_of_reports_agree_with_the_catalogue() -> None:
    from gongdan.engine import REPORT_WORDS
    from gongdan.ui.i18n import translate

    for key, words in REPORT_WORDS.items():
        catalogue_key = "reports.none" if key == "none" else key
        for lang, text in words.items():
            assert translate(lang, catalogue_key) == text, (key, lang)
