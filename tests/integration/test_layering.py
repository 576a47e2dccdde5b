"""The hexagon's import contracts really bite: a copy of the code with a forbidden import fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["pantheon_core", "pantheon_adapters", "pantheon_http", "pantheon_cli",
            "pantheon_worker", "migrations"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"),
                           "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layering")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_real_tree_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("pantheon_core/domain/rooms.py", "import sqlalchemy", "Core imports only"),
        ("pantheon_core/usecases/rooms.py", "import fastapi", "Core imports only"),
        ("pantheon_core/ports/mailer.py", "import httpx", "Core imports only"),
        ("pantheon_core/actor.py", "import pantheon_adapters.settings", "Core imports only"),
        ("pantheon_http/app.py", "import pantheon_adapters.sql.database",
         "only through the composition root"),
        ("pantheon_cli/runner.py", "import sqlalchemy", "only through the composition root"),
        ("pantheon_cli/runner.py", "import pantheon_http.app", "never import each other"),
    ],
)
def test_a_forbidden_import_breaks_the_build(tree: Path, module: str, line: str,
                                             contract: str) -> None:
    path = tree / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # injected by test_layering\n")
    try:
        result = _lint(tree)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout
