"""Route modules never import each other: what they share lives in web/ (questions.py,
views.py, render.py) or in the domain, so a route module can change alone."""

from __future__ import annotations

import ast
from pathlib import Path

import territoria.web.routes as routes

ROUTES = Path(routes.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_route_modules_do_not_import_each_other() -> None:
    modules = sorted(p for p in ROUTES.glob("*.py") if p.name != "__init__.py")
    assert len(modules) >= 9
    names = {f"territoria.web.routes.{p.stem}" for p in modules}
    for path in modules:
        assert not imported_modules(path) & (names | {"territoria.web.routes"}), path.name
