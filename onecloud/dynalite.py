"""dynalite (npm), a DynamoDB implementation on LevelDB, for what moto cannot show.

moto answers a query on a global secondary index by iterating over the whole table, and checks a
conditional write without a lock, so two threads can both pass the same condition. dynalite keeps each
index as its own sorted key space and serves requests one at a time on Node's event loop, as DynamoDB
serializes writes to an item: the API benchmark times it, and the claim race is tested on it.
(dynalite has no transactions.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = ROOT / "bench"
EXECUTABLE = PREFIX / "node_modules" / ".bin" / "dynalite"
PACKAGE = "dynalite@4.0.0"


def available() -> bool:
    return EXECUTABLE.exists() or shutil.which("npm") is not None


def ensure_installed() -> Path:
    """Install dynalite into bench/node_modules (ignored by git) the first time."""
    if not EXECUTABLE.exists():
        if shutil.which("npm") is None:
            raise RuntimeError("dynalite needs npm (Node.js) to be installed")
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(PREFIX),
                PACKAGE,
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--no-package-lock",
            ],
            check=True,
            capture_output=True,
        )
    return EXECUTABLE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(log_path: Path, heap_mb: int = 2048) -> Iterator[str]:
    """An in-memory dynalite on a free loopback port; yields its endpoint and always stops it."""
    executable, port = ensure_installed(), _free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(executable),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--createTableMs",
                "0",
                "--updateTableMs",
                "0",
                "--deleteTableMs",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_OPTIONS": f"--max-old-space-size={heap_mb}"},
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"dynalite exited: {log_path.read_text()}")
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("dynalite did not listen within 30 s")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
