"""Workshop notes: one text file per group of 8-12 people, its priority themes and expectations.

The format is the note a facilitator types after a workshop (Markdown or plain text):

    # Atelier « Mobilités » — Groupe 2
    Participants : 11
    Date : 12/03/2026

    ## Thèmes prioritaires
    1. Sécuriser les trajets à vélo vers le collège
    2. Plus de bus le soir

    ## Attentes
    - Des pistes séparées de la route

Every item of a list becomes one contribution whose author is the group: in the synthesis the
group is the unit (a theme is "cited by 3 workshop groups"), never its members. Other lines
(facilitator, place) are not read: they may name people.
"""

from __future__ import annotations

import re
from pathlib import Path

from territoria.participation.model import Contribution, Dataset, ImportIssue
from territoria.tables import decode

WORKSHOP_SUFFIXES = (".md", ".txt")
_TITLE = re.compile(r"^\s*#*\s*(atelier|groupe)\b", re.IGNORECASE)
_SECTION = re.compile(r"^\s*#{1,6}\s*(.+?)\s*:?\s*$|^\s*([^\W\d][^:]{2,60}?)\s*:\s*$")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")
_PARTICIPANTS = re.compile(r"^\s*(?:participants?|nombre de participants)\s*:\s*(\d+)", re.I)
_GROUP = re.compile(r"(groupe\s*[\w-]+)", re.IGNORECASE)
_KINDS = {
    "prior": "priorité d'atelier",
    "thèm": "priorité d'atelier",
    "them": "priorité d'atelier",
    "attent": "attente d'atelier",
    "propos": "proposition d'atelier",
    "idée": "proposition d'atelier",
}


def is_workshop(path: Path) -> bool:
    if path.suffix.lower() not in WORKSHOP_SUFFIXES or not path.is_file():
        return False
    first = next((line for line in decode(path).splitlines() if line.strip()), "")
    return bool(_TITLE.match(first))


def load_workshop(path: Path) -> Dataset:
    dataset = Dataset()
    lines = decode(path).splitlines()
    title = next((line.strip().lstrip("#").strip() for line in lines if line.strip()), path.stem)
    found = _GROUP.search(title)
    group = found.group(1).strip().capitalize() if found else path.stem
    participants = None
    kind = ""
    count = 0
    for number, line in enumerate(lines, start=1):
        if match := _PARTICIPANTS.match(line):
            participants = int(match.group(1))
            continue
        if number > 1 and (heading := _SECTION.match(line)) and not _ITEM.match(line):
            name = (heading.group(1) or heading.group(2) or "").lower()
            kind = next((k for stem, k in _KINDS.items() if stem in name), "")
            continue
        item = _ITEM.match(line)
        if not item or not kind:
            continue
        count += 1
        dataset.contributions.append(
            Contribution(
                id=f"{path.stem}-{count}",
                text=item.group(1),
                source=str(path),
                kind=kind,
                author=f"atelier:{path.stem}",
                group=group,
                question=kind,
                line=number,
            )
        )
    if not count:
        dataset.issues.append(
            ImportIssue(
                str(path),
                None,
                "notes d'atelier sans liste sous « Thèmes prioritaires » ou « Attentes » : "
                "aucune contribution lue",
            )
        )
    if participants is None:
        dataset.issues.append(
            ImportIssue(
                str(path), None, "nombre de participants non indiqué (« Participants : N »)"
            )
        )
    dataset.files.append(
        {
            "path": str(path),
            "format": "workshop",
            "rows": len(lines),
            "contributions": count,
            "group": group,
            "participants": participants,
        }
    )
    return dataset
