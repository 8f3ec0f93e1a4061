"""`territoria audit`, `purge` and `register`: audit log, retention and the public algorithm
register (accounts are in `cli.users`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import click

from territoria.accounts import Accounts
from territoria.audit import AuditLog, VerifyResult, parse_duration, replay
from territoria.audit.export import write_csv, write_json
from territoria.cli import common, emit
from territoria.french_numbers import number
from territoria.register import entry, to_markdown
from territoria.runtime import Runtime

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)
IN = click.Path(dir_okay=False, path_type=Path)


@contextmanager
def output(path: Path | None) -> Iterator[TextIO]:
    """The file at `path` (UTF-8), or stdout."""
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield handle


# --- audit -------------------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """Journal d'audit : vérifier, ancrer, consulter, rejouer, exporter."""


def verify_json(result: VerifyResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "records": result.records,
        "redacted": result.redacted,
        "head": result.head_hash,
        "checkpoint": result.checkpoint,
        "anchor": result.anchor,
        "problems": [
            {"kind": p.kind, "seq": p.seq, "record_id": p.record_id, "message": p.message}
            for p in result.problems
        ],
    }


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=IN,
    default=None,
    help="Comparer aussi le journal à cette ancre conservée ailleurs (voir `audit anchor`).",
)
@common
def audit_verify(anchor_file: Path | None, *, runtime: Runtime, as_json: bool) -> None:
    """Vérifier l'intégrité du journal (code de sortie 1 en cas d'altération).

    Le journal est comparé à son ancre signée (<home>/audit.anchor) : un journal vidé,
    tronqué ou remplacé est détecté, même si sa tête a été supprimée ou réécrite.
    """
    with AuditLog(runtime.settings) as log:
        result = log.verify(anchor=anchor_file)
    if as_json:
        emit(verify_json(result))
    elif result.ok:
        since = ""
        if result.checkpoint:
            since = f", {result.checkpoint['purged_total']} purgé(s) derrière un point de contrôle"
        click.echo(f"Journal intègre : {result.records} enregistrement(s){since}.")
        click.echo(f"Empreinte de tête : {result.head_hash}")
        if result.anchor:
            click.echo(f"Ancre locale : n° {result.anchor['last_seq']} ({result.anchor['time']}).")
        if anchor_file is not None:
            click.echo(f"Conforme à l'ancre externe {anchor_file}.")
    else:
        click.echo(f"Journal altéré : {len(result.problems)} problème(s).", err=True)
        for p in result.problems:
            where = f"n° {p.seq} ({p.record_id}) : " if p.seq is not None else ""
            click.echo(f"  - {where}{p.message}", err=True)
    if not result.ok:
        click.get_current_context().exit(1)


@audit.command("anchor")
@click.option("--out", type=OUT, default=None, help="Écrire l'ancre (JSON) dans ce fichier.")
@common
def audit_anchor(out: Path | None, *, runtime: Runtime, as_json: bool) -> None:
    """Délivrer l'ancre signée du journal, à conserver hors du serveur.

    Conservée ailleurs (envoyée par courriel, imprimée), elle permet de vérifier plus tard
    avec `audit verify --anchor FICHIER` que rien n'a été retiré jusqu'à ce point, même par
    quelqu'un qui pourrait réécrire la base et l'ancre locale. Refusée si le journal ne se
    vérifie pas.
    """
    with AuditLog(runtime.settings) as log:
        data = log.anchor()
    if out is not None:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if as_json:
            emit({**data, "out": str(out)})
        else:
            click.echo(f"Ancre écrite dans {out}.", err=True)
        return
    if as_json:
        emit(data)
        return
    click.echo("Ancre du journal d'audit (à conserver hors du serveur) :")
    click.echo(f"  Dernier enregistrement : n° {data['last_seq']}")
    click.echo(f"  Empreinte : {data['last_hash']}")
    click.echo(f"  Enregistrements : {data['records']} présent(s), {data['purged_total']} purgé(s)")
    click.echo(f"  Événements : {data['last_event']} (empreinte {data['event_hash']})")
    click.echo(f"  Date : {data['time']}")
    click.echo(f"  Signature : {data['signature']}")
    click.echo("Vérification : territoria audit verify --anchor FICHIER (FICHIER écrit par --out).")


@audit.command("list")
@click.option("--limit", default=20, show_default=True, help="Nombre d'enregistrements.")
@click.option("--since", default=None, help="Depuis (durée comme 7d, ou date 2025-01-31).")
@common
def audit_list(limit: int, since: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Derniers enregistrements (les plus récents d'abord)."""
    with AuditLog(runtime.settings) as log:
        found = list(
            log.records(since=log.since(since) if since else None, limit=limit, newest_first=True)
        )
    if as_json:
        emit(
            {
                "records": [
                    {
                        "record_id": r.record_id,
                        "seq": r.seq,
                        "time": r.time,
                        "tenant": r.tenant,
                        "role": r.role,
                        "mode": r.mode,
                        "abstained": r.abstained,
                        "question": r.question,
                        "cited": list(r.cited),
                    }
                    for r in found
                ]
            }
        )
        return
    for r in found:
        status = "abstention" if r.abstained else f"{len(r.cited)} citation(s)"
        click.echo(f"{r.record_id}  {r.time[:19]}  {r.tenant}/{r.role}  {status}  {r.question}")


@audit.command("replay")
@click.argument("record_id")
@common
def audit_replay(record_id: str, *, runtime: Runtime, as_json: bool) -> None:
    """Rejouer une requête journalisée sur l'index courant et montrer les différences."""
    with AuditLog(runtime.settings) as log:
        result = replay(log, record_id, runtime.assistant)
    if as_json:
        emit(result.as_dict())
        return
    click.echo(f"Question : {result.question}")
    click.echo("Réponse modifiée." if result.answer_changed else "Réponse inchangée.")
    if result.answer_changed:
        click.echo(f"  avant : {result.before['answer']}")
        click.echo(f"  après : {result.after['answer']}")
    if result.abstained_changed:
        click.echo(f"Abstention : {result.before['abstained']} -> {result.after['abstained']}")
    for pid in result.citations_added:
        click.echo(f"  + citation {pid}")
    for pid in result.citations_removed:
        click.echo(f"  - citation {pid}")
    for s in result.scores:
        before = "—" if s["before"] is None else number(s["before"], 4)
        after = "—" if s["after"] is None else number(s["after"], 4)
        click.echo(f"  {s['passage_id']}: {before} -> {after}")
    for name, change in result.versions_changed.items():
        click.echo(f"  version {name} : {change['before']} -> {change['after']}")


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True
)
@click.option("--since", default=None, help="Depuis (durée comme 30d, ou date 2025-01-31).")
@click.option("--out", type=OUT, default=None, help="Fichier de sortie (défaut : sortie standard).")
@common
def audit_export(
    fmt: str, since: str | None, out: Path | None, *, runtime: Runtime, as_json: bool
) -> None:
    """Exporter le journal (questions pseudonymisées, utilisateurs sous pseudonyme)."""
    with AuditLog(runtime.settings) as log, output(out) as handle:
        records = log.records(since=log.since(since) if since else None)
        count = write_csv(records, handle) if fmt == "csv" else write_json(records, handle)
    if out is not None:
        if as_json:
            emit({"exported": count, "format": fmt, "out": str(out)})
        else:
            click.echo(f"{count} enregistrement(s) exporté(s) dans {out}.", err=True)


# --- purge -------------------------------------------------------------------------------------


@click.command()
@click.option("--older-than", default=None, help="Âge (ex. 90d, 12h, 6m = 180 jours).")
@click.option("--user", "user_name", default=None, help="Effacer les données de cet utilisateur.")
@click.option("--subject", default=None, help="Effacer les données de ce pseudonyme (sujet_…).")
@common
def purge(
    older_than: str | None,
    user_name: str | None,
    subject: str | None,
    *,
    runtime: Runtime,
    as_json: bool,
) -> None:
    """Appliquer la durée de conservation, ou effacer les données d'une personne.

    Sans option : supprime les enregistrements plus anciens que
    TERRITORIA_AUDIT_RETENTION_DAYS. Le journal reste vérifiable (point de contrôle signé ;
    effacement par pierre tombale pour --user et --subject).
    """
    if sum(x is not None for x in (older_than, user_name, subject)) > 1:
        raise click.UsageError("Choisissez une seule option : --older-than, --user ou --subject.")
    settings = runtime.settings
    with AuditLog(settings) as log:
        if user_name is not None or subject is not None:
            target = subject or log.subject_of(user_name or "")
            redacted = log.redact_subject(target)
            result: dict[str, object] = {"redacted": redacted, "subject": target}
            if user_name is not None:
                with Accounts(settings) as accounts:
                    deleted = accounts.get_user(user_name) is not None
                    if deleted:
                        accounts.delete_user(user_name)
                result["account_deleted"] = deleted
            message = f"{redacted} enregistrement(s) effacé(s) pour {target}."
        else:
            age = (
                parse_duration(older_than)
                if older_than
                else timedelta(days=settings.audit_retention_days)
            )
            checkpoint = log.purge_older_than(age)
            purged = int(checkpoint["purged"]) if checkpoint else 0
            result = {
                "purged": purged,
                "older_than_days": age / timedelta(days=1),
                "checkpoint": checkpoint,
            }
            message = f"{purged} enregistrement(s) supprimé(s)."
    if as_json:
        emit(result)
    else:
        click.echo(message)


# --- register ----------------------------------------------------------------------------------


@click.command()
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--out", type=OUT, default=None, help="Fichier de sortie (défaut : sortie standard).")
@click.option("--no-corpus", is_flag=True, help="Ne pas compter les documents du corpus.")
@common
def register(
    fmt: str, out: Path | None, no_corpus: bool, *, runtime: Runtime, as_json: bool
) -> None:
    """Fiche du registre des algorithmes publics (CRPA L312-1-3 ; AI Act art. 50)."""
    documents = None if no_corpus else runtime.store.list_documents()
    data = entry(runtime.settings, documents)
    text = (
        json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json" or as_json
        else to_markdown(data)
    )
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Fiche écrite dans {out}.", err=True)


COMMANDS = (audit, purge, register)
