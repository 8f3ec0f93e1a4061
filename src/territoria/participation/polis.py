"""pol.is export folders: `comments.csv` (statements) and `participants-votes.csv` (votes).

Votes are 1 (agree), -1 (disagree), 0 (pass) or blank (not seen). Statements moderated out
(`moderated = -1`) are left out of the analysis, and listed as such in the import issues. The
`group-id` that pol.is computed is kept aside as `reference_groups`, for evaluation only.
"""

from __future__ import annotations

import csv
from pathlib import Path

from territoria.errors import IngestError
from territoria.participation.decidim import as_int
from territoria.participation.model import Contribution, Dataset, ImportIssue, VoteMatrix
from territoria.tables import decode

POLIS_FILES = ("comments.csv", "participants-votes.csv")


def is_polis_folder(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in POLIS_FILES)


def load_polis(folder: Path) -> Dataset:
    """A pol.is export folder: statements become contributions, votes a `VoteMatrix`."""
    dataset = Dataset()
    comments_path, votes_path = folder / "comments.csv", folder / "participants-votes.csv"
    comments = list(csv.DictReader(decode(comments_path).splitlines(keepends=True)))
    moderated_out: set[str] = set()
    for number, row in enumerate(comments, start=2):
        ident = (row.get("comment-id") or "").strip()
        text = (row.get("comment-body") or "").strip()
        if not ident:
            dataset.issues.append(
                ImportIssue(str(comments_path), number, "énoncé sans identifiant")
            )
            continue
        if (row.get("moderated") or "").strip() == "-1":
            moderated_out.add(ident)
            dataset.issues.append(
                ImportIssue(
                    str(comments_path),
                    number,
                    f"énoncé {ident} écarté par la modération pol.is (moderated = -1)",
                )
            )
            continue
        if not text:
            dataset.issues.append(
                ImportIssue(str(comments_path), number, f"énoncé {ident} sans texte")
            )
            continue
        dataset.contributions.append(
            Contribution(
                id=ident,
                text=text,
                source=str(comments_path),
                kind="énoncé",
                author=(row.get("author-id") or "").strip(),
                votes=as_int(row.get("agrees") or ""),
                line=number,
            )
        )
    matrix = _polis_votes(votes_path, frozenset(moderated_out), dataset.issues)
    dataset.vote_matrices.append(matrix)
    dataset.files.append(
        {
            "path": str(folder),
            "format": "polis",
            "rows": len(comments),
            "contributions": len(dataset.contributions),
            "participants": len(matrix.participants),
        }
    )
    return dataset


def _polis_votes(
    path: Path, moderated_out: frozenset[str], issues: list[ImportIssue]
) -> VoteMatrix:
    source = str(path)
    reader = csv.reader(decode(path).splitlines(keepends=True))
    header = next(reader, None)
    if not header:
        raise IngestError(f"{path.name} : fichier de votes vide.")
    statements = [h for h in header if h.strip().lstrip("-").isdigit()]
    index = {h: i for i, h in enumerate(header)}
    participants: list[str] = []
    rows: list[tuple[float | None, ...]] = []
    reference: dict[str, str] = {}
    for record in reader:
        line = reader.line_num
        if not any(c.strip() for c in record):
            continue
        if len(record) != len(header):
            issues.append(
                ImportIssue(
                    source,
                    line,
                    f"nombre de colonnes inattendu ({len(record)} au lieu de {len(header)}) : "
                    "participant ignoré",
                )
            )
            continue
        pid = record[index["participant"]].strip() if "participant" in index else str(line)
        votes: list[float | None] = []
        for s in statements:
            cell = record[index[s]].strip()
            value = _vote(cell)
            if value is None and cell:
                issues.append(
                    ImportIssue(
                        source,
                        line,
                        f"vote invalide « {cell} » (participant {pid}, énoncé {s}) : "
                        "compté comme absent",
                    )
                )
            votes.append(value)
        participants.append(pid)
        rows.append(tuple(votes))
        group = record[index["group-id"]].strip() if "group-id" in index else ""
        if group:
            reference[pid] = group
    return VoteMatrix(
        name=path.parent.name,
        source=str(path.parent),
        participants=tuple(participants),
        statements=tuple(statements),
        votes=tuple(rows),
        moderated_out=moderated_out,
        reference_groups=reference,
    )


def _vote(cell: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if value in (-1.0, 0.0, 1.0) else None
