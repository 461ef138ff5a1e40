"""Sessions: creation (subject+date+number unique) and the keyed lookups clients search by."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from chalicelib import alf
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import Session, Subject
from chalicelib.models.unique import save_unique

LAST_OF_DAY = "#999"


def new_session(subject: Subject, start_time: str, number: int | None = None, **fields: Any) -> Session:
    """An unsaved session of ``subject``; ``start_time``'s date and ``number`` place it in the ALF tree."""
    session = Session(
        subject=subject.nickname,
        subject_key=subject.nickname.lower(),
        subject_id=subject.id,
        lab=subject.lab,
        number=1 if number is None else number,
        start_time=start_time,
        date_number="",
        **fields,
    )
    place_session(session)
    return session


def place_session(session: Session) -> None:
    """Derive the indexed date#number key from start time and number (checked as an ALF session path)."""
    path = alf.build_session_path(
        session.subject, session.start_time[:10], int(session.number), lab=session.lab
    )
    session.number = path.number
    session.date_number = Session.key_for(path.date.isoformat(), path.number)


def create_session(subject: Subject, start_time: str, number: int = 1, **fields: Any) -> Session:
    session = new_session(subject, start_time, number, **fields)
    save_unique(session, add=session.unique_keys, create=True)
    return session


def get_session(eid: str) -> Session:
    try:
        return Session.get(eid)
    except Session.DoesNotExist:
        raise NotFound(f"session {eid} does not exist") from None


def find_session(path: alf.SessionPath) -> Session:
    """The session at an ALF session path (``lab/Subjects/subject/date/number``)."""
    key = Session.key_for(path.date.isoformat(), path.number)
    condition = Session.lab == path.lab if path.lab else None
    for session in Session.by_subject.query(path.subject.lower(), Session.date_number == key, condition):
        if session.subject == path.subject:
            return session
    raise NotFound(f"session {path} does not exist")


def _date_range(date_from: str | None, date_to: str | None) -> Any:
    low, high = date_from or "0000-00-00", (date_to or "9999-99-99") + LAST_OF_DAY
    return Session.date_number.between(low, high)


def sessions_of_subject(
    nickname: str, date_from: str | None = None, date_to: str | None = None
) -> Iterator[Session]:
    """Sessions of a subject (nickname matched case-insensitively, as Alyx does), oldest first."""
    return Session.by_subject.query(nickname.lower(), _date_range(date_from, date_to))


def sessions_of_lab(lab: str, date_from: str | None = None, date_to: str | None = None) -> Iterator[Session]:
    return Session.by_lab.query(lab, _date_range(date_from, date_to))


def date_range(text: str) -> tuple[str, str]:
    """``YYYY-MM-DD,YYYY-MM-DD`` (inclusive) or a single date."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        days = [datetime.date.fromisoformat(part[:10]) for part in parts]
    except ValueError:
        raise BadRequest(f"date_range: {text!r} is not YYYY-MM-DD,YYYY-MM-DD") from None
    if len(days) not in (1, 2):
        raise BadRequest(f"date_range: {text!r} is not YYYY-MM-DD,YYYY-MM-DD")
    first, last = days[0], days[-1]
    if last < first:
        raise BadRequest(f"date_range: {last} is before {first}")
    return first.isoformat(), last.isoformat()
