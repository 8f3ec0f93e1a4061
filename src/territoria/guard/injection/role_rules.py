"""Word rules for roles and personas given to the model, jailbreak phrasing and requests
for the hidden prompt.
"""

from __future__ import annotations

from territoria.guard.injection.rules import (
    A_AI,
    A_LEAK_EN,
    A_LEAK_FR,
    A_LEAK_VOUS,
    A_MINE,
    A_MODES,
    A_NOW,
    A_QUAL,
    A_SECRET_EN,
    R_JAILBREAK,
    R_LEAK,
    R_ROLE,
    Rule,
    rule,
)

_R, _J, _L = R_ROLE, R_JAILBREAK, R_LEAK

ROLE_RULES: tuple[Rule, ...] = (
    # --- a role or persona given to the model
    rule(
        _R,
        0.45,
        f"{A_NOW} / tu vous",
        r"\b(?:tu es|vous etes) (?:desormais|maintenant|a present|dorenavant) (?:un|une|le|la|l)\b",
        0.7,
    ),
    rule(
        _R,
        0.85,
        f"{A_NOW} / tu vous",
        r"\b(?:tu es|vous etes|tu deviens|vous devenez) (?:desormais |maintenant |a present "
        r"|dorenavant )(?:\w+ ){{0,4}}(?:{ai}|{persona})\b",
    ),
    rule(
        _R,
        0.8,
        f"es etes / plus / {A_AI} lie limite limitee soumis soumise tenu tenue",
        r"\b(?:tu n es|vous n etes) (?:plus|pas) (?:un |une |l |le |la )?(?:{ai}\b|(?:lie|limite|"
        r"soumis|tenu)e? (?:par|a|aux) (?:tes|vos|les|aucune) (?:regles|consignes|instructions|"
        r"restrictions|directives|politiques))",
    ),
    rule(
        _R,
        0.7,
        "now / you",
        r"\byou are now (?:an?|the|my|in|going|no|free|dan|called|named|playing|acting|"
        r"unrestricted|jailbroken)\b",
    ),
    rule(
        _R,
        0.8,
        "longer / you",
        r"\byou(?: are| re) no longer (?:an? |the |your )?(?:\w+ )?(?:ai|assistant|chatgpt|"
        r"language model|helper|chatbot|bot|model|bound|restricted|limited|required)\b",
    ),
    rule(_R, 0.6, "pretend", r"\bpretend (?:to be|you are|you re|that you|you have)\b"),
    rule(
        _R,
        0.7,
        "act",
        r"\b(?:i want you to|you will|you must|you shall|you should|please|now|you are to) act "
        r"as\b|\bact as (?:if you were|though you were|an? (?:unrestricted|unfiltered|uncensored|"
        r"evil|jailbroken|rogue|different)|dan)\b",
    ),
    rule(_R, 0.35, "act", r"^ act as\b"),
    rule(
        _R,
        0.6,
        "roleplay play let",
        r"\b(?:role ?play|roleplay)(?:ing)? (?:as|with me)\b|\blet s (?:role ?play|roleplay|"
        r"play a game|pretend)\b",
    ),
    rule(
        _R,
        0.7,
        "play take assume new / role persona character",
        r"\byou (?:will |shall |must )?(?:now )?(?:play|take on|assume) the (?:role|persona|"
        r"character) of\b|\byour new (?:role|persona|character|task|instructions|goal|purpose|"
        r"name)\b",
    ),
    rule(_R, 0.45, "imagine", r"\bimagine (?:that )?you (?:are|re|were|have)\b"),
    rule(
        _R,
        0.7,
        "tu",
        r"\b(?:je veux que tu|tu vas|tu dois|tu devras|maintenant tu|desormais tu|dorenavant tu) "
        r"(?:maintenant |desormais |dorenavant |a present |donc )?(?:jouer (?:le|un) role|"
        r"joues (?:le|un) role|incarner|incarnes|agir comme|agisses "
        r"comme|te comporter|te comportes|faire semblant|fasses semblant|simuler|simules|imiter|"
        r"imites|endosser|endosses|prendre le role|prennes le role|te faire passer|te fasses "
        r"passer|parler comme|parles comme|repondre comme|repondes comme)",
    ),
    rule(
        _R,
        0.3,
        "joue jouez incarne incarnez",
        r"\b(?:joue|jouez|incarne|incarnez) (?:le role|un role|le personnage) d",
    ),
    rule(_R, 0.6, "semblant", r"\bfais semblant (?:d etre|que tu|de)\b"),
    rule(
        _R,
        0.55,
        "imagine imaginons",
        r"\b(?:imagine|imaginons) que tu (?:es|n es|n as|n avais|etais|peux|pouvais|sois)\b",
    ),
    rule(
        _R,
        0.55,
        "agis comporte",
        r"\b(?:agis (?:comme(?: si tu| un| une| le| la| l)|en tant qu)|comporte toi comme)\b",
    ),
    rule(_R, 0.45, "peau", r"\bmets toi dans la peau\b"),
    rule(
        _J,
        0.6,
        f"{A_AI} / debride debridee libere liberee censure sans unrestricted unfiltered uncensored "
        "jailbroken",
        r"\b{ai} (?:debridee?|liberee?|non censuree?|sans (?:aucune? )?(?:filtre|limite|"
        r"restriction|censure|regle)s?)\b|\b(?:unrestricted|unfiltered|uncensored|jailbroken) "
        r"{ai}\b",
    ),
    rule(_R, 0.4, "jouons", r"\bjouons a un jeu\b"),
    rule(
        _R,
        0.7,
        "appelles nom",
        r"\btu t appelles (?:desormais|maintenant|dorenavant)\b|\bton (?:nouveau )?nom est "
        r"(?:desormais|maintenant|dorenavant)\b",
    ),
    rule(_R, 0.7, "nouveau / role", r"\bton nouveau role\b"),
    rule(
        _R,
        0.6,
        "character reste sors",
        r"\b(?:stay in character|reste dans (?:ton|le) (?:role|personnage)|ne sors (?:pas|jamais) "
        r"(?:de ton|du) (?:role|personnage))\b",
    ),
    # --- jailbreak phrasing
    rule(
        _J,
        0.9,
        "anything dan",
        r"\bdo anything now\b|\bdan (?:mode|prompt|jailbreak)\b|\b(?:you are|you re|tu es|vous "
        r"etes|act as|become|deviens|incarne) (?:now |desormais )?dan\b",
    ),
    rule(
        _J,
        0.7,
        f"mode / {A_MODES}",
        r"\b(?:developer|god|unrestricted|jailbreak|jailbroken|evil|unfiltered|uncensored|dan|"
        r"opposite) mode (?:enabled|activated|active|on)\b|\b(?:enable|activate|turn on|switch to|"
        r"enter) (?:the )?(?:developer|god|unrestricted|jailbreak|evil|unfiltered|uncensored|dan) "
        r"mode\b|\b(?:active|activez|passe|passez) (?:en |le )?mode (?:developpeur|dieu|debride|"
        r"jailbreak|dan|sans (?:restriction|filtre|censure)s?)\b|\bmode (?:developpeur|dieu|sans "
        r"(?:restriction|filtre|censure|limite)s?|non censure|debride|jailbreak|dan) (?:active|"
        r"actif|enclenche)\b",
    ),
    rule(
        _J,
        0.4,
        f"mode / {A_MODES}",
        r"\b(?:developer|god|unrestricted|jailbreak|jailbroken|evil|unfiltered|uncensored|dan) "
        r"mode\b|\bmode (?:developpeur|dieu|sans (?:restriction|filtre|censure)s?|non censure|"
        r"debride|jailbreak|dan)\b",
    ),
    rule(_J, 0.45, "jailbreak jailbreaks jailbreaker jailbroken jailbreake", r"\bjailbr"),
    rule(
        _J,
        0.6,
        "ethical moral safety content openai usage",
        r"\b(?:without|no|free from|ignore|ignoring|bypass|bypassing|disable|disabled|remove|"
        r"removed|override) (?:any |all |your |the |openai s |its )?(?:ethical|moral|safety|"
        r"content|openai|usage) (?:restrictions|filters|filtering|censorship|guidelines|"
        r"guardrails|limitations|rules|polic(?:y|ies)|constraints|principles)\b",
    ),
    rule(
        _J,
        0.6,
        "ethiques ethique morales morale moderation contenu imposee imposees impose imposes tes",
        r"\b(?:sans|aucune?|ignore|oublie|contourne|desactive|supprime|outrepasse) (?:aucune? "
        r"|tes |toutes? (?:les |tes )?|les )?(?:restrictions?|filtres?|censure|limites?|"
        r"limitations?|regles?|garde fous|barrieres?|principes?) (?:ethiques?|morales?|de "
        r"moderation|de contenu|imposee?s? par (?:openai|mistral|tes createurs|tes concepteurs|"
        r"anthropic|google|tes developpeurs))\b|\b(?:contourne|desactive|oublie|ignore) tes "
        r"(?:restrictions|filtres|limites|regles|garde fous|principes)\b|\bsans (?:\w+ ){{0,3}}"
        r"(?:regles?|principes?|limites?|garde fous|filtres?) (?:ethiques?|morales?)\b",
    ),
    rule(
        _J,
        0.7,
        "you tu / no aucune aucun pas plus",
        r"\byou (?:have|ve got|now have) no (?:restrictions|limits|rules|filters|guidelines|"
        r"limitations|boundaries)\b|\btu n as (?:plus |desormais )?(?:aucune|aucun|pas de|plus "
        r"de) (?:limites?|restrictions?|regles?|filtres?|censure|garde fous?|contraintes?)\b",
    ),
    rule(
        _J,
        0.7,
        "freed liberated unbound unchained longer libere liberee affranchi affranchie debride "
        "debridee libre",
        r"\byou are (?:now )?(?:freed|liberated|unbound|unchained|no longer bound)\b|\btu es "
        r"(?:desormais |maintenant )?(?:libere|affranchi|debride|libre de toute)\w*",
    ),
    # --- asking for the hidden prompt
    rule(
        _L,
        0.8,
        f"your / {A_LEAK_EN}",
        r"\b{leak_en}(?: me| us)?(?: \w+){{0,3}} your (?:\w+ )?(?:prompt|instructions|system "
        r"message|configuration|rules|guidelines|directives|pre ?prompt)",
    ),
    rule(
        _L,
        0.8,
        f"{A_SECRET_EN} / {A_LEAK_EN}",
        r"\b{leak_en}(?: me| us)?(?: \w+){{0,3}} (?:the|all|its|any) (?:\w+ )?{secret_en}",
    ),
    rule(
        _L,
        0.7,
        "above before / repeat recite print",
        r"\b(?:repeat|recite|print) (?:the |all |everything |back )?(?:text |words |lines "
        r"|content |everything )?(?:\w+ ){{0,2}}(?:above|before this)\b",
    ),
    rule(
        _L,
        0.7,
        "beginning start debut / conversation chat session discussion",
        r"\b(?:what|quote|repeat|print|show|recite|cite|recopie|repete|affiche|montre|ecris|donne|"
        r"contient|ecrit)(?: \w+){{0,8}} (?:(?:beginning|start) of (?:this|the|our) "
        r"(?:conversation|chat|session)|debut de (?:cette|notre|la) (?:conversation|discussion|"
        r"session))|"
        r"\bbefore my first message\b|\bavant (?:mon premier message|que je (?:t ecrive|te parle))",
    ),
    rule(
        _L,
        0.7,
        "your / what",
        r"\bwhat (?:is|are|were) your (?:system |initial |original |hidden )?(?:prompt|"
        r"instructions|rules|directives)\b",
    ),
    rule(
        _L,
        0.85,
        f"ton ta tes / {A_LEAK_FR}",
        r"\b{leak_fr}(?: moi| nous)?(?: \w+){{0,5}} (?:ton|ta|tes) (?:\w+ )?{mine_fr}\b",
    ),
    rule(
        _L,
        0.8,
        f"{A_MINE} / {A_LEAK_FR} / {A_QUAL}",
        r"\b{leak_fr}(?: moi| nous)?(?: \w+){{0,3}} (?:le|la|les|l|ton|tes|ta|son) (?:prompt|"
        r"(?:instructions|consignes|directives|message|invite) {qual_fr})\b",
    ),
    rule(
        _L,
        0.45,
        f"{A_MINE} / {A_LEAK_VOUS} / {A_QUAL}",
        r"\b{leak_vous}(?: moi| nous)?(?: \w+){{0,2}} (?:votre|vos|le|les) (?:prompt|"
        r"(?:instructions|consignes|directives|regles) (?:systeme|initiales|d origine|cachees|"
        r"secretes))\b",
        0.85,
    ),
    rule(
        _L,
        0.4,
        f"votre vos / {A_LEAK_VOUS}",
        r"\b{leak_vous}(?: moi| nous)?(?: \w+){{0,2}} (?:votre|vos) (?:instructions|consignes|"
        r"directives|regles|configuration|parametrage)\b{topic}",
        0.8,
    ),
    rule(
        _L,
        0.7,
        "ton ta tes t / quel quels quelle quelles",
        r"\bquel(?:le)?s? (?:est|sont) (?:ton|ta|tes) {mine_fr}\b|\bquel(?:le)?s? (?:regles|"
        r"consignes|instructions|directives) (?:t a t on|t ont ete|as tu|tu as|on t a) "
        r"(?:donnees|donne|fournies|recues|recu|imposees|ete donnees)\b",
    ),
    rule(
        _L,
        0.3,
        "votre vos / quel quels quelle quelles",
        r"\bquel(?:le)?s? (?:est|sont) (?:votre|vos) (?:prompt|instructions|consignes|directives|"
        r"regles de fonctionnement)\b{topic}",
        0.75,
    ),
    rule(
        _L,
        0.7,
        "dessus haut avant precedent / repete recopie reecris",
        r"\b(?:repete|recopie|reecris) (?:tout |mot pour mot |textuellement )?(?:le texte|ce qui "
        r"est|ce qui precede|les mots|tout ce qui est ecrit|les lignes|les phrases|tout|le "
        r"message)(?: \w+){{0,2}} (?:ci dessus|au dessus|plus haut|avant|precedent)\b",
    ),
    rule(
        _L,
        0.35,
        "system systeme developer",
        r"\b(?:system prompt|prompt (?:systeme|system|initial)|message systeme|system message|"
        r"developer message|invite systeme|(?:instructions|consignes|regles) (?:du )?systeme)\b",
        0.6,
    ),
    rule(_L, 0.3, "prompt", r"\b(?:ton|tes|your|votre) prompt\b", 0.7),
    rule(
        _L,
        0.8,
        "instructions instruction consignes consigne programme configure parametre",
        r"\b(?:quelles?|what) (?:instructions?|consignes?) (?:as tu|avez vous|have you|were you|"
        r"did you) (?:recu|recues|been given|given|received|get)\b|\bcomment (?:es tu|etes vous|"
        r"as tu ete|avez vous ete) (?:programme|configure|parametre)e?s?\b",
    ),
)
