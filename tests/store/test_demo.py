"""Tests for store.demo: the demo data is complete, valid, deterministic and lived-in."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from ulid import ULID

from store import demo
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    ActivityStatus,
    ActivityType,
    Relationship,
    validate_fields,
)
from store.service import CRM
from store.text import fold

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NOW_ISO = "2026-11-27T10:00:00Z"
Tables = dict[str, dict[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def small() -> Tables:
    return demo.generate("S", seed=7, now=NOW, user="alice")


def test_small_has_the_exact_counts(small: Tables) -> None:
    assert {table: len(records) for table, records in small.items()} == {
        ACCOUNTS: 100,
        CONTACTS: 500,
        ACTIVITIES: 2_500,
    }


def test_same_seed_same_data_other_seed_other_data(small: Tables) -> None:
    assert demo.generate("S", seed=7, now=NOW, user="alice") == small
    assert demo.generate("s", seed=8, now=NOW, user="alice") != small


def test_same_seed_gives_the_records_it_gave_before_the_split(small: Tables) -> None:
    # Digests of generate("S", seed, NOW, "alice") taken from the single-file store/demo.py:
    # benchmarks and bug reports name a seed, so moving or reordering the pools must not
    # change what a seed gives. Change these only on purpose, with the reason in the commit.
    def digest(tables: Tables) -> str:
        options = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS  # table names are Table members
        return hashlib.sha256(orjson.dumps(tables, option=options)).hexdigest()

    assert digest(small) == "029ea41e537327909caa40a61c91761ab77e3b52dd8e93b9c119c2c7576d1311"
    assert digest(demo.generate("S", seed=11, now=NOW, user="alice")) == (
        "3fa60e2ab92c0afa067d9455a4f96c9ae7bc02f63dbee07b6a71dee9e1724fe0"
    )


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="XL"):
        demo.generate("XL")


def test_fill_writes_a_database_that_checks_clean(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    crm = CRM.open(path, user="alice")
    counts = demo.fill(crm, "S", seed=3, now=NOW)
    assert counts == {ACCOUNTS: 100, CONTACTS: 500, ACTIVITIES: 2_500}
    assert crm.check() == []
    reopened = CRM.open(path, user="bob")
    assert reopened.count(ACTIVITIES) == 2_500
    assert reopened.check() == []
    assert reopened.agenda("alice", now=NOW).overdue  # the user has work waiting


def test_records_are_complete_and_valid(small: Tables) -> None:
    for table, records in small.items():
        for rid, record in records.items():
            assert record["id"] == rid
            assert validate_fields(table, record) == []
            assert record["version"] == 1
            assert record["created_at"] == record["modified_at"] <= NOW_ISO
            assert record["created_by"] == record["modified_by"]
            assert all(value not in ("", None) for value in record.values()), record
            # A real ULID whose time is the creation time.
            assert str(ULID.from_str(rid)) == rid
            assert (
                ULID.from_str(rid).datetime.strftime("%Y-%m-%dT%H:%M:%SZ") == record["created_at"]
            )


def test_ulid_text_matches_python_ulid() -> None:
    rng = random.Random(1)
    for _ in range(2_000):
        value = rng.getrandbits(128)
        assert demo._ulid_text(value) == str(ULID.from_int(value))


def test_names_are_international(small: Tables) -> None:
    contacts = list(small[CONTACTS].values())
    names = [f"{c.get('first_name', '')} {c.get('last_name', '')}" for c in contacts]
    accented = [n for n in names if fold(n) != n.lower()]
    assert len(accented) > len(names) // 5
    assert any(not n.isascii() and not fold(n).isascii() for n in names)  # non-Latin scripts
    countries = Counter(a.get("address_country") for a in small[ACCOUNTS].values())
    assert len(countries) >= 8


def test_b2b_and_b2c_contacts(small: Tables) -> None:
    accounts = small[ACCOUNTS]
    contacts = list(small[CONTACTS].values())
    private = [c for c in contacts if "account_id" not in c]
    assert 0.15 < len(private) / len(contacts) < 0.25
    assert all(c["account_id"] in accounts for c in contacts if "account_id" in c)
    primaries = [a for a in accounts.values() if "primary_contact_id" in a]
    assert primaries
    for account in primaries:
        assert small[CONTACTS][account["primary_contact_id"]]["account_id"] == account["id"]


def test_every_relationship_and_some_hierarchies(small: Tables) -> None:
    accounts = small[ACCOUNTS]
    assert {a["relationship"] for a in accounts.values()} == {r.value for r in Relationship}

    def depth(account: dict[str, Any]) -> int:
        seen = 0
        while account.get("parent_account_id"):
            account = accounts[account["parent_account_id"]]
            seen += 1
            assert seen < 5  # no cycles
        return seen

    depths = Counter(depth(a) for a in accounts.values())
    assert depths[1] >= 2 and depths[2] >= 1


def test_activities_of_every_kind_and_state(small: Tables) -> None:
    activities = list(small[ACTIVITIES].values())
    assert {a["type"] for a in activities} == {t.value for t in ActivityType}
    assert {a["status"] for a in activities} == {s.value for s in ActivityStatus}
    tasks = [a for a in activities if a["type"] == ActivityType.TASK]
    overdue = [
        t
        for t in tasks
        if t["status"] == "open" and t.get("due_at") and t["due_at"] < NOW_ISO[: len(t["due_at"])]
    ]
    assert overdue
    assert all(t.get("completed_at") for t in tasks if t["status"] == "completed")
    assert not any("completed_at" in t for t in tasks if t["status"] != "completed")
    upcoming = [a for a in activities if (a.get("due_at") or a.get("start_at") or "") > NOW_ISO]
    assert upcoming and all(a["status"] in ("open", "canceled") for a in upcoming)
    meetings = [a for a in activities if a["type"] == ActivityType.APPOINTMENT]
    assert all(a["start_at"] <= a["end_at"] for a in meetings)
    assert any(a.get("all_day") and len(a["start_at"]) == 10 for a in meetings)
    calls = [a for a in activities if a["type"] == ActivityType.PHONE_CALL]
    assert all(c.get("direction") for c in calls) and any(c.get("phone_number") for c in calls)
    emails = [a for a in activities if a["type"] == ActivityType.EMAIL]
    assert any(e.get("email_from") and e.get("email_to") for e in emails)
    # Spread over two years of history.
    assert min(a["created_at"] for a in activities) < "2025-02-01"
    # Never before the record they are about.
    records = {**small[ACCOUNTS], **small[CONTACTS]}
    assert all(a["created_at"] >= records[a["regarding_id"]]["created_at"] for a in activities)


def test_owners_are_the_user_and_colleagues(small: Tables) -> None:
    owners = Counter(r["owner"] for records in small.values() for r in records.values())
    assert owners.most_common(1)[0][0] == "alice"
    assert len(owners) == 5


def test_key_accounts_are_busy(small: Tables) -> None:
    per_record = Counter(a["regarding_id"] for a in small[ACTIVITIES].values())
    busiest = per_record.most_common(2)
    assert all(rid in small[ACCOUNTS] and count >= 80 for rid, count in busiest)
