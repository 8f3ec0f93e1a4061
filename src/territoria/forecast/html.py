"""The forecast report as one self-contained HTML page: French, printable, no script.

Everything is inline (CSS, SVG charts); each chart is followed by its numbers in a table; every
series says how good such forecasts have been (backtest) and what to be careful about.
`series_section` is also what the web page shows for one series.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from territoria.forecast.report import FLAG_TEXT, FREQUENCY_FR
from territoria.forecast.svg import chart, digits_for
from territoria.french_numbers import number
from territoria.settings import Settings

MAX_SECTIONS = 200  # series drawn in the report; all are in the summary table and the JSON

CSS = """
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:62rem;margin:0 auto;padding:1rem;
color:#161616}
h1,h2,h3{line-height:1.25}h2{border-bottom:2px solid #000091;padding-bottom:.2rem;margin-top:2.2rem}
a{color:#000091}a:focus{outline:3px solid #0a76f6}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#3a3a3a;font-size:.9rem}
.abstention{border-left:4px solid #b34000;background:#fff4ec;padding:.5rem .8rem}
.avertissements li{margin:.2rem 0}
.explication{font-size:1.05rem;background:#f6f6f6;border-left:4px solid #000091;padding:.5rem .8rem}
.notice{background:#e3e3fd;border-left:4px solid #000091;padding:.5rem .8rem;font-size:.92rem}
.defilement{overflow-x:auto;max-width:100%}.defilement:focus{outline:3px solid #0a76f6}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
@media print{a{color:#000;text-decoration:none}nav,.skip{display:none}.defilement{overflow:visible}
section.serie{page-break-inside:avoid}svg{max-width:100%!important}}
"""

_TABLE = re.compile(r"<table>(?:<caption>(.*?)</caption>)?")


def scrollable(html: str) -> str:
    """Each table of `html` in a region that scrolls sideways on its own (keyboard too), so a
    wide table never makes the whole page scroll on a phone."""
    html = _TABLE.sub(
        lambda m: (
            f'<div class="defilement" role="region" tabindex="0" '
            f'aria-label="{m.group(1) or "Tableau"}">{m.group(0)}'
        ),
        html,
    )
    return html.replace("</table>", "</table></div>")


def notice(settings: Settings) -> str:
    from territoria.register import forecast_notice

    return forecast_notice(settings)


def render(document: dict[str, Any], settings: Settings) -> str:
    entries = document["series"]
    run = document["run"]
    abstained = sum(1 for e in entries if e["abstained"])
    parts = [
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Prévisions — {escape(settings.commune)}</title>",
        f"<style>{CSS}</style></head><body>",
        '<a class="skip" href="#series">Aller aux séries</a>',
        f"<header><h1>Prévisions — {escape(settings.commune)}</h1>",
        f'<p class="meta">{len(entries)} série(s) · {abstained} abstention(s) · '
        f"{len(document['issues'])} ligne(s) ou fichier(s) signalé(s) à l'import · "
        f"calcul du {escape(run['created_at'])} · référence {escape(run['run_id'])}"
        + (
            f" · journal d'audit n° {escape(run['audit_record_id'])}"
            if run.get("audit_record_id")
            else ""
        )
        + "</p>",
        f'<p class="notice">{escape(notice(settings))}</p></header>',
        "<main>",
        summary_table(entries),
        '<div id="series">',
        *[series_section(e, f"s{i}") for i, e in enumerate(entries[:MAX_SECTIONS])],
        (
            f"<p>Les {len(entries) - MAX_SECTIONS} autres séries sont dans forecast.json.</p>"
            if len(entries) > MAX_SECTIONS
            else ""
        ),
        "</div>",
        issues_section(document["issues"]),
        method_section(document),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _mase(value: float | None) -> str:
    return "—" if value is None else number(value, 2)


def summary_table(entries: list[dict[str, Any]]) -> str:
    rows = []
    for i, e in enumerate(entries):
        bt = e["backtest"]
        naive = min(
            (v for k, v in bt["baselines"].items() if k != "drift" and v is not None),
            default=None,
        )
        rows.append(
            f'<tr><td><a href="#s{i}">{escape(e["series_id"])}</a></td>'
            f"<td>{FREQUENCY_FR[e['frequency']]}</td>"
            f'<td class="n">{_mase(bt["mase"])}</td><td class="n">{_mase(naive)}</td>'
            f"<td>{'oui' if e['abstained'] else 'non'}</td>"
            f"<td>{escape(', '.join(FLAG_TEXT.get(f, f) for f in e['flags'])) or '—'}</td></tr>"
        )
    html = (
        '<section aria-labelledby="resume"><h2 id="resume">Résumé</h2>'
        "<p>MASE : erreur moyenne des prévisions passées de la méthode, rapportée à celle de la "
        "méthode naïve sur l'historique (moins de 1 : mieux que « comme l'an dernier »).</p>"
        '<table><caption>Séries prévues</caption><thead><tr><th scope="col">Série</th>'
        '<th scope="col">Fréquence</th><th scope="col">MASE méthode</th>'
        '<th scope="col">MASE meilleure naïve</th><th scope="col">Abstention</th>'
        f'<th scope="col">Signalements</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</section>"
    )
    return scrollable(html)


def series_section(entry: dict[str, Any], ident: str) -> str:
    """One series: verdict, explanation, chart, forecast table, backtest, warnings, peers."""
    values = [f["mean"] for f in entry["forecast"]] + [
        h["value"] for h in entry["history"] if h["value"] is not None
    ]
    digits = digits_for(values)
    verdict = (
        '<p class="abstention"><strong>Abstention</strong> : la prévision est donnée à titre '
        "indicatif, sans garantie de faire mieux qu'une méthode naïve (voir les "
        "avertissements).</p>"
        if entry["abstained"]
        else ""
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in entry["warnings"])
    rows = "".join(
        f'<tr><th scope="row">{escape(f["period"])}</th>'
        f'<td class="n">{number(f["mean"], digits)}</td>'
        f'<td class="n">{number(f["lo80"], digits)} à {number(f["hi80"], digits)}</td>'
        f'<td class="n">{number(f["lo95"], digits)} à {number(f["hi95"], digits)}</td></tr>'
        for f in entry["forecast"]
    )
    bt = entry["backtest"]
    base = bt["baselines"]
    coverage = bt.get("coverage_last_window", {})
    covered = (
        f" Sur le dernier essai, {number(100 * coverage['80'], 0)} % des valeurs sont tombées "
        f"dans l'intervalle à 80 % et {number(100 * coverage['95'], 0)} % dans celui à 95 %."
        if coverage.get("80") is not None and coverage.get("95") is not None
        else ""
    )
    html = (
        f'<section class="serie" id="{ident}" aria-labelledby="{ident}-h">'
        f'<h2 id="{ident}-h">{escape(entry["series_id"])}</h2>'
        f'<p class="meta">Série {FREQUENCY_FR[entry["frequency"]]} · '
        f"{len(entry['history'])} valeurs · fichier {escape(entry['source'])}"
        + (f" · source : {escape(entry['origin'])}" if entry.get("origin") else "")
        + "</p>"
        + verdict
        + f'<p class="explication">{escape(entry["explanation"])}</p>'
        + chart(f"{ident}-g", entry)
        + "<table><caption>Prévision et intervalles (l'intervalle à 80 % contient la valeur "
        "4 fois sur 5 d'après les essais passés, celui à 95 %, 19 fois sur 20)</caption>"
        '<thead><tr><th scope="col">Période</th><th scope="col">Prévision</th>'
        '<th scope="col">Intervalle à 80 %</th><th scope="col">Intervalle à 95 %</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
        + (f'<h3>Avertissements</h3><ul class="avertissements">{warnings}</ul>' if warnings else "")
        + "<h3>Vérification sur le passé</h3>"
        f"<p>Méthode : {escape(entry['model_description'])} ({escape(entry['model'])}). "
        f"{bt['windows']} essai(s) de prévision à {bt['horizon']} période(s) faits comme si "
        f"l'on était dans le passé.{covered}</p>"
        "<table><caption>Erreur des essais (MASE, plus petit = meilleur)</caption><thead><tr>"
        '<th scope="col">Méthode</th><th scope="col">MASE</th></tr></thead><tbody>'
        f'<tr><th scope="row">Méthode retenue</th><td class="n">{_mase(bt["mase"])}</td></tr>'
        f'<tr><th scope="row">« comme la dernière valeur »</th>'
        f'<td class="n">{_mase(base.get("naive"))}</td></tr>'
        f'<tr><th scope="row">« comme l\'an dernier »</th>'
        f'<td class="n">{_mase(base.get("seasonal_naive"))}</td></tr>'
        f'<tr><th scope="row">prolongement de la tendance</th>'
        f'<td class="n">{_mase(base.get("drift"))}</td></tr></tbody></table>'
        + peers_block(entry)
        + "</section>"
    )
    return scrollable(html)


def peers_block(entry: dict[str, Any]) -> str:
    peers = entry.get("peers")
    if not peers:
        return ""
    per = f"pour {number(peers['per'], 0)} habitants"
    rows = "".join(
        f'<tr><td>{escape(p["series_id"])}</td><td class="n">{number(p["rate"], 1)}</td>'
        f'<td class="n">{number(p["population"], 0)} ({p["population_year"]})</td>'
        f"<td>{'oui' if p['same_departement'] else 'non'}</td></tr>"
        for p in peers["peers"]
    )
    dep = (
        f" ; médiane du département {escape(peers['departement'])} : "
        f"{number(peers['departement_median'], 1)}"
        if peers.get("departement_median") is not None
        else ""
    )
    return (
        "<h3>Comparaison avec des territoires semblables</h3>"
        f"<p>En {peers['year']} : {number(peers['rate'], 1)} {per} "
        f"({number(peers['value'], 0)} pour {number(peers['population'], 0)} habitants en "
        f"{peers['population_year']}). Communes de {escape(peers['band'])} : médiane "
        f"{number(peers['band_median'], 1)}, rang {peers['rank']} sur {peers['of']} (du plus "
        f"bas au plus haut){dep}. Population : {escape(peers['population_source'])}.</p>"
        + (
            f"<table><caption>Communes comparables ({per}, {peers['year']})</caption><thead><tr>"
            '<th scope="col">Série</th><th scope="col">Valeur</th>'
            '<th scope="col">Population (année)</th><th scope="col">Même département</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
    )


def issues_section(issues: list[dict[str, Any]]) -> str:
    if not issues:
        return (
            '<section aria-labelledby="import"><h2 id="import">Import</h2>'
            "<p>Toutes les lignes ont été lues.</p></section>"
        )
    rows = "".join(
        f'<tr><td>{escape(i["file"])}</td><td class="n">{i["line"] or "—"}</td>'
        f"<td>{escape(i['reason'])}</td></tr>"
        for i in issues[:1000]
    )
    more = f"<p>… et {len(issues) - 1000} autres (forecast.json).</p>" if len(issues) > 1000 else ""
    return scrollable(
        '<section aria-labelledby="import"><h2 id="import">Import : lignes signalées</h2>'
        '<table><thead><tr><th scope="col">Fichier</th><th scope="col">Ligne</th>'
        f'<th scope="col">Motif</th></tr></thead><tbody>{rows}</tbody></table>{more}</section>'
    )


def method_section(document: dict[str, Any]) -> str:
    run = document["run"]
    versions = ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v)
    files = ", ".join(
        f"{escape(f['name'])} (SHA-256 {escape(f['sha256'][:16])}…)"
        for f in document["inputs"]["files"]
    )
    return (
        '<section aria-labelledby="methode"><h2 id="methode">Méthode</h2>'
        "<p>Chaque série est corrigée de ses variations saisonnières (profil propre, rapproché "
        "de celui des autres séries du fichier quand il est bruité), puis prévue par la "
        "moyenne de plusieurs modèles de la bibliothèque statsforecast. La méthode est "
        "vérifiée en se replaçant dans le passé (origine glissante) et comparée aux méthodes "
        "naïves ; la largeur des intervalles vient des erreurs de ces essais, et non des "
        "hypothèses des modèles. Elle s'abstient (prévision indicative) quand elle ne fait "
        "pas mieux que les méthodes naïves, quand la série est trop courte, ou quand les "
        "dernières valeurs rompent avec le passé.</p>"
        f"<p>Fichiers : {files}. Empreinte des entrées : "
        f"{escape(document['inputs']['sha256'])}. Versions : {escape(versions)}. Temps de "
        f"calcul : {number(run['cpu_seconds'], 1)} s de processeur ; énergie estimée "
        f"{number(run['energy_wh'] * 1000, 1)} mWh ({escape(run['energy_method'])}).</p>"
        "</section>"
    )
