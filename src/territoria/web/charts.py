"""Small charts drawn on the server as inline SVG (no script, no external library).

Each chart has a text title and description (`role="img"`, `<title>`, `<desc>`), values
written on the bars, and the page shows the same numbers as a table: nothing is told by
colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from territoria.french_numbers import number

_W, _H = 480, 240
_LEFT, _BOTTOM, _TOP = 56, 30, 12


def _nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (1 when there is nothing)."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * scale * (1 + 1e-9):
            return float(step * scale)
    return value


def _tick(value: float, top: float) -> str:
    """An axis value with as few decimals as it needs (2.5 stays 2,5; 10 stays 10)."""
    digits = max(0, 2 - math.floor(math.log10(top))) if top < 100 else 0
    return number(value, digits, trim=True)


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    *,
    digits: int = 0,
    unit: str = "",
) -> str:
    """Grouped bars: `series` is (name, values, css class); labels are day labels."""
    n = max(len(labels), 1)
    top = _nice_max(max((v for _, values, _ in series for v in values), default=0.0))
    plot_w, plot_h = _W - _LEFT - 8, _H - _BOTTOM - _TOP
    group_w = plot_w / n
    bar_w = max(2.0, group_w * 0.8 / max(len(series), 1))
    desc = "; ".join(
        f"{name} : total {number(sum(values), digits)}{unit}" for name, values, _ in series
    )
    parts = [
        f'<svg class="graphe" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}. Les valeurs détaillées sont dans le '
        "tableau qui suit.</desc>",
        f'<defs><pattern id="{chart_id}-h" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        '<rect width="3" height="6" fill="#b34000"/></pattern></defs>',
    ]
    for i in range(5):
        value = top * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grille" x1="{_LEFT}" x2="{_W - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axe" x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick(value, top)}</text>"
        )
    every = max(1, math.ceil(n / 6))
    for i, label in enumerate(labels):
        x0 = _LEFT + i * group_w + group_w * 0.1
        for s, (name, values, css) in enumerate(series):
            value = values[i] if i < len(values) else 0.0
            h = plot_h * value / top
            x = x0 + s * bar_w
            fill = f' fill="url(#{chart_id}-h)"' if css == "hachure" else ""
            parts.append(
                f'<rect class="{css}"{fill} x="{x:.1f}" y="{_TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(label)} — '
                f"{escape(name)} : {number(value, digits)}{escape(unit)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="axe" x="{x0 + group_w * 0.4:.1f}" y="{_H - _BOTTOM + 18}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def day_label(iso_day: str) -> str:
    """ "2025-03-12" -> "12/03"."""
    return f"{iso_day[8:10]}/{iso_day[5:7]}"
