"""The JSON shapes of the DESIGN.md contract, shared by the CLI and the HTTP API
(checks outside the project parse them)."""

from __future__ import annotations

from collections.abc import Sequence

from territoria.types import Answer, Hit


def answer_json(answer: Answer) -> dict[str, object]:
    return {
        "answer": answer.answer,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "doc_id": c.doc_id,
                "passage_id": c.passage_id,
                "title": c.title,
                "source": c.source,
                "quote": c.quote,
                "page": c.page,
                "heading": c.heading,
            }
            for c in answer.citations
        ],
        "verification": answer.verification.to_json(),
        "energy": {
            "wh": answer.energy.wh,
            "gco2e": answer.energy.gco2e,
            "method": answer.energy.method,
            "wh_range": [answer.energy.wh_low, answer.energy.wh_high],
        },
        "latency_ms": round(answer.latency_ms, 2),
        "mode": answer.mode,
        "request_id": answer.request_id,
        "continues": answer.continues,
        "corrections": (
            {k: list(v) for k, v in answer.query.corrections.items()} if answer.query else {}
        ),
        "suggestions": [
            {
                "doc_id": s.doc_id,
                "passage_id": s.passage_id,
                "title": s.title,
                "heading": s.heading,
            }
            for s in answer.suggestions
        ],
        "contact": answer.contact,
    }


def hits_json(hits: Sequence[Hit]) -> dict[str, object]:
    """The `search --json` shape of DESIGN.md, shared by the CLI and the HTTP API."""
    return {
        "hits": [
            {
                "doc_id": h.passage.doc_id,
                "passage_id": h.passage.passage_id,
                "title": h.passage.title,
                "score": round(h.score, 6),
                "text": h.passage.text,
            }
            for h in hits
        ]
    }
