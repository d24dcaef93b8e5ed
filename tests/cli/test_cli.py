"""The `gongdan` command as a user runs it: exit codes, output lines, schema export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from gongdan.bundle import schemas
from gongdan.bundle.yamlio import parse_documents
from gongdan.cli import main
from tests.bundles import EXAMPLE, make_bundle
from tests.helpers import REPO, free_port, run_gongdan


def test_check_example_bundle_passes_with_a_summary() -> None:
    result = run_gongdan("check", "config")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("config: OK: 5 ticket types")


def test_check_reports_every_error_one_per_line_and_exits_1(tmp_path: Path) -> None:
    root = make_bundle(
        tmp_path, {"teams/bad.yaml": "kind: Team\nname: x\ncolour: 1\nemail: nope\n"}
    )
    result = run_gongdan("check", str(root))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{root}/teams/bad.yaml:3:1: colour: unknown key 'colour' (expected one of: "
        "description, email, id, kind, members, name)",
        f"{root}/teams/bad.yaml:4:8: email: 'nope' does not match the pattern ^[^@\\s]+@[^@\\s]+$",
    ]
    assert "2 errors" in result.stderr


def test_config_option_and_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_bundle(tmp_path)
    assert main(["--config", str(root), "check"]) == 0
    assert capsys.readouterr().out.startswith(f"{root}: OK")
    monkeypatch.setenv("GONGDAN_CONFIG_DIR", str(root))
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith(f"{root}: OK")


def test_schema_export_writes_valid_schemas(tmp_path: Path) -> None:
    assert main(["schema", "export", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "gongdan.schema.json" in names and "ticket_type.schema.json" in names
    for path in tmp_path.iterdir():
        Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


def test_committed_schemas_are_up_to_date(tmp_path: Path) -> None:
    main(["schema", "export", str(tmp_path)])
    for path in tmp_path.iterdir():
        committed = REPO / "schemas" / path.name
        assert committed.read_text("utf-8") == path.read_text("utf-8"), (
            f"schemas/{path.name} is stale: run `gongdan schema export schemas`"
        )


def test_combined_schema_checks_multi_kind_files_like_an_editor() -> None:
    """What yaml-language-server does with the combined schema: accept the example bundle
    and flag a mistake."""
    validator = Draft202012Validator(schemas.bundle_schema())
    for path in EXAMPLE.rglob("*.yaml"):
        for doc in parse_documents(path.read_bytes(), str(path)):  # YAML 1.2, like the editor
            assert not list(validator.iter_errors(doc.data)), path
    assert list(validator.iter_errors({"kind": "Team", "name": "x", "colour": 1}))


def test_usage_error_exits_2() -> None:
    result = run_gongdan("frobnicate")
    assert result.returncode == 2


def test_db_upgrade_and_user_add_use_the_database_url(tmp_path: Path) -> None:
    import os

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "GONGDAN_DATABASE_URL": url}
    upgraded = run_gongdan("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    added = run_gongdan(
        "user",
        "add",
        "Li.Wei@Example.com",
        "--role",
        "agent",
        "--name",
        "李伟",
        "--password",
        "s3cret",
        env=env,
    )
    assert added.returncode == 0 and "added agent li.wei@example.com" in added.stdout
    again = run_gongdan("user", "add", "li.wei@example.com", "--role", "agent", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_role = run_gongdan("user", "add", "x@example.com", "--role", "boss", env=env)
    assert bad_role.returncode == 2
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        name, password_hash = connection.execute(
            sa.text("SELECT name, password_hash FROM users WHERE email = 'li.wei@example.com'")
        ).one()
    engine.dispose()
    assert name == "李伟" and password_hash.startswith("$argon2")


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_healthz_on_the_given_host_and_port(tmp_path: Path, workers: int) -> None:
    import os
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "GONGDAN_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gongdan.cli",
            "--config",
            str(EXAMPLE),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        answers = []
        while len(answers) < 4:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    answers.append(json.loads(r.read()))
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert all(body["status"] == "ok" for body in answers)
        if workers > 1:  # uvicorn's supervisor and its worker processes
            children = _children(server.pid)
            while len(children) < workers and time.monotonic() < deadline:
                time.sleep(0.3)
                children = _children(server.pid)
            assert len(children) >= workers, children
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` that run Python (not a resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == pid and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Wednesday 30 Sept 17:00 + 4h: 1h that day, National Day holiday 1-7 Oct, then
        # 3h on Thursday 8 Oct (09:00-12:00).
        (
            ["deadline", "--start", "2026-09-30T17:00+08:00", "--duration", "4h"],
            "2026-10-08T12:00:00+08:00",
        ),
        # The same instant given in UTC: the answer keeps the calendar's offset.
        (
            ["deadline", "--start", "2026-09-30T09:00Z", "--duration", "4h"],
            "2026-10-08T12:00:00+08:00",
        ),
        (
            ["between", "--start", "2026-10-09T09:00+08:00", "--end", "2026-10-09T18:00+08:00"],
            "27000 business seconds (7h30m) on cn_business",
        ),
        # The make-up Saturday 10 Oct is worked.
        (
            ["between", "--start", "2026-10-10T00:00+08:00", "--end", "2026-10-11T00:00+08:00"],
            "27000 business seconds (7h30m) on cn_business",
        ),
    ],
)
def test_sla_commands_check_a_calendar(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    verb, *rest = args
    assert main(["--config", str(EXAMPLE), "sla", verb, "--calendar", "cn_business", *rest]) == 0
    assert capsys.readouterr().out.strip() == expected


def sla_deadline(calendar: str, start: str, duration: str) -> int:
    return main(
        [
            "--config",
            str(EXAMPLE),
            "sla",
            "deadline",
            "--calendar",
            calendar,
            "--start",
            start,
            "--duration",
            duration,
        ]
    )


def test_sla_command_errors_say_what(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        sla_deadline("cn_busines", "2026-10-09T09:00+08:00", "4h")
    assert exited.value.code == 1
    assert "did you mean 'cn_business'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sla_deadline("cn_business", "2026-10-09 09:00", "4h")
    assert "needs a UTC offset" in capsys.readouterr().err
    assert sla_deadline("cn_business", "2026-10-09T09:00+08:00", "4x") == 1
    assert "invalid duration" in capsys.readouterr().err
