"""The dispatcher (`load_path`): refusals before reading, and passages JSONL."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from territoria.errors import EmptyDocument, FileTooLarge, UnsupportedFormat
from territoria.ingest import loaders
from territoria.ingest.loaders import SUPPORTED_EXTENSIONS, LoadResult, load_path
from territoria.settings import Settings


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "tableau.xyz"
    path.write_text("a;b", encoding="utf-8")
    with pytest.raises(UnsupportedFormat) as info:
        load_path(path, Settings())
    assert info.value.message == "format non pris en charge : .xyz"
    assert info.value.status == 422


def test_no_extension(tmp_path: Path) -> None:
    path = tmp_path / "LISEZMOI"
    path.write_text("texte", encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match="sans extension"):
        load_path(path, Settings())


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".odt", ".html", ".md", ".txt", ".jsonl"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"vide{suffix}"
    path.write_bytes(b"")
    with pytest.raises(EmptyDocument) as info:
        load_path(path, Settings())
    assert info.value.message == "fichier vide"


def test_too_large_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gros.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * 3000)

    def must_not_read(path: Path) -> object:
        raise AssertionError("the file was read")

    monkeypatch.setitem(loaders._LOADERS, ".pdf", must_not_read)
    with pytest.raises(FileTooLarge) as info:
        load_path(path, Settings(max_file_mb=0.001))
    assert info.value.message == "fichier trop volumineux (0,0029 Mo > limite de 0,001 Mo)"


def test_too_large_message_in_french_format(tmp_path: Path) -> None:
    path = tmp_path / "enorme.pdf"
    with path.open("wb") as handle:  # sparse: takes no disk space
        handle.truncate(int(123.4 * 1024 * 1024))
    with pytest.raises(FileTooLarge) as info:
        load_path(path, Settings())
    assert info.value.message == "fichier trop volumineux (123,4 Mo > limite de 50 Mo)"


def test_supported_extensions() -> None:
    assert {".pdf", ".docx", ".odt", ".html", ".htm", ".md", ".txt", ".jsonl"} <= set(
        SUPPORTED_EXTENSIONS
    )
    assert ".doc" not in SUPPORTED_EXTENSIONS


def test_single_document_result(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Note\n\nTexte.\n", encoding="utf-8")
    result = load_path(path, Settings())
    assert isinstance(result, LoadResult)
    assert len(result.documents) == 1
    assert result.failures == ()
    assert result.documents[0].source == str(path)


# --- passages JSONL --------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_documents_and_failures(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "SP:F1", "title": "Carte d'identité", "text": "Se demande en mairie."}),
        "",
        "{pas du json",
        json.dumps({"title": "Sans identifiant", "text": "Texte."}),
        json.dumps({"id": "SP:F2", "title": "Sans texte"}),
        json.dumps({"id": "SP:F1", "text": "Suite du même passage."}),
        json.dumps(["une", "liste"]),
        json.dumps(
            {
                "id": 42,
                "text": "Le passeport se demande sur rendez-vous.\nDeuxième ligne.",
                "source": "https://www.service-public.fr/F42",
                "theme": "papiers",
                "rank": 3,
                "nested": {"ignored": True},
            }
        ),
        json.dumps({"id": "  ", "text": "Identifiant blanc."}),
    ]
    path = write_jsonl(tmp_path / "passages.jsonl", lines)
    result = load_path(path, Settings())
    assert [d.doc_id for d in result.documents] == ["SP:F1", "42"]
    first, second = result.documents
    assert first.title == "Carte d'identité"
    assert first.source == str(path)
    assert [s.text for s in first.sections] == ["Se demande en mairie.", "Suite du même passage."]
    assert first.metadata["line"] == "1,6"
    assert second.title == "Le passeport se demande sur rendez-vous."
    assert second.source == "https://www.service-public.fr/F42"
    assert second.metadata["theme"] == "papiers"
    assert second.metadata["rank"] == "3"
    assert "nested" not in second.metadata
    assert second.metadata["line"] == "8"
    locations = [location for location, _ in result.failures]
    assert locations == [f"passages.jsonl:{n}" for n in (3, 4, 5, 7, 9)]
    reasons = dict(result.failures)
    assert reasons["passages.jsonl:3"].startswith("JSON invalide")
    assert reasons["passages.jsonl:4"] == "champ « id » manquant ou vide"
    assert reasons["passages.jsonl:5"] == "champ « text » manquant ou vide"
    assert reasons["passages.jsonl:7"].startswith("la ligne doit être un objet JSON")


def test_jsonl_bom_and_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        codecs.BOM_UTF8
        + json.dumps({"id": "a", "text": "Premier."}).encode()
        + b"\n"
        + '{"id": "b", "text": "caf\u00e9"}'.encode("latin-1")
        + b"\n"
    )
    result = load_path(path, Settings())
    assert [d.doc_id for d in result.documents] == ["a"]
    reason = "ligne illisible : le fichier doit être encodé en UTF-8"
    assert result.failures == (("p.jsonl:2", reason),)


def test_jsonl_only_blank_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", ["", "   "])
    with pytest.raises(EmptyDocument):
        load_path(path, Settings())


def test_real_jsonl_file_keeps_ids_exactly(shared_data: Path) -> None:
    """crpa-faq.jsonl: 38 lines, 37 ids (lines 19 and 20 share one, with a trailing space)."""
    path = shared_data / "corpus" / "crpa-faq.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    result = load_path(path, Settings())
    assert result.failures == ()
    ids = list(dict.fromkeys(json.loads(line)["id"] for line in lines if line.strip()))
    assert [d.doc_id for d in result.documents] == ids
    shared = [d for d in result.documents if len(d.sections) == 2]
    assert len(shared) == 1
    assert shared[0].doc_id is not None and shared[0].doc_id.endswith("? ")
    assert shared[0].metadata["line"] == "19,20"
