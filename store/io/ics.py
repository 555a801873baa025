"""iCalendar import (VEVENT -> appointment, VTODO -> task) and export, using icalendar.

Time zones: UTC, VTIMEZONE definitions, IANA names and the Windows names Outlook writes
(`W. Europe Standard Time`) are all resolved by icalendar itself (it carries the CLDR
Windows-to-IANA table). A TZID nobody knows and floating times are read as local time.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import icalendar

from store.io.common import (
    LIMITS,
    ImportLimits,
    ParsedRow,
    Progress,
    check_size,
    decode_bytes,
    over_limit,
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


def parse_ics(
    data: bytes,
    *,
    tz: tzinfo | None = None,
    limits: ImportLimits = LIMITS,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IcsResult:
    """Read the events and to-dos of an .ics file. Raises ImportLimitError for a file beyond
    `limits`; otherwise never raises: see `errors`.

    VEVENT -> appointment (start_at/end_at; all-day events get all_day=True and YYYY-MM-DD dates,
    end_at being the last day, inclusive). VTODO -> task (due_at, priority, status,
    completed_at). UID -> source_id. Recurring events: the first occurrence, with the rule noted
    in the description; changed instances of them are skipped. `tz`: local zone for floating
    times (default: the machine's). `progress(done, total)`: called as entries are read.
    `workers`: processes that read the entries (default: by the file's size and the cores).
    """
    result = IcsResult()
    check_size(data, limits)
    text, _ = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if "BEGIN:VCALENDAR" not in text.upper():
        if text.strip():
            result.errors.append("no BEGIN:VCALENDAR found: this is not an iCalendar file")
        return result
    _offset_all_day.cache_clear()  # the zones of another file are no use here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = _read_all(text, result, tz, limits, progress, workers)
    masters = {r.uid for r in read if r.uid is not None and not r.instance}
    for entry in read:
        if entry.instance and entry.uid in masters:
            result.skipped.append(
                f"{entry.where}: a changed instance of a recurring event; "
                "only the first occurrence is imported"
            )
        elif entry.row is not None:
            result.activities.append(entry.row)
        else:
            result.errors.append(entry.error)
    return result


# The properties _activity and _extensions read (and RECURRENCE-ID, for changed instances).
# The rest of an entry, and every component nested in it (VALARM), is left out before
# icalendar sees it: Outlook writes attendee lists, an HTML copy of the description and a dozen
# X-MICROSOFT-* lines per event, and icalendar's parsing of lines is most of the work of
# reading a big calendar.
_READ = frozenset(
    {
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "DTSTART",
        "DTEND",
        "DURATION",
        "DUE",
        "COMPLETED",
        "PERCENT-COMPLETE",
        "STATUS",
        "PRIORITY",
        "RRULE",
        "RDATE",
        "UID",
        "RECURRENCE-ID",
        "CREATED",
        "LAST-MODIFIED",
        "X-MICROSOFT-CDO-ALLDAYEVENT",
    }
)
_ENTRIES = ("BEGIN:VEVENT", "BEGIN:VTODO")
# Entries parsed as one calendar: one parse per entry costs a wrapper each, one parse for the
# whole file shows no progress; a chunk that does not read cleanly is re-read entry by entry.
_CHUNK = 500
_PARALLEL_FROM = 4  # chunks: below that, one process reads the file


@dataclass
class _Entry:
    line: int  # of its BEGIN
    name: str  # VEVENT | VTODO
    text: str  # the lines kept for icalendar; "" when the file ends inside it


def _split(text: str, limits: ImportLimits) -> tuple[list[str], list[_Entry]]:
    """The VTIMEZONE blocks, and each VEVENT/VTODO with only the lines the CRM reads.

    The caps are checked here, before icalendar parses anything: the number of entries,
    the properties in one entry and the length of one unfolded line."""
    timezones: list[str] = []
    entries: list[_Entry] = []
    zone: list[str] | None = None
    kept: list[str] = []
    entry: _Entry | None = None
    nested = 0  # depth of components inside the current entry (VALARM), left out
    keep = False  # whether the property being unfolded is kept
    properties = 0
    unfolded = 0
    for number, line in enumerate(text.split("\n"), start=1):
        folded = line[:1] in (" ", "\t")
        unfolded = unfolded + len(line) - 1 if folded else len(line)
        if unfolded > limits.field_chars:
            raise over_limit(
                "characters in one line", limits.field_chars, f"line {number} is longer"
            )
        if folded:
            if entry is not None and keep and not nested:
                kept.append(line)
            elif zone is not None:
                zone.append(line)
            continue
        word = line.strip().upper()
        if zone is not None:
            zone.append(line)
            if word == "END:VTIMEZONE":
                timezones.append("\n".join(zone))
                zone = None
            continue
        if entry is None:
            if word in _ENTRIES:
                entry, kept, nested, properties = _Entry(number, word[6:], ""), [line], 0, 0
                entries.append(entry)
                if len(entries) > limits.rows:
                    raise over_limit("events and to-dos", limits.rows)
            elif word == "BEGIN:VTIMEZONE":
                zone = [line]
            continue
        name = word.split(":", 1)[0].split(";", 1)[0]
        if name == "BEGIN":
            nested += 1
        elif name == "END" and nested:
            nested -= 1
        elif name == "END" and word == f"END:{entry.name}":
            kept.append(line)
            entry.text = "\n".join(kept)
            entry = None
        elif not nested:
            properties += 1
            if properties > limits.fields:
                raise over_limit(
                    f"properties in one {entry.name.lower()}",
                    limits.fields,
                    f"the one at line {entry.line} has more",
                )
            keep = name in _READ or name.startswith(_X)
            if keep:
                kept.append(line)
    return timezones, entries


def _wrap(timezones: list[str], blocks: list[str]) -> str:
    return "\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//split//EN",
            *timezones,
            *blocks,
            "END:VCALENDAR",
            "",
        ]
    )


def _parse_chunk(
    timezones: list[str], entries: list[_Entry], result: IcsResult
) -> list[tuple[Any, int]]:
    """(component, line) of each entry, in file order; unreadable ones go to `result.errors`."""
    whole = [e for e in entries if e.text]
    try:
        calendar = icalendar.Calendar.from_ical(_wrap(timezones, [e.text for e in whole]))
        found = [c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]
        if len(whole) == len(entries) and [c.name for c in found] == [e.name for e in whole]:
            return [(c, e.line) for c, e in zip(found, whole, strict=True)]
    except Exception:  # noqa: BLE001 - read the entries one by one to find the odd one
        pass
    components = []
    for entry in entries:
        if not entry.text:
            result.errors.append(
                f"entry at line {entry.line}: the file ends before it does; skipped"
            )
            continue
        try:
            calendar = icalendar.Calendar.from_ical(_wrap(timezones, [entry.text]))
            found = [c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]
            if not found:
                raise ValueError("no event in it")
            components.append((found[0], entry.line))
        except Exception as exc:  # noqa: BLE001
            result.errors.append(
                f"entry at line {entry.line}: not readable ({_reason(exc)}); skipped"
            )
    return components


def _read_all(
    text: str,
    result: IcsResult,
    tz: tzinfo | None,
    limits: ImportLimits,
    progress: Progress | None,
    workers: int | None,
) -> list[_Read]:
    timezones, entries = _split(text, limits)
    if not entries:
        try:
            icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as exc:  # noqa: BLE001
            result.errors.append(f"the calendar could not be read ({_reason(exc)})")
        return []
    chunks = [entries[first : first + _CHUNK] for first in range(0, len(entries), _CHUNK)]
    read: list[_Read] = []
    done = 0
    for chunk, (chunk_read, errors) in zip(
        chunks, _read_chunks(timezones, chunks, tz, workers), strict=True
    ):
        read += chunk_read
        result.errors += errors
        done += len(chunk)
        if progress is not None:
            progress(done, len(entries))
    return read


def _read_chunk(
    timezones: list[str], entries: list[_Entry], tz: tzinfo | None
) -> tuple[list[_Read], list[str]]:
    """The entries of one chunk as read, and the errors of those that could not be."""
    result = IcsResult()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = [
            _read_entry(component, line, tz)
            for component, line in _parse_chunk(timezones, entries, result)
        ]
    return read, result.errors


def _read_chunks(
    timezones: list[str], chunks: list[list[_Entry]], tz: tzinfo | None, workers: int | None
) -> Iterator[tuple[list[_Read], list[str]]]:
    """_read_chunk of each chunk, in order: in worker processes when there are enough.

    icalendar looks at every character of a line in Python, so a big calendar keeps one core
    busy for half a minute; the chunks are independent (each carries the file's time zones),
    so each core can take some. The workers are plain `python -c` processes fed by pipes, not
    multiprocessing: that would re-run the caller's main script, and forking is unsafe from
    the app's reading thread. Chunk i goes to worker i % n and is read back in order, so every
    worker keeps going while the others are read. If a worker cannot start or dies, the
    chunks not yet read are read here."""
    workers = min(len(chunks), _workers(len(chunks)) if workers is None else workers)
    processes: list[subprocess.Popen[bytes]] = []
    given = 0
    try:
        if workers > 1:
            try:
                processes = _start_readers(workers, timezones, chunks, tz)
                for index in range(len(chunks)):
                    stdout = processes[index % workers].stdout
                    assert stdout is not None
                    answer = pickle.load(stdout)
                    given += 1
                    yield answer
            except (OSError, EOFError, pickle.PickleError, AttributeError, TypeError):
                pass  # read the rest here
        for chunk in chunks[given:]:
            yield _read_chunk(timezones, chunk, tz)
    finally:
        for process in processes:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def _start_readers(
    workers: int, timezones: list[str], chunks: list[list[_Entry]], tz: tzinfo | None
) -> list[subprocess.Popen[bytes]]:
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from store.io.ics import serve_chunks; serve_chunks()"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]  # all start up (imports) while the first is fed
    for worker, process in enumerate(processes):
        assert process.stdin is not None
        process.stdin.write(pickle.dumps((timezones, chunks[worker::workers], tz)))
        process.stdin.close()
    return processes


def serve_chunks() -> None:
    """A reading worker (see _read_chunks): (time zones, chunks, tz) from stdin, then each
    chunk's _read_chunk to stdout as soon as it is done."""
    timezones, chunks, tz = pickle.load(sys.stdin.buffer)
    for chunk in chunks:
        pickle.dump(_read_chunk(timezones, chunk, tz), sys.stdout.buffer)
        sys.stdout.buffer.flush()


def _workers(chunks: int) -> int:
    """How many processes read `chunks` chunks: starting one costs about a chunk's reading."""
    if chunks < _PARALLEL_FROM:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8, chunks // _PARALLEL_FROM))


@dataclass
class _Read:
    """One entry as read: its row (or why it could not be), and what decides if it is kept."""

    where: str
    uid: str | None
    instance: bool  # has a RECURRENCE-ID: a changed occurrence of a recurring event
    row: ParsedRow | None
    error: str = ""


def _read_entry(component: Any, line: int, tz: tzinfo | None) -> _Read:
    where = f"{component.name.lower()} at line {line}"
    uid = component.get("UID")
    read = _Read(
        where, None if uid is None else str(uid), component.get("RECURRENCE-ID") is not None, None
    )
    try:
        read.row = _activity(component, line, where, tz)
    except Exception as exc:  # noqa: BLE001 - one odd event must not stop the import
        read.error = f"{where}: could not be read ({_reason(exc)}); skipped"
    return read


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


def _when(component: Any, name: str, where: str, problems: list[str]) -> date | datetime | None:
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
    return value  # type: ignore[no-any-return]  # icalendar's decoded values are untyped


def _store(
    value: date | datetime, tz: tzinfo | None, *, as_day: bool = False, as_moment: bool = False
) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None and not as_day:
        value = _in_utc(value)
    return when_to_storage(value, tz, as_day=as_day, as_moment=as_moment)


def _in_utc(value: datetime) -> datetime:
    """An aware moment in UTC, with its zone's offset looked up once per local day.

    A VTIMEZONE from the file becomes a dateutil tzical, which walks its rules from their first
    year (1601 in Outlook's files) on every lookup: without this, a quarter of the time of a big
    import. Offsets change a few times a year at most, so a day with the same offset at its
    first and last second has that offset all day; on a day of a change every moment is
    looked up as before, which keeps gaps and repeated hours exact.
    """
    zone = value.tzinfo
    if zone is UTC or zone is None:
        return value
    try:
        offset = _offset_all_day(zone, value.date())
    except TypeError:  # a zone that cannot be a cache key
        offset = None
    if offset is None:
        return value.astimezone(UTC)
    return (value.replace(tzinfo=None) - offset).replace(tzinfo=UTC)


@functools.lru_cache(maxsize=8192)
def _offset_all_day(zone: tzinfo, day: date) -> timedelta | None:
    first = datetime.combine(day, time(0, 0), tzinfo=zone).utcoffset()
    last = datetime.combine(day, time(23, 59, 59), tzinfo=zone).utcoffset()
    return first if first == last else None


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
                last_day = (
                    (end - timedelta(microseconds=1)).date()
                    if isinstance(end, datetime)
                    else end - timedelta(days=1)
                )
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
        rules = [
            f"{name}:{_ical(component, name)}"
            for name in ("RRULE", "RDATE")
            if component.get(name) is not None
        ]
        if rules:
            note = (
                "Recurring event: only the first occurrence was imported (" + "; ".join(rules) + ")"
            )
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
        moment = _when(component, prop, where, problems)
        if moment is not None:
            record[field_name] = _store(moment, tz, as_moment=True)
    _extensions(component, record, refs, tz)
    if not record.get("subject"):
        problems.append(f"{where}: no subject (SUMMARY)")
    return row


def _ical(component: Any, name: str) -> str:
    value = component.get(name)
    values = value if isinstance(value, list) else [value]
    return ",".join(v.to_ical().decode("utf-8", errors="replace") for v in values)


def _extensions(
    component: Any, record: dict[str, Any], refs: dict[str, str], tz: tzinfo | None
) -> None:
    """Our X-TERMCRM-* properties: fields iCalendar has no property for."""
    for name in list(component.keys()):
        upper = name.upper()
        if not upper.startswith(_X):
            continue
        field_name = upper[len(_X) :].lower().replace("-", "_")
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


def export_ics(
    activities: list[dict[str, Any]], names: dict[str, str], *, now: datetime | None = None
) -> bytes:
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
        for prop, field_name in (
            ("summary", "subject"),
            ("description", "description"),
            ("location", "location"),
        ):
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
                component.add(_X + field_name.upper().replace("_", "-"), str(activity[field_name]))
        regarding = activity.get("regarding_id")
        if regarding:
            params = {}
            if activity.get("regarding_type"):
                params[_X + "TYPE"] = str(activity["regarding_type"])
            component.add(
                _X + "REGARDING", names.get(str(regarding)) or str(regarding), parameters=params
            )
        calendar.add_component(component)
    return bytes(calendar.to_ical())


def _event(activity: dict[str, Any]) -> Any:
    event = icalendar.Event()
    start_text = activity.get("start_at") or activity.get("due_at")
    if not start_text:
        return None
    all_day = activity.get("all_day") is True or bool(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(start_text))
    )
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
    if (
        start is not None
        and due is not None
        and (isinstance(start, datetime) != isinstance(due, datetime))
    ):
        # RFC 5545: DUE and DTSTART must be of the same type; keep the start in our extension.
        todo.add(_X + "START-AT", str(activity["start_at"]))
    elif start is not None:
        todo.add("dtstart", start)
    if due is not None:
        todo.add("due", due)
    status = activity.get("status")
    todo.add(
        "status",
        {"completed": "COMPLETED", "canceled": "CANCELLED"}.get(str(status), "NEEDS-ACTION"),
    )
    completed = _value(activity.get("completed_at"))
    if isinstance(completed, date) and not isinstance(completed, datetime):
        completed = datetime(completed.year, completed.month, completed.day, tzinfo=UTC)
    if completed is not None:
        todo.add("completed", completed)
    return todo
