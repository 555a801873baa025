"""The index beside a database file: `crm.json.index`, derived data that lets a command read
only what it needs.

The base (`crm.json`) and its journals stay the database: a plain TinyDB document and the
journal lines, written and fsynced as before. The index is a SQLite file holding every record
with the columns the queries read (the folded search text and a trigram index of it, the list
order, the name and email keys, references, the open activities by date), and the position in
the journals it has taken in. A process opens it instead of parsing the base: a `crm log` at
250,000 activities looks up its one account, a search reads the trigram index, a timeline one
record's activities. Every process that reads the journals applies what it reads beyond the
index's position, so the index follows every writer (and a writer killed after its fsync is
caught up by the next reader).

It is never needed for correctness: it records which base it was built from (a checksum of the
base's first line, which holds the checksums of all of it) and where in the journals it stands;
when it does not match the files it is rebuilt from them, and when it cannot be written (a
read-only folder, a link planted at its name) the same index is built in memory for the
process. Deleting it costs one rebuild. `crm check` compares it with the base and journals.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import weakref
from collections.abc import (
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from store.errors import StorageError
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    STORED_TABLES,
    TRASH,
    Record,
    Tables,
    display_name,
)
from store.queries import (
    COUNT_CAP,
    PAGE,
    AgendaBuckets,
    ListQuery,
    Paged,
    QueriedTable,
    TimelineQuery,
    TreeNode,
    contact_search,
    derived_columns,
    order_by_column,
    tree_by_levels,
)
from store.text import fold, name_key, tokens

# Bumped when the layout below changes: an index of another format is rebuilt.
INDEX_FORMAT = 2
_IN_CHUNK = 500  # ids per `IN (...)`: well under SQLite's variable limit
_BUSY_SECONDS = 120.0  # another process rebuilding an index at scale L takes this long

Op = tuple[str, str, Any]
# (ops, generation, offset after the entry, lines after it): one journal entry and where it ends.
Entry = tuple[list[Op], int, int, int]

_ACCOUNT_COLUMNS = (
    "sort_name",
    "name_key",
    "email_key",
    "inactive",
    "search",
    "relationship",
    "parent_id",
    "primary_contact_id",
    "source_id",
)
_CONTACT_COLUMNS = (
    "sort_name",
    "name_key",
    "email_key",
    "inactive",
    "search_own",
    "search",
    "relationship",
    "account_id",
    "source_id",
)
_ACTIVITY_COLUMNS = (
    "regarding_id",
    "filed_at",
    "open_agenda",
    "owner",
    "type",
    "status",
    "search",
    "source_id",
    "agenda_when",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: _ACCOUNT_COLUMNS,
    CONTACTS: _CONTACT_COLUMNS,
    ACTIVITIES: _ACTIVITY_COLUMNS,
    TRASH: ("batch", "root"),
}

_TABLES_SQL = """
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (
    id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, sort_name TEXT NOT NULL, name_key TEXT NOT NULL,
    email_key TEXT, inactive INTEGER NOT NULL, search TEXT NOT NULL, relationship TEXT,
    parent_id TEXT, primary_contact_id TEXT, source_id TEXT);
CREATE TABLE contacts (
    id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, sort_name TEXT NOT NULL, name_key TEXT NOT NULL,
    email_key TEXT, inactive INTEGER NOT NULL, search_own TEXT NOT NULL, search TEXT NOT NULL,
    relationship TEXT, account_id TEXT, source_id TEXT);
CREATE TABLE activities (
    id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, regarding_id TEXT, filed_at TEXT NOT NULL,
    open_agenda INTEGER NOT NULL, owner TEXT, type TEXT, status TEXT, search TEXT NOT NULL,
    source_id TEXT, agenda_when TEXT);
CREATE TABLE trash (id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, batch TEXT, root TEXT);
"""
_INDEXES_SQL = """
CREATE INDEX accounts_order ON accounts (sort_name, id);
CREATE INDEX accounts_name_key ON accounts (name_key);
CREATE INDEX accounts_email_key ON accounts (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX accounts_parent ON accounts (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX accounts_primary ON accounts (primary_contact_id)
    WHERE primary_contact_id IS NOT NULL;
CREATE INDEX accounts_source ON accounts (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX contacts_order ON contacts (sort_name, id);
CREATE INDEX contacts_name_key ON contacts (name_key);
CREATE INDEX contacts_email_key ON contacts (email_key) WHERE email_key IS NOT NULL;
CREATE INDEX contacts_account ON contacts (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX contacts_source ON contacts (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX activities_regarding ON activities (regarding_id, filed_at);
CREATE INDEX activities_agenda ON activities (owner, agenda_when, type) WHERE open_agenda;
CREATE INDEX activities_agenda_all ON activities (agenda_when, type) WHERE open_agenda;
CREATE INDEX activities_source ON activities (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX trash_batch ON trash (batch);
"""
# The folded search text of accounts and contacts, indexed by trigram: a search for `silva`
# reads the rows holding it, not every row's text. Kept in step by triggers.
_FTS_STATEMENTS = [
    f"CREATE VIRTUAL TABLE {t}_fts USING fts5("
    f"search, content='{t}', content_rowid='rowid', tokenize='trigram')"
    for t in (ACCOUNTS, CONTACTS)
]
_TRIGGER_STATEMENTS = [
    statement
    for t in (ACCOUNTS, CONTACTS)
    for statement in (
        f"CREATE TRIGGER {t}_added AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO {t}_fts(rowid, search) VALUES (new.rowid, new.search); END",
        f"CREATE TRIGGER {t}_removed AFTER DELETE ON {t} BEGIN "
        f"INSERT INTO {t}_fts({t}_fts, rowid, search) VALUES ('delete', old.rowid, old.search); "
        "END",
        f"CREATE TRIGGER {t}_changed AFTER UPDATE OF search ON {t} BEGIN "
        f"INSERT INTO {t}_fts({t}_fts, rowid, search) VALUES ('delete', old.rowid, old.search); "
        f"INSERT INTO {t}_fts(rowid, search) VALUES (new.rowid, new.search); END",
    )
]
_DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {t}_{event}"
    for t in (ACCOUNTS, CONTACTS)
    for event in ("added", "removed", "changed")
]
_DROP_SQL = "".join(
    f"DROP TABLE IF EXISTS {t};" for t in ("accounts_fts", "contacts_fts", *STORED_TABLES, "state")
)


class IndexUnusable(Exception):
    """The index file cannot be used (and is left alone): the process indexes in memory."""


@dataclass(frozen=True)
class IndexState:
    """Which base the index was built from and how far into the journals it has read."""

    token: str
    meta: Record
    generation: int
    offset: int
    lines: int

    @property
    def position(self) -> tuple[int, int]:
        return (self.generation, self.offset)


def index_path(base: Path) -> Path:
    return base.with_name(base.name + ".index")


def _dumps(record: Record) -> str:
    return orjson.dumps(record).decode()


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _phrase(words: Iterable[str]) -> str:
    """An FTS5 query of every word as a quoted phrase: all must occur, as substrings."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


# One index object (one connection) per index file in a process: SQLite keeps a closed
# connection's descriptors open while another connection of the process holds a lock on the
# same file, so two stores of one database in a process (a test's two users; a command's
# checks) share it, as the threads of the app share one.
_SHARED: weakref.WeakValueDictionary[tuple[int, int, str], RecordIndex] = (
    weakref.WeakValueDictionary()
)
_SHARED_LOCK = threading.Lock()


def _identity(path: Path) -> tuple[int, int, str]:
    """The index file as it is on disk now (another file at the name is another index)."""
    try:
        found = os.lstat(path)
    except OSError:
        return (-1, -1, str(path))
    return (found.st_dev, found.st_ino, str(path))


def _prepare_file(path: Path, mode: int, group: int) -> None:
    """Create the index file as the database's files are made (its mode and group, never
    through a link), and refuse a link or odd file at its name or its companions'."""
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            found = os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise IndexUnusable(f"cannot read {name}: {error.strerror}") from error
        if not stat.S_ISREG(found.st_mode):
            raise IndexUnusable(f"{name} is not a regular file; it was left alone")
    try:
        # Only a new file is opened here: closing a descriptor of a SQLite file that a
        # connection of this process has open would drop that connection's locks.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except FileExistsError:
        return  # checked above: a regular file
    except OSError as error:
        raise IndexUnusable(f"cannot write {path}: {error.strerror}") from error
    try:
        os.fchmod(fd, mode)  # the database's mode and group, whatever the umask
        if group != -1 and os.fstat(fd).st_gid != group:
            try:
                os.fchown(fd, -1, group)
            except OSError:
                pass
    finally:
        os.close(fd)


class RecordIndex:
    """Every record of one database, in a SQLite file beside it (or in memory)."""

    def __init__(self, base: Path, *, mode: int, group: int = -1, in_memory: bool = False) -> None:
        self.path = index_path(base)
        self.in_memory = in_memory
        self.lock = threading.RLock()  # one connection, shared by the app's threads
        self.fallback_reason: str | None = None
        self._counts: dict[tuple[str, int], int] = {}
        self.generation = 0  # bumped on every change taken in: cheap "has anything changed?"
        self._conn: sqlite3.Connection | None
        if in_memory:
            self._conn = self._connect(":memory:")
        else:
            _prepare_file(self.path, mode, group)
            try:
                self._conn = self._connect(str(self.path))
                self._conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as error:
                raise IndexUnusable(f"{self.path}: {error}") from error
        self._schema_ok = self._has_schema()

    @classmethod
    def beside(cls, base: Path, *, mode: int, group: int = -1) -> RecordIndex:
        """The index file beside `base`, or one in memory (saying why) when it cannot be
        used; a damaged file is replaced."""
        if sqlite3.sqlite_version_info < (3, 34, 0):  # trigram search came in 3.34
            raise StorageError(
                f"termcrm needs SQLite 3.34 or newer for a database file's index; this "
                f"Python's sqlite3 module has {sqlite3.sqlite_version}"
            )
        with _SHARED_LOCK:
            known = _SHARED.get(_identity(index_path(base)))
            if known is not None:
                return known
            try:
                index = cls(base, mode=mode, group=group)
            except IndexUnusable as error:
                index = cls._instead(base, mode, group, error)
            if not index.in_memory:
                _SHARED[_identity(index.path)] = index
            return index

    @classmethod
    def _instead(cls, base: Path, mode: int, group: int, error: IndexUnusable) -> RecordIndex:
        """A new file in place of a damaged one, else an index in memory."""
        if "not a database" in str(error) or "malformed" in str(error):
            try:
                for suffix in ("", "-wal", "-shm"):
                    name = index_path(base).with_name(index_path(base).name + suffix)
                    if name.exists() and stat.S_ISREG(os.lstat(name).st_mode):
                        name.unlink()
                return cls(base, mode=mode, group=group)
            except (OSError, IndexUnusable):
                pass
        index = cls(base, mode=mode, group=group, in_memory=True)
        index.fallback_reason = str(error)
        return index

    @staticmethod
    def _connect(name: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            name, isolation_level=None, check_same_thread=False, timeout=_BUSY_SECONDS
        )
        # Derived data: a commit lost to a power cut is taken in again from the journal.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Read through a shared mapping, so ten users of one database share its pages.
        conn.execute("PRAGMA mmap_size=4294967296")
        conn.execute("PRAGMA cache_size=-16384")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, opened again when used after `close()`."""
        if self._conn is None:
            self._conn = self._connect(str(self.path))
        return self._conn

    def close(self) -> None:
        """Close the file (a connection holds its descriptors until it is closed: its own
        statement cache refers back to it, so only the cycle collector would free it). An
        index in memory stays: closing would lose it."""
        with self.lock:
            if self._conn is not None and not self.in_memory:
                self._conn.close()
                self._conn = None

    def _has_schema(self) -> bool:
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            found = self.conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'state'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise IndexUnusable(f"{self.path}: {error}") from error
        return bool(version == INDEX_FORMAT and found)

    # ------------------------------------------------------------ state
    def state(self) -> IndexState | None:
        """Where the index stands, or None when it holds nothing usable."""
        with self.lock:
            if not self._schema_ok:
                self._schema_ok = self._has_schema()  # another process built it since
                if not self._schema_ok:
                    return None
            try:
                rows = dict(self.conn.execute("SELECT key, value FROM state").fetchall())
            except sqlite3.DatabaseError:
                return None
        if not rows.get("token"):
            return None
        try:
            return IndexState(
                rows["token"],
                orjson.loads(rows["meta"]),
                int(rows["generation"]),
                int(rows["offset"]),
                int(rows["lines"]),
            )
        except (KeyError, ValueError, orjson.JSONDecodeError):
            return None

    def _set_state(self, state: IndexState) -> None:
        self.conn.executemany(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [
                ("token", state.token),
                ("meta", orjson.dumps(state.meta).decode()),
                ("generation", str(state.generation)),
                ("offset", str(state.offset)),
                ("lines", str(state.lines)),
            ],
        )

    # ------------------------------------------------------------ writing
    def rebuild(self, tables: Tables, state: IndexState, *, repair: bool = False) -> None:
        """Hold exactly `tables`, read at `state`: one transaction (readers see the old
        index until it commits)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                current = self.state() if self._has_schema() else None
                if current == state and not repair:  # another process built the same
                    self.conn.execute("ROLLBACK")
                    return
                self._empty()
                account_names = {
                    rid: fold(display_name(ACCOUNTS, record))
                    for rid, record in tables.get(ACCOUNTS, {}).items()
                }
                for table in STORED_TABLES:
                    records = tables.get(table, {})
                    names = COLUMNS[table]
                    statement = (
                        f"INSERT INTO {table} (id, doc, {', '.join(names)}) "
                        f"VALUES ({_placeholders(len(names) + 2)})"
                    )
                    self.conn.executemany(
                        statement,
                        (
                            (rid, _dumps(record), *_row(table, record, account_names))
                            for rid, record in records.items()
                        ),
                    )
                for t in (ACCOUNTS, CONTACTS):
                    self.conn.execute(f"INSERT INTO {t}_fts({t}_fts) VALUES ('rebuild')")
                for statement in _TRIGGER_STATEMENTS:
                    self.conn.execute(statement)
                self._set_state(state)
                self.conn.execute(f"PRAGMA user_version = {INDEX_FORMAT}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            # The rebuild went through the write-ahead log, as big as the index: folded into
            # the file now rather than by the next process to open it.
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._schema_ok = True
            self.generation += 1
            self._counts.clear()

    def _empty(self) -> None:
        """Every table emptied, in the rebuild's transaction. The tables themselves stay:
        dropping them under readers in other processes would break their statements (a
        trigram table's constructor fails mid-query); only the format's change recreates."""
        if not self._has_schema():
            for statement in _split(_DROP_SQL + _TABLES_SQL + _INDEXES_SQL):
                self.conn.execute(statement)
            for statement in _FTS_STATEMENTS:
                self.conn.execute(statement)
        for statement in _DROP_TRIGGERS:
            self.conn.execute(statement)
        for table in STORED_TABLES:  # without triggers: SQLite truncates at once
            self.conn.execute(f"DELETE FROM {table}")
        for t in (ACCOUNTS, CONTACTS):
            self.conn.execute(f"INSERT INTO {t}_fts({t}_fts) VALUES ('delete-all')")

    def apply(self, entries: list[Entry], meta: Record | None = None, *, wait: bool = True) -> bool:
        """Take in journal entries, those beyond the index's position only (another process
        may have taken them in already), in one transaction. False when the index holds
        nothing to build on (it must be rebuilt)."""
        if not entries:
            return True
        with self.lock:
            if not wait:  # the app's poll: never hold the screens up behind another writer
                self.conn.execute("PRAGMA busy_timeout = 0")
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:
                    self.generation += 1  # what they write shows anyway
                    return True
                finally:
                    self.conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_SECONDS * 1000)}")
            else:
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                current = self.state()
                if current is None:
                    self.conn.execute("ROLLBACK")
                    return False
                last = None
                for ops, generation, offset, lines in entries:
                    if (generation, offset) <= current.position:
                        continue
                    self._apply_ops(ops)
                    last = (generation, offset, lines)
                if last is not None:
                    self._set_state(
                        IndexState(current.token, meta or current.meta, last[0], last[1], last[2])
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            # Taken in, by this process or (already) by another: either way the screens
            # have news.
            self.generation += 1
            self._counts.clear()
            return True

    def moved(self, before: tuple[int, int], state: IndexState) -> None:
        """The base was rewritten with the same records (a compaction): the index, when it
        stood where the compaction did, now stands on the new base."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                current = self.state()
                if current is not None and current.position == before:
                    self._set_state(state)
                elif current is not None:  # out of step: the next open rebuilds it
                    self._set_state(IndexState("", current.meta, 0, 0, 0))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def _apply_ops(self, ops: list[Op]) -> None:
        conn = self.conn
        for kind, table, payload in ops:
            if table not in COLUMNS:
                continue
            if kind == "del":
                conn.execute(f"DELETE FROM {table} WHERE id = ?", (payload,))
                if table == ACCOUNTS:  # its contacts no longer match its name
                    conn.execute(
                        "UPDATE contacts SET search = search_own WHERE account_id = ?", (payload,)
                    )
                continue
            names = COLUMNS[table]
            account_names: dict[str, str | None] = {}
            if table == CONTACTS and payload.get("account_id"):
                row = conn.execute(
                    "SELECT sort_name FROM accounts WHERE id = ?", (payload["account_id"],)
                ).fetchone()
                account_names[payload["account_id"]] = row[0] if row else None
            values = _row(table, payload, account_names)
            conn.execute(
                f"INSERT INTO {table} (id, doc, {', '.join(names)}) "
                f"VALUES ({_placeholders(len(names) + 2)}) ON CONFLICT(id) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in ("doc", *names)),
                (payload["id"], _dumps(payload), *values),
            )
            if table == ACCOUNTS:  # contacts are found by their account's (new) name too
                folded = values[0]
                conn.execute(
                    "UPDATE contacts SET search = search_own || ' ' || ? "
                    "WHERE account_id = ? AND search != search_own || ' ' || ?",
                    (folded, payload["id"], folded),
                )

    # ------------------------------------------------------------ reading
    def _rows(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        with self.lock:
            return self.conn.execute(query, params).fetchall()

    def _value(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        rows = self._rows(query, params)
        return rows[0][0] if rows else None

    def get(self, table: str, record_id: str) -> Record | None:
        doc = self._value(f"SELECT doc FROM {table} WHERE id = ?", (record_id,))
        return None if doc is None else orjson.loads(doc)

    def contains(self, table: str, record_id: str) -> bool:
        return self._value(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)) is not None

    def count(self, table: str) -> int:
        # Asked at every redraw of a list's status line: counted once per change taken in.
        key = (table, self.generation)
        if key not in self._counts:
            self._counts[key] = int(self._value(f"SELECT count(*) FROM {table}"))
        return self._counts[key]

    def table(self, table: str) -> QueriedTable:
        """One table as a read-only mapping (what the service's rules read)."""
        return QueriedTable(
            lambda rid: self.get(table, rid),
            lambda: self.count(table),
            lambda: self.stream(table),
            lambda: self.ids(table),
        )

    def tables(self) -> dict[str, QueriedTable]:
        return {table: self.table(table) for table in STORED_TABLES}

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        if isinstance(ids, PagedIds) and ids.table == table:
            return ids.documents()  # a whole search: one query, not one per page
        wanted = list(ids)
        found: dict[str, Record] = {}
        for chunk in _chunks(wanted):
            rows = self._rows(
                f"SELECT id, doc FROM {table} WHERE id IN ({_placeholders(len(chunk))})", chunk
            )
            found.update((rid, orjson.loads(doc)) for rid, doc in rows)
        return [found[i] for i in wanted if i in found]

    def stream(self, table: str) -> Iterator[tuple[str, Record]]:
        after = ""
        while True:
            rows = self._rows(
                f"SELECT id, doc FROM {table} WHERE id > ? ORDER BY id LIMIT 5000", (after,)
            )
            yield from ((rid, orjson.loads(doc)) for rid, doc in rows)
            if len(rows) < 5000:
                return
            after = rows[-1][0]

    def ids(self, table: str) -> Iterator[str]:
        after = ""
        while True:
            rows = self._rows(
                f"SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT 20000", (after,)
            )
            yield from (row[0] for row in rows)
            if len(rows) < 20000:
                return
            after = rows[-1][0]

    def by_source_id(self, table: str, source_id: str) -> str | None:
        found: str | None = self._value(
            f"SELECT id FROM {table} WHERE source_id = ? ORDER BY id LIMIT 1", (source_id,)
        )
        return found

    def ids_by_key(self, table: str, column: str, keys: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {k: set() for k in keys}
        ordered = sorted(keys)
        for chunk in _chunks(ordered):
            rows = self._rows(
                f"SELECT {column}, id FROM {table} WHERE {column} IN ({_placeholders(len(chunk))})",
                chunk,
            )
            for key, rid in rows:
                found[key].add(rid)
        return found

    def same_names(self, table: str, names: Iterable[str]) -> dict[str, set[str]]:
        return self.ids_by_key(table, "name_key", {name_key(n) for n in names})

    def same_emails(self, table: str, emails: Iterable[str]) -> dict[str, set[str]]:
        return self.ids_by_key(table, "email_key", {e.casefold() for e in emails})

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> Sequence[str]:
        where, params = _search_filter(table, query)
        if query.sort == "name":  # the common case: the order index, a page at a time
            return PagedIds(self, table, where, query.descending, params)
        if query.sort == "account":
            value = (
                "(SELECT json_extract(a.doc, '$.name') FROM accounts a WHERE a.id = t.account_id)"
            )
        else:
            value = "json_extract(t.doc, ?)"
            params = [f"$.{query.sort}", *params]
        rows = self._rows(
            f"SELECT t.id, {value} FROM {table} t WHERE {where} ORDER BY t.sort_name, t.id",
            params,
        )
        values = dict(rows)
        return order_by_column([row[0] for row in rows], values.get, query.sort, query.descending)

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]:
        where, params = "regarding_id = ?", [record_id]
        if query.include_contacts:
            where = (
                "(regarding_id = ? OR regarding_id IN "
                "(SELECT id FROM contacts WHERE account_id = ?))"
            )
            params = [record_id, record_id]
        # An empty choice of types or statuses on a timeline means any (the filter is off).
        return self.activities(
            where, params, query.types or None, query.statuses or None, query.text
        )

    def activities(
        self,
        where: str,
        params: list[Any],
        types: Collection[str] | None,
        statuses: Collection[str] | None,
        text: str,
    ) -> list[Record]:
        """Activities matching `where`, of those types and statuses (None: any), with every
        word of `text`, newest first: what a timeline and an activity search show."""
        parts, params = [where], list(params)
        if types is not None:
            parts.append(f"type IN ({_placeholders(len(types))})")
            params += sorted(types)
        if statuses is not None:
            parts.append(f"status IN ({_placeholders(len(statuses))})")
            params += sorted(statuses)
        for word in tokens(text):
            parts.append("search LIKE ? ESCAPE '\\'")
            params.append(_like(word))
        rows = self._rows(
            "SELECT doc FROM activities WHERE "
            + " AND ".join(parts)
            + " ORDER BY filed_at DESC, id DESC",
            params,
        )
        return [orjson.loads(row[0]) for row in rows]

    def agenda(
        self, owner: str | None, now_iso: str, today_end_iso: str, today_start_iso: str, today: str
    ) -> AgendaBuckets:
        params = {
            "owner": owner,
            "now": now_iso,
            "today_end": today_end_iso,
            "today_start": today_start_iso,
            "day": today,
        }
        mine = "open_agenda AND owner = :owner" if owner else "open_agenda"

        def bucket(name: str, order: str) -> AgendaItems:
            return AgendaItems(self, f"{mine} AND {_BUCKETS[name]}", params, order)

        return AgendaBuckets(
            overdue=bucket("overdue", "agenda_when, id"),
            today=bucket("today", "agenda_when, id"),
            upcoming=bucket("upcoming", "agenda_when, id"),
            no_date=bucket("no_date", "filed_at, id"),
        )

    def _docs(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Record]:
        return [orjson.loads(row[0]) for row in self._rows(query, params)]

    def subsidiaries(self, account_id: str) -> list[Record]:
        found = self._docs("SELECT doc FROM accounts WHERE parent_id = ?", (account_id,))
        return sorted(found, key=lambda r: fold(r.get("name", "")))

    def contacts_of(self, account_id: str) -> list[Record]:
        found = self._docs("SELECT doc FROM contacts WHERE account_id = ?", (account_id,))
        return sorted(found, key=lambda r: fold(display_name(CONTACTS, r)))

    def parent_chain(self, account_id: str) -> list[Record]:
        """The account's ancestors, nearest first (stops on a cycle rather than looping)."""
        chain: list[Record] = []
        seen = {account_id}
        current = self.get(ACCOUNTS, account_id)
        while current and current.get("parent_account_id"):
            parent_id = current["parent_account_id"]
            if parent_id in seen:
                break
            seen.add(parent_id)
            current = self.get(ACCOUNTS, parent_id)
            if current is None:
                break
            chain.append(current)
        return chain

    def hierarchy(self, account_id: str) -> TreeNode | None:
        start = self.get(ACCOUNTS, account_id)
        if start is None:
            return None
        chain = self.parent_chain(account_id)
        root = chain[-1] if chain else start
        return tree_by_levels(root, self._subsidiaries_of)

    def _subsidiaries_of(self, parents: list[str]) -> list[Record]:
        found: list[Record] = []
        for chunk in _chunks(parents):
            found += self._docs(
                f"SELECT doc FROM accounts WHERE parent_id IN ({_placeholders(len(chunk))})",
                chunk,
            )
        return found

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]:
        return self.activities("1", [], types, statuses, text)

    # ------------------------------------------------------------ what the rules ask
    def dependant_ids(self, record_id: str) -> dict[str, set[str]]:
        found = {
            "activities": {
                r[0]
                for r in self._rows(
                    "SELECT id FROM activities WHERE regarding_id = ?", (record_id,)
                )
            }
        }
        if self.contains(ACCOUNTS, record_id):
            found["contacts"] = {
                r[0]
                for r in self._rows("SELECT id FROM contacts WHERE account_id = ?", (record_id,))
            }
            found["subsidiaries"] = {
                r[0]
                for r in self._rows("SELECT id FROM accounts WHERE parent_id = ?", (record_id,))
            }
        return found

    def accounts_with_primary_contact(self, contact_ids: Collection[str]) -> list[Record]:
        found: list[Record] = []
        for chunk in _chunks(sorted(contact_ids)):
            found += self._docs(
                "SELECT doc FROM accounts WHERE primary_contact_id IN "
                f"({_placeholders(len(chunk))})",
                chunk,
            )
        return found

    def trash_entries(
        self, *, roots_only: bool = False, batches: Collection[str] | None = None
    ) -> list[Record]:
        parts, params = ["1"], []
        if roots_only:
            parts.append("root = id")
        if batches is not None:
            wanted = sorted(batches)
            if not wanted:
                return []
            parts.append(f"batch IN ({_placeholders(len(wanted))})")
            params += wanted
        return self._docs("SELECT doc FROM trash WHERE " + " AND ".join(parts), params)


def _split(script: str) -> list[str]:
    """Statements of a script (no triggers in it), for `execute` inside a transaction:
    `executescript` would commit first."""
    return [part.strip() for part in script.split(";") if part.strip()]


def _row(table: str, record: Record, account_names: Mapping[str, str | None]) -> tuple[Any, ...]:
    """The index's columns for a record, in COLUMNS order."""
    if table == TRASH:
        return (record.get("batch"), str(record.get("root", record["id"])))
    columns = derived_columns(table, record)
    if table == ACTIVITIES:
        return (
            columns["regarding_id"],
            columns["filed_at"],
            int(columns["open_agenda"]),
            record.get("owner"),
            record.get("type"),
            record.get("status", "open"),
            columns["search"],
            record.get("source_id"),
            _agenda_when(record),
        )
    common = (
        columns["sort_name"],
        columns["name_key"],
        columns["email_key"],
        int(columns["inactive"]),
    )
    if table == ACCOUNTS:
        return (
            *common,
            columns["search"],
            record.get("relationship"),
            record.get("parent_account_id"),
            record.get("primary_contact_id"),
            record.get("source_id"),
        )
    account_id = record.get("account_id")
    folded = account_names.get(account_id) if account_id else None
    return (
        *common,
        columns["search_own"],
        contact_search(columns["search_own"], folded),
        record.get("relationship"),
        account_id,
        record.get("source_id"),
    )


def _agenda_when(record: Record) -> str | None:
    """When an open task or appointment falls on the agenda: a task's due time, an
    appointment's start (None: no date)."""
    when = record.get("due_at") if record.get("type") == "task" else record.get("start_at")
    return when if isinstance(when, str) and when else None


# The agenda's buckets as conditions on `agenda_when`, as store.queries.bucket_agenda sorts
# them: a date without time against the local date, a time against now (an appointment begun
# earlier today is still today's). The first term of each bounds the index range read.
_PAST = (
    "(length(agenda_when) > 10 AND agenda_when < :now "
    "AND (type = 'task' OR agenda_when < :today_start))"
)
_BUCKETS = {
    "overdue": f"agenda_when < :now AND ((length(agenda_when) = 10 AND agenda_when < :day) "
    f"OR {_PAST})",
    "today": f"agenda_when IS NOT NULL AND ((length(agenda_when) = 10 AND agenda_when = :day) "
    f"OR (length(agenda_when) > 10 AND agenda_when <= :today_end AND NOT {_PAST}))",
    "upcoming": f"agenda_when > :day AND ((length(agenda_when) = 10 AND agenda_when > :day) "
    f"OR (length(agenda_when) > 10 AND agenda_when > :today_end AND NOT {_PAST}))",
    "no_date": "agenda_when IS NULL",
}


class AgendaItems(Paged[Record]):
    """One bucket of the agenda, in its order, read a page at a time: the screen draws the
    twenty rows it shows of 100,000 open activities, and counts the rest."""

    def __init__(self, index: RecordIndex, where: str, params: dict[str, Any], order: str):
        super().__init__()
        self.index_, self.params, self.where, self.order = index, params, where, order

    def fetch(self, number: int) -> list[Record]:
        return self.index_._docs(
            f"SELECT doc FROM activities WHERE {self.where} ORDER BY {self.order} "
            f"LIMIT {PAGE} OFFSET {number * PAGE}",
            self.params,
        )

    def count(self, limit: int | None) -> int:
        return int(
            self.index_._value(f"SELECT count(*) FROM activities WHERE {self.where}", self.params)
        )

    def position_of(self, record_id: str) -> int | None:
        """Where an activity is in the bucket (one count of those before it), or None."""
        first = self.order.split(",")[0].strip()
        rows = self.index_._rows(
            f"SELECT {first} FROM activities WHERE id = :member AND {self.where}",
            {**self.params, "member": record_id},
        )
        if not rows:
            return None
        before = self.index_._value(
            f"SELECT count(*) FROM activities WHERE {self.where} "
            f"AND ({first}, id) < (:key, :member)",
            {**self.params, "member": record_id, "key": rows[0][0]},
        )
        return int(before)


def _search_filter(table: str, query: ListQuery) -> tuple[str, list[Any]]:
    parts: list[str] = ["1"]
    params: list[Any] = []
    words = tokens(query.text)
    # Three letters and more: the trigram index; shorter words: a scan of the text, which a
    # common letter ends soon (a list asks for its first page).
    indexed = [w for w in words if len(w) >= 3]
    if indexed:
        parts.append(f"t.rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)")
        params.append(_phrase(indexed))
    for word in words:
        if len(word) < 3:
            parts.append("t.search LIKE ? ESCAPE '\\'")
            params.append(_like(word))
    if query.status == "active":
        parts.append("NOT t.inactive")
    elif query.status:
        parts.append("t.inactive")
    if query.relationship:
        parts.append("t.relationship = ?")
        params.append(query.relationship)
    if query.account_id:
        if table == CONTACTS:
            parts.append("t.account_id = ?")
            params.append(query.account_id)
        else:
            parts.append("0")
    return " AND ".join(parts), params


class PagedIds(Paged[str]):
    """The ids a search finds, in its order, read a page at a time as they are asked for: a
    list shows twenty rows of 500,000, and a picker the first dozen."""

    cap = COUNT_CAP

    def __init__(
        self, index: RecordIndex, table: str, where: str, descending: bool, params: list[Any]
    ) -> None:
        super().__init__()
        self.index_, self.table, self.where, self.descending = index, table, where, descending
        self.order = "t.sort_name DESC, t.id DESC" if descending else "t.sort_name, t.id"
        self.params = params
        self.select = f"SELECT t.id FROM {table} t WHERE {where} ORDER BY {self.order}"

    def fetch(self, number: int) -> list[str]:
        rows = self.index_._rows(
            self.select + " LIMIT ? OFFSET ?", [*self.params, PAGE, number * PAGE]
        )
        return [row[0] for row in rows]

    def count(self, limit: int | None) -> int:
        return int(
            self.index_._value(
                f"SELECT count(*) FROM (SELECT 1 FROM {self.table} t WHERE {self.where} LIMIT ?)",
                [*self.params, -1 if limit is None else limit],
            )
        )

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """Where an id is in the list: one count of the rows before it, not a walk through
        every page (the list keeps its cursor on a record after every search)."""
        if start or stop is not None:
            return super().index(value, start, len(self) if stop is None else stop)
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not in the list")
        before = ">" if self.descending else "<"
        position = self.index_._value(
            f"SELECT (SELECT count(*) FROM {self.table} t WHERE {self.where} AND "
            f"(t.sort_name, t.id) {before} (m.sort_name, m.id)) FROM {self.table} m "
            f"WHERE m.id = ? AND EXISTS (SELECT 1 FROM {self.table} t WHERE {self.where} "
            "AND t.id = m.id)",
            [*self.params, value, *self.params],
        )
        if position is None or int(position) >= len(self):
            raise ValueError(f"{value!r} is not in the list")
        return int(position)

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def documents(self) -> list[Record]:
        """The records themselves, in the search's order, in one query."""
        rows = self.index_._rows(
            f"SELECT t.doc FROM {self.table} t WHERE {self.where} ORDER BY {self.order}",
            self.params,
        )
        return [orjson.loads(row[0]) for row in rows]


__all__ = ["IndexState", "IndexUnusable", "RecordIndex", "index_path"]
