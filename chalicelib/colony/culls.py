"""What a cull does: the subject is dead from the cull's date, no longer to be culled, and its open water
restrictions end that day (Alyx: ``Subject.save`` on a new death date)."""

from __future__ import annotations

from chalicelib import history
from chalicelib.colony.subjects import end_restrictions
from chalicelib.models import Cull, Subject


def take_effect(cull: Cull, user: str | None) -> None:
    """Idempotent; a subject that already has a death date keeps it (Alyx keeps the two in step from the
    subject's side)."""
    subject = Subject.get(cull.subject_id)
    died = subject.death_date or cull.date
    before = history.snapshot(subject)
    subject.death_date, subject.to_be_culled = died, False
    history.save_audited("subjects", subject, before, user)
    end_restrictions(subject, died, user)
