"""A draft fiche on the assistant's own use, written from the instance's audit log, feedback
and store: questions per month, share answered, unanswered topics, feedback, energy per
answer, documents indexed. The author edits it, then publishes it.

The unanswered questions come from the audit log, where they are already pseudonymised; they
go to the restricted `internal_notes` (the author decides what to say publicly), and only
their count reaches the public fields.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from territoria.french_numbers import number
from territoria.retex.documents import COLLECTION
from territoria.retex.model import Collectivite, Fiche, Lessons, Result
from territoria.settings import Settings
from territoria.store import Store

if TYPE_CHECKING:
    from territoria.audit import AuditLog
    from territoria.feedback import FeedbackStore


def usage_figures(
    audit: AuditLog,
    feedback: FeedbackStore | None,
    store: Store,
    *,
    tenant: str,
    months: int = 12,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The figures of the assistant's use by `tenant` over the last `months` months."""
    end = now or datetime.now(UTC)
    since = end - timedelta(days=31 * months)
    per_month: Counter[str] = Counter()
    answered = 0
    wh = 0.0
    gaps: Counter[str] = Counter()
    for record in audit.records(since=since, tenant=tenant):
        per_month[record.time[:7]] += 1
        wh += record.energy_wh
        if record.abstained:
            if record.question and not record.question.startswith("["):
                gaps[" ".join(record.question.split()).rstrip(" ?")] += 1
        else:
            answered += 1
    total = sum(per_month.values())
    useful = not_useful = 0
    if feedback is not None:
        for item in feedback.items(tenant=tenant, since=since):
            useful += item.useful
            not_useful += not item.useful
    documents = [d for d in store.list_documents(tenant=tenant) if d.collection != COLLECTION]
    return {
        "since": since.date().isoformat(),
        "questions": total,
        "per_month": dict(sorted(per_month.items())),
        "answered": answered,
        "answered_share": answered / total if total else 0.0,
        "unanswered": [q for q, _ in gaps.most_common(10)],
        "useful": useful,
        "not_useful": not_useful,
        "wh_per_answer": wh / total if total else 0.0,
        "documents": len(documents),
        "passages": sum(d.n_passages for d in documents),
    }


def _pct(x: float) -> float:
    return round(100 * x, 1)


def usage_fiche(figures: dict[str, Any], settings: Settings, *, tenant: str) -> Fiche:
    """A draft fiche from `usage_figures`; the collectivité is the operator's commune."""
    months = figures["per_month"]
    mean = figures["questions"] / len(months) if months else 0.0
    opinions = figures["useful"] + figures["not_useful"]
    results = [
        Result(
            indicator="Questions par mois (moyenne)",
            value=round(mean, 1),
            unit="questions",
            note=" ; ".join(f"{m} : {n}" for m, n in months.items()),
        ),
        Result(
            indicator="Part des questions répondues",
            value=_pct(figures["answered_share"]),
            unit="%",
            note="les autres : réponse honnête « pas dans nos documents » avec un contact",
        ),
        Result(indicator="Documents indexés", value=figures["documents"], unit="documents"),
        Result(
            indicator="Énergie par réponse",
            value=round(figures["wh_per_answer"], 4),
            unit="Wh",
            note="estimation : temps processeur x puissance par cœur, PUE compris",
        ),
    ]
    if opinions:
        results.append(
            Result(
                indicator="Avis « utile » des usagers",
                value=_pct(figures["useful"] / opinions),
                unit="%",
                note=f"{opinions} avis",
            )
        )
    gaps = figures["unanswered"]
    notes = "Questions les plus fréquentes restées sans réponse (pseudonymisées) :\n" + "\n".join(
        f"- {q}" for q in gaps
    )
    llm = "modèle de langage sur serveur configuré" if settings.llm_url else "réponses extractives"
    return Fiche(
        id="usage-assistant-" + hashlib.sha256(tenant.encode()).hexdigest()[:10],
        title=f"Assistant territoria de {settings.commune} : bilan d'usage",
        summary=(
            f"Depuis le {figures['since']}, l'assistant a reçu {figures['questions']} questions "
            f"d'habitants et d'agents sur {figures['documents']} documents de la collectivité, "
            f"et a répondu à {number(_pct(figures['answered_share']), 1, trim=True)} % d'entre "
            "elles en citant le texte officiel. À compléter par l'autrice ou l'auteur de la fiche."
        ),
        collectivite=Collectivite(name=settings.commune, type="commune"),
        themes=["intelligence artificielle", "relation usagers", "accueil"],
        audience=["habitants", "agents"],
        status="deploye" if len(months) >= 3 else "experimentation",
        delivery="regie",
        providers=["territoria (logiciel libre)"],
        hosting=f"serveur de la collectivité ({llm})",
        data_used=[f"{figures['documents']} documents de la collectivité"],
        environmental_impact=(
            f"Environ {number(figures['wh_per_answer'], 3)} Wh par réponse (estimation mesurée "
            "sur le serveur, méthode affichée avec chaque réponse)."
        ),
        results=results,
        lessons=Lessons(
            did_not_work=[f"{len(gaps)} sujets fréquents sont restés sans réponse."] if gaps else []
        ),
        internal_notes=notes if gaps else "",
    )
