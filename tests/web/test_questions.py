"""The pages' question path (web/questions.py): questions travel by POST, never in an address."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from territoria.web.questions import conversation

AskPage = Callable[..., Any]
QUESTION = "Quel est le prix du repas à la cantine ?"
FIRST = "Quels sont les horaires de la mairie ?"
FOLLOW = "et le samedi ?"


def addresses(html: str) -> list[str]:
    """Every address a page links to or sends a form to."""
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


def audited(client: TestClient) -> int:
    app: Any = client.app
    return len(list(app.state.web.runtime.audit.records()))


def test_the_form_posts_the_question_with_the_csrf_token(app_client: TestClient) -> None:
    page = app_client.get("/").text
    form = re.search(r"<form [^>]*data-question[^>]*>", page)
    assert form is not None and 'method="post"' in form.group(0)
    assert 'name="csrf"' in page.split("data-question", 1)[1].split("</form>", 1)[0]


def test_the_answer_is_the_response_of_the_post_and_no_address_holds_the_question(
    app_client: TestClient, ask_page: AskPage
) -> None:
    page = ask_page(app_client, QUESTION, simple="true")
    assert page.status_code == 200 and not page.history  # no redirect carrying it
    assert page.url.path == "/" and not page.url.query
    assert "3,10 euros" in page.text and "En bref :" in page.text
    for address in addresses(page.text):
        assert "cantine ?" not in address and "prix du repas" not in address, address
        assert "q=" not in address, address
    assert f'value="{QUESTION}"' in page.text  # the field keeps it, to edit or continue


def test_an_old_get_link_fills_in_the_field_and_asks_nothing(app_client: TestClient) -> None:
    before = audited(app_client)
    page = app_client.get("/", params={"q": QUESTION})
    assert page.status_code == 200
    assert f'value="{QUESTION}"' in page.text
    assert "data-request-id" not in page.text  # no answer
    assert audited(app_client) == before  # not asked, not audited


def test_a_follow_up_by_post_continues_the_question(
    app_client: TestClient, ask_page: AskPage
) -> None:
    first = ask_page(app_client, FIRST)
    request_id = first.text.split('name="previous_id" value="')[1].split('"')[0]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    follow = ask_page(app_client, FOLLOW, previous=[FIRST], previous_id=[request_id])
    assert "Suite de votre question : « Quels sont les horaires de la mairie ? »" in follow.text
    assert follow.text.count('name="previous"') >= 2  # the form carries both questions on
    fresh = app_client.get("/")  # "Nouvelle question": the page without a conversation
    assert 'name="previous"' not in fresh.text


def test_a_forged_post_is_refused_and_a_cookieless_one_is_anonymous(
    app_client: TestClient, web_settings: Any
) -> None:
    app_client.get("/")  # a pre-session cookie: its CSRF token is now required
    forged = app_client.post("/", data={"q": QUESTION, "csrf": "faux"})
    assert forged.status_code == 403
    # A cross-site iframe sends no cookie (SameSite=Lax): no ambient credential, no check.
    with TestClient(app_client.app) as bare:
        widget = bare.post("/widget", data={"q": QUESTION})
        assert widget.status_code == 200 and "3,10 euros" in widget.text


def test_the_agent_page_posts_too_and_needs_a_sign_in(
    app_client: TestClient, ask_page: AskPage, login: Callable[[TestClient, str], str]
) -> None:
    token = app_client.get("/").text.split('name="csrf" value="')[1].split('"')[0]
    anonymous = app_client.post(
        "/agent", data={"q": QUESTION, "csrf": token}, follow_redirects=False
    )
    assert anonymous.status_code in (303, 401)
    login(app_client, "agent1")
    page = ask_page(app_client, "archives", path="/agent")
    assert page.status_code == 200 and page.url.path == "/agent" and not page.url.query
    assert "Copier la réponse" in page.text or "Pas de réponse" in page.text


def test_text_size_on_an_answer_page_sends_the_question_again_by_post(
    app_client: TestClient, ask_page: AskPage
) -> None:
    page = ask_page(app_client, FOLLOW, simple="true", previous=[FIRST], previous_id=[""])
    toggle = page.text.split('action="/preferences"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', toggle))
    assert fields["q"] == FOLLOW and fields["previous"] == FIRST and fields["simple"] == "true"
    moved = app_client.post("/preferences", data=fields, follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/"
    again = app_client.post("/preferences", data=fields)  # the browser sends the form again
    assert again.url.path == "/" and not again.url.query
    assert 'class="texte-grand"' in again.text
    assert "Suite de votre question" in again.text and "En bref :" in again.text
    plain = {"csrf": fields["csrf"], "texte": "normal", "retour": "/documents/cantine"}
    back = app_client.post("/preferences", data=plain, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/documents/cantine"


def test_feedback_without_javascript_offers_the_answer_again_by_post(
    app_client: TestClient, ask_page: AskPage
) -> None:
    page = ask_page(app_client, FOLLOW, previous=[FIRST], previous_id=[""])
    feedback = page.text.split('action="/retour"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', feedback))
    assert fields["q"] == FOLLOW and fields["previous"] == FIRST and fields["retour"] == "/"
    thanks = app_client.post("/retour", data={**fields, "useful": "oui"})
    assert "Merci pour votre avis" in thanks.text
    back = thanks.text.split("<h1>", 1)[1].split('action="/"', 1)[1].split("</form>", 1)[0]
    assert f'name="q" value="{FOLLOW}"' in back and f'name="previous" value="{FIRST}"' in back
    assert "Revenir à la réponse" in back


def test_the_conversation_pairs_questions_with_their_ids() -> None:
    assert conversation(["a", " ", "b"], ["1"]) == [("a", "1"), ("b", "")]
    assert conversation(["a", "b", "c", "d"], ["1", "2", "3", "4"])[0] == ("b", "2")


def test_the_json_api_documents_post_and_marks_the_get_forms_deprecated(
    app_client: TestClient,
) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    for path in ("/api/ask", "/api/search"):
        assert paths[path]["get"]["deprecated"] is True
        assert "deprecated" not in paths[path]["post"]
        assert "requestBody" in paths[path]["post"]
    found = app_client.post("/api/search", json={"query": "cantine", "k": 3})
    assert found.status_code == 200 and 1 <= len(found.json()["hits"]) <= 3
    assert app_client.post("/api/search", json={"q": "cantine"}).status_code == 422
