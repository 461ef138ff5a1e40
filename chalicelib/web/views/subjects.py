"""The subjects list (colony-web.md 2.1) and a subject's page (2.2)."""

from __future__ import annotations

import datetime
from collections import Counter

from chalice import Response

from chalicelib import husbandry, water
from chalicelib.models import Lab, Session, Subject, Surgery, WaterAdministration, WaterRestriction, Weighing
from chalicelib.sessions import sessions_of_subject
from chalicelib.subjects import find_subject
from chalicelib.web.pages import Web, nav, page, render
from chalicelib.web.views.colony import subject_colony
from chalicelib.web.views.common import Row, colony, is_alive, labs_shown
from chalicelib.web.views.husbandry import history, weight_chart
from chalicelib.web.views.notes import notes_of

nav("Subjects", "/subjects", order=10)
PER_PAGE = 100


def _search(row: Row, q: str) -> bool:
    s = row.subject
    texts = [s.nickname, s.responsible_user or "", s.lab, s.line or "", s.description or "", *s.projects]
    return any(q in text.lower() for text in texts)


def _to_do(subject: Subject, todo: str, today: datetime.date) -> bool:
    """Alyx's "to do" filter: to be genotyped, to be culled, or dead and not yet reduced."""
    if todo == "genotype":
        return bool(subject.to_be_genotyped)
    if todo == "cull":
        return bool(subject.to_be_culled)
    if todo == "reduce":
        return not is_alive(subject, today) and not subject.reduced_date
    return True


@page("/subjects")
def subjects(web: Web) -> Response:
    """Filters as Alyx's: responsible user me (falling back to all when I have none) or all, alive
    yes/no/all, to do (genotype / cull / reduce), line, lab, water restricted, and a search over
    nickname, user, lab, line, projects."""
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
    todo = query.get("todo", "")
    kept = [
        r
        for r in rows
        if (mine == "all" or r.subject.responsible_user == web.user.username)
        and (alive == "all" or is_alive(r.subject, today) == (alive == "yes"))
        and (not line or (r.subject.line or "") == line)
        and (not restricted or r.req.water_restricted == (restricted == "yes"))
        and (not todo or _to_do(r.subject, todo, today))
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
            "todo": todo,
        },
        labs=labs,
        lines=sorted({r.subject.line for r in rows if r.subject.line}),
        page_number=number,
        pages=pages,
    )


def _newest(items: list, field: str) -> list:
    return sorted(items, key=lambda item: getattr(item, field), reverse=True)


@page("/subjects/{nickname}")
def subject_page(web: Web, nickname: str) -> Response:
    """Everything about one mouse: profile, today's water figures, weight chart, weighings, water,
    restrictions, surgeries, sessions and notes (colony-web.md 2.2)."""
    today = datetime.date.today()
    subject = find_subject(nickname, web.query.get("lab") or None)
    found: dict[type, list] = {
        model: list(model.by_subject.query(subject.id))
        for model in (Weighing, WaterAdministration, WaterRestriction, Surgery)
    }
    records = husbandry.Records()
    for items in found.values():
        for item in items:
            records.add(item)
    try:
        rule = husbandry.rule_of(Lab.get(subject.lab))
    except Lab.DoesNotExist:
        rule = husbandry.rule_of(None)
    req = husbandry.requirement_from(subject, records, rule, today)
    pct = husbandry.weight_percentage(subject, records, rule, req)
    days = [d for d in history(subject, records, rule, today) if (today - d.date).days <= 90]
    return render(
        web,
        "subject.html",
        title=subject.nickname,
        subject=subject,
        today=today,
        req=req,
        pct=pct,
        band=water.weight_band(req, rule, pct),
        chart=weight_chart(subject.nickname, subject.sex or "U", days),
        weighings=_newest(found[Weighing], "date_time"),
        given=_newest(found[WaterAdministration], "date_time"),
        restrictions=_newest(found[WaterRestriction], "start_time"),
        surgeries=_newest(found[Surgery], "start_time"),
        sessions=[s for s in reversed(list(sessions_of_subject(subject.nickname))) if s.lab == subject.lab],
        notes=notes_of(subject.id),
        age=(today - datetime.date.fromisoformat(subject.birth_date)).days if subject.birth_date else None,
        can_write=web.can_write(subject.lab),
        colony=subject_colony(subject),
    )
