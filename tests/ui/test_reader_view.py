"""What a reader sees: times in their time zone (chosen on the account page), else in the
zone of the bundle's default calendar, with the zone named (never bare UTC); the SLA
explanation's policy and calendar by name; messages without transition ids."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from gongdan.ui.timezones import format_when
from tests.factories import incident
from tests.ui.conftest import PASSWORD, Web


def test_two_agents_see_the_same_deadline_each_in_their_zone(web: Web) -> None:
    for email in ("li.wei@example.com", "ny.agent@example.com"):
        web.user(email, "agent", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    ticket = incident(web.service, requester).ticket
    due = ticket.first_response_due
    assert due is not None

    beijing = web.client("li.wei@example.com")
    new_york = web.client("ny.agent@example.com")
    # Nobody chose a zone yet: the default calendar's (Asia/Shanghai), named.
    default = format_when(due, ZoneInfo("Asia/Shanghai"))
    assert default.endswith("UTC+8")
    assert default in beijing.get(f"/desk/tickets/{ticket.key}").text

    saved = new_york.send_form(
        "/account/profile",
        {"name": "NY agent", "language": "en", "timezone": "America/New_York"},
    )
    assert saved.status_code == 303
    page = new_york.get(f"/desk/tickets/{ticket.key}").text
    local = format_when(due, ZoneInfo("America/New_York"))
    assert local in page and default not in page
    assert local.endswith(("UTC-5", "UTC-4"))
    assert 'value="America/New_York" selected' in new_york.get("/account").text

    refused = new_york.send_form(
        "/account/profile", {"name": "NY agent", "language": "en", "timezone": "Mars/Olympus"}
    )
    assert refused.status_code == 422 and "is not a known time zone" in refused.text
    # Back to the default.
    new_york.send_form("/account/profile", {"name": "NY agent", "language": "en"})
    assert default in new_york.get(f"/desk/tickets/{ticket.key}").text


def test_the_sla_explanation_names_policy_and_calendar_not_their_ids(web: Web) -> None:
    web.user("li.wei@example.com", "agent", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    ticket = incident(web.service, requester).ticket
    explained = web.service.explain_sla(web.user("root@example.com", "admin"), ticket.key)[0]
    bundle = web.service.bundle
    policy, calendar = bundle.sla_policy(explained.policy), bundle.calendars[explained.calendar]
    assert policy is not None
    html = web.client("li.wei@example.com").get(f"/desk/tickets/{ticket.key}").text
    assert f"Policy {policy.name['en']} on calendar {calendar.name['en']}" in html
    assert f"Policy {explained.policy} " not in html


def test_page_messages_do_not_name_transition_ids() -> None:
    from gongdan.ui.i18n import translate_message

    assert translate_message("is required for 'resolve'", "en") == "is required"
    assert translate_message("is required for 'resolve'", "zh-CN") == "为必填项"
    assert translate_message("must look like AB12345678", "zh-CN") == "格式须类似 AB12345678"


def test_a_first_sign_in_takes_the_browsers_zone_and_only_the_first(web: Web) -> None:
    from sqlalchemy.orm import Session

    from gongdan.engine.accounts.users import user_timezone
    from gongdan.engine.store.models import User

    web.user("li.wei@example.com", "agent", teams=("service_desk",))
    web.user("wang.fang@example.com", "agent", teams=("service_desk",))

    def sign_in(email: str, zone: str) -> str:
        client = web.client()
        form = {"email": email, "password": PASSWORD, "browser_zone": zone}
        assert client.send_form("/login", form).status_code == 303
        with Session(web.db.engine) as session:
            user = session.query(User).filter_by(email=email).one()
            return user_timezone(user)

    assert sign_in("li.wei@example.com", "America/New_York") == "America/New_York"
    assert sign_in("li.wei@example.com", "Asia/Shanghai") == "America/New_York"  # kept
    assert sign_in("wang.fang@example.com", "Mars/Olympus") == ""  # unknown: the default
    assert sign_in("wang.fang@example.com", "") == ""
