"""Husbandry: weighings, water, restrictions, surgeries and procedure types, and notes on any record."""

from __future__ import annotations

import datetime
from typing import Any

from chalicelib import notes, water
from chalicelib.errors import BadRequest, NotFound
from chalicelib.fields import Field, parse_datetime
from chalicelib.husbandry import lab_named, records_of
from chalicelib.models import (
    LabLocation,
    Note,
    ProcedureType,
    Session,
    Subject,
    Surgery,
    WaterAdministration,
    WaterRestriction,
    WaterType,
    Weighing,
)
from chalicelib.resources.common import custom, exact, icontains, iexact, name_field, subject
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import date_range
from chalicelib.subjects import find_subject, subjects_referenced

register(
    Resource(
        name="water-type",
        singular="water type",
        model=WaterType,
        key="name",
        fields=(name_field(r".+", "water type, e.g. Water, Hydrogel"), Field("json", "json")),
        params=(),
        django=False,
        ordering=lambda item: item.name,
    )
)

register(
    Resource(
        name="locations",
        singular="location",
        model=LabLocation,
        key="name",
        lab_scoped=True,
        description="Places in a lab (rigs, rooms) where sessions and surgeries happen",
        fields=(name_field(r".+"), Field("lab", relation="labs"), Field("json", "json")),
        params=(),
        django=False,
        ordering=lambda item: item.name,
    )
)

register(
    Resource(
        name="procedures",
        singular="procedure type",
        model=ProcedureType,
        key="name",
        description="The vocabulary of procedures (surgeries and session procedures refer to these names)",
        fields=(name_field(r".+"), Field("description", "text"), Field("json", "json")),
        params=(),
        django=False,
        ordering=lambda item: item.name,
    )
)


def _subject_of(data: dict[str, Any]) -> Subject:
    try:
        return find_subject(data["subject"], data.get("lab"))
    except NotFound:
        raise BadRequest(f"subject: {data['subject']!r} does not exist") from None


def _dated_record(model: type, time_field: str, what: str):  # noqa: ANN202 - returns a build hook
    """A build hook: attach the subject (and its lab), refusing records dated after the subject's death."""

    def build(data: dict[str, Any], ctx: Context) -> Any:
        subject = ctx.remember(("nickname", data["subject"], data.get("lab")), lambda: _subject_of(data))
        moment = parse_datetime(data.get(time_field) or datetime.datetime.now().isoformat())
        data[time_field] = moment.replace(microsecond=0).isoformat()
        death = datetime.date.fromisoformat(subject.death_date) if subject.death_date else None
        water.check_alive(moment, death, what)
        if model is WaterRestriction and death is not None and not data.get("end_time"):
            raise BadRequest(
                f"subject: {subject.nickname} died on {subject.death_date}; a dead subject cannot be put "
                "under water restriction (give an end_time to record a past one)"
            )
        if "user" in {f.name for f in model_fields[model]} and not data.get("user") and ctx.principal:
            data["user"] = ctx.principal.username
        return model(
            subject=subject.nickname,
            subject_id=subject.id,
            lab=subject.lab,
            **{k: v for k, v in data.items() if k not in ("subject", "lab")},
        )

    return build


def _by_subject(model: type):  # noqa: ANN202 - returns a candidates hook
    def candidates(query: dict[str, str]) -> Any:
        reference = query.get("subject") or query.get("nickname")
        subjects = subjects_referenced(reference, query.get("lab")) if reference else []
        if not subjects:
            return None  # Alyx matches nicknames ignoring case: the filter reads every record
        return [record for subject in subjects for record in model.by_subject.query(subject.id)]

    return candidates


def _change_dated(time_field: str, what: str):  # noqa: ANN202 - returns a change hook
    def change(record: Any, data: dict[str, Any], ctx: Context) -> None:
        if data.get(time_field, "") is None:
            del data[time_field]  # the record keeps its time: it has one
        if (
            data.get("subject", record.subject) not in (record.subject, record.subject_id)
            or data.get("lab", record.lab) != record.lab
        ):
            raise BadRequest(
                "subject: a record cannot move to another subject; delete it and create a new one"
            )
        for name, value in data.items():
            setattr(record, name, value)
        subject = Subject.get(record.subject_id)
        death = datetime.date.fromisoformat(subject.death_date) if subject.death_date else None
        water.check_alive(parse_datetime(getattr(record, time_field)), death, what)

    return change


def _weighed(weighing: Weighing, data: dict[str, Any], ctx: Context) -> None:
    """Alyx checks for an underweight mouse right after each weighing; each weighing of a list is checked
    as if it came alone, in the list's order (the subject's records are read once and grow by each)."""
    from chalicelib.notifications import check_underweight

    subject = ctx.remember(("subject", weighing.subject_id), lambda: Subject.get(weighing.subject_id))
    records = ctx.remember(("records", subject.id), lambda: records_of(subject))
    records.add(weighing)
    lab = ctx.remember(("lab", subject.lab), lambda: lab_named(subject.lab))
    check_underweight(subject, parse_datetime(weighing.date_time), records, lab)


SUBJECT = "the subject's nickname or id"
LAB = "the subject's lab: names which subject a nickname two labs use means"
model_fields: dict[type, tuple[Field, ...]] = {
    Weighing: (
        Field("subject", required=True, null=False, blank=False, description=SUBJECT),
        Field("lab", relation="labs", null=True, description=LAB),
        Field("date_time", "datetime", null=True, description="now when absent"),
        Field("weight", "number", required=True, null=False, minimum=0, description="grams"),
        Field("user", relation="users"),
    ),
    WaterAdministration: (
        Field("subject", required=True, null=False, blank=False, description=SUBJECT),
        Field("lab", relation="labs", null=True, description=LAB),
        Field("date_time", "datetime", null=True, description="now when absent"),
        Field("water_administered", "number", minimum=0, description="mL"),
        Field("water_type", relation="water-type"),
        Field("session", "uuid", relation="sessions"),
        Field("adlib", "boolean"),
        Field("user", relation="users"),
    ),
    WaterRestriction: (
        Field("subject", required=True, null=False, blank=False, description=SUBJECT),
        Field("lab", relation="labs", null=True, description=LAB),
        Field("start_time", "datetime", null=True, description="now when absent"),
        Field("end_time", "datetime"),
        Field("reference_weight", "number", minimum=0, description="grams; 0 = the last weighing before"),
        Field("water_type", relation="water-type"),
    ),
    Surgery: (
        Field("subject", required=True, null=False, blank=False, description=SUBJECT),
        Field("lab", relation="labs", null=True, description=LAB),
        Field("start_time", "datetime", null=True, description="now when absent"),
        Field("end_time", "datetime"),
        Field("procedures", "list", relation="procedures"),
        Field("users", "list", relation="users"),
        Field("implant_weight", "number", minimum=0, description="grams"),
        Field("outcome_type"),
        Field("narrative", "text"),
        Field("location"),
        Field("json", "json"),
    ),
}


def _all_users(record: Any, value: str) -> bool:
    """Alyx's ``users=a,b``: records of all of them (``user`` for a weighing or water given)."""
    values = record.attribute_values
    users = set(values.get("users") or []) | ({values["user"]} if values.get("user") else set())
    return {name for name in value.split(",") if name} <= users


def _action_filters(model: type, time_field: str) -> tuple[Any, ...]:
    """The filters every Alyx action list shares (its BaseActionFilter)."""

    def in_range(record: Any, value: str) -> bool:
        first, last = date_range(value)
        return first <= getattr(record, time_field)[:10] <= last

    filters = (
        subject(),
        iexact("nickname", "subject"),
        iexact("lab"),
        custom("users", _all_users, "comma-separated usernames, all of them"),
        custom("date_range", in_range, f"YYYY-MM-DD,YYYY-MM-DD on {time_field}, inclusive"),
        icontains("location"),
    )
    if model is Surgery:
        filters += (iexact("procedure", "procedures"),)
    return filters


def _session_of_subject(record: Any) -> None:
    """Water given during a session is the session's subject's water."""
    session = getattr(record, "session", None)
    if session and Session.get(session).subject_id != record.subject_id:
        raise BadRequest(f"session: session {session} is not a session of subject {record.subject!r}")


for name, singular, model, time_field, description in (
    ("weighings", "weighing", Weighing, "date_time", "Body weight measurements"),
    ("water-administrations", "water administration", WaterAdministration, "date_time", "Water given"),
    ("water-restriction", "water restriction", WaterRestriction, "start_time", "Water restriction periods"),
    ("water-restrictions", "water restriction", WaterRestriction, "start_time", "Also at /water-restriction"),
    ("surgeries", "surgery", Surgery, "start_time", "Surgeries and other procedures on a subject"),
):
    register(
        Resource(
            name=name,
            singular=singular,
            model=model,
            lab_scoped=True,
            description=description,
            fields=model_fields[model],
            params=_action_filters(model, time_field),
            build=_dated_record(model, time_field, singular),
            change=_change_dated(time_field, singular),
            place=_session_of_subject if model is WaterAdministration else None,
            candidates=_by_subject(model),
            after_save=_weighed if model is Weighing else None,
            bulk_create=model in (Weighing, WaterAdministration),  # a day's or a colony's records at once
            ordering=lambda record, time_field=time_field: getattr(record, time_field),
        )
    )

CONTENT_TYPES = {"subject": Subject, "session": Session}


def _note_build(data: dict[str, Any], ctx: Context) -> Note:
    if not data.get("user") and ctx.principal:
        data["user"] = ctx.principal.username
    if data.get("image"):
        notes.check_uploaded(data["image"])
    return Note(**data)


def _note_place(note: Note) -> None:
    """A note belongs to the lab of the subject or session it is attached to, wherever it moves."""
    model = CONTENT_TYPES[note.content_type]
    try:
        note.lab = model.get(note.object_id).lab
    except model.DoesNotExist:
        raise BadRequest(f"object_id: no {note.content_type} {note.object_id}") from None


def _note_change(note: Note, data: dict[str, Any], ctx: Context) -> None:
    if data.get("image") and data["image"] != note.image:
        notes.check_uploaded(data["image"])
    for name, value in data.items():
        setattr(note, name, value)


def _note_files(files: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(files) - {"image"})
    if unknown:
        raise BadRequest(f"{unknown[0]}: notes accept one file, 'image'")
    return {"image": notes.store_image(files["image"])}


def _serialize_notes(items: list[Note], ctx: Context) -> list[dict[str, Any]]:
    """As Alyx: ``image`` is the URL of the image (here, one that answers a short-lived link to it)."""
    out = []
    for note in items:
        row = NOTES.default_serialize(note, ctx)
        row["image"] = f"{ctx.url('notes', note.id)}/image" if note.image else None
        out.append(row)
    return out


NOTES = register(
    Resource(
        name="notes",
        singular="note",
        model=Note,
        lab_scoped=True,
        description="Lab notebook entries attached to a subject or a session",
        fields=(
            Field("user", relation="users"),
            Field("date_time", "datetime"),
            Field("text", "text", required=True),
            Field("content_type", required=True, null=False, choices=tuple(CONTENT_TYPES)),
            Field("object_id", "uuid", required=True, null=False),
            Field(
                "image", description="the image: a file in a multipart create, or the key of a direct upload"
            ),
            Field("json", "json"),
        ),
        params=(exact("object_id"), exact("user"), exact("content_type")),
        build=_note_build,
        change=_note_change,
        place=_note_place,
        serialize_many=_serialize_notes,
        store_files=_note_files,
        discard_files=lambda stored: notes.discard(stored["image"]),
        candidates=lambda query: Note.by_object.query(query["object_id"]) if "object_id" in query else None,
        ordering=lambda note: note.date_time,
    )
)
