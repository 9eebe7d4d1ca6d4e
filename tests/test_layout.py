"""The layout docs/architecture.md gives: each top-level folder imports only the
folders below it, and the merge is pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"schema", "conflict", "changelog", "syncserver", "clients", "tests", "bench"}

MAY_IMPORT = {
    "schema": set(),
    "conflict": {"schema"},
    "changelog": {"schema", "conflict"},
    "syncserver": {"schema", "conflict", "changelog"},
    "clients": {"schema"},
}

# `syncserver simulate` runs the fleet simulator, lazily, from the CLI.
ALSO = {"syncserver/cli.py": {"clients"}}

# What the merge may use: no I/O, no database, no clock.
PURE_MODULES = {"__future__", "hashlib", "uuid", "collections", "dataclasses", "typing"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_a_folder_imports_only_the_layers_it_may(folder: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / folder).rglob("*.py")
        if "vendor" not in path.parts
        for name in _imports(path)
        if name.split(".")[0]
        in OURS - {folder} - MAY_IMPORT[folder] - ALSO.get(str(path.relative_to(ROOT)), set())
    }
    assert not wrong, sorted(wrong)


def test_the_merge_does_no_io() -> None:
    used = {
        name.split(".")[0] for path in (ROOT / "conflict").glob("*.py") for name in _imports(path)
    }
    assert used - {"conflict", "schema"} <= PURE_MODULES, used
