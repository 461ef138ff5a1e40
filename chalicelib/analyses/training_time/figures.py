"""Fig. 2's four panels as inline SVG, drawn from a run's stored results (nothing is fitted at page time):
(a) training time with the quartile cut points, (b) the full classifier's confusion matrix, (c) F1 of
both classifiers against their label shuffles, (d) the permutation importance of each feature.
Standard library only: the API's Lambda draws them."""

from __future__ import annotations

import math
import statistics
from html import escape
from typing import Any

from chalicelib.behaviour.plots import Axis, Figure

BLUE, RED, GREY = "#0b5cad", "#b00020", "#9a9a9a"
LABELS = {"full": "All features", "perf_delta1": "Performance change only"}


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="plot" '
        'font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
    ]


def histogram(times: list[float], cuts: list[float]) -> str:
    """(a) Mice per bin of training time, dashed lines at q25, q50 and q75."""
    if not times:
        return '<p class="chart-empty">No mouse in the design matrix.</p>'
    low, high = min(times), max(times)
    width = max(1.0, math.ceil((high - low + 1) / 10))
    edges = [low + width * k for k in range(int((high - low) // width) + 1)]
    counts = [sum(edge <= t < edge + width for t in times) for edge in edges]
    figure = Figure("a  Training time", Axis("Training time (sessions)"), Axis("Mice", low=0), width=430)
    figure.bars([e + width / 2 for e in edges], [("mice", BLUE, counts)], bar_width=width * 0.9)
    for name, cut in zip(("q25", "q50", "q75"), cuts, strict=True):
        figure.vline(cut, RED, f"{name} {cut:g}")
    return figure.svg()


def confusion(matrix: list[list[float]]) -> str:
    """(b) Rows the true quartile, columns the predicted one, each row summing to 1."""
    size, left, top = 64, 80, 40
    out = _open(left + 4 * size + 80, top + 4 * size + 50, "b  Confusion matrix (all features)")
    for i, row in enumerate(matrix):
        out.append(
            f'<text x="{left - 8}" y="{top + i * size + size / 2 + 4}" text-anchor="end">Q{i + 1}</text>'
        )
        for j, value in enumerate(row):
            shade = int(255 - 200 * value)
            x, y = left + j * size, top + i * size
            ink = "#fff" if value > 0.5 else "#222"
            out.append(
                f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="rgb({shade},{shade},255)" '
                f'stroke="#fff"><title>true Q{i + 1}, predicted Q{j + 1}: {value:.2f}</title></rect>'
            )
            out.append(
                f'<text x="{x + size / 2}" y="{y + size / 2 + 4}" text-anchor="middle" fill="{ink}">'
                f"{value:.2f}</text>"
            )
    for j in range(4):
        out.append(
            f'<text x="{left + j * size + size / 2}" y="{top + 4 * size + 16}" '
            f'text-anchor="middle">Q{j + 1}</text>'
        )
    out.append(
        f'<text x="{left + 2 * size}" y="{top + 4 * size + 36}" '
        'text-anchor="middle">Predicted quartile</text>'
    )
    out.append(
        f'<text x="14" y="{top + 2 * size}" transform="rotate(-90 14 {top + 2 * size})" '
        'text-anchor="middle">True quartile</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (math.nan,) * 3
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def f1_against_shuffles(f1: dict[str, float], shuffled: dict[str, list[float]]) -> str:
    """(c) Each classifier's F1 (red) beside the box of its shuffled-label F1s (grey points), with chance."""
    width, height, left, top, bottom = 430, 300, 56, 30, 50
    plot_h = height - top - bottom
    scores = [v for v in f1.values()] + [v for s in shuffled.values() for v in s]
    high = min(1.0, max(0.5, max(scores) + 0.1))

    def y(value: float) -> float:
        return top + plot_h * (1 - value / high)

    out = _open(width, height, "c  F1 against label shuffles")
    for tick in [k / 10 for k in range(int(high * 10) + 1)]:
        out.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#eee"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    out.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{y(0.25):.1f}" y2="{y(0.25):.1f}" stroke="{GREY}" '
        'stroke-dasharray="4 3"><title>chance: 0.25</title></line>'
    )
    out.append(f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
               'text-anchor="middle">F1 (micro)</text>')  # fmt: skip
    slot = (width - left - 10) / max(len(f1), 1)
    for k, (name, score) in enumerate(f1.items()):
        centre = left + slot * (k + 0.5)
        values = shuffled.get(name) or []
        if values:
            q1, median, q3 = _quartiles(values)
            box = f'x="{centre - 45:.1f}" width="50"'
            out.append(f'<line x1="{centre - 20:.1f}" x2="{centre - 20:.1f}" y1="{y(min(values)):.1f}" '
                       f'y2="{y(max(values)):.1f}" stroke="{GREY}"/>')  # fmt: skip
            out.append(f'<rect {box} y="{y(q3):.1f}" height="{y(q1) - y(q3):.1f}" '
                       f'fill="#eee" stroke="{GREY}">'
                       f"<title>{len(values)} shuffles: median {median:.3f}</title></rect>")  # fmt: skip
            out.append(f'<line x1="{centre - 45:.1f}" x2="{centre + 5:.1f}" y1="{y(median):.1f}" '
                       f'y2="{y(median):.1f}" stroke="#555" stroke-width="2"/>')  # fmt: skip
            for i, value in enumerate(values):
                jitter = ((i * 37) % 21 - 10) * 1.5
                out.append(f'<circle cx="{centre - 20 + jitter:.1f}" cy="{y(value):.1f}" r="1.8" '
                           f'fill="{GREY}" '
                           'fill-opacity="0.6"/>')  # fmt: skip
        out.append(
            f'<circle cx="{centre + 30:.1f}" cy="{y(score):.1f}" r="6" fill="{RED}">'
            f"<title>{escape(LABELS.get(name, name))}: F1 {score:.3f}</title></circle>"
        )
        out.append(f'<text x="{centre + 40:.1f}" y="{y(score) + 4:.1f}">{score:.2f}</text>')
        out.append(
            f'<text x="{centre:.1f}" y="{height - bottom + 18}" text-anchor="middle">'
            f"{escape(LABELS.get(name, name))}</text>"
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" fill="#555">'
        "grey: shuffled labels (box: quartiles); red: classifier</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def importance(drops: dict[str, list[float]], ranking: list[str]) -> str:
    """(d) Per feature (most important first) the decrease of F1 when it is permuted: each repeat a grey
    point, the median a bar."""
    row, left, top, width = 18, 120, 30, 430  # the width of the other panels, drawn at their scale
    height = top + row * len(ranking) + 40
    values = [v for d in drops.values() for v in d] or [0.0]
    low, high = min(0.0, min(values)), max(max(values), 0.01)

    def x(value: float) -> float:
        return left + (width - left - 20) * (value - low) / (high - low)

    out = _open(width, height, "d  Permutation importance (decrease in F1)")
    for k, name in enumerate(ranking):
        y = top + row * k + row / 2
        median = statistics.median(drops[name]) if drops[name] else 0.0
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(name)}</text>')
        out.append(
            f'<rect x="{min(x(0), x(median)):.1f}" y="{y - 5:.1f}" '
            f'width="{abs(x(median) - x(0)):.1f}" height="10" '
            f'fill="{BLUE}" fill-opacity="0.5"><title>{escape(name)}: median {median:.4f}</title></rect>'
        )
        for value in drops[name]:
            out.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="2" fill="#333" fill-opacity="0.5"/>')
    bottom = top + row * len(ranking)
    out.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{bottom}" stroke="#888"/>')
    step = (high - low) / 5
    for k in range(6):
        tick = low + step * k
        out.append(f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle">{tick:.3f}</text>')
    out.append(
        f'<text x="{(left + width) / 2:.0f}" y="{bottom + 34}" text-anchor="middle">Decrease in F1</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def panels(results: dict[str, Any]) -> dict[str, str]:
    return {
        "histogram": histogram(results["training_times"], results["cut_points"]),
        "confusion": confusion(results["confusion_matrix"]),
        "f1": f1_against_shuffles(results["f1"], results["shuffled_f1"]),
        "importance": importance(results["importance"], results["ranking"]),
    }
