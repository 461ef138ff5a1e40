"""Surgeries (colony-web.md 2.13): the labs' surgeries newest first, and adding one (its implant weight
feeds the water figures)."""

from __future__ import annotations

import datetime
from typing import Any

from chalice import Response

from chalicelib import rest
from chalicelib.errors import OnecloudError
from chalicelib.models import ProcedureType, Surgery
from chalicelib.web.pages import Web, field_errors, nav, page, redirect, render
from chalicelib.web.views.common import colony, is_alive, labs_shown

nav("Surgeries", "/surgeries", order=60)
OUTCOMES = ("Acute", "Recovery", "Non-recovery")
FIELDS = ("subject", "start_time", "procedures", "implant_weight", "outcome_type", "narrative")


@page("/surgeries", ("GET", "POST"))
def surgeries(web: Web) -> Response:
    today = datetime.date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "subject": web.query.get("subject", ""),
        "start_time": datetime.datetime.now().replace(second=0, microsecond=0).isoformat(timespec="minutes"),
        "procedures": [],
    }
    if web.request.method == "POST":
        values = {name: web.value(name) for name in FIELDS}
        values["procedures"] = web.values("procedures")
        payload = {
            "subject": values["subject"],
            "start_time": values["start_time"] or None,
            "procedures": values["procedures"],
            "implant_weight": values["implant_weight"] or None,
            "outcome_type": values["outcome_type"] or None,
            "narrative": values["narrative"],
            "users": [web.user.username],
        }
        try:
            created = rest.create_item(rest.REGISTRY["surgeries"], payload, web.ctx)
        except OnecloudError as error:
            errors = field_errors(error, FIELDS, hints={"after the subject's death": "start_time"})
        else:
            return redirect(web, "/surgeries", added=created["subject"])
    labs = labs_shown(web)
    subject = web.query.get("subject", "")
    listed = [s for lab in labs for s in Surgery.by_lab.query(lab) if not subject or s.subject == subject]
    listed.sort(key=lambda s: s.start_time, reverse=True)
    writable = sorted(
        (
            row.subject.nickname
            for lab in labs
            if web.can_write(lab)
            for row in colony(lab, today)
            if is_alive(row.subject, today)
        ),
        key=str.lower,
    )
    return render(
        web,
        "surgeries.html",
        status=400 if errors else 200,
        title="Surgeries",
        surgeries=listed[:500],
        subjects=writable,
        procedures=sorted(p.name for p in ProcedureType.scan()),
        outcomes=OUTCOMES,
        values=values,
        errors=errors,
        added=web.query.get("added"),
        subject=subject,
    )
