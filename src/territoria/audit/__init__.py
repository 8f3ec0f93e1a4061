"""The audit log: one hash-chained record per answered request, verifiable, replayable,
exportable, with retention and erasure that keep it verifiable.

    log = AuditLog(settings)                     # <home>/audit.sqlite3
    record_id = log.record(answer, access, subject=user)
    log.verify().ok
    replay(log, record_id, runtime.assistant).changed

See `chain.py` for the hashing scheme, `anchor.py` for the signed anchor kept outside the
database (a wiped or replaced log is detected; `log.anchor()` gives one to keep elsewhere,
`log.verify(anchor=path)` checks against it) and `retention.py` for purge and erasure.
"""

from __future__ import annotations

from territoria.audit.chain import Problem, VerifyResult
from territoria.audit.log import (
    ANSWER_WITHHELD,
    QUESTION_WITHHELD,
    AuditLog,
    AuditRecord,
    Pseudonymizer,
)
from territoria.audit.replay import ReplayResult, replay
from territoria.audit.retention import parse_duration

__all__ = [
    "ANSWER_WITHHELD",
    "QUESTION_WITHHELD",
    "AuditLog",
    "AuditRecord",
    "Problem",
    "Pseudonymizer",
    "ReplayResult",
    "VerifyResult",
    "parse_duration",
    "replay",
]
