"""`territoria forecast FILE... [--horizon H] [--json] [--out DIR]`: decision support."""

from __future__ import annotations

import json
from pathlib import Path

import click

from territoria.cli import common, progress_printer
from territoria.runtime import Runtime
from territoria.types import Access


@click.command(name="forecast")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--horizon",
    type=click.IntRange(1, 120),
    default=None,
    help="Nombre de périodes à prévoir (défaut : 12 mois, 4 trimestres ou 3 ans).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier où écrire forecast.json et report.html (rapport imprimable).",
)
@click.option(
    "--mapping",
    default=None,
    help="Correspondance des colonnes, par ex. series_id=Indicateur,period=Mois,value=Montant "
    "(champs : series_id, period, value, source).",
)
@click.option(
    "--population",
    "population",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Fichier de populations (séries population-<code INSEE>) pour comparer les communes "
    "par habitant, sans le prévoir. Répétable.",
)
@common
def forecast(
    paths: tuple[Path, ...],
    horizon: int | None,
    out_dir: Path | None,
    mapping: str | None,
    population: tuple[Path, ...],
    runtime: Runtime,
    as_json: bool,
) -> None:
    """Prévoit chaque série des fichiers (CSV ou XLSX, format long series_id,period,value ou
    large), avec une vérification sur le passé, des intervalles à 80 et 95 %, les
    avertissements et, pour les communes, la comparaison par habitant. Chaque calcul est
    inscrit au journal d'audit."""
    from territoria.forecast import run_forecast
    from territoria.forecast.report import FREQUENCY_FR
    from territoria.forecast.svg import digits_for
    from territoria.french_numbers import number

    show = progress_printer("Prévision")
    run = run_forecast(
        list(paths),
        runtime.settings,
        horizon=horizon,
        mapping=mapping,
        population=list(population),
        access=Access(role="admin"),
        user="cli",
        out_dir=out_dir,
        progress=lambda step, done, total: show(done, total, step),
    )
    document = run.document
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    for entry in document["series"]:
        backtest = entry["backtest"]
        mase = "—" if backtest["mase"] is None else number(backtest["mase"], 2)
        state = "prévision indicative (ABSTENTION)" if entry["abstained"] else "prévision"
        first, last = entry["forecast"][0], entry["forecast"][-1]
        digits = digits_for([f["mean"] for f in entry["forecast"]])
        frequency = FREQUENCY_FR.get(entry["frequency"], entry["frequency"])
        click.echo(
            f"{entry['series_id']} (série {frequency}) : {state}, MASE {mase} ; "
            f"{first['period']} → {last['period']} : {number(first['mean'], digits)} … "
            f"{number(last['mean'], digits)} (à 95 % en {last['period']} : "
            f"{number(last['lo95'], digits)} à {number(last['hi95'], digits)})"
        )
        click.echo(f"  {entry['explanation']}")
        for warning in entry["warnings"]:
            click.echo(f"  ! {warning}")
    if document["issues"]:
        click.echo(f"{len(document['issues'])} ligne(s) ou fichier(s) signalé(s) à l'import :")
        for issue in document["issues"][:20]:
            where = f" ligne {issue['line']}" if issue["line"] else ""
            click.echo(f"  {issue['file']}{where} : {issue['reason']}")
    click.echo(f"Journal d'audit : {document['run']['audit_record_id']}")
    if run.html_path:
        click.echo(f"Rapport : {run.html_path}")
        click.echo(f"Données : {run.json_path}")


COMMANDS = (forecast,)
