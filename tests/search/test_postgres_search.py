"""Search inside PostgreSQL (search/postgres.py) against the embedded index on one corpus.

On a corpus smaller than the candidate depth every allowed passage is a candidate, so the
PostgreSQL path must rank exactly as the in-memory index does (same BM25, same vectors, same
fusion); on larger corpora the parity is measured by bench/bench_pg_search.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from territoria.ingest import to_passages
from territoria.runtime import Runtime
from territoria.search import pg_tables
from territoria.search.ranking import Evidence
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
    assert pg_index.lexical_scores("cantine mairie", ids, "default") == pytest.approx(
        mem_index.lexical_scores("cantine mairie", ids, "default"), rel=1e-5
    )
    assert pg_index.documents_with_all_terms("cantine mairie", "default") == {"cantine"}
    assert channel_scores(pg_index, "salle mairie") == pytest.approx(
        channel_scores(mem_index, "salle mairie"), rel=1e-5
    )


def channel_scores(index: Any, query: str) -> dict[tuple[str, str], float]:
    """Each candidate passage's score on each channel of the evidence (ranking.py), by
    passage id: the whole-document BM25F, the best passage's BM25F, its own BM25F."""
    found = index.gather(query, access=Access(role="agent"))
    rows, evidence = (index, found) if isinstance(found, Evidence) else found
    out = {}
    for i, row in enumerate(evidence.rows.tolist()):
        pid = rows.passage_ids[row]
        doc = evidence.row_doc[i]
        out[(pid, "row")] = float(evidence.row_lexical[i])
        for name in ("document", "passage"):
            out[(pid, name)] = float(evidence.channels[name].scores[doc])
    return out


def test_a_bulk_load_ranks_as_the_embedded_index(
    pair: tuple[Runtime, Runtime], postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Empty search tables are filled in one pass (weights computed once, indexes made
    again at the end): same rankings and scores as the embedded index, then incremental
    additions and deletions work on the rebuilt tables."""
    memory, incremental = pair
    monkeypatch.setattr(pg_tables, "BULK_MIN", 1)
    loaded: list[int] = []
    bulk_load = pg_tables.SearchTables._bulk_load

    def recorded(self: pg_tables.SearchTables, *args: Any) -> int:
        loaded.append(bulk_load(self, *args))
        return loaded[-1]

    monkeypatch.setattr(pg_tables.SearchTables, "_bulk_load", recorded)
    settings = incremental.settings.model_copy(
        update={"home": incremental.settings.home.parent / "bulk"}
    )
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:  # the search tables emptied
        conn.execute(
            "TRUNCATE search_rows, search_postings, search_terms, search_words,"
            " search_documents, search_doc_postings, search_doc_terms"
        )
        conn.execute(
            "UPDATE search_stats SET rows = 0, total_length = 0, avgdl_used = 0,"
            " total_title_length = 0, avg_title_used = 0, docs = 0, doc_total_length = 0,"
            " doc_total_title_length = 0, doc_avg_used = 0, doc_avg_title_used = 0"
        )
    bulk = Runtime(settings)
    try:
        bulk.refresh()
        assert loaded == [len(DOCS) + 1]  # one passage per document
        index = bulk.retriever.index()
        ids = [p.passage_id for p in bulk.store.iter_passages()]
        assert index.lexical_scores("cantine mairie", ids, "default") == pytest.approx(
            memory.retriever.index().lexical_scores("cantine mairie", ids, "default"), rel=1e-5
        )
        for access in (Access(), Access(role="agent")):
            for question in QUESTIONS:
                for documents in (False, True):
                    assert ranking(bulk, question, access, documents) == ranking(
                        memory, question, access, documents
                    ), question
        assert channel_scores(bulk.retriever.index(), "salle mairie") == pytest.approx(
            channel_scores(memory.retriever.index(), "salle mairie"), rel=1e-5
        )
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            made = {n for (n,) in conn.execute("SELECT indexname FROM pg_indexes")}
            assert {"search_postings_impact", "search_postings_seq"} <= made
            assert {"search_doc_postings_impact", "search_doc_postings_doc"} <= made
        for rt in (bulk, memory):
            assert rt.store.delete_document("cantine", tenant="default")
            rt.refresh()
        assert "cantine#0" not in ranking(bulk, "combien coûte la cantine", Access())
        assert bulk.retriever.index().idf("cantin") == pytest.approx(
            memory.retriever.index().idf("cantin")
        )  # the document frequencies follow the deletion
    finally:
        bulk.close()


def test_passage_scores_are_those_of_the_callers_tenant(pair: tuple[Runtime, Runtime]) -> None:
    """Passage ids are unique within a tenant only: another tenant's document of the same
    id never lends its BM25 evidence (both backends)."""
    other = LoadedDocument(
        title="Cantine de la ville voisine",
        sections=(Section("La cantine de la ville voisine : mairie, cantine, cantine."),),
        source="",
    )
    scores = []
    for rt in pair:
        passages = to_passages("cantine", other, rt.settings)
        rt.store.put_document(
            StoredDocument("cantine", other.title, "", "h-autre", tenant="autre"), passages
        )
        rt.refresh()
        index = rt.retriever.lexicon()
        ids = [p.passage_id for p in passages]
        mine = index.lexical_scores("cantine mairie", ids, "default")
        theirs = index.lexical_scores("cantine mairie", ids, "autre")
        assert mine[0] > 0 and theirs[0] > mine[0]
        assert index.lexical_scores("cantine mairie", ids, "personne") == [0.0]
        scores.append((mine, theirs))
    # PostgreSQL keeps the weights of the average length they were written with until it
    # drifts by 5 % (search/postgres.py): equal within that
    assert scores[1][0] == pytest.approx(scores[0][0], rel=0.05)
    assert scores[1][1] == pytest.approx(scores[0][1], rel=0.05)


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


def test_postings_computed_otherwise_are_indexed_again(pair: tuple[Runtime, Runtime]) -> None:
    """Search tables whose stamp differs (another index format, i.e. another analyzer, or
    other BM25F parameters) are emptied and indexed again at the next refresh, and every
    process reads the new vocabulary; the same stamp rebuilds nothing."""
    memory, pg = pair
    index = pg.retriever.index()
    tables = index.tables  # type: ignore[union-attr]
    db = pg.store.db  # type: ignore[attr-defined]
    assert db.execute("SELECT format FROM search_stats").fetchone() == (tables.stamp(),)
    # as if an older analyzer had written "cantin" otherwise
    db.execute("UPDATE search_stats SET format = ?", ('{"format": 4}',))
    db.execute("UPDATE search_postings SET term = 'cantinx' WHERE term = 'cantin'")
    generation = pg.store.generation()
    pg.refresh()
    assert db.execute("SELECT format FROM search_stats").fetchone() == (tables.stamp(),)
    terms = {t for (t,) in db.execute("SELECT DISTINCT term FROM search_postings")}
    assert "cantin" in terms and "cantinx" not in terms
    assert pg.store.generation() > generation
    for question in QUESTIONS:
        assert ranking(pg, question, Access()) == ranking(memory, question, Access()), question
    (rows,) = db.execute("SELECT count(*) FROM search_rows").fetchone()
    generation = pg.store.generation()
    pg.refresh()  # same stamp: nothing indexed again
    assert pg.store.generation() == generation
    assert db.execute("SELECT count(*) FROM search_rows").fetchone() == (rows,)
    # other BM25F parameters: the weights are computed again with them
    (weight,) = db.execute(
        "SELECT max(weight) FROM search_postings WHERE term = 'cantin'"
    ).fetchone()
    other = Runtime(
        pg.settings.model_copy(update={"home": pg.settings.home.parent / "k1", "bm25_k1": 2.5})
    )
    try:
        other.refresh()
        (changed,) = db.execute(
            "SELECT max(weight) FROM search_postings WHERE term = 'cantin'"
        ).fetchone()
        assert changed != pytest.approx(weight)
        assert db.execute("SELECT format FROM search_stats").fetchone() == (
            other.retriever.index().tables.stamp(),  # type: ignore[union-attr]
        )
    finally:
        other.close()


def test_excluded_documents_are_left_out_as_the_embedded_index_does(
    pair: tuple[Runtime, Runtime],
) -> None:
    """`exclude` (documents a follow-up has already shown) is applied in every channel's
    candidates when given, and adds nothing to the statement when empty."""
    memory, pg = pair
    access = Access(role="agent")
    for question in QUESTIONS:
        for left_out in ({"cantine"}, {"cantine", "note", "salle"}):
            expected = [
                h.passage.passage_id
                for h in memory.retriever.search(question, k=5, access=access, exclude=left_out)
            ]
            found = [
                h.passage.passage_id
                for h in pg.retriever.search(question, k=5, access=access, exclude=left_out)
            ]
            assert found == expected, (question, left_out)
            assert not {pid.rsplit("#", 1)[0] for pid in found} & left_out


def test_candidate_sums_by_probe_rank_as_by_join(
    pair: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lexical candidates' exact sums, by join of the terms' posting lists (small corpora)
    or by index probe of each candidate's postings (large ones): the same rankings."""
    from territoria.search import postgres

    memory, pg = pair
    index = pg.retriever.index()
    terms = index._weights("cantine mairie", documents=True)
    assert not index._probe(terms)  # a small corpus: short posting lists are joined
    monkeypatch.setattr(postgres, "PROBE_ROWS", 0)
    assert index._probe(terms)
    for access in (Access(), Access(role="agent")):
        for question in QUESTIONS:
            for documents in (False, True):
                expected = ranking(memory, question, access, documents)
                assert ranking(pg, question, access, documents) == expected, question
