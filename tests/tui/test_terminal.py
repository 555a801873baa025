"""The app on a real pty: keys that arrive in one read, and hostile text in every screen.

Each test runs `crm` as a process on a pseudo-terminal (tests/tui/terminal.py), writes bytes as
a terminal would and reads both the raw output (what reaches the user's terminal) and the
screen as a terminal emulator draws it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from tests.tui.helpers import reopen
from tests.tui.terminal import TerminalApp

DEL = b"\x7f"
LEFT = b"\x1b[D"
CTRL_S = b"\x13"


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    path = tmp_path / "crm.json"
    CRM.open(path, user="alice").close()
    return path


def _names(path: Path) -> list[str]:
    crm = reopen(path)
    return sorted(crm.get(ACCOUNTS, i)["name"] for i in crm.search(ACCOUNTS))


@pytest.mark.parametrize(
    ("burst", "expected"),
    [
        (b"abcdef" + DEL * 6 + b"xyz", "xyz"),
        (b"abcdef" + LEFT * 2 + b"X", "abcdXef"),
        (b"abcdef" + LEFT * 3 + DEL + b"-", "ab-def"),
    ],
)
def test_keys_in_one_read_are_applied_in_order(empty_db: Path, burst: bytes, expected: str) -> None:
    with TerminalApp(empty_db) as term:
        term.wait_for("No accounts yet")
        term.write(b"n")
        term.wait_for("New account")
        term.write(burst)  # one os.write: the app reads the whole burst at once
        term.quiet()
        term.write(CTRL_S)
        term.wait_for(f"Account › {expected}")
        assert term.close() == 0
    assert _names(empty_db) == [expected]


def test_keys_in_one_read_reach_a_text_area_and_a_search_box_in_order(empty_db: Path) -> None:
    crm = CRM.open(empty_db, user="alice")
    account = crm.create(ACCOUNTS, {"name": "Northwind"}).record["id"]
    crm.create(ACCOUNTS, {"name": "Contoso"})
    crm.close()
    with TerminalApp(empty_db) as term:
        term.wait_for("Contoso")
        # The search box: `/`, then a burst that types, deletes and types again.
        term.write(b"/" + b"Conx" + DEL * 4 + b"Nor")
        term.quiet()
        shown = term.screen()
        assert "Northwind" in shown and "Contoso" not in shown
        term.write(b"\r")  # back to the list
        term.quiet()
        term.write(b"\r")  # open Northwind
        term.wait_for("Account › Northwind")
        term.write(b"l")
        term.wait_for("Log an activity")
        term.write(b"n")
        term.wait_for("New note")
        # Subject, then the description (a text area): edits inside one burst.
        term.write(
            b"Call" + DEL * 4 + b"Met" + b"\t" + b"first" + DEL * 5 + b"second" + LEFT * 6 + b">"
        )
        term.quiet()
        term.write(CTRL_S)
        term.wait_for("Saved the note")
        assert term.close() == 0
    stored = reopen(empty_db).timeline(account)
    assert [(a["subject"], a["description"]) for a in stored] == [("Met", ">second")]


def test_a_reference_picked_within_one_read_is_the_one_typed(empty_db: Path) -> None:
    crm = CRM.open(empty_db, user="alice")
    crm.create(ACCOUNTS, {"name": "Contoso"})
    east = crm.create(ACCOUNTS, {"name": "Northwind East"}).record["id"]
    crm.create(ACCOUNTS, {"name": "Northwind West"})
    crm.close()
    with TerminalApp(empty_db) as term:
        term.wait_for("Contoso")
        term.write(b"\x1bOR")  # F3
        term.wait_for("No contacts yet")
        term.write(b"n")
        term.wait_for("New contact")
        # First name, last name, job title, then the account: letters, ↓ ↓ and enter at
        # once. Typed slowly, `North` shows both (East highlighted), ↓ moves to West and ↓
        # wraps back to East: the same keys in one read must pick the same.
        term.write(b"Ada\tLovelace\t\tNorth" + b"\x1b[B" * 2 + b"\r")
        term.quiet()
        term.write(CTRL_S)
        term.wait_for("Contact › Ada Lovelace · Northwind East")
        assert term.close() == 0
    crm = reopen(empty_db)
    (contact,) = crm.records(CONTACTS, crm.search(CONTACTS))
    assert contact["account_id"] == east


# ---------------------------------------------------------------------------- hostile text
TITLE_ATTACK = "\x1b]0;PWNED\x07"  # sets the terminal's title
CLIPBOARD_ATTACK = "\x1b]52;c;cHduZWQ=\x07"  # writes the user's clipboard
WIPE = "\x1b[H\x1b[J"  # cursor home, clear screen
BIDI = "\u202e"  # right-to-left override: text after it reads backwards
C1_CSI = "\x9b"  # the one-byte form of ESC [


def _hostile_database(path: Path, folder: Path) -> None:
    crm = CRM.open(path, user="alice")
    name = f"Evil{TITLE_ATTACK}Corp {BIDI}gnp.exe{C1_CSI}31m"
    description = f"a {TITLE_ATTACK} b {WIPE} c {CLIPBOARD_ATTACK} d"
    account = crm.create(
        ACCOUNTS, {"name": name, "address_city": f"Oslo{WIPE}", "description": description}
    ).record["id"]
    contact = crm.create(
        CONTACTS,
        {
            "first_name": f"Mal{TITLE_ATTACK}",
            "last_name": "Lory",
            "account_id": account,
            "email": "mal@example.com",
        },
    ).record["id"]
    crm.create(
        ACTIVITIES,
        {
            "type": "note",
            "regarding_type": "account",
            "regarding_id": account,
            "subject": f"note{CLIPBOARD_ATTACK}",
            "description": description,
        },
    )
    crm.create(
        ACTIVITIES,
        {
            "type": "task",
            "regarding_type": "contact",
            "regarding_id": contact,
            "subject": f"task{TITLE_ATTACK}",
            "due_at": "2030-01-01",
            "owner": "alice",
        },
    )
    crm.close()
    (folder / f"evil{TITLE_ATTACK}.csv").write_text("name\nx\n")


def test_hostile_text_in_every_screen_is_shown_and_never_sent_to_the_terminal(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = tmp_path / "crm.json"
    # A short folder: the file dropdown opens at the cursor, and a long path would push it
    # against the right edge, cutting the name this test reads.
    files = Path(tempfile.mkdtemp(prefix="h", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(files, ignore_errors=True))
    _hostile_database(db, files)
    seen: list[str] = []

    with TerminalApp(db) as term:

        def step(keys: bytes, wait: str) -> None:
            term.write(keys)
            seen.append(term.wait_for(wait))
            term.quiet(0.3)
            seen.append(term.screen())

        seen.append(term.wait_for("Evil␛]0;PWNED␇C"))  # the accounts list
        step(b"\r", "Account › Evil")  # the detail screen, its timeline
        step(b"4", "Description")  # all fields
        step(b"e", "Edit account")  # inputs and the description's text area
        assert "a ␛]0;PWNED␇ b ␛[H␛[J c" in term.screen()
        step(b"\x1b", "Account › Evil")
        step(b"1", "note␛]52")
        step(b"\x1b[B\r", "Edit note")  # the activity form's text area
        step(b"\x1b", "Account › Evil")
        step(b"2", "Mal␛]0;PWNED␇")  # the contacts tab
        step(b"\x1bOR", "Contacts")  # F3: the contacts list
        step(b"\x1bOS", "task␛]0;PWNED␇")  # F4: my activities
        step(b"\x10", "Search")  # ctrl+p: the palette, searching records
        step(b"Evil", "Evil␛]0;PWNED")
        step(b"\x1b", "My activities")
        step(b"\x1b[15~", "Import")  # F5: the import screen and its file dropdown
        step(str(files).encode() + b"/ev", "evil␛]0;PWNED␇.csv")
        term.close()

    raw = bytes(term.output)
    for attack in (TITLE_ATTACK, CLIPBOARD_ATTACK, BIDI, C1_CSI):
        assert attack.encode() not in raw
    assert b"\x1b]0;" not in raw and b"\x1b]52;" not in raw
    assert any("b ␛[H␛[J c" in screen for screen in seen)
    assert any("gnp.exe" in screen and "�" in screen for screen in seen)
