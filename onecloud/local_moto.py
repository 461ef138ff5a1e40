"""moto at DynamoDB's costs, for the local stack and the tests: queries cost what they find, answers
what they hold.

moto answers every Query, on the table or on an index, by sorting the whole table and then filtering
it: each of onecloud's index queries (a session's datasets, a subject's sessions) cost the size of the
table, so the local stack slowed down as it filled, and a demo colony of a few thousand sessions took
hours. DynamoDB keeps each global secondary index as its own key space; so does this patch: an index is
built on its first query and kept up to date by every write (put, update, delete, alone or in a
transaction or batch, or put back when a transaction is cancelled), and a query then hands moto's own
query code only the items under the key it asks for, so everything after (range conditions, filters,
order, paging) is moto's. A query on the table itself reads the key's items directly. A table replaced as
a whole (created again) has its indexes built again on its next query.

moto also writes each DynamoDB answer through its generic, shape-driven serializer, which took two
fifths of the local stack's time (a 227-item scan of the dataset types: 0.2 s). DynamoDB's JSON protocol
is the answer's JSON itself, so answers are written with ``json.dumps`` (top-level members the operation
declares, as the serializer keeps); an answer holding bytes or dates still goes through the serializer.

moto's SQS read all of a queue's attributes to learn one: each message received looked up the queue's
retention period by counting the queue's messages, visible, delayed and in flight, and each message sent
counted them to learn whether the queue deduplicates by content. With a backlog of a few thousand S3
events, registration slowed as the backlog grew. Both read the one attribute they need here. A receive
also listed the whole backlog's visible messages to take ten, and a delete rebuilt the backlog twice: a
receive looks at messages only until it has its batch, and a delete finds its message from the oldest.

moto's Batch ignores ``ListJobs``'s ``AFTER_CREATED_AT`` filter and answers with every job: the local job
runner, asking each second for jobs it has not seen, was sent every job ever submitted (a few thousand in
the demo colony), so polling cost grew with the run. The filter is applied, as AWS does.

And moto's server lists its own package folder on disk to route every request, and each response class's
methods; both lists are read once.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from typing import Any

_local = threading.local()
_lock = threading.RLock()
_applied = False

Key = tuple[Any, Any]  # (hash value, range value or None), as moto's DynamoType


class _Index:
    """One global secondary index: items' keys by the value of the index's hash attribute."""

    def __init__(self, table: Any, attribute: str) -> None:
        self.attribute = attribute
        self.members: dict[Any, set[Key]] = {}
        self.value_of: dict[Key, Any] = {}
        for key, item in _items(table):
            self._add(key, item)

    def _add(self, key: Key, item: Any) -> None:
        value = item.attrs.get(self.attribute)
        if value is None:
            return  # a sparse index leaves the item out, as DynamoDB does
        self.members.setdefault(value, set()).add(key)
        self.value_of[key] = value

    def refresh(self, key: Key, item: Any | None) -> None:
        old = self.value_of.pop(key, None)
        if old is not None:
            keys = self.members[old]
            keys.discard(key)
            if not keys:
                del self.members[old]
        if item is not None:
            self._add(key, item)


class _TableIndexes:
    def __init__(self, table: Any) -> None:
        self.table = table  # the very object indexed: a table replaced as a whole is indexed again
        self.by_name: dict[str, _Index] = {}


_tables: dict[tuple[int, str], _TableIndexes] = {}  # (id of the backend, table name)


def _items(table: Any) -> list[tuple[Key, Any]]:
    return [pair for hash_value in list(table.items) for pair in _bucket(table, hash_value)]


def _item(table: Any, key: Key) -> Any | None:
    hash_value, range_value = key
    found = table.items.get(hash_value)
    if found is None or range_value is None:
        return found
    return found.get(range_value)


def _hash_attribute(index: Any) -> str | None:
    hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    return hashes[0] if len(hashes) == 1 else None


def _global_index(table: Any, name: str) -> _Index | None:
    """The index ``name`` of ``table``, built if needed; None for a key this patch does not cover."""
    index = next((i for i in table.global_indexes if i.name == name), None)
    attribute = _hash_attribute(index) if index is not None else None
    if attribute is None:
        return None
    entry = _tables.get((id(table), table.name))
    if entry is None or entry.table is not table:
        entry = _tables[(id(table), table.name)] = _TableIndexes(table)
    if name not in entry.by_name:
        entry.by_name[name] = _Index(table, attribute)
    return entry.by_name[name]


def _refresh(table: Any, key: Key) -> None:
    entry = _tables.get((id(table), table.name))
    if entry is None or entry.table is not table:
        return
    item = _item(table, key)
    for index in entry.by_name.values():
        index.refresh(key, item)


def _refreshed(table: Any, key: Key) -> None:
    with _lock:
        _refresh(table, key)


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
    """The only items a query can find, or None to let moto read the whole table."""
    if not index_name:
        if hash_key is None:
            return None
        return [item for _, item in _bucket(table, hash_key)]
    local = next((i for i in table.indexes if i.name == index_name), None)
    if local is not None:
        attribute = _hash_attribute(local)
        value = dict(conditions or []).get(attribute)
        return None if value is None else [item for _, item in _bucket(table, value)]
    with _lock:
        index = _global_index(table, index_name)
        value = dict(conditions or []).get(index.attribute) if index is not None else None
        if value is None:
            return None
        keys = list(index.members.get(value, ()))
    return [item for key in keys if (item := _item(table, key)) is not None]


def _bucket(table: Any, hash_value: Any) -> list[tuple[Key, Any]]:
    found = table.items.get(hash_value)
    if found is None:
        return []
    if table.range_key_attr:
        return [((hash_value, range_value), item) for range_value, item in list(found.items())]
    return [((hash_value, None), found)]


def _patch_writes(backend_class: Any) -> None:
    def after(table_name_and_keys: Any) -> Any:
        def wrap(original: Any) -> Any:
            @functools.wraps(original)
            def write(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
                try:
                    return original(self, table_name, *args, **kwargs)
                finally:
                    table = self.tables.get(table_name)
                    if table is not None:
                        _refreshed(table, table_name_and_keys(table, args, kwargs))

            return write

        return wrap

    from onecloud.moto_transactions import item_key

    def put_key(table: Any, args: tuple, kwargs: dict) -> Key:
        return item_key(table, args[0] if args else kwargs["item_attrs"])

    def key_argument(table: Any, args: tuple, kwargs: dict) -> Key:
        return item_key(table, args[0] if args else kwargs["key"])

    backend_class.put_item = after(put_key)(backend_class.put_item)
    backend_class.update_item = after(key_argument)(backend_class.update_item)
    backend_class.delete_item = after(key_argument)(backend_class.delete_item)


def apply() -> None:
    """Patch moto in this process (idempotent): indexed queries, answers written as JSON, queue attributes
    read one at a time, and its server's routing list read once."""
    global _applied
    if _applied:
        return
    import moto.backends
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from onecloud import moto_transactions

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules

    _patch_writes(DynamoDBBackend)
    moto_transactions.on_restore(_refreshed)  # an item a cancelled transaction puts back
    original_query = Table.query
    original_all_items = Table.all_items
    signature = inspect.signature(original_query)

    @functools.wraps(original_query)
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        candidates = _candidates(
            self, bound.get("hash_key"), bound.get("index_name"), bound.get("hash_key_conditions")
        )
        if candidates is None:
            return original_query(self, *args, **kwargs)
        _local.found = (self, candidates)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _local.found = None

    @functools.wraps(original_all_items)
    def all_items(self: Any) -> list[Any]:
        found = getattr(_local, "found", None)
        if found is not None and found[0] is self:
            return list(found[1])
        return original_all_items(self)

    Table.query = query
    Table.all_items = all_items
    _write_answers_as_json()
    _read_one_queue_attribute()
    _filter_jobs_by_creation()
    _route_by_known_methods()
    _applied = True


def _route_by_known_methods() -> None:
    """moto lists a response class's methods (``inspect.getmembers``) to route every request: listed once
    per class (3% of the local moto's time)."""
    from moto.core import responses

    listed = responses.method_names_from_class
    responses.method_names_from_class = functools.cache(lambda clazz: frozenset(listed(clazz)))


def _filter_jobs_by_creation() -> None:
    """``AFTER_CREATED_AT`` (milliseconds since the epoch; jobs created at or after it, all statuses)."""
    from moto.batch.models import BatchBackend, datetime2int_milliseconds

    original = BatchBackend.list_jobs

    @functools.wraps(original)
    def list_jobs(
        self: Any, job_queue_name: Any, array_job_id: Any, job_status: Any = None, filters: Any = None
    ) -> list[Any]:
        after = [f for f in filters or [] if f.get("name") == "AFTER_CREATED_AT"]
        if not after:
            return original(self, job_queue_name, array_job_id, job_status, filters)
        since = max(int(value) for f in after for value in f.get("values", []))
        others = [f for f in filters if f.get("name") != "AFTER_CREATED_AT"] or None
        return [
            job
            for job in original(self, job_queue_name, array_job_id, None, others)
            if datetime2int_milliseconds(job.job_created_at) >= since
        ]

    BatchBackend.list_jobs = list_jobs


def _read_one_queue_attribute() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    every_attribute = Queue.attributes.fget
    send_message = SQSBackend.send_message

    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(_local, "sending", False):
            return every_attribute(self)
        if not self.fifo_queue:
            return {}
        value = self.content_based_deduplication
        return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}

    @functools.wraps(send_message)
    def sending(self: Any, *args: Any, **kwargs: Any) -> Any:
        _local.sending = True  # send_message reads only ContentBasedDeduplication
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _local.sending = False

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    SQSBackend.send_message = sending
    Queue.attributes = property(attributes)
    Queue.messages = property(lambda self: _Visible(list(self._messages)))
    Queue.delete_message = _delete_message


class _Visible:
    """A queue's visible messages, each looked at only when a reader gets that far: moto listed the whole
    backlog (each message's visibility from the clock) for every receive, however few it took."""

    def __init__(self, messages: list[Any]) -> None:
        self._messages = messages

    def __iter__(self) -> Any:
        return (m for m in self._messages if m.visible and not m.delayed)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _delete_message(self: Any, receipt_handle: str) -> None:
    """moto's ``Queue.delete_message``, finding the message from the oldest (received messages are the
    oldest) instead of rebuilding the whole backlog twice, and under the queue's lock: moto's rebuilt list,
    assigned back without the lock ``add_message`` takes, could drop a message sent meanwhile."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in self.deleted_messages:
        return  # deleted before: SQS accepts it again
    with self._messages_lock:
        message = next((m for m in self._messages if m.had_receipt_handle(receipt_handle)), None)
        if message is None:
            raise ReceiptHandleIsInvalid()
        self._messages.remove(message)
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)


def _write_answers_as_json() -> None:
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        shape = context.operation_model.output_shape
        members = shape.members if shape is not None else {}
        try:
            body = json.dumps({k: v for k, v in self.result.items() if k in members})
        except (TypeError, AttributeError):  # bytes, dates, or not a mapping: moto's serializer
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = execute_result
