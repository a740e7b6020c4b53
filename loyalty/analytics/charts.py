"""The report's charts as small inline SVG, drawn by our own code.

Bars, lines, a heatmap and horizontal bars are a few rectangles, a polyline and some text:
written directly they cost microseconds, where matplotlib cost over three seconds of the
report (a second of it only importing it) — and the browser shapes the text itself, with the
page's own fonts, so Persian labels join and run right to left as everywhere else in the
page. Every text is escaped; nothing refers to anything outside the document.

Each function returns one ``<svg>`` element (no ``xmlns``: HTML does not need it), with
``role="img"`` and the title as its accessible name. ``number`` turns a tick value written the
English way (``12,345``, ``2.5``) into the report's digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

Digits = Callable[[str], str]

BLUE = "#2563eb"
GREEN = "#059669"
_INK = "#111827"
_MUTED = "#4b5563"
_GRID = "#e5e7eb"
#: matplotlib's YlGnBu (ColorBrewer), light to dark.
_YLGNBU = (
    "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4",
    "#1d91c0", "#225ea8", "#253494", "#081d58",
)  # fmt: skip


def _same(shown: str) -> str:
    return shown


def _f(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


class _Canvas:
    """SVG elements, and text placed by its visual anchor in either direction."""

    def __init__(self, width: float, height: float, title: str, *, rtl: bool) -> None:
        self.width, self.height, self.rtl = width, height, rtl
        self.parts = [
            f'<svg class="chart" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
            f'aria-label="{escape(title)}" direction="ltr" font-family="inherit">',
            f"<title>{escape(title)}</title>",
        ]

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        anchor: str = "middle",  # left, middle or right: where (x, y) is on the text
        size: float = 11,
        color: str = _INK,
        rotate: float | None = None,
        bold: bool = False,
    ) -> None:
        direction = ""
        if self.rtl:  # start/end count from the right in right-to-left text
            direction = ' direction="rtl"'
            svg_anchor = {"left": "end", "middle": "middle", "right": "start"}[anchor]
        else:
            svg_anchor = {"left": "start", "middle": "middle", "right": "end"}[anchor]
        turn = f' transform="rotate({_f(rotate)} {_f(x)} {_f(y)})"' if rotate else ""
        weight = ' font-weight="600"' if bold else ""
        self.parts.append(
            f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{svg_anchor}"{direction} '
            f'dominant-baseline="middle" font-size="{_f(size)}" fill="{color}"{weight}{turn}>'
            f"{escape(text)}</text>"
        )

    def rect(
        self, x: float, y: float, w: float, h: float, color: str, opacity: float = 1.0
    ) -> None:
        alpha = "" if opacity >= 1 else f' fill-opacity="{_f(opacity)}"'
        self.parts.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0))}" height="{_f(max(h, 0))}" '
            f'fill="{color}"{alpha}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = _GRID) -> None:
        self.parts.append(
            f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{color}"/>'
        )

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2, 2.5 or 5 × 10ᵏ apart)."""
    if not top > 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """``12,345`` or ``2.5``: as many decimals as the ticks' spacing needs."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return f"{value:,.{decimals}f}"


# The trend charts: 600 × 300, the months along the bottom.
_W, _H = 600.0, 300.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 62.0, 12.0, 34.0, 66.0


def _axes(
    canvas: _Canvas, title: str, keys: Sequence[str], top: float, number: Digits
) -> tuple[Callable[[float], float], Callable[[float], float], float]:
    """Title, horizontal grid with the value ticks, the month ticks (every ``n // 8``-th,
    slanted); returns the x of a month's centre, the y of a value, and a month's width."""
    canvas.text(_W / 2, 16, title, size=14)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    ticks = nice_ticks(top)
    high = ticks[-1]
    slot = plot_w / max(len(keys), 1)

    def x_of(i: float) -> float:
        return _LEFT + (i + 0.5) * slot

    def y_of(value: float) -> float:
        return _TOP + plot_h * (1 - value / high)

    for tick in ticks:
        y = y_of(tick)
        canvas.line(_LEFT, y, _W - _RIGHT, y)
        canvas.text(_LEFT - 6, y, number(tick_label(tick, ticks)), anchor="right", size=10)
    canvas.line(_LEFT, _TOP + plot_h, _W - _RIGHT, _TOP + plot_h, _MUTED)
    step = max(1, len(keys) // 8)
    for i in range(0, len(keys), step):
        x, y = x_of(i), _TOP + plot_h + 8
        canvas.line(x, _TOP + plot_h, x, _TOP + plot_h + 4, _MUTED)
        canvas.text(x, y + 4, keys[i], anchor="right", size=10, rotate=-45, color=_MUTED)
    return x_of, y_of, slot


def bar_chart(
    title: str,
    keys: Sequence[str],
    values: Sequence[int],
    *,
    color: str = BLUE,
    overlay: Sequence[int] | None = None,
    number: Digits = _same,
    rtl: bool = False,
) -> str:
    """One bar per month (``overlay``: a second, green bar in front of it)."""
    canvas = _Canvas(_W, _H, title, rtl=rtl)
    top = max([*values, *(overlay or []), 0])
    x_of, y_of, slot = _axes(canvas, title, keys, top, number)
    width = slot * 0.8
    for series, fill, alpha in ((values, color, 0.8), (overlay or [], GREEN, 0.9)):
        for i, value in enumerate(series):
            canvas.rect(x_of(i) - width / 2, y_of(value), width, y_of(0) - y_of(value), fill, alpha)
    return canvas.svg()


def line_chart(
    title: str,
    keys: Sequence[str],
    values: Sequence[float | None],
    *,
    number: Digits = _same,
    rtl: bool = False,
) -> str:
    """A line through the months with a value (a gap-less line over the missing ones)."""
    canvas = _Canvas(_W, _H, title, rtl=rtl)
    shown = [(i, v) for i, v in enumerate(values) if v is not None]
    x_of, y_of, _ = _axes(canvas, title, keys, max([v for _, v in shown] or [0]), number)
    if shown:
        points = " ".join(f"{_f(x_of(i))},{_f(y_of(v))}" for i, v in shown)
        canvas.parts.append(
            f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
        canvas.parts.extend(
            f'<circle cx="{_f(x_of(i))}" cy="{_f(y_of(v))}" r="2.5" fill="{BLUE}"/>'
            for i, v in shown
        )
    return canvas.svg()


def _shade(fraction: float) -> str:
    """YlGnBu at ``fraction`` (0–1), interpolated between its nine colours."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(_YLGNBU) - 1)
    low = min(int(fraction), len(_YLGNBU) - 2)
    part = fraction - low
    a, b = _YLGNBU[low], _YLGNBU[low + 1]
    mixed = (
        round(int(a[k : k + 2], 16) * (1 - part) + int(b[k : k + 2], 16) * part) for k in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02x}" for c in mixed)


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    *,
    x_label: str,
    alt: str = "",
    number: Digits = _same,
    rtl: bool = False,
) -> str:
    """Cells coloured from 0 to the highest value after the first column (the first is
    always 100 %), each with its value; row labels on the left, a colour bar on the right."""
    later = [v for row in cells for v in row[1:] if v is not None]
    firsts = [row[0] for row in cells if row and row[0] is not None]
    top = max(1.0, max(later) if later else max(firsts, default=100.0))
    label_w, cell_h, bar_w = 170.0, 24.0, 52.0
    width = 700.0
    grid_w = width - label_w - bar_w - 16
    cell_w = grid_w / max(len(columns), 1)
    top_y = 34.0
    height = top_y + cell_h * len(rows) + 48
    canvas = _Canvas(width, height, alt or title, rtl=rtl)
    canvas.text(label_w + grid_w / 2, 16, title, size=13)
    for r, (label, row) in enumerate(zip(rows, cells, strict=True)):
        y = top_y + r * cell_h
        canvas.text(label_w - 6, y + cell_h / 2, label, anchor="right", size=10)
        for c, value in enumerate(row):
            if value is None:
                continue
            x = label_w + c * cell_w
            canvas.rect(x, y, cell_w, cell_h, _shade(value / top))
            light = value > 0.6 * top
            canvas.text(
                x + cell_w / 2,
                y + cell_h / 2,
                number(f"{value:.0f}"),
                size=9,
                color="#ffffff" if light else "#000000",
            )
    bottom = top_y + cell_h * len(rows)
    for c, column in enumerate(columns):
        canvas.text(label_w + (c + 0.5) * cell_w, bottom + 10, column, size=10, color=_MUTED)
    canvas.text(label_w + grid_w / 2, bottom + 32, x_label, size=11)
    # The colour bar: 0 at the bottom, the top of the scale at the top.
    bar_x, steps = width - bar_w + 4, 32
    span = bottom - top_y
    for k in range(steps):
        canvas.rect(bar_x, bottom - span * (k + 1) / steps, 12, span / steps + 0.5,
                    _shade((k + 0.5) / steps))  # fmt: skip
    ticks = [t for t in nice_ticks(top, 4) if t <= top + 1e-9]
    for tick in ticks:
        y = bottom - span * tick / top
        canvas.line(bar_x + 12, y, bar_x + 15, y, _MUTED)
        canvas.text(bar_x + 17, y, number(tick_label(tick, ticks)), anchor="left", size=9)
    return canvas.svg()


def hbar_chart(
    title: str,
    names: Sequence[str],
    values: Sequence[int],
    notes: Sequence[str],
    *,
    alt: str = "",
    number: Digits = _same,
    rtl: bool = False,
) -> str:
    """One horizontal bar per name, top to bottom, each followed by its note."""
    label_w, bar_h, width = 150.0, 26.0, 650.0
    top_y = 34.0
    height = top_y + bar_h * len(names) + 30
    plot_w = (width - label_w - 12) / 1.3  # room for the notes after the longest bar
    canvas = _Canvas(width, height, alt or title, rtl=rtl)
    canvas.text(width / 2, 16, title, size=13)
    ticks = nice_ticks(max([*values, 0]), 4)
    high = ticks[-1]
    bottom = top_y + bar_h * len(names)
    for tick in ticks:
        x = label_w + plot_w * tick / high
        canvas.line(x, top_y, x, bottom)
        canvas.text(x, bottom + 12, number(tick_label(tick, ticks)), size=10, color=_MUTED)
    for i, (name, value, note) in enumerate(zip(names, values, notes, strict=True)):
        y = top_y + i * bar_h
        w = plot_w * value / high
        canvas.text(label_w - 6, y + bar_h / 2, name, anchor="right", size=10)
        canvas.rect(label_w, y + bar_h * 0.1, w, bar_h * 0.8, BLUE, 0.85)
        if note:
            canvas.text(label_w + w + 4, y + bar_h / 2, note, anchor="left", size=9)
    return canvas.svg()


__all__ = ["BLUE", "GREEN", "bar_chart", "hbar_chart", "heatmap", "line_chart", "nice_ticks"]
