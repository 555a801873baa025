"""store.io.common: date reading, value maps, names, decoding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from store.io.common import (
    decode_bytes,
    mangled_text,
    moment_to_storage,
    parse_when,
    split_full_name,
    to_activity_status,
    to_activity_type,
    to_direction,
    to_priority,
    to_record_status,
    to_relationship,
    when_to_storage,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("20261203", date(2026, 12, 3)),
        ("2026-12-3", date(2026, 12, 3)),
        ("2026/12/03", date(2026, 12, 3)),
        ("2026-12-03 14:00", datetime(2026, 12, 3, 14, 0)),
        ("2026-12-03T14:00:00", datetime(2026, 12, 3, 14, 0)),
        ("2026-12-03T14:00:00.000Z", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        ("20261203T140000Z", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        (
            "2026-12-03T14:00:00+01:00",
            datetime(2026, 12, 3, 14, 0, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("12/3/2026 2:00 PM", datetime(2026, 12, 3, 14, 0)),
        ("12/3/2026 12:30 AM", datetime(2026, 12, 3, 0, 30)),
        ("12/3/2026", date(2026, 12, 3)),
        ("12/3/26", date(2026, 12, 3)),
        ("25/12/2026", date(2026, 12, 25)),
        ("3.12.2026", date(2026, 12, 3)),
        ("3.12.2026 14:05", datetime(2026, 12, 3, 14, 5)),
        ("3 Dec 2026", date(2026, 12, 3)),
        ("Dec 3, 2026 2:00 PM", datetime(2026, 12, 3, 14, 0)),
        ("Thursday, December 3, 2026", date(2026, 12, 3)),
    ],
)
def test_parse_when_formats(text, expected):
    assert parse_when(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "soon", "13:00", "2026-02-30", "13/13/2026", "12/3/2026 25:00", "1/2/3", "99999999999999"],
)
def test_parse_when_rejects(text):
    assert parse_when(text) is None


def test_day_first():
    assert parse_when("03/12/2026", day_first=True) == date(2026, 12, 3)
    assert parse_when("03/12/2026") == date(2026, 3, 12)
    assert parse_when("03/25/2026", day_first=True) == date(2026, 3, 25)


def test_storage_formats():
    assert moment_to_storage(datetime(2026, 12, 3, 14, 0), PARIS) == "2026-12-03T13:00:00Z"
    assert moment_to_storage(datetime(2026, 7, 3, 14, 0), PARIS) == "2026-07-03T12:00:00Z"
    assert when_to_storage(date(2026, 12, 3)) == "2026-12-03"
    assert when_to_storage(date(2026, 12, 3), PARIS, as_moment=True) == "2026-12-02T23:00:00Z"
    assert when_to_storage(datetime(2026, 12, 3, 23, 30), PARIS, as_day=True) == "2026-12-03"


def test_value_maps():
    assert to_relationship("3") == "customer"  # Dynamics customertypecode
    assert to_relationship("12") == "other"
    assert to_relationship("Customer - Direct") == "customer"
    assert to_relationship("Channel Partner / Reseller") == "reseller"
    assert to_relationship("Gold partners") == "partner"
    assert to_relationship("Martian") is None
    assert to_record_status("0") == "active"
    assert to_record_status("Inactive") == "inactive"
    assert to_record_status("2", reason=True) == "inactive"
    assert to_activity_status("Cancelled") == "canceled"
    assert to_activity_status("Not Started") == "open"
    assert to_activity_status("1") == "completed"
    assert to_activity_status("5", reason=True) is None
    assert to_priority("2") == "high"
    assert to_priority("Medium") == "normal"
    assert to_activity_type("Phone Call") == "phone_call"
    assert to_activity_type("phonecall") == "phone_call"
    assert to_activity_type("Call") == "phone_call"
    assert to_activity_type("E-mail") == "email"
    assert to_direction("Outbound") == "outgoing"
    assert to_direction("0") == "incoming"


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("John Smith", "John", "Smith"),
        ("Smith, John", "John", "Smith"),
        ("Mary Ann  Jones", "Mary Ann", "Jones"),
        ("Pieter van der Berg", "Pieter", "van der Berg"),
        ("Cher", "", "Cher"),
        ("", "", ""),
    ],
)
def test_split_full_name(full, first, last):
    assert split_full_name(full) == (first, last)


def test_mangled_text():
    assert mangled_text("Fran?ois")
    assert mangled_text("?????")
    assert mangled_text("Caf\ufffd")
    assert not mangled_text("Call back?")
    assert not mangled_text("François")


def test_decode_bytes():
    assert decode_bytes("é".encode()) == ("é", "utf-8")
    assert decode_bytes(b"\xef\xbb\xbfa") == ("a", "utf-8-sig")
    assert decode_bytes("Zoë;Besançon".encode("cp1252")) == ("Zoë;Besançon", "cp1252")
    assert decode_bytes("a,b\n".encode("utf-16")) == ("a,b\n", "utf-16")
    text, _ = decode_bytes(b"\x81\x8d\xff\xfe\x00")
    assert isinstance(text, str)


def test_decode_bytes_non_western():
    text = "Имя;Город\nИван;Москва\nПётр;Санкт-Петербург\n"
    assert decode_bytes(text.encode("cp1251"))[0] == text
