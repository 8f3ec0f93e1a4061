"""Moving an embedded home to PostgreSQL without loss (`territoria migrate --to postgres`).

Copies everything the home's SQLite files hold: documents with their passages (flags and
approvals included) and cached vectors of every model (`territoria.sqlite3`); tenants, users,
tokens, sessions and failed logins, feedback and the upload journal (`governance.sqlite3`); the
audit chain, its events and head (`audit.sqlite3`); the RETEX fiches, trusted keys, followed
feeds (`retex.sqlite3`) and the instance's signing key (`retex.key`, which becomes the key of
every replica); the participation syntheses (`participation.sqlite3`); the forecast runs
(`forecast.sqlite3`). Then checks, table by
table, that both sides hold the same number of rows and the same rows: an order-independent
hash (the sum of the SHA-256 of each row's canonical JSON, modulo 2^256), computed on each
side from what was read back. The audit chain is verified on PostgreSQL afterwards, with
this home's anchor.

The target must be empty (no document, user or audit record): a migration never merges two
homes. The source is only read. Originals (`<home>/originals`) stay files: replicas reach
them through a shared folder (`TERRITORIA_ORIGINALS_DIR`, see the README).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from territoria.audit.records import COLUMNS as RECORD_COLUMNS
from territoria.audit.schema import open_audit_database
from territoria.errors import Conflict, InvalidRequest
from territoria.feedback import feedback_schema
from territoria.forecast.storage import run_schema
from territoria.governance import open_governance
from territoria.ingest.journal import upload_schema
from territoria.participation.storage import report_schema
from territoria.retex.storage import retex_schema
from territoria.settings import Settings
from territoria.store import Store, StoredDocument, open_store
from territoria.store.database import Database, Schema, open_database
from territoria.types import Passage

Progress = Callable[[int, int, str], None]
_BATCH = 1000
Tables = dict[str, tuple[str, ...]]

# table -> columns, per database; children after parents (foreign keys)
GOVERNANCE: Tables = {
    "tenants": ("tenant", "created_at"),
    "users": ("user_id", "name", "tenant", "role", "password_hash", "created_at"),
    "tokens": (
        "token_id", "user_id", "secret_hash", "created_at", "expires_at", "last_used_at",
        "revoked_at",
    ),
    "sessions": (
        "session_hash", "user_id", "tenant", "created_at", "expires_at", "last_seen_at",
        "revoked_at",
    ),
    "login_failures": ("name", "failures", "last_failure_at", "locked_until"),
}  # fmt: skip
FEEDBACK: Tables = {"feedback": ("feedback_id", "time", "tenant", "request_id", "useful", "reason")}
UPLOADS: Tables = {
    "uploads": (
        "upload_id", "time", "tenant", '"user"', "file_name", "status", "doc_ids", "reason"
    )
}  # fmt: skip
AUDIT: Tables = {
    "records": RECORD_COLUMNS,
    "events": ("event_seq", "kind", "time", "body", "prev_hash", "hash", "signature"),
    "head": ("id", "last_seq", "last_hash", "last_event", "event_hash", "signature"),
    "anchor_pending": ("id",),
}
RETEX: Tables = {
    "retex_fiches": (
        "seq", "id", "origin", "key", "instance", "url", "tenant", "updated", "content_hash",
        "supersedes", "withdrawn", "published", "body", "entry", "received_at",
    ),
    "retex_trusted_keys": ("key", "name", "added_at"),
    "retex_follows": ("url", "key", "name", "last_pull", "last_result"),
    "retex_meta": ("key", "value"),
}  # fmt: skip
REPORTS: Tables = {
    "participation_reports": ("report_id", "tenant", "user_name", "created_at", "data", "html")
}
FORECASTS: Tables = {
    "forecast_runs": ("run_id", "tenant", '"user"', "created_at", "inputs_sha256", "document")
}
# one-row tables that a fresh schema fills: replaced, not checked for emptiness
_FILLED = {"anchor_pending", "head", "retex_meta"}


@dataclass
class TableCheck:
    source: int = 0
    target: int = 0
    source_hash: str = ""
    target_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.source == self.target and self.source_hash == self.target_hash


@dataclass
class MigrationReport:
    tables: dict[str, TableCheck] = field(default_factory=dict)
    audit_ok: bool = False
    audit_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.audit_ok and all(t.ok for t in self.tables.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tables": {
                name: {**asdict(check), "ok": check.ok} for name, check in self.tables.items()
            },
            "audit_verified": self.audit_ok,
            "audit_problems": self.audit_problems,
        }


class RowHash:
    """An order-independent hash of rows: the sum of their SHA-256, modulo 2^256."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, row: Sequence[Any]) -> None:
        data = json.dumps([_plain(v) for v in row], ensure_ascii=False, sort_keys=True)
        self.total = (self.total + int(hashlib.sha256(data.encode()).hexdigest(), 16)) % 2**256
        self.count += 1

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def postgres_settings(settings: Settings, dsn: str) -> Settings:
    return settings.model_copy(update={"store": "postgres", "postgres_dsn": dsn})


def migrate_to_postgres(
    settings: Settings, dsn: str, progress: Progress | None = None
) -> MigrationReport:
    """Copy the embedded home of `settings` to the PostgreSQL database `dsn` and check it."""
    if settings.store != "sqlite":
        raise InvalidRequest("La migration part d'un dossier embarqué (stockage sqlite).")
    target = postgres_settings(settings, dsn)
    report = MigrationReport()
    source_store, target_store = open_store(settings), open_store(target)
    # How each part of the state is opened on a home (an embedded SQLite file or the
    # PostgreSQL database), in copying order, with its tables.
    openers: list[tuple[Callable[[Settings], Database], Tables]] = [
        (open_governance, GOVERNANCE),
        (_opener(feedback_schema, "governance.sqlite3"), FEEDBACK),
        (_opener(upload_schema, "governance.sqlite3"), UPLOADS),
        (open_audit_database, AUDIT),
        (_opener(retex_schema, "retex.sqlite3"), RETEX),
        (_opener(report_schema, "participation.sqlite3"), REPORTS),
        (_opener(run_schema, "forecast.sqlite3"), FORECASTS),
    ]
    pairs = [(open_(settings), open_(target), tables) for open_, tables in openers]
    retex_target = next(dest for _, dest, tables in pairs if tables is RETEX)
    try:
        _refuse_non_empty(target_store, pairs)
        _copy_store(source_store, target_store, report, progress)
        for source, dest, tables in pairs:
            for name, columns in tables.items():
                _copy_table(source, dest, name, columns, report, progress)
        _copy_retex_key(settings, retex_target, report)
    finally:
        source_store.close()
        target_store.close()
        for source, dest, _ in pairs:
            source.close()
            dest.close()
    from territoria.audit import AuditLog

    with AuditLog(target) as log:
        result = log.verify()
    report.audit_ok = result.ok
    report.audit_problems = [p.message for p in result.problems]
    return report


def _opener(schema: Schema, file: str) -> Callable[[Settings], Database]:
    return lambda settings: open_database(settings, schema, file)


def _refuse_non_empty(store: Store, pairs: Sequence[tuple[Database, Database, Tables]]) -> None:
    if store.list_documents():
        raise Conflict("La base PostgreSQL cible contient déjà des documents : migration refusée.")
    for _, dest, tables in pairs:
        for name in tables:
            if name in _FILLED:
                continue
            if dest.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone():
                raise Conflict(
                    f"La base PostgreSQL cible contient déjà des données ({name}) : "
                    "migration refusée."
                )


def _document_rows(store: Store) -> Iterator[tuple[StoredDocument, list[Passage]]]:
    """Each document with its passages in their order (one tenant's passages read at once)."""
    documents = store.list_documents()
    for tenant in dict.fromkeys(d.tenant for d in documents):
        by_doc: dict[str, list[Passage]] = {}
        for passage in store.iter_passages(tenant=tenant):
            by_doc.setdefault(passage.doc_id, []).append(passage)
        for doc in documents:
            if doc.tenant == tenant:
                yield doc, by_doc.get(doc.doc_id, [])


def _copy_store(
    source: Store, target: Store, report: MigrationReport, progress: Progress | None
) -> None:
    docs, passages = RowHash(), RowHash()
    documents = source.list_documents()
    for i, (doc, items) in enumerate(_document_rows(source), start=1):
        target.put_document(doc, items)
        docs.add(_doc_row(doc))
        for p in items:
            passages.add(_passage_row(p))
        if progress:
            progress(i, len(documents), "documents")
    back_docs, back_passages = RowHash(), RowHash()
    for doc, items in _document_rows(target):
        back_docs.add(_doc_row(doc))
        for p in items:
            back_passages.add(_passage_row(p))
    report.tables["documents"] = TableCheck(docs.count, back_docs.count, docs.hex, back_docs.hex)
    report.tables["passages"] = TableCheck(
        passages.count, back_passages.count, passages.hex, back_passages.hex
    )
    vectors, back = RowHash(), RowHash()
    for model in source.vector_models():
        keys = source.vector_keys(model)
        for start in range(0, len(keys), _BATCH):
            batch = keys[start : start + _BATCH]
            found = source.get_vectors(model, batch)
            target.put_vectors(model, found)
            for key, vec in found.items():
                vectors.add((model, key, np.asarray(vec, dtype=np.float32).tobytes()))
            for key, vec in target.get_vectors(model, batch).items():
                back.add((model, key, np.asarray(vec, dtype=np.float32).tobytes()))
            if progress:
                progress(min(start + _BATCH, len(keys)), len(keys), f"vecteurs {model}")
    report.tables["vectors"] = TableCheck(vectors.count, back.count, vectors.hex, back.hex)


def _copy_retex_key(settings: Settings, target: Database, report: MigrationReport) -> None:
    """The home's RETEX signing key becomes the deployment's (followers keep trusting it);
    checked by its public key on both sides."""
    from territoria.retex.signing import KEY_FILE, InstanceKey

    path = settings.home / KEY_FILE
    if not path.exists():
        return
    source = InstanceKey.load_or_create(settings.home)
    with target.transaction(lock="retex-key") as tx:
        tx.execute("DELETE FROM retex_signing_key")
        tx.execute("INSERT INTO retex_signing_key (id, pem) VALUES (1, ?)", (path.read_text(),))
        (pem,) = tx.execute("SELECT pem FROM retex_signing_key").fetchone()
    copied = InstanceKey.from_pem(str(pem).encode("ascii")).public_key
    src, back = RowHash(), RowHash()
    src.add((source.public_key,))
    back.add((copied,))
    report.tables["retex_key"] = TableCheck(1, 1, src.hex, back.hex)


def _doc_row(doc: StoredDocument) -> tuple[Any, ...]:
    return tuple(asdict(doc).values())


def _passage_row(p: Passage) -> tuple[Any, ...]:
    return tuple(_plain(v) for v in asdict(p).values())


def _copy_table(
    source: Database,
    target: Database,
    name: str,
    columns: Sequence[str],
    report: MigrationReport,
    progress: Progress | None,
) -> None:
    listed = ", ".join(columns)
    rows = source.execute(f"SELECT {listed} FROM {name}").rows
    marks = ", ".join("?" * len(columns))
    with target.transaction() as tx:
        if name in _FILLED:
            tx.execute(f"DELETE FROM {name}")
        for start in range(0, len(rows), _BATCH):
            tx.executemany(
                f"INSERT INTO {name} ({listed}) VALUES ({marks})", rows[start : start + _BATCH]
            )
        if name == "retex_fiches":  # the identity goes on after the copied rows
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('retex_fiches', 'seq'),"
                " COALESCE((SELECT max(seq) FROM retex_fiches), 0) + 1, false)"
            )
    src, back = RowHash(), RowHash()
    for row in rows:
        src.add(row)
    for row in target.execute(f"SELECT {listed} FROM {name}"):
        back.add(row)
    report.tables[name] = TableCheck(src.count, back.count, src.hex, back.hex)
    if progress:
        progress(len(rows), len(rows), name)
