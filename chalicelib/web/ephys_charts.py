"""SVG figures of the probe and cluster pages, drawn on the server from the stored summaries (standard
library only: heat maps are small PNGs made with zlib, inside the SVG with their axes).

Every figure has a title and axis labels in the SVG (``role="img"`` with an ``aria-label``), so it reads
without the page around it.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# viridis at 9 stops: perceptually even, readable in grey
VIRIDIS = [
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
]  # fmt: skip
DIVERGING = [(33, 102, 172), (103, 169, 207), (209, 229, 240), (247, 247, 247), (253, 219, 199),
             (239, 138, 98), (178, 24, 43)]  # fmt: skip
SPLIT_COLOURS = {"correct_left": "#1a9641", "correct_right": "#2c7bb6", "incorrect": "#d7191c", "all": "#222"}
SPLIT_LABELS = {"correct_left": "correct left", "correct_right": "correct right", "incorrect": "incorrect",
                "all": "all trials"}  # fmt: skip


@dataclass
class Frame:
    """A plot area inside an SVG of ``width`` x ``height``, mapping data ranges to pixels."""

    width: int
    height: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    left: int = 56
    right: int = 12
    top: int = 28
    bottom: int = 40

    @property
    def inner(self) -> tuple[float, float]:
        return self.width - self.left - self.right, self.height - self.top - self.bottom

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / ((high - low) or 1) * self.inner[0]

    def y(self, value: float) -> float:
        low, high = self.y_range
        return self.top + self.inner[1] - (value - low) / ((high - low) or 1) * self.inner[1]


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def line(x1: float, x2: float, y1: float, y2: float, kind: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" class="{kind}"/>'


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:g}"


def figure(frame: Frame, title: str, x_label: str, y_label: str, body: str, extra: str = "") -> str:
    """The SVG: title, axes with ticks and labels, then ``body`` clipped to the plot area."""
    clip = f"c{abs(hash((title, x_label, y_label))) % 10**8}"
    w, h = frame.inner
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" '
        f'width="{frame.width}" height="{frame.height}" role="img" aria-label="{escape(title)}" '
        'class="ephys">',
        f'<title>{escape(title)}</title><defs><clipPath id="{clip}"><rect x="{frame.left}" y="{frame.top}" '
        f'width="{w:.1f}" height="{h:.1f}"/></clipPath></defs>',
        f'<text x="{frame.left}" y="16" class="title">{escape(title)}</text>',
        f'<g clip-path="url(#{clip})">{body}</g>',
        f'<rect x="{frame.left}" y="{frame.top}" width="{w:.1f}" height="{h:.1f}" class="frame"/>',
    ]
    for value in ticks(*frame.x_range):
        x = frame.x(value)
        parts.append(
            line(x, x, frame.top + h, frame.top + h + 4, "tick")
            + f'<text x="{x:.1f}" y="{frame.top + h + 16:.1f}" text-anchor="middle">{_number(value)}</text>'
        )
    for value in ticks(*frame.y_range):
        y = frame.y(value)
        parts.append(
            line(frame.left - 4, frame.left, y, y, "tick")
            + f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    parts.append(
        f'<text x="{frame.left + w / 2:.1f}" y="{frame.height - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(14 {frame.top + h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>{extra}</svg>"
    )
    return "".join(parts)


# --- heat maps ------------------------------------------------------------------------------------------


def colour(value: float, palette: Sequence[tuple[int, int, int]] = VIRIDIS) -> tuple[int, int, int]:
    """``value`` in 0..1 along the palette."""
    value = min(max(value, 0.0), 1.0) * (len(palette) - 1)
    i = min(int(value), len(palette) - 2)
    f = value - i
    return tuple(round(a + (b - a) * f) for a, b in zip(palette[i], palette[i + 1], strict=True))  # type: ignore[return-value]


def png(rows: Sequence[Sequence[tuple[int, int, int]]]) -> bytes:
    """An RGB PNG of ``rows`` (top row first)."""
    height, width = len(rows), len(rows[0]) if rows else 0
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def heatmap(
    title: str,
    values: Sequence[Sequence[float | None]],  # rows bottom to top (first row = lowest y)
    x_edges: Sequence[float],
    y_edges: Sequence[float],
    x_label: str,
    y_label: str,
    scale_label: str,
    *,
    diverging: bool = False,
    marks: Sequence[float] = (),
    width: int = 640,
    height: int = 420,
) -> str:
    """A heat map of ``values`` over the edges, with a colour bar; ``marks`` are vertical lines at x."""
    finite = sorted(v for row in values for v in row if v is not None and math.isfinite(v))
    if diverging:
        bound = finite[int(0.99 * (len(finite) - 1))] if finite else 1.0
        bound = max(abs(finite[0]) if finite else 0, abs(bound)) or 1.0
        low, high = -bound, bound
    else:
        low, high = 0.0, (finite[int(0.99 * (len(finite) - 1))] if finite else 0.0) or 1.0
    palette = DIVERGING if diverging else VIRIDIS
    rows = [
        [colour(((v if v is not None else low) - low) / (high - low), palette) for v in row]
        for row in reversed(values)
    ]
    frame = Frame(width, height, (x_edges[0], x_edges[-1]), (y_edges[0], y_edges[-1]), right=70)
    w, h = frame.inner
    image = base64.b64encode(png(rows)).decode() if rows and rows[0] else ""
    body = (
        f'<image x="{frame.left}" y="{frame.top}" width="{w:.1f}" height="{h:.1f}" '
        'preserveAspectRatio="none" '
        f'class="pixels" href="data:image/png;base64,{image}"/>'
    )
    body += "".join(line(frame.x(m), frame.x(m), frame.top, frame.top + h, "mark") for m in marks)
    bar = base64.b64encode(png([[colour(1 - i / 99, palette)] for i in range(100)])).decode()
    x0 = frame.width - frame.right + 12
    extra = (
        f'<image x="{x0}" y="{frame.top}" width="12" height="{h:.1f}" preserveAspectRatio="none" '
        f'href="data:image/png;base64,{bar}"/>'
        f'<text x="{x0 + 15}" y="{frame.top + 8}">{_number(round(high, 2))}</text>'
        f'<text x="{x0 + 15}" y="{frame.top + h:.1f}">{_number(round(low, 2))}</text>'
        f'<text transform="translate({x0 + 30} {frame.top + h / 2:.1f}) rotate(90)" text-anchor="middle">'
        f"{escape(scale_label)}</text>"
    )
    return figure(frame, title, x_label, y_label, body, extra)


# --- lines, points, bars ---------------------------------------------------------------------------------


def _range(
    values: Sequence[float | None], pad: float = 0.05, floor: float | None = None
) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    low, high = min(finite), max(finite)
    if floor is not None:
        low = min(low, floor)
    span = (high - low) or abs(high) or 1.0
    return (low - pad * span if floor is None else low, high + pad * span)


def profile(title: str, depths: Sequence[float], values: Sequence[float | None], x_label: str) -> str:
    """A quantity along the probe: depth up, the value across."""
    frame = Frame(260, 420, _range(values, floor=0.0), _range(depths, pad=0.0))
    points = [(frame.x(v), frame.y(d)) for d, v in zip(depths, values, strict=True) if v is not None]
    body = f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" class="line"/>'
    return figure(frame, title, x_label, "depth (µm)", body)


def scatter(
    title: str,
    xs: Sequence[float | None],
    ys: Sequence[float | None],
    x_label: str,
    y_label: str,
    *,
    shades: Sequence[float | None] | None = None,
    links: Sequence[str] | None = None,
    width: int = 360,
    height: int = 420,
    radius: float = 3.0,
) -> str:
    """Points; ``shades`` colour them (viridis over their range); ``links`` make each one a link."""
    frame = Frame(width, height, _range(xs), _range(ys))
    shade_range = _range(shades or [0.0], pad=0.0)
    dots = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if x is None or y is None:
            continue
        fill = "#3b518b"
        if shades is not None and shades[i] is not None:
            red, green, blue = colour((shades[i] - shade_range[0]) / ((shade_range[1] - shade_range[0]) or 1))
            fill = f"#{red:02x}{green:02x}{blue:02x}"
        dot = f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="{radius}" fill="{fill}"/>'
        dots.append(f'<a href="{escape(links[i])}">{dot}</a>' if links else dot)
    return figure(frame, title, x_label, y_label, "".join(dots))


def bars(title: str, centres: Sequence[float], counts: Sequence[float], x_label: str, y_label: str) -> str:
    step = (centres[1] - centres[0]) if len(centres) > 1 else 1.0
    frame = Frame(420, 240, (centres[0] - step / 2, centres[-1] + step / 2), _range(counts, floor=0.0))
    base = frame.y(0)
    body = "".join(
        f'<rect x="{frame.x(c - step / 2):.2f}" y="{frame.y(n):.2f}" '
        f'width="{max(frame.x(step) - frame.x(0), 0.5):.2f}" '
        f'height="{base - frame.y(n):.2f}" class="bar"/>'
        for c, n in zip(centres, counts, strict=True)
        if n
    )
    return figure(frame, title, x_label, y_label, body)


def waveforms(title: str, waveform: dict) -> str:
    """Each channel's template drawn at its position on the probe (x and depth), peak channel darker."""
    xs, ys, traces, ms = waveform["x"], waveform["y"], waveform["traces"], waveform["ms"]
    if not traces:
        return figure(Frame(360, 420, (0, 1), (0, 1)), title, "", "", "")
    peak = max(abs(v) for trace in traces for v in trace if v is not None) or 1.0
    x_step = min((abs(a - b) for a in xs for b in xs if a != b), default=32.0)
    y_step = min((abs(a - b) for a in ys for b in ys if a != b), default=20.0)
    frame = Frame(
        360, 420, (min(xs) - x_step, max(xs) + x_step), (min(ys) - 1.5 * y_step, max(ys) + 1.5 * y_step)
    )
    width_um, height_um = 0.9 * x_step, 1.4 * y_step
    lines = []
    for j, trace in enumerate(traces):
        points = " ".join(
            f"{frame.x(xs[j] - width_um / 2 + width_um * i / max(len(ms) - 1, 1)):.1f},"
            f"{frame.y(ys[j] + height_um * (v or 0) / peak / 2):.1f}"
            for i, v in enumerate(trace)
        )
        lines.append(f'<polyline points="{points}" class="{"line peak" if j == 0 else "line"}"/>')
    note = f'<text x="{frame.width - 12}" y="16" text-anchor="end">peak {peak:.0f} µV, {ms[-1]:.1f} ms</text>'
    return figure(frame, title, "x on the probe (µm)", "depth (µm)", "".join(lines), note)


def raster_and_psth(
    title: str, aligned: dict, order: Sequence[int], event: str, second: Sequence[float | None]
) -> str:
    """The raster (one row per trial, in ``order``; ``second`` marks another event per trial, relative)
    above the PSTHs of each split (mean +- SEM)."""
    times = aligned["times"]
    step = times[1] - times[0] if len(times) > 1 else 0.025
    x_range = (times[0] - step / 2, times[-1] + step / 2)
    rows = {trial: i for i, trial in enumerate(order)}
    n = max(len(order), 1)
    top = Frame(520, 300, x_range, (0, n), bottom=8, right=120)  # aligned with the PSTH below
    ticks_ = []
    for trial, t in zip(aligned["raster"]["trial"], aligned["raster"]["time"], strict=True):
        if trial in rows and t is not None:
            y = top.y(rows[trial] + 0.5)
            ticks_.append(f"M{top.x(t):.1f} {y - 1.2:.1f}v2.4")
    body = f'<path d="{" ".join(ticks_)}" class="spikes"/>'
    body += "".join(
        f'<circle cx="{top.x(s):.1f}" cy="{top.y(rows[trial] + 0.5):.1f}" r="1.6" class="second"/>'
        for trial, s in zip(order, (second[t] for t in order), strict=True)
        if s is not None and x_range[0] <= s <= x_range[1]
    )
    body += line(top.x(0), top.x(0), top.top, top.top + top.inner[1], "mark")
    raster = figure(top, title, "", "trials (sorted)", body)
    curves = aligned["psth"]
    highest = max(
        (m + (s or 0))
        for c in curves.values()
        for m, s in zip(c["mean"], c["sem"], strict=True)
        if m is not None
    )
    bottom = Frame(520, 240, x_range, (0, (highest or 1) * 1.05), right=120)
    drawn = []
    for split, curve in curves.items():
        colour_ = SPLIT_COLOURS.get(split, "#555")
        upper = [
            f"{bottom.x(t):.1f},{bottom.y((m or 0) + (s or 0)):.1f}"
            for t, m, s in zip(times, curve["mean"], curve["sem"], strict=True)
        ]
        lower = [
            f"{bottom.x(t):.1f},{bottom.y(max((m or 0) - (s or 0), 0)):.1f}"
            for t, m, s in zip(times, curve["mean"], curve["sem"], strict=True)
        ]
        drawn.append(f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{colour_}" opacity="0.15"/>')
        mean = " ".join(
            f"{bottom.x(t):.1f},{bottom.y(m or 0):.1f}" for t, m in zip(times, curve["mean"], strict=True)
        )
        drawn.append(f'<polyline points="{mean}" stroke="{colour_}" class="curve"/>')
    legend = "".join(
        f'<text x="{bottom.width - 112}" y="{bottom.top + 14 + 16 * k}" '
        f'fill="{SPLIT_COLOURS.get(s, "#555")}">'
        f"{escape(SPLIT_LABELS.get(s, s))} ({curves[s]['n_trials']})</text>"
        for k, s in enumerate(curves)
    )
    psth = figure(
        bottom,
        f"PSTH around {event}",
        f"time from {event} (s)",
        "firing rate (spikes/s)",
        "".join(drawn),
        legend,
    )
    return raster + psth
