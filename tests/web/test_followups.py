"""Follow-up questions over the API and the pages: `previous` understood, the continued
question named, the conversation kept in hidden fields, the audit without earlier text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from territoria.audit.replay import replay

FIRST = "Quels sont les horaires de la mairie ?"
FOLLOW = "et le samedi ?"


def _runtime(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.web.runtime  # type: ignore[attr-defined]


def test_the_api_understands_a_follow_up_and_names_the_question(app_client: TestClient) -> None:
    first = app_client.get("/api/ask", params={"q": FIRST}).json()
    data = app_client.get(
        "/api/ask",
        params={"q": FOLLOW, "previous": [FIRST], "previous_id": [first["request_id"]]},
    ).json()
    assert data["continues"] == FIRST
    assert data["continues_text"] == f"Suite de votre question : « {FIRST} »"
    assert data["passages"][0]["doc_id"] == "mairie"


def test_a_question_alone_continues_nothing(app_client: TestClient) -> None:
    data = app_client.post("/api/ask", json={"question": FOLLOW}).json()
    assert data["continues"] == "" and data["continues_text"] == ""


def test_a_new_question_after_another_is_not_a_follow_up(app_client: TestClient) -> None:
    data = app_client.post(
        "/api/ask",
        json={"question": "Quel est le prix du repas à la cantine ?", "previous": [FIRST]},
    ).json()
    assert data["continues"] == ""
    assert "3,10 euros" in data["answer"]


def test_the_audit_keeps_earlier_ids_never_earlier_text(app_client: TestClient) -> None:
    secret = "Je suis Jean Dupont, quels sont les horaires de la mairie ?"
    first = app_client.post("/api/ask", json={"question": secret}).json()
    data = app_client.post(
        "/api/ask",
        json={"question": FOLLOW, "previous": [secret], "previous_ids": [first["request_id"]]},
    ).json()
    assert data["continues"] == secret
    audit = _runtime(app_client).audit
    record = audit.get(data["request_id"])
    assert record.verification["continued"] is True
    assert record.verification["previous_ids"] == [first["request_id"]]
    assert "Dupont" not in str(record.verification) and "Dupont" not in (record.question or "")
    replayed = replay(audit, record.record_id, _runtime(app_client).assistant)
    assert replayed.after["citations"] == replayed.before["citations"]


def test_the_previous_parameter_is_bounded(app_client: TestClient) -> None:
    too_many = app_client.post("/api/ask", json={"question": FOLLOW, "previous": ["a"] * 4})
    assert too_many.status_code == 422
    too_long = app_client.get("/api/ask", params={"q": FOLLOW, "previous": ["x" * 2001]})
    assert too_long.status_code == 422 and "précédente" in too_long.json()["detail"]
    bad_id = app_client.get("/api/ask", params={"q": FOLLOW, "previous_id": ["pas-un-id"]})
    assert bad_id.status_code == 422


def test_the_page_keeps_the_conversation_in_hidden_fields(
    app_client: TestClient, ask_page: Callable[..., Any]
) -> None:
    page = ask_page(app_client, FIRST)
    assert 'name="previous" value="Quels sont les horaires de la mairie ?"' in page.text
    assert "Nouvelle question" in page.text
    follow = ask_page(app_client, FOLLOW, previous=[FIRST], previous_id=[""])
    assert "Suite de votre question : « Quels sont les horaires de la mairie ? »" in follow.text
    form = follow.text.split("data-question", 1)[1].split("</form>", 1)[0]
    assert form.count('name="previous"') == 2  # the first question and the follow-up


def test_openapi_documents_previous(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/api/ask"]["get"]["parameters"]}
    assert {"previous", "previous_id"} <= params
    body = spec["components"]["schemas"]["AskIn"]["properties"]
    assert "previous" in body and "previous_ids" in body
