"""`audit`, `purge` and `register`: exit codes and JSON shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from audit_fakes import Clock, FakePII, make_answer, tamper
from territoria.audit import AuditLog
from territoria.cli import governance, users
from territoria.settings import Settings
from territoria.types import Access


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("territoria")
    for command in (*users.COMMANDS, *governance.COMMANDS):
        group.add_command(command)
    return group


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(cli: click.Group, home: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--home", str(home)], input=stdin, env={"TERRITORIA_EMBEDDER": "fake"}
    )


def fill(home: Path, days_ago: list[int], subject: str = "alice") -> None:
    clock = Clock()
    now = datetime.now(UTC)
    with AuditLog(Settings(home=home), pii=FakePII(), clock=clock) as log:
        for days in days_ago:
            clock.now = now - timedelta(days=days)
            log.record(make_answer("Je suis Dupont"), Access("agent", "t"), subject=subject)


# --- audit -------------------------------------------------------------------------------------


def test_audit_verify_ok_then_tampered(cli: click.Group, home: Path) -> None:
    fill(home, [3, 2, 1, 0])
    ok = run(cli, home, "audit", "verify", "--json")
    assert ok.exit_code == 0
    data = json.loads(ok.output)
    assert set(data) == {"ok", "records", "redacted", "head", "checkpoint", "anchor", "problems"}
    assert data["ok"] and data["records"] == 4 and len(data["head"]) == 64
    tamper(home / "audit.sqlite3", "UPDATE records SET role = 'admin' WHERE seq = 3")
    bad = run(cli, home, "audit", "verify", "--json")
    assert bad.exit_code == 1
    problems = json.loads(bad.output)["problems"]
    assert [(p["kind"], p["seq"]) for p in problems] == [("content", 3)]
    assert problems[0]["record_id"] and problems[0]["message"]
    text = run(cli, home, "audit", "verify")
    assert text.exit_code == 1 and "n° 3" in text.stderr


def wipe_database(path: Path) -> None:
    """Replace the audit database by a fresh empty SQLite file."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)
    tamper(path, "VACUUM")


@pytest.mark.parametrize(
    "wipe",
    [
        "records_and_head",
        "records_head_and_events",
        "fresh_database",
        "tail_and_head_without_key",
    ],
)
def test_audit_verify_detects_a_wiped_log(cli: click.Group, home: Path, wipe: str) -> None:
    fill(home, [200, 3, 2, 1, 0])
    db = home / "audit.sqlite3"
    if wipe == "records_and_head":
        tamper(db, "DELETE FROM records", "DELETE FROM head")
    elif wipe == "records_head_and_events":
        assert run(cli, home, "purge", "--older-than", "90d").exit_code == 0
        tamper(db, "DELETE FROM records", "DELETE FROM head", "DELETE FROM events")
    elif wipe == "fresh_database":
        wipe_database(db)
    else:
        tamper(
            db,
            "DELETE FROM records WHERE seq > 3",
            "UPDATE head SET last_seq = 3, last_hash = (SELECT hash FROM records WHERE seq = 3)",
        )
    result = run(cli, home, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "Journal altéré" in result.stderr and "n° 5" in result.stderr
    data = json.loads(run(cli, home, "audit", "verify", "--json").output)
    assert not data["ok"] and "anchor" in {p["kind"] for p in data["problems"]}


def test_audit_anchor_is_exported_and_checks_the_log(
    cli: click.Group, home: Path, tmp_path: Path
) -> None:
    fill(home, [3, 2, 1])
    text = run(cli, home, "audit", "anchor")
    assert text.exit_code == 0, text.output
    assert "n° 3" in text.output and "Signature" in text.output
    data = json.loads(run(cli, home, "audit", "anchor", "--json").output)
    assert data["last_seq"] == 3 and data["records"] == 3 and len(data["signature"]) == 64
    kept = tmp_path / "ancre.json"
    written = run(cli, home, "audit", "anchor", "--out", str(kept))
    assert written.exit_code == 0 and str(kept) in written.stderr
    assert json.loads(kept.read_text(encoding="utf-8"))["last_hash"] == data["last_hash"]
    fill(home, [0])
    ok = run(cli, home, "audit", "verify", "--anchor", str(kept), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["anchor"]["last_seq"] == 4
    ok_text = run(cli, home, "audit", "verify", "--anchor", str(kept)).output
    assert "Ancre locale : n° 4" in ok_text and "Conforme à l'ancre externe" in ok_text
    tamper(home / "audit.sqlite3", "DELETE FROM records WHERE seq >= 3")
    bad = run(cli, home, "audit", "verify", "--anchor", str(kept))
    assert bad.exit_code == 1 and "Ancre externe" in bad.stderr
    refused = run(cli, home, "audit", "anchor")
    assert refused.exit_code == 1 and "ancre" in refused.output
    missing = run(cli, home, "audit", "verify", "--anchor", str(tmp_path / "absente.json"))
    assert missing.exit_code != 0


def test_audit_list_and_export(cli: click.Group, home: Path, tmp_path: Path) -> None:
    fill(home, [10, 1])
    listed = json.loads(run(cli, home, "audit", "list", "--json").output)["records"]
    assert [r["seq"] for r in listed] == [2, 1]
    assert listed[0]["question"] == "Je suis [PERSONNE_abc123]"

    exported = run(cli, home, "audit", "export", "--format", "json", "--since", "5d")
    assert exported.exit_code == 0, exported.output
    assert [r["seq"] for r in json.loads(exported.output)] == [2]

    out = tmp_path / "audit.csv"
    written = run(cli, home, "audit", "export", "--format", "csv", "--out", str(out), "--json")
    assert json.loads(written.output) == {"exported": 2, "format": "csv", "out": str(out)}
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("seq,record_id,time") and len(lines) == 3
    assert "Dupont" not in out.read_text(encoding="utf-8")


def test_bad_since_is_refused_in_french(cli: click.Group, home: Path) -> None:
    result = run(cli, home, "audit", "export", "--since", "hier")
    assert result.exit_code == 1 and "Date invalide" in result.output


# --- purge -------------------------------------------------------------------------------------


def test_purge_older_than_keeps_the_log_verifiable(cli: click.Group, home: Path) -> None:
    fill(home, [200, 120, 100, 10, 1])
    result = run(cli, home, "purge", "--older-than", "90d", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["purged"] == 3 and data["older_than_days"] == 90
    assert data["checkpoint"]["last_seq"] == 3
    verified = json.loads(run(cli, home, "audit", "verify", "--json").output)
    assert (
        verified["ok"] and verified["records"] == 2 and verified["checkpoint"]["purged_total"] == 3
    )


def test_purge_defaults_to_the_retention_setting(cli: click.Group, home: Path) -> None:
    fill(home, [200, 10])
    result = CliRunner().invoke(
        cli, ["purge", "--json", "--home", str(home)], env={"TERRITORIA_AUDIT_RETENTION_DAYS": "30"}
    )
    assert json.loads(result.output)["purged"] == 1


def test_purge_user_redacts_and_deletes_the_account(cli: click.Group, home: Path) -> None:
    assert run(cli, home, "users", "add", "alice", "--no-password").exit_code == 0
    fill(home, [2, 1], subject="alice")
    fill(home, [0], subject="bob")
    result = run(cli, home, "purge", "--user", "alice", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["redacted"] == 2 and data["account_deleted"] is True
    assert data["subject"].startswith("sujet_")
    assert json.loads(run(cli, home, "audit", "verify", "--json").output)["ok"]
    subject_bob = run(cli, home, "audit", "export").output
    assert json.loads(subject_bob)[2]["question"] == "Je suis [PERSONNE_abc123]"
    again = json.loads(run(cli, home, "purge", "--subject", data["subject"], "--json").output)
    assert again == {"redacted": 0, "subject": data["subject"]}


def test_purge_options_are_exclusive_and_checked(cli: click.Group, home: Path) -> None:
    assert run(cli, home, "purge", "--older-than", "90d", "--user", "a").exit_code == 2
    bad = run(cli, home, "purge", "--older-than", "90 jours")
    assert bad.exit_code == 1 and "Durée invalide" in bad.output


def test_purge_refuses_a_tampered_log(cli: click.Group, home: Path) -> None:
    fill(home, [200, 100, 1])
    tamper(home / "audit.sqlite3", "DELETE FROM records WHERE seq = 2")
    result = run(cli, home, "purge", "--older-than", "90d")
    assert result.exit_code == 1 and "purge refusée" in result.output


# --- register ----------------------------------------------------------------------------------


def test_register_json_and_markdown(cli: click.Group, home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["register", "--format", "json", "--home", str(home)],
        env={
            "TERRITORIA_EMBEDDER": "e5",
            "TERRITORIA_LLM_URL": "http://llm:8000/v1",
            "TERRITORIA_LLM_MODEL": "qwen-test",
        },
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["models"]["embedder"]["model"] == "multilingual-e5-small"
    assert data["models"]["llm"]["model"] == "qwen-test"
    assert data["data"]["corpus"]["documents"] == 0
    assert data["ai_notice"]

    out = tmp_path / "registre.md"
    md = run(cli, home, "register", "--out", str(out))
    assert md.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Territoria") and "## Modèles et versions" in text
