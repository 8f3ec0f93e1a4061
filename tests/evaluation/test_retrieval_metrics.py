"""Retrieval metrics, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from territoria.evaluation.retrieval import dedupe, query_metrics, retrieval_metrics

GOLD = [
    # graded: A grade 3, B grade 1
    {"id": "q1", "relevant_ids": ["A", "B"], "relevance": {"A": 3, "B": 1}},
    # no grades: each relevant id counts 1
    {"id": "q2", "relevant_ids": ["C"]},
    {"id": "q3", "relevant_ids": ["D"]},
]


def test_hand_computed_query() -> None:
    # B at rank 1, A at rank 3: DCG = 1/log2(2) + 7/log2(4) = 1 + 3.5 = 4.5
    # ideal: A then B: 7/log2(2) + 1/log2(3) = 7 + 0.6309 = 7.6309
    m = query_metrics(["B", "X", "A"], GOLD[0])
    assert m["hit@1"] == 1.0
    assert m["hit@10"] == 1.0
    assert m["mrr@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(4.5 / (7 + 1 / math.log2(3)))


def test_relevant_document_below_the_cutoff_counts_nothing() -> None:
    ranking = [f"X{i}" for i in range(10)] + ["C"]
    assert query_metrics(ranking, GOLD[1]) == {
        "hit@1": 0.0,
        "hit@10": 0.0,
        "mrr@10": 0.0,
        "ndcg@10": 0.0,
    }


def test_passages_of_one_document_are_deduplicated_first() -> None:
    # without deduplication C would be at rank 4; with it, rank 2
    m = query_metrics(["X", "X", "X", "C"], GOLD[1])
    assert m["mrr@10"] == 0.5
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_means_over_queries_and_missing_rankings_score_zero() -> None:
    rankings = {"q1": ["B", "X", "A"], "q2": ["Y", "C"]}  # q3 has no ranking
    m = retrieval_metrics(rankings, GOLD)
    assert m["n"] == 3
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@10"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    ndcg_q1 = 4.5 / (7 + 1 / math.log2(3))
    ndcg_q2 = 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2) / 3)
    assert set(m) == {"n", "hit@1", "hit@10", "mrr@10", "ndcg@10"}


def test_gold_lines_without_relevant_ids_are_skipped() -> None:
    m = retrieval_metrics({"q": ["A"]}, [{"id": "q", "relevant_ids": []}, GOLD[1]])
    assert m["n"] == 1


def test_other_cutoff() -> None:
    m = retrieval_metrics({"q2": ["X", "X2", "C"]}, [GOLD[1]], k=2)
    assert m["hit@2"] == 0.0
    assert set(m) == {"n", "hit@1", "hit@2", "mrr@2", "ndcg@2"}
