"""Search inside PostgreSQL (search/postgres.py) against the embedded index on one corpus.

On a corpus smaller than the candidate depth every allowed passage is a candidate, so the
PostgreSQL path must rank exactly as the in-memory index does (same BM25, same vectors, same
fusion); on larger corpora the parity is measured by bench/bench_pg_search.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from territoria.ingest import to_passages
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.types import Access, LoadedDocument, Section

pytestmark = pytest.mark.postgres

DOCS = {
    "cantine": (
        "Restauration scolaire",
        "Le repas de la cantine coûte 3,10 euros. Les menus sont affichés le lundi. "
        "Inscription à la cantine en mairie avant le 31 août.",
    ),
    "piscine": (
        "Piscine municipale",
        "La piscine est ouverte du mardi au dimanche. Entrée 2,50 euros, gratuite pour les "
        "moins de 6 ans. Bonnet de bain obligatoire.",
    ),
    "dechets": (
        "Collecte des déchets",
        "Le bac jaune est collecté le mercredi. La déchetterie est ouverte le samedi matin. "
        "Les encombrants sont ramassés sur rendez-vous.",
    ),
    "salle": (
        "Location de la salle des fêtes",
        "La salle des fêtes se loue 300 euros le week-end, caution 500 euros. Réservation "
        "en mairie trois mois à l'avance.",
    ),
    "urbanisme": (
        "Permis de construire",
        "Le délai d'instruction du permis de construire est de deux mois. Le dossier est "
        "déposé en mairie en quatre exemplaires. Délibération 2024-117.",
    ),
}
QUESTIONS = [
    "combien coûte la cantine",
    "horaires de la piscine",
    "quand passe le bac jaune",
    "louer la salle des fêtes",
    "délai permis de construire",
    "délibération 2024-117",
    "inscription mairie",
]


def runtime_on(settings: Settings) -> Runtime:
    rt = Runtime(settings)
    for doc_id, (title, text) in DOCS.items():
        doc = LoadedDocument(title=title, sections=(Section(text),), source="")
        rt.store.put_document(
            StoredDocument(doc_id, title, "", f"h-{doc_id}"), to_passages(doc_id, doc, settings)
        )
    internal = LoadedDocument(
        title="Note interne cantine",
        sections=(Section("Code du local cantine : 4821."),),
        source="",
    )
    rt.store.put_document(
        StoredDocument("note", internal.title, "", "h-note", visibility="internal"),
        to_passages("note", internal, settings),
    )
    rt.refresh()
    return rt


@pytest.fixture
def pair(postgres_dsn: str, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    base = Settings(home=tmp_path / "mem", embedder="fake", title_embedder="fake")
    memory = runtime_on(base)
    pg = runtime_on(
        base.model_copy(
            update={"home": tmp_path / "pg", "store": "postgres", "postgres_dsn": postgres_dsn}
        )
    )
    yield memory, pg
    memory.close()
    pg.close()


def ranking(rt: Runtime, question: str, access: Access, documents: bool = False) -> list[str]:
    search = rt.retriever.search_documents if documents else rt.retriever.search
    return [h.passage.passage_id for h in search(question, k=5, access=access)]


def test_postgres_ranks_as_the_embedded_index(pair: tuple[Runtime, Runtime]) -> None:
    memory, pg = pair
    assert type(pg.retriever.index()).__name__ == "PostgresIndex"
    for access in (Access(), Access(role="agent")):
        for question in QUESTIONS:
            for documents in (False, True):
                expected = ranking(memory, question, access, documents)
                assert expected, question
                assert ranking(pg, question, access, documents) == expected, question
    mem_index, pg_index = memory.retriever.index(), pg.retriever.index()
    for term in ("cantin", "piscin", "inconnu"):
        assert pg_index.idf(term) == pytest.approx(mem_index.idf(term))
    ids = [p.passage_id for p in pg.store.iter_passages()]
    # PostgreSQL keeps one length normalisation per passage (the title counted title_weight
    # times); the embedded index is BM25F (each field normalised by its own length): the
    # scores differ by a few percent, the passages come in the same order.
    pg_scores = pg_index.lexical_scores("cantine mairie", ids)
    mem_scores = mem_index.lexical_scores("cantine mairie", ids)
    assert pg_scores == pytest.approx(mem_scores, rel=0.1)
    assert np.array_equal(np.argsort(pg_scores), np.argsort(mem_scores))
    assert pg_index.documents_with_all_terms("cantine mairie", "default") == {"cantine"}


def test_answers_come_from_postgres_and_respect_access(pair: tuple[Runtime, Runtime]) -> None:
    _, pg = pair
    answer = pg.ask("Combien coûte la cantine ?")
    assert "3,10" in answer.answer
    public = ranking(pg, "code du local cantine", Access())
    assert "note" not in {p.split("#")[0] for p in public}
    assert any(p.startswith("note") for p in ranking(pg, "code du local cantine", Access("agent")))


def test_a_second_process_sees_new_and_deleted_documents_at_once(
    pair: tuple[Runtime, Runtime],
) -> None:
    """Two runtimes on one database, as two replicas: what one ingests (and indexes) the other
    finds without rebuilding anything; what one deletes the other stops finding."""
    _, pg = pair
    other = Runtime(pg.settings.model_copy(update={"home": pg.settings.home.parent / "other"}))
    try:
        assert not any(p.startswith("marche") for p in ranking(other, "marché nocturne", Access()))
        doc = LoadedDocument(
            title="Marché nocturne",
            sections=(Section("Le marché nocturne a lieu le vendredi soir en juillet."),),
            source="",
        )
        pg.store.put_document(
            StoredDocument("marche", doc.title, "", "h-m"), to_passages("marche", doc, pg.settings)
        )
        pg.refresh()
        assert ranking(other, "marché nocturne", Access())[0].startswith("marche")
        pg.store.delete_document("marche", tenant="default")
        assert not any(p.startswith("marche") for p in ranking(other, "marché nocturne", Access()))
    finally:
        other.close()
