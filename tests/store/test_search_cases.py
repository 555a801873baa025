"""Search cases that test_queries.py does not have, run on both engines (the `crm` fixture):
the same records and the same query give the same names, in the same order, on each."""

from __future__ import annotations

from typing import Any

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.queries import ListQuery
from store.service import CRM
from tests.store.conftest import Maker

ACCOUNT_NAMES = [
    "Société Générale",
    "Straße & Söhne GmbH",
    "100% Organic",
    "Under_Score Ltd",
    "Back\\Slash Inc",
    "O'Brien & Co.",
]


@pytest.fixture
def world(crm: CRM, make: Maker) -> dict[str, Any]:
    accounts = {name: make.account(name) for name in ACCOUNT_NAMES}
    make.contact("Zoë", "Ångström", account_id=accounts["Société Générale"]["id"])
    make.contact("Seán", "O'Neill", email="sean.oneill+crm@example.ie", phone="(555) 010-0199")
    make.contact("Anne-Marie", "Dupont-Aignan", account_id=accounts["O'Brien & Co."]["id"])
    return accounts


@pytest.mark.parametrize(
    ("table", "text", "expected"),
    [
        (ACCOUNTS, "societe generale", ["Société Générale"]),
        (ACCOUNTS, "SOCIÉTÉ", ["Société Générale"]),
        (ACCOUNTS, "strasse", ["Straße & Söhne GmbH"]),  # ß folds to ss
        (ACCOUNTS, "sohne gmbh", ["Straße & Söhne GmbH"]),
        (ACCOUNTS, "100%", ["100% Organic"]),  # LIKE's % is a plain character
        (ACCOUNTS, "%", ["100% Organic"]),
        (ACCOUNTS, "_", ["Under_Score Ltd"]),  # and so is _
        (ACCOUNTS, "back\\slash", ["Back\\Slash Inc"]),
        (ACCOUNTS, "\\", ["Back\\Slash Inc"]),
        (ACCOUNTS, "o'brien", ["O'Brien & Co."]),
        (ACCOUNTS, "obrien", []),  # punctuation is kept in the text searched
        (ACCOUNTS, "co.", ["O'Brien & Co."]),
        (ACCOUNTS, "&", ["O'Brien & Co.", "Straße & Söhne GmbH"]),
        (ACCOUNTS, "   ", sorted(ACCOUNT_NAMES, key=lambda n: n.casefold())),
        (CONTACTS, "angstrom", ["Ångström"]),
        (CONTACTS, "zoe societe", ["Ångström"]),  # a contact found by its account's name
        (CONTACTS, "sean", ["O'Neill"]),
        (CONTACTS, "oneill+crm", ["O'Neill"]),
        (CONTACTS, "(555) 010", ["O'Neill"]),
        (CONTACTS, "anne-marie", ["Dupont-Aignan"]),
        (CONTACTS, "marie aignan", ["Dupont-Aignan"]),
        (CONTACTS, "brien", ["Dupont-Aignan"]),
        (CONTACTS, "ngstr", ["Ångström"]),  # inside a word
    ],
)
def test_search_means_the_same_on_every_engine(
    crm: CRM, world: dict[str, Any], table: str, text: str, expected: list[str]
) -> None:
    key = "name" if table == ACCOUNTS else "last_name"
    found = crm.records(table, list(crm.search(table, ListQuery(text=text))))
    assert [r[key] for r in found] == expected


def test_a_contact_is_found_by_its_accounts_new_accented_name(crm: CRM, world: dict[str, Any]):
    account = world["Société Générale"]
    crm.update(ACCOUNTS, account["id"], {"name": "Crédit Agricole"})
    assert list(crm.search(CONTACTS, ListQuery(text="societe"))) == []
    [found] = crm.search(CONTACTS, ListQuery(text="credit agricole zoe"))
    assert crm.get(CONTACTS, found)["last_name"] == "Ångström"


def test_activities_are_searched_with_the_same_meaning(crm: CRM, make: Maker) -> None:
    acme = make.account("Acme")
    make.activity(acme, subject="Réunion à São Paulo", description="100% sûr")
    make.activity(acme, subject="Call", description="under_score")
    subjects = lambda text: [a["subject"] for a in crm.search_activities(text)]  # noqa: E731
    assert subjects("reunion sao paulo") == ["Réunion à São Paulo"]
    assert subjects("SUR 100%") == ["Réunion à São Paulo"]
    assert subjects("_") == ["Call"]
    assert subjects("reunion call") == []
    assert crm.count(ACTIVITIES) == 2
