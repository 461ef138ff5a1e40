"""The data catalogue: repositories, dataset types, formats, revisions, tags, datasets and file records."""

from __future__ import annotations

import json
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from chalicelib import alf
from chalicelib.datasets import datasets_of_session
from chalicelib.errors import BadRequest, PermissionDenied
from chalicelib.fields import Field
from chalicelib.lookups import Lookup, split_top_level
from chalicelib.models import (
    DataFormat,
    DataRepository,
    DataRepositoryType,
    Dataset,
    DatasetType,
    Download,
    FileRecord,
    ProbeInsertion,
    Revision,
    Session,
    Tag,
)
from chalicelib.models.data import AGGREGATE
from chalicelib.qc import qc_name, qc_value
from chalicelib.registration import (
    CONTENT_TYPES,
    Vocabulary,
    aggregate_owner,
    data_url,
    session_relative_path,
)
from chalicelib.resources.common import custom, exact, name_field
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import date_range, get_session, sessions_of_subject

register(
    Resource(
        name="data-repository-type",
        singular="data repository type",
        model=DataRepositoryType,
        key="name",
        description="Kinds of data repository (Fileserver, S3...)",
        fields=(name_field(r".+"), Field("json", "json")),
        params=(),
        django=False,
        ordering=lambda item: item.name,
    )
)

register(
    Resource(
        name="data-repository",
        singular="data repository",
        model=DataRepository,
        key="name",
        description="Where files live: the central S3 store or a lab server (ONE downloads from data_url)",
        fields=(
            name_field(),
            Field("lab", relation="labs"),
            Field("repository_type", relation="data-repository-type"),
            Field("data_url"),
            Field("globus_is_personal", "boolean", description="false for the central store"),
            Field("json", "json", description="for an S3 repository: bucket_name, region"),
            Field("hostname"),
            Field("globus_path", description="the repository's root folder, as Globus sees it"),
            Field("globus_endpoint_id", "uuid", description="the Globus endpoint a lab server runs"),
            Field("timezone"),
        ),
        params=(exact("name"), exact("globus_is_personal"), exact("globus_endpoint_id")),
        django=False,
        ordering=lambda item: item.name,
    )
)


def _type_build(data: dict[str, Any], ctx: Context) -> DatasetType:
    data["filename_pattern"] = (data.get("filename_pattern") or "").lower()
    return DatasetType(**data)


def _type_change(item: DatasetType, data: dict[str, Any], ctx: Context) -> None:
    if "filename_pattern" in data:
        data["filename_pattern"] = (data["filename_pattern"] or "").lower()
    for name, value in data.items():
        setattr(item, name, value)


register(
    Resource(
        name="dataset-types",
        singular="dataset type",
        model=DatasetType,
        key="name",
        description="Dataset types; a file matches exactly one, by pattern or by object.attribute",
        fields=(
            name_field(r"[\w.-]+"),
            Field("description", "text"),
            Field(
                "filename_pattern",
                description="lowercase fnmatch pattern, unique; blank: object.attribute == name",
            ),
            Field("created_by", relation="users"),
            Field("json", "json"),
        ),
        params=(),
        django=False,
        build=_type_build,
        change=_type_change,
        ordering=lambda item: item.name,
    )
)

register(
    Resource(
        name="data-formats",
        singular="data format",
        model=DataFormat,
        key="name",
        fields=(
            name_field(),
            Field("file_extension", required=True, null=False, pattern=r"\.\w+"),
            Field("description", "text"),
            Field("matlab_loader_function"),
            Field("python_loader_function"),
            Field("json", "json"),
        ),
        params=(),
        django=False,
        ordering=lambda item: item.name,
    )
)

register(
    Resource(
        name="revisions",
        singular="revision",
        model=Revision,
        key="name",
        fields=(
            name_field(r"[\w.-]+"),
            Field("description", "text"),
            Field("created_datetime", "datetime", read_only=True),
        ),
        params=(exact("name"),),
        django=False,
        ordering=lambda item: item.created_datetime,
    )
)

register(
    Resource(
        name="tags",
        singular="tag",
        model=Tag,
        key="name",
        description="Dataset tags; a protected tag stops its datasets from being overwritten",
        fields=(
            name_field(r".+"),
            Field("description", "text"),
            Field("protected", "boolean"),
            Field("public", "boolean"),
            Field("hash", description="the md5 of the tagged datasets' ids, as releases record it"),
            Field("json", "json"),
        ),
        params=(exact("name"),),
        django=False,
        ordering=lambda item: item.name,
    )
)


def dataset_url(dataset: Dataset, ctx: Context) -> str:
    return ctx.url("datasets", dataset.id)


def _repository_path(repository: DataRepository | None) -> str | None:
    """Alyx's ``data_repository_path``: the repository's root as Globus sees it."""
    return repository.globus_path if repository is not None else None


def _file_json(record: FileRecord, repositories: dict[str, DataRepository], ctx: Context) -> dict[str, Any]:
    return {
        "id": record.id,
        "url": ctx.url("files", record.id),
        "data_repository": record.data_repository,
        "data_repository_path": _repository_path(repositories.get(record.data_repository)),
        "relative_path": record.relative_path,
        "exists": record.exists,
        "data_url": data_url(record, repositories, ctx.base_url) if record.exists else None,
    }


def _repositories(records: list[FileRecord]) -> dict[str, DataRepository]:
    names = sorted({r.data_repository for r in records})
    return {r.name: r for r in DataRepository.batch_get(names)} if names else {}


def dataset_files(datasets: list[Dataset], ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """File records of ``datasets``: one query per session they belong to, not one per dataset."""
    wanted = {d.id for d in datasets}
    records = [
        r
        for session in {d.session for d in datasets if d.session}
        for r in FileRecord.by_session.query(session)
        if r.dataset in wanted
    ] + [r for d in datasets if not d.session for r in FileRecord.by_dataset.query(d.id)]
    repositories = _repositories(records)
    files: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        files[record.dataset].append(_file_json(record, repositories, ctx))
    return files


def _tags_flagged(datasets: list[Dataset]) -> tuple[set[str], set[str]]:
    """The protected and the public tags (read only when a dataset has tags)."""
    if not any(d.tags for d in datasets):
        return set(), set()
    tags = list(Tag.scan())
    return {t.name for t in tags if t.protected}, {t.name for t in tags if t.public}


def _datasets_json(datasets: list[Dataset], ctx: Context) -> list[dict[str, Any]]:
    files = dataset_files(datasets, ctx)
    protected, public = _tags_flagged(datasets)
    sessions = sorted({d.session for d in datasets if d.session})
    numbers = {s.id: int(s.number) for s in Session.batch_get(sessions)} if sessions else {}
    out = []
    for d in datasets:
        out.append(
            {
                "id": d.id,
                "url": dataset_url(d, ctx),
                "name": d.name,
                "session": ctx.url("sessions", d.session) if d.session else None,
                "content_type": d.content_type,
                "object_id": d.object_id,
                "collection": d.collection,
                "revision": d.revision,
                "dataset_type": d.dataset_type,
                "data_format": d.data_format,
                "hash": d.hash,
                "file_size": d.file_size,
                "version": d.version,
                "default_dataset": d.default_dataset,
                "qc": qc_name(d.qc),
                "tags": list(d.tags),
                # Alyx annotates these as counts of protected / public tags: 0 is "no"
                "protected": len(set(d.tags) & protected),
                "public": len(set(d.tags) & public),
                "created_by": d.created_by,
                "created_datetime": d.created_datetime,
                "experiment_number": numbers.get(d.session),
                "json": d.json,
                "file_records": files.get(d.id, []),
            }
        )
    return out


def _dataset_build(data: dict[str, Any], ctx: Context) -> Dataset:
    """A dataset of a session, or, as Alyx allows, of none: then of the record ``content_type`` and
    ``object_id`` name (an aggregate), or of the lab the caller writes."""
    if data.get("session"):
        session = get_session(data["session"])
        lab, owner = session.lab, {}
    elif data.get("content_type") or data.get("object_id"):
        if not (data.get("content_type") and data.get("object_id")):
            raise BadRequest("content_type, object_id: both should be provided together")
        found = aggregate_owner(data["content_type"], data["object_id"], [], _caller_labs(ctx))
        lab, owner = found.lab, {"content_type": found.content_type, "object_id": found.object_id}
    else:
        labs = _caller_labs(ctx)
        if len(labs) != 1:
            raise BadRequest("session: required, unless content_type and object_id name what it aggregates")
        lab, owner = labs[0], {}
    path = alf.DatasetPath(
        alf.parse_filename(data["name"]).without_uuid(),
        data.get("collection") or "",
        data.get("revision") or "",
    )
    vocabulary = Vocabulary()
    data.setdefault("dataset_type", None)
    data["dataset_type"] = data["dataset_type"] or vocabulary.dataset_type(path.filename).name
    data["data_format"] = data.get("data_format") or vocabulary.data_format(path.filename).name
    data["name"], data["collection"], data["revision"] = str(path.filename), path.collection, path.revision
    if ctx.principal and not data.get("created_by"):
        data["created_by"] = ctx.principal.username
    values = {k: v for k, v in data.items() if k not in ("content_type", "object_id")}
    aggregate = None if data.get("session") else AGGREGATE
    return Dataset(lab=lab, relative_path=str(path), aggregate=aggregate, **owner, **values)


def _caller_labs(ctx: Context) -> list[str]:
    return sorted(ctx.principal.labs) if ctx.principal else []


def _dataset_change(dataset: Dataset, data: dict[str, Any], ctx: Context) -> None:
    protected = {t.name for t in Tag.scan() if t.protected}
    if set(dataset.tags) & protected and not (ctx.principal and ctx.principal.is_superuser):
        raise PermissionDenied(f"dataset {dataset.id} is protected")
    if "session" in data and data["session"] != dataset.session:
        raise BadRequest("session: a dataset cannot move to another session")
    for name in ("content_type", "object_id"):
        if name in data and data[name] != getattr(dataset, name):
            raise BadRequest(f"{name}: a dataset cannot move to another record")
    for name, value in data.items():
        setattr(dataset, name, value)
    path = alf.DatasetPath(alf.parse_filename(dataset.name), dataset.collection or "", dataset.revision or "")
    dataset.relative_path = str(path)


def _exists(dataset: Dataset, value: str) -> bool:
    present = any(r.exists for r in FileRecord.by_dataset.query(dataset.id))
    return present == (value.lower() == "true")


def _without_session(query: dict[str, str]) -> bool:
    """``django=session__isnull,True``: what ONE's ``list_aggregates`` asks for."""
    items = [item.strip() for item in split_top_level(query.get("django", ""))]
    return any(
        k == "session__isnull" and v in ("True", "true", "1")
        for k, v in zip(items[::2], items[1::2], strict=False)
    )


def _dataset_candidates(query: dict[str, str]) -> Any:
    """Keyed: the session's datasets, or those of a subject's sessions (on a date, with a number), or the
    datasets of no session (their sparse index)."""
    if _without_session(query):
        return Dataset.by_aggregate.query(AGGREGATE)
    if "session" in query:
        return datasets_of_session(query["session"])
    if "subject" in query:
        day = query.get("date")
        return [
            dataset
            for session in sessions_of_subject(query["subject"], day, day)
            if "experiment_number" not in query or _same_number(session, query["experiment_number"])
            for dataset in datasets_of_session(session.id)
        ]
    return None


def _same_number(session: Session, text: str) -> bool:
    try:
        return int(session.number) == int(text)
    except ValueError:
        raise BadRequest(f"experiment_number: {text!r} is not a whole number") from None


def _dataset_session(dataset: Dataset) -> Any:
    """The dataset's session; an aggregate's stands in as a session of nothing (no subject, date...)."""
    if not hasattr(dataset, "_session"):
        dataset._session = get_session(dataset.session) if dataset.session else _NO_SESSION
    return dataset._session


_NO_SESSION = SimpleNamespace(subject="", date="", number=-1)


def _tagged(flag: str) -> Any:
    def test(dataset: Dataset, value: str) -> bool:
        wanted = value.lower() in ("true", "1")
        if value.lower() not in ("true", "false", "1", "0"):
            raise BadRequest(f"{flag}: expected true or false, got {value!r}")
        flagged = {t.name for t in Tag.scan() if getattr(t, flag)} if dataset.tags else set()
        return bool(set(dataset.tags) & flagged) == wanted

    return test


def _created_on(compare: Any) -> Any:
    def test(dataset: Dataset, value: str) -> bool:
        return compare(dataset.created_datetime[:10], date_range(value)[0])

    return test


def _of_insertion(dataset: Dataset, value: str) -> bool:
    """Alyx's ``probe_insertion=<id>``: datasets of its session whose collection names the probe."""
    try:
        insertion = ProbeInsertion.get(value)
    except ProbeInsertion.DoesNotExist:
        return False
    return (
        dataset.session == insertion.session and insertion.name.lower() in (dataset.collection or "").lower()
    )


DATASETS = register(
    Resource(
        name="datasets",
        singular="dataset",
        model=Dataset,
        lab_scoped=True,
        description="Datasets: one file of a session, identified by session, collection, revision and name",
        fields=(
            Field("name", required=True, null=False, description="ALF file name"),
            Field("session", "uuid", relation="sessions", description="none for an aggregate"),
            Field(
                "content_type",
                choices=tuple(CONTENT_TYPES) + tuple(CONTENT_TYPES.values()),
                description="an aggregate's: the kind of record it belongs to",
            ),
            Field("object_id", "uuid", description="an aggregate's: the record it belongs to"),
            Field("collection", pattern=r"[\w./-]*"),
            Field("revision", relation="revisions"),
            Field("dataset_type", relation="dataset-types", description="inferred from the name when absent"),
            Field(
                "data_format", relation="data-formats", description="inferred from the extension when absent"
            ),
            Field("hash", description="md5 hex"),
            Field("file_size", "integer", minimum=0),
            Field("version"),
            Field("default_dataset", "boolean"),
            Field("qc", "qc"),
            Field("tags", "list", relation="tags"),
            Field("created_by", relation="users"),
            Field("created_datetime", "datetime", read_only=True),
            Field("json", "json"),
            Field("experiment_number", "integer", read_only=True),
            Field("protected", "integer", read_only=True, description="how many protected tags it has"),
            Field("public", "integer", read_only=True, description="how many public tags it has"),
            Field("file_records", "json", read_only=True),
        ),
        params=(
            exact("session"),
            exact("name"),
            exact("collection"),
            exact("revision"),
            exact("dataset_type"),
            exact("lab"),
            exact("default_dataset"),
            exact("tag", "tags"),
            custom("subject", lambda d, v: _dataset_session(d).subject.lower() == v.lower(), "subject"),
            custom("date", lambda d, v: _dataset_session(d).date == date_range(v)[0], "session date"),
            custom("experiment_number", lambda d, v: _same_number(_dataset_session(d), v), "session number"),
            custom("created_date", _created_on(str.__eq__), "created on this date"),
            custom("created_date_gte", _created_on(str.__ge__), "created on or after"),
            custom("created_date_lte", _created_on(str.__le__), "created on or before"),
            custom("protected", _tagged("protected"), "true: has a protected tag"),
            custom("public", _tagged("public"), "true: has a public tag"),
            custom("probe_insertion", _of_insertion, "datasets of a probe insertion (by collection)"),
            custom("exists", _exists, "true: a file record of the dataset exists"),
            custom("qc", lambda d, value: int(d.qc) == qc_value(value), "QC equals"),
        ),
        build=_dataset_build,
        change=_dataset_change,
        candidates=_dataset_candidates,
        serialize_many=_datasets_json,
        ordering=lambda d: (d.session or "", d.relative_path),
    )
)


def _file_build(data: dict[str, Any], ctx: Context) -> FileRecord:
    dataset = DATASETS.lookup(data["dataset"])
    if not data.get("relative_path"):
        base = session_relative_path(get_session(dataset.session)) if dataset.session else ""
        data["relative_path"] = f"{base}/{dataset.relative_path}".lstrip("/")
    return FileRecord(**data)


def _file_place(record: FileRecord) -> None:
    """A file record hangs under its dataset: the dataset's session and lab are the record's."""
    dataset = DATASETS.lookup(record.dataset)
    record.session, record.lab = dataset.session, dataset.lab


def _files_json(records: list[FileRecord], ctx: Context) -> list[dict[str, Any]]:
    repositories = _repositories(records)
    return [
        {**_file_json(r, repositories, ctx), "dataset": ctx.url("datasets", r.dataset), "json": r.json}
        for r in records
    ]


def _on_personal_repository(record: FileRecord, value: str) -> bool:
    repository = DataRepository.get(record.data_repository)
    return Lookup("globus_is_personal", "exact", value).matches(repository.attribute_values)


def _file_candidates(query: dict[str, str]) -> Any:
    if "dataset" in query:
        return FileRecord.by_dataset.query(query["dataset"])
    if "data_repository" in query:
        condition = FileRecord.relative_path == query["relative_path"] if "relative_path" in query else None
        return FileRecord.by_path.query(query["data_repository"], condition)
    return None


register(
    Resource(
        name="files",
        singular="file record",
        model=FileRecord,
        lab_scoped=True,
        description="File records: a copy of a dataset in one repository",
        fields=(
            Field("dataset", "uuid", required=True, null=False, relation="datasets"),
            Field("data_repository", required=True, null=False, relation="data-repository"),
            Field(
                "relative_path",
                null=True,
                max_length=alf.MAX_PATH,
                description="defaults to the dataset's ALF path",
            ),
            Field("exists", "boolean"),
            Field("json", "json"),
        ),
        params=(
            exact("dataset"),
            exact("data_repository"),
            exact("relative_path"),
            exact("exists"),
            exact("lab"),
            custom("globus_is_personal", _on_personal_repository, "the repository is a lab server"),
        ),
        build=_file_build,
        place=_file_place,
        candidates=_file_candidates,
        serialize_many=_files_json,
        ordering=lambda r: r.relative_path,
    )
)


def _download_dataset(download: Download) -> Dataset | None:
    if not hasattr(download, "_dataset"):
        try:
            download._dataset = Dataset.get(download.dataset)
        except Dataset.DoesNotExist:
            download._dataset = None
    return download._dataset


def _download_name(download: Download, value: str) -> bool:
    dataset = _download_dataset(download)
    return dataset is not None and dataset.name == value


def _download_type(download: Download, value: str) -> bool:
    dataset = _download_dataset(download)
    return dataset is not None and dataset.dataset_type == value


register(
    Resource(
        name="downloads",
        singular="download",
        model=Download,
        description="How often each user downloaded each dataset (logged by POST /new-download)",
        actions=("list", "read", "update", "partial_update"),
        fields=(
            Field("user", read_only=True),
            Field("dataset", "uuid", read_only=True),
            Field("count", "integer", minimum=0),
            Field("projects", "list", relation="projects"),
            Field("first_download", "datetime", read_only=True),
            Field("last_download", "datetime", read_only=True),
            Field("json", "json"),
        ),
        params=(
            custom("json", lambda d, v: v.lower() in json.dumps(d.json).lower(), "json contains this text"),
            custom("dataset", _download_name, "the dataset's name"),
            exact("user"),
            custom("dataset_type", _download_type, "the dataset's type"),
        ),
        ordering=lambda d: d.last_download,
    )
)
