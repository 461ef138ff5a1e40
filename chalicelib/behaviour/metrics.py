"""Per-session metrics (ibllib ``brainbox/behavior/training.py``, §3 of docs/analyses.md)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from chalicelib.behaviour import psychometric
from chalicelib.behaviour.statuses import EASY_CONTRAST
from chalicelib.behaviour.trials import Trials, response_times, signed_contrast


def n_trials(trials: Trials) -> int:
    """Every trial, no-go included."""
    return int(len(trials["choice"]))


def performance_easy(trials: Trials) -> float:
    """Fraction rewarded among trials at |signed contrast| >= 50 % (NaN without such trials)."""
    easy = np.abs(signed_contrast(trials)) >= EASY_CONTRAST
    return float(np.mean(trials["feedbackType"][easy] == 1)) if easy.any() else float("nan")


def performance(trials: Trials) -> float:
    """Fraction of trials rewarded."""
    return float(np.mean(trials["feedbackType"] == 1))


def _in_block(trials: Trials, block: float | None) -> np.ndarray:
    if block is None:
        return np.ones(len(trials["choice"]), dtype=bool)
    return trials["probabilityLeft"] == block


@dataclass(frozen=True)
class Choices:
    """Rightward choices per signed contrast (percent) of one block: the data a psychometric fit sees."""

    contrasts: np.ndarray
    counts: np.ndarray
    n_right: np.ndarray

    @property
    def p_right(self) -> np.ndarray:
        return self.n_right / self.counts


def rightward_choices(trials: Trials, block: float | None = None) -> Choices:
    """IBL's ``compute_performance(prob_right=True)``, with counts of rightward choices (choice == -1)."""
    selected = _in_block(trials, block)
    contrast = signed_contrast(trials)[selected]
    rightward = (trials["choice"] == -1)[selected]
    contrasts, inverse, counts = np.unique(contrast, return_inverse=True, return_counts=True)
    n_right = np.bincount(inverse, weights=rightward, minlength=contrasts.size)
    return Choices(contrasts, counts, n_right)


def fit_psychometric(
    trials: Trials,
    block: float | None = None,
    settings: psychometric.Settings = psychometric.STATUS,
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """[bias, threshold, lapse_low, lapse_high] on the trials of one block (all trials with ``block=None``);
    NaN when the block has no trial."""
    choices = rightward_choices(trials, block)
    if choices.contrasts.size == 0:
        return np.full(4, np.nan)
    return psychometric.fit(choices.contrasts, choices.counts, choices.p_right, settings, rng)[0]


def median_response_time(trials: Trials, contrast: float | None = None) -> float:
    """Median of response_times - stimOn_times over trials at ``contrast`` (percent; all with None), NaN
    when there is no such trial."""
    rt = response_times(trials)
    if contrast is not None:
        rt = rt[signed_contrast(trials) == contrast]
    if rt.size == 0 or not np.isfinite(rt).any():
        return float("nan")
    return float(np.nanmedian(rt))


def response_time_by_contrast(
    trials: Trials, block: float | None = None, rng: np.random.RandomState | None = None, alpha: float = 0.32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per signed contrast of the block: contrasts, median response time, and a 1 - alpha (68 %) bootstrap
    interval of the median (low, high), as IBL's session page showed; NaN where the bootstrap cannot
    give one (too few distinct values)."""
    from scipy.stats import bootstrap

    selected = _in_block(trials, block)
    contrast, rt = signed_contrast(trials)[selected], response_times(trials)[selected]
    contrasts = np.unique(contrast)
    medians, low, high = (np.full(contrasts.size, np.nan) for _ in range(3))
    rng = rng if rng is not None else np.random.RandomState(psychometric.SEED)
    for i, value in enumerate(contrasts):
        data = rt[(contrast == value) & np.isfinite(rt)]
        if data.size == 0:
            continue
        medians[i] = np.median(data)
        if data.size > 1 and np.ptp(data) > 0:
            with warnings.catch_warnings():  # a degenerate resample leaves the interval NaN, said below
                warnings.simplefilter("ignore")
                interval = bootstrap(
                    (data,), np.median, confidence_level=1 - alpha, n_resamples=2000, random_state=rng
                ).confidence_interval
            low[i], high[i] = interval.low, interval.high
        else:
            low[i] = high[i] = medians[i]
    return contrasts, medians, low, high


def rolling_median(values: np.ndarray, window: int = 10) -> np.ndarray:
    """Median of each value with the ``window - 1`` before it (NaNs ignored; NaN where a window holds no
    finite value), as IBL's RT-by-trial plot."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return values.copy()
    windows = np.lib.stride_tricks.sliding_window_view(
        np.concatenate([np.full(window - 1, np.nan), values]), window
    )
    with warnings.catch_warnings():  # a window of NaNs only: NaN, said above
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmedian(windows, axis=1)
    out[~np.isfinite(windows).any(axis=1)] = np.nan
    return out
