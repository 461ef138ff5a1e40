"""The ``onecloud`` command's first-use paths: clear messages instead of tracebacks or silence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from onecloud import cli, client, worker

ROOT = Path(__file__).resolve().parent.parent


def _onecloud(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "onecloud.cli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_aws(tmp_path: Path) -> dict[str, str]:
    """No endpoint, no credentials anywhere botocore looks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ONECLOUD_"))}
    return {
        **env,
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "ONECLOUD_AWS_PORT": "4999",
    }


def test_user_add_without_aws_says_which_variable_to_set(tmp_path):
    result = _onecloud("user", "add", "alice", "--password", "pw", env=_no_aws(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Unable to locate credentials" in result.stderr
    assert "ONECLOUD_AWS_ENDPOINT=http://127.0.0.1:4999" in result.stderr


def test_user_add_without_a_terminal_asks_for_the_password_option(tmp_path):
    result = _onecloud("user", "add", "alice", env=_no_aws(tmp_path))
    assert result.returncode == 2
    assert "--password is required" in result.stderr


def test_the_default_api_is_the_local_stack_on_its_port(monkeypatch):
    monkeypatch.delenv("ONECLOUD_URL", raising=False)
    monkeypatch.setenv("ONECLOUD_PORT", "8123")
    assert client.api_url(None) == "http://127.0.0.1:8123"
    monkeypatch.setenv("ONECLOUD_URL", "https://api.example.org/")
    assert client.api_url(None) == "https://api.example.org"


def test_a_worker_run_once_with_nothing_waiting_says_so(monkeypatch):
    monkeypatch.setattr(client, "authenticated", lambda url: object())
    monkeypatch.setattr(worker, "waiting_tasks", lambda api, lab: [])
    result = CliRunner().invoke(cli.cli, ["worker", "--lab", "cortexlab", "--once"])
    assert result.exit_code == 0
    assert "no task of lab cortexlab is waiting" in result.output
