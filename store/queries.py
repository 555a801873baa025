"""In-memory indexes kept in step with the tables, and the queries the screens make over them.

The indexes follow every change the storage applies (ours and other processes'), so a query
never scans what it does not need: a timeline reads only its record's activities, a search scans
one pre-folded string per record in display order.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    ActivityStatus,
    ActivityType,
    Change,
    Record,
    Tables,
    activity_when,
    display_name,
)
from store.text import fold, key_of_folded, name_key, tokens


class HasTables(Protocol):
    """What the indexes read: the tables as they are now (the storage replaces the dict on a
    reload, so they keep the holder, not the dict)."""

    tables: Tables


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
class _SearchView:
    ids: list[str]  # in name order, aligned with Indexes.order
    hays: list[str]


@dataclass
class AgendaBuckets:
    overdue: list[Record] = field(default_factory=list)
    today: list[Record] = field(default_factory=list)
    upcoming: list[Record] = field(default_factory=list)
    no_date: list[Record] = field(default_factory=list)


@dataclass
class TreeNode:
    record: Record
    children: list[TreeNode] = field(default_factory=list)


class Indexes:
    """Secondary indexes over the tables; a storage change listener."""

    def __init__(self, database: HasTables) -> None:
        self.database = database
        self.lock = threading.RLock()
        # parent account id -> subsidiary ids; account id -> contact ids; account or contact
        # id -> activity ids
        self.children: defaultdict[str, set[str]] = defaultdict(set)
        self.contacts_of: defaultdict[str, set[str]] = defaultdict(set)
        self.activities_of: defaultdict[str, set[str]] = defaultdict(set)
        self.open_agenda: set[str] = set()  # open tasks and appointments
        self.haystack: dict[str, dict[str, str]] = {ACCOUNTS: {}, CONTACTS: {}}
        self.order: dict[str, list[tuple[str, str]]] = {ACCOUNTS: [], CONTACTS: []}
        self.sort_key: dict[str, dict[str, str]] = {ACCOUNTS: {}, CONTACTS: {}}
        self.folded_name: dict[str, dict[str, str]] = {ACCOUNTS: {}, CONTACTS: {}}
        self.by_name: dict[str, defaultdict[str, set[str]]] = {
            ACCOUNTS: defaultdict(set),
            CONTACTS: defaultdict(set),
        }
        self.by_email: dict[str, defaultdict[str, set[str]]] = {
            ACCOUNTS: defaultdict(set),
            CONTACTS: defaultdict(set),
        }
        self.by_source_id: dict[str, dict[str, str]] = {ACCOUNTS: {}, CONTACTS: {}, ACTIVITIES: {}}
        self.generation = 0  # bumped on every change: cheap "has anything changed?" for caches
        self._views: dict[str, _SearchView] = {}  # kept in step with `order` once built
        self.inactive: dict[str, set[str]] = {ACCOUNTS: set(), CONTACTS: set()}

    @property
    def tables(self) -> dict[str, dict[str, Record]]:
        return self.database.tables

    # ------------------------------------------------------------ maintenance
    def bulk_load(self, table: str, records: dict[str, Record]) -> None:
        if table not in RECORD_TABLES:  # the trash: never listed, searched or shown
            return
        with self.lock:
            self._reset(table)
            for record in records.values():
                self._add(table, record, bulk=True)
            if table in self.order:
                self.order[table] = sorted((k, rid) for rid, k in self.sort_key[table].items())
            if table == ACCOUNTS and self.haystack[CONTACTS]:
                for rid in self.haystack[CONTACTS]:  # contacts search by their account's name
                    self._index_contact_text(rid)
            self.generation += 1

    def __call__(self, change: Change) -> None:
        if change.table not in RECORD_TABLES:
            return
        with self.lock:
            if change.old is not None:
                self._remove(change.table, change.old)
            if change.new is not None:
                self._add(change.table, change.new, bulk=False)
            if change.table == ACCOUNTS and _name_changed(change):
                for contact_id in list(self.contacts_of.get(change.record_id, ())):
                    self._index_contact_text(contact_id)
            self.generation += 1

    def _reset(self, table: str) -> None:
        if table == ACCOUNTS:
            self.children.clear()
        elif table == CONTACTS:
            self.contacts_of.clear()
        else:
            self.activities_of.clear()
            self.open_agenda.clear()
        if table in self.haystack:
            self._views.pop(table, None)
            if table == ACCOUNTS:  # contacts' texts hold their account's name
                self._views.pop(CONTACTS, None)
            self.inactive[table].clear()
            self.haystack[table].clear()
            self.order[table] = []
            self.sort_key[table].clear()
            self.folded_name[table].clear()
            self.by_name[table].clear()
            self.by_email[table].clear()
        self.by_source_id[table].clear()

    def _add(self, table: str, record: Record, bulk: bool) -> None:
        rid = record["id"]
        if record.get("source_id"):
            self.by_source_id[table][record["source_id"]] = rid
        if table == ACTIVITIES:
            regarding = record.get("regarding_id")
            if regarding:
                self.activities_of[regarding].add(rid)
            if record.get("status", "open") == ActivityStatus.OPEN and record.get("type") in (
                ActivityType.TASK,
                ActivityType.APPOINTMENT,
            ):
                self.open_agenda.add(rid)
            return
        if table == ACCOUNTS and record.get("parent_account_id"):
            self.children[record["parent_account_id"]].add(rid)
        if table == CONTACTS and record.get("account_id"):
            self.contacts_of[record["account_id"]].add(rid)
        if record.get("status", "active") != "active":
            self.inactive[table].add(rid)
        folded = fold(display_name(table, record))
        self.folded_name[table][rid] = folded
        self.by_name[table][key_of_folded(folded)].add(rid)
        if record.get("email"):
            self.by_email[table][record["email"].casefold()].add(rid)
        key = folded + "\x00" + rid
        self.sort_key[table][rid] = key
        if table == CONTACTS:
            self._index_contact_text(rid)
        else:
            self.haystack[table][rid] = folded + " " + haystack(record, SEARCH_FIELDS[table])
        if not bulk:
            order = self.order[table]
            at = bisect.bisect_left(order, (key, rid))
            order.insert(at, (key, rid))
            view = self._views.get(table)
            if view is not None:
                view.ids.insert(at, rid)
                view.hays.insert(at, self.haystack[table][rid])

    def _remove(self, table: str, record: Record) -> None:
        rid = record["id"]
        if record.get("source_id"):
            self.by_source_id[table].pop(record["source_id"], None)
        if table == ACTIVITIES:
            _discard(self.activities_of, record.get("regarding_id"), rid)
            self.open_agenda.discard(rid)
            return
        if table == ACCOUNTS:
            _discard(self.children, record.get("parent_account_id"), rid)
        if table == CONTACTS:
            _discard(self.contacts_of, record.get("account_id"), rid)
        self.inactive[table].discard(rid)
        folded = self.folded_name[table].pop(rid, None)
        if folded is not None:
            _discard(self.by_name[table], key_of_folded(folded), rid)
        if record.get("email"):
            _discard(self.by_email[table], record["email"].casefold(), rid)
        key = self.sort_key[table].pop(rid, None)
        if key is not None:
            order = self.order[table]
            at = bisect.bisect_left(order, (key, rid))
            if at < len(order) and order[at] == (key, rid):
                del order[at]
                view = self._views.get(table)
                if view is not None:
                    del view.ids[at]
                    del view.hays[at]
        self.haystack[table].pop(rid, None)

    def _index_contact_text(self, rid: str) -> None:
        contact = self.tables[CONTACTS].get(rid)
        if contact is None:
            return
        text = (
            self.folded_name[CONTACTS].get(rid, "")
            + " "
            + haystack(contact, SEARCH_FIELDS[CONTACTS])
        )
        account_name = self.folded_name[ACCOUNTS].get(contact.get("account_id") or "")
        if account_name:
            text += " " + account_name
        self.haystack[CONTACTS][rid] = text
        view = self._views.get(CONTACTS)
        key = self.sort_key[CONTACTS].get(rid)
        if view is not None and key is not None:  # already in the view: replace its text
            at = bisect.bisect_left(self.order[CONTACTS], (key, rid))
            if at < len(view.ids) and view.ids[at] == rid:
                view.hays[at] = text

    # ------------------------------------------------------------ queries
    def search_ids(self, table: str, query: ListQuery) -> list[str]:
        """Ids of the records that match, in the order asked for."""
        with self.lock:
            view = self._search_view(table)
            records = self.tables[table]
            words = sorted(tokens(query.text), key=len, reverse=True)
            if not words:
                ids = list(view.ids)
            elif len(words) == 1:
                word = words[0]
                ids = [rid for rid, hay in zip(view.ids, view.hays, strict=True) if word in hay]
            else:  # the longest word first: it usually leaves the fewest rows for the others
                first = words[0]
                matched = [
                    (rid, hay) for rid, hay in zip(view.ids, view.hays, strict=True) if first in hay
                ]
                for word in words[1:]:
                    matched = [(rid, hay) for rid, hay in matched if word in hay]
                ids = [rid for rid, _hay in matched]
            inactive = self.inactive[table]
            if query.status == "active":
                ids = [r for r in ids if r not in inactive]
            elif query.status:
                ids = [r for r in ids if r in inactive]
            if query.relationship:
                ids = [r for r in ids if records[r].get("relationship") == query.relationship]
            if query.account_id:
                ids = [r for r in ids if records[r].get("account_id") == query.account_id]
            if query.sort != "name":
                return order_by_column(
                    ids, self._sort_value(table, query.sort), query.sort, query.descending
                )
            if query.descending:
                ids.reverse()
            return ids

    def warm(self) -> None:
        """Build the search views ahead of the first keystroke (call from a worker)."""
        with self.lock:
            for table in (ACCOUNTS, CONTACTS):
                self._search_view(table)

    def _search_view(self, table: str) -> _SearchView:
        """Ids and folded texts in name order as flat lists: a scan is one tight loop. Built on
        the first search after a (bulk) load, then kept in step by `_add`/`_remove`, so the
        first keystroke after a save does not pay a rebuild."""
        view = self._views.get(table)
        if view is None:
            haystack = self.haystack[table]
            ids = [rid for _key, rid in self.order[table]]
            view = _SearchView(ids, [haystack[rid] for rid in ids])
            self._views[table] = view
        return view

    def _sort_value(self, table: str, column: str) -> Callable[[str], str | None]:
        """A record's value for the sort `column` (a contact's account: its name)."""
        records = self.tables[table]
        if column == "account":
            accounts = self.tables[ACCOUNTS]

            def account_name(rid: str) -> str | None:
                account = accounts.get(records[rid].get("account_id") or "")
                return account["name"] if account else None

            return account_name
        return lambda rid: records[rid].get(column)

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]:
        """The record's activities, newest first."""
        with self.lock:
            ids = set(self.activities_of.get(record_id, ()))
            if query.include_contacts:
                for contact_id in self.contacts_of.get(record_id, ()):
                    ids |= self.activities_of.get(contact_id, set())
            activities = self.tables[ACTIVITIES]
            items = [activities[a] for a in ids if a in activities]
        if query.types:
            items = [a for a in items if a.get("type") in query.types]
        if query.statuses:
            items = [a for a in items if a.get("status", "open") in query.statuses]
        words = tokens(query.text)
        if words:
            items = [a for a in items if _matches(a, words)]
        items.sort(key=lambda a: (activity_when(a), a["id"]), reverse=True)
        return items

    def agenda(
        self,
        owner: str | None,
        now_iso: str,
        today_end_iso: str,
        today_start_iso: str,
        today: str | None = None,
    ) -> AgendaBuckets:
        """Open tasks and appointments by when they fall: overdue, today, upcoming.

        `today` is the local date (YYYY-MM-DD) that date-only values are compared with; the
        UTC date of local midnight is another day east of UTC."""
        with self.lock:
            activities = self.tables[ACTIVITIES]
            items = [activities[a] for a in self.open_agenda if a in activities]
        return bucket_agenda(items, owner, now_iso, today_end_iso, today_start_iso, today)

    def subsidiaries(self, account_id: str) -> list[Record]:
        with self.lock:
            accounts = self.tables[ACCOUNTS]
            found = [accounts[a] for a in self.children.get(account_id, ()) if a in accounts]
        return sorted(found, key=lambda r: fold(r.get("name", "")))

    def contacts_of_account(self, account_id: str) -> list[Record]:
        with self.lock:
            contacts = self.tables[CONTACTS]
            found = [contacts[c] for c in self.contacts_of.get(account_id, ()) if c in contacts]
        return sorted(found, key=lambda r: fold(display_name(CONTACTS, r)))

    def parent_chain(self, account_id: str) -> list[Record]:
        """The account's ancestors, nearest first (stops on a cycle rather than looping)."""
        accounts = self.tables[ACCOUNTS]
        chain: list[Record] = []  # followed by id lookups only: safe beside writers
        seen = {account_id}
        current = accounts.get(account_id)
        while current and current.get("parent_account_id"):
            parent_id = current["parent_account_id"]
            if parent_id in seen or parent_id not in accounts:
                break
            seen.add(parent_id)
            current = accounts[parent_id]
            chain.append(current)
        return chain

    def hierarchy(self, account_id: str) -> TreeNode | None:
        """The tree from the account's top parent down."""
        with self.lock:
            accounts = self.tables[ACCOUNTS]
            if account_id not in accounts:
                return None
            chain = self.parent_chain(account_id)
            return build_tree(chain[-1] if chain else accounts[account_id], self.subsidiaries)

    def descendants(self, account_id: str) -> set[str]:
        found: set[str] = set()
        stack = [account_id]
        with self.lock:
            while stack:
                for child in self.children.get(stack.pop(), ()):
                    if child not in found:
                        found.add(child)
                        stack.append(child)
        return found

    def search_activities(
        self,
        text: str = "",
        *,
        types: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
    ) -> list[Record]:
        """Activities whose subject and description hold every word of `text`, of those types
        and statuses (None: any), newest first. A scan: activity text has no index (yet)."""
        words = tokens(text)
        found = []
        for activity in self.database.tables[ACTIVITIES].values():
            if types is not None and activity.get("type") not in types:
                continue
            if statuses is not None and activity.get("status", "open") not in statuses:
                continue
            if words:
                haystack = fold(
                    f"{activity.get('subject') or ''} {activity.get('description') or ''}"
                )
                if not all(word in haystack for word in words):
                    continue
            found.append(activity)
        found.sort(key=lambda a: (activity_when(a), a["id"]), reverse=True)
        return found

    def same_name(self, table: str, name: str) -> set[str]:
        return set(self.by_name[table].get(name_key(name), ()))

    def same_email(self, table: str, email: str) -> set[str]:
        return set(self.by_email[table].get(email.casefold(), ()))


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
    """Open tasks and appointments by when they fall (see Indexes.agenda)."""
    buckets = AgendaBuckets()
    day = today or today_start_iso[:10]
    for item in items:
        if owner and item.get("owner") != owner:
            continue
        when = item.get("due_at") if item.get("type") == ActivityType.TASK else item.get("start_at")
        if not when:
            buckets.no_date.append(item)
        elif len(when) == 10:  # a date without time: due some time that day
            if when < day:
                buckets.overdue.append(item)
            elif when == day:
                buckets.today.append(item)
            else:
                buckets.upcoming.append(item)
        elif when < now_iso and item.get("type") == ActivityType.TASK:
            buckets.overdue.append(item)
        elif when < now_iso and when < today_start_iso:
            buckets.overdue.append(item)  # an appointment from before today never closed
        elif when <= today_end_iso:
            buckets.today.append(item)
        else:
            buckets.upcoming.append(item)
    for bucket in (buckets.overdue, buckets.today, buckets.upcoming):
        bucket.sort(key=lambda a: (a.get("due_at") or a.get("start_at") or "", a["id"]))
    buckets.no_date.sort(key=lambda a: a.get("created_at", ""))
    return buckets


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


def _matches(activity: Record, words: list[str]) -> bool:
    text = fold((activity.get("subject") or "") + " " + (activity.get("description") or ""))
    return all(w in text for w in words)


def _discard(index: dict[str, set[str]], key: Any, rid: str) -> None:
    if not key:
        return
    members = index.get(key)
    if members is not None:
        members.discard(rid)
        if not members:
            del index[key]


def _name_changed(change: Change) -> bool:
    old = change.old.get("name") if change.old else None
    new = change.new.get("name") if change.new else None
    return old != new
