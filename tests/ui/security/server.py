"""A real `gongdan serve --demo` in a subprocess for the security tests: the example
config, on a free port, with the environment a test gives (SQLite by default, or a
PostgreSQL database of its own); its log in `root/server.log`.

`raw_request` speaks HTTP/1.1 over a plain socket, for what an HTTP client library
would not do on its own (a body that lies about its size, a body still being sent
when the answer comes)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from tests.bundles import EXAMPLE
from tests.helpers import free_port, run_gongdan, wait_for_server

__all__ = [
    "Served",
    "add_user",
    "csrf_of",
    "raw_request",
    "read_answer",
    "rss_kib",
    "served",
    "signed_in_client",
]


@dataclass(frozen=True)
class Served:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str


@contextmanager
def served(
    root: Path, *, database_url: str | None = None, workers: int = 1, **settings: str
) -> Iterator[Served]:
    """`gongdan serve --demo` with `settings` as more environment variables."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    root.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{root / 'gongdan.db'}"
    env = {
        **os.environ,
        "GONGDAN_DATABASE_URL": database_url,
        "GONGDAN_DATA_DIR": str(root / "data"),
        "GONGDAN_SECRET_KEY": "security-tests",
        "GONGDAN_BASE_URL": base,
        **settings,
    }
    env.pop("GONGDAN_BROKER_URL", None)
    command = [
        sys.executable, "-c", "from gongdan.cli import run; run()", "serve", "--demo",
        "--config", str(EXAMPLE), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(
                process,
                lambda: urllib.request.urlopen(f"{base}/healthz", timeout=2).close(),  # noqa: S310
                timeout=90,
                name="gongdan serve --demo",
                output=lambda: log_path.read_text(errors="replace"),
            )
            yield Served(base, port, process, log_path, database_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def raw_request(port: int, head: str, timeout: float = 10) -> socket.socket:
    """A connection to the server that has sent `head` (request line and headers,
    lines joined by CRLF, without the blank line: it is added)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(head.encode() + b"\r\n\r\n")
    return sock


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and as much of the body as arrives until
    the server closes or goes quiet."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(rest) >= length:
                    break
    except (TimeoutError, ConnectionResetError):
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0]:
        return 0, {}, b""
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def rss_kib(pid: int) -> int:
    """The resident memory of process `pid` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of the page at `path` for `client`'s session."""
    found = CSRF.search(client.get(path, follow_redirects=True).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def signed_in_client(base: str, email: str, password: str) -> httpx.Client:
    """A client signed in as `email` (the caller closes it)."""
    client = httpx.Client(base_url=base)
    token = csrf_of(client)
    answer = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert answer.status_code == 303, answer.text[:500]
    return client


def add_user(served: Served, email: str, password: str, role: str = "agent") -> None:
    """`gongdan user add` on the server's database."""
    env = {**os.environ, "GONGDAN_DATABASE_URL": served.database_url}
    done = run_gongdan("user", "add", email, "--role", role, "--password", password, env=env)
    assert done.returncode == 0, done.stderr
