"""Zip inspection (`ingest.archive`): zip bombs in DOCX, ODT and XLSX are refused before any
parser reads them, with a French reason, and the rest of a batch still goes in."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from territoria.errors import CorruptDocument, EncryptedDocument, SuspiciousArchive
from territoria.ingest import ingest_paths
from territoria.ingest.archive import ArchiveLimits, check_zip
from territoria.ingest.loaders import load_path
from territoria.participation.importers import load_paths
from territoria.runtime import Runtime
from territoria.settings import Settings
from zip_bombs import docx_bomb, odt_bomb, xlsx_bomb

CORPUS = Path(__file__).resolve().parents[2] / "src" / "territoria" / "demo" / "corpus"
MIB = 1024 * 1024
SMALL = ArchiveLimits(max_total_bytes=4 * MIB, max_member_bytes=2 * MIB, max_members=50)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """~1 MB files expanding to 150 MB of XML, like the audit's DOCX (built once, streamed)."""
    root = tmp_path_factory.mktemp("bombs")
    yield {
        "docx": docx_bomb(root / "rapport.docx"),
        "odt": odt_bomb(root / "rapport.odt"),
        "xlsx": xlsx_bomb(root / "avis.xlsx"),
    }


@pytest.mark.parametrize("kind", ["docx", "odt"])
@pytest.mark.parametrize("isolated", [True, False])
def test_document_bomb_is_refused_before_parsing(
    bombs: dict[str, Path], kind: str, isolated: bool
) -> None:
    path = bombs[kind]
    assert path.stat().st_size < 1.2 * MIB
    with pytest.raises(SuspiciousArchive) as info:
        load_path(path, Settings(parse_isolated=isolated))
    member = "word/document.xml" if kind == "docx" else "content.xml"
    assert info.value.message == (
        f"fichier compressé suspect : « {member} » fait 150 Mo une fois décompressé "
        "(limite 100 Mo par élément)"
    )
    assert info.value.status == 422


def test_bomb_under_the_size_limits_is_refused_for_its_ratio(bombs: dict[str, Path]) -> None:
    settings = Settings(archive_max_total_mb=1000, archive_max_member_mb=1000)
    with pytest.raises(SuspiciousArchive) as info:
        load_path(bombs["docx"], settings)
    assert info.value.message.startswith("fichier compressé suspect : « word/document.xml » est 14")
    assert info.value.message.endswith("fois plus gros une fois décompressé (limite 100 fois)")


def test_total_size_limit(bombs: dict[str, Path]) -> None:
    settings = Settings(archive_max_total_mb=120, archive_max_member_mb=1000, archive_max_ratio=1e6)
    with pytest.raises(SuspiciousArchive) as info:
        load_path(bombs["docx"], settings)
    assert info.value.message == (
        "fichier compressé suspect : 150,8 Mo une fois décompressé (limite 120 Mo)"
    )


def test_xlsx_bomb_becomes_an_import_issue(bombs: dict[str, Path], tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["contribution"])
    sheet.append(["Des bancs le long du canal, à l'ombre."])
    good = tmp_path / "bon.xlsx"
    book.save(good)
    data = load_paths([bombs["xlsx"], good], settings=Settings())
    assert [c.text for c in data.contributions] == ["Des bancs le long du canal, à l'ombre."]
    [issue] = data.issues
    assert issue.source == str(bombs["xlsx"])
    assert issue.reason == (
        "avis.xlsx : fichier compressé suspect : « xl/worksheets/sheet1.xml » fait 150 Mo une "
        "fois décompressé (limite 100 Mo par élément)."
    )


def test_batch_goes_on_after_bombs(
    bombs: dict[str, Path], runtime: Runtime, tmp_path: Path
) -> None:
    good = [CORPUS / "urbanisme.docx", CORPUS / "collecte-dechets.odt"]
    report = ingest_paths(
        [bombs["docx"], *good, bombs["odt"]], settings=runtime.settings, store=runtime.store
    )
    assert report.ingested == 2
    assert {path for path, _, _ in report.documents} == {str(p) for p in good}
    failed = dict(report.failed)
    assert set(failed) == {str(bombs["docx"]), str(bombs["odt"])}
    assert all(r.startswith("fichier compressé suspect : ") for r in failed.values())


def test_limits_follow_max_file_mb() -> None:
    assert ArchiveLimits() == ArchiveLimits.from_settings(Settings())
    limits = ArchiveLimits.from_settings(Settings(max_file_mb=10))
    assert (limits.max_total_bytes, limits.max_member_bytes) == (40 * MIB, 20 * MIB)
    explicit = ArchiveLimits.from_settings(
        Settings(archive_max_total_mb=300, archive_max_member_mb=50)
    )
    assert (explicit.max_total_bytes, explicit.max_member_bytes) == (300 * MIB, 50 * MIB)


@pytest.mark.parametrize(
    "path", sorted(p for p in CORPUS.rglob("*") if p.suffix in (".docx", ".odt"))
)
def test_real_documents_pass(path: Path) -> None:
    check_zip(path, ArchiveLimits())


def test_document_with_a_picture_passes(tmp_path: Path) -> None:
    """Pictures hardly compress: a DOCX mostly made of one is far from every limit."""
    import os

    from docx import Document
    from PIL import Image

    picture = tmp_path / "plan.png"
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(picture)
    document = Document()
    document.add_paragraph("Plan du quartier.")
    document.add_picture(str(picture))
    path = tmp_path / "plan.docx"
    document.save(str(path))
    assert load_path(path, Settings()).documents[0].sections[0].text == "Plan du quartier."


# --- the central directory: counts, names, methods --------------------------------------------


def write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_member_count(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.docx", {f"word/media/{i}.xml": b"<a/>" for i in range(51)})
    with pytest.raises(SuspiciousArchive) as info:
        check_zip(path, SMALL)
    assert (
        info.value.message == "fichier compressé suspect : 51 éléments dans l'archive (limite 50)"
    )


def test_small_total_limit_counts_every_member(tmp_path: Path) -> None:
    members = {f"m{i}.xml": bytes(1_500_000) for i in range(3)}  # 4.3 MiB, 1.4 MiB each
    limits = ArchiveLimits(max_total_bytes=4 * MIB, max_ratio=1e6)
    with pytest.raises(SuspiciousArchive) as info:
        check_zip(write_zip(tmp_path / "x.docx", members), limits)
    assert info.value.message == (
        "fichier compressé suspect : 4,3 Mo une fois décompressé (limite 4 Mo)"
    )


def test_small_members_skip_the_ratio_check(tmp_path: Path) -> None:
    """Tiny XML parts compress very well (100 KB of zeros: ~1000 times): no false alarm."""
    check_zip(write_zip(tmp_path / "x.docx", {"word/styles.xml": bytes(100_000)}), SMALL)


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "word\\document.xml", "C:/boot.ini", "a/../../b"]
)
def test_odd_names(tmp_path: Path, name: str) -> None:
    path = write_zip(tmp_path / "x.docx", {name: b"<a/>"})
    with pytest.raises(SuspiciousArchive, match="nom d'élément anormal"):
        check_zip(path, SMALL)


def test_duplicate_names(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "w") as archive,
    ):
        archive.writestr("word/document.xml", b"<a/>")
        archive.writestr("word/document.xml", b"<b/>")
    with pytest.raises(SuspiciousArchive, match=r"« word/document\.xml » présent deux fois"):
        check_zip(path, SMALL)


def test_unexpected_compression_method(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.docx", {"word/document.xml": b"<a/>"}, zipfile.ZIP_BZIP2)
    with pytest.raises(SuspiciousArchive, match=r"méthode de compression inattendue \(12\)"):
        check_zip(path, SMALL)


def test_encrypted_member(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.docx", {"word/document.xml": b"<a/>"})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 0x1)  # general purpose flags: encrypted
    path.write_bytes(bytes(data))
    with pytest.raises(EncryptedDocument, match="archive chiffrée"):
        check_zip(path, SMALL)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(CorruptDocument, match="DOCX illisible"):
        check_zip(path, SMALL, "DOCX")


# --- the central directory is not trusted alone ------------------------------------------------


def test_member_larger_than_declared_is_stopped(tmp_path: Path) -> None:
    """A member declaring 1,000 bytes that inflates to 20 MiB: found while inflating, after at
    most one chunk past the declared size."""
    path = write_zip(tmp_path / "x.docx", {"word/document.xml": b"<w:p/>" * 3_500_000})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, 1000)  # uncompressed size
    struct.pack_into("<L", data, data.index(b"PK\x03\x04") + 22, 1000)
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size == 1000
    with pytest.raises(SuspiciousArchive) as info:
        check_zip(path, ArchiveLimits())
    assert info.value.message == (
        "fichier compressé suspect : « word/document.xml » donne une fois décompressé plus "
        "que les 1000 octets annoncés"
    )


def test_overlapping_members(tmp_path: Path) -> None:
    """Two directory entries pointing at the same data (the "overlapped files" zip bomb)."""
    path = write_zip(tmp_path / "x.docx", {"a.xml": b"<a>" * 1000, "b.xml": b"<a>" * 1000})
    data = bytearray(path.read_bytes())
    second = data.rindex(b"PK\x01\x02")
    struct.pack_into("<L", data, second + 42, 0)  # local header offset of b.xml: that of a.xml
    path.write_bytes(bytes(data))
    with pytest.raises(SuspiciousArchive, match="éléments qui se chevauchent"):
        check_zip(path, SMALL)
