"""`territoria retex ...`: the RETEX commons (write, find, share experience fiches)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from territoria.cli import common, emit
from territoria.errors import InvalidRequest
from territoria.french_numbers import number
from territoria.runtime import Runtime

if TYPE_CHECKING:  # the commons (httpx, signatures) load with the command that uses them:
    from territoria.retex.commons import Commons, ImportReport  # not for every CLI run

IN = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def read_json(path: Path, max_mb: float) -> Any:
    if path.stat().st_size > max_mb * 2**20:
        raise InvalidRequest(f"{path.name} dépasse {max_mb:.0f} Mio (retex_feed_max_mb).")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"{path.name} n'est pas un fichier JSON lisible : {exc}.") from exc


@click.group(name="retex")
def retex() -> None:
    """Communs RETEX : fiches d'expérience partagées entre collectivités, signées."""


@retex.command("add")
@click.argument("path", type=IN)
@click.option("--tenant", default="default", show_default=True, help="Collectivité autrice.")
@click.option("--draft", is_flag=True, help="Brouillon : ni publié ni partagé.")
@common
def add(path: Path, tenant: str, draft: bool, *, runtime: Runtime, as_json: bool) -> None:
    """Ajouter une fiche (FICHE.json), ou une nouvelle version d'une de nos fiches (même id)."""
    stored = runtime.retex.add(
        read_json(path, runtime.settings.retex_feed_max_mb), tenant=tenant, draft=draft
    )
    if as_json:
        emit({"id": stored.id})
        return
    state = "brouillon" if draft else "publiée et signée"
    click.echo(f"Fiche {stored.id} enregistrée ({state}).")


@retex.command("search")
@click.argument("query")
@click.option("--k", default=10, show_default=True, help="Nombre de fiches.")
@common
def search(query: str, k: int, *, runtime: Runtime, as_json: bool) -> None:
    """Chercher dans les fiches (les nôtres et celles des instances suivies)."""
    hits = runtime.retex.search(query, k=k)
    if as_json:
        emit({"hits": [h.to_json() for h in hits]})
        return
    for rank, h in enumerate(hits, start=1):
        o = h.origin
        where = "cette instance" if o["local"] else o["instance"]
        click.echo(f"{rank}. [{number(h.score, 2)}] {h.title} — {o['collectivite']} ({where}, "
                   f"{o['updated'][:10]}) — {h.id}")  # fmt: skip


@retex.command("export")
@click.option("--out", "out", required=True, type=OUT, help="Fichier du flux signé à écrire.")
@common
def export(out: Path, *, runtime: Runtime, as_json: bool) -> None:
    """Exporter nos fiches publiées (flux signé, pour un échange hors ligne)."""
    n = runtime.retex.export(out)
    if as_json:
        emit({"exported": n})
        return
    click.echo(f"{n} fiches exportées dans {out} (parties publiques, texte libre pseudonymisé).")


def show_report(report: dict[str, Any]) -> None:
    click.echo(
        f"{report['imported']} nouvelles, {report['updated']} mises à jour, "
        f"{report['withdrawn']} retirées, {report['unchanged']} inchangées, "
        f"{len(report['rejected'])} refusées."
    )
    for item in report["rejected"]:
        click.echo(f"  refusée {item['id'] or '?'} : {item['reason']}")


@retex.command("import")
@click.argument("path", type=IN)
@common
def import_(path: Path, *, runtime: Runtime, as_json: bool) -> None:
    """Importer un flux signé reçu hors ligne (chaque fiche vérifiée ; les refusées
    sont listées avec la raison, les autres importées)."""
    read_json(path, runtime.settings.retex_feed_max_mb)  # size and syntax first
    report: ImportReport = runtime.retex.import_file(path)
    if as_json:
        emit(report.to_json())
        return
    show_report(report.to_json())


@retex.command("key")
@common
def key(*, runtime: Runtime, as_json: bool) -> None:
    """La clé publique de cette instance (à donner aux instances qui la suivent)."""
    public = runtime.retex.key.public_key
    emit({"public_key": public}) if as_json else click.echo(public)


@retex.group("trust")
def trust() -> None:
    """Clés publiques des instances dont on accepte les fiches."""


@trust.command("add")
@click.argument("name")
@click.argument("public_key")
@common
def trust_add(name: str, public_key: str, *, runtime: Runtime, as_json: bool) -> None:
    """Faire confiance à la clé PUBLIC_KEY (ed25519:...) sous le nom NAME."""
    added = runtime.retex.trust(name, public_key)
    emit({"name": name, "public_key": added}) if as_json else click.echo(f"Clé de {name} ajoutée.")


@trust.command("list")
@common
def trust_list(*, runtime: Runtime, as_json: bool) -> None:
    """Lister les clés de confiance."""
    keys = runtime.retex.store.trusted()
    if as_json:
        emit({"keys": [{"name": n, "public_key": k} for k, n in keys.items()]})
        return
    for k, n in keys.items():
        click.echo(f"{n}\t{k}")


@trust.command("remove")
@click.argument("public_key")
@common
def trust_remove(public_key: str, *, runtime: Runtime, as_json: bool) -> None:
    """Retirer une clé de confiance (ses fiches déjà reçues restent)."""
    removed = runtime.retex.untrust(public_key)
    emit({"removed": removed}) if as_json else click.echo("Retirée." if removed else "Inconnue.")


@retex.command("follow")
@click.argument("url")
@click.option("--key", "public_key", required=True, help="Clé publique de l'instance suivie.")
@click.option("--name", default="", help="Nom de l'instance (défaut : son adresse).")
@common
def follow(url: str, public_key: str, name: str, *, runtime: Runtime, as_json: bool) -> None:
    """Suivre le flux d'une autre instance (URL de base ou de /retex/feed.json)."""
    item = runtime.retex.follow(url, public_key, name)
    if as_json:
        emit({"url": item.url, "name": item.name, "public_key": item.key})
        return
    click.echo(f"Flux suivi : {item.url} ({item.name}). Récupérez-le avec : territoria retex pull")


@retex.command("pull")
@click.argument("url", required=False)
@common
def pull(url: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Récupérer, vérifier et fusionner les flux suivis (ou celui de URL)."""
    results = runtime.retex.pull(url)
    if as_json:
        emit({"feeds": results})
        return
    if not results:
        click.echo("Aucun flux suivi (territoria retex follow URL --key CLÉ).")
    for result in results:
        click.echo(f"{result['name']} ({result['url']}) :")
        if "error" in result:
            click.echo(f"  erreur : {result['error']}")
        else:
            show_report(result)


def fiche_line(commons: Commons, fiche_id: str) -> dict[str, Any]:
    from territoria.retex.commons import origin_of
    from territoria.retex.documents import public_view

    f = commons.get(fiche_id)
    view = public_view(f) or f.body or {}
    return {
        "id": f.id,
        "title": view.get("title", ""),
        "status": view.get("status", ""),
        "origin": origin_of(f, view) if view.get("collectivite") else {"instance": f.instance},
        "published": f.published,
        "withdrawn": f.withdrawn,
        "example": bool(view.get("example")),
    }


@retex.command("list")
@click.option("--withdrawn", is_flag=True, help="Montrer aussi les fiches retirées.")
@common
def list_(withdrawn: bool, *, runtime: Runtime, as_json: bool) -> None:
    """Lister les fiches (les nôtres, brouillons compris, et celles reçues)."""
    from territoria.retex.model import STATUS_LABELS

    commons = runtime.retex
    lines = [fiche_line(commons, f.id) for f in commons.fiches(include_withdrawn=withdrawn)]
    if as_json:
        emit({"fiches": lines})
        return
    for line in lines:
        state = "brouillon" if not line["published"] else STATUS_LABELS.get(line["status"], "")
        where = "ici" if line["origin"].get("local") else line["origin"]["instance"]
        click.echo(f"{line['id']}\t{state}\t{where}\t{line['title']}")


@retex.command("show")
@click.argument("fiche_id")
@common
def show(fiche_id: str, *, runtime: Runtime, as_json: bool) -> None:
    """Afficher une fiche (entière pour les nôtres, partie publique pour les autres)."""
    f = runtime.retex.get(fiche_id)
    data = {**fiche_line(runtime.retex, fiche_id), "fiche": f.body, "entry": f.entry}
    click.echo(json.dumps(data, ensure_ascii=False, indent=None if as_json else 2))


@retex.command("withdraw")
@click.argument("fiche_id")
@common
def withdraw(fiche_id: str, *, runtime: Runtime, as_json: bool) -> None:
    """Retirer une de nos fiches (les instances qui nous suivent la retirent aussi)."""
    runtime.retex.withdraw(fiche_id)
    emit({"id": fiche_id, "withdrawn": True}) if as_json else click.echo("Fiche retirée.")


@retex.command("publish")
@click.argument("fiche_id")
@common
def publish(fiche_id: str, *, runtime: Runtime, as_json: bool) -> None:
    """Publier un brouillon (signé, partagé avec les instances qui nous suivent)."""
    runtime.retex.publish(fiche_id)
    emit({"id": fiche_id, "published": True}) if as_json else click.echo("Fiche publiée.")


@retex.command("prefill")
@click.option("--tenant", default="default", show_default=True, help="Collectivité.")
@click.option("--months", default=12, show_default=True, help="Période couverte, en mois.")
@click.option("--out", type=OUT, default=None, help="Écrire aussi la fiche dans ce fichier.")
@common
def prefill(tenant: str, months: int, out: Path | None, *, runtime: Runtime, as_json: bool) -> None:
    """Préremplir une fiche (brouillon) sur l'usage de l'assistant : questions par mois, part
    répondue, sujets sans réponse, avis, énergie, documents indexés."""
    from territoria.feedback import FeedbackStore
    from territoria.retex.prefill import usage_fiche, usage_figures

    with FeedbackStore(runtime.settings) as feedback:
        figures = usage_figures(
            runtime.audit, feedback, runtime.store, tenant=tenant, months=months
        )
    fiche = usage_fiche(figures, runtime.settings, tenant=tenant)
    stored = runtime.retex.add_many([fiche], tenant=tenant, draft=True)[0]
    if out is not None:
        out.write_text(json.dumps(stored.body, ensure_ascii=False, indent=2), encoding="utf-8")
    if as_json:
        emit({"id": stored.id, "figures": figures})
        return
    click.echo(f"Brouillon {stored.id} : {figures['questions']} questions, "
               f"{figures['documents']} documents. Modifiez-le puis : territoria retex add "
               "FICHIER.json")  # fmt: skip


@retex.command("schema")
@common
def schema(*, runtime: Runtime, as_json: bool) -> None:
    """Le schéma JSON d'une fiche (champs publics et restreints ; JSON dans tous les cas)."""
    from territoria.retex.model import fiche_schema

    click.echo(json.dumps(fiche_schema(), ensure_ascii=False, indent=2))


COMMANDS = (retex,)
