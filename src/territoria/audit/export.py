"""Export audit records as CSV or JSON, streamed (the log can be large).

What is exported is what is stored: questions and generative answers were pseudonymised when
written, users appear as keyed pseudonyms, redacted records have no personal field. Every
hashed field and both hashes are included, so anyone can recompute the record hashes of an
export (`territoria.audit.chain.record_hash`) and check the links between its records.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from territoria.audit.log import AuditRecord

CSV_COLUMNS = (
    "seq", "record_id", "time", "tenant", "role", "subject", "mode", "question", "answer",
    "abstained", "cited", "passages", "verification", "confidence", "energy_wh",
    "energy_gco2e", "energy_method", "latency_ms", "versions", "request_id", "redacted_at",
    "personal_digest", "nonce", "prev_hash", "hash",
)  # fmt: skip


def write_json(records: Iterable[AuditRecord], out: TextIO) -> int:
    """A JSON array of records, one per line; return how many were written."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(records: Iterable[AuditRecord], out: TextIO) -> int:
    """One row per record; nested fields as JSON; return how many were written."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        data = record.as_dict()
        row = {name: data.get(name) for name in CSV_COLUMNS}
        row["cited"] = " ".join(record.cited)
        row["abstained"] = int(record.abstained)
        for name in ("passages", "verification", "versions"):
            row[name] = json.dumps(data[name], ensure_ascii=False, sort_keys=True)
        writer.writerow(row)
        count += 1
    return count
