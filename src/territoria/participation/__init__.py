"""Citizen participation synthesis: import, pseudonymise, find themes and opinion groups, report.

    report = analyze([Path("export_decidim/")], settings, out_dir=Path("synthese"))
    report.data["themes"][0]["quotes"]   # verbatim, with contribution id and offsets

Steps: read every path (`importers`), pseudonymise texts with the PII guard and hash authors
(`privacy`), find duplicates (`dedupe`), themes (`themes`, `keywords`, `quotes`), opinion groups
from votes (`opinion`), questionnaire distributions (`questionnaire`), then write
`report.json` (`report`) and a self-contained `report.html` (`html`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from territoria.embed import Embedder
from territoria.errors import ConfigError, EmbedderError, InvalidRequest, TerritoriaError
from territoria.participation import html, inputs, quotes, themes
from territoria.participation.dedupe import find_duplicates
from territoria.participation.importers import load_paths, parse_mapping
from territoria.participation.keywords import Tokenizer, theme_keywords
from territoria.participation.language import detect as detect_languages
from territoria.participation.method import plain_method, privacy_notes
from territoria.participation.model import Contribution, Dataset
from territoria.participation.opinion import analyze_votes
from territoria.participation.privacy import (
    Hasher,
    Masking,
    Pseudonymizer,
    default_pseudonymizer,
    mask,
    protect_contributions,
)
from territoria.participation.questionnaire import summarize
from territoria.participation.report import OTHER_ID, OTHER_LABEL, Theme, build
from territoria.participation.titles import choose_titles, llm_title, varied_label
from territoria.settings import Settings

__all__ = ["AnalysisOptions", "Pseudonymizer", "Report", "analyze", "parse_mapping"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AnalysisOptions:
    """Knobs of the analysis; the defaults are the ones measured in bench/bench_participation.py."""

    min_group_size: int = 5  # territories, groups, opinion groups: no breakdown under this
    max_themes: int = 30
    min_theme_size: int = 3
    max_embedded: int = 20_000  # above, TF-IDF + SVD instead of sentence embeddings
    quotes_per_theme: int = 3
    seed: int = 0
    tenant: str = "default"
    stability: bool = True  # re-cluster with another seed and report the agreement (ARI)
    llm_titles: bool = True  # ask the configured LLM for titles (kept only when supported)
    html_max_contributions: int = 3000
    pii_workers: int = 0  # processes for the PII guard; 0: up to 2 from 5,000 texts on
    keep_inputs: bool = True  # False: each input is deleted once read (fingerprint kept)


@dataclass(frozen=True)
class Report:
    data: dict[str, Any]
    json_path: Path
    html_path: Path
    timings: dict[str, float] = field(default_factory=dict)


def analyze(
    paths: Sequence[Path],
    settings: Settings,
    *,
    out_dir: Path,
    mapping: str | Mapping[str, str] | None = None,
    pii: Pseudonymizer | None = None,
    embedder: Embedder | None = None,
    options: AnalysisOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Analyse the contributions in `paths` and write `report.json` and `report.html`."""
    options = options or AnalysisOptions()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    dataset = load_paths(
        [Path(p) for p in paths], mapping=parse_mapping(mapping), settings=settings
    )
    received = None if options.keep_inputs else inputs.forget([Path(p) for p in paths])
    if not (dataset.contributions or dataset.vote_matrices or dataset.questionnaires):
        reasons = "; ".join(i.reason for i in dataset.issues[:5])
        raise InvalidRequest(
            "Aucune contribution, aucun vote ni questionnaire lisible dans les chemins donnés"
            + (f" ({reasons})." if reasons else ".")
        )
    lap("import")
    guard = pii if pii is not None else default_pseudonymizer(settings)
    hasher = Hasher.from_settings(settings)
    languages = detect_languages([c.text for c in dataset.contributions])
    lap("langue")
    step = (lambda done, total: progress("pseudonymisation", done, total)) if progress else None
    masking = mask(
        [c.text for c in dataset.contributions],
        guard,
        tenant=options.tenant,
        progress=step,
        workers=_pii_workers(options, len(dataset.contributions)),
        languages=languages.per_text,
    )
    contributions = protect_contributions(
        dataset.contributions, masking.texts, hasher, min_group_size=options.min_group_size
    )
    lap("pseudonymisation")
    duplicates = find_duplicates([c.text for c in contributions], seed=options.seed)
    lap("doublons")
    found, method = _themes(
        contributions, duplicates, settings, embedder, options, progress, languages.main
    )
    lap("thèmes")
    opinions = [
        analyze_votes(m, seed=options.seed, min_group_size=options.min_group_size)
        for m in dataset.vote_matrices
    ]
    lap("opinions")
    document = build(
        contributions=contributions,
        themes=found,
        duplicates=duplicates,
        opinions=opinions,
        questionnaires=[
            summarize(q, min_group_size=options.min_group_size) for q in dataset.questionnaires
        ],
        issues=dataset.issues,
        files=dataset.files,
        method=method,
        privacy=_privacy(guard, options, masking, received),
        languages=languages.as_dict(),
        min_group_size=options.min_group_size,
        participant_id=hasher.participant,
    )
    document["method"]["description"] = plain_method(
        languages=document["languages"],
        min_theme_size=options.min_theme_size,
        min_group_size=options.min_group_size,
        has_votes=bool(opinions),
        has_questionnaires=bool(document["questionnaires"]),
        llm_titles=bool(document["method"].get("llm_titles")),
    )
    problems = quotes.verify(
        [q for t in found for q in t.quotes], {c.id: c.text for c in contributions}
    )
    if problems:  # pragma: no cover - quotes are cut from the stored text by construction
        raise TerritoriaError("Citations non littérales : " + "; ".join(problems[:3]))
    document["quote_check"] = {"quotes": sum(len(t.quotes) for t in found), "verbatim": True}
    lap("rapport")
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    document["timings_s"] = timings
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    html_path.write_text(
        html.render(document, max_contributions=options.html_max_contributions), encoding="utf-8"
    )
    lap("écriture")
    return Report(document, json_path, html_path, timings)


def _pii_workers(options: AnalysisOptions, texts: int) -> int:
    if options.pii_workers:
        return options.pii_workers
    return min(2, os.cpu_count() or 1) if texts >= 5000 else 1


def _llm(settings: Settings) -> Any:
    from territoria.llm import make_llm

    try:
        return make_llm(settings)
    except ConfigError:
        return None


def _embedder(settings: Settings, embedder: Embedder | None) -> tuple[Embedder | None, str]:
    if embedder is not None:
        return embedder, ""
    from territoria.embed import make_embedder

    try:
        return make_embedder(settings), ""
    except (ImportError, ConfigError, EmbedderError) as exc:
        reason = exc.message if isinstance(exc, TerritoriaError) else str(exc)
        return None, f"modèle d'embeddings indisponible ({reason})"


def _themes(
    contributions: Sequence[Contribution],
    duplicates: Any,
    settings: Settings,
    embedder: Embedder | None,
    options: AnalysisOptions,
    progress: Progress | None,
    language: str,
) -> tuple[list[Theme], dict[str, Any]]:
    unique = duplicates.unique_indices
    texts = [contributions[i].text for i in unique]
    model, why = (None, "") if len(texts) > options.max_embedded else _embedder(settings, embedder)
    step = (lambda done, total: progress("représentation", done, total)) if progress else None
    vectors, representation = themes.represent(
        texts, embedder=model, max_embedded=options.max_embedded, seed=options.seed, progress=step
    )
    clustering = themes.cluster(
        vectors,
        texts,
        representation=representation,
        seed=options.seed,
        max_themes=options.max_themes,
        min_theme_size=options.min_theme_size,
    )
    stability = None
    if options.stability and clustering.k > 1:
        from sklearn.metrics import adjusted_rand_score

        again = themes.cluster(
            vectors,
            texts,
            representation=representation,
            seed=options.seed + 1,
            max_themes=options.max_themes,
            min_theme_size=options.min_theme_size,
        )
        stability = round(float(adjusted_rand_score(clustering.labels, again.labels)), 4)
    # Every duplicate follows its canonical contribution.
    position = {index: row for row, index in enumerate(unique)}
    labels = np.array(
        [clustering.labels[position[duplicates.canonical[i]]] for i in range(len(contributions))]
    )
    all_texts = [c.text for c in contributions]
    keywords = theme_keywords(all_texts, labels.tolist())
    centres = themes.centroids(clustering.vectors, clustering.labels)
    tokenizer = Tokenizer()
    authors = [c.author for c in contributions]
    by_label: dict[int, list[int]] = {label: [] for label in centres}
    for i, label in enumerate(labels.tolist()):
        if label in by_label:
            by_label[label].append(i)
    ranked = sorted(by_label, key=lambda x: (-len(by_label[x]), x))
    unique_vectors = clustering.vectors
    centrality = [
        np.array(
            [
                float(unique_vectors[position[duplicates.canonical[i]]] @ centres[label])
                for i in by_label[label]
            ],
            dtype=np.float32,
        )
        for label in ranked
    ]
    titles = choose_titles(
        all_texts,
        [c.id for c in contributions],
        [by_label[label] for label in ranked],
        centrality,
        language=language,
        tokenizer=tokenizer,
    )
    llm = _llm(settings) if options.llm_titles else None
    found: list[Theme] = []
    for label, title in zip(ranked, titles, strict=True):
        members = by_label[label]
        words = keywords.get(label, [])
        stems = {stem for _, stem, _ in words}
        chosen = quotes.representatives(
            [position[i] for i in members if duplicates.canonical[i] == i],
            clustering.vectors,
            centres[label],
            authors=[authors[i] for i in unique],
            canonical=list(range(len(unique))),
            count=options.quotes_per_theme,
        )
        picked = [
            quotes.make_quote(
                contributions[unique[row]].id,
                contributions[unique[row]].text,
                stems | (title.stems if title else frozenset()),
                tokenizer=tokenizer,
            )
            for row in chosen
        ]
        if llm is not None:
            proposed = llm_title(
                llm,
                [q.text for q in picked],
                [w for w, _, _ in words],
                [all_texts[i] for i in members],
            )
            title = proposed or title
        found.append(
            Theme(
                f"T{len(found) + 1}",
                title.text if title else varied_label([w for w, _, _ in words]),
                [w for w, _, _ in words],
                members,
                picked,
                title=title,
            )
        )
    rest = [i for i in range(len(contributions)) if labels[i] == themes.OTHER]
    found.append(Theme(OTHER_ID, OTHER_LABEL, [], rest, [], other=True))
    method = {
        "representation": representation,
        "representation_note": why,
        "k": clustering.k,
        "themes": len(centres),
        "silhouette": clustering.silhouette,
        "silhouette_by_k": {str(k): v for k, v in clustering.scores.items()},
        "stability_ari": stability,
        "unique_texts": len(unique),
        "seed": options.seed,
        "llm_titles": llm is not None,
        "technical": _technical(representation, why, clustering.k, stability, options),
    }
    return found, method


def _technical(
    representation: str, why: str, k: int, stability: float | None, options: AnalysisOptions
) -> list[str]:
    lines = [
        f"Représentation des textes : {representation}"
        + (f" — {why}" if why else "")
        + (
            f" ; au-delà de {options.max_embedded} textes distincts, TF-IDF + SVD tronquée est "
            "utilisée pour tenir le temps de calcul."
        ),
        f"Thèmes : k-means sur la représentation réduite (ACP), nombre de thèmes ({k}) choisi "
        "par le meilleur coefficient de silhouette ; les thèmes de moins de "
        f"{options.min_theme_size} contributions et les textes de moins de 3 mots porteurs de "
        "sens sont « non classés ».",
        "Titres : groupes nominaux extraits des contributions les plus centrales du thème "
        "(étiquetage morphosyntaxique spaCy pour le français, suites de mots pleins sinon), "
        "classés par couverture pondérée par la centralité × log du rapport de fréquence "
        "dans le thème et hors du thème, avec pénalité de recouvrement entre thèmes.",
        "Mots-clés : TF-IDF par classe sur des racines françaises (mots vides exclus).",
        "Doublons : textes identiques après normalisation ou quasi identiques (Jaccard ≥ 0,8 sur "
        "des triplets de mots) ; un doublon suit le thème de son original.",
        "Groupes d'opinion : ACP des votes à 2 composantes (valeurs manquantes remplacées par la "
        "moyenne de l'affirmation, projection corrigée de la rareté des votes), 100 groupes de "
        "base puis k-means pondéré sur leurs centres, k de 2 à 5 choisi par silhouette, comme "
        "pol.is ; groupes retenus si l'indice de Rand ajusté moyen sur 10 sous-échantillons de "
        "80 % des participants et l'écart de silhouette à un nuage gaussien unique dépassent "
        "les seuils choisis par validation croisée par conversation.",
        "Langue : py3langid par contribution (probabilité ≥ 0,9, sinon langue principale).",
    ]
    if stability is not None:
        lines.append(
            f"Stabilité des thèmes entre deux graines aléatoires : indice de Rand ajusté "
            f"{stability:.2f}."
        )
    return lines


def _privacy(
    guard: Pseudonymizer,
    options: AnalysisOptions,
    masking: Masking,
    received: list[dict[str, object]] | None,
) -> dict[str, Any]:
    kept = (
        []
        if received is None
        else [
            "Fichiers déposés supprimés dès leur lecture : seuls les textes pseudonymisés sont "
            "conservés, avec l'empreinte SHA-256 de chaque fichier, complète dans report.json ("
            + "; ".join(f"{r['name']} : {str(r['sha256'])[:16]}…" for r in received)
            + ")."
        ]
    )
    return {
        "raw_inputs_kept": received is None,
        "inputs": received or [],
        "pseudonymised": True,
        "guard": f"{type(guard).__module__}.{type(guard).__qualname__}",  # JSON only
        "min_group_size": options.min_group_size,
        "masked": masking.masked,
        "person_search": masking.person_search,
        "notes": [
            *privacy_notes(
                masking.masked, masking.person_search, min_group_size=options.min_group_size
            ),
            *kept,
        ],
    }


def dataset_of(paths: Sequence[Path], mapping: str | None = None) -> Dataset:
    """The raw import, for tools that only need to read (benchmarks, checks)."""
    return load_paths(list(paths), mapping=parse_mapping(mapping))
