"""Which addresses an outbound call may reach (issue 20, finding 7): a table of
addresses, IPv4 and IPv6, including the IPv6 forms that carry an IPv4 address."""

from __future__ import annotations

import ipaddress

import pytest

from gongdan.rules.outbound import address_refusal, literal_refusal, parse_address

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "169.254.169.254": "link-local",  # the cloud metadata service
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "address",  # shared address space (carrier NAT)
    "0.0.0.0": "unspecified",  # noqa: S104 - a value under test, nothing binds to it
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:169.254.169.254": "link-local",
    "2002:a9fe:a9fe::1": "link-local",  # 6to4 around 169.254.169.254
    "64:ff9b::a00:1": "private",  # NAT64 around 10.0.0.1
}
ALLOWED = ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8")


@pytest.mark.parametrize(("text", "kind"), REFUSED.items())
def test_non_public_addresses_are_refused_with_their_kind(text: str, kind: str) -> None:
    why = address_refusal(ipaddress.ip_address(text))
    assert why is not None and kind in why


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_pass(text: str) -> None:
    assert address_refusal(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data/", True),
        ("http://[::1]:8080/hook", True),
        ("http://[::ffff:7f00:1]/hook", True),
        ("http://localhost:9000/hook", True),
        ("http://api.localhost/hook", True),
        ("http://2130706433/hook", True),  # 127.0.0.1 as one number
        ("http://127.1/hook", True),
        ("http://0x7f.0.0.1/hook", True),
        ("https://hooks.example.com/gongdan", False),  # only resolving can tell
        ("https://93.184.216.34/hook", False),
    ],
)
def test_literal_hosts_are_judged_without_resolving(url: str, refused: bool) -> None:
    assert (literal_refusal(url) is not None) is refused


def test_parse_address_reads_only_addresses() -> None:
    assert parse_address("hooks.example.com") is None
    assert parse_address("1e100.net") is None
    assert str(parse_address("[::1]")) == "::1"
