"""A first `gongdan serve` on an empty database says how to make the first admin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.bundles import EXAMPLE
from tests.helpers import free_port, run_gongdan

HINT = "gongdan user add you@example.com --role admin"


def _serve_output(env: dict[str, str]) -> str:
    """Start `gongdan serve`, wait until it answers /healthz, stop it; its output."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gongdan.cli",
            "--config",
            str(EXAMPLE),
            "serve",
            "--port",
            f"{port}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    return output


def test_serve_on_an_empty_database_tells_how_to_create_the_first_admin(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "GONGDAN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    output = _serve_output(env)
    assert "nobody can sign in yet (the database has no admin)" in output
    assert HINT in output and "gongdan serve --demo" in output
    # Once there is an admin, nothing is said.
    added = run_gongdan(
        "user",
        "add",
        "boss@example.com",
        "--role",
        "admin",
        "--password",
        "a long password",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert HINT not in _serve_output(env)
