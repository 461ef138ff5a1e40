"""The subjects list (colony-web.md 2.1) and a subject's page (2.2)."""

from __future__ import annotations

import datetime
from collections import Counter

from chalice import Response

from chalicelib.models import Session
from chalicelib.web.pages import Web, nav, page, render
from chalicelib.web.views.common import Row, colony, is_alive, labs_shown

nav("Subjects", "/subjects", order=10)
PER_PAGE = 100


def _search(row: Row, q: str) -> bool:
    s = row.subject
    texts = [s.nickname, s.responsible_user or "", s.lab, s.line or "", s.description or "", *s.projects]
    return any(q in text.lower() for text in texts)


@page("/subjects")
def subjects(web: Web) -> Response:
    """Filters as Alyx's: responsible user me (falling back to all when I have none) or all, alive
    yes/no/all, line, lab, water restricted, and a search over nickname, user, lab, line, projects."""
    query, today = web.query, datetime.date.today()
    labs = labs_shown(web)
    lab = query.get("lab") or ""
    rows: list[Row] = []
    sessions: Counter = Counter()
    for name in [lab] if lab else labs:
        rows += colony(name, today)
        sessions.update(s.subject_id for s in Session.by_lab.query(name, attributes_to_get=["subject_id"]))
    mine = query.get("responsible_user", "me")
    if mine == "me" and not any(r.subject.responsible_user == web.user.username for r in rows):
        mine = "all"  # as Alyx: a user with no mice of their own sees everyone's
    alive = query.get("alive", "yes")
    line, q = query.get("line", ""), query.get("q", "").strip().lower()
    restricted = query.get("restricted", "")
    kept = [
        r
        for r in rows
        if (mine == "all" or r.subject.responsible_user == web.user.username)
        and (alive == "all" or is_alive(r.subject, today) == (alive == "yes"))
        and (not line or (r.subject.line or "") == line)
        and (not restricted or r.req.water_restricted == (restricted == "yes"))
        and (not q or _search(r, q))
    ]
    kept.sort(key=lambda r: (r.subject.birth_date or "", r.subject.nickname), reverse=True)
    try:
        number = max(int(query.get("page", "1")), 1)
    except ValueError:
        number = 1
    pages = max((len(kept) + PER_PAGE - 1) // PER_PAGE, 1)
    shown = kept[(number - 1) * PER_PAGE : number * PER_PAGE]
    return render(
        web,
        "subjects.html",
        title="Subjects",
        rows=shown,
        count=len(kept),
        sessions=sessions,
        today=today,
        filters={
            "responsible_user": mine,
            "alive": alive,
            "line": line,
            "q": query.get("q", ""),
            "lab": lab,
            "restricted": restricted,
        },
        labs=labs,
        lines=sorted({r.subject.line for r in rows if r.subject.line}),
        page_number=number,
        pages=pages,
    )
