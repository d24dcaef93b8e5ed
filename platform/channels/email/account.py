"""Mail about a person's account rather than a ticket: the one-time link to set or
reset a password (outbox topic `password.reset`), the link that proves the address
of a self sign-up (`account.verify`), and the notice that sign-in to the account is
locked for a while after too many wrong passwords (`account.locked`, the bundle's
`account_locked` template or `LOCKED_FALLBACK`).

The text is the bundle's `password_reset` (or `account_verify`) template
(`config/templates/`), rendered in the recipient's language in the same sandbox as
every notification; a bundle without one gets the text of `FALLBACKS`. The mail has no ticket key, thread or Reply-To: it is not a
conversation. Its Message-ID is stable per delivery, so a retry never sends it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2.sandbox import SandboxedEnvironment

from gongdan.bundle.compile_mail import TemplateDef
from gongdan.channels.email.html_text import text_to_html
from gongdan.channels.email.templates import Rendered, mail_templates
from gongdan.engine import Notification, Person, is_our_message

if TYPE_CHECKING:
    from gongdan.channels.email.notifier import SmtpNotifier

__all__ = [
    "ACCOUNT_TOPICS",
    "FALLBACK",
    "FALLBACKS",
    "LOCKED_FALLBACK",
    "compose_account_mail",
    "send_account_mail",
]

ACCOUNT_TOPICS = frozenset({"account.verify", "password.reset", "account.locked"})

FALLBACK = TemplateDef(
    id="password_reset",
    subject={"en": "Set your password", "zh-CN": "设置您的密码"},
    body={
        "en": "Hello {{ recipient.name }},\n\nopen this link to set a new password "
        "(it works once, for {{ valid_minutes }} minutes):\n\n{{ link }}\n\n"
        "If you did not ask for it, ignore this mail: your password stays as it is.\n",
        "zh-CN": "{{ recipient.name }}，您好：\n\n请打开以下链接设置新密码"
        "（仅可使用一次，{{ valid_minutes }} 分钟内有效）：\n\n{{ link }}\n\n"
        "如果这不是您本人的操作，请忽略此邮件，您的密码不会改变。\n",
    },
)
LOCKED_FALLBACK = TemplateDef(
    id="account_locked",
    subject={"en": "Sign-in to your account is paused", "zh-CN": "您的账户已暂停登录"},
    body={
        "en": "Hello {{ recipient.name }},\n\nsomeone (from {{ address }}) typed a wrong "
        "password for your account several times, so signing in is paused for "
        "{{ minutes }} minutes.\n\nIf it was you, wait and try again, or choose a new "
        "password: {{ reset_link }}\nIf it was not you, your password still held; "
        "choosing a new one is a good idea.\n",
        "zh-CN": "{{ recipient.name }}，您好：\n\n有人（来自 {{ address }}）多次输入了错误的"
        "密码，您的账户将暂停登录 {{ minutes }} 分钟。\n\n如果是您本人，请稍后重试，或设置"
        "新密码：{{ reset_link }}\n如果不是您本人，您的密码并未泄露；建议您设置新密码。\n",
    },
)
VERIFY_FALLBACK = TemplateDef(
    id="account_verify",
    subject={"en": "Confirm your email address", "zh-CN": "请确认您的邮箱地址"},
    body={
        "en": "Hello {{ recipient.name }},\n\nsomeone (we hope you) signed up to the help "
        "centre as {{ recipient.email }}. Open this link to confirm the address and "
        "activate the account (it works once, for {{ valid_minutes }} minutes):\n\n"
        "{{ link }}\n\nIf it was not you, ignore this mail: no account is made.\n",
        "zh-CN": "{{ recipient.name }}，您好：\n\n有人（希望是您本人）使用 {{ recipient.email }} "
        "注册了服务门户。请打开以下链接确认邮箱并启用账户（仅可使用一次，"
        "{{ valid_minutes }} 分钟内有效）：\n\n{{ link }}\n\n"
        "如果这不是您本人的操作，请忽略此邮件，不会创建任何账户。\n",
    },
)
FALLBACKS = {
    FALLBACK.id: FALLBACK,
    VERIFY_FALLBACK.id: VERIFY_FALLBACK,
    LOCKED_FALLBACK.id: LOCKED_FALLBACK,
}
_fallback_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def _context(payload: Mapping[str, Any], base_url: str, sent_at: datetime) -> dict[str, Any]:
    token = quote(str(payload.get("token") or ""), safe="")
    expires = datetime.fromisoformat(str(payload.get("expires_at")))
    minutes = max(round((expires - sent_at).total_seconds() / 60), 0)
    email = str(payload.get("email") or "")
    return {
        "recipient": {"name": str(payload.get("name") or email), "email": email},
        "link": f"{base_url}{_link_path(payload)}?token={token}",
        "purpose": str(payload.get("purpose") or "reset"),
        "valid_minutes": minutes,
        "expires_at": expires,
        "site": base_url,
    }


def _locked_context(payload: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    email = str(payload.get("email") or "")
    return {
        "recipient": {"name": str(payload.get("name") or email), "email": email},
        "minutes": int(payload.get("minutes") or 0),
        "address": str(payload.get("address") or "?"),
        "reset_link": f"{base_url}/password/forgot?email={quote(email, safe='@')}",
        "site": base_url,
    }


def _link_path(payload: Mapping[str, Any]) -> str:
    path = str(payload.get("link_path") or "/password/reset")
    return path if path.startswith("/") and "//" not in path else "/password/reset"


def _render(
    notifier: SmtpNotifier, template: str, locale: str, context: dict[str, Any]
) -> Rendered:
    templates = mail_templates(notifier.bundle())
    if templates.has(template):
        return templates.render(template, locale, context)
    fallback = FALLBACKS.get(template, FALLBACK)
    used, body = fallback.text("body", locale)
    _, subject = fallback.text("subject", used)
    return Rendered(
        " ".join(_fallback_env.from_string(subject).render(context).split()),
        _fallback_env.from_string(body).render(context),
        used,
    )


def compose_account_mail(
    notifier: SmtpNotifier, notification: Notification, sent_at: datetime
) -> EmailMessage:
    """The mail of an account notification (`notification.payload` carries the
    recipient's address, name, language and the link's token)."""
    payload = notification.payload
    locale = str(payload.get("language") or "en")
    if notification.topic == "account.locked":
        context = _locked_context(payload, notifier.base_url)
        rendered = _render(notifier, LOCKED_FALLBACK.id, locale, context)
    else:
        context = _context(payload, notifier.base_url, sent_at)
        rendered = _render(notifier, notification.template or "password_reset", locale, context)
    recipient = context["recipient"]
    message = EmailMessage()
    message["From"] = formataddr(("Gongdan", notifier.sender))
    message["To"] = formataddr((" ".join(recipient["name"].split()), recipient["email"]))
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.body, charset="utf-8")
    message.add_alternative(text_to_html(rendered.body, rendered.locale), subtype="html")
    message["Content-Language"] = rendered.locale  # after both (they move Content-*)
    return message


def send_account_mail(notifier: SmtpNotifier, notification: Notification, now: datetime) -> None:
    """Send the account mail of `notification` (once per delivery, across retries)."""
    from gongdan.channels.email.notifier import message_id_for

    email = str(notification.payload.get("email") or "")
    if not email or (
        notification.topic == "password.reset" and not notification.payload.get("token")
    ):
        return
    message_id = message_id_for(notification.delivery_id, email, notifier.sender)
    if is_our_message(notifier.db, message_id):
        return  # sent by an earlier attempt of this delivery
    message = compose_account_mail(notifier, notification, now)
    message["Message-ID"] = message_id
    name = str(notification.payload.get("name") or email)
    person = Person(email, name, str(notification.payload.get("language") or "en"), None)
    notifier.send_all(None, [(person, message)])
