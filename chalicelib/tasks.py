"""Pipeline tasks: the keyed lookups workers poll with."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.models import Task


def tasks_of_lab(lab: str, status: str | None = None) -> Iterator[Task]:
    return Task.by_lab_status.query(lab, Task.status == status if status else None)


def tasks_of_session(session_id: str) -> Iterator[Task]:
    return Task.by_session.query(session_id)
