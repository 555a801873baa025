"""CRM.describe: the few words that tell records with the same name apart (pickers, the
palette, messages about ambiguous references)."""

from __future__ import annotations

from store.model import ACCOUNTS, CONTACTS, brief


def test_contacts_are_told_apart_by_account_and_email_or_city(crm, make):
    acme = make.account("Acme")
    with_email = make.contact(
        "Jo", "Smith", account_id=acme["id"], email="jo@acme.example", address_city="Paris"
    )
    with_city = make.contact("Jo", "Smith", account_id=acme["id"], address_city="Oslo")
    alone = make.contact("Jo", "Smith")
    assert crm.describe(CONTACTS, with_email) == "Acme · jo@acme.example"
    assert crm.describe(CONTACTS, with_city) == "Acme · Oslo"
    assert crm.describe(CONTACTS, alone) == ""


def test_accounts_are_told_apart_by_city_or_email_or_relationship(crm, make):
    assert (
        crm.describe(ACCOUNTS, make.account("Acme", address_city="Lyon", email="a@acme.example"))
        == "Lyon"
    )
    assert crm.describe(ACCOUNTS, make.account("Acme", email="b@acme.example")) == "b@acme.example"
    assert crm.describe(ACCOUNTS, make.account("Acme", relationship="vendor")) == "vendor"
    assert crm.describe(ACCOUNTS, make.account("Acme")) == ""


def test_brief_keeps_user_text_as_it_is():
    # Escaping is the screen's job (tui.literal); the store hands back the stored text.
    assert brief(CONTACTS, {"email": "[b]x@y"}, account_name="A\x1b") == "A\x1b · [b]x@y"
