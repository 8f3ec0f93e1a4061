"""The abstention threshold of each collectivité: calibrated on its corpus, stored beside the
index (or in PostgreSQL, shared by the replicas), set by the operator, shown to operators.

`Thresholds` owns that state for the `Assistant`: `threshold` for a question (calibrating
first when the corpus changed by more than a few percent or the method changed),
`calibrations` at index time, `threshold_states` to show without calibrating. How a corpus
is calibrated is `answer.calibration`.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from territoria.answer.abstain import CONFIDENCE_VERSION
from territoria.answer.calibration import (
    FALLBACK_THRESHOLD,
    Asker,
    CalibrationSet,
    Progress,
    ThresholdState,
    calibrate,
    is_current,
)
from territoria.answer.calibration_store import CalibrationStore, open_calibration_store
from territoria.search import Retriever
from territoria.settings import Settings
from territoria.types import Access


class Thresholds:
    """The abstention thresholds of an index's collectivités; `asker` weighs the evidence of
    the calibration questions (the `Assistant`)."""

    def __init__(self, settings: Settings, retriever: Retriever, asker: Asker) -> None:
        self.settings = settings
        self.retriever = retriever
        self.asker = asker
        self._calibration: CalibrationSet | None = None
        self._calibration_version: tuple[int, bool] = (-1, False)
        self._calibration_lock = threading.RLock()

    @property
    def calibration_path(self) -> Path:
        return self.settings.index_dir / "calibration.json"

    def _stamp(self) -> dict[str, object]:
        from territoria.search.parameters import ranking_settings

        return {
            "confidence": CONFIDENCE_VERSION,
            "questions": self.settings.calibration_questions,
            # whatever changes a ranking changes the confidences (query settings included:
            # fusion, spelling, synonyms, a follow-up's weight)
            "params": ranking_settings(self.settings),
            # calibrated again once the vectors computed in the background are all there
            "vectors": self.retriever.version()[1],
        }

    @cached_property
    def calibration_store(self) -> CalibrationStore:
        """`<index>/calibration.json`, or one row of PostgreSQL shared by the replicas."""
        return open_calibration_store(self.settings)

    def close(self) -> None:
        if "calibration_store" in self.__dict__:
            self.calibration_store.close()

    def calibrations(self, progress: Progress | None = None) -> CalibrationSet:
        """The calibration of every tenant of the index, recomputed for the tenants whose
        corpus changed by more than a few percent (or when the method changed). One process
        calibrates at a time (`CalibrationStore.exclusive`): a replica that waited for
        another reads its result instead of calibrating again."""
        with self._calibration_lock:
            stamp = self._stamp()
            counts = self.retriever.passage_counts()
            current = self._calibration or self.calibration_store.load()
            if _stale(current, stamp, counts):
                with self.calibration_store.exclusive():
                    current = self.calibration_store.load()
                    if _stale(current, stamp, counts):
                        current = self._calibrate(current, stamp, counts, progress)
                        self.calibration_store.save(current)
            assert current is not None
            self._calibration = current
            self._calibration_version = self.retriever.version()
            return current

    def _calibrate(
        self,
        current: CalibrationSet | None,
        stamp: dict[str, object],
        counts: dict[str, int],
        progress: Progress | None,
    ) -> CalibrationSet:
        """`current` with the tenants whose corpus changed calibrated again."""
        if current is None or current.stamp != stamp:
            current = CalibrationSet(stamp)
        lexicon = self.retriever.lexicon()
        for tenant, n_passages in counts.items():
            known = current.tenants.get(tenant)
            if known is None or not is_current(known, n_passages):
                current.tenants[tenant] = calibrate(
                    self.asker,
                    lexicon,
                    self.retriever.passages(tenant),
                    tenant,
                    n=self.settings.calibration_questions,
                    progress=progress,
                )
        for tenant in set(current.tenants) - set(counts):
            del current.tenants[tenant]
        return current

    def prepare(self, progress: Progress | None = None) -> None:
        """Compute now, with `progress`, the calibration the first `threshold` would compute
        silently (a corpus indexed elsewhere, an upgrade of the confidence); nothing when the
        operator sets the threshold, which `threshold` then returns without one."""
        if self.settings.abstain_threshold is None:
            self.calibrations(progress)

    def threshold_states(self) -> list[ThresholdState]:
        """The abstention threshold of every tenant as it stands, without calibrating (for
        `territoria documents` and the admin page): a stored calibration made by this
        method on a corpus of about the same size, else "à calculer"."""
        counts = self.retriever.passage_counts()
        stored = self._calibration or self.calibration_store.load()
        if stored is not None and stored.stamp.get("confidence") != CONFIDENCE_VERSION:
            stored = None
        states = []
        for tenant, n_passages in sorted(counts.items()):
            found = stored.tenants.get(tenant) if stored is not None else None
            if found is not None and not is_current(found, n_passages):
                found = None
            if self.settings.abstain_threshold is not None:
                states.append(
                    ThresholdState(tenant, self.settings.abstain_threshold, "réglage", found)
                )
            elif found is None:
                states.append(ThresholdState(tenant, None, "à calculer"))
            else:
                states.append(ThresholdState(tenant, found.threshold, found.source, found))
        return states

    def threshold(self, access: Access) -> tuple[float, str]:
        """The abstention threshold of the caller's tenant and where it comes from:
        "réglage" (the operator's setting), "corpus" (calibrated) or "défaut"."""
        if self.settings.abstain_threshold is not None:
            return self.settings.abstain_threshold, "réglage"
        cached = self._calibration
        if cached is None or self._calibration_version != self.retriever.version():
            cached = self.calibrations()
        found = cached.tenants.get(access.tenant)
        if found is None:
            return FALLBACK_THRESHOLD, "défaut"
        return found.threshold, found.source


def _stale(
    current: CalibrationSet | None, stamp: dict[str, object], counts: dict[str, int]
) -> bool:
    """Whether `current` misses a tenant of `counts`, holds one no longer there, was made by
    another method, or was made on a corpus that changed since."""
    if current is None or current.stamp != stamp or set(current.tenants) != set(counts):
        return True
    return any(not is_current(current.tenants[t], n) for t, n in counts.items())
