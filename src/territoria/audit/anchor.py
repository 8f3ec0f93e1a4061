"""The anchor of the audit log: a small signed file kept outside the database.

The head row is signed, but it lives in the database: an intruder who deletes every record
and the head (or replaces `audit.sqlite3` by an empty file) leaves a log that checks out as
empty. The anchor, `<home>/audit.anchor` (next to the key), says how far the log has gone:

    {"format": "territoria-audit-anchor/1", "last_seq": 1203, "last_hash": "…",
     "last_event": 4, "event_hash": "…", "purged_total": 880, "records": 323,
     "time": "2025-…", "signature": "…"}

`last_seq` (the highest record number ever written) and `last_event` only grow; `records` is
how many rows the database holds at that point (`last_seq - purged_total`). It is signed with
the audit key (HMAC-SHA256), rewritten atomically (temporary file, fsync, rename) after every
committed append, purge and erasure, under a file lock (`<home>/audit.lock`) taken before the
database's write lock, so anchors are written in commit order and never name a state the
database has not committed. `verify` reads it before its database snapshot, so the database can
be ahead of the anchor, never behind: a missing head, a head behind the anchor, a record or
event at the anchor's position that is gone or different, or fewer rows than the anchor counts
minus what signed purge checkpoints explain, are reported.

An anchor exported by `territoria audit anchor` and kept elsewhere (mailed, printed) is checked
the same way by `territoria audit verify --anchor FILE`: it also catches someone who could rewrite
both the database and the local anchor.
"""

from __future__ import annotations

import hmac
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from territoria.audit.chain import GENESIS, Problem, sign
from territoria.errors import InvalidRequest, StoreError
from territoria.store.database import Connection

FORMAT = "territoria-audit-anchor/1"
_INTS = ("last_seq", "last_event", "purged_total", "records")
_TEXTS = ("last_hash", "event_hash", "time", "signature")


class AnchorUnreadable(InvalidRequest):
    """An anchor file that is not a territoria anchor (bad JSON, missing or wrong fields)."""


@dataclass(frozen=True)
class Anchor:
    last_seq: int
    last_hash: str
    last_event: int
    event_hash: str
    purged_total: int
    records: int
    time: str
    signature: str

    @classmethod
    def signed(
        cls,
        key: bytes,
        *,
        last_seq: int,
        last_hash: str,
        last_event: int,
        event_hash: str,
        purged_total: int,
        time: str,
    ) -> Anchor:
        fields = (last_seq, last_hash, last_event, event_hash, purged_total)
        records = last_seq - purged_total
        signature = sign(key, "anchor", FORMAT, *fields, records, time)
        return cls(*fields, records, time, signature)

    def signature_ok(self, key: bytes) -> bool:
        expected = sign(
            key,
            "anchor",
            FORMAT,
            self.last_seq,
            self.last_hash,
            self.last_event,
            self.event_hash,
            self.purged_total,
            self.records,
            self.time,
        )
        return hmac.compare_digest(expected, self.signature)

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}


def parse_anchor(text: str) -> Anchor:
    """An anchor from its JSON text; `AnchorUnreadable` when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AnchorUnreadable("ce n'est pas du JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AnchorUnreadable(f"format {FORMAT!r} attendu")
    for name in _INTS:
        if not isinstance(data.get(name), int) or isinstance(data[name], bool):
            raise AnchorUnreadable(f"champ {name!r} absent ou non entier")
    for name in _TEXTS:
        if not isinstance(data.get(name), str):
            raise AnchorUnreadable(f"champ {name!r} absent ou non textuel")
    return Anchor(**{name: data[name] for name in (*_INTS, *_TEXTS)})


def read_anchor_text(path: Path) -> str | None:
    """The text of the anchor file, None when there is none."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"Impossible de lire l'ancre du journal {path} : {exc}") from exc


def read_anchor(path: Path) -> Anchor:
    """An anchor file given by its path (an exported one, or the local one), refused with a
    French message when missing or unreadable; check its signature with `signature_ok`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidRequest(f"Ancre introuvable : {path}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"Ancre illisible : {path} ({exc}).") from exc
    try:
        anchor = parse_anchor(text)
    except AnchorUnreadable as exc:
        raise InvalidRequest(f"Ancre illisible : {path} ({exc}).") from exc
    return anchor


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Replace the anchor file atomically: a reader sees the old anchor or the new one, and
    after a power cut the file is one of them too (the new one is synced before the rename)."""
    text = json.dumps(anchor.as_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(f"Impossible d'écrire l'ancre du journal {path} : {exc}") from exc


# --- the database side ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogState:
    """What one database snapshot says at an anchor's position."""

    head: Mapping[str, Any] | None
    last_row_seq: int  # the highest record number present (0: none)
    last_event_seq: int  # the highest event number present (0: none)
    checkpoint_seq: int
    checkpoint_hash: str
    purged_total: int
    hash_at_seq: str | None  # the hash of record n° anchor.last_seq; None when absent
    hash_at_event: str | None  # the hash of event n° anchor.last_event; None when absent
    rows_up_to_seq: int | None  # records with seq <= anchor.last_seq; None: not counted

    @property
    def reach(self) -> tuple[int, int]:
        """How far the log goes (record, event): by its head, else by what is left."""
        if self.head is not None:
            return int(self.head["last_seq"]), int(self.head["last_event"])
        return max(self.last_row_seq, self.checkpoint_seq), self.last_event_seq


def latest_checkpoint(conn: Connection) -> dict[str, Any] | None:
    found = conn.execute(
        "SELECT body FROM events WHERE kind = 'checkpoint' ORDER BY event_seq DESC LIMIT 1"
    ).fetchone()
    return dict(json.loads(found[0])) if found else None


def read_state(
    conn: Connection, head: Mapping[str, Any] | None, anchor: Anchor, *, count: bool
) -> LogState:
    """The database at `anchor`'s position: a few primary-key lookups (and, with `count`, a
    count of the rows up to it, which `verify` can afford and an append need not)."""
    checkpoint = latest_checkpoint(conn) or {"last_seq": 0, "last_hash": GENESIS}
    (last_row,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
    (last_event,) = conn.execute("SELECT COALESCE(MAX(event_seq), 0) FROM events").fetchone()
    at_seq = conn.execute("SELECT hash FROM records WHERE seq = ?", (anchor.last_seq,)).fetchone()
    at_event = conn.execute(
        "SELECT hash FROM events WHERE event_seq = ?", (anchor.last_event,)
    ).fetchone()
    rows = None
    if count:
        (rows,) = conn.execute(
            "SELECT COUNT(*) FROM records WHERE seq <= ?", (anchor.last_seq,)
        ).fetchone()
    return LogState(
        head=head,
        last_row_seq=int(last_row),
        last_event_seq=int(last_event),
        checkpoint_seq=int(checkpoint["last_seq"]),
        checkpoint_hash=str(checkpoint["last_hash"]),
        purged_total=int(checkpoint.get("purged_total", 0)),
        hash_at_seq=at_seq[0] if at_seq else None,
        hash_at_event=at_event[0] if at_event else None,
        rows_up_to_seq=rows,
    )


def compare(anchor: Anchor, state: LogState, where: str) -> list[Problem]:
    """The breaks between a database snapshot and an (already authenticated) anchor written
    before it, one message per cause. `where` names the anchor ("Ancre locale", …)."""
    a = anchor
    reach_seq, reach_event = state.reach
    problems: list[Problem] = []
    if reach_seq < a.last_seq:
        if state.head is None and reach_seq == 0 and reach_event == 0:
            found = "la base est vide"
        elif state.head is None:
            found = f"la base n'a plus de tête et s'arrête au n° {reach_seq}"
        else:
            found = f"la tête désigne le n° {reach_seq}"
        problems.append(
            Problem(
                "anchor",
                f"{where} : journal vidé, tronqué, remplacé ou restauré d'une sauvegarde : "
                f"l'ancre du {a.time} désigne le n° {a.last_seq} ({a.records} "
                f"enregistrement(s), {a.last_event} événement(s)), {found}.",
            )
        )
    elif a.last_seq > state.checkpoint_seq:
        if state.hash_at_seq is None:
            problems.append(_gone(where, "l'enregistrement", a.last_seq, a.last_seq))
        elif state.hash_at_seq != a.last_hash:
            problems.append(_replaced(where, "l'enregistrement", a.last_seq, a.last_seq))
    elif a.last_seq == state.checkpoint_seq and a.last_seq and state.checkpoint_hash != a.last_hash:
        problems.append(_replaced(where, "l'enregistrement", a.last_seq, a.last_seq))
    if reach_event < a.last_event:
        problems.append(
            Problem(
                "anchor",
                f"{where} : événements (purges, effacements) supprimés : l'ancre en compte "
                f"{a.last_event}, la base {reach_event}.",
            )
        )
    elif a.last_event and state.hash_at_event is None:
        problems.append(_gone(where, "l'événement", a.last_event, None))
    elif a.last_event and state.hash_at_event != a.event_hash:
        problems.append(_replaced(where, "l'événement", a.last_event, None))
    if state.purged_total < a.purged_total:
        problems.append(
            Problem(
                "anchor",
                f"{where} : point de contrôle de purge supprimé ou remplacé : l'ancre compte "
                f"{a.purged_total} enregistrement(s) purgé(s), la base {state.purged_total}.",
            )
        )
    if state.rows_up_to_seq is not None and not problems:
        expected = max(0, a.last_seq - state.purged_total)
        if state.rows_up_to_seq < expected:
            problems.append(
                Problem(
                    "anchor",
                    f"{where} : {expected - state.rows_up_to_seq} enregistrement(s) manquant(s) "
                    f"jusqu'au n° {a.last_seq} : l'ancre en compte {expected} hors purges "
                    f"signées, la base {state.rows_up_to_seq}.",
                )
            )
    return problems


def _gone(where: str, what: str, number: int, seq: int | None) -> Problem:
    return Problem("anchor", f"{where} : {what} n° {number} désigné par l'ancre a disparu.", seq)


def _replaced(where: str, what: str, number: int, seq: int | None) -> Problem:
    return Problem(
        "anchor",
        f"{where} : {what} n° {number} n'est plus celui que l'ancre désigne (remplacé ou réécrit).",
        seq,
    )


__all__ = [
    "FORMAT",
    "Anchor",
    "AnchorUnreadable",
    "LogState",
    "compare",
    "latest_checkpoint",
    "parse_anchor",
    "read_anchor",
    "read_anchor_text",
    "read_state",
    "write_anchor",
]
