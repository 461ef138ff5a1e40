"""Training time and the cohort (fig2.md §1-2).

Training time counts the dates with a computed status before the first date that reached trained 1a or
1b (one per calendar date, habituation dates included, as the paper's code counts DataJoint's
sessions). The first five training days are the dates in training whose ``training_day`` is 1..5 (day 1
is the first date with a non-habituation session); a mouse whose first such date is not day 1 misses its
first session.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.analyses.training_time.records import DayData

TRAINED = ("trained 1a", "trained 1b")
LEARNING = ("in training", "untrainable")  # the statuses whose trials feed the early-training features
WINDOW = 5  # training days


@dataclass(frozen=True)
class Trained:
    """When a mouse became trained: how many dates it took and the date it got there."""

    sessions: int
    date: str


def training_time(days: list[DayData]) -> Trained | None:
    """None for a mouse never trained (trained 1a or 1b; a status after them implies them, as the
    statuses never regress)."""
    counted = [d for d in sorted(days, key=lambda d: d.date) if d.status != "not_computed"]
    for index, day in enumerate(counted):
        if day.status in TRAINED or day.status in ("ready4ephysrig", "ready4delay", "ready4recording"):
            return Trained(index, day.date)
    return None


def early_days(days: list[DayData]) -> tuple[int | None, dict[int, DayData]]:
    """The first training day of the mouse's dates in training, and those dates by day (1..5, relative to
    that first day: day k is ``training_day == first + k - 1``)."""
    learning = [d for d in days if d.status in LEARNING and d.training_day is not None]
    learning = [d for d in learning if d.training_day <= WINDOW]
    if not learning:
        return None, {}
    first = min(d.training_day for d in learning)
    return first, {d.training_day - first + 1: d for d in learning}
