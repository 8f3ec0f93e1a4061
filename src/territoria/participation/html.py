"""The report as one self-contained HTML page: French, printable, readable without JavaScript.

Everything is inline (CSS, SVG charts); each chart is followed by the same data as a table;
every synthesis sentence links to the contributions or statements behind it; quotes link to
their contribution in the appendix and give their character offsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from territoria.french_numbers import number
from territoria.participation import svg
from territoria.participation.language import name_of
from territoria.participation.method import plural

_CSS = """
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:60rem;margin:0 auto;padding:1rem;
color:#1a1a1a}
h1,h2,h3{line-height:1.25}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.5rem}
a{color:#005a8c}a:focus{outline:3px solid #E69F00}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
blockquote{margin:.5rem 0;padding:.4rem .8rem;border-left:4px solid #009E73;background:#f3faf7}
.meta{color:#555;font-size:.85rem}.kw{font-weight:600}
.contribution{border-top:1px solid #ddd;padding:.4rem 0}
.contribution p{white-space:pre-wrap;margin:.2rem 0}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
@media print{a{color:#000;text-decoration:none}nav,.skip{display:none}details{display:block}
details>*{display:block}h2{page-break-before:always}#synthese>h2{page-break-before:avoid}svg{max-width:100%!important}}
"""


def render(document: dict[str, Any], *, max_contributions: int = 3000) -> str:
    index = {c["id"]: i for i, c in enumerate(document["contribution_texts"])}
    parts = [
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Synthèse de la consultation</title>",
        f"<style>{_CSS}</style></head><body>",
        '<a class="skip" href="#synthese">Aller à la synthèse</a>',
        "<header><h1>Synthèse de la consultation</h1>",
        f'<p class="meta">{_header(document)}</p></header>',
        _nav(document),
        "<main>",
        _synthesis(document, index),
        _themes(document, index),
        _territories(document),
        _opinions(document, index),
        _questionnaires(document),
        _duplicates(document, index),
        _appendix(document, index, max_contributions),
        _import(document),
        _method(document),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p)


FORMATS = {
    "polis": "export pol.is",
    "decidim-comments": "commentaires Decidim",
    "decidim-proposals": "propositions Decidim",
    "decidim-debates": "débats Decidim",
    "decidim-survey": "questionnaire Decidim",
    "table": "tableau de contributions",
    "questionnaire": "questionnaire",
    "workshop": "notes d'atelier",
    "illisible": "illisible",
}


def _header(document: dict[str, Any]) -> str:
    parts = [plural(document["contributions"], "contribution")]
    if document.get("people") is not None:
        parts[0] += f" de {plural(document['people'], 'personne')}"
    parts.append(plural(len(document["import"]["files"]), "fichier"))
    workshops = document.get("workshops") or []
    if workshops:
        people = sum(w["participants"] or 0 for w in workshops)
        parts.append(
            f"{plural(len(workshops), 'groupe d’atelier', 'groupes d’atelier')}"
            + (f" ({plural(people, 'participant')})" if people else "")
        )
    issues = len(document["import"]["issues"])
    if issues:
        parts.append(
            f"{plural(issues, 'ligne ou élément', 'lignes ou éléments')} "
            f"{'signalés' if issues > 1 else 'signalé'} à l'import"
        )
    languages = document.get("languages") or {}
    if languages.get("main"):
        parts.append(f"textes lus en {name_of(languages['main'])}")
    parts.append("textes pseudonymisés")
    return escape(" · ".join(parts))


def _see(count: int) -> str:
    return "voir la contribution" if count == 1 else f"voir les {count} contributions"


def _anchor(index: dict[str, int], cid: str) -> str:
    return f"#c-{index[cid]}" if cid in index else "#contributions"


def _nav(document: dict[str, Any]) -> str:
    links = [("synthese", "Synthèse"), ("themes", "Thèmes")]
    if document["territory_matrix"]["territories"]:
        links.append(("territoires", "Territoires"))
    if document["opinion"]:
        links.append(("opinions", "Groupes d'opinion"))
    if document["questionnaires"]:
        links.append(("questionnaires", "Questionnaires"))
    links += [("contributions", "Contributions"), ("import", "Import"), ("methode", "Méthode")]
    items = "".join(f'<li><a href="#{a}">{escape(t)}</a></li>' for a, t in links)
    return f'<nav aria-label="Sommaire"><h2>Sommaire</h2><ol>{items}</ol></nav>'


def _links(ids: Sequence[str], index: dict[str, int], label: str) -> str:
    if not ids:
        return ""
    if len(ids) <= 5:
        inner = ", ".join(f'<a href="{_anchor(index, i)}">n° {escape(i)}</a>' for i in ids)
        return f' <span class="meta">({label} : {inner})</span>'
    return ""


def _synthesis(document: dict[str, Any], index: dict[str, int]) -> str:
    items = []
    for sentence in document["synthesis"]:
        text = escape(sentence["text"])
        if "theme" in sentence:
            text += (
                f' <a href="#theme-{escape(sentence["theme"])}">'
                f"({_see(len(sentence['contribution_ids']))})</a>"
            )
        elif sentence.get("statement_ids"):
            ids = sentence["statement_ids"]
            text += _links(ids, index, "affirmations") or (
                f' <a href="#opinions">(voir les {len(ids)} affirmations)</a>'
                if len(ids) > 1
                else ' <a href="#opinions">(voir l\'affirmation)</a>'
            )
        elif sentence.get("contribution_ids"):
            text += _links(sentence["contribution_ids"], index, "contributions") or (
                ' <a href="#doublons">(voir le groupe)</a>'
            )
        elif "question" in sentence:
            text += ' <a href="#questionnaires">(voir la question)</a>'
        items.append(f"<li>{text}</li>")
    return f'<section id="synthese"><h2>Synthèse</h2><ol>{"".join(items)}</ol></section>'


def _themes(document: dict[str, Any], index: dict[str, int]) -> str:
    themes = [t for t in document["themes"] if t["size"] or not t["other"]]
    if not themes:
        return '<section id="themes"><h2>Thèmes</h2><p>Aucune contribution à classer.</p></section>'
    chart = svg.bar_chart(
        "chart-themes",
        "Nombre de contributions par thème",
        [t["label"] for t in themes],
        [t["size"] for t in themes],
    )
    known = document.get("people") is not None
    rows = "".join(
        f'<tr><td><a href="#theme-{escape(t["id"])}">{escape(t["label"])}</a></td>'
        f'<td class="n">{t["size"]}</td><td class="n">{_pct(t["share"])}</td>'
        + (f'<td class="n">{t["people"]}</td>' if known else "")
        + "</tr>"
        for t in themes
    )
    table = (
        "<table><caption>Taille des thèmes (données du graphique)</caption><thead><tr>"
        '<th scope="col">Thème</th><th scope="col">Contributions</th><th scope="col">Part</th>'
        + ('<th scope="col">Personnes</th>' if known else "")
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    sections = [_theme(t, index) for t in themes]
    return (
        f'<section id="themes"><h2>Thèmes</h2><figure>{chart}'
        f"<figcaption>Nombre de contributions par thème.</figcaption></figure>{table}"
        f"{''.join(sections)}</section>"
    )


def _theme(theme: dict[str, Any], index: dict[str, int]) -> str:
    keywords = ", ".join(theme["keywords"]) or "—"
    places = " ; ".join(
        f"{escape(t['territory'])} : {'moins de 5 personnes' if t['suppressed'] else t['count']}"
        for t in theme["territories"][:8]
    )
    quotes = "".join(
        f'<blockquote cite="{_anchor(index, q["contribution_id"])}" data-start="{q["start"]}" '
        f'data-end="{q["end"]}"><p>« {escape(q["text"])} »</p>'
        f'<footer class="meta">Contribution <a href="{_anchor(index, q["contribution_id"])}">'
        f"n° {escape(q['contribution_id'])}</a></footer>"
        "</blockquote>"
        for q in theme["quotes"]
    )
    members = " ".join(
        f'<a href="{_anchor(index, cid)}">{escape(cid)}</a>' for cid in theme["contribution_ids"]
    )
    who = f", {plural(theme['people'], 'personne')}" if theme.get("people") is not None else ""
    groups = theme.get("workshop_groups") or []
    if groups:
        who += f" ; thème cité par {plural(len(groups), 'groupe d’atelier', 'groupes d’atelier')}"
    title = theme.get("title") or {}
    origin = ""
    if title.get("source") == "LLM":
        origin = ' <span class="meta">(titre proposé par le modèle de langue, vérifié)</span>'
    elif title.get("example_id"):
        origin = (
            ' <span class="meta">(expression reprise de la contribution '
            f'<a href="{_anchor(index, title["example_id"])}">n° {escape(title["example_id"])}'
            "</a>)</span>"
        )
    summary = (
        "La contribution du thème"
        if theme["size"] == 1
        else f"Les {theme['size']} contributions du thème"
    )
    return (
        f'<section id="theme-{escape(theme["id"])}" aria-labelledby="h-{escape(theme["id"])}">'
        f'<h3 id="h-{escape(theme["id"])}">{escape(theme["label"])}</h3>'
        f"<p>{plural(theme['size'], 'contribution')} ({_pct(theme['share'])}){who}.{origin}</p>"
        f'<p><span class="kw">Mots-clés :</span> {escape(keywords)}.</p>'
        + (f"<p>Territoires : {places}.</p>" if places else "")
        + quotes
        + f"<details><summary>{summary}</summary><p>{members}</p></details></section>"
    )


def _territories(document: dict[str, Any]) -> str:
    matrix = document["territory_matrix"]
    if not matrix["territories"]:
        return ""
    labels = {t["id"]: t["label"] for t in document["themes"]}
    rows = [labels[t] for t in matrix["themes"]]
    chart = svg.heatmap(
        "chart-territories",
        "Contributions par thème et par territoire",
        rows,
        matrix["territories"],
        matrix["cells"],
    )
    head = "".join(f'<th scope="col">{escape(t)}</th>' for t in matrix["territories"])
    body = "".join(
        f'<tr><th scope="row">{escape(rows[i])}</th>'
        + "".join(f'<td class="n">{"&lt;5" if v is None else v}</td>' for v in matrix["cells"][i])
        + "</tr>"
        for i in range(len(rows))
    )
    return (
        f'<section id="territoires"><h2>Territoires</h2><figure>{chart}<figcaption>'
        "Croisement thèmes × territoires ; « &lt;5 » : moins de 5 personnes, non détaillé."
        f"</figcaption></figure><table><caption>Données du croisement</caption><thead><tr><td></td>"
        f"{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _statement_rows(items: Sequence[dict[str, Any]], index: dict[str, int], k: int) -> str:
    rows = []
    for item in items:
        rates = "".join(
            f'<td class="n">{100 * (item["agree"][g] + 1) / (item["seen"][g] + 2):.0f} % / '
            f"{100 * (item['disagree'][g] + 1) / (item['seen'][g] + 2):.0f} %</td>"
            for g in range(k)
        )
        rows.append(
            f'<tr><td><a href="{_anchor(index, item["statement"])}">{escape(item["statement"])}'
            f"</a></td><td>{escape(item['text'])}</td>{rates}</tr>"
        )
    return "".join(rows)


def _opinions(document: dict[str, Any], index: dict[str, int]) -> str:
    if not document["opinion"]:
        return ""
    out = ['<section id="opinions"><h2>Groupes d\'opinion</h2>']
    for op in document["opinion"]:
        out.append(f"<h3>{escape(op['name'])}</h3>")
        if op["k"] < 2:
            out.append(f"<p>{escape(op['note'])}</p>")
            continue
        names = [f"Groupe {chr(65 + g['id'])}" for g in op["groups"]]
        group_of = dict(document["participant_groups"])
        points: list[tuple[float, float, int]] = [
            (xy[0], xy[1], int(group_of.get(p, group_of.get(f"{op['name']}:{p}", -1)) or 0))
            for p, xy in list(op["projection"].items())[:5000]
        ]
        out.append(
            "<figure>"
            + svg.scatter("chart-map-" + str(len(out)), "Carte des opinions", points, names)
            + "<figcaption>Chaque point est un participant placé selon ses votes "
            "(analyse en composantes principales) ; la forme et la couleur donnent son "
            "groupe.</figcaption></figure>"
        )
        rows = "".join(
            f'<tr><th scope="row">{names[g["id"]]}</th><td class="n">{g["size"]}</td><td>'
            + "; ".join(
                f"{'pour' if r['side'] == 'agree' else 'contre'} « {escape(r['text'])} »"
                for r in g["representative"][:3]
            )
            + "</td></tr>"
            for g in op["groups"]
        )
        out.append(
            "<table><caption>Groupes d'opinion (données de la carte)</caption><thead><tr>"
            '<th scope="col">Groupe</th><th scope="col">Participants</th>'
            '<th scope="col">Affirmations qui le distinguent</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
        head = "".join(f'<th scope="col">{n} (accord / désaccord)</th>' for n in names)
        for title, items in (("Consensus", op["consensus"]), ("Clivages", op["divisive"])):
            if not items:
                continue
            out.append(
                f'<h4>{title} ({len(items)})</h4><table><thead><tr><th scope="col">N°</th>'
                f'<th scope="col">Affirmation</th>{head}</tr></thead><tbody>'
                f"{_statement_rows(items[:30], index, op['k'])}</tbody></table>"
            )
    out.append("</section>")
    return "".join(out)


def _questionnaires(document: dict[str, Any]) -> str:
    if not document["questionnaires"]:
        return ""
    out = ['<section id="questionnaires"><h2>Questionnaires</h2>']
    for qi, questionnaire in enumerate(document["questionnaires"]):
        out.append(f"<p>{questionnaire['respondents']} répondants.</p>")
        for i, q in enumerate(questionnaire["questions"]):
            scale = q["scale"]
            chart = svg.stacked_bar(
                f"chart-q{qi}-{i}", q["question"], scale, [q["counts"][v] for v in scale]
            )
            head = "".join(f'<th scope="col">{escape(v)}</th>' for v in scale)
            rows = [
                '<tr><th scope="row">Ensemble</th>'
                + "".join(f'<td class="n">{q["counts"][v]}</td>' for v in scale)
                + f'<td class="n">{q["n"]}</td><td class="n">{_score(q["mean_score"])}</td></tr>'
            ]
            for t in q["by_territory"]:
                if t.get("suppressed"):
                    rows.append(
                        f'<tr><th scope="row">{escape(t["territory"])}</th>'
                        f'<td colspan="{len(scale) + 2}">moins de 5 répondants : non détaillé'
                        "</td></tr>"
                    )
                    continue
                rows.append(
                    f'<tr><th scope="row">{escape(t["territory"])}</th>'
                    + "".join(f'<td class="n">{t["counts"][v]}</td>' for v in scale)
                    + f'<td class="n">{t["n"]}</td><td class="n">{_score(t["mean_score"])}</td>'
                    "</tr>"
                )
            out.append(
                f"<h3>{escape(q['question'])}</h3><figure>{chart}</figure><table><caption>"
                f"Réponses par territoire</caption><thead><tr><td></td>{head}"
                '<th scope="col">Total</th><th scope="col">Score moyen (0-100)</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
    out.append("</section>")
    return "".join(out)


def _pct(share: float) -> str:
    """French notation: 12,4 %."""
    return number(100 * share, 1) + "\u00a0%"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _duplicates(document: dict[str, Any], index: dict[str, int]) -> str:
    groups = document["duplicates"]
    if not groups:
        return ""
    items = "".join(
        f"<li>{g['size']} textes : "
        + " ".join(f'<a href="{_anchor(index, c)}">{escape(c)}</a>' for c in g["contribution_ids"])
        + "</li>"
        for g in groups[:50]
    )
    more = (
        f"<p>… et {len(groups) - 50} autres groupes (voir report.json).</p>"
        if len(groups) > 50
        else ""
    )
    return (
        '<section id="doublons"><h2>Contributions identiques ou quasi identiques</h2>'
        f"<ul>{items}</ul>{more}</section>"
    )


def _appendix(document: dict[str, Any], index: dict[str, int], limit: int) -> str:
    items = document["contribution_texts"]
    if len(items) > limit:
        wanted = {q["contribution_id"] for t in document["themes"] for q in t["quotes"]}
        shown = [c for c in items if c["id"] in wanted]
        note = (
            f"<p>{len(items)} contributions : seules les {len(shown)} citées sont reproduites "
            "ici ; la liste complète est dans report.json.</p>"
        )
    else:
        shown, note = items, ""
    labels = {t["id"]: t["label"] for t in document["themes"]}
    articles = []
    for c in shown:
        meta = " · ".join(
            escape(str(v))
            for v in (c["kind"], c["territory"], c["group"], c["question"], c["date"])
            if v
        )
        articles.append(
            f'<article class="contribution" id="c-{index[c["id"]]}"><h3 class="meta">'
            f"n° {escape(c['id'])} · thème « {escape(labels.get(c['theme'], c['theme']))} »</h3>"
            f'<p>{escape(c["text"])}</p><p class="meta">{meta}</p></article>'
        )
    return (
        '<section id="contributions"><h2>Contributions (textes pseudonymisés)</h2>'
        f"{note}{''.join(articles)}</section>"
    )


def _import(document: dict[str, Any]) -> str:
    files = "".join(
        f"<tr><td>{escape(str(f['path']))}</td>"
        f"<td>{escape(FORMATS.get(str(f['format']), str(f['format'])))}</td>"
        f'<td class="n">{f.get("rows", "")}</td>'
        f'<td class="n">{f.get("contributions", "")}</td></tr>'
        for f in document["import"]["files"]
    )
    issues = document["import"]["issues"]
    rows = "".join(
        f'<tr><td>{escape(i["source"])}</td><td class="n">{i["line"] or ""}</td>'
        f"<td>{escape(i['reason'])}</td></tr>"
        for i in issues[:500]
    )
    more = (
        f"<p>… et {len(issues) - 500} autres (voir report.json).</p>" if len(issues) > 500 else ""
    )
    return (
        '<section id="import"><h2>Import</h2><table><caption>Fichiers lus</caption><thead><tr>'
        '<th scope="col">Fichier</th><th scope="col">Format</th><th scope="col">Lignes</th>'
        f'<th scope="col">Contributions</th></tr></thead><tbody>{files}</tbody></table>'
        f"<table><caption>Lignes ou éléments non retenus ({len(issues)})</caption><thead><tr>"
        '<th scope="col">Fichier</th><th scope="col">Ligne</th><th scope="col">Motif</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>{more}</section>"
    )


def _method(document: dict[str, Any]) -> str:
    method = document["method"]
    privacy = document["privacy"]
    plain = "".join(f"<li>{escape(line)}</li>" for line in method.get("description", []))
    notes = "".join(f"<li>{escape(line)}</li>" for line in privacy["notes"])
    technical = "".join(f"<li>{escape(line)}</li>" for line in method.get("technical", []))
    return (
        '<section id="methode"><h2>Méthode et confidentialité</h2>'
        f"<h3>Comment cette synthèse a été faite</h3><ul>{plain}</ul>"
        f"<h3>Données personnelles</h3><ul>{notes}</ul>"
        '<p><a href="#details-techniques">Détails techniques de la méthode</a></p></section>'
        '<section id="details-techniques"><h2>Détails techniques</h2>'
        "<p>Pour les personnes qui veulent refaire ou vérifier les calculs.</p>"
        f"<ul>{technical}</ul></section>"
    )
