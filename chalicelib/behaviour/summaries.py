"""What a session's page shows, computed once by the job: per block the choices by contrast with their
interval, the psychometric fits, response times by contrast and by trial (§6.2 of docs/analyses.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chalicelib.behaviour import metrics, psychometric
from chalicelib.behaviour.statuses import BLOCKS
from chalicelib.behaviour.training import jsonable
from chalicelib.behaviour.trials import Trials, response_times

CURVE_X = np.arange(-100, 100)  # where the fitted curve is drawn, as IBL's plots
CI_ALPHA = 0.032  # IBL's plots: a ~97 % normal-approximation interval
RT_ALPHA = 0.32  # 68 % bootstrap interval of the median response time
ROLLING_TRIALS = 10


def session_summary(trials: Trials, protocol: str) -> dict[str, Any]:
    """Per block (one 0.5 block of all trials on the training task, whose probabilityLeft is no prior;
    0.5 / 0.2 / 0.8 otherwise): contrasts, counts, rightward counts and proportions with their interval,
    the fit IBL's status uses and the fit IBL's plots use (with its curve), and response times."""
    blocks: list[dict[str, Any]] = []
    for block in (None,) if protocol == "training" else BLOCKS:
        choices = metrics.rightward_choices(trials, block)
        if choices.contrasts.size == 0:
            continue
        low, high = psychometric.binomial_interval(choices.n_right, choices.counts, CI_ALPHA)
        rng = np.random.RandomState(psychometric.SEED)
        status_fit = psychometric.fit(choices.contrasts, choices.counts, choices.p_right, rng=rng)[0]
        plot_fit = psychometric.fit(
            choices.contrasts, choices.counts, choices.p_right, psychometric.PLOTTING, rng=rng
        )[0]
        rt_contrasts, rt_median, rt_low, rt_high = metrics.response_time_by_contrast(
            trials, block, alpha=RT_ALPHA
        )
        blocks.append(
            {
                "prob_left": 0.5 if block is None else block,
                "contrasts": choices.contrasts,
                "n_trials": choices.counts,
                "n_right": choices.n_right,
                "p_right": choices.p_right,
                "ci_low": low,
                "ci_high": high,
                "fit": dict(zip(("bias", "threshold", "lapse_low", "lapse_high"), status_fit, strict=True)),
                "plot_fit": dict(
                    zip(("bias", "threshold", "lapse_low", "lapse_high"), plot_fit, strict=True)
                ),
                "curve_x": CURVE_X,
                "curve_y": psychometric.erf_psycho_2gammas(plot_fit, CURVE_X),
                "rt_contrasts": rt_contrasts,
                "rt_median": rt_median,
                "rt_ci_low": rt_low,
                "rt_ci_high": rt_high,
            }
        )
    rt = response_times(trials)
    return jsonable(
        {
            "protocol": protocol,
            "n_trials": metrics.n_trials(trials),
            "performance": metrics.performance(trials),
            "performance_easy": metrics.performance_easy(trials),
            "median_rt": metrics.median_response_time(trials),
            "ci_alpha": CI_ALPHA,
            "rt_alpha": RT_ALPHA,
            "blocks": blocks,
            "rt_by_trial": rt,
            "rt_rolling_median": metrics.rolling_median(rt, ROLLING_TRIALS),
        }
    )


def psychometric_columns(summary: dict[str, Any]) -> dict[str, list[Any]]:
    """The session's psychometric dataset: one row per block and contrast, the block's fits repeated."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "prob_left", "signed_contrast", "n_trials", "n_right", "p_right", "ci_low", "ci_high",
            "rt_median", "rt_ci_low", "rt_ci_high", "bias", "threshold", "lapse_low", "lapse_high",
            "plot_bias", "plot_threshold", "plot_lapse_low", "plot_lapse_high",
        )
    }  # fmt: skip
    for block in summary["blocks"]:
        rt = dict(
            zip(
                block["rt_contrasts"],
                zip(block["rt_median"], block["rt_ci_low"], block["rt_ci_high"], strict=True),
                strict=True,
            )
        )
        for i, contrast in enumerate(block["contrasts"]):
            columns["prob_left"].append(block["prob_left"])
            columns["signed_contrast"].append(contrast)
            for name in ("n_trials", "n_right", "p_right", "ci_low", "ci_high"):
                columns[name].append(block[name][i])
            median, low, high = rt.get(contrast, (None, None, None))
            columns["rt_median"].append(median)
            columns["rt_ci_low"].append(low)
            columns["rt_ci_high"].append(high)
            for name, value in block["fit"].items():
                columns[name].append(value)
            for name, value in block["plot_fit"].items():
                columns[f"plot_{name}"].append(value)
    return columns
