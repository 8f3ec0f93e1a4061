from __future__ import annotations

from pathlib import Path

from territoria.participation.importers import load_paths
from territoria.participation.questionnaire import summarize


def test_distributions_per_question_and_territory_with_small_territories_withheld(
    questionnaire_path: Path,
) -> None:
    (q,) = load_paths([questionnaire_path]).questionnaires
    summary = summarize(q, min_group_size=5)
    bike = next(x for x in summary["questions"] if x["question"].startswith("La commune"))
    assert bike["n"] == 35  # 36 respondents, one answer off the scale
    assert sum(bike["counts"].values()) == bike["n"]
    assert bike["scale"][0] == "Pas du tout d'accord"
    assert 0 <= bike["mean_score"] <= 100
    rows = {r["territory"]: r for r in bike["by_territory"]}
    assert "Hauteville" not in rows  # 2 respondents: merged, never shown alone
    other = rows["Autres territoires (moins de 5 personnes chacun)"]
    assert other["suppressed"] and other["n"] is None
    shown = [r for r in bike["by_territory"] if not r.get("suppressed")]
    assert all(r["n"] >= 5 for r in shown)
    assert sum(r["n"] for r in shown) + 2 == bike["n"]


def test_mean_score_on_a_known_distribution(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "Commune,Avis\n" + "".join(f"A,{v}\n" for v in ["Oui"] * 3 + ["Non"] * 1),
        encoding="utf-8",
    )
    (q,) = load_paths([path]).questionnaires
    (item,) = summarize(q, min_group_size=5)["questions"]
    assert item["counts"] == {"Non": 1, "Oui": 3}
    assert item["mean_score"] == 75.0
    assert item["by_territory"] == [
        {
            "territory": "Autres territoires (moins de 5 personnes chacun)",
            "n": None,
            "suppressed": True,
        }
    ]
