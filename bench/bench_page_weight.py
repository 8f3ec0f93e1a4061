"""Bytes transferred by the first load of the citizen page (HTML + CSS + JS), empty cache.

Starts the web app on a free loopback port (uvicorn, in this process) over a temporary home
holding the demo corpus (fake embedder: page weight does not depend on it), loads the page
in Debian's chromium through Playwright and sums, for every response, the header and body
bytes that went over the wire. Budget: 100 KB (102,400 bytes) for the empty page.

    .venv/bin/python bench/bench_page_weight.py

Writes bench/results/page_weight.json.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common import write_result

BUDGET = 100 * 1024
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
PAGES = {
    "citizen_page": "/",
    "citizen_answer_page": "/?q=" + quote("Quels sont les horaires de la mairie le samedi ?"),
    "widget": "/widget",
}


def start_server(home: Path) -> tuple[str, Any]:
    import uvicorn

    from territoria.cli.documents import demo_corpus
    from territoria.ingest import ingest_paths
    from territoria.runtime import Runtime
    from territoria.settings import Settings
    from territoria.web.app import create_app

    settings = Settings(home=home, embedder="fake")
    runtime = Runtime(settings)
    files = sorted(p for p in demo_corpus().iterdir() if p.is_file())
    ingest_paths(files, settings=settings, store=runtime.store)
    runtime.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def measure(browser: Any, url: str) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    resources: list[dict[str, Any]] = []
    page.on(
        "requestfinished",
        lambda request: resources.append({"request": request, "url": request.url}),
    )
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    rows = []
    for item in resources:
        sizes = item["request"].sizes()
        rows.append(
            {
                "url": item["url"].split("/", 3)[-1] or "/",
                "type": item["request"].resource_type,
                "bytes": sizes["responseHeadersSize"] + sizes["responseBodySize"],
                "body_bytes": sizes["responseBodySize"],
            }
        )
    context.close()
    total = sum(r["bytes"] for r in rows)
    return {"total_bytes": total, "resources": rows, "within_budget": total <= BUDGET}


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="territoria-weight-") as tmp:
        base, server = start_server(Path(tmp) / "home")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                results = {name: measure(browser, base + path) for name, path in PAGES.items()}
                browser.close()
        finally:
            server.should_exit = True
    for name, data in results.items():
        kinds = ", ".join(f"{r['type']} {r['bytes']:,} B" for r in data["resources"])
        print(f"{name}: {data['total_bytes']:,} bytes ({kinds})")
    write_result(
        "page_weight",
        {
            "budget_bytes": BUDGET,
            "method": "Playwright + Debian chromium, empty cache, header + body bytes of "
            "every response (no compression configured)",
            **results,
        },
    )


if __name__ == "__main__":
    main()
