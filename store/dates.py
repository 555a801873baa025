"""Parse the dates and times people type into the CRM, and format them back.

Standard library only (``datetime``; time zones come from ``now``); never imports textual.

Three representations are involved:

* **typed text** -- whatever the user enters (``tomorrow 9am``, ``+2d``, ``fri``,
  ``2026-12-03 14:00``).  :func:`parse_when` turns it into a value.
* **values** -- an aware :class:`~datetime.datetime` (a moment) or a plain
  :class:`~datetime.date` (a whole day, when the user gave no time).
* **storage text** -- what goes into the database: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC,
  whole seconds) for moments and ``YYYY-MM-DD`` for days.  :func:`to_storage` and
  :func:`from_storage` convert between values and storage text, and
  :func:`format_local` renders storage text compactly for the terminal.

All datetimes produced here have whole-second precision.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

__all__ = [
    "DateParseError",
    "format_full",
    "format_local",
    "from_storage",
    "is_valid_storage",
    "parse_when",
    "to_storage",
]

_HINT = "try 2026-12-03 14:00, tomorrow 9am, +2d or fri"
_MAX_SHOWN = 40  # keep error messages readable in an 80-column terminal
_MAX_TOKENS = 8  # nothing we accept is longer than this


class DateParseError(ValueError):
    """Text could not be read as a date/time.  The message is meant for the user."""


# --------------------------------------------------------------------------- vocabulary

_WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday"),
        ("tue", "tues", "tuesday"),
        ("wed", "weds", "wednesday"),
        ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _i

_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("jan", "january"),
        ("feb", "february"),
        ("mar", "march"),
        ("apr", "april"),
        ("may",),
        ("jun", "june"),
        ("jul", "july"),
        ("aug", "august"),
        ("sep", "sept", "september"),
        ("oct", "october"),
        ("nov", "november"),
        ("dec", "december"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _i
MONTHS = _MONTHS  # month names and abbreviations -> 1..12, for other readers of dates

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Longest day of each month in any year (February: leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "yesterday": -1}

_UNITS: dict[str, str] = {}
for _unit, _names in (
    ("minutes", ("m", "min", "mins", "minute", "minutes")),
    ("hours", ("h", "hr", "hrs", "hour", "hours")),
    ("days", ("d", "day", "days")),
    ("weeks", ("w", "wk", "wks", "week", "weeks")),
):
    for _name in _names:
        _UNITS[_name] = _unit

_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"

# re.ASCII throughout: only 0-9 count as digits.
_A = re.ASCII

_WEEKDAY_RE = re.compile(rf"(?:next\s+)?({_WEEKDAY_NAMES})\.?", _A)
_ISO_DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", _A)
_DAY_MONTH_RE = re.compile(rf"(\d{{1,2}}){_ORD}\s+({_MONTH_NAMES})\.?(?:\s+(\d{{4}}))?", _A)
_MONTH_DAY_RE = re.compile(rf"({_MONTH_NAMES})\.?\s+(\d{{1,2}}){_ORD}(?:\s+(\d{{4}}))?", _A)
_AMBIGUOUS_RE = re.compile(r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?", _A)
_RELATIVE_RE = re.compile(
    r"(?:(?P<into>in)\s+)?(?P<sign>[+-])?\s*(?P<n>\d{1,7})\s*(?P<unit>[a-z]+)(?:\s+(?P<ago>ago))?",
    _A,
)
# "1h30m", "+1h 30m", "in 2h 15m": a duration in several parts, counted as elapsed time.
_DURATION_RE = re.compile(
    r"(?:(?P<into>in)\s+)?(?P<sign>[+-])?\s*(?P<parts>\d{1,7}\s*[a-z]+(?:\s*\d{1,7}\s*[a-z]+)+)",
    _A,
)
_DURATION_PART_RE = re.compile(r"(\d{1,7})\s*([a-z]+)", _A)
_TIME_12H_RE = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?(?:m\.?)?", _A)
_TIME_24H_RE = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?", _A
)
# "2026-12-03t14:00" -> "2026-12-03 14:00" (input is lower-cased first).
_ISO_T_RE = re.compile(r"(\d{4}[-/]\d{1,2}[-/]\d{1,2})t(?=\d)", _A)

_STORED_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", _A)
_STORED_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", _A)


# --------------------------------------------------------------------------- helpers


def _resolve_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now().astimezone()
    if now.tzinfo is None or now.utcoffset() is None:
        # Lenient: a naive "now" is taken to be system-local time.
        return now.astimezone()
    return now


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    if len(shown) > _MAX_SHOWN:
        shown = shown[: _MAX_SHOWN - 1] + "…"
    return shown


def _localize(day: date, t: time, tz: tzinfo | None) -> datetime:
    """``day`` at wall-clock ``t`` in ``tz`` (or at ``t``'s own offset if it has one)."""
    if t.tzinfo is not None:
        return datetime.combine(day, t).astimezone(tz)
    naive = datetime.combine(day, t)
    # Round-trip through UTC so a wall time that doesn't exist (skipped by a DST
    # change) comes out as a real one.
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _shift(now: datetime, delta: timedelta) -> datetime:
    """Elapsed-time arithmetic (correct across DST changes), result in now's tz."""
    return (now.astimezone(UTC) + delta).astimezone(now.tzinfo).replace(microsecond=0)


def _relative(s: str) -> tuple[str, int] | None:
    """``+2d`` / ``2d`` / ``-1w`` / ``in 3 hours`` / ``2 days ago`` -> (unit, signed n)."""
    m = _RELATIVE_RE.fullmatch(s)
    if m is None:
        return None
    unit = _UNITS.get(m["unit"])
    if unit is None:
        return None
    into, sign, ago = m["into"], m["sign"], m["ago"]
    if (into and (sign or ago)) or (sign and ago):
        return None
    n = int(m["n"])
    if sign == "-" or ago:
        n = -n
    return unit, n


def _duration(s: str) -> timedelta | None:
    """``1h30m`` / ``+1h 30m`` / ``-2d 4h`` -> a signed timedelta, or None."""
    m = _DURATION_RE.fullmatch(s)
    if m is None or (m["into"] and m["sign"]):
        return None
    total = timedelta()
    for n, name in _DURATION_PART_RE.findall(m["parts"]):
        unit = _UNITS.get(name)
        if unit is None:
            return None
        total += timedelta(**{unit: int(n)})
    return -total if m["sign"] == "-" else total


def _month_day(today: date, month: int, day: int, year: str | None, shown: str) -> date:
    if not 1 <= day <= _MONTH_DAYS[month - 1]:
        raise DateParseError(f"'{shown}' isn't a valid date")
    if year is not None:
        try:
            return date(int(year), month, day)
        except ValueError:
            raise DateParseError(f"'{shown}' isn't a valid date") from None
    # No year: the next occurrence on or after today (29 Feb: the next leap year).
    for y in range(today.year, today.year + 9):
        try:
            candidate = date(y, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise DateParseError(f"'{shown}' is out of range")  # pragma: no cover - year 9999


def _parse_day(s: str, today: date, anchor: date | None = None) -> date | None:
    """A day phrase, or None if ``s`` isn't one.  Raises for recognisable-but-invalid.

    Named days (``tomorrow``, ``fri``, ``3 dec``) count from ``today``; day counts (``+2d``)
    from ``anchor`` (the start an end is read from), which defaults to today."""
    if s in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[s])

    if m := _WEEKDAY_RE.fullmatch(s):
        target = _WEEKDAYS[m[1]]
        # Strictly after today: "fri" on a Friday is a week away.
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)

    if m := _ISO_DATE_RE.fullmatch(s):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise DateParseError(f"'{s}' isn't a valid date") from None

    if m := _DAY_MONTH_RE.fullmatch(s):
        return _month_day(today, _MONTHS[m[2]], int(m[1]), m[3], s)
    if m := _MONTH_DAY_RE.fullmatch(s):
        return _month_day(today, _MONTHS[m[1]], int(m[2]), m[3], s)

    rel = _relative(s)
    if rel is not None and rel[0] in ("days", "weeks"):
        unit, n = rel
        try:
            return (anchor or today) + timedelta(**{unit: n})
        except OverflowError:
            raise DateParseError(f"'{s}' is too far away") from None

    if _AMBIGUOUS_RE.fullmatch(s):
        raise DateParseError(
            f"can't tell what '{s}' means; write dates as 2026-12-03 and times as 14:00"
        )
    return None


def _parse_offset(text: str) -> timezone:
    if text == "z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:]) if len(digits) > 2 else 0
    if hours > 23 or minutes > 59:
        raise DateParseError(f"'{text}' isn't a valid UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_time(s: str) -> time | None:
    """A time of day, or None if ``s`` isn't one.  Raises for recognisable-but-invalid."""
    if s == "noon":
        return time(12, 0)
    if s == "midnight":
        return time(0, 0)

    if m := _TIME_12H_RE.fullmatch(s):
        hour, minute = int(m[1]), int(m[2] or 0)
        if not (1 <= hour <= 12 and minute <= 59):
            raise DateParseError(f"'{s}' isn't a valid time")
        hour %= 12
        if m[3] == "p":
            hour += 12
        return time(hour, minute)

    if m := _TIME_24H_RE.fullmatch(s):
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise DateParseError(f"'{s}' isn't a valid time")
        tz = _parse_offset(m[4]) if m[4] else None
        return time(hour, minute, second, tzinfo=tz)

    return None


def _normalise(text: str) -> str:
    s = " ".join(text.lower().replace(",", " ").split())
    return _ISO_T_RE.sub(r"\1 ", s)


def _parse(
    s: str, now: datetime, default_time: time | None, base: datetime | date | None = None
) -> datetime | date | None:
    tz = now.tzinfo
    today = now.date()
    # What durations and bare times are read from: the start for an end, else now.
    if isinstance(base, datetime):
        start, base_day = base.astimezone(tz), base.astimezone(tz).date()
    elif isinstance(base, date):
        start, base_day = _localize(base, time(0, 0), tz), base
    else:
        start, base_day = now, today

    if s == "now":
        return now.replace(microsecond=0)
    rel = _relative(s)
    if rel is not None and rel[0] in ("hours", "minutes"):
        unit, n = rel
        return _shift(start, timedelta(**{unit: n}))
    if (delta := _duration(s)) is not None:
        return _shift(start, delta)

    tokens = s.split()
    if len(tokens) > 1:
        tokens = [t for t in tokens if t != "at"]  # "tomorrow at 9am"
    if not tokens or len(tokens) > _MAX_TOKENS:
        return None

    first_error: DateParseError | None = None
    n = len(tokens)
    # Try every split into a day phrase and a time phrase, day first ("fri 3pm")
    # then time first ("3pm fri").  Either phrase may be empty, not both.
    splits = [(" ".join(tokens[:i]), " ".join(tokens[i:])) for i in range(n + 1)]
    splits += [(" ".join(tokens[i:]), " ".join(tokens[:i])) for i in range(1, n)]
    for day_s, time_s in splits:
        try:
            day = _parse_day(day_s, today, base_day) if day_s else base_day
            if day is None:
                continue
            t = _parse_time(time_s) if time_s else None
            if time_s and t is None:
                continue
        except DateParseError as exc:
            first_error = first_error or exc
            continue
        if t is None:
            if default_time is None:
                return day
            t = default_time
        return _localize(day, t, tz).replace(microsecond=0)

    if first_error is not None:
        raise first_error
    return None


# --------------------------------------------------------------------------- public API


def parse_when(
    text: str,
    now: datetime | None = None,
    *,
    default_time: time | None = None,
    base: datetime | date | None = None,
) -> datetime | date:
    """Read a typed date/time.

    ``base`` is the moment (or day) the text is relative to, when it is the end of something
    that starts then: a bare time (``11:00``) is on the base's day, and durations (``+1h``,
    ``90m``, ``1h30m``, ``+2d``) count from it. Named days (``tomorrow``, ``fri``) still
    count from ``now``.

    Returns an aware datetime in ``now``'s timezone, or a plain ``date`` when the
    user gave only a day and ``default_time`` is None (with ``default_time``, that
    day at that time).  ``now`` defaults to the current local time; a naive ``now``
    is taken as system-local.  Raises :class:`DateParseError` -- and nothing else --
    for anything it can't read.
    """
    if not isinstance(text, str):
        raise DateParseError(f"expected text, got {type(text).__name__}")
    now = _resolve_now(now)
    s = _normalise(text)
    if not s:
        raise DateParseError(f"enter a date; {_HINT}")
    try:
        result = _parse(s, now, default_time, base)
    except DateParseError:
        raise
    except (ValueError, OverflowError):
        raise DateParseError(f"'{_shown(text)}' is out of range") from None
    if result is None:
        raise DateParseError(f"can't read '{_shown(text)}' as a date; {_HINT}")
    return result


def to_storage(value: datetime | date) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, seconds truncated) for datetimes, ``YYYY-MM-DD``
    for dates.  Naive datetimes are refused (ValueError): their moment is unknown."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("to_storage needs a timezone-aware datetime")
        u = value.astimezone(UTC)
        return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"to_storage expects a date or datetime, got {type(value).__name__}")


def from_storage(text: str) -> datetime | date:
    """Inverse of :func:`to_storage`: an aware UTC datetime or a date.

    Strict: only the exact forms :func:`to_storage` writes are accepted, so
    ``to_storage(from_storage(s)) == s`` for every valid ``s``.
    """
    if isinstance(text, str):
        try:
            if m := _STORED_DATETIME_RE.fullmatch(text):
                year, month, day, hour, minute, second = (int(g) for g in m.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            if m := _STORED_DATE_RE.fullmatch(text):
                return date(*(int(g) for g in m.groups()))
        except ValueError:
            pass
    shown = _shown(text) if isinstance(text, str) else repr(text)
    raise DateParseError(f"'{shown}' isn't a stored date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)")


def is_valid_storage(text: str) -> bool:
    """True when ``text`` is exactly what :func:`to_storage` would write."""
    try:
        from_storage(text)
    except DateParseError:
        return False
    return True


def format_local(text: str, now: datetime | None = None) -> str:
    """Compact local rendering of a stored value for an 80-column terminal.

    ``today 14:00``, ``tomorrow 09:00``, ``yesterday 18:30``, ``3 Dec 14:00`` (this
    year), ``2025-12-03`` (other years; no time).  Date-only values omit the time
    (``today``, ``3 Dec``).  Never raises: garbage comes back unchanged.
    """
    try:
        value = from_storage(text)
        now = _resolve_now(now)
        today = now.date()
        if isinstance(value, datetime):
            local = value.astimezone(now.tzinfo)
            day, clock = local.date(), f" {local.hour:02d}:{local.minute:02d}"
        else:
            day, clock = value, ""
        offset = (day - today).days
        if offset == 0:
            return "today" + clock
        if offset == 1:
            return "tomorrow" + clock
        if offset == -1:
            return "yesterday" + clock
        if day.year == today.year:
            return f"{day.day} {_MONTH_ABBR[day.month - 1]}{clock}"
        return day.isoformat()
    except Exception:
        return text


def format_full(text: str | None) -> str:
    """A stored value in full local form, unambiguous in any year: ``2026-12-03 14:00``
    (moments) or ``2026-12-03`` (days); empty for none. Garbage comes back unchanged."""
    if not text:
        return ""
    try:
        value = from_storage(text)
    except DateParseError:
        return text
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
