"""`territoria search` and `territoria ask`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, cast

import click

from territoria.cli import common, emit, progress_printer
from territoria.contract import answer_json, hits_json
from territoria.errors import InvalidRequest
from territoria.french_numbers import number
from territoria.runtime import Runtime
from territoria.types import Access, Role

ROLE = click.Choice(["public", "agent", "admin"])


def read_queries(path: Path) -> list[dict[str, str]]:
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            queries.append({"id": str(item["id"]), "question": str(item["question"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(
                f'{path}:{n} : ligne invalide (attendu {{"id", "question"}}).'
            ) from exc
    return queries


def require_documents(runtime: Runtime, tenant: str) -> None:
    """Stop at once, in French, when the tenant has no document: a search would only load the
    models to find nothing. The home is not created for that (a SQLite home without its
    database holds nothing)."""
    settings = runtime.settings
    if settings.store == "sqlite":
        where = f"le dossier des données {settings.home}"
        if not settings.db_path.exists():
            raise InvalidRequest(_empty_message(where, tenant, settings.home, others=[]))
    else:
        where = "la base PostgreSQL configurée"
    documents = runtime.store.list_documents()
    if any(d.tenant == tenant for d in documents):
        return
    others = sorted({d.tenant for d in documents})
    raise InvalidRequest(_empty_message(where, tenant, settings.home, others=others))


def _empty_message(where: str, tenant: str, home: Path, *, others: list[str]) -> str:
    if others:
        return (
            f"La collectivité « {tenant} » n'a aucun document dans {where} (collectivités "
            f"présentes : {', '.join(others)}). Choisissez-en une avec --tenant, ou ajoutez des "
            f"documents avec : territoria ingest CHEMIN --tenant {tenant} --home {home}"
        )
    return (
        f"Aucun document dans {where} : il n'y a rien à chercher. Ajoutez vos documents avec : "
        f"territoria ingest CHEMIN --home {home} (fichiers PDF, DOCX, ODT, HTML, texte ou "
        f"dossiers), ou essayez la démo avec : territoria demo --home {home}"
    )


@click.command()
@click.argument("query", required=False)
@click.option("--k", default=10, show_default=True, help="Nombre de résultats.")
@click.option("--role", type=ROLE, default="public", show_default=True, help="Rôle.")
@click.option("--tenant", default="default", show_default=True, help="Collectivité.")
@click.option("--collection", "collections", multiple=True, help="Filtrer par collection.")
@click.option(
    "--queries",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fichier JSONL de requêtes {id, question} : une ligne JSON de résultats par requête.",
)
@common
def search(
    query: str | None,
    k: int,
    role: str,
    tenant: str,
    collections: tuple[str, ...],
    queries: Path | None,
    *,
    runtime: Runtime,
    as_json: bool,
) -> None:
    """Rechercher les documents les plus pertinents (le meilleur passage de chacun)."""
    access = Access(role=cast(Role, role), tenant=tenant, collections=collections or None)
    if not query and queries is None:
        raise click.UsageError("Donnez une requête ou --queries FICHIER.")
    require_documents(runtime, tenant)
    if queries is not None:
        for item in read_queries(queries):
            hits = runtime.retriever.search_documents(item["question"], k=k, access=access)
            emit(
                {
                    "id": item["id"],
                    "hits": [
                        {
                            "doc_id": h.passage.doc_id,
                            "passage_id": h.passage.passage_id,
                            "score": round(h.score, 6),
                        }
                        for h in hits
                    ],
                }
            )
        return
    hits = runtime.retriever.search_documents(query or "", k=k, access=access)
    if as_json:
        emit(hits_json(hits))
        return
    for rank, h in enumerate(hits, start=1):
        where = f" ({h.passage.heading_path})" if h.passage.headings else ""
        click.echo(
            f"{rank}. [{number(h.score, 3)}] {h.passage.title}{where} — {h.passage.passage_id}"
        )
        click.echo(f"   {h.passage.text[:200]}")


@click.command()
@click.argument("question")
@click.option("--role", type=ROLE, default="public", show_default=True, help="Rôle.")
@click.option("--tenant", default="default", show_default=True, help="Collectivité.")
@click.option(
    "--mode",
    type=click.Choice(["extractive", "generative"]),
    default="extractive",
    show_default=True,
    help="extractive : cite le texte officiel ; generative : modèle configuré, vérifié.",
)
@common
def ask(
    question: str, role: str, tenant: str, mode: str, *, runtime: Runtime, as_json: bool
) -> None:
    """Poser une question : réponse citée, ou abstention honnête."""
    require_documents(runtime, tenant)
    if not as_json:
        # the abstention threshold of a corpus indexed elsewhere or by an earlier version is
        # computed once, before the first answer (seconds to a minute): shown, not silent
        runtime.assistant.thresholds.prepare(progress_printer("Seuil d'abstention"))
    answer = runtime.ask(
        question,
        access=Access(role=cast(Role, role), tenant=tenant),
        mode=cast(Literal["extractive", "generative"], mode),
    )
    if as_json:
        emit(answer_json(answer))
        return
    if answer.verification.fallback:
        click.echo(answer.verification.fallback, err=True)
    click.echo(answer.answer)
    for c in answer.citations:
        where = ", ".join(part for part in (f"p. {c.page}" if c.page else "", c.heading) if part)
        click.echo(f"  [{c.n}] {c.title}{f' ({where})' if where else ''} — {c.source}")
    click.echo(
        f"({number(answer.latency_ms)} ms, {number(answer.energy.wh * 1000, 2)} mWh, "
        f"{number(answer.energy.gco2e * 1000, 3)} mgCO2e)"
    )


COMMANDS = (search, ask)
