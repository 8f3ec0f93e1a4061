"""RETEX commons: experience fiches shared between instances, signed, searchable, with
restricted fields and personal data never leaving home.

    commons = Commons(settings, documents=store, guard=pii, audit=audit)
    commons.add(json.load(open("fiche.json")))     # signed at once (public part, pseudonymised)
    commons.feed()                                  # what /retex/feed.json serves
    commons.trust("Pays de Redon", "ed25519:...")   # then import_feed / pull from that key
    commons.search("magasin de producteurs")

model.py (the 29-field fiche, JSON Schema), signing.py (Ed25519 over RFC 8785 JSON),
feed.py (entries: pseudonymise, sign, check), storage.py (RetexStore, SQLite), search.py
(BM25 over fiches), documents.py (fiches as documents for the assistant), pull.py (follow over
HTTP), prefill.py (a fiche on the assistant's own use), demo.py (the example fiches).
"""

from __future__ import annotations

from territoria.retex.commons import Commons, ImportReport, SearchHit
from territoria.retex.model import Fiche, fiche_schema, parse_fiche

__all__ = ["Commons", "Fiche", "ImportReport", "SearchHit", "fiche_schema", "parse_fiche"]
