"""Searches, timelines, the agenda and the account hierarchy (store.queries via the CRM)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.queries import ListQuery, TimelineQuery
from store.service import CRM


def names(crm: CRM, table: str, ids: list[str]) -> list[str]:
    key = "name" if table == ACCOUNTS else "last_name"
    return [r[key] for r in crm.records(table, ids)]


def search(crm: CRM, table: str, text: str = "", **kw) -> list[str]:
    return names(crm, table, crm.search(table, ListQuery(text=text, **kw)))


# ---------------------------------------------------------------- search


@pytest.fixture
def people(crm, make):
    acme = make.account("Acme Corporation", address_city="São Paulo", relationship="customer")
    zeta = make.account("Zeta Ltd", address_city="Oslo", relationship="prospect", status="inactive")
    make.account("Ørsted Energi", address_city="Århus", relationship="customer")
    make.account("Beta Bolts", relationship="vendor", email="sales@beta.test")
    make.contact("João", "Silva", account_id=acme["id"], address_city="Lisboa")
    make.contact("Zoë", "Adams", account_id=zeta["id"], email="zoe@zeta.test")
    make.contact("Marie", "Curie", address_city="Paris", status="inactive")
    make.contact("Émile", "Zola", account_id=acme["id"], phone="+33 1 23 45 67 89")
    return {"acme": acme, "zeta": zeta}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("joao", ["Silva"]),
        ("JOÃO", ["Silva"]),
        ("João Silva", ["Silva"]),
        ("silva joao", ["Silva"]),
        ("zoe", ["Adams"]),
        ("emile", ["Zola"]),
        ("EMILE zola", ["Zola"]),
        ("curie paris", ["Curie"]),
        ("zeta.test", ["Adams"]),
        ("45 67", ["Zola"]),
        ("joao curie", []),
        ("nobody", []),
    ],
)
def test_contact_search_is_case_and_accent_insensitive_and_multi_word(crm, people, text, expected):
    assert search(crm, CONTACTS, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sao paulo", ["Acme Corporation"]),
        ("SÃO PAULO", ["Acme Corporation"]),
        ("paulo acme", ["Acme Corporation"]),
        ("orsted", ["Ørsted Energi"]),
        ("arhus", ["Ørsted Energi"]),
        ("beta.test", ["Beta Bolts"]),
        ("acme oslo", []),
        ("", ["Acme Corporation", "Beta Bolts", "Ørsted Energi", "Zeta Ltd"]),
    ],
)
def test_account_search(crm, people, text, expected):
    assert search(crm, ACCOUNTS, text) == expected


def test_contacts_are_found_by_their_accounts_name(crm, people):
    # In display-name order: Émile Zola before João Silva.
    assert search(crm, CONTACTS, "acme") == ["Zola", "Silva"]
    assert search(crm, CONTACTS, "acme joao") == ["Silva"]
    assert search(crm, CONTACTS, "zeta") == ["Adams"]


def test_contacts_are_found_by_the_new_name_after_renaming_the_account(crm, people, db):
    crm.update(ACCOUNTS, people["acme"]["id"], {"name": "Globex"})
    assert search(crm, CONTACTS, "acme") == []
    assert search(crm, CONTACTS, "globex") == ["Zola", "Silva"]
    # Renamed by another process: seen after refresh() and after a reopen.
    bob = CRM.open(db, user="bob")
    bob.update(ACCOUNTS, people["acme"]["id"], {"name": "Initech"})
    crm.refresh()
    assert search(crm, CONTACTS, "globex") == []
    assert search(crm, CONTACTS, "initech") == ["Zola", "Silva"]
    assert search(CRM.open(db), CONTACTS, "initech") == ["Zola", "Silva"]


def test_contacts_follow_a_move_to_another_account(crm, people):
    silva = crm.search(CONTACTS, ListQuery(text="silva"))[0]
    crm.update(CONTACTS, silva, {"account_id": people["zeta"]["id"]})
    assert search(crm, CONTACTS, "acme") == ["Zola"]
    assert search(crm, CONTACTS, "zeta") == ["Silva", "Adams"]
    assert search(crm, CONTACTS, account_id=people["zeta"]["id"]) == ["Silva", "Adams"]


def test_search_sees_new_updated_and_deleted_records(crm, people, make):
    assert search(crm, ACCOUNTS, "initech") == []
    initech = make.account("Initech")
    assert search(crm, ACCOUNTS, "initech") == ["Initech"]
    crm.update(ACCOUNTS, initech["id"], {"name": "Initrode"})
    assert search(crm, ACCOUNTS, "initech") == []
    assert search(crm, ACCOUNTS, "initrode") == ["Initrode"]
    crm.delete(ACCOUNTS, initech["id"])
    assert search(crm, ACCOUNTS, "initrode") == []


def test_filter_by_relationship_and_status(crm, people):
    assert search(crm, ACCOUNTS, relationship="customer") == ["Acme Corporation", "Ørsted Energi"]
    assert search(crm, ACCOUNTS, "acme", relationship="customer") == ["Acme Corporation"]
    assert search(crm, ACCOUNTS, relationship="partner") == []
    assert search(crm, ACCOUNTS, status="inactive") == ["Zeta Ltd"]
    assert search(crm, ACCOUNTS, status="active") == [
        "Acme Corporation",
        "Beta Bolts",
        "Ørsted Energi",
    ]
    assert search(crm, CONTACTS, status="inactive") == ["Curie"]
    assert search(crm, CONTACTS, "a", status="active") == ["Zola", "Silva", "Adams"]


def test_sort_by_name_ascending_and_descending(crm, people):
    # By display name, accent-insensitive: Émile Zola, João Silva, Marie Curie, Zoë Adams.
    assert search(crm, CONTACTS) == ["Zola", "Silva", "Curie", "Adams"]
    assert search(crm, CONTACTS, sort="name") == ["Zola", "Silva", "Curie", "Adams"]
    assert search(crm, CONTACTS, sort="name", descending=True) == [
        "Adams",
        "Curie",
        "Silva",
        "Zola",
    ]
    assert search(crm, ACCOUNTS, descending=True) == [
        "Zeta Ltd",
        "Ørsted Energi",
        "Beta Bolts",
        "Acme Corporation",
    ]


def test_sort_by_city(crm, people):
    # Accent-insensitive (Århus sorts as "arhus"), records without a city last.
    assert search(crm, ACCOUNTS, sort="address_city") == [
        "Ørsted Energi",
        "Zeta Ltd",
        "Acme Corporation",
        "Beta Bolts",
    ]
    assert search(crm, CONTACTS, sort="address_city") == ["Silva", "Curie", "Zola", "Adams"]
    descending = search(crm, ACCOUNTS, sort="address_city", descending=True)
    # Reversed, but records without a city stay last.
    assert descending == ["Acme Corporation", "Zeta Ltd", "Ørsted Energi", "Beta Bolts"]


def test_sort_contacts_by_account(crm, people):
    ids = crm.search(CONTACTS, ListQuery(sort="account"))
    accounts = [crm.name_of(ACCOUNTS, r.get("account_id")) for r in crm.records(CONTACTS, ids)]
    assert accounts == ["Acme Corporation", "Acme Corporation", "Zeta Ltd", ""]
    assert names(crm, CONTACTS, ids)[:2] == ["Zola", "Silva"]  # Émile before João
    descending = crm.search(CONTACTS, ListQuery(sort="account", descending=True))
    assert descending == ids[:3][::-1] + ids[3:]  # the contact without an account stays last


def test_sort_by_modified_at(crm, people):
    zola = crm.search(CONTACTS, ListQuery(text="zola"))[0]
    crm.update(CONTACTS, zola, {"job_title": "Writer", "modified_at": "ignored"})
    ids = crm.search(CONTACTS, ListQuery(sort="modified_at"))
    stamps = [r["modified_at"] for r in crm.records(CONTACTS, ids)]
    assert stamps == sorted(stamps)


# ---------------------------------------------------------------- timeline


@pytest.fixture
def history(crm, make):
    acme = make.account("Acme")
    wile = make.contact("Wile", "Coyote", account_id=acme["id"])
    items = {
        "old_note": make.activity(
            acme,
            type="note",
            subject="",
            description="Old note about rockets",
            start_at="2026-01-01T09:00:00Z",
        ),
        "call": make.activity(
            acme, type="phone_call", subject="Called about Anvils", start_at="2026-02-01T09:00:00Z"
        ),
        "task": make.activity(acme, type="task", subject="Send quote", due_at="2026-03-01"),
        "meeting": make.activity(
            acme, type="appointment", subject="Demo at São Paulo", start_at="2026-04-01T09:00:00Z"
        ),
        "wile_mail": make.activity(
            wile, type="email", subject="Re: anvils", start_at="2026-05-01T09:00:00Z"
        ),
    }
    return acme, wile, items


def ids_of(records):
    return [r["id"] for r in records]


def test_timeline_is_newest_first(crm, history):
    acme, wile, items = history
    expected = [items[k]["id"] for k in ("meeting", "task", "call", "old_note")]
    assert ids_of(crm.timeline(acme["id"])) == expected
    assert ids_of(crm.timeline(wile["id"])) == [items["wile_mail"]["id"]]


def test_timeline_includes_contacts_when_asked(crm, history):
    acme, _wile, items = history
    timeline = crm.timeline(acme["id"], TimelineQuery(include_contacts=True))
    assert ids_of(timeline) == [
        items[k]["id"] for k in ("wile_mail", "meeting", "task", "call", "old_note")
    ]


def test_timeline_filters(crm, history):
    acme, _wile, items = history
    by_type = crm.timeline(acme["id"], TimelineQuery(types=frozenset({"note", "phone_call"})))
    assert ids_of(by_type) == [items["call"]["id"], items["old_note"]["id"]]
    by_status = crm.timeline(acme["id"], TimelineQuery(statuses=frozenset({"open"})))
    assert ids_of(by_status) == [items["meeting"]["id"], items["task"]["id"]]
    crm.set_status(items["task"]["id"], "completed")
    by_status = crm.timeline(acme["id"], TimelineQuery(statuses=frozenset({"open"})))
    assert ids_of(by_status) == [items["meeting"]["id"]]
    by_text = crm.timeline(acme["id"], TimelineQuery(text="ANVILS", include_contacts=True))
    assert ids_of(by_text) == [items["wile_mail"]["id"], items["call"]["id"]]
    assert ids_of(crm.timeline(acme["id"], TimelineQuery(text="sao paulo"))) == [
        items["meeting"]["id"]
    ]
    assert ids_of(crm.timeline(acme["id"], TimelineQuery(text="rockets note"))) == [
        items["old_note"]["id"]
    ]
    combined = TimelineQuery(types=frozenset({"email"}), text="anvils", include_contacts=True)
    assert ids_of(crm.timeline(acme["id"], combined)) == [items["wile_mail"]["id"]]


def test_timeline_follows_moves_and_deletes(crm, history):
    acme, wile, items = history
    crm.update(
        ACTIVITIES, items["call"]["id"], {"regarding_type": "contact", "regarding_id": wile["id"]}
    )
    assert items["call"]["id"] not in ids_of(crm.timeline(acme["id"]))
    assert ids_of(crm.timeline(wile["id"])) == [items["wile_mail"]["id"], items["call"]["id"]]
    crm.delete(ACTIVITIES, items["wile_mail"]["id"])
    assert ids_of(crm.timeline(wile["id"])) == [items["call"]["id"]]


# ---------------------------------------------------------------- agenda


def agenda_ids(buckets):
    return {
        name: {a["subject"] for a in getattr(buckets, name)}
        for name in ("overdue", "today", "upcoming", "no_date")
    }


def fill_agenda(crm, make, bob):
    acme = make.account("Acme")
    plan = {
        # Tasks by due date or moment (UTC), relative to 2026-03-10 12:00 local.
        "task yesterday": dict(type="task", due_at="2026-03-09"),
        "task today": dict(type="task", due_at="2026-03-10"),
        "task tomorrow": dict(type="task", due_at="2026-03-11"),
        "task no date": dict(type="task"),
        "appt next week": dict(type="appointment", start_at="2026-03-17T09:00:00Z"),
    }
    for subject, fields in plan.items():
        make.activity(acme, subject=subject, **fields)
    make.activity(acme, subject="done task", type="task", due_at="2026-03-01", status="completed")
    make.activity(
        acme,
        subject="canceled appt",
        type="appointment",
        start_at="2026-03-01T09:00:00Z",
        status="canceled",
    )
    make.activity(acme, subject="a call", type="phone_call", start_at="2026-03-01T09:00:00Z")
    bob.create(
        ACTIVITIES,
        {
            "type": "task",
            "subject": "bob overdue",
            "due_at": "2026-02-01",
            "regarding_type": "account",
            "regarding_id": acme["id"],
        },
    )
    bob.create(
        ACTIVITIES,
        {
            "type": "appointment",
            "subject": "bob upcoming",
            "start_at": "2026-04-01T09:00:00Z",
            "regarding_type": "account",
            "regarding_id": acme["id"],
        },
    )
    crm.refresh()
    return acme


@pytest.mark.parametrize(
    "zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
def test_agenda_buckets_for_one_owner_and_everyone(crm, make, db, local_tz, zone):
    local_tz(zone)
    bob = CRM.open(db, user="bob")
    fill_agenda(crm, make, bob)
    now = datetime(2026, 3, 10, 12, 0).astimezone()
    mine = agenda_ids(crm.agenda("alice", now=now))
    assert mine == {
        "overdue": {"task yesterday"},
        "today": {"task today"},
        "upcoming": {"task tomorrow", "appt next week"},
        "no_date": {"task no date"},
    }
    everyone = agenda_ids(crm.agenda(None, now=now))
    assert everyone["overdue"] == {"task yesterday", "bob overdue"}
    assert everyone["upcoming"] == {"task tomorrow", "appt next week", "bob upcoming"}
    assert agenda_ids(crm.agenda("bob", now=now)) == {
        "overdue": {"bob overdue"},
        "today": set(),
        "upcoming": {"bob upcoming"},
        "no_date": set(),
    }


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_agenda_timed_items_around_now(crm, make, local_tz, zone):
    local_tz(zone)
    acme = make.account("Acme")
    now = datetime(2026, 3, 10, 12, 0).astimezone()
    local = {  # subject -> local wall time on 2026-03-10 (or the day before / after)
        "task this morning": ("task", datetime(2026, 3, 10, 9, 0)),
        "task this evening": ("task", datetime(2026, 3, 10, 23, 59, 59)),
        "task at midnight": ("task", datetime(2026, 3, 11, 0, 0)),
        "appt this morning": ("appointment", datetime(2026, 3, 10, 8, 0)),
        "appt at midnight": ("appointment", datetime(2026, 3, 10, 0, 0)),
        "appt last night": ("appointment", datetime(2026, 3, 9, 23, 59)),
        "appt tonight": ("appointment", datetime(2026, 3, 10, 20, 0)),
    }
    for subject, (kind, when) in local.items():
        iso = when.astimezone().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # local wall
        field = "due_at" if kind == "task" else "start_at"
        make.activity(acme, type=kind, subject=subject, **{field: iso})
    buckets = agenda_ids(crm.agenda("alice", now=now))
    assert buckets["overdue"] == {"task this morning", "appt last night"}
    assert buckets["today"] == {
        "task this evening",
        "appt this morning",
        "appt at midnight",
        "appt tonight",
    }
    assert buckets["upcoming"] == {"task at midnight"}


def test_agenda_sorts_each_bucket_and_follows_status_changes(crm, make, local_tz):
    local_tz("UTC")
    acme = make.account("Acme")
    now = datetime(2026, 3, 10, 12, 0).astimezone()
    later = make.activity(acme, type="task", subject="later", due_at="2026-03-20")
    sooner = make.activity(acme, type="task", subject="sooner", due_at="2026-03-12")
    between = make.activity(
        acme, type="appointment", subject="between", start_at="2026-03-15T10:00:00Z"
    )
    assert ids_of(crm.agenda(now=now).upcoming) == [sooner["id"], between["id"], later["id"]]
    crm.set_status(sooner["id"], "completed")
    assert ids_of(crm.agenda(now=now).upcoming) == [between["id"], later["id"]]
    crm.set_status(sooner["id"], "open")
    assert ids_of(crm.agenda(now=now).upcoming)[0] == sooner["id"]
    crm.update(ACTIVITIES, later["id"], {"owner": "dave"})
    assert later["id"] not in ids_of(crm.agenda("alice", now=now).upcoming)
    assert ids_of(crm.agenda("dave", now=now).upcoming) == [later["id"]]


# ---------------------------------------------------------------- hierarchy


@pytest.fixture
def group(crm, make):
    top = make.account("Top Holding")
    europe = make.account("Europe", parent_account_id=top["id"])
    asia = make.account("Asia", parent_account_id=top["id"])
    norway = make.account("Norway", parent_account_id=europe["id"])
    oslo = make.account("Oslo Office", parent_account_id=norway["id"])
    france = make.account("France", parent_account_id=europe["id"])
    make.account("Unrelated")
    return dict(top=top, europe=europe, asia=asia, norway=norway, oslo=oslo, france=france)


def shape(node):
    return (node.record["name"], [shape(child) for child in node.children])


def test_parent_chain_nearest_first(crm, group):
    chain = crm.parent_chain(group["oslo"]["id"])
    assert [r["name"] for r in chain] == ["Norway", "Europe", "Top Holding"]
    assert crm.parent_chain(group["top"]["id"]) == []
    assert crm.parent_chain("no-such-id") == []


def test_subsidiaries_sorted_by_name(crm, group):
    assert [r["name"] for r in crm.subsidiaries(group["top"]["id"])] == ["Asia", "Europe"]
    assert [r["name"] for r in crm.subsidiaries(group["europe"]["id"])] == ["France", "Norway"]
    assert crm.subsidiaries(group["oslo"]["id"]) == []


def test_hierarchy_from_the_top_whichever_account_is_asked(crm, group):
    expected = (
        "Top Holding",
        [("Asia", []), ("Europe", [("France", []), ("Norway", [("Oslo Office", [])])])],
    )
    for key in ("top", "europe", "oslo", "asia"):
        assert shape(crm.hierarchy(group[key]["id"])) == expected
    assert crm.hierarchy("no-such-id") is None


def test_hierarchy_follows_changes(crm, group, db):
    crm.update(ACCOUNTS, group["norway"]["id"], {"parent_account_id": group["asia"]["id"]})
    assert [r["name"] for r in crm.parent_chain(group["oslo"]["id"])] == [
        "Norway",
        "Asia",
        "Top Holding",
    ]
    assert [r["name"] for r in crm.subsidiaries(group["europe"]["id"])] == ["France"]
    bob = CRM.open(db, user="bob")
    bob.update(ACCOUNTS, group["europe"]["id"], {"parent_account_id": None})
    crm.refresh()
    assert shape(crm.hierarchy(group["france"]["id"])) == ("Europe", [("France", [])])
    assert shape(crm.hierarchy(group["oslo"]["id"])) == (
        "Top Holding",
        [("Asia", [("Norway", [("Oslo Office", [])])])],
    )


def test_contacts_of_account(crm, group, make):
    make.contact("Zed", "Last", account_id=group["oslo"]["id"])
    make.contact("Ann", "First", account_id=group["oslo"]["id"])
    assert [r["first_name"] for r in crm.contacts_of(group["oslo"]["id"])] == ["Ann", "Zed"]
    assert crm.contacts_of(group["top"]["id"]) == []
