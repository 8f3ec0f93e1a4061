"""The product in a real browser: Debian chromium driven by Playwright, against a real
uvicorn server over the demo corpus (see `live_server` in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote_plus, urlsplit

import pytest

PASSWORD = "mot-de-passe-solide-42"
QUESTION = "Quels sont les horaires de la mairie le samedi ?"
INTERNAL_QUESTION = "Que faire pour une demande d'acte reçue par la plateforme COMEDEC ?"
INTERNAL_TITLE = "Procédure interne d'accueil"

pytestmark = pytest.mark.slow


def sign_in(page: Any, name: str) -> None:
    page.goto("/connexion")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Se connecter')")
    page.wait_for_load_state()


def ask(page: Any, question: str, path: str = "/") -> None:
    """Ask through the page's form, as a person does."""
    page.goto(path)
    page.fill("#q", question)
    page.click("button:has-text('Demander')")
    page.wait_for_selector("#titre-reponse")


def no_question_in(url: str, *questions: str) -> bool:
    """The address holds none of the questions, and no `q` parameter."""
    text = unquote_plus(url).lower()
    return "q" not in parse_qs(urlsplit(url).query) and not any(
        q.lower() in text for q in questions
    )


def active(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => { const e = document.activeElement; return {tag: e.tagName, id: e.id || '',"
            " text: (e.textContent || '').trim().slice(0, 80), cls: e.className || '',"
            " outline: getComputedStyle(e).outlineStyle}; }"
        )
    )


def tab_to(page: Any, predicate: Any, limit: int = 40) -> dict[str, str]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = active(page)
        if predicate(focused):
            return focused
    raise AssertionError(f"focus never reached the element (last: {focused})")


def test_ask_see_citation_and_open_the_source(page: Any) -> None:
    page.goto("/")
    page.fill("#q", QUESTION)
    page.click("button:has-text('Demander')")
    page.wait_for_selector("#source-1")
    assert "9h00 à 12h00" in page.inner_text(".texte-reponse")
    assert no_question_in(page.url, QUESTION), page.url
    # the citation mark opens its source in place
    page.click("a.appel[data-source='1']")
    assert page.get_attribute("#source-1 details", "open") is not None
    # explanation sheet
    page.click("summary:has-text('Comment cette réponse a été produite')")
    sheet = page.inner_text("details.fiche")
    assert "Wh" in sheet and "g CO2e" in sheet and "Méthode" in sheet and "Rang" in sheet
    # the source opens the document with the cited passage highlighted
    page.click("#source-1 a >> nth=0")
    page.wait_for_selector(".surligne")
    assert "Passage cité" in page.inner_text(".surligne")
    assert page.locator('a:has-text("Ouvrir le fichier d\'origine")').count() == 1


FIRST = "Quels sont les horaires de la mairie ?"
FOLLOW = "et le samedi ?"


def test_a_question_and_a_follow_up_never_travel_in_an_address(page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    ask(page, FIRST)
    page.fill("#q", FOLLOW)
    page.click("button:has-text('Demander')")
    page.wait_for_selector(".suite-de")
    assert f"« {FIRST} »" in page.inner_text(".suite-de")
    assert no_question_in(page.url, FIRST, FOLLOW), page.url
    assert all(no_question_in(url, FIRST, FOLLOW) for url in requested), requested
    # a reload shows the same answer and keeps the conversation (not an empty form)
    page.reload()
    page.wait_for_selector(".suite-de")
    assert page.input_value("#q") == FOLLOW
    assert page.locator("form[data-question] input[name=previous]").count() == 2
    # Back shows the first answer again
    page.go_back()
    page.wait_for_function(
        "q => document.querySelector('.question-rappel').textContent.includes(q)", arg=FIRST
    )
    assert page.locator(".suite-de").count() == 0
    # "Nouvelle question" starts over
    page.click("a:has-text('Nouvelle question')")
    page.wait_for_load_state()
    assert page.locator("#titre-reponse").count() == 0
    assert page.locator("form[data-question] input[name=previous]").count() == 0
    assert all(no_question_in(url, FIRST, FOLLOW) for url in requested), requested


def test_a_follow_up_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        ask(page, FIRST)
        page.fill("#q", FOLLOW)
        page.click("button:has-text('Demander')")
        assert f"« {FIRST} »" in page.inner_text(".suite-de")
        assert all(no_question_in(url, FIRST, FOLLOW) for url in requested), requested
    finally:
        context.close()


def test_an_old_link_fills_in_the_field_then_the_address_forgets_it(page: Any) -> None:
    page.goto("/?q=" + quote_plus(FIRST))
    assert page.input_value("#q") == FIRST
    assert page.locator("#titre-reponse").count() == 0  # nothing asked yet
    assert no_question_in(page.url, FIRST), page.url  # the script took it out


def test_feedback_with_javascript(page: Any, live_server: Any) -> None:
    ask(page, QUESTION)
    page.check("input[name=useful][value=non]")
    page.fill("textarea[name=reason]", "Je voulais les horaires du samedi.")
    page.click("button:has-text('Envoyer mon avis')")
    page.wait_for_selector(".etat-avis:has-text('Merci pour votre avis')")
    request_id = page.get_attribute("article.reponse-bloc", "data-request-id")
    stored = [f for f in live_server.app.state.web.feedback.items() if f.request_id == request_id]
    assert len(stored) == 1 and not stored[0].useful


def test_keyboard_only_journey(page: Any) -> None:
    page.goto("/")
    first = tab_to(page, lambda f: True, limit=1)
    assert first["text"] == "Aller au contenu"
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#source-1")
    assert active(page)["id"] == "titre-reponse"  # focus moves to the answer
    mark = tab_to(page, lambda f: "appel" in f["cls"])
    assert mark["outline"] != "none", "focus is visible"
    page.keyboard.press("Enter")
    assert page.get_attribute("#source-1 details", "open") is not None
    tab_to(page, lambda f: f["id"].startswith("utile-oui"))
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["text"] == "Envoyer mon avis")
    page.keyboard.press("Enter")
    page.wait_for_selector(".etat-avis:has-text('Merci pour votre avis')")


def test_no_javascript_journey(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.fill("#q", QUESTION)
        page.check("#simple")
        page.click("button:has-text('Demander')")
        assert no_question_in(page.url, QUESTION) and "simple" not in page.url
        assert page.inner_text(".intro") == "En bref :"
        assert page.inner_text(".texte-reponse").count("[") == 1  # one sentence, one source
        assert "Langage simplifié" in page.inner_text(".note-simple")
        page.click("#source-1 summary")  # <details> opens without script
        assert page.is_visible("#source-1 blockquote")
        page.check("input[name=useful][value=oui]")
        page.click("button:has-text('Envoyer mon avis')")
        assert "Merci pour votre avis" in page.inner_text("h1")
        page.click("button:has-text('Revenir à la réponse')")
        assert page.inner_text(".intro") == "En bref :"  # back on the same answer
        page.click("button:has-text('Agrandir le texte')")
        assert "texte-grand" in (page.get_attribute("html", "class") or "")
        assert page.inner_text(".intro") == "En bref :"  # still the same answer
        assert no_question_in(page.url, QUESTION), page.url
    finally:
        context.close()


def test_large_text_with_javascript_persists(page: Any) -> None:
    page.goto("/")
    size = page.evaluate("() => getComputedStyle(document.body).fontSize")
    page.click(".bascule-texte")
    larger = page.evaluate("() => getComputedStyle(document.body).fontSize")
    assert float(larger[:-2]) > float(size[:-2])
    page.goto("/widget")
    assert "texte-grand" in (page.get_attribute("html", "class") or "")


def test_public_never_sees_internal_documents(page: Any) -> None:
    ask(page, INTERNAL_QUESTION)
    assert INTERNAL_TITLE not in page.content()
    response = page.goto("/documents/procedure-accueil-etat-civil")
    assert response.status == 404
    sign_in(page, "agent1")
    ask(page, INTERNAL_QUESTION, "/agent")
    assert INTERNAL_TITLE in page.inner_text(".sources")


def test_agent_copies_an_answer_with_its_sources(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    try:
        sign_in(page, "agent1")
        page.goto("/agent")
        page.fill("#q", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector("button[data-copier]:visible")
        page.click("button[data-copier]")
        page.wait_for_selector(".etat-copie:has-text('Copié')")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert "Sources :" in copied and "[1] " in copied and "/documents/" in copied
    finally:
        context.close()


def test_admin_uploads_a_document_and_finds_it_in_an_answer(page: Any, tmp_path: Path) -> None:
    notice = tmp_path / "piscine-des-tilleuls.md"
    notice.write_text(
        "# Piscine des Tilleuls\n\nLa piscine des Tilleuls est ouverte au public le mercredi "
        "de 14 heures à 19 heures. L'entrée coûte 2,50 euros pour les adultes.\n",
        encoding="utf-8",
    )
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.4 pas vraiment un PDF")
    sign_in(page, "admin1")
    assert page.url.endswith("/admin")
    page.goto("/admin/documents")
    assert "Seuil d'abstention : " in page.inner_text("#index-recherche")
    page.set_input_files("#files", [str(notice), str(broken)])
    page.click("button:has-text('Déposer et indexer')")
    page.wait_for_selector("#resultats-depot li.succes")
    results = page.inner_text("#resultats-depot")
    assert "Indexé : piscine-des-tilleuls.md" in results and "Échec : scan.pdf" in results
    page.wait_for_selector("table a:has-text('Piscine des Tilleuls')")
    ask(page, "Combien coûte l'entrée à la piscine des Tilleuls ?")
    assert "Piscine des Tilleuls" in page.inner_text(".sources")
    assert "2,50 euros" in page.inner_text(".texte-reponse")


# (path, question asked through its form, or "" to only open it)
PAGES = [
    ("/", ""),
    ("/", QUESTION),
    ("/", "Quel temps fera-t-il demain ?"),
    ("/widget", QUESTION),
    ("/documents/horaires-mairie", ""),
    ("/connexion", ""),
    ("/docs", ""),
    ("/page-inconnue", ""),
]
AGENT_PAGES = [("/agent", QUESTION)]
ADMIN_PAGES = [("/admin", ""), ("/admin/documents", "")]


OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.evaluate(axe_source)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_accessibility_scan_finds_no_serious_violation(
    browser: Any, live_server: Any, axe_source: str
) -> None:
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    problems: dict[str, list[dict[str, Any]]] = {}
    try:
        for role, paths in (("public", PAGES), ("agent1", AGENT_PAGES), ("admin1", ADMIN_PAGES)):
            if role != "public":
                sign_in(page, role)
            for path, question in paths:
                if question:
                    ask(page, question, path)
                else:
                    page.goto(path)
                page.evaluate(
                    "() => document.querySelectorAll('details').forEach(d => d.open = true)"
                )
                found = axe_violations(page, axe_source)
                if found:
                    problems[f"{path} {question}"] = found
    finally:
        context.close()
    assert problems == {}


@pytest.mark.parametrize(
    ("path", "question"),
    [("/", ""), ("/", QUESTION), ("/widget", ""), ("/documents/etat-civil", "")],
)
def test_readable_on_a_360_px_phone(
    browser: Any, live_server: Any, path: str, question: str
) -> None:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        if question:
            ask(page, question, path)
        else:
            page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"horizontal scrolling on {path}: {width}px"
    finally:
        context.close()
