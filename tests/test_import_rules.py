"""The import rules of ARCHITECTURE.md are enforced by import-linter, and can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

VIOLATIONS = {
    "domain": ("mochung/domain/_probe.py", "import mochung.server.app\n"),
    "adapters": ("mochung/adapters/_probe.py", "import mochung.tasks.broker\n"),
    "tui": ("mochung/tui/_probe.py", "import mochung.domain.models\n"),
    "agents": ("mochung/agents/_probe.py", "import mochung.server.chat.socketio\n"),
}


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "mochung", tmp_path / "mochung", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_every_rule(package_copy: Path) -> None:
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("layer", sorted(VIOLATIONS))
def test_a_forbidden_import_breaks_the_build(package_copy: Path, layer: str) -> None:
    relative, source = VIOLATIONS[layer]
    (package_copy / relative).write_text(source)
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "1 broken" in result.stdout
