"""What the screens ask of a store (a list query, a timeline query, the agenda's buckets, a
hierarchy's tree) and the pieces both engines compute alike: the derived columns of a record
(folded search text, list order, name and email keys, the activity's date and whether it is on
the agenda), the agenda's bucketing and a column sort."""

from __future__ import annotations

from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    ValuesView,
)
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    ActivityStatus,
    ActivityType,
    Record,
    activity_when,
    display_name,
)
from store.text import fold, key_of_folded

T = TypeVar("T")

# The fields a list search looks in besides the name (a contact's account name is added too).
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: ("account_number", "email", "phone", "address_city", "website"),
    CONTACTS: ("email", "phone", "mobile", "address_city"),
}
SORTABLE = {
    ACCOUNTS: ("name", "relationship", "phone", "email", "address_city", "owner", "modified_at"),
    CONTACTS: ("name", "account", "phone", "email", "address_city", "owner", "modified_at"),
}


@dataclass
class ListQuery:
    """What a list screen asks for: search text, filters and a sort."""

    text: str = ""
    relationship: str | None = None
    status: str | None = None
    account_id: str | None = None
    sort: str = "name"
    descending: bool = False


@dataclass
class TimelineQuery:
    types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    text: str = ""
    include_contacts: bool = False


@dataclass
class AgendaBuckets:
    """Open tasks and appointments by when they fall, each bucket in its order: lists, or
    sequences read a page at a time (a file's index at 100,000 open activities)."""

    overdue: Sequence[Record] = field(default_factory=list)
    today: Sequence[Record] = field(default_factory=list)
    upcoming: Sequence[Record] = field(default_factory=list)
    no_date: Sequence[Record] = field(default_factory=list)


PAGE = 200  # rows per query when a long answer is read as it is shown
COUNT_CAP = 1000  # a search's matches are counted this far (`Paged.capped`)


class Paged(Sequence[T]):
    """A query's answer in its order, read a page at a time as it is asked for: a list
    shows twenty rows of 500,000. An engine gives the page and the count; with `cap`, the
    count stops there (`len` is then a floor and `capped` says so; a list says "1,000+", as
    Dynamics says "5000+"), while iterating still gives every row."""

    cap: int | None = None

    def __init__(self) -> None:
        self._pages: dict[int, list[T]] = {}
        self._length: int | None = None
        self.capped = False

    def fetch(self, number: int) -> list[T]:
        """Page `number` (PAGE rows from number * PAGE)."""
        raise NotImplementedError

    def count(self, limit: int | None) -> int:
        """How many rows, counting no further than `limit`."""
        raise NotImplementedError

    def _page(self, number: int) -> list[T]:
        page = self._pages.get(number)
        if page is None:
            page = self._pages[number] = self.fetch(number)
            if len(page) < PAGE and self._length is None:  # the end: counted for free
                self._settle(number * PAGE + len(page))
        return page

    def _settle(self, found: int) -> None:
        self.capped = self.cap is not None and found > self.cap
        self._length = min(found, self.cap) if self.cap is not None else found

    def __len__(self) -> int:
        if self._length is None:
            self._settle(self.count(None if self.cap is None else self.cap + 1))
        assert self._length is not None
        return self._length

    def __eq__(self, other: object) -> bool:
        # Equal to the list of the same rows, as a file engine's list answer is.
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # pages fill in: like a list, not hashable

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            if index.start in (None, 0) and index.step in (None, 1) and index.stop is not None:
                found: list[T] = []  # the first N: no count needed
                for number in range(0, max(0, index.stop) // PAGE + 1):
                    page = self._page(number)
                    found += page
                    if len(page) < PAGE:
                        break
                return found[: max(0, index.stop)]
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if index < 0 or (self._length is not None and index >= self._length):
            raise IndexError(index)
        page = self._page(index // PAGE)
        if index % PAGE >= len(page):
            raise IndexError(index)
        return page[index % PAGE]

    def __iter__(self) -> Iterator[T]:
        number = 0
        while True:
            page = self._page(number)
            yield from page
            if len(page) < PAGE:
                return
            number += 1


class _StreamedItems(ItemsView[str, Record]):
    def __init__(self, table: QueriedTable) -> None:
        super().__init__(table)
        self.table = table

    def __iter__(self) -> Iterator[tuple[str, Record]]:
        return self.table.stream()


class _StreamedValues(ValuesView[Record]):
    def __init__(self, table: QueriedTable) -> None:
        super().__init__(table)
        self.table = table

    def __iter__(self) -> Iterator[Record]:
        return (record for _rid, record in self.table.stream())


class QueriedTable(Mapping[str, Record]):
    """A table an engine reads as asked, as a read-only mapping: a lookup is one query,
    iteration streams the table by id (a page at a time). The engine gives `get` (one
    record or None), `count` and `stream` (id and record, in id order), and `ids` when the
    ids alone can be read without the records."""

    def __init__(
        self,
        get: Callable[[str], Record | None],
        count: Callable[[], int],
        stream: Callable[[], Iterator[tuple[str, Record]]],
        ids: Callable[[], Iterator[str]] | None = None,
    ) -> None:
        self._get, self._count, self.stream, self._ids = get, count, stream, ids

    def __getitem__(self, record_id: str) -> Record:
        record = self._get(record_id)
        if record is None:
            raise KeyError(record_id)
        return record

    def get(self, record_id: str, default: Any = None) -> Any:  # one query, not two
        record = self._get(record_id)
        return default if record is None else record

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and self._get(record_id) is not None

    def __iter__(self) -> Iterator[str]:
        if self._ids is not None:  # no record parsed to list the ids
            return self._ids()
        return (rid for rid, _record in self.stream())

    def __len__(self) -> int:
        return self._count()

    def items(self) -> ItemsView[str, Record]:
        return _StreamedItems(self)

    def values(self) -> ValuesView[Record]:
        return _StreamedValues(self)


def position_in(items: Sequence[Record], record_id: str) -> int | None:
    """Where the record with `record_id` is in `items` (a paged bucket counts, a list is
    walked), or None."""
    position_of = getattr(items, "position_of", None)
    if position_of is not None:
        found: int | None = position_of(record_id)
        return found
    return next((i for i, item in enumerate(items) if item["id"] == record_id), None)


@dataclass
class TreeNode:
    record: Record
    children: list[TreeNode] = field(default_factory=list)


def derived_columns(table: str, record: Record) -> dict[str, Any]:
    """What the queries read besides the document, computed as the embedded indexes do."""
    if table == ACTIVITIES:
        return {
            "regarding_id": record.get("regarding_id"),
            "filed_at": activity_when(record),
            "open_agenda": record.get("status", "open") == ActivityStatus.OPEN
            and record.get("type") in (ActivityType.TASK, ActivityType.APPOINTMENT),
            "search": fold(f"{record.get('subject') or ''} {record.get('description') or ''}"),
        }
    folded = fold(display_name(table, record))
    columns: dict[str, Any] = {
        "sort_name": folded,
        "name_key": key_of_folded(folded),
        "email_key": record["email"].casefold() if record.get("email") else None,
        "inactive": record.get("status", "active") != "active",
    }
    own = folded + " " + haystack(record, SEARCH_FIELDS[table])
    if table == CONTACTS:
        columns["search_own"] = own
    else:
        columns["search"] = own
    return columns


def contact_search(own: str, account_folded: str | None) -> str:
    return own + " " + account_folded if account_folded else own


def order_by_column(
    ids: list[str], value_of: Callable[[str], str | None], column: str, descending: bool
) -> list[str]:
    """`ids` (in name order) sorted by a column's value, folded (but `modified_at`); records
    without a value stay last either way, in name order."""

    def key(rid: str) -> tuple[int, str]:
        value = value_of(rid) or ""
        return (0 if value else 1, fold(value) if column != "modified_at" else value)

    ordered = sorted(ids, key=key)
    if descending:
        filled = [r for r in ordered if key(r)[0] == 0]
        ordered = filled[::-1] + ordered[len(filled) :]
    return ordered


def bucket_agenda(
    items: Iterable[Record],
    owner: str | None,
    now_iso: str,
    today_end_iso: str,
    today_start_iso: str,
    today: str | None = None,
) -> AgendaBuckets:
    """Open tasks and appointments by when they fall: overdue, today, upcoming, undated.

    `today` is the local date (YYYY-MM-DD) that date-only values are compared with; the UTC
    date of local midnight is another day east of UTC."""
    overdue: list[Record]
    today_: list[Record]
    upcoming: list[Record]
    no_date: list[Record]
    overdue, today_, upcoming, no_date = [], [], [], []
    day = today or today_start_iso[:10]
    for item in items:
        if owner and item.get("owner") != owner:
            continue
        when = item.get("due_at") if item.get("type") == ActivityType.TASK else item.get("start_at")
        if not when:
            no_date.append(item)
        elif len(when) == 10:  # a date without time: due some time that day
            if when < day:
                overdue.append(item)
            elif when == day:
                today_.append(item)
            else:
                upcoming.append(item)
        elif when < now_iso and item.get("type") == ActivityType.TASK:
            overdue.append(item)
        elif when < now_iso and when < today_start_iso:
            overdue.append(item)  # an appointment from before today never closed
        elif when <= today_end_iso:
            today_.append(item)
        else:
            upcoming.append(item)
    for bucket in (overdue, today_, upcoming):
        bucket.sort(key=lambda a: (a.get("due_at") or a.get("start_at") or "", a["id"]))
    no_date.sort(key=lambda a: a.get("created_at", ""))
    return AgendaBuckets(overdue, today_, upcoming, no_date)


def tree_by_levels(root: Record, subsidiaries_of: Callable[[list[str]], list[Record]]) -> TreeNode:
    """The tree under `root`, read level by level: `subsidiaries_of(ids)` gives the accounts
    whose parent is one of `ids` (one indexed lookup a level, not one per account). An
    account met twice (a loop in damaged data) is shown once."""
    children: dict[str, list[Record]] = {}
    seen, level = {root["id"]}, [root["id"]]
    while level:
        found = subsidiaries_of(level)
        level = []
        for doc in found:
            if doc["id"] not in seen:
                seen.add(doc["id"])
                level.append(doc["id"])
                children.setdefault(doc["parent_account_id"], []).append(doc)
    for kids in children.values():
        kids.sort(key=lambda r: fold(r.get("name", "")))
    return build_tree(root, lambda rid: children.get(rid, []))


def build_tree(root: Record, children_of: Callable[[str], list[Record]]) -> TreeNode:
    """The tree under `root`, each account's subsidiaries (in the order `children_of` gives)
    below it; an account met twice (a loop in damaged data) is shown once."""
    seen: set[str] = set()

    def build(record: Record) -> TreeNode:
        seen.add(record["id"])
        kids = [k for k in children_of(record["id"]) if k["id"] not in seen]
        return TreeNode(record, [build(k) for k in kids])

    return build(root)


def haystack(record: Record, fields: Iterable[str]) -> str:
    """The folded text a list search looks in, of `fields`."""
    return fold(" ".join([record[f] for f in fields if f in record]))
