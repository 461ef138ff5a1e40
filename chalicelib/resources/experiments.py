"""Sessions (with the datasets ONE lists from their detail) and probe insertions."""

from __future__ import annotations

from typing import Any

from chalicelib.datasets import datasets_of_session
from chalicelib.errors import BadRequest
from chalicelib.fields import Field
from chalicelib.models import Dataset, Note, ProbeInsertion, Session, WaterAdministration
from chalicelib.models.base import now
from chalicelib.qc import qc_name, qc_value
from chalicelib.resources.catalogue import dataset_files, dataset_url
from chalicelib.resources.common import custom, exact, icontains, iexact, subject
from chalicelib.resources.histology import atlas_params
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import date_range, get_session, sessions_of_lab, sessions_of_subject
from chalicelib.subjects import find_subject, nickname_of

SESSION_FIELDS = (
    Field("subject", required=True, null=False, blank=False, description="the subject's nickname or id"),
    Field("lab", relation="labs", null=True, description="defaults to the subject's lab"),
    Field("users", "list", relation="users"),
    Field("projects", "list", relation="projects"),
    Field("start_time", "datetime", description="defaults to now, as in Alyx"),
    Field("end_time", "datetime"),
    Field("number", "integer", minimum=0, description="session number of the day (path folder 001)"),
    Field("task_protocol"),
    Field("type"),
    Field("procedures", "list", relation="procedures"),
    Field("narrative", "text", description="the lab notebook text"),
    Field("n_trials", "integer", minimum=0),
    Field("n_correct_trials", "integer", minimum=0),
    Field("qc", "qc"),
    Field("extended_qc", "json"),
    Field("json", "json"),
    Field("parent_session", "uuid", relation="sessions"),
    Field("location"),
    Field("auto_datetime", "datetime", read_only=True),
    Field("wateradmin_session_related", "json", read_only=True),
    Field("data_dataset_session_related", "json", read_only=True),
    Field("probe_insertion", "json", read_only=True),
    Field("field_of_view", "json", read_only=True),
    Field("notes", "json", read_only=True),
)


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


def _performance(session: Session) -> float | None:
    """Alyx's ``100 * n_correct_trials / n_trials``; None without trials."""
    if not session.n_trials or session.n_correct_trials is None:
        return None
    return 100 * float(session.n_correct_trials) / float(session.n_trials)


def _percentage(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a number") from None


def _performance_at_least(session: Session, text: str) -> bool:
    performance = _performance(session)
    return performance is not None and performance >= _percentage(text, "performance_gte")


def _performance_at_most(session: Session, text: str) -> bool:
    performance = _performance(session)
    return performance is not None and performance <= _percentage(text, "performance_lte")


def _has_tag(session: Session, text: str) -> bool:
    return any(text.lower() in tag.lower() for d in _dataset_names(session) for tag in d.tags)


def _all_users(session: Session, text: str) -> bool:
    """Alyx's ``users=a,b``: sessions run by all of them."""
    return {name for name in text.split(",") if name} <= set(session.users)


def _truth(text: str, name: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise BadRequest(f"{name}: expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


def _has_histology(session: Session, text: str) -> bool:
    """``histology=true``: the subject has a session with the 'Histology' procedure."""
    histology = any("Histology" in other.procedures for other in sessions_of_subject(session.subject))
    return histology == _truth(text, "histology")


def _subject_is(session: Session, text: str) -> bool:
    return session.subject.lower() == text.lower()


def _on_date(session: Session, text: str) -> bool:
    return session.date == date_range(text)[0]


def _project_contains(session: Session, text: str) -> bool:
    return any(text.lower() in project.lower() for project in session.projects)


def _protocol_contains(session: Session, text: str) -> bool:
    return text.lower() in (session.task_protocol or "").lower()


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


def _water_given(session: Session) -> list[dict[str, Any]]:
    if not session.subject_id:
        return []
    return [
        {
            "id": given.id,
            "name": f"{given.date_time[:10]} {given.subject}, {given.water_administered:.2f} mL",
            "water_type": given.water_type,
            "water_administered": given.water_administered,
        }
        for given in WaterAdministration.by_subject.query(session.subject_id)
        if given.session == session.id
    ]


def _notes(session: Session, ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "id": note.id,
            "user": note.user,
            "date_time": note.date_time,
            "text": note.text,
            "image": getattr(note, "image", None),
            "content_type": note.content_type,
            "object_id": note.object_id,
        }
        for note in Note.by_object.query(session.id)
    ]


def _session_detail(session: Session, ctx: Context, *, related: bool = True) -> dict[str, Any]:
    """The session and, with ``related``, what points at it (water given, insertions, notes, datasets):
    none of those can point at a session just made."""
    values = session.attribute_values
    out = session_summary(session, ctx)
    out.update({f.name: values.get(f.name) for f in SESSION_FIELDS if f.name not in out})
    for name in ("n_trials", "n_correct_trials"):
        out[name] = None if out[name] is None else int(out[name])
    out["field_of_view"] = []
    out["number"] = int(session.number)
    out["qc"] = qc_name(session.qc)
    if not related:
        out.update(
            wateradmin_session_related=[], probe_insertion=[], notes=[], data_dataset_session_related=[]
        )
        return out
    out["wateradmin_session_related"] = _water_given(session)
    out["probe_insertion"] = insertions_json(list(ProbeInsertion.by_session.query(session.id)), ctx)
    out["notes"] = _notes(session, ctx)
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
    data["start_time"] = data.get("start_time") or now()
    return new_session(subject, auto_datetime=now(), **data)


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
    if not session.start_time:
        raise BadRequest("start_time: this field may not be null")
    session.auto_datetime = now()
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
            iexact("nickname", "subject"),
            iexact("lab"),
            custom("number", _number, "session number (001 and 1 are the same)"),
            icontains("projects"),
            icontains("project", "projects"),
            icontains("procedures"),
            icontains("task_protocol"),
            custom("performance_gte", _performance_at_least, "100 * n_correct_trials / n_trials at least"),
            custom("performance_lte", _performance_at_most, "100 * n_correct_trials / n_trials at most"),
            custom("tag", _has_tag, "a dataset of the session has a tag whose name contains this"),
            custom("histology", _has_histology, "true: the subject has a Histology session"),
            *atlas_params(of_session=True),
            custom("date_range", _in_range, "YYYY-MM-DD,YYYY-MM-DD inclusive, or one date"),
            custom("datasets", _has_datasets, "comma-separated dataset names the session must all have"),
            custom(
                "dataset_types", _has_dataset_types, "comma-separated dataset types the session must all have"
            ),
            custom("dataset_qc_lte", _qc_at_most, "a dataset has QC at most this (name or number)"),
            custom("qc", lambda session, value: int(session.qc) == qc_value(value), "session QC equals"),
            custom("users", _all_users, "comma-separated usernames that all ran the session"),
            iexact("type"),
            icontains("location"),
        ),
        build=_session_build,
        change=_session_change,
        candidates=_candidates,
        serialize_many=lambda sessions, ctx: [session_summary(s, ctx) for s in sessions],
        serialize_detail=_session_detail,
        serialize_created=lambda session, ctx: _session_detail(session, ctx, related=False),
        ordering=lambda session: (session.start_time, session.id),
        newest_first=True,
    )
)


def _insertion_build(data: dict[str, Any], ctx: Context) -> ProbeInsertion:
    session = get_session(data["session"])
    return ProbeInsertion(lab=session.lab, auto_datetime=now(), **data)


def _insertion_change(insertion: ProbeInsertion, data: dict[str, Any], ctx: Context) -> None:
    if "session" in data and data["session"] != insertion.session:
        insertion.lab = get_session(data["session"]).lab
    for name, value in data.items():
        setattr(insertion, name, value)
    insertion.auto_datetime = now()


def _session_of(insertion: ProbeInsertion) -> Session:
    """The insertion's session, read once per insertion in a request (filters and answers share it)."""
    if not hasattr(insertion, "_session"):
        insertion._session = get_session(insertion.session)
    return insertion._session


def _insertion_datasets(insertion: ProbeInsertion) -> list[Dataset]:
    """The datasets linked to the insertion, and as in Alyx's detail, the session's datasets whose
    collection names the probe (``alf/probe00/...``)."""
    if not hasattr(insertion, "_datasets"):
        linked = set(insertion.datasets or [])
        insertion._datasets = [
            d
            for d in datasets_of_session(insertion.session)
            if d.id in linked or insertion.name.lower() in (d.collection or "").lower()
        ]
    return insertion._datasets


def _session_info(session: Session) -> dict[str, Any]:
    return {
        "subject": session.subject,
        "start_time": session.start_time,
        "number": int(session.number),
        "lab": session.lab,
        "id": session.id,
        "projects": list(session.projects),
        "task_protocol": session.task_protocol,
    }


def insertions_json(insertions: list[ProbeInsertion], ctx: Context) -> list[dict[str, Any]]:
    sessions = {s.id: s for s in Session.batch_get(sorted({i.session for i in insertions}))}
    for insertion in insertions:
        insertion._session = sessions.get(insertion.session) or _session_of(insertion)
    return [
        {
            "id": insertion.id,
            "url": ctx.url("insertions", insertion.id),
            "name": insertion.name,
            "session": insertion.session,
            "model": insertion.model,
            "serial": insertion.serial or "",
            "json": insertion.json,
            "datasets": list(insertion.datasets or []),
            "chronic_insertion": insertion.chronic_insertion,
            "auto_datetime": insertion.auto_datetime,
            "session_info": _session_info(insertion._session),
        }
        for insertion in insertions
    ]


def _insertion_detail(insertion: ProbeInsertion, ctx: Context) -> dict[str, Any]:
    out = insertions_json([insertion], ctx)[0]
    datasets = _insertion_datasets(insertion)
    files = dataset_files(datasets, ctx)
    out["datasets"] = [
        {
            "id": d.id,
            "name": d.name,
            "dataset_type": d.dataset_type,
            "data_url": next((f["data_url"] for f in files[d.id] if f["exists"] and f["data_url"]), None),
            "url": dataset_url(d, ctx),
            "file_size": d.file_size,
            "hash": d.hash,
            "version": d.version,
            "collection": d.collection,
            "qc": qc_name(d.qc),
        }
        for d in sorted(datasets, key=lambda d: d.relative_path)
    ]
    return out


def _on_session(test: Any) -> Any:
    return lambda insertion, value: test(_session_of(insertion), value)


def _insertion_has_types(insertion: ProbeInsertion, text: str) -> bool:
    return {n for n in text.split(",") if n} <= {d.dataset_type for d in _insertion_datasets(insertion)}


def _insertion_has_datasets(insertion: ProbeInsertion, text: str) -> bool:
    return {n for n in text.split(",") if n} <= {d.name for d in _insertion_datasets(insertion)}


def _insertion_qc_at_most(insertion: ProbeInsertion, text: str) -> bool:
    limit = qc_value(text, "dataset_qc_lte")
    return any(int(d.qc) <= limit for d in _insertion_datasets(insertion))


def _insertion_has_tag(insertion: ProbeInsertion, text: str) -> bool:
    return any(text.lower() in tag.lower() for d in _insertion_datasets(insertion) for tag in d.tags)


def _insertion_candidates(query: dict[str, str]) -> Any:
    """Keyed: by session, or through the sessions of a subject (and date)."""
    if "session" in query:
        return ProbeInsertion.by_session.query(query["session"])
    if "subject" in query:
        day = query.get("date")
        sessions = sessions_of_subject(query["subject"], day, day)
        return [i for session in sessions for i in ProbeInsertion.by_session.query(session.id)]
    return None


def in_lab_of_session(record: Any) -> None:
    """A record of a session (an insertion, a task) belongs to the session's lab, wherever it moves."""
    record.lab = get_session(record.session).lab


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
            Field("datasets", "list", relation="datasets", description="ids of the insertion's datasets"),
            Field("chronic_insertion", "uuid", relation="chronic-insertions"),
            Field("auto_datetime", "datetime", read_only=True),
            Field("session_info", "json", read_only=True),
        ),
        params=(
            exact("session"),
            exact("name"),
            iexact("lab"),
            exact("model"),
            custom("subject", _on_session(_subject_is), "the session's subject nickname"),
            custom("date", _on_session(_on_date), "the session's date YYYY-MM-DD"),
            custom("experiment_number", _on_session(_number), "the session's number"),
            custom("project", _on_session(_project_contains), "a session project contains this"),
            custom("task_protocol", _on_session(_protocol_contains), "the session's protocol contains this"),
            custom("dataset_types", _insertion_has_types, "comma-separated dataset types all present"),
            custom("datasets", _insertion_has_datasets, "comma-separated dataset names all present"),
            custom("dataset_qc_lte", _insertion_qc_at_most, "a dataset has QC at most this"),
            custom("tag", _insertion_has_tag, "a dataset has a tag whose name contains this"),
            *atlas_params(of_session=False),
        ),
        build=_insertion_build,
        change=_insertion_change,
        place=in_lab_of_session,
        candidates=_insertion_candidates,
        serialize_many=insertions_json,
        serialize_detail=_insertion_detail,
        ordering=lambda insertion: (insertion.session, insertion.name),
    )
)
