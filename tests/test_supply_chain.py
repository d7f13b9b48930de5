"""Supply chain (issue 13, point 16): dependency floors above known CVEs, and one lock file with hashes
that `make` installs from, so every deployment runs what the tests ran."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK_TEXT = (ROOT / "requirements.lock").read_text(encoding="utf-8")
# The first fixed releases: starlette 0.47.2 (CVE-2025-54121), python-multipart 0.0.18 (CVE-2024-53981).
FLOORS = {"starlette": "0.47.2", "python-multipart": "0.0.18"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _locked() -> dict[str, tuple[Version, int]]:
    """Each locked package: its version and how many hashes it has."""
    locked: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=\S)", LOCK_TEXT):
        match = _PIN.match(block)
        if match:
            locked[canonicalize_name(match.group(1))] = (Version(match.group(2)), block.count("--hash=sha256:"))
    return locked


def _declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    requirements = [Requirement(r) for r in (*project["dependencies"], *project["optional-dependencies"]["test"])]
    return [r for r in requirements if r.marker is None or r.marker.evaluate()]


@pytest.mark.parametrize(("name", "fixed"), sorted(FLOORS.items()))
def test_16_no_version_with_the_known_cve_is_admitted(name: str, fixed: str) -> None:
    [requirement] = [r for r in _declared() if canonicalize_name(r.name) == name]
    previous = (*Version(fixed).release[:-1], Version(fixed).release[-1] - 1)
    assert not requirement.specifier.contains(".".join(map(str, previous))), requirement
    assert requirement.specifier.contains(fixed), requirement
    assert _locked()[name][0] >= Version(fixed)


def test_16_every_dependency_is_locked_with_hashes_in_its_declared_range() -> None:
    locked = _locked()
    assert locked, "requirements.lock pins nothing"
    assert all(hashes for _, hashes in locked.values()), [n for n, (_, h) in locked.items() if not h]
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (requirement, locked[name][0])
    # The build tools, too: the project is installed without fetching anything unlocked.
    build = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]]
    for requirement in build:
        assert canonicalize_name(requirement.name) in locked, requirement


def test_16_make_installs_from_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in makefile
    assert re.search(r"^\$\(STAMP\):.*requirements\.lock", makefile, re.MULTILINE)
    assert "-e '.[test]'" not in makefile  # nothing resolved afresh at install time


def test_16_this_environment_runs_the_locked_versions() -> None:
    mismatched = {}
    for name, (version, _) in _locked().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # only on other platforms (e.g. uvloop on Windows)
        if installed != version:
            mismatched[name] = (str(installed), str(version))
    assert mismatched == {}, "installed differs from requirements.lock: `make venv` (or pip install -r it)"
