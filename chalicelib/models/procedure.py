"""Surgeries and other procedures, and the vocabulary of procedure types."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id


class ProcedureType(BaseModel):
    class Meta(TableMeta):
        table = "procedure-types"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)


class SurgeriesBySubject(GlobalSecondaryIndex["Surgery"]):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)
    start_time = UnicodeAttribute(range_key=True)


class SurgeriesByLab(GlobalSecondaryIndex["Surgery"]):
    """A lab's surgeries in one query (implant weights for the lab's water figures, the surgeries page)."""

    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    start_time = UnicodeAttribute(range_key=True)


class Surgery(BaseModel):
    class Meta(TableMeta):
        table = "surgeries"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute(null=True)
    procedures = ListAttribute(of=UnicodeAttribute, default=list)
    users = ListAttribute(of=UnicodeAttribute, default=list)
    implant_weight = NumberAttribute(null=True)
    outcome_type = UnicodeAttribute(null=True)
    narrative = UnicodeAttribute(default="")
    location = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)

    by_subject = SurgeriesBySubject()
    by_lab = SurgeriesByLab()
