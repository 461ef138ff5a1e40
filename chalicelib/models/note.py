"""Notes: free text (and optionally an image in S3) attached to any object."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now


class NotesByObject(GlobalSecondaryIndex["Note"]):
    class Meta:
        index_name = "object-index"
        projection = AllProjection()

    object_id = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class Note(BaseModel):
    class Meta(TableMeta):
        table = "notes"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    user = UnicodeAttribute(null=True)
    date_time = UnicodeAttribute(default=now)
    text = UnicodeAttribute(default="")
    image = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute()
    object_id = UnicodeAttribute()
    lab = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)  # e.g. {"tag": "## report ##"} on IBL's generated report images

    by_object = NotesByObject()
