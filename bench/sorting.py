"""Benchmark the sorting job against a ground truth recording, through the same files labs upload.

    .venv/bin/python bench/sorting.py [--sorters spykingcircus2,tridesclous2] [--seconds 60] [--seed 0]

SpikeInterface's generator makes a recording of known spikes (20 units, 10 uV noise) on the geometry
of a real Neuropixels 1.0 ``.meta`` cut down to 32 channels; it is digitised as the probe does it (the
ADC's per-channel sample delays, int16 counts at the AP gain, a sync channel), compressed with mtscomp,
and sorted by :func:`batch.sorting.sort_recording` from the ``.cbin``. SpikeInterface's
``compare_sorter_to_ground_truth`` scores each ground truth unit against its best-matching cluster; the
script prints accuracy, precision and recall (means over the ground truth units, so a missed unit
counts as 0) and run time per sorter, each run in a fresh process (numba compiles anew), and exits
non-zero when the job's default sorter has a mean accuracy below 0.8; the others are there to compare.
Some units are generated too small to detect at this noise (SNR below 3): they cap what any sorter
reaches.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mtscomp
import numpy as np
import probeinterface
import spikeinterface.preprocessing as spre
from spikeinterface.comparison import compare_sorter_to_ground_truth
from spikeinterface.core import BaseSorting, NumpySorting, generate_ground_truth_recording
from spikeinterface.extractors.neuropixels_utils import get_neuropixels_sample_shifts_from_probe
from spikeinterface.sorters import sorter_dict

from batch.sorting import DEFAULT_SORTER, SORTERS, sort_recording

NP1_META = Path(__file__).resolve().parents[1] / "tests/fixtures/spikeglx/sample3B_version202304.ap.meta"
SAMPLE_RATE = 30_000.0
MICROVOLTS_PER_COUNT = 0.6 / 512 / 500 * 1e6  # NP1.0 AP band: +-0.6 V over 10 bits at gain 500
NOISE_MICROVOLTS = 10.0  # AP-band noise of a Neuropixels 1.0 channel in the brain
SYNC_TOGGLE_SECONDS = 0.5
TARGET_ACCURACY = 0.8


def write_ground_truth(
    folder: Path, *, channels: int = 32, seconds: float = 60.0, units: int = 20, seed: int = 0
) -> tuple[Path, Path, Path, BaseSorting]:
    """Write a recording of known spikes as a compressed SpikeGLX AP band into ``folder``.

    Returns the ``.cbin``, ``.ch`` and ``.meta`` and the ground truth sorting. The ``.meta`` is a real
    Neuropixels 1.0 one saving only its first ``channels`` electrodes (``snsSaveChanSubset``), so the
    geometry, gains and ADC order all come from the reader's handling of a real file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_samples = int(seconds * SAMPLE_RATE)
    meta = folder / "_spikeglx_ephysData_g0_t0.imec0.ap.meta"
    meta.write_text(_meta_text(channels, n_samples))
    probe = probeinterface.read_spikeglx(meta)
    recording, ground_truth = generate_ground_truth_recording(
        durations=[seconds],
        sampling_frequency=SAMPLE_RATE,
        probe=probe,
        num_units=units,
        noise_kwargs={"noise_levels": NOISE_MICROVOLTS, "strategy": "on_the_fly"},
        seed=seed,
    )
    # the probe's ADCs sample channels in turns: delay each channel as the reader's phase shift expects
    delayed = spre.phase_shift(recording, inter_sample_shift=-get_neuropixels_sample_shifts_from_probe(probe))
    samples = np.empty((n_samples, channels + 1), dtype="<i2")
    samples[:, :channels] = np.clip(np.round(delayed.get_traces() / MICROVOLTS_PER_COUNT), -32768, 32767)
    samples[:, channels] = np.arange(n_samples) // int(SYNC_TOGGLE_SECONDS * SAMPLE_RATE) % 2 * 64
    raw = meta.with_suffix(".bin")
    samples.tofile(raw)
    meta.write_text(_meta_text(channels, n_samples, sha1=hashlib.sha1(samples.tobytes()).hexdigest()))
    cbin, ch = meta.with_suffix(".cbin"), meta.with_suffix(".ch")
    mtscomp.compress(
        raw, cbin, ch, sample_rate=SAMPLE_RATE, n_channels=channels + 1, dtype=samples.dtype, quiet=True
    )
    raw.unlink()
    return cbin, ch, meta, ground_truth


def _meta_text(channels: int, n_samples: int, sha1: str | None = None) -> str:
    """The real NP1.0 ``.meta``, saving electrodes ``0..channels-1`` and the sync channel (768)."""
    values = dict(line.split("=", 1) for line in NP1_META.read_text().splitlines() if "=" in line)
    chan_map = re.findall(r"\(([^()]*)\)", values["~snsChanMap"])
    geom_map = re.findall(r"\(([^()]*)\)", values["~snsGeomMap"])
    values.pop("fileSHA1")
    values.update(
        {
            "nSavedChans": str(channels + 1),
            "snsApLfSy": f"{channels},0,1",
            "snsSaveChanSubset": f"0:{channels - 1},768",
            "fileSizeBytes": str(n_samples * (channels + 1) * 2),
            "fileTimeSecs": str(n_samples / SAMPLE_RATE),
            "~snsChanMap": "".join(f"({entry})" for entry in [f"{channels},0,1", *chan_map[1 : channels + 1]])
            + f"({chan_map[-1]})",
            "~snsGeomMap": "".join(f"({entry})" for entry in geom_map[: channels + 1]),
        }
    )
    if sha1:
        values["fileSHA1"] = sha1.upper()
    return "".join(f"{key}={value}\n" for key, value in values.items())


def score(
    sorter: str, ground_truth: BaseSorting, inputs: tuple[Path, Path, Path], folder: Path, n_jobs: int
) -> dict[str, float]:
    """Sort ``inputs`` with ``sorter`` into ``folder``: mean accuracy, precision, recall and run time."""
    start = time.perf_counter()
    sort_recording(
        *inputs, folder / "alf", sorter=sorter, work_dir=folder / "work", n_jobs=n_jobs, progress=False
    )
    elapsed = time.perf_counter() - start
    found = NumpySorting.from_samples_and_labels(
        [np.load(folder / "alf/spikes.samples.npy")],
        [np.load(folder / "alf/spikes.clusters.npy")],
        SAMPLE_RATE,
    )
    performance = compare_sorter_to_ground_truth(ground_truth, found, exhaustive_gt=True).get_performance()
    accuracy = performance["accuracy"].astype(float)
    return {
        "accuracy": float(accuracy.mean()),
        "precision": float(performance["precision"].astype(float).mean()),
        "recall": float(performance["recall"].astype(float).mean()),
        "well_detected": int((accuracy >= TARGET_ACCURACY).sum()),
        "clusters": found.get_num_units(),
        "seconds": elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    installed = [name for name in SORTERS if sorter_dict[name].is_installed()]  # kilosort4 needs a GPU image
    parser.add_argument("--sorters", default=",".join(installed))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    sorters = args.sorters.split(",")
    unknown = [name for name in sorters if name not in SORTERS]
    if unknown:
        parser.error(f"unknown sorters {unknown}: choose from {list(SORTERS)}")
    os.environ["ONECLOUD_LOG_LEVEL"] = "WARNING"  # the job's stage log lines, in the sorting processes
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-sorting-") as folder:
        *inputs, ground_truth = write_ground_truth(Path(folder) / "raw", seconds=args.seconds, seed=args.seed)
        for sorter in sorters:
            print(
                f"{sorter}: sorting {args.seconds:g} s of 32 channels, 20 ground truth units ...", flush=True
            )
            # a fresh process each, so each sorter pays its own numba compilation
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
                job = process.submit(
                    score, sorter, ground_truth, tuple(inputs), Path(folder) / sorter, args.n_jobs
                )
                rows[sorter] = job.result()
    print(
        f"\n| sorter | accuracy | precision | recall | units >= {TARGET_ACCURACY} | clusters | run time (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for sorter, row in rows.items():
        print(
            f"| {sorter} | {row['accuracy']:.3f} | {row['precision']:.3f} | {row['recall']:.3f} "
            f"| {row['well_detected']}/20 | {row['clusters']} | {row['seconds']:.0f} |"
        )
    if DEFAULT_SORTER in rows and rows[DEFAULT_SORTER]["accuracy"] < TARGET_ACCURACY:
        print(f"\nthe job's sorter {DEFAULT_SORTER} is below the target mean accuracy {TARGET_ACCURACY}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
