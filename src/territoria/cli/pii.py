"""`territoria pii ...`: detect and pseudonymise personal data in JSON lines."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from territoria.cli import common
from territoria.errors import InvalidRequest
from territoria.runtime import Runtime

_BATCH = 256


@click.group(name="pii")
def pii() -> None:
    """Données personnelles : détection et pseudonymisation."""


@pii.command(name="detect")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--tenant", default="default", show_default=True, help="Collectivité des pseudonymes."
)
@common
def detect(file: IO[str], tenant: str, *, runtime: Runtime, as_json: bool) -> None:
    """Lit des lignes {"text": ...} et écrit, pour chacune, les entités et le texte pseudonymisé.

    Sortie : une ligne JSON par entrée, {"text", "entities": [{"start", "end", "type"}],
    "pseudonymized"}. FILE peut valoir « - » (entrée standard). Les pseudonymes dépendent
    de la clé du dossier des données (--home) ou de TERRITORIA_PII_KEY.
    """
    del as_json  # the output is JSON lines either way: the flag keeps the CLI contract uniform
    texts = _read_texts(file)
    guard = runtime.pii
    for offset in range(0, len(texts), _BATCH):
        batch = texts[offset : offset + _BATCH]
        for text, entities in zip(batch, guard.detect_batch(batch), strict=True):
            masked = guard.pseudonymize(text, tenant=tenant, entities=entities)
            line: dict[str, Any] = {
                "text": text,
                "entities": [{"start": e.start, "end": e.end, "type": e.type} for e in entities],
                "pseudonymized": masked.text,
            }
            click.echo(json.dumps(line, ensure_ascii=False))


def _read_texts(file: IO[str]) -> list[str]:
    texts = []
    for number, raw in enumerate(file, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"Ligne {number} : JSON invalide ({exc.msg}).") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InvalidRequest(f'Ligne {number} : objet {{"text": "..."}} attendu.')
        texts.append(record["text"])
    return texts
