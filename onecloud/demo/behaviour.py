"""A behavioural model of mice learning IBL's training task, for the demo lab.

Each mouse learns at its own rate: its skill after ``L`` units of learning is ``1 - exp(-L)``, and ``L``
grows by the mouse's rate each training day (with day-to-day variation). Skill sets the psychometric
function of the day (the erf with two lapse rates IBL fits): lapses fall from ~0.45 to 0.03, the threshold
from 60 % to 12 % contrast, the bias fades; trial counts rise and response times fall. Slow learners take
two months to meet the trained criteria, fast ones a week, and the change of easy performance over the
first five days tells them apart, as in the paper.

The training status of each date is decided by the real criteria (chalicelib/behaviour/training.py);
the psychometric fit only runs when the criteria that need no fit already pass (three dates on the
training task, each with over 200 trials and easy performance over 0.8, a 0 % contrast shown): before
that the status is "in training" whatever a fit says. A mouse stops a few days after it is trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from chalicelib.behaviour import metrics, statuses
from chalicelib.behaviour import training as status_rules

TRAINING = "_iblrig_tasks_trainingChoiceWorld6.4.2"
HABITUATION = "_iblrig_tasks_habituationChoiceWorld6.4.2"
HABITUATION_DAYS = 2
DAYS_AFTER_TRAINED = 2  # sessions a mouse runs once trained, before it leaves the demo
MAX_TRAINING_DAYS = 45  # 40 days in training make a mouse untrainable
CONTRASTS = {  # the contrast set grows as the mouse gets better at the easy ones (percent)
    0.0: (100.0, 50.0),
    0.65: (100.0, 50.0, 25.0, 12.5),
    0.75: (100.0, 50.0, 25.0, 12.5, 6.25, 0.0),
}


@dataclass(frozen=True)
class Learner:
    """A mouse's behavioural parameters."""

    rate: float  # learning per training day
    bias: float  # initial bias (percent contrast), fades with skill
    engagement: float  # trial counts scale
    speed: float  # median response time of an expert (s)
    pace: float  # seconds between trials besides the response
    vigour: float  # wheel turn per response (rad)

    @classmethod
    def draw(cls, rng: np.random.Generator, speed: float = 1.0) -> Learner:
        """``speed`` scales every mouse's learning rate (a quicker demo: fewer sessions per mouse)."""
        return cls(
            rate=speed * float(math.exp(rng.normal(math.log(0.09), 0.6))),
            bias=float(rng.normal(0, 12)),
            engagement=float(rng.uniform(0.7, 1.3)),
            speed=float(math.exp(rng.normal(math.log(0.6), 0.4))),
            pace=float(rng.uniform(1.5, 4.0)),
            vigour=float(rng.uniform(0.15, 0.45)),
        )


def p_right(contrast: np.ndarray, skill: float, bias: float) -> np.ndarray:
    """P(rightward choice) at signed contrasts (percent) for a mouse of this skill."""
    lapse = 0.03 + 0.42 * (1 - skill)
    threshold = 10 + 30 * (1 - skill)
    mu = bias * (1 - skill)
    return lapse + (1 - 2 * lapse) * (erf((contrast - mu) / threshold) + 1) / 2


def session_trials(
    rng: np.random.Generator, learner: Learner, skill: float, contrasts: tuple[float, ...], habituation: bool
) -> dict[str, np.ndarray]:
    """One session's trials (ALF names and conventions: contrast NaN on the side without stimulus, choice
    -1 rightward, times in seconds from the session start)."""
    n = max(60, int(learner.engagement * (420 + 200 * skill) + rng.normal(0, 60)))
    if habituation:
        n = int(rng.integers(60, 120))
    magnitude = rng.choice(np.asarray(contrasts), n)
    side = rng.choice([-1.0, 1.0], n)  # +1: stimulus on the right
    signed = magnitude * side
    rightward = rng.random(n) < p_right(signed, skill, learner.bias)
    choice = np.where(rightward, -1.0, 1.0)
    correct = np.where(signed == 0, rng.random(n) < 0.5, (signed > 0) == rightward)
    median_rt = learner.speed * (1 + 0.4 * (1 - skill) + 0.5 * (magnitude < 25))
    rt = np.exp(rng.normal(np.log(median_rt), 0.5))
    duration = rt + np.where(correct, 1.0, 2.0) + learner.pace + rng.exponential(0.5, n)  # feedback, ITI
    starts = np.concatenate([[0.0], np.cumsum(duration[:-1])]) + 2.0
    stim_on = starts + 0.1
    response = stim_on + rt
    return {
        "contrastLeft": np.where(side < 0, magnitude / 100, np.nan),
        "contrastRight": np.where(side > 0, magnitude / 100, np.nan),
        "probabilityLeft": np.full(n, 0.5),
        "choice": choice,
        "feedbackType": np.where(correct, 1.0, -1.0),
        "rewardVolume": np.where(correct, 3.0, 0.0),
        "stimOn_times": stim_on,
        "goCue_times": stim_on,
        "response_times": response,
        "firstMovement_times": stim_on + 0.8 * rt,
        "feedback_times": response,
        "intervals_0": starts,
        "intervals_1": response + np.where(correct, 1.0, 2.0) + 0.5,
    }


def wheel_trace(
    rng: np.random.Generator, trials: dict[str, np.ndarray], vigour: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wheel position (rad) at the encoder's events: a turn per trial towards the choice (a rightward
    choice turns counter-clockwise, positive) with some hesitation, four samples per movement."""
    start, end = trials["firstMovement_times"], trials["response_times"]
    turns = -trials["choice"] * vigour * rng.uniform(0.8, 1.2, len(start))
    wobble = rng.normal(0, 0.05, (len(start), 2))
    steps = np.c_[wobble[:, 0], turns / 2 + wobble[:, 1], turns / 2 - wobble[:, 1], -wobble[:, 0]]
    times = start[:, None] + (end - start)[:, None] * np.linspace(0, 1, 4)[None, :]
    return np.cumsum(steps.ravel()), times.ravel()


def ambient(rng: np.random.Generator, n: int, base: tuple[float, float, float]) -> np.ndarray:
    """The rig's sensor readings, one row per trial: temperature (C), air pressure (mbar), humidity (%)."""
    room = np.asarray(base) + rng.normal(0, (0.8, 4.0, 4.0))
    return np.round(room + rng.normal(0, (0.1, 0.3, 0.3), (n, 3)), 2)


def ambient_lines(readings: np.ndarray) -> str:
    """The readings as iblrig's ``_iblrig_ambientSensorData.raw.jsonable``: one JSON object per trial."""
    return "".join(
        f'{{"Temperature_C": [{t}], "AirPressure_mb": [{p}], "RelativeHumidity": [{h}]}}\n'
        for t, p, h in readings.tolist()
    )


@dataclass
class Day:
    """One training date of a mouse (one session), with the status the criteria give it."""

    index: int  # 0-based among the mouse's sessions
    protocol: str
    trials: dict[str, np.ndarray]
    status: str
    training_day: int | None
    skill: float
    ambient: np.ndarray
    wheel: tuple[np.ndarray, np.ndarray]


def learn(rng: np.random.Generator, learner: Learner, climate: tuple[float, float, float]) -> list[Day]:
    """Every session of a mouse, habituation first, until a few days after it is trained (or until it is
    untrainable)."""
    days: list[Day] = []
    learned, status, trained_at = 0.0, "in training", None
    for index in range(HABITUATION_DAYS + MAX_TRAINING_DAYS):
        habituation = index < HABITUATION_DAYS
        skill = 1 - math.exp(-learned)
        previous = [d for d in days if d.training_day is not None]
        last_perf = metrics.performance_easy(previous[-1].trials) if previous else 0.0
        contrasts = next(
            c for threshold, c in sorted(CONTRASTS.items(), reverse=True) if last_perf >= threshold
        )
        trials = session_trials(rng, learner, skill, contrasts, habituation)
        day = Day(
            index,
            HABITUATION if habituation else TRAINING,
            trials,
            "habituation" if habituation else status,
            None if habituation else len(previous) + 1,
            skill,
            ambient(rng, len(trials["choice"]), climate),
            wheel_trace(rng, trials, learner.vigour),
        )
        days.append(day)
        if habituation:
            continue
        learned += learner.rate * max(0.0, rng.normal(1.0, 0.35))
        if trained_at is None:  # once trained, only the pipeline's own computation says what comes next
            status = statuses.higher(window_status(days), status)
        day.status = status
        if status in ("trained 1a", "trained 1b") and trained_at is None:
            trained_at = index
        if trained_at is not None and index - trained_at >= DAYS_AFTER_TRAINED:
            break
        if sum(d.status == "in training" for d in days) >= 40:
            break
    return days


def window_status(days: list[Day]) -> str:
    """The status of the last date from the last three training dates, by the real criteria; the fit only
    when the criteria needing none pass."""
    window = [d for d in days if d.training_day is not None][-3:]
    if len(window) < 3:
        return "in training"
    pooled = {d.index: d.trials for d in window}
    quick = all(
        metrics.n_trials(t) > statuses.TRAINED_1A["n_trials"]
        and metrics.performance_easy(t) > statuses.TRAINED_1A["perf_easy"]
        for t in pooled.values()
    ) and any(
        np.any(np.nan_to_num(t["contrastLeft"]) + np.nan_to_num(t["contrastRight"]) == 0)
        for t in pooled.values()
    )
    if not quick:
        return "in training"
    return status_rules.training_status({str(k): t for k, t in pooled.items()}, ["training"] * 3).status
