from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "scripts" / "gen_cli_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == module.render(), (
        "docs/cli.md is stale: run scripts/gen_cli_doc.py"
    )
