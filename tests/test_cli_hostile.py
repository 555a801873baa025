"""The `crm` command line against hostile records and file names, and scripts racing people.

Everything runs the real `crm` entry point in its own process: a real pseudo-terminal for what a
terminal would receive, a real pipe for what a script reads, and a second real process (another
user) changing a record between a script's read and its write.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from store.service import CRM, ConflictError
from store.text import UNSAFE

ROOT = Path(__file__).resolve().parents[1]

# What a record can carry to take over a terminal: a title change (OSC 0), a clipboard write
# (OSC 52), a colour (CSI), the 8-bit CSI (C1 U+009B), DEL, a bidi override and a line separator.
HOSTILE = (
    "Acme\x1b]0;owned\x07 \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[31mred\x1b[0m \x9b2J "
    "\x7f \u202eevil\u202c \u2028end"
)
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e", "\u2028")


def crm(
    db: Path, *args: str | Path, user: str = "alice", home: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real `crm` in its own process, stdout and stderr on pipes."""
    env = {
        **os.environ,
        "CRM_USER": user,
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home or db.parent / "home"),
        "XDG_DATA_HOME": str(db.parent / "data"),
    }
    env.pop("CRM_DB", None)
    env.pop("CRM_DEBUG", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from tui.cli import main; main()",
            "--db",
            str(db),
            *map(str, args),
        ],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def crm_on_terminal(db: Path, *args: str) -> tuple[int, bytes]:
    """The real `crm` with stdout on a pseudo-terminal: (exit status, every byte it received)."""
    master, slave = os.openpty()
    env = {
        **os.environ,
        "CRM_USER": "alice",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(db.parent / "home"),
    }
    env.pop("CRM_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from tui.cli import main; main()", "--db", str(db), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    received = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            received.extend(chunk)
    finally:
        os.close(master)
        status = process.wait(60)
        assert process.stderr is not None
        process.stderr.close()
    return status, bytes(received)


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    """A database whose account, contact and activities all carry terminal controls."""
    db = tmp_path / "crm.json"
    store = CRM.open(db, user="alice")
    account = store.create("accounts", {"name": HOSTILE, "description": f"line 1\n{HOSTILE}"})
    store.create(
        "contacts",
        {"first_name": HOSTILE, "last_name": "Lovelace", "account_id": account.record["id"]},
    )
    for kind in ("task", "appointment"):
        fields = {
            "type": kind,
            "subject": HOSTILE,
            "regarding_type": "account",
            "regarding_id": account.record["id"],
            "description": HOSTILE,
        }
        if kind == "appointment":
            fields.update(start_at="2026-12-03T10:00:00Z", end_at="2026-12-03T11:00:00Z")
        store.create("activities", fields)
    store.close()
    return db


EXPORTS = [
    ("accounts",),
    ("accounts", "--format", "json"),
    ("contacts",),
    ("activities", "--format", "json"),
    ("vcard",),
    ("ics",),
]


@pytest.mark.parametrize("what", EXPORTS, ids=" ".join)
def test_export_to_a_terminal_shows_controls_as_symbols(
    hostile_db: Path, what: tuple[str, ...]
) -> None:
    status, received = crm_on_terminal(hostile_db, "export", *what)
    assert status == 0
    text = received.decode("utf-8")
    for control in RAW_CONTROLS:
        assert control not in text, f"{control!r} reached the terminal raw"
    assert "owned" in text  # the record is there, only harmless


def test_export_csv_to_a_pipe_is_exact(hostile_db: Path) -> None:
    result = crm(hostile_db, "export", "accounts")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"), newline="")))
    assert [row["name"] for row in rows] == [HOSTILE]
    assert rows[0]["description"] == f"line 1\n{HOSTILE}"


@pytest.mark.parametrize("table", ["accounts", "contacts", "activities"])
def test_export_json_escapes_every_control_and_parses_back_exactly(
    hostile_db: Path, table: str
) -> None:
    result = crm(hostile_db, "export", table, "--format", "json")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("utf-8")
    raw = {c for c in UNSAFE.findall(text) if c not in "\n"}
    assert not raw, f"raw in the JSON: {sorted(map(hex, map(ord, raw)))}"
    stored = CRM.open(hostile_db, user="alice")
    assert json.loads(text) == [stored.all(table)[i] for i in sorted(stored.all(table))]


def test_a_nul_never_reaches_a_csv_export_raw(tmp_path: Path) -> None:
    # The command line cannot pass a NUL (argv ends at one) and the importers drop them, but
    # the API (and so the app's forms) stores one as given.
    db = tmp_path / "crm.json"
    store = CRM.open(db, user="alice")
    store.create("accounts", {"name": "Nul\x00Co", "description": "a\x00b"})
    assert store.all("accounts")[store.search("accounts")[0]]["name"] == "Nul\x00Co"
    store.close()
    result = crm(db, "export", "accounts")
    assert result.returncode == 0, result.stderr
    assert b"\x00" not in result.stdout
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"), newline="")))
    assert rows[0]["name"] == "Nul\u2400Co"  # the symbol the app shows for it
    assert rows[0]["description"] == "a\u2400b"
    as_json = crm(db, "export", "accounts", "--format", "json")
    assert json.loads(as_json.stdout)[0]["name"] == "Nul\x00Co"  # JSON can say it exactly


# ---------------------------------------------------------------------------- file names

NASTY_NAME = "x\x1b]0;owned\x07\nline2\u202eb"


def _no_raw_controls(output: bytes) -> str:
    text = output.decode("utf-8")
    for control in ("\x1b", "\x07", "\u202e"):
        assert control not in text, f"{control!r} printed raw in {text!r}"
    return text


def test_file_names_are_printed_as_symbols(tmp_path: Path) -> None:
    db = tmp_path / "crm.json"
    source = tmp_path / f"{NASTY_NAME}.csv"
    source.write_text("name,city\nAcme Ltd,Leeds\n", encoding="utf-8")
    imported = crm(db, "import", "accounts", source)
    assert imported.returncode == 0, imported.stderr
    out = _no_raw_controls(imported.stdout)
    first = out.splitlines()[0]
    assert first.startswith("x^[]0;owned^G^Jline2\\u202eb.csv: 1 row"), first

    target = tmp_path / f"out-{NASTY_NAME}.csv"
    exported = crm(db, "export", "accounts", "-o", target)
    assert exported.returncode == 0, exported.stderr
    assert target.exists()
    said = _no_raw_controls(exported.stderr).strip()
    assert len(said.splitlines()) == 1 and said.startswith("wrote ") and "^Jline2" in said

    empty = tmp_path / f"empty-{NASTY_NAME}.csv"
    empty.write_bytes(b"\n\n")
    failed = crm(db, "import", "accounts", empty)
    assert failed.returncode == 1
    assert len(_no_raw_controls(failed.stderr).strip().splitlines()) == 1

    missing = crm(db, "import", "accounts", tmp_path / f"gone-{NASTY_NAME}.csv")
    assert missing.returncode == 2
    _no_raw_controls(missing.stderr)

    odd_db = tmp_path / f"{NASTY_NAME}.json"
    compacted = crm(odd_db, "compact")
    assert compacted.returncode == 0, compacted.stderr
    assert len(_no_raw_controls(compacted.stderr).strip().splitlines()) == 1


# ---------------------------------------------------------------------------- --if-version


def version_of(db: Path, record_id: str) -> int:
    """What a script does: read the record's version from `crm show --json`."""
    shown = crm(db, "show", record_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["record"]["version"]


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, str, str]:
    """A database with an account and an open task on it."""
    db = tmp_path / "crm.json"
    store = CRM.open(db, user="alice")
    account = store.create("accounts", {"name": "Acme Ltd", "phone": "0113 496 0000"})
    task = store.create(
        "activities",
        {
            "type": "task",
            "subject": "Send quote",
            "regarding_type": "account",
            "regarding_id": account.record["id"],
        },
    )
    store.close()
    return db, account.record["id"], task.record["id"]


def test_list_json_and_show_json_give_the_version(shared: tuple[Path, str, str]) -> None:
    db, account_id, _task_id = shared
    listed = json.loads(crm(db, "list", "accounts", "--json").stdout)
    assert listed[0]["version"] == 1
    assert version_of(db, account_id) == 1


def _conflict_line(result: subprocess.CompletedProcess[bytes], record_id: str) -> str:
    assert result.returncode == 3, (result.returncode, result.stderr)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert record_id in lines[0] and "bob" in lines[0]
    return lines[0]


def test_edit_if_version_refuses_a_change_made_meanwhile(shared: tuple[Path, str, str]) -> None:
    db, account_id, _task_id = shared
    seen = version_of(db, account_id)
    bob = crm(db, "edit", account_id, "--phone", "0113 496 0999", user="bob")  # another person
    assert bob.returncode == 0, bob.stderr
    refused = crm(db, "edit", account_id, "--phone", "0113 496 0111", "--if-version", str(seen))
    line = _conflict_line(refused, account_id)
    assert "version 2" in line
    stored = CRM.open(db, user="alice").get("accounts", account_id)
    assert stored is not None and stored["phone"] == "0113 496 0999"  # bob's change stands
    again = crm(
        db,
        "edit",
        account_id,
        "--phone",
        "0113 496 0111",
        "--if-version",
        str(version_of(db, account_id)),
    )
    assert again.returncode == 0, again.stderr
    assert CRM.open(db, user="alice").get("accounts", account_id)["phone"] == "0113 496 0111"


def test_without_if_version_the_change_goes_onto_the_current_version(
    shared: tuple[Path, str, str],
) -> None:
    db, account_id, _task_id = shared
    assert crm(db, "edit", account_id, "--phone", "0113 496 0999", user="bob").returncode == 0
    assert crm(db, "edit", account_id, "--city", "Leeds").returncode == 0
    stored = CRM.open(db, user="alice").get("accounts", account_id)
    assert stored["phone"] == "0113 496 0999" and stored["address_city"] == "Leeds"
    assert stored["version"] == 3


@pytest.mark.parametrize("command", ["done", "cancel", "reopen"])
def test_status_if_version_refuses_a_change_made_meanwhile(
    shared: tuple[Path, str, str], command: str
) -> None:
    db, _account_id, task_id = shared
    if command == "reopen":
        assert crm(db, "done", task_id).returncode == 0
    seen = version_of(db, task_id)
    assert crm(db, "edit", task_id, "--subject", "Send the quote", user="bob").returncode == 0
    refused = crm(db, command, task_id, "--if-version", str(seen))
    _conflict_line(refused, task_id)
    before = CRM.open(db, user="alice").get("activities", task_id)
    done = crm(db, command, task_id, "--if-version", str(seen + 1))
    assert done.returncode == 0, done.stderr
    after = CRM.open(db, user="alice").get("activities", task_id)
    assert after["version"] == before["version"] + 1 and after["status"] != before["status"]


def test_delete_if_version_refuses_a_change_made_meanwhile(shared: tuple[Path, str, str]) -> None:
    db, account_id, task_id = shared
    seen = version_of(db, account_id)
    assert crm(db, "edit", account_id, "--city", "York", user="bob").returncode == 0
    refused = crm(db, "delete", account_id, "--activities", "delete", "--if-version", str(seen))
    _conflict_line(refused, account_id)
    assert CRM.open(db, user="alice").get("accounts", account_id) is not None
    deleted = crm(db, "delete", account_id, "--activities", "delete", "--if-version", str(seen + 1))
    assert deleted.returncode == 0, deleted.stderr
    store = CRM.open(db, user="alice")
    assert store.get("accounts", account_id) is None and store.get("activities", task_id) is None


def test_if_version_on_a_record_deleted_meanwhile_is_a_conflict(
    shared: tuple[Path, str, str],
) -> None:
    db, _account_id, task_id = shared
    seen = version_of(db, task_id)
    assert crm(db, "delete", task_id, user="bob").returncode == 0
    _conflict_line(crm(db, "done", task_id, "--if-version", str(seen)), task_id)
    plain = crm(db, "done", task_id)  # without --if-version: just not found, exit 1
    assert plain.returncode == 1


def test_service_delete_checks_the_version_under_the_lock(shared: tuple[Path, str, str]) -> None:
    db, account_id, _task_id = shared
    store = CRM.open(db, user="alice")
    seen = store.get("accounts", account_id)["version"]
    assert crm(db, "edit", account_id, "--city", "York", user="bob").returncode == 0
    with pytest.raises(ConflictError) as conflict:  # this process has not refreshed yet
        store.delete("accounts", account_id, activities="delete", expected_version=seen)
    assert conflict.value.theirs is not None and conflict.value.theirs["modified_by"] == "bob"
    assert CRM.open(db, user="alice").get("accounts", account_id) is not None
    store.delete("accounts", account_id, activities="delete", expected_version=seen + 1)
    assert CRM.open(db, user="alice").get("accounts", account_id) is None


def test_other_errors_keep_exit_status_1(shared: tuple[Path, str, str]) -> None:
    db, account_id, _task_id = shared
    assert crm(db, "edit", account_id, "--email", "bob@", "--if-version", "1").returncode == 1
    assert crm(db, "done", account_id, "--if-version", "1").returncode == 1  # not an activity


@pytest.mark.parametrize("command", ["edit", "done", "cancel", "reopen", "delete"])
def test_help_documents_if_version_and_the_exit_status(tmp_path: Path, command: str) -> None:
    shown = crm(tmp_path / "crm.json", command, "--help").stdout.decode()
    flat = re.sub(r"\s+", " ", shown)
    assert "--if-version" in flat and "exit status 3" in flat and "current version" in flat
