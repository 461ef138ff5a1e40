"""Spike sorting of one compressed Neuropixels probe: mtscomp ``.cbin`` in, IBL's ALF spike tables out.

The sorting job reads the recording straight from its ``.cbin`` (no decompressed copy: a one-hour probe
is 83 GB raw, 166 GB as float32), so the scratch space it needs holds the sorter's own arrays (peaks,
spikes), which grow with the spike count and not with the recording. Preprocessing follows IBL's
destriping: a 300 Hz high-pass, the ADC phase shift (Neuropixels digitise channels in turns, so a shared
artefact is misaligned across channels by up to one sample until this is undone), then a median common
reference; the sync channel is dropped. The sorter gets that recording and keeps only its whitening.
SpikeInterface runs the sorter and then measures what IBL's clusters need (amplitudes, depths,
templates, quality metrics), and the outputs are written with the names, shapes and units that ONE's
loaders expect. ``tridesclous2`` is the default: on ``bench/sorting.py``'s whole drifting 384-channel probe
it is the more accurate CPU sorter and twice as fast (README); ``spykingcircus2`` is a little ahead on its
32-channel tip. On a whole probe the CPU sorters correct motion first, without torch. ``kilosort4`` is
for the GPU image (torch).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import spikeinterface.preprocessing as spre
import spikeinterface.sorters as ss
from spikeinterface.core import BaseRecording, BaseSorting, SortingAnalyzer, create_sorting_analyzer
from spikeinterface.extractors import read_cbin_ibl
from spikeinterface.sortingcomponents.tools import check_probe_for_drift_correction

from batch.spikeglx import Band, SpikeGLXError, read_meta
from chalicelib.errors import BadRequest
from chalicelib.observability import logger

# Motion correction. A probe drifts in the brain by tens of micrometres over a session, so on a probe
# long enough to see it (more than 32 channels within 60 um across: SpikeInterface's test) the CPU
# sorters estimate the motion from where the peaks are, and interpolate the traces to undo it. Their
# default estimate is DREDge run by torch; "decentralized" is the same DREDge estimate in numpy, and this
# preset feeds it peaks localised by grid convolution (fast). Channels pushed past the ends of the probe
# are extrapolated, not dropped, so no unit is lost at either end. No torch in the image (several GB); on
# bench/sorting.py's whole-probe case the estimate is within 1.1 um rms of the true drift.
MOTION_PRESET = "nonrigid_fast_and_accurate"
MOTION_CORRECTION: Mapping[str, Any] = MappingProxyType(
    {"preset": MOTION_PRESET, "interpolate_motion_kwargs": {"border_mode": "force_extrapolate"}}
)

# Each sorter's parameters for a recording that arrives filtered and referenced: it must not filter
# again, but it keeps its whitening (tridesclous2 whitens after its preprocessing chain, here empty),
# and it caches the preprocessed traces in memory only when they fit (on disk they would be 2x raw).
# spykingcircus2 keeps units down to a template SNR of 3 (its default drops those below 5): as in IBL's
# pipeline, every cluster is kept and its quality metrics say which are single units.
SORTERS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "spykingcircus2": {
            "apply_preprocessing": False,
            "cleaning": {**ss.get_default_sorter_params("spykingcircus2")["cleaning"], "min_snr": 3},
            "motion_correction": dict(MOTION_CORRECTION),  # it checks the geometry itself
            "seed": 0,
        },
        "tridesclous2": {
            "preprocessing_dict": [],
            "motion_correction_preset": MOTION_PRESET,  # applied where the geometry allows (_run_sorter)
            "cache_preprocessing_mode": "memory",
            "save_array": False,  # its intermediate arrays, which nothing here reads
            "seed": 0,
        },
        "kilosort4": {"use_binary_file": False},  # read through SpikeInterface: no float32 copy in scratch
    }
)
DEFAULT_SORTER = "tridesclous2"
HIGHPASS_HZ = 300.0
TEMPLATE_MS = (1.0, 2.0)  # before and after the peak: 90 samples at 30 kHz, IBL's templates have 82
WAVEFORM_CHANNELS = 32  # templates.waveforms keeps the channels nearest each cluster's peak, as IBL's do
SPIKES_FOR_TEMPLATES = 500  # per cluster: templates and SNR from a sample, as the spikes of a unit repeat
QUALITY_METRICS = ("firing_rate", "presence_ratio", "isi_violation", "amplitude_cutoff", "snr")
MICROVOLT = 1e-6  # SpikeInterface measures in uV; ALF amplitudes are in V


class SortingError(BadRequest):
    """A recording or a sorter the sorting job cannot run on; the message says which and why."""


def sort_recording(
    cbin: Path,
    ch: Path,
    meta: Path,
    out_dir: Path,
    *,
    sorter: str = DEFAULT_SORTER,
    work_dir: Path | None = None,
    n_jobs: int = 2,
    progress: bool = True,
) -> list[Path]:
    """Sort the AP-band recording ``cbin`` (with its mtscomp ``ch`` and SpikeGLX ``meta``) and write its
    ALF ``spikes``, ``clusters``, ``channels`` and ``templates`` files into ``out_dir``; returns them.

    ``work_dir`` holds the sorter's scratch files (a temporary folder, removed after, when None); it may
    be deleted once this returns. ``progress`` shows a progress bar for each pass over the recording,
    besides the log line that starts each stage. Cluster ``i`` is row ``i`` of every ``clusters`` file.
    """
    _check_sorter(sorter)
    for path in (cbin, ch, meta):
        if not Path(path).is_file():
            raise SortingError(f"{path} does not exist or is not a file")
    job_kwargs = {"n_jobs": n_jobs, "pool_engine": "thread", "progress_bar": progress}
    with _scratch(work_dir) as scratch:
        with _stage("read and preprocess", cbin=str(cbin)):
            raw = read_recording(Path(cbin), Path(ch), Path(meta), scratch / "input")
            recording = preprocess(raw)
        with _stage(
            "sort",
            sorter=sorter,
            channels=recording.get_num_channels(),
            seconds=round(raw.get_total_duration(), 1),
        ):
            sorting = _run_sorter(sorter, recording, scratch / sorter, job_kwargs, progress)
        with _stage("measure clusters", clusters=sorting.get_num_units()):
            analyzer = analyse(sorting, recording, job_kwargs)
        with _stage("write ALF", out_dir=str(out_dir)):
            return write_alf(analyzer, raw, Path(out_dir))


def read_recording(cbin: Path, ch: Path, meta: Path, folder: Path) -> BaseRecording:
    """The AP band of ``cbin`` without its sync channel, with the probe's geometry from ``meta``.

    SpikeInterface finds the ``.ch`` and ``.meta`` beside the ``.cbin`` by name and reads the band from
    the name's ``.ap``, so the three files are linked into ``folder`` under one name; the ``.meta`` is
    copied instead when SpikeGLX wrote it before the file closed, to add the length the ``.ch`` knows.
    """
    try:
        spikeglx = read_meta(meta)
    except SpikeGLXError as error:
        raise SortingError(f"{meta}: {error.detail}") from error
    if spikeglx.band is not Band.AP:
        raise SortingError(
            f"{meta} describes the {spikeglx.band.value} band: spikes are sorted on the AP band"
        )
    if spikeglx.n_sync_channels != 1:
        raise SortingError(
            f"{meta} saves {spikeglx.n_sync_channels} sync channels: the reader drops one, the last"
        )
    header = _header(ch)
    shape = header.get("shape", [None, None])
    if header.get("n_channels") != spikeglx.n_channels:
        raise SortingError(
            f"{ch} holds {header.get('n_channels')} channels, but {meta} says {spikeglx.n_channels}"
        )
    if spikeglx.n_samples not in (None, shape[0]):
        raise SortingError(f"{ch} holds {shape[0]} samples, but {meta} says {spikeglx.n_samples}")
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / "recording.ap.cbin"
    for source, suffix in ((cbin, ".cbin"), (ch, ".ch"), (meta, ".meta")):
        staged.with_suffix(suffix).unlink(missing_ok=True)
        staged.with_suffix(suffix).symlink_to(source.resolve())
    if spikeglx.n_samples is None:
        staged.with_suffix(".meta").unlink()
        text = meta.read_text(encoding="utf-8", errors="replace").rstrip("\n")
        staged.with_suffix(".meta").write_text(
            f"{text}\nfileSizeBytes={shape[0] * spikeglx.bytes_per_sample}\n"
        )
    return read_cbin_ibl(cbin_file_path=staged, load_sync_channel=False)


def preprocess(recording: BaseRecording) -> BaseRecording:
    """IBL's destriping, less its bad-channel interpolation: high-pass, ADC phase shift, median reference."""
    recording = spre.highpass_filter(recording, freq_min=HIGHPASS_HZ, dtype="float32")
    recording = spre.phase_shift(recording)
    return spre.common_reference(recording, reference="global", operator="median")


def analyse(sorting: BaseSorting, recording: BaseRecording, job_kwargs: dict[str, Any]) -> SortingAnalyzer:
    """Templates, per-spike amplitudes and depths, cluster depths and quality metrics, held in memory."""
    analyzer = create_sorting_analyzer(
        sorting, recording, format="memory", sparse=True, seed=0, job_kwargs=job_kwargs
    )
    ms_before, ms_after = TEMPLATE_MS
    analyzer.compute(
        {
            "random_spikes": {"max_spikes_per_unit": SPIKES_FOR_TEMPLATES, "seed": 0},
            "noise_levels": {"random_slices_kwargs": {"seed": 0}},
            "templates": {"ms_before": ms_before, "ms_after": ms_after},
            "spike_amplitudes": {},
            "spike_locations": {"method": "center_of_mass"},
            "unit_locations": {"method": "center_of_mass"},
            "quality_metrics": {"metric_names": list(QUALITY_METRICS)},
        },
        **job_kwargs,
    )
    return analyzer


def write_alf(analyzer: SortingAnalyzer, raw: BaseRecording, out_dir: Path) -> list[Path]:
    """Write the ALF files of ``analyzer`` into ``out_dir``; ``raw`` is the recording as read, whose
    channel order is the binary's (``channels.rawInd`` indexes it)."""
    spikes = analyzer.sorting.to_spike_vector()  # ordered by sample, as ALF wants spikes.times
    n_clusters = analyzer.get_num_units()
    clusters = spikes["unit_index"].astype(np.int64)
    amps = np.abs(analyzer.get_extension("spike_amplitudes").get_data()).astype(np.float64) * MICROVOLT
    spike_counts = np.bincount(clusters, minlength=n_clusters)
    locations = analyzer.get_channel_locations()
    main_channels = _peak_channels(analyzer)
    metrics = analyzer.get_extension("quality_metrics").get_data().reset_index(drop=True)
    metrics.insert(0, "cluster_id", np.arange(n_clusters))
    metrics.insert(1, "spike_count", spike_counts)
    waveforms, waveform_channels = _local_waveforms(analyzer, main_channels)
    arrays = {
        "spikes.times": spikes["sample_index"] / analyzer.sampling_frequency,
        "spikes.samples": spikes["sample_index"].astype(np.int64),
        "spikes.clusters": clusters,
        "spikes.amps": amps,
        "spikes.depths": analyzer.get_extension("spike_locations").get_data()["y"].astype(np.float64),
        "clusters.channels": main_channels,
        "clusters.depths": analyzer.get_extension("unit_locations").get_data()[:, 1].astype(np.float64),
        "clusters.amps": np.bincount(clusters, weights=amps, minlength=n_clusters) / spike_counts,
        "channels.localCoordinates": locations[:, :2].astype(np.float64),
        "channels.rawInd": raw.ids_to_indices(analyzer.channel_ids).astype(np.int64),
        "templates.waveforms": waveforms,
        "templates.waveformsChannels": waveform_channels,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, array in arrays.items():
        np.save(out_dir / f"{name}.npy", array)
        written.append(out_dir / f"{name}.npy")
    metrics.to_parquet(out_dir / "clusters.metrics.pqt", index=False)
    written.append(out_dir / "clusters.metrics.pqt")
    return written


def _peak_channels(analyzer: SortingAnalyzer) -> np.ndarray:
    """The channel where each cluster's template is largest, as IBL's ``clusters.channels``. The sorter's
    own ``main_channel_id`` is where it detected the unit, which can be a neighbour of the peak."""
    templates = analyzer.get_extension("templates").get_data(outputs="numpy")
    return np.abs(templates).max(axis=1).argmax(axis=1).astype(np.int64)


def _local_waveforms(analyzer: SortingAnalyzer, main_channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cluster's template (V) on the channels nearest its peak channel, nearest first, as IBL stores
    them: ``(n_clusters, n_samples, k)`` and the channel indices ``(n_clusters, k)``."""
    templates = analyzer.get_extension("templates").get_data(outputs="numpy")  # dense, uV
    locations = analyzer.get_channel_locations()
    k = min(WAVEFORM_CHANNELS, analyzer.get_num_channels())
    distances = np.linalg.norm(locations[main_channels][:, None, :] - locations[None, :, :], axis=2)
    channels = np.argsort(distances, axis=1, kind="stable")[:, :k]
    waveforms = np.take_along_axis(templates, channels[:, None, :], axis=2) * MICROVOLT
    return waveforms.astype(np.float32), channels.astype(np.int64)


def _run_sorter(
    sorter: str, recording: BaseRecording, folder: Path, job_kwargs: dict[str, Any], verbose: bool
) -> BaseSorting:
    params = dict(SORTERS[sorter])
    if sorter == "tridesclous2":  # it would estimate motion even where the geometry cannot show it
        params["apply_motion_correction"] = check_probe_for_drift_correction(recording)
    if "job_kwargs" in ss.get_default_sorter_params(sorter):  # SpikeInterface's own sorters; not kilosort4
        params["job_kwargs"] = job_kwargs
    sorting = ss.run_sorter(
        sorter, recording, folder=folder, remove_existing_folder=True, verbose=verbose, **params
    )
    return sorting.remove_empty_units()


def _check_sorter(sorter: str) -> None:
    if sorter not in SORTERS:
        raise SortingError(f"unknown sorter {sorter!r}: choose one of {', '.join(SORTERS)}")
    if not ss.sorter_dict[sorter].is_installed():
        hint = "kilosort and torch, which the GPU image has" if sorter == "kilosort4" else "its packages"
        raise SortingError(f"the sorter {sorter} is not installed here: it needs {hint}")


def _header(ch: Path) -> dict[str, Any]:
    try:
        header = json.loads(ch.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SortingError(f"{ch} is not an mtscomp header: {error}") from error
    if not isinstance(header, dict):
        raise SortingError(f"{ch} is not an mtscomp header: it holds no JSON object")
    return header


@contextlib.contextmanager
def _scratch(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        yield Path(work_dir)
        return
    with tempfile.TemporaryDirectory(prefix="onecloud-sorting-") as folder:
        yield Path(folder)


@contextlib.contextmanager
def _stage(name: str, **facts: Any) -> Iterator[None]:
    """Log a stage's start and its duration: sorting a probe takes hours, and its log tells how far."""
    logger.info(f"sorting: {name}", extra=facts)
    start = time.perf_counter()
    yield
    logger.info(f"sorting: {name} done", extra={"seconds": round(time.perf_counter() - start, 1)})
