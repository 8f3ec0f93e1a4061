"""Score fusion: scaling, weights, missing vectors, identifiers."""

from __future__ import annotations

import numpy as np
import pytest

from territoria.search.fusion import FusionParams, fuse, has_identifier

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


def test_linear_fusion_scales_each_channel_to_one() -> None:
    lexical = f32(10.0, 5.0, 0.0, 0.0)
    dense = f32(0.2, 0.4, 0.6, 0.3)
    fused = fuse(lexical, [(dense, ALL, 1.0)], ALL, FusionParams())
    # lexical / 10 + (dense - 0.2) / 0.4
    assert fused == pytest.approx([1.0, 0.5 + 0.5, 1.0, 0.25])


def test_masked_rows_score_minus_infinity_and_do_not_shape_the_scaling() -> None:
    lexical = f32(100.0, 5.0, 1.0, 0.0)
    mask = np.array([False, True, True, True])
    fused = fuse(lexical, [], mask, FusionParams())
    assert fused[0] == -np.inf
    assert fused[1] == pytest.approx(1.0)  # the best allowed row, not the hidden one


def test_a_row_without_vector_keeps_its_lexical_part() -> None:
    lexical = f32(10.0, 0.0, 0.0, 0.0)
    dense = f32(0.0, 0.9, 0.1, 0.5)
    present = np.array([False, True, True, True])
    fused = fuse(lexical, [(dense, present, 1.0)], ALL, FusionParams())
    assert fused[0] == pytest.approx(2.0)
    assert fused[1] == pytest.approx(1.0)


def test_weights_and_lexical_override() -> None:
    lexical = f32(10.0, 0.0, 0.0, 0.0)
    dense = f32(0.0, 1.0, 0.5, 0.5)
    params = FusionParams(dense_weight=2.0)
    assert np.argmax(fuse(lexical, [(dense, ALL, 2.0)], ALL, params)) == 1
    boosted = fuse(lexical, [(dense, ALL, 2.0)], ALL, params, lexical_weight=3.0)
    assert np.argmax(boosted) == 0


def test_rrf() -> None:
    lexical = f32(3.0, 2.0, 1.0, 0.0)
    dense = f32(0.1, 0.9, 0.5, 0.2)
    fused = fuse(lexical, [(dense, ALL, 1.0)], ALL, FusionParams(method="rrf", rrf_k=60))
    assert fused[1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[3] == pytest.approx(1 / 63)  # no lexical match: dense rank only
    assert np.argmax(fused) == 1
