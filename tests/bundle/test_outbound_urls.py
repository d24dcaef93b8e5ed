"""`gongdan check` refuses a webhook to a private address written out in the config
(issue 20, finding 7), at file:line, unless the webhook allows it on purpose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.cli import main
from tests.tasks.conftest import webhook_bundle


def without_allowance(config: Path) -> Path:
    workflow = config / "workflows" / "basic.yaml"
    workflow.write_text(workflow.read_text("utf-8").replace(", allow_private: true", ""))
    return config


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest", "http://[::ffff:10.0.0.1]", "http://localhost:80"]
)
def test_check_refuses_a_webhook_to_a_private_address_at_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    config = without_allowance(webhook_bundle(tmp_path, url))
    assert main(["check", str(config)]) == 1
    out = capsys.readouterr().out + capsys.readouterr().err
    assert re.search(r"workflows/basic\.yaml:\d+:\d+: .*webhook.*url", out), out
    assert "may not call this host" in out and "allow_private: true" in out


def test_allow_private_lets_an_admin_call_a_private_host_on_purpose(tmp_path: Path) -> None:
    bundle = load_bundle(webhook_bundle(tmp_path, "http://10.0.0.5:8080"))
    assert "incident" in bundle.ticket_types


def test_a_host_name_is_left_to_delivery(tmp_path: Path) -> None:
    load_bundle(without_allowance(webhook_bundle(tmp_path, "https://hooks.example.com")))
