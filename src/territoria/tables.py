"""Read CSV, XLSX and JSON files as tables: a header and rows with their line numbers.

Shared by the importers of participation (`territoria.participation.importers`) and of
forecasting (`territoria.forecast.importer`).

Rows that cannot be read as a row of the table (wrong number of columns, an object where a
record was expected) are returned as `ImportIssue`s, never dropped silently. An XLSX file is a
zip: it is checked against the archive limits, then read in the parse worker bounded in time
and memory (`territoria.ingest.archive`, `territoria.ingest.worker`).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from territoria.errors import IngestError, InvalidRequest, UnsupportedFormat
from territoria.ingest.archive import ArchiveLimits, check_zip
from territoria.ingest.worker import ParseLimits, run_bounded
from territoria.settings import Settings

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")
_DELIMITERS = ",;\t|"
_CONTAINER_KEYS = ("contributions", "data", "items", "results", "rows", "records")

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class ImportIssue:
    """A row (or a whole file) that could not be used, and why (French, user-facing)."""

    source: str
    line: int | None
    reason: str


@dataclass
class Table:
    """`rows` are (line number in the file, values by column name)."""

    source: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)


def read_tables(path: Path, settings: Settings | None = None) -> list[Table]:
    """Every table of a file: one for CSV/JSON, one per non-empty sheet for XLSX. `settings`
    gives the archive and parse limits of XLSX files (None: the defaults)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return [read_csv(path)]
    if suffix in (".xlsx", ".xlsm"):
        archive = ArchiveLimits.from_settings(settings) if settings else ArchiveLimits()
        parse = ParseLimits.from_settings(settings) if settings else ParseLimits()
        try:
            return run_bounded(parse, read_xlsx, path, archive)
        except IngestError as exc:
            if exc.message.startswith(path.name):
                raise
            raise type(exc)(f"{path.name} : {exc.message.rstrip('.')}.") from exc
    if suffix in (".json", ".jsonl", ".ndjson"):
        return [read_json(path)]
    raise UnsupportedFormat(
        f"{path.name} : format non pris en charge (CSV, XLSX, JSON ou dossier d'export pol.is)."
    )


def decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")  # pragma: no cover - cp1252 decodes any byte


def sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(_DELIMITERS, key=first.count)


def read_csv(path: Path) -> Table:
    text = decode(path)
    if not text.strip():
        raise IngestError(f"{path.name} : fichier vide.")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text[:8192])
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    table: Table | None = None
    last_line = 0
    webform: list[list[str]] = []
    for record in reader:
        start = last_line + 1
        last_line = reader.line_num
        if table is None and (webform or (record and record[0].strip() in _WEBFORM_FIRST)):
            webform.append(record)
            if len(webform) == 3:
                table = Table(str(path), webform_header(webform))
            continue
        if table is None:
            table = Table(str(path), [h.strip() for h in record])
            continue
        if not any(cell.strip() for cell in record):
            continue  # blank line between records: nothing to lose
        _append_row(table, start, record)
    if table is None:  # pragma: no cover - caught by the emptiness test above
        raise IngestError(f"{path.name} : fichier vide.")
    return table


_WEBFORM_FIRST = frozenset({"Détails de la soumission", "Submission Details"})


def webform_header(lines: list[list[str]]) -> list[str]:
    """A Drupal webform export (Framaforms) puts its header on three lines: groups
    ("Détails de la soumission", fieldsets, grid titles), labels, then the rows of grids.
    The three become one header: "Label" or "Grid title : row"."""
    width = max(len(line) for line in lines)
    cells = [line + [""] * (width - len(line)) for line in lines]
    header: list[str] = []
    for i in range(width):
        group, label, sub = (cells[0][i].strip() if i else ""), cells[1][i].strip(), ""
        if len(cells) > 2:
            sub = cells[2][i].strip()
        name = label or group
        if sub:
            name = f"{name} : {sub}" if name else sub
        name = name or f"colonne {i + 1}"
        while name in header:
            name += " "
        header.append(name)
    return header


def _append_row(table: Table, line: int, record: list[str]) -> None:
    width = len(table.header)
    if len(record) != width:
        table.issues.append(
            ImportIssue(
                table.source,
                line,
                f"nombre de colonnes inattendu ({len(record)} au lieu de {width}) : "
                "ligne mal formée, ignorée",
            )
        )
        return
    table.rows.append((line, dict(zip(table.header, record, strict=True))))


def read_xlsx(path: Path, archive: ArchiveLimits | None = None) -> list[Table]:
    """The sheets of a workbook, after checking the file against `archive` (None: defaults)."""
    try:
        from openpyxl import load_workbook
    except ImportError as exc:
        raise IngestError(
            "Lecture des fichiers Excel indisponible : installez l'extra « participation » "
            "(pip install 'territoria[participation]')."
        ) from exc
    if zipfile.is_zipfile(path):
        check_zip(path, archive or ArchiveLimits(), "classeur Excel")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types on a broken file
        raise IngestError(f"{path.name} : classeur Excel illisible ({exc}).") from exc
    tables = []
    try:
        for sheet in workbook.worksheets:
            table: Table | None = None
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = ["" if v is None else _cell_text(v) for v in values]
                if table is None:
                    if any(c.strip() for c in cells):
                        header = [c.strip() for c in cells]
                        while header and not header[-1]:
                            header.pop()
                        table = Table(f"{path}#{sheet.title}", header)
                    continue
                if not any(c.strip() for c in cells):
                    continue
                cells = cells[: len(table.header)] + [""] * (len(table.header) - len(cells))
                table.rows.append((number, dict(zip(table.header, cells, strict=True))))
            if table is not None:
                tables.append(table)
    finally:
        workbook.close()
    if not tables:
        raise IngestError(f"{path.name} : classeur sans données.")
    return tables


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def read_json(path: Path) -> Table:
    text = decode(path)
    table = Table(str(path), [])
    for line, item in _json_records(path, text, table):
        if not isinstance(item, dict):
            table.issues.append(
                ImportIssue(str(path), line, "élément qui n'est pas un objet JSON : ignoré")
            )
            continue
        row = {str(k): _json_value(v) for k, v in _flatten(item).items()}
        for key in row:
            if key not in table.header:
                table.header.append(key)
        table.rows.append((line, row))
    for _, row in table.rows:
        for key in table.header:
            row.setdefault(key, "")
    return table


def _json_records(path: Path, text: str, table: Table) -> Iterator[tuple[int, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                table.issues.append(ImportIssue(str(path), number, f"JSON invalide ({exc.msg})"))
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path.name} : JSON invalide (ligne {exc.lineno}, {exc.msg}).") from exc
    if isinstance(data, dict):
        for key in _CONTAINER_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise IngestError(f"{path.name} : une liste d'objets JSON est attendue.")
    yield from enumerate(data, start=1)


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"author": {"id": 3}} -> {"author/id": 3}: the column naming of Decidim exports."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def _json_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "; ".join(_json_value(v) for v in value)
    return str(value)


_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"(?i)</(?:p|div|li|h[1-6])>|<br\s*/?>")


def strip_html(text: str) -> str:
    """Decidim stores rich text as HTML: keep the words and the paragraph breaks."""
    import html

    if "<" not in text and "&" not in text:
        return text
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def parse_column_mapping(
    spec: str | Mapping[str, str] | None, fields: Sequence[str], *, example: str
) -> dict[str, str]:
    """`"text=Avis,territory=Commune"` -> {"text": "Avis", "territory": "Commune"}, for the
    canonical `fields` of an importer. Either side may be the canonical field (`Avis=text`
    means the same); unknown fields are refused with the list of accepted ones."""
    if spec is None:
        return {}
    pairs: list[tuple[str, str]]
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        pairs = []
        for part in spec.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InvalidRequest(
                    f"Correspondance de colonnes invalide : « {part.strip()} » "
                    f"(attendu champ=colonne, par ex. {example})."
                )
            left, right = part.split("=", 1)
            pairs.append((left.strip(), right.strip()))
    mapping: dict[str, str] = {}
    for left, right in pairs:
        if left.lower() in fields:
            mapping[left.lower()] = right
        elif right.lower() in fields:
            mapping[right.lower()] = left
        else:
            raise InvalidRequest(
                f"Champ inconnu dans la correspondance « {left}={right} » : champs possibles "
                f"{', '.join(fields)}."
            )
    return mapping
