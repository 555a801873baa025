"""vCard import (Google, Apple, vCard 4.0) and export."""

from __future__ import annotations

from pathlib import Path

import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.io.vcard import export_vcards, parse_vcards

FIXTURES = Path(__file__).parents[2] / "fixtures" / "io"


def parse(name: str):
    return parse_vcards((FIXTURES / name).read_bytes())


def test_google_contacts():
    result = parse("google_contacts.vcf")
    assert result.accounts == []
    assert len(result.contacts) == 3
    assert len(result.errors) == 1
    assert result.errors[0].startswith("card 3 (line 29): not a readable vCard")
    assert "no colon" in result.errors[0]
    ada, grace, linus = result.contacts
    assert ada.line == 1
    assert ada.record == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "job_title": "Chief Mathematician",
        "email": "ada@analytical.example",  # WORK preferred over HOME
        "phone": "+44 20 7946 0000",
        "mobile": "+44 7700 900123",
        "address_line1": "12 Engine Street",
        "address_city": "London",
        "address_postal_code": "EC1A 1BB",
        "address_country": "United Kingdom",
        "description": "Met at the Royal Society. Interested in the difference engine, the "
        "analytical engine and poetry.\n\nEmail: ada@home.example",
    }
    assert ada.refs == {"account_id": "Analytical Engines Ltd"}
    assert ada.problems == []
    assert grace.record["first_name"] == "Grace Brewster Murray"
    assert grace.record["last_name"] == "Hopper"
    assert grace.refs == {"account_id": "US Navy"}  # the first ORG component
    assert grace.record["description"] == "Website: https://www.navy.example"
    # No N: the formatted name is split.
    assert (linus.record["first_name"], linus.record["last_name"]) == ("Linus", "Torvalds")
    assert linus.record["email"] == "linus@kernel.example"
    assert linus.record["mobile"] == "+1 503 555 0199"
    assert "phone" not in linus.record  # a fax is not a phone
    assert linus.record["description"] == "Phone (fax/work): +1 503 555 0100"


def test_apple_contacts():
    result = parse("apple_contacts.vcf")
    assert result.errors == []
    assert result.skipped == ["card 3 (line 38): a group card, not a contact or a company"]
    [bjorn] = result.contacts
    [company] = result.accounts
    assert bjorn.record == {
        "first_name": "Björn",
        "last_name": "Ångström",
        "job_title": "Säljchef",
        "email": "bjorn@nordictools.example",  # item1.EMAIL with type=pref
        "phone": "+46 8 123 456 00",
        "mobile": "+46 70 123 45 67",
        "address_line1": "Drottninggatan 1",
        "address_line2": "Plan 4",
        "address_city": "Stockholm",
        "address_postal_code": "111 51",
        "address_country": "Sverige",
        "description": "Träffades på mässan i Göteborg.\nRing efter kl. 10.\n\n"
        "Email: bjorn.home@example.se\n"
        "Address: Hemvägen 2, Uppsala, 753 20, Sverige",
        "source_id": "4D3B2C1A-0F9E-4D8C-B7A6-5F4E3D2C1B0A",
    }
    assert bjorn.refs == {"account_id": "Nordic Tools AB"}
    # X-ABShowAs:COMPANY marks a company card.
    assert company.record == {
        "name": "Nordic Tools AB",
        "phone": "+46 8 123 456 00",
        "website": "https://nordictools.example",
        "address_line1": "Drottninggatan 1",
        "address_city": "Stockholm",
        "address_postal_code": "111 51",
        "address_country": "Sverige",
        "source_id": "9A8B7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D",
    }


def test_vcard_4():
    result = parse("v4_contacts.vcf")
    assert result.errors == []
    assert result.skipped == ["card 4 (line 34): a group card, not a contact or a company"]
    [wayne] = result.accounts
    lucius, selina = result.contacts
    assert wayne.line == 1
    assert wayne.record == {
        "name": "Wayne Enterprises",
        "email": "info@wayne.example",
        "phone": "+1-555-555-0100",
        "website": "https://wayne.example",
        "address_line1": "1007 Mountain Drive",
        "address_city": "Gotham",
        "address_state": "NJ",
        "address_postal_code": "07001",
        "address_country": "USA",
        "description": "Parent company of several subsidiaries.\n\nPhone (fax): +1-555-555-0101",
        "source_id": "urn:uuid:8f1c6c2e-2d6b-4b8a-9a57-0b1a4c1e2f00",
        "modified_at": "2024-03-01T12:00:00Z",
    }
    assert lucius.record["email"] == "lucius.fox@wayne.example"  # PREF=1 wins
    assert lucius.record["mobile"] == "+1-555-555-0142"
    assert lucius.record["phone"] == "+1-555-555-0143"
    assert lucius.refs == {"account_id": "Wayne Enterprises"}
    assert selina.record == {
        "first_name": "Selina",
        "last_name": "Kyle",
        "email": "selina@example.com",
    }


def test_vcard_21_outlook_style():
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Smith;John\r\nFN:John Smith\r\n"
        b"TEL;WORK;VOICE:(555) 555-1234\r\nTEL;CELL:(555) 555-9876\r\n"
        b"EMAIL;PREF;INTERNET:js@example.com\r\n"
        b"NOTE;ENCODING=QUOTED-PRINTABLE:Line one=0D=0ALine two\r\nEND:VCARD\r\n"
    )
    [john] = parse_vcards(data).contacts
    assert john.record["phone"] == "(555) 555-1234"
    assert john.record["mobile"] == "(555) 555-9876"
    assert john.record["email"] == "js@example.com"
    assert john.record["description"] == "Line one\nLine two"


def test_unterminated_and_non_vcard_input():
    result = parse_vcards(
        b"BEGIN:VCARD\nVERSION:3.0\nFN:A B\nBEGIN:VCARD\nVERSION:3.0\n"
        b"FN:C D\nEND:VCARD\nBEGIN:VCARD\nFN:E F\n"
    )
    assert [c.record["last_name"] for c in result.contacts] == ["D"]
    assert result.errors == [
        "card 1 (line 1): no END:VCARD before the next card; skipped",
        "card 3 (line 8): the file ends before END:VCARD; skipped",
    ]
    assert parse_vcards(b"name,email\n").errors == [
        "no BEGIN:VCARD found: this is not a vCard file"
    ]
    assert parse_vcards(b"").errors == []


def test_export_is_vcard_4():
    text = export_vcards(
        [{"id": "c1", "first_name": "Ann", "last_name": "Lee", "account_id": "a1"}],
        [{"id": "a1", "name": "Acme"}],
        {"a1": "Acme"},
    )
    cards = list(vobject.readComponents(text))
    assert [c.version.value for c in cards] == ["4.0", "4.0"]
    assert cards[0].uid.value == "c1"
    assert cards[0].org.value == ["Acme"]
    assert cards[1].kind.value == "org"
    assert "\r\n" in text


# --------------------------------------------------------------------------- round trip

_text = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_tricky = st.sampled_from(
    ["a,b", "a;b", "back\\slash", "colon: yes", "Zoë Ångström", "x\\ny", "日本語", "'=1+1"]
)
_value = st.one_of(_text, _tricky)
_when = st.datetimes().map(
    lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"
)
_address = {
    f: _value
    for f in (
        "address_line1",
        "address_line2",
        "address_city",
        "address_state",
        "address_postal_code",
        "address_country",
    )
}
_note = st.lists(_value, min_size=1, max_size=3).map("\n".join)

_contact = st.fixed_dictionaries(
    {"id": _text, "last_name": _value},
    optional={
        "first_name": _value,
        "job_title": _value,
        "account_id": st.just("a1"),
        "email": _value,
        "phone": _value,
        "mobile": _value,
        "description": _note,
        "owner": _value,
        "status": st.sampled_from(["active", "inactive"]),
        "created_at": _when,
        "modified_at": _when,
        **_address,
    },
)
_account = st.fixed_dictionaries(
    {"id": _text, "name": _value},
    optional={
        "account_number": _value,
        "industry": _value,
        "website": _value,
        "relationship": st.sampled_from(["customer", "press", "other"]),
        "email": _value,
        "phone": _value,
        "description": _note,
        "owner": _value,
        "status": st.sampled_from(["active", "inactive"]),
        "parent_account_id": _text,
        "created_at": _when,
        "modified_at": _when,
        **_address,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_contact, max_size=3), st.lists(_account, max_size=3))
def test_vcard_round_trip(contacts, accounts):
    names = {"a1": "Acme, Inc.; Holdings"}
    text = export_vcards(contacts, accounts, names)
    result = parse_vcards(text.encode("utf-8"))
    assert result.errors == []
    assert len(result.contacts) == len(contacts)
    assert len(result.accounts) == len(accounts)
    for card, original in zip(result.contacts, contacts, strict=True):
        expected = {
            ("source_id" if k == "id" else k): v for k, v in original.items() if k != "account_id"
        }
        assert card.record == expected
        # The account's id links exactly; its name is the fallback for another database.
        assert card.refs == ({"account_id": "a1"} if "account_id" in original else {})
        assert card.ref_names == ({"account_id": names["a1"]} if "account_id" in original else {})
    for card, original in zip(result.accounts, accounts, strict=True):
        expected = {
            ("source_id" if k == "id" else k): v
            for k, v in original.items()
            if k != "parent_account_id"
        }
        assert card.record == expected
        if "parent_account_id" in original:
            assert card.refs == {"parent_account_id": original["parent_account_id"]}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_raise(data):
    result = parse_vcards(data)
    assert isinstance(result.errors, list)


_line = st.one_of(
    st.sampled_from(
        [
            "BEGIN:VCARD",
            "END:VCARD",
            "VERSION:3.0",
            "VERSION:4.0",
            "FN:A B",
            "N:;;;;",
            "N:B;A",
            "ORG:;",
            "ADR:;;;;;;",
            "ADR;TYPE=WORK:",
            "TEL;PREF=x:1",
            "EMAIL;TYPE=:x",
            "KIND:org",
            "item1.X-ABLabel:_$!<>!$_",
            "item1.TEL:2",
            "PHOTO;ENCODING=b:!!!notbase64",
            " continued",
            "REV:garbage",
            "X-TERMCRM-STATUS:weird",
            "X-TERMCRM-CREATED-AT:soon",
            "UID:",
            "NOTE;ENCODING=QUOTED-PRINTABLE:=ZZ",
            "BDAY:never",
            "N:a;b;c;d;e;f;g",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, max_size=14))
def test_card_like_garbage_never_raises(lines):
    result = parse_vcards("\r\n".join(lines).encode())
    for card in result.contacts + result.accounts:
        assert all(isinstance(v, str) for v in card.record.values())
