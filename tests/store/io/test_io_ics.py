"""iCalendar import (Outlook, Google) and export."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.io.ics import export_ics, parse_ics

FIXTURES = Path(__file__).parents[2] / "fixtures" / "io"
PARIS = ZoneInfo("Europe/Paris")


def parse(name: str):
    return parse_ics((FIXTURES / name).read_bytes(), tz=PARIS)


def test_outlook():
    result = parse("outlook.ics")
    assert result.errors == [] and result.skipped == []
    review, london, fair, standup, lunch, mars, task = result.activities
    assert review.line == 23
    assert review.record == {
        "type": "appointment",
        "subject": "Quarterly review with Contoso",
        "location": "Contoso HQ, Room 4.12",
        "all_day": False,
        # W. Europe Standard Time (VTIMEZONE in the file): 14:00 CET = 13:00 UTC.
        "start_at": "2026-12-03T13:00:00Z",
        "end_at": "2026-12-03T14:30:00Z",
        "priority": "normal",
        "description": "Agenda:\n1. Pricing, volumes\n2. Next steps",
        "source_id": "040000008200E00074C5B7101A82E00800000000D0C3A5F6A1D5DA010000000000000000"
        "1000000036A1A0B1C2D3E4F5A6B7C8D9E0F1A2B3",
        "created_at": "2026-11-20T08:15:00Z",
        "modified_at": "2026-11-21T09:10:00Z",
    }
    assert review.problems == []
    # GMT Standard Time without a VTIMEZONE: London summer time, UTC+1.
    assert london.record["start_at"] == "2026-07-15T08:00:00Z"
    assert london.record["priority"] == "high"
    # An all-day event over two days: end_at is the last day.
    assert fair.record["all_day"] is True
    assert (fair.record["start_at"], fair.record["end_at"]) == ("2026-12-08", "2026-12-09")
    # Pacific Standard Time, recurring: the first occurrence, with the rule noted.
    assert standup.record["start_at"] == "2026-12-07T17:30:00Z"
    assert standup.record["description"] == (
        "Recurring event: only the first occurrence was imported "
        "(RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO)"
    )
    assert lunch.record["status"] == "canceled"
    assert lunch.record["start_at"] == "2026-12-04T10:00:00Z"  # Romance Standard Time
    # A zone nobody knows: local time, with a warning.
    assert mars.record["start_at"] == "2026-12-05T09:00:00Z"
    assert any("unknown time zone 'Mars Standard Time'" in p for p in mars.problems)
    assert task.record == {
        "type": "task",
        "subject": "Send the revised offer",
        "due_at": "2026-12-11T16:00:00Z",
        "status": "open",
        "priority": "high",
        "description": "Include the volume discount.",
        "source_id": "outlook-task-0006",
    }


def test_google():
    result = parse("google.ics")
    assert result.errors == []
    assert result.skipped == [
        "vevent at line 54: a changed instance of a recurring event; "
        "only the first occurrence is imported"
    ]
    demo, weekly, closed, breakfast = result.activities
    assert demo.record == {
        "type": "appointment",
        "subject": "Product demo for Nordlys AS",
        "location": "Karl Johans gate 1, 0154 Oslo, Norway",
        "all_day": False,
        "start_at": "2026-12-03T13:00:00Z",
        "end_at": "2026-12-03T14:00:00Z",
        "status": "open",
        "description": "Demo of the new module.\nJoin: https://meet.example/abc-defg-hij",
        "source_id": "5k2j3h4g5f6d7s8a9p0o1i2u3y@google.com",
        "created_at": "2026-11-01T10:00:00Z",
        "modified_at": "2026-11-02T11:00:00Z",
    }
    assert weekly.record["start_at"] == "2026-01-05T08:00:00Z"  # Europe/Oslo, winter
    assert weekly.record["subject"] == "Weekly sync"
    assert "RRULE:FREQ=WEEKLY" in weekly.record["description"]
    assert closed.record["all_day"] is True
    assert (closed.record["start_at"], closed.record["end_at"]) == ("2026-12-24", "2026-12-24")
    assert breakfast.record["status"] == "canceled"


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("GMT Standard Time", "2026-01-15T12:00:00Z"),
        ("W. Europe Standard Time", "2026-01-15T11:00:00Z"),
        ("Romance Standard Time", "2026-01-15T11:00:00Z"),
        ("Central European Standard Time", "2026-01-15T11:00:00Z"),
        ("Pacific Standard Time", "2026-01-15T20:00:00Z"),
        ("Eastern Standard Time", "2026-01-15T17:00:00Z"),
        ("Central Standard Time", "2026-01-15T18:00:00Z"),
        ("Tokyo Standard Time", "2026-01-15T03:00:00Z"),
        ("India Standard Time", "2026-01-15T06:30:00Z"),
        ("AUS Eastern Standard Time", "2026-01-15T01:00:00Z"),
        ("China Standard Time", "2026-01-15T04:00:00Z"),
        ("E. South America Standard Time", "2026-01-15T15:00:00Z"),
        ("Europe/Berlin", "2026-01-15T11:00:00Z"),
        ("/freeassociation.sourceforge.net/Europe/Berlin", "2026-01-15T11:00:00Z"),
    ],
)
def test_windows_and_iana_zone_names_without_vtimezone(tzid, expected):
    data = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        f'SUMMARY:s\r\nDTSTART;TZID="{tzid}":20260115T120000\r\nEND:VEVENT\r\n'
        f"END:VCALENDAR\r\n"
    ).encode()
    [event] = parse_ics(data, tz=UTC).activities
    assert event.record["start_at"] == expected
    assert event.problems == []


def test_floating_time_is_local():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:s\n"
        b"DTSTART:20260715T120000\nDURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    [event] = parse_ics(data, tz=PARIS).activities
    assert event.record["start_at"] == "2026-07-15T10:00:00Z"
    assert event.record["end_at"] == "2026-07-15T10:45:00Z"


def test_vtodo_fields():
    data = b"""BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VTODO
UID:t1
SUMMARY:Done thing
DUE;VALUE=DATE:20261203
STATUS:COMPLETED
COMPLETED:20261202T101500Z
PRIORITY:7
END:VTODO
BEGIN:VTODO
UID:t2
SUMMARY:Dropped thing
STATUS:CANCELLED
PRIORITY:0
END:VTODO
BEGIN:VTODO
UID:t3
SUMMARY:Finished, no status
COMPLETED:20261202T101500Z
PRIORITY:3
END:VTODO
END:VCALENDAR
"""
    done, dropped, finished = parse_ics(data, tz=UTC).activities
    assert done.record == {
        "type": "task",
        "subject": "Done thing",
        "due_at": "2026-12-03",
        "status": "completed",
        "completed_at": "2026-12-02T10:15:00Z",
        "priority": "low",
        "source_id": "t1",
    }
    assert dropped.record["status"] == "canceled"
    assert "priority" not in dropped.record  # 0 = undefined
    assert finished.record["status"] == "completed"
    assert finished.record["priority"] == "high"


def test_broken_calendar_reads_what_it_can():
    data = b"""BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VEVENT
UID:ok-1
SUMMARY:Fine
DTSTART:20261203T100000Z
END:VEVENT
BEGIN:VEVENT
UID:bad-2
SUMMARY:Bad start
DTSTART:tomorrow-ish
END:VEVENT
BEGIN:VEVENT
UID:ok-3
SUMMARY:Also fine
DTSTART;VALUE=DATE:20261204
"""
    result = parse_ics(data, tz=UTC)
    assert [a.record.get("source_id") for a in result.activities] == ["ok-1", "bad-2"]
    assert result.errors == ["entry at line 13: the file ends before it does; skipped"]
    assert any("DTSTART" in p for p in result.activities[1].problems)
    assert "start_at" not in result.activities[1].record
    assert parse_ics(b"hello").errors == ["no BEGIN:VCALENDAR found: this is not an iCalendar file"]


def test_export_is_valid_for_calendar_apps():
    data = export_ics(
        [
            {
                "id": "a1",
                "type": "appointment",
                "subject": "Meet",
                "start_at": "2026-12-03T14:00:00Z",
                "end_at": "2026-12-03T15:00:00Z",
            },
            {"id": "t1", "type": "task", "subject": "Do", "due_at": "2026-12-05"},
            {"id": "n1", "type": "note", "subject": "Not a calendar item"},
            {"id": "a2", "type": "appointment", "subject": "No start"},
        ],
        {},
        now=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
    )
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["PRODID"] and calendar["VERSION"] == "2.0"
    event, todo = [c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]
    assert event.name == "VEVENT" and todo.name == "VTODO"
    for component in (event, todo):
        assert component["DTSTAMP"].dt == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert str(event["UID"]) == "a1"
    assert b"\r\n" in data and b"Not a calendar item" not in data


# --------------------------------------------------------------------------- round trip

_text = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
_value = st.one_of(_text, st.sampled_from(["a,b;c", "back\\slash", "Zoë", "x: y", "日本"]))
_moment = st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
)
_day = st.dates(datetime(1970, 1, 1).date(), datetime(2100, 1, 1).date()).map(
    lambda d: d.isoformat()
)
_common = {
    "description": st.lists(_value, min_size=1, max_size=3).map("\n".join),
    "location": _value,
    "priority": st.sampled_from(["low", "normal", "high"]),
    "owner": _value,
    "created_at": _moment,
    "modified_at": _moment,
    "completed_at": _moment,
    "regarding_id": st.just("c1"),
    "direction": st.sampled_from(["incoming", "outgoing"]),
    "phone_number": _value,
}


def _appointment(base, all_day, days, moments, with_end):
    start, end = sorted(days if all_day else moments)
    record = {**base, "type": "appointment", "all_day": all_day, "start_at": start}
    if with_end or all_day:
        record["end_at"] = end
    return record


_appointments = st.builds(
    _appointment,
    st.fixed_dictionaries(
        {
            "id": _text,
            "subject": _value,
            "status": st.sampled_from(["open", "completed", "canceled"]),
        },
        optional=_common,
    ),
    st.booleans(),
    st.lists(_day, min_size=2, max_size=2),
    st.lists(_moment, min_size=2, max_size=2),
    st.booleans(),
)
_tasks = st.fixed_dictionaries(
    {
        "id": _text,
        "subject": _value,
        "type": st.just("task"),
        "status": st.sampled_from(["open", "completed", "canceled"]),
    },
    optional={**_common, "due_at": st.one_of(_moment, _day), "start_at": st.one_of(_moment, _day)},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_appointments, _tasks), min_size=1, max_size=4))
def test_ics_round_trip(activities):
    for activity in activities:
        if activity.get("regarding_id"):
            activity["regarding_type"] = "contact"
    data = export_ics(activities, {"c1": "Ann Lee"})
    result = parse_ics(data, tz=UTC)
    assert result.errors == []
    assert len(result.activities) == len(activities)
    for row, original in zip(result.activities, activities, strict=True):
        expected = {
            ("source_id" if k == "id" else k): v for k, v in original.items() if k != "regarding_id"
        }
        assert row.record == expected
        assert row.refs == ({"regarding_id": "Ann Lee"} if "regarding_id" in original else {})
        assert row.problems == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_raise(data):
    assert isinstance(parse_ics(data).errors, list)


_line = st.one_of(
    st.sampled_from(
        [
            "BEGIN:VCALENDAR",
            "END:VCALENDAR",
            "BEGIN:VEVENT",
            "END:VEVENT",
            "BEGIN:VTODO",
            "END:VTODO",
            "DTSTART:20260101T100000Z",
            "DTSTART;VALUE=DATE:20260101",
            "DTSTART;TZID=Nowhere:20260101T100000",
            "DTEND:garbage",
            "DUE:20260101",
            "DURATION:P1D",
            "DURATION:xx",
            "RRULE:FREQ=DAILY",
            "RRULE:nonsense",
            "STATUS:COMPLETED",
            "PRIORITY:x",
            "COMPLETED:bad",
            "SUMMARY:s",
            "UID:u",
            "RECURRENCE-ID:20260101T100000Z",
            "X-TERMCRM-REGARDING;X-TERMCRM-TYPE=bogus:x",
            "X-TERMCRM-START-AT:zz",
            "BEGIN:VTIMEZONE",
            "TZID:Nowhere",
            "END:VTIMEZONE",
            " folded",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, max_size=16))
def test_calendar_like_garbage_never_raises(lines):
    result = parse_ics("\r\n".join(lines).encode())
    for row in result.activities:
        assert all(isinstance(v, (str, bool)) for v in row.record.values())
