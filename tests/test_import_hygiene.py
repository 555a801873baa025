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
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_store_module_imports_textual():
    report = _probe()
    expected = {"store", "store.model", "store.storage", "store.queries", "store.service",
                "store.text", "store.dates"}
    assert expected <= set(report["modules"])
    for optional in ("store/demo.py", "store/io/__init__.py"):
        if (ROOT / optional).exists():
            module = optional.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            assert module in report["modules"]
    io_files = sorted(p.stem for p in (ROOT / "store" / "io").glob("*.py")
                      if p.stem != "__init__")
    assert {f"store.io.{stem}" for stem in io_files} <= set(report["modules"])
    assert report["errors"] == {}, "store modules that fail to import"
    assert report["culprits"] == {}, "store modules that import textual or tui"
    assert report["final"] == []
