"""The lock files and pyproject.toml must agree (README "Dependencies").

``requirements/dev.lock`` (everything, for ``scripts/bootstrap dev``) and
``requirements/base.lock`` (what ``mochung`` needs to run) pin every package with hashes;
``scripts/lock`` makes them with uv and then runs ``python scripts/lockfile.py stamp``,
which writes the digest of pyproject.toml's dependency lists into each lock's header.
``tests/test_lockfile.py`` recomputes it: a dependency added to (or changed in)
pyproject.toml without re-locking fails the suite.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"base": ROOT / "requirements" / "base.lock", "dev": ROOT / "requirements" / "dev.lock"}
STAMP = "# pyproject-dependencies-sha256: "
HEADER = "# Made by scripts/lock (uv pip compile --universal --generate-hashes) from pyproject.toml: do not edit."
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def dependency_lists(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[str]]:
    """pyproject.toml's requirements, normalised (spacing and order do not matter)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lists = {"dependencies": project.get("dependencies", []), **project.get("optional-dependencies", {})}
    lists["requires-python"] = [project.get("requires-python", "")]
    return {
        name: sorted(r if name == "requires-python" else str(Requirement(r)) for r in reqs)
        for name, reqs in lists.items()
    }


def digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    canonical = json.dumps(dependency_lists(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    for line in lock.read_text().splitlines():
        if line.startswith(STAMP):
            return line.removeprefix(STAMP).strip()
    return None


def pins(lock: Path) -> dict[str, str]:
    """Package name (normalised) → pinned version."""
    found: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def stamp() -> None:
    value = digest()
    for lock in LOCKS.values():
        lines = [line for line in lock.read_text().splitlines() if not line.startswith((STAMP, HEADER))]
        lock.write_text("\n".join([HEADER, STAMP + value, *lines]) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["stamp"]:
        stamp()
    elif sys.argv[1:] == ["digest"]:
        print(digest())
    else:
        sys.exit("usage: python scripts/lockfile.py stamp|digest")
