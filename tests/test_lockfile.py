"""The lock files (requirements/*.lock, installed by scripts/bootstrap) agree with
pyproject.toml: made from its current dependency lists, pinning every requirement at a
version the requirement allows, with hashes. After changing a dependency: `scripts/lock`."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts import lockfile

RELOCK = "pyproject.toml's dependencies changed since the lock files were made: run scripts/lock"


def unpinned(requirements: list[str], pins: dict[str, str]) -> list[str]:
    """The requirements a lock does not pin at an allowed version (markers for another
    platform or Python included: the locks are universal)."""
    wrong = []
    for line in requirements:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            wrong.append(f"{line} (locked: {pinned or 'missing'})")
    return wrong


@pytest.mark.parametrize("name", sorted(lockfile.LOCKS))
def test_the_lock_was_made_from_the_current_pyproject(name: str) -> None:
    lock = lockfile.LOCKS[name]
    assert lock.exists(), f"{lock} is missing: run scripts/lock"
    assert lockfile.recorded_digest(lock) == lockfile.digest(), RELOCK


def test_every_requirement_is_pinned_at_an_allowed_version() -> None:
    lists = lockfile.dependency_lists()
    base, dev = lockfile.pins(lockfile.LOCKS["base"]), lockfile.pins(lockfile.LOCKS["dev"])
    assert unpinned(lists["dependencies"], base) == [], RELOCK
    assert unpinned(lists["dependencies"] + lists.get("dev", []), dev) == [], RELOCK


def test_both_locks_pin_the_same_versions_and_every_pin_has_hashes() -> None:
    base, dev = lockfile.pins(lockfile.LOCKS["base"]), lockfile.pins(lockfile.LOCKS["dev"])
    assert {name: version for name, version in base.items() if dev.get(name) != version} == {}
    for lock in lockfile.LOCKS.values():
        text = lock.read_text()
        assert text.count("--hash=sha256:") >= len(lockfile.pins(lock)), f"{lock} has a pin without hashes"
        assert "-e " not in text and "file://" not in text, "the project itself is installed on top, not locked"


def test_adding_a_dependency_without_relocking_is_caught(tmp_path: Path) -> None:
    pyproject = (lockfile.ROOT / "pyproject.toml").read_text()
    changed = tmp_path / "pyproject.toml"
    changed.write_text(pyproject.replace("dependencies = [\n", 'dependencies = [\n    "left-pad-py>=1.0",\n', 1))
    assert lockfile.digest(changed) != lockfile.digest()
    base = lockfile.pins(lockfile.LOCKS["base"])
    before = set(unpinned(lockfile.dependency_lists()["dependencies"], base))
    after = set(unpinned(lockfile.dependency_lists(changed)["dependencies"], base))
    assert after - before == {"left-pad-py>=1.0 (locked: missing)"}
    # formatting alone (order, spacing) is not a change
    reordered = tmp_path / "reordered.toml"
    reordered.write_text(pyproject.replace('"aiohttp>=3.14,<4"', '"aiohttp >= 3.14, < 4"', 1))
    assert lockfile.digest(reordered) == lockfile.digest()
