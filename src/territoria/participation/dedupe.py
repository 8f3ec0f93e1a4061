"""Exact and near-duplicate contributions (copy-paste campaigns, reposts, small edits).

Texts are folded (case, accents, punctuation, spaces); identical folded texts are exact
duplicates. Near duplicates are pairs whose sets of word shingles have a Jaccard similarity of
at least `threshold`: candidates come from MinHash locality-sensitive hashing (8 bands of 4
rows), and every candidate pair is verified on the exact Jaccard before it is merged.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PRIME = np.uint64((1 << 61) - 1)
_BANDS, _ROWS = 8, 4
_STAR_BUCKET = 50  # above this bucket size, compare members with the first one only


@dataclass(frozen=True)
class Duplicates:
    """`canonical[i]` is the first index of i's duplicate group (i itself when unique)."""

    canonical: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]  # groups of two or more, largest first

    @property
    def unique_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.canonical) if c == i]


def fold_words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(plain)


def shingles(words: Sequence[str], size: int = 3) -> set[str]:
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def find_duplicates(texts: Sequence[str], *, threshold: float = 0.8, seed: int = 0) -> Duplicates:
    n = len(texts)
    uf = _UnionFind(n)
    first_of: dict[str, int] = {}
    words = [fold_words(t) for t in texts]
    for i, w in enumerate(words):
        key = " ".join(w)
        if key in first_of:
            uf.union(first_of[key], i)
        else:
            first_of[key] = i
    distinct = sorted(first_of.values())
    sets = {i: shingles(words[i]) for i in distinct if len(words[i]) >= 3}
    for a, b in _candidate_pairs(sets, seed):
        if jaccard(sets[a], sets[b]) >= threshold:
            uf.union(a, b)
    canonical = tuple(uf.find(i) for i in range(n))
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(canonical):
        members[c].append(i)
    groups = sorted(
        (tuple(m) for m in members.values() if len(m) > 1), key=lambda g: (-len(g), g[0])
    )
    return Duplicates(canonical, tuple(groups))


def _candidate_pairs(sets: dict[int, set[str]], seed: int) -> set[tuple[int, int]]:
    if len(sets) < 2:
        return set()
    rng = np.random.default_rng(seed)
    hashes = _BANDS * _ROWS
    a = rng.integers(1, int(_PRIME), size=hashes, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=hashes, dtype=np.uint64)
    ids = list(sets)
    signatures = np.empty((len(ids), hashes), dtype=np.uint64)
    chunk = 2000
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        values = [np.fromiter((zlib.crc32(s.encode()) for s in sets[i]), np.uint64) for i in part]
        lengths = np.array([len(v) for v in values])
        flat = np.concatenate(values)
        with np.errstate(over="ignore"):
            mixed = (a[:, None] * flat[None, :] + b[:, None]) % _PRIME
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        signatures[start : start + len(part)] = np.minimum.reduceat(mixed, offsets, axis=1).T
    pairs: set[tuple[int, int]] = set()
    for band in range(_BANDS):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = signatures[:, band * _ROWS : (band + 1) * _ROWS]
        for row, doc in enumerate(ids):
            buckets[block[row].tobytes()].append(doc)
        for bucket in buckets.values():
            if len(bucket) < 2:
                continue
            if len(bucket) > _STAR_BUCKET:
                pairs.update((bucket[0], other) for other in bucket[1:])
                continue
            pairs.update(
                (bucket[x], bucket[y])
                for x in range(len(bucket))
                for y in range(x + 1, len(bucket))
            )
    return pairs
