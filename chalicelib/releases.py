"""Public data releases: a named set of datasets made public, protected and easy to load, forever.

Collaborators see data as soon as it is registered; the public sees it once curated and released.
Publishing (superusers) selects datasets by id or by a query, checks that the central store holds each
file as it was registered, freezes each file at its current S3 object version, and tags every dataset with
the release's name: a tag that is public (anyone may read the data) and protected (registration refuses
to overwrite it, so ONE uploads a new revision instead). It writes a manifest and the release's ONE cache
tables under ``releases/<name>/`` and records the release; nothing changes a published release after that,
and a later one may supersede it. Anonymous callers list releases and download their files through
short-lived presigned GETs of the frozen versions: an upload racing the release, or a job writing the
same key later, cannot change what the public gets. Anything not released is simply not found.

Publishing runs in one request (a HEAD per file, in parallel, then a write per dataset): fine for
thousands of datasets; a release of hundreds of thousands belongs in a job calling ``publish`` the same
way, outside API Gateway's 29 s.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
import operator
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, UpdateError

from chalicelib import alf, aws, cache
from chalicelib.auth import Principal
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import Dataset, FileRecord, Release, ReleasedDataset, ReleasedSession, Session, Tag
from chalicelib.models.release import DRAFT, PUBLISHED, PUBLISHING
from chalicelib.models.unique import UniqueKey, guard
from chalicelib.observability import logger
from chalicelib.permissions import require_read, require_write
from chalicelib.qc import QC, qc_name, qc_value
from chalicelib.registration import session_relative_path
from chalicelib.rest import limit_offset
from chalicelib.sharing import citation, datacite

NAME = re.compile(r"\A[A-Za-z0-9][\w.-]{0,99}\Z", re.ASCII)  # a tag, an S3 folder and a URL segment
PREFIX = "releases/"
JSON_LD = "application/ld+json"
HEADS_IN_FLIGHT = 16
_FIELDS = {"name", "description", "datasets", "query", "supersedes", "draft", "force", *citation.FIELDS}
_QUERY = {"projects", "sessions", "dataset_types", "collections", "qc_lte", "default_revisions_only"}


def public_url_seconds() -> int:
    """How long a public presigned GET lasts: ``ONECLOUD_PUBLIC_URL_SECONDS``, one hour by default."""
    return aws.settings().public_url_seconds


def manifest_key(name: str) -> str:
    return f"{PREFIX}{name}/manifest.json"


def cache_key(name: str) -> str:
    return f"{PREFIX}{name}/cache.zip"


def json_ld_key(name: str) -> str:
    """schema.org ``Dataset`` of the release, beside its manifest."""
    return f"{PREFIX}{name}/release.jsonld"


# --- What to release ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Datasets by id, or a query: sessions (by id, or by project), then dataset types, collections, QC at
    most a level, default revisions only (unless told otherwise). A query keeps what the central store
    holds; datasets named by id must all be there."""

    datasets: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    dataset_types: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    qc_lte: int | None = None
    default_revisions_only: bool = True


@dataclass(frozen=True)
class ReleaseRequest:
    name: str
    description: str
    supersedes: str | None
    selection: Selection
    asked: dict[str, Any]  # the selection as given, kept with the release
    metadata: citation.Metadata = citation.Metadata()
    draft: bool = False  # keep it as a draft to preview and check, publish later
    force: bool = False  # publish datasets whose QC is CRITICAL


def _texts(value: Any, field: str) -> tuple[str, ...]:
    """A list of names, or one comma-separated text."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in value.split(",") if part]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadRequest(f"{field}: expected a list of names")
    return tuple(dict.fromkeys(value))


def _ids(value: Any, field: str) -> tuple[str, ...]:
    try:
        return tuple(str(uuid.UUID(item)) for item in _texts(value, field))
    except ValueError:
        raise BadRequest(f"{field}: expected a list of uuids") from None


def _unknown(given: Iterable[str], known: set[str], what: str) -> None:
    extra = sorted(set(given) - known)
    if extra:
        raise BadRequest(f"unknown {what}{'s' if len(extra) > 1 else ''}: {', '.join(extra)}")


def parse_release_request(body: Any) -> ReleaseRequest:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    _unknown(body, _FIELDS, "field")
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise BadRequest("name: 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise BadRequest("description: expected text")
    supersedes = body.get("supersedes")
    if supersedes is not None and not isinstance(supersedes, str):
        raise BadRequest("supersedes: expected the name of a published release")
    if ("datasets" in body) == ("query" in body):
        raise BadRequest("give either datasets (a list of dataset ids) or query (which datasets to select)")
    if "datasets" in body:
        selection = Selection(datasets=_ids(body["datasets"], "datasets"))
        if not selection.datasets:
            raise BadRequest("datasets: name at least one dataset")
        asked: dict[str, Any] = {"datasets": list(selection.datasets)}
    else:
        selection = _parse_query(body["query"])
        asked = {"query": body["query"]}
    for flag in ("draft", "force"):
        if not isinstance(body.get(flag, False), bool):
            raise BadRequest(f"{flag}: expected true or false")
    return ReleaseRequest(
        name,
        description,
        supersedes,
        selection,
        asked,
        citation.parse_metadata(body),
        body.get("draft", False),
        body.get("force", False),
    )


def _parse_query(query: Any) -> Selection:
    if not isinstance(query, dict):
        raise BadRequest("query: expected an object")
    _unknown(query, _QUERY, "query field")
    default_only = query.get("default_revisions_only", True)
    if not isinstance(default_only, bool):
        raise BadRequest("default_revisions_only: expected true or false")
    selection = Selection(
        sessions=_ids(query.get("sessions"), "sessions"),
        projects=_texts(query.get("projects"), "projects"),
        dataset_types=_texts(query.get("dataset_types"), "dataset_types"),
        collections=tuple(c.strip("/") for c in _texts(query.get("collections"), "collections")),
        qc_lte=None if query.get("qc_lte") is None else qc_value(query["qc_lte"], "qc_lte"),
        default_revisions_only=default_only,
    )
    if not (selection.sessions or selection.projects):
        raise BadRequest("query: name the sessions (ids) or the projects whose sessions to release")
    return selection


def _sessions_of(selection: Selection) -> dict[str, Session]:
    if selection.sessions:
        found = {s.id: s for s in Session.batch_get(list(selection.sessions))}
        missing = [eid for eid in selection.sessions if eid not in found]
        if missing:
            raise BadRequest(f"sessions: {', '.join(missing[:10])} do not exist")
    else:
        condition = functools.reduce(operator.or_, [Session.projects.contains(p) for p in selection.projects])
        found = {s.id: s for s in Session.scan(condition)}
    if selection.projects:
        found = {eid: s for eid, s in found.items() if set(s.projects or []) & set(selection.projects)}
    return found


def _wanted(dataset: Dataset, selection: Selection) -> bool:
    return (
        (not selection.dataset_types or dataset.dataset_type in selection.dataset_types)
        and (not selection.collections or dataset.collection in selection.collections)
        and (selection.qc_lte is None or int(dataset.qc) <= selection.qc_lte)
        and (not selection.default_revisions_only or dataset.default_dataset)
    )


def _in_store(session_ids: Iterable[str]) -> set[str]:
    """Datasets of these sessions whose file the central store holds (what a release can serve)."""
    repository = aws.settings().s3_repository
    return {
        record.dataset
        for eid in session_ids
        for record in FileRecord.by_session.query(eid)
        if record.data_repository == repository and record.exists
    }


def select(selection: Selection) -> tuple[list[Dataset], dict[str, Session]]:
    """The datasets a selection names, with their sessions."""
    if selection.datasets:
        datasets = list(Dataset.batch_get(list(selection.datasets)))
        found = {d.id for d in datasets}
        missing = [i for i in selection.datasets if i not in found]
        if missing:
            raise BadRequest(f"datasets: {', '.join(missing[:10])} do not exist")
        aggregates = [d.id for d in datasets if not d.session]
        if aggregates:
            raise BadRequest(f"datasets: {', '.join(aggregates[:10])} belong to no session (aggregates)")
        stored = _in_store({d.session for d in datasets})
        elsewhere = [d.id for d in datasets if d.id not in stored]
        if elsewhere:
            raise BadRequest(
                f"datasets: {', '.join(elsewhere[:10])} have no file in the central store to release"
            )
        sessions = {s.id: s for s in Session.batch_get(sorted({d.session for d in datasets}))}
        orphans = [d.id for d in datasets if d.session not in sessions]
        if orphans:
            raise BadRequest(f"datasets: {', '.join(orphans[:10])} belong to no existing session")
    else:
        sessions = _sessions_of(selection)
        stored = _in_store(sessions)
        datasets = [
            d
            for eid in sessions
            for d in Dataset.by_session.query(eid)
            if d.id in stored and _wanted(d, selection)
        ]
    if not datasets:
        raise BadRequest("the selection holds no dataset stored in the central store")
    return datasets, sessions


# --- Publishing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrozenFile:
    """A dataset and the object version that holds its file, checked against its size and md5."""

    dataset: Dataset
    session: Session
    key: str
    version_id: str | None


def _head(key: str) -> dict[str, Any] | None:
    try:
        return aws.client("s3").head_object(Bucket=aws.settings().data_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _mismatch(dataset: Dataset, head: dict[str, Any] | None) -> str | None:
    if head is None:
        return "no object in the store"
    etag = head.get("ETag", "").strip('"')
    md5 = head.get("Metadata", {}).get("md5") if "-" in etag else etag  # multipart: declared md5
    if not dataset.hash or dataset.file_size is None:
        return "the dataset has no md5 and size to check its file against"
    if int(head["ContentLength"]) != int(dataset.file_size) or md5 != dataset.hash:
        return "the stored object is not the file registered (size or md5 differ)"
    return None


@dataclass(frozen=True)
class Checked:
    """A dataset as the store holds it now, and what stops it from being published (nothing: it may)."""

    dataset: Dataset
    key: str
    head: dict[str, Any] | None
    problems: tuple[str, ...]
    critical: bool  # its QC is CRITICAL: published only when forced

    def as_json(self) -> dict[str, Any]:
        return {"id": self.dataset.id, "path": self.key, "problems": list(self.problems)}


def check(datasets: list[Dataset], sessions: Mapping[str, Session], force: bool = False) -> list[Checked]:
    """Every dataset against what publishing requires: its file in the store is the file registered
    (size and md5), its name is ALF, its QC is not CRITICAL (unless ``force``)."""
    keys = [f"{session_relative_path(sessions[d.session])}/{d.relative_path}" for d in datasets]
    with ThreadPoolExecutor(HEADS_IN_FLIGHT) as pool:
        heads = list(pool.map(_head, keys))
    checked = []
    for dataset, key, head in zip(datasets, keys, heads, strict=True):
        problems = [why] if (why := _mismatch(dataset, head)) else []
        try:
            alf.parse_dataset_path(dataset.relative_path)
        except alf.ALFError as error:
            problems.append(f"not an ALF name: {error.detail}")
        critical = int(dataset.qc or 0) >= QC["CRITICAL"]
        if critical and not force:
            problems.append("its QC is CRITICAL (publish with force to release it anyway)")
        checked.append(Checked(dataset, key, head, tuple(problems), critical))
    return checked


def refuse(checked: list[Checked]) -> None:
    """A 400 naming each dataset that cannot be published and why (``datasets`` lists them all)."""
    failing = [c for c in checked if c.problems]
    if failing:
        shown = [f"{c.key}: {'; '.join(c.problems)}" for c in failing[:10]]
        more = f" (and {len(failing) - 10} more)" if len(failing) > 10 else ""
        raise BadRequest(
            f"cannot release: {'; '.join(shown)}{more}", extra={"datasets": [c.as_json() for c in failing]}
        )


def freeze(datasets: list[Dataset], sessions: Mapping[str, Session], force: bool = False) -> list[FrozenFile]:
    """Each dataset's file as the store holds it now, refused (naming the files) unless every dataset
    passes the checks."""
    checked = check(datasets, sessions, force)
    refuse(checked)
    return [
        FrozenFile(c.dataset, sessions[c.dataset.session], c.key, (c.head or {}).get("VersionId"))
        for c in checked
    ]


def _conditional(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _claim(release: Release) -> None:
    try:
        release.save(condition=Release.name.does_not_exist())
    except PutError as error:
        if _conditional(error):
            raise Conflict(f"release {release.name!r} already exists: releases never change") from None
        raise


def _ensure_tag(name: str) -> None:
    """The release's tag: public and protected, made for it or already so."""
    try:
        Tag(name=name, description=f"Datasets of release {name}", protected=True, public=True).save(
            condition=Tag.name.does_not_exist()
        )
        return
    except PutError as error:
        if not _conditional(error):
            raise
    tag = Tag.get(name)
    if not (tag.public and tag.protected):
        raise Conflict(f"tag {name!r} exists and is not public and protected: name the release otherwise")


def _protect(file: FrozenFile, tag: str) -> bool:
    """Tag the dataset, unless it changed since its file was checked (then nothing is released). True
    when this call added the tag (it was not there already)."""
    dataset = file.dataset
    try:
        Dataset(id=dataset.id).update(
            actions=[Dataset.tags.set(Dataset.tags.append([tag]))],
            condition=(Dataset.hash == dataset.hash) & ~Dataset.tags.contains(tag),
        )
        return True
    except UpdateError as error:
        if not _conditional(error):
            raise
    try:
        now = Dataset.get(dataset.id)
    except Dataset.DoesNotExist:
        now = None
    if now is None or now.hash != dataset.hash:
        raise Conflict(f"dataset {dataset.id} changed while it was being released: publish again")
    return False


def _unprotect(dataset_id: str, tag: str) -> None:
    current = Dataset.get(dataset_id)
    if tag in current.tags:
        index = list(current.tags).index(tag)
        current.update(actions=[Dataset.tags[index].remove()], condition=Dataset.tags[index] == tag)


def _contents(
    release: Release, files: list[FrozenFile]
) -> tuple[list[ReleasedSession], list[ReleasedDataset]]:
    datasets = [
        ReleasedDataset(
            release=release.name,
            entry=ReleasedDataset.entry_for(f.session.id, f.dataset.id),
            dataset=f.dataset.id,
            session=f.session.id,
            key=f.key,
            rel_path=f.dataset.relative_path,
            version_id=f.version_id,
            file_size=int(f.dataset.file_size),
            hash=f.dataset.hash,
            qc=int(f.dataset.qc),
            default_revision=bool(f.dataset.default_dataset),
        )
        for f in files
    ]
    of_session = {f.session.id: f.session for f in files}
    sessions = []
    for eid, group in itertools.groupby(sorted(datasets, key=lambda d: d.session), key=lambda d: d.session):
        row, members = cache.session_row(of_session[eid]), list(group)
        sessions.append(
            ReleasedSession(
                release=release.name,
                session=eid,
                **{k: row[k] for k in cache.SESSIONS_FIELDS},
                dataset_count=len(members),
                total_bytes=sum(int(d.file_size) for d in members),
            )
        )
    return sessions, datasets


def _tables(sessions: list[ReleasedSession], datasets: list[ReleasedDataset]) -> cache.CacheTables:
    return cache.CacheTables.of(
        ({"id": s.session, **{k: getattr(s, k) for k in cache.SESSIONS_FIELDS}} for s in sessions),
        (
            {
                "eid": d.session,
                "id": d.dataset,
                "rel_path": d.rel_path,
                "file_size": int(d.file_size),
                "hash": d.hash,
                "exists": True,
                "qc": qc_name(d.qc),
                "default_revision": d.default_revision,
            }
            for d in datasets
        ),
    )


def _manifest(release: Release, datasets: list[ReleasedDataset], date_created: str) -> bytes:
    return json.dumps(
        {
            "name": release.name,
            "version": release.version,
            "title": release.title or release.name,
            "description": release.description,
            "licence": release.licence,
            "contributors": release.contributors or [],
            "keywords": list(release.keywords or []),
            "published": date_created,
            "supersedes": release.supersedes,
            "datasets": [
                {
                    "id": d.dataset,
                    "session": d.session,
                    "path": d.key,
                    "size": int(d.file_size),
                    "md5": d.hash,
                    "version_id": d.version_id,
                }
                for d in datasets
            ],
        },
        indent=1,
    ).encode()


def _new_release(request: ReleaseRequest, principal: Principal, status: str) -> Release:
    meta = request.metadata
    return Release(
        name=request.name,
        description=request.description,
        supersedes=request.supersedes,
        selection=request.asked,
        created_by=principal.username,
        status=status,
        title=meta.title or request.name,
        contributors=[c.as_json() for c in meta.contributors],
        licence=meta.licence,
        keywords=list(meta.keywords),
        nwb=meta.nwb,
    )


def _request_of(release: Release) -> ReleaseRequest:
    """A draft's stored request, parsed again (the same checks as when it was saved)."""
    return parse_release_request(
        {
            "name": release.name,
            "description": release.description,
            **({"supersedes": release.supersedes} if release.supersedes else {}),
            **(release.selection or {}),
        }
    )


def _nwb_datasets(sessions: Mapping[str, Session]) -> tuple[list[Dataset], list[str]]:
    """Each session's NWB export stored in the central store, and the sessions that have none yet."""
    stored = _in_store(sessions)
    found, missing = [], []
    for eid in sessions:
        files = [
            d
            for d in Dataset.by_session.query(eid)
            if d.collection == "nwb" and d.default_dataset and d.id in stored
        ]
        found += files
        if not files:
            missing.append(eid)
    return found, missing


def _with_nwb(release: Release, datasets: list[Dataset], sessions: dict[str, Session]) -> list[Dataset]:
    """The selection and, for a release that asks, its sessions' NWB files: a session without one gets its
    export started, and the release waits for it (refused until then)."""
    if not release.nwb:
        return datasets
    exports, missing = _nwb_datasets(sessions)
    if missing:
        from chalicelib.sharing.export import request_export

        for eid in missing:
            request_export(sessions[eid])
        raise BadRequest(
            f"nwb: {len(missing)} sessions have no NWB export yet; their ExportNWB tasks are started: "
            f"publish again when they are Complete ({', '.join(missing[:10])})",
            extra={"nwb_missing": missing},
        )
    known = {d.id for d in datasets}
    return datasets + [d for d in exports if d.id not in known]


def publish(principal: Principal | None, body: Any, base_url: str = "") -> dict[str, Any]:
    """Publish a release (superusers), or keep it as a draft (``draft: true``) to check and publish later.
    A failure leaves no trace but the tag itself: the name is free again and no dataset keeps the
    release's tag."""
    principal = require_write(principal, what="releases", lab=None, lab_scoped=False)
    request = parse_release_request(body)
    if request.supersedes and not _is_published(request.supersedes):
        raise BadRequest(f"supersedes: {request.supersedes!r} is not a published release")
    datasets, sessions = select(request.selection)
    if request.draft:
        return save_draft(principal, request, datasets, sessions, base_url)
    release = _new_release(request, principal, PUBLISHING)
    datasets = _with_nwb(release, datasets, sessions)
    _claim(release)
    return _publish(release, datasets, sessions, request.force, base_url, draft=False)


def _publish(
    release: Release,
    datasets: list[Dataset],
    sessions: Mapping[str, Session],
    force: bool,
    base_url: str,
    *,
    draft: bool,
) -> dict[str, Any]:
    """Freeze and record a claimed release, then mint its DOI (after the release is committed)."""
    tagged: list[str] = []
    try:
        files = freeze(datasets, sessions, force)
        _ensure_tag(release.name)
        for file in files:
            if _protect(file, release.name):
                tagged.append(file.dataset.id)
        _record(release, files, base_url)
    except Exception:
        _withdraw(release, tagged, back_to_draft=draft)
        raise
    logger.info("release published", release=release.name, datasets=len(files), version=release.version)
    doi_error = _mint(release, base_url)
    answer = release_json(Release.get(release.name), None, base_url)
    if doi_error:
        answer["doi_error"] = doi_error
    return answer


def _claim_version(release: Release, moment: datetime.datetime) -> str:
    """``0.YYMMDD.HHMM``, a guard item making it the release's alone (a minute later when taken)."""
    taken: set[str] = set()
    while True:
        version = citation.version_id(moment, taken)
        try:
            UniqueKey(key=guard("release-version", version), owner=release.name).save(
                condition=UniqueKey.key.does_not_exist()
            )
            return version
        except PutError as error:
            if not _conditional(error):
                raise
            taken.add(version)


def landing_page(name: str, base_url: str) -> str:
    return f"{base_url}/ui/releases/{name}"


def release_document(release: Release, base_url: str) -> dict[str, Any]:
    """The release as the citation, JSON-LD and DataCite builders read it."""
    superseded = _get_release(release.supersedes) if release.supersedes else None
    return {
        "name": release.name,
        "title": release.title or release.name,
        "description": release.description,
        "version": release.version,
        "licence": release.licence or citation.DEFAULT_LICENCE,
        "keywords": list(release.keywords or []),
        "contributors": release.contributors or [],
        "published": release.published_datetime or "",
        "total_bytes": int(release.total_bytes),
        "dataset_count": int(release.dataset_count),
        "doi": release.doi,
        "citation": release.citation or citation_of(release, base_url),
        "supersedes_doi": superseded.doi if superseded is not None else None,
    }


def citation_of(release: Release, base_url: str) -> str:
    year = (release.published_datetime or datetime.datetime.now(datetime.UTC).isoformat())[:4]
    return citation.citation(
        citation.contributors_of(release.contributors),
        year,
        release.title or release.name,
        release.version,
        release.doi,
        landing_page(release.name, base_url),
    )


def json_ld(release: Release, base_url: str) -> dict[str, Any]:
    return citation.json_ld(
        release_document(release, base_url),
        landing_page(release.name, base_url),
        f"{base_url}/public/releases/{release.name}/cache",
    )


def _write_json_ld(release: Release, base_url: str) -> None:
    cache.put(json_ld_key(release.name), json.dumps(json_ld(release, base_url), indent=1).encode(), JSON_LD)


def _record(release: Release, files: list[FrozenFile], base_url: str = "") -> None:
    """The cache tables and the manifest in the bucket, the contents in their tables, then the release
    itself marked published (its cache's date_created is its publication date), its citation and its
    JSON-LD document beside the manifest."""
    sessions, datasets = _contents(release, files)
    info = cache.new_info(
        tags=[release.name], release=release.name, sessions=len(sessions), datasets=len(datasets)
    )
    release.version = _claim_version(release, datetime.datetime.fromisoformat(info["date_created"]))
    cache.put(cache_key(release.name), cache.cache_zip(_tables(sessions, datasets), info), "application/zip")
    manifest = _manifest(release, datasets, info["date_created"])
    cache.put(manifest_key(release.name), manifest, "application/json")
    for model, items in ((ReleasedSession, sessions), (ReleasedDataset, datasets)):
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)
    release.published_datetime = info["date_created"]
    release.citation = citation_of(release, base_url)
    release.update(
        actions=[
            Release.status.set(PUBLISHED),
            Release.published_datetime.set(info["date_created"]),
            Release.version.set(release.version),
            Release.citation.set(release.citation),
            Release.session_count.set(len(sessions)),
            Release.subject_count.set(len({(s.lab, s.subject) for s in sessions})),
            Release.dataset_count.set(len(datasets)),
            Release.total_bytes.set(sum(int(d.file_size) for d in datasets)),
        ],
        condition=Release.status == PUBLISHING,
    )
    _write_json_ld(release, base_url)


def _mint(release: Release, base_url: str) -> str | None:
    """The release's DOI from DataCite when the stage has an account; the error when DataCite refused
    (the release stays published, without a DOI)."""
    if not datacite.configured():
        return None
    try:
        doi = datacite.mint(release_document(release, base_url), landing_page(release.name, base_url))
    except datacite.DataCiteError as error:
        logger.error("DOI not minted", release=release.name, error=str(error))
        return str(error)
    release.doi = doi
    release.citation = citation_of(release, base_url)
    release.update(actions=[Release.doi.set(doi), Release.citation.set(release.citation)])
    _write_json_ld(release, base_url)
    logger.info("DOI minted", release=release.name, doi=doi)
    return None


def _withdraw(release: Release, tagged: list[str], *, back_to_draft: bool = False) -> None:
    """Undo a publication that failed half way: the tags it added, what it recorded, its claim (a draft
    goes back to being a draft)."""
    try:
        for dataset_id in tagged:
            _unprotect(dataset_id, release.name)
        for model in (ReleasedSession, ReleasedDataset):
            with model.batch_write() as batch:
                for item in model.query(release.name):
                    batch.delete(item)
        if back_to_draft:
            release.update(actions=[Release.status.set(DRAFT)])
        else:
            release.delete()
    except Exception:
        logger.exception("a failed release could not be withdrawn entirely", release=release.name)


# --- Drafts ---------------------------------------------------------------------------------------------


def save_draft(
    principal: Principal,
    request: ReleaseRequest,
    datasets: list[Dataset],
    sessions: dict[str, Session],
    base_url: str,
) -> dict[str, Any]:
    """Keep the release as a draft (its name taken); a release that asks for NWB starts its exports."""
    release = _new_release(request, principal, DRAFT)
    _claim(release)
    if release.nwb:
        from chalicelib.sharing.export import request_export

        for session in sessions.values():
            request_export(session)
    return draft_json(release, datasets, sessions, base_url)


def _get_release(name: str) -> Release | None:
    try:
        return Release.get(name)
    except Release.DoesNotExist:
        return None


def _draft(principal: Principal | None, name: str) -> Release:
    require_write(principal, what="releases", lab=None, lab_scoped=False)
    release = _get_release(name)
    if release is None or release.status != DRAFT:
        raise NotFound(f"release {name} is not a draft")
    return release


def draft_json(
    release: Release, datasets: list[Dataset], sessions: Mapping[str, Session], base_url: str
) -> dict[str, Any]:
    """The draft as it would be published: its counts, citation, and every dataset that would stop it."""
    missing: list[str] = []
    if release.nwb:
        exports, missing = _nwb_datasets(sessions)
        known = {d.id for d in datasets}
        datasets = datasets + [d for d in exports if d.id not in known]
    checked = check(datasets, sessions)
    failing = [c.as_json() for c in checked if c.problems]
    preview = Release(
        **{k: getattr(release, k) for k in ("name", "title", "contributors", "licence", "description")},
        version="(given at publication)",
    )
    return {
        **release_json(release, None, base_url),
        "status": DRAFT,
        "subject_count": len({(s.lab, s.subject) for s in sessions.values()}),
        "session_count": len(sessions),
        "dataset_count": len(datasets),
        "total_bytes": sum(int(d.file_size or 0) for d in datasets),
        "citation": citation_of(preview, base_url),
        "check": {
            "publishable": not failing and not missing,
            "datasets": failing,
            "nwb_missing": missing,
            "critical_qc": [c.dataset.id for c in checked if c.critical],
        },
    }


def draft_preview(principal: Principal | None, name: str, base_url: str) -> dict[str, Any]:
    """``GET /releases/<name>/draft`` (superusers): the draft checked against the store now."""
    release = _draft(principal, name)
    datasets, sessions = select(_request_of(release).selection)
    return draft_json(release, datasets, sessions, base_url)


def publish_draft(principal: Principal | None, name: str, body: Any, base_url: str) -> dict[str, Any]:
    """``POST /releases/<name>/publish`` (superusers), ``{"force": true}`` to release CRITICAL datasets."""
    release = _draft(principal, name)
    if not isinstance(body, dict) or set(body) - {"force"} or not isinstance(body.get("force", False), bool):
        raise BadRequest('the body is {} or {"force": true}')
    request = _request_of(release)
    if request.supersedes and not _is_published(request.supersedes):
        raise BadRequest(f"supersedes: {request.supersedes!r} is not a published release")
    datasets, sessions = select(request.selection)
    datasets = _with_nwb(release, datasets, sessions)
    try:
        release.update(actions=[Release.status.set(PUBLISHING)], condition=Release.status == DRAFT)
    except UpdateError as error:
        if _conditional(error):
            raise Conflict(f"release {name!r} is being published already") from None
        raise
    return _publish(release, datasets, sessions, body.get("force", False), base_url, draft=True)


# --- Reading releases (anyone) --------------------------------------------------------------------------


def published(name: str) -> Release:
    """A published release; a release being published, or none, is not found alike."""
    try:
        release = Release.get(name)
    except Release.DoesNotExist:
        release = None
    if release is None or release.status != PUBLISHED:
        raise NotFound(f"release {name} does not exist")
    return release


def _paging(query: Mapping[str, str], allowed: set[str]) -> tuple[int, int]:
    """limit / offset, capped as the contract caps lists: an anonymous caller cannot ask for everything."""
    _unknown(query, allowed | {"limit", "offset"}, "parameter")
    return limit_offset(query)


def _page(
    items: Iterator[Any], count: int, limit: int, offset: int, url: str, query: Mapping[str, str]
) -> dict[str, Any]:
    def link(at: int) -> str:
        return f"{url}?{urlencode({**query, 'limit': limit, 'offset': at})}"

    return {
        "count": count,
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": list(itertools.islice(items, offset, offset + limit)),
    }


def release_json(release: Release, superseded_by: str | None, base_url: str) -> dict[str, Any]:
    root = f"{base_url}/public/releases/{release.name}"
    return {
        "name": release.name,
        "status": release.status,
        "version": release.version,
        "title": release.title or release.name,
        "description": release.description,
        "contributors": release.contributors or [],
        "licence": release.licence or citation.DEFAULT_LICENCE,
        "keywords": list(release.keywords or []),
        "doi": release.doi,
        "citation": release.citation,
        "nwb": bool(release.nwb),
        "published": release.published_datetime,
        "supersedes": release.supersedes,
        "superseded_by": superseded_by,
        "subject_count": int(release.subject_count or 0),
        "session_count": int(release.session_count),
        "dataset_count": int(release.dataset_count),
        "total_bytes": int(release.total_bytes),
        "url": root,
        "sessions": f"{root}/sessions",
        "datasets": f"{root}/datasets",
        "cache": f"{root}/cache",
        "json_ld": f"{root}/jsonld",
        "page": landing_page(release.name, base_url),
        "data_url": f"{base_url}/public",  # ONE's HTTP_DATA_SERVER for the release's files
    }


def list_releases(query: Mapping[str, str], base_url: str) -> dict[str, Any]:
    """Published releases, newest first (the releases table is small: one item per release)."""
    limit, offset = _paging(query, set())
    releases = [r for r in Release.scan() if r.status == PUBLISHED]
    releases.sort(key=lambda r: r.published_datetime or "", reverse=True)
    successors = {r.supersedes: r.name for r in releases if r.supersedes}
    shown = (release_json(r, successors.get(r.name), base_url) for r in releases)
    return _page(shown, len(releases), limit, offset, f"{base_url}/public/releases", query)


def release_detail(name: str, base_url: str) -> dict[str, Any]:
    release = published(name)
    successor = next(
        (r.name for r in Release.scan(Release.supersedes == name) if r.status == PUBLISHED), None
    )
    return release_json(release, successor, base_url)


def release_sessions(name: str, query: Mapping[str, str], base_url: str) -> dict[str, Any]:
    limit, offset = _paging(query, set())
    release = published(name)
    shown = (
        {
            "id": s.session,
            **{k: getattr(s, k) for k in cache.SESSIONS_FIELDS},
            "number": int(s.number),
            "dataset_count": int(s.dataset_count),
            "total_bytes": int(s.total_bytes),
            "datasets": f"{base_url}/public/releases/{name}/datasets?session={s.session}",
        }
        for s in ReleasedSession.query(name)
    )
    return _page(
        shown, int(release.session_count), limit, offset, f"{base_url}/public/releases/{name}/sessions", query
    )


def public_path(item: ReleasedDataset) -> str:
    """The file's path under ``/public``: its ALF path with the dataset uuid before the extension, as
    ONE builds it from its cache tables and HTTP_DATA_SERVER."""
    path = alf.parse_path(item.key)
    name = path.dataset.filename.with_uuid(item.dataset)
    return str(
        alf.FullPath(path.session, alf.DatasetPath(name, path.dataset.collection, path.dataset.revision))
    )


def release_datasets(name: str, query: Mapping[str, str], base_url: str) -> dict[str, Any]:
    limit, offset = _paging(query, {"session"})
    release = published(name)
    count = int(release.dataset_count)
    condition = None
    if "session" in query:
        eid = query["session"].lower()
        try:
            count = int(ReleasedSession.get(name, eid).dataset_count)
        except ReleasedSession.DoesNotExist:
            count = 0
        condition = ReleasedDataset.entry.startswith(f"{eid}/")
    shown = (
        {
            "id": d.dataset,
            "session": d.session,
            "rel_path": d.rel_path,
            "file_size": int(d.file_size),
            "hash": d.hash,
            "qc": qc_name(d.qc),
            "default_revision": d.default_revision,
            "url": f"{base_url}/public/{quote(public_path(d))}",
        }
        for d in (ReleasedDataset.query(name, condition) if count else iter(()))
    )
    return _page(shown, count, limit, offset, f"{base_url}/public/releases/{name}/datasets", query)


def release_cache_url(name: str) -> str:
    """A presigned GET of the release's cache zip: ``sessions.pqt``, ``datasets.pqt``, ``cache_info.json``."""
    published(name)
    return cache.one_download_url(cache_key(name), public_url_seconds())


def release_cache_info(principal: Principal | None, name: str) -> dict[str, Any]:
    """``GET /cache/info/<name>``: what ONE's ``load_cache(tag=name)`` asks, for an account."""
    require_read(principal)
    release = published(name)
    info = {
        "date_created": release.published_datetime,
        "origin": cache.origin(),
        "min_api_version": cache.MIN_API_VERSION,
        "database_tags": [release.name],
    }
    return cache.located(info, cache_key(name), public_url_seconds())


def public_download(path: str) -> str:
    """The presigned GET of a released file's frozen version; any other path, existing or not, is
    answered the same way: not found."""
    missing = NotFound(f"{path} is not a released file")
    try:
        full = alf.parse_path(path)
    except alf.ALFError:
        raise missing from None
    dataset_id = full.dataset.filename.uuid
    if dataset_id is None:
        raise missing
    identity = alf.DatasetPath(
        full.dataset.filename.without_uuid(), full.dataset.collection, full.dataset.revision
    )
    key = f"{full.session}/{identity}"
    for item in ReleasedDataset.by_dataset.query(dataset_id):
        if item.key == key and _is_published(item.release):
            return cache.presigned_get(item.key, public_url_seconds(), item.version_id)
    raise missing


def _is_published(name: str) -> bool:
    try:
        return Release.get(name).status == PUBLISHED
    except Release.DoesNotExist:
        return False


def reattach_versions() -> int:
    """Point released files whose frozen version is gone at the key's current version, when it holds
    the released content (size and md5); returns how many were moved.

    Only for a bucket rebuilt from copies, such as the local stack restoring a snapshot: objects written
    again get new version ids. A version that differs from the release is left alone (and not served)."""
    moved = 0
    for item in ReleasedDataset.scan():
        if item.version_id and _version_exists(item.key, item.version_id):
            continue
        head = _head(item.key)
        if head is None or _mismatch(_as_dataset(item), head) is not None:
            logger.warning("a released file has no version holding its content", key=item.key)
            continue
        item.update(actions=[ReleasedDataset.version_id.set(head.get("VersionId"))])
        moved += 1
    return moved


def _version_exists(key: str, version_id: str) -> bool:
    try:
        aws.client("s3").head_object(Bucket=aws.settings().data_bucket, Key=key, VersionId=version_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in (
            "404",
            "NoSuchKey",
            "NoSuchVersion",
            "NotFound",
            "400",
        ):
            return False
        raise
    return True


def _as_dataset(item: ReleasedDataset) -> Dataset:
    return Dataset(id=item.dataset, hash=item.hash, file_size=item.file_size)
