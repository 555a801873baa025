"""What the screens ask of a store (a list query, a timeline query, the agenda's buckets, a
hierarchy's tree) and the pieces both engines compute alike: the derived columns of a record
(folded search text, list order, name and email keys, the activity's date and whether it is on
the agenda), the agenda's bucketing and a column sort."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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
    overdue: list[Record] = field(default_factory=list)
    today: list[Record] = field(default_factory=list)
    upcoming: list[Record] = field(default_factory=list)
    no_date: list[Record] = field(default_factory=list)


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
