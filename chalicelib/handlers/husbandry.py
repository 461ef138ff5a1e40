"""``GET /water-requirement/<nickname>``: what a restricted subject needs today; ``GET /notes/<id>/image``."""

from __future__ import annotations

import datetime

from chalice import Blueprint, Response

from chalicelib import notes
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import context, query, route
from chalicelib.husbandry import requirement_of
from chalicelib.permissions import require_read
from chalicelib.subjects import find_subject
from chalicelib.water import ALERT_FRACTION

bp = Blueprint(__name__)


@route(bp, "/water-requirement/{nickname}", methods=["GET"])
def water_requirement(nickname: str) -> dict:
    """Expected weight and water, water given on the day, what remains, and whether the subject is under
    the alert line (75% of its expected weight). Query: ``date`` (default today), ``lab`` when the
    nickname exists in several labs."""
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
    return {"subject": subject.nickname, "lab": subject.lab, **requirement.as_dict(), "alert_weight": alert}


@route(bp, "/notes/{key}/image", methods=["GET"])
def note_image(key: str) -> Response:
    """The note's image: a redirect to a short-lived link, for callers allowed to read the note."""
    require_read(context(bp.current_request).principal)
    return Response(body="", status_code=302, headers={"Location": notes.image_of(key)})
