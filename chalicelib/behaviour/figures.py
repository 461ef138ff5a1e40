"""The training pages' figures, from stored results only (§6 of docs/analyses.md): the lab's status
timeline, a mouse's five plots and criteria breakdown, a session's psychometric and response-time plots.
Every number comes from the documents the TrainingStatus job wrote (chalicelib/behaviour/results.py) and
the colony's husbandry records; nothing is fitted here. Standard library only."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from chalicelib.behaviour import statuses
from chalicelib.behaviour.plots import Axis, Figure, heatmap
from chalicelib.behaviour.statuses import TRAINED_1A

# seaborn diverging_palette(20, 220, n=3, center="dark") as IBL draws blocks: p_left 0.2, 0.5, 0.8
BLOCK_COLOURS = {0.2: "rgb(207,85,101)", 0.5: "rgb(34,34,34)", 0.8: "rgb(62,128,175)"}
WATER_COLOURS = {
    "Water": "rgb(31,119,180)",
    "Hydrogel": "rgb(44,160,44)",
    "Water 10% Sucrose": "rgb(255,127,14)",
    "Water 15% Sucrose": "rgb(214,39,40)",
    "Water 2% Citric Acid": "rgb(148,103,189)",
}
STATUS_LINES = ("trained 1a", "trained 1b", "ready4ephysrig", "ready4delay", "ready4recording")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else float("nan")


def _decorate(figure: Figure, rows: list[dict[str, Any]]) -> None:
    """IBL's decorations of every plot over days: Mondays, the first date of each status, the first
    session on an ephys rig."""
    if not rows:
        return
    first = datetime.date.fromisoformat(rows[0]["date"])
    last = datetime.date.fromisoformat(rows[-1]["date"])
    day = first - datetime.timedelta(days=first.weekday())
    while day <= last:
        if day >= first:
            figure.vline(day.isoformat(), "#bbb")
        day += datetime.timedelta(days=7)
    for status, date in first_dates(rows).items():
        if status in STATUS_LINES:
            figure.vline(date, statuses.colour(status), status, dashed=False)
    ephys = next((r["date"] for r in rows if r.get("location") == "ephys_rig"), None)
    if ephys:
        figure.vline(ephys, "rgb(20,20,20)", "ephys rig")


def first_dates(rows: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for row in rows:
        found.setdefault(row["training_status"], row["date"])
    return found


def trial_counts(rows: list[dict[str, Any]]) -> str:
    dates = [r["date"] for r in rows]
    figure = Figure(
        "Trial counts and session duration",
        Axis("date"),
        Axis("trial count", low=0, high=max([_number(r["n_trials"]) for r in rows] + [0]) + 50),
        Axis("session duration (min)", low=0, colour="rgb(200,0,0)"),
        dates=True,
    )
    _decorate(figure, rows)
    figure.line(dates, [_number(r["n_trials"]) for r in rows], "#111", "trial count")
    figure.line(dates, [_number(r["sess_duration"]) for r in rows], "rgb(200,0,0)", "duration", right=True)
    return figure.svg()


def performance_and_rt(rows: list[dict[str, Any]]) -> str:
    dates = [r["date"] for r in rows]
    rts = [_number(r["reaction_time"]) for r in rows]
    top = max([10.0] + [v for v in rts if math.isfinite(v)])
    figure = Figure(
        "Performance on easy trials and median response time",
        Axis("date"),
        Axis("performance on easy trials", low=0, high=1.1),
        Axis("median response time (s)", low=0.1, high=top, log=True, colour="rgb(200,0,0)"),
        dates=True,
    )
    _decorate(figure, rows)
    figure.line(dates, [_number(r["performance_easy"]) for r in rows], "#111", "performance easy")
    figure.line(dates, rts, "rgb(200,0,0)", "median RT", right=True)
    return figure.svg()


def contrast_heatmap(rows: list[dict[str, Any]]) -> str:
    """P(rightward) per date and signed contrast, p_left = 0.5 trials (all trials on the training task)."""
    contrasts = sorted({c for r in rows for c in r.get("contrasts_50") or []}, reverse=True)
    values = [
        [
            dict(zip(r.get("contrasts_50") or [], r.get("performance_50") or [], strict=True)).get(c)
            for r in rows
        ]
        for c in contrasts
    ]
    return heatmap(
        "Rightward choices by contrast (p_left = 0.5)", [r["date"] for r in rows], contrasts, values
    )


def fit_parameters(rows: list[dict[str, Any]]) -> list[str]:
    """Four panels, one dot per date and block, with the trained 1a bounds."""
    panels = (
        ("threshold", "thres", 0, 100, [TRAINED_1A["threshold"]]),
        ("bias", "bias", -100, 100, [-TRAINED_1A["bias"], TRAINED_1A["bias"]]),
        ("lapse low", "lapselow", 0, 1, [TRAINED_1A["lapse"]]),
        ("lapse high", "lapsehigh", 0, 1, [TRAINED_1A["lapse"]]),
    )
    out = []
    dates = [r["date"] for r in rows]
    for title, column, low, high, bounds in panels:
        figure = Figure(
            f"Psychometric {title} per block",
            Axis("date"),
            Axis(title, low=low, high=high),
            dates=True,
            height=220,
        )
        _decorate(figure, rows)
        for bound in bounds:
            figure.hline(bound, "rgb(0,150,0)", f"trained 1a bound {bound:g}" if bound == bounds[-1] else "")
        for block, suffix in ((0.5, "50"), (0.2, "20"), (0.8, "80")):
            ys = [_number(r.get(f"{column}_{suffix}")) for r in rows]
            if any(math.isfinite(y) for y in ys):
                figure.points(dates, ys, BLOCK_COLOURS[block], f"p_left {block}")
        out.append(figure.svg())
    return out


@dataclass
class Husbandry:
    """A subject's water and weight records, as the colony tables hold them."""

    water: list[tuple[str, str, float]]  # (date, water type, mL)
    weights: list[tuple[str, float]]  # (date, g)
    restrictions: list[tuple[str, str | None, float]]  # (start date, end date, reference weight g)


def water_and_weight(husbandry: Husbandry, rows: list[dict[str, Any]]) -> str:
    dates = sorted({d for d, _, _ in husbandry.water} | {d for d, _ in husbandry.weights})
    if not dates:
        return '<p class="chart-empty">Water intake and weight: no weighing or water given yet.</p>'
    types = sorted({t for _, t, _ in husbandry.water}, key=lambda t: (t not in WATER_COLOURS, t))
    per_day = {(d, t): 0.0 for d in dates for t in types}
    for day, water_type, ml in husbandry.water:
        per_day[day, water_type] += ml
    figure = Figure(
        "Water intake and weight",
        Axis("date"),
        Axis("water intake (mL)", low=0),
        Axis("weight (g)", colour="#111"),
        dates=True,
    )
    _decorate(figure, rows)
    palette = iter(("rgb(140,86,75)", "rgb(227,119,194)", "rgb(127,127,127)", "rgb(188,189,34)"))
    figure.bars(
        dates, [(t, WATER_COLOURS.get(t) or next(palette), [per_day[d, t] for d in dates]) for t in types]
    )
    figure.line(
        [d for d, _ in husbandry.weights], [w for _, w in husbandry.weights], "#111", "weight", right=True
    )
    for start, end, reference in husbandry.restrictions:
        figure.vline(start, "rgb(200,0,0)", "restriction", dashed=False)
        if end:
            figure.vline(end, "rgb(0,150,0)", "end", dashed=False)
        if reference:
            figure.hline(0.85 * reference, "rgb(255,140,0)", "85 % of reference", right=True)
            figure.hline(0.75 * reference, "rgb(200,0,0)", "75 % of reference", right=True)
    return figure.svg()


def mouse_figures(document: dict[str, Any], husbandry: Husbandry) -> dict[str, Any]:
    rows = [r for r in document.get("rows") or [] if r.get("protocol") != "habituation"]
    return {
        "trial_counts": trial_counts(rows),
        "performance": performance_and_rt(rows),
        "heatmap": contrast_heatmap(rows),
        "fit_parameters": fit_parameters(rows),
        "water_weight": water_and_weight(husbandry, rows),
    }


def criteria_breakdown(document: dict[str, Any]) -> dict[str, Any] | None:
    """The latest date's status and the status after it; the criteria the latest window was judged on
    (IBL's breakdown: those of the status it did not reach), each with its value and whether it passes."""
    rows = document.get("rows") or []
    if not rows:
        return None
    latest = rows[-1]
    assessment = (document.get("assessments") or {}).get(latest["date"]) or {}
    criteria = dict(assessment.get("criteria") or {})
    target = criteria.pop("Criteria", {})
    return {
        "date": latest["date"],
        "status": latest["training_status"],
        "computed": assessment.get("status"),
        "next": statuses.next_status(latest["training_status"]),
        "target": (target.get("val") or "").replace("_", " "),
        "passes": bool(target.get("pass")),
        "criteria": [
            {"name": name, "value": _shown(c.get("val")), "pass": bool(c.get("pass"))}
            for name, c in criteria.items()
        ],
        "window": (assessment.get("info") or {}).get("session_dates") or [],
    }


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return "—" if value is None else str(value)


# ---- a session ----------------------------------------------------------------------------------------


def psychometric_curves(document: dict[str, Any]) -> str:
    figure = Figure(
        "Psychometric curves",
        Axis("signed contrast (%)", low=-100, high=100),
        Axis("P(rightward choice)", low=-0.05, high=1.05),
    )
    for block in document.get("blocks") or []:
        colour = BLOCK_COLOURS.get(block["prob_left"], "#555")
        fit = block["plot_fit"]
        figure.line(
            block["curve_x"], block["curve_y"], colour, f"fit p_left {block['prob_left']}", markers=False
        )
        hover = [
            f"{c:g} %: {k:g}/{n:g} rightward"
            for c, k, n in zip(block["contrasts"], block["n_right"], block["n_trials"], strict=True)
        ]
        figure.points(
            block["contrasts"],
            block["p_right"],
            colour,
            f"data p_left {block['prob_left']} (bias {fit['bias']:.1f}, threshold {fit['threshold']:.1f})"
            if fit["bias"] is not None
            else "",
            low=block["ci_low"],
            high=block["ci_high"],
            hover=hover,
        )
    return figure.svg()


def response_time_by_contrast(document: dict[str, Any]) -> str:
    figure = Figure(
        "Median response time by contrast (68 % bootstrap interval)",
        Axis("signed contrast (%)", low=-100, high=100),
        Axis("response time (s)", low=0),
    )
    for block in document.get("blocks") or []:
        colour = BLOCK_COLOURS.get(block["prob_left"], "#555")
        figure.line(block["rt_contrasts"], block["rt_median"], colour, f"p_left {block['prob_left']}")
        figure.points(
            block["rt_contrasts"],
            block["rt_median"],
            colour,
            low=block["rt_ci_low"],
            high=block["rt_ci_high"],
        )
    return figure.svg()


def response_time_by_trial(document: dict[str, Any]) -> str:
    rts = document.get("rt_by_trial") or []
    trials = list(range(1, len(rts) + 1))
    figure = Figure(
        "Response time by trial",
        Axis("trial number", low=1),
        Axis("response time (s)", low=0.1, high=100, log=True),
    )
    figure.points(trials, [_number(v) for v in rts], "rgb(190,190,190)", "trial", radius=1.8)
    figure.line(
        trials,
        [_number(v) for v in document.get("rt_rolling_median") or []],
        "#111",
        "rolling median (10 trials)",
        markers=False,
    )
    return figure.svg()


def session_figures(document: dict[str, Any]) -> dict[str, str]:
    return {
        "psychometric": psychometric_curves(document),
        "rt_contrast": response_time_by_contrast(document),
        "rt_trial": response_time_by_trial(document),
    }


# ---- the lab -----------------------------------------------------------------------------------------


def lab_overview(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per subject in training: its current status, sessions and days so far."""
    out = []
    for doc in documents:
        rows = [r for r in doc.get("rows") or [] if r.get("protocol") != "habituation"]
        if not rows:
            continue
        first, last = (
            datetime.date.fromisoformat(rows[0]["date"]),
            datetime.date.fromisoformat(rows[-1]["date"]),
        )
        failed = [s for s in statuses.FAILED if s.replace(" ", "_") in (doc.get("trained_criteria") or {})]
        out.append(
            {
                "subject": doc["subject"],
                "lab": doc["lab"],
                "status": rows[-1]["training_status"],
                "failed": failed,
                "colour": statuses.colour(rows[-1]["training_status"]),
                "sessions": sum(int(r.get("n_sessions") or 1) for r in rows),
                "days": (last - first).days + 1,
                "training_days": rows[-1].get("training_day"),
                "first": rows[0]["date"],
                "last": rows[-1]["date"],
                "updated": doc.get("updated"),
            }
        )
    return out


def status_timeline(documents: list[dict[str, Any]]) -> str:
    """Subjects (rows) by session date, each session a mark coloured by that date's status."""
    lines = [(d["subject"], [r for r in d.get("rows") or []]) for d in documents if d.get("rows")]
    if not lines:
        return '<p class="chart-empty">Training timeline: no subject has training results yet.</p>'
    height = 60 + 26 * len(lines)
    names = {float(i): subject for i, (subject, _) in enumerate(reversed(lines))}
    figure = Figure(
        "Training status by session date",
        Axis("date"),
        Axis("", low=-0.5, high=len(lines) - 0.5, names=names),
        dates=True,
        height=max(height, 160),
    )
    seen: set[str] = set()
    for index, (subject, rows) in enumerate(reversed(lines)):
        for status in statuses.STATUSES:
            dates = [r["date"] for r in rows if r["training_status"] == status]
            if dates:
                label = status if status not in seen else ""
                seen.add(status)
                hover = [f"{subject} {d}: {status}" for d in dates]
                figure.points(
                    dates, [index] * len(dates), statuses.colour(status), label, radius=6, hover=hover
                )
    return figure.svg()
