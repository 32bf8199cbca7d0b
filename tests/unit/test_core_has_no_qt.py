"""`studio.core` must stay usable headless: no module in it may import Qt."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "studio" / "core"


def test_core_never_imports_qt() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(CORE)}: {n}" for n in names if n.split(".")[0] in {"PySide6", "qasync"}]
    assert offenders == []
