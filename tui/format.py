"""How records read on screen: short, literal, 80 columns in mind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from store.dates import format_local
from store.model import ACTIVITY_LABELS, ActivityStatus, ActivityType
from store.storage import Record
from store.text import counted

T = TypeVar("T")

TYPE_SHORT = {
    ActivityType.NOTE: "Note",
    ActivityType.EMAIL: "Email",
    ActivityType.PHONE_CALL: "Call",
    ActivityType.APPOINTMENT: "Meeting",
    ActivityType.TASK: "Task",
}
STATUS_MARK = {
    ActivityStatus.OPEN: "open",
    ActivityStatus.COMPLETED: "done",
    ActivityStatus.CANCELED: "canceled",
}


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
    if not due:
        return False
    return (due < now_iso[:10]) if len(due) == 10 else due < now_iso


def type_label(value: str | None, short: bool = True) -> str:
    if not value:
        return ""
    try:
        kind = ActivityType(value)
    except ValueError:
        return value
    return TYPE_SHORT[kind] if short else ACTIVITY_LABELS[kind]


def status_label(value: str | None) -> str:
    try:
        return STATUS_MARK[ActivityStatus(value or "open")]
    except ValueError:
        return value or ""


def next_in(options: Sequence[T], current: T) -> T:
    """The option after `current`, wrapping round: what a key that cycles a filter shows."""
    return options[(options.index(current) + 1) % len(options)]


count = counted  # the store's wording, shared so that both say "1 activity" alike
