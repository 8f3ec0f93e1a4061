"""The RETEX pages: agents write, find and read fiches; the signed feed is public and holds
no restricted field; citizens cannot reach the agents' pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retex.conftest import NoPII
from territoria.retex import Commons


def _commons(client: Any) -> Commons:
    runtime = client.app.state.web.runtime
    commons = Commons(runtime.settings, documents=runtime.store, guard=NoPII(), audit=runtime.audit)
    runtime.__dict__["retex"] = commons
    return commons


FORM = {
    "title": "Magasin de producteurs au bourg",
    "summary": "Vingt producteurs vendent en direct dans un local communal.",
    "themes": "alimentation, circuits courts",
    "status": "deploye",
    "collectivite_name": "Commune de Test",
    "siren": "",
    "collectivite_type": "commune",
    "results": "Producteurs : 20 exploitations (2024)",
    "worked": "Le local communal\nLes permanences",
    "did_not_work": "Les horaires du début",
    "contact_name": "Contact-Secret-5521",
    "internal_notes": "Note-Interne-9931",
}


def test_an_agent_writes_finds_and_withdraws_a_fiche(
    app_client: Any, login: Callable[[Any, str], str]
) -> None:
    _commons(app_client)
    token = login(app_client, "agent1")
    assert app_client.get("/agent/retex/nouvelle").status_code == 200
    bad = app_client.post("/agent/retex/nouvelle", data={**FORM, "title": "", "csrf": token})
    assert bad.status_code == 400 and "Fiche invalide" in bad.text
    done = app_client.post(
        "/agent/retex/nouvelle", data={**FORM, "csrf": token}, follow_redirects=False
    )
    assert done.status_code == 303
    page = app_client.get(done.headers["location"]).text
    assert "Magasin de producteurs au bourg" in page and "Contact-Secret-5521" in page
    assert "ne quittent jamais l'instance" in page
    found = app_client.get("/agent/retex", params={"q": "vente directe producteurs"}).text
    assert "Magasin de producteurs au bourg" in found and "Commune de Test" in found
    feed = app_client.get("/retex/feed.json")
    assert feed.status_code == 200 and feed.json()["entries"][0]["fiche"]["title"]
    assert "Contact-Secret-5521" not in feed.text and "Note-Interne-9931" not in feed.text
    fiche_id = done.headers["location"].rsplit("/", 1)[1]
    gone = app_client.post(
        f"/agent/retex/{fiche_id}/retirer", data={"confirm": "oui", "csrf": token},
        follow_redirects=False,
    )  # fmt: skip
    assert gone.status_code == 303
    assert app_client.get("/retex/feed.json").json()["entries"][0]["withdrawn"] is True


def test_citizens_cannot_reach_the_agents_pages(app_client: Any) -> None:
    _commons(app_client)
    response = app_client.get("/agent/retex", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_only_the_writing_collectivite_edits_or_withdraws(
    app_client: Any, login: Callable[[Any, str], str]
) -> None:
    commons = _commons(app_client)
    from retex.conftest import fiche

    commons.add(fiche("fiche-de-default"), tenant="default")
    token = login(app_client, "admin2")  # an admin of the tenant "autre"
    page = app_client.get("/agent/retex/fiche-de-default").text
    assert "Location de vélos" in page and "Zorglub" not in page and "Retirer" not in page
    assert (
        app_client.get("/agent/retex/nouvelle", params={"modele": "fiche-de-default"}).status_code
        == 404
    )
    gone = app_client.post(
        "/agent/retex/fiche-de-default/retirer", data={"confirm": "oui", "csrf": token}
    )
    assert gone.status_code == 404 and not commons.get("fiche-de-default").withdrawn
