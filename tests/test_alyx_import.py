"""Moving a lab from Alyx: the anonymized dump of a real Alyx, imported through the API, then again."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest

from chalicelib import aws
from chalicelib.alyx.translate import load_dump, translate
from chalicelib.models import Note
from onecloud.import_alyx import import_dump, summary
from tests.webpages import WebClient

DUMP = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "alyx" / "all_dumped_anon.json.gz"


class _ThroughApp:
    """What ``import_dump`` needs of onecloud.client.Api, answered by the app in-process."""

    def __init__(self, api, user: str = "admin") -> None:
        self.api, self.user = api, user

    def post(self, path: str, json=None):
        response = self.api.post(path, json, user=self.user)
        assert response.status_code == 200, response.json_body
        return response.json_body


def test_translation_keeps_uuids_and_resolves_references_by_name():
    translation = translate(load_dump(DUMP))
    subjects = {s["id"]: s for s in translation.records["subjects"]}
    assert len(subjects) == 968
    litter = next(litter for litter in translation.records["litters"] if litter["breeding_pair"])
    assert litter["breeding_pair"] in {p["name"] for p in translation.records["breeding-pairs"]}
    sessions = translation.records["sessions"]
    assert len({(s["lab"], s["subject"], s["date_number"]) for s in sessions}) == 337  # numbered apart
    assert [s.reason[:40] for s in translation.skipped["misc.lablocation"]][:1] == [
        "onecloud keeps a location as its name on"
    ]


def test_a_dump_that_is_not_dumpdata_is_refused_with_the_reason(tmp_path):
    from chalicelib.errors import BadRequest

    bad = tmp_path / "dump.json.gz"
    bad.write_bytes(gzip.compress(json.dumps({"not": "a list"}).encode()))
    with pytest.raises(BadRequest, match="dumpdata"):
        load_dump(bad)


def test_the_import_is_for_superusers(api):
    refused = api.post("/alyx-import", {"kind": "labs", "records": []}, user="alice")
    assert refused.status_code == 403
    unknown = api.post("/alyx-import", {"kind": "planets", "records": []})
    assert unknown.status_code == 400 and "planets" in unknown.json_body["detail"]


def test_the_alyx_dump_imports_whole_and_a_second_run_changes_nothing(api):
    first = {r.kind: r for r in import_dump(_ThroughApp(api), DUMP)}
    expected = {
        "subjects": 968,
        "sessions": 337,
        "litters": 185,
        "surgeries": 121,
        "water-restrictions": 63,
        "breeding-pairs": 58,
        "weighings": 50,
        "water-administrations": 50,
        "zygosities": 50,
        "genotype-tests": 50,
        "lines": 32,
        "users": 29,
        "alleles": 26,
        "culls": 24,
        "procedures": 21,
        "sequences": 18,
        "subject-requests": 16,
        "strains": 9,
        "sources": 3,
        "labs": 1,
        "species": 1,
    }
    for kind, count in expected.items():
        report = first[kind]
        assert report.read == count, kind
        assert report.counts["created"] + report.counts["unchanged"] + report.counts["updated"] == count, (
            kind,
            report.counts,
            report.skipped[:3],
        )
    assert first["locations"].read == 6 and len(first["locations"].skipped) == 6
    # the pre-seeded Water is the same water type; Alyx's second one is new
    assert first["water-type"].counts["created"] + first["water-type"].counts["unchanged"] == 2

    listed = api.get("/subjects?limit=1").json_body["count"]
    assert listed == 968
    for name, count in (
        ("litters", 185),
        ("breeding-pairs", 58),
        ("lines", 32),
        ("genotype-tests", 50),
        ("zygosities", 50),
        ("culls", 24),
        ("sessions", 337),
    ):
        assert api.get(f"/{name}?limit=1").json_body["count"] == count, name

    cull = api.get("/culls?limit=1").json_body["results"][0]
    subject = api.get(f"/subjects?nickname={cull['subject']}").json_body["results"][0]
    assert subject["death_date"] and subject["alive"] is False
    assert all(
        r["end_time"] for r in api.get(f"/water-restrictions?subject={cull['subject']}").json_body["results"]
    )

    pages = WebClient(api.client).login("admin")  # and through the colony's pages
    for path, query, count in (
        ("/ui/litters", {}, 185),
        ("/ui/breeding-pairs", {"status": "all"}, 58),
        ("/ui/lines", {"is_active": "all"}, 32),
        ("/ui/culls", {}, 24),
    ):
        assert f"{count} shown" in pages.get(path, **query), path
    assert "Culled on" in pages.get(f"/ui/subjects/{cull['subject']}", lab=subject["lab"])

    second = import_dump(_ThroughApp(api), DUMP)
    changed = {r.kind: dict(r.counts) for r in second if r.counts["created"] or r.counts["updated"]}
    assert changed == {}
    assert "unchanged" in summary(second)


def test_data_records_of_a_dump_translate_with_their_session_lab_and_file_records():
    lab, user, subject, session = (str(uuid.uuid4()) for _ in range(4))
    dataset, repository, kind, fmt, record = (str(uuid.uuid4()) for _ in range(5))
    dump = [
        {"model": "misc.lab", "pk": lab, "fields": {"name": "somelab"}},
        {"model": "misc.labmember", "pk": user, "fields": {"username": "carla"}},
        {"model": "subjects.subject", "pk": subject, "fields": {"nickname": "M1", "lab": lab}},
        {
            "model": "actions.session",
            "pk": session,
            "fields": {"subject": subject, "start_time": "2020-01-02"},
        },
        {"model": "data.dataformat", "pk": fmt, "fields": {"name": "npy", "file_extension": ".npy"}},
        {"model": "data.datasettype", "pk": kind, "fields": {"name": "spikes.times", "filename_pattern": ""}},
        {
            "model": "data.datarepository",
            "pk": repository,
            "fields": {"name": "somelab_SR", "data_url": None},
        },
        {
            "model": "data.dataset",
            "pk": dataset,
            "fields": {
                "name": "spikes.times.npy",
                "session": session,
                "collection": "alf/probe00",
                "dataset_type": kind,
                "data_format": fmt,
                "created_by": user,
                "qc": 10,
            },
        },
        {
            "model": "data.filerecord",
            "pk": record,
            "fields": {
                "dataset": dataset,
                "data_repository": repository,
                "exists": True,
                "relative_path": "somelab/Subjects/M1/2020-01-02/001/alf/probe00/spikes.times.npy",
            },
        },
        {"model": "data.filerecord", "pk": "x", "fields": {"dataset": "gone", "data_repository": repository}},
    ]
    translation = translate(dump)
    [found] = translation.records["datasets"]
    assert (found["id"], found["lab"], found["relative_path"], found["dataset_type"], found["qc"]) == (
        dataset,
        "somelab",
        "alf/probe00/spikes.times.npy",
        "spikes.times",
        10,
    )
    [copy] = translation.records["files"]
    assert (copy["dataset"], copy["session"], copy["data_repository"], copy["exists"]) == (
        dataset,
        session,
        "somelab_SR",
        True,
    )
    assert [s.reason for s in translation.skipped["data.filerecord"]] == ["dataset gone is not in the dump"]


def test_notes_of_a_dump_land_on_their_subject_or_session_and_a_second_run_changes_nothing(api, tmp_path):
    lab, user, subject, session, weighing = (str(uuid.uuid4()) for _ in range(5))
    on_subject, on_session, with_image, on_weighing, dangling = (str(uuid.uuid4()) for _ in range(5))
    note = {"user": user, "date_time": "2020-01-02T10:00:00Z", "text": "healthy"}
    dump = [
        {"model": "misc.lab", "pk": lab, "fields": {"name": "notelab"}},
        {"model": "misc.labmember", "pk": user, "fields": {"username": "nora"}},
        {"model": "subjects.subject", "pk": subject, "fields": {"nickname": "N1", "lab": lab}},
        {
            "model": "actions.session",
            "pk": session,
            "fields": {"subject": subject, "start_time": "2020-01-02"},
        },
        {
            "model": "contenttypes.contenttype",
            "pk": 17,
            "fields": {"app_label": "actions", "model": "session"},
        },
        # dumpdata --natural-foreign names the content type; a plain dump gives its id
        {
            "model": "misc.note",
            "pk": on_subject,
            "fields": {**note, "content_type": ["subjects", "subject"], "object_id": subject},
        },
        {
            "model": "misc.note",
            "pk": on_session,
            "fields": {
                **note,
                "text": "good run",
                "content_type": 17,
                "object_id": session,
                "image": "2020/01/02/run.png",  # copied beside the dump from Alyx's media folder
            },
        },
        {
            "model": "misc.note",
            "pk": with_image,
            "fields": {
                **note,
                "text": "see photo",
                "content_type": 99,
                "object_id": subject,
                "image": "2020/01/02/a.png",
            },
        },
        {
            "model": "misc.note",
            "pk": on_weighing,
            "fields": {**note, "content_type": ["actions", "weighing"], "object_id": weighing},
        },
        {"model": "misc.note", "pk": dangling, "fields": {**note, "content_type": 99, "object_id": weighing}},
    ]
    path = tmp_path / "notes.json"
    path.write_text(json.dumps(dump))
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    (tmp_path / "uploaded" / "2020" / "01" / "02").mkdir(parents=True)
    (tmp_path / "uploaded" / "2020" / "01" / "02" / "run.png").write_bytes(png)

    first = {r.kind: r for r in import_dump(_ThroughApp(api), path)}
    notes = first["notes"]
    assert (notes.read, +notes.counts) == (5, {"created": 3})
    reasons = {s["id"]: s["reason"] for s in notes.skipped}
    assert reasons == {
        on_weighing: "a note on a record of actions.weighing: onecloud keeps notes on subjects and sessions",
        dangling: f"its record {weighing} is not a subject or session of the dump",
    }
    assert [n["id"] for n in notes.notices] == [with_image] and "2020/01/02/a.png" in notes.notices[0][
        "reason"
    ]
    assert f"imported in part: notes {with_image}: image 2020/01/02/a.png not fetched" in summary(
        list(first.values())
    )

    on_n1 = api.get(f"/notes?object_id={subject}").json_body["results"]
    assert {(n["id"], n["text"], n["content_type"], n["user"], n["image"]) for n in on_n1} == {
        (on_subject, "healthy", "subject", "nora", None),
        (with_image, "see photo", "subject", "nora", None),
    }
    [run] = api.get(f"/notes?object_id={session}").json_body["results"]
    assert (run["id"], run["content_type"], run["text"]) == (on_session, "session", "good run")
    stored = Note.get(on_session)
    assert stored.lab == "notelab"  # written by that lab's members only
    assert api.get(f"/notes/{on_session}/image").status_code == 302
    assert storage_bytes(stored.image) == png

    again = {r.kind: r for r in import_dump(_ThroughApp(api), path)}["notes"]
    assert +again.counts == {"unchanged": 3} and len(again.skipped) == 2
    assert Note.get(on_session).image == stored.image  # not stored again


def storage_bytes(key: str) -> bytes:
    return aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key)["Body"].read()
