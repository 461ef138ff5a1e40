"""The psychometric function IBL fits: an error function with two lapse rates, fitted by maximum likelihood.

Model (psychofit ``erf_psycho_2gammas``), x the signed contrast in percent and parameters in IBL's order
[bias mu, threshold sigma, lapse_low gamma1, lapse_high gamma2]:

    P(rightward | x) = gamma1 + (1 - gamma1 - gamma2) * (erf((x - mu) / sigma) + 1) / 2

The fit minimises the binomial negative log-likelihood with Nelder-Mead (``scipy.optimize.fmin``'s
algorithm and default tolerances, written out below so that a fit's restarts run side by side), bounds
enforced by a large penalty outside them, from ``parstart`` and then from uniformly random starting points,
keeping the best: psychofit's ``mle_fit_psycho``, re-implemented here, with the same answers bit for bit.
The random restarts draw from a ``numpy.random.RandomState`` the caller passes, so a fit is reproducible;
seeded with 0 it draws what IBL's tests draw after ``np.random.seed(0)``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
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
    data = _data(contrasts, counts, p_right, parmin, parmax)
    with np.errstate(all="ignore"):
        return float(_likelihoods(np.asarray(pars, dtype=float)[None, :], data)[0])


def _data(
    contrasts: np.ndarray, counts: np.ndarray, p_right: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, ...]:
    """What the likelihood needs: contrasts, rightward and leftward trial counts, bounds."""
    return contrasts, counts * p_right, counts * (1 - p_right), np.asarray(low), np.asarray(high)


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
    low = np.array(settings.parmin or (np.min(contrasts), 0.0, 0.0, 0.0))
    high = np.array(settings.parmax or (np.max(contrasts), 100.0, 1.0, 1.0))
    starts = [np.array(settings.parstart or (np.mean(contrasts), 20.0, 0.05, 0.05))]
    for _ in range(settings.nfits):  # psychofit draws after each fit, the last draw unused
        starts.append(low + rng.rand(low.size) * (high - low))
    keep = np.isfinite(p_right)
    data = _data(contrasts[keep], counts[keep], p_right[keep], low, high)
    found = nelder_mead(np.array(starts[: settings.nfits]), data)
    with np.errstate(all="ignore"):
        likelihoods = _likelihoods(found, data)
    best, best_nll = np.full(4, np.nan), np.inf
    for pars, nll in zip(found, likelihoods, strict=True):
        if nll < best_nll:
            best, best_nll = pars, float(nll)
    return best, -best_nll


# ---- the optimiser ----------------------------------------------------------------------------------------
# scipy.optimize.fmin with its default options, written out step for step (the same arithmetic, order of
# evaluations, tie-breaking sort and evaluation budget), as a generator that yields each point it needs
# evaluated: a fit runs all its restarts side by side and evaluates their points together, one array
# operation per round instead of one per point (tests/test_behaviour.py compares every answer with fmin's).

DIM = 4
BUDGET = DIM * 200  # fmin's default maxiter and maxfun
XTOL = FTOL = 1e-4
NONZERO_STEP, ZERO_STEP = 0.05, 0.00025  # the initial simplex


class _Budget(Exception):
    """fmin's evaluation budget is spent: it stops where it is, mid-step."""


def _likelihoods(points: np.ndarray, data: tuple[np.ndarray, ...]) -> np.ndarray:
    """``neg_log_likelihood`` of each row of ``points`` (the same operations, row by row; call it under
    ``np.errstate(all="ignore")``: out-of-bounds rows are computed too, then replaced)."""
    contrasts, right, left, low, high = data
    bias, threshold, lapse_low, lapse_high = points.T[:, :, None]
    p = erf((contrasts - bias) / threshold)
    p += 1
    p *= (1 - lapse_low - lapse_high) / 2
    p += lapse_low
    p[p == 0] = EPS
    p[p == 1] = 1 - EPS
    log_p, log_q = np.log(p), np.log(1 - p)
    values = [-(right.dot(a) + left.dot(b)) for a, b in zip(log_p, log_q, strict=True)]
    outside = ((points < low) | (points > high)).any(axis=1)
    return np.where(outside, OUT_OF_BOUNDS, values)


def _order(values: list[float]) -> list[int]:
    """NumPy's ``argsort`` (what fmin uses; not stable, so ties and NaN are left to NumPy itself)."""
    if len(set(values)) == len(values) and all(v == v for v in values):
        return sorted(range(len(values)), key=values.__getitem__)
    return np.argsort(np.array(values)).tolist()


def _nelder_mead(start: list[float]) -> Generator[list[float], float, list[float]]:
    """fmin from ``start``: yields points, is sent their likelihoods, returns the minimum."""
    calls = 0

    def evaluate(point: list[float]) -> Generator[list[float], float, float]:
        nonlocal calls
        if calls >= BUDGET:
            raise _Budget
        calls += 1
        return (yield point)

    sim = [list(start)]
    for i in range(DIM):
        vertex = list(start)
        vertex[i] = (1 + NONZERO_STEP) * vertex[i] if vertex[i] != 0 else ZERO_STEP
        sim.append(vertex)
    fsim = []
    for vertex in sim:
        fsim.append((yield from evaluate(vertex)))
    for _ in range(2):  # fmin sorts twice before its first step
        order = _order(fsim)
        sim, fsim = [sim[i] for i in order], [fsim[i] for i in order]
    steps = 1
    while calls < BUDGET and steps < BUDGET:
        best = sim[0]
        if all(abs(v[i] - best[i]) <= XTOL for v in sim[1:] for i in range(DIM)) and all(
            abs(fsim[0] - f) <= FTOL for f in fsim[1:]
        ):
            break
        try:
            worst = sim[-1]
            centre = [(((a + b) + c) + d) / DIM for a, b, c, d in zip(*sim[:-1], strict=True)]
            reflected = [2 * x - w for x, w in zip(centre, worst, strict=True)]
            f_reflected = yield from evaluate(reflected)
            shrink = False
            if f_reflected < fsim[0]:
                expanded = [3 * x - 2 * w for x, w in zip(centre, worst, strict=True)]
                f_expanded = yield from evaluate(expanded)
                if f_expanded < f_reflected:
                    sim[-1], fsim[-1] = expanded, f_expanded
                else:
                    sim[-1], fsim[-1] = reflected, f_reflected
            elif f_reflected < fsim[-2]:
                sim[-1], fsim[-1] = reflected, f_reflected
            elif f_reflected < fsim[-1]:
                contracted = [1.5 * x - 0.5 * w for x, w in zip(centre, worst, strict=True)]
                f_contracted = yield from evaluate(contracted)
                if f_contracted <= f_reflected:
                    sim[-1], fsim[-1] = contracted, f_contracted
                else:
                    shrink = True
            else:
                contracted = [0.5 * x + 0.5 * w for x, w in zip(centre, worst, strict=True)]
                f_contracted = yield from evaluate(contracted)
                if f_contracted < fsim[-1]:
                    sim[-1], fsim[-1] = contracted, f_contracted
                else:
                    shrink = True
            if shrink:
                for j in range(1, DIM + 1):
                    sim[j] = [b + 0.5 * (v - b) for b, v in zip(best, sim[j], strict=True)]
                    fsim[j] = yield from evaluate(sim[j])
            steps += 1
        except _Budget:
            pass
        order = _order(fsim)
        sim, fsim = [sim[i] for i in order], [fsim[i] for i in order]
    return sim[0]


def nelder_mead(starts: np.ndarray, data: tuple[np.ndarray, ...]) -> np.ndarray:
    """The minimum fmin finds from each row of ``starts`` (k x 4), as a k x 4 array: the restarts run side
    by side, each round evaluating the point every unfinished one asks for."""
    found: list[list[float] | None] = [None] * len(starts)
    running = {i: _nelder_mead(start) for i, start in enumerate(starts.tolist())}
    asked = {i: next(run) for i, run in running.items()}
    with np.errstate(all="ignore"):
        while asked:
            values = _likelihoods(np.array(list(asked.values())), data).tolist()
            for i, value in zip(list(asked), values, strict=True):
                try:
                    asked[i] = running[i].send(value)
                except StopIteration as done:
                    found[i] = done.value
                    del asked[i]
    return np.array(found, dtype=float)


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
