"""What IBL's website showed for a sorted probe and each of its clusters (``analyses.md`` §6.4), computed
once after spike sorting so that pages only draw stored numbers.

Per probe: the depth raster (spike counts in time x depth bins over the whole session), firing rate
and amplitude by depth, the cluster table (depth, channel, spike count, firing rate, median amplitude,
the sorter's quality metrics, and whether the cluster passes the good-unit criteria) and, with trials,
the depth PETHs (80 um bins, -0.3..1.0 s, correct trials). Per cluster: the template waveform on the
channels around its peak, the autocorrelogram (0.2 ms bins, 40 ms window), amplitude over time and,
with trials, rasters and PSTHs aligned to stimulus onset, first movement and feedback (25 ms bins,
Gaussian smoothing of 25 ms SD with 5 padding bins, mean +- SEM, -1..+1 s) for all trials and the three
§6.4 splits. Trials lasting 5 s or more and no-go trials are left out, as IBL's plots leave them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# §6.4
PSTH_BIN, PSTH_SMOOTH, PSTH_WINDOW, PSTH_PAD_BINS = 0.025, 0.025, (-1.0, 1.0), 5
DEPTH_PETH_BIN_UM, DEPTH_PETH_WINDOW = 80.0, (-0.3, 1.0)
ACG_BIN, ACG_WINDOW = 0.0002, 0.040
MAX_TRIAL_SECONDS = 5.0
ALIGNMENTS = {"stimOn": "stimOn_times", "firstMovement": "firstMovement_times", "feedback": "feedback_times"}
# drawing resolution of the whole-probe plots
DEPTH_BIN_UM, RASTER_TIME_BINS = 20.0, 400
AMPLITUDE_POINTS = 2000  # amplitude over time: at most this many spikes per cluster, evenly picked
ACG_MAX_SPIKES = 20_000  # autocorrelogram from the first spikes of very busy clusters
WAVEFORM_CHANNELS = 16
# A "good" unit: IBL's median-amplitude floor, and the Allen Institute's thresholds on the metrics the
# sorting job computes (presence, refractory violations, missed spikes).
GOOD_UNIT = {
    "amp_median_uV": 50.0,
    "presence_ratio": 0.9,
    "isi_violations_ratio": 0.5,
    "amplitude_cutoff": 0.1,
}
MICROVOLTS = 1e6


@dataclass(frozen=True)
class Sorting:
    """The ALF outputs of a sorted probe (SI units: s, V, um)."""

    times: np.ndarray
    clusters: np.ndarray
    amps: np.ndarray
    depths: np.ndarray
    cluster_depths: np.ndarray
    cluster_channels: np.ndarray
    waveforms: np.ndarray  # (n_clusters, n_samples, k) V
    waveform_channels: np.ndarray  # (n_clusters, k)
    channel_coordinates: np.ndarray  # (n_channels, 2) um
    metrics: list[dict[str, Any]]  # one row per cluster, cluster_id first
    sample_rate: float = 30_000.0

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_depths)

    @property
    def duration(self) -> float:
        return float(self.times.max()) if self.times.size else 0.0


def summarise(sorting: Sorting, trials: Mapping[str, np.ndarray] | None = None) -> tuple[dict, dict]:
    """The probe summary and the per-cluster summaries (JSON-ready)."""
    valid = valid_trials(trials) if trials is not None else None
    table = cluster_table(sorting)
    probe = {
        "duration": sorting.duration,
        "n_spikes": int(sorting.times.size),
        "n_clusters": sorting.n_clusters,
        "n_good": sum(row["good"] for row in table),
        "good_unit_criteria": GOOD_UNIT,
        "depth_raster": depth_raster(sorting, valid),
        "depth_profile": depth_profile(sorting),
        "clusters": table,
        "metrics": [key for key in table[0] if key not in ("cluster_id",)] if table else [],
    }
    clusters: dict[str, Any] = {"trials": None, "clusters": {}}
    if valid is not None:
        probe["depth_peths"] = {a: depth_peth(sorting, valid, a) for a in ALIGNMENTS}
        clusters["trials"] = {key: _floats(value) for key, value in valid.items()}
    order = np.argsort(sorting.clusters, kind="stable")
    starts = np.searchsorted(sorting.clusters[order], np.arange(sorting.n_clusters + 1))
    for cluster in range(sorting.n_clusters):
        spikes = order[starts[cluster] : starts[cluster + 1]]  # indices, in time order
        entry = {
            "waveform": waveform(sorting, cluster),
            "acg": autocorrelogram(sorting.times[spikes]),
            "amplitude_time": amplitude_over_time(sorting.times[spikes], sorting.amps[spikes]),
            "metrics": table[cluster],
        }
        if valid is not None:
            entry["alignments"] = {
                name: aligned(sorting.times[spikes], valid, name) for name in ALIGNMENTS if name in valid
            }
        clusters["clusters"][str(cluster)] = entry
    return probe, clusters


# --- the probe ------------------------------------------------------------------------------------------


def cluster_table(sorting: Sorting) -> list[dict[str, Any]]:
    counts = np.bincount(sorting.clusters, minlength=sorting.n_clusters)
    duration = sorting.duration or 1.0
    rows = []
    for cluster in range(sorting.n_clusters):
        amps = sorting.amps[sorting.clusters == cluster]
        metrics = sorting.metrics[cluster] if cluster < len(sorting.metrics) else {}
        row = {
            "cluster_id": cluster,
            "depth": _float(sorting.cluster_depths[cluster]),
            "channel": int(sorting.cluster_channels[cluster]),
            "spike_count": int(counts[cluster]),
            "firing_rate": _float(counts[cluster] / duration),
            "amp_median_uV": _float(np.median(amps) * MICROVOLTS) if amps.size else None,
        }
        row.update({k: _value(v) for k, v in metrics.items() if k not in row and k != "cluster_id"})
        row["good"] = is_good(row)
        rows.append(row)
    return rows


def is_good(row: Mapping[str, Any]) -> bool:
    """Passes every good-unit criterion it has a metric for (a missing or NaN metric fails)."""

    def passes(name: str, threshold: float) -> bool:
        value = row.get(name)
        if value is None:
            return False
        return value >= threshold if name in ("amp_median_uV", "presence_ratio") else value <= threshold

    return all(passes(name, threshold) for name, threshold in GOOD_UNIT.items())


def _depth_edges(sorting: Sorting, size: float) -> np.ndarray:
    depths = sorting.channel_coordinates[:, 1] if sorting.channel_coordinates.size else sorting.depths
    low, high = np.floor(np.nanmin(depths) / size) * size, np.ceil(np.nanmax(depths) / size) * size
    return np.arange(low, max(high, low + size) + size / 2, size)


def depth_raster(sorting: Sorting, trials: Mapping[str, np.ndarray] | None) -> dict[str, Any]:
    """Spikes per (time, depth) bin over the whole session, and a few trials' stimulus onsets to mark."""
    time_edges = np.linspace(0, max(sorting.duration, 1e-3), RASTER_TIME_BINS + 1)
    depth_edges = _depth_edges(sorting, DEPTH_BIN_UM)
    counts, _, _ = np.histogram2d(sorting.times, sorting.depths, bins=(time_edges, depth_edges))
    marks = []
    if trials is not None and "stimOn" in trials:
        onsets = trials["stimOn"][np.isfinite(trials["stimOn"])]
        marks = _floats(onsets[np.linspace(0, onsets.size - 1, min(5, onsets.size)).astype(int)])
    return {
        "time_edges": _floats(time_edges),
        "depth_edges": _floats(depth_edges),
        "rates": [_floats(row) for row in counts.T / np.diff(time_edges)[None, :]],  # depth x time, spikes/s
        "example_trials": marks,
    }


def depth_profile(sorting: Sorting) -> dict[str, Any]:
    """Firing rate (spikes/s) and median amplitude (uV) of the spikes in each depth bin."""
    edges = _depth_edges(sorting, DEPTH_BIN_UM)
    which = np.clip(np.digitize(sorting.depths, edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    amps = [
        _float(np.median(sorting.amps[which == b]) * MICROVOLTS) if counts[b] else None
        for b in range(len(counts))
    ]
    return {
        "depths": _floats((edges[:-1] + edges[1:]) / 2),
        "firing_rate": _floats(counts / (sorting.duration or 1.0)),
        "amplitude_uV": amps,
    }


def depth_peth(sorting: Sorting, trials: Mapping[str, np.ndarray], alignment: str) -> dict[str, Any] | None:
    """Per 80 um depth bin, the PETH of its clusters' spikes around ``alignment`` of correct trials, and
    the same with the -0.3..0 s baseline subtracted."""
    if alignment not in trials:
        return None
    correct = trials["feedbackType"] == 1
    events = trials[alignment][correct & np.isfinite(trials[alignment])]
    edges = _depth_edges(sorting, DEPTH_PETH_BIN_UM)
    which = np.clip(np.digitize(sorting.cluster_depths, edges) - 1, 0, len(edges) - 2)
    spike_bins = which[sorting.clusters]
    rates, baselines = [], []
    for b in range(len(edges) - 1):
        centers, mean, _ = peth(sorting.times[spike_bins == b], events, DEPTH_PETH_WINDOW)
        baseline = float(mean[centers < 0].mean()) if mean.size and np.any(centers < 0) else 0.0
        rates.append(_floats(mean))
        baselines.append(baseline)
    centers = peth(np.array([]), events, DEPTH_PETH_WINDOW)[0]
    return {
        "depth_edges": _floats(edges),
        "times": _floats(centers),
        "rates": rates,
        "baseline": _floats(np.array(baselines)),
        "normalised": [_floats(np.array(r) - b) for r, b in zip(rates, baselines, strict=True)],
        "n_trials": int(events.size),
    }


# --- trials ---------------------------------------------------------------------------------------------


def valid_trials(trials: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The trials IBL's rasters keep (a choice was made, the trial lasted less than 5 s), with the
    fields the pages sort and split by."""
    n = len(trials["choice"])

    def column(name: str) -> np.ndarray:
        return np.asarray(trials[name], dtype=float) if name in trials else np.full(n, np.nan)

    intervals = np.asarray(trials["intervals"], dtype=float).reshape(n, 2) if "intervals" in trials else None
    duration = intervals[:, 1] - intervals[:, 0] if intervals is not None else np.zeros(n)
    choice = column("choice")
    keep = (choice != 0) & np.isfinite(choice) & ~(duration >= MAX_TRIAL_SECONDS)
    contrast = 100 * (np.nan_to_num(column("contrastRight")) - np.nan_to_num(column("contrastLeft")))
    kept = {
        "trial": np.flatnonzero(keep).astype(float),
        "signed_contrast": contrast[keep],
        "choice": choice[keep],
        "feedbackType": column("feedbackType")[keep],
        "response_times": column("response_times")[keep],
    }
    for name, field in ALIGNMENTS.items():
        if field in trials:
            kept[name] = column(field)[keep]
    return kept


def trial_splits(trials: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """§6.4's PSTH curves: correct left (choice CW = +1, stimulus left), correct right (CCW = -1,
    stimulus right), incorrect, all."""
    correct = trials["feedbackType"] == 1
    return {
        "correct_left": correct & (trials["choice"] == 1) & (trials["signed_contrast"] < 0),
        "correct_right": correct & (trials["choice"] == -1) & (trials["signed_contrast"] > 0),
        "incorrect": trials["feedbackType"] == -1,
        "all": np.ones(len(trials["choice"]), dtype=bool),
    }


def aligned(times: np.ndarray, trials: Mapping[str, np.ndarray], alignment: str) -> dict[str, Any]:
    """One cluster around one event: the raster (trial row, time) and the PSTH of each split."""
    events = trials[alignment]
    finite = np.isfinite(events)
    rows, offsets = [], []
    for row in np.flatnonzero(finite):
        low, high = np.searchsorted(times, events[row] + np.array(PSTH_WINDOW))
        offsets.append(times[low:high] - events[row])
        rows.append(np.full(high - low, row))
    psth = {}
    for split, mask in trial_splits(trials).items():
        centers, mean, sem = peth(times, events[mask & finite], PSTH_WINDOW)
        psth[split] = {"mean": _floats(mean), "sem": _floats(sem), "n_trials": int((mask & finite).sum())}
    return {
        "raster": {
            "trial": [int(r) for r in np.concatenate(rows)] if rows else [],
            "time": _floats(np.concatenate(offsets)) if offsets else [],
        },
        "times": _floats(peth(np.array([]), np.array([]), PSTH_WINDOW)[0]),
        "psth": psth,
    }


def peth(
    times: np.ndarray, events: np.ndarray, window: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres, mean and SEM (spikes/s) across events: each event's counts in 25 ms bins, padded
    by 5 bins each side, convolved with a normalised Gaussian of 25 ms SD, trimmed, divided by the bin."""
    n_bins = int(round((window[1] - window[0]) / PSTH_BIN))
    pad = PSTH_PAD_BINS
    edges = window[0] + PSTH_BIN * np.arange(-pad, n_bins + pad + 1)
    centers = (edges[pad:-pad][:-1] + edges[pad:-pad][1:]) / 2
    if events.size == 0:
        return centers, np.zeros(n_bins), np.zeros(n_bins)
    counts = np.empty((events.size, edges.size - 1))
    for i, event in enumerate(events):
        low, high = np.searchsorted(times, event + edges[[0, -1]])
        counts[i] = np.histogram(times[low:high] - event, edges)[0]
    offsets = np.arange(-pad, pad + 1) * PSTH_BIN
    kernel = np.exp(-0.5 * (offsets / PSTH_SMOOTH) ** 2)
    kernel /= kernel.sum()
    smoothed = np.array([np.convolve(row, kernel, mode="same") for row in counts])[:, pad:-pad] / PSTH_BIN
    sem = smoothed.std(axis=0, ddof=1) / np.sqrt(events.size) if events.size > 1 else np.zeros(n_bins)
    return centers, smoothed.mean(axis=0), sem


# --- a cluster ------------------------------------------------------------------------------------------


def waveform(sorting: Sorting, cluster: int) -> dict[str, Any]:
    """The template (uV) on the channels nearest the peak, with their positions on the probe."""
    k = min(WAVEFORM_CHANNELS, sorting.waveform_channels.shape[1])
    channels = sorting.waveform_channels[cluster, :k]
    traces = sorting.waveforms[cluster, :, :k] * MICROVOLTS
    n_samples = traces.shape[0]
    return {
        "channels": [int(c) for c in channels],
        "x": _floats(sorting.channel_coordinates[channels, 0]),
        "y": _floats(sorting.channel_coordinates[channels, 1]),
        "ms": _floats(np.arange(n_samples) / sorting.sample_rate * 1e3),
        "traces": [_floats(traces[:, j]) for j in range(k)],
    }


def autocorrelogram(times: np.ndarray) -> dict[str, Any]:
    """Counts of spike-time differences in 0.2 ms bins over -20..20 ms (zero lag excluded)."""
    half = ACG_WINDOW / 2
    n_half = int(round(half / ACG_BIN))
    edges = (np.arange(-n_half, n_half + 2) - 0.5) * ACG_BIN
    spikes = np.sort(times[:ACG_MAX_SPIKES])
    lags: list[np.ndarray] = []
    for shift in range(1, spikes.size):
        differences = spikes[shift:] - spikes[:-shift]
        close = differences[differences <= half + ACG_BIN / 2]
        if close.size == 0:
            break
        lags.append(close)
    positive = np.concatenate(lags) if lags else np.array([])
    counts = np.histogram(np.concatenate([positive, -positive]), edges)[0]
    return {
        "bin_ms": ACG_BIN * 1e3,
        "lags_ms": _floats((edges[:-1] + edges[1:]) / 2 * 1e3),
        "counts": counts.tolist(),
    }


def amplitude_over_time(times: np.ndarray, amps: np.ndarray) -> dict[str, Any]:
    pick = np.unique(np.linspace(0, times.size - 1, min(AMPLITUDE_POINTS, times.size)).astype(int))
    return {"times": _floats(times[pick]), "amps_uV": _floats(amps[pick] * MICROVOLTS)}


# --- JSON ---------------------------------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def _floats(values: np.ndarray) -> list[float | None]:
    return [_float(v) for v in np.asarray(values, dtype=float).ravel()]


def _value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        return _float(value)
    except (TypeError, ValueError):
        return str(value)
