"""What a search depends on (search/parameters.py)."""

from __future__ import annotations

from territoria.search.parameters import (
    CHUNK_SETTINGS,
    INDEX_FORMAT,
    INDEX_SETTINGS,
    QUERY_SETTINGS,
    fusion_params,
    index_settings,
    ranking_settings,
)
from territoria.settings import Settings


def test_the_ranking_stamp_holds_every_listed_setting_and_the_format() -> None:
    stamp = ranking_settings(Settings())
    assert set(stamp) == {*INDEX_SETTINGS, *QUERY_SETTINGS, *CHUNK_SETTINGS, "index_format"}
    assert stamp["index_format"] == INDEX_FORMAT


def test_a_query_setting_changes_rankings_not_the_index() -> None:
    base, other = Settings(), Settings(lexical_weight=2.0)
    assert index_settings(base) == index_settings(other)
    assert ranking_settings(base) != ranking_settings(other)
    assert index_settings(Settings(bm25_k1=1.5)) != index_settings(base)


def test_fusion_parameters_follow_the_settings() -> None:
    params = fusion_params(Settings(fusion="rrf", rrf_k=30, dense_weight=0.25))
    assert (params.method, params.rrf_k, params.dense_weight) == ("rrf", 30, 0.25)
    assert fusion_params(Settings()).method == "linear"
