"""The participation page: agents upload contributions and read the generated synthesis."""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

Login = Callable[[TestClient, str], str]

CONTRIBUTIONS = [
    ("Nord", "Il faudrait plus de bus le soir pour rentrer du travail."),
    ("Nord", "Les bus passent trop rarement, la fréquence des bus doit augmenter."),
    ("Sud", "Une ligne de bus directe vers la gare serait très utile."),
    ("Sud", "Les horaires des bus ne conviennent pas aux lycéens."),
    ("Centre", "Le bus du dimanche manque cruellement dans le quartier."),
    ("Nord", "Le parc municipal mérite plus de bancs et d'arbres."),
    ("Sud", "Il faut agrandir le parc et planter des arbres pour l'ombre."),
    ("Centre", "Les jeux pour enfants du parc sont abîmés."),
    ("Centre", "Ouvrir le parc plus tard le soir en été."),
    ("Nord", "La taxe foncière a trop augmenté cette année."),
    ("Sud", "Baisser la taxe foncière pour les familles modestes."),
    ("Centre", "La taxe sur les ordures ménagères est trop élevée."),
]


def write_csv(folder: Path) -> Path:
    path = folder / "concertation.csv"
    lines = ["id;quartier;contribution"]
    lines += [f"{i + 1};{where};{text}" for i, (where, text) in enumerate(CONTRIBUTIONS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload(client: TestClient, token: str, path: Path, mapping: str = "") -> httpx.Response:
    with path.open("rb") as data:
        response: httpx.Response = client.post(
            "/participation",
            data={"csrf": token, "mapping": mapping},
            files=[("files", (path.name, data, "text/csv"))],
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )
    return response


def test_agent_uploads_and_reads_the_report(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    form = app_client.get("/participation")
    assert form.status_code == 200
    assert 'name="csrf"' in form.text and 'enctype="multipart/form-data"' in form.text
    assert 'href="/participation"' in app_client.get("/agent").text  # in the navigation

    response = upload(app_client, token, write_csv(tmp_path))
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    analysis_id = target.rsplit("/", 1)[-1]
    assert target == f"/participation/{analysis_id}" and len(analysis_id) == 16

    home = app_client.app.state.web.settings.home  # type: ignore[attr-defined]
    folder = home / "participation" / analysis_id
    assert not (folder / "input").exists()  # the raw upload is not kept (finding 8)

    data = app_client.get(f"{target}/report.json").json()
    assert data["contributions"] == len(CONTRIBUTIONS)
    themes = [t for t in data["themes"] if not t["other"]]
    assert themes
    page = app_client.get(target)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" in policy and "'self'" not in policy  # its own policy only
    text = html.unescape(page.text)
    for theme in themes:
        assert theme["label"] in text
    assert not folder.exists()  # the report went to the report store
    runtime = app_client.app.state.web.runtime  # type: ignore[attr-defined]
    stored = runtime.reports.get("default", analysis_id)
    assert stored.user == "agent1" and json.loads(stored.data) == data
    listed = html.unescape(app_client.get("/participation").text)
    assert "Synthèses précédentes" in listed and f'href="{target}"' in listed


def test_public_and_other_tenant_are_refused(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    page = app_client.get("/participation", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert app_client.get("/participation/0123456789abcdef/report.json").status_code == 401

    token = login(app_client, "agent1")
    target = upload(app_client, token, write_csv(tmp_path)).headers["location"]
    app_client.cookies.clear()
    login(app_client, "admin2")  # an admin of another tenant
    assert app_client.get(target).status_code == 404
    assert app_client.get(f"{target}/report.json").status_code == 404


def test_bad_id_is_not_found(app_client: TestClient, login: Login) -> None:
    login(app_client, "agent1")
    for bad in ("0123456789abcdef", "0123456789ABCDEF", "0123456789abcde", "%2e%2e%2fpii.key"):
        assert app_client.get(f"/participation/{bad}").status_code == 404


def test_bad_file_shows_a_french_error(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    bad = tmp_path / "chiffres.csv"
    bad.write_text("a;b\n1;2\n3;4\n", encoding="utf-8")
    response = upload(app_client, token, bad)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert 'role="alert"' in text and "L'analyse n'a pas pu être faite" in text
    assert "Aucune contribution" in text
    assert "<form" in text  # the form again, to try another file

    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    text = html.unescape(upload(app_client, token, pdf).text)
    assert "Format non pris en charge : rapport.pdf" in text
    home = app_client.app.state.web.settings.home  # type: ignore[attr-defined]
    assert not any((home / "participation").iterdir())  # failed analyses leave nothing


def test_raw_upload_with_personal_data_is_not_kept(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    """Finding 8: the raw upload (names, phone numbers) stayed in <home>/participation/<id>/input.
    Only pseudonymised texts stay, with the upload's SHA-256, and the report says so."""
    token = login(app_client, "agent1")
    source = write_csv(tmp_path)
    with source.open("a", encoding="utf-8") as out:
        out.write("13;Nord;M. Dupont voudrait plus de bus le soir vers la gare.\n")
    raw = source.read_bytes()
    home = app_client.app.state.web.settings.home  # type: ignore[attr-defined]
    old = home / "participation" / "0123456789abcdef"  # an analysis made by an older version
    (old / "input").mkdir(parents=True)
    (old / "input" / "ancien.csv").write_bytes(raw)
    (old / "owner.json").write_text('{"tenant": "default"}', encoding="utf-8")

    target = upload(app_client, token, source).headers["location"]
    folder = home / "participation" / target.rsplit("/", 1)[-1]
    kept = [p for p in (home / "participation").rglob("*") if p.is_file()]
    assert kept and all(b"Dupont" not in p.read_bytes() for p in kept), kept
    assert not (old / "input").exists()

    privacy = app_client.get(f"{target}/report.json").json()["privacy"]
    assert privacy["raw_inputs_kept"] is False
    assert privacy["inputs"] == [
        {"name": "concertation.csv", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    ]
    report = html.unescape(app_client.get(target).text)
    assert "Fichiers déposés supprimés dès leur lecture" in report
    assert f"concertation.csv : {hashlib.sha256(raw).hexdigest()[:16]}…" in report
    assert "supprimés dès leur lecture" in html.unescape(app_client.get("/participation").text)
    assert not (folder / "input").exists()
    runtime = app_client.app.state.web.runtime  # type: ignore[attr-defined]
    stored = runtime.reports.get("default", target.rsplit("/", 1)[-1])
    assert "Dupont" not in stored.data and "Dupont" not in stored.html


def test_a_synthesis_of_an_earlier_version_is_moved_into_the_store(
    app_client: TestClient, login: Login
) -> None:
    """Syntheses were folders <home>/participation/<id>/ (owner.json, report.json, report.html):
    they are read from the report store once the server has moved them there."""
    state = app_client.app.state.web  # type: ignore[attr-defined]
    old = state.settings.home / "participation" / "00112233445566ff"
    old.mkdir(parents=True)
    (old / "owner.json").write_text('{"tenant": "default", "user": "agent1"}', encoding="utf-8")
    (old / "report.json").write_text('{"contributions": 3}', encoding="utf-8")
    (old / "report.html").write_text("<h1>Ancienne synthèse</h1>", encoding="utf-8")
    if "reports" in state.runtime.__dict__:  # as a server started after the upgrade
        state.runtime.__dict__.pop("reports").close()
    login(app_client, "agent1")
    assert app_client.get("/participation/00112233445566ff/report.json").json() == {
        "contributions": 3
    }
    assert "Ancienne synthèse" in app_client.get("/participation/00112233445566ff").text
    assert not old.exists()
