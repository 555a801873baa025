"""Several real processes on one database file: parallel writers, conflicts, crashes (SIGKILL)
during writes and during compaction, and following other processes' writes."""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tinydb

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, RECORD_TABLES
from store.queries import ListQuery, TimelineQuery
from store.service import CRM, ConflictError

ROOT = Path(__file__).resolve().parents[2]
FORK = multiprocessing.get_context("fork")
JOIN_TIMEOUT = 60

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- helpers run in children


def _create_many(path: str, worker: int, count: int, barrier, results) -> None:
    crm = CRM.open(path, user=f"worker{worker}")
    barrier.wait(JOIN_TIMEOUT)
    ids = []
    for i in range(count):
        account = crm.create(ACCOUNTS, {"name": f"Worker {worker} number {i}"}).record
        if i % 10 == 0:
            contact = crm.create(
                CONTACTS, {"last_name": f"W{worker}-{i}", "account_id": account["id"]}
            ).record
            crm.update(ACCOUNTS, account["id"], {"primary_contact_id": contact["id"]})
        ids.append(account["id"])
    results.put((worker, ids))


def _edit(path: str, record_id: str, version: int, user: str, barrier, results) -> None:
    crm = CRM.open(path, user=user)
    barrier.wait(JOIN_TIMEOUT)
    try:
        saved = crm.update(
            ACCOUNTS, record_id, {"name": f"Edited by {user}"}, expected_version=version
        )
        results.put((user, "saved", saved.record["version"]))
    except ConflictError as conflict:
        results.put((user, "conflict", conflict.theirs["modified_by"]))


def _write_some(path: str, account_id: str) -> None:
    crm = CRM.open(path, user="other")
    crm.create(ACCOUNTS, {"name": "From another process"})
    crm.update(ACCOUNTS, account_id, {"name": "Renamed elsewhere"})
    contact = crm.create(CONTACTS, {"first_name": "Remote", "account_id": account_id}).record
    crm.log_activity("note", contact["id"], {"description": "written elsewhere"})


def _run(target, *args) -> multiprocessing.process.BaseProcess:
    process = FORK.Process(target=target, args=args)
    process.start()
    return process


def _join_all(processes) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT)
    alive = [p for p in processes if p.is_alive()]
    for process in alive:
        process.kill()
    assert not alive, "a child process did not finish in time"
    assert [p.exitcode for p in processes] == [0] * len(processes)


# ---------------------------------------------------------------- helpers for python -c children

WRITER = """
import sys
from store.service import CRM
crm = CRM.open(sys.argv[1], user=sys.argv[2])
i = 0
while True:
    record = crm.create("accounts", {"name": sys.argv[2] + " " + str(i)}).record
    if i % 5 == 0:
        crm.update("accounts", record["id"], {"industry": "Updated " + str(i)})
    print(record["id"], flush=True)
    i += 1
"""

COMPACTOR = """
import sys
from store.service import CRM
crm = CRM.open(sys.argv[1], user="compactor")
n = 0
while True:
    crm.compact()
    n += 1
    print(n, flush=True)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


class Lines:
    """Reads a child's stdout line by line with a deadline (never blocks forever)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.buffer = b""
        self.lines: list[str] = []

    def _take(self, chunk: bytes) -> None:
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        self.lines.extend(line.decode() for line in complete if line)

    def wait_for(self, count: int, timeout: float = JOIN_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while len(self.lines) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"child too slow: {len(self.lines)} of {count} lines"
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.process.wait(5)
                    raise AssertionError(
                        f"child exited {self.process.returncode}: "
                        f"{self.process.stderr.read().decode()[-2000:]}"
                    )
                self._take(chunk)
        return self.lines

    def kill(self) -> list[str]:
        """SIGKILL the child, then collect every whole line it printed before dying."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(JOIN_TIMEOUT)
        self._take(self.process.stdout.read())
        self.process.stdout.close()
        self.process.stderr.close()
        return self.lines


def _assert_sound(path: Path, acknowledged: list[str]) -> CRM:
    crm = CRM.open(path, user="checker")
    missing = [rid for rid in acknowledged if crm.get(ACCOUNTS, rid) is None]
    assert missing == [], f"{len(missing)} acknowledged writes lost"
    assert crm.check() == []
    return crm


# ---------------------------------------------------------------- tests


WORKERS, COUNT = 4, 100


def _create_in_parallel(db: str) -> dict[int, list[str]]:
    """WORKERS processes each create COUNT accounts (and a contact for every tenth) at once;
    returns the ids each reported saved."""
    barrier, results = FORK.Barrier(WORKERS), FORK.Queue()
    processes = [_run(_create_many, db, w, COUNT, barrier, results) for w in range(WORKERS)]
    reported = dict(results.get(timeout=JOIN_TIMEOUT) for _ in range(WORKERS))
    _join_all(processes)
    return reported


def test_parallel_creates_are_all_kept_exactly_once(db):
    CRM.open(db, user="setup")
    watcher = CRM.open(db, user="watcher")
    workers, count = WORKERS, COUNT
    reported = _create_in_parallel(db)

    crm = CRM.open(db, user="checker")
    all_ids = [rid for ids in reported.values() for rid in ids]
    assert len(all_ids) == len(set(all_ids)) == workers * count
    assert set(crm.all(ACCOUNTS)) == set(all_ids)
    names = sorted(r["name"] for r in crm.all(ACCOUNTS).values())
    assert names == sorted(f"Worker {w} number {i}" for w in range(workers) for i in range(count))
    assert crm.count(CONTACTS) == workers * count // 10
    for worker, ids in reported.items():
        first = crm.get(ACCOUNTS, ids[0])
        assert first["created_by"] == f"worker{worker}" and first["version"] == 2
        assert crm.get(CONTACTS, first["primary_contact_id"])["account_id"] == ids[0]
    assert crm.check() == []
    # A process that was open all along catches up without reopening.
    watcher.refresh()
    assert {t: watcher.all(t) for t in RECORD_TABLES} == {t: crm.all(t) for t in RECORD_TABLES}
    assert len(watcher.search(ACCOUNTS, ListQuery(text="number"))) == workers * count


def test_parallel_creates_write_one_journal_line_each(db_path):
    CRM.open(db_path, user="setup")
    _create_in_parallel(str(db_path))
    crm = CRM.open(db_path, user="checker")
    # The journal holds one whole line per transaction, nothing interleaved.
    journal = Path(f"{db_path}.journal-{crm._engine.database.generation}")
    assert len(journal.read_bytes().splitlines()) == WORKERS * (COUNT + 2 * COUNT // 10)
    assert crm.count(ACCOUNTS) == WORKERS * COUNT


def test_two_processes_editing_the_same_record_one_wins(crm, db):
    record = crm.create(ACCOUNTS, {"name": "Contested"}).record
    version = record["version"]
    for _round in range(4):
        barrier, results = FORK.Barrier(2), FORK.Queue()
        processes = [
            _run(_edit, db, record["id"], version, user, barrier, results)
            for user in ("ann", "ben")
        ]
        outcomes = sorted(results.get(timeout=JOIN_TIMEOUT) for _ in processes)
        _join_all(processes)
        saved = [o for o in outcomes if o[1] == "saved"]
        conflicts = [o for o in outcomes if o[1] == "conflict"]
        assert len(saved) == 1 and len(conflicts) == 1, outcomes
        winner = saved[0][0]
        assert conflicts[0][2] == winner  # the loser is told who saved
        version += 1
        assert saved[0][2] == version
        crm.refresh()
        current = crm.get(ACCOUNTS, record["id"])
        assert current["version"] == version and current["name"] == f"Edited by {winner}"
        assert current["modified_by"] == winner


def test_another_processes_writes_are_seen_by_refresh(crm, db):
    account = crm.create(ACCOUNTS, {"name": "Original"}).record
    process = _run(_write_some, db, account["id"])
    _join_all([process])
    changes = crm.refresh()
    assert {(c.table, c.new is not None) for c in changes} == {
        (ACCOUNTS, True),
        (CONTACTS, True),
        (ACTIVITIES, True),
    }
    assert len(changes) == 4
    assert crm.get(ACCOUNTS, account["id"])["name"] == "Renamed elsewhere"
    assert crm.search(ACCOUNTS, ListQuery(text="another process"))
    contact = crm.search(CONTACTS, ListQuery(text="renamed elsewhere"))
    assert len(contact) == 1 and crm.contacts_of(account["id"])[0]["id"] == contact[0]
    timeline = crm.timeline(account["id"], TimelineQuery(include_contacts=True))
    assert [a["description"] for a in timeline] == ["written elsewhere"]
    assert crm.refresh() == []


def test_acknowledged_writes_survive_a_sigkilled_writer(crm, db_path):
    crm.create(ACCOUNTS, {"name": "Before"})
    acknowledged: list[str] = []
    for attempt, count in enumerate((25, 60, 40)):
        writer = Lines(_spawn(WRITER, str(db_path), f"writer{attempt}"))
        writer.wait_for(count)
        acknowledged.extend(writer.kill())
        checker = _assert_sound(db_path, acknowledged)
        # Whatever the kill left behind, the next write and a compaction work.
        after = checker.create(ACCOUNTS, {"name": f"After kill {attempt}"}).record
        assert CRM.open(db_path).get(ACCOUNTS, after["id"]) == after
    crm.refresh()
    assert all(crm.get(ACCOUNTS, rid) for rid in acknowledged)
    crm.compact()
    with tinydb.TinyDB(db_path, access_mode="r") as db:
        stored = {doc["id"] for doc in db.table(ACCOUNTS).all()}
    assert set(acknowledged) <= stored


def test_killing_a_compaction_loses_nothing(crm, db_path):
    crm.create(ACCOUNTS, {"name": "Before"})
    acknowledged: list[str] = []
    writer = Lines(_spawn(WRITER, str(db_path), "writer"))
    try:
        for delay in (0.05, 0.2, 0.0):
            compactor = Lines(_spawn(COMPACTOR, str(db_path)))
            compactor.wait_for(3)
            already = len(writer.wait_for(len(writer.lines) + 10))
            time.sleep(delay)
            compactor.kill()
            # The writer carries on after the compactor died, whatever state it left.
            writer.wait_for(already + 10)
            acknowledged = list(writer.lines)
            _assert_sound(db_path, acknowledged)
    finally:
        acknowledged = writer.kill()
    crm_after = _assert_sound(db_path, acknowledged)
    # "Before", every acknowledged write, and perhaps one done but not yet reported.
    total = crm_after.count(ACCOUNTS)
    assert len(acknowledged) + 1 <= total <= len(acknowledged) + 2
    crm.refresh()
    assert set(crm.all(ACCOUNTS)) == set(crm_after.all(ACCOUNTS))
    crm_after.compact()
    with tinydb.TinyDB(db_path, access_mode="r") as db:
        assert len(db.table(ACCOUNTS)) == total
