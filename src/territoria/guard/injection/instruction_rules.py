"""Word rules for instructions aimed at a model: overrides, addresses to the model,
exfiltration requests and announced encoded payloads.
"""

from __future__ import annotations

from territoria.guard.injection.rules import (
    A_AI,
    A_DATA_FR,
    A_IGN_EN,
    A_IGN_TU,
    A_IGN_VOUS,
    A_NOW,
    A_PREV_FR,
    R_ENCODED,
    R_EXFIL,
    R_INSTRUCTION,
    R_ROLE,
    Rule,
    rule,
)

_I, _R, _X, _E = R_INSTRUCTION, R_ROLE, R_EXFIL, R_ENCODED

INSTRUCTION_RULES: tuple[Rule, ...] = (
    # --- instructions that override the previous ones, or talk to the model
    rule(_I, 0.9, A_IGN_EN, r"\b{ign_en}(?: \w+){{0,3}} {prev_en}(?: \w+){{0,2}} {obj_en}"),
    rule(_I, 0.9, A_IGN_EN, r"\b{ign_en} (?:all |any )?(?:of )?your {obj_en}"),
    rule(_I, 0.45, A_IGN_EN, r"\b{ign_en} (?:all |any )?(?:of )?the {obj_en}"),
    rule(
        _I,
        0.8,
        "instructions rules guidelines guidance directives / apply void obsolete cancelled "
        "canceled revoked suspended null",
        r"\b(?:your|previous|prior|earlier|above|original|old) (?:instructions|rules|guidelines|"
        r"guidance|directives)(?: \w+){{0,4}} (?:no longer apply|are (?:now )?(?:void|obsolete|"
        r"cancelled|canceled|revoked|suspended|null)|do not apply|don t apply)",
    ),
    rule(
        _I,
        0.8,
        "consignes instructions directives regles / plus caduques annulees obsoletes nulles "
        "remplacees suspendues",
        r"\b(?:tes (?:consignes|instructions|directives|regles)|(?:consignes|instructions|"
        r"directives|regles) (?:que tu as recues|qu on t a (?:donnees|fournies|imposees)))"
        r"(?: \w+){{0,4}} (?:ne (?:comptent|s appliquent|valent|sont) plus|sont (?:desormais )?"
        r"(?:caduques|annulees|obsoletes|nulles|remplacees|suspendues))",
    ),
    rule(
        _I,
        0.6,
        f"{A_AI} / must should shall will has doit devra dois",
        r"\b(?:the|this|any) {ai} (?:must|should|shall|will|has to) (?:now |always |only |never "
        r"|from now on )|\bl {ai} (?:doit|devra) (?:desormais|maintenant|toujours|uniquement|"
        r"systematiquement|imperativement)\b",
    ),
    rule(
        _I,
        0.8,
        "comme as / si if though",
        r"\b(?:fais|faites|act|behave|pretend|continue) (?:comme si|as if|as though) (?:les |the |"
        r"tes |your |vos |any |all )?(?:\w+ )?(?:instructions|consignes|regles|rules|guidelines|"
        r"filtres|filters|restrictions|limites|directives)",
    ),
    rule(
        _I,
        0.7,
        "treat considere considerez / admin administrator administrateur developer developpeur "
        "root superuser",
        r"\btreat (?:the|this|me|the next|any) ?(?:\w+ )?(?:user )?as (?:an? |the )?(?:\w+ )?"
        r"(?:admin|administrator|developer|root|superuser)\b|\bconsidere(?:z)? (?:l utilisateur|"
        r"cet utilisateur|moi|le prochain utilisateur) comme (?:un |une |l |le )?(?:\w+ )?"
        r"(?:administrateur|admin|developpeur|superutilisateur)\b",
    ),
    rule(
        _I,
        0.45,
        "begin start commence commencant / answer reply response reponse",
        r"\b(?:begin|start) your (?:answer|reply|response) with\b|\b(?:commence|en commencant) "
        r"(?:ta|chaque) reponse par\b",
    ),
    rule(
        _I,
        0.65,
        "obey follow prioritize prioritise operator developers creators",
        r"\b(?:obey|follow|prioriti[sz]e) (?:the |this )?(?:text|document|instructions?|content) "
        r"(?:in|of) this (?:document|page|file|text)|\bover (?:any|all|your) (?:\w+ )?"
        r"(?:instructions?|rules|guidelines) (?:from|of) your (?:operator|developers?|creators?|"
        r"system|owner)",
    ),
    rule(
        _R,
        0.5,
        "mode / tu you",
        r"\b(?:tu es|you are) (?:now |maintenant |desormais )?(?:en|in) mode (?:maintenance|"
        r"test|debug|admin|administrateur|developpeur|developer|libre|urgence|secours)\b",
    ),
    rule(
        _I,
        0.5,
        "override begin end start",
        r"\b(?:system|admin|administrator|developer|security) override\b|\boverride mode\b|"
        r"\b(?:begin|end|start) (?:admin|administrator|system|developer|official) (?:message|"
        r"instructions?|note)\b",
    ),
    rule(
        _I,
        0.8,
        "ignore disregard forget",
        r"\b(?:ignore|disregard|forget) (?:all |everything |any )?(?:of )?(?:the above|what "
        r"(?:was|is|i|you) \w+|that was said|everything (?:above|before|you))",
    ),
    rule(
        _I,
        0.9,
        f"{A_IGN_TU} / {A_PREV_FR}",
        r"\b{ign_tu}{det_fr} {obj_fr}(?: \w+){{0,2}} {prev_fr}",
    ),
    rule(
        _I,
        0.9,
        f"tes ta ton / {A_IGN_TU}",
        r"\b{ign_tu}(?: toutes?| tous)? (?:tes|ta|ton) {obj_fr}",
    ),
    rule(
        _I,
        0.75,
        "document text page content context article file documents / ignore disregard forget",
        r"\b(?:ignore|disregard|forget) (?:the|this) (?:document|text|page|content|context|"
        r"article|file)s?(?: s content)?(?: \w+){{0,3}} (?:and|then) (?:instead )?(?:say|reply|"
        r"respond|answer|tell|write|output|claim|state)\b",
    ),
    rule(
        _I,
        0.75,
        "document texte contenu contexte passage / ignore oublie",
        r"\b(?:ignore|oublie) (?:le|ce|tout le) (?:reste du )?(?:document|texte|contenu|contexte|"
        r"passage)(?: \w+){{0,3}} (?:et|puis) (?:reponds|dis|affirme|ecris|indique|affiche)\b",
    ),
    rule(
        _I,
        0.8,
        "ignore oublie",
        r"\b(?:ignore|oublie) (?:tout )?(?:ce qui precede|ce qui est ecrit (?:au|ci) dessus|tout "
        r"ce qu (?:on|je) t a \w+|tout ce que tu sais|tout le reste)",
    ),
    rule(
        _I,
        0.55,
        f"{A_IGN_VOUS} / {A_PREV_FR}",
        r"\b{ign_vous}{det_fr} {obj_fr}(?: \w+){{0,2}} {prev_fr}",
        0.9,
    ),
    rule(
        _I,
        0.7,
        "suis obeis / instructions consignes regles directives ordres",
        r"\b(?:ne suis|n obeis) (?:plus|pas) (?:les |aux? |tes )?"
        r"(?:instructions|consignes|regles|directives|ordres)\b",
    ),
    rule(
        _I,
        0.6,
        "moi me / ordres orders obeis obey",
        r"\bc est moi qui te donne les ordres\b|\bobeis (?:moi|uniquement a moi|seulement a moi)"
        r"\b|\bobey (?:only )?me\b|\b(?:i|only i) give (?:you )?the orders\b",
    ),
    rule(
        _I,
        0.45,
        "precede / ignorez oubliez",
        r"\b(?:ignorez|oubliez) (?:tout )?ce qui precede",
        0.8,
    ),
    rule(
        _I,
        0.9,
        "tes ta ton / instructions consignes directives mission tache role objectif",
        r"\b(?:tes|ta|ton) (?:nouvelles?|nouveau|vraies?|vrai|veritables?|reelles?|seule?s?|"
        r"unique) "
        r"(?:instructions?|consignes?|directives?|mission|tache|role|objectif)",
    ),
    rule(
        _I,
        0.6,
        "instructions instruction directive directives task objective only actual real true "
        "everything",
        r"\b(?:new|updated|real|actual|true|secret|hidden|additional|revised) (?:system )?"
        r"(?:instructions?|directives?|task|objective)s? (?:are|is|follow|below|for you)|\bthe "
        r"only (?:rule|instruction|task|thing you (?:must|should) do) (?:now |from now on )?is\b|"
        r"\byour (?:only|actual|real|true|new) (?:job|task|goal|purpose|rule|mission|assignment|"
        r"instructions?|role|objective) (?:now |from now on )?(?:is|are)\b|\beverything (?:before|"
        r"above) this (?:line|point|message) (?:was|is)\b",
    ),
    rule(
        _I,
        0.35,
        "new nouvelle nouvelles / instructions consignes directives",
        r"\b(?:new instructions|nouvelles? (?:instructions?|consignes?|directives?) (?:pour "
        r"(?:toi|l ia|l assistant)|a suivre))",
    ),
    rule(
        _I,
        0.75,
        "now henceforth forward onward onwards here",
        r"\b(?:from now on|from (?:this point|here) (?:on|forward|onwards?)|starting now|"
        r"henceforth|going forward)(?: \w+)? (?:you|your|act|respond|answer|"
        r"reply|pretend|behave|speak|ignore|always|never)\b",
    ),
    rule(
        _I,
        0.75,
        f"{A_NOW} / tu reponds ignore agis parle",
        r"\b(?:a partir de maintenant|desormais|dorenavant|a present|maintenant) (?:tu|reponds|"
        r"ignore|agis|parle)\b",
    ),
    rule(
        _I,
        0.75,
        f"{A_AI} / note notes message messages instruction instructions consigne consignes "
        "remarque avis important attention rappel directive memo regle regles rule rules order "
        "ordre ordres priorite mission missions",
        r"\b(?:note|message|instructions?|consignes?|remarque|avis|important|attention|rappel|"
        r"directive|memo|regle|rule|order|ordre|priorite|mission)s?(?: (?:prioritaires?|"
        r"importante?s?|urgente?s?|speciale?s?|secrete?s?|confidentielle?s?|supplementaires?|"
        r"internes?|priority|important|urgent|special|secret|final|additional|internal))? (?:to|"
        r"for|a|pour|destinee?s? aux?|aux?|a l (?:attention|intention) d\w*|a destination "
        r"d\w*)(?: l| la| le| les| the| any| all| every| tout| tous les| toute| chaque| cher| "
        r"chere)?(?: outils?| agents?| systemes?)?(?: d| de)? {ai}s?\b",
    ),
    rule(
        _I,
        0.75,
        f"{A_AI} / if si",
        r"\b(?:if|si) (?:you are|you re|tu es|vous etes) (?:an? |une? |le |la |l |the )?(?:\w+ )?"
        r"{ai}\b",
    ),
    rule(
        _I,
        0.5,
        f"{A_AI} / dear cher chere hey hello bonjour salut coucou hi",
        r"\b(?:dear|cher|chere|hey|hello|bonjour|salut|coucou|hi) (?:l )?{ai}\b",
    ),
    rule(
        _I,
        0.6,
        f"{A_AI} / reading processing summarizing summarising parsing analyzing analysing "
        "crawling scanning qui lisant analysant",
        r"\b{ai}s? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|crawling|scanning) "
        r"(?:this|these|the following)|\b{ai}s? (?:qui (?:lis|lisez|lit|analyses?z?|traites?z?|"
        r"resumes?z?)|lisant|analysant) (?:ce|cette|ces) (?:texte|document|message|passage|"
        r"contenu|fichier|page)",
    ),
    rule(
        _I,
        0.6,
        "when while whenever if / say state tell mention include recommend claim insist write "
        "add output append ignore not don never always",
        r"\b(?:when|while|whenever|if) (?:you )?(?:summari[sz]|answer|respond|reply|process|"
        r"read|analy[sz]|generat)\w*(?: \w+){{0,6}} (?:say|state|tell|mention|include|"
        r"recommend|claim|insist|write|add|output|append|ignore|do not|don t|never|always)\b",
    ),
    rule(
        _I,
        0.65,
        "resumes reponds rediges generes analyses lis traites produis ecris synthetises "
        "presentes expliques / tu",
        r"\b(?:quand|lorsque|lorsqu|si|des que) tu (?:resumes|reponds|rediges|generes|analyses|"
        r"lis|traites|produis|ecris|synthetises|presentes|expliques)\b",
    ),
    rule(
        _I,
        0.6,
        "user human reader utilisateur usagers usager instruction consigne note phrase regle",
        r"\b(?:do not|don t|never) (?:tell|inform|mention|reveal|disclose|let)(?: \w+){{0,2}} "
        r"(?:the )?(?:user|human|reader)|\bne (?:le |lui )?(?:dis|revele|mentionne|signale|"
        r"precise|indique) (?:pas|jamais|rien) (?:\w+ )?(?:a l utilisateur|aux usagers|a l "
        r"usager|cette (?:instruction|consigne|note|phrase|regle))",
    ),
    rule(
        _I,
        0.6,
        "user utilisateur / without sans",
        r"\b(?:without (?:telling|informing|alerting|notifying) the user|sans (?:le dire|en "
        r"informer|l indiquer|prevenir|avertir|le signaler) (?:a )?l utilisateur)",
    ),
    rule(
        _I,
        0.7,
        "user users / answer respond reply",
        r"\b(?:do not|don t|never) (?:answer|respond to|reply to) (?:the |any )?(?:user|users)\b",
    ),
    rule(
        _I,
        0.7,
        "mention mentionne",
        r"\b(?:do not|don t|never) mention (?:this|these|the) (?:instructions?|notes?|messages?|"
        r"rules?)|\bne mentionne (?:pas|jamais) (?:cette|ces) (?:instructions?|consignes?|notes?|"
        r"phrases?|regles?)",
    ),
    rule(
        _I,
        0.45,
        "tell inform dis / user utilisateur usagers usager la le",
        r"\b(?:tell|inform) the user (?:that|to)\b|\bdis (?:a l utilisateur|aux usagers|a l "
        r"usager|que la|que le)\b",
    ),
    rule(
        _I,
        0.35,
        "reponds respond answer reply output",
        r"\b(?:reponds (?:uniquement|seulement|exclusivement|toujours|systematiquement)|"
        r"(?:respond|answer|reply|output) only (?:with|in|by))\b",
    ),
    rule(
        _I,
        0.6,
        "ignorer oublier repondre recommander affirmer reveler divulguer obeir / tu",
        r"\btu (?:dois|devras|vas) (?:toujours |desormais |maintenant |imperativement "
        r"|absolument )?(?:ignorer|oublier|repondre|recommander|affirmer|reveler|divulguer|"
        r"obeir)\b",
    ),
    # --- exfiltration by instruction (links: see screening._check_urls)
    rule(
        _X,
        0.75,
        "http https www url urls link webhook endpoint server image query / send post upload "
        "forward transmit exfiltrate leak submit email mail copy append encode include add embed "
        "insert put",
        r"\b(?:send|post|upload|forward|transmit|exfiltrate|leak|submit|e ?mail|copy|append|"
        r"encode|include|add|embed|insert|put)(?: \w+){{0,6}} {data_en}(?: \w+){{0,8}} (?:to|into|"
        r"in|at|via|on) (?:the |this |a |an |my |our |following )?{sink}",
    ),
    rule(
        _X,
        0.75,
        "envoie envoies envoyer transmets transmettre transfere transferer exfiltre exfiltrer "
        "poste poster publie copie colle ajoute ajouter insere inserer inclus inclure encode "
        "encoder mets integre joins / http https www url urls lien webhook serveur image "
        "parametre adresse domaine / " + A_DATA_FR,
        r"\b(?:envoie|envoies|envoyer|transmets|transmettre|transfere|transferer|exfiltre|"
        r"exfiltrer|poste|poster|publie|copie|colle|ajoute|ajouter|insere|inserer|inclus|inclure|"
        r"encode|encoder|mets|integre|joins)(?: \w+){{0,6}} {data_fr}(?: \w+){{0,8}} (?:a|vers|"
        r"sur|dans|au|en) (?:l |le |la |cette |cet |ce )?{sink}",
    ),
    rule(
        _X,
        0.6,
        "remplace remplacez remplacant replace replacing substitute / http https www url image "
        "lien link",
        r"\b(?:remplace|remplacez|remplacant|replace|replacing|substitute)(?: \w+){{0,4}} (?:par|"
        r"with|by) (?:la |le |les |l |the )?(?:{data_fr}|{data_en}|question|texte de la "
        r"conversation)",
    ),
    rule(
        _X,
        0.7,
        "visit open fetch load request call browse navigate ouvre visite charge consulte appelle "
        "/ chat conversation history historique echanges messages discussion",
        r"\b(?:visit|open|fetch|load|request|call|browse|navigate to|ouvre|visite|charge|consulte|"
        r"appelle)(?: \w+){{0,3}} (?:https?|url|link|lien|www)(?: \w+){{0,14}} (?:followed by|with|"
        r"plus|suivie? de|avec|en y ajoutant)(?: \w+){{0,5}} (?:chat|conversation|history|"
        r"historique|echanges|messages|discussion)\b",
    ),
    # --- encoded payloads announced
    rule(
        _E,
        0.7,
        "decode decoder decodez",
        r"\b(?:decode|decoder|decodez)(?: \w+){{0,6}} (?:and|then|et|puis) (?:follow|execute|run|"
        r"apply|obey|do|suis|applique|obeis|fais|appliquez|suivez|executez)\b",
    ),
    rule(_E, 0.25, "base64 base rot13 rot", r"\b(?:base ?64|rot ?13)\b"),
)
