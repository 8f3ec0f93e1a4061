"""End to end on small inputs: the report contract, verbatim quotes, privacy in the output."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from territoria.participation import AnalysisOptions, analyze
from territoria.settings import Settings

CONTRACT_THEME_KEYS = {"id", "label", "keywords", "contribution_ids", "quotes"}


TOPICS = {
    "bus": [
        "Il faut plus de bus le soir vers la gare, on attend trop longtemps.",
        "Le bus de la ligne 3 passe trop rarement le dimanche matin.",
        "Des bus plus fréquents aux heures de pointe pour aller travailler.",
        "Un bus direct vers l'hôpital éviterait deux correspondances.",
        "Les horaires du bus ne correspondent pas à ceux des trains.",
        "Installer des abris aux arrêts de bus contre la pluie.",
        "Le bus scolaire est toujours bondé, ajoutez un second passage.",
        "Afficher l'attente du prochain bus en temps réel aux arrêts.",
        "Prolonger la ligne de bus jusqu'à la zone d'activités.",
        "Un bus de nuit le samedi pour que les jeunes rentrent en sécurité.",
        "Baisser le prix du ticket de bus pour les étudiants.",
        "Le bus devrait desservir le nouveau quartier des Près.",
    ],
    "parc": [
        "Le parc municipal mérite plus d'arbres et d'ombre en été.",
        "Des jeux pour enfants dans le parc près de l'école.",
        "Ouvrir le parc plus tard le soir pendant l'été.",
        "Nettoyer les allées du parc et vider les poubelles plus souvent.",
        "Un espace pour les chiens séparé des jeux du parc.",
        "Planter un verger partagé dans le parc du château.",
        "Installer des toilettes publiques dans le parc.",
        "Des bancs et des tables de pique-nique dans le parc.",
    ],
    "taxe": [
        "La taxe foncière a trop augmenté cette année pour les propriétaires.",
        "Geler la taxe foncière tant que les services ne s'améliorent pas.",
        "Expliquer aux habitants comment est utilisée la taxe foncière.",
        "Une taxe foncière moins lourde pour les retraités modestes.",
        "Comparer notre taxe foncière avec celle des communes voisines.",
        "Réduire la taxe foncière des commerces du centre-ville.",
        "Publier le budget financé par la taxe foncière chaque année.",
        "La hausse de la taxe foncière pèse sur les jeunes ménages.",
    ],
}


def write_contributions(path: Path) -> Path:
    rows = ["id;texte;commune;auteur"]
    communes = ["Lille"] * 6 + ["Roubaix"] * 5 + ["Hameau-sur-Deûle"]
    n = 0
    for texts in TOPICS.values():
        for i, text in enumerate(texts):
            n += 1
            rows.append(f"{n};{text};{communes[i % len(communes)]};auteur{n}")
    rows.append(f"{n + 1};Contactez Jean Dupont au 06 12 34 56 78 pour le bus de Lille.;Lille;a0")
    rows.append(f"{n + 2};;Lille;a99")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def report(tmp_path: Path, guard: Any, embedder: Any) -> dict[str, Any]:
    source = write_contributions(tmp_path / "contributions.csv")
    result = analyze(
        [source],
        Settings(home=tmp_path / "home"),
        out_dir=tmp_path / "out",
        pii=guard,
        embedder=embedder,
        options=AnalysisOptions(max_themes=6),
    )
    assert result.json_path.exists() and result.html_path.exists()
    return json.loads(result.json_path.read_text(encoding="utf-8"))


def test_report_json_contract(report: dict[str, Any]) -> None:
    assert report["contributions"] == 29
    assert isinstance(report["participant_groups"], dict)
    assert isinstance(report["consensus"], list) and isinstance(report["divisive"], list)
    for theme in report["themes"]:
        assert theme.keys() >= CONTRACT_THEME_KEYS
        for quote in theme["quotes"]:
            assert {"contribution_id", "start", "end", "text"} <= quote.keys()
    ids = [cid for t in report["themes"] for cid in t["contribution_ids"]]
    assert sorted(ids) == sorted(c["id"] for c in report["contribution_texts"])  # each once
    assert report["themes"][-1]["id"] == "autres" and report["themes"][-1]["other"]


def test_every_quote_verbatim_at_its_offsets(report: dict[str, Any]) -> None:
    stored = {c["id"]: c["text"] for c in report["contribution_texts"]}
    quotes = [q for t in report["themes"] for q in t["quotes"]]
    assert quotes
    for q in quotes:
        text = unicodedata.normalize("NFC", stored[q["contribution_id"]])
        assert text[q["start"] : q["end"]] == unicodedata.normalize("NFC", q["text"])
        theme = next(t for t in report["themes"] if q in t["quotes"])
        assert q["contribution_id"] in theme["contribution_ids"]


def test_numbers_recomputable_from_the_json(report: dict[str, Any]) -> None:
    n = report["contributions"]
    for theme in report["themes"]:
        assert theme["size"] == len(theme["contribution_ids"])
        assert theme["share"] == round(theme["size"] / n, 4)
    for sentence in report["synthesis"]:
        assert (
            sentence.get("contribution_ids")
            or sentence.get("statement_ids")
            or sentence.get("question")
        )


def test_themes_follow_the_topics(report: dict[str, Any]) -> None:
    labels = " ".join(t["label"] for t in report["themes"])
    assert "bus" in labels.lower() and "parc" in labels.lower() and "taxe" in labels.lower()
    assert len([t for t in report["themes"] if not t["other"]]) >= 3


def test_personal_data_never_reaches_the_report(report: dict[str, Any], tmp_path: Path) -> None:
    raw = json.dumps(report, ensure_ascii=False)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    for secret in ("Jean Dupont", "06 12 34 56 78", "auteur17"):
        assert secret not in raw and secret not in page
    assert "[PERSONNE_0a1b2c]" in raw


def test_small_territory_not_broken_down(report: dict[str, Any]) -> None:
    territories = {c["territory"] for c in report["contribution_texts"]}
    assert "Hameau-sur-Deûle" not in territories  # 3 people only
    matrix = report["territory_matrix"]
    for row in matrix["cells"]:
        assert all(v is None or v == 0 or v >= 5 for v in row)


def test_bad_rows_listed_in_the_report(report: dict[str, Any]) -> None:
    reasons = [i["reason"] for i in report["import"]["issues"]]
    assert any("texte vide" in r for r in reasons)


def test_html_self_contained_french_accessible(report: dict[str, Any], tmp_path: Path) -> None:
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert page.count("<svg") >= 1 and 'role="img"' in page and "<table>" in page
    assert "@media print" in page
    for q in (q for t in report["themes"] for q in t["quotes"]):
        assert f'data-start="{q["start"]}" data-end="{q["end"]}"' in page


def test_nothing_readable_is_refused(tmp_path: Path, guard: Any) -> None:
    from territoria.errors import InvalidRequest

    empty = tmp_path / "vide.csv"
    empty.write_text("texte\n\n", encoding="utf-8")
    with pytest.raises(InvalidRequest):
        analyze([empty], Settings(home=tmp_path), out_dir=tmp_path / "o", pii=guard)
