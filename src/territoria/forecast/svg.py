"""The forecast chart as inline SVG: history, forecast, 80 % and 95 % intervals, exceptional
periods. No script, readable offline and on paper.

The chart carries `role="img"`, a <title> and a <desc> that says the essentials in words; the
page puts the numbers in a table next to it. Nothing is told by colour alone: the forecast is
dashed, the intervals are labelled in the legend, exceptional periods are marked with a
diamond and listed in the description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from territoria.french_numbers import number

_W, _H = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 56
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_HISTORY, _FORECAST, _BAND80, _BAND95, _MARK = "#000091", "#b34000", "#f4b48a", "#fbe3d4", "#000"


def _step(span: float) -> float:
    if span <= 0:
        return 1.0
    raw = span / 5
    scale = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * scale:
            return float(factor * scale)
    return float(10 * scale)  # pragma: no cover - the loop ends at 10


def digits_for(values: Sequence[float]) -> int:
    """Decimals worth showing for values like these (0 for counts and large amounts)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    if not finite:
        return 0
    top = max(finite)
    if top >= 100 or all(float(v).is_integer() for v in finite):
        return 0
    return 1 if top >= 10 else 2


def chart(ident: str, series: dict[str, Any]) -> str:
    """The chart of one series of the report document (`report.series_entry`)."""
    history = series["history"]
    forecast = series["forecast"]
    exceptional = set(series.get("exceptional_periods", []))
    periods = [h["period"] for h in history] + [f["period"] for f in forecast]
    n = len(periods)
    if n == 0:
        return ""
    values = [h["value"] for h in history if h["value"] is not None]
    values += [v for f in forecast for v in (f["lo95"], f["hi95"], f["mean"])]
    low, high = float(min(values)), float(max(values))
    if low > 0 and low < 0.35 * high:
        low = 0.0
    step = _step(high - low or abs(high) or 1.0)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    if high == low:
        high = low + step
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + plot_w * (i / max(n - 1, 1))

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - (v - low) / (high - low))

    digits = digits_for(values)
    first, last = series["forecast_label_first"], series["forecast_label_last"]
    desc = (
        f"Historique de {periods[0]} à {history[-1]['period'] if history else periods[0]}, "
        f"prévision de {first} à {last}"
    )
    if forecast:
        desc += (
            f" : {number(forecast[0]['mean'], digits)} au début, "
            f"{number(forecast[-1]['mean'], digits)} à la fin (intervalle à 95 % de "
            f"{number(forecast[-1]['lo95'], digits)} à {number(forecast[-1]['hi95'], digits)})"
        )
    if exceptional:
        desc += f". Périodes exceptionnelles : {', '.join(sorted(exceptional))}"
    desc += ". Les valeurs sont dans le tableau qui suit."
    title = f"{series['series_id']} : historique et prévision"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graphe-prevision" role="img" '
        f'viewBox="0 0 {_W} {_H}" width="100%" style="max-width:{_W}px" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    tick = low
    while tick <= high + step / 1000:
        ty = y(tick)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" {_FONT}>'
            f"{escape(number(tick, 0 if step >= 1 else 2))}</text>"
        )
        tick += step
    every = max(1, math.ceil(n / 10))
    season = {"monthly": 12, "quarterly": 4}.get(series["frequency"], 1)
    if season > 1:
        every = season * max(1, math.ceil(n / season / 10))
    for i, period in enumerate(periods):
        starts_year = season == 1 or period.endswith(("-01", "-Q1"))
        if starts_year and (i % every == 0 or season > 1) and (season == 1 or every <= n):
            if season > 1 and (i // season) % max(1, every // season) and i != 0:
                continue
            parts.append(
                f'<text x="{x(i):.1f}" y="{_H - _BOTTOM + 18}" text-anchor="middle" {_FONT}>'
                f"{escape(period[:4])}</text>"
            )
    start = len(history)
    if forecast:
        joined = [start - 1] if history else []
        band = [(start + k, f) for k, f in enumerate(forecast)]
        anchor = history[-1]["value"] if history and history[-1]["value"] is not None else None
        for level, colour in (("95", _BAND95), ("80", _BAND80)):
            upper = [(x(i), y(f[f"hi{level}"])) for i, f in band]
            lower = [(x(i), y(f[f"lo{level}"])) for i, f in reversed(band)]
            if joined and anchor is not None:
                upper.insert(0, (x(joined[0]), y(anchor)))
                lower.append((x(joined[0]), y(anchor)))
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower)
            parts.append(f'<polygon points="{points}" fill="{colour}" stroke="none"/>')
        line = [(x(i), y(f["mean"])) for i, f in band]
        if joined and anchor is not None:
            line.insert(0, (x(joined[0]), y(anchor)))
        parts.append(
            f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in line)}" fill="none" '
            f'stroke="{_FORECAST}" stroke-width="2.5" stroke-dasharray="7 4"/>'
        )
        cut = x(start - 1) if history else x(0)
        parts.append(
            f'<line x1="{cut:.1f}" x2="{cut:.1f}" y1="{_TOP}" y2="{_H - _BOTTOM}" '
            'stroke="#666" stroke-dasharray="2 3"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, item in enumerate(history):
        if item["value"] is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(item['value']):.1f}")
    if segment:
        segments.append(segment)
    for segment_points in segments:
        parts.append(
            f'<polyline points="{" ".join(segment_points)}" fill="none" stroke="{_HISTORY}" '
            'stroke-width="2"/>'
        )
    for i, item in enumerate(history):
        if item["period"] in exceptional and item["value"] is not None:
            cx, cy = x(i), y(item["value"])
            parts.append(
                f'<path d="M{cx:.1f} {cy - 6:.1f}L{cx + 6:.1f} {cy:.1f}L{cx:.1f} {cy + 6:.1f}'
                f'L{cx - 6:.1f} {cy:.1f}Z" fill="#fff" stroke="{_MARK}" stroke-width="1.5"/>'
            )
    legend_y = _H - 14
    parts.append(
        f'<line x1="{_LEFT}" x2="{_LEFT + 26}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        f'stroke="{_HISTORY}" stroke-width="2"/>'
        f'<text x="{_LEFT + 32}" y="{legend_y}" {_FONT}>historique</text>'
        f'<line x1="{_LEFT + 120}" x2="{_LEFT + 146}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        f'stroke="{_FORECAST}" stroke-width="2.5" stroke-dasharray="7 4"/>'
        f'<text x="{_LEFT + 152}" y="{legend_y}" {_FONT}>prévision</text>'
        f'<rect x="{_LEFT + 236}" y="{legend_y - 10}" width="18" height="10" fill="{_BAND80}"/>'
        f'<text x="{_LEFT + 260}" y="{legend_y}" {_FONT}>intervalle 80 %</text>'
        f'<rect x="{_LEFT + 368}" y="{legend_y - 10}" width="18" height="10" fill="{_BAND95}" '
        'stroke="#e8b89a"/>'
        f'<text x="{_LEFT + 392}" y="{legend_y}" {_FONT}>intervalle 95 %</text>'
    )
    if exceptional:
        mx = _LEFT + 500
        parts.append(
            f'<path d="M{mx} {legend_y - 10}L{mx + 6} {legend_y - 4}L{mx} {legend_y + 2}'
            f'L{mx - 6} {legend_y - 4}Z" fill="#fff" stroke="{_MARK}" stroke-width="1.5"/>'
            f'<text x="{mx + 12}" y="{legend_y}" {_FONT}>période exceptionnelle</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
