"""The ephys summaries (analyses.md §6.4): numbers checked on spike trains whose answers are known, and
the job that computes them after sorting, run as Batch runs it against moto."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from batch import summaries
from batch.summaries import Sorting, autocorrelogram, peth, summarise, trial_splits, valid_trials


def sorting_of(times, clusters, depths, *, amps=None, n_channels=8) -> Sorting:
    times, clusters = np.asarray(times, float), np.asarray(clusters)
    n_clusters = int(clusters.max()) + 1
    coordinates = np.c_[np.zeros(n_channels), np.arange(n_channels) * 20.0]
    return Sorting(
        times=times,
        clusters=clusters,
        amps=np.full(times.size, 100e-6) if amps is None else np.asarray(amps, float),
        depths=np.asarray(depths, float)[clusters],
        cluster_depths=np.asarray(depths, float),
        cluster_channels=np.arange(n_clusters) % n_channels,
        waveforms=np.ones((n_clusters, 90, 4)) * 1e-5,
        waveform_channels=np.tile(np.arange(4), (n_clusters, 1)),
        channel_coordinates=coordinates,
        metrics=[
            {"cluster_id": c, "presence_ratio": 1.0, "isi_violations_ratio": 0.0, "amplitude_cutoff": 0.01}
            for c in range(n_clusters)
        ],
    )


def trials_of(n: int, **columns) -> dict[str, np.ndarray]:
    base = {
        "intervals": np.c_[np.arange(n) * 10.0, np.arange(n) * 10.0 + 3],
        "choice": np.ones(n),
        "feedbackType": np.ones(n),
        "contrastLeft": np.ones(n),
        "contrastRight": np.full(n, np.nan),
        "response_times": np.arange(n) * 10.0 + 2.5,
        "stimOn_times": np.arange(n) * 10.0 + 2,
        "firstMovement_times": np.arange(n) * 10.0 + 2.3,
        "feedback_times": np.arange(n) * 10.0 + 2.6,
    }
    return {**base, **{k: np.asarray(v, float) for k, v in columns.items()}}


def test_a_psth_of_one_spike_per_trial_peaks_at_its_latency_and_integrates_to_one_spike():
    events = np.arange(1, 21) * 10.0
    centers, mean, sem = peth(np.sort(events + 0.1125), events, (-1.0, 1.0))
    assert centers.size == 80 and np.isclose(centers[0], -0.9875)  # 25 ms bins over -1..1 s
    assert np.isclose(centers[np.argmax(mean)], 0.1125)
    assert np.isclose(mean.sum() * 0.025, 1.0)  # the Gaussian is normalised: one spike per trial
    assert np.allclose(sem, 0)  # every trial alike
    assert np.isclose(mean.max() * 0.025, 1 / np.sum(np.exp(-0.5 * np.arange(-5, 6) ** 2)))  # SD = 1 bin


def test_the_psth_smoothing_uses_the_padding_bins_outside_the_window():
    events = np.array([10.0])
    _, inside, _ = peth(np.array([10.99]), events, (-1.0, 1.0))  # a spike just inside the end
    _, outside, _ = peth(np.array([11.01]), events, (-1.0, 1.0))  # just outside: only its smoothing shows
    assert inside[-1] > outside[-1] > 0


def test_the_psth_sem_is_the_standard_error_across_trials():
    events = np.array([10.0, 20.0, 30.0, 40.0])
    spikes = np.sort(np.r_[10.0125, 20.0125, 30.2125, 40.2125])
    _, mean, sem = peth(spikes, events, (-1.0, 1.0))
    _, one, _ = peth(np.array([10.0125]), np.array([10.0]), (-1.0, 1.0))
    _, other, _ = peth(np.array([10.2125]), np.array([10.0]), (-1.0, 1.0))
    np.testing.assert_allclose(mean, (one + other) / 2)
    np.testing.assert_allclose(sem, np.std([one, one, other, other], axis=0, ddof=1) / 2)


def test_no_go_and_long_trials_are_left_out_and_splits_follow_choice_and_side():
    trials = trials_of(
        6,
        choice=[1, -1, 1, 0, -1, 1],
        feedbackType=[1, 1, -1, -1, 1, 1],
        contrastLeft=[1, np.nan, np.nan, 1, np.nan, 0.25],
        contrastRight=[np.nan, 0.5, 0.25, np.nan, 1, np.nan],
        intervals=np.c_[np.arange(6) * 10.0, np.arange(6) * 10.0 + [3, 3, 3, 3, 6, 3]],
    )
    kept = valid_trials(trials)
    assert kept["trial"].tolist() == [0, 1, 2, 5]  # 3 is a no-go, 4 lasted 6 s
    assert kept["signed_contrast"].tolist() == [-100, 50, 25, -25]
    splits = trial_splits(kept)
    assert splits["correct_left"].tolist() == [True, False, False, True]
    assert splits["correct_right"].tolist() == [False, True, False, False]
    assert splits["incorrect"].tolist() == [False, False, True, False]
    assert splits["all"].all()


def test_the_autocorrelogram_of_a_regular_train_peaks_at_its_period():
    acg = autocorrelogram(np.arange(0, 1, 0.005))  # every 5 ms
    lags, counts = np.array(acg["lags_ms"]), np.array(acg["counts"])
    assert len(counts) == 201 and acg["bin_ms"] == pytest.approx(0.2)  # 0.2 ms bins over 40 ms
    assert counts[np.isclose(lags, 0)] == 0
    peaks = sorted(lags[counts > 0].round(1).tolist())
    assert peaks == [-20.0, -15.0, -10.0, -5.0, 5.0, 10.0, 15.0, 20.0]
    assert counts[np.isclose(lags, 5)] == 199  # 199 pairs 5 ms apart, on each side


def test_a_summary_holds_the_probe_plots_the_cluster_table_and_each_cluster(tmp_path):
    rng = np.random.default_rng(0)
    trials = trials_of(30)
    stim = trials["stimOn_times"]
    # cluster 0 fires 110 ms after each stimulus; cluster 1 is a steady 20 Hz unit, deeper and smaller
    times = np.r_[stim + 0.11, np.sort(rng.uniform(0, 300, 6000))]
    clusters = np.r_[np.zeros(30, int), np.ones(6000, int)]
    order = np.argsort(times, kind="stable")
    amps = np.where(clusters == 0, 30e-6, 120e-6)
    sorting = sorting_of(times[order], clusters[order], [40.0, 130.0], amps=amps[order])
    probe, per_cluster = summarise(sorting, trials)
    json.dumps(probe, allow_nan=False) and json.dumps(per_cluster, allow_nan=False)
    table = {row["cluster_id"]: row for row in probe["clusters"]}
    assert table[1]["firing_rate"] == pytest.approx(6000 / sorting.duration)
    assert (table[0]["amp_median_uV"], table[1]["amp_median_uV"]) == pytest.approx((30.0, 120.0))
    assert (table[0]["good"], table[1]["good"]) == (False, True)  # cluster 0 is below 50 uV
    assert probe["n_good"] == 1
    raster = np.array(probe["depth_raster"]["rates"])
    assert raster.sum() * np.diff(probe["depth_raster"]["time_edges"])[0] == pytest.approx(6030)
    profile = probe["depth_profile"]
    assert profile["depths"][int(np.argmax(profile["firing_rate"]))] == pytest.approx(130.0)
    stimulus = per_cluster["clusters"]["0"]["alignments"]["stimOn"]
    assert len(stimulus["raster"]["time"]) == 30 and np.allclose(stimulus["raster"]["time"], 0.11)
    psth = stimulus["psth"]
    assert psth["all"]["n_trials"] == 30 and psth["correct_left"]["n_trials"] == 30
    assert stimulus["times"][int(np.argmax(psth["all"]["mean"]))] == pytest.approx(0.1125)
    peth_by_depth = probe["depth_peths"]["stimOn"]
    assert peth_by_depth["depth_edges"][:2] == [0.0, 80.0] and peth_by_depth["n_trials"] == 30
    shallow = np.array(peth_by_depth["normalised"][0])
    assert shallow.max() > 10 and peth_by_depth["baseline"][0] == pytest.approx(0, abs=1e-3)
    entry = per_cluster["clusters"]["1"]
    assert len(entry["waveform"]["traces"]) == 4 and entry["waveform"]["traces"][0][0] == pytest.approx(10.0)
    assert len(entry["amplitude_time"]["times"]) == summaries.AMPLITUDE_POINTS
    assert per_cluster["trials"]["trial"] == list(range(30))


def test_without_trials_a_summary_has_no_rasters_or_psths():
    sorting = sorting_of(np.linspace(0, 10, 500), np.zeros(500, int), [60.0])
    probe, per_cluster = summarise(sorting, None)
    assert "depth_peths" not in probe and per_cluster["trials"] is None
    assert "alignments" not in per_cluster["clusters"]["0"]


# --- the job --------------------------------------------------------------------------------------------

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"
SORTED = "alf/probe00/spykingcircus2"


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    return api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


def test_the_summary_job_reads_a_sorting_and_the_trials_and_writes_both_summaries(api, session):
    from app import app
    from batch import ephys_summary, jobs
    from chalicelib import aws
    from chalicelib.models import Task
    from onecloud.pump import EventPump

    def land(key: str, body: bytes) -> None:
        aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{key}", Body=body)

    rng = np.random.default_rng(1)
    trials = trials_of(20)
    times = np.sort(rng.uniform(0, 200, 3000))
    clusters = rng.integers(0, 3, times.size)
    files = {
        "spikes.times.npy": times,
        "spikes.clusters.npy": clusters,
        "spikes.amps.npy": rng.uniform(40e-6, 200e-6, times.size),
        "spikes.depths.npy": rng.uniform(0, 140, times.size),
        "clusters.depths.npy": [20.0, 60.0, 100.0],
        "clusters.channels.npy": [1, 3, 5],
        "templates.waveforms.npy": rng.normal(size=(3, 90, 8)).astype(np.float32) * 1e-5,
        "templates.waveformsChannels.npy": np.tile(np.arange(8), (3, 1)),
        "channels.localCoordinates.npy": np.c_[np.zeros(8), np.arange(8) * 20.0],
    }
    for name, array in files.items():
        land(f"{SORTED}/{name}", _npy(array))
    metrics = pd.DataFrame(
        {"cluster_id": [0, 1, 2], "spike_count": np.bincount(clusters), "snr": [5.0, 3.0, 9.0]}
    )
    land(f"{SORTED}/clusters.metrics.pqt", metrics.to_parquet(index=False))
    table = pd.DataFrame({k: v for k, v in trials.items() if k != "intervals"})
    table["intervals_0"], table["intervals_1"] = trials["intervals"][:, 0], trials["intervals"][:, 1]
    land("alf/_ibl_trials.table.pqt", table.to_parquet(index=False))
    EventPump(app).drain()
    arguments = {"probe": "probe00", "collection": "raw_ephys_data/probe00"}
    task = Task(name="EphysSummary_probe00", session=session["id"], lab="cortexlab", arguments=arguments)
    task.save()
    assert jobs.run(ephys_summary.summarise_probe, [task.id]) == 0
    EventPump(app).drain()
    names = {
        d["name"]
        for d in api.get(f"/datasets?session={session['id']}&collection={SORTED}").json_body["results"]
    }
    assert {"ephysSummary.probe.json", "ephysSummary.clusters.json"} <= names
    body = aws.client("s3").get_object(
        Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{SORTED}/ephysSummary.probe.json"
    )
    probe = json.loads(body["Body"].read())
    assert [row["cluster_id"] for row in probe["clusters"]] == [0, 1, 2]
    assert [row["snr"] for row in probe["clusters"]] == [5.0, 3.0, 9.0]
    assert set(probe["depth_peths"]) == {"stimOn", "firstMovement", "feedback"}


def test_the_summary_job_without_a_sorting_fails_saying_what_is_missing(api, session, capsys):
    from batch import ephys_summary, jobs
    from chalicelib.models import Task

    task = Task(name="EphysSummary_probe01", session=session["id"], lab="cortexlab", status="Waiting",
                arguments={"probe": "probe01"})  # fmt: skip
    task.save()
    assert jobs.run(ephys_summary.summarise_probe, [task.id]) == 1
    output = capsys.readouterr()
    assert "no sorting of probe01" in output.out + output.err
