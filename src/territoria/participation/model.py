"""What the importers produce: contributions, votes, questionnaire answers and import issues.

Every text here is still raw (not pseudonymised): `territoria.participation.privacy` turns a
`Dataset` into its pseudonymised form before anything is analysed, shown or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from territoria.tables import ImportIssue as ImportIssue  # shared with the forecast importer

# The canonical fields a column mapping may name.
FIELDS: tuple[str, ...] = (
    "text",
    "author",
    "territory",
    "group",
    "question",
    "date",
    "votes",
    "id",
)


@dataclass(frozen=True)
class Contribution:
    """One free-text contribution: a proposal, a comment, an answer, a pol.is statement."""

    id: str
    text: str
    source: str
    kind: str = "contribution"
    author: str = ""
    territory: str = ""
    group: str = ""
    question: str = ""
    date: str = ""
    votes: int | None = None
    line: int | None = None
    context: str = ""  # what it answers, e.g. "debate:23" for a Decidim comment


@dataclass(frozen=True)
class VoteMatrix:
    """Participants x statements, pol.is style: 1 agree, -1 disagree, 0 pass, None not seen.

    `votes[i][j]` is participant `participants[i]` on statement `statements[j]`.
    `reference_groups` keeps the groups the source platform computed (pol.is `group-id`), if any,
    for evaluation only: they are never used to build the groups.
    """

    name: str
    source: str
    participants: tuple[str, ...]
    statements: tuple[str, ...]
    votes: tuple[tuple[float | None, ...], ...]
    moderated_out: frozenset[str] = frozenset()
    reference_groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LikertAnswer:
    respondent: str
    question: str
    value: str
    territory: str = ""
    group: str = ""


@dataclass(frozen=True)
class Questionnaire:
    """Closed answers of a questionnaire: ordered scales per question, one answer per cell."""

    source: str
    questions: tuple[str, ...]
    scales: dict[str, tuple[str, ...]]  # every accepted value, ordered ones first
    ordered: dict[str, tuple[str, ...]]  # the ordered part of each scale
    answers: tuple[LikertAnswer, ...]
    respondents: int


@dataclass
class Dataset:
    """Everything read from the given paths, in reading order."""

    contributions: list[Contribution] = field(default_factory=list)
    vote_matrices: list[VoteMatrix] = field(default_factory=list)
    questionnaires: list[Questionnaire] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    files: list[dict[str, object]] = field(default_factory=list)
    questions: dict[str, str] = field(default_factory=dict)  # context id -> question title

    def extend(self, other: Dataset) -> None:
        self.contributions.extend(other.contributions)
        self.vote_matrices.extend(other.vote_matrices)
        self.questionnaires.extend(other.questionnaires)
        self.issues.extend(other.issues)
        self.files.extend(other.files)
        self.questions.update(other.questions)
