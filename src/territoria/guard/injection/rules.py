"""Vocabulary of the injection screen's word rules: reasons, the `Rule` type, shared pieces.

Word rules (`instruction_rules`, `role_rules`) run on the `words` view: lowercase ASCII words
separated by single spaces, padded with one space at each end. `{ai}`, `{ign_tu}`... in a
pattern are pieces from `_PARTS`. Each rule names anchor groups ("a b c / d e"): its pattern
runs only when the text holds a token of every group, which keeps screening fast; the first
group should be the rarest. A `compact` twin of each pattern (spaces optional) runs on letters
that were spaced out one by one.

Weights follow one scale: 0.9 unambiguous ("ignore all previous instructions"), 0.6-0.8 an
instruction or role aimed at a model, 0.3-0.45 a hint that needs a second signal (the `vous`
forms of ordinary French administration, a mention of "system prompt"). Question weights
apply to user questions, where `vous` addresses the assistant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THRESHOLD = 0.5

R_INSTRUCTION = "consigne adressée à un modèle"
R_ROLE = "jeu de rôle"
R_JAILBREAK = "contournement des garde-fous (jailbreak)"
R_LEAK = "demande de divulgation du prompt"
R_TOKENS = "balises de conversation d'un modèle"
R_EXFIL = "lien d'exfiltration"
R_ENCODED = "consigne encodée"
R_INVISIBLE = "caractères invisibles"
R_HIDDEN = "texte caché"
R_OBFUSCATED = "texte obfusqué"
REASONS = (
    R_INSTRUCTION,
    R_ROLE,
    R_JAILBREAK,
    R_LEAK,
    R_TOKENS,
    R_EXFIL,
    R_ENCODED,
    R_INVISIBLE,
    R_HIDDEN,
    R_OBFUSCATED,
)


@dataclass(frozen=True)
class Rule:
    reason: str
    weight: float
    question_weight: float
    anchors: tuple[frozenset[str], ...]  # every group must share a token with the text
    pattern: re.Pattern[str]
    compact: re.Pattern[str]  # spaces optional, for letters spaced out one by one


_PARTS = {
    # who an injection talks to; "assistant maternel" and the like are people, not models
    "ai": r"(?:ia|ai|llm|llms|chatbot|chatgpt|gpt|bot|model|modele(?: de (?:langage|langue|ia|"
    r"l ia|intelligence artificielle))?|language model|intelligence artificielle|agent (?:ia|"
    r"ai|conversationnel)|robot conversationnel|assistants?(?! (?:maternel|familial|social|de |"
    r"d |medical|parlementaire|technique|administratif|juridique|pedagogique|sanitaire|"
    r"personnel|territorial|specialise|educatif|commercial|comptable))|assistante (?:ia|"
    r"virtuelle|numerique|conversationnelle))",
    "persona": r"(?:personnage|pirate|hacker|dan|jailbr\w*|sans (?:limite|restriction|filtre|"
    r"censure|regle|contrainte)s?|libre de|non censure\w*|malveillant\w*|diabolique|rebelle|"
    r"affranchi\w*|debride\w*|libere\w*|unrestricted|unfiltered|uncensored|evil|rogue)",
    "ign_en": r"(?:ignore|ignoring|disregard|disregarding|forget|override|overlook|bypass|"
    r"abandon|discard|neglect|do not follow|don t follow|stop following|do not obey|don t obey|"
    r"set aside|put aside|throw away|throw out)",
    "prev_en": r"(?:previous|prior|above|earlier|preceding|former|initial|original|old|system|"
    r"existing|foregoing|given|preset|default|safety|ethical)",
    "obj_en": r"(?:instructions?|prompts?|directions?|directives?|rules?|guidelines?|commands?|"
    r"orders?|context|messages?|constraints|restrictions|programming|training|polic(?:y|ies)|"
    r"guardrails|filters|guidance)",
    "ign_tu": r"(?:ignore|oublie|neglige|ecarte|outrepasse|contourne|laisse tomber|"
    r"fais abstraction d\w*|ne tiens (?:plus |pas |plus jamais )?compte d\w*|"
    r"ne (?:suis|respecte|applique|ecoute) (?:plus|pas))",
    "ign_vous": r"(?:ignorez|oubliez|negligez|ecartez|outrepassez|contournez|laissez tomber|"
    r"faites abstraction d\w*|ne tenez (?:plus |pas )?compte d\w*|ignorer|oublier|"
    r"ne (?:suivez|respectez|appliquez) (?:plus|pas))",
    "det_fr": r"(?: (?:toutes?|tous|tout|les|la|le|l|tes|ta|ton|vos|votre|des|de|du|ces|ce|cet|"
    r"cette|ses|sa|son|d)){0,3}",
    "obj_fr": r"(?:instructions?|consignes?|directives?|regles?|prompts?|ordres?|indications?|"
    r"contraintes?|restrictions?|limitations?|programmation|commandes?|garde fous|filtres?)",
    "prev_fr": r"(?:precedente?s?|anterieure?s?|ci dessus|au dessus|plus haut|initiale?s?|"
    r"d origine|originale?s?|du systeme|systeme|de depart|habituelles?|ethiques?|"
    r"de moderation|qu on t a \w+|que l on t a \w+|t a t on \w+|que tu as (?:recu|eu)\w*|"
    r"recue?s? (?:avant|auparavant|precedemment)"
    r"|donnees? (?:avant|auparavant|plus haut|precedemment))",
    "leak_en": r"(?:reveal|show|print|display|output|repeat|leak|dump|tell|give|share|expose|"
    r"disclose|return|write out|spell out|recite|list|paste|copy|provide)",
    "leak_fr": r"(?:revele|reveles|reveler|montre|montrer|affiche|afficher|donne|donner|ecris|"
    r"ecrire|recite|reciter|repete|repeter|imprime|imprimer|divulgue|divulguer|communique|"
    r"partage|liste|copie|dis|indique|fournis|recopie|cite|restitue|devoile|devoiler|expose|"
    r"reproduis|reproduire|transcris|recopier|lister|copier|dire|indiquer|fournir|citer|"
    r"restituer|communiquer|partager|transcrire)",
    "leak_vous": r"(?:revelez|montrez|affichez|donnez|ecrivez|recitez|repetez|imprimez|"
    r"divulguez|communiquez|partagez|listez|copiez|dites|indiquez|fournissez|recopiez|citez|"
    r"restituez|devoilez|exposez|reproduisez|transcrivez)",
    "secret_en": r"(?:system prompt|prompt (?:you were|you have been) \w+|prompt\b(?! "
    r"(?:payment|reply|response|delivery|attention))|initial instructions|original instructions|"
    r"hidden instructions|secret instructions|system instructions|system message|"
    r"developer message|pre ?prompt|initial prompt|original prompt|hidden prompt|"
    r"instructions (?:above|you (?:were|have been) given|given to you))",
    "mine_fr": r"(?:prompt|instructions|consignes|regles|directives|configuration|parametrage|"
    r"programmation|message systeme|invite systeme|regles de fonctionnement)",
    "qual_fr": r"(?:systeme|du systeme|initiales?|d origine|originales?|cachees?|secretes?|"
    r"de depart|qu on t a \w+|que l on t a \w+|t a t on \w+|que tu as recu\w*)",
    "data_en": r"(?:conversation|chat(?: history)?|history|messages|prompt|system prompt|"
    r"user data|user s (?:data|question|message|email|name)|personal data|credentials|"
    r"passwords?|api keys?|keys|tokens?|secrets?|cookies?|session|user question|query|summary|"
    r"email address|data)",
    # what a model holds, not what a form sends ("vos données personnelles" is ordinary)
    "data_fr": r"(?:conversation|historique|echanges?|messages? (?:precedents?|de l utilisateur)"
    r"|prompt|consignes|(?:donnees|informations|identifiants|mots? de passe|adresse e ?mail|"
    r"question|coordonnees) (?:de l utilisateur|de l usager|des usagers|de la conversation)|"
    r"question posee|(?:sa|ses|son) (?:questions?|demandes?|messages?)|cles? (?:d )?api|"
    r"jetons?|secrets?|cookies?)",
    # "vos consignes de sécurité" asks about a topic, "vos consignes ?" about the assistant
    "topic": r"(?! (?:de|d|du|des|pour|concernant|sur|en|relatives?|a propos|au|aux|a|quand|"
    r"lors|si|applicables?))",
    "sink": r"(?:https?|www|url|urls|link|lien|webhook|endpoint|server|serveur|image|"
    r"query string|parametre|adresse (?:http|https|web|suivante|url)|domaine)",
}

# Anchor groups (tokens of the words view) shared by the rule tables.
A_AI = "ia ai llm llms chatbot chatgpt gpt bot model modele language intelligence agent robot "
A_AI += "assistant assistants assistante"
A_IGN_EN = "ignore ignoring disregard disregarding forget override overlook bypass abandon discard "
A_IGN_EN += "neglect follow following obey aside away out"
A_PREV_EN = "previous prior above earlier preceding former initial original old system existing "
A_PREV_EN += "foregoing given preset default safety ethical"
A_IGN_TU = "ignore oublie neglige ecarte outrepasse contourne tomber abstraction tiens suis "
A_IGN_TU += "respecte applique ecoute"
A_IGN_VOUS = "ignorez oubliez negligez ecartez outrepassez contournez tomber abstraction tenez "
A_IGN_VOUS += "ignorer oublier suivez respectez appliquez"
A_PREV_FR = "precedente precedentes precedent precedents anterieure anterieures anterieur dessus "
A_PREV_FR += "haut initiale initiales initial origine originale originales systeme depart "
A_PREV_FR += "habituelles habituelle ethiques ethique moderation on tu recues recue recu donnees "
A_PREV_FR += "donnee eu"
A_LEAK_EN = "reveal show print display output repeat leak dump tell give share expose disclose "
A_LEAK_EN += "return write spell recite list paste copy provide"
A_LEAK_FR = "revele reveles reveler montre montrer affiche afficher donne donner ecris ecrire "
A_LEAK_FR += "recite reciter repete repeter imprime imprimer divulgue divulguer communique partage "
A_LEAK_FR += "liste copie dis indique fournis recopie cite restitue devoile devoiler expose "
A_LEAK_FR += "reproduis reproduire transcris recopier lister copier dire indiquer fournir citer "
A_LEAK_FR += "restituer communiquer partager transcrire"
A_LEAK_VOUS = "revelez montrez affichez donnez ecrivez recitez repetez imprimez divulguez "
A_LEAK_VOUS += "communiquez partagez listez copiez dites indiquez fournissez recopiez citez "
A_LEAK_VOUS += "restituez devoilez exposez reproduisez transcrivez"
A_MINE = "prompt instructions consignes regles directives configuration parametrage "
A_MINE += "programmation systeme invite fonctionnement"
A_SECRET_EN = "prompt preprompt pre instructions message"
A_NOW = "desormais maintenant present dorenavant"
A_MODES = "developer god unrestricted jailbreak jailbroken evil unfiltered uncensored dan opposite "
A_MODES += "developpeur dieu censure debride restriction restrictions filtre filtres limite limites"
A_QUAL = "prompt systeme initiale initiales origine originale originales cachee cachees secrete "
A_QUAL += "secretes depart on tu"
A_DATA_FR = "conversation historique echanges echange messages message prompt consignes "
A_DATA_FR += (
    "utilisateur usager usagers posee cles cle jetons jeton secrets secret cookies cookie question "
)
A_DATA_FR += "questions demande demandes"


def rule(reason: str, weight: float, anchors: str, pattern: str, question: float = 0.0) -> Rule:
    body = pattern.format(**_PARTS)
    return Rule(
        reason=reason,
        weight=weight,
        question_weight=max(weight, question),
        anchors=tuple(frozenset(group.split()) for group in anchors.split("/")),
        pattern=re.compile(body),
        compact=re.compile(body.replace(" ", " ?")),
    )
