"""Labs and the data repositories they store files in."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from chalicelib.models.base import BaseModel, TableMeta, new_id


class Lab(BaseModel):
    class Meta(TableMeta):
        table = "labs"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    institution = UnicodeAttribute(default="")
    address = UnicodeAttribute(default="")
    timezone = UnicodeAttribute(default="UTC")
    reference_weight_pct = NumberAttribute(default=0.0)
    zscore_weight_pct = NumberAttribute(default=0.0)
    repositories = ListAttribute(of=UnicodeAttribute, default=list)
    json = JSONAttribute(null=True)
    # the housing a new cage gets by default (Fig. 2 reports the light cycle and food)
    light_cycle = NumberAttribute(null=True)  # 0 normal, 1 inverted
    food = UnicodeAttribute(null=True)
    cage_type = UnicodeAttribute(null=True)
    enrichment = UnicodeAttribute(null=True)
    cage_cleaning_frequency_days = NumberAttribute(null=True)


class DataRepository(BaseModel):
    """Where file records live: the central S3 store (globus_is_personal false) or a lab server."""

    class Meta(TableMeta):
        table = "data-repositories"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    lab = UnicodeAttribute(null=True)
    repository_type = UnicodeAttribute(default="Fileserver")
    data_url = UnicodeAttribute(null=True)  # none: a repository ONE cannot download from over HTTP
    globus_is_personal = BooleanAttribute(default=False)
    json = JSONAttribute(null=True)
    hostname = UnicodeAttribute(default="")
    globus_path = UnicodeAttribute(default="")
    globus_endpoint_id = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(default="")


class DataRepositoryType(BaseModel):
    """The kinds of repository (Alyx's vocabulary: Fileserver, ...; onecloud's central store is S3)."""

    class Meta(TableMeta):
        table = "data-repository-types"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    json = JSONAttribute(null=True)


class LabLocation(BaseModel):
    """A place in a lab where sessions and surgeries happen (a rig, a room); Alyx's ``locations``."""

    class Meta(TableMeta):
        table = "locations"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    lab = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)
