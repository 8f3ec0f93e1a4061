"""Inline SVG charts drawn by hand: no JavaScript, no CDN, readable offline and on paper.

Each chart carries `role="img"`, a <title> and a <desc>; the HTML report puts a data table next
to each one (the accessible alternative). Colours follow the Okabe-Ito palette (distinguishable
with the common colour-vision deficiencies) and every mark also carries its value as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_LIGHT = {"#E69F00", "#56B4E9", "#F0E442", "#009E73", "#CC79A7"}
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _open(width: int, height: int, ident: str, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )


def bar_chart(ident: str, title: str, labels: Sequence[str], values: Sequence[int]) -> str:
    """Horizontal bars, largest first as given."""
    row, left, width = 24, 260, 720
    height = row * len(labels) + 20
    top = max(values, default=0) or 1
    desc = "; ".join(f"{lab} : {v}" for lab, v in zip(labels, values, strict=True))
    parts = [_open(width, height, ident, title, desc)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + i * row
        length = (width - left - 60) * value / top
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" {_FONT}>{escape(short)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" {_FONT}>{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(
    ident: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[int | None]],
) -> str:
    """Rows x columns of counts; withheld cells (None) are hatched and marked "<5"."""
    cell_w, cell_h, left, top = 56, 24, 260, 110
    width = left + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 10
    peak = max((v for row in cells for v in row if v), default=0) or 1
    desc = f"{len(rows)} thèmes x {len(columns)} territoires ; valeurs dans le tableau suivant."
    parts = [
        _open(width, height, ident, title, desc),
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern></defs>',
    ]
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        short = column if len(column) <= 18 else column[:17] + "…"
        parts.append(
            f'<text transform="translate({x:.0f},{top - 6}) rotate(-50)" {_FONT}>'
            f"{escape(short)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        short = row if len(row) <= 40 else row[:39] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" {_FONT}>{escape(short)}</text>'
        )
        for j, value in enumerate(cells[i]):
            x = left + j * cell_w
            if value is None:
                fill, label, ink = "url(#hatch)", "&lt;5", "#333"
            else:
                level = value / peak
                fill = f"rgba(0,114,178,{0.08 + 0.92 * level:.2f})"
                label, ink = str(value), "#fff" if level > 0.55 else "#000"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}"/>'
                f'<text x="{x + cell_w / 2 - 1:.0f}" y="{y + 16}" text-anchor="middle" '
                f'fill="{ink}" {_FONT}>{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def scatter(
    ident: str,
    title: str,
    points: Sequence[tuple[float, float, int]],
    group_names: Sequence[str],
) -> str:
    """Opinion map: one dot per participant, coloured (and shaped) by group."""
    size, pad = 420, 20
    if not points:
        return ""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = (size - 2 * pad) / span
    counts = [sum(1 for p in points if p[2] == g) for g in range(len(group_names))]
    desc = "; ".join(
        f"{name} : {n} participants" for name, n in zip(group_names, counts, strict=True)
    )
    parts = [_open(size + 170, size, ident, title, desc)]
    parts.append(f'<rect x="0" y="0" width="{size}" height="{size}" fill="#fafafa" stroke="#ccc"/>')
    for x, y, g in points:
        px = size / 2 + (x - cx) * scale
        py = size / 2 - (y - cy) * scale
        colour = PALETTE[g % len(PALETTE)] if g >= 0 else "#999"
        if g % 2:
            parts.append(
                f'<rect x="{px - 2.5:.1f}" y="{py - 2.5:.1f}" width="5" height="5" '
                f'fill="{colour}" fill-opacity="0.7"/>'
            )
        else:
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.8" fill="{colour}" fill-opacity="0.7"/>'
            )
    for g, name in enumerate(group_names):
        y = 20 + g * 20
        parts.append(
            f'<rect x="{size + 12}" y="{y - 9}" width="10" height="10" '
            f'fill="{PALETTE[g % len(PALETTE)]}"/>'
            f'<text x="{size + 28}" y="{y}" {_FONT}>{escape(name)} ({counts[g]})</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(ident: str, title: str, labels: Sequence[str], counts: Sequence[int]) -> str:
    """One 100 % bar split by answer, with a legend: the distribution of a closed question."""
    width, bar_h = 720, 26
    total = sum(counts) or 1
    desc = "; ".join(f"{lab} : {n}" for lab, n in zip(labels, counts, strict=True))
    rows = (len(labels) + 2) // 3
    height = bar_h + 14 + rows * 18
    parts = [_open(width, height, ident, title, desc)]
    x = 0.0
    for i, n in enumerate(counts):
        w = width * n / total
        if w > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{bar_h}" '
                f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            )
            if w > 34:
                ink = "#000" if PALETTE[i % len(PALETTE)] in _LIGHT else "#fff"
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="17" text-anchor="middle" fill="{ink}" '
                    f"{_FONT}>{100 * n / total:.0f} %</text>"
                )
        x += w
    for i, label in enumerate(labels):
        lx, ly = (i % 3) * 240, bar_h + 14 + (i // 3) * 18
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{lx + 14}" y="{ly}" {_FONT}>{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
