"""Nothing is ever lost (issue 10): the trash, restore and purge, the history of every change,
and undo, at the service level, with real files and real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from store.errors import ConflictError, NotFoundError, TrashedParentError, UndoConflict
from store.io.jobs import prepare_import, run_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, TRASH
from store.queries import ListQuery
from store.service import CRM

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 60  # seconds; only against a hang, never a measured time


def company(crm: CRM) -> tuple[str, str, str, str]:
    """Parent > Acme, with Ada (its primary contact) and a note and a task regarding Ada."""
    parent = crm.create(ACCOUNTS, {"name": "Parent Group"}).record["id"]
    acme = crm.create(ACCOUNTS, {"name": "Acme", "parent_account_id": parent}).record["id"]
    ada = crm.create(CONTACTS, {"first_name": "Ada", "account_id": acme}).record["id"]
    crm.update(ACCOUNTS, acme, {"primary_contact_id": ada})
    crm.log_activity("note", ada, {"description": "met at the fair"})
    task = crm.log_activity("task", acme, {"subject": "Send quote", "due_at": "2026-12-03"})
    return parent, acme, ada, task.record["id"]


# ---------------------------------------------------------------- trash and restore


def test_delete_moves_the_record_and_its_chosen_dependants_to_the_trash(db: str) -> None:
    crm = CRM.open(db, user="ana")
    _parent, acme, ada, task = company(crm)
    removed = crm.delete(ACCOUNTS, acme, contacts="delete", activities="delete")
    assert removed == 4  # Acme, Ada, her note, Acme's task

    assert crm.get(ACCOUNTS, acme) is None and crm.get(CONTACTS, ada) is None
    assert acme not in crm.search(ACCOUNTS, ListQuery(text="acme"))
    assert crm.search(CONTACTS, ListQuery(text="ada")) == []
    assert all(task != a["id"] for bucket in crm.agenda().__dict__.values() for a in bucket)
    [entry] = crm.trash()  # the deleted record, not each dependant
    assert (entry.record_id, entry.name, entry.deleted_by, entry.dependants) == (
        acme,
        "Acme",
        "ana",
        3,
    )
    assert crm.in_trash(ada) is not None and crm.in_trash(ada).root == acme
    assert crm.check() == []  # nothing dangles
    assert CRM.open(db).trash() == crm.trash()  # it is in the file


def test_restore_brings_everything_back_with_links_and_versions_continuing(
    db: str,
) -> None:
    crm = CRM.open(db, user="ana")
    _parent, acme, ada, task = company(crm)
    versions = {rid: crm.find(rid)[1]["version"] for rid in (acme, ada, task)}
    crm.delete(ACCOUNTS, acme, contacts="detach", activities="delete")
    assert crm.get(CONTACTS, ada).get("account_id") is None  # detached, not deleted

    result = crm.restore(acme)
    assert result.restored == 2  # Acme and its task; Ada never left
    assert crm.get(ACCOUNTS, acme)["version"] == versions[acme] + 1
    assert crm.get(ACTIVITIES, task)["version"] == versions[task] + 1
    assert crm.get(CONTACTS, ada)["account_id"] == acme  # linked again
    assert crm.get(ACCOUNTS, acme)["primary_contact_id"] == ada
    assert crm.trash() == [] and crm.check() == []
    assert acme in crm.search(ACCOUNTS, ListQuery(text="acme"))


def test_a_restore_needing_a_parent_in_the_trash_says_so_and_can_restore_both(
    db: str,
) -> None:
    crm = CRM.open(db, user="ana")
    parent, acme, _ada, _task = company(crm)
    crm.delete(ACCOUNTS, acme, contacts="delete", activities="delete")
    crm.delete(ACCOUNTS, parent)
    with pytest.raises(TrashedParentError, match="Parent Group"):
        crm.restore(acme)
    assert crm.get(ACCOUNTS, acme) is None  # nothing was changed
    crm.restore(acme, with_parents=True)
    assert crm.get(ACCOUNTS, acme)["parent_account_id"] == parent
    assert crm.get(ACCOUNTS, parent) is not None and crm.trash() == []


def _purge_acme(crm: CRM) -> str:
    _parent, acme, ada, _task = company(crm)
    crm.delete(ACCOUNTS, acme, contacts="delete", activities="delete")
    assert crm.purge([acme]) == 4
    assert crm.trash() == [] and crm.in_trash(ada) is None
    with pytest.raises(NotFoundError):
        crm.restore(acme)
    return acme


def test_purge_deletes_for_good(db: str) -> None:
    acme = _purge_acme(CRM.open(db, user="ana"))
    reopened = CRM.open(db, user="ana")
    assert reopened.trash() == [] and reopened.find(acme) is None


def test_purge_leaves_nothing_in_the_file(db_path: Path) -> None:
    crm = CRM.open(db_path, user="ana")
    acme = _purge_acme(crm)
    crm.compact()
    assert acme.encode() not in db_path.read_bytes()


def test_purge_older_than_keeps_what_is_newer(db: str) -> None:
    crm = CRM.open(db, user="ana")
    old = crm.create(ACCOUNTS, {"name": "Old"}).record["id"]
    new = crm.create(ACCOUNTS, {"name": "New"}).record["id"]
    crm.delete(ACCOUNTS, old)
    crm.delete(ACCOUNTS, new)
    assert crm.purge(older_than=timedelta(days=30)) == 0
    assert crm.purge(older_than=timedelta(seconds=-60)) == 2  # "older than a minute from now"


def test_editing_a_record_in_the_trash_says_who_deleted_it(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    CRM.open(db, user="bob").delete(ACCOUNTS, acme["id"])
    crm.compact()  # the journal entry is gone: the trash still knows
    deletion = CRM.open(db, user="ana").deleted_by(acme["id"])
    assert deletion is not None and deletion.by == "bob"
    with pytest.raises(ConflictError):
        crm.update(ACCOUNTS, acme["id"], {"phone": "+1 555 0100"}, expected_version=1)


# ---------------------------------------------------------------- history


def test_every_change_is_in_the_history_with_old_and_new_values(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme", "phone": "+1 555 0100"}).record["id"]
    CRM.open(db, user="bob").update(ACCOUNTS, acme, {"phone": "+1 555 0199"})
    crm.refresh()
    crm.delete(ACCOUNTS, acme)
    crm.restore(acme)

    entries = crm.history(acme)
    assert [(e.by, e.summary) for e in entries] == [
        ("ana", "restore account Acme"),
        ("ana", "delete account Acme"),
        ("bob", "edit account Acme"),
        ("ana", "create account Acme"),
    ]
    edit = entries[2].changes[0]
    assert edit.fields == {"phone": ("+1 555 0100", "+1 555 0199")} and edit.version == 2
    assert entries[3].changes[0].fields["name"] == (None, "Acme")
    assert [e.summary for e in crm.history(user="bob")] == ["edit account Acme"]
    assert crm.history(since="2999-01-01") == []


def test_the_history_survives_compaction_and_restarts(db_path: Path) -> None:
    crm = CRM.open(db_path, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.update(ACCOUNTS, acme, {"industry": "Robots"})
    crm.compact()
    crm.update(ACCOUNTS, acme, {"industry": "Rockets"})
    crm.compact()
    assert Path(f"{db_path}.history").exists()
    again = CRM.open(db_path, user="ana")
    assert [e.summary for e in again.history(acme)] == [
        "edit account Acme",
        "edit account Acme",
        "create account Acme",
    ]
    # A compaction killed after it archived, before its base: the next one repeats the
    # entries; each is still shown once.
    history_file = Path(f"{db_path}.history")
    history_file.write_bytes(history_file.read_bytes() * 2)
    assert len(again.history(acme)) == 3


_SAVER = """
import sys
from store.service import CRM
crm = CRM.open(sys.argv[1], user="kim")
account = crm.create("accounts", {"name": "Kim's"}).record["id"]
n = 0
while True:
    crm.update("accounts", account, {"description": f"take {n}"})
    print(account, n, flush=True)  # acknowledged
    n += 1
    if n % 25 == 0:
        crm.compact()
"""


def test_the_history_survives_a_sigkill_of_a_writer(db_path: Path) -> None:
    CRM.open(db_path, user="setup")
    writer = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(db_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = []
    started = time.monotonic()
    assert writer.stdout is not None
    while len(lines) < 60:
        assert time.monotonic() - started < HANG_GUARD
        lines.append(writer.stdout.readline().split())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    account, last = lines[-1][0], int(lines[-1][1])
    crm = CRM.open(db_path)
    takes = {
        c.fields["description"][1]
        for e in crm.history(account)
        for c in e.changes
        if "description" in c.fields
    }
    assert {f"take {n}" for n in range(last + 1)} <= takes


def test_the_history_is_never_read_at_start_up(db_path: Path) -> None:
    crm = CRM.open(db_path, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.compact()
    history_file = Path(f"{db_path}.history")
    history_file.unlink()
    os.mkfifo(history_file)  # a read would fail (or wait): opening and saving must not
    reopened = CRM.open(db_path, user="ana")
    reopened.update(ACCOUNTS, acme, {"industry": "Robots"})
    assert CRM.open(db_path).get(ACCOUNTS, acme)["industry"] == "Robots"


# ---------------------------------------------------------------- undo


def test_undo_an_edit_a_create_and_a_delete(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme", "phone": "+1 555 0100"}).record["id"]
    crm.update(ACCOUNTS, acme, {"phone": "+1 555 0199", "industry": "Robots"})

    entry, _ = crm.undo()
    assert entry.summary == "edit account Acme"
    record = crm.get(ACCOUNTS, acme)
    assert record["phone"] == "+1 555 0100" and "industry" not in record
    assert record["version"] == 3  # an undo is a change of its own

    crm.delete(ACCOUNTS, acme)
    crm.undo()
    assert crm.get(ACCOUNTS, acme) is not None and crm.trash() == []

    undone = [e.summary for e in crm.history(acme) if e.undoes]
    assert undone == ["undo: delete account Acme", "undo: edit account Acme"]
    entry, _ = crm.undo()  # the create is next: the record goes to the trash
    assert entry.summary == "create account Acme"
    assert crm.get(ACCOUNTS, acme) is None and crm.in_trash(acme) is not None
    with pytest.raises(NotFoundError):
        crm.undo()  # nothing of ana's left to undo


def test_an_undo_can_be_undone(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.update(ACCOUNTS, acme, {"industry": "Robots"})
    crm.undo()
    redo = crm.history(acme)[0]
    assert redo.undoes
    crm.undo(redo.batch_id)
    assert crm.get(ACCOUNTS, acme)["industry"] == "Robots"


_EDITOR = """
import sys
from store.service import CRM
CRM.open(sys.argv[1], user="bob").update("accounts", sys.argv[2], {"industry": "Bob's"})
"""


def test_undo_refuses_when_someone_changed_the_record_since(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.update(ACCOUNTS, acme, {"phone": "+1 555 0100"})
    subprocess.run(
        [sys.executable, "-c", _EDITOR, db, acme],
        cwd=ROOT,
        check=True,
        timeout=HANG_GUARD,
    )
    with pytest.raises(UndoConflict, match="changed since by bob"):
        crm.undo()
    record = CRM.open(db).get(ACCOUNTS, acme)
    assert record["industry"] == "Bob's" and record["phone"] == "+1 555 0100"


def test_undo_after_compaction(db_path: Path) -> None:
    crm = CRM.open(db_path, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.update(ACCOUNTS, acme, {"industry": "Robots"})
    crm.compact()
    later = CRM.open(db_path, user="ana")
    later.undo()
    assert later.get(ACCOUNTS, acme).get("industry") is None


def test_undoing_an_import_removes_what_it_created_and_restores_what_it_updated(
    db: str, tmp_path: Path
) -> None:
    crm = CRM.open(db, user="ana")
    first = tmp_path / "contacts.csv"
    first.write_text("id,first name,last name,email\nc1,Ada,Lovelace,ada@a.example\n")
    run_import(crm, prepare_import("contacts", first.read_bytes()), source=first.name)
    [ada] = crm.search(CONTACTS, ListQuery(text="ada"))
    second = tmp_path / "more.csv"
    second.write_text(
        "id,first name,last name,email\n"
        "c1,Ada,Lovelace,ada@new.example\n"
        "c2,Grace,Hopper,grace@h.example\n"
    )
    run_import(crm, prepare_import("contacts", second.read_bytes()), source=second.name)
    assert crm.get(CONTACTS, ada)["email"] == "ada@new.example"

    entry, _ = crm.undo()
    assert entry.summary == "import more.csv"
    assert crm.get(CONTACTS, ada)["email"] == "ada@a.example"
    assert crm.search(CONTACTS, ListQuery(text="grace")) == []


_RESTORER = """
import sys
from store.service import CRM
CRM.open(sys.argv[1], user="ana").restore(sys.argv[2])
"""


def test_one_user_restores_while_another_edits(db: str) -> None:
    ana = CRM.open(db, user="ana")
    _parent, acme, ada, _task = company(ana)
    ana.delete(ACCOUNTS, acme, contacts="detach", activities="delete")
    bob = CRM.open(db, user="bob")
    bob.update(CONTACTS, ada, {"phone": "+1 555 0142"})  # bob edits the detached contact
    subprocess.run(
        [sys.executable, "-c", _RESTORER, db, acme],
        cwd=ROOT,
        check=True,
        timeout=HANG_GUARD,
    )
    bob.refresh()
    contact = bob.get(CONTACTS, ada)
    assert contact["phone"] == "+1 555 0142"  # bob's edit kept
    assert contact["account_id"] == acme  # and the link restored
    bob.update(CONTACTS, ada, {"job_title": "CTO"})  # bob goes on working
    assert CRM.open(db).check() == []
    assert TRASH not in {c.table for c in bob.history(ada)[0].changes}


def test_a_merge_is_in_both_histories_and_can_be_undone(db: str) -> None:
    from store.merging import merge

    crm = CRM.open(db, user="ana")
    keep = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    other = crm.create(ACCOUNTS, {"name": "ACME Ltd", "phone": "+1 555 0100"}).record["id"]
    ada = crm.create(CONTACTS, {"first_name": "Ada", "account_id": other}).record["id"]
    note = crm.log_activity("note", other, {"description": "from the other"}).record["id"]
    merge(crm, ACCOUNTS, keep, other)
    assert crm.get(CONTACTS, ada)["account_id"] == keep
    assert crm.in_trash(other).merged_into == keep
    summary = crm.history(keep)[0].summary
    assert summary == crm.history(other)[0].summary and summary.startswith("merge")

    crm.undo()
    assert crm.get(ACCOUNTS, other)["name"] == "ACME Ltd"
    assert crm.get(CONTACTS, ada)["account_id"] == other
    assert crm.get(ACTIVITIES, note)["regarding_id"] == other
    assert crm.get(ACCOUNTS, keep).get("phone") is None and crm.check() == []


def test_a_reference_to_a_trashed_record_reads_deleted(db: str) -> None:
    crm = CRM.open(db, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    crm.delete(ACCOUNTS, acme)
    assert crm.name_of(ACCOUNTS, acme) == "Acme (deleted)"
    crm.restore(acme)
    assert crm.name_of(ACCOUNTS, acme) == "Acme"
