"""An abstention that helps: the closest documents found and the service to contact.

When the evidence is too weak to answer, the assistant says so, offers the documents that
came closest (title, section, link; agents also see the matching passages), and names the
service to contact as the documents themselves name it (a passage of the closest document
that gives a telephone number or an e-mail address), else the operator's contact line. No
passage is ever presented as an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from territoria.answer.question import holds
from territoria.answer.sentences import split_sentences
from territoria.types import Hit, Passage, Suggestion

INTRO = "Je ne trouve pas de réponse à cette question dans les documents de la collectivité."
_MAX_SUGGESTIONS = 3
_EXCERPT_CHARS = 400


def suggestions(
    question: str, hits: Sequence[Hit], analyze: Callable[[str], list[str]]
) -> tuple[Suggestion, ...]:
    """Up to three documents among the hits that share a content word with the question."""
    terms = set(analyze(question))
    found: dict[str, Suggestion] = {}
    for hit in hits:
        p = hit.passage
        if p.doc_id in found or not terms & set(analyze(f"{p.title} {p.heading_path} {p.text}")):
            continue
        excerpt = p.text if len(p.text) <= _EXCERPT_CHARS else p.text[:_EXCERPT_CHARS] + "…"
        found[p.doc_id] = Suggestion(p.doc_id, p.passage_id, p.title, p.heading_path, excerpt)
        if len(found) == _MAX_SUGGESTIONS:
            break
    return tuple(found.values())


def document_contact(passages: Sequence[Passage]) -> str:
    """The first line of a document (its `passages` in reading order) that gives a telephone
    number or an e-mail address, with the heading it stands under (e.g. "Contact : Service
    Enfance-Éducation, …")."""
    best = ""
    for passage in passages:
        lines = [line.strip() for line in passage.text.split("\n") if line.strip()]
        for n, line in enumerate(lines):
            if not holds("contact", line):
                continue
            # a short line just before ("Contact", "Service État civil, 1 place…") belongs to it
            before = lines[n - 1] if n and len(lines[n - 1].split()) <= 12 else ""
            text = " ".join(s.text for s in split_sentences(f"{before} {line}".strip()))
            if "contact" in (passage.heading_path + before).lower():
                return text
            best = best or text
    return best


def abstention_text(contact: str, found: Sequence[Suggestion]) -> str:
    parts = [INTRO]
    if found:
        titles = ", ".join(f"« {s.title} »" for s in found)
        parts.append(f"Documents les plus proches : {titles}.")
    parts.append(contact)
    return " ".join(parts)
