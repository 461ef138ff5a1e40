"""Public data releases: the release, and the sessions and datasets it froze.

A release is written twice: claimed (``publishing``) before anything else, so two publications of one name
cannot both proceed, and ``published`` once its datasets are protected and its files frozen. Nothing
changes it afterwards (but the DOI minted for it right after); a later release may name it in
``supersedes``. A ``draft`` holds what a release will be (its selection and metadata) until it is
published, and is visible to superusers only.
"""

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

DRAFT, PUBLISHING, PUBLISHED = "draft", "publishing", "published"


class Release(BaseModel):
    class Meta(TableMeta):
        table = "releases"

    name = UnicodeAttribute(hash_key=True)  # also the name of its datasets' tag (public, protected)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute(default=PUBLISHING)
    supersedes = UnicodeAttribute(null=True)
    selection = JSONAttribute(null=True)  # what was asked for, as given
    created_by = UnicodeAttribute(null=True)
    created_datetime = UnicodeAttribute(default=now)
    published_datetime = UnicodeAttribute(null=True)  # also the date_created of its cache tables
    session_count = NumberAttribute(default=0)
    dataset_count = NumberAttribute(default=0)
    total_bytes = NumberAttribute(default=0)
    # what makes it citable (chalicelib/sharing/citation.py)
    version = UnicodeAttribute(null=True)  # 0.YYMMDD.HHMM, given at publication
    title = UnicodeAttribute(default="")
    contributors = JSONAttribute(null=True)  # [{name, orcid, affiliation, organisation}]
    licence = UnicodeAttribute(default="CC-BY-4.0")
    keywords = ListAttribute(of=UnicodeAttribute, default=list)
    doi = UnicodeAttribute(null=True)
    citation = UnicodeAttribute(null=True)
    nwb = BooleanAttribute(default=False)  # each session exported to NWB and released with its data
    subject_count = NumberAttribute(default=0)


class ReleasedSession(BaseModel):
    """A session of a release, as it was when released (what its ``sessions.pqt`` row says)."""

    class Meta(TableMeta):
        table = "released-sessions"

    release = UnicodeAttribute(hash_key=True)
    session = UnicodeAttribute(range_key=True)
    lab = UnicodeAttribute()
    subject = UnicodeAttribute()
    date = UnicodeAttribute()
    number = NumberAttribute()
    task_protocol = UnicodeAttribute(default="")
    projects = UnicodeAttribute(default="")  # comma separated, as in ONE's table
    dataset_count = NumberAttribute(default=0)
    total_bytes = NumberAttribute(default=0)


class ReleasesOfDataset(GlobalSecondaryIndex["ReleasedDataset"]):
    """What a public download asks: in which release is this dataset, and which object version."""

    class Meta:
        index_name = "dataset-index"
        projection = AllProjection()

    dataset = UnicodeAttribute(hash_key=True)


class ReleasedDataset(BaseModel):
    """A dataset of a release, frozen: its file is the S3 object version ``version_id`` at ``key``, which
    a later upload to the same key cannot replace. ``entry`` is 'session/dataset', so a release's datasets
    are listed per session by key."""

    class Meta(TableMeta):
        table = "released-datasets"

    release = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    dataset = UnicodeAttribute()
    session = UnicodeAttribute()
    key = UnicodeAttribute()  # lab/Subjects/subject/date/NNN/collection/#revision#/name
    rel_path = UnicodeAttribute()  # relative to the session
    version_id = UnicodeAttribute(null=True)  # None only in an unversioned bucket
    file_size = NumberAttribute()
    hash = UnicodeAttribute(null=True)
    qc = NumberAttribute(default=0)
    default_revision = BooleanAttribute(default=True)

    by_dataset = ReleasesOfDataset()

    @staticmethod
    def entry_for(session: str, dataset: str) -> str:
        return f"{session}/{dataset}"
