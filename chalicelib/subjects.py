"""Subjects of a lab's colony: creation (nickname unique within the lab) and lookups by key."""

from __future__ import annotations

from typing import Any

from chalicelib import alf
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import Lab, Subject
from chalicelib.models.unique import save_unique


def create_subject(nickname: str, lab: str, **fields: Any) -> Subject:
    if not alf.is_valid_nickname(nickname or ""):
        raise BadRequest(f"nickname {nickname!r} is invalid: use letters, digits, '.', '-' and '_'")
    if Lab.count(lab) == 0:
        raise NotFound(f"lab {lab!r} does not exist")
    subject = Subject(nickname=nickname, lab=lab, **fields)
    save_unique(subject, add=subject.unique_keys, create=True)
    return subject


def find_subject(nickname: str, lab: str | None = None) -> Subject:
    """The subject with this nickname (in ``lab`` when given); nicknames are unique only within a lab."""
    condition = Subject.lab == lab if lab else None
    found = list(Subject.by_nickname.query(nickname, condition, limit=2))
    if not found:
        raise NotFound(f"subject {nickname!r} does not exist" + (f" in lab {lab!r}" if lab else ""))
    if len(found) > 1:
        raise BadRequest(f"subject {nickname!r} exists in several labs: name the lab")
    return found[0]


def subjects_named(nickname: str) -> list[Subject]:
    return list(Subject.by_nickname.query(nickname))
