"""Writing translated Alyx records: created when new, unchanged when equal, updated when they differ, and
skipped (with the reason) when they would clash with a different record already here.

Every write is audited like a REST write (action ``import``). Culls then do what a cull does (death date,
restrictions ended) where that is not so already, so a second import finds nothing to change.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pynamodb.models import Model

from chalicelib import history, notes
from chalicelib.colony import culls
from chalicelib.errors import BadRequest, Conflict
from chalicelib.forms import Upload
from chalicelib.models import (
    Allele,
    BreedingPair,
    CageType,
    Cull,
    CullMethod,
    CullReason,
    DataFormat,
    DataRepository,
    Dataset,
    DatasetType,
    Enrichment,
    FileRecord,
    Food,
    GenotypeTest,
    HistoryEntry,
    Lab,
    Line,
    Litter,
    Note,
    ProcedureType,
    Project,
    Revision,
    Sequence,
    Session,
    Source,
    Species,
    Strain,
    Subject,
    SubjectRequest,
    Surgery,
    User,
    WaterAdministration,
    WaterRestriction,
    WaterType,
    Weighing,
    Zygosity,
    ZygosityRule,
)
from chalicelib.models.unique import StaleWrite, UniqueKey, owner_of, save_unique

MODELS: dict[str, type[Model]] = {
    "labs": Lab,
    "users": User,
    "projects": Project,
    "species": Species,
    "strains": Strain,
    "sources": Source,
    "sequences": Sequence,
    "alleles": Allele,
    "procedures": ProcedureType,
    "water-type": WaterType,
    "cull-reasons": CullReason,
    "cull-methods": CullMethod,
    "cage-types": CageType,
    "foods": Food,
    "enrichments": Enrichment,
    "data-formats": DataFormat,
    "dataset-types": DatasetType,
    "data-repository": DataRepository,
    "revisions": Revision,
    "lines": Line,
    "breeding-pairs": BreedingPair,
    "litters": Litter,
    "subject-requests": SubjectRequest,
    "subjects": Subject,
    "zygosity-rules": ZygosityRule,
    "zygosities": Zygosity,
    "genotype-tests": GenotypeTest,
    "weighings": Weighing,
    "water-administrations": WaterAdministration,
    "water-restrictions": WaterRestriction,
    "surgeries": Surgery,
    "sessions": Session,
    "datasets": Dataset,
    "files": FileRecord,
    "culls": Cull,
    "notes": Note,
}
# Identity is the key; for records keyed by name, a different Alyx uuid is no difference worth a write.
IGNORED = {"id"}
# Vocabulary onecloud already knows keeps its definition (its own patterns, e.g. for plain .bin raw data):
# an import only fills what is empty there.
KEPT = {"dataset-types", "data-formats", "revisions"}
# Records named alike but not the source's (another uuid) are not taken over.
OWN = {"users": "user", "data-repository": "repository"}
# Fields an import never clears: a note's image added here is kept when the source's could not be fetched.
NOT_CLEARED = {"notes": {"image"}}
MAX_RECORDS = 200


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {**{k: self.counts[k] for k in ("created", "updated", "unchanged")}, "skipped": self.skipped}


def _key_of(model: type[Model], values: dict[str, Any]) -> str:
    return values[model._hash_key_attribute().attr_name]


def upsert(kind: str, records: list[dict[str, Any]], user: str | None) -> Outcome:
    model = MODELS.get(kind)
    if model is None:
        raise BadRequest(f"kind: {kind!r} is not one of {', '.join(MODELS)}")
    if not isinstance(records, list) or len(records) > MAX_RECORDS:
        raise BadRequest(f"records: a list of at most {MAX_RECORDS} records")
    outcome = Outcome()
    if kind == "notes":
        records = _note_images(records)
    try:
        items = [model(**values) for values in records]
    except (AttributeError, TypeError, ValueError) as error:
        raise BadRequest(f"records: not {kind} records: {error}") from None
    keys = list(dict.fromkeys(_key_of(model, values) for values in records))
    existing = {_key_of(model, dict(i.attribute_values)): i for i in model.batch_get(keys)} if keys else {}
    fresh = [(v, i) for v, i in zip(records, items, strict=True) if _key_of(model, v) not in existing]
    outcome.counts["created"] += _create_all(kind, fresh, user, outcome)
    for values, item in zip(records, items, strict=True):
        old = existing.get(_key_of(model, values))
        if old is None:
            continue
        try:
            outcome.counts[_write(kind, model, item, values, old, user)] += 1
        except Conflict as error:
            outcome.skipped.append({"id": values.get("id") or _key_of(model, values), "reason": error.detail})
    if kind == "culls":
        for item in items:
            culls.take_effect(item, user)
    return outcome


def _note_images(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Images sent with imported notes (``image_data``, base64) stored in the bucket, except for a note
    that has its image here already (so a second import stores nothing)."""
    sent = [values for values in records if isinstance(values, dict) and values.get("image_data")]
    held = {note.id: note.image for note in Note.batch_get([v["id"] for v in sent])} if sent else {}
    out = []
    for values in records:
        values = dict(values)
        data = values.pop("image_data", None)
        if data and not held.get(values.get("id")):
            try:
                image = base64.b64decode(data, validate=True)
            except (binascii.Error, TypeError):
                raise BadRequest(f"image_data: note {values.get('id')}: not base64") from None
            values["image"] = notes.store_image(Upload("image", "", image))
        out.append(values)
    return out


def _create_all(
    kind: str, fresh: list[tuple[dict[str, Any], Model]], user: str | None, outcome: Outcome
) -> int:
    """New records in batches (a whole dump in minutes): their uniqueness guards are read first, and a
    record whose identity another one holds is skipped; a record with an audit trail from an earlier
    life goes through the transactional path instead."""
    if not fresh:
        return 0
    wanted = sorted({key for _, item in fresh for key in getattr(item, "unique_keys", [])})
    holders = {guard.key: guard.owner for guard in UniqueKey.batch_get(wanted)} if wanted else {}
    records = {history.record_key(kind, item): item for _, item in fresh}
    lived = {entry.record for entry in HistoryEntry.batch_get([(record, 1) for record in records])}
    items, guards, entries = [], [], []
    for values, item in fresh:
        owner, record = owner_of(item), history.record_key(kind, item)
        taken = [key for key in getattr(item, "unique_keys", []) if holders.get(key, owner) != owner]
        if taken:
            identity = ", ".join(key.split(":", 1)[1] for key in taken)
            outcome.skipped.append({"id": values.get("id") or owner, "reason": f"already exists: {identity}"})
            continue
        if record in lived:
            _save(item, record, "import", user, history.changes({}, history.snapshot(item)), create=True)
            outcome.counts["created"] += 1
            continue
        holders.update({key: owner for key in getattr(item, "unique_keys", [])})
        items.append(item)
        guards += [UniqueKey(key=key, owner=owner) for key in getattr(item, "unique_keys", [])]
        created = history.changes({}, history.snapshot(item))
        entries.append(history.entry(record, 1, "import", user, created))
    for model, batch in ((type(fresh[0][1]), items), (UniqueKey, guards), (HistoryEntry, entries)):
        with model.batch_write() as writer:
            for item in batch:
                writer.save(item)
    return len(items)


def _write(
    kind: str, model: type[Model], item: Model, values: dict[str, Any], old: Model | None, user: str | None
) -> str:
    record = history.record_key(kind, item)
    if old is None:
        _save(item, record, "import", user, history.changes({}, history.snapshot(item)), create=True)
        return "created"
    if kind in OWN and old.id != item.id:
        name = _key_of(model, values)
        raise Conflict(f"a {OWN[kind]} named {name} is here already (not the Alyx one); kept as it is")
    before = history.snapshot(old)
    for name, value in values.items():
        if value is None and name in NOT_CLEARED.get(kind, ()):
            continue
        if (name not in IGNORED and kind not in KEPT) or getattr(old, name, None) in (None, ""):
            setattr(old, name, value)
    diff = history.changes(before, history.snapshot(old))
    if not diff:
        return "unchanged"
    added = sorted(set(getattr(old, "unique_keys", [])) - set(_unique(before, model)))
    _save(old, record, "import", user, diff, create=False, add=added)
    return "updated"


def _unique(values: dict[str, Any], model: type[Model]) -> list[str]:
    return list(getattr(model(**values), "unique_keys", []))


def _save(
    item: Model,
    record: str,
    action: str,
    user: str | None,
    diff: dict[str, Any],
    *,
    create: bool,
    add: list[str] | None = None,
) -> None:
    for _ in range(3):
        version = history.current_version(record) + 1
        entry = history.entry(record, version, action, user, diff)
        try:
            keys = list(getattr(item, "unique_keys", [])) if create else (add or [])
            save_unique(item, add=keys, create=create, entry=entry)
            return
        except StaleWrite:
            continue
    raise Conflict(f"{record} is being changed by someone else; run the import again")
