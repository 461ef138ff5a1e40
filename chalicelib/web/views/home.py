"""The home page: the lab's day at a glance (restricted mice, who still needs weighing or water, failed
tasks)."""

from __future__ import annotations

import datetime

from chalice import Response

from chalicelib.models import Notification
from chalicelib.tasks import tasks_of_lab
from chalicelib.web.pages import Web, nav, page, render
from chalicelib.web.views.common import colony, is_alive, labs_shown

nav("Home", "/", order=0)
NOTIFICATIONS = 20  # the newest of the user's own notifications the home page lists


@page("/")
def home(web: Web) -> Response:
    today = datetime.date.today()
    labs = []
    for lab in labs_shown(web):
        rows = [row for row in colony(lab, today) if is_alive(row.subject, today)]
        restricted = sorted((r for r in rows if r.req.water_restricted), key=lambda r: r.subject.nickname)
        labs.append(
            {
                "name": lab,
                "restricted": restricted,
                "not_weighed": [r for r in restricted if r.req.weight is None],
                "needs_water": [
                    r for r in restricted if r.req.remaining_water is not None and r.req.remaining_water > 0
                ],
                "failed": sorted(tasks_of_lab(lab, "Errored"), key=lambda t: t.datetime, reverse=True),
                "alive": len(rows),
            }
        )
    notifications = Notification.by_user.query(
        web.user.username, scan_index_forward=False, limit=NOTIFICATIONS
    )
    return render(web, "home.html", title="Today", today=today, labs=labs, notifications=list(notifications))
