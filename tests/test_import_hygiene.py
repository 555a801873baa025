"""store/ is the domain layer: importing any part of it must never pull in textual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import importlib, json, pkgutil, sys

def ui_modules():
    return sorted(m for m in sys.modules
                  if m.split(".")[0] in ("textual", "tui") or m.startswith("textual_"))

import store
names = ["store"] + sorted(info.name for info in pkgutil.walk_packages(store.__path__, "store."))
report = {"modules": names, "culprits": {}, "errors": {}}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:  # reported, so that the test names the module
        report["errors"][name] = repr(error)
    found = ui_modules()
    if found and not report["culprits"]:
        report["culprits"][name] = found[:10]
report["final"] = ui_modules()
print(json.dumps(report))
"""


def _probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_store_module_imports_textual():
    report = _probe()
    expected = {
        "store",
        "store.model",
        "store.storage",
        "store.queries",
        "store.service",
        "store.text",
        "store.dates",
    }
    assert expected <= set(report["modules"])
    for optional in ("store/demo.py", "store/demo/__init__.py", "store/io/__init__.py"):
        if (ROOT / optional).exists():
            module = optional.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            assert module in report["modules"]
    io_files = sorted(p.stem for p in (ROOT / "store" / "io").glob("*.py") if p.stem != "__init__")
    assert {f"store.io.{stem}" for stem in io_files} <= set(report["modules"])
    assert report["errors"] == {}, "store modules that fail to import"
    assert report["culprits"] == {}, "store modules that import textual or tui"
    assert report["final"] == []


# ---------------------------------------------------------------------------- tui.cli

CLI_PROBE = r"""
import importlib, json, pkgutil, sys

def ui_modules():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich")
                  or m.startswith("textual_") or m in ("tui.app", "tui.literal"))

import tui.cli
after_import = ui_modules()
# Every room of the package, not only those __init__ happens to import today.
names = sorted(info.name for info in pkgutil.walk_packages(tui.cli.__path__, "tui.cli.")
               if info.name != "tui.cli.__main__")  # __main__ runs the command line
for name in names:
    importlib.import_module(name)
after_rooms = ui_modules()
from tui.cli import main
try:
    main(["list", "accounts"])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps({"rooms": names, "after_import": after_import, "after_rooms": after_rooms,
                  "after_list": ui_modules()}))
"""


def test_the_command_line_never_loads_textual_or_rich(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(PYTHONPATH=str(ROOT), CRM_DB=str(tmp_path / "crm.json"), CRM_USER="alice")
    done = subprocess.run(
        [sys.executable, "-c", CLI_PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {
        "tui.cli.context",
        "tui.cli.fields",
        "tui.cli.output",
        "tui.cli.records",
        "tui.cli.reading",
        "tui.cli.transfer",
        "tui.cli.upkeep",
    } <= set(report["rooms"])
    assert report["after_import"] == []
    assert report["after_rooms"] == []
    assert report["after_list"] == []


def _module_imports(path: Path) -> set[str]:
    """The modules `path` imports at module level (not inside functions: the lazy ones)."""
    import ast

    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from tui.cli import reading` imports the room tui.cli.reading
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_rooms_of_the_command_line_import_each_other_without_a_circle() -> None:
    package = ROOT / "tui" / "cli"
    rooms = {
        ("tui.cli" if p.stem == "__init__" else f"tui.cli.{p.stem}"): p
        for p in package.glob("*.py")
        if p.stem != "__main__"
    }
    assert len(rooms) >= 8
    graph = {
        name: {m for m in _module_imports(path) if m in rooms and m != name}
        for name, path in rooms.items()
    }
    for name, path in rooms.items():
        outside = {
            m
            for m in _module_imports(path)
            if m.split(".")[0] in ("textual", "rich") or m in ("tui.app", "tui.literal")
        }
        assert outside == set(), f"{name} imports {outside} at module level"
    # The package itself imports the rooms; no room may import the package (or a room that
    # imports it back): a depth-first walk finds any circle.
    state: dict[str, str] = {}

    def walk(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            assert state.get(target) != "open", "circle: " + " -> ".join([*trail, target])
            if target not in state:
                walk(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
