"""Tests for store.dates: parsing typed dates, storage round-trips, local display."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.dates import (
    DateParseError,
    format_local,
    from_storage,
    is_valid_storage,
    parse_when,
    to_storage,
)

OSLO = ZoneInfo("Europe/Oslo")
# Friday 27 November 2026, 10:00 in Oslo (UTC+01:00 in winter).
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=OSLO)
NOW_UTC = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, tz=OSLO) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


def test_fixture_now_is_a_friday():
    assert NOW.weekday() == 4


# --------------------------------------------------------------------------- ISO


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("2026/12/03", date(2026, 12, 3)),
        ("2026-12-3", date(2026, 12, 3)),
        ("2026-12-03 14:00", at(2026, 12, 3, 14)),
        ("2026-12-03T14:00", at(2026, 12, 3, 14)),
        ("2026-12-03t14:00", at(2026, 12, 3, 14)),
        ("2026-12-03 14:00:30", at(2026, 12, 3, 14, 0, 30)),
        ("2026-12-03 14:00:30.999", at(2026, 12, 3, 14, 0, 30)),
        ("2026-12-03T14:00:00Z", at(2026, 12, 3, 15)),
        ("2026-12-03T14:00:00z", at(2026, 12, 3, 15)),
        ("2026-12-03T14:00:00+01:00", at(2026, 12, 3, 14)),
        ("2026-12-03T14:00:00-0500", at(2026, 12, 3, 20)),
        ("2026-12-03T14:00:00.123456+00:00", at(2026, 12, 3, 15)),
        ("2026-12-03 14:00 +02", at(2026, 12, 3, 13)),
        ("2026-12-03 2pm", at(2026, 12, 3, 14)),
        ("  2026-12-03   14:00  ", at(2026, 12, 3, 14)),
        ("2026-07-01 12:00", at(2026, 7, 1, 12)),  # summer time: +02:00
    ],
)
def test_iso(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(result, datetime):
        assert result.tzinfo is OSLO


def test_iso_with_offset_is_converted_to_nows_timezone():
    result = parse_when("2026-12-03T14:00:00Z", NOW_UTC)
    assert result == at(2026, 12, 3, 14, tz=UTC)
    assert result.utcoffset() == timedelta(0)
    result = parse_when("2026-12-03T14:00:00+01:00", NOW_UTC)
    assert (result.hour, result.tzinfo) == (13, UTC)


def test_summer_time_offset():
    assert parse_when("2026-07-01 12:00", NOW).utcoffset() == timedelta(hours=2)


def test_nonexistent_local_time_is_moved_forward():
    # 02:30 doesn't exist in Oslo on 29 March 2026 (clocks jump 02:00 -> 03:00).
    result = parse_when("2026-03-29 02:30", NOW)
    assert result == at(2026, 3, 29, 3, 30)
    assert result.utcoffset() == timedelta(hours=2)


# --------------------------------------------------------------------------- named days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("TODAY", TODAY),
        ("tomorrow", date(2026, 11, 28)),
        ("Tomorrow", date(2026, 11, 28)),
        ("yesterday", date(2026, 11, 26)),
        ("tomorrow 9am", at(2026, 11, 28, 9)),
        ("tomorrow 9:30", at(2026, 11, 28, 9, 30)),
        ("tomorrow at 9:30", at(2026, 11, 28, 9, 30)),
        ("tomorrow, 9am", at(2026, 11, 28, 9)),
        ("today 14:00", at(2026, 11, 27, 14)),
        ("yesterday 18:15", at(2026, 11, 26, 18, 15)),
        ("9am tomorrow", at(2026, 11, 28, 9)),
        ("tomorrow noon", at(2026, 11, 28, 12)),
        ("tomorrow midnight", at(2026, 11, 28, 0)),
    ],
)
def test_named_days(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)


def test_now():
    assert parse_when("now", NOW) == NOW
    assert parse_when(" NOW ", NOW_UTC) == NOW_UTC


def test_now_drops_microseconds():
    assert parse_when("now", NOW.replace(microsecond=123456)) == NOW


# --------------------------------------------------------------------------- weekdays


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sat", date(2026, 11, 28)),
        ("saturday", date(2026, 11, 28)),
        ("sun", date(2026, 11, 29)),
        ("mon", date(2026, 11, 30)),
        ("Monday", date(2026, 11, 30)),
        ("tue", date(2026, 12, 1)),
        ("tues", date(2026, 12, 1)),
        ("wed", date(2026, 12, 2)),
        ("thu", date(2026, 12, 3)),
        ("thursday", date(2026, 12, 3)),
        # Strictly after today: on a Friday, "fri" is a week away.
        ("fri", date(2026, 12, 4)),
        ("friday", date(2026, 12, 4)),
        ("next fri", date(2026, 12, 4)),
        ("next mon", date(2026, 11, 30)),
        ("fri 3pm", at(2026, 12, 4, 15)),
        ("3pm fri", at(2026, 12, 4, 15)),
        ("next friday 09:15", at(2026, 12, 4, 9, 15)),
    ],
)
def test_weekdays(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)


def test_weekday_is_relative_to_nows_local_date():
    # 23:30 UTC on Friday is already Saturday in Oslo, so "sat" is next week there.
    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert parse_when("sat", late) == date(2026, 11, 28)
    assert parse_when("sat", late.astimezone(OSLO)) == date(2026, 12, 5)


# --------------------------------------------------------------------------- relative


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2d", date(2026, 11, 29)),
        ("2d", date(2026, 11, 29)),
        ("-1d", date(2026, 11, 26)),
        ("+1w", date(2026, 12, 4)),
        ("+ 2 days", date(2026, 11, 29)),
        ("in 2 days", date(2026, 11, 29)),
        ("in 1 week", date(2026, 12, 4)),
        ("2 days ago", date(2026, 11, 25)),
        ("+0d", TODAY),
        ("+2d 9am", at(2026, 11, 29, 9)),
        ("in 2 days 14:00", at(2026, 11, 29, 14)),
        ("+3h", at(2026, 11, 27, 13)),
        ("3h", at(2026, 11, 27, 13)),
        ("+30m", at(2026, 11, 27, 10, 30)),
        ("+90 min", at(2026, 11, 27, 11, 30)),
        ("-2h", at(2026, 11, 27, 8)),
        ("in 3 hours", at(2026, 11, 27, 13)),
        ("in 45 minutes", at(2026, 11, 27, 10, 45)),
        ("2 hours ago", at(2026, 11, 27, 8)),
        ("+24h", at(2026, 11, 28, 10)),
    ],
)
def test_relative(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)


def test_relative_hours_count_elapsed_time_across_dst():
    # Clocks go back 03:00 -> 02:00 in Oslo on 25 October 2026.
    before = datetime(2026, 10, 25, 1, 0, tzinfo=OSLO)
    result = parse_when("+3h", before)
    # (same-tzinfo subtraction is wall-clock, so compare in UTC)
    assert result.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=3)
    assert result.astimezone(UTC) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert (result.hour, result.tzinfo) == (3, OSLO)


def test_relative_minutes_truncate_to_seconds():
    now = NOW.replace(second=5, microsecond=999)
    assert parse_when("+1m", now) == at(2026, 11, 27, 10, 1, 5)


# --------------------------------------------------------------------------- times alone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9am", time(9)),
        ("9 am", time(9)),
        ("9AM", time(9)),
        ("9a.m.", time(9)),
        ("9:30pm", time(21, 30)),
        ("9:30 PM", time(21, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("12:15am", time(0, 15)),
        ("14:00", time(14)),
        ("0:00", time(0)),
        ("23:59", time(23, 59)),
        ("8:05:09", time(8, 5, 9)),
        ("3pm", time(15)),
        ("noon", time(12)),
        ("midnight", time(0)),
        ("at 3pm", time(15)),
    ],
)
def test_time_alone_means_today(text, expected):
    assert parse_when(text, NOW) == datetime.combine(TODAY, expected, tzinfo=OSLO)


def test_time_alone_in_utc():
    assert parse_when("14:00", NOW_UTC) == at(2026, 11, 27, 14, tz=UTC)


# --------------------------------------------------------------------------- month names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 dec", date(2026, 12, 3)),
        ("dec 3", date(2026, 12, 3)),
        ("Dec 3rd", date(2026, 12, 3)),
        ("3 december", date(2026, 12, 3)),
        ("3 december 2026", date(2026, 12, 3)),
        ("december 3 2027", date(2027, 12, 3)),
        ("Dec 3, 2026", date(2026, 12, 3)),
        ("3 Dec. 2026", date(2026, 12, 3)),
        ("dec 3 14:00", at(2026, 12, 3, 14)),
        ("3 dec 2pm", at(2026, 12, 3, 14)),
        ("3 sept", date(2027, 9, 3)),
        # Year defaults to the next occurrence on/after today.
        ("27 nov", TODAY),
        ("26 nov", date(2027, 11, 26)),
        ("1 jan", date(2027, 1, 1)),
        ("29 feb", date(2028, 2, 29)),
        ("may 1", date(2027, 5, 1)),
        ("3 dec 1999", date(1999, 12, 3)),
    ],
)
def test_month_names(text, expected):
    result = parse_when(text, NOW)
    assert result == expected
    assert type(result) is type(expected)


# --------------------------------------------------------------------------- default_time


def test_default_time_applies_to_day_only_input():
    nine = time(9)
    assert parse_when("tomorrow", NOW, default_time=nine) == at(2026, 11, 28, 9)
    assert parse_when("2026-12-03", NOW, default_time=nine) == at(2026, 12, 3, 9)
    assert parse_when("+2d", NOW, default_time=nine) == at(2026, 11, 29, 9)
    assert parse_when("fri", NOW, default_time=nine) == at(2026, 12, 4, 9)
    assert parse_when("3 dec", NOW_UTC, default_time=nine) == at(2026, 12, 3, 9, tz=UTC)


def test_default_time_does_not_override_given_time():
    nine = time(9)
    assert parse_when("tomorrow 3pm", NOW, default_time=nine) == at(2026, 11, 28, 15)
    assert parse_when("+3h", NOW, default_time=nine) == at(2026, 11, 27, 13)
    assert parse_when("now", NOW, default_time=nine) == NOW


def test_aware_default_time_keeps_its_offset():
    nine_utc = time(9, tzinfo=UTC)
    result = parse_when("tomorrow", NOW, default_time=nine_utc)
    assert result == at(2026, 11, 28, 10)
    assert result.tzinfo is OSLO


def test_default_now_is_current_local_time():
    result = parse_when("now")
    assert isinstance(result, datetime)
    assert result.tzinfo is not None
    assert abs(result - datetime.now(UTC)) < timedelta(seconds=5)
    assert parse_when("today") == datetime.now().astimezone().date()


def test_naive_now_is_taken_as_local():
    result = parse_when("14:00", datetime(2026, 11, 27, 10, 0))
    assert isinstance(result, datetime)
    assert result.tzinfo is not None


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "flurb",
        "03/12/2026",
        "12/03/2026",
        "3/12",
        "3.12.2026",
        "14.00",
        "tomorrow 14.00",
        "2026-02-30",
        "2026-13-01",
        "2026-00-10",
        "2026-12-03 25:00",
        "25:00",
        "14:60",
        "14:00:60",
        "13pm",
        "0am",
        "9:75am",
        "31 feb",
        "30 february 2027",
        "32 dec",
        "0 dec",
        "29 feb 2027",
        "14",
        "tomorrow 9",
        "next",
        "next week",
        "at",
        "now 14:00",
        "+3h 9am",
        "+1mo",
        "in +2 days",
        "+2 days ago",
        "in 2 days ago",
        "2026-12-03 14:00 +25:00",
        "9999-12-31 23:30z",
        "0001-01-01 00:00",
        "+9999999d",
        "tomorrow tomorrow",
        "fri fri",
        "3rd of",
        "3pm 4pm",
        "1 2 3 4 5 6 7 8 9",
        "２０２６-１２-０３",  # fullwidth digits
    ],
)
def test_errors(text):
    with pytest.raises(DateParseError):
        parse_when(text, NOW)


def test_error_messages_are_user_facing():
    with pytest.raises(DateParseError) as exc:
        parse_when("flurb", NOW)
    assert str(exc.value) == (
        "can't read 'flurb' as a date; try 2026-12-03 14:00, tomorrow 9am, +2d or fri"
    )
    for text, fragment in [
        ("2026-02-30", "isn't a valid date"),
        ("25:00", "isn't a valid time"),
        ("13pm", "isn't a valid time"),
        ("03/12/2026", "2026-12-03"),
        ("", "enter a date"),
    ]:
        with pytest.raises(DateParseError, match=fragment):
            parse_when(text, NOW)


def test_long_garbage_is_shortened_in_the_message():
    with pytest.raises(DateParseError) as exc:
        parse_when("x" * 500, NOW)
    assert len(str(exc.value)) < 120


def test_date_parse_error_is_a_value_error():
    assert issubclass(DateParseError, ValueError)


def test_non_string_input():
    with pytest.raises(DateParseError):
        parse_when(None, NOW)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- storage


def test_to_storage():
    assert to_storage(at(2026, 12, 3, 14)) == "2026-12-03T13:00:00Z"
    assert to_storage(at(2026, 12, 3, 14, 0, 30).replace(microsecond=999999)) == (
        "2026-12-03T13:00:30Z"
    )
    assert to_storage(date(2026, 12, 3)) == "2026-12-03"
    assert to_storage(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"
    assert to_storage(date(5, 1, 1)) == "0005-01-01"


def test_to_storage_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        to_storage(datetime(2026, 12, 3, 14))


def test_from_storage():
    assert from_storage("2026-12-03T13:00:00Z") == datetime(2026, 12, 3, 13, tzinfo=UTC)
    assert from_storage("2026-12-03T13:00:00Z").tzinfo is UTC
    assert from_storage("2026-12-03") == date(2026, 12, 3)
    assert type(from_storage("2026-12-03")) is date


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2026-12-03T13:00:00",
        "2026-12-03T13:00Z",
        "2026-12-03 13:00:00Z",
        "2026-12-03T13:00:00+00:00",
        "2026-12-03T13:00:00.5Z",
        "2026-12-03t13:00:00z",
        "2026-12-3",
        "2026-02-30",
        "2026-12-03T24:00:00Z",
        " 2026-12-03",
        "2026-12-03\n",
        "tomorrow",
    ],
)
def test_from_storage_rejects(text):
    with pytest.raises(DateParseError):
        from_storage(text)
    assert not is_valid_storage(text)


def test_is_valid_storage():
    assert is_valid_storage("2026-12-03")
    assert is_valid_storage("2026-12-03T13:00:00Z")
    assert not is_valid_storage(None)  # type: ignore[arg-type]


def test_parse_then_store():
    assert to_storage(parse_when("tomorrow 9am", NOW)) == "2026-11-28T08:00:00Z"
    assert to_storage(parse_when("fri", NOW)) == "2026-12-04"


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-11-27T13:00:00Z", "today 14:00"),
        ("2026-11-28T08:00:00Z", "tomorrow 09:00"),
        ("2026-11-26T17:30:00Z", "yesterday 18:30"),
        ("2026-12-03T13:00:00Z", "3 Dec 14:00"),
        ("2026-01-15T08:05:00Z", "15 Jan 09:05"),
        ("2026-07-01T10:00:00Z", "1 Jul 12:00"),  # summer time
        ("2025-12-03T13:00:00Z", "2025-12-03"),
        ("2027-01-02T13:00:00Z", "2027-01-02"),
        ("2026-11-27T23:30:00Z", "tomorrow 00:30"),  # local date, not UTC date
        ("2026-11-27", "today"),
        ("2026-11-28", "tomorrow"),
        ("2026-11-26", "yesterday"),
        ("2026-12-03", "3 Dec"),
        ("2025-12-03", "2025-12-03"),
        ("garbage", "garbage"),
        ("", ""),
        ("2026-02-30", "2026-02-30"),
    ],
)
def test_format_local(stored, expected):
    assert format_local(stored, NOW) == expected


def test_format_local_in_utc():
    assert format_local("2026-11-27T23:30:00Z", NOW_UTC) == "today 23:30"


def test_format_local_never_raises():
    assert format_local(None, NOW) is None  # type: ignore[arg-type]
    # Converting to Oslo overflows past year 9999: the input comes back unchanged.
    assert format_local("9999-12-31T23:30:00Z", NOW) == "9999-12-31T23:30:00Z"
    assert format_local("0001-01-01T00:00:00Z", NOW) in ("0001-01-01T00:00:00Z", "0001-01-01")
    assert isinstance(format_local("2026-11-27T13:00:00Z"), str)


def test_format_local_fits_a_column():
    for stored in ["2026-11-28T08:00:00Z", "2026-12-03T13:00:00Z", "2025-12-03"]:
        assert len(format_local(stored, NOW)) <= 14


# --------------------------------------------------------------------------- properties

# Words and fragments the parser knows (or nearly knows), for "soup" inputs.
_VOCAB = """
    today tomorrow yesterday now next fri friday mon at in ago noon midnight dec december
    feb 3 29 31 2026 0000 9999 +2d -1d 2d +3h +30m +1w days hours 9am 13pm 12:00 25:00
    14:00:30 z +01:00 2026-12-03 2026-02-30 2026/12/03 03/12/2026 t : - + . , 9999999 1e9 ٣ ⅷ
""".split()

_ZONES = st.sampled_from(
    [
        UTC,
        OSLO,
        ZoneInfo("America/New_York"),
        ZoneInfo("Asia/Kolkata"),
        ZoneInfo("Pacific/Chatham"),
        timezone(timedelta(hours=-9, minutes=-30)),
    ]
)
_NOWS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES
)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=40), now=_NOWS)
def test_parse_arbitrary_text_only_raises_date_parse_error(text, now):
    try:
        result = parse_when(text, now)
    except DateParseError:
        return
    assert isinstance(result, date)
    if isinstance(result, datetime):
        assert result.tzinfo is now.tzinfo


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=5),
    sep=st.sampled_from([" ", "", "  ", "\t"]),
    now=_NOWS,
    default=st.none() | st.times(),
)
def test_parse_vocabulary_soup_only_raises_date_parse_error(words, sep, now, default):
    try:
        result = parse_when(sep.join(words), now, default_time=default)
    except DateParseError:
        return
    assert isinstance(result, date)
    if isinstance(result, datetime):
        assert result.tzinfo is now.tzinfo
        assert result.microsecond == 0
    else:
        assert default is None


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=_ZONES,
        allow_imaginary=False,
    )
)
def test_storage_round_trips_datetimes(value):
    stored = to_storage(value)
    assert is_valid_storage(stored)
    back = from_storage(stored)
    # Compare in UTC: aware datetimes with fold=1 never compare equal across zones.
    assert back == value.astimezone(UTC).replace(microsecond=0)
    assert back.tzinfo is UTC
    assert to_storage(back) == stored


@settings(max_examples=100, deadline=None)
@given(st.dates())
def test_storage_round_trips_dates(value):
    stored = to_storage(value)
    assert is_valid_storage(stored)
    back = from_storage(stored)
    assert back == value
    assert type(back) is date


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_from_storage_arbitrary_text(text):
    try:
        value = from_storage(text)
    except DateParseError:
        assert not is_valid_storage(text)
        return
    assert to_storage(value) == text


@settings(max_examples=100, deadline=None)
@given(
    value=st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 12, 31),
        timezones=st.just(OSLO),
        allow_imaginary=False,
    ),
    sep=st.sampled_from([" ", "T", "t"]),
    seconds=st.booleans(),
)
def test_iso_local_strings_round_trip_through_parse(value, sep, seconds):
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}{sep}"
    text += f"{value.hour:02d}:{value.minute:02d}"
    expected = value.replace(microsecond=0)
    if seconds:
        text += f":{value.second:02d}"
    else:
        expected = expected.replace(second=0)
    result = parse_when(text, NOW)
    assert result.tzinfo is OSLO
    # Wall-clock equality in the local zone.
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)


@settings(max_examples=100, deadline=None)
@given(
    value=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2200, 12, 31),
        timezones=_ZONES,
        allow_imaginary=False,
    ),
    now=st.sampled_from([NOW, NOW_UTC]),
    zulu=st.booleans(),
)
def test_iso_offset_strings_round_trip_through_parse(value, now, zulu):
    # (from 1970: older local-mean-time offsets have seconds, e.g. +05:53:20)
    value = value.replace(microsecond=0)
    if zulu:
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    else:
        text = value.isoformat()  # e.g. 2026-12-03T14:00:00+01:00
    result = parse_when(text, now)
    assert result.astimezone(UTC) == value.astimezone(UTC)
    assert result.tzinfo is now.tzinfo
    assert to_storage(result) == to_storage(value)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["-", "/"]))
def test_iso_date_strings_round_trip_through_parse(value, sep):
    text = value.isoformat().replace("-", sep)
    result = parse_when(text, NOW)
    assert result == value
    assert type(result) is date


# --------------------------------------------------------------------------- relative to a start
# An appointment's end is read from its start: a bare time is on the start's day, a duration
# counts from the start. START is a week after NOW, so reading from NOW would give another day.
START = at(2026, 12, 7, 9, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:00", at(2026, 12, 7, 11, 0)),
        ("11am", at(2026, 12, 7, 11, 0)),
        ("3pm", at(2026, 12, 7, 15, 0)),
        ("+1h", at(2026, 12, 7, 10, 30)),
        ("90m", at(2026, 12, 7, 11, 0)),
        ("+30m", at(2026, 12, 7, 10, 0)),
        ("1h30m", at(2026, 12, 7, 11, 0)),
        ("+1h 30m", at(2026, 12, 7, 11, 0)),
        ("in 2 hours", at(2026, 12, 7, 11, 30)),
        ("2026-12-08 10:00", at(2026, 12, 8, 10, 0)),
        ("tomorrow 9am", at(2026, 11, 28, 9, 0)),  # a named day still counts from today
    ],
)
def test_end_is_read_relative_to_the_start(text, expected):
    assert parse_when(text, NOW, base=START) == expected


def test_a_day_count_from_a_start_day_stays_a_day():
    assert parse_when("+2d", NOW, base=date(2026, 12, 7)) == date(2026, 12, 9)


def test_a_bare_time_after_an_all_day_start_is_on_that_day():
    assert parse_when("11:00", NOW, base=date(2026, 12, 7)) == at(2026, 12, 7, 11, 0)


def test_base_in_another_timezone_is_read_in_nows():
    start_utc = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 in Oslo
    assert parse_when("+1h", NOW, base=start_utc) == at(2026, 12, 7, 10, 30)


def test_compound_durations_count_from_now_without_a_base():
    assert parse_when("1h30m", NOW) == at(2026, 11, 27, 11, 30)
    assert parse_when("-1h 15m", NOW) == at(2026, 11, 27, 8, 45)
