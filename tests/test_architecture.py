"""The shape of the code: data flows one way (see the import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_production_code_never_imports_the_tests():
    """The plain references in tests/oracles are test oracles: no package of ours may lean on them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["importlinter"]["root_packages"]
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name == "tests" or name.startswith("tests.")
    ]
    assert packages and not offenders, offenders
