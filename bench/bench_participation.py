"""Participation synthesis on real data: opinion groups, themes, quotes, personal data, scale.

    .venv/bin/python bench/bench_participation.py                 # everything (~15 min)
    .venv/bin/python bench/bench_participation.py --only polis,lille,quotes,pii
    .venv/bin/python bench/bench_participation.py --only scale --scale-n 100000

Sections (figures printed, and merged into bench/results/participation.json):
- polis: adjusted Rand index between our opinion groups (k chosen automatically) and pol.is's
  `group-id`, over the participants pol.is put in a group, for the 7 conversations.
- lille: themes of the 693 comments of the Lille Grand Débat (Decidim) against their 29
  questions and 4 themes (NMI, ARI), a TF-IDF + k-means floor, and the stability of the themes
  between two seeds (ARI). Labels are only used to score, never to cluster.
- quotes: every quote of every report built here is checked verbatim at its offsets in the
  stored text (after NFC) and found in the source text of the contribution it names.
- pii: a report built from the sentences of shared/data/pii/dev.jsonl with the real PII guard;
  counts the gold personal data items found anywhere in report.json or report.html.
- scale: N synthetic contributions (sentences of the Lille data recombined, 40 communes) analysed
  end to end in a subprocess with the real guard; wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
POLIS = DATA / "participation" / "polis"
LILLE = DATA / "participation" / "decidim_mel_granddebat"
RESULTS = ROOT / "bench" / "results" / "participation.json"
QUESTIONNAIRE = ROOT / "tests" / "participation" / "fixtures" / "questionnaire_mobilite.csv"


def _settings(home: Path) -> Any:
    from territoria.settings import Settings

    return Settings(home=home)


_GRID_RESAMPLE = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_Z_FIXED = 1.0  # one standard deviation above a single cloud
_FLOOR = 0.5  # an ARI under this is a grouping that would mislead


def _errors(rows: list[dict[str, Any]], t_resample: float, t_z: float) -> tuple[int, int]:
    """(wrong decisions, groups withheld): a stable verdict on ARI < floor, or an unstable
    verdict on ARI >= floor, is wrong."""
    wrong = withheld = 0
    for r in rows:
        stable = r["resample_ari"] >= t_resample and r["structure_z"] >= t_z
        withheld += not stable
        wrong += stable != (r["ari"] >= _FLOOR)
    return wrong, withheld


def choose_rule(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The resample threshold in the middle of those with the fewest wrong verdicts (then the
    fewest groups withheld); the structure threshold is fixed beforehand (`_Z_FIXED`): one
    unclear conversation left out would otherwise leave nothing to set it on."""
    scored = {a: _errors(rows, a, _Z_FIXED) for a in _GRID_RESAMPLE}
    best = min(scored.values())
    optimal = [a for a in _GRID_RESAMPLE if scored[a] == best]
    return optimal[len(optimal) // 2], _Z_FIXED


def bench_polis() -> dict[str, Any]:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from territoria.participation.opinion import StabilityRule, analyze_votes
    from territoria.participation.polis import load_polis

    default = StabilityRule()
    rows = {}
    for folder in sorted(p for p in POLIS.iterdir() if p.is_dir()):
        matrix = load_polis(folder).vote_matrices[0]
        start, cpu = time.perf_counter(), time.process_time()
        result = analyze_votes(matrix, seed=0)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        groups = result.tentative or result.groups  # the groups found, drawn or not
        reference = matrix.reference_groups
        ids = [p for p in reference if p in groups]
        ari = adjusted_rand_score([reference[p] for p in ids], [groups[p] for p in ids])
        check = result.stability
        rows[folder.name] = {
            "ari": round(float(ari), 3),
            "k": len(set(groups.values())),
            "polis_k": len(set(reference.values())),
            "polis_grouped": len(reference),
            "covered": len(ids),
            "resample_ari": check.resample_ari if check else None,
            "structure_z": check.structure_z if check else None,
            "stable_default_rule": bool(check and check.stable),
            "consensus": len(result.consensus),
            "divisive": len(result.divisive),
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
        }
        r = rows[folder.name]
        print(
            f"  {folder.name:34s} ARI {ari:.3f}  k={r['k']} (pol.is {r['polis_k']})"
            f"  rééchantillons {r['resample_ari']}  structure z {r['structure_z']}"
            f"  {'nets' if r['stable_default_rule'] else 'PAS NETS'}"
            f"  ({r['cpu_seconds']} s CPU)"
        )
    names = list(rows)
    scored = [dict(rows[n], name=n) for n in names if rows[n]["resample_ari"] is not None]
    out_of_conv = {}
    for held in scored:
        others = [r for r in scored if r["name"] != held["name"]]
        t_resample, t_z = choose_rule(others)
        stable = held["resample_ari"] >= t_resample and held["structure_z"] >= t_z
        out_of_conv[held["name"]] = {
            "rule": [t_resample, t_z],
            "stable": stable,
            "ari": held["ari"],
        }
    in_rule = choose_rule(scored)

    def summary_of(decisions: dict[str, dict[str, Any]]) -> dict[str, Any]:
        drawn = [d["ari"] for d in decisions.values() if d["stable"]]
        return {
            "median_ari_drawn": round(float(np.median(drawn)), 3) if drawn else None,
            "drawn": len(drawn),
            "withheld": len(decisions) - len(drawn),
            "drawn_below_floor": sorted(
                n for n, d in decisions.items() if d["stable"] and d["ari"] < _FLOOR
            ),
        }

    default_decisions = {
        n: {"stable": rows[n]["stable_default_rule"], "ari": rows[n]["ari"]} for n in names
    }
    summary = {
        "conversations": rows,
        "median_ari_all": round(float(np.median([r["ari"] for r in rows.values()])), 3),
        "default_rule": [default.min_resample_ari, default.min_structure_z],
        "default_rule_result": summary_of(default_decisions),
        "in_sample_rule": list(in_rule),
        "leave_one_conversation_out": out_of_conv,
        "leave_one_conversation_out_result": summary_of(out_of_conv),
    }
    print(f"  médiane ARI (toutes, groupes tracés ou non) : {summary['median_ari_all']:.3f}")
    print(f"  règle par défaut {summary['default_rule']} : {summary['default_rule_result']}")
    print(f"  règle choisie sur les 7 : {summary['in_sample_rule']}")
    for n, d in out_of_conv.items():
        print(
            f"    hors conversation {n:34s} règle {d['rule']} -> "
            f"{'nets' if d['stable'] else 'pas nets'} (ARI {d['ari']:.3f})"
        )
    print(f"  hors conversation : {summary['leave_one_conversation_out_result']}")
    return summary


def _analyze(paths: list[Path], out: Path, home: Path, **options: Any) -> dict[str, Any]:
    from territoria.participation import AnalysisOptions, analyze

    report = analyze(paths, _settings(home), out_dir=out, options=AnalysisOptions(**options))
    data = report.data
    data["_timings"] = report.timings
    return data


def bench_lille(work: Path) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Path]]]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score as ari
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from territoria.search.analysis import FrenchAnalyzer

    source = LILLE / "commentaires_debats.pseudonymised.csv"
    rows = list(csv.DictReader(source.open(encoding="utf-8")))
    gold_q = {r["comment_id"]: r["question"] for r in rows}
    gold_t = {r["comment_id"]: r["theme"] for r in rows}
    runs, reports = [], []
    for seed in (0, 1):
        start = time.perf_counter()
        data = _analyze([source], work / f"lille-{seed}", work / "home", seed=seed)
        elapsed = time.perf_counter() - start
        reports.append((data, source))
        predicted = {c["id"]: c["theme"] for c in data["contribution_texts"]}
        ids = sorted(predicted)
        scores = {
            "questions_nmi": nmi([gold_q[i] for i in ids], [predicted[i] for i in ids]),
            "questions_ari": ari([gold_q[i] for i in ids], [predicted[i] for i in ids]),
            "themes_nmi": nmi([gold_t[i] for i in ids], [predicted[i] for i in ids]),
            "themes_ari": ari([gold_t[i] for i in ids], [predicted[i] for i in ids]),
        }
        runs.append(
            {
                "seed": seed,
                **{k: round(float(v), 3) for k, v in scores.items()},
                "themes": data["method"]["themes"],
                "not_classified": next(t["size"] for t in data["themes"] if t["other"]),
                "representation": data["method"]["representation"],
                "seconds": round(elapsed, 1),
                "labels": {c["id"]: c["theme"] for c in data["contribution_texts"]},
            }
        )
    a, b = (runs[0].pop("labels"), runs[1].pop("labels"))
    stability = ari([a[i] for i in sorted(a)], [b[i] for i in sorted(a)])
    texts = [r["body"] for r in rows]
    floor = {}
    for name, analyzer in (("tfidf", "word"), ("tfidf_french", FrenchAnalyzer())):
        matrix = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2).fit_transform(
            texts
        )
        for k, gold in ((29, [r["question"] for r in rows]), (4, [r["theme"] for r in rows])):
            labels = KMeans(k, n_init=10, random_state=0).fit_predict(matrix)
            floor[f"{name}_k{k}"] = {
                "nmi": round(float(nmi(gold, labels)), 3),
                "ari": round(float(ari(gold, labels)), 3),
            }
    summary = {"runs": runs, "stability_ari": round(float(stability), 3), "floor": floor}
    for run in runs:
        print(
            f"  graine {run['seed']} : {run['themes']} thèmes"
            f" (+{run['not_classified']} non classées)"
            f"  questions NMI {run['questions_nmi']:.3f} ARI {run['questions_ari']:.3f}"
            f"  thèmes NMI {run['themes_nmi']:.3f} ARI {run['themes_ari']:.3f}"
            f"  ({run['seconds']} s)"
        )
    print(f"  stabilité (ARI entre graines 0 et 1) : {stability:.3f}")
    for name, value in floor.items():
        print(f"  plancher {name} : NMI {value['nmi']:.3f} ARI {value['ari']:.3f}")
    return summary, reports


def rubric(label: str, quotes: list[str], members: list[str], other_labels: list[str]) -> dict:
    """A reader's test of one theme label, 0 to 4 points:
    form: a phrase a person would write (not a keyword list, at most 6 words, no pseudonym);
    quotes: share of the 3 quotes that say what the label names (half of its content words
    or more occur in the quote);
    specific: none of its content words is in another theme's label;
    coverage: its content words occur together in 20 % of the theme's contributions or more.
    """
    from territoria.participation.keywords import Tokenizer

    tokenizer = Tokenizer()
    stems = tokenizer.stems(label.split("(")[0])
    words = label.replace("·", " ").split()
    form = float("·" in label) == 0 and len(words) <= 6 and "[" not in label
    named = [q for q in quotes if stems and len(stems & tokenizer.stems(q)) >= len(stems) / 2]
    quote_share = len(named) / len(quotes) if quotes else 0.0
    others = set().union(*(tokenizer.stems(o.split("(")[0]) for o in other_labels))
    specific = bool(stems) and not (stems & others)
    holders = sum(1 for m in members if stems and stems <= tokenizer.stems(m))
    coverage = bool(members) and holders / len(members) >= 0.2
    points = float(form) + quote_share + float(specific) + float(coverage)
    return {
        "form": bool(form),
        "quotes": round(quote_share, 3),
        "specific": specific,
        "coverage": bool(coverage),
        "points": round(points, 3),
    }


def bench_titles(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The rubric on every theme of each report: the titles against the keyword labels."""
    summary: dict[str, Any] = {}
    for name, data in reports.items():
        texts = {c["id"]: c["text"] for c in data["contribution_texts"]}
        themes = [t for t in data["themes"] if not t["other"]]
        old_labels = [" · ".join(t["keywords"][:3]) for t in themes]
        rows = []
        for i, t in enumerate(themes):
            quotes = [q["text"] for q in t["quotes"]]
            members = [texts[c] for c in t["contribution_ids"]]
            new = rubric(t["label"], quotes, members, [x["label"] for x in themes if x is not t])
            old = rubric(old_labels[i], quotes, members, old_labels[:i] + old_labels[i + 1 :])
            rows.append(
                {
                    "theme": t["id"],
                    "title": t["label"],
                    "old_label": old_labels[i],
                    "size": t["size"],
                    "title_rubric": new,
                    "old_rubric": old,
                }
            )
            print(
                f"  {name} {t['id']:4s} {new['points']:.2f} « {t['label']} »"
                f"  (avant {old['points']:.2f} « {old_labels[i]} »)"
            )
        mean_new = sum(r["title_rubric"]["points"] for r in rows) / max(len(rows), 1)
        mean_old = sum(r["old_rubric"]["points"] for r in rows) / max(len(rows), 1)
        summary[name] = {
            "themes": rows,
            "mean_points_titles": round(mean_new, 3),
            "mean_points_keyword_labels": round(mean_old, 3),
        }
        print(f"  {name} : rubrique moyenne {mean_new:.2f}/4 (libellés mots-clés {mean_old:.2f}/4)")
    return summary


def _source_texts(path: Path) -> dict[str, str]:
    """Source texts by contribution id, read independently of the importers."""
    from territoria.participation.privacy import clean_text

    if path.is_dir():
        rows = csv.DictReader((path / "comments.csv").open(encoding="utf-8"))
        return {r["comment-id"]: clean_text(r["comment-body"]) for r in rows}
    if path.suffix == ".jsonl":
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        return {str(x["id"]): clean_text(x["text"]) for x in lines}
    if path == QUESTIONNAIRE:
        rows = csv.DictReader(path.open(encoding="utf-8"), delimiter=";")
        column = "Vos suggestions pour améliorer la mobilité"
        return {r["Identifiant"]: clean_text(r.get(column) or "") for r in rows}
    rows = csv.DictReader(path.open(encoding="utf-8"))
    return {r["comment_id"]: clean_text(r["body"]) for r in rows}


def bench_quotes(reports: list[tuple[dict[str, Any], Path]]) -> dict[str, Any]:
    total = verbatim = attributed = checked = 0
    for data, source in reports:
        stored = {c["id"]: c["text"] for c in data["contribution_texts"]}
        original = _source_texts(source)
        for theme in data["themes"]:
            for q in theme["quotes"]:
                total += 1
                text = unicodedata.normalize("NFC", stored[q["contribution_id"]])
                ok = text[q["start"] : q["end"]] == unicodedata.normalize("NFC", q["text"])
                ok = ok and q["contribution_id"] in theme["contribution_ids"]
                verbatim += ok
                if "[" not in q["text"]:  # quotes without pseudonyms are in the source as is
                    checked += 1
                    attributed += q["text"] in original.get(q["contribution_id"], "")
    summary = {
        "quotes": total,
        "verbatim_at_offsets": verbatim,
        "attribution_checked": checked,
        "found_in_source_of_that_id": attributed,
    }
    print(
        f"  {total} citations : {verbatim} littérales aux positions données ; "
        f"{attributed}/{checked} retrouvées dans le texte source de la contribution citée"
    )
    return summary


def bench_pii(work: Path) -> tuple[dict[str, Any], tuple[dict[str, Any], Path]]:
    gold = [json.loads(x) for x in (DATA / "pii" / "dev.jsonl").read_text().splitlines() if x]
    path = work / "pii-contributions.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, item in enumerate(gold):
            out.write(
                json.dumps({"id": f"pii-{i}", "text": item["text"]}, ensure_ascii=False) + "\n"
            )
    data = _analyze([path], work / "pii", work / "home")
    report_json = (work / "pii" / "report.json").read_text(encoding="utf-8")
    report_html = (work / "pii" / "report.html").read_text(encoding="utf-8")
    items = [e for item in gold for e in item["entities"]]
    survivors = [
        e
        for e in items
        if e["text"] in report_json
        or e["text"] in report_html
        or html.escape(e["text"]) in report_html
        or json.dumps(e["text"], ensure_ascii=False)[1:-1] in report_json
    ]
    clean = [item for item in gold if not item["entities"]]
    stored = {c["id"]: c["text"] for c in data["contribution_texts"]}
    untouched = sum(
        stored[f"pii-{gold.index(item)}"] == unicodedata.normalize("NFC", item["text"].strip())
        for item in clean
    )
    summary = {
        "sentences": len(gold),
        "personal_items": len(items),
        "surviving_items": len(survivors),
        "surviving": [{"type": e["type"], "text": e["text"]} for e in survivors],
        "clean_sentences_unchanged": f"{untouched}/{len(clean)}",
    }
    print(
        f"  {len(items)} données personnelles dans {len(gold)} phrases : "
        f"{len(survivors)} retrouvées dans report.json/report.html ; "
        f"phrases sans donnée personnelle intactes : {untouched}/{len(clean)}"
    )
    return summary, (data, path)


def _foreign_sets(austria: Path | None) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    if austria is not None and austria.exists():
        lines = austria.read_text(encoding="utf-8").splitlines()
        if austria.suffix == ".tsv":
            sets["austria"] = [x.split("\t", 1)[1] for x in lines if "\t" in x]
        else:
            rows = csv.DictReader(lines)
            sets["austria"] = [r["comment-body"] for r in rows if r["comment-body"].strip()]
    rows = csv.DictReader((POLIS / "vtaiwan.uberx" / "comments.csv").open(encoding="utf-8"))
    sets["vtaiwan"] = [r["comment-body"] for r in rows if r["comment-body"].strip()]
    return sets


def bench_languages(work: Path, austria: Path | None) -> dict[str, Any]:
    """Person masks on contributions that are not French: every one is a false mask on an
    ordinary word (the texts name nobody), before (French guard on every text) and now."""
    import importlib.metadata

    from territoria.guard.pii import PIIGuard
    from territoria.participation.language import detect
    from territoria.participation.privacy import mask

    guard = PIIGuard(_settings(work / "home"))
    dist = importlib.metadata.distribution("py3langid")
    size = sum(f.locate().stat().st_size for f in dist.files or [] if f.locate().exists())
    summary: dict[str, Any] = {"py3langid_installed_bytes": size}
    if austria is None:
        print("  (conversation autrichienne absente : --austria CHEMIN pour la mesurer)")
    for name, texts in _foreign_sets(austria).items():
        start = time.process_time()
        languages = detect(texts)
        detect_cpu = time.process_time() - start
        before = guard.detect_batch(texts)
        before_person = [e.text for found in before for e in found if e.type == "PERSON"]
        now = mask(texts, guard, languages=languages.per_text)
        summary[name] = {
            "contributions": len(texts),
            "language": languages.main,
            "shares": languages.shares,
            "detect_cpu_seconds": round(detect_cpu, 2),
            "person_masks_before_per_100": round(100 * len(before_person) / len(texts), 2),
            "person_masks_before": before_person,
            "masks_now": now.masked,
            "person_masks_now_per_100": round(100 * now.masked.get("PERSON", 0) / len(texts), 2),
            "person_search": now.person_search,
        }
        print(
            f"  {name} : {len(texts)} contributions, langue {languages.main} {languages.shares} ; "
            f"masques de personne avant {summary[name]['person_masks_before_per_100']} / 100, "
            f"maintenant {summary[name]['person_masks_now_per_100']} / 100 ({now.masked})"
        )
    print(f"  py3langid installé : {size / 2**20:.1f} Mo")
    return summary


COMMUNES = [
    "Lille",
    "Roubaix",
    "Tourcoing",
    "Villeneuve-d'Ascq",
    "Wattrelos",
    "Marcq-en-Barœul",
    "Lambersart",
    "Armentières",
    "La Madeleine",
    "Loos",
    "Mons-en-Barœul",
    "Croix",
    "Hem",
    "Halluin",
    "Wasquehal",
    "Ronchin",
    "Faches-Thumesnil",
    "Lomme",
    "Seclin",
    "Haubourdin",
    "Wambrechies",
    "Comines",
    "Saint-André-lez-Lille",
    "Mouvaux",
    "Lys-lez-Lannoy",
    "Bondues",
    "Leers",
    "Roncq",
    "Wervicq-Sud",
    "Templemars",
    "Quesnoy-sur-Deûle",
    "Sainghin",
    "Anstaing",
    "Baisieux",
    "Bousbecque",
    "Chéreng",
    "Emmerin",
    "Forest-sur-Marque",
    "Lesquin",
    "Linselles",
]


def synthetic(path: Path, n: int, seed: int = 0) -> float:
    """N contributions: 1-2 sentences of the Lille data recombined (all distinct), plus 2 %
    copies of 5 campaign texts."""
    sentences = []
    for name, column, delimiter in (
        ("commentaires_debats.pseudonymised.csv", "body", ","),
        ("propositions-libres.csv", "body", ";"),
    ):
        for row in csv.DictReader((LILLE / name).open(encoding="utf-8"), delimiter=delimiter):
            for s in re.split(r"(?<=[.!?])\s+|\n+", row[column]):
                s = " ".join(s.split())
                if 25 <= len(s) <= 300:
                    sentences.append(s)
    rng = random.Random(seed)
    campaigns = [" ".join(rng.sample(sentences, 2)) for _ in range(5)]
    seen: set[str] = set()
    total = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["id", "texte", "commune", "auteur"])
        for i in range(n):
            if rng.random() < 0.02:
                text = rng.choice(campaigns)
            else:  # every other text is distinct: no free ride for the per-text steps
                text = " ".join(rng.sample(sentences, rng.choice((1, 2, 2))))
                while text in seen:
                    text = " ".join(rng.sample(sentences, 2))
                seen.add(text)
            total += len(text)
            writer.writerow([i, text, rng.choice(COMMUNES), f"u{rng.randrange(n // 3)}"])
    return total / n


def _watch_tree_rss(process: subprocess.Popen[str]) -> int:
    """Largest sum of RSS over the process and its children (pool workers), every 0.5 s."""
    import psutil

    peak = 0
    root = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
            peak = max(peak, sum(m.memory_info().rss for m in members if m.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)
    return peak


def bench_scale(work: Path, n: int) -> dict[str, Any]:
    source = work / f"synthetic-{n}.csv"
    mean_chars = synthetic(source, n)
    code = (
        "import json,sys,time;from pathlib import Path;"
        "from territoria.settings import Settings;from territoria.participation import analyze;"
        "t=time.perf_counter();"
        f"r=analyze([Path({str(source)!r})],Settings(home=Path({str(work / 'home')!r})),"
        f"out_dir=Path({str(work / 'scale')!r}));"
        "print(json.dumps({'seconds':time.perf_counter()-t,'timings':r.timings,"
        "'themes':r.data['method']['themes'],'representation':r.data['method']['representation'],"
        "'duplicates':len(r.data['duplicates'])}))"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    tree_peak = _watch_tree_rss(process)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode:
        print(stderr[-3000:])
        raise SystemExit("l'analyse à l'échelle a échoué")
    inner = json.loads(stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # the analysis and its pool workers
    summary = {
        "contributions": n,
        "mean_chars": round(mean_chars, 1),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "analysis_seconds": round(inner["seconds"], 1),
        "steps_seconds": inner["timings"],
        "peak_rss_mb": round(peak_mb),
        "peak_rss_process_tree_mb": round(tree_peak / 2**20),
        "cores": os.cpu_count(),
        "themes": inner["themes"],
        "representation": inner["representation"],
        "duplicate_groups": inner["duplicates"],
        "report_json_mb": round((work / "scale" / "report.json").stat().st_size / 2**20, 1),
    }
    print(
        f"  {n} contributions ({mean_chars:.0f} caractères en moyenne) : {wall:.0f} s "
        f"(temps CPU {cpu:.0f} s, charge machine {os.getloadavg()[0]:.1f}), "
        f"pic mémoire {peak_mb:.0f} Mo (un processus), {tree_peak / 2**20:.0f} Mo (somme des "
        f"processus), {inner['themes']} thèmes, représentation "
        f"{inner['representation']} ; étapes {inner['timings']}"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="polis,lille,titles,quotes,pii,languages,scale")
    parser.add_argument("--scale-n", type=int, default=100_000)
    parser.add_argument(
        "--austria",
        type=Path,
        default=None,
        help="comments.csv (or id<TAB>text) of a pol.is conversation of the Austrian "
        "Klimarat, not in shared/data",
    )
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    results: dict[str, Any] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    reports: list[tuple[dict[str, Any], Path]] = []
    with tempfile.TemporaryDirectory(prefix="bench-participation-") as tmp:
        work = Path(tmp)
        if "polis" in wanted:
            print("Groupes d'opinion pol.is (ARI contre group-id, k choisi automatiquement)")
            results["polis"] = bench_polis()
        if "lille" in wanted:
            print("Thèmes du Grand Débat de Lille (693 commentaires)")
            results["lille"], found = bench_lille(work)
            reports.extend(found)
        if "titles" in wanted:
            print("Titres des thèmes (rubrique de lecture, sur 4 points)")
            lille_data = next(
                (d for d, src in reports if src.name.startswith("commentaires_debats")), None
            )
            if lille_data is None:
                source = LILLE / "commentaires_debats.pseudonymised.csv"
                lille_data = _analyze([source], work / "lille-titles", work / "home")
                reports.append((lille_data, source))
            seattle = POLIS / "15-per-hour-seattle"
            seattle_data = _analyze([seattle], work / "seattle", work / "home")
            reports.append((seattle_data, seattle))
            results["titles"] = bench_titles({"lille": lille_data, "seattle": seattle_data})
        if "pii" in wanted:
            print("Données personnelles (pii/dev.jsonl, garde-fou réel)")
            results["pii"], found_pii = bench_pii(work)
            reports.append(found_pii)
        if "quotes" in wanted:
            print("Citations")
            for path in (POLIS / "london.youth.policing", QUESTIONNAIRE):
                reports.append((_analyze([path], work / path.stem, work / "home"), path))
            results["quotes"] = bench_quotes(reports)
        if "languages" in wanted:
            print("Langues et données personnelles (conversations non françaises)")
            results["languages"] = bench_languages(work, args.austria)
        if "scale" in wanted:
            print(f"Passage à l'échelle ({args.scale_n} contributions, {os.cpu_count()} cœurs)")
            results["scale"] = bench_scale(work, args.scale_n)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"Résultats : {RESULTS}")


if __name__ == "__main__":
    main()
