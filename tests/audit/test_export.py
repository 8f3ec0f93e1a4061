"""CSV and JSON exports: complete, pseudonymised, and verifiable by a third party."""

from __future__ import annotations

import csv
import io
import json

from audit_fakes import Clock, make_answer
from territoria.audit import AuditLog
from territoria.audit.chain import GENESIS, record_hash
from territoria.audit.export import CSV_COLUMNS, write_csv, write_json
from territoria.types import Access


def test_json_export_can_be_checked_without_the_database(log: AuditLog, clock: Clock) -> None:
    for i in range(3):
        log.record(make_answer(f"Je suis Dupont {i}"), Access(), subject="alice")
        clock.advance(hours=1)
    out = io.StringIO()
    assert write_json(log.records(), out) == 3
    records = json.loads(out.getvalue())
    prev = GENESIS
    for record in records:
        assert record["prev_hash"] == prev
        assert record_hash(record, prev) == record["hash"]
        prev = record["hash"]
    assert "Dupont" not in out.getvalue() and "alice" not in out.getvalue()


def test_empty_json_export_is_an_empty_array(log: AuditLog) -> None:
    out = io.StringIO()
    assert write_json(log.records(), out) == 0
    assert json.loads(out.getvalue()) == []


def test_csv_export_has_one_row_per_record(log: AuditLog) -> None:
    log.record(make_answer("Je suis Dupont, et la cantine ?"), Access())
    log.record(make_answer(abstained=True), Access())
    out = io.StringIO()
    assert write_csv(log.records(), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["question"] == "Je suis [PERSONNE_abc123], et la cantine ?"
    assert rows[0]["cited"] == "p0" and rows[1]["cited"] == ""
    assert (rows[0]["abstained"], rows[1]["abstained"]) == ("0", "1")
    assert json.loads(rows[0]["passages"])[0]["passage_id"] == "p0"
