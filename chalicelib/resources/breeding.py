"""Breeding and husbandry of the colony: breeding pairs, litters (and their pups), subject requests, culls
(with their reasons and methods), housing (cage types, foods, enrichments)."""

from __future__ import annotations

import datetime
from typing import Any

from chalicelib import history
from chalicelib.colony import breeding, culls
from chalicelib.colony.subjects import record_changes
from chalicelib.errors import BadRequest, NotFound
from chalicelib.fields import Field
from chalicelib.models import (
    BreedingPair,
    CageType,
    Cull,
    CullMethod,
    CullReason,
    Enrichment,
    Food,
    Housing,
    Line,
    Litter,
    Subject,
    SubjectRequest,
)
from chalicelib.resources.common import custom, exact, lab_from
from chalicelib.resources.genetics import NAMED_FIELDS, about_subject, by_subject, keep_subject, vocabulary
from chalicelib.rest import REGISTRY, Context, Resource, register
from chalicelib.subjects import find_subject

vocabulary("cull-reasons", "cull reason", CullReason, "Why a subject was culled")
vocabulary("cull-methods", "cull method", CullMethod, "How a subject was culled")
vocabulary("cage-types", "cage type", CageType, "Cage types of housings")
vocabulary("enrichments", "enrichment", Enrichment, "Cage enrichments of housings")
vocabulary(
    "foods", "food", Food, "Foods of housings", Field("protein_pct", "number", minimum=0, description="%")
)


def _lab_from_line(data: dict[str, Any], ctx: Context) -> str:
    """A colony record belongs to its line's lab, else to the lab named, else to the caller's only lab."""
    if data.get("line"):
        return Line.get(data["line"]).lab
    if data.get("lab"):
        return data["lab"]
    labs = sorted(ctx.principal.labs) if ctx.principal else []
    if len(labs) == 1:
        return labs[0]
    raise BadRequest("lab: this field is required (or a line, whose lab it takes)")


def _parents_exist(pair: BreedingPair) -> None:
    for role in ("father", "mother1", "mother2"):
        nickname = getattr(pair, role)
        if nickname:
            try:
                find_subject(nickname, pair.lab)
            except NotFound:
                raise BadRequest(f"{role}: subject {nickname!r} does not exist in lab {pair.lab}") from None


def _pair_build(data: dict[str, Any], ctx: Context) -> BreedingPair:
    values = {k: v for k, v in data.items() if k not in ("lab", "cage")}
    pair = BreedingPair(lab=_lab_from_line(data, ctx), **values)
    _parents_exist(pair)
    return pair


def _pair_change(pair: BreedingPair, data: dict[str, Any], ctx: Context) -> None:
    for name, value in data.items():
        if name not in ("lab", "cage"):
            setattr(pair, name, value)
    _parents_exist(pair)


def _user(ctx: Context) -> str | None:
    return ctx.principal.username if ctx.principal else None


def _pair_cage(pair: BreedingPair, data: dict[str, Any], ctx: Context) -> None:
    if data.get("cage"):
        breeding.house_parents(pair, data["cage"], _user(ctx))


def _current(pair: Any) -> bool:
    return bool(pair.start_date) and not pair.end_date


STATUS = custom(
    "status",
    lambda pair, value: value == "all" or _current(pair) == (value == "current"),
    "current (started, not ended), past or all",
)


def _pair_json(pairs: list[BreedingPair], ctx: Context) -> list[dict[str, Any]]:
    resource = REGISTRY["breeding-pairs"]
    return [{**resource.default_serialize(p, ctx), "current": _current(p)} for p in pairs]


register(
    Resource(
        name="breeding-pairs",
        singular="breeding pair",
        model=BreedingPair,
        key="name",
        lab_scoped=True,
        description="A father and one or two mothers of a line; a cage given here houses all of them",
        fields=NAMED_FIELDS
        + (
            Field("lab", relation="labs", description="the line's lab when a line is given"),
            Field("line", relation="lines"),
            Field("start_date", "date"),
            Field("end_date", "date"),
            Field("father"),
            Field("mother1"),
            Field("mother2"),
            Field("cage", description="write only: puts the parents in this cage"),
        ),
        params=(exact("name"), exact("lab"), exact("line"), STATUS),
        build=_pair_build,
        place=lab_from("line", Line),
        change=_pair_change,
        after_save=_pair_cage,
        serialize_many=_pair_json,
        ordering=lambda p: p.name,
    )
)


def _litter_build(data: dict[str, Any], ctx: Context) -> Litter:
    if data.get("breeding_pair") and not data.get("line"):
        data["line"] = BreedingPair.get(data["breeding_pair"]).line
    values = {k: v for k, v in data.items() if k not in ("lab", "pups")}
    if data.get("pups") is not None:
        breeding.pup_specs(data["pups"])  # refuse bad pups before the litter is written
    return Litter(lab=_lab_from_line(data, ctx), **values)


def _litter_change(litter: Litter, data: dict[str, Any], ctx: Context) -> None:
    if data.get("pups") is not None:
        breeding.pup_specs(data["pups"])
    for name, value in data.items():
        if name not in ("lab", "pups"):
            setattr(litter, name, value)


def _litter_pups(litter: Litter, data: dict[str, Any], ctx: Context) -> None:
    """Pups named in a write that are not born yet are created from the litter."""
    if not data.get("pups"):
        return
    born = {pup.nickname for pup in breeding.pups(litter)}
    new = [spec for spec in breeding.pup_specs(data["pups"]) if spec["nickname"] not in born]
    breeding.create_pups(litter, new, _user(ctx))


def _litter_json(litters: list[Litter], ctx: Context) -> list[dict[str, Any]]:
    resource, pups = REGISTRY["litters"], breeding.pups_of(litters)
    return [{**resource.default_serialize(litter, ctx), "pups": pups[litter.name]} for litter in litters]


register(
    Resource(
        name="litters",
        singular="litter",
        model=Litter,
        key="name",
        lab_scoped=True,
        description="Litters of a breeding pair; pups named in a write are created, inheriting birth date, "
        "line, litter and (from the father) species, strain, source and responsible user",
        fields=NAMED_FIELDS
        + (
            Field("lab", relation="labs", description="the line's lab when a line is given"),
            Field("line", relation="lines"),
            Field("breeding_pair", relation="breeding-pairs"),
            Field("birth_date", "date"),
            Field(
                "pups",
                "json",
                description="nicknames, or objects {nickname, sex, ear_mark, cage, wean_date...}, to create",
            ),
        ),
        params=(exact("name"), exact("lab"), exact("line"), exact("breeding_pair")),
        build=_litter_build,
        place=lab_from("line", Line),
        change=_litter_change,
        after_save=_litter_pups,
        serialize_many=_litter_json,
        ordering=lambda litter: litter.name,
    )
)


def _request_build(data: dict[str, Any], ctx: Context) -> SubjectRequest:
    if not data.get("user") and ctx.principal:
        data["user"] = ctx.principal.username
    data.setdefault("date_time", datetime.date.today().isoformat())
    return SubjectRequest(lab=_lab_from_line(data, ctx), **{k: v for k, v in data.items() if k != "lab"})


def _request_json(requests: list[SubjectRequest], ctx: Context) -> list[dict[str, Any]]:
    resource = REGISTRY["subject-requests"]
    out, counts = [], breeding.assigned(requests)
    for request in requests:
        taken = counts[request.id]
        count = int(request.count or 0)
        out.append(
            {
                **resource.default_serialize(request, ctx),
                "count_assigned": taken,
                "remaining": max(count - taken, 0),
                "closed": taken >= count,
            }
        )
    return out


register(
    Resource(
        name="subject-requests",
        singular="subject request",
        model=SubjectRequest,
        lab_scoped=True,
        description="A user asks the colony for a number of subjects of a line by a date",
        fields=(
            Field("lab", relation="labs", description="the line's lab when a line is given"),
            Field("user", relation="users"),
            Field("line", relation="lines"),
            Field("count", "integer", minimum=1),
            Field("date_time", "date"),
            Field("due_date", "date"),
            Field("description"),
            Field("json", "json"),
        ),
        params=(exact("user"), exact("line"), exact("lab")),
        build=_request_build,
        place=lab_from("line", Line),
        serialize_many=_request_json,
        ordering=lambda r: (r.date_time or "", r.id),
    )
)


def _cull_build(data: dict[str, Any], ctx: Context) -> Cull:
    if not data.get("user") and ctx.principal:
        data["user"] = ctx.principal.username
    data.setdefault("date", datetime.date.today().isoformat())
    cull = about_subject(Cull)(data, ctx)
    subject = Subject.get(cull.subject_id)
    if subject.birth_date and cull.date < subject.birth_date:
        raise BadRequest(f"date: {cull.date} is before the subject's birth date {subject.birth_date}")
    return cull


register(
    Resource(
        name="culls",
        singular="cull",
        model=Cull,
        lab_scoped=True,
        description="The end of a subject (one at most): sets its death date and ends its water restrictions",
        fields=(
            Field("subject", required=True, null=False),
            Field("date", "date"),
            Field("cull_reason", relation="cull-reasons"),
            Field("cull_method", relation="cull-methods"),
            Field("user", relation="users"),
            Field("description"),
            Field("json", "json"),
        ),
        params=(exact("subject"), exact("lab"), exact("cull_reason"), exact("cull_method")),
        build=_cull_build,
        change=keep_subject,
        candidates=by_subject(Cull),
        after_save=lambda cull, data, ctx: culls.take_effect(cull, _user(ctx)),
        ordering=lambda c: (c.date, c.subject),
    )
)


def _housing_build(data: dict[str, Any], ctx: Context) -> Housing:
    """A new housing takes the lab's default conditions for what it does not say."""
    from chalicelib.models import Lab

    lab = Lab.get(data["lab"])
    for name in ("cage_type", "food", "enrichment", "light_cycle", "cage_cleaning_frequency_days"):
        if data.get(name) is None and getattr(lab, name) is not None:
            data[name] = getattr(lab, name)
    housing = Housing(**data)
    _residents_exist(housing)
    return housing


def _residents_exist(housing: Housing) -> None:
    for nickname in housing.subjects:
        try:
            find_subject(nickname, housing.lab)
        except NotFound:
            raise BadRequest(f"subjects: {nickname!r} does not exist in lab {housing.lab}") from None


def _housing_change(housing: Housing, data: dict[str, Any], ctx: Context) -> None:
    for name, value in data.items():
        setattr(housing, name, value)
    _residents_exist(housing)


def _move_in(housing: Housing, data: dict[str, Any], ctx: Context) -> None:
    """The residents of an open housing are in its cage (their cage history records the move)."""
    if housing.end_datetime:
        return
    for nickname in housing.subjects:
        subject = find_subject(nickname, housing.lab)
        if subject.cage != housing.cage_name:
            before = history.snapshot(subject)
            subject.cage = housing.cage_name
            record_changes(subject, before)
            history.save_audited("subjects", subject, before, _user(ctx))


def current_housing(subject: Subject) -> Housing | None:
    for housing in Housing.scan(Housing.lab == subject.lab):
        if not housing.end_datetime and subject.nickname in housing.subjects:
            return housing
    return None


register(
    Resource(
        name="housings",
        singular="housing",
        model=Housing,
        lab_scoped=True,
        description="A cage, its conditions and residents; every change is kept in its history",
        fields=(
            Field("lab", required=True, null=False, relation="labs"),
            Field("cage_name", required=True, null=False),
            Field("cage_type", relation="cage-types"),
            Field("food", relation="foods"),
            Field("enrichment", relation="enrichments"),
            Field("light_cycle", "integer", choices=(0, 1), description="0 normal, 1 inverted"),
            Field("cage_cleaning_frequency_days", "integer", minimum=0),
            Field("subjects", "list", description="nicknames of the residents"),
            Field("start_datetime", "datetime"),
            Field("end_datetime", "datetime"),
            Field("json", "json"),
        ),
        params=(
            exact("lab"),
            exact("cage_name"),
            exact("subjects"),
            custom(
                "active", lambda h, v: (h.end_datetime is None) == (v.lower() == "true"), "true: not ended"
            ),
        ),
        build=_housing_build,
        change=_housing_change,
        after_save=_move_in,
        ordering=lambda h: (h.cage_name, h.start_datetime),
    )
)
