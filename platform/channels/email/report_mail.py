"""A mailed report (outbox topic `report.mail`, written by the scheduler's
`report_mail` job): one mail to one recipient, in their language, with a short
summary of the figures in the body and the whole report attached as CSV (UTF-8 with
a BOM, as the dashboard's export). Not about a ticket: no key, thread or Reply-To.
Its Message-ID is stable per delivery, so a retry never sends it twice.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING

from gongdan.channels.email.html_text import text_to_html
from gongdan.engine import Notification, Person, is_our_message

if TYPE_CHECKING:
    from gongdan.channels.email.notifier import SmtpNotifier

__all__ = ["REPORT_TOPIC", "compose_report_mail", "send_report_mail"]

REPORT_TOPIC = "report.mail"


def compose_report_mail(notifier: SmtpNotifier, notification: Notification) -> EmailMessage:
    """The mail of one mailed report (its payload: address, name, language, subject,
    summary, CSV and its file name)."""
    payload = notification.payload
    name = " ".join(str(payload.get("name") or payload.get("email") or "").split())
    locale = str(payload.get("language") or "en")
    message = EmailMessage()
    message["From"] = formataddr(("Gongdan", notifier.sender))
    message["To"] = formataddr((name, str(payload.get("email") or "")))
    message["Subject"] = " ".join(str(payload.get("subject") or "").split())
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Gongdan-Report"] = str(payload.get("report") or "")
    body = str(payload.get("summary") or "")
    message.set_content(body, charset="utf-8")
    message.add_alternative(text_to_html(body, locale), subtype="html")
    message.add_attachment(
        ("\ufeff" + str(payload.get("csv") or "").lstrip("\ufeff")).encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=str(payload.get("filename") or "report.csv"),
    )
    message["Content-Language"] = locale  # after the parts (they move Content-*)
    return message


def send_report_mail(notifier: SmtpNotifier, notification: Notification) -> None:
    """Send the mailed report of `notification` (once per delivery, across retries)."""
    from gongdan.channels.email.notifier import message_id_for

    email = str(notification.payload.get("email") or "")
    if not email:
        return
    message_id = message_id_for(notification.delivery_id, email, notifier.sender)
    if is_our_message(notifier.db, message_id):
        return  # sent by an earlier attempt of this delivery
    message = compose_report_mail(notifier, notification)
    message["Message-ID"] = message_id
    language = str(notification.payload.get("language") or "en")
    person = Person(email, str(notification.payload.get("name") or email), language, None)
    notifier.send_all(None, [(person, message)])
