"""Daily husbandry: add a water administration (colony-web.md 2.3), add a weighing (2.4), a subject's water
history (2.5) and water restrictions (2.9). Writes go through the REST engine (the same validation and
permission check as ``POST /weighings``...); figures come from ``chalicelib.husbandry``."""

from __future__ import annotations

import datetime
from typing import Any

from chalice import Response

from chalicelib import husbandry, rest, water
from chalicelib.errors import OnecloudError
from chalicelib.models import Lab, WaterRestriction, WaterType
from chalicelib.subjects import find_subject
from chalicelib.web.charts import Chart, Series, line_chart
from chalicelib.web.pages import Web, field_errors, nav, page, quoted, redirect, render
from chalicelib.web.views.common import Row, colony, is_alive, labs_shown

LAST_SUBJECT = "onecloud_last_subject"
DEATH_HINT = "after the subject's death"

nav("Add water", "/water-administrations/add", order=20)
nav("Add weighing", "/weighings/add", order=21)
nav("Restrictions", "/water-restrictions", order=30)


def _now() -> str:
    return datetime.datetime.now().replace(second=0, microsecond=0).isoformat(timespec="minutes")


def _writable_rows(web: Web, today: datetime.date) -> list[Row]:
    """Alive subjects of the labs the user may write, water-restricted first, then by nickname."""
    labs = [lab for lab in labs_shown(web) if web.can_write(lab)]
    rows = [row for lab in labs for row in colony(lab, today) if is_alive(row.subject, today)]
    return sorted(rows, key=lambda r: (not r.req.water_restricted, r.subject.nickname.lower()))


def _subject_form(web: Web, kind: str, fields: tuple[str, ...], build: Any) -> Response:
    """The add form shared by water and weighings: subject choices, last subject remembered, save."""
    today = datetime.date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"date_time": _now(), "user": web.user.username}
    if web.request.method == "POST":
        values = {name: web.value(name) for name in fields}
        payload = build(values)
        try:
            created = rest.create_item(rest.REGISTRY[kind], payload, web.ctx)
        except OnecloudError as error:
            errors = field_errors(error, fields, hints={DEATH_HINT: "date_time"})
        else:
            web.set_cookie(LAST_SUBJECT, quoted(created["subject"]), max_age=30 * 24 * 3600)
            return redirect(web, f"/{kind}/add", saved=created["id"])
    rows = _writable_rows(web, today)
    chosen = values.get("subject") or web.query.get("subject") or _last_subject(web)
    saved = None
    if web.query.get("saved") and not errors:
        try:
            saved = rest.read_item(rest.REGISTRY[kind], web.query["saved"], web.ctx)
        except OnecloudError:
            saved = None
    return render(
        web,
        f"{kind}_add.html",
        status=400 if errors else 200,
        title="Add water" if kind == "water-administrations" else "Add a weighing",
        rows=rows,
        chosen=chosen,
        values=values,
        errors=errors,
        saved=saved,
        water_types=sorted(t.name for t in WaterType.scan()) if kind == "water-administrations" else [],
    )


def _last_subject(web: Web) -> str:
    from urllib.parse import unquote

    return unquote(web.cookie_value(LAST_SUBJECT) or "")


@page("/water-administrations/add", ("GET", "POST"))
def add_water(web: Web) -> Response:
    def build(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "subject": values["subject"],
            "date_time": values["date_time"] or None,
            "water_administered": values["water_administered"] or None,
            "water_type": values["water_type"] or "Water",
            "adlib": web.value("adlib") == "on",
            "user": web.user.username,
        }

    return _subject_form(
        web, "water-administrations", ("subject", "date_time", "water_administered", "water_type"), build
    )


@page("/weighings/add", ("GET", "POST"))
def add_weighing(web: Web) -> Response:
    def build(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "subject": values["subject"],
            "date_time": values["date_time"] or None,
            "weight": values["weight"] or None,
            "user": web.user.username,
        }

    return _subject_form(web, "weighings", ("subject", "date_time", "weight"), build)


def history(subject: Any, records: husbandry.Records, rule: water.LabRule, today: datetime.date) -> list:
    """One ``WaterRequirement`` per calendar day from the first record to today, newest first."""
    days = [w.date_time.date() for w in records.weighings] + [g.date_time.date() for g in records.given]
    days += [r.start_time.date() for r in records.restrictions]
    if not days:
        return []
    first = min(min(days), today)
    span = (today - first).days
    return [
        husbandry.requirement_from(subject, records, rule, today - datetime.timedelta(days=offset))
        for offset in range(span + 1)
    ]


def weight_chart(nickname: str, sex: str, days: list[water.WaterRequirement]) -> str:
    """Weights with the expected weight, the lab's minimum and the 75% alert line of restricted days."""
    weights = Series("weight (g)", [(d.date, d.weight) for d in days if d.weight is not None], "#1b1f24")
    restricted = [d for d in days if d.expected_weight is not None]
    expected = Series("expected", [(d.date, d.expected_weight) for d in restricted], "#0b5cad", True, False)
    minimum = Series("lab minimum", [(d.date, d.minimum_weight) for d in restricted], "#e07000", True, False)
    alert = Series(
        "alert (75%)",
        [
            (d.date, d.implant_weight + water.ALERT_FRACTION * (d.expected_weight - d.implant_weight))
            for d in restricted
        ],
        "#b00020",
        True,
        False,
    )
    return line_chart(
        Chart(f"Weighings for {nickname} ({sex})", "weight (g)", [weights, expected, minimum, alert])
    )


@page("/subjects/{nickname}/water-history")
def water_history(web: Web, nickname: str) -> Response:
    today = datetime.date.today()
    subject = find_subject(nickname, web.query.get("lab") or None)
    records = husbandry.records_of(subject)
    try:
        rule = husbandry.rule_of(Lab.get(subject.lab))
    except Lab.DoesNotExist:
        rule = husbandry.rule_of(None)
    days = history(subject, records, rule, today)
    return render(
        web,
        "water_history.html",
        title=f"Water history of {subject.nickname}",
        subject=subject,
        days=days,
        reward=records.session_water,
        chart=weight_chart(subject.nickname, subject.sex or "U", days),
    )


@page("/water-restrictions", ("GET", "POST"))
def water_restrictions(web: Web) -> Response:
    """Restrictions of the user's labs (active ones by default) with today's figures, and the form that
    starts one, its reference weight filled in with the subject's current weight."""
    today = datetime.date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"start_time": _now(), "subject": web.query.get("subject", "")}
    if web.request.method == "POST":
        values = {
            name: web.value(name) for name in ("subject", "start_time", "reference_weight", "water_type")
        }
        payload = {
            "subject": values["subject"],
            "start_time": values["start_time"] or None,
            "reference_weight": values["reference_weight"] or 0,
            "water_type": values["water_type"] or "Water",
        }
        try:
            created = rest.create_item(rest.REGISTRY["water-restrictions"], payload, web.ctx)
        except OnecloudError as error:
            errors = field_errors(error, tuple(values), hints={DEATH_HINT: "start_time"})
        else:
            web.set_cookie(LAST_SUBJECT, quoted(created["subject"]), max_age=30 * 24 * 3600)
            return redirect(web, "/water-restrictions", started=created["subject"])
    show = web.query.get("active", "yes")
    labs = labs_shown(web)
    rows = {row.subject.id: row for lab in labs for row in colony(lab, today)}
    restrictions = [
        r
        for lab in labs
        for r in WaterRestriction.by_lab.query(lab)
        if show == "all" or not r.end_time or r.end_time[:10] > today.isoformat()
    ]
    restrictions.sort(key=lambda r: r.start_time, reverse=True)
    writable = sorted(
        (r for r in rows.values() if web.can_write(r.subject.lab) and is_alive(r.subject, today)),
        key=lambda r: (r.req.water_restricted, r.subject.nickname.lower()),
    )
    chosen = values.get("subject") or _last_subject(web)
    if not values.get("reference_weight"):
        current = next((r for r in writable if r.subject.nickname == chosen), None)
        values["reference_weight"] = (
            f"{current.req.last_weight:.2f}" if current and current.req.last_weight is not None else ""
        )
    return render(
        web,
        "water_restrictions.html",
        status=400 if errors else 200,
        title="Water restrictions",
        restrictions=restrictions,
        rows=rows,
        writable=writable,
        chosen=chosen,
        values=values,
        errors=errors,
        show=show,
        started=web.query.get("started"),
        ended=web.query.get("ended"),
        water_types=sorted(t.name for t in WaterType.scan()),
    )


@page("/water-restrictions/{key}/end", ("POST",))
def end_restriction(web: Web, key: str) -> Response:
    """End a restriction now (the same PATCH as ``/water-restrictions/<id>``: only its lab may)."""
    ended = rest.update_item(
        rest.REGISTRY["water-restrictions"], key, {"end_time": _now()}, web.ctx, partial=True
    )
    return redirect(web, "/water-restrictions", ended=ended["subject"])
