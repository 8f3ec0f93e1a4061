"""What the pages and the API show of an answer, a document and a citation.

One view of an answer serves the JSON API and the HTML templates, so the page without
JavaScript, the enhanced page and the API always say the same thing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from territoria.contract import answer_json
from territoria.french_numbers import number
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.types import Answer, Citation

_SENTENCE = re.compile(r"(.+?)\s*((?:\[\d+\]\s*)+)(?=\S|$)", re.S)
_NUMBERS = re.compile(r"\[(\d+)\]")

INTRO = "D'après les documents officiels de la collectivité :"
PLAIN_INTRO = "En bref :"
PLAIN_NOTE = (
    "Langage simplifié : seule la phrase la plus utile est affichée, avec sa source. "
    "Elle est citée telle quelle : le texte officiel n'est pas réécrit."
)
PLAIN_ABSTENTION = "Nous n'avons pas trouvé la réponse dans nos documents."
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip


def anchor(passage_id: str) -> str:
    return "passage-" + re.sub(r"[^A-Za-z0-9_-]", "-", passage_id)


def passage_url(c: Citation | dict[str, Any]) -> str:
    doc_id = c["doc_id"] if isinstance(c, dict) else c.doc_id
    passage_id = c["passage_id"] if isinstance(c, dict) else c.passage_id
    return (
        f"/documents/{quote(doc_id, safe='')}?{urlencode({'p': passage_id})}#{anchor(passage_id)}"
    )


def french_date(moment: datetime) -> str:
    local = moment.astimezone()
    return (
        f"{local.day} {_MONTHS[local.month - 1]} {local.year} à {local.hour} h {local.minute:02d}"
    )


def segments(text: str) -> list[dict[str, Any]]:
    """The answer split into sentences, each with the citation numbers that follow it."""
    parts: list[dict[str, Any]] = []
    pos = 0
    for match in _SENTENCE.finditer(text):
        parts.append(
            {
                "text": match.group(1).strip(),
                "numbers": [int(n) for n in _NUMBERS.findall(match.group(2))],
            }
        )
        pos = match.end()
    rest = text[pos:].strip()
    if rest:
        parts.append({"text": rest, "numbers": []})
    return parts


def verification_text(answer: Answer) -> str:
    v = answer.verification
    if answer.abstained:
        return (
            "Abstention : les passages retrouvés ne répondent pas assez sûrement à la question "
            f"(confiance {number(v.confidence, 2)}, seuil {number(v.threshold, 2)})."
        )
    if v.method == "extractive":
        return (
            (f"{v.fallback} " if v.fallback else "")
            + f"Réponse extractive : {v.supported} phrase(s) sur "
            f"{v.sentences} reprise(s) mot pour mot des passages cités ; "
            f"confiance {number(v.confidence, 2)}."
        )
    return (
        f"Réponse générée puis vérifiée : {v.supported} phrase(s) conservée(s) sur "
        f"{v.sentences}, chacune appuyée par un passage cité."
    )


def answer_view(
    answer: Answer, settings: Settings, *, simple: bool = False, when: datetime | None = None
) -> dict[str, Any]:
    """The JSON of `territoria ask --json`, plus what the pages show."""
    data = answer_json(answer)
    moment = when or datetime.now(UTC)
    numbers = {c.passage_id: c.n for c in answer.citations}
    parts = [] if answer.abstained else segments(answer.answer)
    plain_parts = parts[:1]
    plain_numbers = {n for p in plain_parts for n in p["numbers"]}
    data.update(
        {
            "question": answer.question,
            "request_id": answer.request_id,
            "date": moment.isoformat(timespec="seconds"),
            "date_text": french_date(moment),
            "intro": PLAIN_INTRO if simple else INTRO,
            "simple": simple,
            "plain": {
                "answer": (
                    f"{PLAIN_ABSTENTION} {answer.contact or settings.contact}"
                    if answer.abstained
                    else " ".join(
                        f"{p['text']} " + "".join(f"[{n}]" for n in p["numbers"])
                        for p in plain_parts
                    ).strip()
                ),
                "note": PLAIN_NOTE,
            },
            "segments": plain_parts if simple else parts,
            "verification_text": verification_text(answer),
            "continues_text": (
                f"Suite de votre question : « {answer.continues} »" if answer.continues else ""
            ),
            "passages": [
                {
                    "rank": rank,
                    "doc_id": h.passage.doc_id,
                    "passage_id": h.passage.passage_id,
                    "title": h.passage.title,
                    "page": h.passage.page,
                    "heading": h.passage.heading_path,
                    "score": round(h.score, 4),
                    "lexical": None if h.lexical_score is None else round(h.lexical_score, 4),
                    "dense": None if h.dense_score is None else round(h.dense_score, 4),
                    "cited": numbers.get(h.passage.passage_id),
                }
                for rank, h in enumerate(answer.hits, start=1)
            ],
        }
    )
    data["suggestions"] = [
        {
            "title": sug.title,
            "heading": sug.heading,
            "excerpt": sug.excerpt,
            "url": passage_url({"doc_id": sug.doc_id, "passage_id": sug.passage_id}),
        }
        for sug in answer.suggestions
    ]
    for c in data["citations"]:  # type: ignore[attr-defined]
        c["url"] = passage_url(c)
        c["original_url"] = f"/documents/{quote(c['doc_id'], safe='')}/original"
        c["shown"] = not simple or c["n"] in plain_numbers
    return data


def copy_text(view: dict[str, Any], base_url: str) -> str:
    """An answer with its numbered sources, as plain text (the agent's copy button)."""
    lines = [view["plain"]["answer"] if view["simple"] else view["answer"], "", "Sources :"]
    for c in view["citations"]:
        where = ", ".join(
            part for part in (f"page {c['page']}" if c["page"] else "", c["heading"]) if part
        )
        lines.append(
            f"[{c['n']}] {c['title']}{f' ({where})' if where else ''} — {base_url}{c['url']}"
        )
    if not view["citations"]:
        lines.append("(aucune : le service n'a pas trouvé de réponse dans ses documents)")
    return "\n".join(lines)


def document_json(doc: StoredDocument, flagged: int = 0) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "path": quote(doc.doc_id, safe=""),
        "source_name": doc.source.rsplit("/", 1)[-1],
        "has_original": bool(doc.original),
        "collection": doc.collection,
        "visibility": doc.visibility,
        "tenant": doc.tenant,
        "format": doc.format,
        "pages": doc.pages,
        "passages": doc.n_passages,
        "ingested_at": doc.ingested_at,
        "status": "indexé",
        "flagged_passages": flagged,
    }


def energy_text(wh: float) -> str:
    """Watt-hours in French, in mWh below 1 Wh: "0,46 mWh", "12,3 Wh"."""
    if wh < 1.0:
        return f"{number(wh * 1000, 2)} mWh"
    return f"{number(wh, 1)} Wh"


def carbon_text(gco2e: float) -> str:
    """Grams of CO2e in French, in mg below 1 g: "0,014 mg CO2e", "3,2 g CO2e"."""
    if gco2e < 1.0:
        return f"{number(gco2e * 1000, 3)} mg CO2e"
    return f"{number(gco2e, 1)} g CO2e"
