"""The ingestion rules shared by the CLI and the web (`territoria.ingest.library`): tenant
scope, originals kept by hash, the journal, delete and re-index."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_corpus
from territoria.cli import _register, cli
from territoria.errors import InvalidRequest, NotFound
from territoria.ingest.library import (
    delete_document,
    ingest_files,
    ingest_upload,
    original_file,
    reindex_document,
    safe_name,
)
from territoria.runtime import Runtime
from territoria.settings import Settings

_register()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(Settings(home=tmp_path / "home", embedder="fake", title_embedder="none"))
    yield rt
    rt.close()


def test_cli_ingest_for_another_tenant_never_replaces_a_document(tmp_path: Path) -> None:
    """The outside test: `ingest --tenant B` of a file name already ingested for tenant A
    "replaced" A's document, which then belonged to B."""
    home = tmp_path / "home"
    env = {"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "none"}
    docs = write_corpus(tmp_path / "a")
    assert (
        CliRunner().invoke(cli, ["ingest", str(docs), "--home", str(home)], env=env).exit_code == 0
    )
    other = tmp_path / "b" / "cantine.md"
    other.parent.mkdir()
    other.write_text("# Cantine de B\n\nLe repas coûte 9,99 euros dans la commune B.\n")
    result = CliRunner().invoke(
        cli, ["ingest", str(other), "--tenant", "ville-b", "--json", "--home", str(home)], env=env
    )
    assert json.loads(result.output)["documents"][0]["status"] == "ingested"
    listed = CliRunner().invoke(cli, ["documents", "--json", "--home", str(home)], env=env)
    owners = [(d["tenant"], d["doc_id"]) for d in json.loads(listed.output)["documents"]]
    assert ("default", "cantine") in owners and ("ville-b", "cantine") in owners
    rt = Runtime(Settings(home=home, embedder="fake", title_embedder="none"))
    try:
        mine = rt.store.get_document("cantine", tenant="default")
        assert mine is not None and mine.title == "Restauration scolaire"
    finally:
        rt.close()


def test_a_jsonl_line_cannot_reach_another_tenant(runtime: Runtime, tmp_path: Path) -> None:
    ingest_files(runtime, [write_corpus(tmp_path / "a")])
    line = {"id": "mairie", "title": "Mairie de B", "text": "La mairie de B ouvre le jeudi."}
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n")
    report = ingest_files(runtime, [path], tenant="ville-b")
    assert report.files[0].status == "ingested"
    mine = runtime.store.get_document("mairie", tenant="default")
    assert mine is not None and mine.title == "Horaires de la mairie"


def test_tenant_names_are_checked(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="Collectivité invalide"):
        ingest_files(runtime, [write_corpus(tmp_path / "a")], tenant="../etc")


def test_originals_are_kept_by_hash_and_released_with_the_last_document(
    runtime: Runtime, tmp_path: Path
) -> None:
    docs = write_corpus(tmp_path / "a")
    ingest_files(runtime, [docs / "cantine.md"])
    ingest_files(runtime, [docs / "cantine.md"], tenant="ville-b")  # same bytes, other tenant
    mine = runtime.store.get_document("cantine", tenant="default")
    assert mine is not None and mine.file_name == "cantine.md"
    stored = original_file(runtime, mine)
    assert stored is not None and stored.read_bytes() == (docs / "cantine.md").read_bytes()
    assert stored.is_relative_to(runtime.settings.originals_dir)
    delete_document(runtime, "cantine", "default")
    assert stored.is_file()  # tenant B still names it
    delete_document(runtime, "cantine", "ville-b")
    assert not stored.exists()
    with pytest.raises(NotFound):
        delete_document(runtime, "cantine", "ville-b")


def test_reindex_reads_the_stored_original_not_the_source_path(
    runtime: Runtime, tmp_path: Path
) -> None:
    docs = write_corpus(tmp_path / "a")
    ingest_files(runtime, [docs])
    (docs / "mairie.md").write_text("# Piège\n\nUn autre fichier mis à la place du premier.\n")
    result = reindex_document(runtime, "mairie", "default", user="admin1")
    assert result.status == "unchanged" and result.doc_ids == ("mairie",)
    doc = runtime.store.get_document("mairie", tenant="default")
    assert doc is not None and doc.title == "Horaires de la mairie"


def test_every_file_result_goes_to_the_journal(runtime: Runtime, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "a")
    (docs / "vide.txt").write_text("")
    ingest_files(runtime, [docs])
    failed = runtime.journal.failures(tenant="default")
    assert [f.file_name.rsplit("/", 1)[-1] for f in failed] == ["vide.txt"]
    assert failed[0].reason == "fichier vide"


def test_an_upload_is_named_not_located(runtime: Runtime) -> None:
    data = io.BytesIO(b"# Guide\n\nLe guide des associations de la commune est en ligne.\n")
    result = ingest_upload(
        runtime,
        "../../guide.md",
        data,
        collection="default",
        visibility="public",
        tenant="default",
        user="admin1",
    )
    assert (result.file_name, result.status) == ("guide.md", "ingested")
    doc = runtime.store.get_document("guide", tenant="default")
    assert doc is not None and doc.source == "guide.md"
    assert not list((runtime.settings.home / "tmp").rglob("guide.md"))  # temporary copy gone


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("Délibération n°12.PDF", "Deliberation n-12.PDF"),
        ("x" * 300 + ".docx", "x" * 115 + ".docx"),
        ("a." + "b" * 40, "a." + "b" * 40),  # a long "suffix" is not an extension
    ],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected[:120]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("Délibération " + "très longue " * 20 + ".docx", "failed"),  # not a DOCX: read, failed
        ("Compte rendu " * 20 + ".txt", "ingested"),
        ("«»" * 80 + ".pdf", "failed"),  # no usable character: refused by name
    ],
)
def test_long_upload_names_keep_their_extension(runtime: Runtime, name: str, status: str) -> None:
    """Finding 8: a file name over 120 characters lost its extension (in the upload result and
    the journal, the only place a refused file is named)."""
    data = io.BytesIO("Le conseil municipal a voté le budget de la cantine.\n".encode())
    result = ingest_upload(
        runtime, name, data, collection="default", visibility="public", tenant="default", user="a"
    )
    suffix = Path(name).suffix
    assert result.status == status
    assert result.file_name.endswith(suffix) and len(result.file_name) <= 120
    assert not result.file_name.startswith(".")  # "«»….pdf" once became the hidden ".pdf"
    if status == "failed":
        (journaled,) = runtime.journal.failures(tenant="default")
        assert journaled.file_name == result.file_name
    else:
        (doc,) = runtime.store.list_documents(tenant="default")
        assert doc.source.endswith(suffix) and len(doc.source) <= 120
