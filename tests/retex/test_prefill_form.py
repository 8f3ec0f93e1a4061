from __future__ import annotations

import dataclasses
from pathlib import Path

from audit_fakes import make_answer
from retex.conftest import fiche
from territoria.audit import AuditLog
from territoria.feedback import FeedbackStore
from territoria.retex.form import fiche_data, form_fields, parse_result
from territoria.retex.model import parse_fiche
from territoria.retex.prefill import usage_fiche, usage_figures
from territoria.settings import Settings
from territoria.store.sqlite import SQLiteStore
from territoria.types import Access, Answer, Energy


def _answer(question: str, abstained: bool) -> Answer:
    answer = make_answer(question, abstained=abstained)
    return dataclasses.replace(answer, energy=Energy(wh=0.2, gco2e=0.01, method="test"))


def test_prefill_from_the_audit_log(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", embedder="fake", title_embedder="fake")
    store = SQLiteStore(settings.db_path)
    with AuditLog(settings) as audit, FeedbackStore(settings) as feedback:
        ids = [audit.record(_answer("Horaires de la piscine ?", False), Access()) for _ in range(3)]
        audit.record(_answer("Où garer mon camping-car ?", True), Access())
        feedback.add(ids[0], useful=True, tenant="default")
        figures = usage_figures(audit, feedback, store, tenant="default")
    store.close()
    assert figures["questions"] == 4 and figures["answered"] == 3
    assert figures["useful"] == 1 and abs(figures["wh_per_answer"] - 0.2) < 1e-9
    draft = usage_fiche(figures, settings, tenant="default")
    assert draft.results[0].value == 4.0 and draft.results[1].value == 75.0
    assert "camping-car" in draft.internal_notes and "camping-car" not in draft.summary
    assert "internal_notes" not in draft.public_view()


def test_form_round_trip() -> None:
    body = parse_fiche(
        fiche(
            results=[
                {"indicator": "Vélos loués", "value": 240, "unit": "locations", "note": "2023"}
            ],
            insee_codes=["31395", "2A004"],
        )
    ).model_dump(mode="json")
    data = fiche_data(form_fields(body), fiche_id=body["id"])
    again = parse_fiche(data).model_dump(mode="json")
    for name in ("title", "summary", "collectivite", "results", "lessons", "insee_codes", "status"):
        assert again[name] == body[name], name
    assert parse_result("Économie : 41 000 € (par an)") == {
        "indicator": "Économie", "value": 41000.0, "unit": "€", "note": "par an",
    }  # fmt: skip
