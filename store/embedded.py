"""The embedded engine: one journaled TinyDB file (`store.storage.Database`), every record in
memory, with the indexes of `store.queries` kept in step with every change it takes in."""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

import orjson

from store.engine import Build
from store.errors import StorageError
from store.model import ACCOUNTS, TRASH, Change, Deletion, Record, Tables
from store.queries import AgendaBuckets, Indexes, ListQuery, TimelineQuery, TreeNode
from store.storage import Database
from store.text import name_key


class EmbeddedEngine:
    def __init__(
        self, path: str | os.PathLike[str], *, group_writable: bool = False, lock_timeout: float
    ) -> None:
        self.database = Database(path, group_writable=group_writable, lock_timeout=lock_timeout)
        self.indexes = Indexes(self.database)
        self.database.subscribe(self.indexes)
        self.location = str(path)

    def identity(self, asked: str | None) -> str | None:
        return None  # a file stamps whom the caller names

    @property
    def mode(self) -> int:
        return self.database.mode

    # ------------------------------------------------------------ lifecycle
    def open(self, *, defer: tuple[str, ...] = (), read_only: bool = False) -> None:
        self.database.open(defer=defer)
        self.database.partial = read_only

    def create(self, *, users_name_themselves: bool | None = None, team: str | None = None) -> bool:
        if users_name_themselves is not None or team is not None:
            raise StorageError(
                "a database file is shared through its folder's group (--group) and stamped "
                "with the name each user gives; roles are for a PostgreSQL database"
            )
        existed = self.database.path.exists()
        self.database.open()
        return not existed

    def finish_loading(self) -> None:
        self.database.load_deferred()
        self.indexes.warm()

    @property
    def ready(self) -> bool:
        return self.database.activities_loaded.is_set()

    @property
    def generation(self) -> int:
        return self.indexes.generation

    def close(self) -> None:
        if self.ready and self.needs_compaction():  # a compaction needs every table in memory
            self.compact()

    # ------------------------------------------------------------ one record, one table
    def get(self, table: str, record_id: str) -> Record | None:
        return self.database.tables[table].get(record_id)

    def count(self, table: str) -> int:
        return len(self.database.tables[table])

    def all(self, table: str) -> Mapping[str, Record]:
        return MappingProxyType(self.database.tables[table])

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        records = self.database.tables[table]
        return [records[i] for i in ids if i in records]

    def by_source_id(self, table: str, source_id: str) -> str | None:
        return self.indexes.by_source_id[table].get(source_id)

    def same_name(self, table: str, name: str) -> set[str]:
        return self.indexes.same_name(table, name)

    def same_email(self, table: str, email: str) -> set[str]:
        return self.indexes.same_email(table, email)

    def same_names(self, table: str, names: Iterable[str]) -> dict[str, set[str]]:
        return {name_key(n): self.indexes.same_name(table, n) for n in names}

    def same_emails(self, table: str, emails: Iterable[str]) -> dict[str, set[str]]:
        return {e.casefold(): self.indexes.same_email(table, e) for e in emails}

    # ------------------------------------------------------------ what the screens ask
    def search_ids(self, table: str, query: ListQuery) -> Sequence[str]:
        return self.indexes.search_ids(table, query)

    def timeline(self, record_id: str, query: TimelineQuery) -> list[Record]:
        return self.indexes.timeline(record_id, query)

    def agenda(
        self, owner: str | None, now_iso: str, today_end_iso: str, today_start_iso: str, today: str
    ) -> AgendaBuckets:
        return self.indexes.agenda(owner, now_iso, today_end_iso, today_start_iso, today)

    def subsidiaries(self, account_id: str) -> list[Record]:
        return self.indexes.subsidiaries(account_id)

    def contacts_of(self, account_id: str) -> list[Record]:
        return self.indexes.contacts_of_account(account_id)

    def parent_chain(self, account_id: str) -> list[Record]:
        return self.indexes.parent_chain(account_id)

    def hierarchy(self, account_id: str) -> TreeNode | None:
        return self.indexes.hierarchy(account_id)

    def search_activities(
        self, text: str, types: Collection[str] | None, statuses: Collection[str] | None
    ) -> list[Record]:
        return self.indexes.search_activities(text, types=types, statuses=statuses)

    # ------------------------------------------------------------ what the rules ask
    def dependant_ids(self, record_id: str) -> dict[str, set[str]]:
        index = self.indexes
        with index.lock:
            found = {"activities": set(index.activities_of.get(record_id, ()))}
            if record_id in self.database.tables[ACCOUNTS]:
                found["contacts"] = set(index.contacts_of.get(record_id, ()))
                found["subsidiaries"] = set(index.children.get(record_id, ()))
        return found

    def accounts_with_primary_contact(self, contact_ids: Collection[str]) -> list[Record]:
        wanted = set(contact_ids)
        return [
            account
            for account in self.database.tables[ACCOUNTS].values()
            if account.get("primary_contact_id") in wanted
        ]

    def trash_entries(
        self, *, roots_only: bool = False, batches: Collection[str] | None = None
    ) -> list[Record]:
        wanted = set(batches) if batches is not None else None
        return [
            entry
            for entry in self.database.tables[TRASH].values()
            if (not roots_only or entry.get("root", entry["id"]) == entry["id"])
            and (wanted is None or entry["batch"] in wanted)
        ]

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

    def needs_compaction(self) -> bool:
        return self.database.needs_compaction()

    def compact(self) -> None:
        self.database.compact()
