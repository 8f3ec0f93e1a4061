"""Closed questions of questionnaires: answer distributions, overall and per territory.

Territories with fewer than `min_group_size` respondents in the whole questionnaire are merged
into one "other territories" value; a territory's row of a question is shown only when at least
`min_group_size` people answered it there (otherwise its counts are withheld, `null`).
The mean score places the ordered answers on 0..100 (lowest answer 0, highest 100); "no opinion"
answers are counted but left out of the mean.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from territoria.participation.model import Questionnaire
from territoria.participation.privacy import SMALL_TERRITORY


def summarize(questionnaire: Questionnaire, *, min_group_size: int) -> dict[str, Any]:
    respondents_by_territory: dict[str, set[str]] = defaultdict(set)
    for a in questionnaire.answers:
        respondents_by_territory[a.territory].add(a.respondent)
    small = {
        t for t, people in respondents_by_territory.items() if t and len(people) < min_group_size
    }
    other = SMALL_TERRITORY.format(n=min_group_size)
    questions = []
    for question in questionnaire.questions:
        scale = list(questionnaire.scales[question])
        ordered = list(questionnaire.ordered[question])
        answers = [a for a in questionnaire.answers if a.question == question]
        overall = Counter(a.value for a in answers)
        by_territory: dict[str, Counter[str]] = defaultdict(Counter)
        for a in answers:
            territory = other if a.territory in small else a.territory
            if territory:
                by_territory[territory][a.value] += 1
        rows: list[dict[str, Any]] = []
        for territory in sorted(by_territory, key=lambda t: (t == other, t)):
            counts = by_territory[territory]
            n = sum(counts.values())
            if n < min_group_size:
                rows.append({"territory": territory, "n": None, "suppressed": True})
                continue
            rows.append(
                {
                    "territory": territory,
                    "n": n,
                    "counts": {v: counts.get(v, 0) for v in scale},
                    "mean_score": _mean_score(counts, ordered),
                }
            )
        n = sum(overall.values())
        questions.append(
            {
                "question": question,
                "scale": scale,
                "ordered": ordered,
                "n": n,
                "counts": {v: overall.get(v, 0) for v in scale},
                "shares": {v: round(overall.get(v, 0) / n, 4) if n else 0.0 for v in scale},
                "mean_score": _mean_score(overall, ordered),
                "by_territory": rows,
            }
        )
    return {
        "source": questionnaire.source,
        "respondents": questionnaire.respondents,
        "questions": questions,
    }


def _mean_score(counts: Counter[str], ordered: list[str]) -> float | None:
    if len(ordered) < 2:
        return None
    total = sum(counts.get(v, 0) for v in ordered)
    if not total:
        return None
    points = sum(counts.get(v, 0) * i for i, v in enumerate(ordered)) / (len(ordered) - 1)
    return round(100 * points / total, 1)
