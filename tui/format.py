"""How records read on screen: short, literal, 80 columns in mind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from rich.cells import cell_len, set_cell_size

from store.dates import format_local
from store.model import (
    ACTIVITY_LABELS,
    ActivityStatus,
    ActivityType,
    Priority,
    Record,
    activity_status_label,
    activity_type_label,
)
from store.text import counted
from tui.literal import visible

T = TypeVar("T")

SEPARATOR = " · "  # between the parts of a status line: 80 columns have little room
# Shown for a priority that is not the usual one; a word, so it reads without colour (and
# `!` is the overdue mark).
PRIORITY_MARK = {Priority.HIGH: "high", Priority.LOW: "low"}


def when_text(value: str | None, now: datetime | None = None) -> str:
    return format_local(value, now) if value else ""


def activity_moment(activity: Record) -> str | None:
    return activity.get("start_at") or activity.get("due_at") or activity.get("created_at")


def is_overdue(activity: Record, now_iso: str) -> bool:
    """An open task past its due date, or an open appointment that has ended."""
    if activity.get("status", "open") != ActivityStatus.OPEN:
        return False
    if activity.get("type") == ActivityType.TASK:
        due = activity.get("due_at")
    elif activity.get("type") == ActivityType.APPOINTMENT:
        due = activity.get("end_at") or activity.get("start_at")
    else:
        return False
    if not isinstance(due, str) or not due:  # stored moments are text; see store.dates
        return False
    return (due < now_iso[:10]) if len(due) == 10 else due < now_iso


def type_label(value: str | None) -> str:
    """The model's word for an activity type (`Phone call`), the same on every screen."""
    return activity_type_label(value)


def status_label(value: str | None) -> str:
    return activity_status_label(value)


def priority_mark(value: str | None) -> str:
    try:
        return PRIORITY_MARK.get(Priority(value), "") if value else ""
    except ValueError:
        return value or ""


def subject_text(activity: Record) -> str:
    """An activity's subject (or the first line of its text), with where an appointment is."""
    subject = activity.get("subject") or (activity.get("description") or "").split("\n")[0]
    location = activity.get("location")
    if location and activity.get("type") == ActivityType.APPOINTMENT:
        return f"{subject} · {location}" if subject else location
    return subject


def list_status(
    shown: int,
    total: int,
    noun: str,
    sort: str,
    descending: bool,
    status: str | None,
    extra: list[str],
    more: bool = False,
) -> str:
    """`1,234 of 10,000 accounts · sort: city ↑ · active · type: customer` (fits 80 columns
    with 250,000 records and the longest filter values); `1,000+ of ...` with `more` (the
    search was counted only so far)."""
    parts = [
        f"{shown:,}{'+' if more else ''} of {counted(total, noun)}",
        f"sort: {sort} {'↓' if descending else '↑'}",
        status or "any status",
        *extra,
    ]
    return SEPARATOR.join(parts)


def timeline_status(
    n: int,
    kind: str | None,
    status: str | None,
    overdue: int,
    *,
    rollup: bool,
    with_contacts: bool = False,
) -> str:
    """`3 open appointments · 1 overdue (!) · with contacts (r)`: the count says the filters."""
    noun = ACTIVITY_LABELS[ActivityType(kind)].lower() if kind else "activity"
    if status:
        noun = f"{status_label(status)} {noun}"
    parts = [counted(n, noun)]
    if overdue:
        parts.append(f"{overdue:,} overdue (!)")
    if rollup:
        parts.append("with contacts (r)" if with_contacts else "own only (r)")
    return SEPARATOR.join(parts)


def clipped(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells, ending in `…` when something was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""


def headline(prefix: str, name: str, suffix: str, width: int) -> str:
    """A one-line header at `width` cells: the name gives way (with `…`), never the
    prefix and suffix (an account's relationship and status, a contact's account)."""
    room = width - cell_len(prefix) - cell_len(suffix)
    return prefix + clipped(visible(name), max(room, 8)) + suffix


def next_in(options: Sequence[T], current: T) -> T:
    """The option after `current`, wrapping round: what a key that cycles a filter shows."""
    return options[(options.index(current) + 1) % len(options)]


count = counted  # the store's wording, shared so that both say "1 activity" alike
