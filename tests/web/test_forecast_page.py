"""The forecast page: agents upload series, pick one, read and print; others cannot."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

Login = Callable[[TestClient, str], str]


def write_series(folder: Path) -> Path:
    path = folder / "energie.csv"
    lines = ["Mois;Électricité;Gaz"]
    for i in range(72):
        year, month = 2018 + i // 12, i % 12 + 1
        season = math.cos(2 * math.pi * (month - 1) / 12)
        lines.append(f"{month:02d}/{year};{1000 + 300 * season:.0f};{600 + 250 * season + i:.0f}")
    lines.append("13/2024;5;5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload(client: TestClient, token: str, path: Path, **form: str) -> httpx.Response:
    with path.open("rb") as data:
        response: httpx.Response = client.post(
            "/prevision",
            data={"csrf": token, **form},
            files=[("files", (path.name, data, "text/csv"))],
            follow_redirects=False,
        )
    return response


def test_agent_forecasts_picks_a_series_and_prints(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    page = app_client.get("/prevision")
    assert page.status_code == 200
    assert 'href="/prevision"' in page.text and "Aide à la décision" in page.text
    response = upload(app_client, token, write_series(tmp_path), horizon="6")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    run = app_client.get(location)
    assert run.status_code == 200
    text = html.unescape(run.text)
    assert "Prévision : Électricité" in text
    assert '<select id="serie" name="serie">' in text
    assert 'role="img"' in text and "<title id=" in text  # the chart, described
    assert "s'est trompée de" in text
    assert "période illisible « 13/2024 »" in text  # the bad row is reported
    gas = app_client.get(location, params={"serie": "Gaz"})
    assert "Prévision : Gaz" in gas.text
    report = app_client.get(f"{location}/rapport")
    assert report.status_code == 200
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert report.text.count('role="img"') == 2 and "@media print" in report.text
    data = app_client.get(f"{location}/forecast.json").json()
    assert [s["series_id"] for s in data["series"]] == ["Électricité", "Gaz"]
    assert len(data["series"][0]["forecast"]) == 6
    listing = app_client.get("/prevision")
    assert location in listing.text  # the run is kept


def test_other_tenant_and_anonymous_never_see_a_run(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    location = upload(app_client, token, write_series(tmp_path)).headers["location"]
    run_id = re.sub(r".*/", "", location)
    app_client.post("/deconnexion", data={"csrf": token})
    anonymous = app_client.get(location, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    login(app_client, "admin2")  # an admin of another collectivité
    assert app_client.get(f"/prevision/{run_id}").status_code == 404
    assert app_client.get(f"/prevision/{run_id}/forecast.json").status_code == 404


def test_unreadable_upload_gets_a_french_error(
    app_client: TestClient, login: Login, tmp_path: Path
) -> None:
    token = login(app_client, "agent1")
    path = tmp_path / "notes.csv"
    path.write_text("a;b\nx;y\n", encoding="utf-8")
    response = upload(app_client, token, path)
    assert response.status_code == 400
    assert "La prévision n'a pas pu être faite" in html.unescape(response.text)
    assert "Aucune série lisible" in response.text
    bad = upload(app_client, token, write_series(tmp_path), horizon="douze")
    assert bad.status_code == 400 and "horizon" in bad.text


def test_demo_series_of_val_fleuri(app_client: TestClient, login: Login) -> None:
    token = login(app_client, "admin1")
    response = app_client.post("/prevision/demo", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    data = app_client.get(f"{response.headers['location']}/forecast.json").json()
    ids = {s["series_id"] for s in data["series"]}
    assert {"Électricité (kWh)", "Gaz (kWh)", "repas-cantine"} <= ids
    assert {s["frequency"] for s in data["series"]} == {"monthly", "quarterly", "yearly"}
    assert any("environ 21000" in i["reason"] for i in data["issues"])
