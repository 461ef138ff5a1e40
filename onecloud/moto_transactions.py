"""moto's DynamoDB transactions at the cost of the items they touch, for the local stack.

Before each TransactWriteItems, moto deep-copies every table the transaction names, to roll back if one
of its operations fails. onecloud writes most records in a transaction (the record, its uniqueness
guards, its history entry), so each write copied the whole guard and history tables: the local stack
slowed down as it filled (a demo colony of a few thousand sessions took hours). Here the backup copies
a table's item index one level and deep-copies only the items the transaction updates in place (moto's
Update mutates the stored item; Put and Delete replace or remove entries, which the index copy undoes).
The rollback is the same as before for every transaction onecloud sends. ``bench/moto_transactions.py``
measures it.

moto also rolls a cancelled transaction back by putting the whole table copy back, so a write another
thread made meanwhile (a job, a second request) was silently undone: DynamoDB isolates transactions
from other writes. ``isolate_writes`` gives moto that isolation with one lock over its writes.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from typing import Any

_local = threading.local()
_applied = False
_writes = threading.RLock()
_isolated = False


def _backup(table: Any, updated: list[tuple[Any, Any]]) -> Any:
    snapshot = copy.copy(table)
    items = defaultdict(dict, table.items)  # one C-level copy: safe against the server's other threads
    if table.range_key_attr:
        for hash_value, value in list(items.items()):
            items[hash_value] = dict(value)
    for hash_value, range_value in updated:
        item = table.get_item(hash_value, range_value)
        if item is None:
            continue
        if table.range_key_attr:
            items[hash_value][range_value] = copy.deepcopy(item)
        else:
            items[hash_value] = copy.deepcopy(item)
    snapshot.items = items
    return snapshot


class _Copier:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a table backed up for a
    transaction is copied as above; anything else as ``copy`` does."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        updates = getattr(_local, "updates", None)
        if updates is not None and isinstance(value, Table):
            return _backup(value, updates.get(value.name, []))
        return copy.deepcopy(value, memo)


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
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        updates: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        for entry in transact_items:
            kind, operation = next(iter(entry.items()))
            table = self.tables.get(operation.get("TableName"))
            if kind != "Update" or table is None:
                continue
            key = operation["Key"]
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            updates[table.name].append((DynamoType(key[table.hash_key_attr]), range_value))
        _local.updates = updates
        try:
            return original(self, transact_items)
        finally:
            _local.updates = None

    backend.copy = _Copier()
    DynamoDBBackend.transact_write_items = transact_write_items
    isolate_writes()
    _applied = True
