"""Passages JSONL loader: one document per line `{"id", "title", "text", "source"}`.

`id` and `text` are required, `title` and `source` optional; other scalar fields are kept as
metadata. The id is kept exactly as given (spaces included: gold files refer to it). A bad line
(invalid JSON, missing field) is reported with its location ("file.jsonl:17") and a French
reason, and reading goes on. A line repeating an earlier id adds its text to that document
as one more section, so that nothing is lost and ids stay unique.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from territoria.errors import EmptyDocument
from territoria.ingest.loaders.structure import clean_line, clean_text, clean_title
from territoria.types import LoadedDocument, Section

_KNOWN = frozenset({"id", "title", "text", "source"})
_MAX_METADATA_CHARS = 500


class _BadLine(Exception):
    """A line that cannot become a document (internal: turned into a failure entry)."""


def load_jsonl(path: Path) -> tuple[list[LoadedDocument], list[tuple[str, str]]]:
    documents: dict[str, LoadedDocument] = {}
    failures: list[tuple[str, str]] = []
    blank = True
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            blank = False
            try:
                document = _document(raw, number, path)
            except _BadLine as exc:
                failures.append((f"{path.name}:{number}", str(exc)))
                continue
            assert document.doc_id is not None
            first = documents.get(document.doc_id)
            documents[document.doc_id] = document if first is None else _merge(first, document)
    if blank:
        raise EmptyDocument("fichier vide")
    return list(documents.values()), failures


def _merge(first: LoadedDocument, repeat: LoadedDocument) -> LoadedDocument:
    metadata = {**repeat.metadata, **first.metadata}
    metadata["line"] = f"{first.metadata['line']},{repeat.metadata['line']}"
    return replace(first, sections=first.sections + repeat.sections, metadata=metadata)


def _document(raw: bytes, number: int, path: Path) -> LoadedDocument:
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine("ligne illisible : le fichier doit être encodé en UTF-8") from exc
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"JSON invalide : {exc.msg} (colonne {exc.colno})") from exc
    if not isinstance(record, dict):
        raise _BadLine('la ligne doit être un objet JSON {"id", "title", "text"}')
    doc_id = record.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        raise _BadLine("champ « id » manquant ou vide")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _BadLine("champ « text » manquant ou vide")
    body = clean_text(text).strip()
    title = clean_title(record.get("title")) or _title_from_text(body)
    source = record.get("source")
    metadata = {
        str(key): str(value)[:_MAX_METADATA_CHARS]
        for key, value in record.items()
        if key not in _KNOWN and isinstance(value, str | int | float | bool) and value != ""
    }
    metadata.update(format="jsonl", line=str(number))
    return LoadedDocument(
        title=title,
        sections=(Section(body),),
        source=str(source).strip() if isinstance(source, str) and source.strip() else str(path),
        doc_id=str(doc_id),
        metadata=metadata,
    )


def _title_from_text(text: str) -> str:
    first = clean_line(text.split("\n", 1)[0])
    if len(first) <= 100:
        return first
    return first[:100].rsplit(" ", 1)[0] + " …"
