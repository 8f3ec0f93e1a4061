"""`territoria ingest`, `delete`, `documents`, `demo`: what the index holds."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from territoria.cli import common, emit, progress_printer
from territoria.cli.index import build_lexical_then_vectors
from territoria.errors import NotFound
from territoria.runtime import Runtime
from territoria.types import Visibility

if TYPE_CHECKING:  # the loaders (PDF, office, HTML parsers) load with the commands that read
    from territoria.ingest import IngestReport  # files, not for every CLI run


def _summary(report: IngestReport, as_json: bool) -> None:
    if as_json:
        emit(report.to_json())
        return
    click.echo(
        f"{report.ingested} document(s) indexé(s), {report.unchanged} inchangé(s), "
        f"{len(report.failed)} échec(s)."
    )
    for path, reason in report.failed:
        click.echo(f"  échec : {path} : {reason}")


def _index(runtime: Runtime, as_json: bool) -> None:
    runtime.refresh(progress=None if as_json else progress_printer("Index"))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", default="default", show_default=True, help="Collection.")
@click.option(
    "--visibility",
    type=click.Choice(["public", "internal"]),
    default="public",
    show_default=True,
    help="Visibilité : public (tous) ou internal (agents).",
)
@click.option("--tenant", default="default", show_default=True, help="Collectivité.")
@click.option(
    "--background",
    is_flag=True,
    help=(
        "Rendre la main dès que la recherche lexicale est prête ; les vecteurs sont calculés "
        "par un processus en arrière-plan (territoria index status)."
    ),
)
@common
def ingest(
    paths: tuple[Path, ...],
    collection: str,
    visibility: Visibility,
    tenant: str,
    background: bool,
    *,
    runtime: Runtime,
    as_json: bool,
) -> None:
    """Indexer des fichiers, des dossiers ou des passages JSONL.

    Les documents sont cherchables (recherche lexicale) dès qu'ils sont lus ; les vecteurs
    sont calculés ensuite, avec leur progression, ou en arrière-plan avec --background."""
    from territoria.ingest.library import ingest_files

    report = ingest_files(
        runtime,
        paths,
        collection=collection,
        visibility=visibility,
        tenant=tenant,
        progress=None if as_json else progress_printer("Lecture"),
    )
    build_lexical_then_vectors(runtime, as_json=as_json, background=background)
    _summary(report, as_json)
    if report.files_read == 0:
        raise SystemExit(1)


_TENANT = click.option(
    "--tenant", default="default", show_default=True, help="Collectivité des documents."
)


@click.command()
@click.argument("doc_ids", nargs=-1, required=True)
@_TENANT
@common
def delete(doc_ids: tuple[str, ...], tenant: str, *, runtime: Runtime, as_json: bool) -> None:
    """Supprimer des documents de l'index (et leur fichier d'origine)."""
    from territoria.ingest.library import delete_document

    deleted, missing = [], []
    for doc_id in doc_ids:
        try:
            delete_document(runtime, doc_id, tenant)
        except NotFound:
            missing.append(doc_id)
        else:
            deleted.append(doc_id)
    _index(runtime, True)
    if as_json:
        emit({"deleted": deleted, "not_found": missing})
    else:
        for d in deleted:
            click.echo(f"supprimé : {d}")
        for d in missing:
            click.echo(f"introuvable : {d}")
    if missing and not deleted:
        raise SystemExit(1)


@click.command()
@click.option("--tenant", default=None, help="Seulement cette collectivité (défaut : toutes).")
@common
def documents(tenant: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Lister les documents indexés."""
    from territoria.answer.calibration import describe

    docs = runtime.store.list_documents(tenant=tenant)
    thresholds = [
        s
        for s in runtime.assistant.thresholds.threshold_states()
        if tenant is None or s.tenant == tenant
    ]
    if as_json:
        emit(
            {
                "abstention": [s.to_json() for s in thresholds],
                "documents": [
                    {
                        "doc_id": d.doc_id,
                        "title": d.title,
                        "source": d.source,
                        "collection": d.collection,
                        "visibility": d.visibility,
                        "tenant": d.tenant,
                        "format": d.format,
                        "pages": d.pages,
                        "passages": d.n_passages,
                        "ingested_at": d.ingested_at,
                        "original": bool(d.original),
                    }
                    for d in docs
                ],
            }
        )
        return
    for d in docs:
        click.echo(f"{d.tenant}\t{d.doc_id}\t{d.visibility}\t{d.n_passages} passages\t{d.title}")
    for s in thresholds:
        click.echo(f"{s.tenant}\t{describe(s)}")


def demo_corpus() -> Path:
    return Path(str(resources.files("territoria") / "demo" / "corpus"))


@click.command()
@common
def demo(*, runtime: Runtime, as_json: bool) -> None:
    """Indexer le corpus de démonstration (commune fictive de Val-Fleuri)."""
    from territoria.ingest.library import ingest_files

    root = demo_corpus()
    public = sorted(p for p in root.iterdir() if p.is_file())
    progress = None if as_json else progress_printer("Lecture")
    report = ingest_files(runtime, public, progress=progress)
    report.extend(
        ingest_files(runtime, [root / "internal"], visibility="internal", progress=progress)
    )
    from territoria.retex.demo import demo_fiches

    runtime.retex.add_many(demo_fiches())  # RETEX example fiches, agents only
    _index(runtime, as_json)
    _summary(report, as_json)


@click.group()
def screening() -> None:
    """Passages signalés par le filtrage des injections (consignes adressées à un modèle)."""


@screening.command(name="list")
@click.option("--tenant", default=None, help="Seulement cette collectivité (défaut : toutes).")
@common
def screening_list(tenant: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Lister les passages signalés."""
    flagged = [p for p in runtime.store.iter_passages(tenant=tenant) if p.flags]
    if as_json:
        emit(
            {
                "flagged": [
                    {
                        "passage_id": p.passage_id,
                        "doc_id": p.doc_id,
                        "tenant": p.tenant,
                        "reasons": list(p.flags),
                        "approved": p.approved,
                        "text": p.text,
                    }
                    for p in flagged
                ]
            }
        )
        return
    for p in flagged:
        state = "approuvé" if p.approved else "exclu des prompts"
        click.echo(f"{p.tenant}\t{p.passage_id}\t{state}\t{', '.join(p.flags)}")


@screening.command()
@click.argument("passage_id")
@_TENANT
@common
def approve(passage_id: str, tenant: str, *, runtime: Runtime, as_json: bool) -> None:
    """Autoriser un passage signalé dans les prompts génératifs (décision d'un administrateur)."""
    ok = runtime.store.approve_passage(passage_id, tenant=tenant)
    if as_json:
        emit({"passage_id": passage_id, "approved": ok})
    elif ok:
        click.echo(f"approuvé : {passage_id}")
    if not ok:
        raise click.ClickException(f"Passage signalé introuvable : {passage_id}")


COMMANDS = (ingest, delete, documents, demo, screening)
