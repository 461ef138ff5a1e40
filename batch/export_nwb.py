"""ExportNWB: a session as one NWB file (chalicelib/sharing/nwb.py), registered as its dataset
``nwb/session.nwb.<subject>_<date>_<number>.nwb`` so ONE and the public release paths serve it.

The job reads the session, its subject (species, sex, age, genotype, the weight of that day) and its ALF
datasets from the catalogue and the store: the trials (table or separate files), the wheel and its
movements, each probe's spike sorting with its channel geometry, and the raw recordings' names, sizes and
md5 (referenced, never copied). It writes the file, runs nwbinspector on it, and refuses to register a
file with a critical or best-practice-violation finding (the task ends Errored with the findings). A
session with nothing to export (no trials, wheel or sorting) is an error too.
"""

from __future__ import annotations

import datetime
import io
import sys
import zoneinfo
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from batch.jobs import Job, run
from batch.spikeglx import parse_meta
from chalicelib import aws
from chalicelib.colony.genetics import zygosity_strings
from chalicelib.datasets import datasets_of_session
from chalicelib.models import Dataset, Lab, Species, Subject, User, Weighing
from chalicelib.sharing import nwb
from chalicelib.subjects import find_subject

RAW_EPHYS = ("raw_ephys_data",)
RAW_SUFFIXES = (".cbin", ".bin", ".ch", ".meta")


def _get(model: type, key: str) -> Any:
    try:
        return model.get(key)
    except model.DoesNotExist:
        return None


def weight_on(subject: Subject, day: str) -> float | None:
    """The subject's last weighing on or before the session's day, in grams."""
    found = list(
        Weighing.by_subject.query(
            subject.id, Weighing.date_time <= f"{day}T99", scan_index_forward=False, limit=1
        )
    )
    return float(found[0].weight) if found else None


def genotype_of(subject: Subject) -> str:
    """Alyx's zygosities (``Ai95 +/-``), else the recorded genotype or the line."""
    zygosities = zygosity_strings(subject)
    if zygosities:
        return ", ".join(zygosities)
    if subject.genotype:
        return subject.genotype if isinstance(subject.genotype, str) else str(subject.genotype)
    return subject.line or ""


def experimenter(username: str) -> str:
    """DANDI's 'Last, First' when the account has names, else the username."""
    user = _get(User, username)
    if user is not None and user.last_name and user.first_name:
        return f"{user.last_name}, {user.first_name}"
    return username


def _moment(text: str, zone: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone or "UTC"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def session_info(job: Job) -> nwb.SessionInfo:
    session = job.session
    subject = find_subject(session.subject, session.lab)
    lab = _get(Lab, session.lab)
    species = _get(Species, subject.species) if subject.species else None
    zone = lab.timezone if lab is not None else "UTC"
    return nwb.SessionInfo(
        eid=session.id,
        lab=session.lab,
        institution=lab.institution if lab is not None else "",
        subject=nwb.SubjectInfo(
            nickname=subject.nickname,
            species=nwb.latin(subject.species, species.latin_name if species is not None else ""),
            sex=subject.sex or "U",
            birth_date=subject.birth_date,
            genotype=genotype_of(subject),
            strain=subject.strain,
            weight_grams=weight_on(subject, session.date),
            description=subject.description,
        ),
        date=session.date,
        number=int(session.number),
        start_time=_moment(session.start_time, zone),
        end_time=_moment(session.end_time, zone) if session.end_time else None,
        task_protocol=session.task_protocol or "",
        experimenters=tuple(experimenter(u) for u in session.users or ()),
        projects=tuple(session.projects or ()),
        narrative=session.narrative or "",
        location=session.location,
    )


def _array(job: Job, dataset: Dataset) -> np.ndarray:
    return np.load(io.BytesIO(job.open(dataset).read()), allow_pickle=False)


def _frame(job: Job, dataset: Dataset) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(job.open(dataset).read()))


def _attribute(dataset: Dataset, obj: str) -> str | None:
    """``trials.stimOn_times`` -> ``stimOn_times`` for object ``trials`` (namespace and timescale aside)."""
    kind = dataset.dataset_type or ""
    return kind.split(".", 1)[1] if kind.startswith(f"{obj}.") else None


def read_trials(job: Job, datasets: Iterable[Dataset]) -> dict[str, np.ndarray]:
    """Every trials attribute of ``alf/``: the table's columns, and the separate files for the rest."""
    alf = [d for d in datasets if d.collection == "alf" and d.default_dataset]
    trials: dict[str, np.ndarray] = {}
    for dataset in alf:
        if _attribute(dataset, "trials") == "table" and dataset.name.endswith(".pqt"):
            frame = _frame(job, dataset)
            trials.update({column: frame[column].to_numpy() for column in frame.columns})
    if "intervals_0" in trials and "intervals_1" in trials:
        trials["intervals"] = np.c_[trials.pop("intervals_0"), trials.pop("intervals_1")]
    for dataset in alf:
        attribute = _attribute(dataset, "trials")
        if attribute and attribute != "table" and dataset.name.endswith(".npy") and attribute not in trials:
            trials[attribute] = _array(job, dataset)
    lengths = {len(values) for values in trials.values()}
    if len(lengths) > 1:
        raise ValueError(f"the trials attributes have different lengths: {sorted(lengths)}")
    return trials


def read_object(
    job: Job, datasets: Iterable[Dataset], obj: str, collection: str = "alf"
) -> dict[str, np.ndarray]:
    return {
        attribute: _array(job, d)
        for d in datasets
        if d.collection == collection and d.default_dataset and d.name.endswith(".npy")
        if (attribute := _attribute(d, obj))
    }


def sorting_collections(datasets: Iterable[Dataset]) -> dict[str, str]:
    """Each sorted probe's collection (``alf/<probe>/<sorter>``, the configured sorter's first)."""
    found: dict[str, list[str]] = {}
    for d in datasets:
        parts = (d.collection or "").split("/")
        if d.default_dataset and d.dataset_type == "spikes.times" and len(parts) >= 2 and parts[0] == "alf":
            found.setdefault(parts[1], []).append(d.collection)
    preferred = aws.settings().sorter
    return {
        probe: next((c for c in sorted(set(cs)) if c.endswith(f"/{preferred}")), sorted(set(cs))[0])
        for probe, cs in sorted(found.items())
    }


def sampling_rate(job: Job, datasets: list[Dataset], probe: str) -> float:
    meta = [d for d in datasets if d.collection == f"raw_ephys_data/{probe}" and d.name.endswith(".ap.meta")]
    if meta:
        return parse_meta(job.open(meta[0]).read().decode("utf-8", "replace")).sample_rate
    return 30000.0


def read_sorting(job: Job, datasets: list[Dataset], probe: str, collection: str) -> nwb.Sorting:
    spikes = read_object(job, datasets, "spikes", collection)
    clusters = read_object(job, datasets, "clusters", collection)
    channels = read_object(job, datasets, "channels", collection)
    templates = read_object(job, datasets, "templates", collection)
    metrics_file = [
        d
        for d in datasets
        if d.collection == collection and d.default_dataset and d.dataset_type == "clusters.metrics"
    ]
    metrics: dict[str, np.ndarray] = {}
    if metrics_file:
        frame = _frame(job, metrics_file[0])
        if "cluster_id" in frame.columns:
            frame = frame.sort_values("cluster_id").drop(columns="cluster_id")
        metrics = {
            str(c): frame[c].to_numpy(dtype=float) for c in frame.columns if frame[c].dtype.kind in "biuf"
        }
    acronyms = channels.get("brainLocationAcronyms_ccf_2017")
    return nwb.Sorting(
        probe=probe,
        collection=collection,
        spike_times=spikes["times"],
        spike_clusters=spikes["clusters"],
        spike_amps=spikes.get("amps"),
        spike_depths=spikes.get("depths"),
        cluster_channels=clusters.get("channels"),
        cluster_depths=clusters.get("depths"),
        metrics=metrics,
        waveforms=templates.get("waveforms"),
        channel_coordinates=channels.get("localCoordinates"),
        channel_locations=[str(a) for a in acronyms] if acronyms is not None else None,
        sampling_rate=sampling_rate(job, datasets, probe),
    )


def raw_files(datasets: Iterable[Dataset]) -> list[nwb.RawFile]:
    return [
        nwb.RawFile(d.relative_path, int(d.file_size or 0), d.hash or "", d.id)
        for d in datasets
        if d.default_dataset and (d.collection or "").startswith(RAW_EPHYS) and d.name.endswith(RAW_SUFFIXES)
    ]


def export(job: Job) -> None:
    info = session_info(job)
    datasets = datasets_of_session(job.session.id)
    nwbfile = nwb.new_file(info)
    parts = []
    trials = read_trials(job, datasets)
    if trials:
        parts.append(f"{nwb.add_trials(nwbfile, trials)} trials ({len(trials)} attributes)")
    wheel = read_object(job, datasets, "wheel")
    if {"position", "timestamps"} <= wheel.keys():
        moves = read_object(job, datasets, "wheelMoves")
        nwb.add_wheel(
            nwbfile,
            wheel["timestamps"],
            wheel["position"],
            moves.get("intervals"),
            moves.get("peakAmplitude"),
        )
        parts.append(f"wheel ({wheel['position'].size} samples, {len(moves.get('intervals', []))} movements)")
    collections = sorting_collections(datasets)
    if collections:
        sortings = [read_sorting(job, datasets, probe, c) for probe, c in collections.items()]
        spikes = nwb.add_units(nwbfile, sortings)
        parts.append(f"{len(nwbfile.units)} units, {spikes} spikes from {', '.join(collections.values())}")
    raw = raw_files(datasets)
    nwb.add_raw_references(nwbfile, raw)
    if raw:
        parts.append(f"{len(raw)} raw ephys files referenced")
    if not parts:
        raise ValueError(f"session {job.session.id} has no trials, wheel or spike sorting to export")
    print("exporting " + "; ".join(parts), flush=True)
    relative = nwb.file_name(info)
    path = nwb.write(nwbfile, job.workdir / relative.rsplit("/", 1)[-1])
    findings = nwb.inspect(path)
    for line in findings:
        print(f"nwbinspector: {line}", flush=True)
    severe = nwb.severe(findings)
    if severe:
        raise ValueError(
            f"nwbinspector found {len(severe)} critical or violation-level issues, "
            f"the file is not registered: {'; '.join(severe)}"
        )
    md5 = job.upload(path, relative)
    job.wait_registered(relative, md5)
    print(f"registered {relative}", flush=True)


if __name__ == "__main__":
    sys.exit(run(export))
