"""Throttling of what anyone may try without being signed in: sign-in, password mails,
sign-up and API tokens, per account and per client address, shared by every worker
and instance (counts in the database, or Redis when `GONGDAN_THROTTLE_REDIS_URL` is
set: `engine.accounts.throttle`).

| action | counted | per account (the address typed) | per client address | window |
| --- | --- | --- | --- | --- |
| `signin` | failed sign-ins | `GONGDAN_SIGNIN_LIMIT` (5) | `GONGDAN_SIGNIN_IP_LIMIT` (30) | `GONGDAN_SIGNIN_WINDOW_SECONDS` (900) |
| `password_mail` | "forgot my password" posts | `GONGDAN_ACCOUNT_MAIL_LIMIT` (10) | the same | `GONGDAN_ACCOUNT_MAIL_WINDOW_SECONDS` (600) |
| `signup` | sign-up posts | the same | the same | the same |
| `token` | unknown bearer tokens | — | `GONGDAN_TOKEN_FAILURE_LIMIT` (20) | `GONGDAN_TOKEN_FAILURE_WINDOW_SECONDS` (300) |

Over a limit, the answer is 429 with `Retry-After` (the seconds left in the window).
The account key is the address as typed, whether or not an account has it, so a
locked address answers the same for an account and for nobody: nothing says which
addresses exist. When an account reaches its sign-in limit its owner is told by mail
(`AccountService.announce_lock`, through the outbox). A correct password does not
get through a lock (that is what makes guessing useless); a successful sign-in clears
its account's failures.

A valid API token is never refused (a token is 256 random bits: it cannot be guessed,
and an integration behind a busy address keeps working); an address past its limit
of unknown tokens gets 429 for further unknown ones, and this process remembers it
until its window ends, so a flood costs no database lookups.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from gongdan.engine import Counts
from gongdan.ui.websettings import WebSettings

__all__ = ["Throttle", "client_address"]


class Throttle:
    """The limits of the module docstring over one `Counts` store."""

    def __init__(self, counts: Counts, settings: WebSettings) -> None:
        self.counts = counts
        mail = {"account": settings.account_mail_limit, "ip": settings.account_mail_limit}
        self.rules: dict[str, tuple[Mapping[str, int], int]] = {
            "signin": (
                {"account": settings.signin_limit, "ip": settings.signin_ip_limit},
                settings.signin_window_seconds,
            ),
            "password_mail": (mail, settings.account_mail_window_seconds),
            "signup": (mail, settings.account_mail_window_seconds),
            "token": ({"ip": settings.token_failure_limit}, settings.token_failure_window_seconds),
        }
        self._blocked_ips: dict[str, float] = {}
        self._lock = threading.Lock()

    def limit(self, action: str, kind: str) -> int:
        return self.rules[action][0][kind]

    def window(self, action: str) -> int:
        return self.rules[action][1]

    @staticmethod
    def _key(action: str, kind: str, subject: str) -> str:
        # Control characters (NUL, which PostgreSQL refuses in text) name no account.
        clean = "".join(c for c in subject.strip().lower() if c.isprintable())
        return f"{action}:{kind}:{clean[:250]}"

    def blocked(self, action: str, **subjects: str) -> int | None:
        """Seconds to wait if any of `subjects` (kind=value) is at its limit, else None
        (nothing is counted)."""
        limits, window = self.rules[action]
        keys = {self._key(action, k, v): k for k, v in subjects.items() if k in limits}
        found = self.counts.peek(list(keys), window)
        waits = [left for key, (n, left) in found.items() if n >= limits[keys[key]]]
        return max(waits) if waits else None

    def count(self, action: str, **subjects: str) -> tuple[int | None, dict[str, int]]:
        """Count one for each of `subjects`; (seconds to wait if one is now past its
        limit else None, the count of each kind)."""
        limits, window = self.rules[action]
        counted: dict[str, int] = {}
        waits = []
        for kind, subject in subjects.items():
            if kind not in limits:
                continue
            number, left = self.counts.hit(self._key(action, kind, subject), window)
            counted[kind] = number
            if number > limits[kind]:
                waits.append(left)
        return (max(waits) if waits else None), counted

    def forget(self, action: str, kind: str, subject: str) -> None:
        self.counts.clear(self._key(action, kind, subject))

    # Unknown API tokens ----------------------------------------------------------------

    def token_blocked(self, address: str) -> int | None:
        """Seconds this process keeps refusing unknown tokens from `address`."""
        with self._lock:
            until = self._blocked_ips.get(address)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            with self._lock:
                self._blocked_ips.pop(address, None)
            return None
        return int(left) + 1

    def token_failed(self, address: str) -> int | None:
        """Count an unknown token from `address`; seconds to wait when past the limit."""
        wait, _ = self.count("token", ip=address)
        if wait is not None:
            with self._lock:
                if len(self._blocked_ips) > 10_000:
                    self._blocked_ips.clear()
                self._blocked_ips[address] = time.monotonic() + wait
        return wait


def client_address(host: str | None) -> str:
    """The key of a client: its address as the server saw it (behind a proxy listed in
    `GONGDAN_TRUSTED_PROXIES`, the forwarded one: `gongdan serve`)."""
    return host or "unknown"
