"""Zip inspection before parsing, used by every zip-based reader (DOCX, ODT, XLSX).

    check_zip(path, limits, kind="DOCX")   # raises SuspiciousArchive, EncryptedDocument or
                                           # CorruptDocument, with a French reason

A zip bomb is a small file that expands to far more data than its size says (the audit's 634 KB
DOCX held 150 MB of XML). The check first reads the central directory (`ZipFile.infolist`) and
refuses, before any parser sees the file: too many members, odd names (absolute, `..`,
backslashes, NUL), a name present twice (readers disagree on which one counts), members whose
data overlap (the "overlapped files" bomb, where many entries share one compressed block),
compression methods Office and OpenDocument never use, encrypted members, a member or a total
over the size limits, a large member with a compression ratio over the limit.

The central directory is written by whoever made the file, so it is not trusted alone: each
member is then inflated as a stream, counting the bytes that come out, and the check stops as
soon as a member gives more than it declared. (zipfile truncates a member to its declared size,
but only after inflating a whole read: a lying member is a memory spike there.)

Nested archives (a spreadsheet embedded in a DOCX) count at their declared size and are never
opened: no reader here recurses into them.
"""

from __future__ import annotations

import itertools
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from territoria.errors import CorruptDocument, EncryptedDocument, SuspiciousArchive
from territoria.french_numbers import french
from territoria.settings import Settings

__all__ = ["RATIO_GRACE_BYTES", "ArchiveLimits", "check_zip", "format_mb"]

MIB = 1024 * 1024
RATIO_GRACE_BYTES = MIB  # members smaller than this once inflated skip the ratio check
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # PKZIP local file header, 30 bytes
_LOCAL_MAGIC = b"PK\x03\x04"
_READ = 64 * 1024  # compressed bytes read at a time
_OUT = MIB  # most inflated bytes held at a time
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_SUSPECT = "fichier compressé suspect"


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zip-based file may hold. The defaults are those of a default `Settings`."""

    max_total_bytes: int = 200 * MIB
    max_member_bytes: int = 100 * MIB
    max_ratio: float = 100.0
    max_members: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveLimits:
        total = settings.archive_max_total_mb or 4 * settings.max_file_mb
        member = settings.archive_max_member_mb or 2 * settings.max_file_mb
        return cls(
            max_total_bytes=int(total * MIB),
            max_member_bytes=int(member * MIB),
            max_ratio=settings.archive_max_ratio,
            max_members=settings.archive_max_members,
        )


def check_zip(path: Path, limits: ArchiveLimits, kind: str = "archive") -> None:
    """Refuse a zip-based file that holds more, or odder, content than `limits` allow.

    `kind` names the format in the message of a damaged file ("DOCX illisible : …")."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(members, limits)
            with path.open("rb") as handle:
                for info in members:
                    _check_stream(handle, info, kind)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise CorruptDocument(f"{kind} illisible : fichier endommagé ou d'un autre format") from exc


def _check_directory(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    if len(members) > limits.max_members:
        raise SuspiciousArchive(
            f"{_SUSPECT} : {len(members)} éléments dans l'archive (limite {limits.max_members})"
        )
    seen: set[str] = set()
    for info in members:
        name = info.filename
        if _odd_name(name):
            raise SuspiciousArchive(f"{_SUSPECT} : nom d'élément anormal « {name[:80]} »")
        if name in seen:
            raise SuspiciousArchive(f"{_SUSPECT} : élément « {name[:80]} » présent deux fois")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise EncryptedDocument("archive chiffrée (protégée par mot de passe)")
        if info.compress_type not in _METHODS:
            raise SuspiciousArchive(
                f"{_SUSPECT} : méthode de compression inattendue ({info.compress_type}) "
                f"pour « {name[:80]} »"
            )
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise SuspiciousArchive(f"{_SUSPECT} : taille incohérente pour « {name[:80]} »")
        if info.file_size > limits.max_member_bytes:
            raise SuspiciousArchive(
                f"{_SUSPECT} : « {name[:80]} » fait {format_mb(info.file_size / MIB)} Mo une "
                f"fois décompressé (limite {format_mb(limits.max_member_bytes / MIB)} Mo par "
                "élément)"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_GRACE_BYTES and ratio > limits.max_ratio:
            raise SuspiciousArchive(
                f"{_SUSPECT} : « {name[:80]} » est {ratio:.0f} fois plus gros une fois "
                f"décompressé (limite {limits.max_ratio:g} fois)"
            )
    total = sum(info.file_size for info in members)
    if total > limits.max_total_bytes:
        raise SuspiciousArchive(
            f"{_SUSPECT} : {format_mb(total / MIB)} Mo une fois décompressé (limite "
            f"{format_mb(limits.max_total_bytes / MIB)} Mo)"
        )
    # Each member's data starts at its local header: two members whose spans cross share bytes.
    spans = sorted((i for i in members if i.compress_size), key=lambda i: i.header_offset)
    for info, following in itertools.pairwise(spans):
        if info.header_offset + _LOCAL_HEADER.size + info.compress_size > following.header_offset:
            raise SuspiciousArchive(f"{_SUSPECT} : éléments qui se chevauchent dans l'archive")


def _odd_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return True
    parts = PurePosixPath(name).parts
    return ".." in parts or (len(name) > 1 and name[1] == ":")


def _check_stream(handle: BinaryIO, info: zipfile.ZipInfo, kind: str) -> None:
    """Inflate one member without keeping it, stopping once more bytes come out than declared."""
    if info.compress_type == zipfile.ZIP_STORED or info.compress_size == 0:
        return  # stored: what is read is what is declared (checked in the directory pass)
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
        raise CorruptDocument(f"{kind} illisible : fichier endommagé ou d'un autre format")
    fields = _LOCAL_HEADER.unpack(header)
    handle.seek(info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10])
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left, produced, pending = info.compress_size, 0, b""
    while not inflater.eof:
        if not pending:
            if left <= 0:
                return
            pending = handle.read(min(left, _READ))
            if not pending:
                return  # truncated: the reader reports it
            left -= len(pending)
        produced += len(inflater.decompress(pending, _OUT))
        pending = inflater.unconsumed_tail
        if produced > info.file_size:
            raise SuspiciousArchive(
                f"{_SUSPECT} : « {info.filename[:80]} » donne une fois décompressé plus que "
                f"les {info.file_size} octets annoncés"
            )


def format_mb(value: float) -> str:
    """French-formatted size: 123.44 -> "123,4", 50.0 -> "50", 0.0004 -> "0,0004"."""
    text = f"{value:.1f}" if value >= 1 else f"{value:.2g}"
    if "e" in text:
        text = f"{value:f}".rstrip("0")
    if text.endswith(".0"):
        text = text[:-2]
    return french(text)
