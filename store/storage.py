"""Persistence: a TinyDB JSON base file plus an append-only journal, safe for several processes.

Files, for a database at `crm.json`:
- `crm.json`: the base, a plain TinyDB document ({table: {doc_id: document}}), replaced only
  atomically (temp file, fsync, rename). Its `meta` table records `schema_version` and the journal
  `generation` it already contains.
- `crm.json.journal-G`: journals, one JSON line per committed transaction
  (`{"ops": [["put", table, document] | ["del", table, id], ...]}`), fsynced before a write is
  acknowledged. A base of generation G holds every journal below G; journals form a chain, so a
  reader at any point can follow them forward without reloading the base.
- the folder: an flock on it is held by a writer while it catches up, checks and appends.

The base is written one document per line so that it can be parsed in slices: the first screen
needs accounts and contacts, and activities can follow in the background without holding the GIL
for a whole second. Files written by plain TinyDB load too, through one whole-file parse.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, META, RECORD_TABLES, SCHEMA_VERSION

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]
# ("put", table, record) or ("del", table, record_id)
Op = tuple[str, str, Any]

APP_NAME = "termcrm"
_CHUNK_LINES = 4000


class StorageError(Exception):
    """A database file could not be read or written; the message is for the user."""


class CorruptDatabaseError(StorageError):
    pass


class NewerSchemaError(StorageError):
    pass


class LockTimeoutError(StorageError):
    pass


class _BaseReplaced(Exception):
    """The base was compacted or replaced between the two steps of a deferred open."""


@dataclass(frozen=True)
class Change:
    table: str
    record_id: str
    old: Record | None
    new: Record | None


@dataclass(frozen=True)
class Deletion:
    """Who deleted a record and when (UTC ISO), as its journal entry says."""

    by: str
    at: str


ChangeListener = Callable[[Change], None]


def _journal_path(base: Path, generation: int) -> Path:
    return base.with_name(f"{base.name}.journal-{generation}")


def _open_existing(path: Path, flags: int) -> int:
    """Open a file of the store that exists, never through a link: a journal name planted as
    a symlink would have our JSON appended to (or truncated) someone else's file. Non-blocking,
    so that a FIFO planted at the name is refused, not waited on."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise StorageError(f"{path} is a symbolic link: not followed; move it away"
                               ) from error
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StorageError(f"{path} is not a regular file: move it away")
    return fd


def _open_journal(path: Path, flags: int, mode: int, group: int = -1) -> int:
    """Open a journal, creating it with exactly `mode` and `group`: the umask must not narrow
    a group-writable database (another member of the group could not append)."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        return _open_existing(path, flags)
    with suppress(OSError):
        os.fchmod(fd, mode)
    if group != -1:
        with suppress(OSError):  # a member of the base's group may give the file to it
            os.fchown(fd, -1, group)
    return fd


class Timeout(Exception):
    """The write lock stayed held by another process for longer than the timeout."""


class _WriterLock:
    """The flock that serialises writers: on the database's folder, not on a file of its own.

    A lock file can be deleted while held (a cleanup script, a sync tool, a colleague), and
    the next writer then creates and locks a new one while the first still writes: two writers
    at once, and lost saves. No check made after locking can tell the holder that its file was
    unlinked. The folder cannot vanish while the database is in it, and locking it needs only
    read access. (Databases that share a folder share the lock; saves are short.)
    Re-entrant within one process."""

    def __init__(self, folder: Path, *, timeout: float) -> None:
        self.path, self.timeout = folder, timeout
        self._fd: int | None = None
        self._depth = 0
        self._guard = threading.Lock()

    @property
    def is_locked(self) -> bool:
        return self._depth > 0

    def acquire(self, timeout: float | None = None) -> None:
        with self._guard:
            if self._depth:
                self._depth += 1
                return
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        pause = 0.001
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Timeout(str(self.path)) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.05)
        except BaseException:
            os.close(fd)
            raise
        with self._guard:
            self._fd, self._depth = fd, 1

    def release(self) -> None:
        with self._guard:
            if not self._depth:
                return
            self._depth -= 1
            if self._depth or self._fd is None:
                return
            fd, self._fd = self._fd, None
        os.close(fd)  # closing drops the flock


def _read_journal(path: Path, offset: int) -> bytes:
    """A journal's bytes from `offset`, never through a symbolic link."""
    fd = _open_existing(path, os.O_RDONLY)
    try:
        with os.fdopen(fd, "rb", closefd=False) as handle:
            handle.seek(offset)
            return handle.read()
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing creates millions of containers; the cyclic collector would rescan them repeatedly.
    # Afterwards they are frozen: records live as long as the process, and a full collection
    # over millions of them would stall the UI for a tenth of a second at a time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class Database:
    """The tables of one CRM database file, kept in memory and in step with other processes.

    Thread-safe: every public method takes an internal lock. Readers see committed data only.
    """

    def __init__(self, path: str | os.PathLike[str], *, group_writable: bool = False,
                 lock_timeout: float = 10.0, compact_threshold: int = 32 * 1024 * 1024) -> None:
        self.path = Path(path).expanduser().absolute()
        self.mode = 0o660 if group_writable else 0o600
        self.compact_threshold = compact_threshold
        self.tables: Tables = {t: {} for t in RECORD_TABLES}
        self.meta: Record = {}
        self.generation = 0
        self._offset = 0  # bytes of journal `generation` already applied
        self._mutex = threading.RLock()
        self._file_lock = _WriterLock(self.path.parent, timeout=lock_timeout)
        self._listeners: list[ChangeListener] = []
        # Set once every table is in memory (named for the table that is deferred the most).
        self.activities_loaded = threading.Event()
        self.load_error: StorageError | None = None  # why load_deferred failed, if it did
        self.partial = False  # opened with some tables never to be read: no writing
        # Tables whose reading was deferred by open(defer=...): name -> reader of their lines.
        self._pending: dict[str, Callable[[], Iterator[list[bytes]]]] = {}
        # Journal ops on deferred tables met before those tables are read: applied after.
        self._deferred_ops: list[Op] = []
        # Deletes read from journal entries that name their user: record id -> who and when.
        # Kept across reloads (ids are never reused); lost with the journal on compaction.
        self.deletions: dict[str, Deletion] = {}

    # ---------------------------------------------------------------- opening
    def open(self, *, defer: tuple[str, ...] = (), defer_activities: bool = False) -> None:
        """Load the base and replay the journals. Tables named in `defer` (or activities, with
        `defer_activities`) are read later by `load_deferred()` (call it from a worker
        thread); the other tables are complete and current at once."""
        if defer_activities:
            defer = (*defer, ACTIVITIES)
        with self._mutex:
            if not self.path.exists():
                self._create()
            self._load_base(defer)
            self._replay_journals()

    def load_deferred(self) -> None:
        """Finish an `open(defer=...)`: read the deferred tables, then replay the journals.
        On failure, writers waiting for the tables are released with the error."""
        try:
            self._load_deferred()
        except StorageError as error:
            self.load_error = error
            self.activities_loaded.set()
            raise

    def _load_deferred(self) -> None:
        for table in (CONTACTS, ACTIVITIES):
            source = self._pending.get(table)
            if source is None:
                continue
            records: dict[str, Record] = {}
            try:
                with _gc_paused():
                    for chunk in source():
                        for doc in _parse_chunk(chunk, self.path).values():
                            records[doc["id"]] = doc
            except _BaseReplaced:
                with self._mutex:  # read the new base whole (this sets activities_loaded)
                    self._pending.clear()
                    self._deferred_ops = []
                    self._reload()
                return
            with self._mutex, _gc_paused():
                if self._pending.get(table) is source:  # not reloaded meanwhile
                    self.tables[table] = records
                    del self._pending[table]
                    for listener in self._listeners:
                        _notify_bulk(listener, table, records)
                    mine = [op for op in self._deferred_ops if op[1] == table]
                    self._deferred_ops = [op for op in self._deferred_ops if op[1] != table]
                    self._apply(mine)
        with self._mutex:
            self._replay_journals()
            if not self._pending:
                self.activities_loaded.set()

    def _wait_loaded(self) -> None:
        if self.partial and not self.activities_loaded.is_set():
            raise StorageError("this database was opened for reading only")
        self.activities_loaded.wait()
        if self.load_error is not None:
            raise StorageError(f"the database could not be read completely, so nothing can be "
                               f"saved: {self.load_error}")

    def subscribe(self, listener: ChangeListener) -> None:
        """Call `listener` for every record that changes from now on (in whatever thread)."""
        self._listeners.append(listener)

    def _create(self) -> None:
        try:
            # A new folder is as private as the database (the umask only ever removes bits).
            self.path.parent.mkdir(mode=0o770 if self.mode & 0o060 else 0o700, parents=True,
                                   exist_ok=True)
        except OSError as error:
            raise StorageError(f"cannot create {self.path.parent}: {error.strerror}") from error
        with self._locked():
            if self.path.exists():  # another process won the race
                return
            meta = {"schema_version": SCHEMA_VERSION, "generation": 1, "app": APP_NAME}
            self._write_base({t: {} for t in RECORD_TABLES}, meta)

    def _load_base(self, defer: tuple[str, ...] = ()) -> None:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed by the loader
        except OSError as error:
            raise StorageError(f"cannot open {self.path}: {error.strerror}") from error
        with handle, _gc_paused():
            identity = os.fstat(handle.fileno())
            first = handle.readline()
            if first.startswith(b'{"meta":') and first.endswith(b",\n"):
                tables, meta, deferred = self._load_line_layout(handle, first, defer)
            else:
                tables, meta = self._load_whole(first + handle.read())
                deferred = {}
        self.meta = meta
        self.generation = int(meta.get("generation", 1))
        self._offset = 0
        self.tables = tables
        self._pending = {table: self._reader(offset, identity.st_ino)
                         for table, offset in deferred.items()}
        if self._pending:
            self.activities_loaded.clear()
        else:
            self.activities_loaded.set()
        self._deferred_ops = []
        with _gc_paused():  # index building allocates as much as parsing
            for listener in self._listeners:
                for table in RECORD_TABLES:
                    _notify_bulk(listener, table, self.tables[table])

    def _reader(self, offset: int, inode: int) -> Callable[[], Iterator[list[bytes]]]:
        """Lines of the table whose first document starts at `offset`, read later. The base is
        replaced by rename, never rewritten: if the file at the path is another one now, the
        caller must start again (`_BaseReplaced`)."""
        path = self.path

        def lines() -> Iterator[list[bytes]]:
            with open(path, "rb") as again:
                if os.fstat(again.fileno()).st_ino != inode:
                    raise _BaseReplaced()
                again.seek(offset)
                yield from _table_chunks(again, path)
        return lines

    def _offsets_fit(self, handle: Any, offsets: dict[str, int]) -> bool:
        """The recorded offsets point at table headers and the file ends as we write it;
        a file cut short is refused here, since a deferred table is not read to its end now."""
        if not all(t in offsets for t in RECORD_TABLES):
            return False
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 8))
        # The last document (or an empty table's brace), the table's close, the document's.
        if not handle.read().rstrip().endswith((b"}\n}\n}", b"{\n}\n}")):
            raise CorruptDatabaseError(_truncated(self.path))
        for name in RECORD_TABLES:
            header = b'"' + name.encode() + b'":{\n'
            if offsets[name] < len(header) or offsets[name] > size:
                return False
            handle.seek(offsets[name] - len(header))
            if handle.read(len(header)) != header:
                return False
        return True

    def _load_line_layout(self, handle: Any, first: bytes, defer: tuple[str, ...]
                          ) -> tuple[Tables, Record, dict[str, int]]:
        """Read a base in our one-document-per-line layout. With the table offsets that meta
        records, a deferred table is not even read past; without them, it is skipped."""
        meta = self._parse_meta(_loads(first[:-2] + b"}", self.path)["meta"])
        offsets = _parse_offsets(meta.get("table_offsets"))
        tables: Tables = {t: {} for t in RECORD_TABLES}
        deferred: dict[str, int] = {}
        if offsets and self._offsets_fit(handle, offsets):
            for name in RECORD_TABLES:
                if name in defer:
                    deferred[name] = offsets[name]
                    continue
                handle.seek(offsets[name])
                for chunk in _table_chunks(handle, self.path):
                    for doc in _parse_chunk(chunk, self.path).values():
                        tables[name][doc["id"]] = doc
            return tables, meta, deferred
        while True:
            header = handle.readline()
            if header == b"}\n" or header == b"}":
                break
            if not header:
                raise CorruptDatabaseError(_truncated(self.path))
            name = _table_header(header, self.path)
            if name in defer:
                deferred[name] = handle.tell()
                _skip_table(handle, self.path)
                continue
            target = tables.setdefault(name, {}) if name in RECORD_TABLES else {}
            for chunk in _table_chunks(handle, self.path):
                for doc in _parse_chunk(chunk, self.path).values():
                    target[doc["id"]] = doc
        return tables, meta, deferred

    def _load_whole(self, data: bytes) -> tuple[Tables, Record]:
        if not data.strip():
            raise CorruptDatabaseError(f"{self.path} is empty: not a CRM database. "
                                       "Move it away or choose another file with --db.")
        raw = _loads(data, self.path)
        if not isinstance(raw, dict) or META not in raw:
            raise CorruptDatabaseError(f"{self.path} is a JSON file but not a CRM database "
                                       "(it has no 'meta' table)")
        meta = self._parse_meta(raw[META])
        tables: Tables = {t: {} for t in RECORD_TABLES}
        for table in RECORD_TABLES:
            documents = raw.get(table, {})
            if not isinstance(documents, dict):
                raise CorruptDatabaseError(f"{self.path}: table '{table}' is not a TinyDB table")
            for doc in documents.values():
                if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
                    raise CorruptDatabaseError(f"{self.path}: a document in '{table}' has no id")
                tables[table][doc["id"]] = doc
        return tables, meta

    def _parse_meta(self, raw_meta: Any) -> Record:
        docs = list(raw_meta.values()) if isinstance(raw_meta, dict) else []
        meta = docs[0] if docs and isinstance(docs[0], dict) else None
        if meta is None or not isinstance(meta.get("schema_version"), int):
            raise CorruptDatabaseError(f"{self.path}: the meta table has no schema_version")
        if meta["schema_version"] > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{self.path} was written by a newer version of this CRM (schema "
                f"{meta['schema_version']}, this program knows {SCHEMA_VERSION}). Upgrade to "
                "open it; the file was left as it was.")
        return meta

    # ---------------------------------------------------------------- following other writers
    def refresh(self) -> list[Change]:
        """Apply what other processes committed since we last looked. Cheap when nothing did."""
        with self._mutex:
            return self._replay_journals(wait=False)

    def _replay_journals(self, wait: bool = True) -> list[Change]:
        changes: list[Change] = []
        while True:
            journal = _journal_path(self.path, self.generation)
            try:
                data = _read_journal(journal, self._offset)
            except FileNotFoundError:
                if (self._offset == 0
                        and not _journal_path(self.path, self.generation + 1).exists()
                        and self._base_generation() <= self.generation):
                    return changes  # nothing written in this generation yet
                # Our journal was removed by compactions we slept through (three remove the
                # next journal too: only the base tells): start again.
                return self._reload()
            end = data.rfind(b"\n") + 1  # a torn last line (writer killed) is not ours yet
            for line in data[:end].splitlines():
                if not line.strip():
                    continue
                ops, deletion = _parse_entry(line, journal)
                if ops and ops[0][0] == "reset":  # the base was replaced as a whole
                    return changes + self._reload()
                changes.extend(self._apply(ops, deletion))
            self._offset += end
            if not _journal_path(self.path, self.generation + 1).exists():
                return changes
            if not self._file_lock.is_locked:
                # Move on only under the lock: a write appended after our read, just before a
                # compaction, or the `reset` that replace_all appends once its base is written,
                # would be skipped. Without `wait` (refresh), a busy lock means: next time.
                try:
                    self._file_lock.acquire(timeout=None if wait else 0)
                except Timeout as error:
                    if not wait:
                        return changes
                    raise LockTimeoutError(
                        f"the database is locked by another process for more than "
                        f"{self._file_lock.timeout:.0f} s; try again") from error
                except OSError:
                    pass  # cannot lock (read-only access): follow as before
                else:
                    try:
                        return changes + self._replay_journals(wait)
                    finally:
                        self._file_lock.release()
            self.generation += 1
            self._offset = 0

    def _base_generation(self) -> int:
        """The generation of the base on disk (ours when it cannot be told from the first line:
        only compaction and replace_all move it on, and they write our line layout)."""
        try:
            with open(self.path, "rb") as handle:
                first = handle.readline()
        except OSError:
            return self.generation
        if not (first.startswith(b'{"meta":') and first.endswith(b",\n")):
            return self.generation
        meta = self._parse_meta(_loads(first[:-2] + b"}", self.path)["meta"])
        return int(meta.get("generation", 1))

    def _reload(self) -> list[Change]:
        old = self.tables
        self._load_base()
        self._replay_journals()
        changes = []
        for table in RECORD_TABLES:
            before, after = old[table], self.tables[table]
            for rid in before.keys() | after.keys():
                if before.get(rid) != after.get(rid):
                    changes.append(Change(table, rid, before.get(rid), after.get(rid)))
        return changes

    def _apply(self, ops: list[Op], deletion: Deletion | None = None) -> list[Change]:
        changes = []
        for op in ops:
            kind, table, payload = op
            if kind == "del" and deletion is not None:
                self.deletions[payload] = deletion
            if table in self._pending:
                self._deferred_ops.append(op)
                continue
            records = self.tables.setdefault(table, {})
            if kind == "put":
                change = Change(table, payload["id"], records.get(payload["id"]), payload)
                records[payload["id"]] = payload
            else:
                change = Change(table, payload, records.pop(payload, None), None)
            changes.append(change)
            for listener in self._listeners:
                listener(change)
        return changes

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._file_lock.acquire()
        except Timeout as error:
            raise LockTimeoutError(
                f"the database is locked by another process for more than "
                f"{self._file_lock.timeout:.0f} s; try again") from error
        except OSError as error:
            raise StorageError(f"cannot lock {self.path}: {error.strerror}") from error
        try:
            yield
        finally:
            self._file_lock.release()

    def transact(self, build: Callable[[Tables], list[Op]], *,
                 deletion: Deletion | None = None) -> list[Change]:
        """Commit the ops that `build` returns, atomically and durably.

        `build` runs under the write lock after catching up with other writers, so checks it
        makes (versions, references) see the latest committed state. If it raises, nothing is
        written. `deletion` names who deletes (written into the entry, for `deleted_by`).
        Returns the changes applied (including other writers' caught up first)."""
        with self._mutex:
            self._wait_loaded()
            with self._locked():
                changes = self._replay_journals()
                ops = build(self.tables)
                if not ops:
                    return changes
                self._append(ops, deletion)
                changes.extend(self._apply(ops, deletion))
                return changes

    def deleted_by(self, record_id: str) -> Deletion | None:
        # No mutex: one dict read is atomic, and the UI asks this while a worker may hold
        # the mutex for a long load.
        return self.deletions.get(record_id)

    def _append(self, ops: list[Op], deletion: Deletion | None = None) -> None:
        entry: Record = {"ops": ops}
        if deletion is not None:  # extra keys: older readers look at "ops" only
            entry.update(by=deletion.by, at=deletion.at)
        line = orjson.dumps(entry) + b"\n"
        journal = _journal_path(self.path, self.generation)
        try:
            fd = _open_journal(journal, os.O_RDWR | os.O_APPEND, *self._new_file_mode())
        except OSError as error:
            raise StorageError(f"cannot write {journal}: {error.strerror}") from error
        try:
            size = os.fstat(fd).st_size
            if size != self._offset:
                # Bytes past what we read: a writer that died mid-line left a torn tail (we
                # hold the lock and have read every whole line). Only such a tail, checked
                # here, is cut; a whole entry there would be another writer's save.
                tail = os.pread(fd, max(0, size - self._offset), self._offset)
                if size < self._offset or b"\n" in tail:
                    raise StorageError(f"{journal} changed under the write lock (another "
                                       "writer?); nothing was saved: try again")
                os.ftruncate(fd, self._offset)
            if self._offset == 0:
                _fsync_dir(self.path.parent)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as error:
                with suppress(OSError):
                    os.ftruncate(fd, self._offset)  # leave the file as it was
                raise StorageError(f"could not save to {journal}: {error.strerror}") from error
            self._offset += len(line)
        finally:
            os.close(fd)

    def journal_size(self) -> int:
        with suppress(OSError):
            return os.stat(_journal_path(self.path, self.generation)).st_size
        return 0

    def needs_compaction(self) -> bool:
        return self.journal_size() > self.compact_threshold

    def compact(self) -> None:
        """Fold the journals into a new base so that plain TinyDB sees every record."""
        with self._mutex:
            self._wait_loaded()
            with self._locked():
                self._replay_journals()
                old_generation = self.generation
                new_generation = old_generation + 1
                # The next journal exists before the new base does: a crash in between leaves
                # a valid chain (old base -> journal G -> journal G+1).
                next_journal = _journal_path(self.path, new_generation)
                self._create_journal(next_journal)
                meta = {**self.meta, "generation": new_generation}
                self._write_base(self.tables, meta)
                self.meta = meta
                self.generation = new_generation
                self._offset = 0
                self._remove_journals_before(old_generation)

    def _create_journal(self, path: Path) -> None:
        try:
            os.close(_open_journal(path, os.O_WRONLY, *self._new_file_mode()))
        except OSError as error:
            raise StorageError(f"cannot create {path}: {error.strerror}") from error

    def _remove_journals_before(self, generation: int) -> None:
        """Journals older than the one before the current base: no reader still needs them
        (a process that slept through two compactions reloads the base)."""
        for stale in self.path.parent.glob(self.path.name + ".journal-*"):
            number = stale.name.rsplit("-", 1)[-1]
            if number.isdigit() and int(number) < generation:
                with suppress(OSError):
                    stale.unlink()

    def replace_all(self, tables: Tables) -> None:
        """Write `tables` as the whole database (bulk generation, restore).

        Processes following the journal are told by a `reset` entry to reload the new base."""
        with self._mutex:
            self._wait_loaded()
            with self._locked():
                self._replay_journals()
                old_generation = self.generation
                new_generation = old_generation + 1
                self._create_journal(_journal_path(self.path, new_generation))
                meta = {**self.meta, "generation": new_generation}
                self._write_base(tables, meta)
                self._append([("reset", "*", new_generation)])
                self._remove_journals_before(old_generation)
                self.tables = {t: dict(tables.get(t, {})) for t in RECORD_TABLES}
                self.meta, self.generation, self._offset = meta, new_generation, 0
                for listener in self._listeners:
                    for table in RECORD_TABLES:
                        _notify_bulk(listener, table, self.tables[table])

    def _new_file_mode(self) -> tuple[int, int]:
        """The mode and group for a new journal or base: the base file's, whoever creates it,
        so a team database stays one when a member without `--group` writes or compacts."""
        try:
            base = os.stat(self.path)
        except OSError:
            return self.mode, -1
        return base.st_mode & 0o777, base.st_gid

    def _write_base(self, tables: Tables, meta: Record) -> None:
        mode, group = self._new_file_mode()
        self._remove_orphaned_temps()
        temp: Path | None = None
        try:
            # An unguessable name, created O_EXCL (mkstemp): a symlink planted at a predictable
            # name can neither receive the database nor become crm.json.
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=self.path.parent)
            temp = Path(name)
            try:
                os.fchmod(fd, mode)  # the umask must not widen or narrow what was chosen
                if group != -1:
                    with suppress(OSError):  # the team's group, whoever compacts
                        os.fchown(fd, -1, group)
                with os.fdopen(fd, "wb", buffering=1024 * 1024, closefd=False) as out:
                    _write_line_layout(out, tables, meta)
                    out.flush()
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            _fsync_dir(self.path.parent)
        except OSError as error:
            if temp is not None:
                with suppress(OSError):
                    temp.unlink()
            raise StorageError(f"could not write {self.path}: {error.strerror}") from error

    def _remove_orphaned_temps(self) -> None:
        """Temp files of a compaction that was killed (only a compaction, under the write
        lock, makes them: any found now is an orphan). Links are unlinked, never followed."""
        prefix = f".{self.path.name}."
        for orphan in self.path.parent.glob(f"{prefix}*.tmp"):
            if "." in orphan.name[len(prefix):-len(".tmp")]:
                continue  # another database's (`crm.json.old`): not ours to remove
            with suppress(OSError):
                if stat.S_ISREG(os.lstat(orphan).st_mode) or orphan.is_symlink():
                    orphan.unlink()


def _notify_bulk(listener: ChangeListener, table: str, records: dict[str, Record]) -> None:
    bulk = getattr(listener, "bulk_load", None)
    if bulk is not None:
        bulk(table, records)
    else:
        for rid, record in records.items():
            listener(Change(table, rid, None, record))


_OFFSET_DIGITS = 13
_OFFSETS_PLACEHOLDER = ",".join(f"{t}:{0:0{_OFFSET_DIGITS}d}" for t in RECORD_TABLES)


def _parse_offsets(value: Any) -> dict[str, int]:
    """`accounts:0000000000123,contacts:...`: where each table's first document starts."""
    if not isinstance(value, str):
        return {}
    try:
        return {name: int(number) for name, number in
                (part.split(":", 1) for part in value.split(","))}
    except ValueError:
        return {}


def _write_line_layout(out: Any, tables: Tables, meta: Record) -> None:
    # meta.table_offsets is written as a fixed-width placeholder, then patched in place once
    # the offsets are known: still one pass over the records, and always valid JSON.
    meta = {**meta, "table_offsets": _OFFSETS_PLACEHOLDER}
    meta_line = b'{"meta":{"1":' + orjson.dumps(meta) + b"},\n"
    placeholder_at = meta_line.index(_OFFSETS_PLACEHOLDER.encode())
    out.write(meta_line)
    offsets: dict[str, int] = {}
    names = [ACCOUNTS, CONTACTS, ACTIVITIES]
    for index, table in enumerate(names):
        out.write(b'"' + table.encode() + b'":{\n')
        offsets[table] = out.tell()
        records = tables.get(table, {})
        last = len(records)
        for number, record in enumerate(records.values(), start=1):
            out.write(b'"%d":' % number + orjson.dumps(record)
                      + (b",\n" if number < last else b"\n"))
        out.write(b"},\n" if index < len(names) - 1 else b"}\n")
    out.write(b"}\n")
    end = out.tell()
    out.seek(placeholder_at)
    out.write(",".join(f"{t}:{offsets[t]:0{_OFFSET_DIGITS}d}" for t in RECORD_TABLES).encode())
    out.seek(end)


def _table_header(line: bytes, path: Path) -> str:
    if not (line.startswith(b'"') and line.endswith(b'":{\n')):
        raise CorruptDatabaseError(f"{path}: unexpected content, the file may be damaged")
    return line[1:-4].decode()


def _truncated(path: Path | None) -> str:
    return (f"{path} is damaged (it ends too early). It was left as it was; "
            "restore a backup or move it away.")


def _table_chunks(handle: Any, path: Path | None = None) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for line in handle:
        if line.startswith(b"}"):
            break
        chunk.append(line)
        if len(chunk) >= _CHUNK_LINES:
            yield chunk
            chunk = []
    else:  # no closing brace: the file was cut short at a line end
        raise CorruptDatabaseError(_truncated(path))
    if chunk:
        yield chunk


def _skip_table(handle: Any, path: Path | None = None) -> None:
    for line in handle:
        if line.startswith(b"}"):
            return
    raise CorruptDatabaseError(_truncated(path))


def _parse_chunk(lines: list[bytes], path: Path | None = None) -> dict[str, Record]:
    body = b"".join(lines).rstrip().rstrip(b",")
    return _loads(b"{" + body + b"}", path)


def _loads(data: bytes, path: Path | None) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CorruptDatabaseError(
            f"{path} is damaged (not valid JSON: {error}). It was left as it was; "
            "restore a backup or move it away.") from error


def _parse_entry(line: bytes, journal: Path) -> tuple[list[Op], Deletion | None]:
    """An entry's ops, and who deleted what it deletes (entries of other writers, or written
    before deletes named their user, say nothing: None)."""
    try:
        entry = orjson.loads(line)
        ops = entry["ops"]
        by, at = entry.get("by"), entry.get("at")
        deletion = Deletion(by, at) if isinstance(by, str) and isinstance(at, str) else None
        return [(kind, table, payload) for kind, table, payload in ops], deletion
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise CorruptDatabaseError(f"{journal} has a damaged entry; it was left as it "
                                   "was. Run `crm check` or restore a backup.") from error
