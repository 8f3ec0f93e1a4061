"""The JSON API: questions, feedback, documents, statistics, audit export, limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from territoria.settings import Settings
from territoria.web.app import create_app

Bearer = Callable[[str], dict[str, str]]
QUESTION = "Quel est le prix du repas à la cantine ?"


def test_ask_returns_citations_explanation_and_an_audit_id(app_client: TestClient) -> None:
    data = app_client.post("/api/ask", json={"question": QUESTION}).json()
    assert not data["abstained"] and "3,10 euros" in data["answer"]
    first = data["citations"][0]
    assert first["n"] == 1 and first["doc_id"] == "cantine"
    assert first["url"].startswith("/documents/cantine?p=cantine%230#passage-cantine-0")
    assert first["original_url"] == "/documents/cantine/original"
    assert any(p["cited"] == 1 for p in data["passages"])
    assert data["energy"]["wh"] > 0 and "mix électrique" in data["energy"]["method"]
    assert len(data["request_id"]) == 16
    audit = app_client.app.state.web.runtime.audit  # type: ignore[attr-defined]
    record = audit.get(data["request_id"])
    assert record.role == "public" and record.subject is None  # no session, no subject
    assert record.question == QUESTION


def test_plain_language_keeps_the_first_cited_sentence(app_client: TestClient) -> None:
    full = app_client.get("/api/ask", params={"q": QUESTION}).json()
    plain = app_client.get("/api/ask", params={"q": QUESTION, "simple": True}).json()
    first_sentence = full["answer"].split("]")[0] + "]"
    assert plain["plain"]["answer"].replace(" [", "[") == first_sentence.replace(" [", "[")
    assert "n'est pas réécrit" in plain["plain"]["note"]
    shown = [c for c in plain["citations"] if c["shown"]]
    assert len(shown) <= len(full["citations"]) and shown


def test_ask_as_html_fragment_for_the_page_script(app_client: TestClient) -> None:
    fragment = app_client.get("/api/ask", params={"q": QUESTION}, headers={"accept": "text/html"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<article")
    assert (
        'id="source-1"' in fragment.text and "Comment cette réponse a été produite" in fragment.text
    )


def test_feedback_is_tied_to_an_answer_and_pseudonymised(app_client: TestClient) -> None:
    request_id = app_client.get("/api/ask", params={"q": QUESTION}).json()["request_id"]
    sent = app_client.post(
        "/api/feedback",
        json={"request_id": request_id, "useful": False, "reason": "Je suis M. Dupont"},
    )
    assert sent.status_code == 201 and sent.json()["message"] == "Merci pour votre avis."
    unknown = app_client.post("/api/feedback", json={"request_id": "0" * 16, "useful": True})
    assert unknown.status_code == 404
    store = app_client.app.state.web.feedback  # type: ignore[attr-defined]
    (item,) = list(store.items())
    assert item.request_id == request_id and "Dupont" not in (item.reason or "")


def test_validation_errors_are_french_problem_details(app_client: TestClient) -> None:
    missing = app_client.get("/api/ask")
    assert missing.status_code == 422
    body = missing.json()
    assert body["detail"] == "Paramètres invalides ou manquants : q."
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert app_client.get("/nulle-part").json()["detail"] == "Page ou ressource introuvable."
    too_long = app_client.post("/api/ask", json={"question": "x" * 2001})
    assert too_long.status_code == 422


def test_upload_list_reindex_delete(app_client: TestClient, bearer: Bearer, tmp_path: Path) -> None:
    admin = bearer("admin1")
    pool = b"# Piscine municipale\n\nLa piscine ouvre le mercredi a 14 heures.\n"
    files = [
        ("files", ("piscine.md", pool, "text/markdown")),
        ("files", ("vide.md", b"", "text/markdown")),
        ("files", ("image.png", b"\x89PNG\r\n\x1a\n....", "image/png")),
    ]  # fmt: skip
    sent = app_client.post(
        "/api/documents", files=files, data={"collection": "sport"}, headers=admin
    )
    assert sent.status_code == 201, sent.text
    results = {r["file"]: r for r in sent.json()["results"]}
    assert results["piscine.md"]["status"] == "ingested"
    assert results["vide.md"]["status"] == "failed" and results["vide.md"]["reason"]
    assert results["image.png"]["status"] == "failed"
    listing = app_client.get("/api/documents", params={"collection": "sport"}, headers=admin)
    docs = listing.json()["documents"]
    assert [d["doc_id"] for d in docs] == ["piscine"]
    assert {f["file"] for f in listing.json()["failures"]} == {"vide.md", "image.png"}
    hits = app_client.get("/api/search", params={"q": "piscine mercredi"}).json()["hits"]
    assert hits[0]["doc_id"] == "piscine"
    assert app_client.get("/documents/piscine/original").status_code == 200
    again = app_client.post("/api/documents/piscine/reindex", headers=admin)
    assert again.json()["status"] == "unchanged"
    collections = app_client.get("/api/collections").json()["collections"]
    assert {"name": "sport", "documents": 1, "passages": 1} in collections
    assert app_client.delete("/api/documents/piscine", headers=admin).status_code == 204
    assert app_client.get("/documents/piscine").status_code == 404
    hits = app_client.get("/api/search", params={"q": "piscine mercredi"}).json()["hits"]
    assert all(h["doc_id"] != "piscine" for h in hits)


def test_upload_names_cannot_escape_the_upload_folder(
    app_client: TestClient, bearer: Bearer, web_settings: Settings
) -> None:
    files = [
        ("files", ("../../evil.md", b"# Titre\n\nUn texte officiel assez long.\n", "text/markdown"))
    ]
    sent = app_client.post("/api/documents", files=files, headers=bearer("admin1"))
    assert sent.json()["results"][0]["status"] == "ingested"
    assert sent.json()["results"][0]["file"] == "evil.md"
    assert not (web_settings.home.parent / "evil.md").exists()
    assert not list(web_settings.home.parent.glob("**/evil.md"))  # only the hashed copy stays


def test_stats_and_audit_export(app_client: TestClient, bearer: Bearer) -> None:
    admin = bearer("admin1")
    app_client.get("/api/ask", params={"q": QUESTION})
    app_client.get("/api/ask", params={"q": "Combien coûte un passeport pour la Lune ?"})
    stats = app_client.get("/api/stats", params={"days": 7}, headers=admin).json()
    assert stats["totals"]["questions"] == 2 and stats["totals"]["abstained"] == 1
    assert stats["unanswered"][0]["count"] == 1 and len(stats["per_day"]) == 7
    exported = app_client.get("/api/audit/export", headers=admin)
    records = json.loads(exported.text)
    assert len(records) == 2 and {r["tenant"] for r in records} == {"default"}
    as_csv = app_client.get("/api/audit/export", params={"format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert len(as_csv.text.strip().splitlines()) == 3
    other = app_client.get("/api/stats", headers=bearer("admin2")).json()
    assert other["totals"]["questions"] == 0


def test_register_entry_and_api_docs_are_public(app_client: TestClient) -> None:
    register = app_client.get("/api/register").json()
    assert "intelligence artificielle" in register["ai_notice"]
    docs = app_client.get("/docs")
    assert docs.status_code == 200 and "/api/ask" in docs.text and "cdn" not in docs.text.lower()


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", embedder="fake", rate_per_client=1, rate_burst_client=2
    )
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/api/collections").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = client.get("/api/collections")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["detail"].startswith("Trop de requêtes")
        assert client.get("/static/site.css").status_code == 200  # static files are free
