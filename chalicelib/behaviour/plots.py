"""The behaviour pages' plots as inline SVG, drawn on the server from stored results: no JavaScript, no
CDN. A ``Figure`` has an x axis (numbers or dates), a left and optionally a right y axis (linear or log),
and takes lines, points with error bars, stacked bars, and vertical or horizontal reference lines;
``heatmap`` draws a date x contrast grid. Standard library only (it runs in the API's Lambda)."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

WIDTH, HEIGHT = 860, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 170, 28, 44


@dataclass
class Axis:
    label: str
    low: float | None = None  # None: from the data
    high: float | None = None
    log: bool = False
    colour: str = "#222"
    names: dict[float, str] | None = None  # categorical ticks (value -> label), e.g. one row per subject


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def day_number(day: str | datetime.date) -> float:
    return float((datetime.date.fromisoformat(day) if isinstance(day, str) else day).toordinal())


@dataclass
class Figure:
    title: str
    x: Axis
    y: Axis
    y2: Axis | None = None
    dates: bool = False  # x values are ISO dates
    width: int = WIDTH
    height: int = HEIGHT
    _items: list[tuple[str, dict]] = field(default_factory=list)
    _legend: list[tuple[str, str, str]] = field(default_factory=list)

    def _x(self, value):
        return day_number(value) if self.dates else value

    def line(self, xs, ys, colour, label="", *, right=False, dashed=False, markers=True, width=2.0):
        self._items.append(
            (
                "line",
                dict(
                    xs=[self._x(v) for v in xs],
                    ys=list(ys),
                    colour=colour,
                    right=right,
                    dashed=dashed,
                    markers=markers,
                    width=width,
                ),
            )
        )
        if label:
            self._legend.append((label, colour, "dash" if dashed else "line"))

    def points(self, xs, ys, colour, label="", *, right=False, low=None, high=None, radius=3.5, hover=None):
        self._items.append(
            (
                "points",
                dict(
                    xs=[self._x(v) for v in xs],
                    ys=list(ys),
                    colour=colour,
                    right=right,
                    low=low,
                    high=high,
                    radius=radius,
                    hover=hover,
                ),
            )
        )
        if label:
            self._legend.append((label, colour, "dot"))

    def bars(self, xs, stacks: list[tuple[str, str, list[float]]], *, right=False, bar_width=0.7):
        self._items.append(
            ("bars", dict(xs=[self._x(v) for v in xs], stacks=stacks, right=right, bw=bar_width))
        )
        for label, colour, _ in stacks:
            self._legend.append((label, colour, "box"))

    def vline(self, x, colour, label="", *, dashed=True):
        self._items.append(("vline", dict(x=self._x(x), colour=colour, dashed=dashed, label=label)))

    def hline(self, y, colour, label="", *, right=False, dashed=True):
        self._items.append(("hline", dict(y=y, colour=colour, right=right, dashed=dashed)))
        if label:
            self._legend.append((label, colour, "dash" if dashed else "line"))

    # ---- drawing ----

    def _range(self, axis: Axis, values: list[float]) -> tuple[float, float]:
        values = [v for v in values if _finite(v) and (not axis.log or v > 0)]
        low = axis.low if axis.low is not None else (min(values) if values else 0.0)
        high = axis.high if axis.high is not None else (max(values) if values else 1.0)
        if high <= low:
            high = low + (abs(low) or 1.0)
        if not axis.log:  # a free end leaves a margin, so no point sits on the frame (a lone weighing)
            margin = 0.05 * (high - low)
            low -= margin if axis.low is None else 0.0
            high += margin if axis.high is None else 0.0
        if axis.log:
            return math.log10(max(low, 1e-9)), math.log10(high)
        return low, high

    def svg(self) -> str:
        xs, left_ys, right_ys = [], [], []
        for kind, item in self._items:
            if kind in ("line", "points"):
                xs += item["xs"]
                target = right_ys if item["right"] else left_ys
                target += item["ys"] + [
                    v for v in (item.get("low") or []) + (item.get("high") or []) if v is not None
                ]
            elif kind == "bars":
                xs += item["xs"]
                totals = [
                    sum(v or 0 for v in values)
                    for values in zip(*[s[2] for s in item["stacks"]], strict=True)
                ]
                (right_ys if item["right"] else left_ys).extend([0.0, *totals])
            elif kind == "vline":
                xs.append(item["x"])
            elif kind == "hline":
                (right_ys if item["right"] else left_ys).append(item["y"])
        x_low, x_high = self._range(self.x, xs)
        if self.dates:
            x_low, x_high = x_low - 3, x_high + 3  # IBL: first to last date, 3 days either side
        y_low, y_high = self._range(self.y, left_ys)
        r_low, r_high = self._range(self.y2, right_ys) if self.y2 else (0.0, 1.0)
        plot_w, plot_h = self.width - LEFT - RIGHT, self.height - TOP - BOTTOM

        def px(value: float) -> float:
            return LEFT + plot_w * (value - x_low) / (x_high - x_low)

        def py(value: float, right: bool = False) -> float | None:
            axis, low, high = (self.y2, r_low, r_high) if right else (self.y, y_low, y_high)
            if not _finite(value) or (axis.log and value <= 0):
                return None
            v = math.log10(value) if axis.log else value
            v = min(max(v, low), high)
            return TOP + plot_h * (1 - (v - low) / (high - low))

        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'class="plot" font-size="11">',
            f"<title>{escape(self.title)}</title>",
            f'<text x="{LEFT}" y="16" font-weight="bold" font-size="13">{escape(self.title)}</text>',
            f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>',
        ]
        out += self._y_ticks(self.y, y_low, y_high, lambda v: py(v), LEFT, "end", -6)
        if self.y2:
            out += self._y_ticks(self.y2, r_low, r_high, lambda v: py(v, True), LEFT + plot_w, "start", 6)
        out += self._x_ticks(x_low, x_high, px, TOP + plot_h)
        out.append(_vertical_label(14, TOP + plot_h / 2, self.y.label, self.y.colour))
        if self.y2:
            out.append(_vertical_label(LEFT + plot_w + 52, TOP + plot_h / 2, self.y2.label, self.y2.colour))
        out.append(
            f'<text x="{LEFT + plot_w / 2:.0f}" y="{self.height - 6}" text-anchor="middle">'
            f"{escape(self.x.label)}</text>"
        )
        _stagger_labels([item for kind, item in self._items if kind == "vline"], px)
        for kind, item in self._items:
            out += getattr(self, f"_draw_{kind}")(item, px, py, plot_w, plot_h)
        legend_y = TOP + 8
        for label, colour, style in self._legend:
            out.append(
                _legend(
                    self.width - RIGHT + 64 if self.y2 else self.width - RIGHT + 12,
                    legend_y,
                    colour,
                    label,
                    style,
                )
            )
            legend_y += 17
        out.append("</svg>")
        return "\n".join(out)

    def _y_ticks(self, axis, low, high, py, x, anchor, dx) -> list[str]:
        out = []
        if axis.names:
            for value, name in axis.names.items():
                out.append(
                    f'<text x="{x + dx}" y="{py(value) + 4:.1f}" text-anchor="{anchor}">{escape(name)}</text>'
                )
            return out
        ticks = (
            [10**e for e in range(math.floor(low), math.ceil(high) + 1)] if axis.log else _ticks(low, high)
        )
        for tick in ticks:
            y = py(tick)
            if y is None or (axis.log and not low - 1e-9 <= math.log10(tick) <= high + 1e-9):
                continue
            out.append(
                f'<text x="{x + dx}" y="{y + 4:.1f}" text-anchor="{anchor}" '
                f'fill="{axis.colour}">{tick:g}</text>'
            )
            out.append(
                f'<line x1="{LEFT}" x2="{self.width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            )
        return out

    def _x_ticks(self, low, high, px, bottom) -> list[str]:
        out = []
        if self.dates:
            first, last = int(math.ceil(low)), int(high)
            step = max((last - first) // 6, 1)
            for n in range(first, last + 1, step):
                label = datetime.date.fromordinal(n).isoformat()[5:]
                out.append(f'<text x="{px(n):.1f}" y="{bottom + 16}" text-anchor="middle">{label}</text>')
        else:
            for tick in _ticks(low, high):
                out.append(f'<text x="{px(tick):.1f}" y="{bottom + 16}" text-anchor="middle">{tick:g}</text>')
        return out

    def _draw_line(self, item, px, py, plot_w, plot_h) -> list[str]:
        out, path = [], []
        for x, y in zip(item["xs"], item["ys"], strict=True):
            yy = py(y, item["right"])
            if yy is None:
                path.append(None)
                continue
            path.append((px(x), yy))
        segments, current = [], []
        for p in path + [None]:
            if p is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(p)
        dash = ' stroke-dasharray="5 4"' if item["dashed"] else ""
        for seg in segments:
            d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(seg))
            out.append(
                f'<path d="{d}" fill="none" stroke="{item["colour"]}" stroke-width="{item["width"]}"{dash}/>'
            )
            if item["markers"]:
                out += [
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{item["colour"]}"/>' for x, y in seg
                ]
        return out

    def _draw_points(self, item, px, py, plot_w, plot_h) -> list[str]:
        out = []
        low, high, hover = item["low"], item["high"], item["hover"]
        for i, (x, y) in enumerate(zip(item["xs"], item["ys"], strict=True)):
            yy = py(y, item["right"])
            if yy is None:
                continue
            if low is not None and high is not None:
                a, b = py(low[i], item["right"]), py(high[i], item["right"])
                if a is not None and b is not None:
                    out.append(
                        f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{a:.1f}" y2="{b:.1f}" '
                        f'stroke="{item["colour"]}" stroke-opacity="0.6"/>'
                    )
            tip = f"<title>{escape(hover[i])}</title>" if hover else ""
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{yy:.1f}" r="{item["radius"]}" '
                f'fill="{item["colour"]}">{tip}</circle>'
            )
        return out

    def _draw_bars(self, item, px, py, plot_w, plot_h) -> list[str]:
        out = []
        unit = px(1) - px(0)
        width = max(unit * item["bw"], 2)
        for i, x in enumerate(item["xs"]):
            base = 0.0
            for label, colour, values in item["stacks"]:
                value = values[i] or 0
                if value <= 0:
                    continue
                top, bottom = py(base + value, item["right"]), py(base, item["right"])
                out.append(
                    f'<rect x="{px(x) - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{bottom - top:.1f}" fill="{colour}">'
                    f"<title>{escape(label)}: {value:g}</title></rect>"
                )
                base += value
        return out

    def _draw_vline(self, item, px, py, plot_w, plot_h) -> list[str]:
        x = px(item["x"])
        dash = ' stroke-dasharray="4 3"' if item["dashed"] else ""
        out = [
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            f'stroke="{item["colour"]}"{dash}/>'
        ]
        if item["label"]:
            out.append(
                f'<text x="{x + 3:.1f}" y="{TOP + 10 + 11 * item.get("row", 0)}" fill="{item["colour"]}" '
                'font-size="10">'
                f"{escape(item['label'])}</text>"
            )
        return out

    def _draw_hline(self, item, px, py, plot_w, plot_h) -> list[str]:
        y = py(item["y"], item["right"])
        if y is None:
            return []
        dash = ' stroke-dasharray="6 4"' if item["dashed"] else ""
        return [
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{item["colour"]}" '
            f'stroke-width="1.5"{dash}/>'
        ]


def _stagger_labels(vlines: list[dict[str, Any]], px: Callable[[float], float]) -> None:
    """Give each labelled vertical line the first text row where its label clears the labels before it
    (status changes a day apart would otherwise print over each other)."""
    row_ends: list[float] = []
    for item in sorted((v for v in vlines if v["label"]), key=lambda v: v["x"]):
        x = px(item["x"]) + 3
        row = next((r for r, end in enumerate(row_ends) if end < x), len(row_ends))
        if row == len(row_ends):
            row_ends.append(0.0)
        row_ends[row] = x + 5.5 * len(item["label"])  # about 5.5 px per character at font size 10
        item["row"] = row


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def _vertical_label(x: float, y: float, text: str, colour: str) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" transform="rotate(-90 {x:.0f} {y:.0f})" text-anchor="middle" '
        f'fill="{colour}">{escape(text)}</text>'
    )


def _legend(left: float, top: float, colour: str, label: str, style: str) -> str:
    if style == "dot":
        mark = f'<circle cx="{left + 11}" cy="{top}" r="4" fill="{colour}"/>'
    elif style == "box":
        mark = f'<rect x="{left + 4}" y="{top - 5}" width="14" height="10" fill="{colour}"/>'
    else:
        dash = ' stroke-dasharray="5 3"' if style == "dash" else ""
        mark = (
            f'<line x1="{left}" x2="{left + 22}" y1="{top}" y2="{top}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
    return f'{mark}<text x="{left + 28}" y="{top + 4}">{escape(label)}</text>'


def puor(value: float) -> str:
    """Matplotlib's PuOr colour map (orange at 0, white at 0.5, purple at 1), as IBL's heat map."""
    stops = [
        (0.0, (127, 59, 8)),
        (0.25, (241, 163, 64)),
        (0.5, (247, 247, 247)),
        (0.75, (153, 142, 195)),
        (1.0, (45, 0, 75)),
    ]
    value = min(max(value, 0.0), 1.0)
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if value <= b:
            t = (value - a) / (b - a)
            return "rgb({},{},{})".format(*(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)))
    return "rgb(45,0,75)"


def heatmap(
    title: str,
    columns: list[str],
    rows: list[float],
    values: list[list[float | None]],
    legend: str = "Rightward choice (%)",
) -> str:
    """A grid: one column per date, one row per signed contrast (descending), coloured by ``values[row][col]``
    (0..1; None left blank), with a colour bar."""
    if not columns or not rows:
        return f'<p class="chart-empty">{escape(title)}: nothing to draw yet.</p>'
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    cw, rh = plot_w / len(columns), plot_h / len(rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="plot" '
        'font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
    ]
    for r, contrast in enumerate(rows):
        y = TOP + r * rh
        out.append(f'<text x="{LEFT - 6}" y="{y + rh / 2 + 4:.1f}" text-anchor="end">{contrast:g}</text>')
        for c, column in enumerate(columns):
            value = values[r][c]
            if value is None:
                continue
            out.append(
                f'<rect x="{LEFT + c * cw:.1f}" y="{y:.1f}" width="{cw + 0.5:.1f}" height="{rh + 0.5:.1f}" '
                f'fill="{puor(value)}"><title>{column}, {contrast:g} %: '
                f"{100 * value:.0f} % rightward</title></rect>"
            )
    step = max(len(columns) // 8, 1)
    for c in range(0, len(columns), step):
        out.append(
            f'<text x="{LEFT + (c + 0.5) * cw:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{escape(columns[c][5:])}</text>"
        )
    out.append(_vertical_label(14, TOP + plot_h / 2, "Signed contrast (%)", "#222"))
    bar_x = WIDTH - RIGHT + 20
    for i in range(20):
        out.append(
            f'<rect x="{bar_x}" y="{TOP + plot_h * i / 20:.1f}" width="14" height="{plot_h / 20 + 0.5:.1f}" '
            f'fill="{puor(1 - i / 20)}"/>'
        )
    out.append(
        f'<text x="{bar_x + 18}" y="{TOP + 8}">100</text><text x="{bar_x + 18}" y="{TOP + plot_h}">0</text>'
    )
    out.append(_vertical_label(bar_x + 58, TOP + plot_h / 2, legend, "#222"))
    out.append("</svg>")
    return "\n".join(out)
