"""Zip bombs sent through the web: the document upload and the participation page refuse them
with a French reason, and the other files of the same upload go in."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from zip_bombs import docx_bomb, xlsx_bomb

Bearer = Callable[[str], dict[str, str]]
Login = Callable[[TestClient, str], str]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_document_upload_refuses_the_bomb_and_keeps_the_rest(
    app_client: TestClient, bearer: Bearer, tmp_path: Path
) -> None:
    bomb = docx_bomb(tmp_path / "rapport.docx").read_bytes()
    note = b"# Piscine municipale\n\nLa piscine ouvre le mercredi a 14 heures.\n"
    files = [
        ("files", ("rapport.docx", bomb, DOCX)),
        ("files", ("piscine.md", note, "text/markdown")),
    ]
    sent = app_client.post("/api/documents", files=files, headers=bearer("admin1"))
    assert sent.status_code == 201, sent.text
    results = {r["file"]: r for r in sent.json()["results"]}
    assert results["piscine.md"]["status"] == "ingested"
    assert results["rapport.docx"]["status"] == "failed"
    assert results["rapport.docx"]["reason"] == (
        "fichier compressé suspect : « word/document.xml » fait 150 Mo une fois décompressé "
        "(limite 100 Mo par élément)"
    )


def test_participation_page_refuses_an_xlsx_bomb(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    bomb = xlsx_bomb(tmp_path / "avis.xlsx")
    with bomb.open("rb") as data:
        response = app_client.post(
            "/participation",
            data={"csrf": token, "mapping": ""},
            files=[("files", (bomb.name, data, "application/octet-stream"))],
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "L'analyse n'a pas pu être faite" in text
    assert "fichier compressé suspect : « xl/worksheets/sheet1.xml » fait 150 Mo" in text
