"""The server engine: a CRM in a PostgreSQL database, for a team beyond one host.

Each record is a `jsonb` document in its table (same ids, same JSON shape as in the file),
beside columns the queries need, computed by the same Python that the embedded indexes use (the
folded search text, the name key, the list order), so that a search means the same on both
engines; pg_trgm indexes serve the searches, expression indexes the references. Nothing is held
in memory: every read is a query.

Writers take one advisory lock per transaction (as the file's writers take its lock), so the
service's rules see the latest committed data; every update is still `... WHERE id AND version`,
zero rows being a conflict. A change feed (`changes`, one row per record a batch touched, in
commit order) and `NOTIFY crm_changes` let other clients catch up from their last sequence.
The history of every batch is a row of `history`; members of the team role may add to it but
never change or delete it (README, "A team on PostgreSQL").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, ItemsView, Iterable, Iterator, Mapping, ValuesView
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from store.engine import Build
from store.errors import ConflictError, LockTimeoutError, NewerSchemaError, StorageError
from store.history import Op
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    STORED_TABLES,
    TRASH,
    ActivityStatus,
    ActivityType,
    Change,
    Deletion,
    Record,
    Tables,
    activity_when,
    display_name,
)
from store.queries import (
    SEARCH_FIELDS,
    AgendaBuckets,
    ListQuery,
    TimelineQuery,
    TreeNode,
    bucket_agenda,
    build_tree,
    haystack,
    order_by_column,
)
from store.text import fold, key_of_folded, name_key, tokens

try:
    import psycopg
    from psycopg import sql
    from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
except ImportError as error:  # pragma: no cover - the extra is installed in the test venv
    raise StorageError(
        "a postgresql:// database needs the PostgreSQL driver: install termcrm[postgres] "
        "(`uv sync --extra postgres`, or `pip install 'termcrm[postgres]'`)"
    ) from error

# The layout of the tables below; migrated forward by `_MIGRATIONS`, newer refused.
SCHEMA_VERSION = 1
CHANNEL = "crm_changes"
_LOCK_KEY = 0x7465726D63726D  # "termcrm": the one advisory lock every writer takes
_CATCH_UP_EVERY = 5.0  # seconds: read the change feed even without a notification
_PAGE = 5000  # rows per round trip when a whole table is read

_CREATE_V1 = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE crm_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE accounts (
    id text COLLATE "C" PRIMARY KEY,
    version integer NOT NULL,
    doc jsonb NOT NULL,
    sort_name text COLLATE "C" NOT NULL,
    name_key text NOT NULL,
    email_key text,
    inactive boolean NOT NULL,
    search text NOT NULL
);
CREATE TABLE contacts (
    id text COLLATE "C" PRIMARY KEY,
    version integer NOT NULL,
    doc jsonb NOT NULL,
    sort_name text COLLATE "C" NOT NULL,
    name_key text NOT NULL,
    email_key text,
    inactive boolean NOT NULL,
    search_own text NOT NULL,
    search text NOT NULL
);
CREATE TABLE activities (
    id text COLLATE "C" PRIMARY KEY,
    version integer NOT NULL,
    doc jsonb NOT NULL,
    regarding_id text,
    filed_at text COLLATE "C" NOT NULL,
    open_agenda boolean NOT NULL,
    search text NOT NULL
);
CREATE TABLE trash (
    id text COLLATE "C" PRIMARY KEY,
    batch text NOT NULL,
    root text NOT NULL,
    deleted_at text NOT NULL,
    doc jsonb NOT NULL
);
CREATE TABLE history (
    seq bigserial PRIMARY KEY,
    batch_id text NOT NULL UNIQUE,
    at text NOT NULL,
    by text NOT NULL,
    ids text[] NOT NULL,
    entry jsonb NOT NULL
);
CREATE TABLE changes (
    seq bigserial PRIMARY KEY,
    tbl text NOT NULL,
    id text NOT NULL,
    batch text NOT NULL
);
CREATE INDEX accounts_order ON accounts (sort_name, id);
CREATE INDEX accounts_name_key ON accounts (name_key);
CREATE INDEX accounts_email_key ON accounts (email_key);
CREATE INDEX accounts_parent ON accounts ((doc->>'parent_account_id'));
CREATE INDEX accounts_primary ON accounts ((doc->>'primary_contact_id'));
CREATE INDEX accounts_source ON accounts ((doc->>'source_id'));
CREATE INDEX accounts_search ON accounts USING gin (search gin_trgm_ops);
CREATE INDEX contacts_order ON contacts (sort_name, id);
CREATE INDEX contacts_name_key ON contacts (name_key);
CREATE INDEX contacts_email_key ON contacts (email_key);
CREATE INDEX contacts_account ON contacts ((doc->>'account_id'));
CREATE INDEX contacts_source ON contacts ((doc->>'source_id'));
CREATE INDEX contacts_search ON contacts USING gin (search gin_trgm_ops);
CREATE INDEX activities_regarding ON activities (regarding_id, filed_at);
CREATE INDEX activities_agenda ON activities (filed_at) WHERE open_agenda;
CREATE INDEX activities_source ON activities ((doc->>'source_id'));
CREATE INDEX activities_search ON activities USING gin (search gin_trgm_ops);
CREATE INDEX trash_batch ON trash (batch);
CREATE INDEX history_ids ON history USING gin (ids);
CREATE INDEX history_by ON history (by);
"""

# version -> the SQL that brings a database of the version before it up to it.
_MIGRATIONS: dict[int, str] = {1: _CREATE_V1}


def _loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def public_location(url: str) -> str:
    """The URL as shown and logged: never with a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (parts.username or "") + "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _refuse_password(url: str) -> None:
    if urlsplit(url).password is not None:
        raise StorageError(
            "the database URL holds a password: it would show in `ps`, shell history and "
            "logs; put it in ~/.pgpass (or $PGPASSWORD) and leave it out of the URL"
        )


class ServerUnavailable(StorageError):
    """The database server cannot be reached (or the connection broke): nothing was saved
    unless said so; the next call reconnects."""


def _unavailable(location: str, error: BaseException) -> ServerUnavailable:
    reason = " ".join(str(error).split()) or type(error).__name__
    return ServerUnavailable(f"cannot reach the database server ({location}): {reason}")


# ---------------------------------------------------------------- derived columns
def _columns(table: str, record: Record) -> dict[str, Any]:
    """What the queries read besides the document, computed as the embedded indexes do."""
    if table == ACTIVITIES:
        return {
            "regarding_id": record.get("regarding_id"),
            "filed_at": activity_when(record),
            "open_agenda": record.get("status", "open") == ActivityStatus.OPEN
            and record.get("type") in (ActivityType.TASK, ActivityType.APPOINTMENT),
            "search": fold(f"{record.get('subject') or ''} {record.get('description') or ''}"),
        }
    folded = fold(display_name(table, record))
    columns: dict[str, Any] = {
        "sort_name": folded,
        "name_key": key_of_folded(folded),
        "email_key": record["email"].casefold() if record.get("email") else None,
        "inactive": record.get("status", "active") != "active",
    }
    own = folded + " " + haystack(record, SEARCH_FIELDS[table])
    if table == CONTACTS:
        columns["search_own"] = own
    else:
        columns["search"] = own
    return columns


def _contact_search(own: str, account_folded: str | None) -> str:
    return own + " " + account_folded if account_folded else own


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# ---------------------------------------------------------------- tables read as asked
class _Items(ItemsView[str, Record]):
    def __init__(self, table: ServerTable) -> None:
        super().__init__(table)
        self.table = table

    def __iter__(self) -> Iterator[tuple[str, Record]]:
        return self.table.stream()


class _Values(ValuesView[Record]):
    def __init__(self, table: ServerTable) -> None:
        super().__init__(table)
        self.table = table

    def __iter__(self) -> Iterator[Record]:
        return (record for _rid, record in self.table.stream())


class ServerTable(Mapping[str, Record]):
    """One table on the server as a read-only mapping: a lookup is one query, iteration
    pages through the table by id. Inside a write it reads in the write's transaction."""

    def __init__(self, engine: PostgresEngine, table: str) -> None:
        self.engine, self.table = engine, table

    def __getitem__(self, record_id: str) -> Record:
        record = self.engine.get(self.table, record_id)
        if record is None:
            raise KeyError(record_id)
        return record

    def get(self, record_id: str, default: Any = None) -> Any:  # one query, not two
        record = self.engine.get(self.table, record_id)
        return default if record is None else record

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and self.engine.get(self.table, record_id) is not None

    def __iter__(self) -> Iterator[str]:
        return (rid for rid, _record in self.stream())

    def __len__(self) -> int:
        return self.engine.count(self.table)

    def items(self) -> ItemsView[str, Record]:
        return _Items(self)

    def values(self) -> ValuesView[Record]:
        return _Values(self)

    def stream(self) -> Iterator[tuple[str, Record]]:
        after = ""
        query = sql.SQL("SELECT id, doc FROM {} WHERE id > %s ORDER BY id LIMIT %s").format(
            sql.Identifier(self.table)
        )
        while True:
            rows = self.engine._rows(query, (after, _PAGE))
            yield from ((rid, doc) for rid, doc in rows)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]


class _TablesView(Mapping[str, Mapping[str, Record]]):
    def __init__(self, engine: PostgresEngine) -> None:
        self.tables = {t: ServerTable(engine, t) for t in STORED_TABLES}

    def __getitem__(self, table: str) -> Mapping[str, Record]:
        return self.tables[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


class _Write(threading.local):
    """The connection of the write this thread is in, and the versions it read."""

    conn: psycopg.Connection[Any] | None = None
    seen: dict[tuple[str, str], int]


class PostgresEngine:
    def __init__(self, url: str, *, lock_timeout: float = 10.0) -> None:
        _refuse_password(url)
        self.url = url
        self.location = public_location(url)
        self.lock_timeout = lock_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._write = _Write()
        self._seq = 0  # the last change-feed row this process has taken in
        self._generation = 0
        self._caught_up_at = 0.0
        self._role = ""
        self._users_may_name_themselves = False
        self._opened = False
        self.read_only = False

    @property
    def mode(self) -> int:
        return 0o600  # exports from a server are the user's own files

    def identity(self, asked: str | None) -> str | None:
        if self._users_may_name_themselves:
            return None
        return self._role or None

    # ------------------------------------------------------------ connections
    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=autocommit,
                connect_timeout=10,
                application_name="termcrm",
            )
        except psycopg.Error as error:
            raise _unavailable(self.location, error) from None
        set_json_loads(_loads, conn)
        set_json_dumps(_dumps, conn)
        return conn

    def _reader(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _rows(self, query: Any, params: Any = ()) -> list[Any]:
        """Rows of a read: in this thread's write transaction if it is in one, else on the
        shared connection, reconnecting (once) when it broke."""
        conn = self._write.conn
        if conn is not None:
            return conn.execute(query, params).fetchall()
        with self._read_lock:
            for attempt in (1, 2):
                try:
                    return self._reader().execute(query, params).fetchall()
                except psycopg.OperationalError as error:
                    if self._conn is not None and not self._conn.broken and attempt == 1:
                        raise _unavailable(self.location, error) from None
                    self._drop(self._conn)
                    self._conn = None
                    if attempt == 2:
                        raise _unavailable(self.location, error) from None
        raise AssertionError("unreachable")

    def _value(self, query: Any, params: Any = ()) -> Any:
        rows = self._rows(query, params)
        return rows[0][0] if rows else None

    @staticmethod
    def _drop(conn: psycopg.Connection[Any] | None) -> None:
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    # ------------------------------------------------------------ schema
    def create_schema(self) -> bool:
        """Create the tables in an empty database, or bring an older layout up to date;
        False when it was current already. A newer layout is refused untouched."""
        with self._connect(autocommit=False) as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                version = self._schema_version(conn)
                if version == SCHEMA_VERSION:
                    return False
                self._migrate(conn, version)
        return True

    @staticmethod
    def _schema_version(conn: psycopg.Connection[Any]) -> int:
        exists = conn.execute("SELECT to_regclass('crm_meta') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("SELECT value FROM crm_meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self, conn: psycopg.Connection[Any], version: int) -> None:
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{self.location} was made by a newer termcrm (schema {version}; this one "
                f"knows {SCHEMA_VERSION}): upgrade termcrm; the database was left as it was"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute(_MIGRATIONS[step])
        conn.execute(
            "INSERT INTO crm_meta (key, value) VALUES ('schema_version', %s), "
            "('app', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (Jsonb(SCHEMA_VERSION), Jsonb("termcrm")),
        )

    # ------------------------------------------------------------ lifecycle
    def open(self, *, defer: tuple[str, ...] = (), read_only: bool = False) -> None:
        """Connect and check the layout: an older one is migrated forward, a newer one or
        none refused (nothing is created without `crm init`)."""
        self.read_only = read_only
        with self._read_lock:
            conn = self._reader()
            try:
                version = self._schema_version(conn)
            except psycopg.Error as error:
                raise _unavailable(self.location, error) from None
        if version == 0:
            raise StorageError(
                f"{self.location} holds no termcrm database: create it with "
                f"`crm init --db {self.location}`"
            )
        if version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                self._migrate(self._reader(), version)  # raises NewerSchemaError
            self.create_schema()
        role, override, seq = self._rows(
            "SELECT current_user, (SELECT value FROM crm_meta WHERE key = 'users_name_themselves'),"
            " (SELECT coalesce(max(seq), 0) FROM changes)"
        )[0]
        self._role = role
        self._users_may_name_themselves = bool(override)
        self._seq = int(seq)
        self._caught_up_at = time.monotonic()
        self._opened = True
        self._listen()

    def _listen(self) -> None:
        self._drop(self._listener)
        self._listener = None
        try:
            listener = self._connect()
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            self._listener = listener
        except (StorageError, psycopg.Error):
            self._listener = None  # caught up by time instead; retried on the next refresh

    def finish_loading(self) -> None:
        return None  # nothing is loaded ahead: every read is a query

    @property
    def ready(self) -> bool:
        return self._opened

    @property
    def generation(self) -> int:
        return self._generation

    def close(self) -> None:
        with self._read_lock:
            self._drop(self._conn)
            self._drop(self._listener)
            self._conn = self._listener = None

    # ------------------------------------------------------------ one record, one table
    def get(self, table: str, record_id: str) -> Record | None:
        version = sql.SQL("0" if table == TRASH else "version")
        query = sql.SQL("SELECT {}, doc FROM {} WHERE id = %s").format(
            version, sql.Identifier(table)
        )
        rows = self._rows(query, (record_id,))
        if not rows:
            return None
        if self._write.conn is not None and table != TRASH:
            self._write.seen[(table, record_id)] = rows[0][0]
        doc: Record = rows[0][1]
        return doc

    def count(self, table: str) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        return int(self._value(query))

    def all(self, table: str) -> Mapping[str, Record]:
        return ServerTable(self, table)

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        wanted = list(ids)
        if not wanted:
            return []
        query = sql.SQL("SELECT id, doc FROM {} WHERE id = ANY(%s)").format(sql.Identifier(table))
        found = dict(self._rows(query, (wanted,)))
        return [found[i] for i in wanted if i in found]

    def by_source_id(self, table: str, source_id: str) -> str | None:
        query = sql.SQL("SELECT id FROM {} WHERE doc->>'source_id' = %s ORDER BY id LIMIT 1")
        found: str | None = self._value(query.format(sql.Identifier(table)), (source_id,))
        return found

    def same_name(self, table: str, name: str) -> set[str]:
        query = sql.SQL("SELECT id FROM {} WHERE name_key = %s").format(sql.Identifier(table))
        return {row[0] for row in self._rows(query, (name_key(name),))}

    def same_email(self, table: str, email: str) -> set[str]:
        query = sql.SQL("SELECT id FROM {} WHERE email_key = %s").format(sql.Identifier(table))
        return {row[0] for row in self._rows(query, (email.casefold(),))}

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> list[str]:
        where, params = self._search_filter(query)
        name_order = query.sort == "name"
        select = sql.SQL("SELECT id FROM {} t WHERE {} ORDER BY sort_name{}, id{}").format(
            sql.Identifier(table),
            where,
            sql.SQL(" DESC" if name_order and query.descending else ""),
            sql.SQL(" DESC" if name_order and query.descending else ""),
        )
        if name_order:
            return [row[0] for row in self._rows(select, params)]
        value: sql.Composable
        if query.sort == "account":
            value = sql.SQL(
                "(SELECT a.doc->>'name' FROM accounts a WHERE a.id = t.doc->>'account_id')"
            )
        else:
            value = sql.SQL("t.doc->>{}").format(sql.Literal(query.sort))
        rows = self._rows(
            sql.SQL("SELECT id, {} FROM {} t WHERE {} ORDER BY sort_name, id").format(
                value, sql.Identifier(table), where
            ),
            params,
        )
        values = dict(rows)
        return order_by_column([row[0] for row in rows], values.get, query.sort, query.descending)

    @staticmethod
    def _search_filter(query: ListQuery) -> tuple[sql.Composable, list[Any]]:
        parts: list[sql.Composable] = [sql.SQL("true")]
        params: list[Any] = []
        for word in tokens(query.text):
            parts.append(sql.SQL("t.search LIKE %s"))
            params.append(_like(word))
        if query.status == "active":
            parts.append(sql.SQL("NOT t.inactive"))
        elif query.status:
            parts.append(sql.SQL("t.inactive"))
        if query.relationship:
            parts.append(sql.SQL("t.doc->>'relationship' = %s"))
            params.append(query.relationship)
        if query.account_id:
            parts.append(sql.SQL("t.doc->>'account_id' = %s"))
            params.append(query.account_id)
        return sql.SQL(" AND ").join(parts), params

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]:
        owners = [record_id]
        if query.include_contacts:
            owners += [
                row[0]
                for row in self._rows(
                    "SELECT id FROM contacts WHERE doc->>'account_id' = %s", (record_id,)
                )
            ]
        parts = ["regarding_id = ANY(%s)"]
        params: list[Any] = [owners]
        if query.types:
            parts.append("doc->>'type' = ANY(%s)")
            params.append(sorted(query.types))
        if query.statuses:
            parts.append("coalesce(doc->>'status', 'open') = ANY(%s)")
            params.append(sorted(query.statuses))
        for word in tokens(query.text):
            parts.append("search LIKE %s")
            params.append(_like(word))
        select = (
            "SELECT doc FROM activities WHERE "
            + " AND ".join(parts)
            + " ORDER BY filed_at DESC, id DESC"
        )
        return [row[0] for row in self._rows(select, params)]

    def agenda(
        self, owner: str | None, now_iso: str, today_end_iso: str, today_start_iso: str, today: str
    ) -> AgendaBuckets:
        if owner:
            rows = self._rows(
                "SELECT doc FROM activities WHERE open_agenda AND doc->>'owner' = %s", (owner,)
            )
        else:
            rows = self._rows("SELECT doc FROM activities WHERE open_agenda")
        items = [row[0] for row in rows]
        return bucket_agenda(items, owner, now_iso, today_end_iso, today_start_iso, today)

    def subsidiaries(self, account_id: str) -> list[Record]:
        rows = self._rows(
            "SELECT doc FROM accounts WHERE doc->>'parent_account_id' = %s", (account_id,)
        )
        return sorted((row[0] for row in rows), key=lambda r: fold(r.get("name", "")))

    def contacts_of(self, account_id: str) -> list[Record]:
        rows = self._rows("SELECT doc FROM contacts WHERE doc->>'account_id' = %s", (account_id,))
        return sorted((row[0] for row in rows), key=lambda r: fold(display_name(CONTACTS, r)))

    def parent_chain(self, account_id: str) -> list[Record]:
        rows = self._rows(
            """
            WITH RECURSIVE up(id, parent, doc, path) AS (
                SELECT id, doc->>'parent_account_id', doc, ARRAY[id] FROM accounts
                 WHERE id = %s
                UNION ALL
                SELECT a.id, a.doc->>'parent_account_id', a.doc, up.path || a.id
                  FROM accounts a JOIN up ON a.id = up.parent
                 WHERE NOT a.id = ANY(up.path)
            )
            SELECT doc FROM up ORDER BY cardinality(path)
            """,
            (account_id,),
        )
        return [row[0] for row in rows[1:]]

    def hierarchy(self, account_id: str) -> TreeNode | None:
        if self.get(ACCOUNTS, account_id) is None:
            return None
        chain = self.parent_chain(account_id)
        root = chain[-1] if chain else self.get(ACCOUNTS, account_id)
        assert root is not None
        rows = self._rows(
            """
            WITH RECURSIVE down(id, doc, path) AS (
                SELECT id, doc, ARRAY[id] FROM accounts WHERE id = %s
                UNION ALL
                SELECT a.id, a.doc, down.path || a.id
                  FROM accounts a JOIN down ON a.doc->>'parent_account_id' = down.id
                 WHERE NOT a.id = ANY(down.path)
            )
            SELECT doc FROM down
            """,
            (root["id"],),
        )
        children: dict[str, list[Record]] = {}
        for (doc,) in rows[1:]:
            children.setdefault(doc["parent_account_id"], []).append(doc)
        for kids in children.values():
            kids.sort(key=lambda r: fold(r.get("name", "")))
        return build_tree(root, lambda rid: children.get(rid, []))

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]:
        parts = ["true"]
        params: list[Any] = []
        if types is not None:
            parts.append("doc->>'type' = ANY(%s)")
            params.append(sorted(types))
        if statuses is not None:
            parts.append("coalesce(doc->>'status', 'open') = ANY(%s)")
            params.append(sorted(statuses))
        for word in tokens(text):
            parts.append("search LIKE %s")
            params.append(_like(word))
        select = (
            "SELECT doc FROM activities WHERE "
            + " AND ".join(parts)
            + " ORDER BY filed_at DESC, id DESC"
        )
        return [row[0] for row in self._rows(select, params)]

    # ------------------------------------------------------------ what the rules ask
    def dependant_ids(self, record_id: str) -> dict[str, set[str]]:
        found = {
            "activities": {
                r[0]
                for r in self._rows(
                    "SELECT id FROM activities WHERE regarding_id = %s", (record_id,)
                )
            }
        }
        if self._value("SELECT 1 FROM accounts WHERE id = %s", (record_id,)):
            found["contacts"] = {
                r[0]
                for r in self._rows(
                    "SELECT id FROM contacts WHERE doc->>'account_id' = %s", (record_id,)
                )
            }
            found["subsidiaries"] = {
                r[0]
                for r in self._rows(
                    "SELECT id FROM accounts WHERE doc->>'parent_account_id' = %s", (record_id,)
                )
            }
        return found

    def accounts_with_primary_contact(self, contact_ids: Collection[str]) -> list[Record]:
        if not contact_ids:
            return []
        rows = self._rows(
            "SELECT doc FROM accounts WHERE doc->>'primary_contact_id' = ANY(%s)",
            (sorted(contact_ids),),
        )
        return [row[0] for row in rows]

    def trash_entries(
        self, *, roots_only: bool = False, batches: Collection[str] | None = None
    ) -> list[Record]:
        parts = ["true"]
        params: list[Any] = []
        if roots_only:
            parts.append("root = id")
        if batches is not None:
            parts.append("batch = ANY(%s)")
            params.append(list(batches))
        rows = self._rows("SELECT doc FROM trash WHERE " + " AND ".join(parts), params)
        return [row[0] for row in rows]

    # ------------------------------------------------------------ history
    def history_entries(
        self, record_id: str | None = None, user: str | None = None
    ) -> Iterator[Record]:
        if record_id is not None:
            rows = self._rows("SELECT entry FROM history WHERE ids @> ARRAY[%s]", (record_id,))
        elif user is not None:
            rows = self._rows("SELECT entry FROM history WHERE by = %s", (user,))
        else:
            rows = self._rows("SELECT entry FROM history")
        return (row[0] for row in rows)

    def deleted_by(self, record_id: str) -> Deletion | None:
        rows = self._rows(
            "SELECT by, at FROM history WHERE ids @> ARRAY[%s] AND entry->'changes' @> %s"
            " ORDER BY seq DESC LIMIT 1",
            (record_id, Jsonb([{"id": record_id, "a": "delete"}])),
        )
        return Deletion(rows[0][0], rows[0][1]) if rows else None

    # ------------------------------------------------------------ writing
    def transact(
        self, build: Build, *, deletion: Deletion | None = None, extra: Record | None = None
    ) -> list[Change]:
        if self.read_only:
            raise StorageError("this database was opened for reading only")
        with self._write_lock:
            conn = self._connect(autocommit=False)
            batch_id = ""
            try:
                try:
                    with conn.transaction():
                        self._take_lock(conn)
                        self._write.conn, self._write.seen = conn, {}
                        changes = self._catch_up()
                        ops = build(_TablesView(self))
                        if not ops:
                            return changes
                        entry = (extra or {}).get("h") or {}
                        batch_id = str(entry.get("id") or "")
                        last = self._write_ops(conn, ops, entry, batch_id)
                        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, batch_id))
                except psycopg.OperationalError as error:
                    self._write.conn = None
                    if batch_id and self._committed(batch_id):
                        last = self._seq  # caught up below
                    else:
                        raise ServerUnavailable(
                            f"not saved: lost the connection to the database server "
                            f"({self.location}): {' '.join(str(error).split())}"
                        ) from None
                finally:
                    self._write.conn = None
            finally:
                self._drop(conn)
            self._seq = max(self._seq, last)
            self._generation += 1
            changes.extend(self._changes_of(ops))
            return changes

    def _take_lock(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            sql.SQL("SET LOCAL lock_timeout = {}").format(
                sql.Literal(f"{int(self.lock_timeout * 1000)}ms")
            )
        )
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        except psycopg.errors.LockNotAvailable:
            raise LockTimeoutError(
                f"another user has been saving to {self.location} for more than "
                f"{self.lock_timeout:g} s; try again"
            ) from None

    def _committed(self, batch_id: str) -> bool:
        """After a connection broke during a commit: did it land? (Its history row says.)"""
        try:
            with self._connect() as conn:
                row = conn.execute("SELECT 1 FROM history WHERE batch_id = %s", (batch_id,))
                return row.fetchone() is not None
        except (StorageError, psycopg.Error):
            return False  # unknown: reported as not saved, and the next refresh shows

    def _write_ops(
        self, conn: psycopg.Connection[Any], ops: list[Op], entry: Record, batch_id: str
    ) -> int:
        """Apply `ops` in order in `conn`'s transaction; returns the last change-feed seq."""
        for _kind, _table, payload in ops:
            if _has_nul(payload):
                raise StorageError(
                    "PostgreSQL cannot store the NUL character (U+0000); remove it from "
                    "the text and save again"
                )
        account_names: dict[str, str | None] = {}
        renamed: list[str] = []
        for kind, table, payload in ops:
            if kind == "del":
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table)),
                    (payload,),
                )
                if table == ACCOUNTS:
                    account_names[payload] = None
            elif table == TRASH:
                conn.execute(
                    "INSERT INTO trash (id, batch, root, deleted_at, doc) VALUES (%s,%s,%s,%s,%s)"
                    " ON CONFLICT (id) DO UPDATE SET batch = EXCLUDED.batch, root = "
                    "EXCLUDED.root, deleted_at = EXCLUDED.deleted_at, doc = EXCLUDED.doc",
                    (
                        payload["id"],
                        payload["batch"],
                        str(payload.get("root", payload["id"])),
                        payload.get("deleted_at", ""),
                        Jsonb(payload),
                    ),
                )
            else:
                self._put(conn, table, payload, account_names)
                if table == ACCOUNTS:
                    account_names[payload["id"]] = fold(display_name(ACCOUNTS, payload))
                    renamed.append(payload["id"])
        for account_id in renamed:  # contacts are found by their account's name too
            conn.execute(
                "UPDATE contacts SET search = CASE WHEN %s::text IS NULL THEN search_own "
                "ELSE search_own || ' ' || %s::text END WHERE doc->>'account_id' = %s",
                (account_names.get(account_id), account_names.get(account_id), account_id),
            )
        if entry:
            ids = sorted({str(c["id"]) for c in entry.get("changes", ())})
            conn.execute(
                "INSERT INTO history (batch_id, at, by, ids, entry) VALUES (%s, %s, %s, %s, %s)",
                (batch_id, entry.get("at", ""), entry.get("by", ""), ids, Jsonb(entry)),
            )
        touched = list(dict.fromkeys((t, p if k == "del" else p["id"]) for k, t, p in ops))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO changes (tbl, id, batch) VALUES (%s, %s, %s)",
                [(t, rid, batch_id) for t, rid in touched],
            )
        row = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()
        return int(row[0]) if row else 0

    def _put(
        self,
        conn: psycopg.Connection[Any],
        table: str,
        record: Record,
        account_names: dict[str, str | None],
    ) -> None:
        columns = _columns(table, record)
        if table == CONTACTS:
            account_id = record.get("account_id")
            if account_id and account_id not in account_names:
                row = conn.execute(
                    "SELECT sort_name FROM accounts WHERE id = %s", (account_id,)
                ).fetchone()
                account_names[account_id] = row[0] if row else None
            folded = account_names.get(account_id) if account_id else None
            columns["search"] = _contact_search(columns["search_own"], folded)
        names = list(columns)
        values = [columns[n] for n in names]
        version = int(record.get("version", 1))
        seen = self._write.seen.get((table, record["id"]))
        if seen is None:
            seen = self._stored_version(conn, table, record["id"])
        if seen is None:
            inserted = conn.execute(
                sql.SQL(
                    "INSERT INTO {} (id, version, doc, {}) VALUES (%s, %s, %s, {})"
                    " ON CONFLICT (id) DO NOTHING"
                ).format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, names)),
                    sql.SQL(", ").join(sql.Placeholder() * len(names)),
                ),
                (record["id"], version, Jsonb(record), *values),
            )
            done = inserted.rowcount == 1
        else:
            updated = conn.execute(
                sql.SQL(
                    "UPDATE {} SET version = %s, doc = %s, {} WHERE id = %s AND version = %s"
                ).format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names),
                ),
                (version, Jsonb(record), *values, record["id"], seen),
            )
            done = updated.rowcount == 1
        if not done:  # someone wrote past the lock (by hand): their save stands
            raise ConflictError(table, record, self.get(table, record["id"]))
        self._write.seen[(table, record["id"])] = version

    @staticmethod
    def _stored_version(conn: psycopg.Connection[Any], table: str, record_id: str) -> int | None:
        row = conn.execute(
            sql.SQL("SELECT version FROM {} WHERE id = %s").format(sql.Identifier(table)),
            (record_id,),
        ).fetchone()
        return None if row is None else int(row[0])

    def _changes_of(self, ops: list[Op]) -> list[Change]:
        changes = []
        for kind, table, payload in ops:
            if kind == "del":
                changes.append(Change(table, payload, None, None))
            else:
                changes.append(Change(table, payload["id"], None, payload))
        return changes

    # ------------------------------------------------------------ others' changes
    def refresh(self) -> list[Change]:
        woken = self._drain_notifications()
        if not woken and time.monotonic() - self._caught_up_at < _CATCH_UP_EVERY:
            return []
        with self._write_lock:
            changes = self._catch_up()
        if changes:
            self._generation += 1
        return changes

    def _drain_notifications(self) -> bool:
        listener = self._listener
        if listener is None or listener.closed or listener.broken:
            self._listen()
            return True  # we may have missed some while it was down: catch up
        try:
            return any(True for _ in listener.notifies(timeout=0))
        except psycopg.Error:
            self._listen()
            return True

    def _catch_up(self) -> list[Change]:
        """Other writers' changes since the last one taken in, from the change feed."""
        rows = self._rows(
            "SELECT seq, tbl, id FROM changes WHERE seq > %s ORDER BY seq", (self._seq,)
        )
        self._caught_up_at = time.monotonic()
        if not rows:
            return []
        self._seq = max(self._seq, int(rows[-1][0]))
        if any(table == "*" for _seq, table, _id in rows):
            self._generation += 1
            return []  # everything was replaced: screens reload whole
        by_table: dict[str, list[str]] = {}
        for _seq, table, rid in rows:
            by_table.setdefault(table, []).append(rid)
        changes = []
        for table, ids in by_table.items():
            current = {r["id"]: r for r in self.records(table, dict.fromkeys(ids))}
            changes += [Change(table, rid, None, current.get(rid)) for rid in dict.fromkeys(ids)]
        return changes

    # ------------------------------------------------------------ bulk
    def replace_all(self, tables: Tables) -> None:
        with self._write_lock:
            with self._connect(autocommit=False) as conn, conn.transaction():
                self._take_lock(conn)
                for table in STORED_TABLES:
                    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
                self._copy_in(conn, tables)
                row = conn.execute(
                    "INSERT INTO changes (tbl, id, batch) VALUES ('*', '*', '') RETURNING seq"
                ).fetchone()
                conn.execute("SELECT pg_notify(%s, '*')", (CHANNEL,))
            self._seq = max(self._seq, int(row[0]) if row else 0)
            self._generation += 1

    def _copy_in(self, conn: psycopg.Connection[Any], tables: Tables) -> None:
        accounts = tables.get(ACCOUNTS, {})
        folded_accounts = {rid: fold(display_name(ACCOUNTS, a)) for rid, a in accounts.items()}
        for table in RECORD_TABLES:
            records = tables.get(table, {})
            if not records:
                continue
            sample = _columns(table, next(iter(records.values())))
            names = list(sample) + (["search"] if table == CONTACTS else [])
            statement = sql.SQL("COPY {} (id, version, doc, {}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
            )
            with conn.cursor() as cur, cur.copy(statement) as copy:
                for record in records.values():
                    if _has_nul(record):
                        raise StorageError(
                            f"{display_name(table, record)} ({record['id']}) holds a NUL "
                            "character (U+0000), which PostgreSQL cannot store"
                        )
                    columns = _columns(table, record)
                    if table == CONTACTS:
                        columns["search"] = _contact_search(
                            columns["search_own"],
                            folded_accounts.get(record.get("account_id") or ""),
                        )
                    copy.write_row(
                        (
                            record["id"],
                            int(record.get("version", 1)),
                            _dumps(record),
                            *(columns[n] for n in names),
                        )
                    )
        trash = tables.get(TRASH, {})
        if trash:
            with (
                conn.cursor() as cur,
                cur.copy("COPY trash (id, batch, root, deleted_at, doc) FROM STDIN") as copy,
            ):
                for entry in trash.values():
                    copy.write_row(
                        (
                            entry["id"],
                            entry["batch"],
                            str(entry.get("root", entry["id"])),
                            entry.get("deleted_at", ""),
                            _dumps(entry),
                        )
                    )

    def add_history(self, entries: Iterable[Record]) -> int:
        """Bring history entries in (a migration): each once, by its batch id."""
        added = 0
        with self._connect(autocommit=False) as conn, conn.transaction():
            self._take_lock(conn)
            with conn.cursor() as cur:
                for entry in entries:
                    ids = sorted({str(c["id"]) for c in entry.get("changes", ())})
                    cur.execute(
                        "INSERT INTO history (batch_id, at, by, ids, entry) VALUES "
                        "(%s, %s, %s, %s, %s) ON CONFLICT (batch_id) DO NOTHING",
                        (entry["id"], entry.get("at", ""), entry.get("by", ""), ids, Jsonb(entry)),
                    )
                    added += cur.rowcount
        return added

    def needs_compaction(self) -> bool:
        return False  # the server keeps its own files (autovacuum)

    def compact(self) -> None:
        return None


__all__ = ["SCHEMA_VERSION", "PostgresEngine", "ServerUnavailable", "public_location"]
