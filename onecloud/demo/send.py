"""``onecloud demo``: send the seeded colony (colony.py) to a running stack the way labs and rigs do.

Records go through the REST API (labs, project, subjects, water restrictions, weighings, water); each
session is created, then its files (trials table, wheel, rig settings, ambient sensor data) go through an
upload intent and its presigned PUTs, so S3 events register them and the pipeline runs the TrainingStatus
task of every session, as for a rig's upload. The command then waits for those tasks.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests
from tqdm import tqdm

from onecloud import upload
from onecloud.client import Api, ApiError
from onecloud.demo import behaviour
from onecloud.demo.colony import LABS, PROJECT, DemoMouse, Session

COUNT_SECONDS = 30.0  # how often the ended tasks are counted while waiting (each count reads them all)
USER_AGENT_JOBS = 8  # sessions in flight (3 mice: 20 s to send at 8, 33 s at 4)
PAGE = 100  # sessions listed per request


def _exists(error: ApiError) -> bool:
    return error.status in (400, 409) and "exist" in str(error).lower()


def ensure(api: Api, path: str, key: str, body: dict[str, Any]) -> None:
    """Create the record unless it exists (the demo can be sent again, or after an interruption)."""
    try:
        api.get(f"{path}/{key}")
    except ApiError as error:
        if error.status != 404:
            raise
        api.post(path, body)


def send_labs(api: Api) -> None:
    ensure(
        api, "/projects", PROJECT, {"name": PROJECT, "description": "The demo lab's brain-wide map cohort"}
    )
    for lab in LABS:
        body = {
            "name": lab.name,
            "institution": lab.institution,
            "light_cycle": lab.light_cycle,
            "food": lab.food,
        }
        try:
            api.get(f"/labs/{lab.name}")
            api.request("PATCH", f"/labs/{lab.name}", json={"light_cycle": lab.light_cycle, "food": lab.food})
        except ApiError as error:
            if error.status != 404:
                raise
            api.post("/labs", body)


def parquet(columns: dict[str, np.ndarray]) -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame(columns).to_parquet(buffer, index=False)
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def session_files(mouse: DemoMouse, session: Session) -> dict[str, bytes]:
    """What the rig writes and the lab uploads for one session (ALF names)."""
    day = session.day
    settings = {
        "PYBPOD_PROTOCOL": day.protocol,
        "PYBPOD_BOARD": f"_iblrig_{mouse.lab.name}_behavior_1",
        "SUBJECT_NAME": mouse.nickname,
        "SESSION_DATETIME": session.start.isoformat(),
    }
    position, timestamps = day.wheel
    return {
        "alf/_ibl_trials.table.pqt": parquet(day.trials),
        "alf/_ibl_wheel.position.npy": npy(position),
        "alf/_ibl_wheel.timestamps.npy": npy(timestamps),
        "raw_behavior_data/_iblrig_taskSettings.raw.json": json.dumps(settings).encode(),
        "raw_behavior_data/_iblrig_ambientSensorData.raw.jsonable": behaviour.ambient_lines(
            day.ambient
        ).encode(),
    }


class Sender:
    def __init__(self, api: Api, jobs: int = USER_AGENT_JOBS) -> None:
        self.api, self.jobs = api, jobs
        self.http = requests.Session()
        self.http.mount("http", requests.adapters.HTTPAdapter(pool_maxsize=jobs))

    def subject(self, mouse: DemoMouse) -> dict[str, str]:
        """The mouse, its water restriction, weighings and water; returns the ids of its sessions already
        sent, by date (a demo sent again, or after an interruption)."""
        body = {
            "nickname": mouse.nickname,
            "lab": mouse.lab.name,
            "sex": mouse.sex,
            "birth_date": mouse.birth_date.isoformat(),
            "projects": [PROJECT],
            "description": "demo mouse (onecloud demo)",
        }
        found = self.api.get("/subjects", nickname=mouse.nickname, lab=mouse.lab.name)
        if found["results"]:
            return self.sent_sessions(mouse)  # sent before: its records are there too
        self.api.post("/subjects", body)
        if mouse.restriction_start:
            self.api.post(
                "/water-restriction",
                {
                    "subject": mouse.nickname,
                    "lab": mouse.lab.name,
                    "start_time": mouse.restriction_start.isoformat(),
                    "reference_weight": mouse.reference_weight,
                    "water_type": "Water",
                },
            )
        lab = mouse.lab.name
        weighings = [
            {"subject": mouse.nickname, "lab": lab, "date_time": when.isoformat(), "weight": weight}
            for when, weight in mouse.weighings
        ]
        water = [
            {
                "subject": mouse.nickname,
                "lab": lab,
                "date_time": when.isoformat(),
                "water_type": kind,
                "water_administered": volume,
            }
            for when, kind, volume in mouse.water
        ]
        self.api.post("/weighings", weighings)  # one request for the lot
        self.api.post("/water-administrations", water)
        return {}

    def sent_sessions(self, mouse: DemoMouse) -> dict[str, str]:
        found: dict[str, str] = {}
        while True:
            page = self.api.get(
                "/sessions", subject=mouse.nickname, lab=mouse.lab.name, limit=PAGE, offset=len(found)
            )
            found.update((s["start_time"][:10], s["id"]) for s in page["results"])
            if not page["results"] or len(found) >= page["count"]:
                return found

    def session(self, mouse: DemoMouse, session: Session, workdir: Path, session_id: str | None) -> int:
        """Create the session (unless ``session_id`` names it, sent before) and upload its files through
        an intent (the files sent before are skipped); returns the files sent."""
        day = session.day
        start = session.start.isoformat()
        end = (session.start + _seconds(float(day.trials["intervals_1"][-1]))).isoformat()
        if session_id is None:
            session_id = self.api.post(
                "/sessions",
                {
                    "subject": mouse.nickname,
                    "lab": mouse.lab.name,
                    "start_time": start,
                    "end_time": end,
                    "number": 1,
                    "task_protocol": day.protocol,
                    "projects": [PROJECT],
                    "n_trials": len(day.trials["choice"]),
                    "n_correct_trials": int(np.sum(day.trials["feedbackType"] == 1)),
                },
            )["id"]
        folder = workdir / mouse.nickname / session.date.isoformat() / "001"
        local = []
        for relative, data in session_files(mouse, session).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            local.append(upload.LocalFile(relative, path, len(data), hashlib.md5(data).hexdigest()))
        intent = upload.request_intent(self.api, session_id, local)
        by_path = {f.path: f for f in local}
        sent = 0
        for answer in intent["files"]:
            if answer["status"] != "pending":
                continue
            file = by_path[answer["path"]]
            if answer["method"] != "PUT":
                raise upload.UploadError(f"{file.path}: the demo's files are small enough for one PUT")
            reply = self.http.put(
                answer["url"],
                data=file.file.read_bytes(),
                headers=answer["headers"],
                timeout=upload.PUT_TIMEOUT,
            )
            if not reply.ok:
                raise upload.TransferError(
                    f"{file.path}: S3 answered {reply.status_code}: {reply.text[:200]}"
                )
            sent += 1
        return sent


def _seconds(value: float):  # noqa: ANN202
    import datetime

    return datetime.timedelta(seconds=value)


def send(
    api: Api, colony: list[DemoMouse], *, jobs: int = USER_AGENT_JOBS, report: Callable[[str], None] = print
) -> dict[str, int]:
    """Send the colony; a progress bar per stage (silent off a terminal). Returns what was sent."""
    sender = Sender(api, jobs)
    send_labs(api)
    with (
        ThreadPoolExecutor(jobs) as pool,
        tqdm(total=len(colony), desc="mice", unit="mouse", disable=None) as bar,
    ):
        sent: dict[str, dict[str, str]] = {}
        for mouse, before in zip(colony, pool.map(sender.subject, colony), strict=True):
            sent[mouse.nickname] = before
            bar.update()
    sessions = [(m, s) for m in colony for s in m.sessions]
    files = 0
    with (
        tempfile.TemporaryDirectory(prefix="onecloud-demo-") as workdir,
        ThreadPoolExecutor(jobs) as pool,
        tqdm(total=len(sessions), desc="sessions", unit="session", disable=None) as bar,
    ):
        for count in pool.map(
            lambda ms: sender.session(*ms, Path(workdir), sent[ms[0].nickname].get(ms[1].date.isoformat())),
            sessions,
        ):
            files += count
            bar.update()
    report(f"sent {len(colony)} mice in {len(LABS)} labs, {len(sessions)} sessions, {files} files")
    return {"mice": len(colony), "sessions": len(sessions), "files": files}


def _count(api: Api, status: str) -> int:
    return sum(
        api.get("/tasks", name="TrainingStatus", status=status, lab=lab.name, limit=1)["count"]
        for lab in LABS
    )


def wait_for_training(
    api: Api,
    sessions: int,
    timeout: float,
    report: Callable[[str], None] = print,
    poll: float = 5.0,
    recount: float = COUNT_SECONDS,
) -> dict[str, int]:
    """Wait until the demo labs' TrainingStatus tasks have all ended (Complete or Errored) and there are at
    least as many as sessions sent (tasks appear as the S3 events register the trials). Each ``poll``
    seconds it asks for the tasks still to run (a few); the ended ones, thousands and growing, are
    counted each ``recount`` seconds for the progress bar, and when nothing is left to run."""
    deadline = time.monotonic() + timeout
    counted_at, counts = -math.inf, {"Complete": 0, "Errored": 0}
    with tqdm(total=sessions, desc="training status", unit="session", disable=None) as bar:
        while True:
            pending = sum(_count(api, status) for status in ("Waiting", "Held", "Started"))
            if not pending or time.monotonic() - counted_at >= recount:
                counts = {status: _count(api, status) for status in ("Complete", "Errored")}
                counted_at = time.monotonic()
            done = sum(counts.values())
            bar.update(min(done, sessions) - bar.n)
            if (done >= sessions and not pending) or time.monotonic() > deadline:
                break
            time.sleep(poll)
    report(
        f"training status: {counts['Complete']} tasks complete, {counts['Errored']} errored, "
        f"{pending} pending"
    )
    return {**counts, "pending": pending}
