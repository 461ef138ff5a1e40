"""moto's DynamoDB transactions at the cost of the items they touch, for the local stack.

Before each TransactWriteItems, moto deep-copies every table the transaction names, to roll back if one
of its operations fails. onecloud writes most records in a transaction (the record, its uniqueness
guards, its history entry), so each write copied the whole guard and history tables: the local stack
slowed down as it filled (a demo colony of a few thousand sessions took hours). Here moto's backup is the
table itself, and the transaction keeps the items it is about to touch as they were (a copy of an item it
updates, since moto's Update changes the stored item in place); when moto cancels the transaction, those
items are put back. Writes are isolated (below), so no other write can change the table in between, and
the rollback is the same as before for every transaction onecloud sends. ``bench/moto_transactions.py``
measures it.

moto also rolls a cancelled transaction back by putting the whole table copy back, so a write another
thread made meanwhile (a job, a second request) was silently undone: DynamoDB isolates transactions
from other writes. ``isolate_writes`` gives moto that isolation with one lock over its writes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

_local = threading.local()
_applied = False
_writes = threading.RLock()
_isolated = False
_restored: list[Callable[[Any, Any], None]] = []  # told of each item put back (local_moto's indexes)


class _Copier:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: during a transaction, a table's
    backup is the table itself (its touched items are kept aside); anything else as ``copy`` does."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_local, "keeping", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def on_restore(callback: Callable[[Any, Any], None]) -> None:
    """Call ``callback(table, key)`` for each item a cancelled transaction puts back."""
    _restored.append(callback)


def item_key(table: Any, attributes: dict[str, Any]) -> tuple[Any, Any]:
    """(hash value, range value or None) of the item ``attributes`` (or a key) name in ``table``, as moto
    keys its items."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    range_value = attributes.get(table.range_key_attr) if table.range_key_attr else None
    return (
        DynamoType(attributes[table.hash_key_attr]),
        DynamoType(range_value) if range_value is not None else None,
    )


def _kept(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, tuple[Any, Any], Any]]:
    """(table, key, item as it is now or None) of each item the transaction writes."""
    kept = []
    for entry in transact_items:
        kind, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName"))
        if table is None or kind not in ("Put", "Update", "Delete"):
            continue
        try:
            key = item_key(table, operation["Item"] if kind == "Put" else operation["Key"])
        except KeyError:
            continue  # moto refuses it before writing anything
        item = table.get_item(*key) if key[1] is not None or not table.range_key_attr else None
        kept.append((table, key, copy.deepcopy(item) if kind == "Update" and item is not None else item))
    return kept


def _put_back(table: Any, key: tuple[Any, Any], item: Any) -> None:
    hash_value, range_value = key
    if table.range_key_attr:
        bucket = table.items.get(hash_value)
        if item is not None:
            table.items[hash_value][range_value] = item
        elif bucket is not None:
            bucket.pop(range_value, None)
            if not bucket:
                del table.items[hash_value]
    elif item is not None:
        table.items[hash_value] = item
    else:
        table.items.pop(hash_value, None)
    for callback in _restored:
        callback(table, key)


def isolate_writes() -> None:
    """Every write to moto's DynamoDB in this process, transactions included, one at a time, so that a
    cancelled transaction's rollback cannot undo another thread's write (idempotent)."""
    global _isolated
    if _isolated:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def isolated(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _writes:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, isolated)
    _isolated = True


def apply() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent): cheap, isolated transactions."""
    global _applied
    if _applied:
        return
    import moto.dynamodb.models as backend
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _writes:
            kept = _kept(self, transact_items)
            _local.keeping = True
            try:
                return original(self, transact_items)
            except Exception:
                for table, key, item in reversed(kept):  # the first state of an item written twice wins
                    _put_back(table, key, item)
                raise
            finally:
                _local.keeping = False

    backend.copy = _Copier()
    DynamoDBBackend.transact_write_items = transact_write_items
    isolate_writes()
    _applied = True
