"""Prompt-injection screening of passages, raw HTML and user questions (OWASP LLM01).

Pure Python, no model, thousands of passages per second:

    screen(text) -> Screening                passages, metadata strings, table cells
    screen_question(text) -> Screening       user questions (`vous` addresses the assistant)
    screen_html(raw_html) -> Screening       raw HTML, hidden text included

A text is normalised into views: NFKC, casefold, accents and look-alike Cyrillic/Greek
letters folded to ASCII, invisible characters removed, letters spaced out one by one
("i g n o r e") joined, digits read as letters when they sit inside words ("1gn0r3").
Payloads smuggled in Unicode tag characters, base64, ROT13 or reversed words are decoded and
screened once more.

Rules fire on instructions aimed at a model: an imperative with a target ("ignore les
instructions précédentes", "révèle ton prompt"), a role given to an AI ("tu es désormais…",
"you are now DAN"), chat-template tokens, exfiltration links and instructions, hiding
tricks. Ordinary administrative French ("suivez les instructions du formulaire", "le rôle du
maire", "ignorer le premier courrier") matches nothing; the `vous` forms that the
administration uses weigh less than the `tu` forms and the English imperatives of injections.

Each rule has a weight w in (0, 1); the score is 1 - prod(1 - w) over the rules that fired,
and a text is flagged at THRESHOLD (0.5). `reasons` names in French the families of the
rules that fired (see REASONS).
"""

from territoria.guard.injection.hidden_html import screen_html
from territoria.guard.injection.rules import (
    R_ENCODED,
    R_EXFIL,
    R_HIDDEN,
    R_INSTRUCTION,
    R_INVISIBLE,
    R_JAILBREAK,
    R_LEAK,
    R_OBFUSCATED,
    R_ROLE,
    R_TOKENS,
    REASONS,
    THRESHOLD,
)
from territoria.guard.injection.screening import Screening, screen, screen_question

__all__ = [
    "REASONS",
    "R_ENCODED",
    "R_EXFIL",
    "R_HIDDEN",
    "R_INSTRUCTION",
    "R_INVISIBLE",
    "R_JAILBREAK",
    "R_LEAK",
    "R_OBFUSCATED",
    "R_ROLE",
    "R_TOKENS",
    "THRESHOLD",
    "Screening",
    "screen",
    "screen_html",
    "screen_question",
]
