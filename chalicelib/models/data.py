"""The data catalogue: dataset types, formats, revisions, tags, datasets and their file records."""

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


class DatasetType(BaseModel):
    """``filename_pattern`` is a lowercase fnmatch pattern, unique when set; blank means the file's
    object.attribute must equal the type's name."""

    class Meta(TableMeta):
        table = "dataset-types"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    filename_pattern = UnicodeAttribute(default="")
    created_by = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)

    @property
    def unique_keys(self) -> list[str]:
        return [guard("filename_pattern", self.filename_pattern)] if self.filename_pattern else []


class FormatsByExtension(GlobalSecondaryIndex["DataFormat"]):
    class Meta:
        index_name = "extension-index"
        projection = AllProjection()

    file_extension = UnicodeAttribute(hash_key=True)


class DataFormat(BaseModel):
    class Meta(TableMeta):
        table = "data-formats"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    file_extension = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    matlab_loader_function = UnicodeAttribute(default="")
    python_loader_function = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)

    by_extension = FormatsByExtension()


class Revision(BaseModel):
    class Meta(TableMeta):
        table = "revisions"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    created_datetime = UnicodeAttribute(default=now)


class Tag(BaseModel):
    class Meta(TableMeta):
        table = "tags"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    protected = BooleanAttribute(default=False)
    public = BooleanAttribute(default=False)
    hash = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)


class DatasetsBySession(GlobalSecondaryIndex["Dataset"]):
    """Datasets of a session, and (with the range key) the dataset at a collection/revision/name."""

    class Meta:
        index_name = "session-index"
        projection = AllProjection()

    session = UnicodeAttribute(hash_key=True)
    relative_path = UnicodeAttribute(range_key=True)


class DatasetsWithoutSession(GlobalSecondaryIndex["Dataset"]):
    """Datasets of no session (Alyx's aggregates, ``session__isnull``): a sparse index, only they carry
    ``aggregate``; the range key finds those of a collection (``Subjects/<lab>/<nickname>``)."""

    class Meta:
        index_name = "aggregate-index"
        projection = AllProjection()

    aggregate = UnicodeAttribute(hash_key=True)
    relative_path = UnicodeAttribute(range_key=True)


AGGREGATE = "aggregate"  # the one value of ``Dataset.aggregate``


class Dataset(BaseModel):
    """Identity is (session, collection, revision, name), written as ``relative_path`` and guarded. A
    dataset of no session (an aggregate) belongs to the record ``content_type``/``object_id`` names, if
    any (a subject's training table over all its sessions), and is identified within it."""

    class Meta(TableMeta):
        table = "datasets"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    session = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    object_id = UnicodeAttribute(null=True)
    aggregate = UnicodeAttribute(null=True)
    lab = UnicodeAttribute()
    relative_path = UnicodeAttribute()
    name = UnicodeAttribute()
    collection = UnicodeAttribute(default="")
    revision = UnicodeAttribute(default="")
    dataset_type = UnicodeAttribute()
    data_format = UnicodeAttribute()
    hash = UnicodeAttribute(null=True)
    file_size = NumberAttribute(null=True)
    version = UnicodeAttribute(null=True)
    default_dataset = BooleanAttribute(default=True)
    qc = NumberAttribute(default=0)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    created_by = UnicodeAttribute(null=True)
    created_datetime = UnicodeAttribute(default=now)
    json = JSONAttribute(null=True)

    by_session = DatasetsBySession()
    by_aggregate = DatasetsWithoutSession()

    @property
    def owner(self) -> str:
        """What the dataset is identified within: its session, or the record it aggregates over."""
        return self.session or f"{self.content_type or ''}:{self.object_id or ''}"

    @property
    def unique_keys(self) -> list[str]:
        return [guard("dataset", f"{self.owner}/{self.relative_path}")]


class FileRecordsByDataset(GlobalSecondaryIndex["FileRecord"]):
    class Meta:
        index_name = "dataset-index"
        projection = AllProjection()

    dataset = UnicodeAttribute(hash_key=True)


class FileRecordsBySession(GlobalSecondaryIndex["FileRecord"]):
    """All file records of a session in one query (session detail, dataset lists), not one per dataset."""

    class Meta:
        index_name = "session-index"
        projection = AllProjection()

    session = UnicodeAttribute(hash_key=True)


class FileRecordsByPath(GlobalSecondaryIndex["FileRecord"]):
    class Meta:
        index_name = "repository-path-index"
        projection = AllProjection()

    data_repository = UnicodeAttribute(hash_key=True)
    relative_path = UnicodeAttribute(range_key=True)


class FileRecord(BaseModel):
    """A copy of a dataset in one repository; ``relative_path`` is unique per repository."""

    class Meta(TableMeta):
        table = "file-records"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    dataset = UnicodeAttribute()
    session = UnicodeAttribute(null=True)  # none for an aggregate's file
    data_repository = UnicodeAttribute()
    relative_path = UnicodeAttribute()
    lab = UnicodeAttribute()
    exists = BooleanAttribute(default=False)
    json = JSONAttribute(null=True)

    by_dataset = FileRecordsByDataset()
    by_session = FileRecordsBySession()
    by_path = FileRecordsByPath()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("file", f"{self.data_repository}/{self.relative_path}")]


class Download(BaseModel):
    """How often a user downloaded a dataset (Alyx's ``new-download`` log). The id is derived from the
    user and the dataset, so the count of a pair is read and bumped by key."""

    class Meta(TableMeta):
        table = "downloads"

    id = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute()
    dataset = UnicodeAttribute()
    count = NumberAttribute(default=0)
    projects = ListAttribute(of=UnicodeAttribute, default=list)
    first_download = UnicodeAttribute(default=now)
    last_download = UnicodeAttribute(default=now)
    json = JSONAttribute(null=True)
