"""What one mouse contributes to the training-time analysis: plain data, no AWS.

The job fills these from the stored records (subject, lab, housing, weighings, water, the TrainingStatus
results per date, and the trials, wheel and ambient sensor files of the sessions the features read);
tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Trials = dict[str, np.ndarray]


@dataclass
class SessionData:
    """One session of a date. ``trials`` and ``wheel`` are only loaded for the first five training days,
    ``ambient`` for the sessions whose ambient measures enter (None: not loaded or no file)."""

    eid: str
    start_time: str  # ISO date-time
    trials: Trials | None = None  # contrastLeft/Right, response_times, stimOn_times, intervals (n x 2)
    wheel: tuple[np.ndarray, np.ndarray] | None = None  # position (rad), timestamps (s)
    ambient: dict[str, float] | None = None  # the session's mean Temperature_C, AirPressure_mb...


@dataclass
class DayData:
    """One date of the mouse's training table (the TrainingStatus job's row)."""

    date: str  # ISO
    status: str  # the date's training status ("in training", "trained 1a"...)
    training_day: int | None  # dates so far with a non-habituation session (None on habituation dates)
    performance_easy: float  # fraction correct at |contrast| >= 50 % over the date
    sessions: list[SessionData] = field(default_factory=list)


@dataclass
class MouseData:
    nickname: str
    lab: str
    sex: str  # F, M or U
    birth_date: str | None
    light_cycle: int | None  # 0 normal, 1 inverted (housing, else the lab's default)
    food_protein_pct: float | None  # of the home-cage food (housing, else the lab's default)
    weighings: list[tuple[str, float]] = field(default_factory=list)  # (date-time ISO, g)
    restrictions: list[tuple[str, float]] = field(default_factory=list)  # (start ISO, reference weight g)
    water: list[tuple[str, str]] = field(default_factory=list)  # (date-time ISO, water type)
    days: list[DayData] = field(default_factory=list)  # oldest first

    @property
    def name(self) -> str:
        return f"{self.lab}/{self.nickname}"
