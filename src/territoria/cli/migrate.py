"""`territoria migrate --to postgres --dsn ...`: move an embedded home to PostgreSQL."""

from __future__ import annotations

import click

from territoria.cli import common, emit, progress_printer
from territoria.runtime import Runtime


@click.command()
@click.option(
    "--to", "target", type=click.Choice(["postgres"]), required=True, help="Stockage cible."
)
@click.option(
    "--dsn",
    required=True,
    envvar="TERRITORIA_POSTGRES_DSN",
    help="Chaîne de connexion PostgreSQL (défaut : $TERRITORIA_POSTGRES_DSN).",
)
@common
def migrate(target: str, dsn: str, *, runtime: Runtime, as_json: bool) -> None:
    """Copier un dossier embarqué (documents, vecteurs, comptes, audit, avis) dans
    PostgreSQL, puis vérifier les nombres de lignes et les empreintes des deux côtés."""
    from territoria.migrate import migrate_to_postgres  # the ingest journal: this command only

    report = migrate_to_postgres(
        runtime.settings, dsn, progress=None if as_json else progress_printer("Copie")
    )
    if as_json:
        emit(report.to_json())
    else:
        for name, check in report.tables.items():
            state = "identique" if check.ok else "DIFFÉRENT"
            click.echo(f"  {name} : {check.source} → {check.target} ligne(s), {state}")
        click.echo(
            "Journal d'audit vérifié sur PostgreSQL."
            if report.audit_ok
            else "Journal d'audit NON vérifié : " + " ; ".join(report.audit_problems)
        )
        click.echo(
            "Migration terminée : tout est identique. Démarrez les serveurs avec "
            "TERRITORIA_STORE=postgres et TERRITORIA_POSTGRES_DSN."
            if report.ok
            else "Migration incomplète : voir les différences ci-dessus."
        )
    if not report.ok:
        raise SystemExit(1)


COMMANDS = [migrate]
