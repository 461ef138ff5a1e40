"""IBL's training statuses: their order, the colours IBL's plots use, and the criteria's bounds.

Imports nothing beyond the standard library: the web pages read it inside the API's Lambda.
Order and colours are those of ``ibllib/pipes/training_status.py: TRAINING_STATUS``.
"""

from __future__ import annotations

import re

# status -> (rank, RGBA colour): a subject never goes back to a lower rank (no regression)
STATUSES: dict[str, tuple[int, tuple[int, int, int, int]]] = {
    "untrainable": (-4, (0, 0, 0, 0)),
    "unbiasable": (-3, (0, 0, 0, 0)),
    "not_computed": (-2, (0, 0, 0, 0)),
    "habituation": (-1, (0, 0, 0, 0)),
    "in training": (0, (0, 0, 0, 0)),
    "trained 1a": (1, (195, 90, 80, 255)),
    "trained 1b": (2, (255, 153, 20, 255)),
    "ready4ephysrig": (3, (28, 20, 255, 255)),
    "ready4delay": (4, (117, 117, 117, 255)),
    "ready4recording": (5, (20, 255, 91, 255)),
}
# the statuses a subject progresses through, in order: each names the next one to aim for
PROGRESSION = ("in training", "trained 1a", "trained 1b", "ready4ephysrig", "ready4delay", "ready4recording")
FAILED = ("untrainable", "unbiasable")

# Criteria bounds (brainbox/behavior/training.py). Comparisons are strict, as there.
TRAINED_1A = {"lapse": 0.2, "bias": 16, "threshold": 19, "n_trials": 200, "perf_easy": 0.8}
TRAINED_1B = {"lapse": 0.1, "bias": 10, "threshold": 20, "n_trials": 400, "perf_easy": 0.9, "rt": 2}
READY4EPHYSRIG = {"lapse": 0.1, "bias_shift": 5, "n_trials": 400, "perf_easy": 0.9, "rt": 2}
READY4DELAY = {"n_trials": 400, "perf_easy": 0.9}
READY4RECORDING = {"n_ephys": 3}
EASY_CONTRAST = 50  # percent: trials at |signed contrast| >= 50 are "easy"
DELAY_SECONDS = 900  # a session started after at least this delay counts as delayed (15 min)
FAILURE_SESSIONS = 40  # sessions in training (or biased) before untrainable (or unbiasable)
BLOCKS = (0.5, 0.2, 0.8)  # probabilityLeft of the biased task's blocks


def rank(status: str) -> int:
    return STATUSES[status][0]


def colour(status: str) -> str:
    """The status's colour as CSS (statuses without one are drawn grey)."""
    red, green, blue, alpha = STATUSES.get(status, (0, (0, 0, 0, 0)))[1]
    return f"rgb({red},{green},{blue})" if alpha else "rgb(200,200,200)"


def key(status: str) -> str:
    """The key of ``json.trained_criteria`` (spaces become underscores: "trained 1a" -> "trained_1a")."""
    return status.replace(" ", "_")


def higher(new: str, old: str | None) -> str:
    """No regression: the previous date's status wins when it ranks higher."""
    return old if old is not None and rank(old) > rank(new) else new


def next_status(status: str) -> str | None:
    """The status a subject aims for next (None once ready for recording, or failed)."""
    if status in PROGRESSION:
        index = PROGRESSION.index(status)
        return PROGRESSION[index + 1] if index + 1 < len(PROGRESSION) else None
    return "in training" if status in ("habituation", "not_computed") else None


def protocol_family(task_protocol: str | None) -> str:
    """'habituation', 'training', 'biased' or 'ephys': the text between ``tasks_`` and ``Choice`` of a
    task protocol such as ``_iblrig_tasks_trainingChoiceWorld6.4.2`` (IBL's ``get_sessions``)."""
    match = re.search(r"tasks_(.*?)Choice", task_protocol or "")
    if not match:
        raise ValueError(
            f"task protocol {task_protocol!r} names no task family "
            "(expected e.g. _iblrig_tasks_trainingChoiceWorld6.4.2)"
        )
    return match.group(1)
