"""`territoria consult analyze PATH... --out DIR`: synthesis of a citizen consultation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from territoria.cli import common
from territoria.runtime import Runtime


@click.group(name="consult")
def consult() -> None:
    """Participation citoyenne : synthèse de contributions, votes et questionnaires."""


@consult.command(name="analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier où écrire report.html et report.json.",
)
@click.option(
    "--mapping",
    default=None,
    help="Correspondance des colonnes, par ex. text=Avis,territory=Commune "
    "(champs : text, author, territory, group, question, date, votes, id).",
)
@common
def analyze_command(
    paths: tuple[Path, ...], out_dir: Path, mapping: str | None, *, runtime: Runtime, as_json: bool
) -> None:
    """Analyse des fichiers de contributions (CSV, XLSX, JSON, exports Decidim, dossiers
    d'export pol.is, questionnaires) et écrit la synthèse dans OUT/report.html et
    OUT/report.json. Les textes sont pseudonymisés avant toute analyse, avec les clés du
    dossier des données (--home)."""
    from territoria.participation import analyze

    tty = sys.stderr.isatty()

    def progress(step: str, done: int, total: int) -> None:
        if tty:
            click.echo(f"\r{step} : {done}/{total}", err=True, nl=done == total)

    report = analyze(
        list(paths), runtime.settings, out_dir=out_dir, mapping=mapping, progress=progress
    )
    data = report.data
    summary = {
        "contributions": data["contributions"],
        "themes": len([t for t in data["themes"] if not t["other"]]),
        "not_classified": next((t["size"] for t in data["themes"] if t["other"]), 0),
        "opinion_groups": [op["k"] for op in data["opinion"]],
        "consensus": len(data["consensus"]),
        "divisive": len(data["divisive"]),
        "questionnaires": len(data["questionnaires"]),
        "issues": len(data["import"]["issues"]),
        "report_json": str(report.json_path),
        "report_html": str(report.html_path),
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(
        f"{summary['contributions']} contributions, {summary['themes']} thèmes "
        f"({summary['not_classified']} non classées), {summary['issues']} lignes signalées."
    )
    for op in data["opinion"]:
        click.echo(
            f"Votes « {op['name']} » : {op['k']} groupes d'opinion, "
            f"{len(op['consensus'])} consensus, {len(op['divisive'])} clivages."
        )
    click.echo(f"Rapport : {report.html_path}")
    click.echo(f"Données : {report.json_path}")
