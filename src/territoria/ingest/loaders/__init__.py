"""Document loaders: one file in, `LoadedDocument`s out (one per file, one per JSONL line).

    load_path(path, settings) -> LoadResult

A file that cannot be read at all raises an `IngestError` subclass whose message says why, in
French; a passages JSONL file reports its bad lines in `LoadResult.failures` and keeps going.
Formats: PDF, DOCX, ODT, HTML, Markdown, plain text, passages JSONL.

Every file but passages JSONL is parsed in a worker process bounded in time and memory
(`ingest.worker`, settings `parse_*`), and zip-based files (DOCX, ODT) are inspected first
against the archive limits (`ingest.archive`, settings `archive_*`). Passages JSONL, our own
line-by-line reader of what is often one big corpus file, is read in the calling process.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from territoria.errors import EmptyDocument, FileTooLarge, IngestError, UnsupportedFormat
from territoria.ingest.archive import ArchiveLimits, check_zip, format_mb
from territoria.ingest.loaders.html import load_html
from territoria.ingest.loaders.jsonl import load_jsonl
from territoria.ingest.loaders.office import load_docx, load_odt
from territoria.ingest.loaders.pdf import load_pdf
from territoria.ingest.loaders.text import load_markdown, load_text
from territoria.ingest.worker import ParseLimits, run_bounded
from territoria.settings import Settings
from territoria.types import LoadedDocument

__all__ = ["SUPPORTED_EXTENSIONS", "LoadResult", "load_path", "read_file"]


@dataclass(frozen=True)
class LoadResult:
    """Documents read from one file, and the lines of a JSONL file that could not be read:
    `(location, reason)` such as `("passages.jsonl:17", "JSON invalide : …")`."""

    documents: tuple[LoadedDocument, ...]
    failures: tuple[tuple[str, str], ...] = ()


_LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".odt": load_odt,
    ".html": load_html,
    ".htm": load_html,
    ".xhtml": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset({*_LOADERS, ".jsonl"})

_LEGACY = {
    ".doc": "format .doc (Word 97-2003) non pris en charge : convertissez-le en .docx ou en PDF",
    ".xls": "format .xls (Excel 97-2003) non pris en charge : convertissez-le en PDF",
    ".ppt": "format .ppt (PowerPoint 97-2003) non pris en charge : convertissez-le en PDF",
    ".rtf": "format .rtf non pris en charge : convertissez-le en .docx, .odt ou PDF",
}
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_BASED = {".docx": "DOCX", ".odt": "ODT", ".doc": "DOCX"}
_MIB = 1024 * 1024


def load_path(path: Path, settings: Settings) -> LoadResult:
    """Read one file. Raises `IngestError` (French reason) when nothing can be read from it."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS and suffix not in _LEGACY:
        shown = suffix or "(fichier sans extension)"
        raise UnsupportedFormat(f"format non pris en charge : {shown}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"fichier illisible : {exc.strerror or exc}") from exc
    if size > settings.max_file_mb * _MIB:
        raise FileTooLarge(
            f"fichier trop volumineux ({format_mb(size / _MIB)} Mo > limite de "
            f"{format_mb(settings.max_file_mb)} Mo)"
        )
    if size == 0:
        raise EmptyDocument("fichier vide")
    if suffix in _LEGACY and not (suffix == ".doc" and _starts_with(path, _ZIP_MAGIC)):
        raise UnsupportedFormat(_LEGACY[suffix])  # (a .docx saved as .doc is read below)
    if suffix == ".jsonl":
        try:
            documents, failures = load_jsonl(path)
        except OSError as exc:
            raise IngestError(f"fichier illisible : {exc.strerror or exc}") from exc
        return LoadResult(tuple(documents), tuple(failures))
    archive = ArchiveLimits.from_settings(settings)
    return run_bounded(ParseLimits.from_settings(settings), read_file, path, archive)


def read_file(path: Path, archive: ArchiveLimits) -> LoadResult:
    """Parse one file that `load_path` accepted (any format but JSONL); zip-based files are
    checked against `archive` first. Runs in the parse worker."""
    suffix = path.suffix.lower()
    try:
        kind = _ZIP_BASED.get(suffix)
        if kind is not None and zipfile.is_zipfile(path):
            check_zip(path, archive, kind)
        loader = load_docx if suffix == ".doc" else _LOADERS[suffix]
        return LoadResult((loader(path),))
    except OSError as exc:
        raise IngestError(f"fichier illisible : {exc.strerror or exc}") from exc


def _starts_with(path: Path, magic: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(magic)) == magic
