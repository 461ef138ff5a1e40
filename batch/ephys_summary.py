"""EphysSummary: after spike sorting, the probe and cluster summaries the website draws (batch/summaries.py),
written beside the sorting as ``ephysSummary.probe.json`` and ``ephysSummary.clusters.json``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from batch.jobs import Job, run
from batch.spikeglx import parse_meta, volts_per_count
from batch.summaries import Sorting, summarise
from chalicelib import aws
from chalicelib.datasets import datasets_of_session
from chalicelib.errors import NotFound
from chalicelib.models import Dataset

SORTING_FILES = (
    "spikes.times.npy",
    "spikes.clusters.npy",
    "spikes.amps.npy",
    "spikes.depths.npy",
    "clusters.depths.npy",
    "clusters.channels.npy",
    "templates.waveforms.npy",
    "templates.waveformsChannels.npy",
    "channels.localCoordinates.npy",
    "clusters.metrics.pqt",
)
TRIALS_FIELDS = (
    "intervals",
    "choice",
    "feedbackType",
    "contrastLeft",
    "contrastRight",
    "response_times",
    "stimOn_times",
    "firstMovement_times",
    "feedback_times",
)
OUTPUTS = ("ephysSummary.probe.json", "ephysSummary.clusters.json")


def sorted_collection(job: Job, probe: str) -> str:
    """The probe's sorting: ``alf/<probe>/<sorter>``, the configured sorter's when there are several."""
    found = sorted(
        {
            d.collection
            for d in datasets_of_session(job.session.id)
            if d.default_dataset and d.name == "spikes.times.npy" and d.collection.startswith(f"alf/{probe}/")
        }
    )
    preferred = f"alf/{probe}/{aws.settings().sorter}"
    if preferred in found:
        return preferred
    if not found:
        raise NotFound(
            f"session {job.session.id} has no sorting of {probe} (alf/{probe}/<sorter>/spikes.times)"
        )
    return found[0]


def read_sorting(job: Job, collection: str) -> Sorting:
    arrays = {}
    for name in SORTING_FILES:
        data = _bytes(job, job.dataset(name, collection))
        arrays[name] = (
            pd.read_parquet(io.BytesIO(data)) if name.endswith(".pqt") else np.load(io.BytesIO(data))
        )
    metrics = arrays["clusters.metrics.pqt"].sort_values("cluster_id").to_dict("records")
    return Sorting(
        times=arrays["spikes.times.npy"].astype(float),
        clusters=arrays["spikes.clusters.npy"].astype(np.int64),
        amps=arrays["spikes.amps.npy"].astype(float),
        depths=arrays["spikes.depths.npy"].astype(float),
        cluster_depths=arrays["clusters.depths.npy"].astype(float),
        cluster_channels=arrays["clusters.channels.npy"].astype(np.int64),
        waveforms=arrays["templates.waveforms.npy"],
        waveform_channels=arrays["templates.waveformsChannels.npy"].astype(np.int64),
        channel_coordinates=arrays["channels.localCoordinates.npy"].astype(float),
        metrics=metrics,
    )


def read_trials(job: Job) -> dict[str, np.ndarray] | None:
    """The session's trials (the ``alf/`` table, else the separate ``trials.*`` files), or None."""
    datasets = [d for d in datasets_of_session(job.session.id) if d.default_dataset and d.collection == "alf"]
    table = next((d for d in datasets if d.name.endswith("trials.table.pqt")), None)
    trials: dict[str, np.ndarray] = {}
    if table is not None:
        frame = pd.read_parquet(io.BytesIO(_bytes(job, table)))
        trials = {column: frame[column].to_numpy() for column in frame.columns}
        if "intervals_0" in trials:
            trials["intervals"] = np.c_[trials.pop("intervals_0"), trials.pop("intervals_1")]
    for dataset in datasets:
        field = dataset.name.split(".")[1] if dataset.name.count(".") >= 2 else ""
        if "trials." in dataset.name and field in TRIALS_FIELDS and field not in trials:
            trials[field] = np.load(io.BytesIO(_bytes(job, dataset)))
    if not {"choice", "feedbackType"} <= trials.keys():
        return None
    return trials


def raw_volts_per_count(job: Job, probe: str) -> list[float] | None:
    """Each raw channel's volts per count, from the AP band's ``.meta`` (for the raw-data viewer)."""
    try:
        meta = job.dataset("*.ap.meta", f"raw_ephys_data/{probe}")
    except NotFound:
        return None
    return [float(v) for v in volts_per_count(parse_meta(_bytes(job, meta).decode("utf-8", "replace")))]


def _bytes(job: Job, dataset: Dataset) -> bytes:
    return job.open(dataset).read()


def summarise_probe(job: Job) -> None:
    probe = (job.task.arguments or {}).get("probe") or job.collection.rsplit("/", 1)[-1]
    collection = sorted_collection(job, probe)
    sorting = read_sorting(job, collection)
    trials = read_trials(job)
    counted = "no trials" if trials is None else f"{len(trials['choice'])} trials"
    print(f"summarising {collection}: {sorting.n_clusters} clusters, {sorting.times.size} spikes, {counted}")
    probe_summary, cluster_summaries = summarise(sorting, trials)
    probe_summary["volts_per_count"] = raw_volts_per_count(job, probe)
    for name, summary in zip(OUTPUTS, (probe_summary, cluster_summaries), strict=True):
        path = Path(job.workdir) / name
        path.write_text(json.dumps(summary, separators=(",", ":"), allow_nan=False))
        job.upload(path, f"{collection}/{name}")


if __name__ == "__main__":
    sys.exit(run(summarise_probe))
