"""Answering a question: search -> extractive (or verified generative) answer -> abstention.

The default mode is extractive: verbatim sentences with numbered citations. The assistant
abstains, with the configured contact line, when the evidence is weak (see `abstain.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any, Literal, Protocol

from territoria.answer.abstain import Evidence, confidence, weigh
from territoria.answer.abstention import abstention_text, document_contact, suggestions
from territoria.answer.extractive import Dense, Extract, compose
from territoria.answer.generative import PROMPT_VERSION, generate, prompt_safe
from territoria.answer.parts import Analyzer, table_header
from territoria.answer.question import cue_terms
from territoria.answer.thresholds import Thresholds
from territoria.energy import Meter
from territoria.errors import ConfigError, InvalidRequest, LLMError
from territoria.llm import LLM
from territoria.search import Lexicon, Retriever
from territoria.search.context import follow_up_subject
from territoria.search.query import Query
from territoria.settings import Settings
from territoria.types import Access, Answer, Citation, Hit, Suggestion, Verification

Mode = Literal["extractive", "generative"]
_CONTEXT_HITS = 5
MAX_QUESTION_CHARS = 2000
MAX_PREVIOUS = 3  # earlier questions of a conversation taken into account
_TABLE_LOOKBACK = 8  # passages read back for the header of a table cut between passages
# personal data that says who asks, never what about (addresses and dates may: a collection
# sector, an age), left out of the search when the corpus does not hold it
_IDENTIFIERS = frozenset({"PERSON", "EMAIL", "PHONE", "NIR", "IBAN", "PLATE", "SIRET"})


class Detected(Protocol):
    """A piece of personal data found in a text (`guard.pii.PIIEntity`)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def type(self) -> str: ...


class Pseudonymizer(Protocol):
    def pseudonymize(self, text: str, *, tenant: str = "default") -> Any: ...

    def detect(self, text: str) -> Sequence[Detected]: ...


def without_strangers(question: str, found: Sequence[Detected], lexicon: Lexicon) -> str:
    """`question` without the identifiers (a person's name, a phone number, an e-mail...) of
    `found` that the corpus does not hold. "Bonjour, je suis Marie Dupont, combien coûte la
    cantine ?" is a question about the cantine: "Marie" would pull the search towards
    "mariage" and "Dupont" weigh as a missing word against every answer. A name the corpus
    holds (an elected member in the council's minutes) stays: it may be what is asked."""
    spans = sorted(
        (e.start, e.end)
        for e in found
        if e.type in _IDENTIFIERS
        and not all(lexicon.knows(t) for t in lexicon.analyze(question[e.start : e.end]))
    )
    if not spans:
        return question
    parts, position = [], 0
    for start, end in spans:
        parts.append(question[position:start])
        position = max(position, end)
    parts.append(question[position:])
    return " ".join(" ".join(parts).split())


class Assistant:
    """`pii` finds the personal data of a question: the identifiers of people the corpus does
    not hold are left out of the search (`without_strangers`), and a question is
    pseudonymised before it reaches an LLM server not declared local."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        llm: LLM | None = None,
        pii: Pseudonymizer | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.pii = pii
        self.thresholds = Thresholds(settings, retriever, self)

    def abstain(
        self,
        question: str,
        hits: Sequence[Hit],
        checked: Verification,
        access: Access,
        lexicon: Lexicon,
    ) -> tuple[str, tuple[Suggestion, ...], str]:
        """The abstention text, the closest documents and whom to contact. Documents are
        offered when the evidence came near the threshold; their own contact line is used
        when it came nearer still, else the operator's."""
        conf, threshold = checked.confidence, checked.threshold
        found = suggestions(question, hits, lexicon.analyze) if conf >= 0.6 * threshold else ()
        contact = self.settings.contact
        if found and conf >= 0.8 * threshold:
            named = document_contact(
                self.retriever.document_passages(found[0].doc_id, access.tenant)
            )
            if named:
                contact = f"Pour ce sujet, le document « {found[0].title} » indique : {named}"
        return abstention_text(contact, found), found, contact

    def ask(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: Mode = "extractive",
        previous: Sequence[str] = (),
    ) -> Answer:
        """`answer`, with the energy and latency of answering alone: for evaluations and
        replays. A user's question goes through `Runtime.ask`, which screens, answers,
        checks, audits and meters the whole request."""
        with Meter(self.settings) as meter:
            answer = self.answer(question, access=access, mode=mode, previous=previous)
        return meter.stamp(answer)

    def answer(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: Mode = "extractive",
        previous: Sequence[str] = (),
    ) -> Answer:
        """Answer `question` (not metered: the caller's `Meter` stamps the Answer); `previous`
        are the conversation's earlier questions (most recent last, at most 3 used): a
        follow-up ("et le samedi ?") is searched with the terms of the question it continues,
        and the Answer names that question (`continues`)."""
        question = question.strip()
        if not question:
            raise InvalidRequest("La question est vide.")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidRequest(
                f"La question est trop longue ({len(question)} caractères, "
                f"{MAX_QUESTION_CHARS} au plus)."
            )
        if mode == "generative" and self.llm is None:
            raise InvalidRequest(
                "Le mode génératif demande un serveur de modèle de langage configuré "
                "(TERRITORIA_LLM_URL)."
            )
        access = access or Access()
        earlier = [p.strip() for p in previous if p.strip()][-MAX_PREVIOUS:]
        lexicon = self.retriever.lexicon()
        searched = question
        if self.pii is not None:
            searched = without_strangers(question, self.pii.detect(question), lexicon)
        query = self.retriever.query(searched, previous=earlier)
        hits, extract, evidence = self.evidence(searched, access=access, query=query)
        conf = confidence(evidence)
        threshold, source = self.thresholds.threshold(access)
        checked = Verification(
            method="abstention",
            confidence=conf,
            threshold=threshold,
            threshold_source=source,
            evidence=evidence.to_json(),
        )
        abstained = not extract.citations or conf < threshold
        verification = checked
        citations: tuple[Citation, ...] = ()
        found: tuple[Suggestion, ...] = ()
        contact = ""
        if abstained:
            text, found, contact = self.abstain(searched, hits, checked, access, lexicon)
        elif mode == "generative":
            text, citations, verification = self._generative_or_extract(
                self._outbound(question, access), hits, extract, lexicon.analyze, checked
            )
            mode = "generative" if verification.method == "generative" else "extractive"
            abstained = not citations
            if abstained:
                text, found, contact = self.abstain(searched, hits, checked, access, lexicon)
        else:
            text, citations = extract.text, extract.citations
            verification = _extractive(checked, extract)
        return Answer(
            question=question,
            answer=text,
            abstained=abstained,
            citations=tuple(citations),
            verification=verification,
            mode="abstention" if abstained else mode,
            hits=tuple(hits),
            confidence=conf,
            continues=query.continues,
            previous=tuple(earlier) if query.continues else (),
            query=query,
            suggestions=found,
            contact=contact,
        )

    def close(self) -> None:
        self.thresholds.close()

    def evidence_confidence(
        self, question: str, *, access: Access, exclude: Collection[str] = ()
    ) -> float:
        return confidence(self.evidence(question, access=access, exclude=exclude)[2])

    def evidence(
        self,
        question: str,
        *,
        access: Access,
        exclude: Collection[str] = (),
        query: Query | None = None,
    ) -> tuple[list[Hit], Extract, Evidence]:
        """Search, compose the extract, and weigh the evidence (no abstention decision);
        `exclude` leaves documents out (calibration asks what the corpus would answer
        without the document a question comes from). `query` is the question as rewritten
        (`Retriever.query`: corrections, a follow-up's context), by default from `question`
        alone; its weighted terms reach the search, the composer and the evidence, and the
        kind of fact asked is read from its text (a follow-up: with the question it
        continues; chat abbreviations spelled out)."""
        if query is None:
            query = self.retriever.query(question)
        hits = self.retriever.search(query, k=_CONTEXT_HITS, access=access, exclude=exclude)
        lexicon = self.retriever.lexicon()
        terms = query.weights()
        extract = compose(
            query.read_text or question,
            hits,
            analyze=lexicon.analyze,
            idf=lexicon.idf,
            max_words=self.settings.answer_max_words,
            terms=terms,
            headers=self._table_headers(hits, access.tenant),
            dense=self._dense(query) if hits else None,
            subject=_new_subject(query, lexicon.analyze),
            own=question if query.continues else None,
        )
        asked = bool(extract.question and extract.question.kinds)
        evidence = weigh(
            question,
            hits,
            lexicon,
            terms=terms,
            coverage=extract.coverage,
            holds_kind=extract.holds_kind if asked else None,
            answered=bool(extract.citations),
            cue_terms=cue_terms(extract.question, lexicon.analyze) | extract.values,
            answer_dense=extract.dense,
        )
        return hits, extract, evidence

    def _dense(self, query: Query) -> Dense | None:
        """The question's vector and the part encoder of the passage embedder, if any."""
        vector = self.retriever.query_vector(query)
        if vector is None:
            return None
        return Dense(vector, self.retriever.text_vectors)

    def _table_headers(self, hits: Sequence[Hit], tenant: str) -> dict[str, str]:
        """The header rows of the tables that hits start in the middle of (a long table cut
        between rows into several passages), read from the passages before them."""
        out: dict[str, str] = {}
        for hit in hits:
            p = hit.passage
            if " | " not in p.text.split("\n", 1)[0]:
                continue
            before = self.retriever.passages_before(p.passage_id, tenant, n=_TABLE_LOOKBACK)
            header = table_header([b.text for b in before], p.text)
            if header:
                out[p.passage_id] = header
        return out

    def _outbound(self, question: str, access: Access) -> str:
        """The question as it may leave the machine: unchanged for a local server, else
        pseudonymised (refused if no guard is available)."""
        if self.settings.llm_local:
            return question
        if self.pii is None:
            raise ConfigError(
                "Serveur de modèle distant : la pseudonymisation des questions est requise "
                "(option pii) ou déclarez le serveur local (TERRITORIA_LLM_LOCAL=true)."
            )
        return str(self.pii.pseudonymize(question, tenant=access.tenant).text)

    def _generative_or_extract(
        self,
        question: str,
        hits: list[Hit],
        extract: Extract,
        analyze: Analyzer,
        checked: Verification,
    ) -> tuple[str, tuple[Citation, ...], Verification]:
        """The verified generative answer; the extractive one, saying why, when the LLM
        server fails (timeout, unreachable, error) or none of its sentences could be
        verified. No citation means abstain (the model said the sources do not answer).
        `checked` holds the evidence, carried into the verification returned."""
        assert self.llm is not None
        fallback = replace(
            _extractive(checked, extract), requested_mode="generative", model=self.llm.name
        )
        try:
            text, citations, verified = self._generative(question, hits, analyze, checked)
        except LLMError as exc:
            reason = exc.message
            fallback = replace(fallback, llm_error=type(exc).__name__)
        else:
            if citations or verified.declined:
                return text, citations, verified
            reason = "Aucune phrase générée n'a pu être vérifiée dans les documents."
            fallback = replace(fallback, dropped=verified.dropped)
        message = (
            f"Mode génératif indisponible. {reason} Voici la réponse extractive, "
            "citée mot pour mot des documents."
        )
        return extract.text, extract.citations, replace(fallback, fallback=message)

    def _generative(
        self, question: str, hits: list[Hit], analyze: Analyzer, checked: Verification
    ) -> tuple[str, tuple[Citation, ...], Verification]:
        assert self.llm is not None
        safe = prompt_safe(hits)
        excluded = len(hits) - len(safe)
        hits = safe
        verified = generate(
            self.llm, question, hits, analyze, max_tokens=self.settings.llm_max_tokens
        )
        used = sorted({n for _, numbers in verified.kept for n in numbers})
        renumber = {old: new for new, old in enumerate(used, start=1)}
        sentences = [
            sentence + " " + "".join(f"[{renumber[n]}]" for n in numbers)
            for sentence, numbers in verified.kept
        ]
        citations = tuple(
            Citation(
                n=renumber[old],
                doc_id=hits[old - 1].passage.doc_id,
                passage_id=hits[old - 1].passage.passage_id,
                title=hits[old - 1].passage.title,
                source=hits[old - 1].passage.source,
                quote=hits[old - 1].passage.text,
                page=hits[old - 1].passage.page,
                heading=hits[old - 1].passage.heading_path,
            )
            for old in used
        )
        verification = replace(
            checked,
            method="generative",
            model=self.llm.name,
            prompt_version=PROMPT_VERSION,
            sentences=len(verified.kept) + len(verified.dropped),
            supported=len(verified.kept),
            dropped=tuple(verified.dropped),
            attributed=verified.attributed,
            repeated=verified.repeated,
            declined=verified.declined,
            flagged_passages_excluded=excluded,
        )
        return " ".join(sentences), citations, verification


def _new_subject(query: Query, analyze: Analyzer) -> frozenset[str]:
    """A follow-up's own subject (`follow_up_subject`), less the words it shares with the
    question it continues: "et la salle du Moulin ?" after the salle des Genêts is about the
    Moulin, not about any salle."""
    subject = follow_up_subject(query)
    earlier = set(analyze(query.context_text)) if query.context_text else set()
    return subject - earlier or subject


def _extractive(checked: Verification, extract: Extract) -> Verification:
    """The verification of an extractive answer: every sentence quoted verbatim."""
    n = len(extract.sentences)
    return replace(checked, method="extractive", sentences=n, supported=n)
