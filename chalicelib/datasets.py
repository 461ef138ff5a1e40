"""The data catalogue's keyed lookups: a session's datasets, a dataset by identity, a file by path."""

from __future__ import annotations

from chalicelib import alf
from chalicelib.models import DataRepository, Dataset, FileRecord


def datasets_of_session(session_id: str) -> list[Dataset]:
    return list(Dataset.by_session.query(session_id))


def dataset_at(session_id: str, path: alf.DatasetPath) -> Dataset | None:
    """The dataset of a session at collection/revision/name (its identity), without the uuid."""
    relative = str(alf.DatasetPath(path.filename.without_uuid(), path.collection, path.revision))
    return next(iter(Dataset.by_session.query(session_id, Dataset.relative_path == relative)), None)


def file_record_at(repository: str, relative_path: str) -> FileRecord | None:
    return next(iter(FileRecord.by_path.query(repository, FileRecord.relative_path == relative_path)), None)


def awaiting_central_copy(lab: str | None = None) -> list[str]:
    """Alyx's ``sync-file-status``: the relative paths of files a central (non-personal) repository does
    not hold yet, sorted. One keyed query per central repository (the repositories are a small table)."""
    central = [
        r for r in DataRepository.scan() if not r.globus_is_personal and (not lab or r.lab in (None, lab))
    ]
    missing = FileRecord.exists == False  # noqa: E712 - a DynamoDB condition, not a comparison
    return sorted(
        {
            record.relative_path
            for repository in central
            for record in FileRecord.by_path.query(repository.name, filter_condition=missing)
            if not lab or record.lab == lab
        }
    )
