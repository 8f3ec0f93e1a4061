"""The example fiches shipped with the demo (src/territoria/demo/retex/*.json), written by
the project from the examples of the Assemblée des Territoires' workshops ("Vélo de Pays", a
magasin de producteurs born of a Projet Alimentaire de Territoire, new mobilities in a Pays)
and other common cases. Fictional collectivités, every one marked `"example": true`."""

from __future__ import annotations

import json
from importlib import resources

from territoria.retex.model import Fiche, parse_fiche


def demo_fiches() -> list[Fiche]:
    folder = resources.files("territoria") / "demo" / "retex"
    return [
        parse_fiche(json.loads(item.read_text(encoding="utf-8")))
        for item in sorted(folder.iterdir(), key=lambda p: p.name)
        if item.name.endswith(".json")
    ]
