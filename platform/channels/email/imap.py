"""Polling an IMAP mailbox (`gongdan mail poll`, or Celery beat's `poll_mail` task).

Reads the unseen messages of the folder named in `GONGDAN_IMAP_URL`, hands each to
`MailIntake` as mail sent to the address of the mailbox (`--mailbox`, or the bundle's
only mailbox), then marks it seen (accepted or ignored) or flags it (rejected: a
person should look). Intake deduplicates on Message-ID, so a message read twice (a
poll that died before marking) is not taken twice.
"""

from __future__ import annotations

import imaplib
import logging
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.intake import MailIntake
from gongdan.channels.email.settings import ImapSettings, SettingsError
from gongdan.engine import Database

__all__ = ["PollResult", "poll_from_env", "poll_mailbox"]

log = logging.getLogger(__name__)
MAX_PER_POLL = 200


@dataclass(frozen=True, slots=True)
class PollResult:
    accepted: int = 0
    ignored: int = 0
    rejected: int = 0


def _connect(settings: ImapSettings, timeout: float) -> imaplib.IMAP4:
    if settings.tls:
        return imaplib.IMAP4_SSL(
            settings.host, settings.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    return imaplib.IMAP4(settings.host, settings.port, timeout=timeout)


def poll_mailbox(
    intake: MailIntake, settings: ImapSettings, address: str, *, timeout: float = 30.0
) -> PollResult:
    """Take in the unseen messages of the mailbox once; returns the counts."""
    counts = {"accepted": 0, "ignored": 0, "rejected": 0}
    client = _connect(settings, timeout)
    try:
        client.login(settings.user, settings.password)
        status, _ = client.select(_quoted(settings.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder '{settings.folder}'")
        status, data = client.uid("SEARCH", "UNSEEN")
        found = (data[0] or b"") if status == "OK" and data else b""
        uids = [u.decode() for u in bytes(found).split()[:MAX_PER_POLL]]
        for uid in uids:
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = _message_bytes(parts) if status == "OK" else None
            if raw is None:
                continue
            result = intake.receive(raw, [address])
            counts[result.status] = counts.get(result.status, 0) + 1
            flags = "(\\Seen \\Flagged)" if result.status == "rejected" else "(\\Seen)"
            client.uid("STORE", uid, "+FLAGS", flags)
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            log.debug("IMAP logout failed", exc_info=True)
    return PollResult(counts["accepted"], counts["ignored"], counts["rejected"])


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message_bytes(parts: list[object] | None) -> bytes | None:
    for part in parts or ():
        if isinstance(part, tuple) and len(part) >= 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def poll_from_env(
    db: Database,
    bundle: Callable[[], Bundle],
    environ: Mapping[str, str] | None = None,
    mailbox: str | None = None,
) -> PollResult | None:
    """One poll of `$GONGDAN_IMAP_URL` into the mailbox `mailbox` (default
    `$GONGDAN_IMAP_MAILBOX`, or the bundle's only mailbox): what the scheduled job
    runs. None when no IMAP mailbox is configured. Raises `SettingsError` for a bad
    URL or an unknown mailbox, and the IMAP or network error of a failed poll."""
    env = os.environ if environ is None else environ
    settings = ImapSettings.from_env(env)
    if settings is None:
        return None
    current = bundle()
    name = mailbox or env.get("GONGDAN_IMAP_MAILBOX")
    boxes = current.mailboxes
    box = boxes.get(name) if name else (next(iter(boxes.values())) if len(boxes) == 1 else None)
    if box is None:
        raise SettingsError(
            f"name the mailbox IMAP mail goes to with GONGDAN_IMAP_MAILBOX "
            f"(known: {', '.join(boxes) or 'none'})"
        )
    return poll_mailbox(MailIntake(db, bundle), settings, box.address)
