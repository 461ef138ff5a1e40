"""Who changed what and when: the audit trail of every REST write, and the stale-write check it makes.

Each create, update and delete through the engine writes a ``HistoryEntry`` numbered after the record's
last one, in the same transaction as the record (``chalicelib.models.unique.save_unique``). A client that
read version N and sends ``If-Match: "N"`` is refused with a 409 listing what changed since, instead of
overwriting someone else's edit; two writers racing on the same version cannot both win either.
"""

from __future__ import annotations

import copy
from typing import Any

from pynamodb.models import Model

from chalicelib.errors import BadRequest, Conflict
from chalicelib.models import HistoryEntry

HIDDEN = ("password", "token")


class Stale(Conflict):
    """The record changed since the version the writer based its change on."""


def record_key(resource: str, item: Model) -> str:
    hash_name = item._hash_key_attribute().attr_name
    return f"{resource}/{item.attribute_values[hash_name]}"


def snapshot(item: Model) -> dict[str, Any]:
    """The item's values as they are now (change hooks may edit lists and dicts in place)."""
    return copy.deepcopy(dict(item.attribute_values))


def _shown(name: str, value: Any) -> Any:
    return "***" if value is not None and any(word in name for word in HIDDEN) else value


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """field -> [old, new] for every field whose value differs (secrets masked)."""
    return {
        name: [_shown(name, before.get(name)), _shown(name, after.get(name))]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def current_version(record: str) -> int:
    last = list(HistoryEntry.query(record, scan_index_forward=False, limit=1))
    return int(last[0].version) if last else 0


def entry(record: str, version: int, action: str, user: str | None, diff: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(record=record, version=version, action=action, user=user, changes=diff)


def entries(record: str, since: int = 0) -> list[dict[str, Any]]:
    """The record's history, newest first."""
    found = HistoryEntry.query(record, HistoryEntry.version > since, scan_index_forward=False)
    return [
        {
            "version": int(e.version),
            "action": e.action,
            "user": e.user,
            "date_time": e.date_time,
            "changes": e.changes or {},
        }
        for e in found
    ]


def parse_if_match(header: str | None) -> int | None:
    """``If-Match: "3"`` (or ``W/"3"``) names the version a change is based on; absent means any."""
    if header is None or header.strip() in ("", "*"):
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadRequest(f'If-Match: expected a record version such as "3", got {header!r}')
    return int(text)


def etag(version: int) -> str:
    return f'"{version}"'


def stale(what: str, record: str, based_on: int) -> Stale:
    """A 409 that says who changed which fields since version ``based_on``."""
    since = entries(record, since=based_on)
    now = since[0]["version"] if since else based_on
    described = "; ".join(
        f"{e['action']} by {e['user'] or 'unknown'} at {e['date_time']}"
        + (
            ": " + ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in e["changes"].items())
            if e["action"] == "update"
            else ""
        )
        for e in reversed(since)
    )
    return Stale(
        f"{what} changed since version {based_on} (now {now}): {described or 'a concurrent change'}; "
        "read it again and re-apply your change",
        extra={"version": now, "changes_since": since},
    )


def save_audited(
    resource: str, item: Model, before: dict[str, Any] | None, user: str | None, *, action: str = ""
) -> bool:
    """Save a record that a rule changed as a side effect (a pup born, a cage assigned, a restriction
    ended), audited like a REST write; ``before`` is None for a new record. False when nothing changed."""
    from chalicelib.models.unique import StaleWrite, save_unique

    create = before is None
    diff = changes(before or {}, snapshot(item))
    if not diff:
        return False
    record = record_key(resource, item)
    old_keys = set() if create else set(getattr(type(item)(**before), "unique_keys", []))
    added = sorted(set(getattr(item, "unique_keys", [])) - old_keys)
    removed = sorted(old_keys - set(getattr(item, "unique_keys", [])))
    for _ in range(3):
        version = current_version(record)
        entry_ = entry(record, version + 1, action or ("create" if create else "update"), user, diff)
        try:
            save_unique(item, add=added, remove=removed, create=create, entry=entry_)
            return True
        except StaleWrite:
            continue
    raise Conflict(f"{record} is being changed by someone else; try again")
