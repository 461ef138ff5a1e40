"""Notes with images on subjects and sessions (colony-web.md 2.8): listed on their pages, added there.

The image goes from the browser straight to the data bucket (``/ui/notes/upload-url`` gives a presigned
PUT, ``static/onecloud.js`` sends it); without JavaScript the file comes with the form (small images
only, Lambda's body limit). Either way the note is written by the REST engine, with its checks.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from chalice import Response

from chalicelib import notes, rest
from chalicelib.errors import BadRequest, OnecloudError
from chalicelib.models import Note
from chalicelib.permissions import require_write
from chalicelib.web.pages import Web, page, redirect


def notes_of(object_id: str) -> list[Note]:
    """The notes of a subject or session, newest first (one query)."""
    return sorted(Note.by_object.query(object_id), key=lambda note: note.date_time, reverse=True)


def _return(web: Web, **extra: str) -> Response:
    """Back to the page the form was on (a path of these pages only), with ``extra`` in its query."""
    target = web.value("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    path, _, query = target.partition("?")
    return redirect(web, path, **{**dict(parse_qsl(query)), **extra})


@page("/notes/add", ("POST",))
def add_note(web: Web) -> Response:
    data = {
        "content_type": web.value("content_type"),
        "object_id": web.value("object_id"),
        "text": web.value("text"),
    }
    stored = None
    try:
        upload = web.upload("image")
        if web.value("image_key"):
            data["image"] = web.value("image_key")
        elif upload is not None:
            stored = data["image"] = notes.store_image(upload)
        if not data["text"] and "image" not in data:
            raise BadRequest("text: write something, or add an image")
        rest.create_item(rest.REGISTRY["notes"], data, web.ctx)
    except OnecloudError as error:
        if stored:
            notes.discard(stored)
        return _return(web, note_error=error.detail)
    return _return(web)


@page("/notes/upload-url", ("POST",))
def note_upload_url(web: Web) -> Response:
    """Where the browser PUTs a note's image (JSON: url, headers, key); only for users who may write."""
    require_write(web.user, what="note", lab=next(iter(sorted(web.user.labs)), None), lab_scoped=True)
    try:
        size = int(web.value("size") or 0)
    except ValueError:
        size = 0
    try:
        target = notes.direct_upload(web.value("filename"), web.value("content_type"), size)
    except BadRequest as error:
        return Response(body=json.dumps({"detail": error.detail}), status_code=400, headers=_JSON)
    return Response(body=json.dumps(target), status_code=200, headers=_JSON)


_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


@page("/notes/{key}/image")
def note_image(web: Web, key: str) -> Response:
    """The full image, for logged-in users (a short-lived link to the store)."""
    return Response(
        body="", status_code=302, headers={"Location": notes.image_of(key), "Cache-Control": "no-store"}
    )
