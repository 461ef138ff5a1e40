"""Notes with images through REST, as Alyx's: a multipart create with ``files={'image': ...}``."""

from __future__ import annotations

import uuid

import requests

from chalicelib import aws
from tests.webpages import png


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """The body ``requests`` would send for ``data=fields, files=files``."""
    prepared = requests.Request(
        "POST", "http://x/notes", data=fields, files={k: v for k, v in files.items()}
    ).prepare()
    return prepared.body, prepared.headers["Content-Type"]


def _subject(api, nickname: str = "KS050") -> str:
    answer = api.post("/subjects", {"nickname": nickname, "lab": "cortexlab"})
    assert answer.status_code == 201, answer.body
    return answer.json_body["id"]


def _post(api, fields, files, user="alice"):
    body, content_type = _multipart(fields, files)
    return api.post("/notes", body, user=user, headers={"Content-Type": content_type})


def _note_images() -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=aws.settings().data_bucket, Prefix="notes/")
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_note_with_an_image_is_created_like_alyx_and_the_image_read_back(api):
    subject = _subject(api)
    image = png()
    answer = _post(
        api,
        {
            "content_type": "subject",
            "object_id": subject,
            "text": "weight plot",
            "json": '{"tag": "## report ##"}',
        },
        {"image": ("plot.png", image, "image/png")},
    )
    assert answer.status_code == 201, answer.body
    note = answer.json_body
    assert note["image"] == f"http://localhost/notes/{note['id']}/image"
    assert note["json"] == {"tag": "## report ##"} and note["user"] == "alice"
    listed = api.get(f"/notes?object_id={subject}").json_body["results"]
    assert [n["image"] for n in listed] == [note["image"]]
    link = api.get(f"/notes/{note['id']}/image", user="pub")
    assert link.status_code == 302
    assert requests.get(link.headers["Location"], timeout=10).content == image


def test_the_image_of_a_note_is_not_served_to_anonymous_callers(api):
    subject = _subject(api)
    note = _post(
        api,
        {"content_type": "subject", "object_id": subject, "text": "x"},
        {"image": ("a.png", png(), "image/png")},
    )
    assert api.get(f"/notes/{note.json_body['id']}/image", user=None).status_code == 401


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept(api):
    subject = _subject(api)
    answer = _post(
        api,
        {"content_type": "subject", "object_id": subject, "text": "x"},
        {"image": ("notes.txt", b"just text", "text/plain")},
    )
    assert answer.status_code == 400 and "image" in answer.json_body["detail"]
    assert _note_images() == []


def test_a_note_refused_by_the_permission_check_leaves_no_image_behind(api):
    subject = _subject(api)
    answer = _post(
        api,
        {"content_type": "subject", "object_id": subject, "text": "x"},
        {"image": ("a.png", png(), "image/png")},
        user="bob",
    )
    assert answer.status_code == 403
    assert _note_images() == []


def test_a_note_cannot_point_its_image_at_another_object_of_the_bucket(api):
    subject = _subject(api)
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key="cortexlab/secret.bin", Body=b"x")
    answer = api.post(
        "/notes",
        {"content_type": "subject", "object_id": subject, "text": "x", "image": "cortexlab/secret.bin"},
        user="alice",
    )
    assert answer.status_code == 400 and "not an uploaded note image" in answer.json_body["detail"]
    note = api.post("/notes", {"content_type": "subject", "object_id": subject, "text": "x"}, user="alice")
    changed = api.patch(
        f"/notes/{note.json_body['id']}", {"image": f"notes/{uuid.uuid4()}.png"}, user="alice"
    )
    assert changed.status_code == 400


def test_alyx_media_path_of_a_note_image_redirects_to_it(api):
    """Alyx's ``uploaded`` view (``/uploaded/YYYY/MM/DD/<file>``, its MEDIA_URL): the stored image, to a
    reader; nothing for anonymous callers or paths that are not a stored note image."""
    subject = _subject(api)
    image = png()
    note = _post(
        api,
        {"content_type": "subject", "object_id": subject, "text": "x"},
        {"image": ("a.png", image, "image/png")},
    ).json_body
    (key,) = _note_images()
    path = key.removeprefix("notes/")
    link = api.get(f"/uploaded/{path}", user="pub")
    assert link.status_code == 302, link.body
    assert requests.get(link.headers["Location"], timeout=10).content == image
    assert api.get(f"/uploaded/{path}", user=None).status_code == 401
    year, month, day, _ = path.split("/")
    assert api.get(f"/uploaded/{year}/{month}/{day}/{uuid.uuid4()}.png").status_code == 404
    assert api.get(f"/uploaded/{year}/{month}/{day}/{note['id']}.txt").status_code == 404
    assert api.get("/uploaded/..%2F..%2Fx/a/b/c.png").status_code == 404
