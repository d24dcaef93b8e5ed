"""The SMTP listener (`gongdan mail serve`): aiosmtpd in front of `MailIntake`.

Recipients are checked at RCPT (mail for an address that is not a mailbox is refused
with 550 there); the message is taken in at the end of DATA, on a worker thread so the
event loop keeps serving other clients, and the SMTP reply carries intake's outcome:
250 for accepted or ignored mail, 5xx with the reason for rejected mail. Mail over the
size limit is refused with 552 (at MAIL FROM when the client announces its SIZE) and
logged like any other rejection. Nothing a client sends ever produces a traceback in
its reply: an unexpected error is logged and answered with 451 (try again later).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gongdan.channels.email.intake import IntakeResult, MailIntake

__all__ = ["IntakeHandler", "MailListener"]

log = logging.getLogger(__name__)


class IntakeHandler:
    """aiosmtpd handler hooks calling `MailIntake`."""

    def __init__(self, intake: MailIntake) -> None:
        self.intake = intake

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            box = await asyncio.to_thread(self.intake.mailbox_for, [address])
        except Exception:
            log.exception("checking recipient %s failed", address)
            return "451 4.3.0 temporary failure, try again later"
        if box is None:
            return f"550 5.1.1 <{address[:254]}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        try:
            result: IntakeResult = await asyncio.to_thread(
                self.intake.receive, raw, list(envelope.rcpt_tos), str(envelope.mail_from or "")
            )
        except Exception:
            log.exception("taking in a mail from %s failed", envelope.mail_from)
            return "451 4.3.0 temporary failure, try again later"
        return result.smtp_reply

    def log_too_large(self, envelope: Envelope) -> None:
        """Log mail the SMTP layer refused for its size before it reached intake."""
        try:
            self.intake.log_refused(
                str(envelope.mail_from or ""),
                list(envelope.rcpt_tos),
                f"message too large: at most {self.intake.max_bytes() // (1024 * 1024)} MB",
            )
        except Exception:
            log.exception("logging a refused mail failed")


class _IntakeSMTP(SMTP):
    """aiosmtpd's SMTP with its size refusals worded and logged by intake."""

    async def push(self, status: str) -> None:  # type: ignore[override]
        handler = self.event_handler
        if status.startswith("552") and isinstance(handler, IntakeHandler):
            limit = handler.intake.max_bytes() // (1024 * 1024)
            envelope = self.envelope or Envelope()
            await asyncio.to_thread(handler.log_too_large, envelope)
            status = f"552 5.3.4 message too large: at most {limit} MB"
        await super().push(status)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _IntakeSMTP(self.handler, **self.SMTP_kwargs)


class MailListener:
    """Runs the SMTP listener on a background thread (start/stop), e.g. in tests, or
    in the foreground with `serve_forever`."""

    def __init__(self, intake: MailIntake, host: str = "127.0.0.1", port: int = 2525) -> None:
        self.intake, self.host, self.port = intake, host, port
        options: dict[str, Any] = {
            "data_size_limit": intake.max_bytes(),
            "ident": "Gongdan mail intake",
        }
        self.controller = _Controller(IntakeHandler(intake), hostname=host, port=port, **options)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
