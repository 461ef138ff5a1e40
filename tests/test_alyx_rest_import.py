"""``onecloud import-alyx URL``: a running Alyx read over its REST API, in the shapes Alyx answers
(related records by name, ids in ``url`` only on some lists, unpaged lists, endpoints it does not have)."""

from __future__ import annotations

import uuid

from chalicelib.alyx.from_rest import to_dump
from chalicelib.alyx.translate import translate
from chalicelib.models import Note
from onecloud.client import ApiError
from onecloud.import_alyx import import_rest, read_rest, summary
from tests.test_alyx_import import _ThroughApp, storage_bytes

ALYX = "https://alyx.example.org"
IDS = {
    name: str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    for name in ("alice", "M1", "M2", "w1", "r1", "s1", "c1", "d1", "repo", "type")
}
DATASET = {  # as Alyx's /datasets answers: the session as a URL, QC by name, file records inside
    "url": f"{ALYX}/datasets/{IDS['d1']}",
    "name": "mainen.thing.npy",
    "session": f"{ALYX}/sessions/{IDS['s1']}",
    "collection": "alf",
    "revision": None,
    "dataset_type": "mainen.thing",
    "data_format": "npy",
    "hash": "0" * 32,
    "file_size": 1024,
    "version": "1.0",
    "default_dataset": True,
    "qc": "PASS",
    "created_by": "alice",
    "file_records": [
        {
            "data_repository": "mainen_server",
            "relative_path": "cortexlab/Subjects/M1/2024-05-02/001/alf/mainen.thing.npy",
            "exists": True,
            "data_url": "http://mainen.example.org/data/cortexlab/Subjects/M1/2024-05-02/001/alf/mainen.thing.npy",
        }
    ],
}


def _alyx_records() -> dict[str, list[dict]]:
    """Endpoint -> what Alyx 3 answers (its labs carry no id; weighings name theirs in ``url``)."""
    return {
        "labs": [
            {
                "name": "cortexlab",
                "institution": "UCL",
                "timezone": "Europe/London",
                "reference_weight_pct": 0.8,
                "zscore_weight_pct": 0.0,
                "json": None,
            }
        ],
        "users": [
            {
                "id": IDS["alice"],
                "username": "alice",
                "email": "alice@example.org",
                "first_name": "Alice",
                "last_name": "A",
                "lab": ["cortexlab"],
            }
        ],
        "projects": [{"name": "ibl_neuropixel_brainwide_01", "description": "", "users": ["alice"]}],
        "subjects": [
            {
                "id": IDS[nick],
                "url": f"{ALYX}/subjects/{nick}",
                "nickname": nick,
                "lab": "cortexlab",
                "responsible_user": "alice",
                "sex": "F",
                "birth_date": "2024-01-01",
                "death_date": None,
                "species": "Laboratory mouse",
                "strain": None,
                "line": None,
                "litter": None,
                "source": None,
                "projects": ["ibl_neuropixel_brainwide_01"],
                "genotype": [],
                "alive": True,
                "age_weeks": 20,
                "description": "",
                "json": None,
            }
            for nick in ("M1", "M2")
        ],
        "weighings": [
            {
                "url": f"{ALYX}/weighings/{IDS['w1']}",
                "subject": "M1",
                "date_time": "2024-05-01T09:00:00",
                "weight": 20.5,
                "user": "alice",
            },
            {
                "url": f"{ALYX}/weighings/{IDS['c1']}",
                "subject": "ghost",
                "date_time": "2024-05-01T09:00:00",
                "weight": 19.0,
                "user": "alice",
            },
        ],
        "water-restriction": [
            {  # no id and no url: a uuid derived from subject and start, the same every run
                "subject": "M1",
                "start_time": "2024-05-01T08:00:00",
                "end_time": None,
                "reference_weight": 21.0,
                "water_type": "Water",
            }
        ],
        "data-repository": [
            {
                "id": IDS["repo"],
                "name": "mainen_server",
                "data_url": "http://mainen.example.org/data/",
                "globus_is_personal": True,
                "repository_type": "Fileserver",
            }
        ],
        "dataset-types": [
            {"id": IDS["type"], "name": "mainen.thing", "description": "a lab's own", "filename_pattern": ""}
        ],
        "datasets": [DATASET],
        "sessions": [
            {
                "id": IDS["s1"],
                "url": f"{ALYX}/sessions/{IDS['s1']}",
                "subject": "M1",
                "lab": "cortexlab",
                "start_time": "2024-05-02T10:00:00",
                "number": 1,
                "task_protocol": "_iblrig_tasks_trainingChoiceWorld",
                "projects": ["ibl_neuropixel_brainwide_01"],
            }
        ],
    }


class _Alyx:
    """What import_rest reads of onecloud.client.Api, answered as Alyx does: the lists above (sessions in
    summary; the detail adds users, narrative, qc as a name), 404 for what Alyx has no endpoint for."""

    def __init__(self) -> None:
        self.records, self.asked = _alyx_records(), []
        self.files: dict[str, bytes] = {}

    def download(self, url: str) -> bytes:
        if url not in self.files:
            raise ApiError(f"GET {url}: 404 Not Found", status=404)
        return self.files[url]

    def get(self, path: str, **params):
        self.asked.append(path)
        name = path.strip("/").split("/")
        if name[0] == "sessions" and len(name) == 2:
            return {
                **self.records["sessions"][0],
                "users": ["alice"],
                "narrative": "fine",
                "qc": "PASS",
                "n_trials": 400,
                "n_correct_trials": 300,
                "procedures": [],
                "type": "Experiment",
            }
        if name[0] not in self.records:
            raise ApiError(f"GET {path}: 404 Not found.", status=404)
        results = self.records[name[0]]
        if name[0] == "users":
            return results  # some Alyx lists are not paged
        limit, offset = int(params.get("limit", 250)), int(params.get("offset", 0))
        return {
            "count": len(results),
            "next": f"{ALYX}{path}?offset={offset + limit}" if offset + limit < len(results) else None,
            "previous": None,
            "results": results[offset : offset + limit],
        }


def test_alyx_rest_answers_translate_as_a_dump_does_keeping_uuids():
    served, missing = read_rest(_Alyx(), page=1)  # one record a page: the paging is followed
    assert (
        "/lines" in missing and "/weighings" not in missing and "/water-restrictions" not in missing
    )  # Alyx: /water-restriction
    dump, known = to_dump(served)
    translation = translate(dump, known)
    [lab] = translation.records["labs"]
    assert lab["id"] == to_dump(read_rest(_Alyx())[0])[0][0]["pk"]  # none served: the same one every run
    subjects = {s["nickname"]: s for s in translation.records["subjects"]}
    assert subjects["M1"]["id"] == IDS["M1"] and subjects["M1"]["species"] == "Laboratory mouse"
    [weighing] = translation.records["weighings"]
    assert weighing["id"] == IDS["w1"] and weighing["subject_id"] == IDS["M1"] and weighing["user"] == "alice"
    [skipped] = translation.skipped["actions.weighing"]
    assert skipped.pk == IDS["c1"] and "ghost" in skipped.reason
    [restriction] = translation.records["water-restrictions"]
    assert restriction["subject"] == "M1" and restriction["reference_weight"] == 21.0
    [session] = translation.records["sessions"]
    assert (session["users"], session["qc"], session["narrative"], session["date_number"]) == (
        ["alice"],
        10,
        "fine",
        "2024-05-02#001",
    )


def test_a_lab_read_from_alyx_over_rest_lands_with_its_uuids_and_a_second_run_changes_nothing(api):
    alyx = _Alyx()
    reports, missing = import_rest(_ThroughApp(api), alyx)
    counts = {r.kind: (r.read, +r.counts, len(r.skipped)) for r in reports}  # + drops zeros
    assert counts["subjects"] == (2, {"created": 2}, 0)
    assert counts["weighings"] == (2, {"created": 1}, 1)
    assert counts["sessions"] == (1, {"created": 1}, 0)
    assert counts["water-restrictions"] == (1, {"created": 1}, 0)
    assert api.get("/subjects/M1").json_body["id"] == IDS["M1"]
    assert api.get(f"/weighings/{IDS['w1']}").json_body["weight"] == 20.5
    assert api.get(f"/sessions/{IDS['s1']}").json_body["narrative"] == "fine"
    assert "not read (the source does not serve them): /species" in summary(reports, missing)
    dataset = api.get(f"/datasets/{IDS['d1']}").json_body
    assert (dataset["dataset_type"], dataset["collection"], dataset["qc"]) == ("mainen.thing", "alf", "PASS")
    [record] = api.get(f"/files?dataset={IDS['d1']}").json_body["results"]
    assert (record["data_repository"], record["exists"]) == ("mainen_server", True)
    assert counts["dataset-types"] == (1, {"created": 1}, 0) and counts["files"] == (1, {"created": 1}, 0)
    again, _ = import_rest(_ThroughApp(api), alyx)
    assert {r.kind: dict(r.counts) for r in again if r.counts["created"] or r.counts["updated"]} == {}


def test_notes_read_from_alyx_over_rest_land_on_their_records_and_a_second_run_changes_nothing(api):
    alyx = _Alyx()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    alyx.files = {f"{ALYX}/uploaded/2024/05/02/photo.png": png}  # gone.png: not there any more
    note = {"user": "alice", "date_time": "2024-05-02T10:00:00", "json": None}
    kept, session_note, photo, elsewhere, lost = (str(uuid.uuid4()) for _ in range(5))
    alyx.records["notes"] = [  # as Alyx's /notes answers: the content type by its model's name
        {
            **note,
            "id": kept,
            "text": "lost weight",
            "content_type": "subject",
            "object_id": IDS["M1"],
            "image": None,
        },
        {
            **note,
            "id": session_note,
            "text": "licks",
            "content_type": "session",
            "object_id": IDS["s1"],
            "image": None,
        },
        {
            **note,
            "id": photo,
            "text": "a photo",
            "content_type": "subject",
            "object_id": IDS["M2"],
            "image": f"{ALYX}/uploaded/2024/05/02/photo.png",
        },
        {
            **note,
            "id": elsewhere,
            "text": "?",
            "content_type": "weighing",
            "object_id": IDS["w1"],
            "image": None,
        },
    ]
    alyx.records["notes"].append(
        {
            **note,
            "id": lost,
            "text": "photo lost",
            "content_type": "subject",
            "object_id": IDS["M1"],
            "image": f"{ALYX}/uploaded/2024/05/02/gone.png",
        }
    )
    reports, missing = import_rest(_ThroughApp(api), alyx)
    notes = {r.kind: r for r in reports}["notes"]
    assert "/notes" not in missing
    assert (notes.read, +notes.counts) == (5, {"created": 4})
    assert [(s["id"], s["reason"]) for s in notes.skipped] == [
        (elsewhere, "a note on a record of weighing: onecloud keeps notes on subjects and sessions")
    ]
    [notice] = notes.notices  # the lost image is reported, its note's text imported
    assert notice["id"] == lost and notice["reason"].startswith(f"image {ALYX}/uploaded/2024/05/02/gone.png")
    assert api.get(f"/notes/{lost}").json_body["image"] is None
    assert api.get(f"/notes/{kept}").json_body["object_id"] == IDS["M1"]
    [on_session] = api.get(f"/notes?object_id={IDS['s1']}").json_body["results"]
    assert (on_session["id"], on_session["content_type"], on_session["user"]) == (
        session_note,
        "session",
        "alice",
    )
    assert api.get(f"/notes/{photo}").json_body["text"] == "a photo"
    assert api.get(f"/notes/{photo}/image").status_code == 302
    assert storage_bytes(Note.get(photo).image) == png
    again, _ = import_rest(_ThroughApp(api), alyx)
    assert +{r.kind: r for r in again}["notes"].counts == {"unchanged": 4}
