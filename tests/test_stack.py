"""`make up`: the whole system locally, reachable over HTTP, stopped cleanly by Ctrl-C, keeping its state."""

from __future__ import annotations

import pytest
import requests

from tests.localstack import Stack

pytestmark = pytest.mark.e2e


def test_make_up_serves_health_and_stops_cleanly_keeping_its_state(tmp_path):
    stack = Stack(tmp_path / "state")
    stack.start()
    health = requests.get(f"http://127.0.0.1:{stack.api_port}/health", timeout=5).json()
    assert health["backend"] == "local"
    assert "WARNING" not in stack.log.read_text()  # the admin password was set, so no warning
    created = stack.cli("user", "add", "alice", "--password", "pw", "--email", "alice@example.org")
    assert created.returncode == 0, created.stderr

    stack.interrupt()

    again = Stack(tmp_path / "state")
    again.start()
    duplicate = again.cli("user", "add", "alice", "--password", "pw")
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    again.interrupt()
