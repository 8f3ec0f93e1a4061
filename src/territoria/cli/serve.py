"""`territoria serve`: the web UI and the HTTP API."""

from __future__ import annotations

import click

from territoria.cli import common
from territoria.french_numbers import number
from territoria.runtime import Runtime


@click.command()
@click.option("--host", default=None, help="Adresse d'écoute (défaut 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (défaut 8000).")
@common
def serve(host: str | None, port: int | None, *, runtime: Runtime, as_json: bool) -> None:
    """Servir l'interface web et l'API HTTP (OpenAPI sur /docs).

    L'index, les modèles et le journal d'audit sont chargés avant d'accepter les connexions
    (réglage warm_up) ; GET /healthz dit que le serveur répond, GET /readyz qu'il est prêt.
    """
    import uvicorn

    from territoria.web.app import create_app

    settings = runtime.settings
    app = create_app(settings)
    if settings.warm_up == "before":
        # Loaded before the socket is opened: no question waits for a model, and a home that
        # cannot be read stops here with its French message (exit code 74).
        click.echo("Chargement de l'index, des modèles et du journal d'audit…", err=True)
        report = app.state.web.readiness.run()
        click.echo(
            f"Prêt en {number(report['warm_up_s'], 1)} s ({report['passages']} passages indexés).",
            err=True,
        )
    click.echo(
        f"Territoria : http://{host or settings.host}:{port or settings.port}/ "
        "(Ctrl+C pour arrêter)",
        err=True,
    )
    # uvicorn's proxy headers stay off (it trusts X-Forwarded-For from loopback by default): the
    # app reads forwarded headers from the configured `trusted_proxies` only (web/proxies.py).
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        proxy_headers=False,
    )


COMMANDS = (serve,)
