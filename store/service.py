"""The CRM service: the one API that the TUI and the command line call.

It owns the rules that span records (references, cycles, duplicates, deletion of dependants,
activity status) and stamps every save with who, when and a version; storage makes it durable.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

from store.engine import Engine, TableSet, is_server_location, tables_of
from store.errors import (
    AmbiguousError,
    ConflictError,
    DependentsError,
    FieldError,
    NotFoundError,
    TrashedParentError,
    UndoConflict,
    ValidationFailed,
)
from store.files import database_file_mode
from store.history import HistoryEntry, Op, entry_for
from store.history import parse as parse_history
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    REGARDING_TABLE,
    SINGULAR,
    SYSTEM_FIELDS,
    TABLE_REGARDING,
    TRASH,
    ActivityStatus,
    ActivityType,
    Change,
    Deletion,
    Record,
    Tables,
    TablesView,
    brief,
    clean,
    display_name,
    validate_fields,
)
from store.queries import AgendaBuckets, ListQuery, TimelineQuery, TreeNode
from store.text import counted, name_key


@dataclass
class SaveResult:
    record: Record
    warnings: list[str] = field(default_factory=list)


@dataclass
class Problem:
    table: str
    record_id: str
    message: str

    def __str__(self) -> str:
        return f"{SINGULAR[self.table]} {self.record_id}: {self.message}"


@dataclass(eq=False)
class Create:
    """A new record. `fields` as a user or a file gives them; the service adds the defaults
    and stamps. `record_id`: an id the caller chose (so that other items of its batch can refer
    to the record); `created_at`: when the source system made it (an import)."""

    table: str
    fields: Record
    record_id: str | None = None
    created_at: str | None = None


@dataclass(eq=False)
class Update:
    """Changes to a record (None or '' clears a field); with `expected_version`, refused with
    ConflictError when the record was saved by someone else since."""

    table: str
    record_id: str
    changes: Record
    expected_version: int | None = None


@dataclass(eq=False)
class Delete:
    """A record to delete, with what happens to its dependants (see CRM.delete)."""

    table: str
    record_id: str
    contacts: str | None = None  # detach | delete
    subsidiaries: str | None = None  # detach | reparent
    activities: str | None = None  # delete
    expected_version: int | None = None
    # A merge: the record this one was merged into (kept on its trash entry).
    merged_into: str | None = None


@dataclass
class Batch:
    """Saves that land together or not at all, as one journal entry."""

    creates: list[Create] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    stamp: str | None = None  # the moment written as modified_at (one for a whole import)
    # Off for a caller that reports likely duplicates itself (the importer, by line).
    warn_duplicates: bool = True
    # What the change was, for the history and undo: "import contacts.csv", "merge ...".
    # Empty: described from its items ("edit account Acme").
    summary: str = ""
    # Records to bring back from the trash, each with everything deleted with it.
    restores: list[str] = field(default_factory=list)
    # Also restore the parent accounts (and accounts, regarded records) that a restored
    # record needs and that are in the trash themselves; else TrashedParentError.
    restore_parents: bool = False
    # Trash entries to delete for good (each with everything deleted with it).
    purges: list[str] = field(default_factory=list)
    undoes: str | None = None  # the batch this one undoes (history, and undo of an undo)


@dataclass
class BatchResult:
    records: list[Record]  # as stored, the creates' then the updates', in their order
    warnings: list[str] = field(default_factory=list)
    removed: int = 0
    batch_id: str = ""  # its history entry's id
    restored: int = 0


@dataclass(frozen=True)
class TrashEntry:
    """A record in the trash: what, who deleted it and when, and how many records were
    deleted with it (its dependants, restored with it)."""

    record_id: str
    table: str
    name: str
    deleted_by: str
    deleted_at: str
    batch: str
    root: str  # the record the user deleted (this one, or the one it was deleted with)
    dependants: int
    merged_into: str | None = None

    @property
    def what(self) -> str:
        """`account Acme (with 3 records)`: how the CLI and the Trash screen name it."""
        text = f"{SINGULAR[self.table]} {self.name}"
        if self.dependants:
            text += f" (with {counted(self.dependants, 'record')})"
        if self.merged_into:
            text += f", merged into {self.merged_into}"
        return text


def _trash_entry(entry: Record) -> TrashEntry:
    """A stored trash entry as the TrashEntry the callers read."""
    return TrashEntry(
        entry["id"],
        entry["table"],
        display_name(entry["table"], entry["record"]),
        entry.get("deleted_by", ""),
        entry.get("deleted_at", ""),
        entry["batch"],
        str(entry.get("root", entry["id"])),
        int(entry.get("dependants", 0)),
        entry.get("merged_into"),
    )


def _trashed_name(entry: Record) -> str:
    return f"{SINGULAR[entry['table']]} {display_name(entry['table'], entry['record'])}"


def _needs(table: str, record: Record) -> list[str]:
    """The ids a record cannot exist without: its parent account, its account, what it is
    regarding."""
    if table == ACCOUNTS:
        return [record["parent_account_id"]] if record.get("parent_account_id") else []
    if table == CONTACTS:
        return [record["account_id"]] if record.get("account_id") else []
    return [record["regarding_id"]] if record.get("regarding_id") else []


def _depends_on_any(table: str, record: Record, ids: set[str]) -> bool:
    if table == CONTACTS:
        return record.get("account_id") in ids
    if table == ACTIVITIES:
        return record.get("regarding_id") in ids
    return False


# Written by the service on every save; a change never sets them.
_STAMPED = ("id", "modified_at", "modified_by", "version")


def _stamp_completion(before: Record, record: Record, stamp: str) -> None:
    """The one completion rule: a completed activity has completed_at, given (an import
    carrying the source's date, an edit) or stamped now on the change to completed; any other
    status has none."""
    if record.get("status", ActivityStatus.OPEN) == ActivityStatus.COMPLETED:
        newly = before.get("status") != ActivityStatus.COMPLETED
        given = record.get("completed_at")
        if not given or (newly and given == before.get("completed_at")):
            record["completed_at"] = stamp
    else:
        record.pop("completed_at", None)


class _Pending(Mapping[str, Record]):
    """A table as it will be after a batch: its puts over the committed records, less its
    deletes (a reference to a record of the same batch is fine; to one it deletes is not)."""

    def __init__(self, committed: Mapping[str, Record], changed: dict[str, Record | None]) -> None:
        self.committed, self.changed = committed, changed

    def __getitem__(self, record_id: str) -> Record:
        if record_id in self.changed:
            record = self.changed[record_id]
            if record is None:
                raise KeyError(record_id)
            return record
        return self.committed[record_id]

    def __iter__(self) -> Iterator[str]:
        yield from (i for i in self.committed if i not in self.changed)
        yield from (i for i, r in self.changed.items() if r is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _after(tables: TablesView, ops: list[Op]) -> dict[str, Mapping[str, Record]]:
    changed: dict[str, dict[str, Record | None]] = {t: {} for t in tables}
    for kind, table, value in ops:
        if kind == "put":
            changed[table][value["id"]] = value
        else:
            changed[table][value] = None
    return {t: _Pending(tables[t], changed[t]) if changed[t] else tables[t] for t in tables}


class _ReadAhead(TableSet):
    """The tables with the records a batch's rules will look up by id read ahead, many in
    one go: a server answers each lookup with a round trip (an import of 10,000 contacts
    would make tens of thousands); for a file it is a dict lookup either way."""

    def __init__(self, tables: TablesView, engine: Engine) -> None:
        self.readers = {name: _ReadAheadTable(tables[name], engine, name) for name in tables}
        super().__init__(self.readers)

    def read(self, wanted: Iterable[tuple[str, str]]) -> None:
        by_table: dict[str, list[str]] = {}
        for table, record_id in wanted:
            by_table.setdefault(table, []).append(record_id)
        for table, ids in by_table.items():
            self.readers[table].read(ids)


class _ReadAheadTable(Mapping[str, Record]):
    def __init__(self, table: Mapping[str, Record], engine: Engine, name: str) -> None:
        self.table, self.engine, self.name = table, engine, name
        self.known: dict[str, Record | None] = {}  # read ahead: None, not there

    def read(self, ids: Iterable[str]) -> None:
        missing = [i for i in dict.fromkeys(ids) if i and i not in self.known]
        if missing:
            found = {r["id"]: r for r in self.engine.records(self.name, missing)}
            self.known.update({i: found.get(i) for i in missing})

    def get(self, record_id: str, default: Any = None) -> Any:
        if record_id in self.known:
            record = self.known[record_id]
            return default if record is None else record
        return self.table.get(record_id, default)

    def __getitem__(self, record_id: str) -> Record:
        record: Record | None = self.get(record_id)
        if record is None:
            raise KeyError(record_id)
        return record

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and self.get(record_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


def _wanted(batch: Batch) -> list[tuple[str, str]]:
    """The records a batch's rules look up by id: what it changes and what they refer to."""
    wanted: list[tuple[str, str]] = []
    items: list[tuple[str, str | None, Record]] = [
        *((c.table, c.record_id, c.fields) for c in batch.creates),
        *((u.table, u.record_id, u.changes) for u in batch.updates),
    ]
    for table, record_id, fields in items:
        if record_id:
            wanted.append((table, record_id))
        for name, target in (
            ("account_id", ACCOUNTS),
            ("parent_account_id", ACCOUNTS),
            ("primary_contact_id", CONTACTS),
        ):
            if isinstance(fields.get(name), str):
                wanted.append((target, fields[name]))
        regarding = REGARDING_TABLE.get(str(fields.get("regarding_type", "")))
        if regarding and isinstance(fields.get("regarding_id"), str):
            wanted.append((regarding, fields["regarding_id"]))
    wanted += [(d.table, d.record_id) for d in batch.deletes]
    return wanted


def _put_ids(puts: list[tuple[str, Record]]) -> list[tuple[str, str]]:
    """What the history asks of the records a batch puts: were they there, or in the trash?"""
    return [(table, r["id"]) for table, r in puts] + [(TRASH, r["id"]) for _t, r in puts]


def now_iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_user() -> str:
    override = os.environ.get("CRM_USER")
    if override:
        return override
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_engine(
    location: str | os.PathLike[str],
    *,
    group_writable: bool = False,
    lock_timeout: float = 10.0,
    notice: Callable[[str], None] | None = None,
) -> Engine:
    """The engine for a location: a `postgresql://` URL is a server database (the optional
    `postgres` extra), anything else a database file."""
    if is_server_location(location):
        from store.postgres import PostgresEngine  # psycopg is only needed for a server

        return PostgresEngine(str(location), lock_timeout=lock_timeout)
    from store.embedded import EmbeddedEngine  # each engine is loaded only when it is used

    return EmbeddedEngine(
        location, group_writable=group_writable, lock_timeout=lock_timeout, notice=notice
    )


class CRM:
    """Accounts, contacts and activities in one database: a file, or a PostgreSQL server's."""

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        user: str | None = None,
        group_writable: bool = False,
        lock_timeout: float = 10.0,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        # `notice`: told of slow work before it starts (a file's index being built), so a
        # command line or a terminal can say why nothing shows yet.
        self._engine = open_engine(
            location, group_writable=group_writable, lock_timeout=lock_timeout, notice=notice
        )
        self.location = self._engine.location  # as shown to the user (never a password)
        self._user = user

    @property
    def user(self) -> str:
        """Who the saves are stamped with: the engine's say (a server's login role), else
        the user given, else $CRM_USER, else the login name."""
        return self._engine.identity(self._user) or self._user or current_user()

    @classmethod
    def init(
        cls,
        location: str | os.PathLike[str],
        *,
        users_name_themselves: bool | None = None,
        team: str | None = None,
        group_writable: bool = False,
    ) -> bool:
        """Create the database: on a server its tables (an older layout is brought up to
        date; a newer one refused untouched), else an empty file. False when it was there
        already (a server's setting is still applied)."""
        engine = open_engine(location, group_writable=group_writable)
        try:
            return engine.create(users_name_themselves=users_name_themselves, team=team)
        finally:
            engine.close()

    @classmethod
    def open(cls, location: str | os.PathLike[str], **kwargs: Any) -> CRM:
        """Open (a file: creating it if needed) and load everything."""
        crm = cls(location, **kwargs)
        crm._engine.open()
        return crm

    @classmethod
    def open_for_reading(
        cls, location: str | os.PathLike[str], tables: tuple[str, ...], **kwargs: Any
    ) -> CRM:
        """Open with only `tables` read (listing accounts need not parse 250k activities).
        Nothing can be saved through it."""
        crm = cls(location, **kwargs)
        deferred = tuple(t for t in (CONTACTS, ACTIVITIES) if t not in tables)
        crm._engine.open(defer=deferred, read_only=True)
        return crm

    def open_for_screen(self) -> None:
        """Open for the app. Both engines answer every table at once (a file through its
        index); `finish_loading()` and `ready` remain for an engine that loads later."""
        self._engine.open(defer=(CONTACTS, ACTIVITIES))

    def finish_loading(self) -> None:
        self._engine.finish_loading()

    @property
    def ready(self) -> bool:
        return self._engine.ready

    # ------------------------------------------------------------ reading
    def get(self, table: str, record_id: str) -> Record | None:
        return self._engine.get(table, record_id)

    def count(self, table: str) -> int:
        return self._engine.count(table)

    def find(self, record_id: str) -> tuple[str, Record] | None:
        """The table and record for an id of any kind."""
        for table in RECORD_TABLES:
            record = self._engine.get(table, record_id)
            if record is not None:
                return table, record
        return None

    def name_of(self, table: str, record_id: str | None) -> str:
        """A referenced record's name; `Acme (deleted)` while it is in the trash."""
        record = self.get(table, record_id) if record_id else None
        if record is not None:
            return display_name(table, record)
        trashed = self._engine.get(TRASH, record_id) if record_id else None
        if trashed is not None and trashed.get("table") == table:
            return f"{display_name(table, trashed['record'])} (deleted)"
        return ""

    def regarding_name(self, activity: Record) -> str:
        table = REGARDING_TABLE.get(activity.get("regarding_type", ""), ACCOUNTS)
        return self.name_of(table, activity.get("regarding_id"))

    def regarding_names(self, activities: Sequence[Record]) -> list[str]:
        """`regarding_name` of each activity, the records read in one query per table (a
        listing of 12,000 open activities: not 12,000 lookups)."""
        wanted: dict[str, set[str]] = {}
        for activity in activities:
            if activity.get("regarding_id"):
                kind = REGARDING_TABLE.get(activity.get("regarding_type", ""), ACCOUNTS)
                wanted.setdefault(kind, set()).add(activity["regarding_id"])
        names: dict[tuple[str, str], str] = {}
        for table, ids in wanted.items():
            for record in self._engine.records(table, sorted(ids)):
                names[(table, record["id"])] = display_name(table, record)
        found = []
        for activity in activities:
            table = REGARDING_TABLE.get(activity.get("regarding_type", ""), ACCOUNTS)
            key = (table, activity.get("regarding_id") or "")
            found.append(names[key] if key in names else self.regarding_name(activity))
        return found

    def describe(self, table: str, record: Record) -> str:
        """What tells `record` apart from others with the same name (pickers, the palette,
        ambiguous references): `Contoso · joao@contoso.example`, `Leeds`."""
        account = self.name_of(ACCOUNTS, record.get("account_id")) if table == CONTACTS else ""
        return brief(table, record, account)

    def search(self, table: str, query: ListQuery | None = None) -> Sequence[str]:
        """Ids of accounts or contacts that match, sorted as asked."""
        return self._engine.search_ids(table, query or ListQuery())

    def all(self, table: str) -> Mapping[str, Record]:
        """Every record of `table` by id: a live, read-only view (do not keep it across saves
        if you need a snapshot; copy it). On a server it is read as it is iterated."""
        return self._engine.all(table)

    @property
    def generation(self) -> int:
        """Bumped by every change this process has taken in (its own or other users'): a
        cheap "has anything changed since?" for caches and screens."""
        return self._engine.generation

    def by_source_id(self, table: str, source_id: str) -> str | None:
        """The id of the record imported with the source system's id `source_id`."""
        return self._engine.by_source_id(table, source_id)

    def same_name(self, table: str, name: str) -> set[str]:
        """Ids of accounts or contacts whose normalised name is `name`'s."""
        return self._engine.same_name(table, name)

    def search_activities(
        self,
        text: str = "",
        *,
        types: Collection[str] | None = None,
        statuses: Collection[str] | None = None,
    ) -> list[Record]:
        """Activities whose subject or description has every word of `text` (any case and
        accent), of those types and statuses (None: any), newest first."""
        return self._engine.search_activities(text, types, statuses)

    def file_mode(self) -> int:
        """The mode for a file written beside the database (exports): its group's, or private."""
        if is_server_location(self.location):
            return self._engine.mode
        return database_file_mode(Path(self.location).expanduser().absolute(), self._engine.mode)

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        return self._engine.records(table, ids)

    def timeline(self, record_id: str, query: TimelineQuery | None = None) -> list[Record]:
        return self._engine.timeline(record_id, query or TimelineQuery())

    def agenda(self, owner: str | None = None, now: datetime | None = None) -> AgendaBuckets:
        """Open tasks and appointments of `owner` (None: everyone's) around `now`; "today" is
        the day of `now` in its own time zone (the machine's when `now` is naive or None)."""
        local_now = (
            now
            if now is not None and now.tzinfo is not None
            else (now or datetime.now()).astimezone()
        )
        start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        return self._engine.agenda(
            owner, now_iso(local_now), now_iso(end), now_iso(start), start.date().isoformat()
        )

    def subsidiaries(self, account_id: str) -> list[Record]:
        return self._engine.subsidiaries(account_id)

    def contacts_of(self, account_id: str) -> list[Record]:
        return self._engine.contacts_of(account_id)

    def parent_chain(self, account_id: str) -> list[Record]:
        return self._engine.parent_chain(account_id)

    def hierarchy(self, account_id: str) -> TreeNode | None:
        return self._engine.hierarchy(account_id)

    def duplicates(self, table: str, fields: Record, exclude: str | None = None) -> list[Record]:
        """Existing records with the same email (any case) or the same normalised name."""
        if table not in (ACCOUNTS, CONTACTS):
            return []
        ids = set()
        name = display_name(table, fields)
        if name and name != "(no name)":
            ids |= self._engine.same_name(table, name)
        if fields.get("email"):
            ids |= self._engine.same_email(table, fields["email"])
        ids.discard(exclude or "")
        return self.records(table, sorted(ids))

    def duplicates_of_many(self, table: str, many: list[Record]) -> list[list[Record]]:
        """`duplicates` of each of `many` (an import's new records), in a few queries."""
        if table not in (ACCOUNTS, CONTACTS):
            return [[] for _ in many]
        names = [display_name(table, fields) for fields in many]
        by_name = self._engine.same_names(table, [n for n in names if n and n != "(no name)"])
        by_email = self._engine.same_emails(table, [f["email"] for f in many if f.get("email")])
        found = []
        for fields, name in zip(many, names, strict=True):
            ids = set(by_name.get(name_key(name), ())) if name and name != "(no name)" else set()
            if fields.get("email"):
                ids |= by_email.get(fields["email"].casefold(), set())
            found.append(sorted(ids))
        records = {r["id"]: r for r in self.records(table, sorted({i for f in found for i in f}))}
        return [[records[i] for i in ids if i in records] for ids in found]

    def resolve(self, table: str, reference: str) -> str:
        """An id for `reference`: an id, a source-system id, a unique name or email."""
        reference = reference.strip()
        if self._engine.get(table, reference) is not None:
            return reference
        by_source = self._engine.by_source_id(table, reference)
        if by_source:
            return by_source
        if table == ACTIVITIES:
            raise NotFoundError(f"no activity with id '{reference}'")
        ids = self._engine.same_name(table, reference) or self._engine.same_email(table, reference)
        if len(ids) == 1:
            return next(iter(ids))
        if not ids:
            raise NotFoundError(f"no {SINGULAR[table]} called '{reference}'")
        candidates = self.records(table, sorted(ids))
        listed = ", ".join(f"{display_name(table, r)} ({r['id']})" for r in candidates[:5])
        raise AmbiguousError(
            f"'{reference}' names {len(ids)} {table}: {listed}; use an id", candidates
        )

    def resolve_regarding(self, reference: str) -> tuple[str, str]:
        """(regarding_type, id) for an account or contact given by id or unique name."""
        found = self.find(reference.strip())
        if found and found[0] in TABLE_REGARDING:
            return TABLE_REGARDING[found[0]], found[1]["id"]
        matches: list[tuple[str, str]] = []
        for table in (ACCOUNTS, CONTACTS):
            try:
                matches.append((TABLE_REGARDING[table], self.resolve(table, reference)))
            except NotFoundError:
                continue
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFoundError(f"no account or contact called '{reference}'")
        raise AmbiguousError(f"'{reference}' names both an account and a contact; use an id", [])

    # ------------------------------------------------------------ writing
    def create(self, table: str, fields: Record, *, created_at: str | None = None) -> SaveResult:
        """Validate and store a new record. Raises ValidationFailed. `created_at`: the moment
        it was made (a fixture, a migration), else now."""
        result = self.apply(Batch(creates=[Create(table, fields)], stamp=created_at))
        return SaveResult(result.records[0], result.warnings)

    def update(
        self, table: str, record_id: str, changes: Record, expected_version: int | None = None
    ) -> SaveResult:
        """Apply `changes` (None or '' clears a field). With `expected_version`, refuse the save
        with ConflictError if someone else saved the record meanwhile."""
        changes = clean(table, {k: v for k, v in changes.items() if k not in SYSTEM_FIELDS})
        result = self.apply(Batch(updates=[Update(table, record_id, changes, expected_version)]))
        return SaveResult(result.records[0], result.warnings)

    def set_status(
        self, activity_id: str, status: str, expected_version: int | None = None
    ) -> SaveResult:
        """Complete, cancel or reopen an activity."""
        return self.update(ACTIVITIES, activity_id, {"status": status}, expected_version)

    def log_activity(self, activity_type: str, regarding: str, fields: Record) -> SaveResult:
        """Create an activity regarding an account or contact given by id or name."""
        regarding_type, regarding_id = self.resolve_regarding(regarding)
        return self.create(
            ACTIVITIES,
            {
                **fields,
                "type": activity_type,
                "regarding_type": regarding_type,
                "regarding_id": regarding_id,
            },
        )

    def apply(self, batch: Batch) -> BatchResult:
        """Save every item of `batch` or none, as one journal entry (one step to undo later).

        Every rule runs under the write lock against the latest committed data with the
        batch's own records in it: fields, references, hierarchy loops, versions, the choices
        a delete needs. Raises ValidationFailed, NotFoundError, ConflictError or
        DependentsError for the first item that breaks one, and then writes nothing."""
        stamp = batch.stamp or now_iso()
        batch_id = str(ULID())
        saved: list[Record] = []
        warnings: list[str] = []
        removed = restored = 0
        history: Record = {}

        def build(committed: TablesView) -> list[Op]:
            nonlocal removed, restored
            tables = _ReadAhead(committed, self._engine)
            tables.read(_wanted(batch))
            ops, puts, removed = self._batch_ops(batch, tables, stamp, batch_id)
            tables.read(_put_ids(puts))
            restore_ops, restored_puts = self._restore_ops(batch, tables, stamp)
            purge_ops = self._purge_ops(batch, tables)
            ops += restore_ops + purge_ops
            restored = len(restored_puts)
            after = _after(tables, ops)
            warnings.clear()
            for table, record in [*puts, *restored_puts]:
                errors, found = self._rules(table, record, after)
                if errors:
                    raise ValidationFailed(errors)
                warnings.extend(found)
            saved[:] = [record for _table, record in puts]
            history.clear()
            if ops:
                history["h"] = entry_for(
                    batch_id, stamp, self.user, batch.summary, ops, tables, batch.undoes
                )
            return ops

        # The entry names who deleted: someone still editing the record is told (deleted_by).
        deletion = Deletion(self.user, stamp) if batch.deletes else None
        self._engine.transact(build, deletion=deletion, extra=history)
        if batch.warn_duplicates:
            for create, record in zip(batch.creates, saved, strict=False):
                warnings.extend(self._duplicate_warnings(create.table, record))
        return BatchResult(saved, warnings, removed, batch_id, restored)

    def problems(self, batch: Batch) -> list[tuple[Create | Update, ValidationFailed]]:
        """The creates and updates of `batch` that `apply` would refuse for their fields or
        references, each with its errors, checked against the data as this process last read
        it (no lock, nothing written): for a caller that reports every problem at once and
        leaves those items out (the importer). `apply` checks again under the lock."""
        tables = _ReadAhead(tables_of(self._engine), self._engine)
        tables.read(_wanted(batch))
        ops, puts, _removed = self._batch_ops(batch, tables, batch.stamp or now_iso())
        tables.read(_put_ids(puts))
        after = _after(tables, ops)
        items: list[Create | Update] = [*batch.creates, *batch.updates]
        found = []
        for item, (table, record) in zip(items, puts, strict=True):
            errors, _warnings = self._rules(table, record, after)
            if errors:
                found.append((item, ValidationFailed(errors)))
        return found

    def new_record(
        self,
        table: str,
        fields: Record,
        *,
        record_id: str | None = None,
        created_at: str | None = None,
        stamp: str | None = None,
    ) -> Record:
        """The record a create stores: `fields` cleaned, with the defaults (owner, status,
        priority, completion) and the stamps (id, created_*, modified_*, version 1)."""
        stamp = stamp or now_iso()
        fields = self._prepare_new(table, clean(table, fields), stamp)
        record = {k: v for k, v in fields.items() if v is not None and v != ""}
        record.update(
            id=record_id or str(ULID()),
            created_at=created_at or stamp,
            created_by=self.user,
            modified_at=stamp,
            modified_by=self.user,
            version=1,
        )
        return record

    def merged_record(
        self, table: str, current: Record, changes: Record, stamp: str | None = None
    ) -> Record:
        """The record an update stores: `current` with `changes` (None or '' clears a field),
        the completion rule applied, modified_* stamped and the version one up."""
        stamp = stamp or now_iso()
        record = dict(current)
        for key, value in clean(table, changes).items():
            if key in _STAMPED:
                continue
            if value is None or value == "":
                record.pop(key, None)
            else:
                record[key] = value
        if table == ACTIVITIES:
            _stamp_completion(current, record, stamp)
        record.update(
            modified_at=stamp, modified_by=self.user, version=int(current.get("version", 0)) + 1
        )
        return record

    def _batch_ops(
        self, batch: Batch, tables: TablesView, stamp: str, batch_id: str = ""
    ) -> tuple[list[Op], list[tuple[str, Record]], int]:
        """The journal ops of `batch`, the records its creates and updates put (in their
        order), and how many records its deletes remove."""
        ops: list[Op] = []
        puts: list[tuple[str, Record]] = []
        for create in batch.creates:
            record = self.new_record(
                create.table,
                create.fields,
                record_id=create.record_id,
                created_at=create.created_at,
                stamp=stamp,
            )
            puts.append((create.table, record))
        for update in batch.updates:
            table = update.table
            current = tables[table].get(update.record_id)
            if current is None:
                if update.expected_version is not None:
                    raise ConflictError(table, update.changes, None)
                raise NotFoundError(f"no {SINGULAR[table]} with id '{update.record_id}'")
            if (
                update.expected_version is not None
                and current.get("version") != update.expected_version
            ):
                raise ConflictError(table, update.changes, current)
            puts.append((table, self.merged_record(table, current, update.changes, stamp)))
        ops.extend(("put", table, record) for table, record in puts)
        removed = 0
        # Records this batch's own saves point away from what it deletes (a merge moves the
        # other record's activities and contacts first): no longer its dependants.
        moved = set()
        for table, record in puts if batch.deletes else ():
            before = tables[table].get(record["id"]) or {}
            if any(
                before.get(name) not in (None, record.get(name))
                for name in (*self._LINKS, "regarding_id")
            ):
                moved.add(record["id"])
        for delete in batch.deletes:
            delete_ops = self._delete_ops(delete, tables, stamp, moved, _after(tables, ops))
            removed += sum(1 for op in delete_ops if op[0] == "del")
            ops.extend(self._to_trash(delete, delete_ops, tables, stamp, batch_id))
        return ops, puts, removed

    def _prepare_new(self, table: str, fields: Record, stamp: str) -> Record:
        fields = dict(fields)
        for name in SYSTEM_FIELDS:
            if name != "source_id":
                fields.pop(name, None)
        fields.setdefault("owner", self.user)
        if fields.get("owner") is None:
            fields["owner"] = self.user
        if table in (ACCOUNTS, CONTACTS):
            fields["status"] = fields.get("status") or "active"
        if table == ACTIVITIES:
            kind = fields.get("type")
            if not fields.get("status"):
                planned = kind in (ActivityType.TASK, ActivityType.APPOINTMENT)
                fields["status"] = (
                    ActivityStatus.OPEN if planned else ActivityStatus.COMPLETED
                ).value
            if kind != ActivityType.NOTE:
                fields["priority"] = fields.get("priority") or "normal"
            _stamp_completion({}, fields, stamp)
        return fields

    def _rules(
        self, table: str, record: Record, tables: Mapping[str, Mapping[str, Record]]
    ) -> tuple[list[FieldError], list[str]]:
        """What is wrong with `record` (its fields first: a reference is only looked at when
        every field is well formed), and the warnings for the user."""
        errors = validate_fields(table, record)
        if errors:
            return errors, []
        return self._reference_rules(table, record, tables)

    def _reference_rules(
        self, table: str, record: Record, tables: Mapping[str, Mapping[str, Record]]
    ) -> tuple[list[FieldError], list[str]]:
        """Reference rules, against the latest committed data with the batch in it."""
        errors: list[FieldError] = []
        warnings: list[str] = []
        if table == ACCOUNTS:
            parent_id = record.get("parent_account_id")
            if parent_id:
                if parent_id == record["id"]:
                    errors.append(
                        FieldError("parent_account_id", "an account cannot be its own parent")
                    )
                elif parent_id not in tables[ACCOUNTS]:
                    errors.append(
                        FieldError("parent_account_id", f"no account with id '{parent_id}'")
                    )
                elif self._creates_cycle(record["id"], parent_id, tables):
                    errors.append(
                        FieldError(
                            "parent_account_id",
                            f"'{display_name(ACCOUNTS, tables[ACCOUNTS][parent_id])}' is already "
                            "below this account: that would make a loop",
                        )
                    )
            contact_id = record.get("primary_contact_id")
            if contact_id:
                contact = tables[CONTACTS].get(contact_id)
                if contact is None:
                    errors.append(
                        FieldError("primary_contact_id", f"no contact with id '{contact_id}'")
                    )
                elif contact.get("account_id") != record["id"]:
                    warnings.append(
                        f"primary contact {display_name(CONTACTS, contact)} does "
                        "not belong to this account"
                    )
        elif table == CONTACTS:
            account_id = record.get("account_id")
            if account_id and account_id not in tables[ACCOUNTS]:
                errors.append(FieldError("account_id", f"no account with id '{account_id}'"))
        else:
            target_table = REGARDING_TABLE.get(record.get("regarding_type", ""))
            if target_table is None or record.get("regarding_id") not in tables[target_table]:
                errors.append(
                    FieldError(
                        "regarding_id",
                        f"no {record.get('regarding_type', 'record')} with id "
                        f"'{record.get('regarding_id')}'",
                    )
                )
        return errors, warnings

    @staticmethod
    def _creates_cycle(
        account_id: str, parent_id: str, tables: Mapping[str, Mapping[str, Record]]
    ) -> bool:
        seen = set()
        current: str | None = parent_id
        while current and current not in seen:
            if current == account_id:
                return True
            seen.add(current)
            parent = tables[ACCOUNTS].get(current)
            current = parent.get("parent_account_id") if parent else None
        return False

    def _duplicate_warnings(self, table: str, record: Record) -> list[str]:
        return [
            f"possible duplicate of {display_name(table, d)} ({d['id']})"
            for d in self.duplicates(table, record, exclude=record["id"])
        ]

    # ------------------------------------------------------------ deleting
    def dependants(
        self,
        table: str,
        record_id: str,
        moved: Collection[str] = (),
    ) -> dict[str, int]:
        """What refers to a record: counts by kind, for the delete dialog (`moved`: records
        a batch points elsewhere before it deletes this one)."""
        found = self._engine.dependant_ids(record_id)
        counts = {"activities": len(found["activities"].difference(moved))}
        if table == ACCOUNTS:
            counts["contacts"] = len(found.get("contacts", set()).difference(moved))
            counts["subsidiaries"] = len(found.get("subsidiaries", set()).difference(moved))
        return {k: v for k, v in counts.items() if v}

    def delete(
        self,
        table: str,
        record_id: str,
        *,
        contacts: str | None = None,
        subsidiaries: str | None = None,
        activities: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Delete a record. Dependants need an explicit choice, else DependentsError:
        contacts: 'detach' | 'delete'; subsidiaries: 'detach' | 'reparent' (to this account's
        parent); activities: 'delete'. With `expected_version`, refuse with ConflictError if
        the record is no longer at that version (as update). Returns how many were removed."""
        item = Delete(
            table,
            record_id,
            contacts=contacts,
            subsidiaries=subsidiaries,
            activities=activities,
            expected_version=expected_version,
        )
        return self.apply(Batch(deletes=[item])).removed

    def _delete_ops(
        self,
        delete: Delete,
        tables: TablesView,
        stamp: str,
        moved: Collection[str] = (),
        after: Mapping[str, Mapping[str, Record]] | None = None,
    ) -> list[Op]:
        """The ops of one delete: the record, and what the choices do to its dependants.
        `moved`: records the batch already points elsewhere; `after`: the tables with the
        batch's earlier saves in them."""
        after = after if after is not None else tables
        table, record_id, expected_version = delete.table, delete.record_id, delete.expected_version
        record = tables[table].get(record_id)
        if record is None:
            if expected_version is not None:
                raise ConflictError(table, {"id": record_id}, None)
            raise NotFoundError(f"no {SINGULAR[table]} with id '{record_id}'")
        if expected_version is not None and record.get("version") != expected_version:
            raise ConflictError(table, {"id": record_id}, record)
        self._require_choices(
            table, record_id, delete.contacts, delete.subsidiaries, delete.activities, moved
        )
        ops: list[Op] = []
        doomed = {record_id}
        if table == ACCOUNTS:
            for child in self.subsidiaries(record_id):
                if child["id"] in moved:
                    continue
                parent = (
                    record.get("parent_account_id") if delete.subsidiaries == "reparent" else None
                )
                ops.append(
                    (
                        "put",
                        ACCOUNTS,
                        self.merged_record(ACCOUNTS, child, {"parent_account_id": parent}, stamp),
                    )
                )
            for contact in self.contacts_of(record_id):
                if contact["id"] in moved:
                    continue
                if delete.contacts == "delete":
                    doomed.add(contact["id"])
                    ops.append(("del", CONTACTS, contact["id"]))
                else:
                    ops.append(
                        (
                            "put",
                            CONTACTS,
                            self.merged_record(CONTACTS, contact, {"account_id": None}, stamp),
                        )
                    )
        if table == ACTIVITIES:
            ops.append(("del", ACTIVITIES, record_id))
        else:
            ops.append(("del", table, record_id))
            for owner_id in doomed:
                for activity_id in sorted(self._engine.dependant_ids(owner_id)["activities"]):
                    if activity_id not in moved:
                        ops.append(("del", ACTIVITIES, activity_id))
            # A subsidiary put above may name a doomed contact too: amend that put, or
            # the second put would bring back its old parent.
            puts = {op[2]["id"]: op[2] for op in ops if op[:2] == ("put", ACCOUNTS)}
            for account in self._primary_contact_of(doomed, after) if table != ACTIVITIES else ():
                if account["id"] not in doomed:
                    if account["id"] in puts:
                        puts[account["id"]].pop("primary_contact_id", None)
                    else:
                        ops.append(
                            (
                                "put",
                                ACCOUNTS,
                                self.merged_record(
                                    ACCOUNTS, account, {"primary_contact_id": None}, stamp
                                ),
                            )
                        )
        return ops

    def _primary_contact_of(
        self, contact_ids: set[str], after: Mapping[str, Mapping[str, Record]]
    ) -> list[Record]:
        """Accounts (as the batch leaves them so far) whose primary contact is one of
        `contact_ids`, by id."""
        accounts = after[ACCOUNTS]
        ids = {a["id"] for a in self._engine.accounts_with_primary_contact(contact_ids)}
        if isinstance(accounts, _Pending):
            ids |= {rid for rid, record in accounts.changed.items() if record is not None}
        found = [accounts.get(rid) for rid in sorted(ids)]
        return [a for a in found if a is not None and a.get("primary_contact_id") in contact_ids]

    # ------------------------------------------------------------ trash
    _LINKS = ("parent_account_id", "account_id", "primary_contact_id")

    def _to_trash(
        self, delete: Delete, ops: list[Op], tables: TablesView, stamp: str, batch_id: str
    ) -> list[Op]:
        """A delete's ops with every removed record moved to the trash, and the links the
        delete cleared (detached contacts, subsidiaries, primary contact) noted on the
        deleted record's entry, so that a restore puts them back."""
        removed = [(table, rid) for kind, table, rid in ops if kind == "del"]
        relinks = []
        for kind, table, payload in ops:
            if kind != "put":
                continue
            old = tables[table].get(payload["id"], {})
            for name in self._LINKS:
                if old.get(name) and not payload.get(name):
                    relinks.append([table, payload["id"], name, old[name]])
        moved: list[Op] = list(ops)
        for table, rid in removed:
            entry: Record = {
                "id": rid,
                "table": table,
                "record": tables[table][rid],
                "batch": batch_id,
                "root": delete.record_id,
                "deleted_by": self.user,
                "deleted_at": stamp,
            }
            if rid == delete.record_id:
                entry["dependants"] = len(removed) - 1
                if relinks:
                    entry["relinks"] = relinks
                if delete.merged_into:
                    entry["merged_into"] = delete.merged_into
            moved.append(("put", TRASH, entry))
        return moved

    def _restore_ops(
        self, batch: Batch, tables: TablesView, stamp: str
    ) -> tuple[list[Op], list[tuple[str, Record]]]:
        """Ops bringing back each asked-for record with everything deleted with it, versions
        continuing and cleared links put back where nobody has set them since."""
        if not batch.restores:
            return [], []
        trash = tables[TRASH]
        batches: list[str] = []
        for rid in batch.restores:
            entry = trash.get(rid)
            if entry is None:
                raise NotFoundError(f"'{rid}' is not in the trash")
            if entry["batch"] not in batches:
                batches.append(entry["batch"])
        while True:
            group = {e["id"]: e for e in self._engine.trash_entries(batches=batches)}
            needed = {
                trash[target]["batch"]
                for e in group.values()
                for target in _needs(e["table"], e["record"])
                if target in trash and target not in group
            }
            if not needed:
                break
            if not batch.restore_parents:
                names = sorted(
                    _trashed_name(trash[t])
                    for e in group.values()
                    for t in _needs(e["table"], e["record"])
                    if t in trash and t not in group
                )
                raise TrashedParentError(
                    f"it needs {', '.join(names)}, which is in the trash too: restore that "
                    "first, or restore both (--with-parents)",
                    names,
                )
            batches.extend(needed)
        ops: list[Op] = []
        puts: list[tuple[str, Record]] = []
        for entry in group.values():
            record = dict(entry["record"])
            record.update(
                modified_at=stamp,
                modified_by=self.user,
                version=int(record.get("version", 0)) + 1,
            )
            puts.append((entry["table"], record))
            ops += [("put", entry["table"], record), ("del", TRASH, entry["id"])]
        restored = {record["id"]: record for _table, record in puts}
        for entry in group.values():
            for table, rid, name, value in entry.get("relinks", ()):
                current = restored.get(rid) or tables[table].get(rid)
                if (
                    current is None
                    or current.get(name)
                    or value
                    not in (restored.keys() | tables[ACCOUNTS].keys() | tables[CONTACTS].keys())
                ):
                    continue  # gone, or linked elsewhere since: their choice stands
                relinked = self.merged_record(table, current, {name: value}, stamp)
                if rid in restored:
                    restored[rid].update(relinked, version=restored[rid]["version"])
                else:
                    ops.append(("put", table, relinked))
        return ops, puts

    def _purge_ops(self, batch: Batch, tables: TablesView) -> list[Op]:
        trash = tables[TRASH]
        batches = set()
        for rid in batch.purges:
            if rid not in trash:
                raise NotFoundError(f"'{rid}' is not in the trash")
            batches.add(trash[rid]["batch"])
        return [("del", TRASH, e["id"]) for e in self._engine.trash_entries(batches=batches)]

    def trash(self, *, older_than: timedelta | None = None) -> list[TrashEntry]:
        """What the user deleted (each deleted record, not its dependants), newest first;
        with `older_than`, only what was deleted longer ago than that."""
        limit = now_iso(datetime.now(UTC) - older_than) if older_than is not None else None
        entries = [
            _trash_entry(e)
            for e in self._engine.trash_entries(roots_only=True)
            if limit is None or e.get("deleted_at", "") < limit
        ]
        return sorted(entries, key=lambda e: (e.deleted_at, e.record_id), reverse=True)

    def in_trash(self, record_id: str) -> TrashEntry | None:
        entry = self._engine.get(TRASH, record_id)
        return None if entry is None else _trash_entry(entry)

    def restore(self, record_id: str, *, with_parents: bool = False) -> BatchResult:
        """Bring back a record from the trash with everything deleted with it."""
        return self.apply(Batch(restores=[record_id], restore_parents=with_parents))

    def purge(self, record_ids: Iterable[str] = (), *, older_than: timedelta | None = None) -> int:
        """Delete trash entries for good (each with what was deleted with it); returns how
        many records went."""
        ids = list(record_ids)
        if older_than is not None:
            ids += [e.record_id for e in self.trash(older_than=older_than)]
        if not ids:
            return 0
        before = self._engine.count(TRASH)
        self.apply(Batch(purges=ids))
        return before - self._engine.count(TRASH)

    # ------------------------------------------------------------ history and undo
    def history(
        self,
        record_id: str | None = None,
        *,
        user: str | None = None,
        since: str | None = None,
    ) -> list[HistoryEntry]:
        """Every change (of one record, by one user, since an ISO moment), newest first."""
        entries = []
        for raw in self._engine.history_entries(record_id, user, since):
            entry = parse_history(raw)
            if record_id is not None and not entry.concerns(record_id):
                continue
            if user is not None and entry.by != user:
                continue
            if since is not None and entry.at < since:
                continue
            entries.append(entry)
        return sorted(entries, key=lambda e: (e.at, e.batch_id), reverse=True)

    def undoable(self) -> list[HistoryEntry]:
        """This user's changes that can still be undone, newest first: neither undos nor
        undone (an undo is undone by name: `undo(batch_id)`)."""
        mine = self.history(user=self.user)
        undone = {e.undoes for e in mine if e.undoes}
        return [e for e in mine if not e.undoes and e.batch_id not in undone]

    def undo(self, batch_id: str | None = None) -> tuple[HistoryEntry, BatchResult]:
        """Undo one change (default: this user's last one that is not undone) as a new
        change of its own. Refused with UndoConflict when a record it touched was changed
        since (by whom), so that nobody's later work is overwritten."""
        if batch_id is None:
            candidates = self.undoable()
            if not candidates:
                raise NotFoundError("nothing of yours to undo")
            entry = candidates[0]
        else:
            found = [e for e in self.history() if e.batch_id == batch_id]
            if not found:
                raise NotFoundError(f"no change '{batch_id}' in the history")
            entry = found[0]
        batch = self._inverse(entry)
        try:
            return entry, self.apply(batch)
        except ConflictError as error:
            theirs = error.theirs or {}
            raise UndoConflict(
                f'cannot undo "{entry.summary}": {SINGULAR.get(error.table, error.table)} '
                f"{display_name(error.table, theirs) if theirs else ''} was changed since by "
                f"{theirs.get('modified_by', 'someone')}; nothing was changed"
            ) from None

    def _inverse(self, entry: HistoryEntry) -> Batch:
        batch = Batch(summary=f"undo: {entry.summary}", undoes=entry.batch_id)
        tables = tables_of(self._engine)
        created = {c.record_id for c in entry.changes if c.action == "create"}
        restores: set[str] = set()
        others = self._changed_by_others_since(entry)
        for change in reversed(entry.changes):
            table, rid = change.table, change.record_id
            current = tables[table].get(rid) if table in tables else None
            if rid in others:
                raise UndoConflict(
                    f'cannot undo "{entry.summary}": {SINGULAR.get(table, table)} '
                    f"{change.name} was changed since by {others[rid]}; nothing was changed"
                )
            # Your own later changes do not stand in the way; the version seen now guards
            # against a save landing between this check and the undo.
            version = current.get("version") if current else None
            if change.action in ("create", "restore"):
                if current is None:
                    continue  # gone already (deleted with a record undone here)
                if change.action == "restore" and change.root not in (None, rid):
                    continue  # goes back to the trash with its root
                if _depends_on_any(table, current, created) and change.action == "create":
                    continue  # deleted with the created record it belongs to
                batch.deletes.append(
                    Delete(
                        table,
                        rid,
                        contacts="delete",
                        activities="delete",
                        subsidiaries="detach",
                        expected_version=version,
                    )
                )
            elif change.action == "update":
                if current is None:
                    raise UndoConflict(
                        f'cannot undo "{entry.summary}": {change.name} was deleted since; '
                        "restore it first"
                    )
                changes = {name: old for name, (old, _new) in change.fields.items()}
                batch.updates.append(Update(table, rid, changes, version))
            elif change.action == "delete":
                root = change.root or rid
                if root not in tables[TRASH]:
                    raise UndoConflict(
                        f'cannot undo "{entry.summary}": {change.name} was purged from the '
                        "trash since; nothing was changed"
                    )
                restores.add(root)
            elif change.action == "purge":
                raise UndoConflict(
                    f'cannot undo "{entry.summary}": purged records are gone for good'
                )
        batch.restores = sorted(restores)
        for delete in batch.deletes:
            self._refuse_others_dependants(delete, created, entry)
        return batch

    def _changed_by_others_since(self, entry: HistoryEntry) -> dict[str, str]:
        """Record id -> who (not this user) changed it after `entry`: an undo must not
        overwrite their work."""
        others: dict[str, str] = {}
        ids = {c.record_id for c in entry.changes}
        for later in self.history(since=entry.at):
            if later.batch_id == entry.batch_id or (later.at, later.batch_id) < (
                entry.at,
                entry.batch_id,
            ):
                continue
            if later.by != self.user:
                for change in later.changes:
                    if change.record_id in ids:
                        others.setdefault(change.record_id, later.by)
        return others

    def _refuse_others_dependants(
        self, delete: Delete, created: set[str], entry: HistoryEntry
    ) -> None:
        """Undoing a create removes the record: not if someone has since attached records of
        their own to it (their work would go to the trash with it)."""
        if delete.record_id not in created:
            return
        found = self._engine.dependant_ids(delete.record_id)
        owned = found["activities"] | found.get("contacts", set())
        strangers = owned - created
        if strangers:
            raise UndoConflict(
                f'cannot undo "{entry.summary}": '
                f"{counted(len(strangers), 'record')} added since belong to what it created; "
                "nothing was changed"
            )

    def deleted_by(self, record_id: str) -> Deletion | None:
        """Who deleted a record and when: from its trash entry, or, once purged, from the
        journal entry this process read."""
        entry = self._engine.get(TRASH, record_id)
        if entry is not None:
            return Deletion(entry.get("deleted_by", ""), entry.get("deleted_at", ""))
        return self._engine.deleted_by(record_id)

    def _require_choices(
        self,
        table: str,
        record_id: str,
        contacts: str | None,
        subsidiaries: str | None,
        activities: str | None,
        moved: Collection[str] = (),
    ) -> None:
        counts = self.dependants(table, record_id, moved)
        missing = []
        if counts.get("contacts") and contacts not in ("detach", "delete"):
            missing.append(f"{counted(counts['contacts'], 'contact')} (detach or delete)")
        if counts.get("subsidiaries") and subsidiaries not in ("detach", "reparent"):
            missing.append(f"{counted(counts['subsidiaries'], 'subsidiary')} (detach or reparent)")
        doomed_activities = counts.get("activities", 0)
        if contacts == "delete":
            doomed_activities += sum(
                len(self._engine.dependant_ids(c["id"])["activities"])
                for c in self.contacts_of(record_id)
            )
        if doomed_activities and activities != "delete":
            missing.append(f"{counted(doomed_activities, 'activity')} (delete)")
        if missing:
            raise DependentsError(
                f"this {SINGULAR[table]} has "
                + ", ".join(missing)
                + ": choose what happens to them, or deactivate it instead",
                counts,
            )

    # ------------------------------------------------------------ sync and upkeep
    def refresh(self) -> list[Change]:
        """Take in other users' changes; returns what changed."""
        return self._engine.refresh()

    @property
    def wakes(self) -> bool:
        """Whether `wait_for_changes` hears of other users' saves as they happen."""
        return self._engine.wakes

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until another user may have saved (then `refresh()`), or `timeout` passed."""
        return self._engine.wait_for_changes(timeout)

    def compact(self) -> None:
        self._engine.compact()

    def compact_if_needed(self) -> bool:
        if self._engine.needs_compaction():
            self._engine.compact()
            return True
        return False

    def replace_all(self, tables: Tables) -> None:
        self._engine.replace_all(tables)

    def check(self) -> list[Problem]:
        """Integrity report: dangling references, cycles and invalid fields."""
        tables = tables_of(self._engine)
        problems: list[Problem] = []
        for table in RECORD_TABLES:
            for record in tables[table].values():
                for error in validate_fields(table, record):
                    problems.append(Problem(table, record["id"], str(error)))
        for account in tables[ACCOUNTS].values():
            parent = account.get("parent_account_id")
            if parent and parent not in tables[ACCOUNTS]:
                problems.append(
                    Problem(ACCOUNTS, account["id"], f"parent_account_id: no account '{parent}'")
                )
            elif parent and self._creates_cycle(account["id"], parent, tables):
                problems.append(
                    Problem(ACCOUNTS, account["id"], "parent_account_id: the hierarchy has a loop")
                )
            primary = account.get("primary_contact_id")
            if primary and primary not in tables[CONTACTS]:
                problems.append(
                    Problem(ACCOUNTS, account["id"], f"primary_contact_id: no contact '{primary}'")
                )
        for contact in tables[CONTACTS].values():
            account_id = contact.get("account_id")
            if account_id and account_id not in tables[ACCOUNTS]:
                problems.append(
                    Problem(CONTACTS, contact["id"], f"account_id: no account '{account_id}'")
                )
        for activity in tables[ACTIVITIES].values():
            target = REGARDING_TABLE.get(activity.get("regarding_type", ""))
            if target is None or activity.get("regarding_id") not in tables[target]:
                problems.append(
                    Problem(
                        ACTIVITIES,
                        activity["id"],
                        f"regarding_id: no {activity.get('regarding_type')} "
                        f"'{activity.get('regarding_id')}'",
                    )
                )
        return problems

    def check_derived(self) -> list[str]:
        """What `crm check` says of the data derived beside the database (a file's index):
        compared with the database and repaired when out of step."""
        return self._engine.check_derived()

    def close(self) -> None:
        """Nothing is buffered (every write is durable when acknowledged); fold the journal in
        when it has grown large so that the next start is quick."""
        self._engine.close()
