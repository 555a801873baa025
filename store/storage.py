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
import re
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

# The errors live in store.errors; they are still imported from here too.
from store.errors import CorruptDatabaseError as CorruptDatabaseError
from store.errors import LockTimeoutError as LockTimeoutError
from store.errors import NewerSchemaError as NewerSchemaError
from store.errors import StorageError as StorageError
from store.model import (
    APP_NAME,
    META,
    SCHEMA_VERSION,
    STORED_TABLES,
    TRASH,
)
from store.model import Change as Change
from store.model import Deletion as Deletion
from store.model import Record as Record
from store.model import Tables as Tables
from store.text import counted

if TYPE_CHECKING:
    from store.index import Entry, IndexState, RecordIndex

# ("put", table, record) or ("del", table, record_id)
Op = tuple[str, str, Any]

# Lines of a table parsed at once; a whole number of checksum blocks.
_CHUNK_LINES = 4096
# Documents per checksum in the base: a flipped byte is reported as this many records at most.
_BLOCK_LINES = 64


# What to do about a damaged database, said once for every message that reports one.
RECOVER_HINT = (
    "`crm check` lists the damage; `crm recover --to NEW.json` rescues the rest into a new database"
)


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
            raise StorageError(f"{path} is a symbolic link: not followed; move it away") from error
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StorageError(f"{path} is not a regular file: move it away")
    return fd


_ODD_FILES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _refuse_odd_file(path: Path) -> None:
    """A database is a regular file: a folder, FIFO, socket or device named instead is refused
    at once, before anything would wait on it or write beside it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    for test, what in _ODD_FILES:
        if test(mode):
            raise StorageError(f"{path} is {what}, not a database file: name a file instead")
    if not stat.S_ISREG(mode):
        raise StorageError(f"{path} is not a regular file, not a database file")


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

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        group_writable: bool = False,
        lock_timeout: float = 10.0,
        compact_threshold: int = 32 * 1024 * 1024,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.mode = 0o660 if group_writable else 0o600
        self.compact_threshold = compact_threshold
        self.tables: Tables = {t: {} for t in STORED_TABLES}
        self.meta: Record = {}
        self.generation = 0
        self._offset = 0  # bytes of journal `generation` already applied
        self._lines = 0  # and its lines, to say where a damaged entry is
        self._mutex = threading.RLock()
        self._file_lock = _WriterLock(self.path.parent, timeout=lock_timeout)
        # Deletes read from journal entries that name their user: record id -> who and when.
        # Kept across reloads (ids are never reused); lost with the journal on compaction.
        self.deletions: dict[str, Deletion] = {}
        # Set by open_indexed: the records live in the index beside the base, not in
        # `tables` (which then reads the index), and every journal entry read is applied to
        # it. None: every record is held here, as plain TinyDB would.
        self.index: RecordIndex | None = None
        self.base_token = ""  # which base was read (see `_base_token`)
        self.notice: Callable[[str], None] | None = None  # told before the index is built

    # ---------------------------------------------------------------- opening
    def open(self) -> None:
        """Load the base and replay the journals: every record in memory, as plain TinyDB
        would hold them (a compaction, `crm check`, a rebuild of the index)."""
        with self._mutex:
            _refuse_odd_file(self.path)
            if not self.path.exists():
                self._create()
            self._load_base()
            self._replay_journals()
            self._check_chain()

    def open_indexed(self) -> None:
        """Open through the index beside the base (`store.index`): nothing is parsed when it
        was built from this base; it is built (from the files, never the other way) when it
        was not, or is missing; then the journals are followed from where it stands."""
        from store.index import RecordIndex  # sqlite3 only for an indexed open

        with self._mutex:
            _refuse_odd_file(self.path)
            if not self.path.exists():
                self._create()
            meta, _token = self._peek_base()  # a newer or damaged base is refused first
            if meta is None:
                # Written by plain TinyDB: known only by parsing it whole, which is done before
                # anything is made beside it (the first compaction writes our layout).
                self._load_base()
            mode, group = self._new_file_mode()
            self.index = RecordIndex.beside(self.path, mode=mode, group=group)
            self._stand_on_index()
            self._replay_journals()
            self._check_chain()

    def _stand_on_index(self) -> None:
        """Take up the index's position when it was built from the base on disk, else build
        it from the files. Every table is then read through it."""
        index = self.index
        assert index is not None
        meta, token = self._peek_base()
        state = index.state()
        if (
            state is not None
            and state.token == token
            and self._position_holds(state, meta)
            and self._journals_hold(meta or state.meta, state)
        ):
            self.meta = meta if meta is not None else state.meta
            self.generation, self._offset, self._lines = state.generation, state.offset, state.lines
            self.base_token = token
        else:
            self._build_index(index)
        self.tables = cast(Tables, index.tables())

    def _build_index(self, index: RecordIndex) -> None:
        """Read the base and journals whole (as without an index) and write them into it."""
        self.index = None
        size = os.stat(self.path).st_size
        if self.notice is not None and size > 16_000_000:  # a second or more: say why
            self.notice(
                f"building the index beside {self.path.name} from the database "
                f"({size / 1e6:,.0f} MB; once, after a copy, a restore or an upgrade)"
            )
        try:
            self._load_base()
            self._replay_journals()
            self._check_chain()
            index.rebuild(self.tables, self.read_so_far())
        finally:
            self.index = index

    def read_so_far(self) -> IndexState:
        """The base this process read and how far into the journals: what an index built
        from its tables records."""
        from store.index import IndexState

        return IndexState(self.base_token, self.meta, self.generation, self._offset, self._lines)

    def _peek_base(self) -> tuple[Record | None, str]:
        """The base's meta and token from its first line (None: a base written by plain
        TinyDB, whose meta is known only by parsing it whole)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            _refuse_odd_file(self.path)
            raise StorageError(f"cannot open {self.path}: {error.strerror}") from error
        with os.fdopen(fd, "rb") as handle:
            identity = os.fstat(handle.fileno())
            if not stat.S_ISREG(identity.st_mode):
                _refuse_odd_file(self.path)
            first = handle.readline()
        if first.startswith(b'{"meta":') and first.endswith(b",\n"):
            return self._first_line_meta(first), _base_token(first, identity)
        return None, _base_token(first, identity)

    def _position_holds(self, state: IndexState, meta: Record | None) -> bool:
        """The journal the index stands in is there, as long as it read, and its position
        is at a line end: the chain it read is the one on disk."""
        if meta is not None and state.generation < int(meta["generation"]):
            return False
        if state.offset == 0:
            return True
        try:
            fd = _open_existing(_journal_path(self.path, state.generation), os.O_RDONLY)
        except OSError:
            return False
        try:
            return bool(
                os.fstat(fd).st_size >= state.offset and os.pread(fd, 1, state.offset - 1) == b"\n"
            )
        finally:
            os.close(fd)

    def _journals_hold(self, meta: Record, state: IndexState) -> bool:
        """Every journal entry the index took in since the base is still there and whole:
        damage to one is refused now, as a full read would (each line is parsed and its
        checksum verified; the journals are kept short by compaction). False when a journal
        replaced the base meanwhile (`reset`): the index is then built again."""
        for generation in range(int(meta["generation"]), state.generation + 1):
            journal = _journal_path(self.path, generation)
            try:
                data = _read_journal(journal, 0)
            except FileNotFoundError:
                if generation == state.generation and state.offset == 0:
                    return True
                return False
            if generation == state.generation:
                data = data[: state.offset]
            for number, line in enumerate(data.split(b"\n")[:-1], start=1):
                if line.strip():
                    ops, _deletion = _parse_entry(line, journal, number)
                    if ops and ops[0][0] == "reset":
                        return False
        return True

    def _follow(self, entries: list[Entry], wait: bool = True) -> None:
        """Apply journal entries read to the index (those it has not taken in already).
        Without `wait` (a refresh), an index another process is writing is left to it: the
        writer of these entries applies them, and the next open catches up whatever it
        did not."""
        if self.index is None or not entries:
            return
        import sqlite3

        try:
            built_on = self.index.apply(entries, self.meta, wait=wait)
        except sqlite3.Error as error:
            raise StorageError(
                f"the index beside the database ({self.index.path}) could not be updated: "
                f"{error}. Delete it to have it rebuilt; the database itself is intact"
            ) from error
        if not built_on:  # emptied meanwhile (another version's format): build it again
            self._build_index(self.index)
            self.tables = cast(Tables, self.index.tables())

    def _create(self) -> None:
        try:
            # A new folder is as private as the database (the umask only ever removes bits).
            self.path.parent.mkdir(
                mode=0o770 if self.mode & 0o060 else 0o700, parents=True, exist_ok=True
            )
        except OSError as error:
            raise StorageError(f"cannot create {self.path.parent}: {error.strerror}") from error
        with self._locked():
            if self.path.exists():  # another process won the race
                return
            meta = {"schema_version": SCHEMA_VERSION, "generation": 1, "app": APP_NAME}
            self._write_base({t: {} for t in STORED_TABLES}, meta)

    def _load_base(self) -> None:
        try:
            # Non-blocking: a FIFO put in the file's place must not hang the open (the base
            # itself may be a link: it is replaced by rename, never written through).
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            _refuse_odd_file(self.path)
            raise StorageError(f"cannot open {self.path}: {error.strerror}") from error
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            _refuse_odd_file(self.path)
        handle = os.fdopen(fd, "rb")
        with handle, _gc_paused():
            identity = os.fstat(handle.fileno())
            first = handle.readline()
            self.base_token = _base_token(first, identity)
            if first.startswith(b'{"meta":') and first.endswith(b",\n"):
                tables, meta = self._load_line_layout(handle, first)
            else:  # written by plain TinyDB: no checksums to go by
                tables, meta = self._load_whole(first + handle.read())
        self.meta = meta
        self.generation = meta["generation"]
        self._offset = self._lines = 0
        self.tables = tables

    def _load_line_layout(self, handle: Any, first: bytes) -> tuple[Tables, Record]:
        """Read a base in our one-document-per-line layout, table by table, each block of
        documents checked against the checksum the first line records."""
        meta = self._first_line_meta(first)
        sums = _parse_checksums(meta.get("checksums"))
        tables: Tables = {t: {} for t in STORED_TABLES}
        while True:
            header = handle.readline()
            if header == b"}\n" or header == b"}":
                break
            if not header:
                raise CorruptDatabaseError(_truncated(self.path))
            name = _table_header(header, self.path)
            records = _read_table(_table_chunks(handle, self.path), sums, name, self.path)
            if name in STORED_TABLES:
                tables[name] = records
        return tables, meta

    def _first_line_meta(self, first: bytes) -> Record:
        """The meta document of a base in our line layout, its checksum verified."""
        meta = self._parse_meta(_loads(first[:-2] + b"}", self.path).get("meta"))
        sums = _meta_sum(first)
        if sums is not None and sums[0] != sums[1]:
            raise CorruptDatabaseError(
                f"{self.path} is damaged: its first line (the meta table) fails its checksum. "
                f"It was left as it was; {RECOVER_HINT}"
            )
        return meta

    def _load_whole(self, data: bytes) -> tuple[Tables, Record]:
        if not data.strip():
            raise CorruptDatabaseError(
                f"{self.path} is empty: not a CRM database. "
                "Move it away or choose another file with --db."
            )
        raw = _loads(data, self.path)
        if not isinstance(raw, dict) or META not in raw:
            raise CorruptDatabaseError(
                f"{self.path} is a JSON file but not a CRM database (it has no 'meta' table)"
            )
        meta = self._parse_meta(raw[META])
        tables: Tables = {t: {} for t in STORED_TABLES}
        for table in STORED_TABLES:
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
            raise CorruptDatabaseError(
                f"{self.path}: the meta table has no schema_version; "
                f"the file was left as it was. {RECOVER_HINT}"
            )
        meta.setdefault("generation", 1)
        if type(meta["generation"]) is not int or meta["generation"] < 1:
            raise CorruptDatabaseError(
                f"{self.path}: the meta table's generation is not a "
                f"number; the file was left as it was. {RECOVER_HINT}"
            )
        if meta["schema_version"] > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{self.path} was written by a newer version of this CRM (schema "
                f"{meta['schema_version']}, this program knows {SCHEMA_VERSION}). Upgrade to "
                "open it; the file was left as it was."
            )
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
                if self._base_generation() > self.generation:
                    # Our journal was removed by compactions we slept through (three remove
                    # the next journal too: only the base tells): start again.
                    return self._reload()
                if _journal_path(self.path, self.generation + 1).exists():
                    # A compaction creates the current journal before the next one.
                    raise CorruptDatabaseError(
                        f"{journal} is missing, yet the journal after it exists: saves in it "
                        f"are lost. Nothing was changed; {RECOVER_HINT}"
                    ) from None
                if self._offset:
                    raise CorruptDatabaseError(
                        f"{journal} was removed while in use: saves in it are lost. Nothing "
                        f"was changed; {RECOVER_HINT}"
                    ) from None
                return changes  # nothing written in this generation yet
            end = data.rfind(b"\n") + 1  # a torn last line (writer killed) is not ours yet
            if _damaged_tail(data[end:]):
                raise CorruptDatabaseError(
                    f"{journal} ends in a damaged entry; it was left as it was. {RECOVER_HINT}"
                )
            read: list[Entry] = []  # for the index: each entry with where it ends
            position = self._offset
            for line in data[:end].split(b"\n")[:-1]:
                self._lines += 1
                position += len(line) + 1
                if not line.strip():
                    continue
                ops, deletion = _parse_entry(line, journal, self._lines)
                if ops and ops[0][0] == "reset":  # the base was replaced as a whole
                    return changes + self._reload()
                changes.extend(self._apply(ops, deletion))
                if self.index is not None:
                    read.append((ops, self.generation, position, self._lines))
            self._offset += end
            self._follow(read, wait)
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
                        f"{self._file_lock.timeout:.0f} s; try again"
                    ) from error
                except OSError:
                    pass  # cannot lock (read-only access): follow as before
                else:
                    try:
                        return changes + self._replay_journals(wait)
                    finally:
                        self._file_lock.release()
            self.generation += 1
            self._offset = self._lines = 0

    def _check_chain(self) -> None:
        """Refuse a gap in the journals: a journal beyond the one we stopped at means one in
        between is missing, and the saves after it would be skipped silently."""
        prefix = f"{self.path.name}.journal-"
        try:
            names = os.listdir(self.path.parent)
        except OSError:
            return
        later = sorted(
            int(n[len(prefix) :])
            for n in names
            if n.startswith(prefix)
            and n[len(prefix) :].isdigit()
            and int(n[len(prefix) :]) > self.generation + 1
        )
        if later:
            missing = _journal_path(self.path, self.generation + 1).name
            raise CorruptDatabaseError(
                f"{self.path}: {missing} is missing, yet {prefix}{later[0]} exists: the saves "
                f"after the gap would be lost. Nothing was changed; {RECOVER_HINT}"
            )

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
        return int(self._first_line_meta(first)["generation"])

    def _reload(self) -> list[Change]:
        if self.index is not None:
            # Every record may have changed: the index is taken up again (or rebuilt), and
            # the screens reload whole (the index's generation moves on).
            self._stand_on_index()
            self.index.generation += 1
            return self._replay_journals()
        old = self.tables
        self._load_base()
        self._replay_journals()
        changes = []
        for table in STORED_TABLES:
            before, after = old[table], self.tables[table]
            for rid in before.keys() | after.keys():
                if before.get(rid) != after.get(rid):
                    changes.append(Change(table, rid, before.get(rid), after.get(rid)))
        return changes

    def _apply(self, ops: list[Op], deletion: Deletion | None = None) -> list[Change]:
        changes = []
        if self.index is not None:  # the records are in the index: `_follow` applies them
            for kind, table, payload in ops:
                if kind == "del":
                    if deletion is not None and table != TRASH:
                        self.deletions[payload] = deletion
                    changes.append(Change(table, payload, None, None))
                else:
                    changes.append(Change(table, payload["id"], None, payload))
            return changes
        for op in ops:
            kind, table, payload = op
            if kind == "del" and deletion is not None and table != TRASH:
                self.deletions[payload] = deletion
            records = self.tables.setdefault(table, {})
            if kind == "put":
                change = Change(table, payload["id"], records.get(payload["id"]), payload)
                records[payload["id"]] = payload
            else:
                change = Change(table, payload, records.pop(payload, None), None)
            changes.append(change)
        return changes

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._file_lock.acquire()
        except Timeout as error:
            raise LockTimeoutError(
                f"the database is locked by another process for more than "
                f"{self._file_lock.timeout:.0f} s; try again"
            ) from error
        except OSError as error:
            raise StorageError(f"cannot lock {self.path}: {error.strerror}") from error
        try:
            yield
        finally:
            self._file_lock.release()

    def transact(
        self,
        build: Callable[[Tables], list[Op]],
        *,
        deletion: Deletion | None = None,
        extra: Record | None = None,
    ) -> list[Change]:
        """Commit the ops that `build` returns, atomically and durably.

        `build` runs under the write lock after catching up with other writers, so checks it
        makes (versions, references) see the latest committed state. If it raises, nothing is
        written. `deletion` names who deletes (written into the entry, for `deleted_by`);
        `extra`: more keys for the entry, read after `build` ran (the history entry it made).
        Returns the changes applied (including other writers' caught up first)."""
        with self._mutex:
            with self._locked():
                changes = self._replay_journals()
                self._check_chain()
                changes += self._settle_tail()
                ops = build(self.tables)
                if not ops:
                    return changes
                self._append(ops, deletion, extra)
                changes.extend(self._apply(ops, deletion))
                self._follow([(ops, self.generation, self._offset, self._lines)])
                return changes

    def _settle_tail(self) -> list[Change]:
        """Bytes after the last line end are a writer's torn line, which `_append` cuts; but
        a torn write is only ever a prefix of an entry, so one whose checksum is there is a
        whole entry that lost its line end (bit rot, or a writer killed just before it). It
        is completed when it verifies, and refused otherwise: never cut."""
        journal = _journal_path(self.path, self.generation)
        try:
            tail = _read_journal(journal, self._offset)
        except FileNotFoundError:
            return []
        if _SEAL not in tail:
            return []
        if _damaged_tail(tail) or not (tail.endswith(b'"}') and _seal_holds(tail)):
            raise CorruptDatabaseError(
                f"{journal} ends in a damaged entry; it was left as it was. {RECOVER_HINT}"
            )
        fd = _open_existing(journal, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return self._replay_journals()

    def deleted_by(self, record_id: str) -> Deletion | None:
        # No mutex: one dict read is atomic, and the UI asks this while a worker may hold
        # the mutex for a long load.
        return self.deletions.get(record_id)

    def _append(
        self, ops: list[Op], deletion: Deletion | None = None, extra: Record | None = None
    ) -> None:
        entry: Record = {"ops": ops}
        if deletion is not None:  # extra keys: older readers look at "ops" only
            entry.update(by=deletion.by, at=deletion.at)
        if extra:
            entry.update(extra)
        line = _sealed(orjson.dumps(entry))
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
                if size < self._offset or b"\n" in tail or _SEAL in tail:
                    raise StorageError(
                        f"{journal} changed under the write lock (another "
                        "writer?); nothing was saved: try again"
                    )
                os.ftruncate(fd, self._offset)
            if self._offset and os.pread(fd, 1, self._offset - 1) != b"\n":
                # The line end we read is gone (bit rot, an edit): our entry would be glued
                # to the one before, and both lost.
                raise CorruptDatabaseError(
                    f"{journal} ends in a damaged entry; it was left as it was. {RECOVER_HINT}"
                )
            if self._offset == 0:
                _fsync_dir(self.path.parent)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as error:
                with suppress(OSError):
                    os.ftruncate(fd, self._offset)  # leave the file as it was
                raise StorageError(f"could not save to {journal}: {error.strerror}") from error
            self._offset += len(line)
            self._lines += 1
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
            index = self.index
            try:
                if index is not None:
                    # The new base is written from the base and journals read whole, never
                    # from the index (derived data must not become the database). Read before
                    # the lock is taken: writers wait only for the tail and the write.
                    self.index = None
                    self._load_base()
                    self._replay_journals()
                with self._locked():
                    self._replay_journals()
                    self._check_chain()
                    self._settle_tail()
                    before = (self.generation, self._offset)
                    old_generation = self.generation
                    new_generation = old_generation + 1
                    # The next journal exists before the new base does, and the current one
                    # before it: a crash in between leaves a valid chain (old base -> journal
                    # G -> journal G+1), and a journal missing before another is always a
                    # loss, never a crash.
                    self._create_journal(_journal_path(self.path, old_generation))
                    self._create_journal(_journal_path(self.path, new_generation))
                    self._archive_history(int(self.meta["generation"]), old_generation)
                    meta = {
                        **self.meta,
                        "generation": new_generation,
                        "schema_version": SCHEMA_VERSION,
                    }
                    self._write_base(self.tables, meta)
                    self.meta = meta
                    self.generation = new_generation
                    self._offset = self._lines = 0
                    self._remove_journals_before(old_generation)
                    if index is not None:  # still under the lock: nothing appended since
                        from store.index import IndexState

                        moved = IndexState(self.base_token, meta, new_generation, 0, 0)
                        index.moved(before, moved)
            finally:
                if index is not None:
                    self.index = index
                    self.tables = cast(Tables, index.tables())

    # ---------------------------------------------------------------- history
    @property
    def history_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.history")

    def _archive_history(self, first: int, last: int) -> None:
        """Append the history entries of journals `first`..`last` (about to be folded into a
        new base) to the history file, durably, before the base that drops them is written.
        A compaction killed after this and before its base repeats them: readers keep one
        of each (entries have unique ids)."""
        lines = [
            orjson.dumps(entry) + b"\n"
            for generation in range(first, last + 1)
            for entry in self._journal_history(generation)
        ]
        if lines:
            self._append_history(lines)

    def _append_history(self, lines: Iterable[bytes]) -> None:
        """Append JSON lines to the history file, durably, with the database's mode and
        group. A torn last line (a compaction killed mid-write) is ended first, so that it
        cannot swallow the first line appended after it."""
        mode, group = self._new_file_mode()
        try:
            fd = _open_journal(self.history_path, os.O_RDWR | os.O_APPEND, mode, group)
        except OSError as error:
            raise StorageError(f"cannot write {self.history_path}: {error.strerror}") from error
        try:
            size = os.fstat(fd).st_size
            with os.fdopen(fd, "ab", buffering=1024 * 1024, closefd=False) as out:
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    out.write(b"\n")
                out.writelines(lines)
            os.fsync(fd)
        except OSError as error:
            raise StorageError(
                f"could not save to {self.history_path}: {error.strerror}"
            ) from error
        finally:
            os.close(fd)

    def _journal_history(self, generation: int) -> Iterator[Record]:
        try:
            data = _read_journal(_journal_path(self.path, generation), 0)
        except FileNotFoundError:
            return
        for line in data[: data.rfind(b"\n") + 1].splitlines():
            if b'"h":' in line:
                entry = orjson.loads(line).get("h")
                if isinstance(entry, dict):
                    yield entry

    def history_lines(self, needle: bytes | None = None) -> Iterator[Record]:
        """Every history entry (archived, then the journals' not yet archived), each once;
        with `needle`, only entries whose stored form contains it (a record id, a user):
        the file is searched as bytes before any line is parsed. Never cached: a history
        grows without bound, and few screens ask."""
        seen: set[str] = set()
        try:
            data = _read_journal(self.history_path, 0)
        except FileNotFoundError:
            data = b""
        for line in data.splitlines():
            if needle is None or needle in line:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a torn last line of a killed compaction: it is repeated
                if entry.get("id") not in seen:
                    seen.add(str(entry.get("id")))
                    yield entry
        with self._mutex:
            first, last = int(self.meta.get("generation", 1)), self.generation
        for generation in range(first, last + 1):
            for entry in self._journal_history(generation):
                if entry.get("id") not in seen and (
                    needle is None or needle in orjson.dumps(entry)
                ):
                    seen.add(str(entry.get("id")))
                    yield entry

    def add_history(self, entries: Iterable[Record]) -> int:
        """Append history entries brought from another database (`crm migrate`) to the
        history file, durably, under the write lock; those whose id it holds already are
        skipped. Returns how many were added."""
        added = 0

        def new_lines() -> Iterator[bytes]:
            nonlocal added
            for entry in entries:
                if str(entry.get("id")) not in seen:
                    seen.add(str(entry.get("id")))
                    added += 1
                    yield orjson.dumps(entry) + b"\n"

        with self._mutex, self._locked():
            seen = {str(entry.get("id")) for entry in self.history_lines()}
            self._append_history(new_lines())
        return added

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
            with self._locked():
                self._replay_journals()
                self._check_chain()
                self._settle_tail()
                old_generation = self.generation
                new_generation = old_generation + 1
                self._create_journal(_journal_path(self.path, old_generation))
                self._create_journal(_journal_path(self.path, new_generation))
                meta = {**self.meta, "generation": new_generation}
                self._write_base(tables, meta)
                self._append([("reset", "*", new_generation)])
                self._remove_journals_before(old_generation)
                self.meta, self.generation = meta, new_generation
                self._offset = self._lines = 0
                if self.index is not None:
                    from store.index import IndexState

                    state = IndexState(self.base_token, meta, new_generation, 0, 0)
                    self.index.rebuild(tables, state)
                    return
                self.tables = {t: dict(tables.get(t, {})) for t in STORED_TABLES}

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
            fd, name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            temp = Path(name)
            try:
                os.fchmod(fd, mode)  # the umask must not widen or narrow what was chosen
                if group != -1:
                    with suppress(OSError):  # the team's group, whoever compacts
                        os.fchown(fd, -1, group)
                with os.fdopen(fd, "wb", buffering=1024 * 1024, closefd=False) as out:
                    first = _write_line_layout(out, tables, meta)
                    out.flush()
                    os.fsync(fd)
                    written = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            self.base_token = _base_token(first, written)
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
            if "." in orphan.name[len(prefix) : -len(".tmp")]:
                continue  # another database's (`crm.json.old`): not ours to remove
            with suppress(OSError):
                if stat.S_ISREG(os.lstat(orphan).st_mode) or orphan.is_symlink():
                    orphan.unlink()


_OFFSET_DIGITS = 13
_OFFSETS_PLACEHOLDER = ",".join(f"{t}:{0:0{_OFFSET_DIGITS}d}" for t in STORED_TABLES)
_SUM_DIGITS = 8  # one CRC-32, in hex


def _checksums_placeholder(tables: Tables) -> str:
    blocks = {t: -(-len(tables.get(t, {})) // _BLOCK_LINES) for t in STORED_TABLES}
    return " ".join(
        [f"meta={'0' * _SUM_DIGITS}"]
        + [f"{t}={'0' * _SUM_DIGITS * blocks[t]}" for t in STORED_TABLES]
    )


def _parse_checksums(value: Any) -> dict[str, list[int]] | None:
    """`meta=XXXXXXXX accounts=XXXXXXXXYYYYYYYY... contacts=...`: a CRC-32 of the meta line
    and one per block of documents of each table, as written. None for a base written before
    checksums (or by another program): nothing to verify."""
    if not isinstance(value, str):
        return None
    sums: dict[str, list[int]] = {}
    for part in value.split(" "):
        name, _, digits = part.partition("=")
        if len(digits) % _SUM_DIGITS:
            return {}
        try:
            sums[name] = [
                int(digits[i : i + _SUM_DIGITS], 16) for i in range(0, len(digits), _SUM_DIGITS)
            ]
        except ValueError:
            return {}
    return sums


def _meta_sum(first: bytes) -> tuple[int, int] | None:
    """The CRC-32 of the meta line with the checksums' value blanked (it is written last),
    and the one recorded in it."""
    start = first.find(b'"checksums":"meta=')
    if start < 0:
        return None
    start += len(b'"checksums":"')
    end = first.index(b'"', start)
    recorded = first[start + len(b"meta=") : start + len(b"meta=") + _SUM_DIGITS]
    blank = first[:start] + b"0" * (end - start) + first[end:]
    try:
        return zlib.crc32(blank), int(recorded, 16)
    except ValueError:
        return zlib.crc32(blank), -1


def _base_token(first: bytes, identity: os.stat_result) -> str:
    """What tells one base from another, for the index built from it: the checksum of our
    layout's first line, which holds the checksums of every block of documents (and the
    generation), and for any base its inode, size and modification time."""
    # The file's identity too: a base is only ever replaced by rename, so any write into it
    # (an edit, a restore of a copy) makes the index be built again from it, and checked.
    stamp = f"{identity.st_ino}:{identity.st_size}:{identity.st_mtime_ns}"
    if first.startswith(b'{"meta":') and first.endswith(b",\n"):
        return f"line:{zlib.crc32(first):08x}:{stamp}"
    return f"stat:{stamp}"


def _write_line_layout(out: Any, tables: Tables, meta: Record) -> bytes:
    # meta.table_offsets and meta.checksums are written as fixed-width placeholders, then
    # patched in place once known: still one pass over the records, and always valid JSON.
    sums_placeholder = _checksums_placeholder(tables)
    meta = {**meta, "table_offsets": _OFFSETS_PLACEHOLDER, "checksums": sums_placeholder}
    meta_line = b'{"meta":{"1":' + orjson.dumps(meta) + b"},\n"
    offsets_at = meta_line.index(_OFFSETS_PLACEHOLDER.encode())
    sums_at = meta_line.index(sums_placeholder.encode())
    out.write(meta_line)
    offsets: dict[str, int] = {}
    sums: dict[str, list[int]] = {}
    names = list(STORED_TABLES)
    for index, table in enumerate(names):
        out.write(b'"' + table.encode() + b'":{\n')
        offsets[table] = out.tell()
        records = tables.get(table, {})
        last = len(records)
        blocks: list[int] = []
        crc = 0
        for number, record in enumerate(records.values(), start=1):
            line = b'"%d":' % number + orjson.dumps(record) + (b",\n" if number < last else b"\n")
            out.write(line)
            crc = zlib.crc32(line, crc)
            if number % _BLOCK_LINES == 0 or number == last:
                blocks.append(crc)
                crc = 0
        sums[table] = blocks
        out.write(b"},\n" if index < len(names) - 1 else b"}\n")
    out.write(b"}\n")
    end = out.tell()
    offsets_text = ",".join(f"{t}:{offsets[t]:0{_OFFSET_DIGITS}d}" for t in STORED_TABLES)
    meta_line = (
        meta_line[:offsets_at] + offsets_text.encode() + meta_line[offsets_at + len(offsets_text) :]
    )
    tables_sums = " ".join(f"{t}=" + "".join(f"{c:08x}" for c in sums[t]) for t in STORED_TABLES)
    meta_line = (
        meta_line[: sums_at + len("meta=") + _SUM_DIGITS]
        + b" "
        + tables_sums.encode()
        + meta_line[sums_at + len(sums_placeholder) :]
    )
    meta_sum = _meta_sum(meta_line)
    assert meta_sum is not None
    meta_line = (
        meta_line[: sums_at + len("meta=")]
        + b"%08x" % meta_sum[0]
        + meta_line[sums_at + len("meta=") + _SUM_DIGITS :]
    )
    out.seek(0)
    out.write(meta_line)
    out.seek(end)
    return meta_line


def _table_header(line: bytes, path: Path) -> str:
    if not (line.startswith(b'"') and line.endswith(b'":{\n')):
        raise CorruptDatabaseError(
            f"{path} is damaged: a table does not start where one "
            f"should. It was left as it was; {RECOVER_HINT}"
        )
    return line[1:-4].decode()


def _truncated(path: Path | None) -> str:
    return (
        f"{path} is damaged (it ends too early). It was left as it was; "
        "restore a backup or move it away."
    )


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


def _parse_chunk(lines: list[bytes], path: Path | None = None) -> dict[str, Record]:
    body = b"".join(lines).rstrip().rstrip(b",")
    documents: dict[str, Record] = _loads(b"{" + body + b"}", path)
    return documents


def _read_table(
    chunks: Iterator[list[bytes]], sums: dict[str, list[int]] | None, table: str, path: Path
) -> dict[str, Record]:
    """A table's documents by id, each block of lines checked against its recorded CRC-32:
    a flipped byte could otherwise change an id, or a name, silently."""
    expected = None if sums is None else sums.get(table)
    if sums is not None and expected is None:
        expected = []  # checksums were written, but none for this table: it was added
    records: dict[str, Record] = {}
    block = 0
    for chunk in chunks:
        if expected is not None:
            for start in range(0, len(chunk), _BLOCK_LINES):
                lines = chunk[start : start + _BLOCK_LINES]
                if block >= len(expected) or zlib.crc32(b"".join(lines)) != expected[block]:
                    raise CorruptDatabaseError(_checksum_failure(path, table, block, lines))
                block += 1
        for doc in _parse_chunk(chunk, path).values():
            if not isinstance(doc, dict) or type(doc.get("id")) is not str:
                raise CorruptDatabaseError(
                    f"{path} is damaged: a document in {table} has no "
                    f"id. It was left as it was; {RECOVER_HINT}"
                )
            records[doc["id"]] = doc
    if expected is not None and block != len(expected):
        raise CorruptDatabaseError(
            f"{path} is damaged: {table} has {counted(block, 'block')} of documents where "
            f"{counted(len(expected), 'block')} were written. It was left as it was; "
            f"{RECOVER_HINT}"
        )
    return records


def _checksum_failure(path: Path, table: str, block: int, lines: list[bytes]) -> str:
    first = block * _BLOCK_LINES + 1
    return (
        f"{path} is damaged: {table} {first:,}-{first + len(lines) - 1:,} fail their "
        f"checksum (bit rot, or an edit by hand). It was left as it was; {RECOVER_HINT}"
    )


def _loads(data: bytes, path: Path | None) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CorruptDatabaseError(
            f"{path} is damaged (not valid JSON: {error}). It was left as it was; "
            "restore a backup or move it away."
        ) from error


# Every journal entry ends with the CRC-32 of what precedes it: `{"ops":[...],"crc":"XXXXXXXX"}`.
_SEAL = b',"crc":"'
_SEAL_LENGTH = len(_SEAL) + _SUM_DIGITS + len(b'"}')


def _sealed(entry: bytes) -> bytes:
    body = entry[:-1]  # without the closing brace
    return body + _SEAL + b"%08x" % zlib.crc32(body) + b'"}\n'


def _seal_holds(line: bytes) -> bool:
    """False when the entry's checksum is wrong. Entries written before checksums have none,
    and so does one whose `crc` key itself was flipped: then its ops are as written."""
    line = line.rstrip(b"\n")
    if not line.endswith(b'"}') or line[-_SEAL_LENGTH : -_SUM_DIGITS - 2] != _SEAL:
        return True
    try:
        return zlib.crc32(line[:-_SEAL_LENGTH]) == int(line[-_SUM_DIGITS - 2 : -2], 16)
    except ValueError:
        return False


_WHOLE_SEAL = re.compile(rb',"crc":"[0-9a-fA-F]{8}"\}')


def _damaged_tail(tail: bytes) -> bool:
    """Bytes after the last line end that a writer cannot have left: a torn write is a prefix
    of one entry, so a whole seal followed by more bytes is damage (a line end flipped)."""
    seal = _WHOLE_SEAL.search(tail)
    return seal is not None and seal.end() < len(tail)


def _valid_op(op: Any) -> bool:
    if not (isinstance(op, list) and len(op) == 3):
        return False
    kind, table, payload = op
    if kind == "put":
        return (
            table in STORED_TABLES and isinstance(payload, dict) and type(payload.get("id")) is str
        )
    if kind == "del":
        return table in STORED_TABLES and type(payload) is str
    return kind == "reset" and type(payload) is int


def _parse_entry(line: bytes, journal: Path, number: int = 0) -> tuple[list[Op], Deletion | None]:
    """An entry's ops, and who deleted what it deletes (entries of other writers, or written
    before deletes named their user, say nothing: None). `number`: its line, for the message."""
    try:
        if not _seal_holds(line):
            raise ValueError("checksum")
        entry = orjson.loads(line)
        ops = entry["ops"]
        if not isinstance(ops, list) or not all(_valid_op(op) for op in ops):
            raise ValueError("ops")
        by, at = entry.get("by"), entry.get("at")
        deletion = Deletion(by, at) if isinstance(by, str) and isinstance(at, str) else None
        return [(kind, table, payload) for kind, table, payload in ops], deletion
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        where = f"{journal}, line {number:,}," if number else f"{journal}"
        raise CorruptDatabaseError(
            f"{where} is damaged; it was left as it was. {RECOVER_HINT}"
        ) from error
