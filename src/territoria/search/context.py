"""Follow-up questions: whether a question continues the previous one, and its query if so.

"Quels sont les horaires de la mairie ?" then "et le samedi ?": the second question has no
subject of its own. Without a language model, a question continues the previous one when
(checked on the question with chat abbreviations spelled out):

- it opens with a continuation word ("et", "ou", "sinon", "aussi", "idem"...) and is not a full
  question of its own (fewer than `_FULL` content terms);
- it opens with "pour", "concernant", "quant" (à) and has few content terms ("pour un enfant ?");
- it refers back with a pronoun and has few content terms: a subject pronoun first ("il faut
  quoi comme papiers ?", "c'est interdit à quelle heure ?", but not the presentative "c'est
  quoi les horaires de la mairie ?", whose subject follows the question word) or an object
  pronoun before a verb ("comment la contester ?", "on peut le prolonger ?");
- it has at most one content term of its own ("horaires ?"), unless that term is the noun of a
  definite noun phrase naming a subject ("Où est la déchetterie ?", "Qui est le maire ?"), not
  a kind of fact ("Quel est le prix ?", "Et les horaires ?") nor a day or a number.

Content terms are the analysed terms left once the question words (combien, comment, quand,
faut...) are set aside. A continuing question is searched by its own terms (weight 1) and the
terms of the question it continues at `context_weight`, except those the new question replaces:
a day, month, season, time of day or number of the earlier question gives way to the new one
("et le samedi ?" after "... le mardi ?"), and those the corpus does not know are left out.
The dense channels embed both questions together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from territoria.search.analysis import QUESTION_WORDS, fold, make_analyzer
from territoria.search.query import Query, Term

Analyzer = Callable[[str], list[str]]

_FULL = 5  # a question with this many content terms stands on its own, whatever its first word
_FEW = 3  # "few content terms" for the weak cues and pronouns

_STRONG_CUES = frozenset(
    [
        "et",
        "ou",
        "sinon",
        "aussi",
        "idem",
        "pareil",
        "mais",
        "alors",
        "puis",
        "ensuite",
        "egalement",
        "plutot",
    ]
)
_WEAK_CUES = frozenset(["pour", "concernant", "quant", "niveau", "cote"])
_SUBJECT_PRONOUNS = frozenset(
    ["il", "elle", "ils", "elles", "ca", "cela", "celui", "celle", "ceux", "celles"]
)
# An object pronoun between a verb or "comment"/"pour" and an infinitive: "comment la
# contester", "on peut le prolonger", "pour l'inscrire", "je dois la renouveler".
_OBJECT_PRONOUN = re.compile(
    r"\b(?:comment|pour|peut|peux|peuvent|faut|dois|doit|doivent|veux|veut|faire|va|vais)"
    r"\s+(?:le|la|les|lui|leur|l')\s*[a-z]+(?:er|ir|re|oir)\b"
)
_STARTS_WITH_C_EST = re.compile(r"^(?:c'est|c est|c'etait|ce sont)\b")
# "c'est quoi les horaires de la mairie ?", "c'est quand le marché ?": the presentative
# "c'est" before a question word announces the subject that follows, it refers to nothing.
_PRESENTATIVE = re.compile(
    r"^(?:c'est|c est|ce sont)\s+(?:quoi|quand|ou|combien|comment|qui|quel|quelle|quels|quelles)\b"
)

# "Où est la déchetterie ?": a definite article (or its contraction) before a noun.
_DEFINITE_NOUN = re.compile(r"(?:^|\s)(?:le|la|les|l'|du|des|au|aux)\s*([a-z][a-z-]*)")
# Nouns that only name the kind of fact asked, as the question words do: "quel est le prix ?"
# continues a question whose subject it leaves implicit.
_KIND_NOUNS_TEXT = """
horaire horaires heure heures tarif tarifs prix cout couts montant montants adresse adresses
delai delais date dates duree document documents papier papiers piece pieces condition
conditions modalite modalites demarche demarches numero contact contacts coordonnees
"""
_KIND_NOUNS = frozenset(_KIND_NOUNS_TEXT.split())


# Closed classes: an earlier term of the same class gives way to the new question's.
_CLASSES = {
    "day": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "month": "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "season": "printemps hiver automne estival hivernal",
    "time": "matin matinee midi apres-midi soir soiree nuit",
}


@lru_cache(maxsize=1)
def _analyzer() -> Analyzer:
    return make_analyzer()


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], dict[str, str]]:
    analyze = _analyzer()
    question = frozenset(t for w in QUESTION_WORDS for t in analyze(w))
    classes = {t: name for name, ws in _CLASSES.items() for w in ws.split() for t in analyze(w)}
    return question, classes


def slot(term: str) -> str | None:
    """The closed class of an analysed term ("day", "month", "season", "time", "number")."""
    if any(c.isdigit() for c in term):
        return "number"
    return _tables()[1].get(term)


def content_terms(query: Query) -> list[str]:
    """The question's own analysed terms, question words set aside."""
    question_words = _tables()[0]
    return [t for t in query.asked_terms() if t not in question_words]


def follow_up_subject(query: Query) -> frozenset[str]:
    """A follow-up's own subject: its content terms that are not of a closed class ("et la
    bibliothèque, le samedi ?" -> the bibliothèque, not the day); empty for a question that
    continues none, or that names only a day, a time, a number."""
    if not query.continues:
        return frozenset()
    return frozenset(t for t in content_terms(query) if slot(t) is None)


def continues(query: Query, previous: Query, analyze: Analyzer | None = None) -> bool:
    """Whether `query` continues `previous` (see the module's rules)."""
    if not previous.terms:
        return False
    lowered = (query.normalized or query.text).lower().replace("’", "'").strip(" ?!.,;:-")
    text = fold(lowered)
    words = text.split()
    if not words:
        return False
    n = len(content_terms(query))
    first = words[0].rstrip(",")
    if first in _STRONG_CUES and not lowered.startswith("où"):  # "ou" (or), not "où" (where)
        return n < _FULL
    if first in _WEAK_CUES or (first == "et" and len(words) > 1 and words[1] in _WEAK_CUES):
        return n <= _FEW
    refers_back = (
        first in _SUBJECT_PRONOUNS
        or (bool(_STARTS_WITH_C_EST.match(text)) and not _PRESENTATIVE.match(text))
        or bool(_OBJECT_PRONOUN.search(text))
    )
    if refers_back and n <= _FEW:
        return True
    return n <= 1 and not _names_subject(text, query, analyze or _analyzer())


def _names_subject(text: str, query: Query, analyze: Analyzer) -> bool:
    """Whether a definite noun phrase of `text` (folded) names a subject of its own: a content
    term of `query` that is neither of a closed class nor a kind of fact."""
    own = set(content_terms(query))
    for match in _DEFINITE_NOUN.finditer(text):
        noun = match.group(1)
        if noun in _KIND_NOUNS:
            continue
        if any(t in own and slot(t) is None for t in analyze(noun)):
            return True
    return False


def merge_context(
    query: Query,
    previous: Query,
    weight: float,
    known: Callable[[str], bool] | None = None,
) -> Query:
    """`query` with the terms of `previous` added at `weight` (see the module docstring).

    With `known` (whether the corpus holds a term), an earlier term the corpus does not know is
    not carried over: it can select no passage and no sentence, and would only lower the
    answer's coverage (a name, or the placeholder of a pseudonymised one, when replayed)."""
    own = {t.term for t in query.terms}
    replaced = {s for t in query.terms if t.source == "question" and (s := slot(t.term))}
    added: list[Term] = []
    seen: set[str] = set()
    for t in previous.terms:
        if t.term in own or t.term in seen or slot(t.term) in replaced:
            continue
        if known is not None and not known(t.term):
            continue
        seen.add(t.term)
        added.append(Term(t.term, round(t.weight * weight, 4), "context", t.origin))
    return Query(
        text=query.text,
        terms=(*query.terms, *added),
        normalized=query.normalized,
        continues=previous.text,
        context_text=previous.dense_text,
        corrections=query.corrections,
    )
