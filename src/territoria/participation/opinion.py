"""Opinion groups from votes, as pol.is computes them, with k chosen from the data.

1. Participants x statements matrix: agree 1, disagree -1, pass 0, not seen = missing.
   Statements moderated out are left out.
2. Only participants with enough votes are clustered: at least min(7, statements), topped up
   with the most active voters up to 15 (pol.is's rule).
3. PCA (2 components) of the clustered participants' votes, missing votes imputed by the
   statement's mean; each participant is projected from the votes they cast only, scaled by
   sqrt(statements / votes cast) so that sparse voters are not pulled to the centre (pol.is's
   sparsity-aware projection).
4. Base clusters, as pol.is: k-means with up to 100 centres on the projected participants;
   then groups: k-means on the base centres weighted by their members, k = 2..min(5, 2 + n/12);
   the smallest k whose silhouette is within 0.03 of the best wins, and no k that leaves a
   group under `min_group_size` people is accepted. Other participants who voted are then
   placed in the nearest group ("projected").
4b. Are the groups clear? Two checks (`stability`): the groups must come back when 20 % of the
   participants are left out (mean adjusted Rand index over resamples, `min_resample_ari`),
   and their silhouette must beat that of one single cloud of the same spread (a Gaussian of
   the same mean and covariance, clustered the same way: `min_structure_z` standard
   deviations above it). When either fails the report says "pas de groupes d'opinion nets"
   and draws no groups. The thresholds are chosen by leave-one-conversation-out in
   bench/bench_participation.py.
5. Per group and statement: agree / disagree / seen counts, with the smoothed rates
   (A + 1) / (S + 2) of pol.is. A statement is *consensual* when every group agrees (or every
   group disagrees) at >= 60 %, *divisive* when one group mostly agrees and another mostly
   disagrees, with a gap of at least 0.5 in net agreement. A group's *representative*
   statements are those it agrees (or disagrees) with significantly more than the rest
   (two-proportion z > 1.645 and a majority inside the group), as pol.is's repness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from territoria.participation.model import VoteMatrix

FloatArray = npt.NDArray[np.float64]
_MIN_IN_CONV = 15
_SILHOUETTE_SLACK = 0.03
_CONSENSUS_RATE = 0.6
_DIVISIVE_GAP = 0.5
_Z_90 = 1.6449
_BASE_CLUSTERS = 100
UNCLEAR = (
    "Pas de groupes d'opinion nets : les groupes trouvés ne se retrouvent pas d'un "
    "échantillon de participants à l'autre, ou ne se distinguent pas d'un nuage unique."
)


@dataclass(frozen=True)
class StatementStats:
    statement: str
    agree: tuple[int, ...]  # per group
    disagree: tuple[int, ...]
    seen: tuple[int, ...]

    def rate(self, g: int, side: str = "agree") -> float:
        count = self.agree[g] if side == "agree" else self.disagree[g]
        return (count + 1) / (self.seen[g] + 2)

    def net(self, g: int) -> float:
        return (self.agree[g] - self.disagree[g]) / (self.seen[g] + 2)


@dataclass(frozen=True)
class OpinionGroups:
    name: str
    participants: int  # who voted at least once
    clustered: tuple[str, ...]
    groups: dict[str, int]  # participant -> group, clustered and projected
    k: int
    silhouette: float | None
    scores: dict[int, float]
    projection: dict[str, tuple[float, float]]
    stats: tuple[StatementStats, ...]
    consensus: tuple[tuple[str, str, float], ...]  # (statement, "agree"/"disagree", min rate)
    divisive: tuple[tuple[str, float], ...]  # (statement, gap in net agreement)
    representative: dict[int, list[tuple[str, str, float]]]  # group -> (statement, side, z)
    explained_variance: tuple[float, ...] = ()
    note: str = ""
    sizes: dict[int, int] = field(default_factory=dict)
    stability: Stability | None = None
    tentative: dict[str, int] = field(default_factory=dict)  # groups not drawn (unclear)


def vote_array(matrix: VoteMatrix) -> tuple[FloatArray, list[str]]:
    """Votes as floats with NaN for missing, without moderated-out statements."""
    keep = [j for j, s in enumerate(matrix.statements) if s not in matrix.moderated_out]
    votes = np.array(
        [[np.nan if row[j] is None else row[j] for j in keep] for row in matrix.votes],
        dtype=np.float64,
    ).reshape(len(matrix.votes), len(keep))
    return votes, [matrix.statements[j] for j in keep]


def in_conversation(counts: npt.NDArray[np.int64], n_statements: int) -> npt.NDArray[np.bool_]:
    chosen = counts >= min(7, n_statements)
    if chosen.sum() < _MIN_IN_CONV:
        order = np.argsort(-counts, kind="stable")
        for i in order[:_MIN_IN_CONV]:
            if counts[i] > 0:
                chosen[i] = True
    return chosen & (counts > 0)


def project(votes: FloatArray, fit_rows: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """Sparsity-aware 2-D projection of every row; PCA fitted on `fit_rows`."""
    seen = ~np.isnan(votes)
    fitted = seen[fit_rows]
    totals = np.where(fitted, votes[fit_rows], 0.0).sum(axis=0)
    centre = totals / np.maximum(fitted.sum(axis=0), 1)
    centred = np.where(seen, votes, centre[None, :]) - centre[None, :]
    _, singular, components = np.linalg.svd(centred[fit_rows], full_matrices=False)
    pcs = components[:2]
    if pcs.shape[0] < 2:
        pcs = np.vstack([pcs, np.zeros((2 - pcs.shape[0], votes.shape[1]))])
    counts = seen.sum(axis=1)
    scale = np.sqrt(votes.shape[1] / np.maximum(counts, 1))
    points = (centred @ pcs.T) * scale[:, None]
    variance = singular**2
    explained = variance[:2] / variance.sum() if variance.sum() else np.zeros(2)
    return points, explained


@dataclass(frozen=True)
class StabilityRule:
    """When groups count as clear; the defaults are chosen in bench/bench_participation.py."""

    min_resample_ari: float = 0.5
    min_structure_z: float = 1.0
    resamples: int = 10
    null_draws: int = 10
    share: float = 0.8  # of the participants kept in each resample


@dataclass(frozen=True)
class Stability:
    resample_ari: float  # mean ARI between the groups and those of 80 % resamples
    structure_z: float  # silhouette above a single Gaussian cloud, in standard deviations
    silhouette: float
    null_silhouette: float
    stable: bool


def _base_clusters(
    points: FloatArray, seed: int
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    """(centres, base cluster of each point, members per centre): pol.is's 100 base clusters."""
    from sklearn.cluster import KMeans

    distinct = len(np.unique(np.round(points, 9), axis=0))
    if distinct <= _BASE_CLUSTERS:
        centres, assign = np.unique(np.round(points, 9), axis=0, return_inverse=True)
        assign = np.asarray(assign, dtype=np.int64).reshape(-1)
        centres = np.array([points[assign == c].mean(axis=0) for c in range(len(centres))])
    else:
        model = KMeans(_BASE_CLUSTERS, n_init=1, random_state=seed).fit(points)
        centres, assign = model.cluster_centers_, np.asarray(model.labels_, dtype=np.int64)
    weights = np.bincount(assign, minlength=len(centres)).astype(np.float64)
    return centres, assign, weights


def choose_groups(
    points: FloatArray, *, seed: int, min_group_size: int, max_k: int = 5
) -> tuple[npt.NDArray[np.int64], FloatArray, float | None, dict[int, float]]:
    """(labels, centres, silhouette, silhouette per k); one group when none is acceptable."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(points)
    centres_b, assign, weights = _base_clusters(points, seed)
    top = min(max_k, 2 + n // 12, len(centres_b) - 1)
    candidates: list[tuple[float, int, npt.NDArray[np.int64], FloatArray]] = []
    scores: dict[int, float] = {}
    for k in range(2, top + 1):
        if n < k * min_group_size:
            break
        model = KMeans(k, n_init=10, random_state=seed).fit(centres_b, sample_weight=weights)
        labels = np.asarray(model.labels_, dtype=np.int64)[assign]
        present = sorted(set(labels.tolist()))
        if len(present) < 2:
            continue
        score = float(silhouette_score(points, labels))
        scores[k] = round(score, 4)
        sizes = np.bincount(labels, minlength=k)[present]
        if sizes.min() < min_group_size:
            continue
        centres = np.array([points[labels == g].mean(axis=0) for g in present])
        labels = np.searchsorted(np.array(present), labels).astype(np.int64)
        candidates.append((score, len(present), labels, centres))
    if not candidates:
        return np.zeros(n, dtype=np.int64), points.mean(axis=0, keepdims=True), None, scores
    best = max(c[0] for c in candidates)
    score, _, labels, centres = next(c for c in candidates if c[0] >= best - _SILHOUETTE_SLACK)
    order = np.argsort(-np.bincount(labels), kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[labels], centres[order], round(score, 4), scores


def stability(
    points: FloatArray,
    labels: npt.NDArray[np.int64],
    silhouette: float,
    *,
    seed: int,
    min_group_size: int,
    rule: StabilityRule,
) -> Stability:
    """Do the groups come back on resamples, and do they beat one single cloud?"""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    n = len(points)
    agreements = []
    for r in range(rule.resamples):
        keep = np.sort(rng.choice(n, max(2, int(rule.share * n)), replace=False))
        again, _, _, _ = choose_groups(points[keep], seed=seed + r + 1, min_group_size=1)
        agreements.append(float(adjusted_rand_score(labels[keep], again)))
    mean, cov = points.mean(axis=0), np.cov(points.T)
    nulls = []
    for r in range(rule.null_draws):
        cloud = rng.multivariate_normal(mean, cov, n)
        _, _, score, _ = choose_groups(cloud, seed=seed + r + 1, min_group_size=min_group_size)
        nulls.append(score or 0.0)
    spread = float(np.std(nulls)) or 1e-6
    z = (silhouette - float(np.mean(nulls))) / spread
    resample = float(np.mean(agreements)) if agreements else 0.0
    return Stability(
        resample_ari=round(resample, 4),
        structure_z=round(z, 2),
        silhouette=round(silhouette, 4),
        null_silhouette=round(float(np.mean(nulls)), 4),
        stable=resample >= rule.min_resample_ari and z >= rule.min_structure_z,
    )


def analyze_votes(
    matrix: VoteMatrix,
    *,
    seed: int = 0,
    min_group_size: int = 5,
    rule: StabilityRule | None = None,
) -> OpinionGroups:
    rule = rule or StabilityRule()
    votes, statements = vote_array(matrix)
    counts = (~np.isnan(votes)).sum(axis=1)
    voted = counts > 0
    ids = list(matrix.participants)
    inside = in_conversation(counts, len(statements))
    empty = OpinionGroups(
        matrix.name,
        int(voted.sum()),
        (),
        {},
        0,
        None,
        {},
        {},
        (),
        (),
        (),
        {},
        note="Trop peu de votes pour former des groupes d'opinion.",
    )
    if inside.sum() < 2 * min_group_size or len(statements) < 2:
        return empty
    points, explained = project(votes, inside)
    labels_in, centres, silhouette, scores = choose_groups(
        points[inside], seed=seed, min_group_size=min_group_size
    )
    k = len(centres)
    check = None
    if k > 1 and silhouette is not None:
        check = stability(
            points[inside],
            labels_in,
            silhouette,
            seed=seed,
            min_group_size=min_group_size,
            rule=rule,
        )
    labels = np.full(len(ids), -1, dtype=np.int64)
    labels[inside] = labels_in
    outside = voted & ~inside
    if outside.any():
        distances = ((points[outside][:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)
        labels[outside] = distances.argmin(axis=1)
    tentative = {ids[i]: int(labels[i]) for i in np.flatnonzero(voted)}
    if check is not None and not check.stable:
        labels[voted] = 0
        k = 1
    stats = _statement_stats(votes, statements, labels, inside, k)
    if k > 1:
        note = ""
    elif check is not None:
        note = UNCLEAR
    else:
        note = f"Aucune partition en groupes d'au moins {min_group_size} personnes n'a été retenue."
    return OpinionGroups(
        name=matrix.name,
        participants=int(voted.sum()),
        clustered=tuple(ids[i] for i in np.flatnonzero(inside)),
        groups={ids[i]: int(labels[i]) for i in np.flatnonzero(voted)},
        k=k,
        silhouette=silhouette,
        scores=scores,
        projection={
            ids[i]: (round(float(points[i, 0]), 4), round(float(points[i, 1]), 4))
            for i in np.flatnonzero(voted)
        },
        stats=stats,
        consensus=consensus(stats) if k > 1 else (),
        divisive=divisive(stats) if k > 1 else (),
        representative=representative(stats, k) if k > 1 else {},
        explained_variance=tuple(round(float(x), 4) for x in explained),
        note=note,
        sizes={g: int((labels == g).sum()) for g in range(k)},
        stability=check,
        tentative=tentative if check is not None and not check.stable else {},
    )


def _statement_stats(
    votes: FloatArray,
    statements: list[str],
    labels: npt.NDArray[np.int64],
    inside: npt.NDArray[np.bool_],
    k: int,
) -> tuple[StatementStats, ...]:
    out = []
    for j, statement in enumerate(statements):
        column = votes[:, j]
        agree, disagree, seen = [], [], []
        for g in range(k):
            rows = inside & (labels == g)
            values = column[rows]
            agree.append(int((values == 1).sum()))
            disagree.append(int((values == -1).sum()))
            seen.append(int((~np.isnan(values)).sum()))
        out.append(StatementStats(statement, tuple(agree), tuple(disagree), tuple(seen)))
    return tuple(out)


def consensus(stats: tuple[StatementStats, ...]) -> tuple[tuple[str, str, float], ...]:
    found = []
    for s in stats:
        k = len(s.seen)
        if min(s.seen) < 3:
            continue
        for side in ("agree", "disagree"):
            low = min(s.rate(g, side) for g in range(k))
            if low >= _CONSENSUS_RATE:
                found.append((s.statement, side, round(low, 4)))
    found.sort(key=lambda item: (-item[2], item[0]))
    return tuple(found)


def divisive(stats: tuple[StatementStats, ...]) -> tuple[tuple[str, float], ...]:
    found = []
    for s in stats:
        k = len(s.seen)
        if min(s.seen) < 3:
            continue
        nets = [s.net(g) for g in range(k)]
        gap = max(nets) - min(nets)
        agrees = any(s.rate(g, "agree") > 0.5 for g in range(k))
        disagrees = any(s.rate(g, "disagree") > 0.5 for g in range(k))
        if agrees and disagrees and gap >= _DIVISIVE_GAP:
            found.append((s.statement, round(gap, 4)))
    found.sort(key=lambda item: (-item[1], item[0]))
    return tuple(found)


def representative(
    stats: tuple[StatementStats, ...], k: int, *, top: int = 5
) -> dict[int, list[tuple[str, str, float]]]:
    out: dict[int, list[tuple[str, str, float]]] = {}
    for g in range(k):
        found = []
        for s in stats:
            for side in ("agree", "disagree"):
                inside_count = s.agree[g] if side == "agree" else s.disagree[g]
                rest = [h for h in range(k) if h != g]
                outside_count = sum(s.agree[h] if side == "agree" else s.disagree[h] for h in rest)
                outside_seen = sum(s.seen[h] for h in rest)
                z = _two_proportion_z(inside_count, s.seen[g], outside_count, outside_seen)
                if z > _Z_90 and s.rate(g, side) > 0.5:
                    found.append((s.statement, side, round(z, 3)))
        found.sort(key=lambda item: (-item[2], item[0]))
        out[g] = found[:top]
    return out


def _two_proportion_z(a: int, n_a: int, b: int, n_b: int) -> float:
    if n_a == 0 or n_b == 0:
        return 0.0
    p_a, p_b = (a + 1) / (n_a + 2), (b + 1) / (n_b + 2)
    pooled = (a + b + 1) / (n_a + n_b + 2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return (p_a - p_b) / spread if spread else 0.0
