"""`territoria pii ...`: detect and pseudonymise personal data in JSON lines."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from territoria.errors import TerritoriaError
from territoria.settings import Settings

_BATCH = 256


def _settings() -> Settings:
    obj = click.get_current_context().obj
    return obj if isinstance(obj, Settings) else Settings()


@click.group(name="pii")
def pii() -> None:
    """Données personnelles : détection et pseudonymisation."""


@pii.command(name="detect")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Sortie machine (JSON lines, par défaut).")
@click.option(
    "--tenant", default="default", show_default=True, help="Collectivité des pseudonymes."
)
def detect(file: IO[str], as_json: bool, tenant: str) -> None:
    """Lit des lignes {"text": ...} et écrit, pour chacune, les entités et le texte pseudonymisé.

    Sortie : une ligne JSON par entrée, {"text", "entities": [{"start", "end", "type"}],
    "pseudonymized"}. FILE peut valoir « - » (entrée standard).
    """
    from territoria.guard.pii import PIIGuard

    del as_json  # the output is JSON lines either way: the flag keeps the CLI contract uniform
    texts = _read_texts(file)
    try:
        guard = PIIGuard(_settings())
        for offset in range(0, len(texts), _BATCH):
            batch = texts[offset : offset + _BATCH]
            for text, entities in zip(batch, guard.detect_batch(batch), strict=True):
                masked = guard.pseudonymize(text, tenant=tenant, entities=entities)
                line: dict[str, Any] = {
                    "text": text,
                    "entities": [
                        {"start": e.start, "end": e.end, "type": e.type} for e in entities
                    ],
                    "pseudonymized": masked.text,
                }
                click.echo(json.dumps(line, ensure_ascii=False))
    except TerritoriaError as exc:
        raise click.ClickException(exc.message) from exc


def _read_texts(file: IO[str]) -> list[str]:
    texts = []
    for number, raw in enumerate(file, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"Ligne {number} : JSON invalide ({exc.msg}).") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise click.ClickException(f'Ligne {number} : objet {{"text": "..."}} attendu.')
        texts.append(record["text"])
    return texts
