"""Shared pieces of the import/export layer: the parsed-row shape, decoding, dates and value maps.

Pure functions only (no database, no textual). Everything here is forgiving: functions that read
foreign data return None for what they cannot understand instead of raising, and the callers turn
that into a per-row problem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from store.dates import MONTHS
from store.io.fields import ADDRESS_FIELDS, MULTILINE_FIELDS, RELATIONSHIPS

__all__ = [
    "DYNAMICS_INDUSTRIES",
    "LIMITS",
    "ImportLimitError",
    "ImportLimits",
    "ParsedRow",
    "Progress",
    "decode_bytes",
    "day_to_storage",
    "key",
    "mangled_text",
    "moment_to_storage",
    "parse_bool",
    "parse_when",
    "read_import_file",
    "single_line",
    "split_full_name",
    "to_activity_status",
    "to_activity_type",
    "to_direction",
    "to_priority",
    "to_record_status",
    "to_regarding_type",
    "to_relationship",
    "when_to_storage",
]


@dataclass
class ParsedRow:
    """One record read from a file, before references are resolved and it is stored.

    `line`: where it starts in the file (1-based physical line; for vCards and iCalendar the line
    of its BEGIN). `record`: CRM field names to values (stripped strings; `all_day` is a bool);
    empty values are left out. `refs`: reference fields (parent_account_id, primary_contact_id,
    account_id, regarding_id) to the raw text found (an id, a source id or a name) to resolve
    later. `ref_names`: for a reference given by id, the name the file gives beside it, to link
    by when the id finds nothing (an export taken to another database). `problems`:
    human-readable notes about this record; the record is still usable unless it is empty.
    """

    line: int
    record: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    ref_names: dict[str, str] = field(default_factory=dict)


Progress = Callable[[int, int], None]  # (rows done, rows in all)


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class ImportLimits:
    """How much one import may read (README, "Import limits"). A file beyond any of them is
    refused as a whole, as early as it shows, so a hostile or runaway file costs bounded memory
    and time. Tests lower them to meet them with small files."""

    file_bytes: int = 256 * 2**20  # the file itself, checked before it is read
    rows: int = 1_000_000  # CSV rows, vCards, events and to-dos
    fields: int = 1_000  # CSV columns in a row, properties in one card or event
    field_chars: int = 2**20  # one CSV field, one unfolded vCard or iCalendar line


LIMITS = ImportLimits()


class ImportLimitError(ValueError):
    """A file beyond one of the import limits; the message is one line that names it."""


def over_limit(what: str, limit: int, advice: str = "split the file") -> ImportLimitError:
    """The error for a file with more than `limit` of `what` ("events", "columns in a row")."""
    return ImportLimitError(f"more than {limit:,} {what}, the limit for one import; {advice}")


def read_import_file(path: Path, limits: ImportLimits = LIMITS) -> bytes:
    """The bytes of a file to import, refused by its size before they are read. Reads at most
    one byte past the cap, so a file that grows meanwhile (or lies in stat) is caught too."""
    cap = limits.file_bytes
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(cap + 1) if size <= cap else b""
    if size > cap or len(data) > cap:
        shown = max(size, len(data))
        raise ImportLimitError(
            f"the file is {_mib(shown)}; the limit for one import is {_mib(cap)}: split the file"
        )
    return data


def check_size(data: bytes, limits: ImportLimits = LIMITS) -> None:
    """The size cap for bytes that did not come through read_import_file."""
    if len(data) > limits.file_bytes:
        raise ImportLimitError(
            f"the file is {_mib(len(data))}; the limit for one import is "
            f"{_mib(limits.file_bytes)}: split the file"
        )


def check_entries(entries: list[tuple[int, list[str]]], what: str, limits: ImportLimits) -> None:
    """The caps for a file split into entries of content lines ((line of BEGIN, lines), as
    vCards are): how many entries, properties in one, characters in one unfolded line."""
    if len(entries) > limits.rows:
        raise over_limit(what, limits.rows)
    for start, lines in entries:
        properties = unfolded = 0
        for line in lines:
            folded = line[:1] in (" ", "\t")
            unfolded = unfolded + len(line) - 1 if folded else len(line)
            if unfolded > limits.field_chars:
                raise over_limit(
                    "characters in one line",
                    limits.field_chars,
                    f"the entry at line {start} has a longer one",
                )
            properties += not folded
        if properties - 2 > limits.fields:  # BEGIN and END are no properties
            raise over_limit(
                "properties in one entry", limits.fields, f"the one at line {start} has more"
            )


def _mib(size: int) -> str:
    if size % 2**20 == 0:
        return f"{size // 2**20:,} MiB"
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size:,} bytes"


# --------------------------------------------------------------------------- text


_NOT_ALNUM = re.compile(r"[\W_]+")


def key(text: str) -> str:
    """Lower-case, keep only letters and digits: `Address 1: City` -> `address1city`."""
    return _NOT_ALNUM.sub("", text.lower())


# A letter, question marks, a letter ("Fran?ois"), three or more in a row ("?????"), or U+FFFD:
# what is left of accents after a file went through a lossy encoding.
_MANGLED = re.compile(r"[^\W\d_]\?+[^\W\d_]|\?{3,}|\ufffd")


def mangled_text(value: str) -> bool:
    """Whether the value looks like its accents were lost to a wrong encoding."""
    return bool(_MANGLED.search(value))


def single_line(field_name: str, value: str) -> str:
    """Join the lines of a value for a field that must be a single line."""
    if field_name in MULTILINE_FIELDS or ("\n" not in value and "\r" not in value):
        return value
    parts = [p.strip() for p in re.split(r"[\r\n]+", value)]
    joiner = ", " if field_name in ADDRESS_FIELDS else " "
    return joiner.join(p for p in parts if p)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file of unknown encoding. Returns (text, encoding name). Never raises.

    UTF-8 (with or without a byte-order mark) and UTF-16/32 with a BOM are recognised first. Other
    files are most often Windows-1252 (Excel on Windows, Dynamics, Outlook), which is what we use
    when it decodes to plausible Western text; otherwise (Cyrillic, Greek, CJK...) we use what
    charset-normalizer finds. Undecodable bytes become U+FFFD.
    """
    boms = (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None:
        # Western text has a few accented letters among plain ones. Cyrillic, Greek or Asian
        # text read as Windows-1252 turns (nearly) every letter into an accented one.
        letters = [c for c in western if c.isalpha()]
        accented = sum(1 for c in letters if ord(c) > 127)
        if not letters or accented / len(letters) < 0.3:
            return western, "cp1252"
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        guess = best.encoding if best is not None else None
    except Exception:  # noqa: BLE001 - a detector failure must not stop the import
        guess = None
    if guess:
        try:
            return data.decode(guess, errors="replace"), guess
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace"), "cp1252"


# --------------------------------------------------------------------------- dates and times


_TIME = (
    r"(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?"
    r"\s*(?P<tz>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMERIC = re.compile(
    r"(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?"
    r"(?:(?:\s+|t|,\s*)" + _TIME + r")?",
    re.IGNORECASE,
)
# Month names as exports write them: the same table the date parser uses.
_MONTHS = MONTHS
_WORDY_DMY = re.compile(
    r"(?:[a-z]+,?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-]+(?P<m>[a-z]+)\.?[\s\-,]+(?P<y>\d{4})"
    r"(?:(?:\s+|,\s*|t)" + _TIME + r")?",
    re.IGNORECASE,
)
_WORDY_MDY = re.compile(
    r"(?:[a-z]+,?\s+)?(?P<m>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})"
    r"(?:(?:\s+|,\s*|t)" + _TIME + r")?",
    re.IGNORECASE,
)


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


def _clock(m: re.Match[str]) -> tuple[time, tzinfo | None] | None:
    """The time of day and optional UTC offset of a match made with _TIME (None if invalid)."""
    if m.group("h") is None:
        return time(0, 0), None
    hour = int(m.group("h"))
    minute = int(m.group("mi") or 0)
    second = int(m.group("s") or 0)
    ampm = (m.group("ampm") or "").lower().replace(".", "")
    if m.group("mi") is None and not ampm:
        return None  # a bare number after a date is not a time
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone: tzinfo | None = None
    tz_text = (m.group("tz") or "").lower()
    if tz_text in ("z", "utc", "gmt"):
        zone = UTC
    elif tz_text:
        digits = tz_text[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            return None
        zone = timezone(-offset if tz_text[0] == "-" else offset)
    return time(hour, minute, second), zone


def _build(year: int, month: int, day: int, m: re.Match[str]) -> date | datetime | None:
    try:
        d = date(year, month, day)
    except ValueError:
        return None
    if m.group("h") is None:
        return d
    clock = _clock(m)
    if clock is None:
        return None
    t, zone = clock
    return datetime.combine(d, t, tzinfo=zone)


def parse_when(text: str, *, day_first: bool | None = None) -> date | datetime | None:
    """Read a date or date-time as exported by common systems; None if it cannot be read.

    Returns a `date` when there is no time of day, else a `datetime`: aware when the text names
    an offset or UTC, naive (local time) otherwise. Accepted: ISO 8601 (`2026-12-03`,
    `2026-12-03 14:00`, `2026-12-03T14:00:00.000Z`, `20261203T140000Z`), US exports
    (`12/3/2026 2:00 PM`; month first unless the first number is above 12), dotted European
    dates (`3.12.2026 14:00`), and month names (`3 Dec 2026`, `Dec 3, 2026 2:00 PM`).
    `day_first=True` reads `03/12/2026` as 3 December (European exports); a first number above
    12 is always a day, a second one above 12 always a day too.
    """
    s = " ".join(text.strip().split())
    if not s or len(s) > 64:
        return None
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", s):
        try:
            return date.fromisoformat(s)
        except ValueError:
            return None
    if re.fullmatch(
        r"\d{4}-?\d{2}-?\d{2}[ tT]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?"
        r"\s*([zZ]|[+-]\d{2}(:?\d{2})?)?",
        s,
    ):
        try:
            value = datetime.fromisoformat(s.upper().replace(" Z", "Z").replace(",", "."))
        except ValueError:
            value = None
        if value is not None:
            return value.replace(microsecond=0)
    m = _NUMERIC.fullmatch(s)
    if m:
        a, b, c, sep = m.group("a"), m.group("b"), m.group("c"), m.group("sep")
        if len(a) == 4:
            return _build(int(a), int(b), int(c), m)
        if len(c) not in (2, 4):
            return None
        if sep == ".":
            return _build(_year(c), int(b), int(a), m)  # 3.12.2026: day first
        first, second = int(a), int(b)
        if first > 12 or (day_first and second <= 12):  # 25/12/2026 cannot be month first
            return _build(_year(c), second, first, m)
        return _build(_year(c), first, second, m)  # 12/3/2026: US month first
    for pattern in (_WORDY_DMY, _WORDY_MDY):
        m = pattern.fullmatch(s)
        if m:
            month = _MONTHS.get(m.group("m").lower())
            if month is None:
                continue
            return _build(int(m.group("y")), month, int(m.group("d")), m)
    return None


def moment_to_storage(value: datetime, tz: tzinfo | None = None) -> str:
    """A datetime as stored: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.

    A naive value is local time: in `tz` if given, else the machine's time zone. Raises
    ValueError/OverflowError for moments that cannot be represented (year 1 or 9999 edges).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=tz) if tz is not None else value.astimezone()
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def day_to_storage(value: date) -> str:
    """A whole day as stored: `YYYY-MM-DD`."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def when_to_storage(
    value: date | datetime,
    tz: tzinfo | None = None,
    *,
    as_day: bool = False,
    as_moment: bool = False,
) -> str:
    """Store a parsed value. `as_day`: keep only the date (in the value's own time zone);
    `as_moment`: a plain date becomes local midnight. Otherwise dates stay `YYYY-MM-DD`."""
    if isinstance(value, datetime):
        if as_day:
            return day_to_storage(value.date())
        return moment_to_storage(value, tz)
    if as_moment:
        return moment_to_storage(datetime.combine(value, time(0, 0)), tz)
    return day_to_storage(value)


# --------------------------------------------------------------------------- value maps


def _lookup(table: dict[str, str], value: str) -> str | None:
    return table.get(key(value))


_RELATIONSHIP_CODES = {
    # Dynamics 365 account.customertypecode option set.
    "1": "competitor",
    "2": "consultant",
    "3": "customer",
    "4": "investor",
    "5": "partner",
    "6": "influencer",
    "7": "press",
    "8": "prospect",
    "9": "reseller",
    "10": "supplier",
    "11": "vendor",
    "12": "other",
}
_RELATIONSHIP_LABELS = {
    "client": "customer",
    "customerdirect": "customer",  # Salesforce Account.Type picklist
    "customerchannel": "customer",
    "channelpartnerreseller": "reseller",
    "installationpartner": "partner",
    "technologypartner": "partner",
    "lead": "prospect",
    "analyst": "influencer",
    "media": "press",
    "journalist": "press",
    "distributor": "reseller",
    "integrator": "partner",
}
# Checked in this order for labels that merely contain one of the words ("Gold partner").
_RELATIONSHIP_WORDS = (
    ("customer", "customer"),
    ("client", "customer"),
    ("prospect", "prospect"),
    ("reseller", "reseller"),
    ("partner", "partner"),
    ("vendor", "vendor"),
    ("supplier", "supplier"),
    ("competitor", "competitor"),
    ("investor", "investor"),
    ("consultant", "consultant"),
    ("influencer", "influencer"),
    ("press", "press"),
)


def to_relationship(value: str) -> str | None:
    """Our relationship for a label or a Dynamics customertypecode; None if not recognised."""
    k = key(value)
    if k in _RELATIONSHIP_CODES:
        return _RELATIONSHIP_CODES[k]
    if k in RELATIONSHIPS:
        return k
    if k in _RELATIONSHIP_LABELS:
        return _RELATIONSHIP_LABELS[k]
    words = re.findall(r"[a-z]+", value.lower())
    for word, relationship in _RELATIONSHIP_WORDS:
        if any(w in (word, word + "s") for w in words):
            return relationship
    return None


# Dynamics 365 account.industrycode option set, for exports that carry the numeric codes.
DYNAMICS_INDUSTRIES = {
    "1": "Accounting",
    "2": "Agriculture and Non-petrol Natural Resource Extraction",
    "3": "Broadcasting Printing and Publishing",
    "4": "Brokers",
    "5": "Building Supply Retail",
    "6": "Business Services",
    "7": "Consulting",
    "8": "Consumer Services",
    "9": "Design, Direction and Creative Management",
    "10": "Distributors, Dispatchers and Processors",
    "11": "Doctor's Offices and Clinics",
    "12": "Durable Manufacturing",
    "13": "Eating and Drinking Places",
    "14": "Entertainment Retail",
    "15": "Equipment Rental and Leasing",
    "16": "Financial",
    "17": "Food and Tobacco Processing",
    "18": "Inbound Capital Intensive Processing",
    "19": "Inbound Repair and Services",
    "20": "Insurance",
    "21": "Legal Services",
    "22": "Non-Durable Merchandise Retail",
    "23": "Outbound Consumer Service",
    "24": "Petrochemical Extraction and Distribution",
    "25": "Service Retail",
    "26": "SIG Affiliations",
    "27": "Social Services",
    "28": "Special Outbound Trade Contractors",
    "29": "Specialty Realty",
    "30": "Transportation",
    "31": "Utility Creation and Distribution",
    "32": "Vehicle Retail",
    "33": "Wholesale",
}

_RECORD_STATUS = {
    "active": "active",
    "inactive": "inactive",
    "enabled": "active",
    "disabled": "inactive",
    "archived": "inactive",
    "deactivated": "inactive",
    "closed": "inactive",
    "0": "active",  # Dynamics statecode
    "1": "inactive",
}
_RECORD_STATUS_REASON = {"1": "active", "2": "inactive"}  # Dynamics statuscode

_ACTIVITY_STATUS = {
    "open": "open",
    "completed": "completed",
    "complete": "completed",
    "done": "completed",
    "closed": "completed",
    "finished": "completed",
    "canceled": "canceled",
    "cancelled": "canceled",
    "scheduled": "open",
    "notstarted": "open",
    "inprogress": "open",
    "waitingonsomeoneelse": "open",
    "waiting": "open",
    "deferred": "open",
    "pending": "open",
    "needsaction": "open",
    "inprocess": "open",
    "confirmed": "open",
    "tentative": "open",
    "draft": "open",
    "free": "open",
    "busy": "open",
    "outofoffice": "open",
    "made": "completed",  # Dynamics phone call
    "received": "completed",
    "sent": "completed",  # Dynamics email
    "0": "open",  # Dynamics activity statecode
    "1": "completed",
    "2": "canceled",
    "3": "open",  # appointment: scheduled
}


def to_record_status(value: str, *, reason: bool = False) -> str | None:
    """active/inactive for a label or a Dynamics statecode (statuscode when `reason`)."""
    k = key(value)
    if reason and k in _RECORD_STATUS_REASON:
        return _RECORD_STATUS_REASON[k]
    return _RECORD_STATUS.get(k)


def to_activity_status(value: str, *, reason: bool = False) -> str | None:
    """open/completed/canceled for a label or a Dynamics activity statecode.

    Numeric status reasons differ per activity type in Dynamics, so only their labels are read.
    """
    k = key(value)
    if reason and k.isdigit():
        return None
    return _ACTIVITY_STATUS.get(k)


_PRIORITY = {
    "low": "low",
    "lowest": "low",
    "minor": "low",
    "normal": "normal",
    "medium": "normal",
    "moderate": "normal",
    "default": "normal",
    "high": "high",
    "highest": "high",
    "urgent": "high",
    "critical": "high",
    "important": "high",
    "0": "low",  # Dynamics prioritycode
    "1": "normal",
    "2": "high",
}


def to_priority(value: str) -> str | None:
    return _PRIORITY.get(key(value))


_ACTIVITY_TYPE = {
    "note": "note",
    "notes": "note",
    "annotation": "note",
    "comment": "note",
    "email": "email",
    "emails": "email",
    "mail": "email",
    "listemail": "email",
    "emailmessage": "email",
    "phonecall": "phone_call",
    "call": "phone_call",
    "phone": "phone_call",
    "telephone": "phone_call",
    "telephonecall": "phone_call",
    "appointment": "appointment",
    "meeting": "appointment",
    "event": "appointment",
    "serviceappointment": "appointment",
    "recurringappointmentmaster": "appointment",
    "task": "task",
    "todo": "task",
    "tasks": "task",
    "other": "task",
    "4201": "appointment",  # Dynamics entity type codes
    "4202": "email",
    "4210": "phone_call",
    "4212": "task",
    "5": "note",
}


def to_activity_type(value: str) -> str | None:
    return _ACTIVITY_TYPE.get(key(value))


_DIRECTION = {
    "incoming": "incoming",
    "inbound": "incoming",
    "in": "incoming",
    "received": "incoming",
    "false": "incoming",  # Dynamics directioncode: false = incoming
    "0": "incoming",
    "no": "incoming",
    "outgoing": "outgoing",
    "outbound": "outgoing",
    "out": "outgoing",
    "sent": "outgoing",
    "true": "outgoing",
    "1": "outgoing",
    "yes": "outgoing",
}


def to_direction(value: str) -> str | None:
    return _DIRECTION.get(key(value))


_REGARDING_TYPE = {
    "account": "account",
    "accounts": "account",
    "company": "account",
    "organization": "account",
    "organisation": "account",
    "1": "account",  # Dynamics object type codes
    "contact": "contact",
    "contacts": "contact",
    "person": "contact",
    "2": "contact",
}


def to_regarding_type(value: str) -> str | None:
    return _REGARDING_TYPE.get(key(value))


_TRUE = {"true", "yes", "y", "1", "x", "on", "t", "checked", "ja", "oui", "si"}
_FALSE = {"false", "no", "n", "0", "off", "f", "unchecked", "nein", "non"}


def parse_bool(value: str) -> bool | None:
    k = key(value)
    if k in _TRUE:
        return True
    if k in _FALSE:
        return False
    return None


# --------------------------------------------------------------------------- names

_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "della",
    "di",
    "da",
    "du",
    "la",
    "le",
    "ter",
    "ten",
    "bin",
    "ibn",
    "al",
    "el",
    "dos",
    "das",
    "do",
    "st",
    "st.",
}


def split_full_name(full: str) -> tuple[str, str]:
    """(first, last) from one name: `Last, First`, or the last word (with particles such as `van
    der`) as the last name. A single word is a last name."""
    full = " ".join(full.split())
    if not full:
        return "", ""
    if full.count(",") == 1:
        last, first = (p.strip() for p in full.split(","))
        if last and first:
            return first, last
    words = full.split(" ")
    if len(words) == 1:
        return "", words[0]
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])
