"""The index beside a database file (`crm.json.index`): read instead of the base, rebuilt from
the files whenever it does not match them, never followed through a link, and covered by
`crm check`. Real files and real processes throughout."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store import storage
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, STORED_TABLES
from store.queries import ListQuery, bucket_agenda
from store.service import CRM, now_iso

ROOT = Path(__file__).resolve().parents[2]


def index_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".index*"))


def snapshot(crm: CRM) -> dict[str, dict]:
    return {table: dict(crm.all(table)) for table in STORED_TABLES}


def filled(db: Path) -> CRM:
    crm = CRM.open(db, user="alice")
    account = crm.create(ACCOUNTS, {"name": "São Paulo Metais", "address_city": "Campinas"})
    contact = crm.create(
        CONTACTS, {"first_name": "Ana", "last_name": "Silva", "account_id": account.record["id"]}
    ).record
    crm.log_activity("note", contact["id"], {"subject": "Called about the order"})
    crm.log_activity("task", account.record["id"], {"subject": "Send the quote"})
    return crm


def without_parsing_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the base was parsed")

    monkeypatch.setattr(storage.Database, "_load_base", refuse)


def crm_command(*args: str | Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", str(db), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CRM_USER": "alice"},
    )


def test_a_process_reads_the_index_instead_of_the_base(db_path: Path, monkeypatch) -> None:
    crm = filled(db_path)
    assert [p.name for p in index_files(db_path)][0] == "crm.json.index"
    without_parsing_the_base(monkeypatch)
    other = CRM.open(db_path, user="bob")
    assert snapshot(other) == snapshot(crm)
    found = other.search(CONTACTS, ListQuery(text="sao paulo"))  # the account's name, folded
    assert [other.get(CONTACTS, i)["last_name"] for i in found] == ["Silva"]
    # and it saves, the rules reading through the index
    account_id = next(iter(other.all(ACCOUNTS)))
    other.log_activity("note", account_id, {"subject": "From bob"})
    assert crm.timeline(account_id)[0]["subject"] == "From bob"


def test_a_compaction_moves_the_index_onto_the_new_base(db_path: Path, monkeypatch) -> None:
    crm = filled(db_path)
    crm.compact()
    crm.create(ACCOUNTS, {"name": "After the compaction"})
    without_parsing_the_base(monkeypatch)
    assert snapshot(CRM.open(db_path)) == snapshot(crm)


@pytest.mark.parametrize("how", ["deleted", "another database's", "garbage", "emptied"])
def test_an_index_that_does_not_match_is_rebuilt_from_the_files(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    crm = filled(db_path)
    expected = snapshot(crm)
    index = db_path.with_name(db_path.name + ".index")
    del crm
    if how == "deleted":
        for path in index_files(db_path):
            path.unlink()
    elif how == "another database's":
        other = tmp_path / "other" / "crm.json"
        other.parent.mkdir()
        CRM.open(other, user="x").create(ACCOUNTS, {"name": "Somebody else's"})
        for path in index_files(db_path):
            path.unlink()
        for path in index_files(other):
            os.rename(path, db_path.with_name(path.name))
    elif how == "garbage":
        for path in index_files(db_path):
            path.unlink()
        index.write_bytes(b"not a SQLite file at all" * 100)
    else:
        with sqlite3.connect(index) as conn:
            conn.execute("DELETE FROM state")
    reopened = CRM.open(db_path, user="bob")
    assert snapshot(reopened) == expected
    assert reopened.search(ACCOUNTS, ListQuery(text="metais")) != []


def test_a_position_past_the_journal_is_rebuilt(db_path: Path) -> None:
    """The index says it read further than the journal goes (the journal was cut back from a
    backup): what the journal holds wins."""
    crm = filled(db_path)
    journal = max(db_path.parent.glob(db_path.name + ".journal-*"))
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]))  # the last save is gone
    last = crm.timeline(next(iter(crm.all(ACCOUNTS))))[0]
    reopened = CRM.open(db_path)
    assert reopened.get(ACTIVITIES, last["id"]) is None
    assert reopened.count(ACTIVITIES) == 1


def test_a_save_by_a_process_without_the_index_is_taken_in(db_path: Path) -> None:
    """A writer that did not update the index (killed after its fsync, or an older termcrm)
    leaves the entry in the journal: the next process applies it to the index."""
    crm = filled(db_path)
    plain = storage.Database(db_path)
    plain.open()  # every record in memory, no index
    record = {"id": "01JNOINDEX0000000000000000", "name": "Written past the index", "version": 1}
    plain.transact(lambda tables: [("put", ACCOUNTS, record)])
    assert CRM.open(db_path).get(ACCOUNTS, record["id"]) == record
    crm.refresh()
    assert crm.search(ACCOUNTS, ListQuery(text="past the index")) == [record["id"]]


def test_a_link_at_the_index_name_is_never_followed(db_path: Path, tmp_path: Path) -> None:
    crm = filled(db_path)
    expected = snapshot(crm)
    del crm
    for path in index_files(db_path):
        path.unlink()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    os.symlink(victim, db_path.with_name(db_path.name + ".index"))
    reopened = CRM.open(db_path, user="bob")  # indexed in memory instead
    assert snapshot(reopened) == expected
    reopened.create(ACCOUNTS, {"name": "Still saves"})
    assert victim.read_bytes() == b"precious"
    assert os.path.islink(db_path.with_name(db_path.name + ".index"))
    notes = reopened.check_derived()
    assert any("not a regular file" in note and "in memory" in note for note in notes), notes


@pytest.mark.parametrize("group_writable", [False, True])
def test_the_index_takes_the_database_mode_whatever_the_umask(
    tmp_path: Path, group_writable: bool
) -> None:
    db = tmp_path / "team" / "crm.json"
    old = os.umask(0o022 if group_writable else 0o000)
    try:
        crm = CRM.open(db, user="alice", group_writable=group_writable)
        crm.create(ACCOUNTS, {"name": "Mode"})
    finally:
        os.umask(old)
    wanted = os.stat(db).st_mode & 0o777
    assert wanted == (0o660 if group_writable else 0o600)
    made = index_files(db)
    assert made and all(os.stat(p).st_mode & 0o777 == wanted for p in made), [
        (p.name, oct(os.stat(p).st_mode)) for p in made
    ]


def test_check_compares_the_index_with_the_database_and_repairs_it(db_path: Path) -> None:
    crm = filled(db_path)
    account_id = next(iter(crm.all(ACCOUNTS)))
    del crm
    index = db_path.with_name(db_path.name + ".index")
    with sqlite3.connect(index) as conn:  # a damaged derived file: a name changed in it
        conn.execute(
            "UPDATE accounts SET doc = json_set(doc, '$.name', 'Wrong') WHERE id = ?",
            (account_id,),
        )
    assert CRM.open(db_path).get(ACCOUNTS, account_id)["name"] == "Wrong"  # served as it is
    checked = crm_command("check", db=db_path)
    assert checked.returncode == 0, checked.stderr
    assert "index: 1 record out of step with the database" in checked.stderr
    assert "rebuilt" in checked.stderr
    assert CRM.open(db_path).get(ACCOUNTS, account_id)["name"] == "São Paulo Metais"
    again = crm_command("check", db=db_path)
    assert "out of step" not in again.stderr and again.returncode == 0


def test_a_newer_or_damaged_base_makes_no_index(tmp_path: Path) -> None:
    db = tmp_path / "crm.json"
    db.write_text('{"meta": {"1": {"schema_version": 999, "generation": 1}}}')
    with pytest.raises(storage.NewerSchemaError):
        CRM.open(db)
    assert index_files(db) == []


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Sao_Paulo"])
def test_the_agenda_read_a_page_at_a_time_buckets_as_the_rules_say(db_path: Path, zone) -> None:
    """The index's agenda (each bucket an indexed range, read a page at a time) puts every
    open task and appointment where `bucket_agenda` puts it, in the same order, in any zone."""
    now = datetime(2026, 12, 2, 14, 30, tzinfo=ZoneInfo(zone))
    crm = CRM.open(db_path, user="alice")
    account = crm.create(ACCOUNTS, {"name": "Agenda Ltda"}).record["id"]

    def at(delta: timedelta) -> str:
        return (now + delta).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    today, yesterday, tomorrow = ((now + timedelta(days=d)).date().isoformat() for d in (0, -1, 1))
    due = [
        yesterday,
        today,
        tomorrow,
        at(timedelta(hours=-1)),
        at(timedelta(hours=3)),
        at(timedelta(days=-3)),
        at(timedelta(days=40)),
    ]
    for number, when in enumerate(due):
        crm.log_activity("task", account, {"subject": f"task {number}", "due_at": when})
        crm.log_activity(
            "appointment",
            account,
            {"subject": f"meeting {number}", "start_at": when, "end_at": when},
        )
    crm.log_activity("task", account, {"subject": "whenever"})
    done = crm.log_activity("task", account, {"subject": "done", "due_at": yesterday}).record
    crm.update(ACTIVITIES, done["id"], {"status": "completed"})
    for _ in range(250):  # more than a page of upcoming ones
        crm.log_activity("task", account, {"subject": "later", "due_at": at(timedelta(days=9))})

    found = crm.agenda(None, now)
    local = now
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    open_ones = [a for a in crm.all(ACTIVITIES).values() if a.get("status", "open") == "open"]
    expected = bucket_agenda(
        open_ones, None, now_iso(local), now_iso(end), now_iso(start), start.date().isoformat()
    )
    for bucket in ("overdue", "today", "upcoming", "no_date"):
        got = [a["id"] for a in getattr(found, bucket)]
        assert got == [a["id"] for a in getattr(expected, bucket)], bucket
        assert len(getattr(found, bucket)) == len(got)
    assert len(found.upcoming) > 250
    last = list(found.upcoming)[-1]
    assert found.upcoming.position_of(last["id"]) == len(found.upcoming) - 1
    assert found.overdue.position_of(last["id"]) is None
