"""Downloads from the central store: an ALF path with the dataset uuid (a file record's data_url)
resolves, for a caller who may read it, to a short-lived presigned GET."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib import alf, storage
from chalicelib.auth import Principal
from chalicelib.aws import settings
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import Dataset, Download, FileRecord, Session, Tag
from chalicelib.models.base import now
from chalicelib.permissions import require_read
from chalicelib.registration import session_relative_path


def may_read(principal: Principal, dataset: Dataset) -> bool:
    """A file's contents are for its lab (and superusers) until it is released (a public tag): other
    accounts see its metadata, not its data."""
    if principal.is_superuser or dataset.lab in principal.labs:
        return True
    return any(tag.public for tag in Tag.batch_get(list(dataset.tags))) if dataset.tags else False


def presigned_download(path: str, principal: Principal | None) -> str:
    """The presigned URL for ``path``; anything the caller may not read is simply not found."""
    principal = require_read(principal)
    try:
        full = alf.parse_path(path)
    except alf.ALFError:
        raise NotFound(f"{path} does not exist") from None
    missing = NotFound(f"{path} does not exist")
    if full.dataset.filename.uuid is None:
        raise missing
    try:
        dataset = Dataset.get(full.dataset.filename.uuid)
        session = Session.get(dataset.session or "-")  # an aggregate is in no session folder
    except (Dataset.DoesNotExist, Session.DoesNotExist):
        raise missing from None
    identity = alf.DatasetPath(
        full.dataset.filename.without_uuid(), full.dataset.collection, full.dataset.revision
    )
    key = f"{session_relative_path(session)}/{dataset.relative_path}"
    if str(identity) != dataset.relative_path or str(full.session) != session_relative_path(session):
        raise missing
    if not may_read(principal, dataset):
        raise missing
    stored = FileRecord.by_path.query(settings().s3_repository, FileRecord.relative_path == key)
    if not any(record.exists for record in stored):
        raise missing
    return storage.presign_get(key, settings().download_url_seconds)


DOWNLOADS = uuid.UUID("6f1c3c52-64a4-4b8e-9f1e-3f7f2b0d6a10")  # namespace of the download log's ids


def log_downloads(user: str, datasets: list[str], projects: list[str]) -> dict[str, list[Any]]:
    """Alyx's ``new-download``: count one more download of each dataset by ``user`` (for ``projects``).
    Each (user, dataset) pair is one record whose id derives from the pair; the count is an atomic add."""
    found = {d.id for d in Dataset.batch_get(sorted(set(datasets)))} if datasets else set()
    missing = [d for d in datasets if d not in found]
    if missing:
        raise BadRequest(f"datasets: no dataset {', '.join(missing[:5])}")
    ids, counts = [], []
    for dataset in datasets:
        key = str(uuid.uuid5(DOWNLOADS, f"{user}/{dataset}"))
        record = Download(id=key, user=user, dataset=dataset)
        moment = now()
        record.update(
            actions=[
                Download.user.set(user),
                Download.dataset.set(dataset),
                Download.count.add(1),
                Download.projects.set(sorted(projects)),
                Download.first_download.set(Download.first_download | moment),
                Download.last_download.set(moment),
            ]
        )
        ids.append(key)
        counts.append(int(record.count))
    return {"download": ids, "count": counts}
