"""The audit trail: one entry per write of a REST record, numbered per record.

An entry's number is the record's version. Writing entry N+1 on the condition that it does not exist yet,
in the same transaction as the record, makes the audit trail the record's optimistic lock too: of two
writers that read version N, only one can write N+1.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, TableMeta, now


class HistoryEntry(BaseModel):
    class Meta(TableMeta):
        table = "history"

    record = UnicodeAttribute(hash_key=True)  # '<resource>/<hash key of the item>'
    version = NumberAttribute(range_key=True)
    action = UnicodeAttribute()  # create, update, delete, import
    user = UnicodeAttribute(null=True)
    date_time = UnicodeAttribute(default=now)
    changes = JSONAttribute(default=dict)  # field -> [old, new]
