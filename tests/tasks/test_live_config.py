"""A Celery worker process serves the database's active version: a version applied
elsewhere (`gongdan apply`, another host's watcher) reaches its tasks within seconds,
with no restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gongdan import tasks
from gongdan.engine.lifecycle.promote import promote_folder
from gongdan.engine.store.database import Database
from tests.bundles import make_bundle
from tests.engine.lifecycle.test_promote import NEW_TYPE
from tests.helpers import wait_until


@pytest.fixture
def worker_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    db = Database(url)
    db.upgrade()
    monkeypatch.setenv("GONGDAN_DATABASE_URL", url)
    monkeypatch.setenv("GONGDAN_CONFIG_DIR", str(make_bundle(tmp_path / "worker")))
    monkeypatch.setenv("GONGDAN_CONFIG_RELOAD", "manual")
    monkeypatch.setattr(tasks, "_state", {})
    yield db
    live = tasks._state.get("live")
    if live is not None:
        live.stop()
    worker_db = tasks._state.get("db")
    if worker_db is not None:
        worker_db.dispose()
    db.dispose()


def test_a_worker_follows_a_version_applied_elsewhere(worker_env: Database, tmp_path: Path) -> None:
    first = tasks.bundle()
    assert "question" not in first.ticket_types
    elsewhere = make_bundle(tmp_path / "elsewhere", {"ticket_types/question.yaml": NEW_TYPE})
    assert promote_folder(worker_env, elsewhere, source="apply").outcome == "activated"
    assert wait_until(lambda: "question" in tasks.bundle().ticket_types, 5)
    assert tasks.live_config() is tasks.live_config()  # one per process, not per task
