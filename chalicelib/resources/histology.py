"""Histology records, as IBL localizes probes: trajectory estimates of probe insertions, the channels
along them with their Allen brain region, chronic insertions and imaging fields of view; and the atlas
filters (``atlas_acronym``, ``atlas_name``, ``atlas_id``) that find sessions and insertions by region."""

from __future__ import annotations

from typing import Any

from chalicelib import atlas
from chalicelib.errors import BadRequest
from chalicelib.fields import Field
from chalicelib.models import (
    Channel,
    ChronicInsertion,
    FieldOfView,
    ProbeInsertion,
    Session,
    TrajectoryEstimate,
)
from chalicelib.models.base import now
from chalicelib.resources.common import lab_from
from chalicelib.rest import Context, Param, Resource, register
from chalicelib.sessions import date_range, get_session
from chalicelib.subjects import find_subject

PROVENANCES = {
    70: "Ephys aligned histology track",
    50: "Histology track",
    30: "Micro-manipulator",
    10: "Planned",
}
ALIGNED = 70  # the atlas filters use ephys-aligned trajectories only, as Alyx does


def provenance_value(value: Any) -> int:
    """A provenance by name (any case) or number."""
    if isinstance(value, int | float) and int(value) in PROVENANCES:
        return int(value)
    by_name = {name.lower(): number for number, name in PROVENANCES.items()}
    text = str(value).strip()
    if text.lower() in by_name:
        return by_name[text.lower()]
    if text.isdigit() and int(text) in PROVENANCES:
        return int(text)
    raise BadRequest(f"provenance: {value!r} is not one of {', '.join(PROVENANCES.values())}")


# Atlas filters ---------------------------------------------------------------------------------------------


def insertions_in_regions(region_ids: set[int]) -> set[str]:
    """Probe insertions with an ephys-aligned channel in one of these regions: channels by region (one
    keyed query per region), then their trajectories by key."""
    trajectory_ids = {
        channel.trajectory_estimate for region in region_ids for channel in Channel.by_region.query(region)
    }
    trajectories = TrajectoryEstimate.batch_get(sorted(trajectory_ids)) if trajectory_ids else []
    return {t.probe_insertion for t in trajectories if int(t.provenance) >= ALIGNED and t.probe_insertion}


def atlas_params(*, of_session: bool) -> tuple[Param, ...]:
    """``atlas_name``/``atlas_acronym``/``atlas_id`` for sessions (any of their insertions) or insertions."""

    def prepare(how: str) -> Any:
        def read(value: str) -> set[str]:
            insertions = insertions_in_regions(atlas.atlas_regions(how, value))
            if not of_session:
                return insertions
            found = ProbeInsertion.batch_get(sorted(insertions)) if insertions else []
            return {insertion.session for insertion in found}

        return read

    def test(item: Any, wanted: set[str]) -> bool:
        return item.id in wanted

    described = {
        "atlas_name": "a brain region whose name contains this (and its subregions)",
        "atlas_acronym": "a brain region acronym (and its subregions)",
        "atlas_id": "an Allen brain region id (and its subregions)",
    }
    return tuple(
        Param(name, test, f"recorded in {text}", prepare=prepare(name)) for name, text in described.items()
    )


# Trajectories ----------------------------------------------------------------------------------------------


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


def _numbers(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: None if values.get(name) is None else float(values[name]) for name in names}


def _trajectories_json(trajectories: list[TrajectoryEstimate], ctx: Context) -> list[dict[str, Any]]:
    insertions = {
        i.id: i
        for i in ProbeInsertion.batch_get(
            sorted({t.probe_insertion for t in trajectories if t.probe_insertion})
        )
    }
    sessions = {s.id: s for s in Session.batch_get(sorted({i.session for i in insertions.values()}))}
    out = []
    for t in trajectories:
        insertion = insertions.get(t.probe_insertion or "")
        session = sessions.get(insertion.session) if insertion else None
        out.append(
            {
                "id": t.id,
                "url": ctx.url("trajectories", t.id),
                "probe_insertion": t.probe_insertion,
                "chronic_insertion": t.chronic_insertion,
                **_numbers(t.attribute_values, ("x", "y", "z", "depth", "theta", "phi", "roll")),
                "provenance": PROVENANCES.get(int(t.provenance), str(t.provenance)),
                "session": _session_info(session) if session else None,
                "probe_name": insertion.name if insertion else None,
                "coordinate_system": t.coordinate_system,
                "datetime": t.datetime,
                "json": t.json,
            }
        )
    return out


def _trajectory_lab(data: dict[str, Any]) -> str | None:
    if data.get("probe_insertion"):
        return ProbeInsertion.get(data["probe_insertion"]).lab
    if data.get("chronic_insertion"):
        return ChronicInsertion.get(data["chronic_insertion"]).lab
    return None


def _trajectory_place(trajectory: TrajectoryEstimate) -> None:
    """A trajectory belongs to its insertion's lab, wherever a write moves it."""
    trajectory.lab = _trajectory_lab(trajectory.attribute_values) or trajectory.lab


def _trajectory_build(data: dict[str, Any], ctx: Context) -> TrajectoryEstimate:
    data["provenance"] = provenance_value(data.get("provenance") or 10)
    return TrajectoryEstimate(lab=_trajectory_lab(data), **data)


def _trajectory_change(trajectory: TrajectoryEstimate, data: dict[str, Any], ctx: Context) -> None:
    if "provenance" in data:
        data["provenance"] = provenance_value(data["provenance"])
    for name, value in data.items():
        setattr(trajectory, name, value)
    trajectory.datetime = now()


def _insertion_of(trajectory: TrajectoryEstimate) -> ProbeInsertion | None:
    if not hasattr(trajectory, "_insertion"):
        trajectory._insertion = (
            ProbeInsertion.get(trajectory.probe_insertion) if trajectory.probe_insertion else None
        )
    return trajectory._insertion


def _session_of(trajectory: TrajectoryEstimate) -> Session | None:
    insertion = _insertion_of(trajectory)
    if insertion is None:
        return None
    if not hasattr(trajectory, "_session"):
        trajectory._session = get_session(insertion.session)
    return trajectory._session


def _insertion_is(trajectory: TrajectoryEstimate, test: Any) -> bool:
    insertion = _insertion_of(trajectory)
    return insertion is not None and test(insertion)


def _on_session(test: Any) -> Any:
    def on(trajectory: TrajectoryEstimate, value: str) -> bool:
        session = _session_of(trajectory)
        return session is not None and test(session, value)

    return on


def _number_is(session: Session, value: str) -> bool:
    try:
        return int(session.number) == int(value)
    except ValueError:
        raise BadRequest(f"experiment_number: {value!r} is not a whole number") from None


def _trajectory_candidates(query: dict[str, str]) -> Any:
    if "probe_insertion" in query:
        return TrajectoryEstimate.by_insertion.query(query["probe_insertion"])
    if "session" in query:
        return [
            t
            for insertion in ProbeInsertion.by_session.query(query["session"])
            for t in TrajectoryEstimate.by_insertion.query(insertion.id)
        ]
    return None


NUMBER_FIELDS = ("x", "y", "z", "depth", "theta", "phi", "roll")

register(
    Resource(
        name="trajectories",
        singular="trajectory estimate",
        model=TrajectoryEstimate,
        lab_scoped=True,
        description="Where a probe went: planned, micro-manipulator, histology and ephys-aligned estimates",
        fields=(
            Field("probe_insertion", "uuid", relation="insertions"),
            Field("chronic_insertion", "uuid", relation="chronic-insertions"),
            *(Field(name, "number") for name in NUMBER_FIELDS),
            Field("provenance", description=", ".join(f"{k}: {v}" for k, v in PROVENANCES.items())),
            Field("coordinate_system"),
            Field("json", "json"),
            Field("datetime", "datetime", read_only=True),
            Field("session", "json", read_only=True),
            Field("probe_name", read_only=True),
        ),
        params=(
            Param(
                "provenance",
                lambda t, value: int(t.provenance) == provenance_value(value),
                "a provenance name (Planned, Micro-manipulator, Histology track...)",
            ),
            Param("probe_insertion", lambda t, v: t.probe_insertion == v, "the probe insertion id"),
            Param("session", lambda t, v: _insertion_is(t, lambda i: i.session == v), "session id"),
            Param("probe", lambda t, v: _insertion_is(t, lambda i: i.name == v), "probe name"),
            Param("subject", _on_session(lambda s, v: s.subject.lower() == v.lower()), "subject nickname"),
            Param("date", _on_session(lambda s, v: s.date == date_range(v)[0]), "session date"),
            Param("experiment_number", _on_session(_number_is), "session number"),
            Param("project", _on_session(lambda s, v: v in s.projects), "a project of the session"),
        ),
        build=_trajectory_build,
        place=_trajectory_place,
        change=_trajectory_change,
        candidates=_trajectory_candidates,
        serialize_many=_trajectories_json,
        ordering=lambda t: (t.probe_insertion or "", -int(t.provenance)),
    )
)


# Channels --------------------------------------------------------------------------------------------------


def _channel_build(data: dict[str, Any], ctx: Context) -> Channel:
    trajectory = TrajectoryEstimate.get(data["trajectory_estimate"])
    region = data.get("brain_region")
    data["brain_region"] = atlas.region(region).id if region not in (None, "") else 0
    return Channel(lab=trajectory.lab, **data)


def _channel_change(channel: Channel, data: dict[str, Any], ctx: Context) -> None:
    if data.get("brain_region") not in (None, ""):
        data["brain_region"] = atlas.region(data["brain_region"]).id
    for name, value in data.items():
        setattr(channel, name, value)


def _channels_json(channels: list[Channel], ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "url": ctx.url("channels", c.id),
            "trajectory_estimate": c.trajectory_estimate,
            **_numbers(c.attribute_values, ("axial", "lateral", "x", "y", "z")),
            "brain_region": None if c.brain_region is None else int(c.brain_region),
            "name": c.name,
            "json": c.json,
        }
        for c in channels
    ]


def _trajectory_of(channel: Channel) -> TrajectoryEstimate:
    if not hasattr(channel, "_trajectory"):
        channel._trajectory = TrajectoryEstimate.get(channel.trajectory_estimate)
    return channel._trajectory


def _channel_session(channel: Channel, value: str) -> bool:
    return _insertion_is(_trajectory_of(channel), lambda insertion: insertion.session == value)


def _channel_subject(channel: Channel, value: str) -> bool:
    session = _session_of(_trajectory_of(channel))
    return session is not None and session.subject.lower() == value.lower()


def _channel_candidates(query: dict[str, str]) -> Any:
    if "trajectory_estimate" in query:
        return Channel.by_trajectory.query(query["trajectory_estimate"])
    if "probe_insertion" in query:
        return [
            c
            for t in TrajectoryEstimate.by_insertion.query(query["probe_insertion"])
            for c in Channel.by_trajectory.query(t.id)
        ]
    return None


register(
    Resource(
        name="channels",
        singular="channel",
        model=Channel,
        lab_scoped=True,
        description="Channels along a trajectory, with their Allen brain region (POST takes a list too)",
        fields=(
            Field("trajectory_estimate", "uuid", required=True, null=False, relation="trajectories"),
            Field("axial", "number"),
            Field("lateral", "number"),
            Field("x", "number"),
            Field("y", "number"),
            Field("z", "number"),
            Field("brain_region", "integer", description="Allen region id"),
            Field("name"),
            Field("json", "json"),
        ),
        params=(
            Param("trajectory_estimate", lambda c, v: c.trajectory_estimate == v, "trajectory id"),
            Param("probe_insertion", lambda c, v: _trajectory_of(c).probe_insertion == v, "insertion id"),
            Param(
                "session", lambda c, v: _insertion_is(_trajectory_of(c), lambda i: i.session == v), "session"
            ),
            Param("lab", lambda c, v: (c.lab or "").lower() == v.lower(), "lab name"),
            Param("subject", _channel_subject, "subject nickname"),
            Param("brain_region", lambda c, v: int(c.brain_region) == atlas.region(v).id, "region id"),
        ),
        build=_channel_build,
        place=lab_from("trajectory_estimate", TrajectoryEstimate),
        change=_channel_change,
        candidates=_channel_candidates,
        serialize_many=_channels_json,
        ordering=lambda c: (c.trajectory_estimate, float(c.axial or 0), float(c.lateral or 0)),
        bulk_create=True,
    )
)


# Chronic insertions and fields of view ---------------------------------------------------------------------


def _chronic_build(data: dict[str, Any], ctx: Context) -> ChronicInsertion:
    subject = find_subject(data["subject"])
    return ChronicInsertion(lab=subject.lab, **{**data, "subject": subject.nickname})


register(
    Resource(
        name="chronic-insertions",
        singular="chronic insertion",
        model=ChronicInsertion,
        lab_scoped=True,
        description="Probes implanted for several sessions; their probe insertions name them",
        fields=(
            Field("name", required=True, null=False),
            Field("subject", required=True, null=False, relation="subjects"),
            Field("model"),
            Field("serial"),
            Field("start_time", "datetime"),
            Field("end_time", "datetime"),
            Field("narrative"),
            Field("json", "json"),
        ),
        params=(
            Param("subject", lambda c, v: c.subject.lower() == v.lower(), "subject nickname"),
            Param("lab", lambda c, v: c.lab.lower() == v.lower(), "lab name"),
        ),
        build=_chronic_build,
        ordering=lambda c: (c.subject, c.name),
    )
)


def _fov_candidates(query: dict[str, str]) -> Any:
    return FieldOfView.by_session.query(query["session"]) if "session" in query else None


def _fov_build(data: dict[str, Any], ctx: Context) -> FieldOfView:
    return FieldOfView(lab=get_session(data["session"]).lab, **data)


register(
    Resource(
        name="fields-of-view",
        singular="field of view",
        model=FieldOfView,
        lab_scoped=True,
        description="Imaging fields of view of a session",
        fields=(
            Field("name", required=True, null=False),
            Field("session", "uuid", required=True, null=False, relation="sessions"),
            Field("imaging_type"),
            Field("stack"),
            Field("datasets", "list", relation="datasets"),
            Field("json", "json"),
        ),
        params=(Param("lab", lambda f, v: f.lab.lower() == v.lower(), "lab name"),),
        build=_fov_build,
        place=lab_from("session", Session),
        candidates=lambda query: (
            FieldOfView.by_session.query(query["session"]) if "session" in query else None
        ),
        ordering=lambda f: (f.session, f.name),
    )
)
