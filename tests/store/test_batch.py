"""The one write path: CRM.apply(batch) and the builder that create, update, delete and the
importer share. Real database files in tmp_path; the journal is read back from disk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store.errors import ConflictError, ValidationFailed
from store.io.jobs import prepare_import, run_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, Record
from store.service import CRM, Batch, Create, Delete, Update

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def journal_lines(db_path: Path) -> int:
    """Committed entries in every journal beside the database."""
    return sum(
        path.read_bytes().count(b"\n") for path in db_path.parent.glob(db_path.name + ".journal-*")
    )


def _many_records(acme: Record) -> Batch:
    return Batch(
        creates=[
            Create(ACCOUNTS, {"name": "Globex"}, record_id="01JAAAAAAAAAAAAAAAAAAAAAAA"),
            Create(CONTACTS, {"last_name": "Lovelace", "account_id": "01JAAAAAAAAAAAAAAAAAAAAAAA"}),
            Create(
                ACTIVITIES,
                {
                    "type": "note",
                    "description": "met",
                    "regarding_type": "account",
                    "regarding_id": acme["id"],
                },
            ),
        ],
        updates=[Update(ACCOUNTS, acme["id"], {"address_city": "Leeds"}, expected_version=1)],
    )


def test_a_batch_of_many_records_is_one_journal_entry(crm: CRM, db_path: Path) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    before = journal_lines(db_path)
    crm.apply(_many_records(acme))
    assert journal_lines(db_path) == before + 1


def test_a_batch_of_many_records_is_saved_whole(crm: CRM, db: str) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    before = len(crm.history())
    result = crm.apply(_many_records(acme))
    assert len(crm.history()) == before + 1  # one batch, one entry
    globex, ada, note, updated = result.records
    # The contact refers to an account of the same batch, by the id the caller chose.
    assert globex["id"] == ada["account_id"] == "01JAAAAAAAAAAAAAAAAAAAAAAA"
    assert (updated["address_city"], updated["version"]) == ("Leeds", 2)
    assert (note["status"], note["owner"], note["version"]) == ("completed", "alice", 1)
    reopened = CRM.open(db, user="bob")
    assert reopened.get(CONTACTS, ada["id"])["account_id"] == globex["id"]
    assert reopened.get(ACCOUNTS, acme["id"])["address_city"] == "Leeds"
    assert reopened.count(ACTIVITIES) == 1


def _refuse_rule_breaking_batches(crm: CRM, acme: Record) -> None:
    bad = [
        # a reference to nothing
        Batch(
            creates=[
                Create(ACCOUNTS, {"name": "Globex"}),
                Create(CONTACTS, {"last_name": "Ada", "account_id": "nowhere"}),
            ]
        ),
        # a loop made inside the batch
        Batch(
            creates=[
                Create(
                    ACCOUNTS,
                    {"name": "Child", "parent_account_id": acme["id"]},
                    record_id="01JBBBBBBBBBBBBBBBBBBBBBBB",
                )
            ],
            updates=[
                Update(ACCOUNTS, acme["id"], {"parent_account_id": "01JBBBBBBBBBBBBBBBBBBBBBBB"})
            ],
        ),
        # an enum
        Batch(creates=[Create(ACCOUNTS, {"name": "Initech", "relationship": "frenemy"})]),
        # a contact of an account the same batch deletes
        Batch(
            creates=[Create(CONTACTS, {"last_name": "Ada", "account_id": acme["id"]})],
            deletes=[Delete(ACCOUNTS, acme["id"])],
        ),
    ]
    for batch in bad:
        with pytest.raises(ValidationFailed):
            crm.apply(batch)
    with pytest.raises(ConflictError):
        crm.apply(
            Batch(
                creates=[Create(ACCOUNTS, {"name": "Globex"})],
                updates=[
                    Update(ACCOUNTS, acme["id"], {"address_city": "Leeds"}, expected_version=7)
                ],
            )
        )


def test_a_batch_that_breaks_a_rule_adds_no_journal_entry(crm: CRM, db_path: Path) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    before = journal_lines(db_path)
    _refuse_rule_breaking_batches(crm, acme)
    assert journal_lines(db_path) == before


def test_a_batch_that_breaks_a_rule_writes_nothing(crm: CRM, db: str) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    before = len(crm.history())
    _refuse_rule_breaking_batches(crm, acme)
    assert len(crm.history()) == before
    reopened = CRM.open(db, user="bob")
    assert [reopened.count(t) for t in (ACCOUNTS, CONTACTS, ACTIVITIES)] == [1, 0, 0]
    assert reopened.get(ACCOUNTS, acme["id"]) == acme


def _problems(crm: CRM) -> None:
    fine = Create(ACCOUNTS, {"name": "Globex"})
    unnamed = Create(ACCOUNTS, {"address_city": "Leeds"})
    orphan = Create(CONTACTS, {"last_name": "Ada", "account_id": "nowhere"})
    found = crm.problems(Batch(creates=[fine, unnamed, orphan]))
    assert [(item, error.errors[0].field) for item, error in found] == [
        (unnamed, "name"),
        (orphan, "account_id"),
    ]


def test_problems_names_each_refused_item_and_writes_nothing(crm: CRM, db: str) -> None:
    _problems(crm)
    assert crm.count(ACCOUNTS) == 0 and crm.history() == []
    assert CRM.open(db, user="bob").count(ACCOUNTS) == 0


def test_problems_adds_no_journal_entry(crm: CRM, db_path: Path) -> None:
    before = journal_lines(db_path)
    _problems(crm)
    assert journal_lines(db_path) == before


def _create_and_delete(acme: Record) -> Batch:
    return Batch(
        creates=[Create(ACCOUNTS, {"name": "Globex"})],
        deletes=[Delete(ACCOUNTS, acme["id"], contacts="detach")],
    )


def test_a_delete_in_a_batch_is_one_journal_entry(crm: CRM, db_path: Path) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    crm.create(CONTACTS, {"last_name": "Ada", "account_id": acme["id"]})
    before = journal_lines(db_path)
    crm.apply(_create_and_delete(acme))
    assert journal_lines(db_path) == before + 1


def test_a_delete_in_a_batch_is_one_entry_with_its_dependants(crm: CRM, db: str) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    ada = crm.create(CONTACTS, {"last_name": "Ada", "account_id": acme["id"]}).record
    before = len(crm.history())
    result = crm.apply(_create_and_delete(acme))
    assert result.removed == 1 and len(crm.history()) == before + 1
    reopened = CRM.open(db, user="bob")
    assert reopened.get(ACCOUNTS, acme["id"]) is None
    assert "account_id" not in reopened.get(CONTACTS, ada["id"])
    assert reopened.deleted_by(acme["id"]).by == "alice"


# ------------------------------------------------------------ one completion rule


def _import_activities(crm: CRM, *rows: str) -> None:
    data = ("id,Subject,Type,Regarding,Status,Completed at\n" + "\n".join(rows) + "\n").encode()
    report = run_import(crm, prepare_import(ACTIVITIES, data))
    assert report.applied and not report.errors, report.errors


def test_import_and_form_stamp_completed_at_by_the_same_rule(crm: CRM) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    on_form = crm.create(
        ACTIVITIES,
        {
            "type": "task",
            "subject": "Form",
            "regarding_type": "account",
            "regarding_id": acme["id"],
        },
    ).record
    by_file = crm.create(
        ACTIVITIES,
        {
            "type": "task",
            "subject": "File",
            "regarding_type": "account",
            "regarding_id": acme["id"],
        },
    ).record
    # Completing: stamped now, on the form (set_status) and from a file alike.
    done_on_form = crm.set_status(on_form["id"], "completed").record
    _import_activities(crm, f"{by_file['id']},File,Task,Acme,Completed,")
    done_by_file = crm.get(ACTIVITIES, by_file["id"])
    assert STAMP.match(done_on_form["completed_at"])
    assert done_by_file["status"] == "completed" and STAMP.match(done_by_file["completed_at"])
    assert done_by_file["version"] == 2
    # Reopening drops it, both ways.
    assert "completed_at" not in crm.set_status(on_form["id"], "open").record
    _import_activities(crm, f"{by_file['id']},File,Task,Acme,Open,")
    assert "completed_at" not in crm.get(ACTIVITIES, by_file["id"])
    # A date given (the source's) is kept, both ways.
    given = "2020-05-06T07:08:09Z"
    assert (
        crm.update(
            ACTIVITIES, on_form["id"], {"status": "completed", "completed_at": given}
        ).record["completed_at"]
        == given
    )
    _import_activities(crm, f"{by_file['id']},File,Task,Acme,Completed,{given}")
    assert crm.get(ACTIVITIES, by_file["id"])["completed_at"] == given
