"""Benchmark the sorting job against ground truth recordings, through the same files labs upload.

    .venv/bin/python bench/sorting.py [--cases probe,tip] [--sorters spykingcircus2,tridesclous2]
                                      [--seconds 60] [--seed 0]

SpikeInterface's generators make recordings of known spikes on the geometry of a real Neuropixels 1.0
``.meta``; each is digitised as the probe does it (the ADC's per-channel sample delays, int16 counts at
the AP gain, a sync channel), compressed with mtscomp, and sorted by :func:`batch.sorting.sort_recording`
from the ``.cbin``. Two cases:

- ``probe``: the whole probe (384 channels, 3.84 mm), 100 units along it, drifting slowly (20 um one way
  and back over the recording, the top moving half as far as the tip), spatially correlated noise;
- ``tip``: the first 32 channels, 20 still units, 10 uV noise; a few units are generated too small to
  detect at this noise (SNR below 3) and cap what any sorter reaches.

SpikeInterface's ``compare_sorter_to_ground_truth`` scores each ground truth unit against its
best-matching cluster; the script prints accuracy, precision and recall (means over the ground truth
units, so a missed unit counts as 0) and run time per sorter, each run in a fresh process (numba
compiles anew), and exits non-zero when the job's default sorter misses a case's target mean accuracy
(0.9 on the whole probe, 0.8 on the tip) or, on the whole probe, is not the most accurate sorter.
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
from spikeinterface.core import BaseRecording, BaseSorting, NumpySorting, generate_ground_truth_recording
from spikeinterface.core.generate import generate_templates, generate_unit_locations
from spikeinterface.extractors.neuropixels_utils import get_neuropixels_sample_shifts_from_probe
from spikeinterface.generation import generate_drifting_recording
from spikeinterface.sorters import sorter_dict

from batch.sorting import DEFAULT_SORTER, SORTERS, sort_recording

NP1_META = Path(__file__).resolve().parents[1] / "tests/fixtures/spikeglx/sample3B_version202304.ap.meta"
SAMPLE_RATE = 30_000.0
MICROVOLTS_PER_COUNT = 0.6 / 512 / 500 * 1e6  # NP1.0 AP band: +-0.6 V over 10 bits at gain 500
NOISE_MICROVOLTS = 10.0  # AP-band noise of a Neuropixels 1.0 channel in the brain
UNIT_MICROVOLTS = (50.0, 500.0)  # peak amplitudes of the units IBL keeps on a Neuropixels 1.0 probe
SYNC_TOGGLE_SECONDS = 0.5
WRITE_CHUNK_SECONDS = 5.0
CASES = {
    "probe": {"channels": 384, "units": 100, "drift_um": 20.0, "target": 0.9},
    "tip": {"channels": 32, "units": 20, "drift_um": 0.0, "target": 0.8},
}


def write_ground_truth(
    folder: Path,
    *,
    channels: int = 32,
    seconds: float = 60.0,
    units: int = 20,
    seed: int = 0,
    drift_um: float = 0.0,
) -> tuple[Path, Path, Path, BaseSorting]:
    """Write a recording of known spikes as a compressed SpikeGLX AP band into ``folder``.

    Returns the ``.cbin``, ``.ch`` and ``.meta`` and the ground truth sorting. The ``.meta`` is a real
    Neuropixels 1.0 one saving its first ``channels`` electrodes (``snsSaveChanSubset``; 384 is the whole
    probe), so the geometry, gains and ADC order all come from the reader's handling of a real file.
    With ``drift_um`` the probe moves against the tissue, as :func:`drifting_ground_truth` describes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_samples = int(seconds * SAMPLE_RATE)
    meta = folder / "_spikeglx_ephysData_g0_t0.imec0.ap.meta"
    meta.write_text(_meta_text(channels, n_samples))
    probe = probeinterface.read_spikeglx(meta)
    if drift_um:
        recording, ground_truth = drifting_ground_truth(probe, seconds, units, drift_um, seed)
    else:
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
    raw = meta.with_suffix(".bin")
    sha1 = hashlib.sha1()
    # in chunks of several seconds: a whole probe's minute is 1.4 GB of int16, and the phase shift's
    # margins make the noise generator compute one of its one-second blocks again at each chunk's ends
    chunk = int(WRITE_CHUNK_SECONDS * SAMPLE_RATE)
    with raw.open("wb") as file:
        for start in range(0, n_samples, chunk):
            stop = min(start + chunk, n_samples)
            samples = np.empty((stop - start, channels + 1), dtype="<i2")
            traces = delayed.get_traces(start_frame=start, end_frame=stop)
            samples[:, :channels] = np.clip(np.round(traces / MICROVOLTS_PER_COUNT), -32768, 32767)
            samples[:, channels] = np.arange(start, stop) // int(SYNC_TOGGLE_SECONDS * SAMPLE_RATE) % 2 * 64
            sha1.update(samples.tobytes())
            file.write(samples.tobytes())
    meta.write_text(_meta_text(channels, n_samples, sha1=sha1.hexdigest()))
    cbin, ch = meta.with_suffix(".cbin"), meta.with_suffix(".ch")
    mtscomp.compress(
        raw, cbin, ch, sample_rate=SAMPLE_RATE, n_channels=channels + 1, dtype=np.dtype("<i2"), quiet=True
    )
    raw.unlink()
    return cbin, ch, meta, ground_truth


def drifting_ground_truth(
    probe: probeinterface.Probe, seconds: float, units: int, drift_um: float, seed: int
) -> tuple[BaseRecording, BaseSorting]:
    """Units spread along the whole probe, moving against it as a probe drifts in the brain.

    The drift is slow and mostly rigid, as the tissue relaxes after insertion: the probe goes
    ``drift_um`` one way and back over the recording (one slow zigzag), the units at its top moving
    half as far as those at its tip (a non-rigid gradient). Templates are SpikeInterface's drifting
    generator's (regenerated at each micrometre of displacement, not interpolated), the noise is
    spatially correlated and ``NOISE_MICROVOLTS`` on average.

    Each unit's peak amplitude is drawn from ``UNIT_MICROVOLTS`` (log-uniform), the range of the units
    a sorter is asked to find on a Neuropixels probe: left to itself, the generator's amplitude also
    falls with a unit's distance from the probe, and a fifth of its units peak below 30 uV (SNR < 3),
    in the noise, where nothing can score them. Amplitudes follow the generator's own order (the unit
    nearest the probe, with the narrowest footprint, stays the largest), only their range is set.
    """
    channel_locations = probe.contact_positions
    locations = generate_unit_locations(
        units,
        channel_locations,
        margin_um=20.0,
        minimum_z=5.0,
        maximum_z=45.0,
        minimum_distance=18.0,
        seed=seed,
    )
    shapes = {"spatial_decay": (10.0, 45.0), "ellipse_shrink": (0.4, 1.0), "ellipse_angle": (0.0, 2 * np.pi)}
    waveform = {"ms_before": 1.5, "ms_after": 3.0, "mode": "ellipsoid"}
    # a template is linear in its unit's alpha: the peak of each unit at alpha 1 sets the alpha it needs
    unit_peaks = np.abs(
        generate_templates(
            channel_locations,
            locations,
            SAMPLE_RATE,
            unit_params={**shapes, "alpha": 1.0},
            seed=seed,
            **waveform,
        )
    ).max(axis=(1, 2))
    low, high = np.log(UNIT_MICROVOLTS)
    amplitudes = np.sort(np.exp(np.random.default_rng(seed).uniform(low, high, units)))
    alpha = amplitudes[np.argsort(np.argsort(unit_peaks))] / unit_peaks
    _, recording, ground_truth = generate_drifting_recording(
        num_units=units,
        duration=seconds,
        sampling_frequency=SAMPLE_RATE,
        probe=probe,
        unit_locations=locations,
        generate_templates_kwargs={**waveform, "unit_params": {**shapes, "alpha": alpha}},
        generate_displacement_vector_kwargs={
            "displacement_sampling_frequency": 5.0,
            "drift_start_um": [0, drift_um / 2],
            "drift_stop_um": [0, -drift_um / 2],
            "drift_step_um": 1,
            "motion_list": [
                {
                    "drift_mode": "zigzag",
                    "non_rigid_gradient": 0.5,
                    "t_start_drift": 0.0,
                    "t_end_drift": None,
                    "period_s": seconds,
                }
            ],
        },
        generate_noise_kwargs={
            "noise_levels": (NOISE_MICROVOLTS * 0.8, NOISE_MICROVOLTS * 1.2),
            "spatial_decay": 25.0,
        },
        seed=seed,
    )
    return recording, ground_truth


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
        "well_detected": {case["target"]: int((accuracy >= case["target"]).sum()) for case in CASES.values()},
        "clusters": found.get_num_units(),
        "seconds": elapsed,
    }


def run_case(case: str, sorters: list[str], seconds: float, seed: int, n_jobs: int) -> dict[str, dict]:
    """Write the case's recording once, then sort and score it with each sorter in turn."""
    setup = CASES[case]
    rows = {}
    with tempfile.TemporaryDirectory(prefix=f"bench-sorting-{case}-") as folder:
        print(f"{case}: writing {seconds:g} s of {setup['channels']} channels ...", flush=True)
        *inputs, ground_truth = write_ground_truth(
            Path(folder) / "raw",
            channels=setup["channels"],
            seconds=seconds,
            units=setup["units"],
            seed=seed,
            drift_um=setup["drift_um"],
        )
        for sorter in sorters:
            print(f"{case}: sorting with {sorter} ...", flush=True)
            # a fresh process each, so each sorter pays its own numba compilation
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
                job = process.submit(
                    score, sorter, ground_truth, tuple(inputs), Path(folder) / sorter, n_jobs
                )
                rows[sorter] = job.result()
    return rows


def report(case: str, rows: dict[str, dict], seconds: float) -> list[str]:
    """Print the case's table; return what the default sorter misses."""
    setup = CASES[case]
    target = setup["target"]
    print(
        f"\n{case}: {setup['channels']} channels, {seconds:g} s, {setup['units']} units, "
        f"drift {setup['drift_um']:g} um\n"
        f"| sorter | accuracy | precision | recall | units >= {target} | clusters | run time (s) |\n"
        "|---|---|---|---|---|---|---|"
    )
    for sorter, row in rows.items():
        name = f"{sorter} (default)" if sorter == DEFAULT_SORTER else sorter
        print(
            f"| {name} | {row['accuracy']:.3f} | {row['precision']:.3f} | {row['recall']:.3f} "
            f"| {row['well_detected'][target]}/{setup['units']} | {row['clusters']} | {row['seconds']:.0f} |"
        )
    if DEFAULT_SORTER not in rows:
        return []
    misses = []
    accuracy = rows[DEFAULT_SORTER]["accuracy"]
    if accuracy < target:
        misses.append(f"{case}: {DEFAULT_SORTER} mean accuracy {accuracy:.3f} is below {target}")
    best = max(rows, key=lambda sorter: rows[sorter]["accuracy"])
    if case == "probe" and best != DEFAULT_SORTER:
        misses.append(f"{case}: {best} is more accurate than the default {DEFAULT_SORTER}")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    installed = [name for name in SORTERS if sorter_dict[name].is_installed()]  # kilosort4 needs a GPU image
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--sorters", default=",".join(installed))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    cases, sorters = args.cases.split(","), args.sorters.split(",")
    if set(cases) - set(CASES):
        parser.error(f"unknown cases {sorted(set(cases) - set(CASES))}: choose from {list(CASES)}")
    if set(sorters) - set(SORTERS):
        parser.error(f"unknown sorters {sorted(set(sorters) - set(SORTERS))}: choose from {list(SORTERS)}")
    os.environ["ONECLOUD_LOG_LEVEL"] = "WARNING"  # the job's stage log lines, in the sorting processes
    results = {case: run_case(case, sorters, args.seconds, args.seed, args.n_jobs) for case in cases}
    misses = [miss for case, rows in results.items() for miss in report(case, rows, args.seconds)]
    for miss in misses:
        print(f"\nmissed: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
