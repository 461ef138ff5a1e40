"""Sessions (with the datasets ONE lists from their detail) and probe insertions."""

from __future__ import annotations

import datetime
from typing import Any

from chalicelib.datasets import datasets_of_session
from chalicelib.errors import BadRequest
from chalicelib.fields import Field
from chalicelib.models import Dataset, ProbeInsertion, Session
from chalicelib.qc import qc_name, qc_value
from chalicelib.resources.catalogue import dataset_files, dataset_url
from chalicelib.resources.common import any_of, custom, exact, icontains, subject
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import get_session, sessions_of_lab, sessions_of_subject
from chalicelib.subjects import find_subject, nickname_of

SESSION_FIELDS = (
    Field("subject", required=True, null=False, description="the subject's nickname or id"),
    Field("lab", relation="labs", description="defaults to the subject's lab"),
    Field("users", "list", relation="users"),
    Field("projects", "list", relation="projects"),
    Field("start_time", "datetime", required=True, null=False),
    Field("end_time", "datetime"),
    Field("number", "integer", minimum=0, description="session number of the day (path folder 001)"),
    Field("task_protocol"),
    Field("type"),
    Field("procedures", "list", relation="procedures"),
    Field("narrative", description="the lab notebook text"),
    Field("n_trials", "integer", minimum=0),
    Field("n_correct_trials", "integer", minimum=0),
    Field("qc", "qc"),
    Field("extended_qc", "json"),
    Field("json", "json"),
    Field("parent_session", "uuid", relation="sessions"),
    Field("location"),
)


def date_range(text: str) -> tuple[str, str]:
    """``YYYY-MM-DD,YYYY-MM-DD`` (inclusive) or a single date."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        days = [datetime.date.fromisoformat(part[:10]) for part in parts]
    except ValueError:
        raise BadRequest(f"date_range: {text!r} is not YYYY-MM-DD,YYYY-MM-DD") from None
    if len(days) not in (1, 2):
        raise BadRequest(f"date_range: {text!r} is not YYYY-MM-DD,YYYY-MM-DD")
    first, last = days[0], days[-1]
    if last < first:
        raise BadRequest(f"date_range: {last} is before {first}")
    return first.isoformat(), last.isoformat()


def _in_range(session: Session, text: str) -> bool:
    first, last = date_range(text)
    return first <= session.date <= last


def _number(session: Session, text: str) -> bool:
    try:
        return int(session.number) == int(text)
    except ValueError:
        raise BadRequest(f"number: {text!r} is not a whole number") from None


def _dataset_names(session: Session) -> list[Dataset]:
    return datasets_of_session(session.id)


def _has_datasets(session: Session, text: str) -> bool:
    wanted = {name for name in text.split(",") if name}
    return wanted <= {d.name for d in _dataset_names(session)}


def _has_dataset_types(session: Session, text: str) -> bool:
    wanted = {name for name in text.split(",") if name}
    return wanted <= {d.dataset_type for d in _dataset_names(session)}


def _qc_at_most(session: Session, text: str) -> bool:
    limit = qc_value(text, "dataset_qc_lte")
    return any(int(d.qc) <= limit for d in _dataset_names(session))


def _candidates(query: dict[str, str]) -> Any:
    first, last = date_range(query["date_range"]) if "date_range" in query else (None, None)
    if "id" in query:
        return [get_session(query["id"])]
    if "subject" in query:
        return sessions_of_subject(nickname_of(query["subject"]), first, last)
    if "lab" in query:
        return sessions_of_lab(query["lab"], first, last)
    return None


def session_summary(session: Session, ctx: Context) -> dict[str, Any]:
    return {
        "id": session.id,
        "url": ctx.url("sessions", session.id),
        "subject": session.subject,
        "start_time": session.start_time,
        "number": int(session.number),
        "lab": session.lab,
        "projects": list(session.projects),
        "task_protocol": session.task_protocol,
    }


def _session_detail(session: Session, ctx: Context) -> dict[str, Any]:
    values = session.attribute_values
    out = session_summary(session, ctx)
    out.update({f.name: values.get(f.name) for f in SESSION_FIELDS if f.name not in out})
    out["number"] = int(session.number)
    out["qc"] = qc_name(session.qc)
    datasets = datasets_of_session(session.id)
    files = dataset_files(datasets, ctx)
    related = []
    for dataset in sorted(datasets, key=lambda d: d.relative_path):
        url = next((f["data_url"] for f in files[dataset.id] if f["exists"] and f["data_url"]), None)
        if url is None:
            continue  # not downloadable anywhere yet: ONE would fail on it
        related.append(
            {
                "id": dataset.id,
                "url": dataset_url(dataset, ctx),
                "name": dataset.name,
                "collection": dataset.collection,
                "revision": dataset.revision,
                "dataset_type": dataset.dataset_type,
                "data_url": url,
                "file_size": dataset.file_size,
                "hash": dataset.hash,
                "version": dataset.version,
                "qc": qc_name(dataset.qc),
                "default_revision": str(bool(dataset.default_dataset)),
            }
        )
    out["data_dataset_session_related"] = related
    return out


def _session_build(data: dict[str, Any], ctx: Context) -> Session:
    from chalicelib.sessions import new_session

    subject = find_subject(data.pop("subject"), data.get("lab"))
    data.pop("lab", None)
    return new_session(subject, **data)


def _session_change(session: Session, data: dict[str, Any], ctx: Context) -> None:
    from chalicelib.sessions import place_session

    if "subject" in data or "lab" in data:
        subject = find_subject(data.pop("subject", session.subject), data.pop("lab", session.lab))
        session.subject, session.subject_key, session.subject_id = (
            subject.nickname,
            subject.nickname.lower(),
            subject.id,
        )
        session.lab = subject.lab
    for name, value in data.items():
        setattr(session, name, value)
    place_session(session)


register(
    Resource(
        name="sessions",
        singular="session",
        model=Session,
        lab_scoped=True,
        description="Experimental sessions; the detail lists the session's datasets as ONE expects",
        fields=SESSION_FIELDS,
        params=(
            custom("id", lambda session, value: session.id == value, "the session id"),
            subject(),
            exact("lab"),
            custom("number", _number, "session number (001 and 1 are the same)"),
            any_of("projects"),
            any_of("project", "projects"),
            icontains("task_protocol"),
            custom("date_range", _in_range, "YYYY-MM-DD,YYYY-MM-DD inclusive, or one date"),
            custom("datasets", _has_datasets, "comma-separated dataset names the session must all have"),
            custom(
                "dataset_types", _has_dataset_types, "comma-separated dataset types the session must all have"
            ),
            custom("dataset_qc_lte", _qc_at_most, "a dataset has QC at most this (name or number)"),
            custom("qc", lambda session, value: int(session.qc) == qc_value(value), "session QC equals"),
            any_of("users"),
            exact("type"),
            exact("location"),
        ),
        build=_session_build,
        change=_session_change,
        candidates=_candidates,
        serialize_many=lambda sessions, ctx: [session_summary(s, ctx) for s in sessions],
        serialize_detail=_session_detail,
        ordering=lambda session: (session.start_time, session.id),
    )
)


def _insertion_build(data: dict[str, Any], ctx: Context) -> ProbeInsertion:
    session = get_session(data["session"])
    return ProbeInsertion(lab=session.lab, **data)


register(
    Resource(
        name="insertions",
        singular="probe insertion",
        model=ProbeInsertion,
        lab_scoped=True,
        description="Probe insertions (probe00, probe01...) of a session",
        fields=(
            Field("name", required=True, null=False, pattern=r"\w+"),
            Field("session", "uuid", required=True, null=False, relation="sessions"),
            Field("model"),
            Field("serial"),
            Field("json", "json"),
        ),
        params=(exact("session"), exact("name"), exact("lab"), exact("model")),
        build=_insertion_build,
        candidates=lambda query: (
            ProbeInsertion.by_session.query(query["session"]) if "session" in query else None
        ),
        ordering=lambda insertion: (insertion.session, insertion.name),
    )
)
