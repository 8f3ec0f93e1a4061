"""Zip bombs with a valid DOCX, ODT or XLSX structure, written as a stream (cheap in memory).

The member holding the text (word/document.xml, content.xml, xl/worksheets/sheet1.xml) is a
real XML document made of one paragraph (or row) repeated until it is `megabytes` long; the
rest of the package comes from an empty document saved by the format's own library.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_MIB = 1024 * 1024

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX = (
    "word/document.xml",
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}"><w:body>',
    "<w:p><w:r><w:t>Le conseil municipal approuve le budget primitif.</w:t></w:r></w:p>",
    "</w:body></w:document>",
)
_ODT = (
    "content.xml",
    '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:text>",
    "<text:p>Le conseil municipal approuve le budget primitif.</text:p>",
    "</office:text></office:body></office:document-content>",
)
_XLSX = (
    "xl/worksheets/sheet1.xml",
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>contribution</t></is></c></row>',
    '<row><c t="inlineStr"><is><t>Plus de pistes cyclables rue de la Paix.</t></is></c></row>',
    "</sheetData></worksheet>",
)


def docx_bomb(path: Path, megabytes: float = 150) -> Path:
    from docx import Document

    base = io.BytesIO()
    Document().save(base)
    return _bomb(base.getvalue(), path, megabytes, *_DOCX)


def odt_bomb(path: Path, megabytes: float = 150) -> Path:
    from odfdo import Document

    base = io.BytesIO()
    Document("text").save(base)
    return _bomb(base.getvalue(), path, megabytes, *_ODT)


def xlsx_bomb(path: Path, megabytes: float = 150) -> Path:
    from openpyxl import Workbook

    base = io.BytesIO()
    Workbook().save(base)
    return _bomb(base.getvalue(), path, megabytes, *_XLSX)


def _bomb(
    base: bytes, path: Path, megabytes: float, member: str, head: str, unit: str, tail: str
) -> Path:
    block = unit.encode() * (_MIB // len(unit))
    blocks = max(1, int(megabytes * _MIB) // len(block))
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info))
                continue
            with target.open(member, "w", force_zip64=True) as stream:
                stream.write(head.encode())
                for _ in range(blocks):
                    stream.write(block)
                stream.write(tail.encode())
    return path
