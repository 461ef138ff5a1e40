"""``onecloud upload``: send an ALF session folder from a rig or lab machine to onecloud.

Bytes go straight to S3 through the presigned URLs of an upload intent, never through the API; S3 events
then register each file, so the command waits for those registrations before it reports. Files above
the multipart threshold go in parts, each bound to its own md5: a re-run posts the same intent, learns
which parts S3 already holds and sends only the others.
"""

from __future__ import annotations

import datetime
import hashlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from chalicelib import alf
from onecloud.client import Api, ApiError

CHUNK = 2**20
PUT_TIMEOUT = (10, 300)
PUT_ATTEMPTS = 3
FINAL = ("registered", "rejected")


class UploadError(Exception):
    """The upload cannot start: a folder that is not a session, or nothing in it to send."""


class ProtectedDatasets(UploadError):
    """The API refused the intent: some files would overwrite protected datasets."""


class TransferError(Exception):
    """S3 refused or lost a body after every attempt."""


class PartSkipped(Exception):
    """A part not sent because another part of its file failed (that part's error is the one to tell)."""


class Interrupted(Exception):
    """Raised in worker threads once Ctrl-C has reached the main thread: a thread cannot be killed, and
    the interpreter waits for them all before it exits, so each stops at its next chunk instead."""


@dataclass(frozen=True)
class LocalFile:
    """A dataset file on disk, named as the intent names it: relative to the session folder."""

    path: str
    file: Path
    size: int
    md5: str = ""


@dataclass(frozen=True)
class Outcome:
    """One line of the summary."""

    path: str
    size: int
    status: str
    reason: str = ""


def say(message: str) -> None:
    """Messages on stderr that do not tear the progress bars."""
    tqdm.write(message, file=sys.stderr)


def session_path(
    folder: Path, lab: str, subject: str | None = None, date: str | None = None, number: str | None = None
) -> alf.SessionPath:
    """The session a folder holds: ``.../subject/YYYY-MM-DD/NNN``, each part overridable."""
    parts = ("", "", "", *folder.resolve().parts)
    try:
        return alf.build_session_path(subject or parts[-3], date or parts[-2], number or parts[-1], lab=lab)
    except alf.ALFError as error:
        raise UploadError(
            f"{folder} is not a session folder subject/YYYY-MM-DD/NNN ({error.detail}); "
            "name the session with --subject, --date and --number"
        ) from None


def find_datasets(folder: Path) -> tuple[list[LocalFile], list[str]]:
    """ALF datasets below the session folder, and the other files, which are not sent."""
    datasets, skipped = [], []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = file.relative_to(folder).as_posix()
        try:
            alf.parse_dataset_path(relative)
        except alf.ALFError:
            skipped.append(relative)
            continue
        datasets.append(LocalFile(relative, file, file.stat().st_size))
    return datasets, skipped


class Progress:
    """A byte counter bar shared by threads (tqdm's own counter is not thread-safe); silent unless on a
    terminal, so logs and tests get the summary, not carriage returns."""

    def __init__(self, total: int, description: str, *, leave: bool = True) -> None:
        self.bar = tqdm(
            total=total,
            desc=description,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=None,
            leave=leave,
        )
        self.lock = threading.Lock()

    def advance(self, count: int) -> None:
        with self.lock:
            self.bar.update(count)

    def close(self) -> None:
        self.bar.close()


def md5_of(
    file: Path,
    offset: int,
    length: int,
    stop: threading.Event,
    progress: Progress | None = None,
    whole: Any = None,
) -> str:
    """The md5 of a byte range; the bytes also go into ``whole`` (a running md5 of the file) if given."""
    digest = hashlib.md5()
    with file.open("rb") as stream:
        stream.seek(offset)
        while length > 0:
            if stop.is_set():
                raise Interrupted
            chunk = stream.read(min(CHUNK, length))
            if not chunk:
                raise TransferError(f"{file} is shorter than when it was hashed")
            digest.update(chunk)
            if whole is not None:
                whole.update(chunk)
            length -= len(chunk)
            if progress:
                progress.advance(len(chunk))
    return digest.hexdigest()


def hash_files(files: list[LocalFile], jobs: int) -> list[LocalFile]:
    """Whole-file md5s, which the intent binds each URL to; parts are hashed later, once the intent has
    said the part size."""
    progress, stop = Progress(sum(f.size for f in files), "md5"), threading.Event()
    try:
        with ThreadPoolExecutor(jobs) as pool:
            try:
                return list(
                    pool.map(lambda f: replace(f, md5=md5_of(f.file, 0, f.size, stop, progress)), files)
                )
            except (OSError, TransferError) as error:
                raise UploadError(f"cannot read the files to upload: {error}") from None
            finally:
                stop.set()  # after a failure or Ctrl-C, the other threads stop at their next chunk
    finally:
        progress.close()


def find_or_create_session(api: Api, session: alf.SessionPath) -> str:
    """The session's id, creating the session when the lab has none at this subject/date/number."""
    day = session.date.isoformat()
    found = api.get(
        "/sessions",
        subject=session.subject,
        lab=session.lab,
        date_range=f"{day},{day}",
        number=session.number,
    )
    if found["results"]:
        return found["results"][0]["id"]
    created = api.post(
        "/sessions",
        {
            "subject": session.subject,
            "lab": session.lab,
            "start_time": f"{day}T00:00:00",
            "number": session.number,
        },
    )
    say(f"created session {session} ({created['id']})")
    return created["id"]


def protected_paths(details: list[dict[str, list[dict[str, bool]]]]) -> list[str]:
    """The files of a refused intent whose own revision is protected (the API lists every revision of
    each file's dataset, newest first, each with whether it is protected)."""
    return sorted(
        name
        for entry in details
        for name, revisions in entry.items()
        if any(flags.get(alf.parse_dataset_path(name).revision) for flags in revisions)
    )


def request_intent(api: Api, session_id: str, files: list[LocalFile]) -> dict[str, Any]:
    body = {"session": session_id, "files": [{"path": f.path, "size": f.size, "md5": f.md5} for f in files]}
    try:
        return api.post("/uploads", body)
    except ApiError as error:
        details = error.payload.get("details") if isinstance(error.payload, dict) else None
        if error.status == 403 and details:
            blocked = protected_paths(details)
            path = alf.parse_dataset_path(blocked[0])
            revised = alf.DatasetPath(path.filename, path.collection, datetime.date.today().isoformat())
            raise ProtectedDatasets(
                f"{error.payload['detail']}: {', '.join(blocked)}. Protected datasets cannot be overwritten: "
                f"put the new files in a revision folder (e.g. {revised}) and upload again"
            ) from None
        raise


class FileSlice:
    """A byte range of a file as a request body, read in chunks so a part never sits whole in memory;
    requests takes its length from ``__len__`` and sends it with a Content-Length."""

    def __init__(
        self, file: Path, offset: int, length: int, bars: Iterable[Progress], stop: threading.Event
    ) -> None:
        self.stream = file.open("rb")
        self.stream.seek(offset)
        self.left, self.length, self.bars, self.stop = length, length, tuple(bars), stop

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self.stop.is_set():
            raise Interrupted
        chunk = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(chunk)
        for bar in self.bars:
            bar.advance(len(chunk))
        return chunk

    def rewind(self) -> None:
        """Back to the start for another attempt, taking back what the bars counted."""
        sent = self.length - self.left
        self.stream.seek(-sent, 1)
        self.left = self.length
        for bar in self.bars:
            bar.advance(-sent)

    def close(self) -> None:
        self.stream.close()


class Sender:
    """Sends the pending files of one intent: single PUTs and the parts of multipart files share one
    pool of ``jobs`` threads, so a session with one huge file still uses every connection."""

    def __init__(self, api: Api, intent_id: str, jobs: int, total: int) -> None:
        self.api, self.intent_id, self.jobs = api, intent_id, jobs
        self.http = requests.Session()
        self.http.mount("http", HTTPAdapter(pool_connections=1, pool_maxsize=jobs))
        self.overall = Progress(total, "upload")
        self.stop = threading.Event()

    def send(self, plans: list[tuple[LocalFile, dict[str, Any]]]) -> dict[str, str]:
        """Send every planned file; the reason each file that could not be sent failed."""
        failures: dict[str, str] = {}
        pool = ThreadPoolExecutor(self.jobs)
        try:
            running: dict[Future, str] = {}
            for local, plan in plans:
                for task in self._tasks(local, plan):
                    running[pool.submit(task)] = local.path
            wait(running)
            for future, path in running.items():
                error = future.exception()
                if isinstance(error, ApiError | TransferError | OSError):
                    failures.setdefault(path, str(error))
                elif error is not None and not isinstance(error, PartSkipped):
                    raise error
        finally:
            self.stop.set()  # on Ctrl-C, running transfers stop at their next chunk
            pool.shutdown(cancel_futures=True)
            self.overall.close()
        return failures

    def _tasks(self, local: LocalFile, plan: dict[str, Any]) -> list[Callable[[], None]]:
        if plan["method"] == "PUT":
            return [lambda: self._put_file(local, plan)]
        return MultipartFile(self, local, plan).tasks()

    def _put_file(self, local: LocalFile, plan: dict[str, Any]) -> None:
        bar = Progress(local.size, local.path, leave=False)
        try:
            self.put(local, plan, 0, local.size, local.md5, bar)
        finally:
            bar.close()

    def put(
        self, local: LocalFile, target: dict[str, Any], offset: int, length: int, md5: str, bar: Progress
    ) -> None:
        """PUT a byte range to a presigned URL, retrying what the network lost; S3 checks the body
        against the signed Content-MD5, and its ETag (the md5 it computed) is checked here."""
        body = FileSlice(local.file, offset, length, (bar, self.overall), self.stop)
        try:
            for attempt in range(1, PUT_ATTEMPTS + 1):
                try:
                    answer = self.http.put(
                        target["url"], data=body, headers=target["headers"], timeout=PUT_TIMEOUT
                    )
                except (requests.ConnectionError, requests.Timeout) as error:
                    problem = f"{type(error).__name__}: {error}"
                else:
                    if answer.ok:
                        break
                    problem = f"S3 answered {answer.status_code}: {answer.text[:300]}"
                    if answer.status_code < 500:
                        raise TransferError(f"{local.path}: {problem}")
                if attempt == PUT_ATTEMPTS:
                    raise TransferError(f"{local.path}: {problem} (after {PUT_ATTEMPTS} attempts)")
                body.rewind()
                time.sleep(attempt)
        finally:
            body.close()
        etag = answer.headers.get("ETag", "").strip('"')
        if etag != md5:
            raise TransferError(
                f"{local.path}: S3 stored md5 {etag!r} for bytes {offset}+{length}, not {md5}"
            )


class MultipartFile:
    """The parts of one file that S3 does not hold yet. Part URLs are asked for in batches as the upload
    reaches them (they expire, and each is bound to an md5 read from disk just before); the thread that
    sends the last part asks the API to assemble the file.

    S3 checks each part against its md5, and the API checks the assembled object against the part md5s,
    but nobody else checks the whole-file md5 the intent declared: a file still being written after it
    was hashed would be registered under a hash its bytes do not have. So parts are hashed in order into
    a running md5 of the whole file, and the file is assembled only if that md5 is the declared one.
    """

    def __init__(self, sender: Sender, local: LocalFile, plan: dict[str, Any]) -> None:
        self.sender, self.local = sender, local
        self.part_size, count, held = int(plan["part_size"]), int(plan["parts"]), set(plan["uploaded"])
        self.missing = [n for n in range(1, count + 1) if n not in held]
        self.unrequested = deque(self.missing)
        self.urls: dict[int, dict[str, Any]] = {}
        self.left, self.failed = len(self.missing), False
        self.whole, self.hashed = hashlib.md5(), 0  # md5 of the file's first ``hashed`` bytes
        self.lock = threading.Lock()
        self.bar: Progress | None = None
        if plan["uploaded"]:
            say(
                f"{local.path}: resuming, {len(plan['uploaded'])} of {count} parts already uploaded, "
                f"sending {len(self.missing)}"
            )

    def tasks(self) -> list[Callable[[], None]]:
        if not self.missing:
            return [self.complete]
        return [lambda n=n: self.send_part(n) for n in self.missing]

    def span(self, number: int) -> tuple[int, int]:
        return part_span(self.local.size, self.part_size, number)

    def send_part(self, number: int) -> None:
        try:
            with self.lock:
                if self.failed:
                    raise PartSkipped
                target = self._url_for(number)
                if self.bar is None:
                    self.bar = Progress(
                        sum(self.span(n)[1] for n in self.missing), self.local.path, leave=False
                    )
            self.sender.put(self.local, target, *self.span(number), target["md5"], self.bar)
        except BaseException:
            with self.lock:
                self.failed = True
            self._close_bar()
            raise
        with self.lock:
            self.left -= 1
            last = self.left == 0
        if last:
            self._close_bar()
            self.complete()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _url_for(self, number: int) -> dict[str, Any]:
        """The URL of part ``number``, asking for the next batch of parts when it has none (under the lock:
        threads wait for one request rather than each making its own)."""
        while number not in self.urls:
            batch = [
                self.unrequested.popleft() for _ in range(min(2 * self.sender.jobs, len(self.unrequested)))
            ]
            declared = {n: self._hash_part(n) for n in batch}
            answer = self._post(
                "parts",
                {"path": self.local.path, "parts": [{"number": n, "md5": m} for n, m in declared.items()]},
            )
            self.urls.update({p["number"]: {**p, "md5": declared[p["number"]]} for p in answer["parts"]})
        return self.urls.pop(number)

    def _hash_part(self, number: int) -> str:
        """The part's md5, read after every byte before it (parts S3 already holds included) has gone
        into the running md5 of the whole file."""
        offset, length = self.span(number)
        md5_of(self.local.file, self.hashed, offset - self.hashed, self.sender.stop, whole=self.whole)
        self.hashed = offset + length
        return md5_of(self.local.file, offset, length, self.sender.stop, whole=self.whole)

    def complete(self) -> None:
        rest = self.local.size - self.hashed
        md5_of(self.local.file, self.hashed, rest, self.sender.stop, whole=self.whole)
        if self.whole.hexdigest() != self.local.md5:
            raise TransferError(
                f"{self.local.path} changed while it was uploaded (md5 {self.whole.hexdigest()}, "
                f"not {self.local.md5}): not assembled; upload it again once it is complete"
            )
        self._post("complete", {"path": self.local.path})

    def _post(self, step: str, body: dict[str, Any]) -> Any:
        """A multipart step, renewing the intent once if it expired during a long upload."""
        path = f"/uploads/{self.sender.intent_id}/{step}"
        try:
            return self.sender.api.post(path, body)
        except ApiError as error:
            if error.status != 400 or "expired" not in str(error):
                raise
        self.sender.api.post(f"/uploads/{self.sender.intent_id}/renew")
        return self.sender.api.post(path, body)


def part_span(size: int, part_size: int, number: int) -> tuple[int, int]:
    """Offset and length of part ``number`` (from 1): the bytes [(n-1)*part_size, n*part_size)."""
    offset = (number - 1) * part_size
    return offset, min(part_size, size - offset)


def planned_bytes(local: LocalFile, plan: dict[str, Any]) -> int:
    if plan["method"] == "PUT":
        return local.size
    held = set(plan["uploaded"])
    spans = (
        part_span(local.size, int(plan["part_size"]), n) for n in range(1, plan["parts"] + 1) if n not in held
    )
    return sum(length for _, length in spans)


def wait_for_registration(
    api: Api, intent_id: str, paths: set[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """The intent's files as the API last reported them: registration follows S3 events, so it lags the
    upload by seconds (the queue, then the registration Lambda)."""
    deadline, delay = time.monotonic() + timeout, 0.5
    with tqdm(total=len(paths), desc="registered", unit="file", disable=None) as bar:
        while True:
            files = {f["path"]: f for f in api.get(f"/uploads/{intent_id}")["files"] if f["path"] in paths}
            final = sum(files[p]["status"] in FINAL for p in paths if p in files)
            bar.update(final - bar.n)
            if final == len(paths) or time.monotonic() >= deadline:
                return files
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 5.0)


def upload_session(
    api: Api, folder: Path, session: alf.SessionPath, *, jobs: int, timeout: float
) -> list[Outcome]:
    """Upload every ALF dataset of the folder into the session, and how each ended."""
    local, skipped = find_datasets(folder)
    if skipped:
        say(f"skipping {len(skipped)} file(s) that are not ALF datasets: {', '.join(skipped)}")
    if not local:
        raise UploadError(f"{folder} holds no ALF dataset to upload")
    local = hash_files(local, jobs)
    intent = request_intent(api, find_or_create_session(api, session), local)
    by_path = {f.path: f for f in local}
    answers = {a["path"]: a for a in intent["files"]}
    plans = [(by_path[p], a) for p, a in answers.items() if a["status"] == "pending"]
    failures: dict[str, str] = {}
    if plans:
        sender = Sender(api, intent["id"], jobs, sum(planned_bytes(f, a) for f, a in plans))
        failures = sender.send(plans)
    sent = {f.path for f, _ in plans} - set(failures)
    reported = wait_for_registration(api, intent["id"], sent, timeout) if sent else {}
    return [
        outcome(f, answers[f.path], failures.get(f.path), reported.get(f.path, {}), timeout) for f in local
    ]


def outcome(
    file: LocalFile, answer: dict[str, Any], failure: str | None, reported: dict[str, Any], timeout: float
) -> Outcome:
    """How a file ended: as the intent answered, as the transfer failed, or as registration reported."""
    if answer["status"] == "registered":
        return Outcome(file.path, file.size, "registered", "unchanged, already registered")
    if answer["status"] == "invalid":
        return Outcome(file.path, file.size, "invalid", answer["reason"])
    if answer["status"] == "uploaded":
        return Outcome(file.path, file.size, "uploaded", "in the store, registration pending")
    if failure is not None:
        return Outcome(file.path, file.size, "failed", failure)
    status = reported.get("status", "pending")
    reason = reported.get("reason") or ("" if status in FINAL else f"not registered after {timeout:g} s")
    return Outcome(file.path, file.size, status, reason)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value, units = size / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and units[1:]:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def summary(outcomes: list[Outcome]) -> str:
    rows = [("path", "size", "status", "reason")] + [
        (o.path, human_size(o.size), o.status, o.reason) for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows
    )
