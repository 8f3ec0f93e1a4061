"""Answer scales of questionnaires (Likert and the like): recognise a column, order its values.

A column is a closed question when (nearly) all its values belong to one known French scale, or
are small integers (notes from 0-1 to 4-10). "Sans avis"-style answers are accepted on every
scale and listed last; they are not part of the ordered scale.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

_NO_OPINION = ("Sans avis", "Ne sait pas", "Ne se prononce pas", "NSP", "Je ne sais pas")

_SCALES: tuple[tuple[str, ...], ...] = (
    (
        "Pas du tout d'accord",
        "Plutôt pas d'accord",
        "Ni d'accord ni pas d'accord",
        "Plutôt d'accord",
        "Tout à fait d'accord",
    ),
    ("Pas d'accord", "Plutôt pas d'accord", "Plutôt d'accord", "D'accord"),
    ("Pas du tout d'accord", "Pas d'accord", "D'accord", "Tout à fait d'accord"),
    ("Pas du tout satisfait", "Plutôt pas satisfait", "Plutôt satisfait", "Très satisfait"),
    ("Très insatisfait", "Insatisfait", "Satisfait", "Très satisfait"),
    ("Très insatisfait", "Plutôt insatisfait", "Plutôt satisfait", "Très satisfait"),
    (
        "Très insatisfait",
        "Plutôt insatisfait",
        "Ni satisfait ni insatisfait",
        "Plutôt satisfait",
        "Très satisfait",
    ),
    ("Pas du tout important", "Peu important", "Assez important", "Très important"),
    ("Pas important", "Peu important", "Important", "Très important", "Prioritaire"),
    ("Jamais", "Rarement", "Parfois", "Souvent", "Très souvent"),
    ("Jamais", "Rarement", "Parfois", "Souvent", "Toujours"),
    ("Très mauvais", "Mauvais", "Moyen", "Bon", "Très bon"),
    ("Très mauvaise", "Mauvaise", "Moyenne", "Bonne", "Très bonne"),
    ("Non", "Oui"),
)
_MIN_SHARE = 0.9  # share of the non-empty values that must belong to the scale


def fold(text: str) -> str:
    """Case, accents, apostrophes and spaces folded: "Plutôt d’accord " -> "plutot d'accord"."""
    text = text.replace("’", "'").replace("`", "'").strip().lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_NO_OPINION_FOLDED = {fold(v): v for v in _NO_OPINION}


@dataclass(frozen=True)
class Scale:
    """Ordered values (`ordered`) plus the "no opinion" answers found in the column (`other`)."""

    ordered: tuple[str, ...]
    numeric: bool = False
    other: tuple[str, ...] = _NO_OPINION

    @property
    def values(self) -> tuple[str, ...]:
        return self.ordered + self.other

    def canonical(self, value: str) -> str | None:
        """The scale's spelling of `value`, or None when it is not on the scale."""
        key = fold(value)
        if self.numeric and (number := _as_int(key)) is not None:
            return str(number) if str(number) in self.ordered else None
        for candidate in self.ordered:
            if fold(candidate) == key:
                return candidate
        spelling = _NO_OPINION_FOLDED.get(key)
        return spelling if spelling in self.other else None

    def score(self, value: str) -> float | None:
        """Position on the ordered scale from 0 (lowest) to 1 (highest); None off-scale."""
        if value not in self.ordered or len(self.ordered) < 2:
            return None
        return self.ordered.index(value) / (len(self.ordered) - 1)


def _as_int(text: str) -> int | None:
    text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def detect_scale(values: list[str]) -> Scale | None:
    """The scale of a column's values, or None when the column is not a closed question."""
    present = [fold(v) for v in values if v.strip()]
    if len(present) < 2:
        return None
    counts = Counter(present)
    if len(counts) < 2:
        return None
    on_scale_other = sum(n for v, n in counts.items() if v in _NO_OPINION_FOLDED)
    best: tuple[int, int, tuple[str, ...]] | None = None
    for ordered in _SCALES:
        folded = {fold(v) for v in ordered}
        hits = sum(n for v, n in counts.items() if v in folded)
        if hits == 0:
            continue
        key = (hits, -len(ordered), ordered)
        if best is None or key[:2] > best[:2]:
            best = key
    others = tuple(_NO_OPINION_FOLDED[v] for v in counts if v in _NO_OPINION_FOLDED)
    if best is not None and (best[0] + on_scale_other) / len(present) >= _MIN_SHARE:
        return Scale(best[2], other=others)
    return _numeric_scale(counts, len(present), on_scale_other, others)


def _numeric_scale(
    counts: Counter[str], total: int, other: int, others: tuple[str, ...]
) -> Scale | None:
    numbers = {v: _as_int(v) for v in counts}
    valid = {v: n for v, n in numbers.items() if n is not None}
    hits = sum(counts[v] for v in valid)
    if not valid or (hits + other) / total < _MIN_SHARE:
        return None
    values = set(valid.values())
    low, high = min(values), max(values)
    if low < 0 or low > 1 or high > 10 or high - low < 2 or len(values) < 3:
        return None
    high = next(top for top in (4, 5, 7, 10) if top >= high)
    return Scale(tuple(str(i) for i in range(low, high + 1)), numeric=True, other=others)
