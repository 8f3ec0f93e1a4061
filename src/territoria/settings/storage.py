"""Where the state lives: the home folder, SQLite or PostgreSQL, original files."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


def default_home() -> Path:
    """`$TERRITORIA_HOME`, else the per-user data directory (XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "territoria"


class StorageSettings(BaseModel):
    # --- storage -------------------------------------------------------------------------
    home: Path = Field(
        default_factory=default_home,
        description="Directory holding the embedded database and the search indexes.",
    )
    store: str = Field(
        default="sqlite",
        description="Store backend: 'sqlite' (embedded default) or 'postgres'.",
    )
    postgres_dsn: str = Field(
        default="",
        description="PostgreSQL connection string, used when store is 'postgres'.",
    )
    originals: Path | None = Field(
        default=None,
        description=(
            "Folder of the copies of ingested files (the 'original file' links). Empty: "
            "<home>/originals. Replicas on PostgreSQL share one folder (a shared volume)."
        ),
    )
    search_backend: str = Field(
        default="auto",
        description=(
            "Where search runs: 'memory' (an index built from the store in each process), "
            "'postgres' (inside PostgreSQL: no process holds the corpus; needs store "
            "'postgres'), or 'auto' (postgres with the PostgreSQL store, else memory)."
        ),
    )
    pg_ef_search: int = Field(
        default=400,
        ge=10,
        le=1000,
        description=(
            "hnsw.ef_search of dense search in PostgreSQL (bench/bench_pg_search.py --builds: "
            "recall@10 against exact search on cdtn-dev passage vectors, held-out themes, "
            "0.974 at 200 and 0.984 at 400 with ef_construction 200)."
        ),
    )
    pg_hnsw_m: int = Field(
        default=16,
        ge=4,
        le=100,
        description=(
            "HNSW graph degree (m) of the vector indexes in PostgreSQL; a change rebuilds "
            "them at the next start (bench/bench_pg_search.py --builds)."
        ),
    )
    pg_hnsw_ef_construction: int = Field(
        default=200,
        ge=16,
        le=1000,
        description=(
            "HNSW ef_construction of the vector indexes in PostgreSQL (200: recall@10 0.984 "
            "at ef_search 400, build 3.4x the CPU of 64); a change rebuilds them at the next "
            "start."
        ),
    )
    pg_candidates: int = Field(
        default=100,
        ge=10,
        le=5000,
        description=(
            "Candidates per channel of search in PostgreSQL (heaviest postings per query "
            "term, nearest vectors per model) before fusion. 100: nDCG@10 on cdtn-dev equal "
            "to 200's (tune themes 0.4927 against 0.4917, held 0.4345 against 0.4341) and "
            "higher at 1M passages, for less database CPU (bench/bench_pg_search.py and "
            "bench_pg_scale.py --variants)."
        ),
    )
    pg_candidate_documents: int = Field(
        default=30,
        ge=10,
        le=1000,
        description=(
            "Documents taken from each channel's best by search in PostgreSQL, whose every "
            "passage is then scored (the embedded index takes 100). With pg_candidates 100, "
            "30 documents: 26 ms of database CPU per search on cdtn-dev and 33 ms at 1M "
            "passages (38 and 49 ms at 200 / 50), nDCG@10 on cdtn-dev within 0.001 of "
            "embedded (bench/bench_pg_search.py, bench_pg_scale.py --variants)."
        ),
    )
    postgres_pool_size: int = Field(
        default=4,
        ge=1,
        le=64,
        description=(
            "Most connections each PostgreSQL pool of a process opens (store and search, "
            "accounts, audit, feedback, journal: one pool each)."
        ),
    )
