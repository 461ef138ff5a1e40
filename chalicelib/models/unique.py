"""Uniqueness that Alyx leaves open, enforced by DynamoDB transactions.

Each unique identity (a subject nickname within its lab, a session's subject/date/number, a dataset's
session/collection/revision/name...) is a guard item in one table. Writing the entity and its guards in one
transaction, with "must not exist" conditions on the guards, makes duplicates impossible even when two
writers race: one transaction wins, the other gets a Conflict naming the identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import aws
from chalicelib.errors import BadRequest, Conflict
from chalicelib.models.base import BaseModel, TableMeta


class UniqueKey(BaseModel):
    """A guard: ``key`` is '<kind>:<identity>', ``owner`` the id of the item holding it."""

    class Meta(TableMeta):
        table = "unique-keys"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()


ITEM_BYTES = 400 * 1024  # the most one DynamoDB item holds


def check_size(item: Model) -> None:
    """A record too large for DynamoDB is a 400 before the write (the size is over-estimated a little:
    attribute names and values as JSON)."""
    size = len(json.dumps(item.serialize(), ensure_ascii=False).encode())
    if size > ITEM_BYTES:
        raise BadRequest(
            f"the {type(item).__name__} record would be {size} bytes; a record holds at most {ITEM_BYTES}"
        )


def guard(kind: str, identity: str) -> str:
    return f"{kind}:{identity}"


def owner_of(item: Model) -> str:
    """What a guard held by ``item`` names as its owner: the item's hash key."""
    return item.serialize()[item._hash_key_attribute().attr_name]["S"]


def save_unique(
    item: Model,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    create: bool = False,
    entry: Model | None = None,
) -> None:
    """Save ``item`` together with the guards it gains (``add``) and loses (``remove``), atomically.

    ``create`` also requires that the item itself does not exist yet. ``entry`` (its audit record) must
    not exist yet either: when it does, someone else wrote the item first and ``on_stale`` is raised.
    """
    add, remove = list(add), list(remove)
    check_size(item)
    owner = owner_of(item)
    hash_attribute = item._hash_key_attribute()
    try:
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.save(item, condition=hash_attribute.does_not_exist() if create else None)
            for key in add:
                tx.save(UniqueKey(key=key, owner=owner), condition=UniqueKey.key.does_not_exist())
            for key in remove:
                tx.delete(UniqueKey(key=key), condition=UniqueKey.owner == owner)
            if entry is not None:
                tx.save(entry, condition=_absent(entry))
    except TransactWriteError as error:
        # Reasons follow the request order, which PynamoDB sends as deletes first, then puts.
        codes = [reason.code if reason else None for reason in error.cancellation_reasons or []]
        puts = codes[len(remove) :]
        if create and puts[:1] == ["ConditionalCheckFailed"]:
            raise Conflict(f"{type(item).__name__} {owner} already exists") from error
        if entry is not None and puts[-1:] == ["ConditionalCheckFailed"]:
            raise StaleWrite(owner) from error
        taken = [key for key, code in zip(add, puts[1:], strict=False) if code == "ConditionalCheckFailed"]
        if taken:
            raise Conflict(f"already exists: {', '.join(key.split(':', 1)[1] for key in taken)}") from error
        raise


def delete_unique(item: Model, keys: Iterable[str], entry: Model | None = None) -> None:
    """Delete ``item`` and release its guards in one transaction (with its audit ``entry``, if any)."""
    owner = owner_of(item)
    try:
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.delete(item)
            for key in keys:
                tx.delete(UniqueKey(key=key), condition=UniqueKey.owner == owner)
            if entry is not None:
                tx.save(entry, condition=_absent(entry))
    except TransactWriteError as error:
        codes = [reason.code if reason else None for reason in error.cancellation_reasons or []]
        if entry is not None and codes[-1:] == ["ConditionalCheckFailed"]:
            raise StaleWrite(owner) from error
        raise


class StaleWrite(Exception):
    """The audit entry a write was to add exists: another write of the same item came first."""


def _absent(item: Model) -> object:
    return item._hash_key_attribute().does_not_exist()
