"""The RETEX fiche: one experience of a collectivité (a project or a use case), its 29 fields,
and which of them may leave the instance.

The fields follow the published models the issue names: the Interconnectés' "Bibliothèque d'IA
territoriales" (each field marked public or restricted), and betagouv's "Communs de la
transition écologique" (INSEE codes of the territory, a phase/status with "abandonné", a
content hash, an append-only log of human decisions). Every field is public or restricted by
default (`DEFAULT_VISIBILITY`); a fiche may override a field in its `visibility` mapping,
except the fields that identify it (`ALWAYS_PUBLIC`). Restricted fields never leave the
instance: `public_view` drops them before anything is signed or exported.

The JSON Schema of the fiche is generated from these models (`fiche_schema`) and published
as docs/retex-fiche.schema.json (a test keeps the file in step).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Visibility = Literal["public", "restricted"]
Status = Literal["idee", "experimentation", "deploye", "termine", "abandonne"]
STATUS_LABELS: dict[str, str] = {
    "idee": "idée",
    "experimentation": "expérimentation",
    "deploye": "déployé",
    "termine": "terminé",
    "abandonne": "abandonné",
}
CollectiviteType = Literal["commune", "epci", "departement", "region", "pays", "syndicat", "autre"]
COLLECTIVITE_LABELS: dict[str, str] = {
    "commune": "commune",
    "epci": "intercommunalité (EPCI)",
    "departement": "département",
    "region": "région",
    "pays": "Pays / PETR",
    "syndicat": "syndicat",
    "autre": "autre",
}
PopulationBand = Literal["<2000", "2000-10000", "10000-50000", "50000-200000", ">200000"]
BudgetBand = Literal["<10k", "10k-50k", "50k-200k", "200k-1M", ">1M"]
Delivery = Literal["regie", "prestataire", "mixte"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
FicheId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{5,63}$")]
InseeCode = Annotated[str, StringConstraints(pattern=r"^(\d{5}|2[AB]\d{3})$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def siren_ok(siren: str) -> bool:
    """A SIREN is 9 digits with a Luhn check digit."""
    if len(siren) != 9 or not siren.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(siren)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class Collectivite(_Model):
    name: Short = Field(min_length=1, description="Nom de la collectivité.")
    siren: str = Field(default="", description="SIREN (9 chiffres, clé de Luhn).")
    type: CollectiviteType = Field(description="Type de collectivité.")
    population_band: PopulationBand | None = Field(
        default=None, description="Tranche de population."
    )

    @field_validator("siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        value = value.replace(" ", "")
        if value and not siren_ok(value):
            raise ValueError("SIREN invalide (9 chiffres, clé de contrôle fausse)")
        return value


class Result(_Model):
    indicator: Short = Field(min_length=1, description="Ce qui est mesuré.")
    value: float | None = Field(default=None, description="Valeur chiffrée.")
    unit: Short = Field(default="", description="Unité (km, %, €, personnes…).")
    note: Text = Field(default="", description="Précision (période, méthode).")


class Lessons(_Model):
    worked: list[Text] = Field(default_factory=list, description="Ce qui a marché.")
    did_not_work: list[Text] = Field(default_factory=list, description="Ce qui n'a pas marché.")


class Contact(_Model):
    name: Short = ""
    role: Short = ""
    service: Short = ""
    email: Short = ""
    phone: Short = ""


class Decision(_Model):
    """One human decision about the project (betagouv's append-only decision log)."""

    date: date
    decision: Text = Field(min_length=1, description="Ce qui a été décidé.")
    by: Short = Field(default="", description="Instance qui a décidé (conseil, bureau…).")
    comment: Text = ""


class Fiche(_Model):
    """A RETEX fiche (29 fields). Lists default to empty, optional fields to null."""

    id: FicheId = Field(
        default_factory=lambda: secrets.token_hex(8),
        description="Identifiant stable de la fiche (attribué à la création).",
    )
    title: Short = Field(min_length=1, description="Titre du projet ou du cas d'usage.")
    summary: Text = Field(min_length=1, description="Résumé.")
    collectivite: Collectivite
    insee_codes: list[InseeCode] = Field(
        default_factory=list, description="Codes INSEE des communes concernées."
    )
    themes: list[Short] = Field(default_factory=list, description="Thèmes.")
    audience: list[Short] = Field(default_factory=list, description="Public visé.")
    competences: list[Short] = Field(default_factory=list, description="Compétences exercées.")
    status: Status = Field(
        description="Phase : idée, expérimentation, déployé, terminé, abandonné."
    )
    abandon_reasons: Text = Field(default="", description="Raisons de l'abandon.")
    partners: list[Short] = Field(default_factory=list, description="Partenaires.")
    funding: list[Short] = Field(
        default_factory=list, description="Financements (Fonds vert, CRTE, FEDER, DETR…)."
    )
    budget_band: BudgetBand | None = Field(default=None, description="Tranche de budget (€).")
    budget_detail: Text = Field(default="", description="Budget détaillé (chiffres internes).")
    delivery: Delivery | None = Field(
        default=None, description="Réalisé en régie, par un prestataire, ou les deux."
    )
    providers: list[Short] = Field(default_factory=list, description="Prestataires, outils.")
    hosting: Short = Field(default="", description="Hébergement (local, SecNumCloud…).")
    data_used: list[Short] = Field(default_factory=list, description="Données utilisées.")
    environmental_impact: Text = Field(default="", description="Impact environnemental.")
    results: list[Result] = Field(default_factory=list, description="Résultats chiffrés.")
    lessons: Lessons = Field(default_factory=Lessons, description="Enseignements.")
    contact: Contact | None = Field(default=None, description="Contact (restreint par défaut).")
    started: date | None = Field(default=None, description="Date de début.")
    ended: date | None = Field(default=None, description="Date de fin.")
    links: list[Short] = Field(default_factory=list, description="Liens publics.")
    decisions: list[Decision] = Field(
        default_factory=list, description="Journal des décisions humaines."
    )
    internal_notes: Text = Field(default="", description="Notes internes (restreint).")
    example: bool = Field(
        default=False, description="Fiche d'exemple écrite par le projet (pas un cas réel)."
    )
    visibility: dict[str, Visibility] = Field(
        default_factory=dict,
        description="Visibilité par champ, là où elle diffère de celle du schéma.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Fiche:
        if self.status == "abandonne" and not self.abandon_reasons:
            raise ValueError("un projet abandonné doit donner les raisons de l'abandon")
        unknown = set(self.visibility) - set(DEFAULT_VISIBILITY)
        if unknown:
            raise ValueError(f"visibilité d'un champ inconnu : {', '.join(sorted(unknown))}")
        forced = {f for f, v in self.visibility.items() if v == "restricted"} & ALWAYS_PUBLIC
        if forced:
            raise ValueError(f"ces champs sont toujours publics : {', '.join(sorted(forced))}")
        if self.started and self.ended and self.ended < self.started:
            raise ValueError("la date de fin précède la date de début")
        return self

    def field_visibility(self, name: str) -> Visibility:
        return self.visibility.get(name, DEFAULT_VISIBILITY[name])

    def public_view(self) -> dict[str, Any]:
        """The fiche as it may leave the instance: restricted fields dropped (absent, not
        emptied), everything else as JSON values."""
        data = self.model_dump(mode="json")
        return {k: v for k, v in data.items() if self.field_visibility(k) == "public"}

    def restricted_fields(self) -> list[str]:
        return [name for name in DEFAULT_VISIBILITY if self.field_visibility(name) != "public"]


RESTRICTED_BY_DEFAULT = frozenset({"budget_detail", "contact", "internal_notes"})
ALWAYS_PUBLIC = frozenset({"id", "title", "collectivite", "status", "example", "visibility"})
DEFAULT_VISIBILITY: dict[str, Visibility] = {
    name: "restricted" if name in RESTRICTED_BY_DEFAULT else "public" for name in Fiche.model_fields
}
# Free text that may hold personal data: pseudonymised before a fiche leaves the instance.
# Structured fields (ids, codes, SIREN, bands, dates, themes, the collectivité) are kept.
FREE_TEXT_FIELDS = (
    "title", "summary", "abandon_reasons", "partners", "funding", "budget_detail",
    "providers", "hosting", "data_used", "environmental_impact", "results", "lessons",
    "decisions", "audience",
)  # fmt: skip


def parse_fiche(data: Any) -> Fiche:
    """A Fiche from JSON data; pydantic's ValidationError when it does not fit the schema."""
    return Fiche.model_validate(data)


def validation_reason(exc: Exception) -> str:
    """A short French reason for a schema error (the first three problems)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for err in errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "fiche"
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where} : {_french(err.get('type', ''), msg)}")
    return "schéma : " + " ; ".join(parts)


_FRENCH = {
    "missing": "champ obligatoire absent",
    "extra_forbidden": "champ inconnu",
    "literal_error": "valeur non permise",
    "string_pattern_mismatch": "format invalide",
    "string_too_short": "vide",
    "string_too_long": "trop long",
    "date_from_datetime_parsing": "date invalide (AAAA-MM-JJ)",
    "date_parsing": "date invalide (AAAA-MM-JJ)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
}


def _french(kind: str, message: str) -> str:
    return _FRENCH.get(kind, message)


def fiche_schema() -> dict[str, Any]:
    """The JSON Schema of a fiche, each top-level field marked with its default visibility
    (`x-visibility`) and whether it is pseudonymised on export (`x-pseudonymised`)."""
    schema = Fiche.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://territoria.example/schemas/retex-fiche.schema.json"
    schema["title"] = "Fiche RETEX territoria"
    schema["description"] = (
        "Retour d'expérience d'une collectivité. Chaque champ est public ou restreint "
        "(x-visibility) ; les champs restreints ne quittent jamais l'instance ; le texte libre "
        "est pseudonymisé avant export (x-pseudonymised). Les champs id, title, collectivite, "
        "status, example et visibility sont toujours publics."
    )
    for name, prop in schema["properties"].items():
        prop["x-visibility"] = DEFAULT_VISIBILITY[name]
        prop["x-pseudonymised"] = name in FREE_TEXT_FIELDS
    return schema
