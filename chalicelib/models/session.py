"""Sessions (experiments) and the probe insertions made during them."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id
from chalicelib.models.unique import guard


class SessionsBySubject(GlobalSecondaryIndex["Session"]):
    """Session by subject+date+number; ``subject_key`` is the lowercased nickname (Alyx's filter is
    case-insensitive), ``date_number`` 'YYYY-MM-DD#NNN' so a date range is a key condition."""

    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_key = UnicodeAttribute(hash_key=True)
    date_number = UnicodeAttribute(range_key=True)


class SessionsByLab(GlobalSecondaryIndex["Session"]):
    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    date_number = UnicodeAttribute(range_key=True)


class Session(BaseModel):
    class Meta(TableMeta):
        table = "sessions"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_key = UnicodeAttribute()
    subject_id = UnicodeAttribute(null=True)
    lab = UnicodeAttribute()
    date_number = UnicodeAttribute()
    number = NumberAttribute(default=1)
    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute(null=True)
    users = ListAttribute(of=UnicodeAttribute, default=list)
    projects = ListAttribute(of=UnicodeAttribute, default=list)
    task_protocol = UnicodeAttribute(default="")
    type = UnicodeAttribute(default="Experiment")
    procedures = ListAttribute(of=UnicodeAttribute, default=list)
    narrative = UnicodeAttribute(default="")
    n_trials = NumberAttribute(null=True)
    n_correct_trials = NumberAttribute(null=True)
    qc = NumberAttribute(default=0)
    extended_qc = JSONAttribute(null=True)
    json = JSONAttribute(null=True)
    parent_session = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    auto_datetime = UnicodeAttribute(null=True)  # when the record last changed

    by_subject = SessionsBySubject()
    by_lab = SessionsByLab()

    @staticmethod
    def key_for(date: str, number: int) -> str:
        return f"{date}#{number:03d}"

    @property
    def date(self) -> str:
        return self.date_number.split("#", 1)[0]

    @property
    def unique_keys(self) -> list[str]:
        return [guard("session", f"{self.lab}/{self.subject}/{self.date_number}")]


class InsertionsBySession(GlobalSecondaryIndex["ProbeInsertion"]):
    class Meta:
        index_name = "session-index"
        projection = AllProjection()

    session = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


class ProbeInsertion(BaseModel):
    class Meta(TableMeta):
        table = "insertions"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    name = UnicodeAttribute()
    session = UnicodeAttribute()
    lab = UnicodeAttribute()
    model = UnicodeAttribute(null=True)
    serial = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)
    datasets = ListAttribute(of=UnicodeAttribute, default=list)
    chronic_insertion = UnicodeAttribute(null=True)
    auto_datetime = UnicodeAttribute(null=True)

    by_session = InsertionsBySession()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("insertion", f"{self.session}/{self.name}")]
