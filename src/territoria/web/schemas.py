"""Request and response bodies of the JSON API (they make the OpenAPI description).

Request bodies are strict (`StrictBody`): a value of the wrong JSON type is refused, never
converted (`"expires_days": true` is not 1 day), and an unknown field is refused (a misspelt
optional field would otherwise be ignored without a word).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from territoria.types import Role, Visibility

# At least one character that Python's str.strip() keeps, spelt out: `\S` means something else
# in each regex engine (ECMA-262 for clients, Rust for pydantic, Python for the server).
NOT_BLANK = "[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
USER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"  # accounts.check_name


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("un nombre entier est attendu")
    return value


# An integer field of a strict body: 30.0 is an integer for JSON Schema; true and "30" are not.
JsonInt = Annotated[int, Field(strict=False), BeforeValidator(_json_integer)]


class CitationOut(BaseModel):
    n: int
    doc_id: str
    passage_id: str
    title: str
    source: str
    quote: str
    page: int | None = None
    heading: str = ""
    url: str = Field(description="Page du document, passage surligné.")
    original_url: str = Field(description="Fichier d'origine.")
    shown: bool = True


class EnergyOut(BaseModel):
    wh: float
    gco2e: float
    method: str
    wh_range: list[float]


class PassageOut(BaseModel):
    rank: int
    doc_id: str
    passage_id: str
    title: str
    page: int | None = None
    heading: str = ""
    score: float
    lexical: float | None = None
    dense: float | None = None
    cited: int | None = Field(None, description="Numéro de citation, si le passage est cité.")


class PlainOut(BaseModel):
    answer: str
    note: str


class AskResponse(BaseModel):
    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    verification: dict[str, object]
    verification_text: str
    energy: EnergyOut
    latency_ms: float
    mode: str
    request_id: str = Field(description="Identifiant de la réponse au journal d'audit.")
    date: str
    plain: PlainOut
    passages: list[PassageOut]
    continues: str = Field(
        "", description="La question précédente que cette question prolonge (vide sinon)."
    )
    continues_text: str = Field("", description="« Suite de votre question : … », à afficher.")
    corrections: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Mots de la question inconnus des documents et les mots cherchés à la place.",
    )


class SearchHit(BaseModel):
    doc_id: str
    passage_id: str
    title: str
    score: float
    text: str


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class FeedbackIn(StrictBody):
    request_id: str = Field(min_length=1, max_length=64, description="`request_id` de la réponse.")
    useful: bool
    reason: str = Field("", max_length=1000, description="Motif facultatif (pseudonymisé).")


class FeedbackOut(BaseModel):
    feedback_id: str
    message: str


class FeedbackItem(BaseModel):
    feedback_id: str
    time: str
    request_id: str
    useful: bool
    reason: str | None


class FeedbackList(BaseModel):
    feedback: list[FeedbackItem]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source_name: str
    collection: str
    visibility: Visibility
    tenant: str
    format: str
    pages: int | None
    passages: int
    ingested_at: str
    status: str
    flagged_passages: int
    has_original: bool = Field(description="Le fichier d'origine est conservé par le serveur.")


class FailureOut(BaseModel):
    file: str
    status: str
    doc_ids: list[str]
    reason: str


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    failures: list[FailureOut]


class UploadOut(BaseModel):
    results: list[FailureOut]
    documents: int = Field(description="Documents indexés après le dépôt.")


class CollectionOut(BaseModel):
    name: str
    documents: int
    passages: int


class CollectionList(BaseModel):
    collections: list[CollectionOut]


class TokenInfoOut(BaseModel):
    token_id: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class UserOut(BaseModel):
    name: str
    tenant: str
    role: Role
    created_at: str
    has_password: bool
    tokens: list[TokenInfoOut] = []


class UserList(BaseModel):
    users: list[UserOut]


class UserIn(StrictBody):
    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=USER_NAME,
        description="Lettres, chiffres, « . _ @ - » ; 64 caractères au plus.",
    )
    role: Role = "agent"
    password: str | None = Field(None, min_length=12, max_length=200)


class TokenIn(StrictBody):
    expires_days: JsonInt | None = Field(
        None, ge=1, le=3650, description="Durée de validité en jours ; absent : sans expiration."
    )


class TokenOut(BaseModel):
    token_id: str
    token: str = Field(description="Le jeton, montré une seule fois.")
    user: str
    expires_at: str | None


# --- probes (web/routes/health.py) -----------------------------------------------------------


class HealthOut(BaseModel):
    status: str = Field(description="« ok » tant que le processus répond.")


class LoadedOut(BaseModel):
    store: bool
    embedder: str | None = Field(description="Modèle des passages chargé.")
    title_embedder: str | None = Field(description="Modèle des titres chargé.")
    pii: bool = Field(description="Protection des données personnelles chargée.")
    audit: bool = Field(description="Journal d'audit ouvert.")
    index: bool = False
    passages: int = 0
    warm_up_s: float | None = Field(None, description="Durée du chargement, secondes.")


class ReadyOut(BaseModel):
    ready: bool
    status: str = Field(description="prêt, chargement ou échec.")
    loaded: LoadedOut
    error: str | None = Field(description="Cause d'un échec du chargement.")
    uptime_s: float
