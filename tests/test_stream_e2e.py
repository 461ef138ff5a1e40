"""Streaming reads on the local stack: a lab member and, once released, anyone read a window of a probe's
compressed recording with ``onecloud stream`` and as a SpikeInterface recording, through the API's
redirects to presigned URLs, and get exactly what ``mtscomp.Reader`` decodes from the whole file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mtscomp
import numpy as np
import pytest

from batch.spikeglx import read_meta, volts_per_count
from tests.localstack import ROOT, As, running

pytestmark = pytest.mark.e2e
LAB, SUBJECT, DAY = "cortexlab", "KS024", "2024-06-01"
MEMBER, PASSWORD = "rig", "rig-password"
STEM = "_spikeglx_ephysData_g0_t0.imec0.ap"
RELEASE = "stream-2024"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("stream") / "state")


def onecloud(stack, *args: str, env: dict[str, str] | None = None, home: Path) -> subprocess.CompletedProcess:
    """The command as a user runs it: credentials (if any) in ``env``, its caches under ``home``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONECLOUD_")}
    return subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), *args],
        env={**clean, "ONECLOUD_URL": stack.url, "XDG_CACHE_HOME": str(home / "cache"),
             "XDG_CONFIG_HOME": str(home / "config"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


MEMBER_ENV = {"ONECLOUD_USERNAME": MEMBER, "ONECLOUD_PASSWORD": PASSWORD}


@pytest.fixture(scope="module")
def probe(stack, tmp_path_factory) -> dict:
    """A session whose probe00 was compressed on the rig (32 channels and sync, 10 s, 1-s chunks) and
    uploaded by a lab member."""
    from bench.sorting import write_ground_truth

    root = As(stack.url)
    root("POST", "/labs", status=201, json={"name": LAB})
    root("POST", "/users", status=201, json={"username": MEMBER, "password": PASSWORD, "lab": [LAB]})
    root("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    home = tmp_path_factory.mktemp("member")
    folder = home / LAB / "Subjects" / SUBJECT / DAY / "001"
    cbin, ch, meta, _ = write_ground_truth(
        folder / "raw_ephys_data" / "probe00", channels=32, seconds=10.0, units=5
    )
    uploaded = onecloud(stack, "upload", str(folder), "--lab", LAB, env=MEMBER_ENV, home=home)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    (session,) = root("GET", f"/sessions?subject={SUBJECT}&date_range={DAY}")["results"]
    reader = mtscomp.Reader(check_after_decompress=False, quiet=True)
    reader.open(cbin, ch)
    return {"eid": session["id"], "reader": reader, "volts": volts_per_count(read_meta(meta)), "root": root}


def test_a_lab_member_streams_a_window_that_mtscomp_decodes_identically(stack, probe, tmp_path):
    out = tmp_path / "window.npy"
    args = ["stream", probe["eid"], "--probe", "probe00", "--start", "2.5", "--duration", "1", "-o", str(out)]
    first = onecloud(stack, *args, env=MEMBER_ENV, home=tmp_path)
    assert first.returncode == 0, first.stderr
    expected = probe["reader"][75_000:105_000]
    np.testing.assert_allclose(np.load(out), expected * probe["volts"].astype(np.float32), rtol=1e-6)
    assert "30000 samples x 33 channels (volts)" in first.stdout
    assert "in 3 requests" in first.stdout  # the .ch, the .meta, then chunks 2 and 3 in one range
    again = onecloud(stack, *args, "--raw", "--channels", "0-3,32", env=MEMBER_ENV, home=tmp_path)
    assert again.returncode == 0, again.stderr
    np.testing.assert_array_equal(np.load(out), expected[:, [0, 1, 2, 3, 32]])
    assert "in 1 requests" in again.stdout  # the header and .meta come from the cache


def test_the_last_partial_window_is_clipped_at_the_end_of_the_recording(stack, probe, tmp_path):
    out = tmp_path / "end.npy"
    args = ["stream", probe["eid"], "--probe", "probe00", "--start", "9.5", "--duration", "2", "--raw"]
    done = onecloud(stack, *args, "-o", str(out), env=MEMBER_ENV, home=tmp_path)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(out), probe["reader"][285_000:300_000])


def test_unreleased_data_is_not_streamed_anonymously_and_released_data_is(stack, probe, tmp_path):
    out = tmp_path / "public.npy"
    args = ["stream", probe["eid"], "--probe", "probe00", "--start", "0", "--duration", "0.5", "--raw"]
    refused = onecloud(stack, *args, "-o", str(out), home=tmp_path)
    assert refused.returncode == 2 and "no released datasets in raw_ephys_data/probe00" in refused.stderr
    assert not out.exists()
    datasets = probe["root"]("GET", f"/datasets?session={probe['eid']}&collection=raw_ephys_data/probe00")
    probe["root"](
        "POST",
        "/releases",
        status=201,
        json={"name": RELEASE, "datasets": [d["id"] for d in datasets["results"]]},
    )
    public = onecloud(stack, *args, "-o", str(out), home=tmp_path)
    assert public.returncode == 0, public.stderr
    np.testing.assert_array_equal(np.load(out), probe["reader"][:15_000])


def test_a_remote_probe_is_a_spikeinterface_recording(stack, probe, monkeypatch, tmp_path):
    from spikeinterface.core.base import BaseExtractor

    from onecloud.remote_recording import StreamedRecording

    for name, value in MEMBER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    recording = StreamedRecording(probe["eid"], "probe00", url=stack.url)
    assert recording.get_num_channels() == 32 and recording.get_num_samples() == 300_000
    assert recording.get_probe().get_contact_count() == 32
    traces = recording.get_traces(start_frame=29_990, end_frame=30_010)
    np.testing.assert_array_equal(traces, probe["reader"][29_990:30_010, :32])
    microvolts = recording.get_traces(start_frame=0, end_frame=10, channel_ids=["AP3"], return_in_uV=True)
    np.testing.assert_allclose(microvolts[:, 0], probe["reader"][:10, 3] * probe["volts"][3] * 1e6, rtol=1e-5)
    clone = BaseExtractor.from_dict(recording.to_dict())  # how SpikeInterface hands it to parallel workers
    np.testing.assert_array_equal(clone.get_traces(start_frame=5, end_frame=9), probe["reader"][5:9, :32])
