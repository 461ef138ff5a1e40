"""The training-time analysis (the paper's Fig. 2) over everything the database holds.

``python -m batch.training_time <run id>``: reads the run's options (chalicelib/analyses/training_time/
runs.py), gathers every subject in scope (project, lab) with its lab's and housing's light cycle and
food, weighings, water restrictions and administrations, the TrainingStatus results per date, and the
trials, wheel and ambient sensor files of the sessions the features read (only those); builds the
design matrix, fits and scores the classifiers, and stores the matrix (Parquet), ``results.json`` and the
run's status. A failure leaves the run Errored with the reason.

The design matrix is also a dataset of the catalogue, an aggregate (a dataset of no session, as IBL keeps
a subject's training table): it belongs to the run's project (else its lab, else the one project all its
mice share) and sits in the collection ``Projects/<project>/trainingTime/<run id>`` (``Labs/<lab>/...``),
so ``one.list_aggregates("projects")`` lists it.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import sys
import time
import traceback
from collections import defaultdict
from typing import Any

import numpy as np

from batch.training_status import AMBIENT, SessionInputs, load_trials, read_object, trials_datasets
from chalicelib import alf, aws
from chalicelib.analyses.training_time import features, model, runs
from chalicelib.analyses.training_time.records import DayData, MouseData, SessionData
from chalicelib.behaviour import results as behaviour_results
from chalicelib.behaviour import trials as trials_io
from chalicelib.datasets import datasets_of_session
from chalicelib.models import (
    Food,
    Housing,
    Lab,
    Project,
    Session,
    Subject,
    WaterAdministration,
    WaterRestriction,
    Weighing,
)
from chalicelib.registration import FileSpec, Owner, register_files, session_relative_path
from chalicelib.sessions import sessions_of_subject

AMBIENT_NAMES = ("Temperature_C", "AirPressure_mb", "RelativeHumidity")
PIPELINE_USER = "onecloud-pipeline"


def subjects_in_scope(options: dict[str, Any]) -> list[Subject]:
    found = Subject.by_lab.query(options["lab"]) if options.get("lab") else Subject.scan()
    project = options.get("project")
    return [s for s in found if not project or project in (s.projects or [])]


class Colony:
    """Lab defaults, housings and foods, read once."""

    def __init__(self) -> None:
        self.labs: dict[str, Lab] = {}
        self.protein = {f.name: f.protein_pct for f in Food.scan()}
        self.housings: dict[tuple[str, str], list[Housing]] = defaultdict(list)
        for housing in Housing.scan():
            for nickname in housing.subjects or []:
                self.housings[(housing.lab, nickname)].append(housing)

    def lab(self, name: str) -> Lab | None:
        if name not in self.labs:
            try:
                self.labs[name] = Lab.get(name)
            except Lab.DoesNotExist:
                self.labs[name] = None
        return self.labs[name]

    def conditions(self, subject: Subject) -> tuple[int | None, float | None]:
        """Light cycle and food protein %: the mouse's latest housing that says, else its lab's default."""
        housings = sorted(self.housings[(subject.lab, subject.nickname)], key=lambda h: h.start_datetime)
        lab = self.lab(subject.lab)
        light = next((h.light_cycle for h in reversed(housings) if h.light_cycle is not None), None)
        food = next((h.food for h in reversed(housings) if h.food), None)
        light = light if light is not None else (lab.light_cycle if lab else None)
        food = food or (lab.food if lab else None)
        protein = self.protein.get(food) if food else None
        return (None if light is None else int(light)), (None if protein is None else float(protein))


def mouse_records(
    subject: Subject, colony: Colony, document: dict[str, Any]
) -> tuple[MouseData, dict[str, Session]]:
    """The mouse with its dates (statuses from the TrainingStatus results) and sessions, no files yet, and
    its sessions by id."""
    sessions: dict[str, list[SessionData]] = defaultdict(list)
    models = {}
    for session in sessions_of_subject(subject.nickname):
        if session.lab == subject.lab:
            sessions[session.date].append(SessionData(session.id, session.start_time))
            models[session.id] = session
    days = [
        DayData(
            row["date"],
            row["training_status"],
            row.get("training_day"),
            float("nan") if row.get("performance_easy") is None else float(row["performance_easy"]),
            sorted(sessions.get(row["date"], []), key=lambda s: s.start_time),
        )
        for row in document.get("rows") or []
    ]
    light, protein = colony.conditions(subject)
    mouse = MouseData(
        nickname=subject.nickname,
        lab=subject.lab,
        sex=subject.sex or "U",
        birth_date=subject.birth_date,
        light_cycle=light,
        food_protein_pct=protein,
        weighings=[(w.date_time, float(w.weight)) for w in Weighing.by_subject.query(subject.id)],
        restrictions=[
            (r.start_time, float(r.reference_weight or 0))
            for r in WaterRestriction.by_subject.query(subject.id)
        ],
        water=[
            (w.date_time, w.water_type or "Water") for w in WaterAdministration.by_subject.query(subject.id)
        ],
        days=days,
    )
    return mouse, models


def ambient_means(text: str) -> dict[str, float] | None:
    """Each measure's mean over the session's trials (one JSON object per trial, values in one-element
    lists, as iblrig writes them)."""
    values: dict[str, list[float]] = {name: [] for name in AMBIENT_NAMES}
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        record = json.loads(line)
        for name in AMBIENT_NAMES:
            value = record.get(name)
            value = value[0] if isinstance(value, list) and value else value
            if isinstance(value, (int, float)):
                values[name].append(float(value))
    means = {name: float(np.mean(v)) for name, v in values.items() if v}
    return means or None


def load_files(mouse: MouseData, sessions: dict[str, Session], mode: str) -> None:
    """Fill in the trials and wheel of the first five training days and the ambient measures of the
    sessions the features read. A file that cannot be read leaves its feature NaN (and the mouse out,
    with the reason) rather than ending the run."""
    early, with_ambient = features.needs_files(mouse, mode)
    for day in mouse.days:
        for data in day.sessions:
            if data.eid not in early | with_ambient:
                continue
            session = sessions[data.eid]
            datasets = datasets_of_session(session.id)
            relative = session_relative_path(session)
            if data.eid in early:
                found = trials_datasets(datasets)
                if found:
                    try:
                        data.trials = load_trials(SessionInputs(session, found))
                    except trials_io.MalformedTrials as error:
                        print(f"{mouse.name}: {error}")
                wheel = {d.dataset_type: d for d in datasets if d.collection == "alf" and d.default_dataset}
                if "wheel.position" in wheel and "wheel.timestamps" in wheel:
                    data.wheel = tuple(
                        trials_io.read_npy(read_object(f"{relative}/{wheel[k].relative_path}"), k)
                        for k in ("wheel.position", "wheel.timestamps")
                    )
            if data.eid in with_ambient:
                sensor = next((d for d in datasets if d.name == AMBIENT and d.default_dataset), None)
                if sensor is not None:
                    data.ambient = ambient_means(read_object(f"{relative}/{sensor.relative_path}").decode())


def matrix_bytes(matrix: model.DesignMatrix) -> bytes:
    import pandas as pd

    columns = ["mouse", "lab", "trained_date", "training_time", *features.COLUMNS]
    buffer = io.BytesIO()
    pd.DataFrame(matrix.rows, columns=columns).to_parquet(buffer, index=False)
    return buffer.getvalue()


def matrix_owner(options: dict[str, Any], subjects: list[Subject]) -> tuple[Owner, str] | None:
    """What the design matrix belongs to and its collection; None when the run names no project or lab
    and its mice share no single project."""
    labs = sorted({s.lab for s in subjects})
    project = options.get("project")
    if not project and not options.get("lab"):
        shared = set.intersection(*(set(s.projects or []) for s in subjects)) if subjects else set()
        project = next(iter(shared)) if len(shared) == 1 else None
    if project:
        try:
            record = Project.get(project)
        except Project.DoesNotExist:
            return None
        lab = options.get("lab") or (labs[0] if labs else None)
        if lab is None:
            return None
        return Owner(lab=lab, content_type="subjects.project", object_id=record.id), f"Projects/{project}"
    if options.get("lab"):
        try:
            lab = Lab.get(options["lab"])
        except Lab.DoesNotExist:
            return None
        return Owner(lab=lab.name, content_type="misc.lab", object_id=lab.id), f"Labs/{lab.name}"
    return None


def register_matrix(run_id: str, body: bytes, owner: tuple[Owner, str] | None) -> dict[str, Any]:
    """The design matrix as a dataset of the catalogue (in the central store repository), or why not."""
    if owner is None:
        return {
            "registered": False,
            "reason": "the run names no project or lab and its mice share no project",
        }
    who, base = owner
    spec = FileSpec(
        path=alf.parse_dataset_path(f"{base}/trainingTime/{run_id}/{runs.MATRIX}"),
        hash=hashlib.md5(body).hexdigest(),
        size=len(body),
    )
    [summary] = register_files(
        owner=who,
        specs=[spec],
        sent_names=[runs.MATRIX],
        repository=aws.settings().s3_repository,
        created_by=PIPELINE_USER,
    )
    print(f"registered {spec.identity} as dataset {summary['id']}", flush=True)
    return {
        "registered": True,
        "dataset": summary["id"],
        "collection": summary["collection"],
        "name": runs.MATRIX,
    }


def versions() -> dict[str, str]:
    import pandas
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pandas.__version__,
    }


def analyse(run_id: str) -> dict[str, Any]:
    run = runs.get(run_id)
    options = run["options"]
    started = time.monotonic()

    def progress(step: str, done: int, total: int) -> None:
        if done == total or done % max(total // 20, 1) == 0:
            runs.update(run_id, progress={"step": step, "done": done, "total": total})

    runs.update(run_id, status="Started", progress={"step": "gathering records", "done": 0, "total": 1})
    colony, mice, missing = Colony(), [], []
    subjects = subjects_in_scope(options)
    for index, subject in enumerate(subjects, 1):
        document = behaviour_results.subject_training(subject.lab, subject.nickname)
        if document is None:
            missing.append({"mouse": subject.nickname, "lab": subject.lab, "reason": "no training status"})
        else:
            mouse, sessions = mouse_records(subject, colony, document)
            load_files(mouse, sessions, options["mode"])
            mice.append(mouse)
        progress("gathering records", index, len(subjects))
    matrix = model.design_matrix(mice, options.get("cutoff"), options["mode"])
    matrix.excluded += missing
    print(f"{len(matrix.rows)} mice in the design matrix, {len(matrix.excluded)} excluded", flush=True)
    body = matrix_bytes(matrix)
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket, Key=runs.key(run_id, runs.MATRIX), Body=body
    )
    dataset = register_matrix(run_id, body, matrix_owner(options, subjects))
    scores = model.analyse(matrix, options["seed"], options["mode"], options["shuffles"], progress)
    seed = options["seed"]
    document = {
        "run": run_id,
        "options": options,
        **scores,
        "training_times": [row["training_time"] for row in matrix.rows],
        "mice": [
            {"mouse": r["mouse"], "lab": r["lab"], "trained_date": r["trained_date"]} for r in matrix.rows
        ],
        "excluded": sorted(matrix.excluded, key=lambda e: (e["lab"], e["mouse"])),
        "design_matrix": dataset,
        "seeds": {"forest": seed, "folds": seed, "shuffles_and_permutations": seed},
        "versions": versions(),
        "seconds": round(time.monotonic() - started, 1),
    }
    runs.write(run_id, "results.json", document)
    return document


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m batch.training_time <run id>", file=sys.stderr)
        return 2
    run_id = argv[0]
    if runs.read(run_id) is None:
        print(f"no training-time run {run_id}", file=sys.stderr)
        return 1
    try:
        document = analyse(run_id)
    except Exception as error:
        traceback.print_exc()
        runs.update(run_id, status="Errored", error=str(error) or type(error).__name__)
        return 1
    runs.update(
        run_id,
        status="Complete",
        summary={"n_mice": document["n_mice"], "f1": document["f1"], "excluded": len(document["excluded"])},
    )
    print(f"training-time run {run_id}: {document['n_mice']} mice, F1 {document['f1']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
