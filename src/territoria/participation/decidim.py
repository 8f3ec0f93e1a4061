"""Decidim exports: proposals, comments and debates (CSV, XLSX or JSON, as Decidim writes them).

Official debates (no author) are the questions of a consultation: comments that answer them get
their title as `question`. Debates opened by participants are contributions themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from territoria.participation.model import Contribution, Dataset, ImportIssue
from territoria.participation.scales import fold
from territoria.tables import Table, strip_html


def column(header: Sequence[str], *candidates: str) -> str | None:
    """The first header cell equal to a candidate (folded), or starting with `candidate/`."""
    folded = {fold(h): h for h in header}
    for candidate in candidates:
        if candidate in folded:
            return folded[candidate]
    for candidate in candidates:
        for key, original in folded.items():
            if key.startswith(candidate + "/"):
                return original
    return None


def as_int(value: str) -> int | None:
    try:
        return int(float(value)) if value.strip() else None
    except ValueError:
        return None


def missing_text(table: Table, line: int) -> ImportIssue:
    return ImportIssue(table.source, line, "texte vide : aucune contribution à analyser")


def load_comments(table: Table, dataset: Dataset) -> None:
    h = table.header
    body = column(h, "body")
    ident = column(h, "comment_id", "id")
    author = column(h, "author/id", "author_id", "author_pseudo")
    question = column(h, "question")
    group = column(h, "theme")
    date = column(h, "created_at")
    parent = column(h, "root_commentable_id", "debate_id", "commentable_id")
    for line, row in table.rows:
        text = strip_html(row.get(body or "", "")).strip()
        if not text:
            dataset.issues.append(missing_text(table, line))
            continue
        dataset.contributions.append(
            Contribution(
                id=(row.get(ident or "") or f"{Path(table.source).stem}-{line}").strip(),
                text=text,
                source=table.source,
                kind="commentaire",
                author=row.get(author or "", "").strip(),
                group=row.get(group or "", "").strip(),
                question=row.get(question or "", "").strip(),
                date=row.get(date or "", "").strip(),
                line=line,
                context=_debate_ref(row.get(parent or "", "")),
            )
        )


def _debate_ref(value: str) -> str:
    number = as_int(value)
    return f"debate:{number}" if number is not None else ""


def load_proposals(table: Table, dataset: Dataset) -> None:
    h = table.header
    title, body = column(h, "title"), column(h, "body")
    category = column(h, "category/name/fr", "category/name")
    scope = column(h, "scope/name/fr", "scope/name")
    votes = column(h, "votes", "endorsements/total_count", "supports", "endorsements")
    author = column(h, "author/id", "author_id")
    date = column(h, "created_at")
    for line, row in table.rows:
        head = strip_html(row.get(title or "", "")).strip()
        text = strip_html(row.get(body or "", "")).strip()
        if head and text and not text.startswith(head):
            text = f"{head}\n{text}"
        text = text or head
        if not text:
            dataset.issues.append(missing_text(table, line))
            continue
        dataset.contributions.append(
            Contribution(
                id=(row.get("id") or f"{Path(table.source).stem}-{line}").strip(),
                text=text,
                source=table.source,
                kind="proposition",
                author=row.get(author or "", "").strip(),
                territory=row.get(scope or "", "").strip(),
                group=row.get(category or "", "").strip(),
                date=row.get(date or "", "").strip(),
                votes=as_int(row.get(votes or "", "")),
                line=line,
            )
        )


def load_debates(table: Table, dataset: Dataset) -> None:
    """Official debates (no author) are questions; debates opened by people are contributions."""
    h = table.header
    title, description = column(h, "title"), column(h, "description")
    author = column(h, "author_id", "author/id")
    questions: dict[str, str] = {}
    for line, row in table.rows:
        head = strip_html(row.get(title or "", "")).strip()
        ident = (row.get("id") or "").strip()
        if not head:
            dataset.issues.append(ImportIssue(table.source, line, "débat sans titre : ignoré"))
            continue
        who = row.get(author or "", "").strip()
        if ident:
            questions[f"debate:{as_int(ident)}"] = head
        if who:
            text = strip_html(row.get(description or "", "")).strip()
            dataset.contributions.append(
                Contribution(
                    id=ident or f"{Path(table.source).stem}-{line}",
                    text=f"{head}\n{text}" if text else head,
                    source=table.source,
                    kind="débat",
                    author=who,
                    date=row.get("created_at", "").strip(),
                    line=line,
                )
            )
    dataset.questions.update(questions)


def resolve_debate_questions(dataset: Dataset) -> None:
    if not dataset.questions:
        return
    for i, c in enumerate(dataset.contributions):
        if not c.question and c.context in dataset.questions:
            dataset.contributions[i] = replace(c, question=dataset.questions[c.context])
