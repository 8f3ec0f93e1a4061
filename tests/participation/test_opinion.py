from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from territoria.participation.model import VoteMatrix
from territoria.participation.opinion import analyze_votes, in_conversation

# Each row: the vote of groups A, B, C on one statement (1 agree, -1 disagree).
PATTERNS = [
    (1, -1, -1),
    (1, -1, -1),
    (1, -1, -1),
    (1, -1, 1),
    (-1, 1, -1),
    (-1, 1, -1),
    (-1, 1, 1),
    (-1, 1, -1),
    (-1, -1, 1),
    (1, -1, 1),
    (1, 1, 1),  # s10: consensus (agree)
    (-1, -1, -1),  # s11: consensus (disagree)
    (1, -1, 1),  # s12: divisive
]


def synthetic(
    per_group: int = 20, seed: int = 3, missing: float = 0.2, noise: float = 0.08
) -> tuple[VoteMatrix, list[int]]:
    rng = np.random.default_rng(seed)
    rows, truth, ids = [], [], []
    for g in range(3):
        for p in range(per_group):
            votes: list[float | None] = []
            for pattern in PATTERNS:
                if rng.random() < missing:
                    votes.append(None)
                    continue
                vote = pattern[g]
                if rng.random() < noise:
                    vote = -vote
                votes.append(float(vote))
            rows.append(tuple(votes))
            truth.append(g)
            ids.append(f"{g}{p:02d}")
    statements = tuple(f"s{j}" for j in range(len(PATTERNS)))
    return VoteMatrix("synth", "memoire", tuple(ids), statements, tuple(rows)), truth


def test_groups_recovered_without_being_told_k() -> None:
    matrix, truth = synthetic()
    result = analyze_votes(matrix, seed=0)
    assert result.k == 3
    found = [result.groups[p] for p in matrix.participants]
    assert adjusted_rand_score(truth, found) > 0.9
    assert sum(result.sizes.values()) == 60 and min(result.sizes.values()) >= 18


def test_consensus_and_divisive_statements() -> None:
    matrix, _ = synthetic()
    result = analyze_votes(matrix, seed=0)
    consensus = {s: side for s, side, _ in result.consensus}
    assert consensus == {"s10": "agree", "s11": "disagree"}
    divisive = [s for s, _ in result.divisive]
    assert "s12" in divisive and "s10" not in divisive and "s11" not in divisive
    # Each group is represented by the statements only it agrees with.
    a_group = result.groups["000"]
    agreed = {s for s, side, _ in result.representative[a_group] if side == "agree"}
    assert agreed & {"s0", "s1", "s2"}


def test_sparse_voters_are_placed_but_not_clustered() -> None:
    matrix, _ = synthetic()
    votes = list(matrix.votes)
    votes.append((1.0, 1.0, None, None, None, None, None, None, None, None, None, None, None))
    votes.append((None,) * len(matrix.statements))
    sparse = VoteMatrix(
        "synth",
        "memoire",
        (*matrix.participants, "late", "silent"),
        matrix.statements,
        tuple(votes),
    )
    result = analyze_votes(sparse, seed=0)
    assert "late" in result.groups and "late" not in result.clustered
    assert "silent" not in result.groups
    assert result.participants == 61


def test_no_group_smaller_than_the_privacy_floor() -> None:
    matrix, _ = synthetic(per_group=4)  # 12 people: three groups of 4 would be too small
    result = analyze_votes(matrix, seed=0, min_group_size=5)
    assert all(size >= 5 for size in result.sizes.values()) or result.k == 1


def test_too_few_participants_gives_no_groups() -> None:
    matrix, _ = synthetic(per_group=2)
    result = analyze_votes(matrix, seed=0)
    assert result.k == 0 and not result.groups and result.note


def test_moderated_out_statements_are_ignored() -> None:
    matrix, _truth = synthetic()
    noisy_column = VoteMatrix(
        matrix.name,
        matrix.source,
        matrix.participants,
        matrix.statements,
        matrix.votes,
        moderated_out=frozenset({"s10"}),
    )
    result = analyze_votes(noisy_column, seed=0)
    assert all(s.statement != "s10" for s in result.stats)


def test_in_conversation_rule_of_polis() -> None:
    counts = np.array([7, 6, 0, 12] + [1] * 20)
    chosen = in_conversation(counts, n_statements=30)
    # 2 with >= 7 votes, topped up with the most active voters to 15, never the silent one.
    assert chosen.sum() == 15 and chosen[0] and chosen[3] and chosen[1] and not chosen[2]


def test_one_cloud_of_voters_gives_no_clear_groups() -> None:
    rng = np.random.default_rng(7)
    rows = tuple(
        tuple(float(v) for v in rng.choice([-1.0, 0.0, 1.0], size=12, p=[0.4, 0.2, 0.4]))
        for _ in range(80)
    )
    ids = tuple(f"p{i}" for i in range(80))
    matrix = VoteMatrix("bruit", "memoire", ids, tuple(f"s{j}" for j in range(12)), rows)
    result = analyze_votes(matrix, seed=0)
    assert result.stability is not None and not result.stability.stable
    assert result.k == 1 and "Pas de groupes d'opinion nets" in result.note
    assert result.tentative and not result.consensus and not result.divisive


def test_clear_groups_pass_the_stability_check() -> None:
    matrix, _ = synthetic()
    result = analyze_votes(matrix, seed=0)
    assert result.stability is not None and result.stability.stable
    assert result.stability.resample_ari > 0.9 and result.stability.structure_z > 1
    assert not result.tentative
