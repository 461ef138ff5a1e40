"""The psychometric function IBL fits: an error function with two lapse rates, fitted by maximum likelihood.

Model (psychofit ``erf_psycho_2gammas``), x the signed contrast in percent and parameters in IBL's order
[bias mu, threshold sigma, lapse_low gamma1, lapse_high gamma2]:

    P(rightward | x) = gamma1 + (1 - gamma1 - gamma2) * (erf((x - mu) / sigma) + 1) / 2

The fit minimises the binomial negative log-likelihood with Nelder-Mead (``scipy.optimize.fmin``, default
tolerances), bounds enforced by a large penalty outside them, from ``parstart`` and then from uniformly
random starting points, keeping the best: psychofit's ``mle_fit_psycho``, re-implemented here. The random
restarts draw from a ``numpy.random.RandomState`` the caller passes, so a fit is reproducible; seeded with
0 it draws what IBL's tests draw after ``np.random.seed(0)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import fmin
from scipy.special import erf

OUT_OF_BOUNDS = 1e7  # psychofit's penalty outside [parmin, parmax]
EPS = np.finfo(float).eps
SEED = 0


@dataclass(frozen=True)
class Settings:
    """Starting point, bounds and restarts; ``None`` start/bounds are derived from the contrasts."""

    parstart: tuple[float, ...] | None
    parmin: tuple[float, ...] | None
    parmax: tuple[float, ...] | None
    nfits: int


# What the training status uses (IBL keeps these for parity although its docstring calls them sub-optimal):
# start [mean(contrasts), 20, 0.05, 0.05], bounds [min(contrasts), 0, 0, 0] .. [max(contrasts), 100, 1, 1].
STATUS = Settings(None, None, None, nfits=5)
# What IBL's plots use (``plotting=True``): tighter bounds, ten restarts.
PLOTTING = Settings((0.0, 40.0, 0.1, 0.1), (-50.0, 10.0, 0.0, 0.0), (50.0, 50.0, 0.2, 0.2), nfits=10)


def erf_psycho_2gammas(pars: np.ndarray | list[float], x: np.ndarray | float) -> np.ndarray:
    """P(rightward) at signed contrast(s) ``x`` (percent) for [bias, threshold, lapse_low, lapse_high]."""
    bias, threshold, lapse_low, lapse_high = np.asarray(pars, dtype=float)
    return (
        lapse_low
        + (1 - lapse_low - lapse_high) * (erf((np.asarray(x, dtype=float) - bias) / threshold) + 1) / 2
    )


def neg_log_likelihood(
    pars: np.ndarray,
    contrasts: np.ndarray,
    counts: np.ndarray,
    p_right: np.ndarray,
    parmin: np.ndarray,
    parmax: np.ndarray,
) -> float:
    """Binomial negative log-likelihood (natural log) of the observed proportions; a large constant outside
    the bounds, which is how the optimiser (unconstrained) is kept inside them."""
    bias, threshold, lapse_low, lapse_high = values = pars.tolist()
    if any(
        v < low or v > high for v, low, high in zip(values, parmin.tolist(), parmax.tolist(), strict=True)
    ):
        return OUT_OF_BOUNDS
    p = erf((contrasts - bias) / threshold)
    p += 1
    p *= (1 - lapse_low - lapse_high) / 2
    p += lapse_low
    p[p == 0] = EPS
    p[p == 1] = 1 - EPS
    return -float(np.dot(counts * p_right, np.log(p)) + np.dot(counts * (1 - p_right), np.log(1 - p)))


def fit(
    contrasts: np.ndarray,
    counts: np.ndarray,
    p_right: np.ndarray,
    settings: Settings = STATUS,
    rng: np.random.RandomState | None = None,
) -> tuple[np.ndarray, float]:
    """Best [bias, threshold, lapse_low, lapse_high] and its log-likelihood for the proportions rightward
    ``p_right`` observed on ``counts`` trials at each of ``contrasts``. Contrasts whose proportion is not
    finite are left out; with no data at all the parameters are NaN."""
    contrasts, counts, p_right = (np.asarray(a, dtype=float) for a in (contrasts, counts, p_right))
    if contrasts.size == 0:
        return np.full(4, np.nan), np.nan
    rng = rng if rng is not None else np.random.RandomState(SEED)
    start = np.array(settings.parstart or (np.mean(contrasts), 20.0, 0.05, 0.05))
    low = np.array(settings.parmin or (np.min(contrasts), 0.0, 0.0, 0.0))
    high = np.array(settings.parmax or (np.max(contrasts), 100.0, 1.0, 1.0))
    keep = np.isfinite(p_right)
    data = (contrasts[keep], counts[keep], p_right[keep], low, high)
    best, best_nll = np.full(4, np.nan), np.inf
    for _ in range(settings.nfits):
        pars = fmin(neg_log_likelihood, start, args=data, disp=False)
        nll = neg_log_likelihood(pars, *data)
        if nll < best_nll:
            best, best_nll = pars, nll
        start = low + rng.rand(low.size) * (high - low)
    return best, -best_nll


def binomial_interval(
    n_right: np.ndarray, n: np.ndarray, alpha: float = 0.032
) -> tuple[np.ndarray, np.ndarray]:
    """Normal-approximation interval of a proportion (statsmodels ``proportion_confint(method='normal')``),
    clipped to [0, 1]. IBL plots alpha = 0.032, a ~97 % interval (its website labelled it 68 %)."""
    from scipy.stats import norm

    n_right, n = np.asarray(n_right, dtype=float), np.asarray(n, dtype=float)
    p = n_right / n
    half = norm.isf(alpha / 2) * np.sqrt(p * (1 - p) / n)
    return np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
