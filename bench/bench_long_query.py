"""CPU seconds of one search and one question for a 2,000-character query, with the input
limits (what the product does) and without them (as before issue #8, finding 4).

Over the demo corpus indexed with the default embedders (passages `use`, titles `e5`). Without
limits: the raw embedding backends (no `Bounded` wrapper) and no cap on query terms. With
limits: the product as shipped. Each figure is the median process CPU time
(`time.process_time`) of --repeats runs, in one process; the rate-limit tokens such a request
takes are CPU / `rate_cpu_unit_s` (web/limits.py). Three queries: a short question, 2,000
characters of French words, and 2,000 characters of one-token characters (the worst case of the
e5 tokenizer: every character is a token).

Then through the HTTP API with the default rate limits (in process, FastAPI TestClient): one
address sends --burst worst-case searches back to back; printed: how many were served, how
many refused with 429, and the process CPU seconds they cost in all.

    .venv/bin/python bench/bench_long_query.py [--repeats 3] [--burst 30]

Writes bench/results/long_query.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable

from common import BENCH_HOME, ROOT, write_result
from territoria.embed import Bounded
from territoria.runtime import Runtime
from territoria.search import lexical
from territoria.search.query_vectors import QueryVectors
from territoria.settings import Settings

HOME = BENCH_HOME / "long_query"
DEMO = ROOT / "src" / "territoria" / "demo" / "corpus"


def prepare_home() -> None:
    if (HOME / "territoria.sqlite3").exists():
        return
    print(f"indexing the demo corpus in {HOME} (use + e5 titles)…", flush=True)
    env = {**os.environ, "TERRITORIA_EMBEDDER": "use", "TERRITORIA_TITLE_EMBEDDER": "e5"}
    subprocess.run(
        [sys.executable, "-m", "territoria", "demo", "--home", str(HOME), "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def queries(limit: int) -> dict[str, str]:
    rng = random.Random(8)
    words = (DEMO / "etat-civil.md").read_text(encoding="utf-8").split()
    french = ""
    while len(french) < limit:
        french += rng.choice(words) + " "
    worst = "".join(rng.choice("éèàùçôîïÉÈœ") for _ in range(limit))
    return {
        "short": "Quels sont les horaires de la mairie ?",
        "french_2000": french[:limit],
        "one_token_per_char_2000": worst,
    }


def fresh_vectors(rt: Runtime) -> None:
    """Query vectors of the retriever's current embedders, with nothing kept: each run
    embeds its query (a repeated question is otherwise served from the cache)."""
    retriever = rt.retriever
    retriever.vectors = QueryVectors(retriever.embedder, retriever.title_embedder)


def cpu_seconds(run: Callable[[], object], repeats: int, rt: Runtime) -> float:
    times = []
    for _ in range(repeats):
        fresh_vectors(rt)
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return round(statistics.median(times), 3)


def unbounded(rt: Runtime) -> None:
    """The runtime as before the fix: raw backends, no cap on query terms."""
    for name in ("embedder", "title_embedder"):
        model = getattr(rt.retriever, name)
        if isinstance(model, Bounded):
            setattr(rt.retriever, name, model.backend)
    lexical.MAX_QUERY_TERMS = 1_000_000


def flood(settings: Settings, text: str, n: int) -> dict[str, float]:
    """`n` searches for `text` from one address, default rate limits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's TestClient asks for httpx2
        from fastapi.testclient import TestClient

    from territoria.web.app import create_app

    app = create_app(settings)
    with TestClient(app, client=("203.0.113.9", 40000)) as client:
        app.state.web.runtime.retriever.search("mairie")  # load the models, outside any limit
        start = time.process_time()
        codes = [client.post("/api/search", json={"query": text}).status_code for _ in range(n)]
        cpu = time.process_time() - start
    return {
        "requests": n,
        "served": codes.count(200),
        "refused_429": codes.count(429),
        "cpu_s": round(cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--burst", type=int, default=30)
    args = parser.parse_args()
    prepare_home()
    settings = Settings(home=HOME, embedder="use", title_embedder="e5")
    texts = queries(settings.question_max_chars)
    results: dict[str, dict[str, dict[str, float]]] = {}
    rt = Runtime(settings)
    try:
        rt.retriever.refresh()
        rt.ask("horaires de la mairie")  # loads the models and the PII guard
        cap = lexical.MAX_QUERY_TERMS
        for variant in ("with_limits", "without_limits"):
            if variant == "without_limits":
                unbounded(rt)
            for name, text in texts.items():
                row = {
                    "search_cpu_s": cpu_seconds(
                        lambda t=text: rt.retriever.search(t), args.repeats, rt
                    ),
                    "ask_cpu_s": cpu_seconds(lambda t=text: rt.ask(t), args.repeats, rt),
                }
                row["ask_rate_tokens"] = round(
                    max(1.0, row["ask_cpu_s"] / settings.rate_cpu_unit_s), 1
                )
                results.setdefault(name, {})[variant] = row
                print(
                    f"{name:<26} {variant:<15} search {row['search_cpu_s']:6.3f} s  "
                    f"ask {row['ask_cpu_s']:6.3f} s  ({row['ask_rate_tokens']} tokens)",
                    flush=True,
                )
        lexical.MAX_QUERY_TERMS = cap
    finally:
        rt.close()
    http = flood(settings, texts["one_token_per_char_2000"], args.burst)
    print(
        f"HTTP, default limits, one address: {http['served']} of {http['requests']} worst-case "
        f"searches served, {http['refused_429']} refused (429), {http['cpu_s']} s of CPU in all"
    )
    write_result(
        "long_query",
        {
            "what": "median process CPU seconds of one Retriever.search and one Runtime.ask",
            "corpus": "demo corpus (src/territoria/demo/corpus), public + internal",
            "embedders": {"passages": "use", "titles": "e5"},
            "query_chars": {name: len(text) for name, text in texts.items()},
            "repeats": args.repeats,
            "rate_cpu_unit_s": settings.rate_cpu_unit_s,
            "results": results,
            "http_one_address_default_limits": http,
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
    )


if __name__ == "__main__":
    main()
