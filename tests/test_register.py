"""The algorithm register entry follows the live configuration."""

from __future__ import annotations

import json
import pathlib
import re

from territoria.register import ai_notice, entry, system_versions, to_markdown
from territoria.settings import Settings
from territoria.store import StoredDocument


def test_entry_names_the_configured_models(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "embedder": "openai",
            "embeddings_model": "bge-m3-fr",
            "embeddings_url": "https://user:secret@embed.example.org:8443/v1",
            "llm_url": "http://10.0.0.5:8000/v1",
            "llm_model": "mistral-small-3.1",
            "llm_local": True,
            "abstain_threshold": 0.42,
            "commune": "Commune de Saint-Test",
            "dpo_contact": "dpo@saint-test.fr",
        }
    )
    data = entry(configured)
    assert data["models"]["embedder"]["model"] == "bge-m3-fr"
    assert "embed.example.org:8443" in data["models"]["embedder"]["description"]
    assert data["models"]["llm"]["model"] == "mistral-small-3.1"
    assert data["models"]["llm"]["local"] is True
    assert data["processing"]["abstain_threshold"] == 0.42
    assert data["operator"] == "Commune de Saint-Test"
    markdown = to_markdown(data)
    for text in ("bge-m3-fr", "mistral-small-3.1", "0.42", "dpo@saint-test.fr", "Saint-Test"):
        assert text in markdown
    assert "secret" not in json.dumps(data) and "secret" not in markdown


def test_default_entry_is_extractive_with_the_local_embedder(settings: Settings) -> None:
    data = entry(settings.model_copy(update={"embedder": "use", "llm_url": ""}))
    assert data["models"]["llm"] is None
    assert data["models"]["embedder"]["model"] == "universal-sentence-encoder-multilingual-3"
    assert data["processing"]["default_mode"] == "extractive"
    markdown = to_markdown(data)
    assert "aucun : réponses extractives uniquement" in markdown
    assert "Universal Sentence Encoder" in markdown
    for section in ("Finalité", "Données utilisées", "Modèles et versions", "Supervision humaine",
                    "Contact", "Vos droits", "Énergie"):  # fmt: skip
        assert f"## {section}" in markdown
    assert "CNIL" in markdown and "CADA" in markdown and "L312-1-3" in markdown


def test_entry_reports_versions_and_corpus(settings: Settings) -> None:
    docs = [
        StoredDocument("a", "A", "a.md", "h", visibility="public", n_passages=3),
        StoredDocument("b", "B", "b.md", "h", visibility="internal", n_passages=2),
    ]
    data = entry(settings, docs)
    assert data["data"]["corpus"] == {"documents": 2, "public": 1, "internal": 1, "passages": 5}
    assert data["models"]["territoria"] == system_versions(settings)["territoria"]
    assert re.match(r"\d+\.\d+", data["models"]["territoria"])
    assert "2 documents (1 public, 1 interne), 5 passages" in to_markdown(data)
    assert json.loads(json.dumps(data)) == data


def test_versions_follow_settings(settings: Settings) -> None:
    versions = system_versions(settings.model_copy(update={"bm25_k1": 1.5, "llm_url": ""}))
    assert versions["index"]["bm25_k1"] == 1.5 and versions["llm_model"] is None


def test_ai_notice_is_short_french_and_configured(settings: Settings) -> None:
    notice = ai_notice(
        settings.model_copy(update={"commune": "Commune de Saint-Test", "audit_retention_days": 90})
    )
    sentences = [s for s in re.split(r"(?<=\.)\s+", notice) if s]
    assert 2 <= len(sentences) <= 3
    assert "intelligence artificielle" in notice and "Saint-Test" in notice and "90 jours" in notice


# Settings that cannot change which passages are found nor what an answer says: where data
# lives, limits that refuse (never reorder), secrets, accounts, web serving, energy accounting,
# the register's own texts. Every other setting must be in `system_versions`.
NO_EFFECT_ON_ANSWERS = {
    "home", "store", "postgres_dsn", "postgres_pool_size", "originals",
    "max_file_mb", "archive_max_total_mb", "archive_max_member_mb", "archive_max_ratio",
    "archive_max_members", "parse_isolated", "parse_timeout_s", "parse_memory_mb",
    "parse_workers", "upload_max_files", "question_max_chars",
    "embedder_threads", "embeddings_url", "llm_url", "llm_timeout_s",  # (model names logged)
    "model_cache",  # an uncompressed copy of the same weights
    "pii_key", "secret_key", "audit_retention_days", "operator_name", "dpo_contact", "commune",
    "watts_per_thread", "static_watts", "static_share_concurrency", "pue", "grid_gco2e_per_kwh",
    "host", "port", "session_hours", "secure_cookies", "login_lockout_after",
    "login_lockout_base_s", "login_lockout_max_s", "auth_failures_per_minute",
    "auth_failures_burst", "rate_per_client", "rate_burst_client", "rate_per_tenant",
    "rate_burst_tenant", "rate_cpu_unit_s", "rate_anonymous_share", "trusted_proxies", "warm_up",
    "retex_instance", "retex_url", "retex_pull_timeout_s", "retex_feed_max_mb",  # labels, limits
}  # fmt: skip


def _keys(data: object) -> set[str]:
    if not isinstance(data, dict):
        return set()
    return {k for k, v in data.items() for k in (k, *_keys(v))}


def test_every_setting_that_can_change_an_answer_is_in_the_versions(settings: Settings) -> None:
    """One `versions` for the audit record and the register, from the same lists the retriever
    stamps its index with: a new setting is either logged there or listed above (issue 8)."""
    from territoria.search.parameters import CHUNK_SETTINGS, INDEX_SETTINGS, QUERY_SETTINGS

    llm = settings.model_copy(update={"llm_url": "http://127.0.0.1:9/v1", "llm_model": "m"})
    versions = system_versions(llm)
    logged = _keys(versions)
    missing = set(Settings.model_fields) - NO_EFFECT_ON_ANSWERS - logged
    assert missing == set(), (
        f"log these in system_versions or list them as without effect: {missing}"
    )
    assert not NO_EFFECT_ON_ANSWERS & set(INDEX_SETTINGS + QUERY_SETTINGS + CHUNK_SETTINGS)
    assert set(Settings.model_fields) >= NO_EFFECT_ON_ANSWERS  # no stale name
    for name in (*INDEX_SETTINGS, *QUERY_SETTINGS, *CHUNK_SETTINGS):
        assert versions["index"][name] == getattr(llm, name), name
    assert "index_format" in versions["index"]


def test_register_covers_decision_support(tmp_path: pathlib.Path) -> None:
    from territoria.register import entry, forecast_notice, to_markdown

    settings = Settings(home=tmp_path / "home")
    data = entry(settings)
    support = data["decision_support"]
    assert support["models"]["statsforecast"]
    assert support["method"]["members"]["monthly"]
    assert "journal d'audit" in support["human_oversight"]
    text = to_markdown(data)
    assert "## Prévisions des séries de la collectivité (aide à la décision)" in text
    assert forecast_notice(settings) in text
