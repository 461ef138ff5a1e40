"""The Batch jobs' code as Batch runs it: inputs from S3, outputs back under the session, registered by
the event path; a job that fails exits non-zero with the reason in its output."""

from __future__ import annotations

import re
from pathlib import Path

import mtscomp
import numpy as np
import pytest

from app import app
from batch import ephys_compress, jobs
from chalicelib import aws
from chalicelib.models import Task
from onecloud.pump import EventPump

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"
FOLDER = "raw_ephys_data/probe00"
STEM = "_spikeglx_ephysData_g0_t0.imec0.ap"
FIXTURES = Path(__file__).parent / "fixtures" / "spikeglx"


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    return api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body


def recording(seconds: float = 0.5, channels: int = 385) -> bytes:
    """Band-limited noise with a shared component: compressible the way real probes are."""
    rng = np.random.default_rng(0)
    samples = int(30000 * seconds)
    noise = np.cumsum(rng.normal(0, 4, (samples, channels)), axis=0) * 0.05 + rng.normal(
        0, 6, (samples, channels)
    )
    noise += rng.normal(0, 20, (samples, 1))
    return noise.astype(np.int16).tobytes()


def meta_for(data: bytes) -> bytes:
    """A real NP1.0 .meta, told the size of this recording (its SHA1 line dropped)."""
    text = (FIXTURES / "sample3B_g0_t0.imec1.ap.meta").read_text()
    text = re.sub(r"^fileSHA1=.*\n", "", text, flags=re.M)
    return re.sub(r"^fileSizeBytes=.*$", f"fileSizeBytes={len(data)}", text, flags=re.M).encode()


def land(key: str, body: bytes) -> None:
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{key}", Body=body)
    EventPump(app).drain()


def task_named(session_id: str, name: str) -> Task:
    return next(t for t in Task.by_session.query(session_id) if t.name == name)


def test_compression_writes_a_cbin_any_mtscomp_reader_decodes_and_registers_it(api, session, tmp_path):
    data = recording()
    land(f"{FOLDER}/{STEM}.bin", data)
    land(f"{FOLDER}/{STEM}.meta", meta_for(data))
    task = task_named(session["id"], "EphysCompress_probe00")
    assert jobs.run(ephys_compress.compress_probe, [task.id]) == 0
    EventPump(app).drain()
    names = {d["name"]: d for d in api.get(f"/datasets?session={session['id']}").json_body["results"]}
    assert {f"{STEM}.cbin", f"{STEM}.ch"} <= set(names)
    assert names[f"{STEM}.cbin"]["dataset_type"] == "ephysData.raw.ap"
    s3 = aws.client("s3")
    for suffix in ("cbin", "ch"):
        body = s3.get_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{FOLDER}/{STEM}.{suffix}")
        (tmp_path / f"x.{suffix}").write_bytes(body["Body"].read())
    reader = mtscomp.Reader()
    reader.open(tmp_path / "x.cbin", tmp_path / "x.ch")
    assert reader[:].tobytes() == data
    reader.close()
    assert int(names[f"{STEM}.cbin"]["file_size"]) < len(data)


def test_a_job_that_fails_says_why_and_exits_non_zero(api, session, capsys):
    data = recording(0.1)
    land(f"{FOLDER}/{STEM}.bin", data + b"\x00")  # a torn upload: not a whole number of samples
    land(f"{FOLDER}/{STEM}.meta", meta_for(data))
    task = task_named(session["id"], "EphysCompress_probe00")
    assert jobs.run(ephys_compress.compress_probe, [task.id]) == 1
    output = capsys.readouterr()
    assert "not a whole number" in output.out + output.err
    assert not [
        d
        for d in api.get(f"/datasets?session={session['id']}").json_body["results"]
        if d["name"].endswith(".cbin")
    ]


def test_an_unknown_task_is_a_clear_failure(cloud, capsys):
    assert jobs.run(ephys_compress.compress_probe, ["not-a-task"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert jobs.run(ephys_compress.compress_probe, []) == 2


def test_the_raw_file_is_archived_only_after_its_compressed_copy_is_registered(api, session, monkeypatch):
    data = recording(0.2)
    land(f"{FOLDER}/{STEM}.bin", data)
    land(f"{FOLDER}/{STEM}.meta", meta_for(data))
    task = task_named(session["id"], "EphysCompress_probe00")
    aws.configure(aws.settings().with_changes(raw_policy="archive"))
    registered: list[str] = []
    waits = jobs.Job.wait_registered

    def wait_registered(job, relative, md5, timeout=jobs.REGISTRATION_WAIT):
        EventPump(app).drain()  # the event path runs while the job waits
        registered.append(relative)
        return waits(job, relative, md5, timeout)

    monkeypatch.setattr(jobs.Job, "wait_registered", wait_registered, raising=True)
    try:
        assert jobs.run(ephys_compress.compress_probe, [task.id]) == 0
    finally:
        aws.configure(aws.settings().with_changes(raw_policy="keep"))
    assert len(registered) == 2
    tags = aws.client("s3").get_object_tagging(
        Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{FOLDER}/{STEM}.bin"
    )
    assert tags["TagSet"] == [ephys_compress.RAW_TAG]
    raw = aws.client("s3").head_object(
        Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{FOLDER}/{STEM}.bin"
    )
    assert raw["ContentLength"] == len(data)  # never deleted here
