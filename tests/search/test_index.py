"""The search index: access rules applied inside retrieval, fusion, documents, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from territoria.embed.fake import FakeEmbedder
from territoria.errors import StoreError
from territoria.search.index import IndexHit, SearchIndex
from territoria.settings import Settings
from territoria.types import Access, Passage

SECRET = "Le code d'accès du local des archives est 4512, communiqué aux agents uniquement."


def passage(pid: str, doc: str, title: str, text: str, **kw: str) -> Passage:
    return Passage(passage_id=pid, doc_id=doc, title=title, text=text, **kw)  # type: ignore[arg-type]


PASSAGES = [
    passage(
        "cantine#0",
        "cantine",
        "Restauration scolaire",
        "Le repas à la cantine coûte 3,10 euros pour la tranche A.",
    ),
    passage(
        "cantine#1",
        "cantine",
        "Restauration scolaire",
        "L'inscription à la cantine se fait au guichet unique avant le 30 juin.",
    ),
    passage(
        "dechets#0",
        "dechets",
        "Collecte des déchets",
        "La déchetterie est ouverte du lundi au samedi de 9 heures à 18 heures.",
    ),
    passage(
        "mairie#0",
        "mairie",
        "Horaires de la mairie",
        "La mairie est ouverte du lundi au vendredi de 8 h 30 à 17 h 30.",
    ),
    passage("archives#0", "archives", "Procédure interne d'accueil", SECRET, visibility="internal"),
    passage(
        "deliberation#0",
        "deliberation",
        "Délibération 2024-117",
        "Le conseil municipal fixe les tarifs des actes d'état civil.",
        collection="deliberations",
    ),
    passage(
        "autre#0",
        "autre",
        "Horaires de la mairie",
        "La mairie de la commune voisine est ouverte le mardi.",
        tenant="voisine",
    ),
]
EMBEDDER = FakeEmbedder()


def vectors(passages: list[Passage]) -> np.ndarray:
    return EMBEDDER.embed_passages([f"{p.title}\n{p.text}" for p in passages])


def build(passages: list[Passage] = PASSAGES, *, dense: bool = True) -> SearchIndex:
    return SearchIndex.build(
        passages,
        vectors(passages) if dense else None,
        Settings(),
        title_vectors=EMBEDDER.embed_passages([p.title for p in passages]) if dense else None,
    )


def search(index: SearchIndex, query: str, access: Access, k: int = 10) -> list[IndexHit]:
    qv = EMBEDDER.embed_queries([query])
    return index.search(query, k=k, access=access, query_vector=qv, title_query_vector=qv)


def ids(hits: list[IndexHit]) -> list[str]:
    return [h.passage_id for h in hits]


@pytest.mark.parametrize("dense", [True, False])
def test_public_never_gets_internal_passages_even_with_their_exact_text(dense: bool) -> None:
    index = build(dense=dense)
    for k in (1, 3, 100):
        for found in (
            search(index, SECRET, Access(role="public"), k),
            index.search_documents(
                SECRET,
                k=k,
                access=Access(role="public"),
                query_vector=EMBEDDER.embed_queries([SECRET]) if dense else None,
            ),
        ):
            assert "archives#0" not in ids(found)
    # the same query by an agent finds it first: the mask, not the query, hid it
    assert ids(search(index, SECRET, Access(role="agent")))[0] == "archives#0"


def test_mask_is_applied_to_dense_scores_too() -> None:
    index = build()
    qv = EMBEDDER.embed_queries([SECRET])
    # "zzz" matches nothing lexically: only the dense channels rank
    public = index.search("zzz", k=100, access=Access(role="public"), query_vector=qv)
    assert public and "archives#0" not in ids(public)
    agent = index.search("zzz", k=1, access=Access(role="agent"), query_vector=qv)
    assert ids(agent) == ["archives#0"]


def test_other_tenants_are_invisible() -> None:
    index = build()
    hits = search(index, "horaires de la mairie", Access(role="admin"))
    assert "autre#0" not in ids(hits)
    theirs = search(index, "horaires de la mairie", Access(role="public", tenant="voisine"))
    assert ids(theirs) == ["autre#0"]
    assert search(index, "mairie", Access(tenant="inconnue")) == []


def test_collections_restrict_the_search() -> None:
    index = build()
    only = Access(role="agent", collections=("deliberations",))
    assert ids(search(index, "tarifs état civil cantine", only)) == ["deliberation#0"]
    assert search(index, "cantine", Access(collections=("absente",))) == []
    everywhere = search(index, "tarifs état civil", Access(role="agent"))
    assert ids(everywhere)[0] == "deliberation#0"


def test_best_passage_first_with_scores() -> None:
    hits = search(build(), "inscription cantine guichet", Access())
    assert hits[0].passage_id == "cantine#1"
    assert hits[0].lexical_score and hits[0].lexical_score > 0
    assert hits[0].dense_score is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_lexical_only_index_and_accent_free_query() -> None:
    index = build(dense=False)
    hits = index.search("dechetterie samedi", k=5, access=Access())
    assert ids(hits) == ["dechets#0"]
    assert hits[0].dense_score is None
    assert index.search("zorglub", k=5, access=Access()) == []


def test_passages_without_vectors_are_found_lexically() -> None:
    matrix = vectors(PASSAGES)
    matrix[2] = 0.0  # the déchetterie passage is not embedded yet
    index = SearchIndex.build(PASSAGES, matrix, Settings())
    qv = EMBEDDER.embed_queries(["déchetterie"])
    assert ids(index.search("déchetterie", k=1, access=Access(), query_vector=qv)) == ["dechets#0"]


def test_identifier_query_ranks_the_exact_match_first() -> None:
    index = build()
    hits = search(index, "délibération 2024-117 horaires mairie", Access(role="agent"))
    assert hits[0].passage_id == "deliberation#0"


def test_documents_are_deduplicated_keeping_the_best_passage() -> None:
    index = build()
    query = "inscription à la cantine guichet unique"
    qv = EMBEDDER.embed_queries([query])
    docs = index.search_documents(
        query, k=10, access=Access(), query_vector=qv, title_query_vector=qv
    )
    assert docs[0].passage_id == "cantine#1"
    doc_of = {p.passage_id: p.doc_id for p in PASSAGES}
    found = [doc_of[h.passage_id] for h in docs]
    assert len(found) == len(set(found))
    assert "archives" not in found and "autre" not in found
    assert len(index.search_documents(query, k=2, access=Access(), query_vector=qv)) == 2


def test_save_and_load_give_the_same_results(tmp_path: Path) -> None:
    index = build()
    index.save(tmp_path / "index")
    assert {p.name for p in (tmp_path / "index").iterdir()} == {
        "index.json",
        "rows.npz",
        "lexical.json",
        "lexical.npz",
        "documents.json",
        "documents.npz",
        "vectors.npy",
        "titles.npy",
        "titles.rows.npy",
    }
    # one title vector per distinct title, not one per passage
    assert np.load(tmp_path / "index" / "titles.npy").shape[0] == len({p.title for p in PASSAGES})
    loaded = SearchIndex.load(tmp_path / "index")
    for access in (Access(), Access(role="agent"), Access(role="agent", tenant="voisine")):
        for query in ("horaires mairie", SECRET, "2024-117"):
            assert search(loaded, query, access) == search(index, query, access)
    # a lexical-only index saved over it drops the stale vector files
    build(dense=False).save(tmp_path / "index")
    assert SearchIndex.load(tmp_path / "index").dense is None
    assert not (tmp_path / "index" / "titles.rows.npy").exists()


def test_unreadable_or_mismatched_index(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="illisible"):
        SearchIndex.load(tmp_path / "absent")
    with pytest.raises(StoreError, match="passages"):
        SearchIndex.build(PASSAGES, vectors(PASSAGES[:2]), Settings())
    index = build()
    with pytest.raises(StoreError, match="dimension"):
        index.search("mairie", k=3, access=Access(), query_vector=np.ones((1, 7), np.float32))


def test_rrf_fusion_also_respects_access() -> None:
    index = SearchIndex.build(PASSAGES, vectors(PASSAGES), Settings(fusion="rrf"))
    hits = search(index, SECRET, Access(role="public"))
    assert hits and "archives#0" not in ids(hits)
    assert ids(search(index, SECRET, Access(role="agent")))[0] == "archives#0"


def test_empty_index() -> None:
    index = SearchIndex.build([], None, Settings())
    assert index.search("mairie", k=5, access=Access()) == []
    assert index.search_documents("mairie", k=5, access=Access()) == []


def test_headings_are_searchable_once() -> None:
    structured = passage("piscine#0", "piscine", "Équipements", "Ouvert le dimanche matin.")
    structured = Passage(**{**structured.__dict__, "headings": ("Piscine municipale",)})
    inline = Passage(
        passage_id="stade#0",
        doc_id="stade",
        title="Équipements",
        text="## Stade\n\nOuvert le samedi.",
        headings=("Stade",),
    )
    index = SearchIndex.build([structured, inline], None, Settings())
    assert ids(index.search("piscine", k=5, access=Access())) == ["piscine#0"]
    # an inline Markdown heading is not counted a second time
    bare = Passage(**{**inline.__dict__, "headings": ()})
    once = SearchIndex.build([structured, bare], None, Settings())
    assert index.lexical.scores("stade")[1] == pytest.approx(once.lexical.scores("stade")[1])
