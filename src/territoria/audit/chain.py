"""The hash chain of the audit log: canonical JSON, record and event hashes, signatures, and
the verification of a whole log. Pure functions over plain dicts: no database here.

Record chain. Each record stores `prev_hash` and
`hash = sha256(canonical JSON of the hashed fields + prev_hash)`; the first record after the
genesis (or after the latest retention checkpoint) links to `GENESIS` (or to the checkpoint's
`last_hash`). The personal fields (request id, subject, question, answer and a random nonce)
enter the hash through `personal_digest = sha256(canonical JSON of them)`: erasing them on a
person's request keeps the record's hash valid (a tombstone), and because the nonce is erased
with them the remaining digest cannot be used to confirm a guessed question.

Events (retention checkpoints, redactions) form a second chain whose hashes are signed with
HMAC-SHA256 under a key that is not in the database. The head row, also signed, names the last
record and the last event, so a truncated tail or a deleted last event is detected. A signed
anchor outside the database (`anchor.py`) says how far the log has gone, so a log emptied or
replaced together with its head is detected too.
Anyone holding an export can check the record hashes; the signatures need the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "record_id",
    "time",
    "tenant",
    "role",
    "mode",
    "passages",
    "versions",
    "abstained",
    "verification",
    "confidence",
    "energy_wh",
    "energy_gco2e",
    "energy_method",
    "latency_ms",
    "personal_digest",
)
PERSONAL_FIELDS = ("request_id", "subject", "question", "answer", "nonce")


def canonical(obj: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: the one byte form that is hashed."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def personal_digest(record: Mapping[str, Any]) -> str:
    return sha256_hex(canonical({name: record.get(name) for name in PERSONAL_FIELDS}))


def record_hash(record: Mapping[str, Any], prev_hash: str) -> str:
    body = {name: record.get(name) for name in HASHED_FIELDS}
    return sha256_hex(canonical(body) + prev_hash.encode("ascii"))


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    body = {name: event.get(name) for name in ("event_seq", "kind", "time", "body")}
    return sha256_hex(canonical(body) + prev_hash.encode("ascii"))


def sign(key: bytes, *parts: object) -> str:
    return hmac.new(key, canonical(list(parts)), hashlib.sha256).hexdigest()


def head_signature(key: bytes, head: Mapping[str, Any]) -> str:
    return sign(
        key, "head", head["last_seq"], head["last_hash"], head["last_event"], head["event_hash"]
    )


@dataclass(frozen=True)
class Problem:
    """One break in the log: where (`seq`, `record_id`, None for the log itself) and what."""

    kind: str  # content | personal | link | missing | redaction | event | checkpoint | head
    # | anchor
    message: str
    seq: int | None = None
    record_id: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    problems: tuple[Problem, ...]
    head_hash: str
    checkpoint: dict[str, Any] | None = None
    redacted: int = 0
    head: dict[str, Any] | None = None  # the head row the records were checked against
    anchor: dict[str, Any] | None = None  # the local anchor they were compared with


def verify_log(
    records: Iterable[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    head: Mapping[str, Any] | None,
    key: bytes,
) -> VerifyResult:
    """Check every link of both chains, every hash, every signature and the head.

    `records` is read once, in chain order (it may be a stream). Each problem is reported on
    the row where it shows, and the walk continues from the stored hash, so one edited
    record gives one problem, on that record.
    """
    problems: list[Problem] = []
    checkpoint, redactions = _verify_events(events, key, problems)
    expected_seq, expected_prev = 1, GENESIS
    if checkpoint is not None:
        expected_seq, expected_prev = checkpoint["last_seq"] + 1, checkpoint["last_hash"]
    last_seq, last_hash = expected_seq - 1, expected_prev
    count = redacted = 0
    for row in records:
        seq, rid = row["seq"], row["record_id"]
        if count == 0 and checkpoint is None and (seq != 1 or row["prev_hash"] != GENESIS):
            problems.append(
                Problem(
                    "checkpoint",
                    "Le journal ne commence pas à l'origine et aucun point de contrôle de "
                    "purge ne l'explique : point de contrôle supprimé, ou premiers "
                    "enregistrements supprimés.",
                    seq,
                    rid,
                )
            )
        elif seq != expected_seq:
            problems.append(
                Problem(
                    "missing",
                    f"Enregistrements manquants ou déplacés : n° {expected_seq} attendu, "
                    f"n° {seq} trouvé.",
                    seq,
                    rid,
                )
            )
        elif row["prev_hash"] != expected_prev:
            problems.append(
                Problem(
                    "link",
                    "Le lien avec l'enregistrement précédent est rompu (suppression, "
                    "insertion ou réordonnancement).",
                    seq,
                    rid,
                )
            )
        _check_record(row, redactions, problems)
        count += 1
        redacted += bool(row.get("redacted_at"))
        expected_seq = seq + 1
        expected_prev = last_hash = row["hash"]
        last_seq = seq
    _verify_head(head, key, last_seq, last_hash, events, problems)
    return VerifyResult(
        ok=not problems,
        records=count,
        problems=tuple(problems),
        head_hash=last_hash,
        checkpoint=dict(checkpoint) if checkpoint else None,
        redacted=redacted,
        head=dict(head) if head else None,
    )


def _check_record(row: Mapping[str, Any], redactions: set[int], problems: list[Problem]) -> None:
    """The record's own hash, and its personal fields against their digest (or tombstone)."""
    seq, rid = row["seq"], row["record_id"]
    if record_hash(row, row["prev_hash"]) != row["hash"]:
        problems.append(
            Problem("content", "Le contenu de l'enregistrement a été modifié.", seq, rid)
        )
    if row.get("redacted_at"):
        if seq not in redactions:
            problems.append(
                Problem(
                    "redaction",
                    "Données personnelles effacées sans effacement signé correspondant.",
                    seq,
                    rid,
                )
            )
    elif personal_digest(row) != row["personal_digest"]:
        problems.append(
            Problem(
                "personal",
                "Les données pseudonymisées (question, réponse, sujet) ont été modifiées.",
                seq,
                rid,
            )
        )


def _verify_events(
    events: Sequence[Mapping[str, Any]], key: bytes, problems: list[Problem]
) -> tuple[dict[str, Any] | None, set[int]]:
    """Check the event chain; return the latest checkpoint's body and the redacted seqs."""
    prev, checkpoint, redactions = GENESIS, None, set()
    for expected, event in enumerate(events, start=1):
        where = f"Événement n° {event['event_seq']} ({event['kind']})"
        if event["event_seq"] != expected or event["prev_hash"] != prev:
            problems.append(Problem("event", f"{where} : la chaîne des événements est rompue."))
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            problems.append(Problem("event", f"{where} : contenu modifié."))
        if not hmac.compare_digest(sign(key, "event", event["hash"]), event["signature"]):
            problems.append(Problem("event", f"{where} : signature invalide."))
        prev = event["hash"]
        body = event["body"]
        if event["kind"] == "checkpoint":
            checkpoint = dict(body)
        elif event["kind"] == "redaction":
            redactions.update(body["seqs"])
        elif event["kind"] == "anomaly":
            problems.append(_anomaly(event))
    return checkpoint, redactions


def _anomaly(event: Mapping[str, Any]) -> Problem:
    """The problem a signed anomaly event keeps reporting (see `retention.rebuild_head` and
    `AuditLog` for the anchor ones)."""
    body, time = event["body"], event["time"]
    if body.get("problem") == "anchor_missing":
        return Problem(
            "anchor",
            f"L'ancre du journal (audit.anchor) avait disparu ; recréée le {time} au "
            f"n° {body['last_seq']} (le journal a pu être vidé ou tronqué avant).",
        )
    if body.get("problem") == "anchor_mismatch":
        anchored = (
            "une ancre illisible ou mal signée"
            if body.get("anchor_seq") is None
            else f"l'ancre désignait le n° {body['anchor_seq']}"
        )
        return Problem(
            "anchor",
            f"Le journal ne correspondait plus à son ancre ({anchored}, la tête le "
            f"n° {body['last_seq']}) ; ancre refaite le {time} : journal vidé, tronqué, "
            "remplacé ou restauré d'une sauvegarde.",
        )
    return Problem(
        "head",
        f"La tête du journal avait été supprimée ; reconstruite le {time} "
        f"après le n° {body['last_seq']} (fin du journal peut-être tronquée avant).",
    )


def _verify_head(
    head: Mapping[str, Any] | None,
    key: bytes,
    last_seq: int,
    last_hash: str,
    events: Sequence[Mapping[str, Any]],
    problems: list[Problem],
) -> None:
    last_event = events[-1]["event_seq"] if events else 0
    event_hash_ = events[-1]["hash"] if events else GENESIS
    if head is None:
        if last_seq or events:
            problems.append(Problem("head", "La tête du journal a été supprimée."))
        return
    if not hmac.compare_digest(head_signature(key, head), head["signature"]):
        problems.append(Problem("head", "La signature de la tête du journal est invalide."))
    if head["last_seq"] != last_seq or head["last_hash"] != last_hash:
        problems.append(
            Problem(
                "head",
                f"Fin du journal tronquée ou modifiée : la tête désigne le n° "
                f"{head['last_seq']}, le dernier enregistrement présent est le n° {last_seq}.",
            )
        )
    if head["last_event"] != last_event or head["event_hash"] != event_hash_:
        problems.append(
            Problem("head", "Le dernier événement (purge ou effacement) a été supprimé ou modifié.")
        )
