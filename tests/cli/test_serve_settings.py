"""`gongdan serve` with several workers (issue 20, finding 12): the supervisor's health
check waits long enough for a worker to start on a loaded machine, and forwarded
headers are believed only from the configured proxies."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gongdan.cli import main
from gongdan.cli.serve import WORKER_HEALTHCHECK_SECONDS
from tests.bundles import EXAMPLE


class Started:
    """Stands for the `gongdan background` process `serve` starts (`subprocess.Popen`)."""

    def __init__(self, command: list[str], ran: dict[str, Any]) -> None:
        ran["background"], self.ran = command, ran
        # What the web workers (started after it, inheriting it) are told.
        ran["background_env"] = os.environ.get("GONGDAN_BACKGROUND")

    def terminate(self) -> None:
        self.ran["terminated"] = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


def _serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *options: str, **env: str
) -> dict[str, Any]:
    ran: dict[str, Any] = {}

    def run(*args: Any, **kwargs: Any) -> None:
        ran.update(kwargs, workers_env=os.environ.get("GONGDAN_BACKGROUND"))

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(subprocess, "Popen", lambda command, **_: Started(command, ran))
    monkeypatch.setenv("GONGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'gongdan.db'}")
    monkeypatch.setenv("GONGDAN_CONFIG_DIR", str(EXAMPLE))  # `serve` sets it: restored after
    monkeypatch.delenv("GONGDAN_BROKER_URL", raising=False)
    # (Set first, so that what `serve` writes there is undone after the test.)
    monkeypatch.setenv("GONGDAN_BACKGROUND", "")
    monkeypatch.delenv("GONGDAN_BACKGROUND")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--config", str(EXAMPLE), "--workers", "2", *options]) == 0
    return ran


def test_serve_background_process_starts_one_process_for_the_background_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran = _serve(monkeypatch, tmp_path, "--background", "process")
    assert ran["background"][-1] == "background" and ran["terminated"]  # stopped with serve
    assert ran["workers_env"] == "process"  # the web workers leave the work to it
    threads = _serve(monkeypatch, tmp_path)  # the default: threads of each worker
    assert "background" not in threads and threads["workers_env"] == "threads"
    celery = _serve(
        monkeypatch,
        tmp_path,
        "--background",
        "process",
        GONGDAN_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert "background" not in celery  # `gongdan worker` does it


def test_workers_get_a_health_check_that_fits_a_slow_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran = _serve(monkeypatch, tmp_path)
    assert ran["timeout_worker_healthcheck"] == WORKER_HEALTHCHECK_SECONDS >= 30
    assert ran["proxy_headers"] is False  # no proxy configured: X-Forwarded-* ignored
    tuned = _serve(
        monkeypatch,
        tmp_path,
        GONGDAN_WORKER_HEALTHCHECK_SECONDS="90",
        GONGDAN_TRUSTED_PROXIES="10.0.0.5, 10.0.0.6",
    )
    assert tuned["timeout_worker_healthcheck"] == 90
    assert tuned["proxy_headers"] is True
    assert tuned["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"


def test_workers_leave_the_team_sync_to_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two workers syncing teams at once collided on memberships (a unique violation),
    and a worker that fails to start stops the whole server: `serve` syncs once."""
    from gongdan.engine import AccountService
    from gongdan.ui.app import create_app, serve_app

    url = f"sqlite:///{tmp_path / 'gongdan.db'}"
    create_app(EXAMPLE, database_url=url).state.db.dispose()  # what `serve` does first

    def collide(self: object) -> list[str]:
        raise AssertionError("a worker synced the teams")

    monkeypatch.setattr(AccountService, "sync_teams", collide)
    monkeypatch.setattr(AccountService, "record_config_version", collide)
    monkeypatch.setattr("gongdan.ui.app.tune_collector", lambda: None)  # not in the tests
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    monkeypatch.setenv("GONGDAN_CONFIG_DIR", str(EXAMPLE))
    serve_app().state.db.dispose()
