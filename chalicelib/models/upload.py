"""Upload intents and the fate of every uploaded object (pending, registered or rejected with a reason)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now

UPLOAD_FILE_STATES = ("pending", "registered", "rejected")


class Upload(BaseModel):
    """An upload intent: who may put which files of which session, until when."""

    class Meta(TableMeta):
        table = "uploads"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    lab = UnicodeAttribute()
    session = UnicodeAttribute()
    user = UnicodeAttribute()
    created = UnicodeAttribute(default=now)
    expires = UnicodeAttribute()


class UploadFilesByUpload(GlobalSecondaryIndex["UploadFile"]):
    class Meta:
        index_name = "upload-index"
        projection = AllProjection()

    upload_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)


class UploadFilesByLabStatus(GlobalSecondaryIndex["UploadFile"]):
    """What a lab sees at ``GET /uploads?status=rejected``."""

    class Meta:
        index_name = "lab-status-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(range_key=True)


class UploadFile(BaseModel):
    """One object in the data bucket, keyed by its S3 key: kept and reported even when it is rejected."""

    class Meta(TableMeta):
        table = "upload-files"

    key = UnicodeAttribute(hash_key=True)
    upload_id = UnicodeAttribute(null=True)  # none for objects written without an intent (jobs)
    lab = UnicodeAttribute(null=True)
    session = UnicodeAttribute(null=True)
    path = UnicodeAttribute(null=True)  # relative to the session folder, as the client named it
    status = UnicodeAttribute(default="pending")
    reason = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    md5 = UnicodeAttribute(null=True)
    dataset = UnicodeAttribute(null=True)
    multipart_id = UnicodeAttribute(null=True)  # the S3 UploadId of a multipart upload
    part_size = NumberAttribute(null=True)
    part_md5s = JSONAttribute(null=True)  # part number (as text) -> md5 the client declared for it
    updated = UnicodeAttribute(default=now)

    by_upload = UploadFilesByUpload()
    by_lab_status = UploadFilesByLabStatus()
