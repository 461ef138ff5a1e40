"""Pipeline tasks (Alyx's task fields) with what the Batch runner and lab workers need to claim them."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now
from chalicelib.models.unique import guard

STATUSES = ("Waiting", "Held", "Started", "Errored", "Abandoned", "Empty", "Incomplete", "Complete")


class TasksBySession(GlobalSecondaryIndex["Task"]):
    class Meta:
        index_name = "session-index"
        projection = AllProjection()

    session = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


class TasksByLabStatus(GlobalSecondaryIndex["Task"]):
    """Tasks of a lab by status: what a lab worker polls for (``status=Waiting&lab=...``)."""

    class Meta:
        index_name = "lab-status-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(range_key=True)


class Task(BaseModel):
    class Meta(TableMeta):
        table = "tasks"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    name = UnicodeAttribute()
    session = UnicodeAttribute()
    lab = UnicodeAttribute()
    status = UnicodeAttribute(default="Waiting")
    parents = ListAttribute(of=UnicodeAttribute, default=list)
    level = NumberAttribute(default=0)
    priority = NumberAttribute(default=100)
    executable = UnicodeAttribute(default="")
    graph = UnicodeAttribute(default="")
    arguments = JSONAttribute(null=True)
    log = UnicodeAttribute(null=True)
    version = UnicodeAttribute(null=True)
    time_elapsed_secs = NumberAttribute(null=True)
    data_repository = UnicodeAttribute(null=True)
    cpu = NumberAttribute(default=1)
    gpu = NumberAttribute(default=0)
    ram = NumberAttribute(default=2)
    io_charge = NumberAttribute(default=20)
    time_out_secs = NumberAttribute(default=3600 * 2)
    datetime = UnicodeAttribute(default=now)
    job_id = UnicodeAttribute(null=True)
    claimed_by = UnicodeAttribute(null=True)
    lease_expires = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)

    by_session = TasksBySession()
    by_lab_status = TasksByLabStatus()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("task", f"{self.session}/{self.name}")]
