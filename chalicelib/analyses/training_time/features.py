"""The 20 features of a mouse, as the paper's code computes them (fig2.md §3).

"Day k" is the k-th of the first five training days (cohort.early_days). A feature that cannot be
computed is NaN, with the reason in ``Features.missing``: the mouse then leaves the design matrix and is
reported with those reasons.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from chalicelib.analyses.training_time.cohort import WINDOW, Trained, early_days, training_time
from chalicelib.analyses.training_time.records import DayData, MouseData, SessionData, Trials

# Columns in the order the classifier sees them: alphabetical, as DataFrame.columns.difference() sorts.
COLUMNS = tuple(
    sorted(
        (
            "RT_delta1", "RT_init", "age_start", "air_pressure_mb", "delta_variance", "disp_norm", "food",
            "light", "moves_time", "perf_delta1", "perf_init", "relative_humidity", "sex", "temperature_c",
            "trials_delta1", "trials_init", "trials_sum", "weekend_water", "weight_loss", "weight_start",
        )
    )
)  # fmt: skip
CITRIC_ACID = ("Water 2% Citric Acid", "Citric Acid Water 2%", "Citric Acid Water 3%")
AMBIENT = {
    "temperature_c": "Temperature_C",
    "relative_humidity": "RelativeHumidity",
    "air_pressure_mb": "AirPressure_mb",
}
NAN = float("nan")


@dataclass
class Features:
    values: dict[str, float]
    missing: dict[str, str] = field(default_factory=dict)  # feature -> why it is NaN

    @property
    def complete(self) -> bool:
        return not self.missing


# ---- metadata -------------------------------------------------------------------------------------------


def sex(mouse: MouseData) -> float:
    """F -> 1, M -> 0 (unknown: NaN)."""
    return {"F": 1.0, "M": 0.0}.get(mouse.sex, NAN)


def age_start(birth_date: str | None, first: DayData) -> float:
    """Days from birth to the first training day."""
    if not birth_date:
        return NAN
    return float(
        (datetime.date.fromisoformat(first.date) - datetime.date.fromisoformat(birth_date[:10])).days
    )


def weight_start(weighings: list[tuple[str, float]], first: DayData) -> float:
    """Mean of the weighings dated on the first training day (the same weighing entered twice counts
    once)."""
    weights = sorted({(t, w) for t, w in weighings if t[:10] == first.date})
    return float(np.mean([w for _, w in weights])) if weights else NAN


def weight_loss(start_weight: float, restrictions: list[tuple[str, float]], first: DayData) -> float:
    """The starting weight as a fraction of the reference weight of the last water restriction started
    before the first training day's first session (the paper's name; it is no loss)."""
    began = _earliest_start(first)
    before = sorted((start, ref) for start, ref in restrictions if start < began and ref)
    return start_weight / before[-1][1] if before else NAN


def light(mouse: MouseData) -> float:
    return NAN if mouse.light_cycle is None else float(mouse.light_cycle)


def food(mouse: MouseData) -> float:
    return NAN if mouse.food_protein_pct is None else float(mouse.food_protein_pct)


def weekend_water(water: list[tuple[str, str]], trained_date: str) -> float:
    """1 if any water given before the trained date was citric acid water (the weekend regime)."""
    return float(any(t[:10] < trained_date and kind in CITRIC_ACID for t, kind in water))


def ambient(sessions: list[SessionData], name: str, median: bool) -> float:
    """Per session the mean over its trials (done when the file is read); over sessions the median (the
    paper's code) or the mean (its Methods)."""
    values = [s.ambient[name] for s in sessions if s.ambient and name in s.ambient]
    if not values:
        return NAN
    return float(np.median(values) if median else np.mean(values))


# ---- the first five training days -----------------------------------------------------------------------


def _earliest_start(day: DayData) -> str:
    return min((s.start_time for s in day.sessions), default=f"{day.date}T23:59:59")


def _trials(day: DayData) -> list[Trials]:
    return [s.trials for s in day.sessions if s.trials is not None]


def easy_response_time(day: DayData) -> float:
    """Median response - stimulus onset over the day's trials at 50 % and 100 % contrast."""
    rts = []
    for trials in _trials(day):
        contrast = np.nan_to_num(trials["contrastLeft"]) + np.nan_to_num(trials["contrastRight"])
        rts.append((trials["response_times"] - trials["stimOn_times"])[contrast >= 0.5])
    pooled = np.concatenate(rts) if rts else np.array([])
    return float(np.nanmedian(pooled)) if np.isfinite(pooled).any() else NAN


def trial_count(day: DayData) -> float:
    """max(trial_id) over the day: the trials of its longest session."""
    counts = [len(t["contrastLeft"]) for t in _trials(day)]
    return float(max(counts)) if counts else NAN


def _on(days: dict[int, DayData], k: int, value) -> float:  # noqa: ANN001 - a function of a day
    return value(days[k]) if k in days else NAN


def perf_init(days: dict[int, DayData]) -> float:
    return _on(days, 1, lambda d: d.performance_easy)


def perf_delta1(days: dict[int, DayData]) -> float:
    """Easy performance of day 5 minus day 1: the feature that matters most."""
    return _on(days, WINDOW, lambda d: d.performance_easy) - perf_init(days)


def rt_init(days: dict[int, DayData]) -> float:
    return _on(days, 1, easy_response_time)


def rt_delta1(days: dict[int, DayData]) -> float:
    return _on(days, WINDOW, easy_response_time) - rt_init(days)


def trials_init(days: dict[int, DayData]) -> float:
    return _on(days, 1, trial_count)


def trials_delta1(days: dict[int, DayData]) -> float:
    return _on(days, WINDOW, trial_count) - trials_init(days)


def trials_sum(days: dict[int, DayData]) -> float:
    """Trials over the five days (NaN when a day is missing)."""
    return float(sum(_on(days, k, trial_count) for k in range(1, WINDOW + 1)))


def delta_variance(days: dict[int, DayData]) -> float:
    """The mean sign of the daily change of easy performance over the five days, in [-1, 1] (the
    paper calls it the variance of that sign)."""
    performance = np.array([_on(days, k, lambda d: d.performance_easy) for k in range(1, WINDOW + 1)])
    return float(np.mean(np.sign(np.diff(performance))))


def wheel_session(session: SessionData) -> tuple[float, float] | None:
    """(distance per second, |displacement| / distance) of one session: total distance is the sum of
    absolute position steps, the duration the start of its last trial."""
    if session.wheel is None or session.trials is None:
        return None
    position = np.asarray(session.wheel[0], dtype=float)
    distance = float(np.sum(np.abs(np.diff(position))))
    duration = float(np.nanmax(_trial_starts(session.trials))) if len(position) else NAN
    if not distance or not duration or not np.isfinite(duration):
        return None
    return distance / duration, abs((position[-1] - position[0]) / distance)


def _trial_starts(trials: Trials) -> np.ndarray:
    if "intervals" in trials:
        return np.asarray(trials["intervals"])[:, 0]
    return np.asarray(trials["intervals_0"])


def wheel(days: dict[int, DayData]) -> tuple[float, float]:
    """moves_time and disp_norm: each session's value, averaged over the sessions of the five days."""
    measured = [
        m for k in range(1, WINDOW + 1) if k in days for s in days[k].sessions if (m := wheel_session(s))
    ]
    if not measured:
        return NAN, NAN
    return float(np.mean([m[0] for m in measured])), float(np.mean([m[1] for m in measured]))


# ---- one mouse ------------------------------------------------------------------------------------------


def ambient_sessions(mouse: MouseData, trained: Trained, mode: str) -> list[SessionData]:
    """The sessions whose ambient measures enter: every session up to the trained date (paper), or those
    of the first five training days (methods)."""
    if mode == "methods":
        first, days = early_days(mouse.days)
        return [s for d in days.values() for s in d.sessions] if first == 1 else []
    return [s for d in mouse.days if d.date <= trained.date for s in d.sessions]


def needs_files(mouse: MouseData, mode: str) -> tuple[set[str], set[str]]:
    """The eids whose trials and wheel the features read, and those whose ambient file they read: the job
    loads only these."""
    trained = training_time(mouse.days)
    if trained is None:
        return set(), set()
    _, days = early_days(mouse.days)
    early = {s.eid for d in days.values() for s in d.sessions}
    return early, {s.eid for s in ambient_sessions(mouse, trained, mode)}


def mouse_features(mouse: MouseData, trained: Trained, mode: str = "paper") -> Features:
    first_day, days = early_days(mouse.days)
    values = dict.fromkeys(COLUMNS, NAN)
    missing: dict[str, str] = {}
    values.update(sex=sex(mouse), light=light(mouse), food=food(mouse))
    values["weekend_water"] = weekend_water(mouse.water, trained.date)
    for column, name in AMBIENT.items():
        values[column] = ambient(ambient_sessions(mouse, trained, mode), name, median=mode == "paper")
    if first_day == 1:
        first = days[1]
        values["age_start"] = age_start(mouse.birth_date, first)
        values["weight_start"] = weight_start(mouse.weighings, first)
        values["weight_loss"] = weight_loss(values["weight_start"], mouse.restrictions, first)
        values.update(
            perf_init=perf_init(days),
            perf_delta1=perf_delta1(days),
            RT_init=rt_init(days),
            RT_delta1=rt_delta1(days),
            trials_init=trials_init(days),
            trials_delta1=trials_delta1(days),
            trials_sum=trials_sum(days),
            delta_variance=delta_variance(days),
        )
        values["moves_time"], values["disp_norm"] = wheel(days)
        absent = [k for k in range(1, WINDOW + 1) if k not in days]
        if absent:
            missing["training days"] = f"no training day {', '.join(map(str, absent))} before trained"
        if not np.isfinite(values["weight_start"]):
            missing["weight_start"] = f"no weighing on the first training day ({first.date})"
        elif not np.isfinite(values["weight_loss"]):
            missing["weight_loss"] = (
                f"no water restriction started before the first training day ({first.date})"
            )
    elif first_day is None:
        missing["first session"] = "no training day in training"
    else:
        missing["first session"] = f"missing first session (its first training day is day {first_day})"
    reasons = {
        "sex": "sex unknown",
        "age_start": "no birth date",
        "light": "no light cycle for its housing or lab",
        "food": "no food protein % for its housing or lab",
        "moves_time": "no wheel data in the first five training days",
        "temperature_c": "no ambient sensor file",
        "RT_init": "no trial at 50 % or 100 % contrast on day 1",
    }
    if not missing:
        for column, value in values.items():
            if not np.isfinite(value):
                missing.setdefault(column, reasons.get(column, f"{column} cannot be computed"))
    for column, same in (
        ("relative_humidity", "temperature_c"),
        ("air_pressure_mb", "temperature_c"),
        ("disp_norm", "moves_time"),
    ):
        if column in missing and same in missing:
            missing.pop(column)  # the same file: one reason is enough
    return Features(values, missing)
