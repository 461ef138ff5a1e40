"""What changes to a subject set off, as in Alyx's ``Subject.save``.

- the old value of ``nickname``, ``responsible_user``, ``cage`` and ``litter`` goes to
  ``json.history[field]`` as ``{"date_time", "value"}`` (Alyx's format, so imported histories continue);
- a genotype date, once set, clears "to be genotyped";
- a death date, once set, ends every open water restriction on that date.
"""

from __future__ import annotations

import datetime
from typing import Any

from chalicelib.models import Subject, WaterRestriction

TRACKED = ("nickname", "responsible_user", "cage", "litter")


def record_changes(subject: Subject, before: dict[str, Any]) -> None:
    """Apply the rules above to ``subject`` (already changed) given its values ``before`` the change."""
    moment = datetime.datetime.now(datetime.UTC).isoformat()
    for name in TRACKED:
        old, new = before.get(name), getattr(subject, name)
        if new is None or old == new:
            continue
        document = dict(subject.json or {}) if isinstance(subject.json, dict) else {}
        trail = dict(document.get("history") or {})
        trail[name] = [*trail.get(name, []), {"date_time": moment, "value": str(old)}]
        document["history"] = trail
        subject.json = document
    if subject.genotype_date and not before.get("genotype_date"):
        subject.to_be_genotyped = False


def end_restrictions(subject: Subject, on: str, user: str | None) -> int:
    """End the subject's open water restrictions on ``on`` (its death date); returns how many."""
    from chalicelib import history

    ended = 0
    for restriction in WaterRestriction.by_subject.query(subject.id):
        if restriction.end_time is None and restriction.start_time[:10] <= on:
            before = history.snapshot(restriction)
            restriction.end_time = f"{on}T00:00:00"
            ended += history.save_audited("water-restrictions", restriction, before, user)
    return ended
