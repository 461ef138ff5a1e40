"""The training week (colony-web.md 2.11): who trained on which day of a week, one row per mouse under an
open water restriction; fewer than 5 training days is highlighted."""

from __future__ import annotations

import datetime

from chalice import Response

from chalicelib.errors import BadRequest
from chalicelib.models import Subject, WaterRestriction
from chalicelib.sessions import sessions_of_lab
from chalicelib.web.pages import Web, nav, page, redirect, render
from chalicelib.web.views.common import is_alive, labs_shown

nav("Training week", "/training-week", order=50)
MIN_DAYS = 5


@page("/training-week")
def this_week(web: Web) -> Response:
    return redirect(web, f"/training-week/{datetime.date.today().isoformat()}")


@page("/training-week/{day}")
def training_week(web: Web, day: str) -> Response:
    """Three queries per lab (restrictions, subjects, the week's sessions), whatever the colony size."""
    try:
        asked = datetime.date.fromisoformat(day)
    except ValueError:
        raise BadRequest(f"date: {day!r} is not YYYY-MM-DD") from None
    monday = asked - datetime.timedelta(days=asked.weekday())
    week = [monday + datetime.timedelta(days=i) for i in range(7)]
    rows = []
    for lab in labs_shown(web):
        open_ids = {
            r.subject_id
            for r in WaterRestriction.by_lab.query(
                lab, WaterRestriction.start_time < (week[-1] + datetime.timedelta(days=1)).isoformat()
            )
            if not r.end_time
        }
        if not open_ids:
            continue
        subjects = {s.id: s for s in Subject.by_lab.query(lab) if s.id in open_ids and is_alive(s, monday)}
        trained: dict[str, set[datetime.date]] = {}
        for session in sessions_of_lab(lab, week[0].isoformat(), week[-1].isoformat()):
            trained.setdefault(session.subject_id or "", set()).add(datetime.date.fromisoformat(session.date))
        for subject in subjects.values():
            days = trained.get(subject.id, set())
            rows.append({"subject": subject, "days": [d in days for d in week], "count": len(days)})
    rows.sort(key=lambda row: (row["subject"].responsible_user or "", row["subject"].nickname.lower()))
    return render(
        web,
        "training_week.html",
        title=f"Training week of {monday.isoformat()}",
        week=week,
        rows=rows,
        minimum=MIN_DAYS,
        previous=(monday - datetime.timedelta(days=7)).isoformat(),
        following=(monday + datetime.timedelta(days=7)).isoformat(),
        today=datetime.date.today().isoformat(),
    )
