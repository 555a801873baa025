"""Export from a CRM with varied data, import into an EMPTY database, compare field by field.

Order of the imports: accounts, then contacts, then activities (what a user moving a database
would do). Every export writes our record ids (ULIDs), and the importer gives a new record the
id it had when that id is free, so the records come back under the same ids.

Fields that are expected to differ, and why:
- `created_by`, `modified_by`, `modified_at`, `version`: the import is a new save, by the
  importing user, now; a record created by an import is version 1. `created_at` is kept.
- CSV: an account's `primary_contact_id` cannot be resolved while the accounts are imported,
  because the contacts come later (a warning says so). Importing the accounts file once more,
  after the contacts, fills it in (that second pass is part of the test).
- vCard carries contacts and accounts only (no activities); iCalendar carries appointments and
  tasks only (notes, emails and calls have no iCalendar form).
- vCard: `source_id` (the id a record had in another system) has no vCard property; the UID is
  our own id. It does not come back.
- iCalendar: a timed appointment comes back with `all_day: false` where the original had no
  `all_day` (the same meaning: not all day). The comparison treats the two as equal.
- CSV: a task with a date-only start comes back with `all_day: true`, a field only appointments
  use. That is a bug of the CSV reader (csv_import/conversion.py `_activity` infers all-day for
  every type); `test_csv_task_with_a_day_start_is_not_all_day` shows it and fails once fixed.
  Meanwhile the comparison ignores `all_day` on other types than appointments.
- JSON has no importer: the export is parsed and compared with the stored records, exactly.

The whole module runs in UTC and in a zone with a half-hour offset: no value may move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from store.io.jobs import export_data, prepare_import, run_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, RECORD_TABLES
from store.service import CRM

CHANGED_BY_IMPORT = ("created_by", "modified_by", "modified_at", "version")


@pytest.fixture(params=["UTC", "America/St_Johns"])
def zone(request: pytest.FixtureRequest, local_tz: Any) -> str:
    local_tz(request.param)
    return request.param


@pytest.fixture
def source(tmp_path: Path, zone: str) -> CRM:
    """A CRM holding a bit of everything that is hard to carry through a file."""
    crm = CRM.open(tmp_path / "source.json", user="alice")

    def add(table: str, **fields: Any) -> dict[str, Any]:
        return crm.create(table, fields, created_at="2025-01-02T03:04:05Z").record

    holding = add(
        ACCOUNTS,
        name="Nordwind Holding, AG",
        relationship="customer",
        industry="Retail",
        phone="+49 30 1234567",
        email="Info@Nordwind.example",
        website="https://nordwind.example",
        address_line1="Straße 1",
        address_line2='Hof 2, "Haus B"',
        address_city="Berlin",
        address_state="BE",
        address_postal_code="10115",
        address_country="Deutschland",
        description='Line one\nLine "two", with, commas\n=SUM(A1:A9)\n\n  indented',
        account_number="=42",
        owner="bob",
    )
    south = add(
        ACCOUNTS,
        name="Nordwind Süd",
        parent_account_id=holding["id"],
        relationship="partner",
        account_number="+100",
        description="-minus first",
        source_id="SF-0015g00000AbCdE",
    )
    add(
        ACCOUNTS,
        name="@Grand Child; Ltd",
        parent_account_id=south["id"],
        status="inactive",
        industry="+Plus",
        website="grand.example",
    )
    add(
        ACCOUNTS,
        name="Zoë's Café",
        relationship="prospect",
        address_city="Zürich",
        description="Tab\tinside and a trailing space ",
    )
    ada = add(
        CONTACTS,
        first_name="Ada",
        last_name="Lövelace",
        account_id=holding["id"],
        job_title="CTO, R&D",
        email="ada@nordwind.example",
        phone="+49 30 1",
        mobile="+49 170 1",
        description='Likes "quotes"\nand newlines,\n-and dashes',
        address_city="München",
        address_country="Deutschland",
    )
    add(
        CONTACTS,
        first_name="Jörg",
        last_name="Ångström",
        account_id=south["id"],
        email="jorg@sud.example",
        job_title="=Head of Sales",
        source_id="003-JORG",
    )
    bob = add(
        CONTACTS,
        first_name="Bob",
        last_name="=Builder",
        email="bob@home.example",
        phone="-12 34 56",
        address_line1="@home 1",
        address_country="Norge",
        owner="carol",
    )
    add(CONTACTS, last_name="Cher")  # a contact with one name only
    crm.update(ACCOUNTS, holding["id"], {"primary_contact_id": ada["id"]})

    def log(kind: str, regarding: dict[str, Any], **fields: Any) -> None:
        regarding_type = "contact" if "last_name" in regarding else "account"
        add(
            ACTIVITIES,
            type=kind,
            regarding_type=regarding_type,
            regarding_id=regarding["id"],
            **fields,
        )

    log("note", holding, description='Just a note,\nwith "quotes" and lines')
    log("note", south, subject="=cmd|' /C calc'!A0", description="+formula")
    log(
        "email",
        ada,
        subject="Offer sent",
        email_from="me@x.example",
        email_to="ada@nordwind.example, jorg@sud.example",
        direction="outgoing",
        description="Hello,\n\nthe offer.",
    )
    log(
        "phone_call",
        bob,
        subject="Call =back",
        phone_number="+47 22 00 00 00",
        direction="incoming",
        status="open",
        priority="high",
    )
    log(
        "appointment",
        south,
        subject="Fair",
        all_day=True,
        start_at="2026-12-08",
        end_at="2026-12-09",
        location="Messe, Halle 3",
    )
    log(
        "appointment",
        holding,
        subject="One-day fair",
        all_day=True,
        start_at="2026-12-24",
        end_at="2026-12-24",
    )
    log(
        "appointment",
        holding,
        subject="Review",
        start_at="2026-12-03T13:00:00Z",
        end_at="2026-12-03T14:30:00Z",
        description='Agenda:\n1. x, y\n2. "z"',
        location="Room 4.12",
    )
    log(
        "appointment",
        ada,
        subject="Past lunch",
        start_at="2025-06-03T11:00:00Z",
        end_at="2025-06-03T12:00:00Z",
        status="completed",
        owner="bob",
    )
    log("task", ada, subject="Send contract", due_at="2026-12-10T09:00:00Z", priority="low")
    log("task", south, subject="Whole-day task", due_at="2026-12-11", status="completed")
    log(
        "task",
        holding,
        subject="Cancelled",
        due_at="2026-12-12T10:00:00Z",
        start_at="2026-12-01T10:00:00Z",
        status="canceled",
        description="@mention",
    )
    log("task", bob, subject="Task with a start date", due_at="2026-12-20", start_at="2026-12-18")
    assert crm.check() == []
    return crm


def comparable(record: dict[str, Any], ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in CHANGED_BY_IMPORT + ignore}
    if out.get("all_day") is False:
        del out["all_day"]  # absent and false both mean "not all day"
    if "all_day" in out and out.get("type") not in (None, "appointment"):
        del out["all_day"]  # see the module's docstring
    return out


def assert_same(
    source: CRM, target: CRM, table: str, ids: set[str] | None = None, ignore: tuple[str, ...] = ()
) -> None:
    expected = {rid: r for rid, r in source.all(table).items() if ids is None or rid in ids}
    got = target.all(table)
    assert set(got) == set(expected), f"{table}: other ids came back"
    for rid, original in expected.items():
        assert comparable(got[rid], ignore) == comparable(original, ignore), (table, rid)
        assert got[rid]["created_by"] == target.user
        assert got[rid]["version"] == 1


def load(crm: CRM, kind: str, data: bytes) -> Any:
    report = run_import(crm, prepare_import(kind, data))
    assert report.errors == [], [str(e) for e in report.errors]
    assert crm.check() == []
    return report


# ---------------------------------------------------------------------------- CSV


def test_csv_round_trip_of_every_table(source: CRM, tmp_path: Path) -> None:
    exported = {table: export_data(source, table, "csv") for table in RECORD_TABLES}
    target = CRM.open(tmp_path / "target.json", user="bob")
    accounts = load(target, ACCOUNTS, exported[ACCOUNTS])
    assert accounts.created == source.count(ACCOUNTS)
    # The primary contact is not there yet: one warning, the field left empty for now.
    assert [w.message.split(":")[0] for w in accounts.warnings] == ["primary_contact_id"]
    assert load(target, CONTACTS, exported[CONTACTS]).created == source.count(CONTACTS)
    assert load(target, ACTIVITIES, exported[ACTIVITIES]).created == source.count(ACTIVITIES)

    assert_same(source, target, CONTACTS)
    assert_same(source, target, ACTIVITIES)
    holding = next(a for a in source.all(ACCOUNTS).values() if a.get("primary_contact_id"))
    assert "primary_contact_id" not in target.get(ACCOUNTS, holding["id"])

    # Importing the accounts again, now that the contacts exist, fills the primary contact.
    again = load(target, ACCOUNTS, exported[ACCOUNTS])
    assert (again.created, again.updated, again.warnings) == (0, source.count(ACCOUNTS), [])
    for rid, original in source.all(ACCOUNTS).items():
        assert comparable(target.get(ACCOUNTS, rid)) == comparable(original)
    # Same hierarchy, same links.
    assert [a["name"] for a in target.parent_chain(holding["id"])] == [
        a["name"] for a in source.parent_chain(holding["id"])
    ]
    for account_id in source.all(ACCOUNTS):
        assert [c["id"] for c in target.contacts_of(account_id)] == [
            c["id"] for c in source.contacts_of(account_id)
        ]
        assert [a["id"] for a in target.timeline(account_id)] == [
            a["id"] for a in source.timeline(account_id)
        ]


def test_csv_cells_that_look_like_formulas_are_guarded_and_come_back(source: CRM) -> None:
    text = export_data(source, CONTACTS, "csv").decode("utf-8-sig")
    assert "'=Builder" in text and "'=Head of Sales" in text and "'@home 1" in text
    assert ",=" not in text and ",@" not in text
    # Phone numbers (digits, spaces and + ( ) - . / only) cannot name a function: kept as is.
    assert ",+49 30 1,+49 170 1," in text and ",-12 34 56," in text
    text = export_data(source, ACCOUNTS, "csv").decode("utf-8-sig")
    assert "'=42" in text and ",+100," in text and "'@Grand Child; Ltd" in text
    assert "'-minus first" in text


def test_csv_export_imported_into_the_same_database_updates_in_place(source: CRM) -> None:
    before = {t: {rid: dict(r) for rid, r in source.all(t).items()} for t in RECORD_TABLES}
    for table in RECORD_TABLES:
        report = load(source, table, export_data(source, table, "csv"))
        assert (report.created, report.updated, report.warnings) == (0, len(before[table]), [])
    for table in RECORD_TABLES:
        assert set(source.all(table)) == set(before[table])
        for rid, old in before[table].items():
            new = source.get(table, rid)
            assert new["version"] == old["version"] + 1
            assert comparable(new) == comparable(old)  # no "id: ..." added to descriptions


# ---------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("table", RECORD_TABLES)
def test_json_export_is_the_stored_records(source: CRM, table: str) -> None:
    data = export_data(source, table, "json")
    with pytest.raises(ValueError):
        prepare_import("json", data)  # no JSON importer (yet): compare with the records
    parsed = json.loads(data)
    assert parsed == [source.get(table, rid) for rid in sorted(source.all(table))]
    assert [r["id"] for r in parsed] == sorted(r["id"] for r in parsed)


# ---------------------------------------------------------------------------- vCard


def test_vcard_round_trip_of_contacts_and_accounts(source: CRM, tmp_path: Path) -> None:
    data = export_data(source, "vcard")
    assert data.count(b"BEGIN:VCARD") == source.count(CONTACTS) + source.count(ACCOUNTS)
    target = CRM.open(tmp_path / "target.json", user="bob")
    report = load(target, "vcard", data)
    assert (report.created, report.accounts_created) == (
        source.count(CONTACTS),
        source.count(ACCOUNTS),
    )
    # Accounts (KIND:org cards) with their hierarchy and primary contact, contacts with ORG.
    assert_same(source, target, ACCOUNTS, ignore=("source_id",))
    assert_same(source, target, CONTACTS, ignore=("source_id",))
    assert target.count(ACTIVITIES) == 0
    # The UID became the id again; it is not kept a second time as a foreign source id.
    for table in (ACCOUNTS, CONTACTS):
        assert not any("source_id" in r for r in target.all(table).values())


# ---------------------------------------------------------------------------- iCalendar


def test_ics_round_trip_of_appointments_and_tasks(source: CRM, tmp_path: Path) -> None:
    target = CRM.open(tmp_path / "target.json", user="bob")
    load(target, ACCOUNTS, export_data(source, ACCOUNTS, "csv"))
    load(target, CONTACTS, export_data(source, CONTACTS, "csv"))
    data = export_data(source, "ics")
    planned = {
        rid for rid, a in source.all(ACTIVITIES).items() if a["type"] in ("appointment", "task")
    }
    assert data.count(b"BEGIN:VEVENT") + data.count(b"BEGIN:VTODO") == len(planned)
    report = load(target, "ics", data)  # regarding comes from the file itself
    assert (report.rows, report.created, report.warnings) == (len(planned), len(planned), [])
    assert_same(source, target, ACTIVITIES, planned)
    again = load(target, "ics", data)
    assert (again.created, again.updated) == (0, len(planned))


def test_csv_task_with_a_day_start_is_not_all_day(tmp_path: Path) -> None:
    crm = CRM.open(tmp_path / "crm.json", user="alice")
    crm.create(ACCOUNTS, {"name": "Acme"})
    data = b"Type,Subject,Start,Due\ntask,Prepare,2026-12-18,2026-12-20\n"
    report = run_import(crm, prepare_import(ACTIVITIES, data), regarding="Acme")
    assert report.created == 1
    task = next(iter(crm.all(ACTIVITIES).values()))
    assert task["start_at"] == "2026-12-18"
    assert "all_day" not in task
