"""Frozen value types shared by every capability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from territoria.search.query import Query

Visibility = Literal["public", "internal"]
Role = Literal["public", "agent", "admin"]
VISIBILITIES: tuple[Visibility, ...] = ("public", "internal")


@dataclass(frozen=True)
class Section:
    """A piece of a loaded document before chunking: a heading path and its text.

    `kind` tells the chunker how to treat the text: "text" (paragraphs), "list" (keep whole),
    "table" (keep rows whole).
    """

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    kind: Literal["text", "list", "table"] = "text"


@dataclass(frozen=True)
class LoadedDocument:
    """What a loader returns: the document's title, its sections, and where it came from."""

    title: str
    sections: tuple[Section, ...]
    source: str
    doc_id: str | None = None  # set by loaders that carry their own ids (passages JSONL)
    pages: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A retrievable chunk of a document, with everything needed to cite it."""

    passage_id: str
    doc_id: str
    title: str
    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    start: int = 0
    end: int = 0
    source: str = ""
    collection: str = "default"
    visibility: Visibility = "public"
    tenant: str = "default"
    flags: tuple[str, ...] = ()  # injection-screening reasons (French); empty when clean
    approved: bool = False  # an admin approved a flagged passage for generative prompts

    @property
    def heading_path(self) -> str:
        return " > ".join(self.headings)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    lexical_score: float | None = None
    dense_score: float | None = None


@dataclass(frozen=True)
class Access:
    """Who is asking: applied inside retrieval, never by filtering results afterwards."""

    role: Role = "public"
    tenant: str = "default"
    collections: tuple[str, ...] | None = None  # None = every collection

    @property
    def visibilities(self) -> tuple[Visibility, ...]:
        return ("public",) if self.role == "public" else VISIBILITIES


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    passage_id: str
    title: str
    source: str
    quote: str
    page: int | None = None
    heading: str = ""


@dataclass(frozen=True)
class Suggestion:
    """A document close to an unanswered question: offered, never presented as an answer."""

    doc_id: str
    passage_id: str
    title: str
    heading: str = ""
    excerpt: str = ""  # the matching passage (shown to agents)


@dataclass(frozen=True)
class Energy:
    wh: float
    gco2e: float
    method: str
    wh_low: float = 0.0
    wh_high: float = 0.0
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    verification: dict[str, object]
    energy: Energy
    latency_ms: float
    mode: str = "extractive"
    hits: tuple[Hit, ...] = ()
    confidence: float = 0.0
    request_id: str = ""  # the audit record id, once logged
    continues: str = ""  # the earlier question this one continued ("" when it stands alone)
    previous: tuple[str, ...] = ()  # the earlier questions used, when it continued one
    query: Query | None = None  # what the question was searched by (corrections, context)
    suggestions: tuple[Suggestion, ...] = ()  # when abstaining: the closest documents
    contact: str = ""  # when abstaining: whom to ask (from the documents, else the settings)
