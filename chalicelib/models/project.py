"""Projects group subjects and sessions across labs."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, TableMeta, new_id


class Project(BaseModel):
    class Meta(TableMeta):
        table = "projects"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    users = ListAttribute(of=UnicodeAttribute, default=list)
