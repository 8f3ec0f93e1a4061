"""`territoria migrate --to postgres`: an embedded home copied to PostgreSQL, checked, and
working there (sign-in, search, audit verify) as it did on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit_fakes import FakePII, make_answer
from helpers import write_corpus, write_internal
from retex.conftest import NoPII, fiche
from territoria.accounts import Accounts
from territoria.audit import AuditLog
from territoria.cli import _register, cli
from territoria.feedback import FeedbackStore
from territoria.forecast.storage import StoredRun, open_run_store
from territoria.participation.storage import StoredReport, open_report_store
from territoria.retex import Commons
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
OTHER_KEY = "ed25519:" + "A" * 43
ENV = {"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"}


def invoke(*args: str) -> tuple[int, str]:
    _register()
    result = CliRunner().invoke(cli, list(args), env=ENV)
    return result.exit_code, result.output


def test_an_embedded_home_moves_to_postgres_without_loss(tmp_path: Path, postgres_dsn: str) -> None:
    home = tmp_path / "home"
    corpus = write_corpus(tmp_path / "corpus")
    code, _ = invoke("ingest", str(corpus), "--home", str(home))
    assert code == 0
    code, _ = invoke(
        "ingest", str(write_internal(tmp_path / "int")), "--visibility", "internal",
        "--home", str(home),
    )  # fmt: skip
    assert code == 0
    settings = Settings(home=home, embedder="fake", title_embedder="fake")
    with Accounts(settings) as accounts:
        accounts.add_user("alice", tenant="default", role="agent", password=PASSWORD)
        accounts.create_token("alice")
    with AuditLog(settings, pii=FakePII()) as log:
        asked = [log.record(make_answer(), Access("agent"), subject="alice") for _ in range(3)]
    with FeedbackStore(settings, pii=FakePII()) as feedback:
        feedback.add(str(asked[0]), useful=True)
    commons = Commons(settings, guard=NoPII())
    commons.add(fiche())
    commons.trust("Bourg", OTHER_KEY)
    public_key = commons.key.public_key
    commons.close()
    reports = open_report_store(settings)
    reports.save(StoredReport("0123456789abcdef", "default", "alice", "2025-01-01", "{}", "<p/>"))
    reports.close()
    runs = open_run_store(settings)
    runs.save(StoredRun("fedcba9876543210", "default", "alice", "2025-01-02", "0" * 64, {"a": 1}))
    runs.close()

    code, output = invoke(
        "migrate", "--to", "postgres", "--dsn", postgres_dsn, "--home", str(home), "--json"
    )
    assert code == 0, output
    report = json.loads(output)
    assert report["ok"] and report["audit_verified"]
    for table in (
        "documents", "passages", "vectors", "users", "tokens", "records", "feedback",
        "retex_fiches", "retex_trusted_keys", "participation_reports", "retex_key",
        "forecast_runs",
    ):  # fmt: skip
        check = report["tables"][table]
        assert check["ok"] and check["source"] == check["target"] > 0, table

    moved = settings.model_copy(update={"store": "postgres", "postgres_dsn": postgres_dsn})
    with Accounts(moved) as accounts:
        assert accounts.authenticate_password("alice", PASSWORD).user == "alice"
    with AuditLog(moved) as log:
        assert log.verify().ok
        assert [r.record_id for r in log.records()] == asked
    with FeedbackStore(moved) as feedback:
        assert [f.request_id for f in feedback.items()] == [asked[0]]
    commons = Commons(moved, guard=NoPII())
    try:  # the same instance: same key, same fiches, and new fiches go after the copied ones
        assert commons.key.public_key == public_key
        assert list(commons.store.trusted()) == [OTHER_KEY]
        commons.add(fiche("second-fiche-01"))
        assert [f.id for f in commons.fiches()] == ["velo-test-01", "second-fiche-01"]
    finally:
        commons.close()
    rt = Runtime(moved)
    try:
        assert rt.reports.get("default", "0123456789abcdef").html == "<p/>"
        runs = open_run_store(moved)
        assert runs.get("default", "fedcba9876543210").document == {"a": 1}
        runs.close()
        rt.refresh()
        agent = rt.retriever.search("code du local des archives", k=3, access=Access("agent"))
        public = rt.retriever.search("code du local des archives", k=10, access=Access())
        assert agent and agent[0].passage.visibility == "internal"
        assert all(h.passage.visibility == "public" for h in public)
    finally:
        rt.close()

    code, output = invoke("migrate", "--to", "postgres", "--dsn", postgres_dsn, "--home", str(home))
    assert code != 0 and "contient déjà" in output
