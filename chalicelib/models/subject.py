"""Subjects: the animals of a lab's colony. A nickname is unique within its lab."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now
from chalicelib.models.unique import guard


class SubjectsByNickname(GlobalSecondaryIndex["Subject"]):
    class Meta:
        index_name = "nickname-index"
        projection = AllProjection()

    nickname = UnicodeAttribute(hash_key=True)
    lab = UnicodeAttribute(range_key=True)


class SubjectsByLab(GlobalSecondaryIndex["Subject"]):
    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    nickname = UnicodeAttribute(range_key=True)


class SubjectsByLitter(GlobalSecondaryIndex["Subject"]):
    """Pups of a litter (sparse: only subjects born in the colony have one)."""

    class Meta:
        index_name = "litter-index"
        projection = AllProjection()

    litter = UnicodeAttribute(hash_key=True)


class Subject(BaseModel):
    class Meta(TableMeta):
        table = "subjects"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    nickname = UnicodeAttribute()
    lab = UnicodeAttribute()
    responsible_user = UnicodeAttribute(null=True)
    sex = UnicodeAttribute(default="U")
    birth_date = UnicodeAttribute(null=True)
    death_date = UnicodeAttribute(null=True)
    species = UnicodeAttribute(default="")
    strain = UnicodeAttribute(null=True)
    line = UnicodeAttribute(null=True)
    genotype = JSONAttribute(null=True)
    projects = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)
    created = UnicodeAttribute(default=now)
    # the colony (chalicelib.colony): where it comes from, where it lives, what is to be done with it
    source = UnicodeAttribute(null=True)
    litter = UnicodeAttribute(null=True)
    request = UnicodeAttribute(null=True)
    ear_mark = UnicodeAttribute(default="")
    cage = UnicodeAttribute(null=True)
    wean_date = UnicodeAttribute(null=True)
    genotype_date = UnicodeAttribute(null=True)
    to_be_genotyped = BooleanAttribute(default=False)
    to_be_culled = BooleanAttribute(default=False)
    reduced_date = UnicodeAttribute(null=True)
    actual_severity = NumberAttribute(null=True)
    protocol_number = UnicodeAttribute(default="1")
    adverse_effects = UnicodeAttribute(default="")

    by_nickname = SubjectsByNickname()
    by_lab = SubjectsByLab()
    by_litter = SubjectsByLitter()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("subject", f"{self.lab}/{self.nickname}")]
