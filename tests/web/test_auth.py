"""Sessions, CSRF, bearer tokens and roles (src/territoria/web/auth.py)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Login = Callable[[TestClient, str], str]
Bearer = Callable[[str], dict[str, str]]


def test_anonymous_is_public_and_cannot_reach_agent_or_admin(app_client: TestClient) -> None:
    page = app_client.get("/agent", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion?suite=")
    api = app_client.get("/api/users")
    assert api.status_code == 401
    assert api.json()["detail"] == "Authentification requise."
    assert api.headers["www-authenticate"].startswith("Bearer")


def test_login_sets_a_signed_http_only_session(
    app_client: TestClient, login: Login, csrf: Callable[[str], str]
) -> None:
    token = csrf(app_client.get("/connexion").text)
    wrong = app_client.post(
        "/connexion", data={"name": "agent1", "password": "faux-mot-de-passe", "csrf": token}
    )
    assert wrong.status_code == 401 and "Identifiant ou mot de passe incorrect" in wrong.text
    login(app_client, "agent1")
    cookie = next(c for c in app_client.cookies.jar if c.name == "territoria_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    agent = app_client.get("/agent")
    assert agent.status_code == 200 and "Espace agent" in agent.text
    assert app_client.get("/api/users").status_code == 403  # agent, not admin


def test_forms_need_the_csrf_token_of_the_session(app_client: TestClient, login: Login) -> None:
    token = login(app_client, "agent1")
    refused = app_client.post("/deconnexion", data={"csrf": "pas-le-bon"})
    assert refused.status_code == 403
    assert "Jeton de sécurité" in refused.json()["detail"]
    assert app_client.get("/agent").status_code == 200  # still signed in
    done = app_client.post("/deconnexion", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert app_client.get("/api/users").status_code == 401


def test_api_posts_with_a_session_need_the_csrf_header(
    app_client: TestClient, login: Login
) -> None:
    token = login(app_client, "admin1")
    body = {"name": "nouvel-agent", "role": "agent"}
    assert app_client.post("/api/users", json=body).status_code == 403
    created = app_client.post("/api/users", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201 and created.json()["tenant"] == "default"


def test_bearer_tokens_need_no_csrf_and_bad_tokens_are_refused(
    app_client: TestClient, bearer: Bearer
) -> None:
    headers = bearer("admin1")
    created = app_client.post("/api/users", json={"name": "x-agent"}, headers=headers)
    assert created.status_code == 201
    bad = app_client.get(
        "/api/ask", params={"q": "cantine"}, headers={"Authorization": "Bearer terr_nope"}
    )
    assert bad.status_code == 401
    assert bad.json()["detail"] == "Jeton d'accès invalide, expiré ou révoqué."


def test_roles_decide_what_documents_answers_can_use(
    app_client: TestClient, bearer: Bearer, login: Login
) -> None:
    question = {"q": "code d'accès du local des archives"}
    public = app_client.get("/api/search", params=question).json()
    assert all(h["doc_id"] != "procedure-accueil" for h in public["hits"])
    agent = app_client.get("/api/search", params=question, headers=bearer("agent1"))
    assert agent.json()["hits"][0]["doc_id"] == "procedure-accueil"
    assert app_client.get("/documents/procedure-accueil").status_code == 404
    login(app_client, "agent1")
    assert app_client.get("/documents/procedure-accueil").status_code == 200


def test_admins_only_manage_their_own_tenant(app_client: TestClient, bearer: Bearer) -> None:
    other = bearer("admin2")
    users = app_client.get("/api/users", headers=other).json()["users"]
    assert [u["name"] for u in users] == ["admin2"]
    assert app_client.delete("/api/users/agent1", headers=other).status_code == 404
    assert app_client.get("/api/documents", headers=other).json()["documents"] == []
    assert app_client.delete("/api/documents/cantine", headers=other).status_code == 404


def test_tokens_are_shown_once_and_can_be_revoked(app_client: TestClient, bearer: Bearer) -> None:
    admin = bearer("admin1")
    issued = app_client.post("/api/users/agent1/tokens", json={"expires_days": 30}, headers=admin)
    assert issued.status_code == 201
    token = issued.json()["token"]
    agent = {"Authorization": f"Bearer {token}"}
    assert app_client.get("/api/search", params={"q": "archives"}, headers=agent).status_code == 200
    listed = app_client.get("/api/users", headers=admin).json()["users"]
    assert all(token not in str(u) for u in listed)
    revoke = app_client.delete(f"/api/tokens/{issued.json()['token_id']}", headers=admin)
    assert revoke.status_code == 204
    assert app_client.get("/api/search", params={"q": "archives"}, headers=agent).status_code == 401
