"""The probe and cluster pages in process: they draw the stored summaries, the cluster table sorts and
filters, other labs see nothing of unreleased data, and the raw viewer's JSON gives a presigned URL with
the chunk table and the spikes of a window (found by Range requests on the sorting's spike times)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from batch.summaries import summarise
from tests.test_summaries import sorting_of, trials_of

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"
SORTED = "alf/probe00/spykingcircus2"


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


@pytest.fixture
def sorted_probe(api):
    from app import app
    from chalicelib import aws
    from onecloud.pump import EventPump

    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    session = api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body
    rng = np.random.default_rng(0)
    trials = trials_of(20)
    times = np.sort(rng.uniform(0, 200, 4000))
    clusters = rng.integers(0, 4, times.size)
    amps = np.where(clusters == 3, 20e-6, 100e-6)  # cluster 3 is too small to be a good unit
    sorting = sorting_of(times, clusters, [20.0, 60.0, 100.0, 140.0], amps=amps)
    probe, per_cluster = summarise(sorting, trials)
    probe["volts_per_count"] = [2.34e-6] * 384 + [1.0]
    files = {
        "ephysSummary.probe.json": json.dumps(probe).encode(),
        "ephysSummary.clusters.json": json.dumps(per_cluster).encode(),
        "spikes.times.npy": _npy(times),
        "spikes.clusters.npy": _npy(clusters),
        "clusters.channels.npy": _npy([1, 3, 5, 7]),
    }
    s3 = aws.client("s3")
    for name, body in files.items():
        s3.put_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{SORTED}/{name}", Body=body)
    header = {
        "n_channels": 385,
        "sample_rate": 30000.0,
        "dtype": "int16",
        "chunk_bounds": [0, 30000],
        "chunk_offsets": [0, 1000],
        "chunk_order": "C",
        "do_time_diff": True,
        "do_spatial_diff": False,
    }
    stem = "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap"
    for suffix, body in (("cbin", b"\0" * 1000), ("ch", json.dumps(header).encode())):
        s3.put_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{stem}.{suffix}", Body=body)
    EventPump(app).drain()
    return {"eid": session["id"], "times": times, "clusters": clusters, "probe": probe}


def test_the_probe_page_draws_the_summary_and_lists_clusters_by_firing_rate(web, sorted_probe):
    base = f"/ui/sessions/{sorted_probe['eid']}/probes/probe00"
    page = web.login("alice").get(base)
    assert page.status == 200
    for title in ("Depth raster", "Firing rate by depth", "Amplitude by depth", "Depth PETH around feedback"):
        assert f'aria-label="{title}' in page.text
    rows = [row["cluster_id"] for row in sorted_probe["probe"]["clusters"]]
    rates = {row["cluster_id"]: row["firing_rate"] for row in sorted_probe["probe"]["clusters"]}
    shown = [int(x) for x in page.text.split('data-cluster="')[1:] for x in [x.split('"')[0]]]
    assert sorted(shown) == rows and shown == sorted(rows, key=lambda c: -rates[c])
    ascending = web.get(base, sort="depth", order="asc")
    assert [int(x.split('"')[0]) for x in ascending.text.split('data-cluster="')[1:]] == [0, 1, 2, 3]
    good = web.get(base, good="1")
    assert 'data-cluster="3"' not in good.text and 'data-cluster="0"' in good.text
    assert web.get(base, sort="nonsense").status == 400


def test_another_lab_does_not_see_an_unreleased_probe(web, sorted_probe):
    page = web.login("bob").get(f"/ui/sessions/{sorted_probe['eid']}/probes/probe00")
    assert page.status == 404


def test_the_cluster_page_draws_the_waveform_acg_amplitudes_and_sorted_rasters(web, sorted_probe):
    base = f"/ui/sessions/{sorted_probe['eid']}/probes/probe00/clusters/1"
    page = web.login("alice").get(base)
    assert page.status == 200
    titles = ("Template of cluster 1", "Autocorrelogram", "Amplitude over time", "Raster around stimulus")
    for title in titles:
        assert f'aria-label="{title}' in page.text
    moved = web.get(base, align="firstMovement", sort="feedback_movement")
    assert 'aria-label="Raster around first movement, sorted by feedback - movement' in moved.text
    assert web.get(base, align="lunch").status == 400
    assert web.get(f"/ui/sessions/{sorted_probe['eid']}/probes/probe00/clusters/99").status == 404


def test_the_raw_viewer_gets_a_presigned_url_the_chunk_table_and_the_spikes_of_a_window(web, sorted_probe):
    base = f"/ui/sessions/{sorted_probe['eid']}/probes/probe00"
    source = json.loads(web.login("alice").get(f"{base}/raw.json").text)
    assert "X-Amz-Signature" in source["url"] and source["header"]["chunk_bounds"] == [0, 30000]
    window = json.loads(web.get(f"{base}/spikes.json", start="50.2", duration="1.5").text)
    times, clusters = sorted_probe["times"], sorted_probe["clusters"]
    first, last = np.searchsorted(times, [50.2, 51.7])
    assert window["times"] == times[first:last].tolist()
    assert window["clusters"] == clusters[first:last].tolist()
    assert window["channels"] == [[1, 3, 5, 7][c] for c in clusters[first:last]]
    assert web.get(f"{base}/spikes.json", start="0", duration="60").status == 400
