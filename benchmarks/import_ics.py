"""How fast does a big .ics import go? `uv run python benchmarks/import_ics.py`

Writes calendars of 10,000 and 100,000 events the way Outlook exports them (a VTIMEZONE, every
VEVENT with UID, SUMMARY, a folded multi-line DESCRIPTION, DTSTART/DTEND with TZID, some
RRULEs, a few all-day events and to-dos), then runs the real command,
`crm import ics FILE --db NEW.json --regarding Contoso` (a database holding just that
account), in a fresh process per size, and prints a Markdown table of
wall time and events/s. `--sizes 10000,100000` chooses the sizes, `--keep DIR` keeps the files,
`--write FILE --events N` only writes a calendar (for profiling by hand).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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

SUBJECTS = [
    "Quarterly review with Contoso",
    "Café mit Jürgen",
    "Standup",
    "Démo produit",
    "Call about the offer, v2",
    "Lunch; Besançon office",
]


def event(i: int) -> str:
    """One VEVENT (every 50th a VTODO), in Outlook's shape."""
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    hour = 8 + i % 9
    stamp = f"2026{month:02d}{day:02d}T{hour:02d}0000"
    end = f"2026{month:02d}{day:02d}T{hour:02d}4500"
    subject = f"{SUBJECTS[i % len(SUBJECTS)]} #{i}"
    description = (
        "Agenda:\\n1. Pricing, volumes\\n2. Next steps; see the notes from the "
        f"last meeting about item {i} and the follow-up that was promised"
    )
    if i % 50 == 49:
        return "\n".join(
            [
                "BEGIN:VTODO",
                f"UID:bench-task-{i:07d}",
                f"SUMMARY:{subject}",
                f"DUE;TZID=W. Europe Standard Time:{stamp}",
                "STATUS:NEEDS-ACTION",
                "PRIORITY:1",
                "END:VTODO",
            ]
        )
    lines = [
        "BEGIN:VEVENT",
        f"UID:bench-event-{i:07d}@example.com",
        f"SUMMARY:{subject}",
        "DESCRIPTION:" + description[:60],
        " " + description[60:],
    ]
    if i % 40 == 7:
        lines += [
            f"DTSTART;VALUE=DATE:2026{month:02d}{day:02d}",
            f"DTEND;VALUE=DATE:2026{month:02d}{min(day + 1, 28):02d}",
        ]
    else:
        lines += [
            f"DTSTART;TZID=W. Europe Standard Time:{stamp}",
            f"DTEND;TZID=W. Europe Standard Time:{end}",
        ]
    if i % 10 == 3:
        lines.append("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO")
    lines += [
        "LOCATION:Contoso HQ\\, Room 4.12",
        "PRIORITY:5",
        "STATUS:CONFIRMED",
        "CREATED:20261120T081500Z",
        "LAST-MODIFIED:20261121T091000Z",
        "DTSTAMP:20261121T091000Z",
        "END:VEVENT",
    ]
    return "\n".join(lines)


def calendar(events: int) -> bytes:
    """A whole .ics file of `events` entries, CRLF line ends as the RFC wants."""
    parts = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Microsoft Corporation//Outlook 16.0//EN",
        VTIMEZONE,
        *(event(i) for i in range(events)),
        "END:VCALENDAR",
        "",
    ]
    return "\n".join(parts).replace("\n", "\r\n").encode("utf-8")


def run(path: Path, db: Path) -> float:
    """Wall time of `crm import ics PATH --db DB --regarding Contoso`, in a fresh process."""
    crm = str(Path(sys.executable).parent / "crm")
    subprocess.run(
        [crm, "add", "account", "--db", str(db), "--name", "Contoso"],
        check=True,
        capture_output=True,
    )
    started = time.perf_counter()
    done = subprocess.run(
        [crm, "import", "ics", str(path), "--db", str(db), "--regarding", "Contoso"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip().splitlines()[-1], file=sys.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--write", type=Path, help="only write a calendar to this file")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    if args.write:
        args.write.write_bytes(calendar(args.events))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print("| events | file MiB | `crm import ics` wall s | events/s |")
        print("|---:|---:|---:|---:|")
        for size in (int(s) for s in args.sizes.split(",")):
            path = folder / f"calendar-{size}.ics"
            path.write_bytes(calendar(size))
            db = folder / f"import-{size}.json"
            for stale in folder.glob(f"import-{size}.json*"):
                stale.unlink()
            seconds = run(path, db)
            mib = path.stat().st_size / 2**20
            print(f"| {size:,} | {mib:.1f} | {seconds:.1f} | {size / seconds:,.0f} |")


if __name__ == "__main__":
    main()
