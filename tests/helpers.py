"""Small builders shared by tests (a mini corpus of a commune in Markdown)."""

from __future__ import annotations

from pathlib import Path

MINI_CORPUS = {
    "cantine.md": (
        "# Restauration scolaire\n\n## Tarifs\n\nLe prix du repas à la cantine est de 3,10 euros "
        "pour la tranche A du quotient familial. Le prix du repas est de 4,20 euros pour la "
        "tranche B.\n\n## Inscription\n\nL'inscription à la cantine se fait au guichet unique "
        "de la mairie avant le 30 juin.\n"
    ),
    "dechets.md": (
        "# Collecte des déchets\n\nLe bac jaune des emballages est collecté le mardi matin. "
        "Les encombrants sont ramassés sur rendez-vous une fois par mois.\n\n## Déchetterie\n\n"
        "La déchetterie est ouverte du lundi au samedi de 9 heures à 18 heures.\n"
    ),
    "mairie.md": (
        "# Horaires de la mairie\n\nLa mairie est ouverte du lundi au vendredi de 8 h 30 à "
        "17 h 30 et le samedi matin de 9 heures à 12 heures.\n"
    ),
}

INTERNAL_NOTE = (
    "# Procédure interne d'accueil\n\nLe code d'accès du local des archives est communiqué "
    "aux agents par le responsable du service état civil.\n"
)


def write_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in MINI_CORPUS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def write_internal(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "procedure-accueil.md"
    path.write_text(INTERNAL_NOTE, encoding="utf-8")
    return path
