"""Subjects: the animals of a lab's colony. A nickname is unique within its lab."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute
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

    by_nickname = SubjectsByNickname()
    by_lab = SubjectsByLab()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("subject", f"{self.lab}/{self.nickname}")]
