"""The CLI contract of DESIGN.md: commands, exit codes and JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from helpers import write_corpus
from territoria.cli import _register, cli

_register()


def run(*args: str, home: Path) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--home", str(home)], env={"TERRITORIA_EMBEDDER": "fake"}
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    result = run("ingest", str(write_corpus(tmp_path / "docs")), "--json", home=home)
    assert result.exit_code == 0, result.output
    return home


def test_ingest_json_shape(tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    (docs / "vide.txt").write_text("")
    result = run("ingest", str(docs), "--json", home=tmp_path / "h")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"ingested", "unchanged", "failed", "documents"}
    assert data["ingested"] == 3 and data["unchanged"] == 0
    assert data["failed"][0]["path"].endswith("vide.txt") and data["failed"][0]["reason"]
    assert {d["doc_id"] for d in data["documents"]} == {"cantine", "dechets", "mairie"}
    assert set(data["documents"][0]) == {"path", "doc_id", "status"}
    again = json.loads(run("ingest", str(docs), "--json", home=tmp_path / "h").output)
    assert (again["ingested"], again["unchanged"]) == (0, 3)


def test_ingest_exits_non_zero_when_nothing_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xyz"
    bad.write_text("?")
    result = run("ingest", str(bad), "--json", home=tmp_path / "h")
    assert result.exit_code != 0
    assert json.loads(result.output)["failed"][0]["path"] == str(bad)


def test_documents_show_the_abstention_threshold_and_where_it_comes_from(home: Path) -> None:
    data = json.loads(run("documents", "--json", home=home).output)  # calibrated at ingest
    assert [(a["tenant"], a["source"]) for a in data["abstention"]] == [("default", "défaut")]
    text = run("documents", home=home).output
    assert "Seuil d'abstention : 0,350, valeur par défaut (3 document(s)" in text
    fixed = CliRunner().invoke(
        cli,
        ["documents", "--home", str(home)],
        env={"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_ABSTAIN_THRESHOLD": "0.4"},
    )
    assert "Seuil d'abstention : 0,4, fixé par l'opérateur" in fixed.output


def test_ask_shows_the_threshold_computed_again_after_an_upgrade(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(12):  # a calibrated corpus: 10 documents or more
        (docs / f"fiche-{n}.md").write_text(
            f"# Service {n}\n\nLe service numéro {n} ouvre le lundi à {n} heures, "
            f"rue des Lilas. Le tarif est de {n},50 euros par personne.\n",
            encoding="utf-8",
        )
    home = tmp_path / "home"
    assert run("ingest", str(docs), "--json", home=home).exit_code == 0  # calibrated here
    first = run("ask", "À quelle heure ouvre le service numéro 3 ?", home=home)
    assert first.exit_code == 0 and "Seuil d'abstention" not in first.output
    stored = home / "index" / "calibration.json"
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["stamp"]["confidence"] = "an-earlier-version"
    stored.write_text(json.dumps(data), encoding="utf-8")
    fixed = CliRunner().invoke(  # a threshold the operator sets needs no calibration
        cli,
        ["ask", "À quelle heure ouvre le service numéro 3 ?", "--home", str(home)],
        env={"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_ABSTAIN_THRESHOLD": "0.3"},
    )
    assert fixed.exit_code == 0 and "Seuil d'abstention" not in fixed.output
    assert json.loads(stored.read_text(encoding="utf-8"))["stamp"]["confidence"] == (
        "an-earlier-version"
    )
    again = run("ask", "À quelle heure ouvre le service numéro 3 ?", home=home)
    assert again.exit_code == 0
    assert "Seuil d'abstention : " in again.output  # progress of the computation, on stderr
    assert json.loads(stored.read_text(encoding="utf-8"))["stamp"]["confidence"] != (
        "an-earlier-version"
    )


def test_search_json_shape(home: Path) -> None:
    data = json.loads(run("search", "ouverture de la déchetterie", "--json", home=home).output)
    hit = data["hits"][0]
    assert set(hit) == {"doc_id", "passage_id", "title", "score", "text"}
    assert hit["doc_id"] == "dechets"


def test_search_batch(home: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"id": "a", "question": "prix du repas cantine"})
        + "\n"
        + json.dumps({"id": "b", "question": "ouverture de la mairie le samedi"})
        + "\n"
    )
    result = run("search", "--queries", str(queries), "--k", "2", home=home)
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["hits"][0]["doc_id"] == "cantine"
    assert set(lines[0]["hits"][0]) == {"doc_id", "passage_id", "score"}
    assert len(lines[1]["hits"]) <= 2


def test_ask_json_shape(home: Path) -> None:
    data = json.loads(
        run("ask", "Quel est le prix du repas à la cantine ?", "--json", home=home).output
    )
    assert {"answer", "abstained", "citations", "verification", "energy", "latency_ms"} <= set(data)
    assert data["abstained"] is False
    citation = data["citations"][0]
    assert {"n", "doc_id", "passage_id", "title", "source", "quote"} <= set(citation)
    assert {"wh", "gco2e", "method"} <= set(data["energy"])


def test_delete_then_never_found(home: Path) -> None:
    result = run("delete", "cantine", "--json", home=home)
    assert json.loads(result.output) == {"deleted": ["cantine"], "not_found": []}
    data = json.loads(run("search", "prix du repas cantine", "--json", home=home).output)
    assert all(h["doc_id"] != "cantine" for h in data["hits"])


def test_eval_retrieval_shape(home: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "1", "question": "prix repas cantine", "relevant_ids": ["cantine"]})
        + "\n"
        + json.dumps({"id": "2", "question": "bac jaune", "relevant_ids": ["dechets"]})
        + "\n"
    )
    data = json.loads(run("eval", "retrieval", "--qa", str(qa), "--json", home=home).output)
    assert set(data) == {"n", "hit@1", "hit@10", "mrr@10", "ndcg@10", "latency_ms"}
    assert data["n"] == 2 and data["hit@10"] == 1.0
    assert set(data["latency_ms"]) == {"p50", "p95"}


def test_eval_abstain_shape(home: Path, tmp_path: Path) -> None:
    qs = tmp_path / "out.jsonl"
    qs.write_text(json.dumps({"id": "x", "question": "Quelle est la capitale du Pérou ?"}) + "\n")
    data = json.loads(run("eval", "abstain", "--questions", str(qs), "--json", home=home).output)
    assert data["n"] == 1 and data["abstention_rate"] == 1.0
