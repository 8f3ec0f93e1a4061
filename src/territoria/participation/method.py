"""How the report says what was done: in plain French first, the technical details apart.

`plural` writes French counts ("1 fichier", "2 fichiers", "1 personne"); every count of the
report goes through it. The plain method never names a library, a class or a statistic; the
technical lines (representation, k, silhouette, ARI...) are shown in a separate section that
the method links to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from territoria.participation.language import name_of

_IRREGULAR = {"travail": "travaux", "journal": "journaux", "local": "locaux"}
_KIND_NAMES = {
    "PERSON": ("nom de personne", "noms de personnes"),
    "ADDRESS": ("adresse", "adresses"),
    "PHONE": ("numéro de téléphone", "numéros de téléphone"),
    "EMAIL": ("adresse électronique", "adresses électroniques"),
    "NIR": ("numéro de sécurité sociale", "numéros de sécurité sociale"),
    "IBAN": ("IBAN", "IBAN"),
    "DATE": ("date de naissance", "dates de naissance"),
    "SIRET": ("numéro SIRET", "numéros SIRET"),
    "PLATE": ("immatriculation", "immatriculations"),
}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`plural(1, "fichier")` -> "1 fichier"; `plural(3, "fichier")` -> "3 fichiers"."""
    if abs(count) < 2:
        return f"{count} {singular}"
    if plural_form is None:
        words = singular.split(" ")
        head = words[0]
        if head in _IRREGULAR:
            head = _IRREGULAR[head]
        elif not head.endswith(("s", "x", "z")):
            head += "x" if head.endswith(("eau", "au", "eu")) else "s"
        plural_form = " ".join([head, *words[1:]])
    return f"{count} {plural_form}"


def plain_method(
    *,
    languages: Mapping[str, Any],
    min_theme_size: int,
    min_group_size: int,
    has_votes: bool,
    has_questionnaires: bool,
    llm_titles: bool,
) -> list[str]:
    lines = [
        f"Les textes ont été lus en {languages['main_name']}"
        + _other_languages(languages)
        + " ; les données personnelles qu'ils contenaient (noms, adresses, téléphones, "
        "courriels, numéros) ont été remplacées par des pseudonymes avant toute analyse.",
        "Les contributions qui parlent des mêmes sujets ont été regroupées automatiquement en "
        "thèmes, à partir de leurs mots seulement : les catégories ou questions du fichier "
        "d'origine n'ont pas servi à les former.",
        "Le titre de chaque thème est une expression reprise telle quelle dans ses "
        "contributions, choisie parce qu'elle revient souvent dans ce thème et peu dans les "
        "autres"
        + (
            " (un titre proposé par le modèle de langue n'est gardé que si tous ses mots "
            "figurent dans les contributions du thème)"
            if llm_titles
            else ""
        )
        + ". Les citations sont recopiées mot pour mot, avec un lien vers la contribution "
        "complète.",
        f"Les thèmes de moins de {plural(min_theme_size, 'contribution')} et les textes trop "
        "courts pour porter un sujet restent « non classés » et sont listés à part.",
        "Les textes identiques ou presque (copier-coller) sont signalés et comptés dans le "
        "thème de leur original.",
    ]
    if has_votes:
        lines.append(
            "Les groupes d'opinion réunissent les participants qui ont voté de la même façon "
            "sur les mêmes affirmations. Ils ne sont présentés que s'ils se retrouvent quand "
            "on refait le calcul sans une partie des participants, et s'ils se distinguent "
            "nettement d'une population sans groupes ; sinon le rapport l'indique."
        )
    if has_questionnaires:
        lines.append(
            "Les réponses à choix (échelles d'accord, de satisfaction, notes) sont comptées "
            "question par question ; les réponses libres rejoignent les thèmes."
        )
    lines.append(
        f"Aucun chiffre n'est détaillé pour un territoire ou un groupe de moins de "
        f"{plural(min_group_size, 'personne')}."
    )
    return lines


def _other_languages(languages: Mapping[str, Any]) -> str:
    others = [
        f"{name_of(code)} ({100 * share:.0f} %)"
        for code, share in languages["shares"].items()
        if code != languages["main"] and share >= 0.01
    ]
    return f" (et aussi : {', '.join(others)})" if others else ""


def privacy_notes(
    masked: Mapping[str, int],
    person_search: Mapping[str, str],
    *,
    min_group_size: int,
) -> list[str]:
    if masked:
        items = [
            plural(n, *_KIND_NAMES.get(kind, (kind.lower(), kind.lower())))
            for kind, n in sorted(masked.items(), key=lambda kv: -kv[1])
        ]
        found = "Données personnelles masquées dans les textes : " + ", ".join(items) + "."
    else:
        found = "Aucune donnée personnelle n'a été détectée dans les textes."
    notes = [found]
    for code, how in person_search.items():
        if how == "patterns":
            notes.append(
                f"Textes en {name_of(code)} : adresses électroniques, téléphones et numéros "
                "(IBAN, sécurité sociale, SIRET) recherchés ; les noms de personnes n'ont pas "
                f"été recherchés, faute de modèle de langue en {name_of(code)} installé : "
                "relisez les citations avant diffusion."
            )
    notes += [
        "Les identifiants des auteurs sont remplacés par des empreintes ; ceux des "
        "participants ne sont gardés que s'ils sont déjà anonymes (numéros).",
        f"Aucun territoire, groupe ou groupe d'opinion de moins de "
        f"{plural(min_group_size, 'personne')} n'est détaillé.",
    ]
    return notes
