"""The report as data: every figure of the synthesis, and what it was computed from.

`build` returns the JSON document written to `report.json`; `html.render` draws the same
document. Contract read by checks outside the project (extra keys are allowed):
`{"contributions": N, "themes": [{"id", "label", "keywords", "contribution_ids", "quotes":
[{"contribution_id", "start", "end", "text"}]}], "participant_groups": {participant: group},
"consensus": [statement...], "divisive": [statement...]}`.

Every text in the document is the pseudonymised text; quote offsets refer to the text stored in
`contribution_texts`. Each sentence of `synthesis` names the contributions (or statements) it
rests on, and each number can be recomputed from the lists it sits beside.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from territoria.participation.dedupe import Duplicates
from territoria.participation.method import plural
from territoria.participation.model import Contribution, ImportIssue
from territoria.participation.opinion import OpinionGroups
from territoria.participation.privacy import people
from territoria.participation.quotes import Quote
from territoria.participation.titles import Title

OTHER_ID = "autres"
OTHER_LABEL = "Autres / non classées"
FORMAT = "territoria.participation/1"


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    keywords: list[str]
    members: list[int]  # indices into the contributions
    quotes: list[Quote]
    other: bool = False
    title: Title | None = None


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "0 %"


def build(
    *,
    contributions: Sequence[Contribution],
    themes: Sequence[Theme],
    duplicates: Duplicates,
    opinions: Sequence[OpinionGroups],
    questionnaires: Sequence[dict[str, Any]],
    issues: Sequence[ImportIssue],
    files: Sequence[dict[str, object]],
    method: dict[str, Any],
    privacy: dict[str, Any],
    min_group_size: int,
    participant_id: Any,
    languages: dict[str, Any] | None = None,
) -> dict[str, Any]:
    n = len(contributions)
    known = authors_known(contributions)
    ids = [c.id for c in contributions]
    theme_of = {i: t.id for t in themes for i in t.members}
    texts = {c.id: c.text for c in contributions}
    theme_docs = [_theme_doc(t, contributions, n, min_group_size, known) for t in themes]
    groups, consensus, divisive, opinion_docs = _opinions(opinions, texts, participant_id)
    document: dict[str, Any] = {
        "format": FORMAT,
        "contributions": n,
        "people": people(contributions) if known else None,
        "authors_known": known,
        "languages": languages or {},
        "workshops": [
            {"group": f.get("group"), "participants": f.get("participants"), "path": f["path"]}
            for f in files
            if f.get("format") == "workshop"
        ],
        "themes": theme_docs,
        "participant_groups": groups,
        "consensus": consensus,
        "divisive": divisive,
        "synthesis": [],
        "method": method,
        "privacy": privacy,
        "import": {
            "files": list(files),
            "issues": [{"source": i.source, "line": i.line, "reason": i.reason} for i in issues],
        },
        "duplicates": [
            {"contribution_ids": [ids[i] for i in group], "size": len(group)}
            for group in duplicates.groups
        ],
        "territory_matrix": _territory_matrix(contributions, themes, min_group_size),
        "opinion": opinion_docs,
        "questionnaires": list(questionnaires),
        "contribution_texts": [
            {
                "id": c.id,
                "text": c.text,
                "kind": c.kind,
                "author": c.author,
                "territory": c.territory,
                "group": c.group,
                "question": c.question,
                "date": c.date,
                "votes": c.votes,
                "theme": theme_of.get(i, OTHER_ID),
                "duplicate_of": ids[duplicates.canonical[i]]
                if duplicates.canonical[i] != i
                else None,
            }
            for i, c in enumerate(contributions)
        ],
    }
    document["synthesis"] = synthesis(document)
    return document


def authors_known(contributions: Sequence[Contribution]) -> bool:
    """People can be counted only when every contribution names its author."""
    return bool(contributions) and all(c.author for c in contributions)


def _theme_doc(
    theme: Theme,
    contributions: Sequence[Contribution],
    n: int,
    min_group_size: int,
    known: bool,
) -> dict[str, Any]:
    members = [contributions[i] for i in theme.members]
    by_territory: dict[str, list[Contribution]] = defaultdict(list)
    for c in members:
        if c.territory:
            by_territory[c.territory].append(c)
    territories = []
    for name, items in sorted(by_territory.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        small = people(items) < min_group_size
        territories.append(
            {"territory": name, "count": None if small else len(items), "suppressed": small}
        )
    questions = Counter(c.question for c in members if c.question)
    workshop_groups = sorted({c.group for c in members if c.kind.endswith("d'atelier")})
    return {
        "id": theme.id,
        "label": theme.label,
        "title": None
        if theme.title is None
        else {k: v for k, v in asdict(theme.title).items() if k != "stems"},
        "keywords": theme.keywords,
        "other": theme.other,
        "size": len(members),
        "share": round(len(members) / n, 4) if n else 0.0,
        "people": people(members) if known else None,
        "contribution_ids": [c.id for c in members],
        "territories": territories,
        "workshop_groups": workshop_groups,
        "questions": [{"question": q, "count": k} for q, k in questions.most_common(5)],
        "quotes": [q.as_dict() for q in theme.quotes],
    }


def _territory_matrix(
    contributions: Sequence[Contribution], themes: Sequence[Theme], min_group_size: int
) -> dict[str, Any]:
    territories = sorted({c.territory for c in contributions if c.territory})
    cells = []
    for theme in themes:
        by_territory: dict[str, list[Contribution]] = defaultdict(list)
        for i in theme.members:
            by_territory[contributions[i].territory].append(contributions[i])
        row: list[int | None] = []
        for territory in territories:
            items = by_territory.get(territory, [])
            row.append(len(items) if people(items) >= min_group_size or not items else None)
        cells.append(row)
    return {
        "themes": [t.id for t in themes],
        "territories": territories,
        "cells": cells,
        "note": f"null : moins de {min_group_size} personnes, non détaillé",
    }


def _opinions(
    opinions: Sequence[OpinionGroups], texts: dict[str, str], participant_id: Any
) -> tuple[dict[str, int], list[str], list[str], list[dict[str, Any]]]:
    groups: dict[str, int] = {}
    consensus: list[str] = []
    divisive: list[str] = []
    docs = []
    prefix = len(opinions) > 1
    for op in opinions:
        for pid, g in op.groups.items():
            key = participant_id(pid)
            groups[f"{op.name}:{key}" if prefix else key] = g
        consensus.extend(s for s, _, _ in op.consensus if s not in consensus)
        divisive.extend(s for s, _ in op.divisive if s not in divisive)
        stats = {s.statement: s for s in op.stats}
        docs.append(
            {
                "name": op.name,
                "participants": op.participants,
                "clustered": len(op.clustered),
                "k": op.k,
                "silhouette": op.silhouette,
                "silhouette_by_k": {str(k): v for k, v in op.scores.items()},
                "explained_variance": list(op.explained_variance),
                "note": op.note,
                "clear_groups": op.k > 1,
                "stability": None if op.stability is None else asdict(op.stability),
                "groups": [
                    {
                        "id": g,
                        "size": op.sizes.get(g, 0),
                        "representative": [
                            {"statement": s, "side": side, "z": z, "text": texts.get(s, "")}
                            for s, side, z in op.representative.get(g, [])
                        ],
                    }
                    for g in range(op.k)
                ],
                "consensus": [
                    {
                        "statement": s,
                        "side": side,
                        "min_rate": rate,
                        "text": texts.get(s, ""),
                        "agree": list(stats[s].agree),
                        "disagree": list(stats[s].disagree),
                        "seen": list(stats[s].seen),
                    }
                    for s, side, rate in op.consensus
                ],
                "divisive": [
                    {
                        "statement": s,
                        "gap": gap,
                        "text": texts.get(s, ""),
                        "agree": list(stats[s].agree),
                        "disagree": list(stats[s].disagree),
                        "seen": list(stats[s].seen),
                    }
                    for s, gap in op.divisive
                ],
                "projection": {
                    (f"{op.name}:{participant_id(p)}" if prefix else participant_id(p)): list(xy)
                    for p, xy in op.projection.items()
                },
            }
        )
    return groups, consensus, divisive, docs


def synthesis(document: dict[str, Any]) -> list[dict[str, Any]]:
    """French sentences, each with the ids of the contributions or statements behind it."""
    n = document["contributions"]
    out: list[dict[str, Any]] = []
    themes = [t for t in document["themes"] if not t["other"]]
    if themes:
        first = themes[0]
        head = (
            f"Les {plural(n, 'contribution')} se répartissent en {plural(len(themes), 'thème')}"
            if len(themes) > 1
            else f"Les {plural(n, 'contribution')} forment un seul thème"
        )
        out.append(
            {
                "text": f"{head} ; le plus fréquent, « {first['label']} », en réunit "
                f"{first['size']} ({percent(first['size'], n)}).",
                "contribution_ids": first["contribution_ids"],
                "theme": first["id"],
            }
        )
    for t in themes:
        where = [
            x
            for x in t["territories"]
            if not x["suppressed"] and not x["territory"].startswith("Autres territoires")
        ]
        place = f", surtout à {where[0]['territory']} ({where[0]['count']})" if where else ""
        who = f" de {plural(t['people'], 'personne')}" if t["people"] is not None else ""
        out.append(
            {
                "text": f"Thème « {t['label']} » : {plural(t['size'], 'contribution')} "
                f"({percent(t['size'], n)}){who}{place}.",
                "contribution_ids": t["contribution_ids"],
                "theme": t["id"],
            }
        )
    other = next((t for t in document["themes"] if t["other"]), None)
    if other and other["size"]:
        verb = "relèvent" if other["size"] > 1 else "relève"
        adjective = "classées" if other["size"] > 1 else "classée"
        out.append(
            {
                "text": f"{plural(other['size'], 'contribution')} "
                f"({percent(other['size'], n)}) ne {verb} d'aucun thème assez fréquent ou "
                f"{'sont' if other['size'] > 1 else 'est'} trop "
                f"{'courtes' if other['size'] > 1 else 'courte'} : "
                f"{'elles restent' if other['size'] > 1 else 'elle reste'} « non {adjective} » "
                "et sont listées à part."
                if other["size"] > 1
                else f"1 contribution ({percent(1, n)}) ne relève d'aucun thème assez fréquent "
                "ou est trop courte : elle reste « non classée » et figure à part.",
                "contribution_ids": other["contribution_ids"],
                "theme": other["id"],
            }
        )
    if document["duplicates"]:
        largest = document["duplicates"][0]
        total = sum(d["size"] for d in document["duplicates"])
        count = len(document["duplicates"])
        out.append(
            {
                "text": (
                    f"{count} groupes de contributions identiques ou quasi identiques "
                    f"réunissent {total} textes ; le plus grand en compte {largest['size']}."
                    if count > 1
                    else f"Un groupe de {total} contributions identiques ou quasi identiques."
                ),
                "contribution_ids": largest["contribution_ids"],
            }
        )
    for op in document["opinion"]:
        if op["k"] < 2:
            if op.get("stability") is not None:
                out.append(
                    {
                        "text": f"Les votes de {plural(op['participants'], 'participant')} ne "
                        "dessinent pas de groupes d'opinion nets : aucun groupe n'est présenté.",
                        "statement_ids": [],
                    }
                )
            continue
        sizes = ", ".join(str(g["size"]) for g in op["groups"])
        out.append(
            {
                "text": f"Les votes de {plural(op['participants'], 'participant')} dessinent "
                f"{op['k']} groupes d'opinion nets ({sizes} personnes).",
                "statement_ids": [
                    r["statement"] for g in op["groups"] for r in g["representative"]
                ],
            }
        )
        if op["consensus"]:
            first = op["consensus"][0]
            many = len(op["consensus"]) > 1
            out.append(
                {
                    "text": f"{plural(len(op['consensus']), 'affirmation')} "
                    f"{'font' if many else 'fait'} consensus dans tous les groupes, "
                    f"{'par exemple' if many else 'à savoir'} « {_short(first['text'])} » "
                    f"({100 * first['min_rate']:.0f} % "
                    f"{'d’accord' if first['side'] == 'agree' else 'de désaccord'} au minimum).",
                    "statement_ids": [c["statement"] for c in op["consensus"]],
                }
            )
        if op["divisive"]:
            first = op["divisive"][0]
            many = len(op["divisive"]) > 1
            out.append(
                {
                    "text": f"{plural(len(op['divisive']), 'affirmation')} "
                    f"{'divisent' if many else 'divise'} les groupes"
                    + (
                        f", la plus clivante étant « {_short(first['text'])} »."
                        if many
                        else f" : « {_short(first['text'])} »."
                    ),
                    "statement_ids": [d["statement"] for d in op["divisive"]],
                }
            )
    for q in document["questionnaires"]:
        for item in q["questions"]:
            if item["mean_score"] is None or not item["n"]:
                continue
            ordered = item["ordered"]
            upper = ordered[len(ordered) - len(ordered) // 2 :]
            positive = sum(item["counts"][v] for v in upper)
            out.append(
                {
                    "text": f"« {item['question']} » : {percent(positive, item['n'])} des "
                    f"{plural(item['n'], 'répondant')} choisissent « {' » ou « '.join(upper)} ».",
                    "question": item["question"],
                    "contribution_ids": [],
                }
            )
    return out


def _short(text: str, size: int = 120) -> str:
    return text if len(text) <= size else text[: text.rfind(" ", 0, size)] + " […]"
