"""Mail settings from the environment.

- `GONGDAN_SMTP_URL`: where notifications are sent, `smtp://host:port` (plain, or
  STARTTLS with `?starttls=1` or `GONGDAN_SMTP_STARTTLS=1`) or `smtps://host:port`
  (TLS from the start). User and password in the URL (`smtp://user:pw@host:587`) or in
  `GONGDAN_SMTP_USER` / `GONGDAN_SMTP_PASSWORD`. Unset: notifications are only logged.
  The server's certificate is checked against the system's CAs, or those in
  `GONGDAN_SMTP_CA_FILE` (PEM) for a server with a company CA; never skipped.
- `GONGDAN_MAIL_FROM`: the From address of notifications (default
  `gongdan@localhost`); mail from it is never taken in (loop protection).
- `GONGDAN_BASE_URL`: where links in mail point (default `http://127.0.0.1:8000`).
- `GONGDAN_IMAP_URL`: the mailbox `gongdan mail poll` (and, when set, Celery beat or,
  without a broker, `gongdan serve` itself every `GONGDAN_IMAP_POLL_SECONDS`, default
  60) reads, `imap://user:pw@host:143/INBOX` or
  `imaps://…:993/INBOX`; `GONGDAN_IMAP_MAILBOX` names the `Mailbox` its mail goes to
  (default: the bundle's only one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["ImapSettings", "SettingsError", "SmtpSettings", "base_url", "mail_from"]

TRUE = ("1", "true", "yes", "on")


class SettingsError(ValueError):
    """A mail setting in the environment cannot be used (the message says which)."""


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def mail_from(environ: Mapping[str, str] | None = None) -> str:
    return (_env(environ).get("GONGDAN_MAIL_FROM") or "gongdan@localhost").strip()


def base_url(environ: Mapping[str, str] | None = None) -> str:
    return (_env(environ).get("GONGDAN_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # TLS from the start (smtps)
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    timeout: float = 30.0
    ca_file: str | None = None  # PEM bundle to trust instead of the system's CAs

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings, or None when `GONGDAN_SMTP_URL` is unset."""
        env = _env(environ)
        url = env.get("GONGDAN_SMTP_URL", "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SettingsError(
                f"GONGDAN_SMTP_URL must look like smtp://host:port or smtps://host:port, "
                f"not '{url}'"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as error:
            raise SettingsError(f"GONGDAN_SMTP_URL has a bad port: {error}") from error
        query = parse_qs(parts.query)
        starttls = (query.get("starttls", [""])[0].lower() in TRUE) or (
            env.get("GONGDAN_SMTP_STARTTLS", "").lower() in TRUE
        )
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            starttls=starttls,
            user=unquote(parts.username) if parts.username else env.get("GONGDAN_SMTP_USER"),
            password=unquote(parts.password)
            if parts.password
            else env.get("GONGDAN_SMTP_PASSWORD"),
            sender=mail_from(env),
            ca_file=_ca_file(env),
        )


def _ca_file(env: Mapping[str, str]) -> str | None:
    path = env.get("GONGDAN_SMTP_CA_FILE", "").strip()
    if path and not os.path.isfile(path):
        raise SettingsError(f"GONGDAN_SMTP_CA_FILE: no file '{path}'")
    return path or None


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImapSettings | None:
        """The settings, or None when `GONGDAN_IMAP_URL` is unset."""
        url = _env(environ).get("GONGDAN_IMAP_URL", "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise SettingsError(
                "GONGDAN_IMAP_URL must look like imap://user:password@host:143/INBOX "
                "or imaps://user:password@host:993/INBOX"
            )
        if not parts.username or parts.password is None:
            raise SettingsError("GONGDAN_IMAP_URL needs a user and a password")
        try:
            port = parts.port or (993 if parts.scheme == "imaps" else 143)
        except ValueError as error:
            raise SettingsError(f"GONGDAN_IMAP_URL has a bad port: {error}") from error
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "imaps",
            user=unquote(parts.username),
            password=unquote(parts.password),
            folder=unquote(parts.path.strip("/")) or "INBOX",
        )
