"""Read series from the tables a collectivité has: long, wide, or periods in columns.

- long: one row per (series, period, value): columns `series_id, period, value` (or their
  French names, or a mapping such as `series_id=Indicateur,period=Mois,value=Montant`); without
  a series column, the file is one series named after it;
- wide: a period column and one column per series (`Mois, Électricité, Gaz`);
- periods in columns: one row per series, one column per period (`Poste, 2019, 2020, 2021`),
  as budget tables often are.

Nothing is dropped silently: a row with an unreadable period or value, a duplicate, a
contradiction, a gap, a column with no numbers, each becomes an `ImportIssue` with its line.
Periods missing inside a series (gaps, contradictory duplicates) stay NaN in `Series.values`
and are listed in `Series.missing`; the forecaster fills them for fitting and says so.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from territoria.errors import InvalidRequest, TerritoriaError
from territoria.forecast.periods import Frequency, format_period, parse_period
from territoria.settings import Settings
from territoria.tables import ImportIssue, Table, parse_column_mapping, read_tables

FIELDS = ("series_id", "period", "value", "source")
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "series_id": (
        "series_id", "serie_id", "serie", "series", "id_serie", "indicateur", "indicator",
        "variable", "poste", "ligne", "libelle", "code_serie", "nom_serie",
    ),
    "period": (
        "period", "periode", "date", "mois", "month", "annee", "year", "an", "trimestre",
        "quarter", "exercice", "time", "temps",
    ),
    "value": (
        "value", "valeur", "montant", "total", "nombre", "quantite", "volume", "count",
        "consommation", "effectif", "mesure", "amount",
    ),
    "source": ("source", "origine", "producteur"),
}  # fmt: skip
_MISSING = {"", "na", "n/a", "nan", "nd", "n.d.", "n.d", "-", "--", "s", "null", "none", "?"}
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)(e[+-]?\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


@dataclass(frozen=True)
class Series:
    """One series: values from period `start` on, consecutive (NaN where none was usable)."""

    series_id: str
    frequency: Frequency
    start: int
    values: tuple[float, ...]
    source: str
    missing: tuple[int, ...] = ()  # ordinals with no usable value inside the series
    origin: str = ""  # a `source` column's text, when the table has one

    @property
    def end(self) -> int:
        return self.start + len(self.values) - 1

    @property
    def periods(self) -> list[str]:
        return [format_period(self.frequency, self.start + i) for i in range(len(self.values))]


@dataclass(frozen=True)
class InputFile:
    name: str
    sha256: str
    size: int


@dataclass
class SeriesSet:
    series: list[Series] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)

    @property
    def inputs_sha256(self) -> str:
        """One digest of every input file (names and contents), for the audit log."""
        digest = hashlib.sha256()
        for item in sorted(self.files, key=lambda f: (f.name, f.sha256)):
            digest.update(f"{item.name}\0{item.sha256}\n".encode())
        return digest.hexdigest()


def parse_mapping(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """`"series_id=Indicateur,period=Mois,value=Montant"` -> a field -> column mapping."""
    return parse_column_mapping(spec, FIELDS, example="period=Mois")


def parse_value(text: str) -> float | None:
    """A number as spreadsheets write it in French or English: `1 234,5`, `1.234,5`,
    `1,234.5`, `-12`, `(12)` (accounting negative), `12 €`, `8 %`; None when not a number."""
    raw = _SPACES.sub("", text.strip()).lower()
    raw = raw.removesuffix("€").removesuffix("eur").removesuffix("%")
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1]
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        raw = raw.replace(thousands, "").replace(decimal, ".")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    elif raw.count(",") > 1 and re.fullmatch(r"\d{1,3}(,\d{3})+", raw):
        raw = raw.replace(",", "")
    elif raw.count(".") > 1 and re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):
        raw = raw.replace(".", "")
    if not _NUMBER.fullmatch(raw):
        return None
    value = float(raw)
    if not math.isfinite(value):
        return None
    return -value if negative else value


def read_series(
    paths: Sequence[Path],
    *,
    mapping: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> SeriesSet:
    """Every series in `paths` (files, or folders of files); problems become issues."""
    result = SeriesSet()
    rows: dict[str, list[_Row]] = defaultdict(list)
    for path in _files(paths, result):
        try:
            data = path.read_bytes()
            result.files.append(InputFile(path.name, hashlib.sha256(data).hexdigest(), len(data)))
            tables = read_tables(path, settings)
        except TerritoriaError as exc:
            result.issues.append(ImportIssue(path.name, None, exc.message))
            continue
        except OSError as exc:
            result.issues.append(ImportIssue(path.name, None, f"fichier illisible ({exc})"))
            continue
        for table in tables:
            result.issues.extend(_short(issue) for issue in table.issues)
            for row in _rows(table, mapping or {}, result.issues):
                rows[row.series_id].append(row)
    for series_id, series_rows in rows.items():
        series = _assemble(series_id, series_rows, result.issues)
        if series is not None:
            result.series.append(series)
    return result


@dataclass(frozen=True)
class _Row:
    series_id: str
    frequency: Frequency
    ordinal: int
    day: int | None
    value: float
    source: str
    line: int
    origin: str = ""


def _files(paths: Sequence[Path], result: SeriesSet) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file())
            usable = [p for p in inside if p.suffix.lower() in SUFFIXES]
            if not usable:
                result.issues.append(
                    ImportIssue(path.name, None, "dossier sans fichier CSV, XLSX ou JSON")
                )
            found += usable
        elif path.suffix.lower() not in SUFFIXES:
            result.issues.append(
                ImportIssue(path.name, None, "format non pris en charge (CSV, XLSX ou JSON)")
            )
        else:
            found.append(path)
    return found


def _short(issue: ImportIssue) -> ImportIssue:
    return ImportIssue(Path(issue.source.split("#")[0]).name, issue.line, issue.reason)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", "_", plain)


def _column(table: Table, name: str, mapping: Mapping[str, str]) -> str | None:
    if name in mapping:
        wanted = mapping[name]
        for column in table.header:
            if column == wanted or _fold(column) == _fold(wanted):
                return column
        raise InvalidRequest(
            f"{Path(table.source.split('#')[0]).name} : colonne « {wanted} » introuvable "
            f"(colonnes : {', '.join(table.header)})."
        )
    for column in table.header:
        if _fold(column) in _SYNONYMS[name]:
            return column
    return None


def _table_name(table: Table) -> str:
    source = Path(table.source.split("#")[0]).name
    return f"{source}#{table.source.split('#')[1]}" if "#" in table.source else source


def _rows(table: Table, mapping: Mapping[str, str], issues: list[ImportIssue]) -> list[_Row]:
    name = _table_name(table)
    try:
        period = _column(table, "period", mapping)
        value = _column(table, "value", mapping)
        series = _column(table, "series_id", mapping)
        origin = _column(table, "source", mapping)
    except InvalidRequest as exc:
        issues.append(ImportIssue(name, None, exc.message))
        return []
    if period is not None and value is not None:
        return _long(table, name, period, value, series, origin, issues)
    in_header = [c for c in table.header if parse_period(c)]
    if period is None and len(in_header) >= 2:
        return _periods_in_columns(table, name, in_header, origin, issues)
    if period is None:
        period = _guess_period_column(table)
    if period is None:
        issues.append(
            ImportIssue(
                name,
                None,
                "aucune colonne de périodes reconnue : nommez-la « period » (ou période, date, "
                "mois, année) ou donnez la correspondance, par ex. period=Mois",
            )
        )
        return []
    return _wide(table, name, period, origin, issues)


def _guess_period_column(table: Table) -> str | None:
    """The first column whose cells are nearly all periods."""
    for column in table.header:
        cells = [row[column] for _, row in table.rows[:50] if row[column].strip()]
        if cells and sum(1 for c in cells if parse_period(c)) >= 0.9 * len(cells):
            return column
    return None


def _reading(
    name: str,
    line: int,
    series_id: str,
    period_text: str,
    value_text: str,
    issues: list[ImportIssue],
    origin: str = "",
) -> _Row | None:
    parsed = parse_period(period_text)
    if parsed is None:
        issues.append(
            ImportIssue(
                name, line, f"période illisible « {period_text.strip()[:40]} » : ligne ignorée"
            )
        )
        return None
    number = parse_value(value_text)
    if number is None:
        what = (
            "valeur manquante"
            if _fold(value_text) in _MISSING
            else f"valeur illisible « {value_text.strip()[:40]} »"
        )
        issues.append(
            ImportIssue(
                name,
                line,
                f"{what} pour {series_id} en {format_period(parsed[0], parsed[1])} : "
                "période traitée comme manquante",
            )
        )
        number = math.nan  # the period is known to the file, its value is not
    frequency, ordinal, day = parsed
    return _Row(series_id, frequency, ordinal, day, number, name, line, origin)


def _long(
    table: Table,
    name: str,
    period: str,
    value: str,
    series: str | None,
    origin: str | None,
    issues: list[ImportIssue],
) -> list[_Row]:
    default_id = Path(name.split("#")[0]).stem
    rows = []
    for line, cells in table.rows:
        series_id = cells[series].strip() if series else default_id
        if not series_id:
            issues.append(ImportIssue(name, line, "identifiant de série vide : ligne ignorée"))
            continue
        row = _reading(
            name,
            line,
            series_id,
            cells[period],
            cells[value],
            issues,
            cells[origin].strip() if origin else "",
        )
        if row:
            rows.append(row)
    return rows


def _wide(
    table: Table, name: str, period: str, origin: str | None, issues: list[ImportIssue]
) -> list[_Row]:
    rows = []
    columns = [c for c in table.header if c not in (period, origin) and c.strip()]
    for column in columns:
        cells = [row[column] for _, row in table.rows if row[column].strip()]
        if cells and sum(1 for c in cells if parse_value(c) is not None) < 0.5 * len(cells):
            issues.append(
                ImportIssue(name, None, f"colonne « {column} » sans nombres : pas une série")
            )
            continue
        for line, row in table.rows:
            reading = _reading(
                name,
                line,
                column.strip(),
                row[period],
                row[column],
                issues,
                row[origin].strip() if origin else "",
            )
            if reading:
                rows.append(reading)
    return rows


def _periods_in_columns(
    table: Table, name: str, periods: list[str], origin: str | None, issues: list[ImportIssue]
) -> list[_Row]:
    labels = [c for c in table.header if c not in periods and c != origin and c.strip()]
    rows = []
    for line, cells in table.rows:
        series_id = " — ".join(cells[c].strip() for c in labels if cells[c].strip())
        if not series_id:
            issues.append(ImportIssue(name, line, "ligne sans libellé de série : ignorée"))
            continue
        for column in periods:
            reading = _reading(
                name,
                line,
                series_id,
                column,
                cells[column],
                issues,
                cells[origin].strip() if origin else "",
            )
            if reading:
                rows.append(reading)
    return rows


def _assemble(series_id: str, rows: list[_Row], issues: list[ImportIssue]) -> Series | None:
    where = rows[0].source
    frequencies = Counter(row.frequency for row in rows)
    frequency = frequencies.most_common(1)[0][0]
    for row in rows:
        if row.frequency != frequency:
            issues.append(
                ImportIssue(
                    row.source,
                    row.line,
                    f"période d'une autre fréquence que le reste de la série {series_id} : "
                    "ligne ignorée",
                )
            )
    rows = [row for row in rows if row.frequency == frequency]
    by_period: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_period[row.ordinal].append(row)
    days = {row.day for row in rows if row.day is not None}
    if (
        frequency == "monthly"
        and len(days) > 1
        and any(len({r.day for r in group}) > 1 for group in by_period.values())
    ):
        issues.append(
            ImportIssue(
                where,
                None,
                f"{series_id} : données journalières (plusieurs dates dans un même mois) ; "
                "agrégez-les par mois avant la prévision : série ignorée",
            )
        )
        return None
    values: dict[int, float] = {}
    for ordinal, rows_of_period in sorted(by_period.items()):
        group = [row for row in rows_of_period if math.isfinite(row.value)]
        if not group:
            continue
        distinct = {row.value for row in group}
        if len(distinct) > 1:
            lines = ", ".join(str(row.line) for row in group)
            issues.append(
                ImportIssue(
                    group[-1].source,
                    group[-1].line,
                    f"{series_id} : valeurs contradictoires pour "
                    f"{format_period(frequency, ordinal)} (lignes {lines}) : période traitée "
                    "comme manquante",
                )
            )
            continue
        for row in group[1:]:
            issues.append(
                ImportIssue(
                    row.source,
                    row.line,
                    f"{series_id} : doublon de {format_period(frequency, ordinal)} (même "
                    "valeur) : compté une fois",
                )
            )
        values[ordinal] = group[0].value
    if not values:
        issues.append(ImportIssue(where, None, f"{series_id} : aucune valeur utilisable"))
        return None
    start, end = min(values), max(values)
    filled = tuple(values.get(o, math.nan) for o in range(start, end + 1))
    missing = tuple(o for o in range(start, end + 1) if o not in values)
    gaps = [o for o in missing if o not in by_period]
    if gaps:
        shown = ", ".join(format_period(frequency, o) for o in gaps[:12])
        more = f" et {len(gaps) - 12} autres" if len(gaps) > 12 else ""
        issues.append(
            ImportIssue(
                where,
                None,
                f"{series_id} : périodes absentes du fichier : {shown}{more} (valeurs "
                "estimées pour l'ajustement, signalées dans la prévision)",
            )
        )
    origins = Counter(row.origin for row in rows if row.origin)
    return Series(
        series_id=series_id,
        frequency=frequency,
        start=start,
        values=filled,
        source=where,
        missing=missing,
        origin=origins.most_common(1)[0][0] if origins else "",
    )
