"""Uploads: intents with presigned URLs, and the registration of every object that lands in the bucket.

A lab asks for an intent naming a session and its files (path, size, md5). Each valid file gets a
presigned PUT bound to its md5 (S3 refuses a corrupted body), or, above the multipart threshold, an S3
multipart upload whose part URLs are bound to each part's md5. When the object lands, S3 -> SQS delivers
an event and ``register_object`` checks size and checksum against the intent before registering the
dataset. An object that cannot be registered is never deleted: it is recorded as rejected, with why.
"""

from __future__ import annotations

import datetime
import re
import uuid
from functools import partial
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from chalicelib import alf, pipeline, storage
from chalicelib.auth import Principal
from chalicelib.aws import settings
from chalicelib.datasets import datasets_of_session
from chalicelib.errors import BadRequest, NotFound, PermissionDenied
from chalicelib.fields import NAME_LENGTH
from chalicelib.models import Dataset, FileRecord, Lab, Session, Upload, UploadFile
from chalicelib.models.base import now
from chalicelib.observability import logger
from chalicelib.permissions import require_read, require_write
from chalicelib.registration import (
    FileSpec,
    Lookalikes,
    Protected,
    Vocabulary,
    protection_details,
    register_files,
    session_relative_path,
)
from chalicelib.sessions import find_session, get_session

MD5 = re.compile(r"^[0-9a-f]{32}$")


def _expiry() -> str:
    moment = datetime.datetime.now() + datetime.timedelta(seconds=settings().upload_url_seconds)
    return moment.replace(microsecond=0).isoformat()


def resolve_session(reference: Any) -> Session:
    """A session named by its id or by its ALF path ``lab/Subjects/subject/date/NNN``."""
    if not isinstance(reference, str) or not reference:
        raise BadRequest("session: give the session id or its path lab/Subjects/subject/YYYY-MM-DD/NNN")
    try:
        return get_session(str(uuid.UUID(reference)))
    except ValueError:
        pass
    path = alf.parse_session_path(reference)
    if path.lab is None:
        raise BadRequest("session: a session path must start with lab/Subjects/")
    try:
        return find_session(path)
    except NotFound:
        raise BadRequest(f"session: {path} does not exist; create it first") from None


def _file_entry(raw: Any) -> tuple[str, alf.DatasetPath, int, str]:
    if not isinstance(raw, dict):
        raise BadRequest("each file is an object with path, size and md5")
    path, size, md5 = raw.get("path"), raw.get("size"), raw.get("md5")
    if not isinstance(path, str) or not path:
        raise BadRequest("path: required")
    parsed = alf.parse_dataset_path(path)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise BadRequest(f"size: {size!r} is not a size in bytes")
    if size > settings().max_upload_bytes:
        raise BadRequest(f"size: {size} bytes is over the limit of {settings().max_upload_bytes} bytes")
    if not isinstance(md5, str) or not MD5.match(md5.lower()):
        raise BadRequest(f"md5: {md5!r} is not 32 hexadecimal digits")
    return path, parsed, size, md5.lower()


def create_upload(principal: Principal | None, body: Any) -> dict[str, Any]:
    """An intent for the files of one session: per file a URL, a multipart plan, 'registered' when the
    same content is already there, 'uploaded' when it is in the bucket awaiting registration, or
    'invalid' with the reason (valid files still get their URLs)."""
    principal = require_read(principal)
    if not isinstance(body, dict) or not isinstance(body.get("files"), list) or not body["files"]:
        raise BadRequest("files: a non-empty list of {path, size, md5} is required")
    unknown = sorted(set(body) - {"session", "files"})
    if unknown:
        raise BadRequest(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    session = resolve_session(body.get("session"))
    require_write(principal, what="datasets", lab=session.lab, lab_scoped=True)
    vocabulary = Vocabulary()
    existing = {d.relative_path: d for d in datasets_of_session(session.id)}
    lookalikes = Lookalikes(existing)
    in_store = {
        r.dataset
        for r in FileRecord.by_session.query(session.id)
        if r.data_repository == settings().s3_repository and r.exists
    }
    upload = Upload(lab=session.lab, session=session.id, user=principal.username, expires=_expiry())
    answers: list[dict[str, Any]] = []
    valid: list[tuple[str, FileSpec]] = []
    for raw in body["files"]:
        try:
            path, parsed, size, md5 = _file_entry(raw)
            key = f"{session_relative_path(session)}/{parsed}"
            if len(key.encode()) > alf.MAX_PATH:
                raise BadRequest(f"path: the object key {key[:40]}... is over {alf.MAX_PATH} bytes")
            vocabulary.dataset_type(parsed.filename)
            vocabulary.data_format(parsed.filename)
        except BadRequest as error:
            answers.append(
                {
                    "path": raw.get("path") if isinstance(raw, dict) else None,
                    "status": "invalid",
                    "reason": error.detail,
                }
            )
            continue
        spec = FileSpec(path=parsed, hash=md5, size=size)
        try:
            lookalikes.add(spec)
        except BadRequest as error:
            answers.append({"path": path, "status": "invalid", "reason": error.detail})
            continue
        dataset = existing.get(spec.identity)
        if dataset is not None and dataset.hash == md5 and dataset.id in in_store:
            answers.append({"path": path, "status": "registered", "dataset": dataset.id})
            continue
        valid.append((path, spec))
    details = protection_details(
        [s for _, s in valid], [p for p, _ in valid], existing, vocabulary.protected_tags
    )
    if details is not None:
        raise Protected(details)
    upload.save()
    planned = [_plan(upload, session, path, spec) for path, spec in valid]
    with UploadFile.batch_write() as batch:  # the files sent in one PUT: their records in one request
        for _, record in planned:
            if record is not None:
                batch.save(record)
    answers += [answer for answer, _ in planned]
    return {"id": upload.id, "session": session.id, "expires": upload.expires, "files": answers}


def _plan(
    upload: Upload, session: Session, path: str, spec: FileSpec
) -> tuple[dict[str, Any], UploadFile | None]:
    """Say how to send the file, and record its intent (by its S3 key): a file sent in parts here, with
    what its earlier intent already sent; a file sent in one PUT is returned with its record to write."""
    key = f"{session_relative_path(session)}/{spec.identity}"
    current = settings()
    record = UploadFile(
        key=key,
        upload_id=upload.id,
        lab=session.lab,
        session=session.id,
        path=path,
        status="pending",
        size=spec.size,
        md5=spec.hash,
    )
    answer: dict[str, Any] = {"path": path, "key": key, "status": "pending"}
    if spec.size <= current.multipart_threshold:
        return {
            **answer,
            **storage.presign_put(key, spec.hash, spec.size, current.upload_url_seconds),
        }, record
    try:
        previous = UploadFile.get(key)
    except UploadFile.DoesNotExist:
        previous = None
    resumable = bool(
        previous is not None
        and previous.status == "pending"
        and previous.multipart_id
        and previous.md5 == spec.hash
        and previous.size == spec.size
    )
    done: dict[int, str] = {}
    if resumable:
        try:
            done = storage.uploaded_parts(key, previous.multipart_id)
        except ClientError as error:  # completed (its event is on the way) or aborted
            if error.response["Error"]["Code"] != "NoSuchUpload":
                raise
            if _assembled(previous):
                return {**answer, "status": "uploaded"}, None  # nothing to send: registration follows
            resumable = False
    if resumable:
        record.multipart_id, record.part_size = previous.multipart_id, previous.part_size
        record.part_md5s = previous.part_md5s
    else:
        record.multipart_id = storage.start_multipart(key, spec.hash)
        record.part_size = storage.part_size_for(spec.size, current.multipart_threshold)
        record.part_md5s = {}
    record.save()
    part_size = int(record.part_size)
    declared = record.part_md5s or {}
    return {
        **answer,
        "method": "multipart",
        "part_size": part_size,
        "parts": -(-spec.size // part_size),
        "uploaded": sorted(n for n, etag in done.items() if declared.get(str(n)) == etag),
    }, None


def _assembled(record: UploadFile) -> bool:
    """Whether the bucket already holds the multipart object ``record`` planned (its parts' ETag)."""
    declared = record.part_md5s or {}
    try:
        etag = storage.head(record.key)["ETag"].strip('"')
    except ClientError:
        return False
    return etag == storage.multipart_etag([declared[str(n)] for n in sorted(map(int, declared))])


def _intent(upload_id: str, principal: Principal | None, *, write: bool = True) -> Upload:
    """The intent, if the caller may see it, and with ``write`` (new URLs, parts, assembling) if the
    caller may still create it: the right is the lab's today, not what the account had when it asked."""
    principal = require_read(principal)
    try:
        upload = Upload.get(str(uuid.UUID(upload_id)))
    except (ValueError, Upload.DoesNotExist):
        raise NotFound(f"upload {upload_id} does not exist") from None
    if write:
        require_write(principal, what="datasets", lab=upload.lab, lab_scoped=True)
    elif (
        not principal.is_superuser and upload.user != principal.username and upload.lab not in principal.labs
    ):
        raise PermissionDenied(f"upload {upload_id} belongs to lab {upload.lab!r}")
    return upload


def _file_of(upload: Upload, path: Any) -> UploadFile:
    if not isinstance(path, str):
        raise BadRequest("path: required")
    for record in UploadFile.by_upload.query(upload.id):
        if record.path == path:
            return record
    raise NotFound(f"{path} is not a file of upload {upload.id}")


def _live(upload: Upload) -> None:
    if upload.expires < now():
        raise BadRequest(
            f"upload {upload.id} expired at {upload.expires}: renew it (POST /uploads/{upload.id}/renew)"
        )


def part_urls(upload_id: str, principal: Principal | None, body: Any) -> dict[str, Any]:
    """Presigned URLs for parts of a multipart file, each bound to the md5 the client declares for it."""
    upload = _intent(upload_id, principal)
    _live(upload)
    if not isinstance(body, dict) or not isinstance(body.get("parts"), list):
        raise BadRequest("parts: a list of {number, md5} is required")
    record = _file_of(upload, body.get("path"))
    if not record.multipart_id:
        raise BadRequest(f"{record.path} is a single-part upload: PUT it to its URL")
    count = -(-int(record.size) // int(record.part_size))
    declared = dict(record.part_md5s or {})
    urls = []
    for part in body["parts"]:
        number, md5 = (part.get("number"), part.get("md5")) if isinstance(part, dict) else (None, None)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise BadRequest(f"number: {number!r} is not a part number from 1 to {count}")
        if not isinstance(md5, str) or not MD5.match(md5.lower()):
            raise BadRequest(f"md5: {md5!r} for part {number} is not 32 hexadecimal digits")
        declared[str(number)] = md5.lower()
        urls.append(
            storage.presign_part(
                record.key, record.multipart_id, number, md5.lower(), settings().upload_url_seconds
            )
        )
    record.update(actions=[UploadFile.part_md5s.set(declared), UploadFile.updated.set(now())])
    return {"path": record.path, "parts": urls}


def complete(upload_id: str, principal: Principal | None, body: Any) -> dict[str, Any]:
    """Assemble a multipart file once S3 holds every part, each matching the md5 declared for it."""
    upload = _intent(upload_id, principal)
    record = _file_of(upload, body.get("path") if isinstance(body, dict) else None)
    if not record.multipart_id:
        raise BadRequest(f"{record.path} is a single-part upload: nothing to complete")
    count = -(-int(record.size) // int(record.part_size))
    held = storage.uploaded_parts(record.key, record.multipart_id)
    declared = record.part_md5s or {}
    missing = [n for n in range(1, count + 1) if n not in held]
    if missing:
        raise BadRequest(f"{record.path}: parts {missing[:10]} are not uploaded yet")
    wrong = [n for n in range(1, count + 1) if declared.get(str(n)) != held[n]]
    if wrong:
        raise BadRequest(f"{record.path}: parts {wrong[:10]} do not match the md5 declared for them")
    storage.complete_multipart(record.key, record.multipart_id, {n: held[n] for n in range(1, count + 1)})
    return {"path": record.path, "status": "uploaded"}


def renew(upload_id: str, principal: Principal | None) -> dict[str, Any]:
    """New URLs and a new expiry for the pending files of an intent: nothing is uploaded again."""
    upload = _intent(upload_id, principal)
    upload.update(actions=[Upload.expires.set(_expiry())])
    current, files = settings(), []
    for record in UploadFile.by_upload.query(upload.id):
        entry: dict[str, Any] = {"path": record.path, "key": record.key, "status": record.status}
        if record.status == "pending" and not record.multipart_id:
            entry.update(
                storage.presign_put(record.key, record.md5, int(record.size), current.upload_url_seconds)
            )
        elif record.status == "pending":
            done = storage.uploaded_parts(record.key, record.multipart_id)
            declared = record.part_md5s or {}
            entry.update(
                method="multipart",
                part_size=int(record.part_size),
                parts=-(-int(record.size) // int(record.part_size)),
                uploaded=sorted(n for n, etag in done.items() if declared.get(str(n)) == etag),
            )
        files.append(entry)
    return {"id": upload.id, "session": upload.session, "expires": upload.expires, "files": files}


def _file_json(record: UploadFile) -> dict[str, Any]:
    return {
        "path": record.path,
        "key": record.key,
        "status": record.status,
        "reason": record.reason,
        "dataset": record.dataset,
        "size": record.size,
        "md5": record.md5,
        "updated": record.updated,
    }


def show(upload_id: str, principal: Principal | None) -> dict[str, Any]:
    upload = _intent(upload_id, principal, write=False)
    return {
        "id": upload.id,
        "lab": upload.lab,
        "session": upload.session,
        "user": upload.user,
        "created": upload.created,
        "expires": upload.expires,
        "files": [_file_json(r) for r in UploadFile.by_upload.query(upload.id)],
    }


def files_with_status(principal: Principal | None, status: str, lab: str | None) -> list[dict[str, Any]]:
    """Uploaded objects of the caller's labs (a superuser names the lab) in one state: what was rejected
    and why, so nothing that failed goes unseen."""
    principal = require_read(principal)
    if status not in ("pending", "registered", "rejected"):
        raise BadRequest(f"status: {status!r} is not pending, registered or rejected")
    if lab and len(lab) > NAME_LENGTH:
        raise BadRequest(f"lab: at most {NAME_LENGTH} characters")
    labs = [lab] if lab else sorted(principal.labs)
    if principal.is_superuser and not lab:
        labs = [item.name for item in Lab.scan()]
    if not principal.is_superuser and not set(labs) <= principal.labs:
        raise PermissionDenied(f"you are not a member of lab {lab!r}")
    return [
        _file_json(r)
        for name in labs
        for r in UploadFile.by_lab_status.query(name, UploadFile.status == status)
    ]


def register_object(key: str, size: int, etag: str, vocabulary: Vocabulary) -> UploadFile:
    """Register the object S3 announced (idempotent: S3 may announce it twice); reject it with the
    reason when its name, session, type, size or checksum is wrong."""
    etag = etag.strip('"')
    try:
        record = UploadFile.get(key)
    except UploadFile.DoesNotExist:
        lab = key.split("/", 1)[0] if "/" in key else None
        record = UploadFile(key=key, lab=lab or None, size=size, md5=None if "-" in etag else etag)
    try:
        dataset_id = _register(key, size, etag, record, vocabulary)
    except BadRequest as error:
        logger.info("upload rejected", key=key, reason=error.detail)
        record.status, record.reason, record.dataset = "rejected", error.detail, None
    else:
        record.status, record.reason, record.dataset = "registered", None, dataset_id
    record.updated = now()
    _write_back(record)
    return record


def _write_back(record: UploadFile) -> None:
    """Save the outcome unless a newer intent took the key meanwhile; that intent is told too when it
    declared the same content."""
    owner = (
        UploadFile.upload_id == record.upload_id
        if record.upload_id
        else UploadFile.upload_id.does_not_exist()
    )
    try:
        record.save(condition=UploadFile.key.does_not_exist() | owner)
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        newer = UploadFile.get(record.key)
        if record.status == "registered" and newer.md5 == record.md5 and newer.size == record.size:
            newer.update(
                actions=[
                    UploadFile.status.set("registered"),
                    UploadFile.dataset.set(record.dataset),
                    UploadFile.updated.set(now()),
                ]
            )


def _register(key: str, size: int, etag: str, record: UploadFile, vocabulary: Vocabulary) -> str:
    path = alf.parse_path(key)
    if path.session.lab is None:
        raise BadRequest("the key does not start with lab/Subjects/")
    try:
        session = vocabulary.lookups.remember(
            ("session", str(path.session)), partial(find_session, path.session)
        )
    except NotFound as error:
        raise BadRequest(error.detail) from None
    record.session = session.id
    if record.upload_id:  # uploaded against an intent: the object must be what was declared
        if int(record.size) != size:
            raise BadRequest(f"size mismatch: {size} bytes uploaded, {int(record.size)} declared")
        expected = (
            storage.multipart_etag([record.part_md5s[str(n)] for n in sorted(map(int, record.part_md5s))])
            if record.multipart_id
            else record.md5
        )
        if etag != expected:
            raise BadRequest(f"checksum mismatch: S3 holds {etag}, the upload declared {expected}")
        md5 = record.md5
    else:  # written by a job: trust the bucket (md5 metadata for multipart objects)
        md5 = etag if "-" not in etag else storage.head(key).get("Metadata", {}).get("md5")
    uploader = vocabulary.lookups.remember(("uploader", record.upload_id), partial(_uploader, record))
    try:
        (summary,) = register_files(
            session=session,
            specs=[FileSpec(path=path.dataset, hash=md5, size=size)],
            sent_names=[str(path.dataset)],
            repository=settings().s3_repository,
            created_by=uploader,
            vocabulary=vocabulary,
        )
    except Protected:
        raise BadRequest("the dataset is protected: upload into a new revision") from None
    if pipeline.may_start(path.dataset) and pipeline.tasks_for(session, Dataset.get(summary["id"])):
        pipeline.dispatch(session.id)
    return summary["id"]


def _uploader(record: UploadFile) -> str:
    if record.upload_id:
        try:
            return Upload.get(record.upload_id).user
        except Upload.DoesNotExist:
            pass
    return "onecloud"
