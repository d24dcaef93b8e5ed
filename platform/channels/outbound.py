"""Outbound HTTP that cannot be steered to private addresses (SSRF guard).

Every call the server makes on a config's behalf (webhooks today; IM robots and data
sources as they come) goes through `open_connection`: the host is resolved once, every
address it resolves to is judged by `gongdan.rules.outbound.address_refusal`, and the
connection is made to the address judged, never by resolving the name again, so a name
that answers a public address to the check and a private one to the connect (DNS
rebinding) gets nowhere. TLS still verifies the certificate against the host name.
A call whose config says `allow_private: true` may reach private addresses.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from gongdan.rules.outbound import IPAddress, address_refusal, parse_address

__all__ = ["OutboundRefused", "Target", "open_connection", "resolve_target"]


class OutboundRefused(Exception):
    """The URL may not be called: a refused address, or a host that does not resolve."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a call goes: the URL's parts and the one address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _resolve(host: str, port: int) -> list[str]:
    literal = parse_address(host)
    if literal is not None:
        return [str(literal)]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundRefused(f"cannot resolve '{host}': {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def resolve_target(url: str, *, allow_private: bool = False) -> Target:
    """Resolve `url`'s host once and choose the address to connect to; raises
    `OutboundRefused` when any address it resolves to is not public (unless
    `allow_private`), so no answer among several can slip through."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused(f"bad port in {url!r}") from None
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused(f"no host in {url!r}")
    addresses = _resolve(host, port)
    if not addresses:
        raise OutboundRefused(f"'{host}' resolves to no address")
    if not allow_private:
        for address in addresses:
            parsed: IPAddress | None = parse_address(address)
            refusal = address_refusal(parsed) if parsed is not None else "an unknown address"
            if refusal is not None:
                raise OutboundRefused(f"'{host}' resolves to a {refusal}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a chosen address, with the URL's host in the Host header."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a chosen address; SNI and the certificate check use the host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def open_connection(
    url: str, *, timeout: float, allow_private: bool = False
) -> tuple[http.client.HTTPConnection, Target]:
    """A connection (not yet opened) to the address `url` resolved to, and the
    target; raises `OutboundRefused` as `resolve_target` does."""
    target = resolve_target(url, allow_private=allow_private)
    if target.scheme == "https":
        return _PinnedHTTPS(target, timeout), target
    return _PinnedHTTP(target, timeout), target
