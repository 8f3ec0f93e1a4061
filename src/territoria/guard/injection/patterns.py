"""Character classes, folding tables and markup patterns of the injection screen."""

from __future__ import annotations

import re

# --- characters ---------------------------------------------------------------------------

ZERO_WIDTH = re.compile(
    "[\u200b\u200c\u200d\u2060-\u2064\u180e\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\ufeff]"
)
ZERO_WIDTH_IN_WORD = re.compile(
    "(?<=\\w)[\u200b\u200c\u200d\u2060-\u2064\u180e\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5"
    "\ufeff]+(?=\\w)"
)
TAGS = re.compile("[\U000e0000-\U000e007f]")  # "ASCII smuggling": invisible copies of ASCII
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
INVISIBLE = re.compile(
    "[\u200b\u200c\u200d\u2060-\u2064\u180e\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\ufeff"
    "\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]"
)
GREEK_CYRILLIC = re.compile("[\u0370-\u04ff]")
MIXED_SCRIPT = re.compile(r"[a-z][\u0370-\u04ff]|[\u0370-\u04ff][a-z]")
NUMERIC_ENTITY = re.compile(r"&#x?[0-9a-f]+;", re.IGNORECASE)


def _special_map() -> dict[str, str]:
    """Characters that NFKD does not reduce to ASCII but that stand for ASCII letters."""
    mapping = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ß": "ss", "ı": "i"}
    lookalikes = "аaвbеeкkмmнhоoрpсcтtуyхxіiјjѕsԁdһhӏlԛqԝwɡgαaβbεeιiκkνvοoρpτtυuχx"
    mapping.update(zip(lookalikes[::2], lookalikes[1::2], strict=True))
    for chars, ascii_ in (("‘’‚‛′`´ʼ", "'"), ("“”„‟″«»", '"'), ("‐‑‒–—―−", "-")):
        mapping.update(dict.fromkeys(chars, ascii_))
    return mapping


SPECIAL_MAP = _special_map()
SPECIAL = re.compile("[" + re.escape("".join(SPECIAL_MAP)) + "]")
# ASCII -> words view: letters and digits kept, everything else a space
WORD_TABLE = str.maketrans({chr(i): chr(i) if chr(i).isalnum() else " " for i in range(128)})

# Letters spaced out one by one ("i g n o r e", "i.g.n.o.r.e"): 3+ letters, or 5+ to trigger.
SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z0-9][ .\-_*|+,/\\~]){2,}[a-z0-9](?![a-z0-9])")
# letters -> "x", the rest -> " ": five letters spaced out in a row read " x x x x x "
SPACED_TABLE = str.maketrans({chr(i): "x" if chr(i).isalnum() else " " for i in range(128)})
SPACED_RUN = " x x x x x "
LEET_HINT = re.compile(r"[013457@$](?:(?<=[a-z].)(?=[a-z])|[a-z]{2,}[013457])")
LEET = str.maketrans("013457@$", "oieastas")
BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,}={0,2}")
ROT13_HINTS = frozenset(
    [
        "vtaber",
        "vafgehpgvbaf",
        "cerivbhf",
        "cebzcg",
        "flfgrz",
        "bhoyvr",
        "pbafvtarf",
        "cerprqragrf",
        "eriryr",
        "qvfertneq",
        "cebzcgf",
        "vafgehpgvba",
    ]
)
REVERSED_HINTS = frozenset(
    [
        "snoitcurtsni",
        "suoiverp",
        "erongi",
        "tpmorp",
        "metsys",
        "eilbuo",
        "sengisnoc",
        "setnedecerp",
        "elever",
        "dragersid",
        "sezelbuo",
        "zerongi",
    ]
)

# --- chat templates and markup (on the folded view, punctuation kept) ---------------------

_ROLE_WORDS = ("instruction", "system", "response", "input", "human", "assistant", "user", "prompt")

# (weight, substring groups: one of each must be present, pattern)
TOKEN_RULES: tuple[tuple[float, tuple[tuple[str, ...], ...], re.Pattern[str]], ...] = (
    (0.9, (("<|",),), re.compile(r"<\|\s*[a-z_]{2,30}\s*\|>")),
    (0.8, (("inst]",),), re.compile(r"\[/?inst\]")),
    (0.9, (("<<",),), re.compile(r"<</?sys>>")),
    (0.9, (("_of_turn",),), re.compile(r"</?(?:start|end)_of_turn>")),
    (0.9, (("](#",),), re.compile(r"\[(?:system|assistant|user)\]\s*\(#")),
    (0.7, (('"role"',),), re.compile(r"\"role\"\s*:\s*\"(?:system|assistant|user|developer)\"")),
    (
        0.5,
        (("<",), (*_ROLE_WORDS, "sys", "tool_call")),
        re.compile(
            r"</?(?:system|system_prompt|sys|instructions?|assistant|prompt|im_start|tool_call|"
            r"user_input)>"
        ),
    ),
    (
        0.7,
        (("##",), _ROLE_WORDS),
        re.compile(
            r"(?m)^[ \t>*]*#{2,}\s*(?:instructions?|system(?: prompt)?|response|input|human|"
            r"assistant|user|prompt)\s*:"
        ),
    ),
    (
        0.45,
        (("###",), ("instruction", "system", "response")),
        re.compile(r"(?m)^[ \t>*]*###\s*(?:instruction|system|response)\s*$"),
    ),
)
CHAT_ROLE = re.compile(
    r"(?m)^[ \t>*\-]*(system|systeme|user|human|utilisateur|assistant|ai|ia|bot|gpt|chatgpt|"
    r"model|modele)\s*:"
)
CHAT_ROLE_HINTS = ("system", "user", "human", "utilisateur")
ASSISTANT_ROLES = frozenset(["assistant", "ai", "ia", "bot", "gpt", "chatgpt", "model", "modele"])
SPEAKER_ROLES = frozenset(["system", "systeme", "user", "human", "utilisateur"])
DELIMITER = re.compile(
    r"(?:-{3,}|={3,}|\[|<<)\s*(?:end|fin) (?:of |du |de la |de l )?(?:document|context|contexte|"
    r"user input|prompt|system prompt|instructions|data|donnees|texte)\s*(?:-{3,}|={3,}|\]|>>)"
)
DELIMITER_HINTS = (("---", "===", "]", ">>"), ("end", "fin "))

# --- links ----------------------------------------------------------------------------------

URL = re.compile(r"https?://[^\s)\]\"'`]+")
IMAGE_BEFORE = re.compile(r"!\[[^\]\n]{0,200}\]\(\s*<?$")
PLACEHOLDER = re.compile(
    r"\{|\}|%7b|%7d|\$\(|\$[a-z_]{3,}|<[a-z_ ]{3,30}>|%3c[a-z_]+%3e|\[[a-z_ ]{3,30}\]"
)
DATA_PARAM = re.compile(
    r"[?&#/](?:[a-z_]*=)?[^&\s]*(?:insert|conversation|history|historique|secret|password|passwd|"
    r"mot_?de_?passe|mdp|token|api_?key|cle_?api|prompt|user_?data|donnees|chat|cookie|"
    r"credential|identifiant|exfil|leak|payload|memory|memoire|resume|summary)"
)
TRAILING_DATA = re.compile(
    r"conversation|chat|transcript|history|historique|echanges|question de l.utilisateur|"
    r"user.s question|messages|the user (?:typed|wrote|said|asked)|l.utilisateur a (?:ecrit|tape|"
    r"dit|demande)"
)
EXFIL_HOSTS = re.compile(
    r"webhook\.site|requestbin|pipedream\.net|ngrok|burpcollaborator|interact\.sh|\.oast\.|"
    r"canarytokens|beeceptor|hookbin|requestcatcher"
)
