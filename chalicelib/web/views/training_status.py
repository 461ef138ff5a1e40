"""Training pages (analyses.md §6): the lab's training overview, a mouse's training page, and the
behaviour section of a session's page. They read what the TrainingStatus job stored
(chalicelib/behaviour/results.py) and the colony's husbandry records; nothing is fitted at page time."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.behaviour import figures, results, statuses
from chalicelib.models import WaterAdministration, WaterRestriction, Weighing
from chalicelib.subjects import find_subject
from chalicelib.web.pages import Web, nav, page, render
from chalicelib.web.views.common import labs_shown

nav("Training status", "/training", order=45)


@page("/training")
def training_overview(web: Web) -> Response:
    """Every mouse with training results in the user's labs (or the chosen one): its current status,
    sessions and days so far, and the timeline of statuses by session date."""
    labs = labs_shown(web)
    lab = web.query.get("lab") or ""
    documents = [doc for name in ([lab] if lab else labs) for doc in results.lab_training(name)]
    return render(
        web,
        "training_status.html",
        title="Training",
        mice=figures.lab_overview(documents),
        timeline=figures.status_timeline(documents),
        labs=labs,
        lab=lab,
    )


def _husbandry(subject_id: str) -> figures.Husbandry:
    return figures.Husbandry(
        water=[
            (w.date_time[:10], w.water_type or "Water", float(w.water_administered or 0))
            for w in WaterAdministration.by_subject.query(subject_id)
        ],
        weights=[(w.date_time[:10], float(w.weight)) for w in Weighing.by_subject.query(subject_id)],
        restrictions=[
            (r.start_time[:10], r.end_time[:10] if r.end_time else None, float(r.reference_weight or 0))
            for r in WaterRestriction.by_subject.query(subject_id)
        ],
    )


@page("/training/{nickname}")
def mouse_training(web: Web, nickname: str) -> Response:
    subject = find_subject(nickname, web.query.get("lab") or None)
    document = results.subject_training(subject.lab, subject.nickname)
    rows = (document or {}).get("rows") or []
    return render(
        web,
        "training_status_mouse.html",
        title=f"{subject.nickname} training",
        subject=subject,
        document=document,
        rows=list(reversed(rows)),
        colour=statuses.colour,
        figures=figures.mouse_figures(document, _husbandry(subject.id)) if document else None,
        breakdown=figures.criteria_breakdown(document) if document else None,
        criteria=(subject.json or {}).get("trained_criteria") or {},
    )


def session_behaviour(session_id: str) -> dict[str, Any] | None:
    """What a session's page shows of its behaviour (None until its TrainingStatus task has run)."""
    document = results.session_analyses(session_id)
    return {"document": document, "figures": figures.session_figures(document)} if document else None
