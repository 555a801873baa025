"""Importing files into a real CRM database (store/io/importer.py through store/io/jobs.py).

Every test works on real database files in tmp_path (the `crm` and `db_path` fixtures of
tests/store/conftest.py); nothing is mocked. After each import the database must pass
`crm.check()`.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.io.csv_import import mappable_fields
from store.io.importer import ImportReport
from store.io.jobs import prepare_import, run_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, RECORD_TABLES
from store.service import CRM

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "io"


@pytest.fixture(autouse=True)
def utc(local_tz: Any) -> None:
    """Naive times in the fixtures are local time: pin it so that the tests agree everywhere."""
    local_tz("UTC")


def load(kind: str, source: str | bytes, crm: CRM, **options: Any) -> ImportReport:
    data = source if isinstance(source, bytes) else (FIXTURES / source).read_bytes()
    report = run_import(crm, prepare_import(kind, data), **options)
    assert crm.check() == []
    return report


def by_name(crm: CRM, table: str = ACCOUNTS) -> dict[str, dict[str, Any]]:
    if table == CONTACTS:
        return {
            f"{r.get('first_name', '')} {r.get('last_name', '')}".strip(): r
            for r in crm.all(CONTACTS).values()
        }
    if table == ACTIVITIES:
        return {r["subject"]: r for r in crm.all(ACTIVITIES).values()}
    return {r["name"]: r for r in crm.all(ACCOUNTS).values()}


def counts(crm: CRM) -> tuple[int, int, int]:
    return crm.count(ACCOUNTS), crm.count(CONTACTS), crm.count(ACTIVITIES)


def files(db_path: Path) -> dict[str, bytes]:
    """The database's base file and journals, byte for byte (not the lock file)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(db_path.parent.glob(db_path.name + "*"))
        if not p.name.endswith(".lock")
    }


def lines(issues: list) -> list[int]:
    return [issue.line for issue in issues]


def csv_bytes(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


# ---------------------------------------------------------------------------- accounts


def test_dynamics_accounts_resolve_a_parent_that_comes_after_its_child(crm: CRM) -> None:
    report = load("accounts", "dynamics_accounts.csv", crm)
    assert (report.rows, report.created, report.updated, report.errors) == (4, 4, 0, [])
    assert report.applied and not report.dry_run
    # The primary contacts do not exist: a warning each, the accounts still import.
    assert lines(report.warnings) == [2, 4]
    assert all("primary_contact_id" in str(w) and "left empty" in str(w) for w in report.warnings)
    accounts = by_name(crm)
    assert set(accounts) == {
        "Fourth Coffee (sample)",
        "Litware Inc. (sample)",
        "Adventure Works (sample)",
        "Fourth Coffee Holdings",
    }
    coffee, holdings = accounts["Fourth Coffee (sample)"], accounts["Fourth Coffee Holdings"]
    # Line 2 names its parent by the Dynamics id of line 5.
    assert coffee["parent_account_id"] == holdings["id"]
    assert crm.subsidiaries(holdings["id"]) == [coffee]
    assert "primary_contact_id" not in coffee
    assert coffee["source_id"] == "7a3e2f10-5b1c-ee11-9cbc-000d3a1f2b7c"
    assert coffee["relationship"] == "customer"  # customertypecode 3
    assert coffee["industry"] == "Eating and Drinking Places"  # industrycode 13
    assert coffee["address_line1"] == "1 Microsoft Way, Building 4"
    assert coffee["description"] == (
        "Coffee supplier.\nPrefers email, never calls after 5pm.\n\ntelephone2: 555-0151"
    )
    assert coffee["owner"] == "Alex Wu"
    assert coffee["created_at"] == "2024-01-15T10:22:31Z"  # the file's, not the import's
    assert (coffee["created_by"], coffee["version"]) == ("alice", 1)
    litware = accounts["Litware Inc. (sample)"]
    assert litware["status"] == "inactive"  # statecode 1
    assert litware["created_at"] == "2024-01-15T10:22:00Z"  # "1/15/2024 10:22 AM"
    assert "parent_account_id" not in litware
    assert accounts["Adventure Works (sample)"]["relationship"] == "partner"


def test_salesforce_parent_by_source_id_and_contacts_by_account_id(crm: CRM) -> None:
    report = load("accounts", "salesforce_accounts.csv", crm)
    assert (report.created, report.errors, report.warnings) == (5, [], [])
    accounts = by_name(crm)
    burlington = accounts["Burlington Textiles Corp of America"]
    assert burlington["parent_account_id"] == accounts["Burlington Holdings"]["id"]
    edge = accounts["Edge Communications"]
    assert edge["relationship"] == "customer"  # "Customer - Direct"
    assert edge["address_line1"] == "312 Constitution Place"
    assert edge["address_line2"] == "Austin, TX 78767, USA"
    assert accounts["Pyramid Construction Inc."]["relationship"] == "reseller"

    report = load("contacts", "salesforce_contacts.csv", crm)
    assert (report.created, report.errors, report.warnings) == (3, [], [])
    contacts = by_name(crm, CONTACTS)
    assert contacts["Rose Gonzalez"]["account_id"] == edge["id"]
    assert contacts["Jack Rogers"]["account_id"] == burlington["id"]
    assert "account_id" not in contacts["Yuan Ming"]  # B2C: no account
    assert contacts["Jack Rogers"]["description"].startswith("+ reach via assistant\n")
    assert contacts["Rose Gonzalez"]["job_title"] == "SVP, Procurement"
    assert {c["id"] for c in crm.contacts_of(edge["id"])} == {contacts["Rose Gonzalez"]["id"]}


def test_contacts_link_to_accounts_by_name_any_case_and_accents(crm: CRM) -> None:
    credit = crm.create(ACCOUNTS, {"name": "Crédit Agricole Besançon"}).record
    cafe = crm.create(ACCOUNTS, {"name": "CAFÉ GRÖSSE GMBH"}).record
    report = load("contacts", "dynamics_contacts_display.csv", crm)
    assert (report.created, report.errors, report.accounts_created) == (3, [], 0)
    contacts = by_name(crm, CONTACTS)
    assert set(contacts) == {"François Dupont", "José Núñez", "Zoë Ångström"}
    assert contacts["François Dupont"]["account_id"] == credit["id"]
    assert contacts["Zoë Ångström"]["account_id"] == credit["id"]
    assert contacts["José Núñez"]["account_id"] == cafe["id"]  # "Café Größe GmbH"
    assert contacts["José Núñez"]["status"] == "inactive"
    assert contacts["François Dupont"]["job_title"] == "Directeur général"  # cp1252 file
    assert contacts["François Dupont"]["source_id"] == "0f1e2d3c-7a6b-ee11-8def-6045bd0e1a2b"
    assert counts(crm) == (2, 3, 0)


def test_contacts_link_to_accounts_by_our_id_and_by_source_id(crm: CRM) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme", "source_id": "EXT-1"}).record
    globex = crm.create(ACCOUNTS, {"name": "Globex"}).record
    data = csv_bytes(
        ["First name", "Last name", "Account"],
        ["Ada", "Lovelace", acme["id"]],
        ["Grace", "Hopper", "EXT-1"],
        ["Alan", "Turing", f" {globex['id']} "],
    )
    report = load("contacts", data, crm)
    assert (report.created, report.errors) == (3, [])
    contacts = by_name(crm, CONTACTS)
    assert contacts["Ada Lovelace"]["account_id"] == acme["id"]
    assert contacts["Grace Hopper"]["account_id"] == acme["id"]
    assert contacts["Alan Turing"]["account_id"] == globex["id"]


def test_without_create_accounts_contacts_of_missing_accounts_come_in_unlinked(crm: CRM) -> None:
    report = load("contacts", "generic_contacts.csv", crm, create_accounts=False)
    # Only the mangled mobile refuses a row: a missing account never does.
    assert lines(report.errors) == [5]
    unlinked = [w for w in report.warnings if "imported without an account" in w.message]
    # Line 2 spans two physical lines (a quoted note); line 6 is blank.
    assert lines(unlinked) == [2, 4, 5, 7, 8]
    assert str(unlinked[0]) == (
        "line 2: account_id: no account 'Acme, Inc.' in the database or "
        "the file; imported without an account"
    )
    assert (report.created, report.accounts_created, report.applied) == (5, 0, True)
    assert counts(crm) == (0, 5, 0)
    assert all("account_id" not in c for c in crm.all(CONTACTS).values())


def test_missing_accounts_are_created_on_request(crm: CRM) -> None:
    report = load("contacts", "generic_contacts.csv", crm, create_accounts=True)
    # Line 5's mobile is a number a spreadsheet mangled: that row is refused...
    assert [str(e) for e in report.errors] == [
        "line 5: mobile: '4.47911E+11' is not a phone number (digits, spaces, + ( ) - . /)"
    ]
    # ...and so the account it named ("?????") is not created for nobody.
    accounts = by_name(crm)
    assert set(accounts) == {"Acme, Inc.", "Globex", "Initech"}
    assert report.accounts_created == 3 and report.created == 5
    contacts = crm.all(CONTACTS).values()
    jane = [c for c in contacts if c.get("first_name") == "Jane"]
    assert len(jane) == 2  # the same person twice in the file: imported, with a warning
    assert {c["account_id"] for c in jane} == {accounts["Globex"]["id"]}
    assert any(w.line == 7 and "looks like line 4" in w.message for w in report.warnings)
    john = by_name(crm, CONTACTS)["John Smith"]
    assert john["account_id"] == accounts["Acme, Inc."]["id"]
    assert john["description"] == "Met at the fair.\nFollow up in Q3.\n\nBirthday: 1980-05-01"
    assert by_name(crm, CONTACTS)["Pieter van der Berg"]["address_postal_code"] == "01234"


def test_existing_account_is_linked_not_created_again(crm: CRM) -> None:
    globex = crm.create(ACCOUNTS, {"name": "globex"}).record
    report = load("contacts", "generic_contacts.csv", crm, create_accounts=True)
    assert report.accounts_created == 2
    assert crm.count(ACCOUNTS) == 3
    assert {
        c["account_id"] for c in crm.all(CONTACTS).values() if c.get("first_name") == "Jane"
    } == {globex["id"]}


@pytest.mark.parametrize("create", [False, True])
def test_an_ambiguous_account_name_leaves_the_contact_unlinked(crm: CRM, create: bool) -> None:
    crm.create(ACCOUNTS, {"name": "Acme", "address_city": "Oslo"})
    crm.create(ACCOUNTS, {"name": "ACME", "address_city": "Bergen"})
    data = csv_bytes(["First name", "Last name", "Company"], ["Ada", "Lovelace", "acme"])
    report = load("contacts", data, crm, create_accounts=create)
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "line 2: account_id: 'acme' names 2 accounts; imported without an account"
    ]
    assert counts(crm) == (2, 1, 0)  # no third Acme, and the contact is not lost
    assert "account_id" not in next(iter(crm.all(CONTACTS).values()))


# ---------------------------------------------------------------------------- importing again


@pytest.mark.parametrize(
    "kind, name, table, options",
    [
        ("accounts", "dynamics_accounts.csv", ACCOUNTS, {}),
        ("accounts", "salesforce_accounts.csv", ACCOUNTS, {}),
        ("contacts", "dynamics_contacts_display.csv", CONTACTS, {"create_accounts": True}),
        ("vcard", "apple_contacts.vcf", CONTACTS, {}),
        ("ics", "outlook.ics", ACTIVITIES, {"regarding": "Acme"}),
    ],
)
def test_importing_the_same_file_twice_updates(
    crm: CRM, kind: str, name: str, table: str, options: dict[str, Any]
) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    first = load(kind, name, crm, **options)
    assert first.created > 0 and first.updated == 0
    before = {rid: dict(r) for rid, r in crm.all(table).items() if rid != acme["id"]}
    sizes = counts(crm)
    second = load(kind, name, crm, **options)
    assert (second.created, second.updated) == (0, first.created)
    assert second.accounts_created == 0
    assert counts(crm) == sizes  # nothing duplicated, not even the accounts
    after = crm.all(table)
    assert set(after) - {acme["id"]} == set(before)  # the same record ids
    for rid, old in before.items():
        new = after[rid]
        assert new["version"] == old["version"] + 1
        assert new["created_at"] == old["created_at"]
        assert {k: v for k, v in new.items() if k not in ("version", "modified_at")} == {
            k: v for k, v in old.items() if k not in ("version", "modified_at")
        }


def test_a_card_without_uid_cannot_be_matched_and_is_flagged_as_a_duplicate(crm: CRM) -> None:
    load("vcard", "v4_contacts.vcf", crm)
    report = load("vcard", "v4_contacts.vcf", crm)
    assert (report.created, report.updated) == (1, 1)  # Selina Kyle's card has no UID
    selina = [c for c in crm.all(CONTACTS).values() if c["last_name"] == "Kyle"]
    assert len(selina) == 2
    assert [(w.line, w.message.split(" (")[0]) for w in report.warnings] == [
        (28, "possible duplicate of existing contact Selina Kyle")
    ]


def test_a_second_import_keeps_what_the_user_added_and_takes_the_files_changes(crm: CRM) -> None:
    data = csv_bytes(["Id", "Name", "City"], ["X-1", "Acme", "Oslo"])
    load("accounts", data, crm)
    acme = by_name(crm)["Acme"]
    crm.update(ACCOUNTS, acme["id"], {"industry": "Retail"})
    report = load("accounts", csv_bytes(["Id", "Name", "City"], ["X-1", "Acme", "Bergen"]), crm)
    assert (report.created, report.updated) == (0, 1)
    stored = crm.get(ACCOUNTS, acme["id"])
    assert (stored["address_city"], stored["industry"], stored["version"]) == (
        "Bergen",
        "Retail",
        3,
    )


# ---------------------------------------------------------------------- dry run, all or nothing


@pytest.mark.parametrize(
    "kind, name, options",
    [
        ("accounts", "dynamics_accounts.csv", {}),
        ("contacts", "generic_contacts.csv", {}),
        ("contacts", "generic_contacts.csv", {"create_accounts": True}),
        ("vcard", "apple_contacts.vcf", {}),
        ("vcard", "google_contacts.vcf", {}),
        ("ics", "google.ics", {"regarding": "Existing Ltd"}),
        ("ics", "google.ics", {}),
    ],
)
def test_dry_run_writes_nothing_and_reports_what_the_import_does(
    crm: CRM, db_path: Path, kind: str, name: str, options: dict[str, Any]
) -> None:
    crm.create(ACCOUNTS, {"name": "Existing Ltd"})
    before, sizes = files(db_path), counts(crm)
    dry = load(kind, name, crm, dry_run=True, **options)
    assert dry.dry_run and not dry.applied
    assert dry.summary().startswith("Dry run, nothing written.")
    assert files(db_path) == before
    assert counts(crm) == sizes
    reopened = CRM.open(db_path, user="bob")
    assert all(reopened.all(t) == crm.all(t) for t in RECORD_TABLES)

    real = load(kind, name, crm, **options)
    assert [
        (
            r.rows,
            r.created,
            r.updated,
            r.accounts_created,
            len(r.errors),
            [str(w) for w in r.warnings],
            r.notes,
        )
        for r in (dry, real)
    ] == [
        (
            real.rows,
            real.created,
            real.updated,
            real.accounts_created,
            len(real.errors),
            [str(w) for w in real.warnings],
            real.notes,
        )
    ] * 2
    assert [str(e) for e in dry.errors] == [str(e) for e in real.errors]
    written = sum(counts(crm)) - sum(sizes)
    assert written == real.created + real.accounts_created
    assert (files(db_path) != before) == (written > 0)


BAD_ROW = csv_bytes(
    ["Name", "Email", "City"],
    ["Acme", "info@acme.example", "Oslo"],
    ["Globex", "not-an-email", "Bergen"],
    ["Initech", "", "Trondheim"],
)


def test_all_or_nothing_with_one_bad_row_writes_nothing(crm: CRM, db_path: Path) -> None:
    crm.create(ACCOUNTS, {"name": "Existing Ltd"})
    before = files(db_path)
    report = load("accounts", BAD_ROW, crm, all_or_nothing=True)
    assert not report.applied
    assert [str(e) for e in report.errors] == [
        "line 3: email: 'not-an-email' is not an email address"
    ]
    assert report.summary().startswith("Nothing imported (all-or-nothing")
    assert files(db_path) == before
    assert list(by_name(crm)) == ["Existing Ltd"]
    dry = load("accounts", BAD_ROW, crm, all_or_nothing=True, dry_run=True)
    assert "nothing would be imported" in dry.summary()


def test_without_all_or_nothing_the_valid_rows_land(crm: CRM) -> None:
    report = load("accounts", BAD_ROW, crm)
    assert report.applied and report.created == 2
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "email: 'not-an-email' is not an email address")
    ]
    assert any(w.line == 3 and "does not look like an email" in w.message for w in report.warnings)
    assert set(by_name(crm)) == {"Acme", "Initech"}
    assert report.summary() == "Imported. 3 rows: 2 new, 0 updated, 1 with errors, 1 warning."


def test_rows_that_refer_to_a_refused_row_are_refused_too(crm: CRM) -> None:
    """A subsidiary of a refused parent (and its own subsidiaries) cannot point at nothing:
    they are row errors naming the line of the refused parent, and the rest still lands."""
    data = csv_bytes(
        ["Name", "Parent", "Email"],
        ["Parent Co", "", "bad@@example.com"],
        ["Child Co", "Parent Co", ""],
        ["Grandchild Co", "Child Co", ""],
        ["Other Co", "", ""],
    )
    dry = load("accounts", data, crm, dry_run=True)
    report = load("accounts", data, crm)
    assert (
        [str(e) for e in report.errors]
        == [str(e) for e in dry.errors]
        == [
            "line 2: email: 'bad@@example.com' is not an email address",
            "line 3: parent_account_id: refers to the record on line 2, which was not imported",
            "line 4: parent_account_id: refers to the record on line 3, which was not imported",
        ]
    )
    assert report.created == dry.created == 1
    assert list(by_name(crm)) == ["Other Co"]


def test_a_hierarchy_cycle_inside_a_file_is_refused(crm: CRM) -> None:
    data = csv_bytes(
        ["Id", "Name", "Parent"],
        ["A", "Alpha", "B"],
        ["B", "Beta", "A"],
        ["C", "Gamma", ""],
        ["D", "Delta", "Gamma"],
    )
    report = load("accounts", data, crm)
    assert lines(report.errors) == [2, 3]
    assert all("loop" in e.message for e in report.errors)
    accounts = by_name(crm)
    assert set(accounts) == {"Gamma", "Delta"}
    assert accounts["Delta"]["parent_account_id"] == accounts["Gamma"]["id"]


def test_a_file_cannot_make_a_loop_with_existing_accounts(crm: CRM) -> None:
    top = crm.create(ACCOUNTS, {"name": "Top", "source_id": "T"}).record
    crm.create(ACCOUNTS, {"name": "Below", "source_id": "B", "parent_account_id": top["id"]})
    report = load("accounts", csv_bytes(["Id", "Name", "Parent"], ["T", "Top", "Below"]), crm)
    assert lines(report.errors) == [2] and "loop" in report.errors[0].message
    assert "parent_account_id" not in crm.get(ACCOUNTS, top["id"])


# ---------------------------------------------------------------------------- duplicates


def test_duplicates_of_existing_records_and_within_the_file_are_warnings(crm: CRM) -> None:
    ada = crm.create(
        CONTACTS, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"}
    ).record
    data = csv_bytes(
        ["First name", "Last name", "Email"],
        ["Augusta", "King", "ADA@Example.ORG"],
        ["Grace", "Hopper", "grace@example.org"],
        ["G.", "Hopper", "Grace@EXAMPLE.org"],
        ["Alan", "Turing", ""],
        ["alan", "TURING", ""],
    )
    report = load("contacts", data, crm)
    assert report.errors == [] and report.created == 5
    assert [(w.line, w.message) for w in report.warnings] == [
        (2, f"possible duplicate of existing contact Ada Lovelace ({ada['id']})"),
        (4, "looks like line 3 of this file (same email or name)"),
        (6, "looks like line 5 of this file (same email or name)"),
    ]
    assert crm.count(CONTACTS) == 6
    assert by_name(crm, CONTACTS)["Augusta King"]["email"] == "ada@example.org"


def test_an_update_is_not_a_duplicate_of_itself(crm: CRM) -> None:
    data = csv_bytes(["Id", "Name", "Email"], ["X1", "Acme", "info@acme.example"])
    load("accounts", data, crm)
    again = load("accounts", data, crm)
    assert (again.updated, again.warnings) == (1, [])


# ---------------------------------------------------------------------------- activities


def test_activities_csv_regarding_by_name_id_and_source_id(crm: CRM) -> None:
    acme = crm.create(ACCOUNTS, {"name": "Acme Ltd", "source_id": "SF-ACME"}).record
    ada = crm.create(
        CONTACTS, {"first_name": "Ada", "last_name": "Lovelace", "account_id": acme["id"]}
    ).record
    data = csv_bytes(
        ["Subject", "Type", "Regarding", "Regarding type", "Due", "Status", "Priority"],
        ["Call Acme", "Phone call", "acme ltd", "", "2026-12-03 14:00", "Completed", "High"],
        ["Mail Ada", "Email", ada["id"], "", "", "", ""],
        ["Meet Ada", "Appointment", "Ada Lovelace", "contact", "", "", ""],
        ["Task for Acme", "Task", "SF-ACME", "account", "2026-12-10", "", "Low"],
        ["Lost", "Task", "Nobody Inc", "", "", "", ""],
        ["Default", "Note", "", "", "", "", ""],
    )
    report = load("activities", data, crm)
    assert [(e.line, e.message) for e in report.errors] == [
        (6, "regarding_id: no single account or contact 'Nobody Inc'"),
        (7, "regarding_id: no account or contact given (use --regarding)"),
    ]
    assert report.created == 4
    activities = by_name(crm, ACTIVITIES)
    call = activities["Call Acme"]
    assert (call["regarding_type"], call["regarding_id"]) == ("account", acme["id"])
    assert (call["type"], call["status"], call["priority"]) == ("phone_call", "completed", "high")
    assert call["due_at"] == "2026-12-03T14:00:00Z"
    assert call["completed_at"] == "2026-12-03T14:00:00Z"  # when it was due, not now
    assert (activities["Mail Ada"]["regarding_type"], activities["Mail Ada"]["regarding_id"]) == (
        "contact",
        ada["id"],
    )
    assert activities["Meet Ada"]["regarding_id"] == ada["id"]
    assert activities["Meet Ada"]["status"] == "open"
    task = activities["Task for Acme"]
    assert (task["regarding_id"], task["due_at"], task["priority"]) == (
        acme["id"],
        "2026-12-10",
        "low",
    )
    assert {a["id"] for a in crm.timeline(acme["id"])} == {call["id"], task["id"]}

    with_default = load("activities", data, crm, regarding=ada["id"])
    assert lines(with_default.errors) == [6]
    note = [a for a in crm.all(ACTIVITIES).values() if a.get("subject") == "Default"]
    assert [(n["regarding_type"], n["regarding_id"]) for n in note] == [("contact", ada["id"])]


def test_an_unknown_regarding_option_is_refused_before_anything_is_read(crm: CRM) -> None:
    from store.service import NotFoundError

    with pytest.raises(NotFoundError):
        load("ics", "google.ics", crm, regarding="Nobody")
    assert counts(crm) == (0, 0, 0)


def test_ics_with_regarding(crm: CRM) -> None:
    ada = crm.create(CONTACTS, {"first_name": "Ada", "last_name": "Lovelace"}).record
    without = load("ics", "google.ics", crm)
    assert lines(without.errors) == [26, 43, 64, 73] and not without.applied

    report = load("ics", "google.ics", crm, regarding="Ada Lovelace")
    assert (report.rows, report.created, report.errors) == (4, 4, [])
    assert report.notes == [
        "vevent at line 54: a changed instance of a recurring event; only "
        "the first occurrence is imported"
    ]
    activities = by_name(crm, ACTIVITIES)
    assert set(activities) == {
        "Product demo for Nordlys AS",
        "Weekly sync",
        "Office closed",
        "Breakfast meeting",
    }
    assert {(a["regarding_type"], a["regarding_id"]) for a in activities.values()} == {
        ("contact", ada["id"])
    }
    demo = activities["Product demo for Nordlys AS"]
    assert (demo["type"], demo["start_at"], demo["end_at"], demo["all_day"]) == (
        "appointment",
        "2026-12-03T13:00:00Z",
        "2026-12-03T14:00:00Z",
        False,
    )
    assert demo["source_id"] == "5k2j3h4g5f6d7s8a9p0o1i2u3y@google.com"
    assert demo["location"] == "Karl Johans gate 1, 0154 Oslo, Norway"
    assert demo["created_at"] == "2026-11-01T10:00:00Z"
    closed = activities["Office closed"]
    assert (closed["all_day"], closed["start_at"], closed["end_at"]) == (
        True,
        "2026-12-24",
        "2026-12-24",
    )
    assert activities["Breakfast meeting"]["status"] == "canceled"
    assert activities["Weekly sync"]["start_at"] == "2026-01-05T08:00:00Z"  # 09:00 in Oslo
    assert "RRULE" in activities["Weekly sync"]["description"]


def test_outlook_ics_tasks_and_zones(crm: CRM) -> None:
    crm.create(ACCOUNTS, {"name": "Contoso"})
    report = load("ics", "outlook.ics", crm, regarding="contoso")
    assert (report.created, report.errors) == (7, [])
    # The unknown zone is a warning on the event's line, said once.
    assert [str(w) for w in report.warnings] == [
        "line 86: unknown time zone 'Mars Standard Time' in DTSTART; read as local time",
        "line 86: unknown time zone 'Mars Standard Time' in DTEND; read as local time",
    ]
    activities = by_name(crm, ACTIVITIES)
    task = activities["Send the revised offer"]
    assert (task["type"], task["status"], task["priority"], task["due_at"]) == (
        "task",
        "open",
        "high",
        "2026-12-11T16:00:00Z",
    )
    assert activities["Quarterly review with Contoso"]["start_at"] == "2026-12-03T13:00:00Z"
    fair = activities["Trade fair (all day)"]
    assert (fair["all_day"], fair["start_at"], fair["end_at"]) == (True, "2026-12-08", "2026-12-09")


# ---------------------------------------------------------------------------- vCard


def test_vcard_org_cards_become_accounts_and_org_links_them(crm: CRM) -> None:
    report = load("vcard", "apple_contacts.vcf", crm)
    assert (report.rows, report.created, report.accounts_created, report.errors) == (1, 1, 1, [])
    assert report.notes == ["card 3 (line 38): a group card, not a contact or a company"]
    nordic = by_name(crm)["Nordic Tools AB"]
    assert nordic["website"] == "https://nordictools.example"
    assert nordic["source_id"] == "9A8B7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D"
    bjorn = by_name(crm, CONTACTS)["Björn Ångström"]
    assert bjorn["account_id"] == nordic["id"]  # ORG names the company card: one account
    assert (bjorn["mobile"], bjorn["job_title"]) == ("+46 70 123 45 67", "Säljchef")
    assert crm.count(ACCOUNTS) == 1

    report = load("vcard", "v4_contacts.vcf", crm)
    assert (report.created, report.accounts_created) == (2, 1)
    wayne = by_name(crm)["Wayne Enterprises"]
    contacts = by_name(crm, CONTACTS)
    assert contacts["Lucius Fox"]["account_id"] == wayne["id"]
    assert contacts["Lucius Fox"]["email"] == "lucius.fox@wayne.example"  # PREF=1
    assert "account_id" not in contacts["Selina Kyle"]


def test_vcard_org_creates_a_missing_account_or_links_an_existing_one(crm: CRM) -> None:
    navy = crm.create(ACCOUNTS, {"name": "US Navy"}).record
    report = load("vcard", "google_contacts.vcf", crm)
    assert (report.rows, report.created, report.accounts_created) == (3, 3, 1)
    assert len(report.notes) == 1 and report.notes[0].startswith(
        "card 3 (line 29): not a readable vCard"
    )
    accounts = by_name(crm)
    assert set(accounts) == {"US Navy", "Analytical Engines Ltd"}
    contacts = by_name(crm, CONTACTS)
    assert contacts["Grace Brewster Murray Hopper"]["account_id"] == navy["id"]
    assert contacts["Ada Lovelace"]["account_id"] == accounts["Analytical Engines Ltd"]["id"]
    assert "account_id" not in contacts["Linus Torvalds"]


# ---------------------------------------------------------------------------- robustness

_KINDS = ["accounts", "contacts", "vcard", "ics"]


@pytest.fixture(scope="module")
def shared_crm() -> Any:
    """One database for the property tests (dry runs write nothing to it)."""
    with tempfile.TemporaryDirectory() as folder:
        crm = CRM.open(Path(folder) / "crm.json", user="alice")
        crm.create(ACCOUNTS, {"name": "Acme"})
        crm.create(CONTACTS, {"first_name": "Ada", "last_name": "Lovelace"})
        yield crm


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=600), kind=st.sampled_from(_KINDS))
def test_any_bytes_give_a_report_or_a_value_error(shared_crm: CRM, data: bytes, kind: str) -> None:
    try:
        prepared = prepare_import(kind, data)
    except ValueError:
        return  # a whole-file error, such as CsvError
    sizes = counts(shared_crm)
    report = run_import(shared_crm, prepared, dry_run=True)
    assert isinstance(report, ImportReport) and not report.applied
    assert report.rows == len(prepared.rows)
    assert counts(shared_crm) == sizes


# Column names from every system the importer knows, and our own field names.
_FOREIGN = [
    "accountid",
    "Account Name",
    "parentaccountid",
    "Parent Account",
    "customertypecode",
    "industrycode",
    "statecode",
    "statuscode",
    "emailaddress1",
    "telephone1",
    "Id",
    "ID",
    "NAME",
    "PARENTID",
    "ACCOUNTID",
    "Full Name",
    "Company",
    "E-mail",
    "Zip",
    "Company Name",
    "Mobile Phone",
    "Notes",
    "createdon",
    "modifiedon",
    "Regarding",
    "scheduledstart",
    "scheduledend",
    "isalldayevent",
    "Duration",
    "WhoId",
    "WhatId",
    "Subject",
    "Status Reason",
    "Owner",
    "Birthday",
]
_HEADERS = sorted(
    {
        *_FOREIGN,
        *mappable_fields(ACCOUNTS),
        *mappable_fields(CONTACTS),
        *mappable_fields(ACTIVITIES),
    }
)
_CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "=1+2",
            "'=SUM(A1)",
            "+47 22 00 00 00",
            "-12",
            "@home",
            "a,b",
            'say "hi"',
            "two\nlines",
            "Zoë Ångström",
            "Crédit Agricole",
            "Acme",
            "Ada Lovelace",
            "true",
            "no",
            "2026-12-03",
            "12/3/2026 2:00 PM",
            "31/31/2031",
            "01M8E9WQA5Z879NRTCDGH7XVJE",
            "customer",
            "Completed",
            "x@y.example",
            "",
        ]
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    kind=st.sampled_from(["accounts", "contacts", "activities"]),
    header=st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=8),
    body=st.lists(st.lists(_CELL, max_size=9), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    real=st.booleans(),
)
def test_generated_csv_never_raises(
    shared_crm: CRM, kind: str, header: list[str], body: list[list[str]], delimiter: str, real: bool
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(body)
    prepared = prepare_import(kind, buffer.getvalue().encode())  # a header: no CsvError
    acme = next(
        a["id"] for a in shared_crm.all(ACCOUNTS).values() if a["name"] == "Acme"
    )  # by id: a real import may add another "Acme"
    options = {"regarding": acme} if kind == "activities" else {}
    report = run_import(shared_crm, prepared, dry_run=not real, create_accounts=real, **options)
    assert report.rows == len(prepared.rows)
    assert report.applied == (real and report.valid > 0)
    for issue in report.errors:
        assert issue.line >= 2
    assert shared_crm.check() == []
