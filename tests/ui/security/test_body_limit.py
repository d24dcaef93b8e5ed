"""Issue 20, finding 3: every request body is size-limited before it is read, by route
family (`ui.bodylimit`), against a real `gongdan serve`."""

from __future__ import annotations

import select
import time

import httpx2 as httpx

from tests.ui.security.server import Served, raw_request, read_answer, rss_kib

FORM = "application/x-www-form-urlencoded"
MB = 1024 * 1024


def test_a_200_mb_login_post_is_refused_by_its_length_before_a_byte_is_read(
    server: Served,
) -> None:
    sock = raw_request(
        server.port,
        f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {200 * MB}",
    )
    with sock:
        started = time.monotonic()
        status, headers, body = read_answer(sock)  # no body sent at all
    assert status == 413, "the server waited for the body instead of refusing it"
    assert time.monotonic() - started < 5
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/html")
    assert b"too large" in body


def test_a_chunked_200_mb_login_post_is_refused_while_it_streams_and_memory_stays_flat(
    server: Served,
) -> None:
    before = rss_kib(server.process.pid)
    sock = raw_request(
        server.port,
        f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM}\r\n"
        "Transfer-Encoding: chunked",
    )
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"a" * 64 * 1024)
    sent = 0
    with sock:
        try:
            while sent < 200 * MB:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server answered while we are still sending
                sock.sendall(chunk)
                sent += 64 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, headers, _ = read_answer(sock)
    grown = rss_kib(server.process.pid) - before
    assert status == 413
    assert headers["connection"] == "close"
    assert sent < 20 * MB, f"{sent // MB} MB were sent before the server refused"
    assert grown < 30 * 1024, f"the server grew by {grown // 1024} MB"


def test_each_family_has_its_own_limit_and_the_api_answers_json(server: Served) -> None:
    with httpx.Client(base_url=server.base) as client:
        api = client.post(
            "/api/v1/tickets",
            content=b"{" + b" " * (2 * MB) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert api.status_code == 413
        assert api.json()["error"] == "payload_too_large"
        # An upload may be larger than a form (30 MiB by default), not larger still.
        upload = "/portal/new/it_incident/upload/screenshot"
        two_mb = client.post(
            upload, content=b"x" * (2 * MB), headers={"Content-Type": "multipart/form-data"}
        )
        assert two_mb.status_code != 413
        sock = raw_request(
            server.port,
            f"POST {upload} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {31 * MB}",
        )
        with sock:
            status, _, _ = read_answer(sock)
        assert status == 413
        form = client.post("/login", content=b"a" * (2 * MB), headers={"Content-Type": FORM})
        assert form.status_code == 413
