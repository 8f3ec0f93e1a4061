"""HTML loader: main content by trafilatura (menus, footers and other boilerplate removed),
with its structure kept (headings, lists, tables) through trafilatura's XML output.

Before extraction, content a reader cannot see (scripts, styles, `hidden`, `aria-hidden`,
`display: none`, `visibility: hidden`) is dropped, so that hidden instructions never reach the
index. Nothing here touches the network: the page is parsed from the file and no URL is given
to trafilatura.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from territoria.errors import CorruptDocument, EmptyDocument
from territoria.ingest.loaders.structure import (
    SectionBuilder,
    add_plain_lines,
    clean_line,
    clean_text,
    clean_title,
    readable_stem,
    table_rows,
)
from territoria.ingest.loaders.text import decode_bytes
from territoria.types import LoadedDocument

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_LOWER = "translate(@style, ' ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_INVISIBLE = " | ".join(
    [
        "//script",
        "//style",
        "//noscript",
        "//template",
        "//iframe",
        "//object",
        "//embed",
        "//*[@hidden]",
        "//*[@aria-hidden='true']",
        f"//*[contains({_LOWER}, 'display:none')]",
        f"//*[contains({_LOWER}, 'visibility:hidden')]",
    ]
)


def load_html(path: Path) -> LoadedDocument:
    from lxml.etree import LxmlError

    with path.open("rb") as handle:
        data = handle.read()
    markup = _decode(data)
    try:
        tree = _parse(markup)
        title = _page_title(tree)
        body = tree.find("body")
        for element in tree.xpath(_INVISIBLE):
            if element is not body and element.getparent() is not None:
                element.drop_tree()
        builder = SectionBuilder()
        _extract(tree, builder)
    except (LxmlError, ValueError, RecursionError) as exc:
        raise CorruptDocument("page HTML illisible : structure invalide") from exc
    sections = builder.sections()
    if not sections:
        raise EmptyDocument("page HTML sans contenu textuel")
    title = title or builder.first_heading() or readable_stem(path.stem)
    return LoadedDocument(
        title=title, sections=sections, source=str(path), metadata={"format": "html"}
    )


def _decode(data: bytes) -> str:
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        encoding = declared.group(1).decode("ascii", "replace").lower()
        if encoding in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            encoding = "cp1252"  # what browsers do, per the WHATWG encoding standard
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data)[0]


def _parse(markup: str) -> Any:
    from lxml.html import document_fromstring

    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup.strip():
        raise EmptyDocument("fichier vide")
    return document_fromstring(markup)


def _page_title(tree: Any) -> str:
    title = clean_title(tree.findtext(".//title") or "")
    if title:
        return title
    for content in tree.xpath("//meta[@property='og:title']/@content"):
        return clean_title(str(content))
    return ""


def _extract(tree: Any, builder: SectionBuilder) -> None:
    import trafilatura
    from lxml.etree import fromstring

    xml = trafilatura.extract(
        tree,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_links=False,
        include_images=False,
        with_metadata=False,
        deduplicate=False,
    )
    if xml:
        root = fromstring(xml)
        main = root.find("main")
        _children(root if main is None else main, builder)
        return
    text = trafilatura.baseline(tree)[1]  # page too short or too odd for the main extractor
    add_plain_lines(builder, clean_text(text).split("\n"))


def _children(element: Any, builder: SectionBuilder) -> None:
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "head":
            rend = str(child.get("rend", "h2"))
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
            builder.heading(level, _text(child))
        elif tag == "list":
            items: list[str] = []
            _list_items(child, 0, items)
            builder.block(items, "list")
        elif tag == "table":
            rows = [[_text(cell) for cell in row.iter("cell")] for row in child.iter("row")]
            builder.block(table_rows(rows), "table")
        elif tag in ("div", "main", "section"):
            _children(child, builder)
        elif tag:
            builder.paragraph(clean_text(_text(child, keep_breaks=True)).strip())


def _list_items(element: Any, depth: int, items: list[str]) -> None:
    for item in element.iterchildren("item"):
        nested = list(item.iterchildren("list"))
        for sub in nested:
            item.remove(sub)
        text = clean_line(_text(item))
        if text:
            items.append("  " * depth + "- " + text)
        for sub in nested:
            _list_items(sub, min(depth + 1, 8), items)


def _text(element: Any, *, keep_breaks: bool = False) -> str:
    """Text of an element; `<lb/>` becomes a line break when `keep_breaks`."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n" if keep_breaks else " ")
        else:
            parts.append(_text(child, keep_breaks=keep_breaks))
        parts.append(child.tail or "")
    return "".join(parts)
