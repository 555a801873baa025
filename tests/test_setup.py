"""The set-up promises: exact pins for every installed package, bounded runtime dependencies,
and README examples that run as written (`uv run crm ...`)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def test_every_installed_package_is_pinned_at_its_installed_version() -> None:
    # A package added without running .ci/pin would install at whatever version is newest.
    pins = {}
    for text in PYPROJECT["tool"]["uv"]["constraint-dependencies"]:
        requirement = Requirement(text)
        (spec,) = requirement.specifier
        assert spec.operator == "==", text
        pins[_name(requirement.name)] = spec.version
    installed = {_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop("termcrm", None)
    assert installed, "no distributions found"
    unpinned = {name: v for name, v in installed.items() if pins.get(name) != v}
    assert unpinned == {}, "run .ci/pin (CONTRIBUTING.md, Dependencies)"


def test_runtime_dependencies_stay_below_their_next_major() -> None:
    for text in PYPROJECT["project"]["dependencies"]:
        operators = {spec.operator for spec in Requirement(text).specifier}
        assert "==" in operators or "<" in operators, text


def test_readme_commands_run_from_the_clone_as_written() -> None:
    # `crm` is not on PATH after `uv run`: every command in the README says `uv run crm`.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bare = re.findall(r"`crm [^`]*`", readme)
    bare += re.findall(r"^\s*crm .*$", readme, re.MULTILINE)  # inside ```sh blocks
    assert bare == []
    assert "uv run crm --demo" in readme and "uv run pytest" in readme
