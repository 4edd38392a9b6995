"""Bar charts drawn by the server: the geometry of an inline SVG with axes, ticks and labels.

Pure arithmetic, no library and no template: a page's template draws what ``bar_chart``
returns (``partials/chart.html``) and puts a table of the same numbers beside it. Everything
is an attribute, because the pages' CSP forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Chart", "Rect", "Tick", "bar_chart", "label_step", "nice_scale"]

# Room around the plot for the tick labels and the axis titles, in SVG units.
_LEFT, _RIGHT_LINE, _RIGHT, _TOP, _BOTTOM = 36.0, 36.0, 10.0, 18.0, 22.0


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # y on a value axis, x on the category axis
    label: str


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Rect]
    line: str  # polyline points on the right-hand axis; empty without a line
    y_ticks: list[Tick]
    y2_ticks: list[Tick]
    x_ticks: list[Tick]
    y_title: str
    y2_title: str


def nice_scale(value: float, ticks: int = 4) -> tuple[float, float]:
    """The top of an axis and its step: 1, 2 or 5 times a power of ten, ``ticks`` steps at most."""
    value = max(value, 1.0)
    magnitude = 1.0
    while True:
        for unit in (1.0, 2.0, 5.0):
            step = unit * magnitude
            if value / step <= ticks:
                top = step * -(-value // step)
                return top, step
        magnitude *= 10


def label_step(count: int, most: int = 8) -> int:
    """Label every n-th category so that at most ``most`` labels share the axis."""
    for step in (1, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60, 120, 240, 360, 720):
        if count <= step * most:
            return step
    return -(-count // most)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bar_chart(
    categories: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[int]]],
    *,
    titles: Sequence[str] = (),
    line: Sequence[float | None] | None = None,
    y_title: str = "",
    y2_title: str = "",
    width: int = 560,
    height: int = 200,
) -> Chart:
    """Stacked bars per category (``stacks`` as (series, values)), an optional line on a second
    axis; ``titles`` are each bar's tooltip (the category's label when not given)."""
    count = len(categories)
    left = _LEFT
    right = width - (_RIGHT_LINE if line is not None else _RIGHT)
    top, bottom = _TOP, height - _BOTTOM
    plot = bottom - top
    totals = [sum(values[i] for _series, values in stacks) for i in range(count)]
    y_top, y_step = nice_scale(max(totals, default=0))
    slot = (right - left) / max(count, 1)
    bar = max(slot * 0.7, 1.0)
    bars: list[Rect] = []
    for i in range(count):
        base = bottom
        for series, values in stacks:
            if values[i] <= 0:
                continue
            size = plot * values[i] / y_top
            base -= size
            title = titles[i] if i < len(titles) else categories[i]
            bars.append(
                Rect(
                    round(left + i * slot + (slot - bar) / 2, 2),
                    round(base, 2),
                    round(bar, 2),
                    round(size, 2),
                    series,
                    title,
                )
            )
    y_ticks = [
        Tick(round(bottom - plot * k * y_step / y_top, 2), _number(k * y_step))
        for k in range(int(y_top // y_step) + 1)
    ]
    points = []
    y2_ticks: list[Tick] = []
    if line is not None:
        y2_top, y2_step = nice_scale(max((v for v in line if v is not None), default=0.0))
        y2_ticks = [
            Tick(round(bottom - plot * k * y2_step / y2_top, 2), _number(k * y2_step))
            for k in range(int(y2_top // y2_step) + 1)
        ]
        for i, value in enumerate(line):
            if value is not None:
                x = left + i * slot + slot / 2
                points.append(f"{round(x, 2)},{round(bottom - plot * value / y2_top, 2)}")
    every = label_step(count)
    x_ticks = [
        Tick(round(left + i * slot + slot / 2, 2), categories[i])
        for i in range(count)
        if (count - 1 - i) % every == 0
    ]
    return Chart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        bars,
        " ".join(points),
        y_ticks,
        y2_ticks,
        x_ticks,
        y_title,
        y2_title,
    )
