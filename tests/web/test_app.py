"""The citizen page and the public API, in process (no browser)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

AskPage = Callable[..., Any]


def test_page_answers_without_javascript(app_client: TestClient, ask_page: AskPage) -> None:
    page = ask_page(app_client, "Quel est le prix du repas à la cantine ?")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "3,10 euros" in page.text
    assert "/documents/cantine?p=" in page.text


def test_cited_passage_opens_highlighted(app_client: TestClient) -> None:
    data = app_client.get("/api/ask", params={"q": "prix du repas cantine"}).json()
    passage_id = data["citations"][0]["passage_id"]
    page = app_client.get("/documents/cantine", params={"p": passage_id})
    assert page.status_code == 200
    assert 'class="passage surligne"' in page.text
    original = app_client.get("/documents/cantine/original")
    assert original.status_code == 200 and "3,10 euros" in original.text


def test_errors_are_problem_details_in_french(app_client: TestClient) -> None:
    missing = app_client.get("/documents/inconnu")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Document introuvable."
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_openapi_lists_the_api(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    assert "/api/ask" in paths and "/api/search" in paths


def test_preferences_set_large_text_and_never_redirect_elsewhere(app_client: TestClient) -> None:
    done = app_client.get(
        "/preferences", params={"texte": "grand", "retour": "/?q=cantine"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/?q=cantine"
    assert "territoria_texte=grand" in done.headers["set-cookie"]
    assert 'class="texte-grand"' in app_client.get("/").text
    for target in ("https://exemple.org/", "//exemple.org", "/\\exemple.org", "javascript:x"):
        away = app_client.get("/preferences", params={"retour": target}, follow_redirects=False)
        assert away.headers["location"] == "/"


def test_pages_send_security_headers_and_only_the_widget_may_be_framed(
    app_client: TestClient,
) -> None:
    page = app_client.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    widget = app_client.get("/widget")
    assert "frame-ancestors *" in widget.headers["content-security-policy"]
    assert "x-frame-options" not in widget.headers


def test_feedback_form_without_javascript(app_client: TestClient, ask_page: AskPage) -> None:
    page = ask_page(app_client, "Quel est le prix du repas à la cantine ?")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    request_id = page.text.split('name="request_id" value="')[1].split('"')[0]
    form = {"csrf": token, "request_id": request_id, "useful": "non", "reason": "incomplet"}
    thanks = app_client.post("/retour", data=form)
    assert thanks.status_code == 200 and "Merci pour votre avis" in thanks.text
    forged = app_client.post("/retour", data={**form, "csrf": "faux"})
    assert forged.status_code == 403


def test_the_dashboard_writes_its_figures_the_french_way(
    app_client: TestClient, login: Callable[[TestClient, str], str]
) -> None:
    app_client.post("/api/ask", json={"question": "Quel est le prix du repas à la cantine ?"})
    login(app_client, "admin1")
    table = app_client.get("/admin").text.split("<caption>Données par jour</caption>")[1]
    row = table.split('<th scope="row">', 1)[1].split("</tr>", 1)[0]
    energy, carbon = re.findall(r"<td>([^<]*)</td>", row)[-2:]
    assert re.fullmatch(r"\d+,\d{3}", energy) and re.fullmatch(r"\d+,\d{5}", carbon), row
