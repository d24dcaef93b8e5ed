"""Small typed helpers the tests share for real processes, servers and background
work: the `gongdan` command in a subprocess, a free loopback port, waiting for a
condition, waiting for a started server to answer. One copy each: a test that needs
one imports it from here."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["REPO", "free_port", "run_gongdan", "wait_for_server", "wait_until"]

REPO = Path(__file__).parents[1]


def run_gongdan(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`gongdan ARGS` in a subprocess (this interpreter), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "gongdan.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, *, interval: float = 0.1) -> bool:
    """Ask `condition` every `interval` seconds until it holds or `timeout` seconds
    have passed; whether it holds (asked once more at the end, so a slow machine that
    overshoots the deadline still sees the last state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def wait_for_server(
    process: subprocess.Popen[Any],
    probe: Callable[[], object],
    *,
    timeout: float,
    name: str,
    output: Callable[[], str] = lambda: "",
) -> None:
    """Return once `probe()` runs without an `OSError`: the server `process` started
    answers. Fail the test (with `output()`, e.g. the server's log) if the process
    exits first or `timeout` seconds pass; a process still running then is killed
    first, so its output can be read."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                pytest.fail(f"{name} did not start:\n{output()}")
            time.sleep(0.2)


def pdf_document(text: str = "Invoice 2026-12") -> bytes:
    """A real one-page PDF (A6, `text` in Helvetica) with a correct cross-reference
    table, so a browser's PDF viewer opens it."""
    stream = f"BT /F1 14 Tf 24 260 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_image(width: int = 1, height: int = 1) -> bytes:
    """A real PNG a browser draws: blue and orange stripes, `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + (b"\x1f\x6f\xeb" if (y // 10) % 2 else b"\xf0\x88\x3e") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
