"""Findings 1 and 2 of the outside security test, reproduced over HTTP.

1. A passages JSONL line whose `source` names a server file (the session signing key) made
   `/documents/{id}/original` serve that file. The original must only ever be bytes the
   server stored at ingestion.
2. Document ids were global: tenant B could replace tenant A's document by reusing its id,
   and the upload message told B that the name existed in another tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from territoria.settings import Settings

Bearer = Callable[[str], dict[str, str]]


def _jsonl(*lines: dict[str, str]) -> bytes:
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()


def _upload(client: TestClient, headers: dict[str, str], name: str, data: bytes) -> dict:
    sent = client.post("/api/documents", files=[("files", (name, data))], headers=headers)
    assert sent.status_code == 201, sent.text
    return sent.json()["results"][0]


def test_a_source_naming_a_server_file_is_never_served(
    app_client: TestClient, bearer: Bearer, web_settings: Settings
) -> None:
    key = "cle-de-signature-des-sessions-0123456789abcdef"
    (web_settings.home / "secret.key").write_text(key + "\n")
    line = {
        "id": "piege",
        "title": "Note de service",
        "text": "Une note assez longue pour être indexée comme un vrai document officiel.",
        "source": str(web_settings.home / "secret.key"),
    }
    admin = bearer("admin1")
    assert _upload(app_client, admin, "piege.jsonl", _jsonl(line))["status"] == "ingested"
    served = app_client.get("/documents/piege/original", headers=admin, follow_redirects=False)
    assert key not in served.text
    assert served.status_code == 303  # no stored original: the document's own page
    assert served.headers["location"] == "/documents/piege"
    page = app_client.get("/documents/piege", headers=admin)
    assert page.status_code == 200 and key not in page.text
    assert "/documents/piege/original" not in page.text


def test_the_original_is_the_uploaded_bytes_served_safely(
    app_client: TestClient, bearer: Bearer
) -> None:
    admin = bearer("admin1")
    html = b"<html><body><h1>Plan</h1><p>Le plan local d'urbanisme est consultable.</p>" + (
        b"<script>alert(1)</script></body></html>"
    )
    assert _upload(app_client, admin, "plan.html", html)["status"] == "ingested"
    served = app_client.get("/documents/plan/original")
    assert served.status_code == 200 and served.content == html
    assert served.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in served.headers["content-security-policy"]


def test_another_tenant_cannot_take_over_a_document_by_its_id(
    app_client: TestClient, bearer: Bearer
) -> None:
    before = app_client.get("/documents/cantine").text
    assert "3,10 euros" in before
    line = {"id": "cantine", "title": "Cantine", "text": "Texte de l'autre commune : 9,99 euros."}
    result = _upload(app_client, bearer("admin2"), "cantine.jsonl", _jsonl(line))
    assert result["status"] == "ingested" and result["reason"] == ""
    # tenant "default" keeps its document, whole
    assert app_client.get("/documents/cantine").text == before
    mine = app_client.get("/api/documents", headers=bearer("admin1")).json()["documents"]
    assert {d["doc_id"]: d["tenant"] for d in mine}["cantine"] == "default"
    theirs = app_client.get("/api/documents", headers=bearer("admin2")).json()["documents"]
    assert [(d["doc_id"], d["tenant"]) for d in theirs] == [("cantine", "autre")]
    # the citizen of tenant "default" is still answered from its own text
    hits = app_client.get("/api/search", params={"q": "prix du repas cantine"}).json()["hits"]
    assert hits and all("9,99" not in h["text"] for h in hits)


def test_an_upload_does_not_reveal_names_of_another_tenant(
    app_client: TestClient, bearer: Bearer
) -> None:
    text = b"# Horaires\n\nLa mairie de l'autre commune ouvre le mardi de 9 h a 12 h.\n"
    result = _upload(app_client, bearer("admin2"), "mairie.md", text)
    assert result == {
        "file": "mairie.md",
        "status": "ingested",
        "doc_ids": ["mairie"],
        "reason": "",
    }


def test_deleting_in_one_tenant_leaves_the_other(app_client: TestClient, bearer: Bearer) -> None:
    gone = app_client.delete("/api/documents/cantine", headers=bearer("admin2"))
    assert gone.status_code == 404
    assert app_client.get("/documents/cantine").status_code == 200


def test_a_long_file_name_keeps_its_extension(app_client: TestClient, bearer: Bearer) -> None:
    name = "compte-rendu-" + "tres-long-" * 20 + ".md"
    text = b"# Compte rendu\n\nLe conseil municipal a vote le budget primitif de la commune.\n"
    result = _upload(app_client, bearer("admin1"), name, text)
    assert result["status"] == "ingested", result
    assert result["file"].endswith(".md") and len(result["file"]) <= 120
