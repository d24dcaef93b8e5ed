"""Whether a mail is from whom its From says: the receiving host's verdict.

Anyone can write any From address. A mailbox with `authentication: {authserv_id: …}`
takes a mail as its sender only when the receiving host it names (the MX, or the
filter behind it) recorded in an `Authentication-Results` field (RFC 8601, parsed by
`authres`) that

- DMARC passed for the From domain (`dmarc=pass header.from=<that domain>`), or
- DKIM passed with a signing domain (`header.d`) that is the From domain or a parent
  of it, or SPF passed for an envelope sender (`smtp.mailfrom`) in the From domain, a
  parent or a sub-domain of it (aligned as DMARC's relaxed mode would, read
  conservatively: no Public Suffix List, only parent and child domains).

Which fields count: fields are prepended by every host a mail passes, so what the
trusted host wrote is above anything the sender or an earlier hop wrote. Only the
topmost field carrying the trusted authserv-id counts; any other field naming it was
written before the mail reached that host (a forgery) and is ignored, as are fields of
other hosts. The receiving host must also remove incoming fields that claim its
authserv-id (RFC 8601, section 5), and mail must reach Gongdan only through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

import authres

__all__ = ["Verdict", "aligned", "verify_sender"]

MAX_FIELDS = 50  # more Authentication-Results fields than any real path writes


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the mail may be taken as its From address, and why (for the log)."""

    verified: bool
    reason: str


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower()


def aligned(authenticated: str, from_domain: str, *, child_ok: bool) -> bool:
    """Whether `authenticated` (a DKIM `d=` or SPF domain) stands for `from_domain`:
    the same domain, a parent of it, or (`child_ok`, for SPF's bounce domains) a
    sub-domain of it. A bare top-level domain never counts."""
    a, f = authenticated.strip(".").lower(), from_domain.strip(".").lower()
    if not a or not f or "." not in a or "." not in f:
        return False
    return a == f or f.endswith("." + a) or (child_ok and a.endswith("." + f))


def _trusted_field(message: Message, authserv_id: str) -> object | None:
    """The parsed topmost Authentication-Results field of `authserv_id` (None when
    there is none or it cannot be read)."""
    wanted = authserv_id.strip().lower()
    for raw in (message.get_all("Authentication-Results") or [])[:MAX_FIELDS]:
        text = " ".join(str(raw).split())
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(text)
        except Exception:  # noqa: S112 - authres raises its own and others on junk
            continue  # an unreadable field is no verdict of anyone's
        if str(parsed.authserv_id or "").strip().lower() == wanted:
            found: object = parsed
            return found
    return None


def _properties(result: object) -> dict[tuple[str, str], str]:
    return {
        (str(p.type).lower(), str(p.name).lower()): str(p.value)
        for p in getattr(result, "properties", ())
    }


def verify_sender(message: Message, authserv_id: str) -> Verdict:
    """The verdict on `message`'s From address by the host `authserv_id`."""
    senders = getaddresses([str(v) for v in message.get_all("From") or []])
    if len(senders) != 1 or "@" not in senders[0][1]:
        return Verdict(False, "the mail does not have exactly one From address")
    from_domain = _domain(senders[0][1])
    field = _trusted_field(message, authserv_id)
    if field is None:
        return Verdict(False, f"no Authentication-Results of {authserv_id}")
    passed: list[str] = []
    for result in getattr(field, "results", ()):
        method, outcome = str(result.method).lower(), str(result.result).lower()
        if outcome != "pass":
            continue
        props = _properties(result)
        if method == "dmarc" and _domain(props.get(("header", "from"), "")) == from_domain:
            passed.append("dmarc")
        elif method == "dkim" and aligned(
            props.get(("header", "d"), ""), from_domain, child_ok=False
        ):
            passed.append("dkim")
        elif method == "spf" and aligned(
            _domain(props.get(("smtp", "mailfrom"), "")), from_domain, child_ok=True
        ):
            passed.append("spf")
    if passed:
        return Verdict(True, f"{authserv_id}: {', '.join(passed)}=pass for {from_domain}")
    return Verdict(
        False,
        f"{authserv_id} did not authenticate {from_domain} (no aligned dmarc, dkim or spf pass)",
    )
