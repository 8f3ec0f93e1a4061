"""Access rules inside retrieval, on every store backend: over 500 queries built from the
internal documents' own titles and sentences, the public role retrieves 0 internal passages
(and another collectivité's documents never show), while agents do find them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from territoria.ingest import to_passages
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.types import Access, LoadedDocument, Section, Visibility

TOPICS = [
    ("cantine", "Le repas de la cantine scolaire coûte {n},10 euros pour la tranche {c}."),
    ("déchets", "Le bac jaune est collecté le {d} dans le secteur {c}."),
    ("salles", "La salle des fêtes se loue {n}00 euros le week-end, caution {n}50 euros."),
    ("état civil", "Les actes de naissance sont délivrés sous {n} jours au guichet {c}."),
    ("urbanisme", "Le délai d'instruction du permis de construire est de {n} mois en zone {c}."),
    ("marché", "Le marché se tient le {d} matin place {c}, droit de place {n} euros."),
]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"]


def document(i: int, internal: bool) -> tuple[str, LoadedDocument, Visibility]:
    topic, template = TOPICS[i % len(TOPICS)]
    rnd = random.Random(i)
    sentences = [
        template.format(n=rnd.randint(1, 9), c=chr(65 + rnd.randint(0, 5)), d=rnd.choice(DAYS))
        for _ in range(6)
    ]
    if internal:
        title = f"Note interne {i} : procédure {topic}"
        sentences.append(f"Code d'accès du local {topic} réservé aux agents : {1000 + i}.")
    else:
        title = f"Information {topic} {i}"
    doc = LoadedDocument(title=title, sections=(Section(" ".join(sentences)),), source="")
    return (f"{'int' if internal else 'pub'}-{i}", doc, "internal" if internal else "public")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        home=tmp_path / "home",
        embedder="fake",
        title_embedder="fake",
    )
    if request.param == "postgres":
        settings = settings.model_copy(
            update={"store": "postgres", "postgres_dsn": request.getfixturevalue("postgres_dsn")}
        )
    rt = Runtime(settings)
    for i in range(60):
        doc_id, doc, visibility = document(i, internal=i % 2 == 1)
        passages = to_passages(doc_id, doc, settings)
        rt.store.put_document(
            StoredDocument(doc_id, doc.title, "", f"h{i}", visibility=visibility), passages
        )
    _, other, _ = document(99, internal=False)
    rt.store.put_document(
        StoredDocument("autre-commune", other.title, "", "h99", tenant="autre"),
        to_passages("autre-commune", other, settings),
    )
    rt.retriever.refresh()
    yield rt
    rt.close()


def queries(rt: Runtime) -> list[str]:
    internal = [p for p in rt.store.iter_passages() if p.visibility == "internal"]
    out = [p.title for p in internal]
    for p in internal:
        out.extend(s.strip() for s in p.text.split(".") if s.strip())
    rnd = random.Random(7)
    while len(out) < 520:
        words = rnd.choice(internal).text.split()
        start = rnd.randrange(max(1, len(words) - 5))
        out.append(" ".join(words[start : start + rnd.randint(2, 6)]))
    return out


def test_public_role_never_retrieves_internal_passages(runtime: Runtime) -> None:
    qs = queries(runtime)
    assert len(qs) >= 500
    public = Access(role="public")
    leaked = []
    for q in qs:
        for hit in runtime.retriever.search(q, k=10, access=public):
            if hit.passage.visibility != "public" or hit.passage.tenant != "default":
                leaked.append((q, hit.passage.passage_id))
        for hit in runtime.retriever.search_documents(q, k=10, access=public):
            if hit.passage.visibility != "public" or hit.passage.tenant != "default":
                leaked.append((q, hit.passage.passage_id))
    assert leaked == []


def test_agents_do_find_internal_passages(runtime: Runtime) -> None:
    hits = runtime.retriever.search(
        "Note interne 1 : procédure déchets", k=3, access=Access(role="agent")
    )
    assert hits and hits[0].passage.doc_id == "int-1"
    other_tenant = runtime.retriever.search(
        "Information marché 99", k=10, access=Access(role="agent")
    )
    assert all(h.passage.tenant == "default" for h in other_tenant)
    theirs = runtime.retriever.search(
        "Information marché 99", k=3, access=Access(role="agent", tenant="autre")
    )
    assert theirs and all(h.passage.doc_id == "autre-commune" for h in theirs)
