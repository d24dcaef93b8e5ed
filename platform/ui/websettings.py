"""The web side's security settings, read once from the environment at start-up.

| variable | default | what it sets |
| --- | --- | --- |
| `GONGDAN_SESSION_IDLE_MINUTES` | 720 (12 h) | a session unused this long is signed out |
| `GONGDAN_SESSION_MAX_HOURS` | 168 (7 days) | a session this old is signed out, used or not |
| `GONGDAN_MAX_FORM_BYTES` | 1 MiB | body of an HTML form post (not an upload) |
| `GONGDAN_MAX_UPLOAD_BYTES` | 30 MiB | body of an upload (HTML or API, a reply posted with its files too; fields and replies have their own, lower, per-file limits) |
| `GONGDAN_MAX_API_BYTES` | 1 MiB | body of any other API request (JSON) |
| `GONGDAN_MAX_MAIL_BYTES` | 30 MiB | body of a mail handed over HTTP (`/mail/`, `/api/v1/mail`) |
| `GONGDAN_TRUSTED_PROXIES` | none | addresses (or `*`) whose `X-Forwarded-Proto` / `-For` are believed |
| `GONGDAN_HSTS_SECONDS` | 31536000 | `Strict-Transport-Security` max-age on HTTPS (0: none) |
| `GONGDAN_SIGNIN_LIMIT` | 5 | failed sign-ins per account before it is locked … |
| `GONGDAN_SIGNIN_IP_LIMIT` | 30 | … and per client address, in … |
| `GONGDAN_SIGNIN_WINDOW_SECONDS` | 900 | … this window (the lock lasts until the window passes) |
| `GONGDAN_ACCOUNT_MAIL_LIMIT` | 10 | sign-ups and password mails per address (and per account) … |
| `GONGDAN_ACCOUNT_MAIL_WINDOW_SECONDS` | 600 | … in this window |
| `GONGDAN_TOKEN_FAILURE_LIMIT` | 20 | unknown bearer tokens per client address … |
| `GONGDAN_TOKEN_FAILURE_WINDOW_SECONDS` | 300 | … in this window |
| `GONGDAN_THROTTLE_REDIS_URL` | none | keep the counts in Redis instead of the database |

A value that is not a number is a start-up error naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["WebSettings"]

MIB = 1024 * 1024


def _number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class WebSettings:
    """See the module docstring for each setting's variable and default."""

    session_idle_seconds: int = 720 * 60
    session_max_seconds: int = 168 * 3600
    max_form_bytes: int = MIB
    max_upload_bytes: int = 30 * MIB
    max_api_bytes: int = MIB
    max_mail_bytes: int = 30 * MIB
    trusted_proxies: tuple[str, ...] = ()
    hsts_seconds: int = 31_536_000
    signin_limit: int = 5
    signin_ip_limit: int = 30
    signin_window_seconds: int = 900
    account_mail_limit: int = 10
    account_mail_window_seconds: int = 600
    token_failure_limit: int = 20
    token_failure_window_seconds: int = 300
    throttle_redis_url: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        proxies = tuple(p.strip() for p in env.get("GONGDAN_TRUSTED_PROXIES", "").split(","))
        return cls(
            session_idle_seconds=_number(env, "GONGDAN_SESSION_IDLE_MINUTES", 720) * 60,
            session_max_seconds=_number(env, "GONGDAN_SESSION_MAX_HOURS", 168) * 3600,
            max_form_bytes=_number(env, "GONGDAN_MAX_FORM_BYTES", MIB),
            max_upload_bytes=_number(env, "GONGDAN_MAX_UPLOAD_BYTES", 30 * MIB),
            max_api_bytes=_number(env, "GONGDAN_MAX_API_BYTES", MIB),
            max_mail_bytes=_number(env, "GONGDAN_MAX_MAIL_BYTES", 30 * MIB),
            trusted_proxies=tuple(p for p in proxies if p),
            hsts_seconds=_number(env, "GONGDAN_HSTS_SECONDS", 31_536_000),
            signin_limit=_number(env, "GONGDAN_SIGNIN_LIMIT", 5),
            signin_ip_limit=_number(env, "GONGDAN_SIGNIN_IP_LIMIT", 30),
            signin_window_seconds=_number(env, "GONGDAN_SIGNIN_WINDOW_SECONDS", 900),
            account_mail_limit=_number(env, "GONGDAN_ACCOUNT_MAIL_LIMIT", 10),
            account_mail_window_seconds=_number(env, "GONGDAN_ACCOUNT_MAIL_WINDOW_SECONDS", 600),
            token_failure_limit=_number(env, "GONGDAN_TOKEN_FAILURE_LIMIT", 20),
            token_failure_window_seconds=_number(env, "GONGDAN_TOKEN_FAILURE_WINDOW_SECONDS", 300),
            throttle_redis_url=env.get("GONGDAN_THROTTLE_REDIS_URL", "").strip(),
        )
