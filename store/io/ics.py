"""iCalendar import (VEVENT -> appointment, VTODO -> task) and export, using icalendar.

Time zones: UTC, VTIMEZONE definitions, IANA names and the Windows names Outlook writes
(`W. Europe Standard Time`) are all resolved by icalendar itself (it carries the CLDR
Windows-to-IANA table). A TZID nobody knows and floating times are read as local time.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar

from store.io.common import (
    ParsedRow,
    decode_bytes,
    parse_when,
    single_line,
    to_activity_status,
    to_direction,
    to_priority,
    to_regarding_type,
    when_to_storage,
)

__all__ = ["IcsResult", "export_ics", "parse_ics"]

PRODID = "-//termcrm//termcrm CRM//EN"
_X = "X-TERMCRM-"


@dataclass
class IcsResult:
    activities: list[ParsedRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # events or whole files that could not be read
    skipped: list[str] = field(default_factory=list)  # e.g. changed instances of recurring events


# --------------------------------------------------------------------------- reading


def _component_lines(text: str) -> list[tuple[str, int]]:
    """(name, line) of every top-level VEVENT/VTODO, in file order."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        word = line.strip().upper()
        if word in ("BEGIN:VEVENT", "BEGIN:VTODO"):
            found.append((word[6:], number))
    return found


def _blocks(text: str) -> tuple[list[str], list[tuple[int, str]]]:
    """VTIMEZONE blocks, and (line, text) of each VEVENT/VTODO block, for one-by-one reading."""
    timezones: list[str] = []
    items: list[tuple[int, str]] = []
    current: list[str] | None = None
    name = ""
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        word = line.strip().upper()
        if current is None:
            if word in ("BEGIN:VEVENT", "BEGIN:VTODO", "BEGIN:VTIMEZONE"):
                current, name, start = [line], word[6:], number
            continue
        current.append(line)
        if word == f"END:{name}":
            block = "\n".join(current)
            if name == "VTIMEZONE":
                timezones.append(block)
            else:
                items.append((start, block))
            current = None
    if current is not None and name != "VTIMEZONE":
        items.append((start, ""))  # cut off by the end of the file
    return timezones, items


def parse_ics(data: bytes, *, tz: tzinfo | None = None) -> IcsResult:
    """Read the events and to-dos of an .ics file. Never raises: see `errors`.

    VEVENT -> appointment (start_at/end_at; all-day events get all_day=True and YYYY-MM-DD dates,
    end_at being the last day, inclusive). VTODO -> task (due_at, priority, status,
    completed_at). UID -> source_id. Recurring events: the first occurrence, with the rule noted
    in the description; changed instances of them are skipped. `tz`: local zone for floating
    times (default: the machine's).
    """
    result = IcsResult()
    text, _ = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if "BEGIN:VCALENDAR" not in text.upper():
        if text.strip():
            result.errors.append("no BEGIN:VCALENDAR found: this is not an iCalendar file")
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        components = _read_all(text, result)
        masters = {
            str(c.get("UID")) for c, _ in components
            if c.get("UID") is not None and c.get("RECURRENCE-ID") is None
        }
        for component, line in components:
            where = f"{component.name.lower()} at line {line}" if line else component.name
            try:
                uid = component.get("UID")
                if component.get("RECURRENCE-ID") is not None and str(uid) in masters:
                    result.skipped.append(f"{where}: a changed instance of a recurring event; "
                                          "only the first occurrence is imported")
                    continue
                result.activities.append(_activity(component, line, where, tz))
            except Exception as exc:  # noqa: BLE001 - one odd event must not stop the import
                result.errors.append(f"{where}: could not be read ({_reason(exc)}); skipped")
    return result


def _read_all(text: str, result: IcsResult) -> list[tuple[Any, int]]:
    lines = _component_lines(text)
    whole_error = "it is incomplete"
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
        components = [c for cal in calendars for c in cal.walk()
                      if c.name in ("VEVENT", "VTODO")]
        if [c.name for c in components] == [name for name, _ in lines]:
            return [(c, line) for c, (_, line) in zip(components, lines, strict=True)]
    except Exception as exc:  # noqa: BLE001 - fall back to reading events one by one
        whole_error = _reason(exc)
    timezones, items = _blocks(text)
    components = []
    for line, block in items:
        if not block:
            result.errors.append(f"entry at line {line}: the file ends before it does; skipped")
            continue
        wrapped = "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//split//EN",
                             *timezones, block, "END:VCALENDAR", ""])
        try:
            calendar = icalendar.Calendar.from_ical(wrapped)
            found = [c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]
            if not found:
                raise ValueError("no event in it")
            components.append((found[0], line))
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"entry at line {line}: not readable ({_reason(exc)}); skipped")
    if not items:
        result.errors.append(f"the calendar could not be read ({whole_error})")
    return components


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def _prop(component: Any, name: str) -> Any:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value


def _text(component: Any, name: str) -> str:
    value = _prop(component, name)
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _when(component: Any, name: str, where: str,
          problems: list[str]) -> date | datetime | None:
    """The value of a date/time property; floating and unknown-zone times are naive (local)."""
    prop = _prop(component, name)
    if prop is None:
        return None
    try:
        value = prop.dt
    except Exception:  # noqa: BLE001 - icalendar raises on broken properties
        value = None
    if isinstance(value, timedelta) or not isinstance(value, date):
        raw = ""
        try:
            raw = prop.to_ical().decode("utf-8", errors="replace")
        except Exception:  # noqa: BLE001
            raw = str(prop)
        problems.append(f"{where}: {name} {raw[:40]!r} is not a date, left empty")
        return None
    tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
    if isinstance(value, datetime) and value.tzinfo is None and tzid:
        problems.append(f"{where}: unknown time zone {str(tzid)!r} in {name}; read as local time")
    return value


def _store(value: date | datetime, tz: tzinfo | None, *, as_day: bool = False,
           as_moment: bool = False) -> str:
    return when_to_storage(value, tz, as_day=as_day, as_moment=as_moment)


def _ics_priority(component: Any) -> str | None:
    raw = _text(component, "PRIORITY")
    try:
        number = int(raw)
    except ValueError:
        return None
    if 1 <= number <= 4:
        return "high"
    if number == 5:
        return "normal"
    if 6 <= number <= 9:
        return "low"
    return None


def _activity(component: Any, line: int, where: str, tz: tzinfo | None) -> ParsedRow:
    row = ParsedRow(line)
    record, refs, problems = row.record, row.refs, row.problems
    is_event = component.name == "VEVENT"
    record["type"] = "appointment" if is_event else "task"
    for prop, field_name in (("SUMMARY", "subject"), ("LOCATION", "location")):
        value = _text(component, prop)
        if value:
            record[field_name] = single_line(field_name, value)
    description = _text(component, "DESCRIPTION")
    start = _when(component, "DTSTART", where, problems)
    if is_event:
        end = _when(component, "DTEND", where, problems)
        duration = _prop(component, "DURATION")
        if end is None and start is not None and duration is not None:
            try:
                if isinstance(duration.dt, timedelta):
                    end = start + duration.dt
            except Exception:  # noqa: BLE001
                problems.append(f"{where}: DURATION is not readable")
        ms_all_day = _text(component, "X-MICROSOFT-CDO-ALLDAYEVENT").upper() == "TRUE"
        all_day = start is not None and (not isinstance(start, datetime) or ms_all_day)
        if start is None:
            problems.append(f"{where}: no start time")
        elif all_day:
            record["all_day"] = True
            first_day = start.date() if isinstance(start, datetime) else start
            record["start_at"] = _store(first_day, tz)
            if end is not None:
                last_day = ((end - timedelta(microseconds=1)).date() if isinstance(end, datetime)
                            else end - timedelta(days=1))
                record["end_at"] = _store(max(first_day, last_day), tz)
        else:
            record["all_day"] = False
            record["start_at"] = _store(start, tz)
            if end is not None:
                record["end_at"] = _store(end, tz, as_moment=True)
        status = _text(component, "STATUS").upper()
        if status == "CANCELLED":
            record["status"] = "canceled"
        elif status in ("CONFIRMED", "TENTATIVE"):
            record["status"] = "open"
        rules = [f"{name}:{_ical(component, name)}" for name in ("RRULE", "RDATE")
                 if component.get(name) is not None]
        if rules:
            note = ("Recurring event: only the first occurrence was imported ("
                    + "; ".join(rules) + ")")
            description = f"{description}\n\n{note}" if description else note
    else:
        if start is not None:
            record["start_at"] = _store(start, tz)
        due = _when(component, "DUE", where, problems)
        if due is not None:
            record["due_at"] = _store(due, tz)
        status = _text(component, "STATUS").upper()
        completed = _when(component, "COMPLETED", where, problems)
        if status == "COMPLETED":
            record["status"] = "completed"
        elif status == "CANCELLED":
            record["status"] = "canceled"
        elif status in ("NEEDS-ACTION", "IN-PROCESS"):
            record["status"] = "open"
        elif completed is not None or _text(component, "PERCENT-COMPLETE") == "100":
            record["status"] = "completed"
        if completed is not None:
            record["completed_at"] = _store(completed, tz, as_moment=True)
    priority = _ics_priority(component)
    if priority:
        record["priority"] = priority
    if description:
        record["description"] = description
    uid = _text(component, "UID")
    if uid:
        record["source_id"] = single_line("source_id", uid)
    for prop, field_name in (("CREATED", "created_at"), ("LAST-MODIFIED", "modified_at")):
        value = _when(component, prop, where, problems)
        if value is not None:
            record[field_name] = _store(value, tz, as_moment=True)
    _extensions(component, record, refs, tz)
    if not record.get("subject"):
        problems.append(f"{where}: no subject (SUMMARY)")
    return row


def _ical(component: Any, name: str) -> str:
    value = component.get(name)
    values = value if isinstance(value, list) else [value]
    return ",".join(v.to_ical().decode("utf-8", errors="replace") for v in values)


def _extensions(component: Any, record: dict[str, Any], refs: dict[str, str],
                tz: tzinfo | None) -> None:
    """Our X-TERMCRM-* properties: fields iCalendar has no property for."""
    for name in list(component.keys()):
        upper = name.upper()
        if not upper.startswith(_X):
            continue
        field_name = upper[len(_X):].lower().replace("-", "_")
        value = _text(component, name)
        if not value:
            continue
        if field_name == "regarding":
            refs["regarding_id"] = single_line("regarding_id", value)
            prop = _prop(component, name)
            kind = prop.params.get(_X + "TYPE") if hasattr(prop, "params") else None
            regarding_type = to_regarding_type(str(kind)) if kind else None
            if regarding_type:
                record["regarding_type"] = regarding_type
        elif field_name == "status":
            status = to_activity_status(value)
            if status:
                record["status"] = status
        elif field_name == "priority":
            priority = to_priority(value)
            if priority:
                record["priority"] = priority
        elif field_name == "direction":
            direction = to_direction(value)
            if direction:
                record["direction"] = direction
        elif field_name in ("completed_at", "start_at"):
            when = parse_when(value)
            if when is not None:
                record[field_name] = _store(when, tz, as_moment=field_name == "completed_at")
        elif field_name in ("owner", "phone_number", "email_from", "email_to"):
            record[field_name] = single_line(field_name, value)


# --------------------------------------------------------------------------- writing


def _value(text: Any, *, as_day: bool = False) -> date | datetime | None:
    """A stored value as icalendar wants it: a date, or an aware UTC datetime."""
    if not text:
        return None
    if isinstance(text, datetime):
        value: date | datetime | None = text
    elif isinstance(text, date):
        value = text
    else:
        value = parse_when(str(text))
    if value is None:
        return None
    if isinstance(value, datetime):
        if as_day:
            return value.date()
        if value.tzinfo is None:
            value = value.astimezone()
        return value.astimezone(UTC)
    return value


_PRIORITY_NUMBER = {"high": 1, "normal": 5, "low": 9}


def export_ics(activities: list[dict[str, Any]], names: dict[str, str], *,
               now: datetime | None = None) -> bytes:
    """An iCalendar file of the appointments (VEVENT) and tasks (VTODO); other activity types
    are left out. UID = record id. `names` maps regarding ids to display names, written with the
    CRM fields iCalendar has no property for as X-TERMCRM-* properties (read back by parse_ics).
    An appointment without a start (nor a due date) cannot be a VEVENT and is left out.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for activity in activities:
        kind = activity.get("type")
        if kind == "appointment":
            component = _event(activity)
        elif kind == "task":
            component = _todo(activity)
        else:
            continue
        if component is None:
            continue
        if activity.get("id"):
            component.add("uid", str(activity["id"]))
        component.add("dtstamp", stamp)
        for prop, field_name in (("summary", "subject"), ("description", "description"),
                                 ("location", "location")):
            if activity.get(field_name):
                component.add(prop, str(activity[field_name]))
        priority = _PRIORITY_NUMBER.get(str(activity.get("priority") or ""))
        if priority:
            component.add("priority", priority)
        for prop, field_name in (("created", "created_at"), ("last-modified", "modified_at")):
            value = _value(activity.get(field_name))
            if isinstance(value, datetime):
                component.add(prop, value)
        for field_name in ("owner", "direction", "phone_number", "email_from", "email_to"):
            if activity.get(field_name):
                component.add(_X + field_name.upper().replace("_", "-"),
                              str(activity[field_name]))
        regarding = activity.get("regarding_id")
        if regarding:
            params = {}
            if activity.get("regarding_type"):
                params[_X + "TYPE"] = str(activity["regarding_type"])
            component.add(_X + "REGARDING", names.get(str(regarding)) or str(regarding),
                          parameters=params)
        calendar.add_component(component)
    return calendar.to_ical()


def _event(activity: dict[str, Any]) -> Any:
    event = icalendar.Event()
    start_text = activity.get("start_at") or activity.get("due_at")
    if not start_text:
        return None
    all_day = activity.get("all_day") is True or bool(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(start_text)))
    start = _value(start_text, as_day=all_day)
    if start is None:
        return None
    event.add("dtstart", start)
    end = _value(activity.get("end_at"), as_day=all_day)
    if all_day:
        last_day = end if isinstance(end, date) and end >= start else start
        event.add("dtend", last_day + timedelta(days=1))
        event.add("x-microsoft-cdo-alldayevent", "TRUE")
    elif isinstance(end, datetime) and isinstance(start, datetime) and end >= start:
        event.add("dtend", end)
    status = activity.get("status")
    event.add("status", "CANCELLED" if status == "canceled" else "CONFIRMED")
    if status == "completed":
        event.add(_X + "STATUS", "completed")
    if activity.get("completed_at"):
        event.add(_X + "COMPLETED-AT", str(activity["completed_at"]))
    return event


def _todo(activity: dict[str, Any]) -> Any:
    todo = icalendar.Todo()
    start = _value(activity.get("start_at"))
    due = _value(activity.get("due_at"))
    if start is not None and due is not None and (
            isinstance(start, datetime) != isinstance(due, datetime)):
        # RFC 5545: DUE and DTSTART must be of the same type; keep the start in our extension.
        todo.add(_X + "START-AT", str(activity["start_at"]))
    elif start is not None:
        todo.add("dtstart", start)
    if due is not None:
        todo.add("due", due)
    status = activity.get("status")
    todo.add("status", {"completed": "COMPLETED", "canceled": "CANCELLED"}.get(
        str(status), "NEEDS-ACTION"))
    completed = _value(activity.get("completed_at"))
    if isinstance(completed, date) and not isinstance(completed, datetime):
        completed = datetime(completed.year, completed.month, completed.day, tzinfo=UTC)
    if completed is not None:
        todo.add("completed", completed)
    return todo
