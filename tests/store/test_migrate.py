"""store.migrate: a whole database copied between a file and PostgreSQL, losslessly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tinydb

from store.demo import fill
from store.errors import MigrationRefused
from store.merging import merge
from store.migrate import HISTORY, WRITING, migrate, same_database, summary
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, STORED_TABLES, TRASH
from store.service import CRM

# What no form would write, and a copy must keep as it is: an unknown field holding nested
# values, a float, a big integer, text in several scripts (combining accents too).
ODD = {
    "x_custom": {"nested": [1, 2.5, None, True, "Ünïcode ✓"], "big": 2**53 + 1},
    "notes_raw": "e\u0301 São Paulo 東京 😀",
}


def snapshot(crm: CRM) -> dict[str, dict[str, Any]]:
    return {table: dict(crm.all(table).items()) for table in STORED_TABLES}


def stored_history(crm: CRM) -> dict[str, Any]:
    return {entry["id"]: entry for entry in crm._engine.history_entries()}


def lived_in(location: str | Path) -> CRM:
    """Demo data in bulk, then a day's work on top: creates, updates, a delete with
    dependants (in the trash), a restore, a merge, a purge and an undo."""
    crm = CRM.open(location, user="alice")
    fill(crm, "S", 3)
    tables = snapshot(crm)
    odd_id = next(iter(tables[ACCOUNTS]))
    tables[ACCOUNTS][odd_id] = {**tables[ACCOUNTS][odd_id], **ODD}
    crm.replace_all(tables)
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    sub = crm.create(ACCOUNTS, {"name": "Acme North", "parent_account_id": acme["id"]}).record
    ada = crm.create(CONTACTS, {"first_name": "Ada", "account_id": acme["id"]}).record
    crm.create(CONTACTS, {"first_name": "Ada", "last_name": "L", "account_id": sub["id"]})
    crm.create(
        ACTIVITIES,
        {"type": "task", "subject": "Call", "regarding_type": "contact", "regarding_id": ada["id"]},
    )
    crm.update(ACCOUNTS, acme["id"], {"name": "Acme Ltd", "website": "https://acme.example"})
    doomed = crm.create(ACCOUNTS, {"name": "Doomed"}).record
    gone = crm.create(CONTACTS, {"first_name": "Gone", "account_id": doomed["id"]}).record
    crm.log_activity("note", gone["id"], {"subject": "last words"})
    crm.delete(ACCOUNTS, doomed["id"], contacts="delete", activities="delete")
    back = crm.create(ACCOUNTS, {"name": "Comes Back"}).record
    crm.delete(ACCOUNTS, back["id"])
    crm.restore(back["id"])
    twin = crm.create(CONTACTS, {"first_name": "Ada", "account_id": acme["id"]}).record
    merge(crm, CONTACTS, ada["id"], twin["id"])
    purged = crm.create(ACCOUNTS, {"name": "Purged"}).record
    crm.delete(ACCOUNTS, purged["id"])
    crm.purge([purged["id"]])
    crm.update(CONTACTS, ada["id"], {"job_title": "CTO"})
    crm.undo()
    return crm


def test_a_round_trip_file_postgres_file_gives_identical_records_and_history(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages smaller than a table: the server's tables are streamed, not read at once.
    monkeypatch.setattr("store.postgres._PAGE", 700)
    source = lived_in(tmp_path / "a.json")
    stages: list[tuple[str, int, int]] = []
    counts = migrate(source, postgres_url, progress=lambda *step: stages.append(step))
    expected = snapshot(source)
    assert expected[TRASH] and len(stored_history(source)) == 20
    assert counts == {**{t: len(r) for t, r in expected.items()}, HISTORY: 20}
    assert {stage for stage, _done, _total in stages} == {*STORED_TABLES, WRITING, HISTORY}
    assert all(0 <= done <= total for _stage, done, total in stages)
    assert len(stages) == len(set(stages))  # each step once: a log line, a bar's move
    assert [s for s in stages if s[1] == s[2]] == [
        *((t, len(expected[t]), len(expected[t])) for t in STORED_TABLES),
        (WRITING, sum(map(len, expected.values())), sum(map(len, expected.values()))),
        (HISTORY, 20, 20),
    ]

    server = CRM.open(postgres_url, user="alice")
    assert snapshot(server) == expected
    assert stored_history(server) == stored_history(source)
    back = tmp_path / "b.json"
    migrate(server, back)
    server.close()

    copy = CRM.open(back, user="alice")
    assert snapshot(copy) == expected
    odd = [a for a in copy.all(ACCOUNTS).values() if "x_custom" in a]
    assert [{k: a[k] for k in ODD} for a in odd] == [ODD]
    assert stored_history(copy) == stored_history(source)
    assert copy.history() == source.history()
    assert copy.trash() == source.trash()
    assert copy.check() == source.check()  # the odd fields, as they were


@pytest.mark.parametrize("kind", ["file", "postgres"])
def test_the_copy_works_a_save_an_undo_of_a_copied_change_a_restore_from_its_trash(
    kind: str, tmp_path: Path, postgres_crm_url: str
) -> None:
    source = lived_in(tmp_path / "a.json")
    target = str(tmp_path / "b.json") if kind == "file" else postgres_crm_url
    migrate(source, target)
    copy = CRM.open(target, user="alice")

    acme = next(a for a in copy.all(ACCOUNTS).values() if a["name"] == "Acme Ltd")
    edit = next(
        e
        for e in copy.history(acme["id"])
        if any(c.fields.get("website") == (None, "https://acme.example") for c in e.changes)
    )
    copy.undo(edit.batch_id)  # a change made on the source, undone on the copy
    undone = copy.get(ACCOUNTS, acme["id"])
    assert undone is not None
    assert (undone["name"], undone.get("website")) == ("Acme", None)
    saved = copy.update(ACCOUNTS, acme["id"], {"phone": "+44 20 7946 0000"}).record
    assert saved["version"] == acme["version"] + 2
    assert copy.history(acme["id"])[0].changes[0].fields == {"phone": (None, "+44 20 7946 0000")}
    doomed = next(e for e in copy.trash() if e.name == "Doomed")
    assert doomed.dependants == 2
    assert copy.restore(doomed.record_id).restored == 3
    assert copy.find(doomed.record_id) is not None and copy.in_trash(doomed.record_id) is None
    assert {p.message.split(":")[0] for p in copy.check()} == set(ODD)  # nothing broke


@pytest.mark.parametrize("kind", ["file", "postgres"])
def test_a_target_that_holds_data_is_refused_untouched_and_replaced_when_asked(
    kind: str, tmp_path: Path, postgres_crm_url: str
) -> None:
    source = lived_in(tmp_path / "a.json")
    target = str(tmp_path / "b.json") if kind == "file" else postgres_crm_url
    theirs = CRM.open(target, user="bob")
    theirs.create(ACCOUNTS, {"name": "Bob's own"})
    before, history_before = snapshot(theirs), stored_history(theirs)
    theirs.close()

    with pytest.raises(MigrationRefused, match=r"already holds 1 account and a history"):
        migrate(source, target)
    kept = CRM.open(target, user="bob")
    assert snapshot(kept) == before and stored_history(kept) == history_before
    kept.close()

    migrate(source, target, replace=True)
    replaced = CRM.open(target, user="alice")
    assert snapshot(replaced) == snapshot(source)
    # The history is append-only: the target's own entry stays beside the copied ones.
    assert stored_history(replaced) == {**history_before, **stored_history(source)}


def test_a_target_holding_only_a_history_or_only_a_trash_is_not_empty(tmp_path: Path) -> None:
    source = lived_in(tmp_path / "a.json")
    only_history = CRM.open(tmp_path / "h.json", user="bob")
    record = only_history.create(ACCOUNTS, {"name": "Brief"}).record
    only_history.delete(ACCOUNTS, record["id"])
    only_history.purge([record["id"]])
    assert not any(only_history.count(t) for t in STORED_TABLES)
    only_history.close()
    with pytest.raises(MigrationRefused, match="already holds a history"):
        migrate(source, tmp_path / "h.json")

    only_trash = CRM.open(tmp_path / "t.json", user="bob")
    tables: dict[str, dict[str, Any]] = {t: {} for t in STORED_TABLES}
    tables[TRASH] = dict(source.all(TRASH).items())
    only_trash.replace_all(tables)
    only_trash.close()
    with pytest.raises(MigrationRefused, match="already holds 4 trash entries;"):
        migrate(source, tmp_path / "t.json")


def test_copying_a_database_onto_itself_is_refused(
    tmp_path: Path, postgres_crm_url: str, postgres_url: str
) -> None:
    path = tmp_path / "a.json"
    source = CRM.open(path, user="alice")
    source.create(ACCOUNTS, {"name": "Acme"})
    (tmp_path / "link.json").symlink_to(path)
    for same in (path, tmp_path / "." / "a.json", tmp_path / "link.json"):
        with pytest.raises(MigrationRefused, match="is the database being copied"):
            migrate(source, same, replace=True)
    assert source.count(ACCOUNTS) == 1
    server = CRM.open(postgres_crm_url, user="alice")
    with pytest.raises(MigrationRefused, match="is the database being copied"):
        migrate(server, postgres_crm_url + "?connect_timeout=5", replace=True)
    assert same_database(postgres_crm_url, postgres_crm_url.replace("postgresql:", "postgres:"))
    assert not same_database(postgres_crm_url, postgres_url)
    assert not same_database(postgres_crm_url, str(path))


def test_a_server_database_without_the_schema_gets_it(tmp_path: Path, postgres_url: str) -> None:
    source = CRM.open(tmp_path / "a.json", user="alice")
    source.create(ACCOUNTS, {"name": "Acme"})
    assert migrate(source, postgres_url)[ACCOUNTS] == 1
    assert CRM.open(postgres_url).count(ACCOUNTS) == 1


def test_a_file_copy_is_whole_in_its_base_which_plain_tinydb_reads(
    tmp_path: Path, postgres_crm_url: str
) -> None:
    server = lived_in(postgres_crm_url)
    out = tmp_path / "export.json"
    migrate(server, out)
    expected = snapshot(server)
    with tinydb.TinyDB(out, access_mode="r") as plain:
        for table in STORED_TABLES:
            assert {doc["id"]: dict(doc) for doc in plain.table(table).all()} == expected[table]
    # The base alone: the journals beside it hold no record.
    for journal in tmp_path.glob("export.json.journal-*"):
        assert b'"put"' not in journal.read_bytes()


def test_the_summary_names_every_count_and_never_a_password() -> None:
    counts = {ACCOUNTS: 3, CONTACTS: 4, ACTIVITIES: 5, TRASH: 1, HISTORY: 9}
    assert summary(counts, "a.json", "postgresql://ana:secret@db.example/crm") == (
        "copied 3 accounts, 4 contacts, 5 activities, 1 in the trash and 9 history entries "
        "from a.json to postgresql://ana@db.example/crm"
    )
    assert "1 history entry " in summary({HISTORY: 1}, "a", "b")
