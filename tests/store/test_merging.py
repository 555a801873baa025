"""Likely duplicates and merging (store.merging), on a real CRM over a temporary database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from store.errors import ConflictError, MergeRefused
from store.merging import SAME_EMAIL, SAME_NAME, SIMILAR, duplicate_pairs, merge, plan_merge
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM, Batch
from tests.store.conftest import Maker


def journal_lines(db_path: Path) -> int:
    return sum(
        path.read_bytes().count(b"\n") for path in db_path.parent.glob(db_path.name + ".journal-*")
    )


def pair_ids(crm: CRM, table: str) -> dict[frozenset[str], tuple[str, ...]]:
    return {frozenset((p.keep_id, p.other_id)): p.reasons for p in duplicate_pairs(crm, table)}


# ---------------------------------------------------------------------------- pairs


def test_pairs_by_email_in_any_case_name_and_close_names(crm: CRM, make: Maker) -> None:
    a = make.contact("Ada", "Lovelace", email="Ada@Example.com")
    b = make.contact("Augusta", "King", email="ada@example.COM")
    c = make.contact("ADA", "lovelace")
    d = make.contact("Jon", "Smithson")
    e = make.contact("John", "Smithson")
    make.contact("Grace", "Hopper")
    pairs = pair_ids(crm, CONTACTS)
    assert pairs == {
        frozenset((a["id"], b["id"])): (SAME_EMAIL,),
        frozenset((a["id"], c["id"])): (SAME_NAME,),
        frozenset((d["id"], e["id"])): (SIMILAR,),
    }


def test_word_order_and_punctuation_do_not_hide_a_pair(crm: CRM, make: Maker) -> None:
    acme = make.account("ACME, Ltd.")
    same = make.account("Acme Ltd")
    turned = make.account("Ltd Acmee")
    pairs = pair_ids(crm, ACCOUNTS)
    assert pairs[frozenset((acme["id"], same["id"]))] == (SAME_NAME,)
    assert pairs[frozenset((acme["id"], turned["id"]))] == (SIMILAR,)


def test_unrelated_names_make_no_pair(crm: CRM, make: Maker) -> None:
    for name in ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries"):
        make.account(name)
    make.contact("Ada", "Lovelace", email="ada@one.example")
    make.contact("Grace", "Hopper", email="grace@one.example")
    assert duplicate_pairs(crm, ACCOUNTS) == []
    assert duplicate_pairs(crm, CONTACTS) == []


def test_each_pair_once_with_every_reason_and_the_fuller_record_to_keep(
    crm: CRM, make: Maker
) -> None:
    bare = make.account("Acme", email="info@acme.example")
    full = make.account("ACME", email="INFO@acme.example", phone="+47 1234 5678", industry="Tools")
    (pair,) = duplicate_pairs(crm, ACCOUNTS)
    assert (pair.keep_id, pair.other_id) == (full["id"], bare["id"])
    assert pair.reasons == (SAME_EMAIL, SAME_NAME)


def test_with_as_many_fields_the_older_is_kept(crm: CRM, make: Maker) -> None:
    newer = crm.create(ACCOUNTS, {"name": "Acme"}, created_at="2026-02-01T00:00:00Z").record
    older = crm.create(ACCOUNTS, {"name": "Acme"}, created_at="2025-02-01T00:00:00Z").record
    (pair,) = duplicate_pairs(crm, ACCOUNTS)
    assert (pair.keep_id, pair.other_id) == (older["id"], newer["id"])


def test_activities_have_no_duplicates(crm: CRM) -> None:
    with pytest.raises(MergeRefused):
        duplicate_pairs(crm, ACTIVITIES)


# ---------------------------------------------------------------------------- merge


Pair = tuple[dict[str, Any], dict[str, Any], list[str]]


def _pair_to_fill(make: Maker) -> Pair:
    keep = make.account("Acme", phone="+47 1111 1111", address_city="Oslo")
    other = make.account("ACME AS", phone="+47 2222 2222", email="post@acme.example")
    return keep, other, ["name"]


def _pair_with_links(make: Maker) -> Pair:
    keep = make.account("Acme")
    other = make.account("Acme Ltd")
    contact = make.contact("Ada", "Lovelace", account_id=other["id"])
    make.crm.update(ACCOUNTS, other["id"], {"primary_contact_id": contact["id"]})
    make.account("Acme Oslo", parent_account_id=other["id"])
    make.activity(other, type="note", subject="met")
    return keep, other, []


@pytest.mark.parametrize("pair", [_pair_to_fill, _pair_with_links])
def test_a_merge_is_one_journal_entry(
    pair: Callable[[Maker], Pair], crm: CRM, make: Maker, db_path: Path
) -> None:
    keep, other, take = pair(make)
    before = journal_lines(db_path)
    merge(crm, ACCOUNTS, keep["id"], other["id"], take=take)
    assert journal_lines(db_path) == before + 1


def test_merge_fills_empty_fields_and_take_overrides(crm: CRM, make: Maker) -> None:
    keep, other, take = _pair_to_fill(make)
    before = len(crm.history())
    merge(crm, ACCOUNTS, keep["id"], other["id"], take=take)
    assert len(crm.history()) == before + 1
    kept = crm.get(ACCOUNTS, keep["id"])
    assert kept is not None
    assert kept["name"] == "ACME AS"  # taken
    assert kept["phone"] == "+47 1111 1111"  # its own, not taken
    assert kept["email"] == "post@acme.example"  # filled
    assert kept["address_city"] == "Oslo"
    assert crm.get(ACCOUNTS, other["id"]) is None
    assert crm.check() == []


def test_the_other_is_in_the_trash_marked_merged_into(crm: CRM, make: Maker) -> None:
    keep, other = make.account("Acme"), make.account("Acme")
    merge(crm, ACCOUNTS, keep["id"], other["id"])
    entry = crm.in_trash(other["id"])
    assert entry is not None
    assert entry.merged_into == keep["id"]
    assert [e.record_id for e in crm.trash()] == [other["id"]]


def test_merging_accounts_moves_every_link(crm: CRM, make: Maker) -> None:
    keep, other, _take = _pair_with_links(make)
    contact = crm.get(ACCOUNTS, other["id"])["primary_contact_id"]  # type: ignore[index]
    (child,) = crm.subsidiaries(other["id"])
    (note,) = crm.timeline(other["id"])
    before = len(crm.history())
    merge(crm, ACCOUNTS, keep["id"], other["id"])
    assert len(crm.history()) == before + 1
    assert crm.get(CONTACTS, contact)["account_id"] == keep["id"]  # type: ignore[index]
    assert crm.get(ACCOUNTS, child["id"])["parent_account_id"] == keep["id"]  # type: ignore[index]
    assert crm.get(ACTIVITIES, note["id"])["regarding_id"] == keep["id"]  # type: ignore[index]
    assert crm.get(ACCOUNTS, keep["id"])["primary_contact_id"] == contact  # type: ignore[index]
    assert crm.check() == []


def test_merging_contacts_moves_activities_and_primary_contact_links(crm: CRM, make: Maker) -> None:
    keep = make.contact("Ada", "Lovelace")
    other = make.contact("Ada", "Lovelace", email="ada@example.com")
    account = make.account("Acme", primary_contact_id=other["id"])
    call = make.activity(other, type="phone_call", subject="hello")
    merge(crm, CONTACTS, keep["id"], other["id"])
    assert crm.get(ACCOUNTS, account["id"])["primary_contact_id"] == keep["id"]  # type: ignore[index]
    moved = crm.get(ACTIVITIES, call["id"])
    assert moved is not None
    assert (moved["regarding_type"], moved["regarding_id"]) == ("contact", keep["id"])
    assert crm.get(CONTACTS, keep["id"])["email"] == "ada@example.com"  # type: ignore[index]
    assert crm.check() == []


def test_merging_a_parent_below_it_keeps_no_loop(crm: CRM, make: Maker) -> None:
    top = make.account("Acme Group")
    other = make.account("Acme", parent_account_id=top["id"])
    merge(crm, ACCOUNTS, top["id"], other["id"])
    assert "parent_account_id" not in crm.get(ACCOUNTS, top["id"])  # type: ignore[operator]
    assert crm.check() == []


REFUSED = ["itself", "across tables", "into its subsidiary", "bad field"]


def _refused_merge(case: str, make: Maker) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """A merge that is refused: the account it would change, and merge()'s arguments."""
    parent = make.account("Acme")
    child = make.account("Acme Oslo", parent_account_id=parent["id"])
    contact = make.contact()
    arguments = {
        "itself": (ACCOUNTS, parent["id"], parent["id"], ()),
        "across tables": (ACCOUNTS, parent["id"], contact["id"], ()),
        "into its subsidiary": (ACCOUNTS, child["id"], parent["id"], ()),
        "bad field": (ACCOUNTS, parent["id"], child["id"], ("version",)),
    }[case]
    return parent, arguments


@pytest.mark.parametrize("case", REFUSED)
def test_refused_merges_write_nothing(case: str, crm: CRM, make: Maker, db: str) -> None:
    parent, arguments = _refused_merge(case, make)
    before = len(crm.history())
    with pytest.raises(MergeRefused) as refused:
        merge(crm, *arguments)
    assert str(refused.value)
    assert len(crm.history()) == before
    assert crm.get(ACCOUNTS, parent["id"]) == parent
    assert CRM.open(db).get(ACCOUNTS, parent["id"]) == parent


@pytest.mark.parametrize("case", REFUSED)
def test_refused_merges_add_no_journal_entry(
    case: str, crm: CRM, make: Maker, db_path: Path
) -> None:
    _parent, arguments = _refused_merge(case, make)
    before = journal_lines(db_path)
    with pytest.raises(MergeRefused):
        merge(crm, *arguments)
    assert journal_lines(db_path) == before


def _changed_since_read(crm: CRM, make: Maker, db: str) -> Batch:
    """A merge planned before another user changed one of the two records."""
    keep, other = make.account("Acme"), make.account("Acme")
    plan = plan_merge(crm, ACCOUNTS, keep["id"], other["id"])
    elsewhere = CRM.open(db, user="bob")
    elsewhere.update(ACCOUNTS, other["id"], {"phone": "+47 3333 3333"})
    elsewhere.close()
    return plan.batch


def test_a_record_changed_since_it_was_read_refuses_the_merge(
    crm: CRM, make: Maker, db: str
) -> None:
    batch = _changed_since_read(crm, make, db)
    before = len(crm.history())
    with pytest.raises(ConflictError):
        crm.apply(batch)
    assert len(crm.history()) == before
    assert len(CRM.open(db).trash()) == 0


def test_a_refused_merge_adds_no_journal_entry(crm: CRM, make: Maker, db_path: Path) -> None:
    batch = _changed_since_read(crm, make, str(db_path))
    before = journal_lines(db_path)
    with pytest.raises(ConflictError):
        crm.apply(batch)
    assert journal_lines(db_path) == before
