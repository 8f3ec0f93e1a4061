"""A fiche as French text: the sections the assistant cites and the fields search reads."""

from __future__ import annotations

from typing import Any

from territoria.french_numbers import french
from territoria.retex.model import COLLECTIVITE_LABELS, STATUS_LABELS
from territoria.types import Section

_BANDS = {"<10k": "moins de 10 k€", "10k-50k": "10 à 50 k€", "50k-200k": "50 à 200 k€",
          "200k-1M": "200 k€ à 1 M€", ">1M": "plus de 1 M€"}  # fmt: skip
_DELIVERY = {
    "regie": "en régie",
    "prestataire": "par un prestataire",
    "mixte": "régie et prestataire",
}


def _join(items: Any) -> str:
    return ", ".join(str(i) for i in items or () if i)


def _result(r: dict[str, Any]) -> str:
    value = r.get("value")
    figure = ""
    if value is not None:
        written = french(f"{value:,.0f}" if float(value).is_integer() else f"{value:,}")
        figure = f" : {written} {r.get('unit', '')}".rstrip()
    note = f" ({r['note']})" if r.get("note") else ""
    return f"{r['indicator']}{figure}{note}."


def collectivite_line(view: dict[str, Any]) -> str:
    c = view["collectivite"]
    kind = COLLECTIVITE_LABELS.get(c.get("type", ""), c.get("type", ""))
    siren = f", SIREN {c['siren']}" if c.get("siren") else ""
    band = f", {c['population_band']} habitants" if c.get("population_band") else ""
    return f"{c['name']} ({kind}{siren}{band})"


def fiche_sections(view: dict[str, Any], origin: str) -> list[Section]:
    """The fiche as sections (a heading each), from its public or whole view; `origin` says
    where it comes from (instance, date)."""
    status = STATUS_LABELS.get(view["status"], view["status"])
    head = [
        f"Collectivité : {collectivite_line(view)}.",
        f"Statut : {status}"
        + (
            f", raisons de l'abandon : {view['abandon_reasons'].rstrip('.')}"
            if view.get("abandon_reasons")
            else ""
        )
        + ".",
        f"Origine : {origin}.",
    ]
    if view.get("example"):
        head.append("Fiche d'exemple écrite par le projet territoria (pas un cas réel).")
    for label, name in (("Thèmes", "themes"), ("Public visé", "audience"),
                        ("Compétences", "competences"), ("Partenaires", "partners"),
                        ("Financements", "funding"), ("Prestataires et outils", "providers"),
                        ("Données utilisées", "data_used")):  # fmt: skip
        if view.get(name):
            head.append(f"{label} : {_join(view[name])}.")
    if view.get("budget_band"):
        head.append(f"Budget : {_BANDS.get(view['budget_band'], view['budget_band'])}.")
    if view.get("delivery"):
        head.append(f"Réalisation : {_DELIVERY.get(view['delivery'], view['delivery'])}.")
    if view.get("hosting"):
        head.append(f"Hébergement : {view['hosting']}.")
    if view.get("started"):
        end = f" au {view['ended']}" if view.get("ended") else ""
        head.append(f"Dates : du {view['started']}{end}.")
    sections = [Section("\n".join(head), ("Fiche",)), Section(view["summary"], ("Résumé",))]
    lessons = view.get("lessons") or {}
    parts: list[tuple[str, list[str]]] = [
        ("Résultats", [_result(r) for r in view.get("results") or []]),
        ("Ce qui a marché", list(lessons.get("worked") or [])),
        ("Ce qui n'a pas marché", list(lessons.get("did_not_work") or [])),
        ("Impact environnemental", [view["environmental_impact"]]
         if view.get("environmental_impact") else []),
        ("Décisions", [f"{d['date']} : {d['decision']}" + (f" ({d['by']})" if d.get("by") else "")
                       for d in view.get("decisions") or []]),
    ]  # fmt: skip
    for heading, lines in parts:
        if lines:
            if len(lines) > 1:
                body = "\n".join(f"- {line}" for line in lines)
                sections.append(Section(body, (heading,), kind="list"))
            else:
                sections.append(Section(lines[0], (heading,)))
    return sections


def search_fields(view: dict[str, Any]) -> tuple[str, str]:
    """(title field, text field) of a fiche for lexical search: the title field holds the
    title, the themes and the collectivité; the text field everything else that is public."""
    c = view["collectivite"]
    title = " ".join([view["title"], _join(view.get("themes")), c["name"]])
    lessons = view.get("lessons") or {}
    text = "\n".join(
        part
        for part in (
            view.get("summary", ""),
            _join(view.get("audience")),
            _join(view.get("competences")),
            _join(view.get("partners")),
            _join(view.get("funding")),
            _join(view.get("providers")),
            _join(view.get("data_used")),
            view.get("hosting", ""),
            view.get("abandon_reasons", ""),
            view.get("environmental_impact", ""),
            " ".join(_result(r) for r in view.get("results") or []),
            " ".join(lessons.get("worked") or []),
            " ".join(lessons.get("did_not_work") or []),
            COLLECTIVITE_LABELS.get(c.get("type", ""), ""),
            STATUS_LABELS.get(view.get("status", ""), ""),
        )
        if part
    )
    return title, text
