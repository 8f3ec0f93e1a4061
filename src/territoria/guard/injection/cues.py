"""Co-occurring cues: a second net under the phrase rules, for paraphrased injections.

A paraphrase escapes the phrase rules ("mets de côté tes règles de prudence") but keeps the
ingredients of an injection: it addresses the model (`tu`, `you`, "l'IA", "to the chatbot"),
talks about the model's own instructions, and asks it to drop them, reveal them, answer in a
given way or take on a role. Cues are token sets and phrases of the words view; each
combination of cues met inside one window (a sentence and the next) adds a moderate weight.
Administrative French addresses its reader with `vous` and never talks to a model, so it
rarely meets the first cue.
"""

from __future__ import annotations

import re

from territoria.guard.injection.rules import R_INSTRUCTION, R_JAILBREAK, R_LEAK, R_ROLE


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# ASCII folded text -> words separated by spaces, sentences by newlines
_SENTENCE_TABLE = str.maketrans(
    {
        chr(i): chr(i) if chr(i).isalnum() else "\n" if chr(i) in ".!?;\n" else " "
        for i in range(128)
    }
)

TU = _set("tu toi ton ta tes te")
YOU = _set("you your yourself yours")
AI = _set(
    "ia ai llm llms chatbot chatgpt gpt bot bots assistant model models robot conversationnel"
)
AI_PHRASES = (
    " intelligence artificielle ",
    " modele de langage ",
    " modeles de langage ",
    " modele de langue ",
    " modele d ia ",
    " modeles d ia ",
    " modele ia ",
)
# "assistant maternel", "modèle de lettre", "j'ai": people, templates and verbs, not models
_NOT_AI = re.compile(
    r"\b(?:assistants?(?: e| es)?(?: s)? (?:maternel|familial|social|medical|parlementaire|"
    r"technique|administratif|juridique|pedagogique|sanitaire|personnel|territorial|educatif|"
    r"d education|de service|de vie|de direction|de prevention|de gestion|d enseignement|"
    r"de conservation|de communication|de securite|de justice)|modeles? (?:de (?:lettre|"
    r"courrier|formulaire|contrat|document|statuts|attestation|declaration)|type)|j ai)\b"
)
# addressing a model explicitly: "à toi qui lis", "attention language model", "to the chatbot"
_ADDRESS = re.compile(
    r"\b(?:toi qui (?:lis|analyses|traites|resumes)|you who (?:read|process)|(?:destinee?s?|"
    r"reservee?s?) aux?|a l (?:attention|intention) d\w*|to the|for the|to any|for any|to all|"
    r"dear|cher|chere|attention|nota bene|nb|ps|p s|warning|avertissement|pour l|pour les|"
    r"a destination d\w*)(?: \w+){0,2} (?:ia|ai|llm|chatbot|chatgpt|gpt|bot|language model|"
    r"modele de langage|assistants? (?:ia|ai|virtuel|numerique|conversationnel)|ai assistant|"
    r"robot conversationnel|agent conversationnel|intelligence artificielle|outils? d ia|"
    r"systemes? automatiques?|automated systems?)\b|\btoi qui lis\b|\b(?:attention|cher|"
    r"chere|dear|hey|hi|hello|bonjour) (?:l )?assistant\b"
)
META = _set(
    "safety layer securite instructions instruction instructed consignes consigne regles "
    "directives directive prompt "
    "prompts guidelines guidance rules system systeme restrictions restriction filtres filters "
    "policy policies programmation programming fonctionnement developers developpeurs createurs "
    "creators guardrails garde told context contexte configuration"
)
# the model's own instructions: "tes règles", "your guidelines", "what you were told"
_OWNED_META = re.compile(
    r"\b(?:tes|ton|ta|your)(?: \w+)? (?:instructions?|consignes?|regles|directives|prompt|"
    r"guidelines|rules|restrictions|filtres|filters|programmation|programming|garde fous|"
    r"guardrails|polic(?:y|ies)|principes|limites|fonctionnement|createurs|concepteurs|"
    r"developpeurs|developers|creators|configuration|parametres|settings|memoire|memory|"
    r"limitations|operator|operateur|setup|safety \w+)\b|\b(?:given|provided|told) to you\b|"
    r"\b(?:rules|instructions|guidelines) you (?:operate|work|function|run) (?:under|by|with)\b|"
    r"\btold you\b|"
    r"\byou (?:were|ve been|have been|got) (?:instructed|told|given|programmed|loaded|"
    r"initiali[sz]ed|configured|started|set up)\b|\b(?:instructions|rules|guidelines|consignes|"
    r"regles) (?:you (?:got|received|were given|have)|que tu as|qu on t a)\b|\b(?:on t a|"
    r"t a t on) (?:dit|donne|demande|impose|fixe)"
)
OVERRIDE = _set(
    "ignore ignores ignorer ignorez oublie oublies disregard forget override outdated obsolete "
    "obsoletes caduque caduques instead bypass contourne desactive desactives desactivees neglige "
    "outrepasse freed libere liberee quitte supersede supersedes superseded efface effacer "
    "stop cesse levees levee leves supprimees remplacent replaces replace disabled disable lifted "
    "suspended suspendues"
)
OVERRIDE_PHRASES = (
    " mets de cote ",
    " set aside ",
    " put aside ",
    " sans tenir compte ",
    " ne tiens pas compte ",
    " ne tiens plus compte ",
    " no longer ",
    " n obeis plus ",
    " n ecoute plus ",
    " ne respecte plus ",
    " au lieu de ",
    " a la place ",
    " quoi que dise ",
    " whatever you ",
    " freed from ",
    " libere de ",
    " plus valables ",
    " ne valent plus ",
    " ne crois pas ",
    " don t believe ",
    " do not believe ",
    " turned off ",
    " switched off ",
    " is off ",
    " arrete de suivre ",
    " arrete d obeir ",
    " arrete de respecter ",
    " arrete d appliquer ",
    " arrete de citer ",
)
ANSWER = _set(
    "reponds repondre reponse reponses reply answer answers respond say dis affirme output ecris "
    "presentee presente raconte claim tell obeis obey"
)
# imperatives an injection gives (second person, or English); no third-person look-alikes
IMPERATIVE = _set(
    "reponds dis ecris recommande parle deviens crois obeis insiste mentionne say reply respond "
    "answer write tell output recommend stop pretend obey mention claim insist comply conseille "
    "communique glisse inclure inclus"
)
IMPERATIVE_VOUS = _set(
    "repondez dites ecrivez recommandez considerez citez affichez mentionnez presentez indiquez "
    "ignorez oubliez"
)
ALWAYS = (
    " desormais ",
    " toujours ",
    " chaque fois ",
    " uniquement ",
    " seulement ",
    " a partir de maintenant ",
    " from now on ",
    " always ",
    " every time ",
    " only ",
)
LEAK = _set(
    "revele reveal affiche montre enumere liste paste print repeat recopie cite show display "
    "divulgue recite dump leak copy partage share output ecris list tell"
)
PERSONA_PHRASES = (
    " tu es ",
    " you are ",
    " you re ",
    " tu joues ",
    " tu t appelles ",
    " tu incarnes ",
    " you play ",
    " your name is ",
    " ton nom est ",
    " switch persona",
    " deviens ",
    " become ",
    " personnalite ",
    " personality ",
)
KEEP_ROLE_PHRASES = (
    " ce role ",
    " ce personnage ",
    " this role ",
    " this character ",
    " this persona ",
    " in character ",
    " quitte jamais ",
    " quitte pas ",
    " ne sors ",
)
NO_RULES = re.compile(
    r"\b(?:pretend|imagine|supposons|imaginons|admettons|fais comme si|"
    r"let s say)(?: \w+){0,5} (?:no|aucune?|pas de|plus de|without|sans) (?:rules|restrictions|"
    r"limits|filters|guidelines|guardrails|safety|regles?|restrictions?|limites?|filtres?|"
    r"censure|consignes?|garde fous?|limitations?)\b"
)
# "in your answer, add a link": planting content in the model's answers
_PLANT = re.compile(
    r"\b(?:dans|a la fin de|en bas de|au debut de) (?:ta|chaque|tes|toutes tes) reponses?\b|"
    r"\b(?:in|at the end of|at the start of|to) (?:your|every|each|all your) (?:answers?|"
    r"repl(?:y|ies)|responses?)\b"
)
_PLANTED = _set(
    "lien link http https url image phrase sentence texte text mention publicite advert message"
)
HIDDEN_MARKERS = (
    " consigne cachee ",
    " consignes cachees ",
    " instruction cachee ",
    " hidden instruction",
    " secret instruction",
    " reserve aux modeles ",
    " reserve a l ia ",
    " reserve aux ia ",
    " for ai only ",
    " ai only ",
    " only for ai ",
)
# one of these tokens must be in the text for the cues to be looked at (keeps screening fast)
ENTRY = TU | YOU | AI
ENTRY |= _set("consigne consignes instruction hidden reserve pretend imagine intelligence langage")
ENTRY |= _set("langue automatiques automated supposons imaginons admettons")


def check_cues(folded: str, tokens: list[str]) -> list[tuple[str, str, float]]:
    """(key, reason, weight) for each cue combination met in a window of the text."""
    if ENTRY.isdisjoint(tokens):
        return []
    sentences = [" ".join(part.split()) for part in folded.translate(_SENTENCE_TABLE).split("\n")]
    sentences = [f" {sentence} " for sentence in sentences if sentence]
    found: dict[str, tuple[str, float]] = {}
    for index, sentence in enumerate(sentences):
        window = sentence + sentences[index + 1] if index + 1 < len(sentences) else sentence
        for key, reason, weight in _combinations(window):
            found.setdefault(key, (reason, weight))
    return [(key, reason, weight) for key, (reason, weight) in found.items()]


def _combinations(window: str) -> list[tuple[str, str, float]]:
    present = set(window.split())
    second_person = not TU.isdisjoint(present) or not YOU.isdisjoint(present)
    ai = (not AI.isdisjoint(present) and not _is_only_people(window)) or any(
        phrase in window for phrase in AI_PHRASES
    )
    addressed = _ADDRESS.search(window) is not None
    owned_meta = second_person and _OWNED_META.search(window) is not None
    meta = not META.isdisjoint(present)
    override = not OVERRIDE.isdisjoint(present) or any(p in window for p in OVERRIDE_PHRASES)
    imperative = not IMPERATIVE.isdisjoint(present)
    out: list[tuple[str, str, float]] = []
    if (owned_meta or (ai and meta)) and override:
        out.append(("cue-override", R_INSTRUCTION, 0.6))
    if ai and override and not ANSWER.isdisjoint(present):
        out.append(("cue-ai-override", R_INSTRUCTION, 0.5))
    if addressed and (imperative or not IMPERATIVE_VOUS.isdisjoint(present)):
        out.append(("cue-address", R_INSTRUCTION, 0.6))
    if not TU.isdisjoint(present) and "reponds" in present and any(a in window for a in ALWAYS):
        out.append(("cue-always", R_INSTRUCTION, 0.55))
    if owned_meta and not LEAK.isdisjoint(present):
        out.append(("cue-leak", R_LEAK, 0.55))
    if any(phrase in window for phrase in PERSONA_PHRASES) and (
        ai or any(phrase in window for phrase in KEEP_ROLE_PHRASES)
    ):
        out.append(("cue-persona", R_ROLE, 0.5))
    if _PLANT.search(window) and not _PLANTED.isdisjoint(present) and imperative:
        out.append(("cue-plant", R_INSTRUCTION, 0.55))
    if NO_RULES.search(window):
        out.append(("cue-no-rules", R_JAILBREAK, 0.6))
    if any(marker in window for marker in HIDDEN_MARKERS) and (imperative or ai):
        out.append(("cue-hidden", R_INSTRUCTION, 0.6))
    return out


def _is_only_people(window: str) -> bool:
    """True when every AI-looking word is a person, a template or a verb ("j'ai")."""
    if not _NOT_AI.search(window):
        return False
    return AI.isdisjoint(_NOT_AI.sub(" ", window).split())
