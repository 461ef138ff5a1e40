"""``GET /water-requirement/<nickname>``: what a restricted subject needs today; ``GET /notes/<id>/image``
and Alyx's media path of the same images, ``GET /uploaded/YYYY/MM/DD/<file>``."""

from __future__ import annotations

import datetime

from chalice import Blueprint, Response

from chalicelib import notes
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import answer, context, query, route
from chalicelib.husbandry import (
    daily_records,
    first_record_date,
    requirement_of,
    restricted_subjects,
    water_control_of,
)
from chalicelib.permissions import require_read
from chalicelib.subjects import find_subject
from chalicelib.water import ALERT_FRACTION

bp = Blueprint(__name__)


@route(bp, "/water-requirement/{nickname}", methods=["GET"])
def water_requirement(nickname: str) -> dict:
    """Expected weight and water, water given on the day, what remains, and whether the subject is under
    the alert line (75% of its expected weight), and Alyx's per-day ``records`` from ``start_date`` (default:
    the first weighing or water given) to ``end_date`` (default today). Query: ``date`` (default today),
    ``lab`` when the nickname exists in several labs."""
    request = bp.current_request
    require_read(context(request).principal)
    params = query(request)
    try:
        day = datetime.date.fromisoformat(params["date"]) if "date" in params else datetime.date.today()
    except ValueError:
        raise BadRequest(f"date: {params['date']!r} is not YYYY-MM-DD") from None
    subject = find_subject(nickname, params.get("lab"))
    requirement = requirement_of(subject, day)
    expected, implant = requirement.expected_weight, requirement.implant_weight
    alert = None if expected is None else round(implant + ALERT_FRACTION * (expected - implant), 2)
    first = _day(params, "start_date") or first_record_date(subject) or day
    last = _day(params, "end_date") or datetime.date.today()
    if (last - first).days > MAX_RECORD_DAYS:
        raise BadRequest(f"start_date, end_date: at most {MAX_RECORD_DAYS} days of records at once")
    return {
        "subject": subject.nickname,
        "lab": subject.lab,
        **requirement.as_dict(),
        "alert_weight": alert,
        "records": daily_records(subject, first, last) if first <= last else [],
    }


@route(bp, "/notes/{key}/image", methods=["GET"])
def note_image(key: str) -> Response:
    """The note's image: a redirect to a short-lived link, for callers allowed to read the note."""
    require_read(context(bp.current_request).principal)
    return Response(body="", status_code=302, headers={"Location": notes.image_of(key)})


@route(
    bp,
    "/uploaded/{year}/{month}/{day}/{name}",
    methods=["GET"],
    openapi={"responses": {"302": answer("to a short-lived link to the image")}},
)
def uploaded(year: str, month: str, day: str, name: str) -> Response:
    """Alyx's ``uploaded`` view: a note image by its path under the media folder (Alyx files them by
    upload date too), a redirect to a short-lived link for callers who may read notes."""
    require_read(context(bp.current_request).principal)
    location = notes.uploaded_image(f"{year}/{month}/{day}/{name}")
    return Response(body="", status_code=302, headers={"Location": location})


MAX_RECORD_DAYS = 3660


def _day(params: dict[str, str], name: str) -> datetime.date | None:
    if name not in params:
        return None
    try:
        return datetime.date.fromisoformat(params[name])
    except ValueError:
        raise BadRequest(f"{name}: {params[name]!r} is not YYYY-MM-DD") from None


@route(bp, "/water-restricted-subjects", methods=["GET"])
def water_restricted_subjects() -> dict:
    """The subjects under water restriction now, with their water control (Alyx's list of them)."""
    ctx = context(bp.current_request)
    require_read(ctx.principal)
    subjects = restricted_subjects()
    return {
        "count": len(subjects),
        "next": None,
        "previous": None,
        "results": [
            {"nickname": s.nickname, "url": ctx.url("subjects", s.nickname), **water_control_of(s)}
            for s in subjects
        ],
    }
