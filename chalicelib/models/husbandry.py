"""Husbandry records: weighings, water given, water restrictions. Each is listed per subject by date."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id


class WaterType(BaseModel):
    class Meta(TableMeta):
        table = "water-types"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    json = JSONAttribute(null=True)


class WeighingsBySubject(GlobalSecondaryIndex["Weighing"]):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class WeighingsByLab(GlobalSecondaryIndex["Weighing"]):
    """A lab's records in one query (the web pages' lists), never one query per subject."""

    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class Weighing(BaseModel):
    class Meta(TableMeta):
        table = "weighings"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    date_time = UnicodeAttribute()
    weight = NumberAttribute()
    user = UnicodeAttribute(null=True)

    by_subject = WeighingsBySubject()
    by_lab = WeighingsByLab()


class WaterAdministrationsBySubject(GlobalSecondaryIndex["WaterAdministration"]):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class WaterAdministrationsByLab(GlobalSecondaryIndex["WaterAdministration"]):
    """A lab's records in one query (the web pages' lists), never one query per subject."""

    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class WaterAdministration(BaseModel):
    class Meta(TableMeta):
        table = "water-administrations"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    date_time = UnicodeAttribute()
    water_administered = NumberAttribute(default=0.0)
    water_type = UnicodeAttribute(default="Water")
    session = UnicodeAttribute(null=True)
    adlib = BooleanAttribute(default=False)
    user = UnicodeAttribute(null=True)

    by_subject = WaterAdministrationsBySubject()
    by_lab = WaterAdministrationsByLab()


class WaterRestrictionsBySubject(GlobalSecondaryIndex["WaterRestriction"]):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)
    start_time = UnicodeAttribute(range_key=True)


class WaterRestrictionsByLab(GlobalSecondaryIndex["WaterRestriction"]):
    """A lab's records in one query (the web pages' lists), never one query per subject."""

    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    start_time = UnicodeAttribute(range_key=True)


class WaterRestriction(BaseModel):
    class Meta(TableMeta):
        table = "water-restrictions"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute(null=True)
    reference_weight = NumberAttribute(default=0.0)
    water_type = UnicodeAttribute(default="Water")

    by_subject = WaterRestrictionsBySubject()
    by_lab = WaterRestrictionsByLab()
