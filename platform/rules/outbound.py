"""Which addresses an outbound call (a webhook, later IM robots and data sources) may
reach: public ones only, unless the config allows private ones for that call.

A request the server makes on a config's behalf must not reach what only the server
can reach: itself (loopback), the cloud's metadata service (link-local
169.254.169.254), the office network (private ranges), nor multicast, reserved or
unspecified addresses. This module is the one decision, pure (no resolving, no I/O):
`address_refusal` judges an address, `literal_refusal` judges the host of a URL when
it is written as an address (or as `localhost`), which `gongdan check` reports at
file:line. `gongdan.channels.outbound` applies `address_refusal` to the addresses a
host name resolves to at delivery time, and connects to the address it judged.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["IPAddress", "address_refusal", "literal_refusal", "parse_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Prefixes whose IPv6 addresses carry an IPv4 address inside (NAT64, RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why an outbound call may not go to `address` ("loopback", "link-local", …), or
    None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded(address)
        if inner is not None:
            why = address_refusal(inner)
            return f"{why} (inside {address})" if why else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, hit in checks:
        if hit:
            return f"{name} address {address}"
    if not address.is_global:  # shared (100.64/10), documentation, benchmarking …
        return f"non-public address {address}"
    return None


def parse_address(host: str) -> IPAddress | None:
    """`host` as an address, when it is one: dotted or bracketed IPv6, and the short
    and numeric IPv4 forms a resolver also accepts (`127.1`, `2130706433`, `0x7f.1`)."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and text[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def literal_refusal(url: str) -> str | None:
    """Why `url` may not be called whatever it resolves to: its host is a refused
    address written out, or `localhost`. None when only resolving can tell."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return f"'{url}' is not a valid URL"
    if not host:
        return f"'{url}' names no host"
    if host == "localhost" or host.endswith(".localhost"):
        return f"'{host}' is a loopback host"
    address = parse_address(host)
    return address_refusal(address) if address is not None else None
