"""What every Batch job does around its work.

A job is ``python -m batch.<module> <task id>``: it reads its task and session from the tables, fetches
its inputs from the data bucket, writes its outputs under the session's ALF path (the S3 event path
registers them like any upload, md5 in the object metadata for multipart objects), and exits non-zero
on failure so Batch marks the job FAILED and the task goes Errored with this log.
"""

from __future__ import annotations

import fnmatch
import hashlib
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from chalicelib import alf, aws
from chalicelib.datasets import dataset_at, datasets_of_session
from chalicelib.errors import NotFound
from chalicelib.models import Dataset, Session, Task
from chalicelib.registration import session_relative_path

REGISTRATION_WAIT = 600  # seconds a job waits for its outputs to be registered, when it must


@dataclass
class Job:
    task: Task
    session: Session
    workdir: Path

    @property
    def collection(self) -> str:
        return (self.task.arguments or {}).get("collection", "")

    def key(self, relative: str) -> str:
        return f"{session_relative_path(self.session)}/{relative}"

    def dataset(self, pattern: str, collection: str | None = None) -> Dataset:
        """The default dataset of the session matching ``pattern`` in ``collection`` (the task's folder)."""
        folder = self.collection if collection is None else collection
        found = [
            d
            for d in datasets_of_session(self.session.id)
            if d.collection == folder and d.default_dataset and fnmatch.fnmatchcase(d.name, pattern)
        ]
        if len(found) != 1:
            raise NotFound(
                f"expected one {folder}/{pattern} in session {self.session.id}, found {len(found)}"
            )
        return found[0]

    def open(self, dataset: Dataset) -> BinaryIO:
        """A stream of the dataset's bytes straight from S3 (nothing is kept on disk)."""
        body = aws.client("s3").get_object(
            Bucket=aws.settings().data_bucket, Key=self.key(dataset.relative_path)
        )
        return body["Body"]

    def download(self, dataset: Dataset) -> Path:
        target = self.workdir / dataset.name
        aws.client("s3").download_file(
            aws.settings().data_bucket, self.key(dataset.relative_path), str(target)
        )
        return target

    def upload(self, path: Path, relative: str) -> str:
        """Put a file under the session (in parts when large); returns its md5."""
        digest = hashlib.md5()
        with open(path, "rb") as source:
            for block in iter(lambda: source.read(2**22), b""):
                digest.update(block)
        aws.client("s3").upload_file(
            str(path),
            aws.settings().data_bucket,
            self.key(relative),
            ExtraArgs={"Metadata": {"md5": digest.hexdigest()}},
        )
        print(f"uploaded {relative} ({path.stat().st_size} bytes, md5 {digest.hexdigest()})", flush=True)
        return digest.hexdigest()

    def wait_registered(self, relative: str, md5: str, timeout: float = REGISTRATION_WAIT) -> Dataset:
        """Wait until the event path has registered ``relative`` with this content."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dataset = dataset_at(self.session.id, alf.parse_dataset_path(relative))
            if dataset is not None and dataset.hash == md5:
                return dataset
            time.sleep(2)
        raise TimeoutError(f"{relative} was not registered within {timeout:g} s")


def run(work: Callable[[Job], None], argv: list[str] | None = None) -> int:
    """Run ``work`` for the task named on the command line; the exit code tells Batch how it went."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m batch.<job> <task id>", file=sys.stderr)
        return 2
    try:
        task = Task.get(args[0])
        session = Session.get(task.session)
    except (Task.DoesNotExist, Session.DoesNotExist):
        print(f"task {args[0]} or its session does not exist", file=sys.stderr)
        return 1
    print(f"{task.name} of session {session_relative_path(session)} (task {task.id})", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"{task.name}-") as workdir:
        try:
            work(Job(task, session, Path(workdir)))
        except Exception:
            traceback.print_exc()
            print(f"{task.name} failed after {time.monotonic() - started:.1f} s", flush=True)
            return 1
    print(f"{task.name} done in {time.monotonic() - started:.1f} s", flush=True)
    return 0
