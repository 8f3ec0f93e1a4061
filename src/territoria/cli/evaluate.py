"""`territoria eval retrieval|answers|abstain`: quality figures over the ingested corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import cast

import click

from territoria.cli import common, emit
from territoria.cli.query import ROLE
from territoria.errors import InvalidRequest
from territoria.evaluation.answers import abstain_metrics, answer_metrics, latency
from territoria.evaluation.retrieval import retrieval_metrics
from territoria.runtime import Runtime
from territoria.types import Access, Role

QA_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def read_jsonl(path: Path) -> list[dict[str, object]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InvalidRequest(f"{path}:{n} : JSON invalide.") from exc
        if not isinstance(item, dict) or "question" not in item:
            raise InvalidRequest(f"{path}:{n} : champ « question » manquant.")
        items.append(item)
    return items


def _show(title: str, metrics: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit(metrics)
        return
    click.echo(title)
    for key, value in metrics.items():
        if key != "answered_ids":
            click.echo(f"  {key}: {value}")


@click.group(name="eval")
def evaluate() -> None:
    """Mesurer la qualité : recherche, réponses, abstention."""


@evaluate.command()
@click.option("--qa", "qa_path", type=QA_FILE, required=True, help="Questions avec gold.")
@click.option("--k", default=10, show_default=True)
@click.option("--role", type=ROLE, default="agent", show_default=True)
@common
def retrieval(qa_path: Path, k: int, role: str, *, runtime: Runtime, as_json: bool) -> None:
    """Qualité de la recherche (hit@k, MRR@10, nDCG@10, latence)."""
    items = read_jsonl(qa_path)
    access = Access(role=cast(Role, role))
    runtime.retriever.refresh()
    rankings: dict[str, list[str]] = {}
    times = []
    for item in items:
        t0 = time.perf_counter()
        hits = runtime.retriever.search_documents(str(item["question"]), k=k, access=access)
        times.append((time.perf_counter() - t0) * 1000)
        rankings[str(item["id"])] = [h.passage.doc_id for h in hits]
    metrics: dict[str, object] = dict(retrieval_metrics(rankings, items, k=k))
    metrics["latency_ms"] = latency(times)
    _show("Recherche", metrics, as_json)


@evaluate.command()
@click.option("--qa", "qa_path", type=QA_FILE, required=True, help="Questions avec réponses.")
@click.option("--role", type=ROLE, default="agent", show_default=True)
@common
def answers(qa_path: Path, role: str, *, runtime: Runtime, as_json: bool) -> None:
    """Qualité des réponses (rappel, citation du bon document, abstention)."""
    items = read_jsonl(qa_path)
    access = Access(role=cast(Role, role))
    runtime.retriever.refresh()
    results = [runtime.assistant.ask(str(i["question"]), access=access) for i in items]
    _show("Réponses", answer_metrics(items, results), as_json)


@evaluate.command()
@click.option("--questions", type=QA_FILE, required=True, help="Questions hors corpus.")
@click.option("--role", type=ROLE, default="agent", show_default=True)
@common
def abstain(questions: Path, role: str, *, runtime: Runtime, as_json: bool) -> None:
    """Taux d'abstention sur des questions dont la réponse n'est dans aucun document."""
    items = read_jsonl(questions)
    access = Access(role=cast(Role, role))
    runtime.retriever.refresh()
    results = [runtime.assistant.ask(str(i["question"]), access=access) for i in items]
    metrics = abstain_metrics(results)
    metrics["answered_ids"] = [
        str(i.get("id")) for i, a in zip(items, results, strict=True) if not a.abstained
    ]
    _show("Abstention", metrics, as_json)


COMMANDS = (evaluate,)
