"""A search's ids as the list screen reads them, on both engines: in order, by position, by
slice, `in` and `index` (the cursor kept on a record), and a count that says when it is only a
floor (a server counts matches up to COUNT_CAP, as Dynamics says "5000+")."""

from __future__ import annotations

from store.engine import counted_only_so_far
from store.model import CONTACTS
from store.queries import ListQuery
from store.service import CRM, Batch, Create
from store.text import fold

MANY = 1005  # more than the server counts exactly


def _fill(crm: CRM) -> list[str]:
    names = [f"Ana {n:04d}" for n in range(MANY)]
    crm.apply(
        Batch(creates=[Create(CONTACTS, {"first_name": "Ana", "last_name": n[4:]}) for n in names])
    )
    crm.create(CONTACTS, {"first_name": "Bruno", "last_name": "Zé"})
    return names


def test_many_matches_read_in_order_with_a_count_that_says_when_it_is_a_floor(crm: CRM) -> None:
    names = _fill(crm)
    ids = crm.search(CONTACTS, ListQuery(text="ana"))
    everything = list(ids)  # iterating gives every match, capped count or not
    assert len(everything) == MANY
    shown = [fold(r["last_name"]) for r in crm.records(CONTACTS, everything)]
    assert shown == [n[4:] for n in names]
    if counted_only_so_far(ids):  # the server
        assert len(ids) == 1000
    else:
        assert len(ids) == MANY
    assert ids[:3] == everything[:3] and ids[998] == everything[998]
    assert [ids[i] for i in range(995, 1000)] == everything[995:1000]


def test_position_of_a_record_in_a_search_in_either_order(crm: CRM) -> None:
    _fill(crm)
    for descending in (False, True):
        ids = crm.search(CONTACTS, ListQuery(text="ana", descending=descending))
        everything = list(ids)
        for position in (0, 1, 417, 999):
            record_id = everything[position]
            assert record_id in ids
            assert ids.index(record_id) == position
        bruno = crm.search(CONTACTS, ListQuery(text="bruno"))[0]
        assert bruno not in ids
        assert "no-such-id" not in ids


def test_a_whole_search_read_as_records_keeps_its_order(crm: CRM) -> None:
    _fill(crm)
    ids = crm.search(CONTACTS, ListQuery(text="ana 009", descending=True))
    records = crm.records(CONTACTS, ids)
    assert [r["id"] for r in records] == list(ids)
    assert [r["last_name"] for r in records[:3]] == ["0099", "0098", "0097"]


def test_duplicates_of_many_are_each_ones_duplicates(crm: CRM) -> None:
    crm.create(CONTACTS, {"first_name": "João", "last_name": "Silva", "email": "js@x.example"})
    crm.create(CONTACTS, {"first_name": "Ana", "last_name": "Souza"})
    many = [
        {"first_name": "Joao", "last_name": "SILVA"},  # the same name, folded
        {"first_name": "Zé", "email": "JS@x.example"},  # the same email, any case
        {"first_name": "Ana", "last_name": "Souza", "email": "ana@y.example"},
        {"first_name": "Nobody"},
        {},
    ]
    assert crm.duplicates_of_many(CONTACTS, many) == [crm.duplicates(CONTACTS, m) for m in many]
    assert [len(found) for found in crm.duplicates_of_many(CONTACTS, many)] == [1, 1, 1, 0, 0]
