"""Fiches in the assistant: mirrored as `retex` documents, cited to agents with their origin,
never to citizens unless the operator allows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retex.conftest import NoPII
from territoria.retex.demo import demo_fiches
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access


def _runtime(tmp_path: Path, **settings: Any) -> Runtime:
    rt = Runtime(Settings(home=tmp_path / "h", embedder="fake", title_embedder="fake", **settings))
    rt.__dict__["pii"] = NoPII()  # type: ignore[assignment]
    return rt


def test_agents_get_answers_cited_from_fiches_with_their_origin(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    try:
        rt.retex.add_many(demo_fiches())
        docs = [d for d in rt.store.list_documents() if d.collection == "retex"]
        assert len(docs) == len(demo_fiches()) and {d.visibility for d in docs} == {"internal"}
        rt.refresh()
        question = "quelle commune a mis en place un magasin de producteurs ?"
        answer = rt.assistant.ask(question, access=Access(role="agent"))
        assert not answer.abstained
        cited = answer.citations[0]
        assert cited.doc_id == "retex-exemple-magasin-producteurs-pat"
        assert "Val d'Arzon" in cited.title and "cette instance" in cited.title
        hits = rt.retriever.search(question, access=Access(role="public"))
        assert not [h for h in hits if h.passage.doc_id.startswith("retex-")]
        rt.retex.withdraw("exemple-magasin-producteurs-pat")
        ids = {d.doc_id for d in rt.store.list_documents()}
        assert "retex-exemple-magasin-producteurs-pat" not in ids
    finally:
        rt.close()


def test_citizens_see_fiches_only_when_the_operator_allows(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, retex_citizens=True)
    try:
        rt.retex.add_many(demo_fiches()[:2])
        assert {d.visibility for d in rt.store.list_documents()} == {"public"}
    finally:
        rt.close()


def test_search_quality_smoke_on_the_demo(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    try:
        rt.retex.add_many(demo_fiches())
        top = rt.retex.search("quelle commune a mis en place un magasin de producteurs ?")
        assert top[0].id == "exemple-magasin-producteurs-pat"
        assert top[0].origin["collectivite"] == "Communauté de communes du Val d'Arzon"
        assert rt.retex.search("Vélo de Pays")[0].id == "exemple-velo-de-pays"
    finally:
        rt.close()
