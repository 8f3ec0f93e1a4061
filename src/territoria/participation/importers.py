"""Import contributions, votes and questionnaires from the files a participation team has.

Formats, recognised from the folder layout and the column names:
- pol.is export folder: `comments.csv` + `participants-votes.csv` (statements and votes);
- Decidim exports: proposals (title, body, category, scope, votes), comments (body, commentable,
  author/id), debates (title/fr, description/fr: official questions, or contributions when a
  participant opened them);
- generic tables (CSV, XLSX, JSON, JSON lines) with a column mapping
  (`text`, `author`, `territory`, `group`, `question`, `date`, `votes`, `id`), or columns named
  like them in French or English;
- questionnaires: any generic table whose columns hold answers on a known scale (Likert,
  satisfaction, notes); its long free-text columns become contributions, one per answer.

A row that cannot be used (no text, wrong number of columns, a vote that is not -1/0/1, an
answer off the question's scale) is reported as an `ImportIssue` with its line number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from territoria.errors import IngestError, InvalidRequest, TerritoriaError
from territoria.participation import decidim
from territoria.participation.decidim import as_int, missing_text
from territoria.participation.model import (
    FIELDS,
    Contribution,
    Dataset,
    ImportIssue,
    LikertAnswer,
    Questionnaire,
)
from territoria.participation.polis import POLIS_FILES, is_polis_folder, load_polis
from territoria.participation.scales import Scale, detect_scale, fold
from territoria.participation.workshops import WORKSHOP_SUFFIXES, is_workshop, load_workshop
from territoria.settings import Settings
from territoria.tables import TABLE_SUFFIXES, Table, parse_column_mapping, read_tables

# Column names recognised without a mapping (folded: lowercase, no accents).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "texte",
        "contribution",
        "commentaire",
        "comment",
        "avis",
        "message",
        "body",
        "corps",
        "proposition",
        "reponse",
        "content",
        "contenu",
        "comment-body",
        "description",
        "verbatim",
        "idee",
        "suggestion",
        "expression",
    ),
    "author": (
        "author",
        "auteur",
        "author/id",
        "author_id",
        "author-id",
        "author_pseudo",
        "participant",
        "participant_id",
        "user",
        "user_id",
        "utilisateur",
        "pseudo",
        "contributeur",
        "repondant",
        "respondent",
        "id_repondant",
        "adresse e-mail",
        "adresse de messagerie",
        "adresse electronique",
        "email",
        "e-mail",
        "courriel",
        "nom d'utilisateur",
        "username",
        "responder",
    ),
    "territory": (
        "territory",
        "territoire",
        "commune",
        "quartier",
        "ville",
        "secteur",
        "scope",
        "scope/name/fr",
        "zone",
        "arrondissement",
        "code postal",
        "code_postal",
        "commune de residence",
        "lieu",
    ),
    "group": (
        "group",
        "groupe",
        "categorie",
        "category",
        "category/name/fr",
        "theme",
        "tranche d'age",
        "age",
        "profil",
        "statut",
    ),
    "question": ("question", "sujet", "debat", "topic"),
    "date": (
        "date",
        "created_at",
        "created",
        "horodateur",
        "timestamp",
        "datetime",
        "date de creation",
        "submitted_at",
        "date de soumission",
        "heure de fin",
        "completion time",
        "heure",
    ),
    "votes": (
        "votes",
        "soutiens",
        "supports",
        "likes",
        "endorsements",
        "endorsements/total_count",
        "votes_count",
        "nombre de votes",
    ),
    "id": (
        "id",
        "identifiant",
        "comment_id",
        "comment-id",
        "proposal_id",
        "reference",
        "ref",
        "numero",
        "n°",
        "id de la reponse",
        "response id",
        "numero de serie",
        "serial",
    ),
}
_FREE_TEXT_MIN_CHARS = 25


def parse_mapping(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """`"text=Avis,territory=Commune"` -> {"text": "Avis", "territory": "Commune"}.

    Either side may be the canonical field: `Avis=text` means the same. Unknown fields are
    refused with the list of accepted ones.
    """
    return parse_column_mapping(spec, FIELDS, example="text=Avis")


def load_paths(
    paths: Sequence[Path],
    *,
    mapping: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> Dataset:
    """Read every path (files or folders); unreadable files become issues, not exceptions.
    `settings` gives the limits of XLSX files (None: the defaults)."""
    dataset = Dataset()
    seen_polis: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise InvalidRequest(f"Chemin introuvable : {path}")
        for item in _expand(path):
            try:
                if item.is_dir():
                    if item.resolve() not in seen_polis:
                        seen_polis.add(item.resolve())
                        dataset.extend(load_polis(item))
                    continue
                dataset.extend(load_file(item, mapping=mapping, settings=settings))
            except TerritoriaError as exc:
                dataset.issues.append(ImportIssue(str(item), None, exc.message))
                dataset.files.append({"path": str(item), "format": "illisible", "rows": 0})
    decidim.resolve_debate_questions(dataset)
    _make_ids_unique(dataset)
    return dataset


def _expand(path: Path) -> list[Path]:
    """A pol.is folder stands for itself; other folders give their table files (sorted)."""
    if path.is_file():
        if path.name in POLIS_FILES and is_polis_folder(path.parent):
            return [path.parent]
        return [path]
    if is_polis_folder(path):
        return [path]
    found: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() or child.suffix.lower() in TABLE_SUFFIXES + WORKSHOP_SUFFIXES:
            found.extend(_expand(child))
    return found


def load_file(
    path: Path, *, mapping: Mapping[str, str] | None = None, settings: Settings | None = None
) -> Dataset:
    if is_workshop(path):
        return load_workshop(path)
    dataset = Dataset()
    for table in read_tables(path, settings):
        dataset.issues.extend(table.issues)
        kind = detect_kind(table.header)
        before = len(dataset.contributions)
        if kind == "decidim-comments":
            decidim.load_comments(table, dataset)
        elif kind == "decidim-proposals":
            decidim.load_proposals(table, dataset)
        elif kind == "decidim-debates":
            decidim.load_debates(table, dataset)
        else:
            kind = _load_generic(table, dataset, dict(mapping or {}))
        dataset.files.append(
            {
                "path": table.source,
                "format": kind,
                "rows": len(table.rows) + sum(1 for i in table.issues if i.line is not None),
                "contributions": len(dataset.contributions) - before,
            }
        )
    return dataset


def detect_kind(header: Sequence[str]) -> str:
    names = {h.strip().lower() for h in header}
    has_body = any(n == "body" or n.startswith("body/") for n in names)
    if has_body and names & {"commentable_type", "root_commentable_id", "alignment"}:
        return "decidim-comments"
    has_title = any(n == "title" or n.startswith("title/") for n in names)
    if (
        has_title
        and has_body
        and names
        & {
            "votes",
            "endorsements",
            "supports",
            "category/id",
            "component/id",
            "endorsements/total_count",
        }
    ):
        return "decidim-proposals"
    has_description = any(n.startswith("description/") for n in names)
    if has_title and has_description and names & {"comments", "component/id"}:
        return "decidim-debates"
    return "generic"


# --- generic tables and questionnaires ---------------------------------------------------


def _resolve_columns(header: Sequence[str], mapping: dict[str, str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    by_fold = {fold(h): h for h in header}
    for name, column in mapping.items():
        found = column if column in header else by_fold.get(fold(column))
        if found is None:
            raise InvalidRequest(
                f"Colonne « {column} » introuvable (champ {name}) ; colonnes disponibles : "
                f"{', '.join(header)}."
            )
        columns[name] = found
    used = set(columns.values())
    for name in FIELDS:
        if name in columns:
            continue
        for synonym in SYNONYMS[name]:
            found = by_fold.get(synonym)
            if found and found not in used:
                columns[name] = found
                used.add(found)
                break
    return columns


_PLACE_WORDS = ("quartier", "commune", "ville", "secteur", "territoire")


def _place_column(table: Table, columns: dict[str, str]) -> str | None:
    """A question such as "Dans quel quartier habitez-vous ?": a place word in the header,
    short values repeated across rows, and not a closed scale (Oui/Non)."""
    if "territory" in columns:
        return None
    used = set(columns.values())
    for header in table.header:
        if header in used or not any(w in fold(header) for w in _PLACE_WORDS):
            continue
        values = [row.get(header, "").strip() for _, row in table.rows]
        values = [v for v in values if v]
        if not values or max(len(v) for v in values) > 40:
            continue
        if len(set(values)) > max(1, len(values) // 2) or detect_scale(values) is not None:
            continue
        return header
    return None


def _load_generic(table: Table, dataset: Dataset, mapping: dict[str, str]) -> str:
    columns = _resolve_columns(table.header, mapping)
    place = _place_column(table, columns)
    if place is not None:
        columns["territory"] = place
    guessed = columns.get("text") if "text" not in mapping else None
    if guessed and detect_scale([row.get(guessed, "") for _, row in table.rows]):
        del columns["text"]  # named like a text column, but holds answers on a scale
    fixed = {v for k, v in columns.items() if k != "text"}
    free = [h for h in table.header if h not in fixed and h != columns.get("text")]
    scales: dict[str, Scale] = {}
    for h in free:
        scale = detect_scale([row.get(h, "") for _, row in table.rows])
        if scale is not None:
            scales[h] = scale
    text_columns = [columns["text"]] if "text" in columns else []
    if not text_columns:
        text_columns = [h for h in free if h not in scales and _is_free_text(table, h)]
    if not text_columns and not scales:
        raise IngestError(
            f"{Path(table.source).name} : aucune colonne de texte reconnue ; indiquez-la avec "
            f"--mapping text=NOM_DE_COLONNE (colonnes : {', '.join(table.header)})."
        )
    stem = Path(table.source.split("#")[0]).stem
    answers: list[LikertAnswer] = []
    for line, row in table.rows:
        rid = row.get(columns.get("id", ""), "").strip() or f"{stem}-{line}"
        common = {
            "author": _author(row.get(columns.get("author", ""), "")),
            "territory": row.get(columns.get("territory", ""), "").strip(),
            "group": row.get(columns.get("group", ""), "").strip(),
            "date": row.get(columns.get("date", ""), "").strip(),
        }
        kept = 0
        for position, column in enumerate(text_columns):
            text = row.get(column, "").strip()
            if not text:
                continue
            kept += 1
            dataset.contributions.append(
                Contribution(
                    id=rid if len(text_columns) == 1 else f"{rid}-q{position + 1}",
                    text=text,
                    source=table.source,
                    kind="réponse" if scales or len(text_columns) > 1 else "contribution",
                    question=row.get(columns.get("question", ""), "").strip()
                    or (column if scales or len(text_columns) > 1 else ""),
                    votes=as_int(row.get(columns.get("votes", ""), "")),
                    line=line,
                    **common,
                )
            )
        for question, scale in scales.items():
            raw = row.get(question, "").strip()
            if not raw:
                continue
            value = scale.canonical(raw)
            if value is None:
                dataset.issues.append(
                    ImportIssue(
                        table.source,
                        line,
                        f"réponse « {raw} » hors de l'échelle de la question « {question} » : "
                        "non comptée",
                    )
                )
                continue
            kept += 1
            answers.append(LikertAnswer(rid, question, value, common["territory"], common["group"]))
        if not kept:
            dataset.issues.append(
                missing_text(table, line)
                if not scales
                else ImportIssue(table.source, line, "ligne sans réponse : ignorée")
            )
    if scales:
        dataset.questionnaires.append(
            Questionnaire(
                source=table.source,
                questions=tuple(scales),
                scales={q: s.values for q, s in scales.items()},
                ordered={q: s.ordered for q, s in scales.items()},
                answers=tuple(answers),
                respondents=len({a.respondent for a in answers}),
            )
        )
        return "questionnaire"
    return "table"


def _is_free_text(table: Table, column: str) -> bool:
    """Long, varied values made of words (not hashes, tokens or dates)."""
    if fold(column) in _TOOL_COLUMNS:
        return False
    values = [row.get(column, "").strip() for _, row in table.rows]
    values = [v for v in values if v]
    if not values:
        return False
    mean_chars = sum(len(v) for v in values) / len(values)
    mean_words = sum(len(v.split()) for v in values) / len(values)
    distinct = len(set(values)) / len(values)
    return mean_chars >= _FREE_TEXT_MIN_CHARS and mean_words >= 4 and distinct >= 0.5


# Columns that survey tools add to every export: never answers.
_TOOL_COLUMNS = frozenset(
    {
        "adresse ip",
        "ip address",
        "hash de l'ip",
        "ip hash",
        "statut de l'utilisateur",
        "user status",
        "brouillon",
        "draft",
        "uid",
        "sid",
        "tete de serie",
        "seed",
        "langue de depart",
        "start language",
        "derniere page",
        "last page",
        "url referente",
        "referrer url",
        "jeton",
        "token",
        "session token",
        "nom",
        "name",
    }
)
_ANONYMOUS = frozenset({"anonymous", "anonyme", "anonyme.", "non inscrit", "unregistered"})


def _author(value: str) -> str:
    """The respondent's id; the placeholder of anonymous answers is no author."""
    value = value.strip()
    return "" if fold(value) in _ANONYMOUS else value


# --- ids ---------------------------------------------------------------------------------


def _make_ids_unique(dataset: Dataset) -> None:
    """Keep the source's ids; prefix them only where two sources use the same id.

    The prefix is the Decidim kind ("commentaire:515", "proposition:457") or the file name;
    an id repeated inside one file gets "#2", "#3"... and an issue says so.
    """
    sources_by_id: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, set[str]] = defaultdict(set)
    for c in dataset.contributions:
        sources_by_id[c.id].add(c.source)
        kinds[c.source].add(c.kind)
    clashing = {s for sources in sources_by_id.values() if len(sources) > 1 for s in sources}
    labels = {s: _label(s, kinds[s]) for s in clashing}
    if len(set(labels.values())) < len(labels):
        labels = {s: _label(s, set()) for s in clashing}
    seen: Counter[str] = Counter()
    for i, c in enumerate(dataset.contributions):
        new_id = f"{labels[c.source]}:{c.id}" if c.source in labels else c.id
        seen[new_id] += 1
        if seen[new_id] > 1:
            new_id = f"{new_id}#{seen[new_id]}"
            dataset.issues.append(
                ImportIssue(
                    c.source,
                    c.line,
                    f"identifiant « {c.id} » en double : renommé « {new_id} »",
                )
            )
        if new_id != c.id:
            dataset.contributions[i] = replace(c, id=new_id)
    for j, m in enumerate(dataset.vote_matrices):
        label = labels.get(str(Path(m.source) / "comments.csv"))
        if label:
            dataset.vote_matrices[j] = replace(
                m,
                statements=tuple(f"{label}:{s}" for s in m.statements),
                moderated_out=frozenset(f"{label}:{s}" for s in m.moderated_out),
            )


_KIND_PREFIX = {"commentaire": "commentaire", "proposition": "proposition", "débat": "debat"}


def _label(source: str, kinds: set[str]) -> str:
    if len(kinds) == 1 and (kind := next(iter(kinds))) in _KIND_PREFIX:
        return _KIND_PREFIX[kind]
    path = Path(source.split("#")[0])
    return path.parent.name if path.name in POLIS_FILES else path.stem
