"""The embedded engine: one journaled TinyDB file (`store.storage.Database`), read through the
index beside it (`store.index`: a SQLite file derived from the base and journals, rebuilt from
them whenever it does not match), so that a command reads only the records it needs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

import orjson

from store.engine import Build
from store.errors import StorageError
from store.index import RecordIndex
from store.model import STORED_TABLES, Change, Deletion, Record, Tables
from store.queries import AgendaBuckets, ListQuery, TimelineQuery, TreeNode
from store.storage import Database
from store.text import counted


class EmbeddedEngine:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        group_writable: bool = False,
        lock_timeout: float,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.database = Database(path, group_writable=group_writable, lock_timeout=lock_timeout)
        self.database.notice = notice
        self.location = str(path)
        self.read_only = False

    def identity(self, asked: str | None) -> str | None:
        return None  # a file stamps whom the caller names

    @property
    def mode(self) -> int:
        return self.database.mode

    @property
    def index(self) -> RecordIndex:
        index = self.database.index
        if index is None:
            raise StorageError("the database is not open")
        return index

    # ------------------------------------------------------------ lifecycle
    def open(self, *, defer: tuple[str, ...] = (), read_only: bool = False) -> None:
        # Nothing is deferred any more: the index answers every table at once.
        self.database.open_indexed()
        self.read_only = read_only

    def create(self, *, users_name_themselves: bool | None = None, team: str | None = None) -> bool:
        if users_name_themselves is not None or team is not None:
            raise StorageError(
                "a database file is shared through its folder's group (--group) and stamped "
                "with the name each user gives; roles are for a PostgreSQL database"
            )
        existed = self.database.path.exists()
        self.database.open_indexed()
        return not existed

    def finish_loading(self) -> None:
        pass  # the index has every table from the start

    @property
    def ready(self) -> bool:
        return self.database.index is not None

    @property
    def generation(self) -> int:
        return self.index.generation

    def close(self) -> None:
        if self.ready and not self.read_only and self.needs_compaction():
            self.compact()
        if self.database.index is not None:
            self.database.index.close()

    # ------------------------------------------------------------ one record, one table
    def get(self, table: str, record_id: str) -> Record | None:
        return self.index.get(table, record_id)

    def count(self, table: str) -> int:
        return self.index.count(table)

    def all(self, table: str) -> Mapping[str, Record]:
        return self.index.table(table)

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        return self.index.records(table, ids)

    def by_source_id(self, table: str, source_id: str) -> str | None:
        return self.index.by_source_id(table, source_id)

    def same_name(self, table: str, name: str) -> set[str]:
        return next(iter(self.index.same_names(table, [name]).values()))

    def same_email(self, table: str, email: str) -> set[str]:
        return next(iter(self.index.same_emails(table, [email]).values()))

    def same_names(self, table: str, names: Iterable[str]) -> dict[str, set[str]]:
        return self.index.same_names(table, names)

    def same_emails(self, table: str, emails: Iterable[str]) -> dict[str, set[str]]:
        return self.index.same_emails(table, emails)

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> Sequence[str]:
        return self.index.search_ids(table, query)

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]:
        return self.index.timeline(record_id, query)

    def agenda(
        self, owner: str | None, now_iso: str, today_end_iso: str, today_start_iso: str, today: str
    ) -> AgendaBuckets:
        return self.index.agenda(owner, now_iso, today_end_iso, today_start_iso, today)

    def subsidiaries(self, account_id: str) -> list[Record]:
        return self.index.subsidiaries(account_id)

    def contacts_of(self, account_id: str) -> list[Record]:
        return self.index.contacts_of(account_id)

    def parent_chain(self, account_id: str) -> list[Record]:
        return self.index.parent_chain(account_id)

    def hierarchy(self, account_id: str) -> TreeNode | None:
        return self.index.hierarchy(account_id)

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]:
        return self.index.search_activities(text, types, statuses)

    # ------------------------------------------------------------ what the rules ask
    def dependant_ids(self, record_id: str) -> dict[str, set[str]]:
        return self.index.dependant_ids(record_id)

    def accounts_with_primary_contact(self, contact_ids: Collection[str]) -> list[Record]:
        return self.index.accounts_with_primary_contact(contact_ids)

    def trash_entries(
        self, *, roots_only: bool = False, batches: Collection[str] | None = None
    ) -> list[Record]:
        return self.index.trash_entries(roots_only=roots_only, batches=batches)

    # ------------------------------------------------------------ history
    def history_entries(
        self, record_id: str | None = None, user: str | None = None, since: str | None = None
    ) -> Iterator[Record]:
        # The history file is searched as bytes for the id or the user before a line is parsed.
        needle = None
        if record_id is not None:
            needle = f'"{record_id}"'.encode()
        elif user is not None:
            needle = orjson.dumps({"by": user})[1:-1]
        return self.database.history_lines(needle)

    def deleted_by(self, record_id: str) -> Deletion | None:
        return self.database.deleted_by(record_id)

    def add_history(self, entries: Iterable[Record]) -> int:
        return self.database.add_history(entries)

    # ------------------------------------------------------------ writing
    def transact(
        self, build: Build, *, deletion: Deletion | None = None, extra: Record | None = None
    ) -> list[Change]:
        if self.read_only:
            raise StorageError("this database was opened for reading only")
        return self.database.transact(build, deletion=deletion, extra=extra)

    def refresh(self) -> list[Change]:
        return self.database.refresh()

    @property
    def wakes(self) -> bool:
        return False  # followed by polling the journal (refresh)

    def wait_for_changes(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def replace_all(self, tables: Tables) -> None:
        self.database.replace_all(tables)

    def check_derived(self) -> list[str]:
        """Read the base and journals whole, as without an index, and compare every record
        with the index's; rebuild the index when they differ."""
        index = self.index
        found: list[str] = []
        if index.fallback_reason:
            found.append(
                f"index: {index.fallback_reason}; every process builds the index in memory "
                "(slower opens) until it can be written"
            )
        whole = Database(self.database.path)
        whole.open()
        differ = 0
        for table in STORED_TABLES:
            indexed = dict(index.stream(table))
            records = whole.tables[table]
            differ += sum(
                1 for rid in records.keys() | indexed.keys() if records.get(rid) != indexed.get(rid)
            )
        if differ:
            index.rebuild(whole.tables, whole.read_so_far(), repair=True)
            found.append(
                f"index: {counted(differ, 'record')} out of step with the database in "
                f"{index.path.name}; it was rebuilt from the database"
            )
        return found

    def needs_compaction(self) -> bool:
        return self.database.needs_compaction()

    def compact(self) -> None:
        self.database.compact()
