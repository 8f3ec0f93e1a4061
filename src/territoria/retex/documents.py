"""Fiches as documents of the main store, so that the assistant finds and cites them like any
document: collection `retex`, document id `retex-<fiche id>`, the fiche's origin (instance,
collectivité, date) in the title's source line.

They are `internal` (agents only) unless the operator set `retex_citizens`: the commons is
written by agents for agents, and a citizen asking about their commune's services should not
be answered from another territory's experience. Only the public part of a fiche becomes a
document, for this instance's fiches too. Remote fiches go to the tenants of
`retex_tenants`; this instance's fiches to the tenant that wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from territoria.ingest import content_hash, to_passages
from territoria.retex.storage import StoredFiche
from territoria.retex.text import fiche_sections
from territoria.settings import Settings
from territoria.store import Store, StoredDocument
from territoria.types import LoadedDocument, Visibility

COLLECTION = "retex"
DOC_PREFIX = "retex-"


def doc_id(fiche_id: str) -> str:
    return DOC_PREFIX + fiche_id


def origin_text(fiche: StoredFiche, view: dict[str, Any]) -> str:
    """Where a fiche comes from, in words: collectivité, instance, date."""
    where = "cette instance" if fiche.origin == "local" else f"l'instance {fiche.instance}"
    url = f" ({fiche.url})" if fiche.url and fiche.origin == "remote" else ""
    name = view["collectivite"]["name"]
    return f"fiche de {name}, {where}{url}, mise à jour le {fiche.updated[:10]}"


def short_origin(fiche: StoredFiche, view: dict[str, Any]) -> str:
    """Collectivité · instance · date, for titles and lists."""
    where = "cette instance" if fiche.origin == "local" else f"instance {fiche.instance}"
    return f"{view['collectivite']['name']} · {where} · {fiche.updated[:10]}"


def public_view(fiche: StoredFiche) -> dict[str, Any] | None:
    """What may be searched, shown and cited of a fiche: the signed public view of ours
    (drafts: none), the stored public part of others'; None once withdrawn."""
    if fiche.withdrawn or fiche.body is None:
        return None
    if fiche.origin == "remote":
        return fiche.body
    view = (fiche.entry or {}).get("fiche") if fiche.published else None
    return view if isinstance(view, dict) else None


def tenants_of(fiche: StoredFiche, settings: Settings) -> list[str]:
    if fiche.origin == "local":
        return [fiche.tenant]
    return [t.strip() for t in settings.retex_tenants.split(",") if t.strip()]


def sync_documents(
    store: Store, fiches: Iterable[StoredFiche], settings: Settings, *, only: bool = False
) -> int:
    """Bring the `retex` documents of the main store in step with `fiches` (every fiche of
    the RETEX store): write the new and changed ones, delete the withdrawn and the gone.
    `only`: `fiches` are the ones that changed, documents of other fiches are left alone.
    Returns how many documents were written or deleted."""
    visibility: Visibility = "public" if settings.retex_citizens else "internal"
    wanted: dict[tuple[str, str], tuple[StoredFiche, dict[str, Any]]] = {}
    fiches = list(fiches)
    concerned = {doc_id(f.id) for f in fiches}
    for fiche in fiches:
        view = public_view(fiche)
        if view is None:
            continue
        for tenant in tenants_of(fiche, settings):
            wanted[(tenant, doc_id(fiche.id))] = (fiche, view)
    existing = {
        (d.tenant, d.doc_id): d
        for d in store.list_documents()
        if d.collection == COLLECTION and (not only or d.doc_id in concerned)
    }
    changes = 0
    for (tenant, did), (fiche, view) in wanted.items():
        origin = origin_text(fiche, view)
        loaded = LoadedDocument(
            title=f"RETEX — {view['title']} ({short_origin(fiche, view)})",
            sections=tuple(fiche_sections(view, origin)),
            source=f"RETEX : {origin}",
            doc_id=did,
        )
        digest = content_hash(loaded, COLLECTION, visibility, tenant)
        previous = existing.get((tenant, did))
        if previous is not None and previous.content_hash == digest:
            continue
        passages = to_passages(did, loaded, settings)
        store.put_document(
            StoredDocument(
                doc_id=did,
                title=loaded.title,
                source=loaded.source,
                content_hash=digest,
                collection=COLLECTION,
                visibility=visibility,
                tenant=tenant,
                format="retex",
            ),
            passages,
        )
        changes += 1
    for tenant, did in set(existing) - set(wanted):
        store.delete_document(did, tenant=tenant)
        changes += 1
    return changes
