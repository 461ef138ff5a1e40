"""Sessions list and a session's page (colony-web.md 2.7): narrative, notes with images, datasets with
whether their files are in the central store, tasks, water given in the session."""

from __future__ import annotations

import datetime

from chalice import Response

from chalicelib import aws, rest
from chalicelib.errors import OnecloudError, PermissionDenied
from chalicelib.models import Dataset, FileRecord, WaterAdministration
from chalicelib.sessions import get_session, sessions_of_lab
from chalicelib.tasks import tasks_of_session
from chalicelib.web.pages import Web, nav, page, redirect, render
from chalicelib.web.views.common import labs_shown
from chalicelib.web.views.notes import notes_of
from chalicelib.web.views.training_status import session_behaviour

nav("Sessions", "/sessions", order=40)
AUTO_NARRATIVE = "auto-generated session"


def _has_narrative(session) -> bool:  # noqa: ANN001 - a Session
    return bool(session.narrative.strip()) and session.narrative.strip() != AUTO_NARRATIVE


@page("/sessions")
def sessions(web: Web) -> Response:
    """Newest first; filters lab, date range (default the last 30 days), user, project, subject, has
    narrative. One query per lab shown."""
    query, today = web.query, datetime.date.today()
    labs = labs_shown(web)
    lab = query.get("lab", "")
    date_from = query.get("date_from") or (today - datetime.timedelta(days=30)).isoformat()
    date_to = query.get("date_to") or today.isoformat()
    found = [s for name in ([lab] if lab else labs) for s in sessions_of_lab(name, date_from, date_to)]
    user, project = query.get("user", ""), query.get("project", "")
    subject, narrative = query.get("subject", "").strip().lower(), query.get("narrative", "")
    kept = [
        s
        for s in found
        if (not user or user in s.users)
        and (not project or project in s.projects)
        and (not subject or subject in s.subject.lower())
        and (not narrative or _has_narrative(s) == (narrative == "yes"))
    ]
    kept.sort(key=lambda s: (s.start_time, s.id), reverse=True)
    return render(
        web,
        "sessions.html",
        title="Sessions",
        sessions=kept[:500],
        count=len(kept),
        labs=labs,
        filters={
            "lab": lab,
            "date_from": date_from,
            "date_to": date_to,
            "user": user,
            "project": project,
            "subject": query.get("subject", ""),
            "narrative": narrative,
        },
    )


def _datasets(session_id: str) -> list[dict]:
    """The session's datasets with whether a file record in the central store says the file is there:
    two queries, whatever the number of datasets."""
    store = aws.settings().s3_repository
    in_store = {
        r.dataset for r in FileRecord.by_session.query(session_id) if r.data_repository == store and r.exists
    }
    rows = [{"dataset": d, "in_store": d.id in in_store} for d in Dataset.by_session.query(session_id)]
    return sorted(rows, key=lambda row: row["dataset"].relative_path)


@page("/sessions/{key}", ("GET", "POST"))
def session_page(web: Web, key: str) -> Response:
    session = get_session(key)
    error = None
    if web.request.method == "POST":
        try:
            rest.update_item(
                rest.REGISTRY["sessions"],
                session.id,
                {"narrative": web.value("narrative")},
                web.ctx,
                partial=True,
            )
        except PermissionDenied:
            raise  # the error page says why (403)
        except OnecloudError as refused:
            error = refused.detail
        else:
            return redirect(web, f"/sessions/{session.id}", saved="narrative")
    tasks = sorted(tasks_of_session(session.id), key=lambda t: (t.level, t.name))
    water = [
        w for w in WaterAdministration.by_subject.query(session.subject_id or "") if w.session == session.id
    ]
    return render(
        web,
        "session.html",
        status=400 if error else 200,
        title=f"{session.subject} {session.date} #{session.number}",
        session=session,
        narrative=web.value("narrative") if error else session.narrative,
        error=error,
        saved=web.query.get("saved"),
        datasets=_datasets(session.id),
        tasks=tasks,
        water=water,
        notes=notes_of(session.id),
        can_write=web.can_write(session.lab),
        behaviour=session_behaviour(session.id),
    )
