"""Chat and SMS abbreviations of French, spelled out before a question is analysed.

These are the conventions of written French chat ("kel", "koi", "kan", "cb", "pk", "stp",
"jsp"...), mostly question words and grammatical words: they carry what a question asks
("cb" = combien, an amount; "kan" = quand, a date) although the corpus never contains them.
The table holds general chat shorthand only, no term of any corpus: words of a corpus's own
subject ("asso", "biblio") are completed from the corpus vocabulary by `spelling.Speller`.
"""

from __future__ import annotations

import re

# Lowercase, accent-free forms as typed -> their written French.
ABBREVIATIONS: dict[str, str] = {
    "kel": "quel", "kels": "quels", "kelle": "quelle", "kelles": "quelles",
    "koi": "quoi", "kwa": "quoi", "kan": "quand", "qd": "quand", "qand": "quand",
    "cb": "combien", "cbien": "combien", "combi1": "combien",
    "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
    "ki": "qui", "ke": "que", "kom": "comment", "komen": "comment", "cmt": "comment",
    "pr": "pour", "ds": "dans", "tt": "tout", "tte": "toute", "tts": "tous", "ttes": "toutes",
    "tjs": "toujours", "tjrs": "toujours", "bcp": "beaucoup", "dc": "donc",
    "ac": "avec", "avc": "avec", "vs": "vous", "ns": "nous", "jms": "jamais",
    "stp": "", "svp": "", "mrc": "merci", "mci": "merci",  # politeness: no subject
    "bjr": "bonjour", "bsr": "bonsoir", "slt": "salut",
    "jsp": "je ne sais pas", "chui": "je suis", "jsuis": "je suis", "jss": "je suis",
    "jveux": "je veux", "jpeux": "je peux", "jdois": "je dois", "jai": "j'ai",
    "c": "c'est", "ct": "c'était", "ya": "il y a", "yat": "y a-t-il", "auj": "aujourd'hui",
    "ajd": "aujourd'hui", "mtn": "maintenant", "dmn": "demain", "rdv": "rendez-vous",
    "pb": "problème", "pbm": "problème", "qqch": "quelque chose", "qqn": "quelqu'un",
    "qq": "quelques", "nn": "non", "bcq": "beaucoup", "dsl": "désolé",
}  # fmt: skip

# A word of letters, not glued to an apostrophe ("c'est" is not the shorthand "c").
_WORD = re.compile(r"(?<!['’\w])[^\W\d_]+(?!['’\w])", re.UNICODE)


def expand(text: str) -> str:
    """`text` with chat abbreviations replaced by their words. Upper-case forms are left alone
    ("CB" is a bank card, "PV" a fine): only what is typed in lower case is chat shorthand."""

    def replace(match: re.Match[str]) -> str:
        word = match.group()
        if not word.islower():
            return word
        return ABBREVIATIONS.get(word, word)

    return " ".join(_WORD.sub(replace, text).split())
