"""The seam between the CRM service and where its records live: a small engine protocol.

Two engines implement it: the embedded one (`store.embedded`: a journaled TinyDB file, read
through the SQLite index derived beside it) and the server one (`store.postgres`: a
PostgreSQL database, each query answered by SQL). The service keeps every rule (fields,
references, cycles, versions, the trash, the history) and asks an engine only to read, and to
commit a batch's ops under its write lock; so a rule behaves the same on both, and nothing
above the service knows which runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from store.errors import StorageError
from store.history import Op
from store.model import STORED_TABLES, Change, Deletion, Record, Tables, TablesView
from store.queries import AgendaBuckets, ListQuery, TimelineQuery, TreeNode

Build = Callable[[TablesView], list[Op]]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_server_location(location: object) -> bool:
    """A `postgresql://` URL names a server database; anything else is a file path."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def public_location(url: str) -> str:
    """The URL as shown and logged: never with a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (parts.username or "") + "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def refuse_password(url: str) -> None:
    if urlsplit(url).password is not None:
        raise StorageError(
            "the database URL holds a password: it would show in `ps`, shell history and "
            "logs; put it in ~/.pgpass (or $PGPASSWORD) and leave it out of the URL"
        )


def counted_only_so_far(ids: Sequence[str]) -> bool:
    """True when `len(ids)` is a floor: a server counts a search's matches only up to a cap
    (a list then says "1,000+"); iterating still gives every id."""
    return bool(getattr(ids, "capped", False))


class TableSet(Mapping[str, Mapping[str, Record]]):
    """Tables by name, as the service's rules read them (a `TablesView`)."""

    def __init__(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        self.tables = dict(tables)

    def __getitem__(self, table: str) -> Mapping[str, Record]:
        return self.tables[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def tables_of(engine: Engine) -> TableSet:
    """Every stored table of `engine`, each its `all(table)`: a file's dicts, or a server's
    tables read as they are asked."""
    return TableSet({table: engine.all(table) for table in STORED_TABLES})


class Engine(Protocol):
    """What the service needs of a store. Reads see committed data only."""

    location: str  # what the user named: a path, or a URL without its password

    @property
    def mode(self) -> int:
        """The file mode for files written beside it (exports)."""

    def identity(self, asked: str | None) -> str | None:
        """Who saves are stamped with when the engine decides (a server: the login role,
        unless its admin lets users name themselves); None: `asked`, or the login name."""

    # ------------------------------------------------------------ lifecycle
    def open(self, *, defer: tuple[str, ...] = (), read_only: bool = False) -> None:
        """Connect, or read the file (tables in `defer` later, by `finish_loading`)."""

    def create(self, *, users_name_themselves: bool | None = None, team: str | None = None) -> bool:
        """Make the database if it is not there (`crm init`); True when it was made or
        upgraded. A server's options: `users_name_themselves` (saves stamped with a given
        name, not the login role), `team` (the group role whose members may work in it)."""

    def finish_loading(self) -> None: ...

    @property
    def ready(self) -> bool:
        """Every table can be read (a file opened with `defer` is loading them meanwhile)."""

    @property
    def generation(self) -> int:
        """Bumped by every change this process has taken in: a cheap "anything new?"."""

    def close(self) -> None: ...

    # ------------------------------------------------------------ one record, one table
    def get(self, table: str, record_id: str) -> Record | None: ...

    def count(self, table: str) -> int: ...

    def all(self, table: str) -> Mapping[str, Record]:
        """Every record of `table` by id, read-only (a server engine streams it)."""

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        """The records with those ids that exist, in the order of `ids`."""

    def by_source_id(self, table: str, source_id: str) -> str | None: ...

    def same_name(self, table: str, name: str) -> set[str]: ...

    def same_email(self, table: str, email: str) -> set[str]: ...

    def same_names(self, table: str, names: Iterable[str]) -> dict[str, set[str]]:
        """`same_name` of many at once, by their name key (`store.text.name_key`)."""

    def same_emails(self, table: str, emails: Iterable[str]) -> dict[str, set[str]]:
        """`same_email` of many at once, by the casefolded email."""

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> Sequence[str]:
        """In the order asked for; a server reads them a page at a time as they are asked."""

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]: ...

    def agenda(
        self, owner: str | None, now_iso: str, today_end_iso: str, today_start_iso: str, today: str
    ) -> AgendaBuckets: ...

    def subsidiaries(self, account_id: str) -> list[Record]: ...

    def contacts_of(self, account_id: str) -> list[Record]: ...

    def parent_chain(self, account_id: str) -> list[Record]: ...

    def hierarchy(self, account_id: str) -> TreeNode | None: ...

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]: ...

    # ------------------------------------------------------------ what the rules ask
    def dependant_ids(self, record_id: str) -> dict[str, set[str]]:
        """Ids of what refers to a record: "activities" regarding it, and for an account its
        "contacts" and "subsidiaries"."""

    def accounts_with_primary_contact(self, contact_ids: Collection[str]) -> list[Record]: ...

    def trash_entries(
        self, *, roots_only: bool = False, batches: Collection[str] | None = None
    ) -> list[Record]:
        """Stored trash entries: every one, only those the user deleted (not dependants), or
        those of some batches."""

    # ------------------------------------------------------------ history
    def history_entries(
        self, record_id: str | None = None, user: str | None = None, since: str | None = None
    ) -> Iterator[Record]:
        """Stored history entries, each once, in no particular order; with `record_id`,
        `user` or `since` (an ISO moment), at least those that concern it (the caller
        filters exactly)."""

    def deleted_by(self, record_id: str) -> Deletion | None: ...

    def add_history(self, entries: Iterable[Record]) -> int:
        """Bring stored history entries in from another database (`crm migrate`), each once
        by its id, durably; returns how many were new."""

    # ------------------------------------------------------------ writing
    def transact(
        self, build: Build, *, deletion: Deletion | None = None, extra: Record | None = None
    ) -> list[Change]:
        """Commit the ops `build` returns, atomically and durably, or nothing if it raises.
        `build` runs under the write lock with the latest committed data; `extra["h"]` is
        the batch's history entry (read after `build`)."""

    def refresh(self) -> list[Change]:
        """Take in other users' changes; returns what changed."""

    @property
    def wakes(self) -> bool:
        """Whether `wait_for_changes` is told of other users' saves (a server notifies; a
        file is polled)."""

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until another user may have saved (True) or `timeout` passed (False)."""

    def replace_all(self, tables: Tables) -> None:
        """The whole database replaced by `tables` in one step (demo data, a rescue)."""

    def needs_compaction(self) -> bool: ...

    def compact(self) -> None: ...

    def check_derived(self) -> list[str]:
        """Compare what the engine derives beside the database (a file's index) with the
        database itself, repair it, and say what was found; nothing for a server."""
        ...
