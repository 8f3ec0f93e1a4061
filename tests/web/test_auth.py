"""Sessions, CSRF, bearer tokens and roles (src/territoria/web/auth.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from territoria.accounts import Accounts
from territoria.settings import Settings

Login = Callable[[TestClient, str], str]
Bearer = Callable[[str], dict[str, str]]
PASSWORD = "mot-de-passe-solide-42"  # the password of the users of tests/web/conftest.py


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


# --- server-side sessions (finding 5) ------------------------------------------------------

COOKIE = "territoria_session"


def _cookie(client: TestClient) -> str:
    value = client.cookies.get(COOKIE)
    assert value
    return value


def _replay(client: TestClient, cookie: str, path: str = "/api/users") -> int:
    """Status of `path` for a client that only holds `cookie` (a replayed cookie)."""
    client.cookies.clear()
    return client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"}).status_code


def test_a_replayed_cookie_after_logout_is_anonymous(app_client: TestClient, login: Login) -> None:
    token = login(app_client, "admin1")
    stolen = _cookie(app_client)
    assert _replay(app_client, stolen) == 200
    app_client.cookies.set(COOKIE, stolen)
    done = app_client.post("/deconnexion", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert _replay(app_client, stolen) == 401


def test_an_old_cookie_does_not_follow_a_name_into_another_tenant(
    app_client: TestClient, login: Login, web_settings: Settings
) -> None:
    login(app_client, "agent1")
    old = _cookie(app_client)
    with Accounts(web_settings) as accounts:
        accounts.delete_user("agent1")
        accounts.add_user("agent1", tenant="autre", role="admin", password=PASSWORD)
    app_client.cookies.clear()
    response = app_client.get("/api/users", headers={"Cookie": f"{COOKIE}={old}"})
    assert response.status_code == 401
    cleared = response.headers.get("set-cookie", "")
    assert cleared.startswith(f"{COOKIE}=;") and "Max-Age=0" in cleared


def test_password_change_signs_the_user_out_everywhere(
    app_client: TestClient, login: Login, web_settings: Settings
) -> None:
    login(app_client, "admin1")
    first = _cookie(app_client)
    app_client.cookies.clear()
    login(app_client, "admin1")
    second = _cookie(app_client)
    assert first != second
    with Accounts(web_settings) as accounts:
        assert accounts.set_password("admin1", "un nouveau mot de passe") == 2
    assert _replay(app_client, first) == 401
    assert _replay(app_client, second) == 401


def test_login_needs_the_csrf_token_of_a_pre_session(app_client: TestClient) -> None:
    form = {"name": "admin1", "password": PASSWORD}
    bare = app_client.post("/connexion", data=form, follow_redirects=False)
    assert bare.status_code == 403
    assert "Jeton de sécurité" in bare.json()["detail"]
    assert app_client.get("/api/users").status_code == 401
    page = app_client.get("/connexion")
    token = _csrf_of(page.text)
    wrong = app_client.post("/connexion", data={**form, "csrf": "autre"}, follow_redirects=False)
    assert wrong.status_code == 403
    done = app_client.post("/connexion", data={**form, "csrf": token}, follow_redirects=False)
    assert done.status_code == 303


def test_login_starts_a_fresh_session(app_client: TestClient) -> None:
    """Session fixation: the pre-session cookie an attacker planted does not become signed in."""
    page = app_client.get("/connexion")
    planted = _cookie(app_client)
    form = {"name": "admin1", "password": PASSWORD, "csrf": _csrf_of(page.text)}
    assert app_client.post("/connexion", data=form, follow_redirects=False).status_code == 303
    signed_in = _cookie(app_client)
    assert signed_in != planted
    assert _replay(app_client, planted) == 401
    assert (
        _csrf_of(app_client.get("/", headers={"Cookie": f"{COOKIE}={signed_in}"}).text)
        != (form["csrf"])
    )


def test_anonymous_forms_keep_a_cookie_only_pre_session(
    app_client: TestClient, web_settings: Settings
) -> None:
    page = app_client.get("/")
    assert _cookie(app_client)
    assert _csrf_of(page.text) == _csrf_of(app_client.get("/").text)  # stable across pages
    with Accounts(web_settings) as accounts:
        assert accounts.sessions.count() == 0  # nothing stored for anonymous visitors


# --- failed authentication throttling (finding 6) --------------------------------------------


@pytest.fixture
def strict_client(client_with: Callable[..., TestClient]) -> TestClient:
    """An app that throttles failed authentications from one address after 4."""
    return client_with(auth_failures_burst=4, auth_failures_per_minute=1.0)


def test_bad_bearer_tokens_are_throttled_per_address(strict_client: TestClient) -> None:
    bad = {"Authorization": "Bearer terr_0123456789ab_" + "A" * 43}
    statuses = [strict_client.get("/api/users", headers=bad).status_code for _ in range(6)]
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429]
    refused = strict_client.get("/api/users", headers=bad)
    assert int(refused.headers["retry-after"]) > 0
    assert "Trop de tentatives" in refused.json()["detail"]


def test_bad_passwords_are_throttled_per_address(strict_client: TestClient) -> None:
    token = _csrf_of(strict_client.get("/connexion").text)
    statuses = [
        strict_client.post(
            "/connexion", data={"name": f"inconnu{n}", "password": "x" * 12, "csrf": token}
        ).status_code
        for n in range(6)
    ]
    assert statuses == [401] * 4 + [429] * 2


def test_bad_passwords_lock_a_name_without_telling_whether_it_exists(
    app_client: TestClient, web_settings: Settings
) -> None:
    token = _csrf_of(app_client.get("/connexion").text)

    def attempt(name: str, password: str) -> tuple[int, str]:
        response = app_client.post(
            "/connexion",
            data={"name": name, "password": password, "csrf": token},
            follow_redirects=False,
        )
        return response.status_code, response.text

    pages = {}
    for name in ("agent1", "personne"):
        for _ in range(5):
            assert attempt(name, "mauvais mot de passe")[0] == 401
        status, text = attempt(name, PASSWORD)  # locked: even the right password waits
        assert status == 429 and "Trop de tentatives" in text
        pages[name] = text.replace(name, "NOM")
    assert pages["agent1"] == pages["personne"]
    with Accounts(web_settings) as accounts:
        assert accounts.unlock("agent1")
    assert attempt("agent1", PASSWORD)[0] == 303


def _csrf_of(html: str) -> str:
    marker = '<meta name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
