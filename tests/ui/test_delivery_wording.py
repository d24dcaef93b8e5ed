"""Without an SMTP server, notifications are only written to the log: the delivery log
and the ticket page say "logged, not sent", never that they were sent."""

from __future__ import annotations

from datetime import timedelta

from gongdan.engine import Channels, LogNotifier, deliver, relay_once, utc_now
from gongdan.engine.outbox.relay import list_deliveries
from tests.factories import incident
from tests.ui.conftest import Web


def test_logged_notifications_are_not_called_sent(web: Web) -> None:
    web.user("li.wei@example.com", "agent", teams=("service_desk",))
    requester = web.user("zhang.san@example.com", "requester")
    key = incident(web.service, requester).ticket.key
    channels = Channels(notifier=LogNotifier())
    later = utc_now() + timedelta(minutes=1)
    while relay_once(web.db, lambda i: deliver(web.db, i, later, channels=channels), later):
        pass
    notifications = [d for d in list_deliveries(web.db, key) if d.kind == "notification"]
    assert notifications and {d.outcome for d in notifications} == {"logged"}

    page = web.client("li.wei@example.com").get(f"/desk/tickets/{key}")
    assert page.status_code == 200, (page.status_code, page.headers)
    html = page.text
    assert "logged, not sent: no SMTP server configured" in html
    assert "Notifications sent" not in html and 'data-outcome="delivered"' not in html
