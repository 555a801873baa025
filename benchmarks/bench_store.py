"""Benchmarks of the store at demo scale, with stock TinyDB and sqlite3 as references.

    uv run python benchmarks/bench_store.py --scale M      # the default; about 1.5 minutes
    uv run python benchmarks/bench_store.py --scale L      # 10x more; about 9 minutes

The database is generated once (store.demo + CRM.replace_all) and cached in benchmarks/data/
(git-ignored); every run works on fresh copies of it. Start-up is measured in fresh processes; the
other operations in one process that has opened the copy, as the application would. Everything
is printed as Markdown tables: median and p95 over the repeats, beside the targets (set for M).
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import os
import pstats
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

DATA = HERE / "data"
USER = "demo"
MS = 1e3

# Targets at scale M (milliseconds); at L they are shown for comparison.
TARGET_SAVE = 5.0
TARGET_SCREEN = 1_000.0
TARGET_SEARCH = 50.0
TARGET_TIMELINE = 20.0

REPEATS = {
    "M": {"open": 5, "tinydb": 3, "compact": 3, "rounds": 5, "query": 20, "saves": 200},
    "L": {"open": 3, "tinydb": 1, "compact": 1, "rounds": 3, "query": 10, "saves": 200},
}
# What people type into the contact search box: prefixes of common names, cities and companies,
# accented names typed without accents, and several words at once.
PREFIXES = {
    "1 letter": ["m", "j", "s", "k"],
    "2 letters": ["ma", "jo", "mü", "ng"],
    "3 letters": ["mar", "joh", "sch", "wan"],
    "4 letters": ["mart", "silv", "schm", "kowa"],
}
ACCENTED = ["joao", "sao paulo", "muller", "lodz", "sorensen"]
MULTI_WORD = ["maria silva", "jurgen gmbh", "anna lisboa"]


# --------------------------------------------------------------------------- measuring
def now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = now_ms()
    result = action()
    return now_ms() - start, result


def repeat(action: Callable[[], Any], times: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(times):
        elapsed, result = timed(action)
        samples.append(elapsed)
    return samples, result


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value * 1000:.0f} µs"


class Report:
    """Rows of the result tables, printed as Markdown."""

    def __init__(self, scale: str, target_scale: str = "M") -> None:
        self.scale = scale
        self.target_scale = target_scale  # the scale the targets are set for
        self.rows: dict[str, list[list[str]]] = {}
        self.notes: list[str] = []

    def add(
        self,
        section: str,
        operation: str,
        samples: list[float] | None,
        target: float | None = None,
        note: str = "",
    ) -> None:
        if samples:
            median, high = statistics.median(samples), p95(samples)
            verdict = ""
            if target is not None:
                verdict = " ✅" if median <= target else " ❌"
            cells = [
                operation,
                str(len(samples)),
                fmt_ms(median),
                fmt_ms(high),
                (f"≤ {fmt_ms(target)}{verdict}" if target is not None else ""),
                note,
            ]
        else:
            cells = [operation, "0", "–", "–", fmt_ms(target) if target else "", note]
        self.rows.setdefault(section, []).append(cells)
        print(f"  {operation}: {cells[2]} (p95 {cells[3]}) {note}", file=sys.stderr, flush=True)

    def text(self, section: str, operation: str, value: str, note: str = "") -> None:
        self.rows.setdefault(section, []).append([operation, "", value, "", "", note])
        print(f"  {operation}: {value} {note}", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        out = []
        for section, rows in self.rows.items():
            out.append(f"\n### {section}\n")
            target_head = "target"
            if self.scale != self.target_scale:
                target_head = f"target ({self.target_scale})"
            out.append(f"| operation | n | median | p95 | {target_head} | notes |")
            out.append("|---|---:|---:|---:|---|---|")
            out.extend("| " + " | ".join(cells) + " |" for cells in rows)
        if self.notes:
            out.append("")
            out.extend(f"- {note}" for note in self.notes)
        return "\n".join(out)


# --------------------------------------------------------------------------- children
def child(mode: str, *args: str, stdin: Any = None) -> dict[str, Any]:
    """Run this script in a fresh process in `mode`; its last stdout line is a JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *args]
    spawned = time.time()
    done = subprocess.run(command, capture_output=True, text=True, input=stdin, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["spawned"] = spawned
    return result


def child_build(scale: str, seed: str, db: str, sqlite_path: str) -> dict[str, Any]:
    from store import demo
    from store.service import CRM

    started = now_ms()
    tables = demo.generate(scale, int(seed), user=USER)
    generated = now_ms()
    crm = CRM(db, user=USER)
    crm._engine.database.open()
    crm.replace_all(tables)
    written = now_ms()
    build_sqlite(Path(sqlite_path), tables)
    return {
        "generate_ms": generated - started,
        "write_ms": written - generated,
        "sqlite_ms": now_ms() - written,
        "counts": {table: len(records) for table, records in tables.items()},
    }


def child_screen(db: str) -> dict[str, Any]:
    started = now_ms()
    from store.model import ACCOUNTS
    from store.service import CRM

    imported = now_ms()
    crm = CRM(db, user=USER)
    crm.open_for_screen()
    opened = now_ms()
    ready_wall = time.time()
    loaded = {table: crm.count(table) for table in ("accounts", "contacts", "activities")}
    # The first screen: the account list's first page.
    ids = crm.search(ACCOUNTS)
    crm.records(ACCOUNTS, ids[:60])
    first_page = now_ms()
    screen_rss = rss_mb()
    crm.finish_loading()
    finished = now_ms()
    return {
        "import_ms": imported - started,
        "screen_ms": opened - imported,
        "page_ms": first_page - opened,
        "finish_ms": finished - first_page,
        "ready_wall": ready_wall,
        "screen_rss": screen_rss,
        "loaded": loaded,
    }


def child_full(db: str) -> dict[str, Any]:
    from store.service import CRM

    started = now_ms()
    crm = CRM.open(db, user=USER)
    opened = now_ms()
    gc.collect()
    return {
        "open_ms": opened - started,
        "rss": rss_mb(),
        "peak_rss": peak_rss_mb(),
        "records": sum(crm.count(t) for t in ("accounts", "contacts", "activities")),
    }


def child_tinydb(path: str, queries: str) -> dict[str, Any]:
    """Stock TinyDB (default JSONStorage): open + all, a Query search, one insert."""
    import re

    from tinydb import Query, TinyDB

    started = now_ms()
    db = TinyDB(path)
    everything = {name: db.table(name).all() for name in ("accounts", "contacts", "activities")}
    open_all = now_ms() - started
    rss = rss_mb()
    count = sum(len(docs) for docs in everything.values())
    del everything
    contacts = db.table("contacts")
    searches = []
    for text in json.loads(queries):
        pattern = re.escape(text)
        q = Query()
        condition = (
            q.first_name.search(pattern, flags=re.IGNORECASE)
            | q.last_name.search(pattern, flags=re.IGNORECASE)
            | q.email.search(pattern, flags=re.IGNORECASE)
        )
        contacts.clear_cache()
        elapsed, found = timed(lambda c=condition: contacts.search(c))
        searches.append({"query": text, "ms": elapsed, "found": len(found)})
    document = {
        "id": "01BENCHMARKTINYDB000000000",
        "type": "task",
        "subject": "Benchmark",
        "regarding_type": "account",
        "regarding_id": "x",
        "status": "open",
        "created_at": "2026-01-01T00:00:00Z",
        "version": 1,
    }
    insert, _ = timed(lambda: db.table("activities").insert(document))
    db.close()
    return {
        "open_all_ms": open_all,
        "rss": rss,
        "documents": count,
        "searches": searches,
        "insert_ms": insert,
    }


def child_sqlite_open(path: str) -> dict[str, Any]:
    started = now_ms()
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT doc FROM accounts ORDER BY name LIMIT 60").fetchall()
    page = [json.loads(doc) for (doc,) in rows]
    return {"open_ms": now_ms() - started, "rows": len(page)}


def child_writer(db: str) -> None:
    """Another user's process: writes activities when told, for the refresh benchmark."""
    from store.model import ACCOUNTS
    from store.service import CRM

    crm = CRM.open(db, user="colleague")
    targets = crm.search(ACCOUNTS)[:50]
    print("ready", flush=True)
    written = 0
    for line in sys.stdin:
        command, _, amount = line.strip().partition(" ")
        if command != "write":
            break
        for _ in range(int(amount)):
            crm.log_activity(
                "note",
                targets[written % len(targets)],
                {"description": f"Written by another process, #{written}"},
            )
            written += 1
        print("done", flush=True)


CHILDREN = {
    "build": child_build,
    "screen": child_screen,
    "full": child_full,
    "tinydb": child_tinydb,
    "sqlite-open": child_sqlite_open,
}


# --------------------------------------------------------------------------- sqlite reference
SQLITE_SCHEMA = """
CREATE TABLE accounts(id TEXT PRIMARY KEY, name TEXT, email TEXT, doc TEXT NOT NULL);
CREATE TABLE contacts(id TEXT PRIMARY KEY, name TEXT, email TEXT, account_id TEXT,
                      doc TEXT NOT NULL);
CREATE TABLE activities(id TEXT PRIMARY KEY, regarding_id TEXT, when_at TEXT, owner TEXT,
                        doc TEXT NOT NULL);
"""
SQLITE_INDEXES = """
CREATE INDEX accounts_name ON accounts(name);
CREATE INDEX contacts_name ON contacts(name);
CREATE INDEX activities_timeline ON activities(regarding_id, when_at);
"""


def build_sqlite(path: Path, tables: dict[str, dict[str, dict[str, Any]]]) -> None:
    from store.model import activity_when, display_name

    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(SQLITE_SCHEMA)
    with connection:
        connection.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?)",
            (
                (r["id"], r["name"], r.get("email"), json.dumps(r, ensure_ascii=False))
                for r in tables["accounts"].values()
            ),
        )
        connection.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?)",
            (
                (
                    r["id"],
                    display_name("contacts", r),
                    r.get("email"),
                    r.get("account_id"),
                    json.dumps(r, ensure_ascii=False),
                )
                for r in tables["contacts"].values()
            ),
        )
        connection.executemany(
            "INSERT INTO activities VALUES (?, ?, ?, ?, ?)",
            (
                (
                    r["id"],
                    r["regarding_id"],
                    activity_when(r),
                    r.get("owner"),
                    json.dumps(r, ensure_ascii=False),
                )
                for r in tables["activities"].values()
            ),
        )
    connection.executescript(SQLITE_INDEXES)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


# --------------------------------------------------------------------------- the run
@contextmanager
def section(title: str) -> Iterator[None]:
    print(f"\n== {title}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f"   ({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)


def dataset(scale: str, seed: int, rebuild: bool, report: Report) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / f"crm-{scale}-seed{seed}.json"
    sqlite_path = DATA / f"crm-{scale}-seed{seed}.sqlite"
    marker = DATA / f"crm-{scale}-seed{seed}.ready.json"
    # A changed generator means other data: rebuild rather than compare unlike databases.
    generator = hashlib.sha256()
    for source in sorted((ROOT / "store" / "demo").glob("*.py")):
        generator.update(source.read_bytes())
    version = generator.hexdigest()[:16]
    current = marker.exists() and json.loads(marker.read_text()).get("demo") == version
    if rebuild or not (current and db.exists() and sqlite_path.exists()):
        for stale in DATA.glob(f"crm-{scale}-seed{seed}.*"):
            stale.unlink()
        with section(f"building the {scale} database (once; cached in {DATA})"):
            info = child("build", scale, str(seed), str(db), str(sqlite_path))
        marker.write_text(json.dumps({**info, "demo": version}))
    info = json.loads(marker.read_text())
    counts = info["counts"]
    report.notes.append(
        f"Data: demo.generate('{scale}', seed={seed}): {counts['accounts']:,} accounts, "
        f"{counts['contacts']:,} contacts, {counts['activities']:,} activities; base file "
        f"{db.stat().st_size / 1e6:.0f} MB. Built in {info['generate_ms'] / 1000:.1f} s "
        f"(generate) + {info['write_ms'] / 1000:.1f} s (replace_all) + "
        f"{info['sqlite_ms'] / 1000:.1f} s (sqlite reference)."
    )
    return db, sqlite_path


def fresh_copy(source: Path, name: str) -> Path:
    work = DATA / "work"
    work.mkdir(exist_ok=True)
    target = work / name
    for stale in work.glob(name + "*"):
        stale.unlink()
    shutil.copyfile(source, target)
    return target


def fsync_probe() -> float:
    probe = DATA / "work" / "fsync-probe"
    samples = []
    with open(probe, "wb") as handle:
        for _ in range(50):
            handle.write(b"x" * 200)
            handle.flush()
            start = now_ms()
            os.fsync(handle.fileno())
            samples.append(now_ms() - start)
    probe.unlink()
    return statistics.median(samples)


def bench_startup(db: Path, reps: int, report: Report) -> None:
    section_name = "Start-up (fresh processes)"
    screens = [child("screen", str(db)) for _ in range(reps)]
    loaded = ", ".join(f"{count:,} {table}" for table, count in screens[0]["loaded"].items())
    report.add(
        section_name,
        "open ready for the first screen: `CRM(path).open_for_screen()`",
        [s["screen_ms"] for s in screens],
        TARGET_SCREEN,
        f"loaded then: {loaded}; the rest is deferred",
    )
    report.add(
        section_name,
        "… + first account page (`search` + 60 `records`)",
        [s["screen_ms"] + s["page_ms"] for s in screens],
        TARGET_SCREEN,
    )
    report.add(
        section_name,
        "process start → first screen ready (python + imports + open)",
        [(s["ready_wall"] - s["spawned"]) * MS for s in screens],
        None,
        f"imports alone {fmt_ms(statistics.median(s['import_ms'] for s in screens))}",
    )
    report.add(
        section_name,
        "the deferred rest: `finish_loading()`",
        [s["finish_ms"] for s in screens],
        None,
        "in a worker thread in the app",
    )
    fulls = [child("full", str(db)) for _ in range(reps)]
    report.add(
        section_name,
        "full open: `CRM.open(path)` (activities included)",
        [f["open_ms"] for f in fulls],
        None,
        f"{fulls[0]['records']:,} records",
    )
    report.text(
        section_name,
        "RSS after full open",
        f"{statistics.median(f['rss'] for f in fulls):,.0f} MB",
        f"peak {statistics.median(f['peak_rss'] for f in fulls):,.0f} MB; "
        f"after the first screen {statistics.median(s['screen_rss'] for s in screens):,.0f}"
        " MB",
    )


def bench_in_process(db: Path, reps: dict[str, int], report: Report, profile: set[str]) -> None:
    from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
    from store.queries import ListQuery, TimelineQuery
    from store.service import CRM

    crm = CRM.open(db, user=USER)
    index = crm._engine.index  # the file engine's: counted with grouped queries
    accounts = dict(crm.all(ACCOUNTS))
    contacts = dict(crm.all(CONTACTS))
    per_record = dict(
        index.conn.execute(
            "SELECT regarding_id, count(*) FROM activities GROUP BY regarding_id"
        ).fetchall()
    )
    children: dict[str, list[str]] = {}
    for account in accounts.values():
        if account.get("parent_account_id"):
            children.setdefault(account["parent_account_id"], []).append(account["id"])

    def descendants(account_id: str) -> set[str]:
        found: set[str] = set()
        stack = [account_id]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def activity_count(record_id: str) -> int:
        return int(per_record.get(record_id, 0))

    busiest = max(accounts, key=activity_count)
    per_contact = sorted((activity_count(c), c) for c in contacts if activity_count(c))
    typical_contact = per_contact[len(per_contact) // 2][1]
    roots = [a for a in accounts if not accounts[a].get("parent_account_id")]
    biggest_group = max(roots, key=lambda a: len(descendants(a)))
    group_size = len(descendants(biggest_group)) + 1
    typical_account = sorted(accounts, key=activity_count)[len(accounts) // 2]
    query_reps = reps["query"]

    def profiled(name: str, action: Callable[[], Any]) -> None:
        if name in profile:
            profiler = cProfile.Profile()
            profiler.runcall(action)
            print(f"\n--- cProfile: {name}", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)

    # ---- search
    name = "Contact search: `crm.search('contacts', ListQuery(text=...))`"
    details = []
    groups = {
        **{f"prefix, {k}": v for k, v in PREFIXES.items()},
        "accented, typed without accents": ACCENTED,
        "several words": MULTI_WORD,
    }
    all_samples = []
    for label, queries in groups.items():
        samples = []
        for text in queries:
            times, found = repeat(
                lambda t=text: crm.search(CONTACTS, ListQuery(text=t)), query_reps
            )
            samples += times
            details.append(f"`{text}` {len(found):,}")
        all_samples += samples
        report.add(name, label, samples, TARGET_SEARCH)
    report.add(
        name, "all search queries", all_samples, TARGET_SEARCH, "hits: " + ", ".join(details)
    )
    # The first search after a contact changed (here or in another process) may rebuild what
    # the search scans: measure a keystroke right after a save.
    someone = next(iter(contacts))
    samples = []
    for number in range(max(5, query_reps // 2)):
        crm.update(CONTACTS, someone, {"job_title": f"Benchmark title {number}"})
        samples.append(timed(lambda: crm.search(CONTACTS, ListQuery(text="mar")))[0])
    report.add(
        name,
        "`mar` right after a contact was saved",
        samples,
        TARGET_SEARCH,
        "first search after a change",
    )
    profiled(
        "search",
        lambda: [crm.search(CONTACTS, ListQuery(text=t)) for qs in groups.values() for t in qs],
    )

    # ---- timeline, agenda, hierarchy
    section_name = "Reading records"
    samples, found = repeat(lambda: crm.timeline(busiest), query_reps * 2)
    report.add(
        section_name,
        "timeline of the busiest account: `crm.timeline(id)`",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities",
    )
    samples, found = repeat(lambda: crm.timeline(typical_contact), query_reps * 2)
    report.add(
        section_name,
        "timeline of a typical contact",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities (median contact)",
    )
    samples, found = repeat(lambda: crm.timeline(typical_account), query_reps * 2)
    report.add(
        section_name,
        "timeline of a typical account",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities (median account)",
    )
    with_people = TimelineQuery(include_contacts=True)
    samples, found = repeat(lambda: crm.timeline(busiest, with_people), query_reps)
    report.add(
        section_name,
        "… busiest account with its contacts' activities (`include_contacts=True`)",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities, {len(crm.contacts_of(busiest)):,} contacts",
    )
    samples, found = repeat(
        lambda: crm.timeline(busiest, TimelineQuery(text="invoice")), query_reps
    )
    report.add(
        section_name,
        "… busiest account, filtered by text (`text='invoice'`)",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities",
    )
    profiled("timeline", lambda: [crm.timeline(busiest, with_people) for _ in range(5)])
    samples, buckets = repeat(lambda: crm.agenda(USER), query_reps)
    report.add(
        section_name,
        "agenda of my activities: `crm.agenda(user)`",
        samples,
        None,
        f"{len(buckets.overdue):,} overdue, {len(buckets.today)} today, "
        f"{len(buckets.upcoming):,} upcoming, {len(buckets.no_date)} undated; "
        f"{index.conn.execute('SELECT count(*) FROM activities WHERE open_agenda').fetchone()[0]:,}"
        " open in all",
    )
    profiled("agenda", lambda: crm.agenda(USER))
    samples, tree = repeat(lambda: crm.hierarchy(biggest_group), query_reps * 2)
    report.add(
        section_name,
        "hierarchy of the biggest group: `crm.hierarchy(id)`",
        samples,
        None,
        f"{group_size} accounts",
    )
    samples, _ = repeat(lambda: crm.search(ACCOUNTS, ListQuery()), query_reps)
    report.add(
        section_name,
        "account list, no filter, by name: `crm.search('accounts')`",
        samples,
        TARGET_SEARCH,
        f"{len(accounts):,} ids",
    )

    # ---- writing
    section_name = "Writing"
    saves = []
    fields = {
        "subject": "Benchmark: call back",
        "due_at": "2030-01-15T09:00:00Z",
        "priority": "high",
        "description": "Saved by benchmarks/bench_store.py",
    }
    for number in range(reps["saves"]):
        elapsed, _ = timed(
            lambda n=number: crm.log_activity(
                "task", typical_account, {**fields, "subject": f"Benchmark: call back #{n}"}
            )
        )
        saves.append(elapsed)
    report.add(
        section_name,
        "save one activity durably: `crm.log_activity('task', ...)`",
        saves,
        TARGET_SAVE,
        "journal append + fsync, indexes updated",
    )
    profiled("save", lambda: [crm.log_activity("task", typical_account, fields) for _ in range(50)])
    samples, _ = repeat(crm.refresh, 200)
    report.add(section_name, "`refresh()` with nothing new", samples)
    writer = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", "writer", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    try:
        if writer.stdout.readline().strip() != "ready":
            raise RuntimeError("the writer process did not start")
        samples, changed = [], 0
        for _ in range(reps["rounds"]):
            writer.stdin.write("write 100\n")
            writer.stdin.flush()
            if writer.stdout.readline().strip() != "done":
                raise RuntimeError("the writer process failed")
            elapsed, changes = timed(crm.refresh)
            samples.append(elapsed)
            changed = len(changes)
        writer.stdin.write("quit\n")
        writer.stdin.flush()
    finally:
        writer.wait(timeout=60)
    report.add(
        section_name,
        "`refresh()` taking in 100 activities from another process",
        samples,
        None,
        f"{changed} changes per refresh",
    )
    samples, _ = repeat(crm.compact, reps["compact"])
    report.add(
        section_name,
        "`compact()` (journal folded into a new base file)",
        samples,
        None,
        f"{sum(crm.count(t) for t in (ACCOUNTS, CONTACTS, ACTIVITIES)):,} records",
    )
    report.text(
        section_name, "RSS of this process (full open + the runs above)", f"{rss_mb():,.0f} MB"
    )
    crm.close()


def bench_tinydb(db: Path, reps: int, report: Report) -> None:
    section_name = "Reference: stock TinyDB 4 (`TinyDB(path)`, default JSONStorage)"
    queries = ["mar", "joao"]
    runs = []
    for _ in range(reps):
        copy = fresh_copy(db, "tinydb.json")
        runs.append(child("tinydb", str(copy), json.dumps(queries)))
    once = " (measured once at this scale: each takes minutes)" if reps == 1 else ""
    report.add(
        section_name,
        "open + `all()` of the three tables",
        [r["open_all_ms"] for r in runs],
        None,
        f"{runs[0]['documents']:,} documents, RSS {runs[0]['rss']:,.0f} MB{once}",
    )
    report.add(
        section_name,
        "one `insert()` into a copy of the database",
        [r["insert_ms"] for r in runs],
        TARGET_SAVE,
        "re-reads and rewrites the whole file" + once,
    )
    for index, text in enumerate(queries):
        report.add(
            section_name,
            f"Query search over contacts, `{text}` (regex, ignore case)",
            [r["searches"][index]["ms"] for r in runs],
            TARGET_SEARCH,
            f"{runs[0]['searches'][index]['found']:,} hits; re-reads the file; "
            f"no accent folding{once}",
        )


def bench_sqlite(sqlite_path: Path, reps: dict[str, int], report: Report) -> None:
    section_name = "Reference: sqlite3 (JSON documents + name/email columns, WAL)"
    copy = fresh_copy(sqlite_path, "reference.sqlite")
    opens = [child("sqlite-open", str(copy)) for _ in range(reps["open"])]
    report.add(
        section_name,
        "connect + first account page (60 rows by name)",
        [o["open_ms"] for o in opens],
        TARGET_SCREEN,
        "fresh process",
    )
    connection = sqlite3.connect(copy, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    document = {
        "type": "task",
        "subject": "Benchmark",
        "regarding_type": "account",
        "status": "open",
        "version": 1,
    }
    (regarding,) = connection.execute(
        "SELECT regarding_id FROM activities GROUP BY regarding_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    inserts = []
    for number in range(reps["saves"]):
        rid = f"01BENCHMARKSQLITE{number:09d}"
        doc = json.dumps({**document, "id": rid, "regarding_id": "benchmark"})

        def insert(rid: str = rid, doc: str = doc) -> None:
            connection.execute("BEGIN")
            connection.execute(
                "INSERT INTO activities VALUES (?, ?, ?, ?, ?)",
                (rid, "benchmark", "2030-01-01", USER, doc),
            )
            connection.execute("COMMIT")

        inserts.append(timed(insert)[0])
    report.add(
        section_name,
        "insert one document (own transaction, synchronous=FULL)",
        inserts,
        TARGET_SAVE,
    )
    samples = []
    queries = [q for qs in PREFIXES.values() for q in qs] + ACCENTED + MULTI_WORD
    for text in queries:
        pattern = f"%{text}%"
        times, _ = repeat(
            lambda p=pattern: connection.execute(
                "SELECT id FROM contacts WHERE name LIKE ?1 OR email LIKE ?1 ORDER BY name", (p,)
            ).fetchall(),
            max(3, reps["query"] // 4),
        )
        samples += times
    report.add(
        section_name,
        "LIKE '%text%' search over contacts (same queries)",
        samples,
        TARGET_SEARCH,
        "full scan; LIKE folds ASCII case only, not accents",
    )

    def timeline() -> list[dict[str, Any]]:
        rows = connection.execute(
            "SELECT doc FROM activities WHERE regarding_id = ? ORDER BY when_at DESC", (regarding,)
        ).fetchall()
        return [json.loads(doc) for (doc,) in rows]

    samples, found = repeat(timeline, reps["query"] * 2)
    report.add(
        section_name,
        "indexed timeline of the busiest account (rows parsed)",
        samples,
        TARGET_TIMELINE,
        f"{len(found):,} activities",
    )
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=("M", "L"), default="M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached database")
    parser.add_argument(
        "--skip-tinydb",
        action="store_true",
        help="leave out the stock TinyDB reference (slow at L)",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="comma-separated: search,timeline,agenda,save: print cProfile stats",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        mode, *args = options.child
        if mode == "writer":
            child_writer(*args)
            return
        print(json.dumps(CHILDREN[mode](*args)))
        return

    scale = options.scale
    reps = REPEATS[scale]
    report = Report(scale)
    started = time.perf_counter()
    db, sqlite_path = dataset(scale, options.seed, options.rebuild, report)
    work = fresh_copy(db, "crm.json")
    report.notes.append(
        f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, fsync of a small "
        f"append {fmt_ms(fsync_probe())} (median). Files are in the page cache (warm start)."
    )
    with section("start-up"):
        bench_startup(work, reps["open"], report)
    with section("operations in one process"):
        bench_in_process(work, reps, report, set(filter(None, options.profile.split(","))))
        gc.collect()  # the CRM's objects refer to each other: free them before the references
    if options.skip_tinydb:
        report.notes.append("Stock TinyDB reference skipped (--skip-tinydb).")
    else:
        with section("reference: stock TinyDB"):
            bench_tinydb(db, reps["tinydb"], report)
    with section("reference: sqlite3"):
        bench_sqlite(sqlite_path, reps, report)
    shutil.rmtree(DATA / "work", ignore_errors=True)
    report.notes.append(f"Whole run: {time.perf_counter() - started:.0f} s.")
    targets = (
        f"save ≤ {fmt_ms(TARGET_SAVE)}, open ready for the first screen ≤ "
        f"{fmt_ms(TARGET_SCREEN)}, contact search ≤ {fmt_ms(TARGET_SEARCH)}, "
        f"timeline ≤ {fmt_ms(TARGET_TIMELINE)}"
    )
    print(
        f"## Store benchmark, scale {scale}\n\nTargets (set for M): {targets}. "
        "✅/❌ compare the median with the target."
    )
    print(report.markdown())


if __name__ == "__main__":
    main()
