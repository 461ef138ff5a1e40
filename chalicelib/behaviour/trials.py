"""Trials as the behaviour analyses read them: one dict of equal-length arrays, whatever the files were.

A session's trials arrive as one table (``_ibl_trials.table.pqt``) or as separate datasets
(``_ibl_trials.<attribute>.npy``); both become the same ``Trials`` here, checked once, so every analysis
reads them through the same code. ALF conventions (``ibllib/io/extractors/training_trials.py``): contrast
NaN on the side without a stimulus, choice -1 = rightward (CCW), +1 = leftward, 0 = no-go.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import numpy as np

# What the training status needs (brainbox TRAINING_KEYS); other attributes are kept when present.
REQUIRED = (
    "contrastLeft",
    "contrastRight",
    "feedbackType",
    "probabilityLeft",
    "choice",
    "response_times",
    "stimOn_times",
)
Trials = dict[str, np.ndarray]


class MalformedTrials(ValueError):
    """The trials cannot be analysed; the message names the attribute and what is wrong with it."""


def from_columns(columns: Mapping[str, Iterable[float]], source: str = "trials") -> Trials:
    """Trials from named columns (a table's, or one array per file), checked.

    Table columns ``intervals_0``/``intervals_1`` become the two-column ``intervals`` ONE loads.
    """
    trials: Trials = {}
    for name, values in columns.items():
        array = np.asarray(values)
        if array.dtype == object:
            try:
                array = array.astype(float)
            except (TypeError, ValueError):
                raise MalformedTrials(f"{source}: {name} holds values that are not numbers") from None
        trials[name] = array
    if "intervals_0" in trials and "intervals_1" in trials and "intervals" not in trials:
        trials["intervals"] = np.c_[trials.pop("intervals_0"), trials.pop("intervals_1")]
    return check(trials, source)


def check(trials: Trials, source: str = "trials") -> Trials:
    """Raise ``MalformedTrials`` unless every required attribute is present, numeric, one value per trial
    and within the ALF conventions."""
    missing = [name for name in REQUIRED if name not in trials]
    if missing:
        raise MalformedTrials(f"{source}: missing {', '.join(missing)}")
    lengths = {name: len(trials[name]) for name in REQUIRED}
    if len(set(lengths.values())) != 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise MalformedTrials(f"{source}: attributes differ in length ({detail})")
    for name in REQUIRED:
        array = trials[name]
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.number):
            raise MalformedTrials(
                f"{source}: {name} must be one number per trial, got {array.dtype} {array.shape}"
            )
    if lengths["choice"] == 0:
        raise MalformedTrials(f"{source}: no trials")
    for name in ("contrastLeft", "contrastRight"):
        values = trials[name][np.isfinite(trials[name])]
        if values.size and (values.min() < 0 or values.max() > 1):
            raise MalformedTrials(f"{source}: {name} must be between 0 and 1 (NaN without stimulus)")
    bad = np.setdiff1d(np.unique(trials["choice"][np.isfinite(trials["choice"])]), (-1, 0, 1))
    if bad.size or not np.all(np.isfinite(trials["choice"])):
        raise MalformedTrials(f"{source}: choice must be -1, 0 or 1 on every trial")
    if not np.all(np.isin(trials["feedbackType"], (-1, 1))):
        raise MalformedTrials(f"{source}: feedbackType must be -1 or 1 on every trial")
    return {
        name: np.asarray(array, dtype=float) if name in REQUIRED else array for name, array in trials.items()
    }


def read_table(data: bytes, source: str = "_ibl_trials.table.pqt") -> Trials:
    """Trials from the bytes of a Parquet trials table."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:
        raise MalformedTrials(f"{source} is not a readable Parquet table: {error}") from None
    return from_columns({name: table.column(name).to_numpy() for name in table.column_names}, source)


def read_npy(data: bytes, source: str) -> np.ndarray:
    """One attribute from the bytes of an ``.npy`` file (never unpickled)."""
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:
        raise MalformedTrials(f"{source} is not a readable .npy array: {error}") from None


def signed_contrast(trials: Trials) -> np.ndarray:
    """Percent, negative on the left: 100 x (right - left) with NaN read as 0."""
    return 100 * (np.nan_to_num(trials["contrastRight"]) - np.nan_to_num(trials["contrastLeft"]))


def concatenate(sessions: Iterable[Trials]) -> Trials:
    """The required attributes of several sessions, one after the other (IBL pools a window's dates)."""
    sessions = list(sessions)
    return {name: np.concatenate([t[name] for t in sessions]) for name in REQUIRED}


def response_times(trials: Trials) -> np.ndarray:
    """What IBL's training status calls reaction time: response_times - stimOn_times (s)."""
    return trials["response_times"] - trials["stimOn_times"]
