"""Frozen value types shared by every capability."""

from __future__ import annotations

from collections.abc import Mapping
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
class Verification:
    """How an answer was checked, and the evidence behind answering or abstaining.

    `method` is how the text was made: "extractive" (verbatim sentences), "generative"
    (a model's sentences, each kept only when a cited passage supports it) or "abstention".
    `to_json` is the `verification` object of `ask --json` and /api/ask (DESIGN.md): the
    fields of a method are present only for it.
    """

    method: Literal["extractive", "generative", "abstention"]
    confidence: float = 0.0
    threshold: float = 0.0
    threshold_source: str = ""  # "corpus" (calibrated), "réglage" (the operator) or "défaut"
    evidence: Mapping[str, object] = field(default_factory=dict)
    sentences: int = 0  # sentences checked (extractive: quoted; generative: generated)
    supported: int = 0  # of which supported by a cited passage
    model: str = ""  # the LLM asked (generative, or the extractive answer given instead)
    prompt_version: str = ""
    dropped: tuple[str, ...] = ()  # generated sentences no passage supports
    attributed: int = 0  # kept sentences whose source the verification chose
    repeated: int = 0  # generated sentences left out as repeats
    declined: bool = False  # the model said the sources do not answer
    flagged_passages_excluded: int = 0  # passages kept out of the prompt (injection flags)
    requested_mode: str = ""  # "generative" when this extractive answer replaces it
    llm_error: str = ""  # why the LLM server failed (error class), when it did
    fallback: str = ""  # the French message shown when the extractive answer replaced it
    question_flags: tuple[str, ...] = ()  # injection-screening reasons of the question

    @property
    def all_supported(self) -> bool:
        return self.supported == self.sentences

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"method": self.method}
        if self.method == "generative":
            data |= {
                "model": self.model,
                "prompt_version": self.prompt_version,
                "sentences": self.sentences,
                "supported": self.supported,
                "dropped": list(self.dropped),
                "all_supported": self.all_supported,
                "attributed": self.attributed,
                "repeated": self.repeated,
                "declined": self.declined,
                "flagged_passages_excluded": self.flagged_passages_excluded,
            }
        elif self.method == "extractive":
            data |= {
                "sentences": self.sentences,
                "supported": self.supported,
                "all_supported": self.all_supported,
            }
            if self.requested_mode:
                data |= {"requested_mode": self.requested_mode, "model": self.model}
                if self.llm_error:
                    data["llm_error"] = self.llm_error
                else:  # the server answered, and none of its sentences could be verified
                    data["dropped"] = list(self.dropped)
                data["fallback"] = self.fallback
        data |= {
            "confidence": round(self.confidence, 4),
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "evidence": dict(self.evidence),
        }
        if self.question_flags:
            data["question_flags"] = list(self.question_flags)
        return data


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    verification: Verification
    energy: Energy = Energy(0.0, 0.0, "non mesurée")  # set by the Meter of the request
    latency_ms: float = 0.0
    mode: str = "extractive"
    hits: tuple[Hit, ...] = ()
    confidence: float = 0.0
    request_id: str = ""  # the audit record id, once logged
    continues: str = ""  # the earlier question this one continued ("" when it stands alone)
    previous: tuple[str, ...] = ()  # the earlier questions used, when it continued one
    query: Query | None = None  # what the question was searched by (corrections, context)
    suggestions: tuple[Suggestion, ...] = ()  # when abstaining: the closest documents
    contact: str = ""  # when abstaining: whom to ask (from the documents, else the settings)
