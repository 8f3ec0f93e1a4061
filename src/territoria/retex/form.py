"""The agents' web form for a fiche: form fields (all text) to fiche JSON data and back.

Lists are one item per line (or comma-separated for short ones: themes, INSEE codes); a
result is one line "indicateur : valeur unité (précision)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_COMMA_LISTS = ("insee_codes", "themes", "audience", "competences", "funding")
_LINE_LISTS = ("partners", "providers", "data_used", "links")
_TEXTS = ("title", "summary", "abandon_reasons", "budget_detail", "hosting",
          "environmental_impact", "internal_notes")  # fmt: skip
_CHOICES = ("status", "budget_band", "delivery")
_RESULT = re.compile(
    r"^(?P<indicator>[^:]+?)\s*:\s*(?P<value>-?\d[\d\s\u202f]*(?:[.,]\d+)?)\s*"
    r"(?P<unit>[^(]*?)\s*(?:\((?P<note>.*)\))?\s*$"
)


def _lines(text: str) -> list[str]:
    return [line.strip().lstrip("-•").strip() for line in text.splitlines() if line.strip()]


def _commas(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,;\n]", text) if item.strip()]


def parse_result(line: str) -> dict[str, Any]:
    """ "Vélos loués : 240 locations (2023)" -> {indicator, value, unit, note}; a line
    without a figure is kept as an indicator alone."""
    m = _RESULT.match(line)
    if not m:
        return {"indicator": line}
    number = re.sub(r"[\s\u202f]", "", m["value"]).replace(",", ".")
    return {
        "indicator": m["indicator"].strip(),
        "value": float(number),
        "unit": m["unit"].strip(),
        "note": (m["note"] or "").strip(),
    }


def fiche_data(form: Mapping[str, str], *, fiche_id: str = "") -> dict[str, Any]:
    """Fiche JSON data from the form's fields (validated later by the model)."""

    def get(name: str) -> str:
        return str(form.get(name, "") or "").strip()

    data: dict[str, Any] = {name: get(name) for name in _TEXTS}
    for name in _CHOICES:
        if get(name):
            data[name] = get(name)
    for name in _COMMA_LISTS:
        data[name] = _commas(get(name))
    for name in _LINE_LISTS:
        data[name] = _lines(get(name))
    data["collectivite"] = {
        "name": get("collectivite_name"),
        "siren": get("siren"),
        "type": get("collectivite_type") or "commune",
    }
    if get("population_band"):
        data["collectivite"]["population_band"] = get("population_band")
    data["results"] = [parse_result(line) for line in _lines(get("results"))]
    data["lessons"] = {"worked": _lines(get("worked")), "did_not_work": _lines(get("did_not_work"))}
    contact = {k: get(f"contact_{k}") for k in ("name", "role", "email", "phone")}
    if any(contact.values()):
        data["contact"] = contact
    for name in ("started", "ended"):
        if get(name):
            data[name] = get(name)
    if get("contact_public"):
        data["visibility"] = {"contact": "public"}
    if fiche_id:
        data["id"] = fiche_id
    return data


def _result_line(r: Mapping[str, Any]) -> str:
    value = r.get("value")
    figure = "" if value is None else f" : {value:g} {r.get('unit', '')}".rstrip()
    note = f" ({r['note']})" if r.get("note") else ""
    return f"{r['indicator']}{figure}{note}"


def form_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields filled from a fiche (to edit one of ours)."""
    fields = {name: str(body.get(name) or "") for name in (*_TEXTS, *_CHOICES)}
    for name in _COMMA_LISTS:
        fields[name] = ", ".join(body.get(name) or [])
    for name in _LINE_LISTS:
        fields[name] = "\n".join(body.get(name) or [])
    c = body.get("collectivite") or {}
    fields.update(
        collectivite_name=c.get("name", ""),
        siren=c.get("siren", ""),
        collectivite_type=c.get("type", ""),
        population_band=c.get("population_band") or "",
    )
    fields["results"] = "\n".join(_result_line(r) for r in body.get("results") or [])
    lessons = body.get("lessons") or {}
    fields["worked"] = "\n".join(lessons.get("worked") or [])
    fields["did_not_work"] = "\n".join(lessons.get("did_not_work") or [])
    for k, v in (body.get("contact") or {}).items():
        fields[f"contact_{k}"] = v or ""
    fields["started"] = body.get("started") or ""
    fields["ended"] = body.get("ended") or ""
    fields["contact_public"] = "1" if (body.get("visibility") or {}).get("contact") else ""
    return fields
