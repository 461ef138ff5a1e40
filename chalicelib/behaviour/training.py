"""A subject's training status for every date, IBL's way (``brainbox/behavior/training.py`` for the
criteria, ``ibllib/pipes/training_status.py`` for the table; §5 of docs/analyses.md).

The status of date D comes from the trials of the last three dates with sessions up to D (all sessions of
a date pooled; habituation dates skipped), by the first of these that holds:

* all three dates on the training task: trained 1b, else trained 1a, else in training;
* some but not all on the training task: trained 1b (the subject just moved to the biased task);
* none on the training task: ready4recording, else ready4delay, else ready4ephysrig, else trained 1b.

A date never ranks below the date before it (no regression); 40 sessions in training make the 40th
untrainable, 40 biased sessions without reaching ready4ephysrig make the 40th unbiasable.

``subject_training`` is the entry point: it takes the subject's dates (their trials loaded lazily) and
the rows computed before, keeps every date before the earliest one whose inputs changed, and recomputes
the rest. Its rows are the per-subject training table; ``trained_criteria`` turns them into the subject's
``json.trained_criteria``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from chalicelib.behaviour import metrics
from chalicelib.behaviour.psychometric import SEED
from chalicelib.behaviour.statuses import (
    BLOCKS,
    DELAY_SECONDS,
    FAILURE_SESSIONS,
    READY4DELAY,
    READY4EPHYSRIG,
    READY4RECORDING,
    TRAINED_1A,
    TRAINED_1B,
    higher,
    key,
    rank,
)
from chalicelib.behaviour.trials import Trials, concatenate, signed_contrast


@dataclass
class Day:
    """The sessions of one date, as the status computation sees them."""

    date: str  # ISO
    eids: list[str]
    session_paths: list[str]
    protocol: str  # habituation, training, biased or ephys (of the date's last session, as IBL)
    task_protocol: str
    load: Callable[[], Trials] | None  # the date's trials, pooled over its sessions (None: habituation)
    location: str = "training_rig"  # ephys_rig when any session ran on an ephys rig
    delay: float = 0.0  # seconds before the first trial (the date's largest)
    duration: float = float("nan")  # minutes, summed over the date's sessions
    fingerprint: str = ""  # changes whenever any input of the date changes

    @cached_property
    def trials(self) -> Trials:
        if self.load is None:
            raise ValueError(f"{self.date} is a habituation date: its trials are not analysed")
        return self.load()


@dataclass
class Assessment:
    """One date's status, the numbers it was decided on, and the breakdown of the criterion that was next
    (``{name: {"val": ..., "pass": bool}}`` with ``Criteria`` naming it), as IBL returns them."""

    status: str
    info: dict[str, Any] = field(default_factory=dict)
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)


def _breakdown(criteria: dict[str, tuple[Any, bool]], name: str) -> tuple[bool, dict[str, dict[str, Any]]]:
    passing = all(ok for _, ok in criteria.values())
    out = {label: {"val": value, "pass": bool(ok)} for label, (value, ok) in criteria.items()}
    out["Criteria"] = {"val": name, "pass": passing}
    return passing, out


def criterion_1a(psych: np.ndarray, n_trials: np.ndarray, perf_easy: np.ndarray, contrasts: np.ndarray):
    bound = TRAINED_1A
    return _breakdown(
        {
            "Zero_contrast": (contrasts, bool(np.any(contrasts == 0))),
            "LapseLow_50": (psych[2], psych[2] < bound["lapse"]),
            "LapseHigh_50": (psych[3], psych[3] < bound["lapse"]),
            "Bias": (psych[0], abs(psych[0]) < bound["bias"]),
            "Threshold": (psych[1], psych[1] < bound["threshold"]),
            "N_trials": (n_trials, bool(np.all(n_trials > bound["n_trials"]))),
            "Perf_easy": (perf_easy, bool(np.all(perf_easy > bound["perf_easy"]))),
        },
        "trained_1a",
    )


def criterion_1b(psych, n_trials, perf_easy, rt: float, contrasts):
    bound = TRAINED_1B
    return _breakdown(
        {
            "Zero_contrast": (contrasts, bool(np.any(contrasts == 0))),
            "LapseLow_50": (psych[2], psych[2] < bound["lapse"]),
            "LapseHigh_50": (psych[3], psych[3] < bound["lapse"]),
            "Bias": (psych[0], abs(psych[0]) < bound["bias"]),
            "Threshold": (psych[1], psych[1] < bound["threshold"]),
            "N_trials": (n_trials, bool(np.all(n_trials > bound["n_trials"]))),
            "Perf_easy": (perf_easy, bool(np.all(perf_easy > bound["perf_easy"]))),
            "Reaction_time": (rt, rt < bound["rt"]),
        },
        "trained_1b",
    )


def _ephys_criteria(psych_20, psych_80, n_trials, perf_easy, rt) -> dict[str, tuple[Any, bool]]:
    bound, shift = READY4EPHYSRIG, psych_80[0] - psych_20[0]
    return {
        "LapseLow_80": (psych_80[2], psych_80[2] < bound["lapse"]),
        "LapseHigh_80": (psych_80[3], psych_80[3] < bound["lapse"]),
        "LapseLow_20": (psych_20[2], psych_20[2] < bound["lapse"]),
        "LapseHigh_20": (psych_20[3], psych_20[3] < bound["lapse"]),
        "Bias_shift": (shift, shift > bound["bias_shift"]),
        "N_trials": (n_trials, bool(np.all(n_trials > bound["n_trials"]))),
        "Perf_easy": (perf_easy, bool(np.all(perf_easy > bound["perf_easy"]))),
        "Reaction_time": (rt, rt < bound["rt"]),
    }


def criterion_ephys(psych_20, psych_80, n_trials, perf_easy, rt):
    return _breakdown(_ephys_criteria(psych_20, psych_80, n_trials, perf_easy, rt), "ready4ephysrig")


def criterion_delay(n_ephys: int, n_trials: np.ndarray, perf_easy: np.ndarray):
    """Over the window's ephys-rig dates only: any of them with enough trials and any performing well."""
    return _breakdown(
        {
            "N_ephys": (n_ephys, n_ephys > 0),
            "N_trials": (n_trials, bool(np.any(n_trials > READY4DELAY["n_trials"]))),
            "Perf_easy": (perf_easy, bool(np.any(perf_easy > READY4DELAY["perf_easy"]))),
        },
        "ready4delay",
    )


def criterion_recording(n_ephys: int, n_delay: int, psych_20, psych_80, n_trials, perf_easy, rt):
    criteria = _ephys_criteria(psych_20, psych_80, n_trials, perf_easy, rt)
    criteria["N_ephys"] = (n_ephys, n_ephys >= READY4RECORDING["n_ephys"])
    criteria["N_delay"] = (n_delay, n_delay > 0)
    return _breakdown(criteria, "ready4recording")


def training_status(
    window: dict[str, Trials],
    protocols: Sequence[str],
    ephys_dates: Sequence[str] = (),
    n_delay: int = 0,
    rng: np.random.RandomState | None = None,
) -> Assessment:
    """The status from a window of dates (oldest first, each date's trials pooled), their protocol families,
    the window's dates on an ephys rig and how many of its dates started after a delay.

    ``rng`` draws the psychometric fits' random restarts (a fresh RandomState(0) by default: IBL's tests
    seed NumPy with 0 before each window)."""
    rng = rng if rng is not None else np.random.RandomState(SEED)
    dates = list(window)
    pooled = concatenate(window[d] for d in dates)
    contrasts = np.unique(signed_contrast(pooled))
    perf_easy = np.array([metrics.performance_easy(window[d]) for d in dates])
    n_trials = np.array([metrics.n_trials(window[d]) for d in dates])
    rt = metrics.median_response_time(pooled, contrast=0)
    info: dict[str, Any] = {
        "session_dates": dates,
        "protocols": list(protocols),
        "perf_easy": perf_easy,
        "n_trials": n_trials,
        "rt": rt,
    }
    training = [p == "training" for p in protocols]
    if all(training) or any(training):
        info["psych"] = metrics.fit_psychometric(pooled, rng=rng)
    if all(training):
        passed, criteria = criterion_1b(info["psych"], n_trials, perf_easy, rt, contrasts)
        if passed:
            return Assessment("trained 1b", info, _biased_next(protocols))
        passed, criteria_1a = criterion_1a(info["psych"], n_trials, perf_easy, contrasts)
        if passed:
            return Assessment("trained 1a", info, criteria)
        return Assessment("in training", info, criteria_1a)
    if any(training):
        return Assessment("trained 1b", info, _biased_next(protocols))
    psych_20 = metrics.fit_psychometric(pooled, block=0.2, rng=rng)
    psych_80 = metrics.fit_psychometric(pooled, block=0.8, rng=rng)
    ephys = [d for d in dates if d in set(ephys_dates)]
    info.update(psych_20=psych_20, psych_80=psych_80, n_ephys=len(ephys), n_delay=n_delay)
    passed, criteria = criterion_recording(len(ephys), n_delay, psych_20, psych_80, n_trials, perf_easy, rt)
    if passed:
        return Assessment("ready4recording", info, criteria)
    ephys_perf = np.array([metrics.performance_easy(window[d]) for d in ephys])
    ephys_n = np.array([metrics.n_trials(window[d]) for d in ephys])
    passed, delay_criteria = criterion_delay(len(ephys), ephys_n, ephys_perf)
    if passed:
        return Assessment("ready4delay", info, criteria)
    passed, ephys_criteria = criterion_ephys(psych_20, psych_80, n_trials, perf_easy, rt)
    if passed:
        return Assessment("ready4ephysrig", info, delay_criteria)
    return Assessment("trained 1b", info, ephys_criteria)


def _biased_next(protocols: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What a trained 1b subject on the training task needs: three dates of the biased task."""
    return {
        "NBiased": {"val": list(protocols), "pass": False},
        "Criteria": {"val": "ready4ephysrig", "pass": False},
    }


# ---- the per-subject table ------------------------------------------------------------------------------

COLUMNS = (
    "date", "eid", "session_path", "n_sessions", "task_protocol", "protocol",
    "performance", "contrasts",
    "bias_50", "thres_50", "lapselow_50", "lapsehigh_50",
    "bias_20", "thres_20", "lapselow_20", "lapsehigh_20",
    "bias_80", "thres_80", "lapselow_80", "lapsehigh_80",
    "performance_easy", "reaction_time", "n_trials", "sess_duration", "n_delay", "location",
    "training_status", "training_day",
)  # fmt: skip


def day_metrics(day: Day) -> dict[str, Any]:
    """The date's row without its status: §3 metrics and the fits of blocks 0.5/0.2/0.8 (training dates
    fit all their trials as the 0.5 block: their probabilityLeft is no block prior)."""
    row: dict[str, Any] = {
        "date": day.date,
        "eid": day.eids[0],
        "session_path": day.session_paths[0],
        "n_sessions": len(day.eids),
        "task_protocol": day.task_protocol,
        "protocol": day.protocol,
        "sess_duration": day.duration,
        "n_delay": day.delay,
        "location": day.location,
        "fingerprint": day.fingerprint,
    }
    for block in BLOCKS:
        row.update(dict.fromkeys(_fit_columns(block), float("nan")))
    if day.load is None:
        row.update(performance=[], contrasts=[], performance_easy=float("nan"), reaction_time=float("nan"))
        row.update(performance_50=[], contrasts_50=[])
        row.update(n_trials=0, training_status="habituation")
        return row
    trials = day.trials
    choices = metrics.rightward_choices(trials)
    row.update(
        performance=choices.p_right.tolist(),
        contrasts=choices.contrasts.tolist(),
        performance_easy=metrics.performance_easy(trials),
        reaction_time=metrics.median_response_time(trials),
        n_trials=metrics.n_trials(trials),
        training_status="not_computed",
    )
    unbiased = metrics.rightward_choices(trials, None if day.protocol == "training" else 0.5)
    row.update(performance_50=unbiased.p_right.tolist(), contrasts_50=unbiased.contrasts.tolist())  # heat map
    rng = np.random.RandomState(SEED)
    blocks = (None,) if day.protocol == "training" else BLOCKS
    for block in blocks:
        pars = metrics.fit_psychometric(trials, block=block, rng=rng)
        row.update(zip(_fit_columns(block or 0.5), pars.tolist(), strict=True))
    return row


def _fit_columns(block: float) -> tuple[str, str, str, str]:
    suffix = f"{round(block * 100)}"
    return (f"bias_{suffix}", f"thres_{suffix}", f"lapselow_{suffix}", f"lapsehigh_{suffix}")


def earliest_change(days: Sequence[Day], previous: Sequence[dict[str, Any]]) -> str | None:
    """The first date whose inputs differ from the stored row's (new, re-uploaded, or removed before it);
    None when nothing changed."""
    stored = {row["date"]: row for row in previous}
    changed = [d.date for d in days if stored.get(d.date, {}).get("fingerprint") != d.fingerprint]
    removed = sorted(set(stored) - {d.date for d in days})
    candidates = changed + removed
    return min(candidates) if candidates else None


def subject_training(
    days: Sequence[Day], previous: Sequence[dict[str, Any]] = ()
) -> tuple[list[dict[str, Any]], dict[str, Assessment]]:
    """Every date's row of the subject's training table (oldest first), and the assessment of each date
    recomputed. Rows of ``previous`` dated before the earliest changed date are kept as they are."""
    days = sorted(days, key=lambda d: d.date)
    since = earliest_change(days, previous)
    stored = {row["date"]: row for row in previous}
    rows: list[dict[str, Any]] = []
    assessments: dict[str, Assessment] = {}
    for index, day in enumerate(days):
        if since is None or day.date < since:
            rows.append(dict(stored[day.date]))
            continue
        row = day_metrics(day)
        if day.load is not None:
            window = [d for d in days[max(0, index - 2) : index + 1] if d.load is not None]
            assessment = training_status(
                {d.date: d.trials for d in window},
                [d.protocol for d in window],
                ephys_dates=[d.date for d in window if d.location == "ephys_rig"],
                n_delay=sum(d.delay >= DELAY_SECONDS for d in window),
            )
            before = next(
                (r["training_status"] for r in reversed(rows) if r["protocol"] != "habituation"), None
            )
            row["training_status"] = higher(assessment.status, _progress(before))
            assessments[day.date] = assessment
        rows.append(row)
    flag_failures(rows)
    day_number = 0
    for row in rows:
        day_number += row["protocol"] != "habituation"
        row["training_day"] = day_number if row["protocol"] != "habituation" else None
    return rows, assessments


def _progress(status: str | None) -> str | None:
    """The status that no-regression compares with: a failure flag is no progress to keep."""
    return None if status in (None, "untrainable", "unbiasable") else status


def flag_failures(rows: list[dict[str, Any]]) -> None:
    """IBL's failures, over the whole table: the 40th session in training becomes untrainable; the 40th
    biased session becomes unbiasable when none of the first 40 reached ready4ephysrig."""
    for row in rows:  # recomputed from scratch each time
        if row["training_status"] in ("untrainable", "unbiasable"):
            row["training_status"] = row.pop("status_before_failure", "in training")
    in_training = [r for r in rows if r["training_status"] == "in training"]
    if _sessions(in_training) >= FAILURE_SESSIONS:
        _mark(_nth_session(in_training, FAILURE_SESSIONS), "untrainable")
    biased = [r for r in rows if r["protocol"] == "biased"]
    if _sessions(biased) >= FAILURE_SESSIONS:
        first = _upto_session(biased, FAILURE_SESSIONS)
        if not any(rank(r["training_status"]) >= rank("ready4ephysrig") for r in first):
            _mark(first[-1], "unbiasable")


def _sessions(rows: list[dict[str, Any]]) -> int:
    return sum(int(r["n_sessions"]) for r in rows)


def _upto_session(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out, count = [], 0
    for row in rows:
        out.append(row)
        count += int(row["n_sessions"])
        if count >= n:
            break
    return out


def _nth_session(rows: list[dict[str, Any]], n: int) -> dict[str, Any]:
    return _upto_session(rows, n)[-1]


def _mark(row: dict[str, Any], status: str) -> None:
    row["status_before_failure"] = row["training_status"]
    row["training_status"] = status


def trained_criteria(rows: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """``json.trained_criteria``: each status reached, with the first date and session that reached it
    (IBL's TrainingStatus task writes every status of the table this way)."""
    found: dict[str, list[str]] = {}
    for row in rows:
        name = key(row["training_status"])
        if row["training_status"] != "not_computed" and name not in found:
            found[name] = [row["date"], row["eid"]]
    return found


def jsonable(value: Any) -> Any:
    """Numbers, arrays and breakdowns as JSON (NaN and infinities become null)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value
