"""The `verification` object of `ask --json` and /api/ask: the same keys for each method as
before it became a typed dataclass (checks outside the project read them)."""

from __future__ import annotations

import json

from territoria.types import Verification

SCORES = {"confidence", "threshold", "threshold_source", "evidence"}
CHECKED = {"sentences", "supported", "all_supported"}
GENERATED = {
    "model",
    "prompt_version",
    "dropped",
    "attributed",
    "repeated",
    "declined",
    "flagged_passages_excluded",
}


def keys(v: Verification) -> set[str]:
    return set(json.loads(json.dumps(v.to_json())))


def test_each_method_has_its_own_keys() -> None:
    assert keys(Verification("abstention")) == {"method"} | SCORES
    assert keys(Verification("extractive", sentences=2, supported=2)) == (
        {"method"} | CHECKED | SCORES
    )
    assert keys(Verification("generative", dropped=("x",))) == (
        {"method"} | CHECKED | GENERATED | SCORES
    )


def test_the_extractive_answer_given_instead_of_a_generative_one_says_why() -> None:
    failed = Verification(
        "extractive", requested_mode="generative", model="m", llm_error="LLMTimeout", fallback="f"
    )
    unverified = Verification("extractive", requested_mode="generative", model="m", fallback="f")
    common = {"method", "requested_mode", "model", "fallback"} | CHECKED | SCORES
    assert keys(failed) == common | {"llm_error"}
    assert keys(unverified) == common | {"dropped"}


def test_values() -> None:
    v = Verification(
        "generative",
        confidence=0.123456,
        threshold=0.3,
        threshold_source="corpus",
        evidence={"lexical": 0.5},
        sentences=3,
        supported=2,
        dropped=("Phrase inventée.",),
        question_flags=("consigne",),
    ).to_json()
    assert v["confidence"] == 0.1235 and v["all_supported"] is False
    assert v["dropped"] == ["Phrase inventée."] and v["question_flags"] == ["consigne"]
    assert Verification("extractive", sentences=2, supported=2).to_json()["all_supported"] is True
