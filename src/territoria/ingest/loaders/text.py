"""Plain text and Markdown loaders, and the byte decoding shared with HTML and JSONL.

Decoding is UTF-8 first (BOM stripped), then Windows-1252, then Latin-1: for French text the
bytes 0x80-0x9F settle between the last two (printable in cp1252: "’", "œ", "€"; control
characters in Latin-1). UTF-16/32 files are recognised by their BOM or, without one, by
charset-normalizer.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from territoria.errors import CorruptDocument, EmptyDocument
from territoria.ingest.loaders.structure import (
    SectionBuilder,
    add_plain_lines,
    clean_line,
    clean_text,
    clean_title,
    readable_stem,
    table_rows,
    wrap_width,
)
from territoria.types import LoadedDocument

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a text file; raises CorruptDocument on binary content."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise CorruptDocument(f"texte illisible : encodage {encoding} invalide") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        return _guess(data)
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _guess(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise CorruptDocument("fichier texte illisible : contenu binaire ou encodage inconnu")
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise CorruptDocument(f"texte illisible : encodage {best.encoding} invalide") from exc


def read_text(path: Path) -> tuple[str, str]:
    with path.open("rb") as handle:
        return decode_bytes(handle.read())


# --- plain text --------------------------------------------------------------------------------


def load_text(path: Path) -> LoadedDocument:
    raw, encoding = read_text(path)
    lines = clean_text(raw).split("\n")
    builder = SectionBuilder()
    add_plain_lines(builder, lines, wrap_width=wrap_width(lines))
    sections = builder.sections()
    if not sections:
        raise EmptyDocument("document sans texte")
    title = _first_line_title(lines) or builder.first_heading() or readable_stem(path.stem)
    metadata = {"format": "text", "encoding": encoding}
    return LoadedDocument(title=title, sections=sections, source=str(path), metadata=metadata)


def _first_line_title(lines: list[str]) -> str:
    """The first line when it reads as a title: short, then a blank line or an underline
    ("====="), no full stop."""
    filled = [(i, line) for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return ""
    index, line = filled[0]
    after = lines[index + 1].strip() if index + 1 < len(lines) else ""
    short = len(line.split()) <= 15 and not line.rstrip().endswith((".", ","))
    if short and (not after or _UNDERLINE.match(after)):
        return clean_title(line)
    return ""


# --- Markdown ----------------------------------------------------------------------------------

_UNDERLINE = re.compile(r"^(?:={3,}|-{3,})\s*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def load_markdown(path: Path) -> LoadedDocument:
    raw, encoding = read_text(path)
    lines = clean_text(raw, keep_indent=True).split("\n")
    meta_title, lines = _front_matter(lines)
    builder = SectionBuilder()
    first_h1 = _parse_markdown(lines, builder)
    sections = builder.sections()
    if not sections:
        raise EmptyDocument("document sans texte")
    title = meta_title or first_h1 or builder.first_heading() or readable_stem(path.stem)
    metadata = {"format": "markdown", "encoding": encoding}
    return LoadedDocument(title=title, sections=sections, source=str(path), metadata=metadata)


def _front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """YAML front matter ("---" ... "---") removed; its `title:` returned."""
    if not lines or lines[0].strip() != "---":
        return "", lines
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            title = ""
            for line in lines[1:end]:
                if line.lower().startswith("title:"):
                    title = clean_title(line.split(":", 1)[1].strip().strip("\"'"))
            return title, lines[end + 1 :]
    return "", lines


def inline(text: str) -> str:
    """Markdown inline markup removed: links and images keep their text."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(3):  # nested emphasis
        text, count = _EMPHASIS.subn(r"\2", text)
        if not count:
            break
    return clean_line(text)


def _parse_markdown(lines: list[str], builder: SectionBuilder) -> str:
    """Feed Markdown lines to `builder`; return the text of the first level-1 heading."""
    first_h1 = ""
    paragraph: list[str] = []
    i = 0

    def end_paragraph() -> None:
        if paragraph:
            builder.paragraph(inline(" ".join(paragraph)))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            end_paragraph()
            fence = _FENCE.match(line)
            assert fence is not None
            body = []
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith(fence.group(1)):
                body.append(lines[i])
                i += 1
            builder.paragraph("\n".join(body))
            i += 1
            continue
        atx = _ATX.match(line)
        if atx:
            end_paragraph()
            text = inline(atx.group(2))
            builder.heading(len(atx.group(1)), text)
            if len(atx.group(1)) == 1 and not first_h1:
                first_h1 = text
            i += 1
            continue
        setext = _SETEXT.match(line)
        if setext and len(paragraph) == 1 and not _RULE.match(paragraph[0]):
            level = 1 if setext.group(1).startswith("=") else 2
            text = inline(paragraph.pop())
            builder.heading(level, text)
            if level == 1 and not first_h1:
                first_h1 = text
            i += 1
            continue
        if not line.strip() or _RULE.match(line):
            end_paragraph()
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1]):
            end_paragraph()
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            builder.block(table_rows(rows), "table")
            continue
        item = _LIST_ITEM.match(line)
        if item and not paragraph:
            i = _read_list(lines, i, builder)
            continue
        paragraph.append(line.strip())
        i += 1
    end_paragraph()
    return first_h1


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|").removesuffix("|")
    return [inline(cell) for cell in line.split("|")]


def _read_list(lines: list[str], i: int, builder: SectionBuilder) -> int:
    """Read a list (nested items indented, lazy continuation lines) into one list section."""
    items: list[str] = []
    while i < len(lines):
        line = lines[i]
        item = _LIST_ITEM.match(line)
        if item:
            depth = len(item.group(1).expandtabs(4)) // 2
            items.append("  " * depth + "- " + inline(item.group(2)))
        elif line.strip() and items and not _ATX.match(line) and not _FENCE.match(line):
            items[-1] = f"{items[-1]} {inline(line)}"
        elif not line.strip() and i + 1 < len(lines) and _LIST_ITEM.match(lines[i + 1]):
            pass  # loose list: a blank line between items
        else:
            break
        i += 1
    builder.block(items, "list")
    return i
