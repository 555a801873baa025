"""Import and export as people use them (issue 7): names beside ids, accounts created or not,
typed phone columns, vCards of accounts that share a name. Real databases in tmp_path."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from store.io.jobs import export_data, prepare_import, run_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM


@pytest.fixture(autouse=True)
def utc(local_tz: Any) -> None:
    local_tz("UTC")


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def load(crm: CRM, kind: str, data: bytes, **options: Any):
    report = run_import(crm, prepare_import(kind, data), **options)
    assert crm.check() == []
    return report


@pytest.fixture
def source(tmp_path: Path) -> CRM:
    crm = CRM.open(tmp_path / "source.json", user="alice")
    acme = crm.create(ACCOUNTS, {"name": "ACME Inc.", "address_city": "Austin"}).record
    acme2 = crm.create(ACCOUNTS, {"name": "ACME Inc.", "address_city": "Boston"}).record
    ada = crm.create(
        CONTACTS,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "account_id": acme["id"],
            "phone": "+1 512 555 0132",
        },
    ).record
    crm.create(CONTACTS, {"first_name": "Bob", "last_name": "Builder", "account_id": acme2["id"]})
    crm.create(CONTACTS, {"first_name": "Cy", "last_name": "Solo"})
    crm.log_activity("task", ada["id"], {"subject": "Send offer"})
    return crm


def linked(crm: CRM) -> dict[str, str | None]:
    """Contact first name -> the city of its account (the two ACMEs differ by city)."""
    return {
        c["first_name"]: (crm.get(ACCOUNTS, c["account_id"]) or {}).get("address_city")
        if c.get("account_id")
        else None
        for c in crm.all(CONTACTS).values()
    }


def test_contacts_csv_names_the_account_beside_its_id(source: CRM) -> None:
    rows = rows_of(export_data(source, CONTACTS))
    header = list(rows[0])
    assert header[header.index("account_id") + 1] == "account_name"
    by_first = {r["first_name"]: r for r in rows}
    assert by_first["Ada"]["account_name"] == "ACME Inc."
    assert by_first["Cy"]["account_name"] == ""
    assert by_first["Ada"]["phone"] == "+1 512 555 0132"  # no formula guard on a phone number
    activity = rows_of(export_data(source, ACTIVITIES))[0]
    assert activity["regarding_name"] == "Ada Lovelace"


def test_contacts_csv_into_an_empty_database_links_by_name(source: CRM, tmp_path: Path) -> None:
    data = export_data(source, CONTACTS)
    target = CRM.open(tmp_path / "empty.json", user="bob")
    prepared = prepare_import(CONTACTS, data)
    assert "account_name -> account_name" in prepared.mapping_lines()
    assert not any(line.startswith("account_name -> (unknown") for line in prepared.mapping_lines())
    report = run_import(target, prepared)
    assert (report.created, report.accounts_created, report.errors) == (3, 1, [])
    assert "1 new account" in report.summary()
    # Both contacts name "ACME Inc.": one account of that name, and nothing in descriptions.
    contacts = {c["first_name"]: c for c in target.all(CONTACTS).values()}
    assert contacts["Ada"]["account_id"] == contacts["Bob"]["account_id"]
    assert target.get(ACCOUNTS, contacts["Ada"]["account_id"])["name"] == "ACME Inc."
    assert "account_name" not in contacts["Ada"].get("description", "")
    assert contacts["Ada"]["phone"] == "+1 512 555 0132"


def test_contacts_csv_into_the_same_database_links_by_id_first(source: CRM) -> None:
    data = export_data(source, CONTACTS)
    before = linked(source)
    # The account file names "ACME Inc." twice: only the ids tell them apart.
    report = load(source, CONTACTS, data)
    assert (report.updated, report.accounts_created, report.errors, report.warnings) == (
        3,
        0,
        [],
        [],
    )
    assert linked(source) == before == {"Ada": "Austin", "Bob": "Boston", "Cy": None}
    assert source.count(ACCOUNTS) == 2


def test_typed_phone_columns_go_to_phone_and_mobile_by_their_type(tmp_path: Path) -> None:
    crm = CRM.open(tmp_path / "crm.json", user="alice")
    data = (
        b"first_name,last_name,phone_number1.number,phone_number1.type,"
        b"phone_number2.number,phone_number2.type,phone_number3.number,"
        b"phone_number3.type\n"
        b"Ada,Lovelace,+44 20 1,home,+44 7700 2,Mobile,+44 20 3,work\n"
        b"Bob,Builder,+1 555 4,cell,,,+1 555 5,main\n"
    )
    prepared = prepare_import(CONTACTS, data)
    assert prepared.mapping.unknown == []
    assert (
        "phone_number1.number -> phone or mobile, by phone_number1.type" in prepared.mapping_lines()
    )
    report = run_import(crm, prepared)
    assert report.errors == []
    contacts = {c["first_name"]: c for c in crm.all(CONTACTS).values()}
    assert (contacts["Ada"]["phone"], contacts["Ada"]["mobile"]) == ("+44 20 1", "+44 7700 2")
    assert contacts["Ada"]["description"] == "Phone (work): +44 20 3"  # not lost
    assert (contacts["Bob"]["phone"], contacts["Bob"]["mobile"]) == ("+1 555 5", "+1 555 4")


def test_a_vcard_of_accounts_sharing_a_name_comes_back_whole(source: CRM, tmp_path: Path) -> None:
    data = export_data(source, "vcard")
    target = CRM.open(tmp_path / "empty.json", user="bob")
    report = load(target, "vcard", data)
    assert report.errors == [] and report.created == 3
    assert target.count(ACCOUNTS) == 2
    assert linked(target) == {"Ada": "Austin", "Bob": "Boston", "Cy": None}


def test_vcard_contacts_without_their_org_cards_link_by_name(source: CRM, tmp_path: Path) -> None:
    ids = [c["id"] for c in source.all(CONTACTS).values() if c["first_name"] == "Ada"]
    data = export_data(source, "vcard", ids=ids)  # a search: contacts only, no org cards
    target = CRM.open(tmp_path / "empty.json", user="bob")
    report = load(target, "vcard", data)
    assert (report.created, report.accounts_created) == (1, 1)
    assert {a["name"] for a in target.all(ACCOUNTS).values()} == {"ACME Inc."}


def test_an_org_card_named_like_an_existing_account_links_to_it(
    source: CRM, tmp_path: Path
) -> None:
    target = CRM.open(tmp_path / "other.json", user="bob")
    austin = target.create(ACCOUNTS, {"name": "ACME Inc.", "phone": "+1 512 000"}).record
    data = export_data(source, "vcard")
    report = load(target, "vcard", data)
    assert report.errors == [] and report.created == 3
    # One card takes the existing account (which keeps its own values and gains the city);
    # the second ACME card of the file is another company and becomes the second account.
    assert target.count(ACCOUNTS) == 2
    kept = target.get(ACCOUNTS, austin["id"])
    assert (kept["phone"], kept["address_city"]) == ("+1 512 000", "Austin")
    assert linked(target) == {"Ada": "Austin", "Bob": "Boston", "Cy": None}
    again = load(target, "vcard", data)
    assert (again.created, target.count(ACCOUNTS), target.count(CONTACTS)) == (0, 2, 3)


def test_a_foreign_org_card_links_to_the_account_of_that_name(tmp_path: Path) -> None:
    crm = CRM.open(tmp_path / "crm.json", user="alice")
    wayne = crm.create(ACCOUNTS, {"name": "Wayne Enterprises"}).record
    data = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nKIND:org\r\nFN:Wayne Enterprises\r\n"
        b"ORG:Wayne Enterprises\r\nURL:https://wayne.example\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Fox;Lucius;;;\r\nFN:Lucius Fox\r\n"
        b"ORG:Wayne Enterprises\r\nEND:VCARD\r\n"
    )
    report = load(crm, "vcard", data)
    assert (report.created, report.accounts_created, report.errors) == (1, 0, [])
    assert crm.count(ACCOUNTS) == 1
    assert crm.get(ACCOUNTS, wayne["id"])["website"] == "https://wayne.example"
    lucius = next(iter(crm.all(CONTACTS).values()))
    assert lucius["account_id"] == wayne["id"]
