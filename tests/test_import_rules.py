"""The import rules of ARCHITECTURE.md are enforced by import-linter, and can fail.

Each case copies the package, adds one forbidden import and checks that exactly the
contract guarding it breaks; the unmodified copy keeps every contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "layers: cli > server > tasks > agents > adapters > domain > settings & co"
TUI = "the TUI is a client over HTTP and Socket.IO only"

# case: (the module that gets the import, the import, the contract it breaks).
# A module that exists gets the import appended; a new one is created.
VIOLATIONS: dict[str, tuple[str, str, str]] = {
    "domain imports adapters": ("mochung/domain/_probe.py", "import mochung.adapters.storage\n", LAYERS),
    "domain imports server": ("mochung/domain/_probe.py", "import mochung.server.app\n", LAYERS),
    "adapters import agents": ("mochung/adapters/_probe.py", "import mochung.agents\n", LAYERS),
    "agents import tasks": ("mochung/agents/_probe.py", "import mochung.tasks.broker\n", LAYERS),
    "agents import server": ("mochung/agents/_probe.py", "import mochung.server.chat.socketio\n", LAYERS),
    "tasks import server": ("mochung/tasks/_probe.py", "import mochung.server.app\n", LAYERS),
    "server imports cli": ("mochung/server/_probe.py", "import mochung.cli\n", LAYERS),
    "settings import domain": ("mochung/settings.py", "import mochung.domain.errors  # probe\n", LAYERS),
    "logging imports adapters": ("mochung/logging.py", "import mochung.adapters.bus  # probe\n", LAYERS),
    "aio imports domain": ("mochung/aio.py", "import mochung.domain.errors  # probe\n", LAYERS),
    "tui imports domain": ("mochung/tui/_probe.py", "import mochung.domain.models\n", TUI),
    "tui imports server": ("mochung/tui/_probe.py", "import mochung.server.app\n", TUI),
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
    assert f"{LAYERS} KEPT" in result.stdout and f"{TUI} KEPT" in result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_a_forbidden_import_breaks_the_build(package_copy: Path, case: str) -> None:
    relative, source, contract = VIOLATIONS[case]
    target = package_copy / relative
    target.write_text((target.read_text() if target.exists() else "") + source)

    result = _lint(package_copy)

    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
    assert "1 broken" in result.stdout, result.stdout
