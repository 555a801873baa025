"""TinyDB over the live CRM (store.tinydb_storage): a user's script reads base plus journal and
writes through the service. Real files, other real processes, and the real app on a pty."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query, TinyDB
from tinydb.operations import delete
from tinydb.table import Document

from store.errors import ConflictError, DependentsError, ValidationFailed
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, SCHEMA_VERSION
from store.service import CRM
from store.tinydb_storage import CrmStorage, WriteRefused
from tests.tui.terminal import TerminalApp

ROOT = Path(__file__).resolve().parents[2]
Q = Query()


def journal_lines(path: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in path.parent.glob(path.name + ".journal-*"))


def other_process(path: Path, code: str, user: str = "carol") -> Any:
    """Run `code` in a new Python process with `crm` open on `path`; returns what it prints
    as JSON."""
    script = (
        "import json, sys\nfrom store.service import CRM\n"
        f"crm = CRM.open({str(path)!r}, user={user!r})\n{code}\ncrm.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout) if done.stdout.strip() else None


def stored(path: Path, table: str, record_id: str) -> Any:
    """The record as another process reads it from the files."""
    return other_process(path, f"print(json.dumps(crm.get('{table}', '{record_id}')))")


@pytest.fixture
def acme(crm: CRM) -> dict[str, Any]:
    return crm.create(ACCOUNTS, {"name": "Acme", "relationship": "customer"}).record


@pytest.fixture
def tdb(db_path: Path, acme: dict[str, Any]) -> Iterator[TinyDB]:
    opened = TinyDB(db_path, storage=CrmStorage, user="bob")
    yield opened
    opened.close()


# ---------------------------------------------------------------- reading
def test_a_query_finds_records_only_in_the_journal(
    db_path: Path, crm: CRM, acme: dict[str, Any]
) -> None:
    crm.compact()
    crm.create(ACCOUNTS, {"name": "Journalled Ltd"})
    assert b"Journalled" not in db_path.read_bytes()  # only in the journal
    with TinyDB(db_path, storage=CrmStorage) as tdb:
        accounts = tdb.table(ACCOUNTS)
        assert [d["name"] for d in accounts.search(Q.name == "Journalled Ltd")] == [
            "Journalled Ltd"
        ]
        assert accounts.get(Q.name == "Acme")["id"] == acme["id"]
        assert tdb.tables() == {"meta", ACCOUNTS, CONTACTS, ACTIVITIES}
        assert tdb.table("meta").all()[0]["schema_version"] == SCHEMA_VERSION


def test_a_read_takes_in_what_another_process_saved(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    # TinyDB keeps search results until this table writes: a long-lived script turns it off.
    accounts = tdb.table(ACCOUNTS, cache_size=0)
    assert accounts.search(Q.name == "Newcomer") == []
    other_process(db_path, "crm.create('accounts', {'name': 'Newcomer'})")
    assert [d["created_by"] for d in accounts.search(Q.name == "Newcomer")] == ["carol"]


def test_doc_ids_are_kept_in_a_session(db_path: Path, tdb: TinyDB, acme: dict[str, Any]) -> None:
    accounts = tdb.table(ACCOUNTS)
    doc_id = accounts.get(Q.id == acme["id"]).doc_id
    other_process(db_path, "for n in range(20): crm.create('accounts', {'name': f'Other {n}'})")
    assert accounts.get(doc_id=doc_id)["id"] == acme["id"]


# ---------------------------------------------------------------- updating
def test_an_update_is_saved_stamped_and_seen_by_another_process(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    tdb.table(ACCOUNTS).update({"relationship": "partner"}, Q.name == "Acme")
    seen = stored(db_path, ACCOUNTS, acme["id"])
    assert seen["relationship"] == "partner"
    assert (seen["version"], seen["modified_by"], seen["created_by"]) == (2, "bob", "alice")


def test_an_update_is_validated_and_a_refused_one_writes_nothing(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    before = journal_lines(db_path)
    with pytest.raises(ValidationFailed, match="relationship"):
        tdb.table(ACCOUNTS).update({"relationship": "best friend"}, Q.name == "Acme")
    assert journal_lines(db_path) == before
    assert stored(db_path, ACCOUNTS, acme["id"])["version"] == 1


def test_clearing_a_field_in_tinydb_clears_it_in_the_crm(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    tdb.table(ACCOUNTS).update(delete("relationship"), Q.name == "Acme")
    assert "relationship" not in stored(db_path, ACCOUNTS, acme["id"])


def test_a_stale_document_written_back_is_refused(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    accounts = tdb.table(ACCOUNTS)
    doc = accounts.get(Q.name == "Acme")
    other_process(db_path, f"crm.update('accounts', {acme['id']!r}, {{'phone': '555'}})")
    with pytest.raises(ConflictError, match="changed by carol"):
        accounts.update({**doc, "industry": "Tools"}, doc_ids=[doc.doc_id])
    seen = stored(db_path, ACCOUNTS, acme["id"])
    assert (seen["version"], seen["phone"], "industry" in seen) == (2, "555", False)


@pytest.mark.parametrize("field", ["modified_by", "id", "created_at", "source_id"])
def test_system_fields_are_not_written(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any], field: str
) -> None:
    with pytest.raises(WriteRefused, match=f"{field} of a account"):
        tdb.table(ACCOUNTS).update({field: "x"}, Q.name == "Acme")
    assert stored(db_path, ACCOUNTS, acme["id"]) == acme


def test_the_version_is_not_set_by_a_script(tdb: TinyDB, acme: dict[str, Any]) -> None:
    with pytest.raises(WriteRefused, match="version"):
        tdb.table(ACCOUNTS).update({"version": 7}, Q.name == "Acme")


def test_meta_and_other_tables_are_refused(db_path: Path, tdb: TinyDB) -> None:
    before = journal_lines(db_path)
    with pytest.raises(WriteRefused, match="meta"):
        tdb.table("meta").update({"schema_version": 9})
    with pytest.raises(WriteRefused, match="no table '_default'"):
        tdb.insert({"name": "Lost"})
    with pytest.raises(WriteRefused, match="dropped"):
        tdb.drop_table(CONTACTS)
    assert journal_lines(db_path) == before


# ---------------------------------------------------------------- inserting and removing
def test_insert_creates_a_record_with_an_id(db_path: Path, tdb: TinyDB) -> None:
    accounts = tdb.table(ACCOUNTS)
    doc_id = accounts.insert({"name": "Globex", "relationship": "prospect"})
    created = accounts.get(doc_id=doc_id)
    assert created["name"] == "Globex"
    assert (created["version"], created["created_by"], created["status"]) == (1, "bob", "active")
    assert stored(db_path, ACCOUNTS, created["id"])["name"] == "Globex"


def test_insert_is_validated_and_refuses_system_fields(db_path: Path, tdb: TinyDB) -> None:
    before = journal_lines(db_path)
    with pytest.raises(ValidationFailed, match="name"):
        tdb.table(ACCOUNTS).insert({"industry": "nameless"})
    with pytest.raises(WriteRefused, match="id of a new account"):
        tdb.table(ACCOUNTS).insert({"name": "Forged", "id": "01FORGED"})
    assert journal_lines(db_path) == before


def test_insert_after_another_process_added_records_takes_a_free_doc_id(
    db_path: Path, tdb: TinyDB
) -> None:
    accounts = tdb.table(ACCOUNTS)
    first = accounts.insert({"name": "First"})  # TinyDB now counts doc ids on its own
    other_process(db_path, "for n in range(20): crm.create('accounts', {'name': f'Other {n}'})")
    second = accounts.insert({"name": "Second"})
    assert (accounts.get(doc_id=first)["name"], accounts.get(doc_id=second)["name"]) == (
        "First",
        "Second",
    )
    assert len(accounts) == 23


def test_remove_deletes_the_record(db_path: Path, tdb: TinyDB, acme: dict[str, Any]) -> None:
    tdb.table(ACCOUNTS).remove(Q.name == "Acme")
    assert stored(db_path, ACCOUNTS, acme["id"]) is None
    assert other_process(db_path, f"print(json.dumps(crm.deleted_by('{acme['id']}').by))") == "bob"


def test_remove_of_an_account_with_contacts_is_refused(
    db_path: Path, crm: CRM, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    crm.create(CONTACTS, {"first_name": "Ana", "account_id": acme["id"]})
    with pytest.raises(DependentsError, match="1 contact"):
        tdb.table(ACCOUNTS).remove(Q.name == "Acme")
    assert stored(db_path, ACCOUNTS, acme["id"]) is not None


def test_a_write_back_of_a_stale_delete_is_refused(
    db_path: Path, tdb: TinyDB, acme: dict[str, Any]
) -> None:
    """A document inserted whole with the doc id of a record that was removed."""
    accounts = tdb.table(ACCOUNTS)
    doc = accounts.get(Q.name == "Acme")
    accounts.remove(doc_ids=[doc.doc_id])
    with pytest.raises(WriteRefused, match="deleted account"):
        accounts.insert(Document({"name": "Acme again"}, doc_id=doc.doc_id))


# ---------------------------------------------------------------- one write, one batch
def test_one_write_of_many_records_is_all_or_nothing(db_path: Path, crm: CRM, tdb: TinyDB) -> None:
    for n in range(10):
        crm.create(ACCOUNTS, {"name": f"Fine {n}"})
    crm.create(ACCOUNTS, {"name": "Bolt"})
    before = journal_lines(db_path)
    with pytest.raises(ValidationFailed):
        tdb.table(ACCOUNTS).update_multiple(
            [({"phone": "1"}, Q.name != "Bolt"), ({"relationship": "friend"}, Q.name == "Bolt")]
        )
    assert journal_lines(db_path) == before
    tdb.table(ACCOUNTS).update({"industry": "Tools"})
    assert journal_lines(db_path) == before + 1


# ---------------------------------------------------------------- beside a running app
@pytest.mark.slow
def test_the_running_app_shows_a_change_made_through_tinydb(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    crm = CRM.open(path, user="alice")
    crm.create(ACCOUNTS, {"name": "Acme Original"})
    crm.close()
    with TerminalApp(path) as app:
        app.wait_for("Acme Original")
        with TinyDB(path, storage=CrmStorage, user="bob") as tdb:
            tdb.table(ACCOUNTS).update({"name": "Acme Renamed"}, Q.name == "Acme Original")
            tdb.table(ACCOUNTS).insert({"name": "Scripted Co"})
        app.wait_for("Scripted Co")
        assert "Acme Original" not in app.wait_for("Acme Renamed")
        app.close()
