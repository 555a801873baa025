"""Whole-process benchmark of the `crm` command line, with sqlite3 and stock TinyDB beside it.

    uv run python benchmarks/bench_cli.py                  # scale M, 5 runs a row: ~5 minutes
    uv run python benchmarks/bench_cli.py --skip-tinydb    # without TinyDB: ~2 minutes
    uv run python benchmarks/bench_cli.py --scale L        # 3 runs a row, TinyDB once
    uv run python benchmarks/bench_cli.py --only log,show --repeat 9

Every sample is a whole process (interpreter start, imports, opening the database, the work,
exit), started with `subprocess.Popen` and reaped with `os.wait4`, which gives the wall time and
the peak resident memory from the kernel. Rows: the issue's `crm log`, `crm add`, `crm list
--search`, `crm show` and `crm agenda`, each on a private copy of bench_store's cached demo
database, timed after one warm-up run; and, on its own row, the first run on a copy without the
derived `DB.index` file (building it once). The references are `python -c` programs doing the
same on the same documents with sqlite3 and with stock TinyDB. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # run as a script from anywhere: bench_store sits beside us
    sys.path.insert(0, str(HERE))

from bench_store import DATA, USER, Report, dataset, fmt_ms, p95  # noqa: E402

MS = 1e3
REPEATS = {"M": 5, "L": 3}
WAL = ("-wal", "-shm")  # an sqlite database's own sidecars
ROWS = ("first-open", "log", "add", "search", "show", "agenda")
# (target ms, target peak MB) per scale, from the issue; None: no target at that scale.
TARGETS: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "M": {
        "log": (300, 120),
        "add": (300, None),
        "search": (400, None),
        "show": (400, None),
        "agenda": (500, None),
    },
    "L": {"log": (1_000, None), "search": (1_500, None), "show": (1_000, None)},
}


# --------------------------------------------------------------------------- the references
# Each is a `python -c` program importing only what it needs, so that what it costs is the
# interpreter, its module and the work, like the `crm` process beside it.
SQLITE_WRITE = """
import json, os, sqlite3, sys, time
path, table, user, *values = sys.argv[1:]
connection = sqlite3.connect(path, isolation_level=None)
connection.execute("PRAGMA synchronous=FULL")
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
rid = os.urandom(13).hex().upper()
stamp = {"owner": user, "created_at": now, "created_by": user, "modified_at": now,
         "modified_by": user, "version": 1}
connection.execute("BEGIN IMMEDIATE")
if table == "activities":
    (regarding,) = values
    # crm log resolves --regarding first: the same check, by primary key.
    if connection.execute("SELECT 1 FROM accounts WHERE id = ?", (regarding,)).fetchone() is None:
        sys.exit("no such account")
    doc = {"id": rid, "type": "note", "subject": "x", "regarding_type": "account",
           "regarding_id": regarding, "status": "completed", "completed_at": now, **stamp}
    connection.execute("INSERT INTO activities VALUES (?, ?, ?, ?, ?)",
                       (rid, regarding, now, user, json.dumps(doc, ensure_ascii=False)))
else:
    first, last = values
    doc = {"id": rid, "first_name": first, "last_name": last, "status": "active", **stamp}
    connection.execute("INSERT INTO contacts VALUES (?, ?, ?, ?, ?)",
                       (rid, f"{first} {last}", None, None, json.dumps(doc, ensure_ascii=False)))
connection.execute("COMMIT")
connection.close()
print(rid)
"""

SQLITE_SEARCH = """
import json, sqlite3, sys
path, text = sys.argv[1:]
connection = sqlite3.connect(path)
rows = connection.execute(
    "SELECT doc FROM contacts WHERE name LIKE ?1 OR email LIKE ?1"
    " OR json_extract(doc, '$.phone') LIKE ?1 OR json_extract(doc, '$.address_city') LIKE ?1"
    " ORDER BY name", (f"%{text}%",)).fetchall()
print(json.dumps([json.loads(doc) for (doc,) in rows], ensure_ascii=False, indent=2))
"""

SQLITE_SHOW = """
import json, sqlite3, sys
path, rid = sys.argv[1:]
connection = sqlite3.connect(path)
(doc,) = connection.execute("SELECT doc FROM accounts WHERE id = ?", (rid,)).fetchone()
account = json.loads(doc)
for key, value in account.items():
    print(f"  {key:<20}  {value}")
contacts = [json.loads(doc) for (doc,) in connection.execute(
    "SELECT doc FROM contacts WHERE account_id = ? ORDER BY name", (rid,))]
print(f"Contacts ({len(contacts)})")
for c in contacts:
    print(f"  {c['id']}  {c.get('first_name', '')} {c.get('last_name', '')}  {c.get('email', '')}")
timeline = [json.loads(doc) for (doc,) in connection.execute(
    "SELECT doc FROM activities WHERE regarding_id = ? ORDER BY when_at DESC", (rid,))]
print(f"Timeline ({len(timeline)})")
for a in timeline[:20]:
    print(f"  {a['id']}  {a['type']}  {a.get('subject', '')}  {a['status']}")
"""

SQLITE_AGENDA = """
import json, sqlite3, sys, time
path = sys.argv[1]
connection = sqlite3.connect(path)
rows = connection.execute(
    "SELECT t.doc, coalesce(a.name, c.name) FROM activities t"
    " LEFT JOIN accounts a ON a.id = t.regarding_id LEFT JOIN contacts c ON c.id = t.regarding_id"
    " WHERE json_extract(t.doc, '$.status') = 'open'"
    " AND json_extract(t.doc, '$.type') IN ('task', 'appointment') ORDER BY t.when_at").fetchall()
today = time.strftime("%Y-%m-%d")
groups = {"Overdue": [], "Today": [], "Upcoming": [], "No date": []}
for doc, regarding in rows:
    a = json.loads(doc)
    when = (a.get("due_at") if a["type"] == "task" else a.get("start_at")) or ""
    group = ("No date" if not when else "Today" if when[:10] == today
             else "Overdue" if when < today else "Upcoming")
    groups[group].append((a, when, regarding))
for title, items in groups.items():
    print(f"{title} ({len(items)})")
    for a, when, regarding in items:
        subject = a.get("subject", "")
        print(f"  {a['id']}  {when}  {a['type']}  {subject}  {regarding}  {a['owner']}")
"""

TINYDB_WRITE = """
import os, sys, time
from tinydb import TinyDB
path, table, user, *values = sys.argv[1:]
db = TinyDB(path)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
rid = os.urandom(13).hex().upper()
stamp = {"owner": user, "created_at": now, "created_by": user, "modified_at": now,
         "modified_by": user, "version": 1}
if table == "activities":
    doc = {"id": rid, "type": "note", "subject": "x", "regarding_type": "account",
           "regarding_id": values[0], "status": "completed", "completed_at": now, **stamp}
else:
    doc = {"id": rid, "first_name": values[0], "last_name": values[1], "status": "active",
           **stamp}
db.table(table).insert(doc)
db.close()
print(rid)
"""

TINYDB_SEARCH = """
import json, re, sys
from tinydb import Query, TinyDB
path, text = sys.argv[1:]
q, pattern = Query(), re.escape(text)
condition = (q.first_name.search(pattern, flags=re.IGNORECASE)
             | q.last_name.search(pattern, flags=re.IGNORECASE)
             | q.email.search(pattern, flags=re.IGNORECASE)
             | q.phone.search(pattern, flags=re.IGNORECASE)
             | q.address_city.search(pattern, flags=re.IGNORECASE))
found = TinyDB(path).table("contacts").search(condition)
found.sort(key=lambda c: (c.get("first_name", ""), c.get("last_name", "")))
print(json.dumps(found, ensure_ascii=False, indent=2))
"""

TINYDB_SHOW = """
import sys
from tinydb import Query, TinyDB
path, rid = sys.argv[1:]
db, q = TinyDB(path), Query()
# Stock TinyDB with JSONStorage reads and parses the whole file for each of these three calls.
account = db.table("accounts").get(q.id == rid)
for key, value in account.items():
    print(f"  {key:<20}  {value}")
contacts = db.table("contacts").search(q.account_id == rid)
print(f"Contacts ({len(contacts)})")
for c in sorted(contacts, key=lambda c: (c.get("first_name", ""), c.get("last_name", ""))):
    print(f"  {c['id']}  {c.get('first_name', '')} {c.get('last_name', '')}  {c.get('email', '')}")
timeline = db.table("activities").search(q.regarding_id == rid)
timeline.sort(key=lambda a: a.get("start_at") or a.get("due_at") or a.get("created_at") or "",
              reverse=True)
print(f"Timeline ({len(timeline)})")
for a in timeline[:20]:
    print(f"  {a['id']}  {a['type']}  {a.get('subject', '')}  {a['status']}")
"""

TINYDB_AGENDA = """
import sys
from tinydb import Query, TinyDB
q = Query()
found = TinyDB(sys.argv[1]).table("activities").search(
    q.type.one_of(["task", "appointment"]) & (q.status == "open"))
def when(a):
    return (a.get("due_at") if a["type"] == "task" else a.get("start_at")) or ""
found.sort(key=when)
print(f"Open ({len(found)})")
for a in found:
    print(f"  {a['id']}  {when(a)}  {a['type']}  {a.get('subject', '')}  {a['owner']}")
"""


# --------------------------------------------------------------------------- measuring
# The processes are started by a small launcher process, not by this one. A child's ru_maxrss
# starts from the memory image it was forked from (the kernel carries the old image's high-water
# mark across exec), so spawned from here every child would report at least this process's
# peak (~25 MB after bench_store and the sqlite query); from a bare interpreter the floor is
# ~10 MB, below any Python process measured. The launcher times each child from Popen to
# os.wait4 and sends back the wall time, the kernel's peak RSS and the exit status.
LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(job["argv"], stdout=out, stderr=err, cwd=job["cwd"])
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    print(json.dumps([elapsed * 1e3, usage.ru_maxrss, process.returncode]), flush=True)
"""


@dataclass
class Run:
    ms: float
    peak_mb: float
    stdout: str


@dataclass
class Samples:
    runs: list[Run] = field(default_factory=list)
    warm_up: Run | None = None

    @property
    def times(self) -> list[float]:
        return [r.ms for r in self.runs]

    def median(self) -> float:
        return statistics.median(self.times)

    def peak(self) -> float:
        return max(r.peak_mb for r in self.runs)  # the worst run: the target is a ceiling

    def cell(self, with_memory: bool = True) -> str:
        if not self.runs:
            return "–"
        text = f"{fmt_ms(self.median())} ({fmt_ms(p95(self.times))})"
        return f"{text}, {self.peak():,.0f} MB" if with_memory else text


def child_env() -> dict[str, str]:
    # Empty, not left as it is: the sandbox exports PYTHONDONTWRITEBYTECODE=1, and the
    # measured processes must find (and may write) compiled bytecode like a normal install.
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "CRM_USER": USER}


class Launcher:
    """The process that starts and reaps the measured processes (see LAUNCHER)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        # -I: no site-packages, no user paths: the smallest interpreter that can run it.
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_env(),
            text=True,
        )

    def run(self, command: list[str], cwd: Path) -> Run:
        """One whole process: wall time from spawn to reaping, and the kernel's peak RSS."""
        assert self.process.stdin is not None and self.process.stdout is not None
        # Output goes to files, not pipes: the launcher blocks in wait4 and must not leave a
        # child stuck on a full pipe.
        out, err = self.scratch / "stdout", self.scratch / "stderr"
        job = {"argv": command, "cwd": str(cwd), "out": str(out), "err": str(err)}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the launcher process died")
        elapsed, max_rss_kib, status = json.loads(answer)
        if status != 0:
            message = err.read_text("utf-8", "replace")[-3000:]
            raise RuntimeError(f"{command[:6]} exited {status}:\n{message}")
        # ru_maxrss is in KiB on Linux.
        return Run(elapsed, max_rss_kib / 1024, out.read_text("utf-8", "replace"))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def sidecars(db: Path) -> list[Path]:
    """The files beside a database that belong to it: journals, the lock, DB.index (+ -wal...)."""
    return sorted(p for p in db.parent.glob(db.name + ".*") if p.is_file())


def is_index(db: Path, extra: Path) -> bool:
    return extra.name.startswith(db.name + ".index")


def private_copy(db: Path, folder: Path, with_index: bool = True) -> Path:
    """A copy of the database `db` and its DB.* sidecars in `folder`, optionally without the
    derived index."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / db.name
    # copy2 keeps modification times, in case an engine tells staleness by them.
    shutil.copy2(db, target)
    for extra in sidecars(db):
        if with_index or not is_index(db, extra):
            shutil.copy2(extra, folder / extra.name)
    return target


def plain_copy(path: Path, folder: Path, suffixes: tuple[str, ...] = ()) -> Path:
    """A copy of a reference's file (and its sqlite -wal/-shm files, when there are any)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copy2(path, target)
    for suffix in suffixes:
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            shutil.copy2(extra, folder / extra.name)
    return target


def index_size(db: Path) -> int | None:
    found = [p for p in sidecars(db) if is_index(db, p)]
    return sum(p.stat().st_size for p in found) if found else None


# --------------------------------------------------------------------------- the rows
@dataclass
class Subjects:
    busiest: str  # the account with the most activities regarding it (for show)
    busiest_count: int
    plain: str  # the median account by activities (where log writes)
    plain_count: int


def choose_subjects(sqlite_path: Path) -> Subjects:
    # The sqlite file holds the same documents; reading it keeps this parent process small,
    # which matters: a forked child's ru_maxrss starts at the parent's RSS.
    connection = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        counted = connection.execute(
            "SELECT t.regarding_id, count(*) FROM activities t JOIN accounts a"
            " ON a.id = t.regarding_id GROUP BY t.regarding_id ORDER BY 2, 1"
        ).fetchall()
    finally:
        connection.close()
    busiest, plain = counted[-1], counted[len(counted) // 2]
    return Subjects(busiest[0], busiest[1], plain[0], plain[1])


@dataclass
class Row:
    name: str
    label: str
    crm: Callable[[Path, int], list[str]]  # (database, run number) -> the crm arguments
    sqlite: Callable[[Path, int], list[str]] | None
    tinydb: Callable[[Path, int], list[str]] | None
    summary: Callable[[str], str]  # what the output holds, from its text
    sqlite_note: str = ""
    tinydb_note: str = ""


def json_count(text: str) -> str:
    return f"{len(json.loads(text)):,} hits"


def section_counts(text: str) -> str:
    heads = [line for line in text.splitlines() if line and not line.startswith(" ")]
    return ", ".join(h for h in heads if h.endswith(")")) or text.strip()[:60]


def printed_id(text: str) -> str:
    return "prints the new id" if text.strip() else "no id printed"


def define_rows(subjects: Subjects) -> dict[str, Row]:
    busy, plain = subjects.busiest, subjects.plain
    # Distinct names per run: the same name again would take the possible-duplicate path.
    return {
        "log": Row(
            "log",
            "log: `crm log note --regarding ID --subject x`",
            lambda db, n: ["log", "note", "--regarding", plain, "--subject", "x"],
            lambda db, n: ["-c", SQLITE_WRITE, str(db), "activities", USER, plain],
            lambda db, n: ["-c", TINYDB_WRITE, str(db), "activities", USER, plain],
            printed_id,
            "one INSERT in a transaction, synchronous=FULL, after a PK check of the account",
            "open + one `insert()`: rewrites the whole file, no fsync, no check of the account",
        ),
        "add": Row(
            "add",
            "add: `crm add contact --first-name Xavier --last-name Y001`",
            lambda db, n: ["add", "contact", "--first-name", "Xavier", "--last-name", f"Y{n:03d}"],
            lambda db, n: ["-c", SQLITE_WRITE, str(db), "contacts", USER, "Xavier", f"Y{n:03d}"],
            lambda db, n: ["-c", TINYDB_WRITE, str(db), "contacts", USER, "Xavier", f"Y{n:03d}"],
            printed_id,
            "one INSERT, synchronous=FULL; no duplicate check",
            "open + one `insert()`, as for log; no duplicate check",
        ),
        "search": Row(
            "search",
            "search: `crm list contacts --search sao --json`",
            lambda db, n: ["list", "contacts", "--search", "sao", "--json"],
            lambda db, n: ["-c", SQLITE_SEARCH, str(db), "sao"],
            lambda db, n: ["-c", TINYDB_SEARCH, str(db), "sao"],
            json_count,
            "LIKE '%sao%' on name, email, phone, city (full scan); ASCII case folding only, "
            "no accent folding (no São)",
            "regex `Query().search` on the same fields; no accent folding",
        ),
        "show": Row(
            "show",
            f"show: `crm show ID` (busiest account, {subjects.busiest_count:,} activities)",
            lambda db, n: ["show", busy],
            lambda db, n: ["-c", SQLITE_SHOW, str(db), busy],
            lambda db, n: ["-c", TINYDB_SHOW, str(db), busy],
            section_counts,
            "account by PK, its contacts (scan: no index on account_id), its activities by "
            "the (regarding_id, when_at) index, parsed; no hierarchy, raw fields",
            "`get` of the account + `search` of its contacts and activities (each re-reads "
            "the file); no hierarchy",
        ),
        "agenda": Row(
            "agenda",
            "agenda: `crm agenda --all`",
            lambda db, n: ["agenda", "--all"],
            lambda db, n: ["-c", SQLITE_AGENDA, str(db)],
            lambda db, n: ["-c", TINYDB_AGENDA, str(db)],
            section_counts,
            "open tasks/appointments by json_extract (full scan: no status column), "
            "regarding names by PK joins, grouped by date",
            "one `search` of open tasks/appointments, sorted; no regarding names, no groups",
        ),
    }


def target_cell(scale: str, row: str, median: float | None, peak: float | None) -> str:
    own = TARGETS[scale].get(row)
    if own is None:
        m_target = TARGETS["M"].get(row)
        if m_target is None:
            return ""
        ms, mb = m_target
        text = f"≤ {fmt_ms(ms)}" if ms is not None else ""
        return f"{text}{f', ≤ {mb:.0f} MB' if mb else ''} (M)"
    ms, mb = own
    parts = []
    if ms is not None:
        verdict = "" if median is None else (" ✅" if median <= ms else " ❌")
        parts.append(f"≤ {fmt_ms(ms)}{verdict}")
    if mb is not None:
        verdict = "" if peak is None else (" ✅" if peak <= mb else " ❌")
        parts.append(f"≤ {mb:.0f} MB{verdict}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- the run
def measure(
    launcher: Launcher,
    make: Callable[[Path, int], list[str]],
    program: str,
    database: Path,
    reps: int,
    warm_up: bool,
) -> Samples:
    # Write back what copies and earlier rows left dirty (GBs at L: TinyDB rewrites the whole
    # file per insert), so that their writeback does not land in this row's fsyncs and reads.
    os.sync()
    samples = Samples()
    if warm_up:
        samples.warm_up = launcher.run([program, *make(database, 0)], database.parent)
    for number in range(1, reps + 1):
        samples.runs.append(launcher.run([program, *make(database, number)], database.parent))
    progress("  runs: " + ", ".join(fmt_ms(t) for t in samples.times))
    return samples


def crm_argv(row: Row) -> Callable[[Path, int], list[str]]:
    return lambda db, n: ["--db", str(db), *row.crm(db, n)]


def first_open(
    launcher: Launcher, crm: str, db: Path, log: Row, reps: int, scratch: Path
) -> tuple[list[str], str, Path]:
    """The first `crm log` on fresh copies without DB.index; returns the table row, a note and
    the last copy (with the index that run built), which the other rows start from."""
    progress("\n== first open (builds the index)")
    samples = Samples()
    built: int | None = None
    copy = db
    for number in range(reps):
        if number:
            shutil.rmtree(copy.parent)
        copy = private_copy(db, scratch / f"first-{number}", with_index=False)
        os.sync()  # as in measure()
        samples.runs.append(launcher.run([crm, *crm_argv(log)(copy, number)], copy.parent))
        built = index_size(copy)
        progress(f"  run {number + 1}: {fmt_ms(samples.runs[-1].ms)}")
    cells = [
        "first open (builds the index): `crm log note` on a copy without DB.index",
        samples.cell(with_memory=False),
        f"{samples.peak():,.0f}",
        "–",
        "–",
        "",
    ]
    if built is None:
        note = (
            "first open: no DB.index appeared (an engine without the index): the row is a "
            "`crm log` on a fresh copy"
        )
    else:
        note = f"first open: each run built a DB.index of {built / 1e6:,.0f} MB"
    return cells, note + f"; a fresh copy for each of the {reps} runs", copy


def index_template(launcher: Launcher, crm: str, db: Path, log: Row, scratch: Path) -> Path:
    """A copy whose DB.index is built (one untimed `crm log`): the rows copy it, index and all,
    so that each row does not rebuild the index in its warm-up (minutes at L)."""
    progress("\n== a copy with its index, for the rows (untimed)")
    copy = private_copy(db, scratch / "template")
    launcher.run([crm, *crm_argv(log)(copy, 0)], copy.parent)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=("M", "L"), default="M")
    parser.add_argument("--seed", type=int, default=0, help="demo data set (default 0)")
    parser.add_argument("--repeat", type=int, help="timed runs per row (default 5 at M, 3 at L)")
    parser.add_argument("--only", default="", help=f"comma-separated rows: {','.join(ROWS)}")
    parser.add_argument(
        "--skip-tinydb", action="store_true", help="leave out stock TinyDB (slow at L)"
    )
    options = parser.parse_args()
    scale = options.scale
    reps = options.repeat or REPEATS[scale]
    wanted = [r for r in options.only.split(",") if r] or list(ROWS)
    unknown = set(wanted) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)} (rows: {', '.join(ROWS)})")
    if reps < 1:
        parser.error("--repeat must be at least 1")
    # At L each TinyDB process parses GBs of JSON: once, without a warm-up.
    tinydb_reps, tinydb_warm = (1, False) if scale == "L" else (reps, True)

    python = sys.executable
    crm = str(Path(python).with_name("crm"))
    if not Path(crm).exists():
        crm = str(ROOT / ".venv" / "bin" / "crm")
    started = time.perf_counter()
    report = Report(scale)
    db, sqlite_path = dataset(scale, options.seed, False, report)
    progress("compiling bytecode (store, tui, .venv) once, so that no child compiles ...")
    subprocess.run(
        [python, "-m", "compileall", "-q", "store", "tui", ".venv"],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        check=False,  # an odd file elsewhere in the venv that does not compile is not ours
    )
    subjects = choose_subjects(sqlite_path)
    rows = define_rows(subjects)
    notes = list(report.notes)
    table: list[list[str]] = []
    details: list[str] = []

    with tempfile.TemporaryDirectory(prefix="bench-cli-", dir=DATA) as scratch_name:
        scratch = Path(scratch_name)
        launcher = Launcher(scratch)
        try:
            floor = launcher.run(["/bin/true"], scratch).peak_mb
            here = scratch / "nothing"  # the baselines need no database: run them in scratch
            baseline = measure(launcher, lambda db, n: ["-c", "pass"], python, here, reps, True)
            version = measure(launcher, lambda db, n: ["--version"], crm, here, reps, True)

            template: Path | None = None
            if "first-open" in wanted:
                cells, note, template = first_open(launcher, crm, db, rows["log"], reps, scratch)
                table.append(cells)
                details.append(note)
            names = [r for r in wanted if r != "first-open"]
            if names and template is None:
                template = index_template(launcher, crm, db, rows["log"], scratch)

            for name in names:
                assert template is not None
                row = rows[name]
                progress(f"\n== {name}")
                copy = private_copy(template, scratch / name)
                had_index = index_size(copy)
                samples = measure(launcher, crm_argv(row), crm, copy, reps, True)
                progress(f"  crm: {samples.cell()}")
                assert samples.warm_up is not None
                # The warm-up's cost shows whether the engine took the copied index or
                # rebuilt it (an index tied to the base file's identity rebuilds on a copy).
                details.append(
                    f"{name}: crm {row.summary(samples.runs[-1].stdout)}; "
                    + (
                        "the copy had no DB.index"
                        if had_index is None
                        else f"the copy came with a DB.index ({had_index / 1e6:,.0f} MB)"
                    )
                    + f"; the warm-up run took {fmt_ms(samples.warm_up.ms)}, "
                    f"{samples.warm_up.peak_mb:,.0f} MB"
                )
                shutil.rmtree(copy.parent)

                reference = "–"
                if row.sqlite is not None:
                    sqlite_copy = plain_copy(sqlite_path, scratch / f"{name}-sqlite", WAL)
                    found = measure(launcher, row.sqlite, python, sqlite_copy, reps, True)
                    reference = found.cell()
                    progress(f"  sqlite3: {reference}")
                    details.append(
                        f"{name}: sqlite3 {row.summary(found.runs[-1].stdout)}: " + row.sqlite_note
                    )
                    shutil.rmtree(sqlite_copy.parent)
                tinydb = "skipped" if options.skip_tinydb else "–"
                if row.tinydb is not None and not options.skip_tinydb:
                    # Stock TinyDB reads only the base file: the journals and index are ours.
                    tinydb_copy = plain_copy(db, scratch / f"{name}-tinydb")
                    found = measure(
                        launcher, row.tinydb, python, tinydb_copy, tinydb_reps, tinydb_warm
                    )
                    tinydb = found.cell()
                    progress(f"  TinyDB: {tinydb}")
                    details.append(
                        f"{name}: TinyDB {row.summary(found.runs[-1].stdout)}: " + row.tinydb_note
                    )
                    shutil.rmtree(tinydb_copy.parent)
                table.append(
                    [
                        row.label,
                        samples.cell(with_memory=False),
                        f"{samples.peak():,.0f}",
                        reference,
                        tinydb,
                        target_cell(scale, name, samples.median(), samples.peak()),
                    ]
                )
        finally:
            launcher.close()

    warm_up = "one warm-up run"
    if scale == "L":
        warm_up += f"; TinyDB {tinydb_reps} run(s) without a warm-up"
    notes.append(
        f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}. Timed runs: "
        f"{reps} a row after {warm_up}; files in the page cache. termcrm: median (p95) of "
        "the wall time; peak MB is the highest ru_maxrss of the timed runs. References: "
        "median (p95), peak MB."
    )
    notes.append(
        f"Baselines: `python -c pass` {baseline.cell()}; `crm --version` {version.cell()}. "
        f"Peak memory cannot read below the launcher's image ({floor:.0f} MB: `/bin/true`)."
    )
    notes.append(
        f"Subjects: show uses {subjects.busiest} ({subjects.busiest_count:,} activities); log "
        f"writes to the median account {subjects.plain} ({subjects.plain_count} activities)."
    )
    notes.extend(details)
    notes.append(f"Whole run: {time.perf_counter() - started:.0f} s.")

    target_head = "target" if scale == "M" else "target (L; (M): set for M only)"
    print(f"## CLI benchmark (whole processes), scale {scale}\n")
    print(f"| row | termcrm median (p95) | termcrm peak MB | sqlite3 | TinyDB | {target_head} |")
    print("|---|---:|---:|---:|---:|---|")
    for cells in table:
        print("| " + " | ".join(cells) + " |")
    print()
    print("\n".join(f"- {note}" for note in notes))


if __name__ == "__main__":
    main()
