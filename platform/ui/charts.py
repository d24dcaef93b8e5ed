"""Charts of the reports dashboard, drawn on the server as SVG shapes (no script).

`draw_chart` turns a report's rows, already in words, into plain shapes a template
writes out as inline SVG: horizontal bars (`bar`), columns stacked by the second group
(`stacked_bar`), one line per series (`line`). Colours are SVG presentation attributes
(never inline styles or scripts, so a strict CSP holds). Every chart is also shown as
a table of its values, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Chart", "draw_chart"]

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#6b7280")
WIDTH = 640
LABEL_WIDTH = 180
BAR_HEIGHT = 22
PLOT_HEIGHT = 220
MAX_SERIES = len(PALETTE)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True, slots=True)
class Line:
    points: str
    stroke: str
    title: str


@dataclass
class Chart:
    """Shapes in a `width` x `height` view box, and the legend's (colour, name)."""

    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _short(value: float) -> str:
    return f"{value:g}"


def draw_chart(kind: str, rows: Sequence[Sequence[object]]) -> Chart | None:
    """The chart of `rows` (group values in words, then the measure); None for a
    table, for no rows, or for a chart the rows cannot make (no group to draw by)."""
    if kind == "table" or not rows or len(rows[0]) < 2:
        return None
    if kind == "line" and len(rows[0]) == 2:  # one series
        return _lines([(r[0], "", r[1]) for r in rows])
    if kind == "bar" or len(rows[0]) == 2:
        return _bars(rows)
    return _stacked(rows) if kind == "stacked_bar" else _lines(rows)


def _bars(rows: Sequence[Sequence[object]]) -> Chart:
    top = max((_number(r[-1]) for r in rows), default=0.0) or 1.0
    chart = Chart(WIDTH, len(rows) * (BAR_HEIGHT + 6) + 6)
    span = WIDTH - LABEL_WIDTH - 60
    for index, row in enumerate(rows):
        name = " · ".join(str(v) for v in row[:-1])
        value = _number(row[-1])
        y = 6 + index * (BAR_HEIGHT + 6)
        width = max(span * value / top, 1.0 if value else 0.0)
        chart.texts.append(Text(LABEL_WIDTH - 8, y + BAR_HEIGHT * 0.7, name[:28], "end"))
        chart.rects.append(
            Rect(LABEL_WIDTH, y, width, BAR_HEIGHT, PALETTE[0], f"{name}: {_short(value)}")
        )
        chart.texts.append(Text(LABEL_WIDTH + width + 6, y + BAR_HEIGHT * 0.7, _short(value)))
    return chart


def _series(
    rows: Sequence[Sequence[object]],
) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    xs = list(dict.fromkeys(str(r[0]) for r in rows))
    names = list(dict.fromkeys(str(r[1]) for r in rows))[:MAX_SERIES]
    values = {(str(r[0]), str(r[1])): _number(r[-1]) for r in rows}
    return xs, names, values


def _axis(chart: Chart, xs: list[str], step: float, left: float) -> None:
    every = max(1, len(xs) // 8)  # at most about eight labels under the axis
    for index, x in enumerate(xs):
        if index % every == 0:
            chart.texts.append(Text(left + step * (index + 0.5), PLOT_HEIGHT + 16, x, "middle"))


def _stacked(rows: Sequence[Sequence[object]]) -> Chart:
    xs, names, values = _series(rows)
    totals = [sum(values.get((x, n), 0.0) for n in names) for x in xs]
    top = max(totals, default=0.0) or 1.0
    left = 40.0
    step = (WIDTH - left - 10) / len(xs)
    chart = Chart(WIDTH, PLOT_HEIGHT + 24)
    chart.texts.append(Text(left - 6, 12, _short(top), "end"))
    for index, x in enumerate(xs):
        base = float(PLOT_HEIGHT)
        for colour, name in zip(PALETTE, names, strict=False):
            value = values.get((x, name), 0.0)
            height = PLOT_HEIGHT * value / top
            if height:
                base -= height
                chart.rects.append(
                    Rect(
                        left + step * index + step * 0.15,
                        base,
                        step * 0.7,
                        height,
                        colour,
                        f"{x} · {name}: {_short(value)}",
                    )
                )
    _axis(chart, xs, step, left)
    chart.legend = [(c, n) for c, n in zip(PALETTE, names, strict=False) if n]
    return chart


def _lines(rows: Sequence[Sequence[object]]) -> Chart:
    xs, names, values = _series(rows)
    top = max(values.values(), default=0.0) or 1.0
    left = 40.0
    step = (WIDTH - left - 10) / len(xs)
    chart = Chart(WIDTH, PLOT_HEIGHT + 24)
    chart.texts.append(Text(left - 6, 12, _short(top), "end"))
    for colour, name in zip(PALETTE, names, strict=False):
        points = " ".join(
            f"{left + step * (i + 0.5):.1f},{PLOT_HEIGHT - PLOT_HEIGHT * values.get((x, name), 0.0) / top:.1f}"
            for i, x in enumerate(xs)
        )
        chart.lines.append(Line(points, colour, name))
    _axis(chart, xs, step, left)
    chart.legend = [(c, n) for c, n in zip(PALETTE, names, strict=False) if n]
    return chart
