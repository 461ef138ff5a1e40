"""Images of lab notebook notes, as Alyx's ``Note.image``: kept in the data bucket under ``notes/``.

Two ways in: a small image sent with the note (multipart ``POST /notes``, what ONE/ibllib send with
``files={'image': ...}``), written to S3 here; or, from the web pages, the browser PUTs the file straight
to S3 with a presigned URL (no Lambda body limit) and the note names the key. Either way the content
must be an image (PNG, JPEG, GIF or WebP, recognised by its first bytes). Images are read through
``/notes/<id>/image`` (or the page's equivalent), which answers a short-lived presigned URL to callers
allowed to read the note.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from chalicelib import aws, storage
from chalicelib.errors import BadRequest, NotFound
from chalicelib.forms import Upload
from chalicelib.models import Note

PREFIX = "notes/"
_DIGITS = re.compile(r"\A\d{2,4}\Z")
_IMAGE = re.compile(r"\A[\w.-]+\.(?:png|jpg|jpeg|gif|webp)\Z", re.IGNORECASE)
MAX_IMAGE_BYTES = 5 * 2**20  # through Lambda (multipart): under its 6 MB payload limit
MAX_DIRECT_BYTES = 50 * 2**20  # straight to S3 from the browser
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": (".png", "image/png"),
    b"\xff\xd8\xff": (".jpg", "image/jpeg"),
    b"GIF87a": (".gif", "image/gif"),
    b"GIF89a": (".gif", "image/gif"),
}
EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def image_kind(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an image from its first bytes, or None when it is not one."""
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return None


def new_key(extension: str) -> str:
    """``notes/YYYY/MM/DD/<uuid><ext>`` (Alyx files images by upload date too)."""
    today = datetime.date.today()
    return f"{PREFIX}{today:%Y/%m/%d}/{uuid.uuid4()}{extension}"


def store_image(upload: Upload) -> str:
    """Write an image sent with a note to the bucket; its key."""
    if len(upload.data) > MAX_IMAGE_BYTES:
        raise BadRequest(
            f"image: {len(upload.data)} bytes is more than {MAX_IMAGE_BYTES} bytes; upload larger images "
            "from the web pages, which send them straight to the store"
        )
    kind = image_kind(upload.data[:16])
    if kind is None:
        raise BadRequest(f"image: {upload.filename!r} is not a PNG, JPEG, GIF or WebP image")
    key = new_key(kind[0])
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket, Key=key, Body=upload.data, ContentType=kind[1]
    )
    return key


def direct_upload(filename: str, content_type: str, size: int) -> dict[str, Any]:
    """A presigned PUT for an image the browser sends straight to the bucket: url, headers, key."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        raise BadRequest(f"image: {filename!r} is not a .png, .jpg, .gif or .webp file")
    if not 0 < size <= MAX_DIRECT_BYTES:
        raise BadRequest(f"image: the size must be between 1 and {MAX_DIRECT_BYTES} bytes")
    key = new_key(".jpg" if extension == ".jpeg" else extension)
    kind = EXTENSIONS[extension]
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": aws.settings().data_bucket, "Key": key, "ContentType": kind},
        ExpiresIn=15 * 60,
    )
    return {"url": url, "headers": {"Content-Type": kind}, "key": key}


def check_uploaded(key: str) -> str:
    """A key a note may name: under ``notes/``, present, within the size limit, and an image."""
    if not key.startswith(PREFIX) or ".." in key:
        raise BadRequest(f"image: {key!r} is not an uploaded note image")
    try:
        size = int(storage.head(key)["ContentLength"])
    except Exception:  # noqa: BLE001 - any failure to find it is the same answer to the client
        raise BadRequest(f"image: nothing was uploaded at {key!r}") from None
    head = aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key, Range="bytes=0-15")
    if size > MAX_DIRECT_BYTES or image_kind(head["Body"].read()) is None:
        raise BadRequest("image: the uploaded file is not a PNG, JPEG, GIF or WebP image")
    return key


def image_of(note_id: str) -> str:
    """A short-lived URL of the note's image (for callers the permission check let read the note)."""
    try:
        note = Note.get(str(uuid.UUID(note_id)))
    except (ValueError, Note.DoesNotExist):
        raise NotFound(f"note {note_id} does not exist") from None
    if not note.image:
        raise NotFound(f"note {note_id} has no image")
    return storage.presign_get(note.image, 300)


def uploaded_image(path: str) -> str:
    """A short-lived URL of the note image at ``path`` under the media folder (``YYYY/MM/DD/<file>``):
    Alyx's ``/uploaded/<path>``. Nothing but a stored note image is served."""
    *date, name = path.split("/")
    if len(date) != 3 or not all(_DIGITS.match(part) for part in date) or not _IMAGE.match(name):
        raise NotFound(f"no uploaded image at {path[:300]!r}")
    key = f"{PREFIX}{path}"
    try:
        storage.head(key)
    except Exception:  # noqa: BLE001 - absent or unreadable: the same answer to the client
        raise NotFound(f"no uploaded image at {path!r}") from None
    return storage.presign_get(key, 300)


def discard(key: str) -> None:
    """Remove an image whose note could not be written."""
    aws.client("s3").delete_object(Bucket=aws.settings().data_bucket, Key=key)
