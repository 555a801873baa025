"""Bounded work on hostile files (issue 8): a big .ics is read with work in proportion to what
the CRM keeps, shows its progress on a terminal, and every import stops at a documented cap
(file size, rows, fields per row, characters in one field or line) with a one-line message.

Everything uses real files and the real `crm` process; the caps are lowered through the
`limits` parameter where a file over the real cap would be slow to build, and the size cap is
met with a sparse file.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.io.common import LIMITS, ImportLimitError, ImportLimits, read_import_file
from store.io.ics import parse_ics
from store.io.jobs import prepare_import
from store.service import CRM

ROOT = Path(__file__).resolve().parents[3]

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""

# What Outlook adds to every event and the CRM does not keep.
UNUSED = [
    "DTSTAMP:20261121T091000Z",
    "SEQUENCE:0",
    "TRANSP:OPAQUE",
    "CLASS:PUBLIC",
    "ORGANIZER;CN=Ada:mailto:ada@example.com",
    "ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:mailto:bob@example.com",
    "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
    "X-MICROSOFT-CDO-IMPORTANCE:1",
    "BEGIN:VALARM",
    "ACTION:DISPLAY",
    "DESCRIPTION:Reminder",
    "TRIGGER:-PT15M",
    "END:VALARM",
]


def event(i: int, *extra: str) -> str:
    hour = 8 + i % 9
    day = f"202612{1 + i % 28:02d}"
    return "\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:event-{i}",
            f"SUMMARY:Meeting {i}",
            "DESCRIPTION:Agenda\\, notes and the next steps for the meeting numb",
            f" er {i}",
            f"DTSTART;TZID=W. Europe Standard Time:{day}T{hour:02d}0000",
            f"DTEND;TZID=W. Europe Standard Time:{day}T{hour:02d}4500",
            *extra,
            "END:VEVENT",
        ]
    )


def calendar(events: int, *extra: str) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        VTIMEZONE,
        *(event(i, *extra) for i in range(events)),
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.fixture
def calls() -> Iterator[Counter[str]]:
    """Counts calls of the functions that do the work of reading an .ics, by name."""
    counted: Counter[str] = Counter()
    watched = {"raw_parts", "_find_comp"}

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code.co_name in watched:
            counted[frame.f_code.co_name] += 1

    sys.setprofile(profile)
    try:
        yield counted
    finally:
        sys.setprofile(None)


# --------------------------------------------------------------------------- work


def test_properties_the_crm_does_not_keep_are_not_parsed(calls: Counter[str]) -> None:
    result = parse_ics(calendar(200, *UNUSED))
    sys.setprofile(None)
    assert result.errors == [] and len(result.activities) == 200
    first = result.activities[0].record
    assert first["start_at"] == "2026-12-01T07:00:00Z"  # CET, from the file's VTIMEZONE
    assert first["description"] == ("Agenda, notes and the next steps for the meeting number 0")
    # Each event has 6 properties the CRM reads and 13 lines it does not; icalendar is given
    # the former (plus the calendar's own lines and its time zone), never the VALARM's.
    assert calls["raw_parts"] <= 200 * 8 + 30


def test_a_file_time_zone_is_looked_up_once_a_day_not_once_an_event(calls: Counter[str]) -> None:
    # 2,000 events on 28 days: dateutil walks the VTIMEZONE's rules from 1601 on each lookup.
    result = parse_ics(calendar(2_000))
    sys.setprofile(None)
    assert len(result.activities) == 2_000
    assert {r.record["end_at"] for r in result.activities[:9]} == {
        f"2026-12-{1 + i:02d}T{7 + i:02d}:45:00Z" for i in range(9)
    }
    assert 0 < calls["_find_comp"] <= 28 * 3


def test_an_offset_change_inside_a_day_is_still_exact() -> None:
    # 29 March 2026: CET to CEST at 02:00 local. Before and after it, on the same day.
    data = calendar(0).replace(
        b"END:VCALENDAR",
        b"\r\n".join(
            [
                b"BEGIN:VEVENT",
                b"UID:a",
                b"SUMMARY:early",
                b"DTSTART;TZID=W. Europe Standard Time:20260329T010000",
                b"END:VEVENT",
                b"BEGIN:VEVENT",
                b"UID:b",
                b"SUMMARY:late",
                b"DTSTART;TZID=W. Europe Standard Time:20260329T120000",
                b"END:VEVENT",
                b"END:VCALENDAR",
            ]
        ),
    )
    early, late = parse_ics(data).activities
    assert early.record["start_at"] == "2026-03-29T00:00:00Z"
    assert late.record["start_at"] == "2026-03-29T10:00:00Z"


# --------------------------------------------------------------------------- progress


def crm_with_terminal_stderr(*args: str | Path) -> tuple[int, str, str]:
    """The real `crm` with stderr on a pseudo-terminal: (status, stdout, terminal bytes)."""
    master, slave = os.openpty()
    env = {**os.environ, "CRM_USER": "alice", "LANG": "C.UTF-8", "TZ": "UTC"}
    env.pop("CRM_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from tui.cli import main; main()", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    received = bytearray()
    try:
        while select.select([master], [], [], 120)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            received.extend(chunk)
    finally:
        os.close(master)
        assert process.stdout is not None
        out = process.stdout.read().decode()
        status = process.wait(60)
    return status, out, received.decode()


def test_a_big_ics_import_shows_reading_progress_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "big.ics"
    path.write_bytes(calendar(3_000))
    db = tmp_path / "crm.json"
    CRM.open(db, user="alice").create("accounts", {"name": "Contoso"})
    status, out, terminal = crm_with_terminal_stderr(
        "import", "ics", path, "--db", db, "--regarding", "Contoso", "--dry-run"
    )
    assert status == 0, terminal
    assert "3,000 new" in out
    assert "reading 3,000/3,000 events" in terminal
    assert "\rreading 1,000/3,000 events" in terminal  # seen while it was still working
    # On a pipe (a script, a log), nothing of that.
    piped = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tui.cli import main; main()",
            "import",
            "ics",
            str(path),
            "--db",
            str(db),
            "--regarding",
            "Contoso",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert piped.returncode == 0 and "reading" not in piped.stderr


# --------------------------------------------------------------------------- caps


def crm(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRM_USER": "alice", "LANG": "C.UTF-8", "TZ": "UTC"}
    env.pop("CRM_DB", None)
    return subprocess.run(
        [sys.executable, "-c", "from tui.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_caps_are_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "Import limits" in readme
    for number in (
        f"{LIMITS.file_bytes // 2**20} MiB",
        f"{LIMITS.rows:,}",
        f"{LIMITS.fields:,}",
        f"{LIMITS.field_chars:,}",
    ):
        assert number in readme


@pytest.mark.parametrize(
    "kind,name", [("ics", "huge.ics"), ("accounts", "huge.csv"), ("vcard", "huge.vcf")]
)
def test_a_file_over_the_size_cap_is_refused_before_it_is_read(
    tmp_path: Path, kind: str, name: str
) -> None:
    path = tmp_path / name
    with open(path, "wb") as handle:
        handle.truncate(LIMITS.file_bytes + 1)  # sparse: no disk, no time
    result = crm("import", kind, path, "--db", tmp_path / "crm.json", "--dry-run")
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "\n" not in message
    assert "256 MiB" in message and "limit" in message and name in message


def test_read_import_file_stops_at_the_cap_even_if_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "small.ics"
    path.write_bytes(b"x" * 100)
    assert read_import_file(path, ImportLimits(file_bytes=100)) == b"x" * 100
    with pytest.raises(ImportLimitError, match="limit"):
        read_import_file(path, ImportLimits(file_bytes=99))


def test_too_many_events_stop_before_any_is_parsed(calls: Counter[str]) -> None:
    with pytest.raises(ImportLimitError) as raised:
        parse_ics(calendar(11), limits=ImportLimits(rows=10))
    sys.setprofile(None)
    assert "10" in str(raised.value) and "\n" not in str(raised.value)
    assert calls["raw_parts"] == 0  # counted while splitting, before icalendar saw a line
    assert len(parse_ics(calendar(10), limits=ImportLimits(rows=10)).activities) == 10


def csv_bytes(rows: int, columns: int = 2, cell: str = "x") -> bytes:
    header = ",".join(["name", *(f"c{i}" for i in range(1, columns))])
    body = [",".join([f"Acme {r}", *([cell] * (columns - 1))]) for r in range(rows)]
    return ("\r\n".join([header, *body]) + "\r\n").encode()


def vcards(count: int, *extra: str) -> bytes:
    return "".join(
        "\r\n".join(
            ["BEGIN:VCARD", "VERSION:3.0", f"FN:Ada {i}", f"N:{i};Ada;;;", *extra, "END:VCARD", ""]
        )
        for i in range(count)
    ).encode()


@pytest.mark.parametrize(
    "kind,data",
    [("ics", calendar(6)), ("accounts", csv_bytes(6)), ("vcard", vcards(6))],
    ids=["ics", "csv", "vcard"],
)
def test_too_many_rows_stop_the_import(kind: str, data: bytes) -> None:
    with pytest.raises(ImportLimitError, match="limit"):
        prepare_import(kind, data, limits=ImportLimits(rows=5))
    assert len(prepare_import(kind, data, limits=ImportLimits(rows=6)).rows) == 6


def test_too_many_columns_stop_a_csv_import(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes(2, columns=LIMITS.fields + 1))
    result = crm("import", "accounts", path, "--db", tmp_path / "crm.json", "--dry-run")
    assert result.returncode == 1
    assert "1,000" in result.stderr and "column" in result.stderr
    assert result.stderr.count("\n") == 1
    path.write_bytes(csv_bytes(2, columns=LIMITS.fields))
    assert (
        crm("import", "accounts", path, "--db", tmp_path / "crm.json", "--dry-run").returncode == 0
    )


def test_a_row_longer_than_the_header_counts_too() -> None:
    data = b"name,city\r\nAcme,Oslo" + b",x" * 20 + b"\r\n"
    with pytest.raises(ImportLimitError, match="10"):
        prepare_import("accounts", data, limits=ImportLimits(fields=10))


@pytest.mark.parametrize(
    "kind,data",
    [
        ("ics", calendar(2, *(f"X-NOTE-{i}:n" for i in range(20)))),
        ("vcard", vcards(2, *(f"NOTE:{i}" for i in range(20)))),
    ],
    ids=["ics", "vcard"],
)
def test_too_many_properties_in_one_entry_stop_the_import(kind: str, data: bytes) -> None:
    with pytest.raises(ImportLimitError, match="10"):
        prepare_import(kind, data, limits=ImportLimits(fields=10))


def test_an_ics_line_over_the_field_cap_stops_the_import(tmp_path: Path) -> None:
    # A folded line: no physical line is long, the unfolded one is just over 1 MiB.
    folded = "\r\n ".join(["DESCRIPTION:" + "x" * 60] + ["y" * 74] * (LIMITS.field_chars // 74))
    path = tmp_path / "long.ics"
    path.write_bytes(calendar(1, folded))
    result = crm("import", "ics", path, "--db", tmp_path / "crm.json", "--dry-run")
    assert result.returncode == 1
    assert f"{LIMITS.field_chars:,}" in result.stderr and "line" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "kind,data",
    [
        ("accounts", csv_bytes(1, cell="z" * 50)),
        ("vcard", vcards(1, "NOTE:" + "z" * 50)),
        ("ics", calendar(1, "LOCATION:" + "z" * 50)),
    ],
    ids=["csv", "vcard", "ics"],
)
def test_a_field_over_the_cap_stops_the_import(kind: str, data: bytes) -> None:
    with pytest.raises(ImportLimitError, match="40"):
        prepare_import(kind, data, limits=ImportLimits(field_chars=40))


def test_a_csv_field_between_the_csv_module_limit_and_ours_is_read() -> None:
    # Python's csv refuses fields over 128 KiB by default; the documented cap is 1 MiB.
    data = csv_bytes(1, cell="z" * 200_000)
    prepared = prepare_import("accounts", data)
    assert len(prepared.rows) == 1 and prepared.rows[0].problems == []


def test_reading_in_worker_processes_gives_what_one_process_gives(calls: Counter[str]) -> None:
    odd = [
        "\n".join(
            [
                "BEGIN:VEVENT",
                "UID:event-7",
                "RECURRENCE-ID:20261208T080000",
                "SUMMARY:Moved",
                "DTSTART:20261208T090000Z",
                "END:VEVENT",
            ]
        ),
        "\n".join(
            ["BEGIN:VEVENT", "UID:bad", "SUMMARY:Bad start", "DTSTART:tomorrow-ish", "END:VEVENT"]
        ),
        "\n".join(["BEGIN:VEVENT", "UID:broken", 'SUMMARY;X="unterminated:x', "END:VEVENT"]),
    ]
    body = [event(i, "RRULE:FREQ=WEEKLY" if i == 7 else "PRIORITY:1") for i in range(1_600)]
    body[600:600], body[1_300:1_300] = odd[:2], odd[2:]
    data = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            VTIMEZONE,
            *body,
            "BEGIN:VEVENT",
            "UID:cut",
            "END:VCALENDAR",
            "",
        ]
    ).encode()
    seen: list[tuple[int, int]] = []
    alone = parse_ics(data, workers=1)
    here = calls["raw_parts"]
    shared = parse_ics(data, workers=2, progress=lambda done, total: seen.append((done, total)))
    sys.setprofile(None)
    assert here > 0 and calls["raw_parts"] == here  # the workers parsed it all, not a fallback
    assert shared.activities == alone.activities and len(alone.activities) == 1_602
    assert shared.errors == alone.errors
    assert alone.errors[-1].endswith("the file ends before it does; skipped")
    assert shared.skipped == alone.skipped and len(alone.skipped) == 1
    assert seen[-1] == (1_604, 1_604) and [d for d, _ in seen] == sorted(d for d, _ in seen)
