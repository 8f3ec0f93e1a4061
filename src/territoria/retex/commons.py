"""`Commons`: the RETEX commons of one instance, used alike by the CLI and the web.

- Writing: `add` (a new fiche, or a new version of one of ours), `publish`, `withdraw`. A
  published fiche gets a signed entry at once: its public part, free text pseudonymised.
- Sharing: `feed` (what `/retex/feed.json` serves), `export` (the same, to a file),
  `import_feed` / `import_file` (entries checked one by one: a rejected entry never costs
  the others), `follow` and `pull` (the feed of another instance over HTTP).
- Finding: `search` (the fiche index), `fiches`, `get`; every change is mirrored into the
  main store as documents of collection `retex` for the assistant (documents.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from territoria.errors import Conflict, InvalidRequest, NotFound, TerritoriaError
from territoria.retex.documents import public_view, sync_documents
from territoria.retex.feed import (
    FEED_FORMAT,
    Checked,
    Guard,
    Rejected,
    check_entry,
    pseudonymized_views,
    signed_entry,
)
from territoria.retex.model import Fiche, parse_fiche, validation_reason
from territoria.retex.pull import feed_url, fetch_feed
from territoria.retex.search import FicheIndex, IndexedFiche
from territoria.retex.signing import InstanceKey, new_private_pem, normalize_public_key
from territoria.retex.storage import Follow, RetexStore, StoredFiche, open_retex_store
from territoria.settings import Settings
from territoria.store import Store

if TYPE_CHECKING:
    from territoria.audit import AuditLog


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class ImportReport:
    """What an import or a pull did: the contract's `imported`, `updated`, `rejected`, and
    `withdrawn` and `unchanged` besides."""

    imported: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "withdrawn": self.withdrawn,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class SearchHit:
    id: str
    title: str
    score: float
    origin: dict[str, Any]
    view: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "origin": self.origin, "score": self.score}


class Commons:
    def __init__(
        self,
        settings: Settings,
        *,
        documents: Store | None = None,
        guard: Guard | None = None,
        audit: AuditLog | None = None,
        store: RetexStore | None = None,
    ) -> None:
        """`documents` is the main store (fiches mirrored for the assistant; None: not
        mirrored), `guard` the PII guard (needed to publish), `audit` the audit log
        (imports and exports recorded as signed events)."""
        self.settings = settings
        self.documents = documents
        self.guard = guard
        self.audit = audit
        self._store = store
        self._index: tuple[int, FicheIndex] | None = None
        self._lock = threading.Lock()

    @cached_property
    def store(self) -> RetexStore:
        return self._store or open_retex_store(self.settings)

    @cached_property
    def key(self) -> InstanceKey:
        """The instance's signing key: `<home>/retex.key`, or, on PostgreSQL, the one key
        every replica shares (the first replica to need one creates it)."""
        if self.settings.store == "postgres":
            return InstanceKey.from_pem(self.store.signing_key(new_private_pem()), " (PostgreSQL)")
        return InstanceKey.load_or_create(self.settings.home)

    @property
    def instance(self) -> str:
        return self.settings.retex_instance or self.settings.commune

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    # --- writing ---------------------------------------------------------------------------

    def add(self, data: Any, *, tenant: str = "default", draft: bool = False) -> StoredFiche:
        """Store a fiche (JSON data): a new one, or a new version of one of ours (same id).
        Published at once unless `draft`."""
        try:
            fiche = parse_fiche(data)
        except ValidationError as exc:
            raise InvalidRequest(f"Fiche invalide, {validation_reason(exc)}.") from exc
        return self.add_many([fiche], tenant=tenant, draft=draft)[0]

    def add_many(
        self, fiches: Sequence[Fiche], *, tenant: str = "default", draft: bool = False
    ) -> list[StoredFiche]:
        """Store several fiches in one transaction (their free text pseudonymised in one
        pass of the PII guard)."""
        previous = {f.id: self.store.get(f.id) for f in fiches}
        for fiche in fiches:
            known = previous[fiche.id]
            if known is not None and known.origin != "local":
                raise Conflict(
                    f"La fiche {fiche.id} vient de l'instance {known.instance} : seule son "
                    "autrice peut la modifier."
                )
        when = now_iso()
        stored = [
            StoredFiche(
                id=f.id,
                origin="local",
                key=self.key.public_key,
                instance=self.instance,
                url=self.settings.retex_url,
                tenant=tenant,
                updated=when,
                content_hash="",
                body=f.model_dump(mode="json"),
                published=not draft,
                supersedes=_last_hash(previous[f.id]),
            )
            for f in fiches
        ]
        stored = self._signed(stored, fiches)
        self.store.put_many(stored)
        self._mirror(stored)
        return stored

    def _signed(self, stored: list[StoredFiche], fiches: Sequence[Fiche]) -> list[StoredFiche]:
        """Sign the published ones: public part, free text pseudonymised, one entry each."""
        todo = [(i, f) for i, (s, f) in enumerate(zip(stored, fiches, strict=True)) if s.published]
        if not todo:
            return stored
        views = pseudonymized_views([(f, stored[i].tenant) for i, f in todo], self._guard())
        out = list(stored)
        for (i, _), view in zip(todo, views, strict=True):
            s = stored[i]
            entry = signed_entry(
                self.key,
                fiche_id=s.id,
                updated=s.updated,
                view=view,
                supersedes=s.supersedes,
                instance=self.instance,
                url=self.settings.retex_url,
            )
            out[i] = replace(s, entry=entry, content_hash=str(entry["content_hash"]))
        return out

    def _guard(self) -> Guard:
        if self.guard is None:
            from territoria.guard.pii import PIIGuard

            self.guard = PIIGuard(self.settings)
        return self.guard

    def _local(self, fiche_id: str) -> StoredFiche:
        found = self.store.get(fiche_id)
        if found is None or found.origin != "local":
            raise NotFound(f"Fiche inconnue sur cette instance : {fiche_id}.")
        return found

    def publish(self, fiche_id: str) -> StoredFiche:
        found = self._local(fiche_id)
        if found.withdrawn or found.body is None:
            raise Conflict(f"La fiche {fiche_id} est retirée.")
        fiche = parse_fiche(found.body)
        return self.add_many([fiche], tenant=found.tenant)[0]

    def withdraw(self, fiche_id: str) -> StoredFiche:
        """Withdraw one of our fiches: followers receive a signed withdrawal and remove it."""
        found = self._local(fiche_id)
        when = now_iso()
        entry = signed_entry(
            self.key,
            fiche_id=fiche_id,
            updated=when,
            view=None,
            supersedes=_last_hash(found),
            instance=self.instance,
            url=self.settings.retex_url,
        )
        done = replace(found, updated=when, withdrawn=True, entry=entry, published=True)
        self.store.put_many([done])
        self._mirror([done])
        return done

    # --- reading ---------------------------------------------------------------------------

    def get(self, fiche_id: str) -> StoredFiche:
        found = self.store.get(fiche_id)
        if found is None:
            raise NotFound(f"Fiche inconnue : {fiche_id}.")
        return found

    def fiches(self, *, include_withdrawn: bool = False) -> list[StoredFiche]:
        return [f for f in self.store.iter() if include_withdrawn or not f.withdrawn]

    def index(self) -> FicheIndex:
        generation = self.store.generation()
        with self._lock:
            if self._index is None or self._index[0] != generation:
                items = [
                    IndexedFiche(f.id, view)
                    for f in self.store.iter()
                    if (view := public_view(f)) is not None
                ]
                self._index = (generation, FicheIndex(items))
            return self._index[1]

    def search(self, query: str, *, k: int = 10) -> list[SearchHit]:
        if not query.strip():
            raise InvalidRequest("La recherche est vide.")
        index = self.index()
        hits = []
        for item, score in index.search(query, k=k):
            fiche = self.store.get(item.id)
            if fiche is None:
                continue
            hits.append(
                SearchHit(
                    item.id,
                    str(item.view["title"]),
                    round(score, 4),
                    origin_of(fiche, item.view),
                    dict(item.view),
                )
            )
        return hits

    # --- sharing ---------------------------------------------------------------------------

    def feed(self) -> dict[str, Any]:
        """This instance's feed: the signed entries of its published fiches and withdrawals."""
        entries = [
            f.entry for f in self.store.iter(origin="local") if f.entry is not None and f.published
        ]
        return {
            "format": FEED_FORMAT,
            "instance": {
                "name": self.instance,
                "url": self.settings.retex_url,
                "public_key": self.key.public_key,
            },
            "updated": max((str(e["updated"]) for e in entries), default=""),
            "entries": entries,
        }

    def export(self, path: Path) -> int:
        """Write the feed to `path` (for an offline exchange); return the number of fiches
        exported (withdrawals not counted)."""
        feed = self.feed()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(feed, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        exported = sum(1 for e in feed["entries"] if not e["withdrawn"])
        self._note("retex_export", {"exported": exported, "file": path.name})
        return exported

    def import_file(self, path: Path) -> ImportReport:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequest(f"{path.name} n'est pas un flux RETEX JSON lisible.") from exc
        report = self.import_feed(data)
        self._note("retex_import", {"file": path.name, **_summary(report)})
        return report

    def import_feed(self, data: Any, *, expected_key: str | None = None) -> ImportReport:
        """Check every entry of a feed and merge the good ones (new, updated, withdrawn);
        each rejected entry is reported with its reason and costs nothing to the others.
        `expected_key` (a followed feed) accepts only entries signed by that key."""
        if not isinstance(data, dict) or data.get("format") != FEED_FORMAT:
            raise InvalidRequest(f"Ce n'est pas un flux RETEX ({FEED_FORMAT} attendu).")
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise InvalidRequest("Flux RETEX sans liste d'entrées.")
        trusted = {**self.store.trusted(), self.key.public_key: self.instance}
        if expected_key is not None:
            trusted = {k: v for k, v in trusted.items() if k == expected_key}
        report = ImportReport()
        accepted: dict[str, Checked] = {}
        for raw in entries:
            try:
                checked = check_entry(raw, trusted)
            except Rejected as exc:
                report.rejected.append({"id": exc.id, "reason": exc.reason})
                continue
            latest = accepted.get(checked.id)
            if latest is None or str(checked.entry["updated"]) > str(latest.entry["updated"]):
                accepted[checked.id] = checked
        writes = self._merge(list(accepted.values()), trusted, report)
        self.store.put_many(writes)
        self._mirror(writes)
        return report

    def _merge(
        self, accepted: list[Checked], trusted: dict[str, str], report: ImportReport
    ) -> list[StoredFiche]:
        writes = []
        when = now_iso()
        for item in accepted:
            if item.key == self.key.public_key:
                report.unchanged += 1  # our own fiche coming back (an export re-imported)
                continue
            known = self.store.get(item.id)
            updated = str(item.entry["updated"])
            if known is not None and known.key != item.key:
                who = "cette instance" if known.origin == "local" else known.instance
                report.rejected.append(
                    {"id": item.id, "reason": f"identifiant déjà utilisé par {who}"}
                )
                continue
            if known is not None and updated <= known.updated:
                report.unchanged += 1  # an older or the same version
                continue
            origin = item.entry["origin"]
            writes.append(
                StoredFiche(
                    id=item.id,
                    origin="remote",
                    key=item.key,
                    instance=str(origin.get("instance") or trusted[item.key]),
                    url=str(origin.get("url") or ""),
                    updated=updated,
                    content_hash=str(item.entry.get("content_hash") or ""),
                    body=item.entry["fiche"] if item.fiche else None,  # as signed
                    entry=item.entry,
                    supersedes=item.entry.get("supersedes"),
                    withdrawn=item.fiche is None,
                    received_at=when,
                )
            )
            if item.fiche is None:
                report.withdrawn += 1 if known is not None and not known.withdrawn else 0
            elif known is None or known.withdrawn:  # new, or published again after a withdrawal
                report.imported += 1
            else:
                report.updated += 1
        return writes

    # --- keys and follows -----------------------------------------------------------------

    def trust(self, name: str, public_key: str) -> str:
        key = normalize_public_key(public_key)
        if key == self.key.public_key:
            raise InvalidRequest("C'est la clé de cette instance : inutile de lui faire confiance.")
        if not name.strip():
            raise InvalidRequest("Donnez un nom à cette clé (la collectivité ou l'instance).")
        self.store.trust(key, name.strip())
        return key

    def untrust(self, public_key: str) -> bool:
        return self.store.untrust(normalize_public_key(public_key))

    def follow(self, url: str, public_key: str, name: str = "") -> Follow:
        """Subscribe to another instance's feed: its key becomes trusted under `name` (by
        default the feed's host)."""
        target = feed_url(url)
        label = name.strip() or urlsplit(target).netloc
        key = self.trust(label, public_key)
        item = Follow(url=target, key=key, name=label)
        self.store.follow(item)
        return item

    def unfollow(self, url: str) -> bool:
        return self.store.unfollow(feed_url(url))

    def pull(self, url: str | None = None) -> list[dict[str, Any]]:
        """Fetch, check and merge every followed feed (or the one at `url`); one feed that
        cannot be fetched does not stop the others. One result per feed: the import report,
        or `error`."""
        follows = self.store.follows()
        if url is not None:
            target = feed_url(url)
            follows = [f for f in follows if f.url == target]
            if not follows:
                raise NotFound(f"Flux non suivi : {target} (retex follow URL --key CLÉ).")
        results = []
        for item in follows:
            result: dict[str, Any] = {"url": item.url, "name": item.name}
            try:
                data = fetch_feed(
                    item.url,
                    timeout_s=self.settings.retex_pull_timeout_s,
                    max_bytes=int(self.settings.retex_feed_max_mb * 2**20),
                )
                report = self.import_feed(data, expected_key=item.key)
            except TerritoriaError as exc:
                result["error"] = exc.message
            else:
                result.update(report.to_json())
            self.store.follow(replace(item, last_pull=now_iso(), last_result=result))
            self._note("retex_pull", {"url": item.url, **_counts(result)})
            results.append(result)
        return results

    def _mirror(self, changed: Sequence[StoredFiche]) -> None:
        """Mirror the fiches just written into the main store."""
        if self.documents is not None and changed:
            sync_documents(self.documents, changed, self.settings, only=True)

    def sync(self) -> int:
        """Bring every `retex` document of the main store in step with the fiches (after a
        restore, or a change of retex_tenants or retex_citizens)."""
        if self.documents is None:
            return 0
        return sync_documents(self.documents, self.store.iter(), self.settings)

    def _note(self, kind: str, body: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.note(kind, body)


def _last_hash(fiche: StoredFiche | None) -> str | None:
    """The content hash a new version supersedes (None when nothing was published)."""
    if fiche is None or fiche.entry is None:
        return None
    return str(fiche.entry.get("content_hash") or fiche.entry.get("supersedes") or "") or None


def origin_of(fiche: StoredFiche, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "instance": fiche.instance,
        "url": fiche.url,
        "collectivite": view["collectivite"]["name"],
        "updated": fiche.updated,
        "local": fiche.origin == "local",
    }


def _summary(report: ImportReport) -> dict[str, Any]:
    return _counts(report.to_json())


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    """An import result for the audit log: counts and the error, not the rejected ids."""
    return {k: len(v) if k == "rejected" else v for k, v in result.items()}
