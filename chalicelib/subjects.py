"""Subjects of a lab's colony: creation (nickname unique within the lab) and lookups by reference.

A nickname is unique only within its lab, so a subject is referenced by its uuid, or by its nickname
(with its lab when another lab uses the same nickname).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from chalicelib import alf
from chalicelib.errors import Ambiguous, BadRequest, NotFound
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


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def find_subject(reference: str, lab: str | None = None) -> Subject:
    """The subject with this uuid or nickname (in ``lab`` when given)."""
    found = subjects_referenced(reference, lab)
    if not found:
        raise NotFound(f"subject {reference!r} does not exist" + (f" in lab {lab!r}" if lab else ""))
    if len(found) > 1:
        labs = ", ".join(sorted(subject.lab for subject in found))
        raise Ambiguous(
            f"subject {reference!r} exists in several labs ({labs}): name the lab (lab=...) "
            "or give the subject's id"
        )
    return found[0]


def subjects_referenced(reference: str, lab: str | None = None) -> list[Subject]:
    """Every subject a reference may mean: the one with this uuid, or those with this nickname."""
    if not reference:
        return []
    key = _as_uuid(reference)
    if key:
        try:
            subject = Subject.get(key)
        except Subject.DoesNotExist:
            return []
        return [subject] if not lab or subject.lab == lab else []
    condition = Subject.lab == lab if lab else None
    return list(Subject.by_nickname.query(reference, condition))


def nickname_of(reference: str) -> str:
    """The nickname a reference names (records keyed by nickname are then found by their index)."""
    found = subjects_referenced(reference) if _as_uuid(reference) else []
    return found[0].nickname if found else reference


def shared_nicknames(nicknames: Iterable[str]) -> set[str]:
    """The nicknames among these that more than one lab uses (their subjects need the uuid to be named)."""
    return {name for name in set(nicknames) if len(list(Subject.by_nickname.query(name, limit=2))) > 1}
