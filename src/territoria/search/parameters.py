"""What a search depends on: the index format and the settings an index is built with or a
ranking reads.

`index_settings` is part of the index's stamp (a change forces a rebuild); `ranking_settings`
is every setting that can change a ranking, logged with each audit record, shown in the
algorithm register and stamped on the abstention calibration; `fusion_params` are the query-time
settings of the fusion. `tests/test_register.py` checks that every setting is either listed here
or known to have no effect on answers.
"""

from __future__ import annotations

from territoria.search.fusion import FusionParams
from territoria.settings import Settings

INDEX_FORMAT = 6  # 4: whole-document BM25F beside the passages; 5: "ete" kept as a term;
# 6: the spelling vocabulary holds words as written (accents kept, for the word vectors)

# Settings that change what the index holds: a change forces a rebuild.
INDEX_SETTINGS = (
    "bm25_k1",
    "bm25_b",
    "title_weight",
    "document_k1",
    "document_title_weight",
    "document_heading_weight",
    "embedder",
    "title_embedder",
    "embeddings_model",
    "embeddings_max_chars",  # texts cut before an /embeddings server: other vectors
)
# Settings read at query time (the fusion): they change rankings without a rebuild.
QUERY_SETTINGS = (
    "fusion",
    "fusion_normalization",
    "fusion_depth",
    "document_weight",
    "lexical_weight",
    "dense_weight",
    "title_vector_weight",
    "rrf_k",
    "identifier_boost",
    "spelling_correction",
    "context_weight",
    "synonyms",
    "synonym_min_similarity",
    "synonym_weight",
    "search_backend",
    "pg_ef_search",
    "pg_hnsw_m",
    "pg_hnsw_ef_construction",
    "pg_candidates",
    "pg_candidate_documents",
)
# Settings read when documents are cut into passages (a change applies at the next ingestion).
CHUNK_SETTINGS = ("chunk_words", "chunk_max_words")


def index_settings(settings: Settings) -> dict[str, object]:
    """The settings of INDEX_SETTINGS: part of the index's stamp (and of what depends on the
    index, such as the abstention calibration)."""
    return {name: getattr(settings, name) for name in INDEX_SETTINGS}


def ranking_settings(settings: Settings) -> dict[str, object]:
    """Every setting that can change a ranking (index content, fusion, chunking) and the index
    format: logged with each audit record and shown in the algorithm register."""
    names = (*QUERY_SETTINGS, *CHUNK_SETTINGS)
    return {
        **index_settings(settings),
        **{name: getattr(settings, name) for name in names},
        "index_format": INDEX_FORMAT,
    }


def fusion_params(settings: Settings) -> FusionParams:
    """The fusion's parameters (fusion.py) from the settings."""
    return FusionParams(
        method="rrf" if settings.fusion == "rrf" else "linear",
        normalization=settings.fusion_normalization,
        depth=settings.fusion_depth,
        document_weight=settings.document_weight,
        lexical_weight=settings.lexical_weight,
        dense_weight=settings.dense_weight,
        title_vector_weight=settings.title_vector_weight,
        rrf_k=settings.rrf_k,
        identifier_boost=settings.identifier_boost,
    )
