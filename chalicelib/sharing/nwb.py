"""A session as one Neurodata Without Borders file, the format DANDI and most of the field read.

The mapping follows catalystneuro's IBL-to-NWB so that an IBL session exported here reads like the Brain
Wide Map files on DANDI: one trial per row with every ALF trials attribute the session has (IBL-to-NWB's
column order first, then any other attribute), the wheel's position and detected movements in a ``wheel``
processing module, and each spike-sorted probe's clusters in the units table with the probe's channels in
the electrode table. Raw ephys is referenced (ALF path, size, md5) in a table, never copied: it would
double the store.

Only the Batch job imports this module (pynwb and h5py are in the job's image, not in the Lambda package);
what the job reads from the catalogue arrives here as the plain values below.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.common import DynamicTable, VectorData
from pynwb import NWBHDF5IO, NWBFile
from pynwb.behavior import SpatialSeries
from pynwb.epoch import TimeIntervals
from pynwb.file import Subject
from pynwb.misc import Units

# IBL-to-NWB's trials columns, in its order: (ALF attribute, NWB column, description). ``intervals``
# becomes start_time and stop_time; attributes not listed here follow, in name order.
TRIALS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "choice",
        "choice",
        "-1: the wheel turned counter-clockwise, +1: clockwise, 0: no-go (no response "
        "within the response window)",
    ),
    (
        "feedbackType",
        "feedback_type",
        "+1: correct, rewarded with water; -1: incorrect or no-go, white noise",
    ),
    ("rewardVolume", "reward_volume", "water given on the trial (uL); 0 on unrewarded trials"),
    (
        "contrastLeft",
        "contrast_left",
        "contrast of the stimulus on the left (-35 deg azimuth); NaN when the stimulus was on the right",
    ),
    (
        "contrastRight",
        "contrast_right",
        "contrast of the stimulus on the right (35 deg azimuth); NaN when the stimulus was on the left",
    ),
    (
        "probabilityLeft",
        "probability_left",
        "prior probability that the stimulus appears on the left (the block's bias: 0.5, 0.8 or 0.2)",
    ),
    ("feedback_times", "feedback_time", "time of the feedback (valve or white noise command), s"),
    (
        "response_times",
        "response_time",
        "time the response was registered (threshold reached or time out), s",
    ),
    ("stimOff_times", "stim_off_time", "time the stimulus left the screen (photodiode), s"),
    ("stimOn_times", "stim_on_time", "time the stimulus appeared on the screen (photodiode), s"),
    ("goCue_times", "go_cue_time", "time the go cue tone was played, s"),
    ("goCueTrigger_times", "go_cue_trigger_time", "time the go cue was commanded, s"),
    (
        "firstMovement_times",
        "first_movement_time",
        "time of the first wheel movement large enough to count, s",
    ),
)
TRIALS_DESCRIPTION = (
    "Trials of the IBL decision-making task: a visual stimulus appears on the left or right of a screen and "
    "the mouse moves it to the centre by turning a wheel; correct choices are rewarded with water. Columns "
    "are the session's ALF trials attributes (alf/_ibl_trials.*), times in seconds from the session start."
)
DERIVED_INTERVALS = (
    " This session recorded no trials.intervals: each trial's start_time is its earliest recorded event "
    "and its stop_time the next trial's start_time."
)
WHEEL_MODULE = "behavior"  # NWB's module name for behaviour (IBL-to-NWB says "wheel"; nwbinspector asks this)
UNTRACED = "root"  # Allen CCF's whole brain: where a channel is before its probe's track is traced
SPECIES = {"mouse": "Mus musculus", "rat": "Rattus norvegicus", "human": "Homo sapiens"}
SEX = {"M": "M", "F": "F", "U": "U", "O": "O", "male": "M", "female": "F"}


@dataclass(frozen=True)
class SubjectInfo:
    nickname: str
    species: str  # a Latin binomial ("Mus musculus"): ``latin`` turns a common name into one
    sex: str = "U"
    birth_date: str | None = None
    genotype: str = ""
    strain: str | None = None
    weight_grams: float | None = None  # the last weighing on or before the session's day
    description: str = ""


@dataclass(frozen=True)
class SessionInfo:
    eid: str
    lab: str
    institution: str
    subject: SubjectInfo
    date: str
    number: int
    start_time: datetime.datetime  # timezone-aware
    end_time: datetime.datetime | None
    task_protocol: str = ""
    experimenters: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    narrative: str = ""
    location: str | None = None


@dataclass(frozen=True)
class Sorting:
    """One probe's spike sorting, as its ALF files hold it (``alf/<probe>/<sorter>``): per spike, per
    cluster, per channel; the optional parts are left out of the file when the sorting has none."""

    probe: str
    collection: str
    spike_times: np.ndarray
    spike_clusters: np.ndarray
    spike_amps: np.ndarray | None = None
    spike_depths: np.ndarray | None = None
    cluster_channels: np.ndarray | None = None
    cluster_depths: np.ndarray | None = None
    metrics: Mapping[str, np.ndarray] = field(default_factory=dict)  # clusters.metrics columns, by cluster
    waveforms: np.ndarray | None = None  # templates.waveforms: cluster x sample x local channel
    channel_coordinates: np.ndarray | None = None  # channels.localCoordinates, um
    channel_locations: Sequence[str] | None = None  # brain region acronym per channel, when traced
    sampling_rate: float = 30000.0  # of the AP band: the spike times' resolution


@dataclass(frozen=True)
class RawFile:
    """A raw recording the NWB file points at instead of copying."""

    path: str  # relative to the session
    size: int
    md5: str
    dataset: str  # its dataset id (ONE downloads it by that)


def latin(species: str, latin_name: str = "") -> str:
    """The Latin binomial NWB asks for, from the species vocabulary's ``latin_name`` or its common name;
    a subject with no species is a mouse (onecloud's colonies are mice unless told otherwise)."""
    if latin_name:
        return latin_name
    text = (species or "").strip()
    if re.fullmatch(r"[A-Z][a-z]+ [a-z]+", text):
        return text
    lowered = text.lower()
    return next((name for common, name in SPECIES.items() if common in lowered), text or "Mus musculus")


def iso_age(birth_date: str | None, on: str) -> str | None:
    """Age as an ISO 8601 duration in days (``P90D``), as DANDI asks."""
    if not birth_date:
        return None
    days = (datetime.date.fromisoformat(on) - datetime.date.fromisoformat(birth_date[:10])).days
    return f"P{days}D" if days >= 0 else None


def file_name(session: SessionInfo) -> str:
    """The export's dataset path: ALF wants object.attribute, so the file is ``session.nwb`` with the
    subject, date and number as an extra part, and a downloaded copy still says which session it is."""
    subject = re.sub(r"[^A-Za-z0-9_-]", "-", session.subject.nickname)
    return f"nwb/session.nwb.{subject}_{session.date}_{session.number:03d}.nwb"


def _compressed(values: np.ndarray) -> Any:
    return H5DataIO(values, compression="gzip") if values.size > 1000 else values


def _subject(session: SessionInfo) -> Subject:
    info = session.subject
    extra: dict[str, Any] = {}
    age = iso_age(info.birth_date, session.date)
    if age:
        extra["age"] = age
        extra["age__reference"] = "birth"
    if info.genotype:
        extra["genotype"] = info.genotype
    if info.strain:
        extra["strain"] = info.strain
    if info.weight_grams is not None:
        extra["weight"] = f"{info.weight_grams / 1000:.4f} kg"
    return Subject(
        subject_id=info.nickname,
        species=info.species,
        sex=SEX.get(info.sex, "U"),
        description=info.description or f"{info.nickname} of {session.lab}",
        **extra,
    )


def new_file(session: SessionInfo) -> NWBFile:
    description = session.task_protocol or "session"
    return NWBFile(
        session_description=f"{session.subject.nickname} {session.date} {session.number:03d}: {description}",
        identifier=session.eid,
        session_id=session.eid,
        session_start_time=session.start_time,
        experimenter=list(session.experimenters) or None,
        lab=session.lab,
        institution=session.institution or session.lab,
        protocol=session.task_protocol or None,
        keywords=["IBL", "ONE", *session.projects] if session.projects else ["IBL", "ONE"],
        notes=session.narrative or None,
        experiment_description=f"{session.lab}: {'; '.join(session.projects) or description}",
        subject=_subject(session),
    )


def _trial_bounds(trials: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """start and stop per trial: ``intervals`` when recorded; else each trial starts at its earliest event
    and lasts until the next trial starts (the last one until its latest event)."""
    if "intervals" in trials:
        intervals = np.asarray(trials["intervals"], dtype=float).reshape(n, 2)
        return intervals[:, 0], intervals[:, 1], False
    events = np.column_stack([np.asarray(v, dtype=float) for k, v in trials.items() if k.endswith("_times")])
    with np.errstate(all="ignore"), _quiet():
        start, last = np.nanmin(events, axis=1), np.nanmax(events, axis=1)
    for i in range(n):  # a trial with no event at all: at the previous trial's start
        if np.isnan(start[i]):
            start[i] = last[i] = start[i - 1] if i else 0.0
    stop = np.append(start[1:], last[-1] if n else [])
    durations = stop[:-1] - start[:-1]
    typical = float(np.median(durations[durations > 0])) if (durations > 0).any() else 1.0
    stop = np.where(stop > start, stop, start + typical)
    return start, stop, True


class _quiet:
    """All-NaN rows are expected (handled after): silence numpy's warning about them."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def _column_name(attribute: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", attribute).lower()


def trials_columns(trials: Mapping[str, np.ndarray]) -> list[tuple[str, str, str]]:
    """(ALF attribute, NWB column, description) for every attribute present, in IBL-to-NWB's order."""
    known = [column for column in TRIALS_COLUMNS if column[0] in trials]
    listed = {column[0] for column in TRIALS_COLUMNS} | {"intervals"}
    others = [
        (name, _column_name(name), f"ALF trials.{name}")
        for name in sorted(trials)
        if name not in listed and np.asarray(trials[name]).ndim == 1
    ]
    return known + others


def add_trials(nwbfile: NWBFile, trials: Mapping[str, np.ndarray]) -> int:
    n = len(next(iter(trials.values())))
    start, stop, derived = _trial_bounds(trials, n)
    columns = [
        VectorData(name="start_time", description="start of the trial, s", data=start),
        VectorData(name="stop_time", description="end of the trial, s", data=stop),
    ]
    for attribute, name, description in trials_columns(trials):
        values = np.asarray(trials[attribute])
        if (
            values.dtype.kind == "f"
            and np.all(np.isnan(values) | (values == np.round(values)))
            and (attribute in ("choice", "feedbackType"))
        ):
            values = values.astype(np.int64)
        columns.append(VectorData(name=name, description=description, data=_compressed(values)))
    nwbfile.trials = TimeIntervals(
        name="trials",
        description=TRIALS_DESCRIPTION + (DERIVED_INTERVALS if derived else ""),
        columns=columns,
    )
    return n


def add_wheel(
    nwbfile: NWBFile,
    timestamps: np.ndarray,
    position: np.ndarray,
    moves: np.ndarray | None = None,
    peak_amplitude: np.ndarray | None = None,
) -> None:
    """Wheel position (radians, as ALF's ``wheel.position``) and the movements detected in it."""
    module = nwbfile.create_processing_module(WHEEL_MODULE, "the wheel the mouse turns to answer")
    module.add(
        SpatialSeries(
            name="wheel_position",
            description="angle of the wheel from its position at the session start (ALF wheel.position)",
            data=_compressed(np.asarray(position, dtype=float)),
            timestamps=_compressed(np.asarray(timestamps, dtype=float)),
            unit="radians",
            reference_frame="the wheel's angle at the session start is 0; counter-clockwise is positive",
        )
    )
    if moves is not None and len(moves):
        table = TimeIntervals(
            name="wheel_movements", description="wheel movements detected in the position (ALF wheelMoves)"
        )
        intervals = np.asarray(moves, dtype=float).reshape(-1, 2)
        table.add_column("peak_amplitude", "largest displacement from the movement's start, radians")
        amplitudes = np.full(len(intervals), np.nan) if peak_amplitude is None else peak_amplitude
        for (begin, end), amplitude in zip(intervals, amplitudes, strict=True):
            table.add_row(start_time=float(begin), stop_time=float(end), peak_amplitude=float(amplitude))
        module.add(table)


def _electrodes(nwbfile: NWBFile, sorting: Sorting) -> int:
    """The probe's channels as electrode rows; returns the row of its first channel."""
    device = nwbfile.create_device(name=sorting.probe, description="Neuropixels probe", manufacturer="IMEC")
    group = nwbfile.create_electrode_group(
        name=sorting.probe,
        description=f"the channels of {sorting.probe}",
        location=UNTRACED if not sorting.channel_locations else "see electrodes.location",
        device=device,
    )
    if nwbfile.electrodes is None or "rel_x" not in nwbfile.electrodes.colnames:
        nwbfile.add_electrode_column("rel_x", "channel position across the probe, um")
        nwbfile.add_electrode_column("rel_y", "channel position along the probe from its tip, um")
    first = len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0
    coordinates = np.asarray(sorting.channel_coordinates, dtype=float)
    for channel, (x, y) in enumerate(coordinates[:, :2]):
        location = sorting.channel_locations[channel] if sorting.channel_locations else UNTRACED
        nwbfile.add_electrode(group=group, location=location, rel_x=float(x), rel_y=float(y))
    return first


def add_units(nwbfile: NWBFile, sortings: Sequence[Sorting]) -> int:
    """Every cluster of every probe as a unit (its spike times, amplitudes and depths, depth, peak
    channel, quality metrics, mean waveform on its peak channel); returns how many spikes."""
    spikes = 0
    columns_added = False
    for sorting in sortings:
        first = _electrodes(nwbfile, sorting) if sorting.channel_coordinates is not None else None
        times = np.asarray(sorting.spike_times, dtype=float)
        clusters = np.asarray(sorting.spike_clusters, dtype=np.int64)
        order = np.argsort(clusters, kind="stable")
        n_clusters = max(
            int(clusters.max()) + 1 if clusters.size else 0,
            len(sorting.cluster_depths) if sorting.cluster_depths is not None else 0,
        )
        bounds = np.searchsorted(clusters[order], np.arange(n_clusters + 1))
        if not columns_added:
            nwbfile.units = Units(
                name="units",
                description="the clusters of each probe's spike sorting (ALF spikes.* and clusters.*)",
                resolution=1 / sorting.sampling_rate,
                waveform_rate=sorting.sampling_rate,
                waveform_unit="volts",
            )
            nwbfile.add_unit_column("cluster_id", "the cluster's number in its probe's ALF sorting")
            nwbfile.add_unit_column("probe", "the probe (ALF collection alf/<probe>/<sorter>)")
            nwbfile.add_unit_column("sorting", "the ALF collection of the sorting")
            nwbfile.add_unit_column(
                "depth", "depth of the cluster from the probe's tip, um (clusters.depths)"
            )
            nwbfile.add_unit_column("peak_channel", "the channel of largest amplitude (clusters.channels)")
            if sorting.spike_amps is not None:
                nwbfile.add_unit_column(
                    "spike_amplitudes", "amplitude of each spike, V (spikes.amps)", index=True
                )
            if sorting.spike_depths is not None:
                nwbfile.add_unit_column("spike_depths", "depth of each spike, um (spikes.depths)", index=True)
            for name in sorting.metrics:
                nwbfile.add_unit_column(name, f"quality metric {name} (clusters.metrics)")
            columns_added = True
        for cluster in range(n_clusters):
            members = order[bounds[cluster] : bounds[cluster + 1]]
            row: dict[str, Any] = {
                "spike_times": times[members],
                "cluster_id": cluster,
                "probe": sorting.probe,
                "sorting": sorting.collection,
                "depth": _at(sorting.cluster_depths, cluster),
                "peak_channel": int(_at(sorting.cluster_channels, cluster, -1)),
                **{name: _at(values, cluster) for name, values in sorting.metrics.items()},
            }
            for column, values in (
                ("spike_amplitudes", sorting.spike_amps),
                ("spike_depths", sorting.spike_depths),
            ):
                if column in nwbfile.units.colnames:
                    row[column] = _of(values, members)
            channel = row["peak_channel"]
            if first is not None and channel >= 0:
                row["electrodes"] = [first + channel]
                row["electrode_group"] = nwbfile.electrode_groups[sorting.probe]
            if sorting.waveforms is not None and cluster < len(sorting.waveforms):
                row["waveform_mean"] = np.asarray(sorting.waveforms[cluster], dtype=float)[:, 0]
            nwbfile.add_unit(**row)
        spikes += times.size
    return spikes


def _at(values: Any, index: int, missing: float = float("nan")) -> float:
    if values is None or index >= len(values):
        return missing
    value = values[index]
    return float(value) if value is not None else missing


def _of(values: np.ndarray | None, members: np.ndarray) -> np.ndarray:
    return np.full(members.size, np.nan) if values is None else np.asarray(values, dtype=float)[members]


def add_raw_references(nwbfile: NWBFile, files: Sequence[RawFile]) -> None:
    """Where the raw recordings are, with their size and md5: the file links to them instead of
    holding a second copy."""
    if not files:
        return
    table = DynamicTable(
        name="raw_ephys_files",
        description=(
            "The session's raw electrophysiology, referenced, not copied: each file's ALF path relative to "
            "the session, size, md5 and ONE dataset id (ONE downloads it by that id or path)"
        ),
    )
    table.add_column("path", "ALF path relative to the session")
    table.add_column("size", "bytes")
    table.add_column("md5", "md5 of the file's bytes")
    table.add_column("dataset", "the ONE dataset id")
    for file in files:
        table.add_row(path=file.path, size=int(file.size), md5=file.md5, dataset=file.dataset)
    nwbfile.add_acquisition(table)


def write(nwbfile: NWBFile, path: Path) -> Path:
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


SEVERE = ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR", "PYNWB_VALIDATION")


def inspect(path: Path) -> list[str]:
    """nwbinspector's findings on a written file, as ``IMPORTANCE check: message (location)`` lines."""
    from nwbinspector import inspect_nwbfile

    return [
        f"{message.importance.name} {message.check_function_name}: {message.message} ({message.location})"
        for message in inspect_nwbfile(nwbfile_path=str(path))
    ]


def severe(findings: Sequence[str]) -> list[str]:
    """The findings that make a file unfit to share: critical ones and best-practice violations."""
    return [line for line in findings if line.split(" ", 1)[0] in SEVERE]
