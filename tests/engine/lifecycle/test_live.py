"""`LiveConfig`: each process's current bundle follows the database's active version; a
watching process promotes a changed folder; an invalid change never replaces the
active version and its errors are kept for admins; work in flight keeps the bundle it
started with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gongdan.engine.lifecycle.live import LiveConfig, reload_mode, start_config
from gongdan.engine.lifecycle.versions import version_log
from gongdan.engine.store.database import Database
from gongdan.errors import ConfigError
from tests.bundles import make_bundle
from tests.engine.lifecycle.test_promote import BROKEN_TYPE, NEW_TYPE


def test_a_watched_change_is_promoted_and_every_process_follows(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    watcher = start_config(db, root, mode="watch")
    other = start_config(db, root, mode="manual")  # another process, not watching
    before = other.current()  # a request in flight holds this one
    assert watcher.bundle.version == other.bundle.version
    assert not watcher.look() and not other.follow()  # nothing changed

    (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
    promoted = watcher.look()
    assert promoted is not None and promoted.outcome == "activated"
    assert "question" in watcher.bundle.ticket_types
    swapped: list[str] = []
    other.subscribe(lambda bundle: swapped.append(bundle.version))
    assert other.follow()
    assert "question" in other.bundle.ticket_types and swapped == [other.bundle.version]
    assert "question" not in before.ticket_types  # the old object is left as it was
    assert [r.source for r in version_log(db)] == ["file change", "start-up"]


def test_an_invalid_change_keeps_the_active_version_and_reports_its_errors(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    watcher = start_config(db, root, mode="watch")
    served = watcher.bundle.version
    broken = root / "ticket_types" / "broken.yaml"
    broken.write_text(BROKEN_TYPE, encoding="utf-8")
    result = watcher.look()
    assert result is not None and result.outcome == "invalid"
    assert watcher.bundle.version == served and len(version_log(db)) == 1
    assert [str(i) for i in watcher.errors] == [
        str(i) for i in result.issues if i.severity == "error"
    ]
    assert str(watcher.errors[0]).startswith(f"{broken}:5:")

    broken.write_text(NEW_TYPE.replace("question", "broken"), encoding="utf-8")
    result = watcher.look()
    assert result is not None and result.outcome == "activated"
    assert watcher.errors == () and "broken" in watcher.bundle.ticket_types


def test_manual_mode_serves_the_active_version_not_the_folder(db: Database, tmp_path: Path) -> None:
    root = make_bundle(tmp_path)
    first = start_config(db, root, mode="manual")  # nothing active yet: the folder is
    (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
    again = start_config(db, root, mode="manual")
    assert again.bundle.version == first.bundle.version
    assert "question" not in again.bundle.ticket_types and not again.watch
    assert again.look() is None and len(version_log(db)) == 1


def test_a_process_cannot_start_on_an_invalid_folder_with_nothing_active(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path, {"ticket_types/broken.yaml": BROKEN_TYPE})
    with pytest.raises(ConfigError, match=r"broken\.yaml:5"):
        start_config(db, root)


def test_a_process_starts_on_the_active_version_when_the_folder_is_broken(
    db: Database, tmp_path: Path
) -> None:
    root = make_bundle(tmp_path)
    good = start_config(db, root).bundle.version
    (root / "ticket_types" / "broken.yaml").write_text(BROKEN_TYPE, encoding="utf-8")
    restarted = start_config(db, root)
    assert restarted.bundle.version == good and restarted.errors


def test_the_follower_thread_swaps_within_seconds(db: Database, tmp_path: Path) -> None:
    root = make_bundle(tmp_path)
    live = start_config(db, root, mode="watch", poll_seconds=0.1)
    live.start()
    try:
        (root / "ticket_types" / "question.yaml").write_text(NEW_TYPE, encoding="utf-8")
        from tests.helpers import wait_until

        assert wait_until(lambda: "question" in live.bundle.ticket_types, 10)
    finally:
        live.stop()


@pytest.mark.parametrize(
    ("value", "mode"), [(None, "watch"), ("", "watch"), ("manual", "manual"), (" Watch ", "watch")]
)
def test_reload_mode_from_the_environment(value: str | None, mode: str) -> None:
    env = {} if value is None else {"GONGDAN_CONFIG_RELOAD": value}
    assert reload_mode(env) == mode


def test_an_unknown_reload_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="watch or manual"):
        reload_mode({"GONGDAN_CONFIG_RELOAD": "sometimes"})


def test_live_config_is_shared_not_rebuilt(db: Database, tmp_path: Path) -> None:
    live = start_config(db, make_bundle(tmp_path))
    assert isinstance(live, LiveConfig) and live.current() is live.current()


def test_an_active_version_this_release_cannot_compile_leaves_the_process_as_it_is(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """(A version stored by a newer release, say, with a kind this one does not know.)"""
    from gongdan.engine.lifecycle.versions import read_active, record_activation
    from tests.factories import NOW

    live = start_config(db, make_bundle(tmp_path))
    served = live.bundle.version
    with db.transaction() as session:
        record_activation(
            session,
            version="00000000000000ff",
            files=[("future.yaml", "kind: Hologram\nid: x\n")],
            summary="from the future",
            previous=read_active(session),
            source="apply",
            activated_by="a newer release",
            now=NOW,
        )
    assert not live.follow() and not live.follow()
    assert live.bundle.version == served
    assert [r.message for r in caplog.records].count(
        next(r.message for r in caplog.records if "cannot be compiled" in r.message)
    ) == 1  # logged once, not compiled again every round


def test_the_active_bundle_is_compiled_from_the_stored_version(
    db: Database, tmp_path: Path
) -> None:
    from gongdan.engine.lifecycle.live import active_bundle
    from gongdan.engine.lifecycle.promote import promote_folder

    assert active_bundle(db) is None
    root = make_bundle(tmp_path, {"ticket_types/question.yaml": NEW_TYPE})
    promoted = promote_folder(db, root, source="apply")
    shutil.rmtree(root)  # the database alone is enough
    active = active_bundle(db)
    assert active is not None and active.version == promoted.version
    assert set(active.ticket_types) == {"incident", "question"}
