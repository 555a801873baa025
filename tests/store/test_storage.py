"""Persistence (store.storage) through real files: base + journals, modes, damage, compaction."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
import time
from pathlib import Path

import orjson
import pytest
import tinydb

from store import storage
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    SCHEMA_VERSION,
    STORED_TABLES,
    TRASH,
)
from store.queries import ListQuery
from store.service import CRM
from store.storage import (
    CorruptDatabaseError,
    Database,
    LockTimeoutError,
    NewerSchemaError,
    StorageError,
)


def journals(path: Path) -> dict[int, Path]:
    found = {}
    for candidate in path.parent.glob(path.name + ".journal-*"):
        found[int(candidate.name.rsplit("-", 1)[1])] = candidate
    return dict(sorted(found.items()))


def current_journal(crm: CRM) -> Path:
    return journals(crm._engine.database.path)[crm._engine.database.generation]


def snapshot(crm: CRM) -> dict[str, dict]:
    return {t: dict(crm.all(t)) for t in RECORD_TABLES}


def directory(path: Path) -> dict[str, bytes]:
    """The database's files and their bytes; not the index beside it (`crm.json.index*`),
    derived data that any open may bring up to date."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.parent.iterdir())
        if p.is_file() and ".index" not in p.name
    }


def populate(crm: CRM, n: int = 3) -> None:
    """Accounts, contacts and activities, with updates and deletes in the journal."""
    for i in range(n):
        account = crm.create(ACCOUNTS, {"name": f"Account {i}", "address_city": "São Paulo"})
        contact = crm.create(
            CONTACTS,
            {"first_name": f"Ada {i}", "last_name": "Lovelace", "account_id": account.record["id"]},
        ).record
        crm.create(
            ACTIVITIES,
            {
                "type": "note",
                "description": f"note {i}\nline 2",
                "regarding_type": "contact",
                "regarding_id": contact["id"],
            },
        )
        crm.update(ACCOUNTS, account.record["id"], {"industry": "Anvils"})
    doomed = crm.create(ACCOUNTS, {"name": "Doomed"}).record
    crm.delete(ACCOUNTS, doomed["id"])


# ---------------------------------------------------------------- reopening


def test_reopen_sees_everything(crm, db_path):
    populate(crm)
    again = CRM.open(db_path, user="bob")
    assert snapshot(again) == snapshot(crm)
    assert again.count(ACCOUNTS) == 3 and again.count(ACTIVITIES) == 3
    assert again.search(ACCOUNTS, ListQuery(text="doomed")) == []
    assert again.search(CONTACTS, ListQuery(text="account 1")) == crm.search(
        CONTACTS, ListQuery(text="account 1")
    )
    assert again.check() == []


def test_open_creates_missing_directories_and_an_empty_database(tmp_path):
    path = tmp_path / "a" / "b" / "crm.json"
    crm = CRM.open(path, user="u")
    assert path.exists() and all(crm.count(t) == 0 for t in RECORD_TABLES)
    with tinydb.TinyDB(path, access_mode="r") as db:
        meta = db.table("meta").all()
    assert meta[0]["schema_version"] == SCHEMA_VERSION and meta[0]["generation"] == 1


def test_compact_then_plain_tinydb_reads_every_record(crm, db_path):
    populate(crm)
    crm.compact()
    expected = snapshot(crm)
    with tinydb.TinyDB(db_path, access_mode="r") as db:
        for table in RECORD_TABLES:
            stored = {doc["id"]: dict(doc) for doc in db.table(table).all()}
            assert stored == expected[table]
        assert db.table("meta").all()[0]["generation"] == crm._engine.database.generation
    raw = json.loads(db_path.read_text(encoding="utf-8"))
    assert set(raw) == {"meta", *STORED_TABLES}  # the trash is a table of the file too
    with tinydb.TinyDB(db_path) as db:  # the default, read-write mode opens it too
        assert len(db.table(ACCOUNTS)) == 3
    assert snapshot(CRM.open(db_path)) == expected


def test_records_written_by_tinydb_into_a_compacted_file_load(crm, db_path):
    populate(crm)
    crm.compact()
    with tinydb.TinyDB(db_path) as db:
        db.table(ACCOUNTS).insert({"id": "from-tinydb", "name": "Typed In", "version": 1})
    reopened = CRM.open(db_path)
    assert reopened.get(ACCOUNTS, "from-tinydb")["name"] == "Typed In"
    assert reopened.count(ACCOUNTS) == 4


def test_a_plain_tinydb_file_loads(tmp_path):
    path = tmp_path / "plain.json"
    account = {
        "id": "acc-1",
        "name": "Plain Co",
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "x",
        "modified_at": "2026-01-01T00:00:00Z",
        "modified_by": "x",
    }
    contact = {"id": "con-1", "last_name": "Plain", "account_id": "acc-1", "version": 1}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "meta": {"1": {"schema_version": 1, "generation": 1}},
                "accounts": {"1": account},
                "contacts": {"7": contact},
            },
            out,
        )
    crm = CRM.open(path, user="u")
    assert crm.get(ACCOUNTS, "acc-1") == account
    assert crm.contacts_of("acc-1") == [contact]
    assert crm.count(ACTIVITIES) == 0 and crm.ready
    note = crm.log_activity("note", "Plain Co", {"description": "hi"}).record
    crm.compact()
    with tinydb.TinyDB(path, access_mode="r") as db:
        assert [d["id"] for d in db.table(ACTIVITIES).all()] == [note["id"]]
        assert [d["id"] for d in db.table(ACCOUNTS).all()] == ["acc-1"]


def test_a_file_written_by_tinydb_itself_loads(tmp_path):
    path = tmp_path / "tiny.json"
    with tinydb.TinyDB(path) as db:
        db.table("meta").insert({"schema_version": 1, "generation": 1})
        db.table(ACCOUNTS).insert({"id": "a", "name": "Tiny"})
        db.table(CONTACTS).insert({"id": "c", "first_name": "T", "account_id": "a"})
    crm = CRM.open(path)
    assert crm.get(ACCOUNTS, "a")["name"] == "Tiny"
    assert crm.search(CONTACTS, ListQuery(text="tiny")) == ["c"]


# ---------------------------------------------------------------- file modes


@pytest.mark.parametrize(
    ("group_writable", "mask", "expected"),
    [
        (False, 0, 0o600),
        (False, 0o022, 0o600),
        (True, 0, 0o660),
        (True, 0o022, 0o660),
        (True, 0o077, 0o660),
    ],
)
def test_file_modes(tmp_path, umask, group_writable, mask, expected):
    umask(mask)
    path = tmp_path / "crm.json"
    crm = CRM.open(path, user="u", group_writable=group_writable)
    crm.create(ACCOUNTS, {"name": "A"})
    crm.compact()
    crm.create(ACCOUNTS, {"name": "B"})
    crm.replace_all(snapshot(crm))
    crm.create(ACCOUNTS, {"name": "C"})
    files = [path, *journals(path).values()]
    assert len(files) >= 3
    assert not Path(str(path) + ".lock").exists()  # writers lock the folder, not a file
    for file in files:
        assert os.stat(file).st_mode & 0o777 == expected, file.name
    assert not list(tmp_path.glob(".*.tmp"))


def test_compaction_keeps_a_mode_changed_by_hand(tmp_path, umask):
    umask(0)
    path = tmp_path / "crm.json"
    crm = CRM.open(path, user="u")
    crm.create(ACCOUNTS, {"name": "A"})
    os.chmod(path, 0o640)
    crm.compact()
    assert os.stat(path).st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- a damaged base


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"\x00\xff\xfegarbage",
        b"not json at all",
        b"[]",
        b"{}",
        b'{"accounts": {}}',
        b'{"meta": {}}',
        b'{"meta": {"1": {"schema_version": "1"}}}',
        b'{"meta": {"1": {"schema_version": 1}}, "accounts": []}',
        b'{"meta": {"1": {"schema_version": 1}}, "accounts": {"1": {"name": "no id"}}}',
        b'{"meta":{"1":{"schema_version":1,"generation":1}},\n"accounts":{\n"1":{"id":"a"\n',
        b'{"meta":{"1":{"schema_version":1,"generation":1}},\nnonsense\n}\n',
    ],
)
def test_a_corrupt_base_is_refused_and_left_as_it_was(db_path, content):
    db_path.write_bytes(content)
    before = directory(db_path)
    with pytest.raises(CorruptDatabaseError) as excinfo:
        CRM.open(db_path, user="u")
    assert str(db_path) in str(excinfo.value)
    assert directory(db_path) == before


def test_a_base_truncated_anywhere_is_refused(crm, db_path):
    populate(crm)
    crm.compact()
    full = db_path.read_bytes()
    cuts = set(range(0, len(full) - 1, 3)) | {i + 1 for i, b in enumerate(full[:-2]) if b == 10}
    accepted = []
    for cut in sorted(cuts):
        db_path.write_bytes(full[:cut])
        database = Database(db_path)
        try:
            database.open()
        except CorruptDatabaseError:
            assert db_path.read_bytes() == full[:cut]
        else:
            accepted.append((cut, full[max(0, cut - 20) : cut]))
    assert accepted == []
    db_path.write_bytes(full[:-1])  # only the final newline is missing: still whole
    Database(db_path).open()


@pytest.mark.parametrize("layout", ["ours", "plain"])
def test_a_newer_schema_is_refused_and_left_as_it_was(crm, db_path, layout):
    populate(crm)
    crm.compact()
    if layout == "ours":
        data = db_path.read_bytes().replace(
            b'"schema_version":%d' % SCHEMA_VERSION,
            b'"schema_version":%d' % (SCHEMA_VERSION + 1),
            1,
        )
    else:
        data = json.dumps(
            {"meta": {"1": {"schema_version": SCHEMA_VERSION + 7}}, "accounts": {}}
        ).encode()
    db_path.write_bytes(data)
    before = directory(db_path)
    with pytest.raises(NewerSchemaError) as excinfo:
        CRM.open(db_path, user="u")
    assert "newer" in str(excinfo.value)
    assert directory(db_path) == before


# ---------------------------------------------------------------- the journal


def test_a_torn_last_journal_line_is_ignored_then_truncated(crm, db_path):
    populate(crm)
    journal = current_journal(crm)
    good = journal.read_bytes()
    torn = orjson.dumps({"ops": [["put", ACCOUNTS, {"id": "torn", "name": "Torn"}]]})
    with open(journal, "ab") as out:
        out.write(torn[: len(torn) // 2])
    expected = snapshot(crm)

    reader = CRM.open(db_path, user="reader")
    assert snapshot(reader) == expected and reader.get(ACCOUNTS, "torn") is None
    assert crm.refresh() == [] and reader.refresh() == []

    writer = CRM.open(db_path, user="writer")
    new = writer.create(ACCOUNTS, {"name": "After the tear"}).record
    data = journal.read_bytes()
    assert data.startswith(good) and data.endswith(b"\n")
    added = data[len(good) :].splitlines()
    assert len(added) == 1 and orjson.loads(added[0])["ops"][0][2] == new
    # Processes that were following see the new write, not the torn one.
    assert [c.record_id for c in reader.refresh()] == [new["id"]]
    assert crm.refresh()[0].new == new
    final = CRM.open(db_path)
    assert final.get(ACCOUNTS, new["id"]) == new and final.get(ACCOUNTS, "torn") is None
    assert snapshot(final) == snapshot(reader) == snapshot(crm)


@pytest.mark.parametrize(
    "damage", [b"{not json}", b'{"nope": []}', b'{"ops": [["put"]]}', b"\x00\x00\x00"]
)
def test_a_damaged_middle_journal_line_is_refused(crm, db_path, damage):
    populate(crm)
    journal = current_journal(crm)
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) > 3
    lines[len(lines) // 2] = damage + b"\n"
    journal.write_bytes(b"".join(lines))
    before = directory(db_path)
    with pytest.raises(CorruptDatabaseError) as excinfo:
        CRM.open(db_path, user="u")
    assert journal.name in str(excinfo.value)
    assert directory(db_path) == before


def test_a_damaged_journal_is_reported_to_a_running_process(crm, db_path):
    crm.create(ACCOUNTS, {"name": "A"})
    with open(current_journal(crm), "ab") as out:
        out.write(b"garbage\n")
    with pytest.raises(CorruptDatabaseError):
        crm.refresh()


def _fail_journal_syscall(monkeypatch, name: str, journal: Path) -> list[int]:
    """Make os.<name> fail with ENOSPC once, for the journal's descriptor only."""
    real = getattr(os, name)
    calls: list[int] = []

    def failing(fd, *args):
        if not calls and os.path.realpath(f"/proc/self/fd/{fd}") == str(journal):
            calls.append(fd)
            if name == "write":  # a partial write first, as a full disk can do
                real(fd, args[0][:7])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *args)

    monkeypatch.setattr(os, name, failing)
    return calls


@pytest.mark.parametrize("syscall", ["write", "fsync"])
def test_a_failed_write_leaves_journal_and_memory_unchanged(crm, db_path, monkeypatch, syscall):
    populate(crm)
    journal = current_journal(crm)
    before_bytes, before_tables = journal.read_bytes(), snapshot(crm)
    before_version = crm.generation
    calls = _fail_journal_syscall(monkeypatch, syscall, journal)
    with pytest.raises(StorageError) as excinfo:
        crm.create(ACCOUNTS, {"name": "Never saved"})
    assert calls and "No space left" in str(excinfo.value)
    assert journal.read_bytes() == before_bytes
    assert snapshot(crm) == before_tables
    assert crm.generation == before_version
    assert crm.search(ACCOUNTS, ListQuery(text="never")) == []
    monkeypatch.undo()
    saved = crm.create(ACCOUNTS, {"name": "Saved"}).record
    reopened = CRM.open(db_path)
    assert reopened.get(ACCOUNTS, saved["id"]) == saved
    assert reopened.search(ACCOUNTS, ListQuery(text="never")) == []
    assert snapshot(reopened) == snapshot(crm)


def test_a_failed_update_or_delete_leaves_everything_unchanged(crm, db_path, monkeypatch):
    populate(crm)
    account_id = crm.search(ACCOUNTS, ListQuery(text="account 0"))[0]
    journal = current_journal(crm)
    before_bytes, before_tables = journal.read_bytes(), snapshot(crm)
    _fail_journal_syscall(monkeypatch, "write", journal)
    with pytest.raises(StorageError):
        crm.update(ACCOUNTS, account_id, {"name": "Renamed"})
    _fail_journal_syscall(monkeypatch, "write", journal)
    with pytest.raises(StorageError):
        crm.delete(ACCOUNTS, account_id, contacts="delete", activities="delete")
    assert journal.read_bytes() == before_bytes and snapshot(crm) == before_tables
    assert crm.search(CONTACTS, ListQuery(text="account 0"))  # indexes untouched too


def test_a_failed_compaction_loses_nothing(crm, db_path, monkeypatch):
    populate(crm)
    expected = snapshot(crm)

    def no_replace(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(StorageError):
        crm.compact()
    monkeypatch.undo()
    assert not list(db_path.parent.glob(".*.tmp"))
    assert snapshot(crm) == expected
    later = crm.create(ACCOUNTS, {"name": "Later"}).record
    reopened = CRM.open(db_path)
    assert snapshot(reopened) == snapshot(crm) and reopened.get(ACCOUNTS, later["id"])


def test_a_write_waits_for_the_lock_then_times_out_cleanly(db_path):
    crm = CRM.open(db_path, user="u", lock_timeout=0.2)
    crm.create(ACCOUNTS, {"name": "A"})
    journal = current_journal(crm)
    before = journal.read_bytes(), snapshot(crm)
    holder = os.open(db_path.parent, os.O_RDONLY)  # another process's lock, in effect
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeoutError):
            crm.create(ACCOUNTS, {"name": "B"})
        assert time.monotonic() - started >= 0.2
        assert crm.refresh() == []  # reading does not need the lock
    finally:
        os.close(holder)
    assert (journal.read_bytes(), snapshot(crm)) == before
    crm.create(ACCOUNTS, {"name": "B"})
    assert CRM.open(db_path).count(ACCOUNTS) == 2


# ---------------------------------------------------------------- compaction and followers


def test_compaction_keeps_the_chain_for_followers(crm, db_path, monkeypatch):
    populate(crm)
    follower = CRM.open(db_path, user="follower")
    crm.compact()
    new = crm.create(ACCOUNTS, {"name": "After compaction"}).record

    def no_reload(*args, **kwargs):
        raise AssertionError("the follower reloaded the base")

    monkeypatch.setattr(follower._engine.database, "_load_base", no_reload)
    changes = follower.refresh()
    assert [(c.table, c.record_id) for c in changes] == [(ACCOUNTS, new["id"])]
    assert follower.get(ACCOUNTS, new["id"]) == new
    assert follower.search(ACCOUNTS, ListQuery(text="after compaction")) == [new["id"]]
    assert snapshot(follower) == snapshot(crm)


def test_followers_that_slept_through_compactions_reload(crm, db_path):
    populate(crm)
    follower = CRM.open(db_path, user="follower")
    first_generation = follower._engine.database.generation
    for i in range(3):
        crm.create(ACCOUNTS, {"name": f"Round {i}"})
        crm.compact()
    assert first_generation not in journals(db_path)  # old journals were removed
    seen = follower.generation
    follower.refresh()
    # The screens are told that everything may have changed (they reload whole).
    assert follower.generation != seen
    assert snapshot(follower) == snapshot(crm)
    assert follower.search(ACCOUNTS, ListQuery(text="round")) == crm.search(
        ACCOUNTS, ListQuery(text="round")
    )


@pytest.mark.parametrize("compactions", [1, 2, 3, 5])
def test_an_idle_process_after_several_compactions_writes_into_the_chain(crm, db_path, compactions):
    """A process that opened right after a compaction (its journal not written yet) sleeps
    while others compact several times: its next write must land where everyone reads."""
    populate(crm)
    crm.compact()
    idle = CRM.open(db_path, user="idle")
    for _ in range(compactions):
        crm.compact()
    other = crm.create(ACCOUNTS, {"name": "Written meanwhile"}).record
    seen = idle.generation
    idle.refresh()
    assert idle.generation != seen
    assert idle.get(ACCOUNTS, other["id"]) == other
    crm.compact()
    mine = idle.create(ACCOUNTS, {"name": "Written by the idle one"}).record
    for reader in (CRM.open(db_path), crm):
        reader.refresh()
        assert reader.get(ACCOUNTS, mine["id"]) == mine
        assert snapshot(reader) == snapshot(idle)


def test_a_write_racing_a_follower_into_compaction_is_not_skipped(crm, db_path, monkeypatch):
    """The follower reads its journal; before it looks for the next one, another process
    appends to that journal and compacts. The appended write must still reach the follower."""
    follower = CRM.open(db_path, user="follower")
    crm.create(ACCOUNTS, {"name": "Before"})
    follower.refresh()
    real_read = storage._read_journal
    fired: list[str] = []

    def racing_read(path, offset):
        data = real_read(path, offset)
        if threading.current_thread().name == "follower" and not fired:
            fired.append("busy")  # the writer's own reads go through here too
            fired[0] = crm.create(ACCOUNTS, {"name": "Raced"}).record["id"]
            crm.compact()
        return data

    monkeypatch.setattr(storage, "_read_journal", racing_read)
    worker = threading.Thread(target=follower.refresh, name="follower")
    worker.start()
    worker.join(20)
    assert not worker.is_alive() and fired
    monkeypatch.undo()
    follower.refresh()
    assert follower.get(ACCOUNTS, fired[0]) is not None
    assert snapshot(follower) == snapshot(crm)


def test_a_follower_refreshing_during_replace_all_sees_the_new_data(crm, db_path, monkeypatch):
    populate(crm)
    follower = CRM.open(db_path, user="follower")
    replacement = {
        ACCOUNTS: {"new": {"id": "new", "name": "Brand New"}},
        CONTACTS: {},
        ACTIVITIES: {},
    }
    real_write = storage._write_line_layout

    def slow_write(out, tables, meta):
        follower.refresh()  # another process refreshes while the new base is being written
        return real_write(out, tables, meta)

    monkeypatch.setattr(storage, "_write_line_layout", slow_write)
    crm.replace_all(replacement)
    monkeypatch.undo()
    follower.refresh()
    assert snapshot(follower) == snapshot(crm) == {**replacement}
    assert follower.search(ACCOUNTS, ListQuery()) == ["new"]
    more = crm.create(ACCOUNTS, {"name": "More"}).record
    follower.refresh()
    assert snapshot(follower) == snapshot(crm) and follower.get(ACCOUNTS, more["id"])


def test_replace_all_reaches_followers_and_new_openers(crm, db_path):
    populate(crm)
    follower = CRM.open(db_path, user="follower")
    tables = {ACCOUNTS: {"x": {"id": "x", "name": "Only One"}}, CONTACTS: {}, ACTIVITIES: {}}
    crm.replace_all(tables)
    assert snapshot(crm) == tables
    changes = follower.refresh()
    assert {c.record_id for c in changes if c.new is None} >= {r for r in crm.all(ACCOUNTS)} - {"x"}
    assert snapshot(follower) == tables
    assert follower.search(CONTACTS, ListQuery(text="ada")) == []
    assert snapshot(CRM.open(db_path)) == tables


# ---------------------------------------------------------------- loading in two steps


def _deferred(db_path: Path) -> CRM:
    crm = CRM(db_path, user="screen")
    crm.open_for_screen()
    return crm


def test_deferred_open_gives_the_same_data_as_a_full_open(crm, db_path):
    populate(crm, n=5)
    crm.compact()
    populate(crm, n=2)  # some in the base, some only in the journal
    full = CRM.open(db_path)
    screen = _deferred(db_path)
    # Every table is there at once: the index beside the base answers them all.
    assert screen.ready
    assert screen.count(CONTACTS) == full.count(CONTACTS) > 0
    assert screen.refresh() == []
    screen.finish_loading()
    assert screen.ready
    assert snapshot(screen) == snapshot(full)
    for table in (ACCOUNTS, CONTACTS):
        assert screen.search(table, ListQuery(text="ada")) == full.search(
            table, ListQuery(text="ada")
        )
    contact_id = full.search(CONTACTS, ListQuery(text="ada 1"))[0]
    assert screen.timeline(contact_id) == full.timeline(contact_id)


def test_activity_writes_during_a_deferred_open_are_not_lost(crm, db_path):
    populate(crm, n=4)
    crm.compact()
    in_base = list(crm.all(ACTIVITIES))
    screen = _deferred(db_path)
    # Another process changes activities that are still unread, and accounts, meanwhile.
    crm.update(ACTIVITIES, in_base[0], {"description": "changed meanwhile"})
    crm.delete(ACTIVITIES, in_base[1])
    account_id = next(iter(crm.all(ACCOUNTS)))
    new_note = crm.log_activity("note", account_id, {"description": "new meanwhile"}).record
    crm.update(ACCOUNTS, account_id, {"name": "Renamed meanwhile"})
    changes = screen.refresh()
    # Every table follows at once (nothing waits for a load).
    assert {c.table for c in changes} == {ACCOUNTS, ACTIVITIES, TRASH}
    assert screen.get(ACCOUNTS, account_id)["name"] == "Renamed meanwhile"
    screen.finish_loading()
    assert screen.ready
    assert snapshot(screen) == snapshot(crm) == snapshot(CRM.open(db_path))
    assert screen.get(ACTIVITIES, in_base[0])["description"] == "changed meanwhile"
    assert screen.get(ACTIVITIES, in_base[1]) is None
    assert [a["id"] for a in screen.timeline(account_id)] == [new_note["id"]]


def test_deferred_open_survives_a_compaction_before_finishing(crm, db_path):
    populate(crm, n=4)
    crm.compact()
    screen = _deferred(db_path)
    populate(crm, n=2)
    crm.compact()
    crm.create(ACCOUNTS, {"name": "Last"})
    finisher = threading.Thread(target=screen.finish_loading)
    finisher.start()
    finisher.join(20)
    assert not finisher.is_alive()
    assert screen.ready
    assert snapshot(screen) == snapshot(CRM.open(db_path))
    writer = threading.Thread(target=screen.create, args=(ACCOUNTS, {"name": "From screen"}))
    writer.start()
    writer.join(20)
    assert not writer.is_alive(), "writes hang after the deferred load"
    assert CRM.open(db_path).search(ACCOUNTS, ListQuery(text="from screen"))


def test_deferred_open_of_a_plain_file_is_ready_at_once(tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(
        json.dumps(
            {
                "meta": {"1": {"schema_version": 1}},
                "activities": {"1": {"id": "t", "type": "note", "description": "x"}},
            }
        )
    )
    screen = _deferred(path)
    assert screen.ready and screen.get(ACTIVITIES, "t")["description"] == "x"
    screen.finish_loading()
    assert screen.count(ACTIVITIES) == 1
