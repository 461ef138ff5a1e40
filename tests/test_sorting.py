"""The sorting job on a small ground truth recording, sorted once for the module from its mtscomp files.

The recording (``bench.sorting.write_ground_truth``: a real Neuropixels 1.0 ``.meta`` cut to 32
channels, 12 s, 5 units) goes through the same ``.cbin`` round trip as a lab's upload. One process
(``n_jobs=1``) sorts it: the sorters' numba code then compiles once, which is most of the time here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import probeinterface
import pytest
from spikeinterface.comparison import compare_sorter_to_ground_truth
from spikeinterface.core import BaseSorting, NumpySorting
from spikeinterface.sorters import sorter_dict

from batch.sorting import SortingError, read_recording, sort_recording
from bench.sorting import SAMPLE_RATE, write_ground_truth

CHANNELS, SECONDS, UNITS = 32, 12.0, 5
FIXTURES = Path(__file__).parent / "fixtures" / "spikeglx"
ALF_FILES = {
    "spikes.times.npy",
    "spikes.samples.npy",
    "spikes.clusters.npy",
    "spikes.amps.npy",
    "spikes.depths.npy",
    "clusters.channels.npy",
    "clusters.depths.npy",
    "clusters.amps.npy",
    "clusters.metrics.pqt",
    "channels.localCoordinates.npy",
    "channels.rawInd.npy",
    "templates.waveforms.npy",
    "templates.waveformsChannels.npy",
}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, BaseSorting]:
    folder = tmp_path_factory.mktemp("raw_ephys_data")
    return write_ground_truth(folder, channels=CHANNELS, seconds=SECONDS, units=UNITS, seed=1)


@pytest.fixture(scope="module")
def sorted_probe(
    recording: tuple[Path, Path, Path, BaseSorting], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Path], Path]:
    """The ALF folder, the paths ``sort_recording`` returned and its (kept) scratch folder."""
    cbin, ch, meta, _ = recording
    out_dir, work_dir = tmp_path_factory.mktemp("alf") / "probe00", tmp_path_factory.mktemp("work")
    written = sort_recording(cbin, ch, meta, out_dir, work_dir=work_dir, n_jobs=1, progress=False)
    return out_dir, written, work_dir


def load(out_dir: Path, name: str) -> np.ndarray:
    return np.load(out_dir / f"{name}.npy")


def test_sorting_writes_the_alf_files_of_spikes_clusters_channels_and_templates(sorted_probe) -> None:
    out_dir, written, _ = sorted_probe
    assert {path.name for path in written} == ALF_FILES
    assert {path.name for path in out_dir.iterdir()} == ALF_FILES


def test_spike_arrays_have_one_row_per_spike_and_ibls_dtypes(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    n_spikes = len(load(out_dir, "spikes.times"))
    assert n_spikes > 0
    for name, dtype in {
        "spikes.times": np.float64,
        "spikes.samples": np.int64,
        "spikes.clusters": np.int64,
        "spikes.amps": np.float64,
        "spikes.depths": np.float64,
    }.items():
        array = load(out_dir, name)
        assert array.shape == (n_spikes,), name
        assert array.dtype == dtype, name


def test_spike_times_are_sorted_seconds_within_the_recording(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    times, samples = load(out_dir, "spikes.times"), load(out_dir, "spikes.samples")
    assert np.all(np.diff(times) >= 0)
    assert times[0] >= 0 and times[-1] < SECONDS
    np.testing.assert_allclose(times, samples / SAMPLE_RATE)


def test_cluster_ids_index_every_clusters_file(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    clusters = load(out_dir, "spikes.clusters")
    n_clusters = len(load(out_dir, "clusters.depths"))
    assert clusters.min() >= 0 and clusters.max() < n_clusters
    assert set(np.unique(clusters)) == set(range(n_clusters))  # no cluster without spikes
    for name in ("clusters.channels", "clusters.amps", "clusters.depths"):
        assert load(out_dir, name).shape == (n_clusters,), name
    assert load(out_dir, "clusters.channels").max() < CHANNELS


def test_cluster_metrics_have_one_row_per_cluster_with_the_quality_metrics(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    metrics = pd.read_parquet(out_dir / "clusters.metrics.pqt")
    n_clusters = len(load(out_dir, "clusters.depths"))
    assert list(metrics["cluster_id"]) == list(range(n_clusters))
    assert list(metrics["spike_count"]) == list(np.bincount(load(out_dir, "spikes.clusters")))
    assert {"firing_rate", "presence_ratio", "isi_violations_ratio", "amplitude_cutoff", "snr"} <= set(
        metrics
    )
    np.testing.assert_allclose(metrics["firing_rate"], metrics["spike_count"] / SECONDS, rtol=1e-6)


def test_channels_are_the_probe_electrodes_without_the_sync_channel(sorted_probe, recording) -> None:
    out_dir, _, _ = sorted_probe
    probe = probeinterface.read_spikeglx(recording[2])
    np.testing.assert_array_equal(load(out_dir, "channels.localCoordinates"), probe.contact_positions)
    assert load(out_dir, "channels.localCoordinates").shape == (CHANNELS, 2)
    np.testing.assert_array_equal(load(out_dir, "channels.rawInd"), np.arange(CHANNELS))


def test_amplitudes_are_in_volts_and_depths_on_the_probe(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    amps, cluster_amps = load(out_dir, "spikes.amps"), load(out_dir, "clusters.amps")
    assert np.all(amps >= 0) and 1e-5 < np.median(amps) < 1e-3  # extracellular spikes of 10 uV to 1 mV, in V
    np.testing.assert_allclose(
        cluster_amps, [amps[load(out_dir, "spikes.clusters") == i].mean() for i in range(len(cluster_amps))]
    )
    heights = load(out_dir, "channels.localCoordinates")[:, 1]
    for name in ("spikes.depths", "clusters.depths"):
        depths = load(out_dir, name)
        assert np.all((depths >= heights.min()) & (depths <= heights.max())), name


def test_templates_are_each_clusters_waveform_on_its_nearest_channels(sorted_probe) -> None:
    out_dir, _, _ = sorted_probe
    waveforms, channels = load(out_dir, "templates.waveforms"), load(out_dir, "templates.waveformsChannels")
    n_clusters = len(load(out_dir, "clusters.depths"))
    assert waveforms.shape[0] == channels.shape[0] == n_clusters
    assert waveforms.shape[2] == channels.shape[1] == CHANNELS
    np.testing.assert_array_equal(channels[:, 0], load(out_dir, "clusters.channels"))
    units = np.bincount(load(out_dir, "spikes.clusters")) >= 50  # a template of a few spikes is noise
    peak = np.abs(waveforms[units, :, 0]).max(axis=1)
    assert np.all(peak >= np.abs(waveforms[units]).max(axis=(1, 2)) * 0.9)  # the peak channel holds the spike


def test_the_sorter_finds_the_ground_truth_units(sorted_probe, recording) -> None:
    out_dir, _, _ = sorted_probe
    found = NumpySorting.from_samples_and_labels(
        [load(out_dir, "spikes.samples")], [load(out_dir, "spikes.clusters")], SAMPLE_RATE
    )
    accuracy = compare_sorter_to_ground_truth(recording[3], found).get_performance()["accuracy"].astype(float)
    assert accuracy.mean() >= 0.8, accuracy.to_dict()  # a loose bound: bench/sorting.py measures it


def test_the_scratch_space_holds_no_copy_of_the_recording(sorted_probe, recording) -> None:
    _, _, work_dir = sorted_probe
    scratch = sum(
        path.stat().st_size for path in work_dir.rglob("*") if path.is_file() and not path.is_symlink()
    )
    assert scratch < recording[0].stat().st_size


def test_a_meta_written_before_the_file_closed_takes_its_length_from_the_ch(recording, tmp_path) -> None:
    cbin, ch, meta, _ = recording
    incomplete = tmp_path / "incomplete.ap.meta"
    incomplete.write_text(
        "".join(line + "\n" for line in meta.read_text().splitlines() if not line.startswith("fileSizeBytes"))
    )
    raw = read_recording(cbin, ch, incomplete, tmp_path / "input")
    assert raw.get_num_samples() == int(SECONDS * SAMPLE_RATE)
    assert raw.get_num_channels() == CHANNELS


def test_an_unknown_sorter_is_refused_naming_the_choices(tmp_path) -> None:
    with pytest.raises(SortingError, match="unknown sorter 'kilosort9'.*tridesclous2"):
        sort_recording(
            tmp_path / "a.cbin", tmp_path / "a.ch", tmp_path / "a.meta", tmp_path, sorter="kilosort9"
        )


@pytest.mark.skipif(sorter_dict["kilosort4"].is_installed(), reason="kilosort is installed here")
def test_kilosort4_without_kilosort_installed_says_it_needs_the_gpu_image(tmp_path) -> None:
    with pytest.raises(SortingError, match="kilosort4 is not installed.*torch.*GPU"):
        sort_recording(
            tmp_path / "a.cbin", tmp_path / "a.ch", tmp_path / "a.meta", tmp_path, sorter="kilosort4"
        )


def test_a_missing_input_file_is_named(recording, tmp_path) -> None:
    cbin, _, meta, _ = recording
    with pytest.raises(SortingError, match=r"missing\.ch does not exist"):
        sort_recording(cbin, tmp_path / "missing.ch", meta, tmp_path / "alf")


def test_an_lf_band_recording_is_refused(recording, tmp_path) -> None:
    cbin, ch, _, _ = recording
    with pytest.raises(SortingError, match="lf band"):
        read_recording(cbin, ch, FIXTURES / "sample3B_g0_t0.imec1.lf.meta", tmp_path)


def test_a_ch_that_does_not_match_its_meta_is_refused(recording, tmp_path) -> None:
    cbin, ch, meta, _ = recording
    header = json.loads(ch.read_text())
    other = tmp_path / "other.ch"
    other.write_text(json.dumps({**header, "n_channels": 385}))
    with pytest.raises(SortingError, match="holds 385 channels"):
        read_recording(cbin, other, meta, tmp_path / "input")
