"""Registering files as datasets: the contract's ``/register-file`` semantics, shared by the API and the
S3 event path.

Unlike Alyx, every file is checked before anything is written (ALF name, exactly one dataset type, a
known data format, list lengths, protection), so a bad request changes nothing; then each file's dataset
and file records are written in one transaction.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib import alf, aws
from chalicelib.errors import BadRequest, NotFound, OnecloudError
from chalicelib.fields import Field
from chalicelib.memo import Memo
from chalicelib.models import (
    DataFormat,
    DataRepository,
    Dataset,
    DatasetType,
    FileRecord,
    Lab,
    Revision,
    Session,
    Tag,
)
from chalicelib.models.base import now
from chalicelib.models.data import AGGREGATE
from chalicelib.models.unique import UniqueKey
from chalicelib.qc import qc_value

PROTECTED = "One or more datasets is protected"


class Protected(OnecloudError):
    """A 403 in the shape the ONE client acts on: it moves the files to a new revision and retries."""

    status = 403

    def __init__(self, details: list[dict[str, list[dict[str, bool]]]]) -> None:
        super().__init__(PROTECTED, extra={"status_code": 403, "error": PROTECTED, "details": details})


@dataclass(frozen=True)
class FileSpec:
    """One file to register, relative to its session folder."""

    path: alf.DatasetPath
    hash: str | None = None
    size: int | None = None
    version: str | None = None
    qc: int | None = None

    @property
    def identity(self) -> str:
        return str(
            alf.DatasetPath(self.path.filename.without_uuid(), self.path.collection, self.path.revision)
        )


class Lookalikes:
    """The files of a session's collections, by what ONE sees of their names.

    ONE finds a file by object and attribute, with or without its namespace and regardless of case; two
    files of one collection and revision whose names differ only by case or namespace
    (``_ibl_trials.choice.NPY``, ``trials.choice.npy``) cannot be told apart, so the second is refused.
    """

    def __init__(self, identities: Iterable[str]) -> None:
        self.seen: dict[tuple[str, str, str], str] = {}
        for identity in identities:
            self.seen.setdefault(self._look(alf.parse_dataset_path(identity)), identity)

    @staticmethod
    def _look(path: alf.DatasetPath) -> tuple[str, str, str]:
        name = replace(path.filename.without_uuid(), namespace=None)
        return path.collection or "", path.revision or "", str(name).lower()

    def add(self, spec: FileSpec) -> None:
        """Count ``spec`` in, or refuse it (400) when it looks like another file."""
        look = self._look(spec.path)
        other = self.seen.setdefault(look, spec.identity)
        if other != spec.identity:
            raise BadRequest(
                f"{spec.identity}: {other} is already in this collection, and ONE cannot tell apart files "
                "whose names differ only by case or namespace"
            )


VOCABULARY_SECONDS = 60.0  # how long a warm container trusts the dataset types and formats it read


@dataclass(frozen=True)
class _Known:
    read_at: float
    writes: tuple[int, int]  # this process's writes to the two tables when they were read
    types: list[DatasetType]
    formats: dict[str, DataFormat]


_known: _Known | None = None
_known_lock = threading.Lock()


def _types_and_formats(fresh: bool) -> tuple[list[DatasetType], dict[str, DataFormat]]:
    """The dataset types and data formats, read again when ``fresh``, when this process wrote to either
    table, or after VOCABULARY_SECONDS (another container's edit); every upload and registration needs
    them, and reading 227 types for each took a fifth of registering a file."""
    global _known
    writes = (aws.writes_to(DatasetType.Meta.table_name), aws.writes_to(DataFormat.Meta.table_name))
    with _known_lock:
        known = _known
        if (
            fresh
            or known is None
            or known.writes != writes
            or time.monotonic() - known.read_at > VOCABULARY_SECONDS
        ):
            formats = {f.file_extension.lower(): f for f in DataFormat.scan()}
            known = _known = _Known(time.monotonic(), writes, list(DatasetType.scan()), formats)
    return known.types, known.formats


class Vocabulary:
    """Dataset types and data formats (as last read by this process, read again before a file is refused
    for want of a match: a type added elsewhere counts at once), and protected tags (read each time); and
    the lookups one registration or event batch makes once (``lookups``: a lab's repositories, a session,
    an upload intent's user)."""

    def __init__(self) -> None:
        self.lookups = Memo()
        self.fresh = False
        self.types, self.formats = _types_and_formats(fresh=False)
        self.protected_tags = {t.name for t in Tag.scan() if t.protected}

    def _read_again(self) -> bool:
        if self.fresh:
            return False
        self.fresh = True
        self.types, self.formats = _types_and_formats(fresh=True)
        return True

    def dataset_type(self, filename: alf.FileName) -> DatasetType:
        """The one dataset type a file matches: by its pattern, or by object.attribute for blank patterns."""
        name = str(filename.without_uuid())
        matches = self._matches(name, filename)
        if len(matches) != 1 and self._read_again():
            matches = self._matches(name, filename)
        if not matches:
            raise BadRequest(f"{name}: no dataset type matches this file name")
        if len(matches) > 1:
            raise BadRequest(
                f"{name}: matches several dataset types ({', '.join(sorted(t.name for t in matches))})"
            )
        return matches[0]

    def _matches(self, name: str, filename: alf.FileName) -> list[DatasetType]:
        return [
            t
            for t in self.types
            if (t.filename_pattern and fnmatch.fnmatchcase(name.lower(), t.filename_pattern))
            or (not t.filename_pattern and t.name == filename.dataset_type)
        ]

    def data_format(self, filename: alf.FileName) -> DataFormat:
        extension = f".{filename.extension}".lower()
        if extension not in self.formats:
            self._read_again()
        if extension not in self.formats:
            raise BadRequest(f"{filename}: no data format has the extension {extension}")
        return self.formats[extension]


def session_relative_path(session: Session) -> str:
    return f"{session.lab}/Subjects/{session.subject}/{session.date}/{int(session.number):03d}"


# Alyx's content types of records a dataset may aggregate over, by the names clients give them
CONTENT_TYPES = {
    "subject": "subjects.subject",
    "probeinsertion": "experiments.probeinsertion",
    "lab": "misc.lab",
    "project": "subjects.project",
    "tag": "data.tag",
}


@dataclass(frozen=True)
class Owner:
    """What registered datasets belong to: a session, or (an aggregate, Alyx's dataset without a
    session) the record ``content_type``/``object_id`` names. ``lab`` is whose write it is."""

    lab: str
    session: Session | None = None
    content_type: str | None = None
    object_id: str | None = None
    subject: str | None = None  # the nickname an answer shows

    @classmethod
    def of(cls, session: Session) -> Owner:
        return cls(lab=session.lab, session=session, subject=session.subject)

    @property
    def base(self) -> str:
        """The folder file records' paths start with: the session's; an aggregate's path is its own."""
        return session_relative_path(self.session) if self.session else ""


def aggregate_owner(
    content_type: str, object_id: str, labs: Sequence[str], caller_labs: Sequence[str]
) -> Owner:
    """The record an aggregate dataset belongs to (a 400 naming what is wrong, as Alyx's register-file).
    Its lab is the subject's or insertion's; for a lab, project or tag, the lab named in ``labs`` or the
    caller's only lab."""
    from chalicelib.models import Lab, ProbeInsertion, Project, Subject

    kind = CONTENT_TYPES.get(content_type.lower()) or (
        content_type.lower() if content_type.lower() in CONTENT_TYPES.values() else None
    )
    if kind is None:
        known = ", ".join(sorted(CONTENT_TYPES.values()))
        raise BadRequest(f"content_type: invalid content type {content_type!r} (one of {known})")
    try:
        key = str(uuid.UUID(str(object_id)))
    except ValueError:
        raise BadRequest(f"object_id: invalid object ID {object_id!r}") from None
    found: Any = None
    if kind == "subjects.subject":
        found = Subject.get(key) if Subject.count(key) else None
    elif kind == "experiments.probeinsertion":
        found = ProbeInsertion.get(key) if ProbeInsertion.count(key) else None
    else:
        model = {"misc.lab": Lab, "subjects.project": Project, "data.tag": Tag}[kind]
        found = next((r for r in model.scan(model.id == key)), None)
    if found is None:
        raise BadRequest(f"object_id: invalid object ID {object_id!r}: no {kind} has it")
    lab = getattr(found, "lab", None) or (found.name if kind == "misc.lab" else None)
    if lab is None:
        choices = list(labs) or list(caller_labs)
        if len(choices) != 1:
            raise BadRequest("labs: name the lab the aggregate belongs to")
        lab = choices[0]
    subject = found.nickname if kind == "subjects.subject" else None
    return Owner(lab=lab, content_type=kind, object_id=key, subject=subject)


def repositories_for(lab: str, name: str | None, *, server_only: bool) -> list[DataRepository]:
    """The repositories that get a file record: every repository of the lab, and the named one (the
    one the files exist in) even when it is not the lab's."""
    try:
        names = list(Lab.get(lab).repositories)
    except Lab.DoesNotExist:
        names = []
    if name and name not in names:
        names.append(name)
    repositories = {r.name: r for r in DataRepository.batch_get(names)} if names else {}
    if name and name not in repositories:
        raise BadRequest(f"name: data repository {name!r} does not exist")
    found = [repositories[n] for n in names if n in repositories]
    if server_only:
        found = [r for r in found if not r.globus_is_personal or r.name == name]
    if not found:
        raise BadRequest(f"lab {lab!r} has no data repository: name one with 'name'")
    return found


def named_repository(name: str | None, hostname: str | None = None) -> DataRepository:
    """The repository an aggregate's files sit in, by name or hostname (Alyx requires one of them)."""
    if not name and not hostname:
        raise BadRequest("name: a repository name or hostname is required for datasets of no session")
    if name:
        try:
            return DataRepository.get(name)
        except DataRepository.DoesNotExist:
            raise BadRequest(f"name: data repository {name!r} does not exist") from None
    found = next(iter(DataRepository.scan(DataRepository.hostname == hostname)), None)
    if found is None:
        raise BadRequest(f"hostname: no data repository has the hostname {hostname!r}")
    return found


def protection_details(
    specs: Sequence[FileSpec], sent: Sequence[str], existing: dict[str, Dataset], protected_tags: set[str]
) -> list[dict[str, list[dict[str, bool]]]] | None:
    """For each file, the revisions of its collection/name and whether each is protected (newest first),
    or None when no file would overwrite a protected dataset."""
    details, blocked = [], False
    for spec, name in zip(specs, sent, strict=True):
        same = [
            d
            for d in existing.values()
            if d.collection == spec.path.collection and d.name == str(spec.path.filename.without_uuid())
        ]
        same.sort(key=lambda d: (d.revision, d.created_datetime), reverse=True)
        info = [{d.revision: bool(set(d.tags) & protected_tags)} for d in same]
        current = existing.get(spec.identity)
        if current is not None and set(current.tags) & protected_tags:
            blocked = True
        details.append({name: info})
    return details if blocked else None


def datasets_in_collections(owner: Owner, collections: set[str]) -> dict[str, Dataset]:
    """The owner's datasets in these collections, by identity: one range query per collection, so a
    registration reads what it may touch (its collection's revisions), not the whole session."""
    found: dict[str, Dataset] = {}
    for collection in collections:
        condition = Dataset.relative_path.startswith(f"{collection}/") if collection else None
        if owner.session is not None:
            candidates = Dataset.by_session.query(owner.session.id, condition)
        else:
            candidates = (
                d
                for d in Dataset.by_aggregate.query(AGGREGATE, condition)
                if (d.content_type, d.object_id) == (owner.content_type, owner.object_id)
            )
        found.update((d.relative_path, d) for d in candidates if d.collection == collection)
    return found


def check_protection(
    owner: Owner | Session,
    specs: Sequence[FileSpec],
    sent_names: Sequence[str],
    vocabulary: Vocabulary | None = None,
) -> dict[str, Dataset]:
    """The owner's datasets by identity, after refusing (403) files that would overwrite protected ones."""
    owner = owner if isinstance(owner, Owner) else Owner.of(owner)
    protected_tags = (vocabulary or Vocabulary()).protected_tags
    existing = datasets_in_collections(owner, {spec.path.collection for spec in specs})
    details = protection_details(specs, sent_names, existing, protected_tags)
    if details is not None:
        raise Protected(details)
    return existing


def register_files(
    *,
    session: Session | None = None,
    owner: Owner | None = None,
    specs: Sequence[FileSpec],
    sent_names: Sequence[str],
    repository: str | None,
    created_by: str,
    exists: bool = True,
    default: bool = True,
    server_only: bool = False,
    vocabulary: Vocabulary | None = None,
) -> list[dict[str, Any]]:
    """Register ``specs`` (files of ``session`` or ``owner``) and return one summary per file, in order."""
    owner = owner or Owner.of(session)
    vocabulary = vocabulary or Vocabulary()
    typed = [
        (spec, vocabulary.dataset_type(spec.path.filename), vocabulary.data_format(spec.path.filename))
        for spec in specs
    ]
    if owner.session is None:  # an aggregate: the repository it sits in, named (as Alyx requires)
        repositories = [named_repository(repository)]
    else:
        repositories = vocabulary.lookups.remember(
            ("repositories", owner.lab, repository, server_only),
            partial(repositories_for, owner.lab, repository, server_only=server_only),
        )
    existing = check_protection(owner, specs, sent_names, vocabulary)
    lookalikes = Lookalikes(existing)
    for spec in specs:
        lookalikes.add(spec)
    again = [existing[spec.identity] for spec in specs if spec.identity in existing]
    records = {(r.dataset, r.data_repository): r for d in again for r in FileRecord.by_dataset.query(d.id)}
    for revision in {spec.path.revision for spec in specs if spec.path.revision}:
        _ensure_revision(revision)
    summaries = []
    for spec, dataset_type, data_format in typed:
        dataset = _write_dataset(
            owner,
            spec,
            dataset_type.name,
            data_format.name,
            existing,
            records,
            repositories,
            created_by=created_by,
            exists=exists,
            default=default,
            named=repository,
        )
        existing[dataset.relative_path] = dataset
        summaries.append(summary(dataset, [records[(dataset.id, r.name)] for r in repositories], owner))
    return summaries


def _ensure_revision(name: str) -> None:
    if Revision.count(name) == 0:
        Revision(name=name).save()


def _write_dataset(
    owner: Owner,
    spec: FileSpec,
    dataset_type: str,
    data_format: str,
    existing: dict[str, Dataset],
    records: dict[tuple[str, str], FileRecord],
    repositories: list[DataRepository],
    *,
    created_by: str,
    exists: bool,
    default: bool,
    named: str | None,
) -> Dataset:
    """One transaction: the dataset (new or updated), its file records, and the default flag moved off
    the other revisions of the same collection/name."""
    dataset = existing.get(spec.identity)
    created = dataset is None
    if created:
        name = str(spec.path.filename.without_uuid())
        dataset = Dataset(
            session=owner.session.id if owner.session else None,
            content_type=owner.content_type,
            object_id=owner.object_id,
            aggregate=None if owner.session else AGGREGATE,
            lab=owner.lab,
            relative_path=spec.identity,
            name=name,
            collection=spec.path.collection,
            revision=spec.path.revision,
            dataset_type=dataset_type,
            data_format=data_format,
            created_by=created_by,
        )
    changed = created or dataset.hash != spec.hash or dataset.file_size != spec.size
    dataset.hash, dataset.file_size = spec.hash, spec.size
    if spec.version is not None:
        dataset.version = spec.version
    if spec.qc is not None:
        dataset.qc = spec.qc
    if changed and not created:
        dataset.created_datetime = now()
    demoted = []
    if default:
        dataset.default_dataset = True
        demoted = [
            d
            for d in existing.values()
            if d.id != dataset.id
            and d.default_dataset
            and d.collection == dataset.collection
            and d.name == dataset.name
        ]
    base = owner.base
    with TransactWrite(connection=aws.dynamodb_connection()) as tx:
        if created:
            tx.save(dataset, condition=Dataset.id.does_not_exist())
            for key in dataset.unique_keys:
                tx.save(UniqueKey(key=key, owner=dataset.id), condition=UniqueKey.key.does_not_exist())
        else:
            tx.save(dataset)
        for other in demoted:
            other.default_dataset = False
            tx.save(other)
        for repository in repositories:
            record = records.get((dataset.id, repository.name))
            present = exists if (named is None or repository.name == named) else False
            if record is None:
                record = FileRecord(
                    dataset=dataset.id,
                    session=owner.session.id if owner.session else None,
                    data_repository=repository.name,
                    relative_path=f"{base}/{dataset.relative_path}".lstrip("/"),
                    lab=owner.lab,
                    exists=present,
                )
                records[(dataset.id, repository.name)] = record
                tx.save(record)
                for key in record.unique_keys:
                    tx.save(UniqueKey(key=key, owner=record.id), condition=UniqueKey.key.does_not_exist())
            elif repository.name == named or named is None:
                record.exists = present
                tx.save(record)
    return dataset


def data_url(record: FileRecord, repositories: dict[str, DataRepository], base_url: str = "") -> str | None:
    """Repository URL + relative path with the dataset uuid before the extension (what ONE downloads).

    The central S3 store has no URL of its own: the API serves its paths (``base_url``), answering each
    with a redirect to a short-lived presigned GET.
    """
    repository = repositories.get(record.data_repository)
    if repository is None:
        return None
    root = repository.data_url or (base_url if repository.name == aws.settings().s3_repository else "")
    if not root:
        return None
    if not record.session:  # an aggregate's path has no session folder: Subjects/<lab>/<nickname>/...
        path = alf.parse_dataset_path(record.relative_path)
        remote: Any = alf.DatasetPath(path.filename.with_uuid(record.dataset), path.collection, path.revision)
        if not repository.data_url:  # the store keeps aggregates under aggregates/, as IBL's: ONE expects it
            root = f"{root.rstrip('/')}/aggregates"
        return f"{root.rstrip('/')}/{remote}"
    path = alf.parse_path(record.relative_path)
    remote = alf.FullPath(
        path.session,
        alf.DatasetPath(
            path.dataset.filename.with_uuid(record.dataset), path.dataset.collection, path.dataset.revision
        ),
    )
    # A revision folder's '#' stays raw, as Alyx gives it: ONE quotes the path itself before downloading
    # and takes the local folder from the unquoted path.
    return f"{root.rstrip('/')}/{remote}"


def summary(dataset: Dataset, records: list[FileRecord], owner: Owner | Session) -> dict[str, Any]:
    """What /register-file answers for one dataset: Alyx's fields (``qc`` as Alyx gives it, the number),
    with the hash, version and date as well; an aggregate's names its ``content_type`` and ``object_id``."""
    owner = owner if isinstance(owner, Owner) else Owner.of(owner)
    session = owner.session
    if session is not None:
        belongs = {
            "session": session.id,
            "session_number": int(session.number),
            "session_users": ",".join(session.users),
            "session_start_time": session.start_time,
            "date": session.date,
            "number": int(session.number),
        }
    else:
        belongs = {"content_type": owner.content_type, "object_id": owner.object_id}
    return {
        "id": dataset.id,
        "name": dataset.name,
        "file_size": dataset.file_size,
        "hash": dataset.hash,
        "version": dataset.version,
        "subject": owner.subject,
        "created_by": dataset.created_by,
        "created_datetime": dataset.created_datetime,
        "dataset_type": dataset.dataset_type,
        "data_format": dataset.data_format,
        **belongs,
        "collection": dataset.collection,
        "revision": dataset.revision,
        "default": dataset.default_dataset,
        "qc": int(dataset.qc),
        "file_records": [
            {
                "id": r.id,
                "data_repository": r.data_repository,
                "relative_path": r.relative_path,
                "exists": r.exists,
            }
            for r in records
        ],
    }


def find_session_for(path: str, labs: Sequence[str]) -> Session:
    """The session a /register-file ``path`` names (``subject/date/NNN``, optionally ``lab/Subjects/``)."""
    from chalicelib.sessions import find_session

    session_path = alf.parse_session_path(path)
    if session_path.lab is None and len(labs) == 1:
        session_path = alf.SessionPath(session_path.subject, session_path.date, session_path.number, labs[0])
    try:
        session = find_session(session_path)
    except NotFound:
        raise BadRequest(f"path: session {session_path} does not exist; create it first") from None
    if labs and session.lab not in labs:
        raise BadRequest(f"labs: session {session_path} belongs to lab {session.lab!r}")
    return session


@dataclass(frozen=True)
class RegisterRequest:
    """A /register-file body, checked: parallel lists of the same length, booleans, the session path."""

    path: str
    filenames: list[str]
    specs: list[FileSpec]
    created_by: str | None
    repository: str | None
    labs: list[str]
    exists: bool
    default: bool
    server_only: bool
    content_type: str | None = None
    object_id: str | None = None
    hostname: str | None = None

    @property
    def aggregate(self) -> bool:
        """Files of no session (Alyx's aggregates): both ``content_type`` and ``object_id`` are given."""
        if bool(self.content_type) != bool(self.object_id):
            raise BadRequest("content_type, object_id: both should be provided together")
        return bool(self.content_type)


_REQUEST_FIELDS = {
    "created_by",
    "name",
    "path",
    "filenames",
    "hashes",
    "filesizes",
    "versions",
    "qc",
    "labs",
    "server_only",
    "exists",
    "default",
    "check_protected",
    "bulk",
    "content_type",
    "object_id",
    "hostname",
    "projects",
}


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"{name}: expected true or false")


def _parallel(data: dict[str, Any], name: str, count: int) -> list[Any]:
    values = data.get(name)
    if values is None:
        return [None] * count
    if not isinstance(values, list):
        values = [values] if count == 1 else values
    if not isinstance(values, list) or len(values) != count:
        raise BadRequest(f"{name}: expected a list of {count} values, one per file in filenames")
    return values


SIZE = Field("filesizes", "integer", minimum=0)
HASH = Field("hashes", description="md5 hex")
VERSION = Field("versions")


def parse_register_request(data: Any) -> RegisterRequest:
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(set(data) - _REQUEST_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if not isinstance(data.get("path"), str) or not data["path"]:
        raise BadRequest("path: the session path (subject/YYYY-MM-DD/NNN) is required")
    filenames = data.get("filenames")
    if isinstance(filenames, str):
        filenames = [filenames]
    if not filenames or not isinstance(filenames, list) or not all(isinstance(f, str) for f in filenames):
        raise BadRequest("filenames: a list of file paths relative to the session is required")
    count = len(filenames)
    aggregate = bool(data.get("content_type") or data.get("object_id"))
    hashes, sizes = _parallel(data, "hashes", count), _parallel(data, "filesizes", count)
    versions, qcs = _parallel(data, "versions", count), _parallel(data, "qc", count)
    specs = []
    for filename, md5, size, version, qc in zip(filenames, hashes, sizes, versions, qcs, strict=True):
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise BadRequest(f"filesizes: {size!r} for {filename} is not a size in bytes")
        size, md5 = SIZE.clean(size), HASH.clean(md5)
        version = VERSION.clean(None if version is None else str(version))
        specs.append(
            FileSpec(
                path=alf.parse_dataset_path(
                    _aggregate_path(data["path"], filename) if aggregate else filename
                ),
                hash=md5,
                size=size,
                version=version,
                qc=None if qc is None else qc_value(qc),
            )
        )
    labs = data.get("labs") or data.get("projects") or []
    if isinstance(labs, str):
        labs = [lab for lab in labs.split(",") if lab]
    return RegisterRequest(
        path=data["path"],
        filenames=list(filenames),
        specs=specs,
        created_by=data.get("created_by"),
        repository=data.get("name"),
        labs=list(labs),
        exists=_flag(data, "exists", True),
        default=_flag(data, "default", True),
        server_only=_flag(data, "server_only", False),
        content_type=_text(data, "content_type"),
        object_id=_text(data, "object_id"),
        hostname=_text(data, "hostname"),
    )


def _aggregate_path(path: str, filename: str) -> str:
    """An aggregate's file with ``path`` as its collection (``Subjects/<lab>/<nickname>``): it has no
    session folder for the path to name. '.' folders drop out, as Alyx's pathlib join drops them (ONE
    sends the file itself as ``path`` and '.' as its name when it registers one file)."""
    return "/".join(part for part in f"{path}/{filename}".split("/") if part not in ("", "."))


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise BadRequest(f"{name}: expected a name of at most 255 characters")
    return value
