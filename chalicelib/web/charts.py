"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable and labelled.

``line_chart`` takes series of (date, value) points and optional horizontal lines (a reference weight, a
threshold) and returns SVG markup with a title and description for screen readers, axis labels and a
legend. Templates insert it with ``{{ chart | safe }}`` (values are escaped here).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 860, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 16, 40
PALETTE = ("#0b5cad", "#b00020", "#e07000", "#008000", "#6f42c1")


@dataclass
class Series:
    label: str
    points: list[tuple[datetime.date, float]]
    colour: str = ""
    dashed: bool = False
    markers: bool = True


@dataclass
class Level:
    """A horizontal line across the chart, e.g. a threshold weight."""

    label: str
    value: float
    colour: str = "#b00020"


@dataclass
class Chart:
    title: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = int(low / step) * step
    ticks, value = [], start
    while value <= high + step / 2:
        if value >= low - 1e-9:
            ticks.append(round(value, 6))
        value += step
    return ticks


def line_chart(chart: Chart) -> str:
    """SVG markup of ``chart``; an empty chart says so instead of drawing empty axes."""
    points = [p for s in chart.series for p in s.points]
    title = escape(chart.title)
    if not points:
        return f'<p class="chart-empty">{title}: nothing to draw yet.</p>'
    days = [p[0] for p in points]
    values = [p[1] for p in points] + [level.value for level in chart.levels]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 1.0
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: datetime.date) -> float:
        return LEFT + plot_w * ((day - first).days / span)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{title}</title>',
        f'<desc id="chart-desc">{escape(_describe(chart, first, last))}</desc>',
    ]
    for tick in _ticks(low, high):
        out.append(
            f'<line class="gridline" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for day in _date_ticks(first, last):
        out.append(
            f'<text x="{x(day):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{day.isoformat()}</text>'
        )
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 14 {TOP + plot_h / 2:.0f})" '
        f'text-anchor="middle">{escape(chart.y_label)}</text>'
    )
    legend_y = TOP + 8
    for level in chart.levels:
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(level.value):.1f}" y2="{y(level.value):.1f}" '
            f'stroke="{level.colour}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
        out.append(_legend(legend_y, level.colour, f"{level.label} ({level.value:.1f})", dashed=True))
        legend_y += 20
    for index, series in enumerate(chart.series):
        colour = series.colour or PALETTE[index % len(PALETTE)]
        ordered = sorted(series.points)
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(ordered))
        dash = ' stroke-dasharray="4 3"' if series.dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        if series.markers:
            for d, v in ordered:
                out.append(
                    f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                    f"<title>{d.isoformat()}: {v:.2f}</title></circle>"
                )
        out.append(_legend(legend_y, colour, series.label, dashed=series.dashed))
        legend_y += 20
    out.append("</svg>")
    return "\n".join(out)


def _legend(top: float, colour: str, label: str, *, dashed: bool) -> str:
    left = WIDTH - RIGHT + 12
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (
        f'<line x1="{left}" x2="{left + 22}" y1="{top}" y2="{top}" stroke="{colour}" stroke-width="2"{dash}/>'
        f'<text x="{left + 28}" y="{top + 4}">{escape(label)}</text>'
    )


def _date_ticks(first: datetime.date, last: datetime.date, count: int = 5) -> list[datetime.date]:
    span = (last - first).days
    if span == 0:
        return [first]
    step = max(span // (count - 1), 1)
    return [first + datetime.timedelta(days=d) for d in range(0, span + 1, step)][:count]


def _describe(chart: Chart, first: datetime.date, last: datetime.date) -> str:
    parts = [f"{chart.title} from {first.isoformat()} to {last.isoformat()}."]
    for series in chart.series:
        if series.points:
            latest = max(series.points)
            parts.append(
                f"{series.label}: {len(series.points)} points, latest {latest[1]:.2f} on {latest[0]}."
            )
    parts += [f"{level.label}: {level.value:.2f}." for level in chart.levels]
    return " ".join(parts)
