"""The real SWC_054 sessions (../shared/fixtures/behaviour) and synthetic sessions for the behaviour tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from chalicelib.behaviour import psychometric
from chalicelib.behaviour import trials as trials_io
from chalicelib.behaviour.statuses import protocol_family

SWC_054 = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "behaviour" / "SWC_054"


def swc_054_sessions() -> list[dict[str, str]]:
    with open(SWC_054 / "sessions.csv") as handle:
        return list(csv.DictReader(handle))


def swc_054_table(date: str) -> Path:
    return SWC_054 / date / "001" / "alf" / "_ibl_trials.table.pqt"


def swc_054_trials(date: str) -> trials_io.Trials:
    return trials_io.read_table(swc_054_table(date).read_bytes(), source=date)


def swc_054_protocol(date: str) -> str:
    return protocol_family(next(s for s in swc_054_sessions() if s["date"] == date)["task_protocol"])


def synthetic_session(
    n: int,
    *,
    bias: float = 0.0,
    threshold: float = 10.0,
    lapse: float = 0.05,
    perf_easy: float | None = None,
    rt: float = 0.5,
    blocks: tuple[float, ...] = (0.5,),
    shift: float = 0.0,
    seed: int = 1,
) -> trials_io.Trials:
    """Trials of a simulated mouse: choices drawn from the erf model (bias moved by -/+ shift in the
    0.2/0.8 blocks), response times constant. ``perf_easy`` overrides the easy trials' success rate."""
    from scipy.special import erf

    rng = np.random.default_rng(seed)
    contrasts = np.array([-100, -25, -12.5, -6.25, 0, 0, 6.25, 12.5, 25, 100])
    signed = rng.choice(contrasts, n)
    block = rng.choice(np.array(blocks), n)
    mu = bias + np.where(block == 0.2, -shift, np.where(block == 0.8, shift, 0.0))
    p_right = lapse + (1 - 2 * lapse) * (erf((signed - mu) / threshold) + 1) / 2
    right = rng.random(n) < p_right
    if perf_easy is not None:
        easy = np.abs(signed) >= 50
        correct = rng.random(n) < perf_easy
        right = np.where(easy, np.where(signed > 0, correct, ~correct), right)
    left_side = (signed < 0) | ((signed == 0) & (rng.random(n) < 0.5))
    contrast_left = np.where(left_side, np.abs(signed) / 100, np.nan)
    contrast_right = np.where(left_side, np.nan, np.abs(signed) / 100)
    correct = np.where(signed == 0, ~left_side == right, (signed > 0) == right)
    stim_on = np.arange(n) * 5.0
    return trials_io.check(
        {
            "contrastLeft": contrast_left,
            "contrastRight": contrast_right,
            "choice": np.where(right, -1.0, 1.0),
            "feedbackType": np.where(correct, 1.0, -1.0),
            "probabilityLeft": block,
            "stimOn_times": stim_on,
            "response_times": stim_on + rt,
        }
    )


def fit_with_fmin(
    contrasts: np.ndarray,
    counts: np.ndarray,
    p_right: np.ndarray,
    settings: psychometric.Settings,
    rng: np.random.RandomState,
) -> tuple[np.ndarray, float]:
    """psychofit's ``mle_fit_psycho`` as IBL runs it: ``scipy.optimize.fmin`` from each start in turn, the
    next start drawn after each fit; what ``psychometric.fit`` must find, bit for bit."""
    from scipy.optimize import fmin

    contrasts, counts, p_right = (np.asarray(a, dtype=float) for a in (contrasts, counts, p_right))
    start = np.array(settings.parstart or (np.mean(contrasts), 20.0, 0.05, 0.05))
    low = np.array(settings.parmin or (np.min(contrasts), 0.0, 0.0, 0.0))
    high = np.array(settings.parmax or (np.max(contrasts), 100.0, 1.0, 1.0))
    keep = np.isfinite(p_right)
    data = (contrasts[keep], counts[keep], p_right[keep], low, high)
    best, best_nll = np.full(4, np.nan), np.inf
    for _ in range(settings.nfits):
        pars = fmin(psychometric.neg_log_likelihood, start, args=data, disp=False)
        nll = psychometric.neg_log_likelihood(pars, *data)
        if nll < best_nll:
            best, best_nll = pars, nll
        start = low + rng.rand(low.size) * (high - low)
    return best, -best_nll


def fit_problems(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Psychometric data to fit: each block of every third SWC_054 session, and small random sessions (few
    trials per contrast, proportions of 0 and 1, a contrast whose proportion is unknown)."""
    from chalicelib.behaviour import metrics
    from chalicelib.behaviour.statuses import BLOCKS

    problems = []
    for row in swc_054_sessions()[::3]:
        trials = swc_054_trials(row["date"])
        for block in (None, *BLOCKS):
            choices = metrics.rightward_choices(trials, block)
            if choices.contrasts.size:
                problems.append((choices.contrasts, choices.counts, choices.p_right))
    rng = np.random.default_rng(seed)
    x = np.array([-100, -25, -12.5, -6.25, 0, 6.25, 12.5, 25, 100.0])
    for _ in range(8):
        n = rng.integers(1, 12, x.size)
        p = rng.binomial(n, psychometric.erf_psycho_2gammas([rng.normal(0, 10), 15, 0.1, 0.1], x)) / n
        problems.append((x, n, p))
    problems.append((x, np.full(x.size, 20), np.where(x == 0, np.nan, (x > 0).astype(float))))
    return problems
