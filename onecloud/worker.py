"""A lab server's worker: it takes Waiting tasks of its lab through the API and runs them with the same
entrypoints as Batch (``python -m batch.<job> <task id>``), reporting each outcome.

Claims are atomic (one conditional write) with a lease, so several workers, and Batch, can never run
the same task; a worker that dies leaves a lease that runs out and another may take the task over.
The jobs themselves read and write the data bucket and tables, so a lab server needs AWS credentials
scoped as the Batch job role is (or, on the local stack, its endpoint).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from onecloud.client import Api, ApiError

LOG_TAIL = 100


@dataclass(frozen=True)
class Outcome:
    task: str
    name: str
    status: str
    seconds: float


def waiting_tasks(api: Api, lab: str) -> list[dict]:
    return api.get("/tasks", status="Waiting", lab=lab)["results"]


def run_task(api: Api, task: dict, worker: str, *, lease_seconds: int) -> Outcome | None:
    """Claim and run one task; None when another worker (or Batch) had it first."""
    try:
        api.post(f"/tasks/{task['id']}/claim", {"worker": worker, "lease_seconds": lease_seconds})
    except ApiError as error:
        if error.status == 409:
            return None
        raise
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", task["executable"], task["id"]],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    seconds = round(time.monotonic() - started, 3)
    log = "\n".join((result.stdout + result.stderr).splitlines()[-LOG_TAIL:])
    status = "Complete" if result.returncode == 0 else "Errored"
    api.request(
        "PATCH", f"/tasks/{task['id']}", json={"status": status, "log": log, "time_elapsed_secs": seconds}
    )
    return Outcome(task["id"], task["name"], status, seconds)


def work(
    api: Api,
    lab: str,
    worker: str,
    *,
    once: bool,
    poll_seconds: float,
    lease_seconds: int,
    report: Callable[[Outcome], None],
) -> list[Outcome]:
    """Run the lab's Waiting tasks until none is left (``once``) or forever, polling."""
    outcomes: list[Outcome] = []
    while True:
        ran = False
        for task in waiting_tasks(api, lab):
            outcome = run_task(api, task, worker, lease_seconds=lease_seconds)
            if outcome is not None:
                ran = True
                outcomes.append(outcome)
                report(outcome)
        if once and not ran:
            return outcomes
        if not ran:
            time.sleep(poll_seconds)
