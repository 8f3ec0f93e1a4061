"""Score fusion: normalisations, weights, missing vectors, identifiers, batches."""

from __future__ import annotations

import numpy as np
import pytest

from territoria.search.fusion import Channel, FusionParams, fuse, has_identifier, normalize

ALL = np.ones(4, dtype=bool)


def f32(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("délibération 2024-117", True),
        ("article L2212-2 du CGCT", True),
        ("art. L. 2212-2", True),
        ("arrêté du 12/03/2020", True),
        ("formulaire R123", True),
        ("5 semaines de congés", False),
        ("temps partiel 80%", False),
        ("cumuler 2 emplois", False),
        ("horaires de la mairie", False),
    ],
)
def test_identifier_patterns(query: str, expected: bool) -> None:
    assert has_identifier(query) is expected


def test_normalisations() -> None:
    scores = f32(10.0, 5.0, 0.0, 0.0)
    assert normalize(scores, ALL, "max", 10) == pytest.approx([1.0, 0.5, 0.0, 0.0])
    assert normalize(scores, ALL, "minmax", 10) == pytest.approx([1.0, 0.5, 0.0, 0.0])
    z = normalize(scores, ALL, "zscore", 10)
    assert z == pytest.approx((scores - scores.mean()) / scores.std(), rel=1e-5)
    # statistics of the `depth` best only: below the 2nd best, minmax floors at 0
    assert normalize(f32(4.0, 3.0, 2.0, 1.0), ALL, "minmax", 2) == pytest.approx([1, 0, 0, 0])


def test_a_flat_channel_carries_no_evidence() -> None:
    flat = f32(0.81, 0.81, 0.81, 0.81)
    assert not normalize(flat, ALL, "zscore", 100).any()


def test_zscore_keeps_the_others_apart_when_one_score_is_extreme() -> None:
    """Min-max puts every candidate but an outlier near 0; the spread of the channel's best
    candidates keeps their differences."""
    scores = f32(50.0, 3.0, 2.0, 1.0)
    minmax = normalize(scores, ALL, "minmax", 10)
    zscore = normalize(scores, ALL, "zscore", 10)
    assert minmax[1] - minmax[3] < 0.05
    assert zscore[1] - zscore[3] == pytest.approx(2.0 / scores.std(), rel=1e-5)
    # zpos: evidence only where a candidate stands above the mean of the best
    assert normalize(scores, ALL, "zpos", 10).tolist()[1:] == [0.0, 0.0, 0.0]


def test_masked_rows_score_minus_infinity_and_do_not_shape_the_scaling() -> None:
    lexical = f32(100.0, 5.0, 1.0, 0.0)
    mask = np.array([False, True, True, True])
    fused = fuse([Channel(lexical, 1.0, lexical=True)], mask, FusionParams(normalization="max"))
    assert fused[0] == -np.inf
    assert fused[1] == pytest.approx(1.0)  # the best allowed row, not the hidden one


@pytest.mark.parametrize("normalization", ["zscore", "max", "minmax"])
def test_a_row_without_vector_takes_the_lexical_part(normalization: str) -> None:
    lexical = f32(10.0, 0.0, 0.0, 0.0)
    dense = f32(0.0, 0.9, 0.1, 0.5)
    present = np.array([False, True, True, True])
    params = FusionParams(normalization=normalization)  # type: ignore[arg-type]
    only = fuse([Channel(lexical, 1.0, lexical=True)], ALL, params)
    fused = fuse([Channel(lexical, 1.0, lexical=True), Channel(dense, 1.0, present)], ALL, params)
    assert fused[0] == pytest.approx(2 * only[0])  # its lexical part counted in both places
    assert int(np.argmax(fused)) == 0


def test_weights_and_boost() -> None:
    lexical = f32(10.0, 0.0, 0.0, 0.0)
    dense = f32(0.0, 1.0, 0.5, 0.5)
    params = FusionParams(normalization="max")
    channels = [Channel(lexical, 1.0, lexical=True), Channel(dense, 2.0)]
    assert np.argmax(fuse(channels, ALL, params)) == 1
    assert np.argmax(fuse(channels, ALL, params, boost=3.0)) == 0
    # a weight of 0 leaves the channel out
    assert np.argmax(fuse([channels[0], Channel(dense, 0.0)], ALL, params)) == 0


def test_rrf() -> None:
    lexical = f32(3.0, 2.0, 1.0, 0.0)
    dense = f32(0.1, 0.9, 0.5, 0.2)
    channels = [Channel(lexical, 1.0, lexical=True), Channel(dense, 1.0)]
    fused = fuse(channels, ALL, FusionParams(method="rrf", rrf_k=60))
    assert fused[1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[3] == pytest.approx(1 / 63)  # no lexical match: dense rank only
    assert np.argmax(fused) == 1


@pytest.mark.parametrize("normalization", ["zscore", "max", "minmax"])
def test_a_batch_fuses_like_each_query_alone(normalization: str) -> None:
    rng = np.random.default_rng(1)
    lexical = np.where(rng.random((5, 30)) < 0.3, rng.random((5, 30)) * 10, 0).astype(np.float32)
    dense = rng.random((5, 30)).astype(np.float32)
    present = rng.random((5, 30)) < 0.8
    allowed = rng.random((5, 30)) < 0.9
    params = FusionParams(normalization=normalization, depth=10)  # type: ignore[arg-type]
    boost = np.asarray([[1.0], [3.0], [1.0], [1.0], [3.0]], dtype=np.float32)
    batch = fuse(
        [Channel(lexical, 1.0, lexical=True), Channel(dense, 0.5, present)],
        allowed,
        params,
        boost=boost,
    )
    for q in range(5):
        alone = fuse(
            [Channel(lexical[q], 1.0, lexical=True), Channel(dense[q], 0.5, present[q])],
            allowed[q],
            params,
            boost=float(boost[q, 0]),
        )
        assert np.allclose(batch[q], alone, atol=1e-5)


def test_passages_keep_their_order_when_few_documents_are_candidates() -> None:
    """Passages are put on their documents' scale; with one candidate document (a small
    corpus) the minmax scale would have no width: it reaches down to the lowest passage."""
    one_document = np.asarray([2.9], dtype=np.float32)
    passages = np.asarray([2.2, 0.7, 2.9, 0.7], dtype=np.float32)
    everything = np.ones(1, dtype=bool)
    scaled = normalize(one_document, everything, "minmax", 200, values=passages)
    assert np.argmax(scaled) == 2
    assert scaled[0] > scaled[1] == scaled[3]
    # a passage without its vector (masked) does not stretch the scale
    mask = np.asarray([True, True, True, False])
    low = np.asarray([2.2, 0.7, 2.9, 0.0], dtype=np.float32)
    masked = normalize(one_document, everything, "minmax", 200, values=low, values_allowed=mask)
    assert masked[1] == 0.0 and 0.0 < masked[0] < masked[2] == pytest.approx(1.0)
