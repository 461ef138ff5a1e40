"""Runs the local stack (`make up`) in a subprocess for end-to-end tests, on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
    """What ``check`` returns once it is truthy; fails saying ``what`` did not happen in ``timeout`` s.

    Timeouts are generous: the stack's jobs run as local processes on whatever CPU the machine has left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"{what} within {timeout:g} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Stack:
    def __init__(self, state_dir: Path, **env: str) -> None:
        self.api_port, self.aws_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "ONECLOUD_PORT": str(self.api_port),
            "ONECLOUD_AWS_PORT": str(self.aws_port),
            "ONECLOUD_STATE_DIR": str(state_dir),
            "ONECLOUD_ADMIN_USER": "root",
            "ONECLOUD_ADMIN_PASSWORD": "root-password",
            **env,
        }
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.log = state_dir.parent / f"stack-{self.api_port}.log"

    def start(self) -> float:
        started = time.monotonic()
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "up"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = started + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{self.api_port}/health", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"/health did not answer within 60 s:\n{self.log.read_text()}")

    def interrupt(self) -> None:
        """What Ctrl-C in a terminal does: SIGINT to the foreground process group. make passes the
        interrupt on (exiting by the signal); onecloud itself must stop cleanly and leave nothing behind."""
        os.killpg(self.process.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while "stopped" not in self.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "stopped" in self.log.read_text(), self.log.read_text()
        # once stopped, it exits: no minutes of interpreter teardown at full CPU
        assert self.process.wait(timeout=5) in (0, -signal.SIGINT)
        assert port_is_free(self.api_port) and port_is_free(self.aws_port)
        leftovers = subprocess.run(["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True)
        assert leftovers.stdout == "", "orphan processes remain"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**self.env, "ONECLOUD_AWS_ENDPOINT": f"http://127.0.0.1:{self.aws_port}"}
        return subprocess.run(
            [str(ROOT / ".venv/bin/onecloud"), *args], env=env, capture_output=True, text=True, timeout=60
        )


ROOT_USER, ROOT_PASSWORD = "root", "root-password"  # the superuser every Stack seeds


def upload(url: str, folder: Path, lab: str, username: str, password: str) -> None:
    """``onecloud upload FOLDER --lab LAB`` as a rig runs it, with the account in the environment."""
    env = {**os.environ, "ONECLOUD_URL": url, "ONECLOUD_USERNAME": username, "ONECLOUD_PASSWORD": password}
    uploaded = subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), "upload", str(folder), "--lab", lab],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr


class As:
    """Plain ``requests`` as one account, for set-up and for checking what a client did."""

    def __init__(self, url: str, username: str = ROOT_USER, password: str = ROOT_PASSWORD) -> None:
        self.url = url
        answer = requests.post(
            f"{url}/auth-token", data={"username": username, "password": password}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Token {answer.json()['token']}"}

    def __call__(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        answer = requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=30, **kwargs)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


def running(state_dir: Path, **env: str) -> Iterator[Stack]:
    """A module's stack: started, yielded, and always stopped (SIGKILL when Ctrl-C is not enough), even
    when a test failed half-way."""
    stack = Stack(state_dir, **env)
    try:
        stack.start()  # inside: a stack too slow to answer /health is stopped too
        yield stack
    finally:
        if getattr(stack, "process", None) is not None:
            try:
                os.killpg(stack.process.pid, signal.SIGINT)
                stack.process.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(stack.process.pid, signal.SIGKILL)
                stack.process.wait(timeout=10)
