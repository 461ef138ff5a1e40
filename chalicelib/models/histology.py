"""Histology: where probes went. Trajectory estimates of probe insertions (planned, micro-manipulator,
histology track, ephys-aligned), the channels along them with their Allen brain region, chronic
insertions, and imaging fields of view. The brain-region table itself is reference data shipped with the
code (``chalicelib.atlas``), as Alyx loads it from a fixture."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now


class TrajectoriesByInsertion(GlobalSecondaryIndex["TrajectoryEstimate"]):
    class Meta:
        index_name = "insertion-index"
        projection = AllProjection()

    probe_insertion = UnicodeAttribute(hash_key=True)


class TrajectoryEstimate(BaseModel):
    class Meta(TableMeta):
        table = "trajectories"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    probe_insertion = UnicodeAttribute(null=True)
    chronic_insertion = UnicodeAttribute(null=True)
    lab = UnicodeAttribute(null=True)
    x = NumberAttribute(null=True)
    y = NumberAttribute(null=True)
    z = NumberAttribute(null=True)
    depth = NumberAttribute(null=True)
    theta = NumberAttribute(null=True)
    phi = NumberAttribute(null=True)
    roll = NumberAttribute(null=True)
    provenance = NumberAttribute(default=10)
    coordinate_system = UnicodeAttribute(null=True)
    datetime = UnicodeAttribute(default=now)
    json = JSONAttribute(null=True)

    by_insertion = TrajectoriesByInsertion()


class ChannelsByTrajectory(GlobalSecondaryIndex["Channel"]):
    class Meta:
        index_name = "trajectory-index"
        projection = AllProjection()

    trajectory_estimate = UnicodeAttribute(hash_key=True)


class ChannelsByRegion(GlobalSecondaryIndex["Channel"]):
    """Channels in one brain region: the atlas filters walk a region's subtree through this index."""

    class Meta:
        index_name = "region-index"
        projection = AllProjection()

    brain_region = NumberAttribute(hash_key=True)


class Channel(BaseModel):
    class Meta(TableMeta):
        table = "channels"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    trajectory_estimate = UnicodeAttribute()
    lab = UnicodeAttribute(null=True)
    axial = NumberAttribute(null=True)
    lateral = NumberAttribute(null=True)
    x = NumberAttribute(null=True)
    y = NumberAttribute(null=True)
    z = NumberAttribute(null=True)
    brain_region = NumberAttribute(default=0)
    name = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)

    by_trajectory = ChannelsByTrajectory()
    by_region = ChannelsByRegion()


class ChronicInsertion(BaseModel):
    class Meta(TableMeta):
        table = "chronic-insertions"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    name = UnicodeAttribute()
    subject = UnicodeAttribute()
    lab = UnicodeAttribute()
    model = UnicodeAttribute(null=True)
    serial = UnicodeAttribute(default="")
    start_time = UnicodeAttribute(null=True)
    end_time = UnicodeAttribute(null=True)
    narrative = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)


class FieldsOfViewBySession(GlobalSecondaryIndex["FieldOfView"]):
    class Meta:
        index_name = "session-index"
        projection = AllProjection()

    session = UnicodeAttribute(hash_key=True)


class FieldOfView(BaseModel):
    class Meta(TableMeta):
        table = "fields-of-view"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    name = UnicodeAttribute()
    session = UnicodeAttribute()
    lab = UnicodeAttribute()
    imaging_type = UnicodeAttribute(null=True)
    stack = UnicodeAttribute(null=True)
    datasets = ListAttribute(of=UnicodeAttribute, default=list)
    json = JSONAttribute(null=True)

    by_session = FieldsOfViewBySession()
