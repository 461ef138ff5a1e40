"""Benchmark: the cost of keyed API calls grows with the result, not with the table.

    .venv/bin/python bench/api.py [--sizes 1000,100000] [--rounds 10] [--calls 5] [--warmup 200]

It seeds two databases, one with 1,000 sessions and one with 100,000 (each session with 2-3 datasets and
a file record per dataset, ~1,000 subjects in 10 labs), and times three calls clients make all day:

    GET /sessions?subject=X                      a subject's sessions        (subject-index)
    GET /sessions?lab=L&date_range=D1,D2         a lab's sessions of 10 days (lab-index, date range)
    GET /sessions/<id>                           a session with its datasets (ONE's list_datasets)

The calls go through the Chalice app itself (``chalice.test.Client``) with a lab member's token, so auth,
filtering, ordering and serialization are all measured. Both databases give the same answers: the probed
subject has the same 10 sessions, the extra sessions of the large one all fall outside the probed date
range, the probed session has the same datasets. So a slow-down could only come from reading what the
answer does not need. It prints median latencies, the large/small ratio (target <= 1.5) and DynamoDB
requests per call (counted on ``pynamodb.connection.base.Connection.dispatch``; they must be equal at
both sizes), and exits non-zero when a target is missed.

Each size has its own dynalite process (neither store is slowed by the other's data). Both are warmed up
first (Node optimizes dynalite's code as it runs: unwarmed, the store that has just taken 600,000 writes
looks faster), then the sizes are timed in alternating rounds, so that load coming and going on a shared
machine hits both sizes alike instead of whichever happened to be measured at the time.

Why dynalite and not moto: moto's DynamoDB answers a query on a global secondary index by iterating over
every item of the table (``moto/dynamodb/models/table.py``, ``Table.query``), so through moto a keyed
query slows down linearly with the table and the benchmark would measure moto, not onecloud. dynalite
(npm ``dynalite``) implements DynamoDB on LevelDB and keeps each index as its own sorted key space: an
index query is a range read. The script installs it into ``bench/node_modules`` when missing, runs it on
free loopback ports for the duration of the run and always stops it. dynalite has no transactions, so
the seed writes items with ``batch_write`` (uniqueness guards are not needed here); the measured calls
only read.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from onecloud import dynalite

BENCH = Path(__file__).resolve().parent
NODE_HEAP_MB = 8192  # in memory, 100,000 sessions take ~2.5 GB of dynalite's heap

N_LABS, N_SUBJECTS = 10, 1_000
PROBE_SESSIONS = 10  # the probed subject's sessions, one on each day of the probed date range
WINDOW_START, WINDOW_DAYS = datetime.date(2024, 1, 1), 10
RECENT_DAYS = 30  # the first sessions of the other subjects fall in the 30 days from WINDOW_START
RATIO_TARGET = 1.5
USERNAME = "bench"
DATASETS = (  # collection, name, dataset type, data format, bytes; the third on every other session
    ("alf", "_ibl_trials.table.pqt", "trials.table", "parquet", 61_440),
    ("alf", "_ibl_trials.goCue_times.npy", "trials.goCue_times", "npy", 3_328),
    ("alf/probe00", "spikes.times.npy", "spikes.times", "npy", 16_000_128),
)
Call = Callable[[], tuple[int, int]]


def use(endpoint: str) -> None:
    """Point every PynamoDB model and boto3 client of the app at ``endpoint``."""
    from chalicelib import aws
    from chalicelib.config import Settings

    aws.configure(
        Settings(
            stage="bench", table_prefix="onecloud-bench-", aws_endpoint_url=endpoint, log_level="WARNING"
        )
    )


class DynamoCalls:
    """Counts DynamoDB requests made through PynamoDB, by operation, while ``counting`` is on."""

    def __init__(self) -> None:
        from pynamodb.connection.base import Connection

        self.made: Counter[str] = Counter()
        self.counting = False
        dispatch = Connection.dispatch

        def counted(connection: Connection, operation_name: str, operation_kwargs: dict) -> dict:
            if self.counting:
                self.made[operation_name] += 1
            return dispatch(connection, operation_name, operation_kwargs)

        Connection.dispatch = counted

    def summary(self) -> str:
        """'4 (GetItem 2, Query 2)'."""
        parts = ", ".join(f"{name} {n}" for name, n in sorted(self.made.items()))
        return f"{sum(self.made.values())} ({parts})"


def write_items(model: type, items: list) -> None:
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)


@dataclass
class Database:
    """One seeded database: its dynalite, a lab member's token and what the probed calls ask for."""

    size: int
    endpoint: str
    token: str = ""
    lab: str = "lab00"
    subject: str = "S0000"
    session_id: str = ""
    timings: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, set[str]] = field(default_factory=dict)
    results: dict[str, set[int]] = field(default_factory=dict)


def seed(database: Database, first_size: int, workers: int) -> None:
    """Labs (a server repository each), subjects, a lab member with a token, the probed subject's
    sessions, then the other subjects' sessions up to ``database.size``."""
    from chalicelib.accounts import hash_password
    from chalicelib.auth import log_in
    from chalicelib.models import DataRepository, Lab, LabMembership, Subject, User
    from onecloud import provision

    use(database.endpoint)
    provision.create_tables()
    labs = [f"lab{i:02d}" for i in range(N_LABS)]
    write_items(
        DataRepository,
        [
            DataRepository(name=f"{lab}_server", lab=lab, data_url=f"http://{lab}.example.org/data")
            for lab in labs
        ],
    )
    write_items(Lab, [Lab(name=lab, repositories=[f"{lab}_server"]) for lab in labs])
    subjects = [Subject(nickname=f"S{i:04d}", lab=labs[i % N_LABS], sex="U") for i in range(N_SUBJECTS)]
    write_items(Subject, subjects)
    User(username=USERNAME, password_hash=hash_password(USERNAME), email="bench@example.org").save()
    LabMembership(username=USERNAME, lab=labs[0], start_date="2020-01-01").save()
    database.token = log_in(USERNAME, USERNAME)

    probe, others = subjects[0], subjects[1:]
    database.lab, database.subject = probe.lab, probe.nickname
    days = [WINDOW_START + datetime.timedelta(days=day) for day in range(PROBE_SESSIONS)]
    database.session_id = write_sessions([(probe, day, 1) for day in days], first=0)

    def other_session(index: int) -> tuple[Any, datetime.date, int]:
        """The other subjects' sessions: the first ones (as many as the small database holds) in the 30
        days from WINDOW_START, the rest before it, so the probed date range holds the same sessions."""
        subject = others[index % len(others)]
        recent = first_size - PROBE_SESSIONS
        if index < recent:
            return (
                subject,
                WINDOW_START + datetime.timedelta(days=index % RECENT_DAYS),
                1 + index // len(others),
            )
        return subject, WINDOW_START - datetime.timedelta(days=1 + (index - recent) // len(others)), 1

    def batches(size: int = 500) -> Iterator[tuple[list, int]]:
        specs = (other_session(index) for index in range(database.size - PROBE_SESSIONS))
        first = PROBE_SESSIONS
        while batch := list(islice(specs, size)):
            yield batch, first
            first += len(batch)

    def write(job: tuple[list, int]) -> int:
        write_sessions(*job)
        return len(job[0])

    began, done = time.monotonic(), PROBE_SESSIONS
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for written in pool.map(write, batches()):
            done += written
            if done % 10_000 < written or done == database.size:
                rate = (done - PROBE_SESSIONS) / (time.monotonic() - began)
                print(
                    f"  {done:>7,} / {database.size:,} sessions "
                    f"({rate:,.0f} sessions/s, {(database.size - done) / rate:,.0f} s left)",
                    flush=True,
                )


def write_sessions(specs: list[tuple[Any, datetime.date, int]], first: int) -> str:
    """Sessions with their datasets and file records, built as ``chalicelib.sessions.new_session`` and
    ``chalicelib.registration.register_files`` build them; returns the first session's id."""
    from chalicelib import alf
    from chalicelib.models import Dataset, FileRecord, Session
    from chalicelib.registration import session_relative_path
    from chalicelib.sessions import new_session

    sessions, datasets, records = [], [], []
    for position, (subject, day, number) in enumerate(specs):
        session = new_session(
            subject,
            f"{day.isoformat()}T09:30:00",
            number,
            users=[USERNAME],
            projects=["bench"],
            task_protocol="_iblrig_tasks_ephysChoiceWorld8.0.0",
        )
        sessions.append(session)
        base = session_relative_path(session)
        for collection, name, dataset_type, data_format, size in DATASETS[: 3 - (first + position) % 2]:
            relative = str(alf.DatasetPath(alf.parse_filename(name), collection))
            dataset = Dataset(
                session=session.id,
                lab=session.lab,
                relative_path=relative,
                name=name,
                collection=collection,
                revision="",
                dataset_type=dataset_type,
                data_format=data_format,
                hash=hashlib.md5(f"{session.id}/{relative}".encode()).hexdigest(),
                file_size=size,
                default_dataset=True,
                created_by=USERNAME,
            )
            datasets.append(dataset)
            records.append(
                FileRecord(
                    dataset=dataset.id,
                    session=session.id,
                    data_repository=f"{session.lab}_server",
                    relative_path=f"{base}/{relative}",
                    lab=session.lab,
                    exists=True,
                )
            )
    write_items(Session, sessions)
    write_items(Dataset, datasets)
    write_items(FileRecord, records)
    return sessions[0].id


def api_calls(client: Any, database: Database) -> dict[str, Call]:
    """The probed calls; each answers (status, number of records in the answer)."""
    headers = {"Authorization": f"Token {database.token}"}
    window_end = WINDOW_START + datetime.timedelta(days=WINDOW_DAYS - 1)

    def get(path: str, count: Callable[[dict], int]) -> Call:
        def call() -> tuple[int, int]:
            response = client.http.get(path, headers=headers)
            return response.status_code, count(json.loads(response.body))

        return call

    return {
        "GET /sessions?subject=X": get(f"/sessions?subject={database.subject}", lambda body: body["count"]),
        "GET /sessions?lab=L&date_range=(10 days)": get(
            f"/sessions?lab={database.lab}&date_range={WINDOW_START},{window_end}", lambda body: body["count"]
        ),
        "GET /sessions/<id> (with datasets)": get(
            f"/sessions/{database.session_id}", lambda body: len(body["data_dataset_session_related"])
        ),
    }


def time_round(client: Any, database: Database, dynamo: DynamoCalls, calls: int) -> None:
    """``calls`` timed calls of each probed call, after one untimed call (the first after switching
    databases opens new connections)."""
    use(database.endpoint)
    for name, call in api_calls(client, database).items():
        call()
        for _ in range(calls):
            dynamo.made.clear()
            dynamo.counting = True
            began = time.perf_counter()
            status, results = call()
            elapsed = time.perf_counter() - began
            dynamo.counting = False
            if status != 200:
                raise RuntimeError(f"{name} answered {status}")
            database.timings.setdefault(name, []).append(elapsed)
            database.requests.setdefault(name, set()).add(dynamo.summary())
            database.results.setdefault(name, set()).add(results)


def report(small: Database, large: Database, calls: int) -> bool:
    header = (
        f"{'call':<42} {'results':>7} {f'{small.size:,} (ms)':>14} {f'{large.size:,} (ms)':>14} "
        f"{'ratio':>6}  DynamoDB requests per call"
    )
    print(f"\nmedian of {calls} calls per size, the sizes timed in alternating rounds\n")
    print(header)
    print("-" * len(header))
    passed = True
    for name in small.timings:
        a, b = (statistics.median(database.timings[name]) * 1000 for database in (small, large))
        same_results = len(small.results[name]) == 1 and small.results[name] == large.results[name]
        same_requests = len(small.requests[name]) == 1 and small.requests[name] == large.requests[name]
        ok = b / a <= RATIO_TARGET and same_requests and same_results
        passed &= ok
        results = "/".join(str(n) for n in sorted(small.results[name] | large.results[name]))
        requests = " | ".join(sorted(small.requests[name]))
        if not same_requests:
            requests += " vs " + " | ".join(sorted(large.requests[name]))
        print(
            f"{name:<42} {results:>7} {a:>14.2f} {b:>14.2f} {b / a:>6.2f}  {requests}"
            f"{'' if ok else '  MISSED'}"
        )
    print(
        f"\ntarget: ratio <= {RATIO_TARGET}, the same answers and the same DynamoDB requests per call at "
        f"both sizes: {'met' if passed else 'MISSED'}"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="the two database sizes, in sessions")
    parser.add_argument("--rounds", type=int, default=10, help="alternating timing rounds")
    parser.add_argument("--calls", type=int, default=5, help="timed calls per probed call, size and round")
    parser.add_argument("--workers", type=int, default=2, help="threads writing the seed")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls per probed call and size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(sizes) != 2 or not PROBE_SESSIONS < sizes[0] < sizes[1]:
        parser.error(f"--sizes: two increasing sizes above {PROBE_SESSIONS}")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so dynalite is stopped on kill too
    dynalite.ensure_installed()
    with tempfile.TemporaryDirectory(prefix="onecloud-bench-") as scratch, contextlib.ExitStack() as stack:
        databases = []
        for size in sizes:
            endpoint = stack.enter_context(
                dynalite.running(Path(scratch) / f"dynalite-{size}.log", NODE_HEAP_MB)
            )
            database = Database(size=size, endpoint=endpoint)
            began = time.monotonic()
            print(f"seeding {size:,} sessions into dynalite at {endpoint}", flush=True)
            seed(database, sizes[0], args.workers)
            print(f"  done in {time.monotonic() - began:,.0f} s", flush=True)
            databases.append(database)

        from chalice.test import Client

        from app import app

        dynamo = DynamoCalls()
        with Client(app) as client:
            for database in databases:
                use(database.endpoint)
                for call in api_calls(client, database).values():
                    for _ in range(args.warmup):
                        call()
            for round_ in range(args.rounds):
                for database in databases if round_ % 2 == 0 else reversed(databases):
                    time_round(client, database, dynamo, args.calls)
        return 0 if report(*databases, calls=args.rounds * args.calls) else 1


if __name__ == "__main__":
    sys.exit(main())
