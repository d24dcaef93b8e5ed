"""`gongdan mail …`: the SMTP listener, IMAP polling and the mail log.

- `gongdan mail serve [--host 127.0.0.1] [--port 2525]`: take mail in over SMTP until
  interrupted.
- `gongdan mail poll [--mailbox ID] [--every SECONDS]`: read the unseen messages of
  `$GONGDAN_IMAP_URL` once (or every SECONDS) into the mailbox ID.
- `gongdan mail log [--ticket KEY] [--limit N]`: what intake and the notifier did.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from gongdan.engine import Database, LiveConfig, database_url, start_config
from gongdan.errors import ConfigError

__all__ = ["add_mail_commands"]


def _open(args: argparse.Namespace) -> tuple[LiveConfig, Database] | None:
    """The database and the live config (the active version, followed while the
    command runs)."""
    from gongdan.channels.email.templates import check_templates

    db = Database(database_url())
    if db.dialect == "sqlite":
        db.upgrade()
    try:
        live = start_config(db, args.config, checks=check_templates)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        db.dispose()
        return None
    return live, db


def cmd_mail_serve(args: argparse.Namespace) -> int:
    from gongdan.channels.email.intake import MailIntake
    from gongdan.channels.email.smtp_server import MailListener

    opened = _open(args)
    if opened is None:
        return 1
    live, db = opened
    bundle = live.bundle
    if not bundle.mailboxes:
        print("gongdan mail serve: the config declares no Mailbox (kind: Mailbox)", file=sys.stderr)
        return 1
    listener = MailListener(MailIntake(db, live.current), args.host, args.port)
    live.start()
    try:
        listener.start()
    except OSError as error:
        print(
            f"gongdan mail serve: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    addresses = ", ".join(b.address for b in bundle.mailboxes.values())
    print(f"taking mail for {addresses} on smtp://{args.host}:{args.port} (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        live.stop()
        db.dispose()
    return 0


def cmd_mail_poll(args: argparse.Namespace) -> int:
    import imaplib

    from gongdan.channels.email.imap import poll_from_env
    from gongdan.channels.email.settings import ImapSettings, SettingsError

    try:
        settings = ImapSettings.from_env()
    except SettingsError as error:
        print(f"gongdan mail poll: {error}", file=sys.stderr)
        return 2
    if settings is None:
        print(
            "gongdan mail poll: set GONGDAN_IMAP_URL (imap://user:pw@host:143/INBOX)",
            file=sys.stderr,
        )
        return 2
    opened = _open(args)
    if opened is None:
        return 1
    live, db = opened
    if args.every:
        live.start()
    try:
        while True:
            try:
                result = poll_from_env(db, live.current, mailbox=args.mailbox)
                assert result is not None  # noqa: S101 - GONGDAN_IMAP_URL is set
                print(
                    f"{result.accepted} accepted, {result.ignored} ignored, "
                    f"{result.rejected} rejected"
                )
            except SettingsError as error:
                print(f"gongdan mail poll: {error}", file=sys.stderr)
                return 2
            except (imaplib.IMAP4.error, OSError) as error:
                print(
                    f"gongdan mail poll: {settings.host}:{settings.port}: {error}", file=sys.stderr
                )
                if not args.every:
                    return 1
            sys.stdout.flush()
            if not args.every or threading.Event().wait(args.every):
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        live.stop()
        db.dispose()


def cmd_mail_log(args: argparse.Namespace) -> int:
    from gongdan.engine import list_mail

    db = Database(database_url())
    try:
        for row in list_mail(db, args.ticket, args.limit):
            print(
                f"{row.at.isoformat(timespec='seconds')} {row.direction:3} {row.status:8} "
                f"{row.ticket_key or '-':10} {row.sender} {row.subject!r} {row.reason or ''}"
            )
    finally:
        db.dispose()
    return 0


def add_mail_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Add `mail serve|poll|log` to the parser's sub-commands; returns the leaves."""
    mail = commands.add_parser(
        "mail", help="email in (SMTP listener, IMAP polling) and the mail log"
    )
    sub = mail.add_subparsers(dest="mail_command", required=True)
    serve = sub.add_parser("serve", help="take mail in over SMTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=2525)
    serve.set_defaults(handler=cmd_mail_serve)
    poll = sub.add_parser("poll", help="read unseen mail from $GONGDAN_IMAP_URL")
    poll.add_argument(
        "--mailbox",
        help="the Mailbox id mail goes to (default: $GONGDAN_IMAP_MAILBOX or the only one)",
    )
    poll.add_argument("--every", type=float, default=0, help="poll every SECONDS (default: once)")
    poll.set_defaults(handler=cmd_mail_poll)
    log = sub.add_parser("log", help="the mail log, newest first")
    log.add_argument("--ticket", help="only mail about this ticket key")
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(handler=cmd_mail_log)
    return [serve, poll, log]
