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
from collections.abc import (
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any

import orjson

from store.engine import Build, public_location, refuse_password, tables_of
from store.errors import (
    ConflictError,
    LockTimeoutError,
    NewerSchemaError,
    ServerUnavailable,
    StorageError,
)
from store.history import Op
from store.model import (
    ACCOUNTS,
    CONTACTS,
    RECORD_TABLES,
    STORED_TABLES,
    TRASH,
    Change,
    Deletion,
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
    bucket_agenda,
    contact_search,
    derived_columns,
    order_by_column,
    tree_by_levels,
)
from store.text import fold, name_key, tokens

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
_PAGE = 5000  # rows per round trip when a whole table is read
_RETRY_AFTER = 2.0  # seconds between attempts to reach a server that did not answer

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
-- The list order, with what a search filters on: a page of a search is an index-only scan.
CREATE INDEX accounts_order ON accounts (sort_name, id) INCLUDE (search, inactive);
CREATE INDEX accounts_name_key ON accounts (name_key);
CREATE INDEX accounts_email_key ON accounts (email_key);
CREATE INDEX accounts_parent ON accounts ((doc->>'parent_account_id'));
CREATE INDEX accounts_primary ON accounts ((doc->>'primary_contact_id'));
CREATE INDEX accounts_source ON accounts ((doc->>'source_id'));
CREATE INDEX accounts_search ON accounts USING gin (search gin_trgm_ops);
CREATE INDEX contacts_order ON contacts (sort_name, id) INCLUDE (search, inactive);
CREATE INDEX contacts_name_key ON contacts (name_key);
CREATE INDEX contacts_email_key ON contacts (email_key);
CREATE INDEX contacts_account ON contacts ((doc->>'account_id'));
CREATE INDEX contacts_source ON contacts ((doc->>'source_id'));
CREATE INDEX contacts_search ON contacts USING gin (search gin_trgm_ops);
CREATE INDEX activities_regarding ON activities (regarding_id, filed_at);
CREATE INDEX activities_agenda ON activities (filed_at) WHERE open_agenda;
CREATE INDEX activities_agenda_owner ON activities ((doc->>'owner')) WHERE open_agenda;
CREATE INDEX activities_source ON activities ((doc->>'source_id'));
CREATE INDEX activities_search ON activities USING gin (search gin_trgm_ops);
CREATE INDEX trash_batch ON trash (batch);
CREATE INDEX history_ids ON history USING gin (ids);
CREATE INDEX history_by ON history (by);
CREATE INDEX history_at ON history (at);

-- Who saved is the login role, not a name a member types: a row stamped with another name is
-- refused, unless the admin lets users name themselves (crm_meta) or the tables' owner (the
-- admin: a migration, a restore) writes it. WHEN keeps the common case free of plpgsql.
CREATE FUNCTION crm_stamped_by_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF session_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       OR coalesce((SELECT value FROM crm_meta WHERE key = 'users_name_themselves'),
                   'false'::jsonb) = 'true'::jsonb THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'termcrm: % may only save as %', session_user, session_user
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER accounts_stamped BEFORE INSERT OR UPDATE ON accounts FOR EACH ROW
    WHEN (NEW.doc->>'modified_by' IS DISTINCT FROM session_user)
    EXECUTE FUNCTION crm_stamped_by_login();
CREATE TRIGGER contacts_stamped BEFORE INSERT OR UPDATE ON contacts FOR EACH ROW
    WHEN (NEW.doc->>'modified_by' IS DISTINCT FROM session_user)
    EXECUTE FUNCTION crm_stamped_by_login();
CREATE TRIGGER activities_stamped BEFORE INSERT OR UPDATE ON activities FOR EACH ROW
    WHEN (NEW.doc->>'modified_by' IS DISTINCT FROM session_user)
    EXECUTE FUNCTION crm_stamped_by_login();
CREATE TRIGGER trash_stamped BEFORE INSERT OR UPDATE ON trash FOR EACH ROW
    WHEN (NEW.doc->>'deleted_by' IS DISTINCT FROM session_user)
    EXECUTE FUNCTION crm_stamped_by_login();
CREATE TRIGGER history_stamped BEFORE INSERT ON history FOR EACH ROW
    WHEN (NEW.by IS DISTINCT FROM session_user)
    EXECUTE FUNCTION crm_stamped_by_login();
"""

# version -> the SQL that brings a database of the version before it up to it.
_MIGRATIONS: dict[int, str] = {1: _CREATE_V1}


def _loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _refusal(error: psycopg.Error) -> str:
    """A server's refusal in one line: `permission denied for table history`."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _unavailable(location: str, error: BaseException) -> ServerUnavailable:
    # libpq's first line ends in the cause ("... port 5432 failed: Connection refused").
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = reason.rsplit(" failed: ", 1)[-1].strip() or type(error).__name__
    return ServerUnavailable(f"cannot reach the database server ({location}): {reason}")


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
class PagedIds(Paged[str]):
    """The ids a search finds, in its order, read a page at a time as they are asked for: a
    list shows twenty rows of 500,000, and a picker the first dozen."""

    cap = COUNT_CAP

    def __init__(
        self,
        engine: PostgresEngine,
        table: str,
        where: sql.Composable,
        descending: bool,
        params: list[Any],
    ) -> None:
        super().__init__()
        self.engine, self.table, self.where, self.descending = engine, table, where, descending
        order = self.order = sql.SQL("sort_name DESC, id DESC" if descending else "sort_name, id")
        self.params = params
        self.select = sql.SQL("SELECT id FROM {} t WHERE {} ORDER BY {}").format(
            sql.Identifier(table), where, order
        )
        self.count_query = sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM {} t WHERE {} LIMIT %s) capped"
        ).format(sql.Identifier(table), where)

    def fetch(self, number: int) -> list[str]:
        query = sql.SQL("{} LIMIT %s OFFSET %s").format(self.select)
        rows = self.engine._rows(query, [*self.params, PAGE, number * PAGE])
        return [row[0] for row in rows]

    def count(self, limit: int | None) -> int:
        return int(self.engine._value(self.count_query, [*self.params, limit]))

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """Where an id is in the list: one count of the rows before it, not a walk through
        every page (the list keeps its cursor on a record after every search)."""
        if start or stop is not None:
            return super().index(value, start, len(self) if stop is None else stop)
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not in the list")
        before = sql.SQL(">" if self.descending else "<")
        query = sql.SQL(
            "SELECT (SELECT count(*) FROM {table} t WHERE {where} AND (t.sort_name, t.id) "
            "{before} (m.sort_name, m.id)) FROM {table} m WHERE m.id = %s AND "
            "EXISTS (SELECT 1 FROM {table} t WHERE {where} AND t.id = m.id)"
        ).format(table=sql.Identifier(self.table), where=self.where, before=before)
        position = self.engine._value(query, [*self.params, value, *self.params])
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
        """The records themselves, in the search's order, in one query (what `crm list
        --search` prints: not a page of ids, then the records of each)."""
        query = sql.SQL("SELECT doc FROM {} t WHERE {} ORDER BY {}").format(
            sql.Identifier(self.table), self.where, self.order
        )
        return [row[0] for row in self.engine._rows(query, self.params)]


class _KeptConnectionGone(Exception):
    """The first statement of a save failed on a connection kept from before: retry."""


class _Write(threading.local):
    """The connection of the write this thread is in, and the versions it read."""

    conn: psycopg.Connection[Any] | None = None
    seen: dict[tuple[str, str], int]
    read: dict[tuple[str, str], Record | None]  # what the batch's rules read, by id


class PostgresEngine:
    def __init__(self, url: str, *, lock_timeout: float = 10.0) -> None:
        refuse_password(url)
        self.url = url
        self.location = public_location(url)
        self.lock_timeout = lock_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None
        self._writer_conn: psycopg.Connection[Any] | None = None
        self._counts: dict[tuple[str, int], int] = {}
        self._listened = False  # wait_for_changes has opened the listening connection once
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._write = _Write()
        self._seq = 0  # the last change-feed row this process has taken in
        self._generation = 0
        self._role = ""
        self._users_may_name_themselves = False
        self._opened = False
        self.read_only = False
        self._down_until = 0.0  # no new connection is tried before then (see _reader)
        self._down_reason = ""

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
                connect_timeout=5,
                application_name="termcrm",
                # No server-side prepared statements: a cached generic plan of `search LIKE
                # $1` scans the whole trigram index for a two-letter word (4x slower).
                prepare_threshold=None,
            )
        except psycopg.Error as error:
            raise _unavailable(self.location, error) from None
        set_json_loads(_loads, conn)
        set_json_dumps(_dumps, conn)
        return conn

    def _reader(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            # After a failed attempt, fail fast for a moment: the screen's reads must not
            # each wait for a connect timeout while the link is down (the poll retries).
            if time.monotonic() < self._down_until:
                raise ServerUnavailable(self._down_reason)
            try:
                self._conn = self._connect()
            except ServerUnavailable as error:
                self._down_until, self._down_reason = time.monotonic() + _RETRY_AFTER, str(error)
                raise
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
                except psycopg.Error as error:  # refused: a grant missing, say
                    raise StorageError(f"{self.location}: {_refusal(error)}") from None
        raise AssertionError("unreachable")

    def _writer(self) -> psycopg.Connection[Any]:
        """The connection saves are made on, kept open between them (a new one costs more
        than the save)."""
        # One the server ended while idle (a restart, a cut) fails at the save's first
        # statement, before anything is sent: `transact` then makes the save on a new one.
        conn = self._writer_conn
        if conn is None or conn.closed or conn.broken:
            conn = self._writer_conn = self._connect(autocommit=False)
        return conn

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
    def create_schema(self, *, users_name_themselves: bool | None = None) -> bool:
        """Create the tables in an empty database, or bring an older layout up to date;
        False when it was current already. A newer layout is refused untouched.
        `users_name_themselves`: saves are stamped with the name a user gives ($CRM_USER,
        --user) instead of their login role (a team whose members share one role)."""
        with self._connect(autocommit=False) as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                version = self._schema_version(conn)
                if version != SCHEMA_VERSION:
                    self._migrate(conn, version)
                if users_name_themselves is not None:
                    conn.execute(
                        "INSERT INTO crm_meta (key, value) VALUES ('users_name_themselves', %s)"
                        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        (Jsonb(users_name_themselves),),
                    )
        return version != SCHEMA_VERSION

    def create(self, *, users_name_themselves: bool | None = None, team: str | None = None) -> bool:
        made = self.create_schema(users_name_themselves=users_name_themselves)
        if team is not None:
            self.grant_team(team)
        return made

    def grant_team(self, role: str) -> None:
        """Let the members of group role `role` work in the CRM: read and save records,
        move them to and from the trash, add to the history and the change feed. Not: change
        or delete history, change the tables or the settings (those stay the owner's)."""
        team = sql.Identifier(role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(self._value("SELECT current_schema()")), team
            ),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, contacts, activities, trash "
                "TO {}"
            ).format(team),
            sql.SQL("GRANT SELECT, INSERT ON history, changes TO {}").format(team),
            sql.SQL("GRANT SELECT ON crm_meta TO {}").format(team),
            sql.SQL("GRANT USAGE ON SEQUENCE history_seq_seq, changes_seq_seq TO {}").format(team),
        ]
        try:
            with self._connect(autocommit=False) as conn, conn.transaction():
                for statement in statements:
                    conn.execute(statement)
        except psycopg.errors.UndefinedObject:
            raise StorageError(
                f"there is no role '{role}' on the server: create it first"
            ) from None
        except psycopg.errors.InsufficientPrivilege as error:
            raise StorageError(f"cannot grant to '{role}': {error}") from None

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
            except psycopg.OperationalError as error:
                raise _unavailable(self.location, error) from None
            except psycopg.Error as error:  # a role without the team's grants
                raise StorageError(f"{self.location}: {_refusal(error)}") from None
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
            "SELECT session_user, (SELECT value FROM crm_meta WHERE key = 'users_name_themselves'),"
            " (SELECT coalesce(max(seq), 0) FROM changes)"
        )[0]
        self._role = role
        self._users_may_name_themselves = bool(override)
        self._seq = int(seq)
        self._opened = True
        # No listening connection yet: a command line run never waits for others' saves;
        # the app's first wait_for_changes opens it.

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
        with self._write_lock:
            self._drop(self._writer_conn)
            self._writer_conn = None

    # ------------------------------------------------------------ one record, one table
    def get(self, table: str, record_id: str) -> Record | None:
        writing = self._write.conn is not None
        if writing and (table, record_id) in self._write.read:  # a rule asks again
            return self._write.read[(table, record_id)]
        version = sql.SQL("0" if table == TRASH else "version")
        query = sql.SQL("SELECT {}, doc FROM {} WHERE id = %s").format(
            version, sql.Identifier(table)
        )
        rows = self._rows(query, (record_id,))
        doc: Record | None = rows[0][1] if rows else None
        if writing:
            self._write.read[(table, record_id)] = doc
            if rows and table != TRASH:
                self._write.seen[(table, record_id)] = rows[0][0]
        return doc

    def count(self, table: str) -> int:
        # Asked at every redraw of a list's status line: counted once per change taken in.
        key = (table, self._generation)
        if key not in self._counts:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            self._counts = {key: int(self._value(query))} | {
                k: v for k, v in self._counts.items() if k[1] == self._generation
            }
        return self._counts[key]

    def all(self, table: str) -> Mapping[str, Record]:
        return QueriedTable(
            lambda rid: self.get(table, rid), lambda: self.count(table), lambda: self._stream(table)
        )

    def _stream(self, table: str) -> Iterator[tuple[str, Record]]:
        """Every record of `table`, by id, a page at a time (inside a write, in its
        transaction)."""
        after = ""
        query = sql.SQL("SELECT id, doc FROM {} WHERE id > %s ORDER BY id LIMIT %s").format(
            sql.Identifier(table)
        )
        while True:
            rows = self._rows(query, (after, _PAGE))
            yield from ((rid, doc) for rid, doc in rows)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        if isinstance(ids, PagedIds) and ids.table == table:
            return ids.documents()  # a whole search: one query, not one per page
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
        return self.same_names(table, [name])[name_key(name)]

    def same_email(self, table: str, email: str) -> set[str]:
        return self.same_emails(table, [email])[email.casefold()]

    def same_names(self, table: str, names: Iterable[str]) -> dict[str, set[str]]:
        return self._ids_by_key(table, "name_key", {name_key(n) for n in names})

    def same_emails(self, table: str, emails: Iterable[str]) -> dict[str, set[str]]:
        return self._ids_by_key(table, "email_key", {e.casefold() for e in emails})

    def _ids_by_key(self, table: str, column: str, keys: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {k: set() for k in keys}
        if keys:
            query = sql.SQL("SELECT {}, id FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(column), sql.Identifier(table), sql.Identifier(column)
            )
            for key, rid in self._rows(query, (sorted(keys),)):
                found[key].add(rid)
        return found

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> Sequence[str]:
        where, params = self._search_filter(query)
        name_order = query.sort == "name"
        if name_order:  # the common case, served by the order index a page at a time
            return PagedIds(self, table, where, query.descending, params)
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
        # An empty choice of types or statuses on a timeline means any (the filter is off).
        return self._activities(
            "regarding_id = ANY(%s)",
            [owners],
            query.types or None,
            query.statuses or None,
            query.text,
        )

    def _activities(
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
        # Level by level, each an indexed lookup of the parents' subsidiaries (a recursive
        # CTE on the expression would scan the table at every level).
        return tree_by_levels(
            root,
            lambda level: [
                row[0]
                for row in self._rows(
                    "SELECT doc FROM accounts WHERE doc->>'parent_account_id' = ANY(%s)",
                    (level,),
                )
            ],
        )

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]:
        return self._activities("true", [], types, statuses, text)

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
        self, record_id: str | None = None, user: str | None = None, since: str | None = None
    ) -> Iterator[Record]:
        parts, params = ["true"], []
        if record_id is not None:
            parts.append("ids @> ARRAY[%s]")
            params.append(record_id)
        if user is not None:
            parts.append("by = %s")
            params.append(user)
        if since is not None:  # an undo asks what others did since: not the whole history
            parts.append("at >= %s")
            params.append(since)
        rows = self._rows("SELECT entry FROM history WHERE " + " AND ".join(parts), params)
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
            try:
                return self._transact(build, extra)
            except _KeptConnectionGone:
                # The connection kept from the last save had been ended by the server (a
                # restart): nothing of this save reached it, so it is made on a new one.
                return self._transact(build, extra)

    def _transact(self, build: Build, extra: Record | None) -> list[Change]:
        kept = self._writer_conn is not None
        conn = self._writer()
        batch_id = ""
        locked = False
        try:
            try:
                with conn.transaction():
                    self._take_lock(conn)
                    locked = True
                    self._write.conn, self._write.seen, self._write.read = conn, {}, {}
                    changes = self._catch_up()
                    ops = build(tables_of(self))
                    if not ops:
                        return changes
                    entry = (extra or {}).get("h") or {}
                    batch_id = str(entry.get("id") or "")
                    last = self._write_ops(conn, ops, entry, batch_id)
            except psycopg.OperationalError as error:
                self._write.conn = None
                if kept and not locked:
                    raise _KeptConnectionGone from None
                if batch_id and self._committed(batch_id):
                    last = self._seq  # it landed: caught up below
                else:
                    raise ServerUnavailable(
                        f"not saved: lost the connection to the database server "
                        f"({self.location}): {' '.join(str(error).split())}"
                    ) from None
            except psycopg.Error as error:  # refused by the server: a grant, a trigger
                raise StorageError(f"not saved: {_refusal(error)}") from None
            finally:
                self._write.conn = None
        except BaseException:
            self._drop(conn)  # a broken or refused transaction: start clean next time
            self._writer_conn = None
            raise
        self._seq = max(self._seq, last)
        self._generation += 1
        changes.extend(self._changes_of(ops))
        return changes

    def _take_lock(self, conn: psycopg.Connection[Any]) -> None:
        try:  # one round trip: the wait is bounded, then the lock
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}; SELECT pg_advisory_xact_lock({})").format(
                    sql.Literal(f"{int(self.lock_timeout * 1000)}ms"), sql.Literal(_LOCK_KEY)
                )
            )
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
        self._write.read = {}  # from here on, reads (a conflict's "theirs") are fresh
        for _kind, _table, payload in ops:
            if _has_nul(payload):
                raise StorageError(
                    "PostgreSQL cannot store the NUL character (U+0000); remove it from "
                    "the text and save again"
                )
        account_names: dict[str, str | None] = {}
        accounts_put: list[str] = []
        run: list[Record] = []  # consecutive puts into one record table: written together
        run_table = ""
        for kind, table, payload in [*ops, ("end", "", None)]:
            if run and (kind != "put" or table != run_table):
                self._put_many(conn, run_table, run, account_names)
                run = []
            if kind == "put" and table in RECORD_TABLES:
                run.append(payload)
                run_table = table
                if table == ACCOUNTS:
                    account_names[payload["id"]] = fold(display_name(ACCOUNTS, payload))
                    accounts_put.append(payload["id"])
            elif kind == "del":
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table)),
                    (payload,),
                )
                if table == ACCOUNTS:
                    account_names[payload] = None
            elif kind == "put":  # the trash
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
        if accounts_put:  # contacts are found by their account's (new) name too
            names = [account_names[a] or "" for a in accounts_put]
            conn.execute(
                # Joined to the names given, not to `accounts`: an index lookup of each
                # account's contacts (the join made the planner scan every contact).
                "UPDATE contacts c SET search = c.search_own || ' ' || n.name FROM "
                "unnest(%s::text[], %s::text[]) AS n(id, name) WHERE c.doc->>'account_id' = "
                "n.id AND c.search IS DISTINCT FROM c.search_own || ' ' || n.name",
                (accounts_put, names),
            )
        if entry:
            ids = sorted({str(c["id"]) for c in entry.get("changes", ())})
            conn.execute(
                "INSERT INTO history (batch_id, at, by, ids, entry) VALUES (%s, %s, %s, %s, %s)",
                (batch_id, entry.get("at", ""), entry.get("by", ""), ids, Jsonb(entry)),
            )
        touched = list(dict.fromkeys((t, p if k == "del" else p["id"]) for k, t, p in ops))
        # The change feed, in the batch's order, and the wake-up call (sent at commit).
        row = conn.execute(
            "WITH fed AS (INSERT INTO changes (tbl, id, batch) SELECT t, i, %s FROM "
            "unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(t, i, n) ORDER BY n "
            "RETURNING seq) SELECT (SELECT max(seq) FROM fed), pg_notify(%s, %s)",
            (batch_id, [t for t, _ in touched], [i for _, i in touched], CHANNEL, batch_id),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _put_many(
        self,
        conn: psycopg.Connection[Any],
        table: str,
        records: list[Record],
        account_names: dict[str, str | None],
    ) -> None:
        """Write records of one table: the new ones in one pipelined insert (an import's
        10,000 contacts), the others each `UPDATE ... WHERE id AND version`."""
        if table == CONTACTS:  # a contact's search text holds its account's name
            unknown = {r["account_id"] for r in records if r.get("account_id")}
            unknown -= account_names.keys()
            if unknown:
                found = conn.execute(
                    "SELECT id, sort_name FROM accounts WHERE id = ANY(%s)", (sorted(unknown),)
                ).fetchall()
                account_names.update({rid: None for rid in unknown} | dict(found))
        rows = [(record, self._columns_of(table, record, account_names)) for record in records]
        names = list(rows[0][1])
        fresh = [(r, c) for r, c in rows if (table, r["id"]) not in self._write.seen]
        known = [(r, c) for r, c in rows if (table, r["id"]) in self._write.seen]
        inserted: set[str] = set()
        if len({r["id"] for r, _c in rows}) < len(rows):
            known, fresh = rows, []  # a record put twice: one at a time, in order
        elif fresh:
            statement = sql.SQL(
                "INSERT INTO {} (id, version, doc, {}) VALUES (%s, %s, %s, {})"
                " ON CONFLICT (id) DO NOTHING RETURNING id"
            ).format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    statement,
                    [
                        (r["id"], int(r.get("version", 1)), Jsonb(r), *(c[n] for n in names))
                        for r, c in fresh
                    ],
                    returning=True,
                )
                while True:
                    row = cur.fetchone()
                    if row is not None:
                        inserted.add(row[0])
                    if not cur.nextset():
                        break
        for record, columns in [*[(r, c) for r, c in fresh if r["id"] not in inserted], *known]:
            # Read by a query rather than by id, or there already: the version it was made from.
            version = int(record.get("version", 1))
            expected = self._write.seen.get((table, record["id"]), version - 1)
            updated = conn.execute(
                sql.SQL(
                    "UPDATE {} SET version = %s, doc = %s, {} WHERE id = %s AND version = %s"
                ).format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names),
                ),
                (version, Jsonb(record), *(columns[n] for n in names), record["id"], expected),
            )
            if updated.rowcount != 1:  # someone wrote past the lock (by hand): theirs stands
                raise ConflictError(table, record, self.get(table, record["id"]))
            self._write.seen[(table, record["id"])] = version
        versions = {r["id"]: int(r.get("version", 1)) for r, _c in fresh}
        for record_id in inserted:
            self._write.seen[(table, record_id)] = versions[record_id]

    @staticmethod
    def _columns_of(
        table: str, record: Record, account_names: dict[str, str | None]
    ) -> dict[str, Any]:
        columns = derived_columns(table, record)
        if table == CONTACTS:
            account_id = record.get("account_id")
            folded = account_names.get(account_id) if account_id else None
            columns["search"] = contact_search(columns["search_own"], folded)
        return columns

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
        # Always read the feed (one indexed query): everything committed before the call is
        # taken in, whether or not its notification has arrived yet.
        with self._write_lock:
            changes = self._catch_up()
        if changes:
            self._generation += 1
        return changes

    @property
    def wakes(self) -> bool:
        return True

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until another client's save is notified (True) or `timeout` passes: the
        app then refreshes at once instead of at its next poll. After the listening
        connection broke it listens again and says True (saves may have been missed)."""
        listener = self._listener
        if listener is None or listener.closed or listener.broken:
            if self._listened:  # it broke: not a busy loop while the server is away
                time.sleep(min(timeout, _RETRY_AFTER))
            self._listened = True
            self._listen()
            return self._listener is not None
        try:
            woken = any(True for _ in listener.notifies(timeout=timeout, stop_after=1))
            if woken:  # take the rest of a burst too
                for _ in listener.notifies(timeout=0):
                    pass
            return woken
        except psycopg.Error:
            self._listen()
            return True

    def _catch_up(self) -> list[Change]:
        """Other writers' changes since the last one taken in, from the change feed."""
        rows = self._rows(
            "SELECT seq, tbl, id FROM changes WHERE seq > %s ORDER BY seq", (self._seq,)
        )
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
                # Statistics for the planner now, not when autovacuum comes by.
                for table in STORED_TABLES:
                    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            self._seq = max(self._seq, int(row[0]) if row else 0)
            self._generation += 1

    def _copy_in(self, conn: psycopg.Connection[Any], tables: Tables) -> None:
        accounts = tables.get(ACCOUNTS, {})
        folded_accounts = {rid: fold(display_name(ACCOUNTS, a)) for rid, a in accounts.items()}
        for table in RECORD_TABLES:
            records = tables.get(table, {})
            if not records:
                continue
            sample = derived_columns(table, next(iter(records.values())))
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
                    columns = derived_columns(table, record)
                    if table == CONTACTS:
                        columns["search"] = contact_search(
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

    def check_derived(self) -> list[str]:
        return []  # the server's indexes are the server's own


__all__ = ["SCHEMA_VERSION", "PostgresEngine", "ServerUnavailable"]
