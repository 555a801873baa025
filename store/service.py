"""The CRM service: the one API that the TUI and the command line call.

It owns the rules that span records (references, cycles, duplicates, deletion of dependants,
activity status) and stamps every save with who, when and a version; storage makes it durable.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ulid import ULID

from store.files import database_file_mode
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    SINGULAR,
    SYSTEM_FIELDS,
    ActivityStatus,
    ActivityType,
    FieldError,
    RegardingType,
    ValidationFailed,
    brief,
    clean,
    display_name,
    validate_fields,
)
from store.queries import AgendaBuckets, Indexes, ListQuery, TimelineQuery, TreeNode
from store.storage import Change, Database, Deletion, Op, Record, Tables
from store.text import counted

REGARDING_TABLE = {RegardingType.ACCOUNT: ACCOUNTS, RegardingType.CONTACT: CONTACTS}
TABLE_REGARDING = {ACCOUNTS: RegardingType.ACCOUNT.value, CONTACTS: RegardingType.CONTACT.value}


class NotFoundError(LookupError):
    """No record answers to a reference; the message is for the user."""


class AmbiguousError(LookupError):
    def __init__(self, message: str, candidates: list[Record]) -> None:
        super().__init__(message)
        self.candidates = candidates


class ConflictError(Exception):
    """Someone else saved the record since it was read; `theirs` is what is stored now."""

    def __init__(self, table: str, mine: Record, theirs: Record | None) -> None:
        who = (theirs or {}).get("modified_by", "someone")
        what = "deleted" if theirs is None else f"changed by {who}"
        super().__init__(f"this {SINGULAR[table]} was {what} since you opened it")
        self.table, self.mine, self.theirs = table, mine, theirs


class DependentsError(Exception):
    """A delete would orphan other records; the caller must choose what happens to them."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


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


class CRM:
    """Accounts, contacts and activities in one database file."""

    def __init__(self, path: str | os.PathLike[str], *, user: str | None = None,
                 group_writable: bool = False, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.user = user or current_user()
        self.database = Database(path, group_writable=group_writable, lock_timeout=lock_timeout)
        self.indexes = Indexes(self.database)
        self.database.subscribe(self.indexes)

    @classmethod
    def open(cls, path: str | os.PathLike[str], **kwargs: Any) -> CRM:
        """Open (creating if needed) and load everything."""
        crm = cls(path, **kwargs)
        crm.database.open()
        return crm

    @classmethod
    def open_for_reading(cls, path: str | os.PathLike[str], tables: tuple[str, ...],
                         **kwargs: Any) -> CRM:
        """Open with only `tables` read (listing accounts need not parse 250k activities).
        Nothing can be saved through it."""
        crm = cls(path, **kwargs)
        crm.database.open(defer=tuple(t for t in (CONTACTS, ACTIVITIES) if t not in tables))
        crm.database.partial = True
        return crm

    def open_for_screen(self) -> None:
        """Load what the first screen needs (accounts); call `finish_loading()` in a worker
        afterwards for contacts and activities. `ready` tells when everything is there."""
        self.database.open(defer=(CONTACTS, ACTIVITIES))

    def finish_loading(self) -> None:
        self.database.load_deferred()
        self.indexes.warm()

    @property
    def ready(self) -> bool:
        return self.database.activities_loaded.is_set()

    # ------------------------------------------------------------ reading
    def get(self, table: str, record_id: str) -> Record | None:
        return self.database.tables[table].get(record_id)

    def count(self, table: str) -> int:
        return len(self.database.tables[table])

    def find(self, record_id: str) -> tuple[str, Record] | None:
        """The table and record for an id of any kind."""
        for table in RECORD_TABLES:
            record = self.database.tables[table].get(record_id)
            if record is not None:
                return table, record
        return None

    def name_of(self, table: str, record_id: str | None) -> str:
        record = self.get(table, record_id) if record_id else None
        return display_name(table, record) if record else ""

    def regarding_name(self, activity: Record) -> str:
        table = REGARDING_TABLE.get(activity.get("regarding_type", ""), ACCOUNTS)
        return self.name_of(table, activity.get("regarding_id"))

    def describe(self, table: str, record: Record) -> str:
        """What tells `record` apart from others with the same name (pickers, the palette,
        ambiguous references): `Contoso · joao@contoso.example`, `Leeds`."""
        account = self.name_of(ACCOUNTS, record.get("account_id")) if table == CONTACTS else ""
        return brief(table, record, account)

    def search(self, table: str, query: ListQuery | None = None) -> list[str]:
        """Ids of accounts or contacts that match, sorted as asked."""
        return self.indexes.search_ids(table, query or ListQuery())

    def all(self, table: str) -> Mapping[str, Record]:
        """Every record of `table` by id: a live, read-only view (do not keep it across saves
        if you need a snapshot; copy it)."""
        return MappingProxyType(self.database.tables[table])

    @property
    def generation(self) -> int:
        """Bumped by every change this process has taken in (its own or other users'): a
        cheap "has anything changed since?" for caches and screens."""
        return self.indexes.generation

    def by_source_id(self, table: str, source_id: str) -> str | None:
        """The id of the record imported with the source system's id `source_id`."""
        return self.indexes.by_source_id[table].get(source_id)

    def same_name(self, table: str, name: str) -> set[str]:
        """Ids of accounts or contacts whose normalised name is `name`'s."""
        return self.indexes.same_name(table, name)

    def search_activities(self, text: str = "", *, types: Collection[str] | None = None,
                          statuses: Collection[str] | None = None) -> list[Record]:
        """Activities whose subject or description has every word of `text` (any case and
        accent), of those types and statuses (None: any), newest first."""
        return self.indexes.search_activities(text, types=types, statuses=statuses)

    def file_mode(self) -> int:
        """The mode for a file written beside the database (exports): its group's, or private."""
        return database_file_mode(self.database)

    def records(self, table: str, ids: Iterable[str]) -> list[Record]:
        records = self.database.tables[table]
        return [records[i] for i in ids if i in records]

    def timeline(self, record_id: str, query: TimelineQuery | None = None) -> list[Record]:
        return self.indexes.timeline(record_id, query or TimelineQuery())

    def agenda(self, owner: str | None = None, now: datetime | None = None) -> AgendaBuckets:
        """Open tasks and appointments of `owner` (None: everyone's) around `now`; "today" is
        the day of `now` in its own time zone (the machine's when `now` is naive or None)."""
        local_now = now if now is not None and now.tzinfo is not None else \
            (now or datetime.now()).astimezone()
        start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        return self.indexes.agenda(owner, now_iso(local_now), now_iso(end), now_iso(start),
                                   start.date().isoformat())

    def subsidiaries(self, account_id: str) -> list[Record]:
        return self.indexes.subsidiaries(account_id)

    def contacts_of(self, account_id: str) -> list[Record]:
        return self.indexes.contacts_of_account(account_id)

    def parent_chain(self, account_id: str) -> list[Record]:
        return self.indexes.parent_chain(account_id)

    def hierarchy(self, account_id: str) -> TreeNode | None:
        return self.indexes.hierarchy(account_id)

    def duplicates(self, table: str, fields: Record, exclude: str | None = None) -> list[Record]:
        """Existing records with the same email (any case) or the same normalised name."""
        if table not in (ACCOUNTS, CONTACTS):
            return []
        ids = set()
        name = display_name(table, fields)
        if name and name != "(no name)":
            ids |= self.indexes.same_name(table, name)
        if fields.get("email"):
            ids |= self.indexes.same_email(table, fields["email"])
        ids.discard(exclude or "")
        return self.records(table, sorted(ids))

    def resolve(self, table: str, reference: str) -> str:
        """An id for `reference`: an id, a source-system id, a unique name or email."""
        reference = reference.strip()
        records = self.database.tables[table]
        if reference in records:
            return reference
        by_source = self.indexes.by_source_id[table].get(reference)
        if by_source:
            return by_source
        if table == ACTIVITIES:
            raise NotFoundError(f"no activity with id '{reference}'")
        ids = self.indexes.same_name(table, reference) or self.indexes.same_email(table, reference)
        if len(ids) == 1:
            return next(iter(ids))
        if not ids:
            raise NotFoundError(f"no {SINGULAR[table]} called '{reference}'")
        candidates = self.records(table, sorted(ids))
        listed = ", ".join(f"{display_name(table, r)} ({r['id']})" for r in candidates[:5])
        raise AmbiguousError(f"'{reference}' names {len(ids)} {table}: {listed}; use an id",
                             candidates)

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
    def create(self, table: str, fields: Record, *, created_at: str | None = None
               ) -> SaveResult:
        """Validate and store a new record. Raises ValidationFailed."""
        fields = self._prepare_new(table, clean(table, fields))
        stamp = created_at or now_iso()
        record = {k: v for k, v in fields.items() if v is not None and v != ""}
        record.update(id=str(ULID()), created_at=stamp, created_by=self.user,
                      modified_at=stamp, modified_by=self.user, version=1)
        self._check(table, record)
        warnings: list[str] = []

        def build(tables: Tables) -> list[Op]:
            warnings[:] = self._check_references(table, record, tables)
            return [("put", table, record)]

        self.database.transact(build)
        return SaveResult(record, warnings + self._duplicate_warnings(table, record))

    def update(self, table: str, record_id: str, changes: Record,
               expected_version: int | None = None) -> SaveResult:
        """Apply `changes` (None or '' clears a field). With `expected_version`, refuse the save
        with ConflictError if someone else saved the record meanwhile."""
        changes = clean(table, {k: v for k, v in changes.items() if k not in SYSTEM_FIELDS})
        warnings: list[str] = []
        saved: list[Record] = []

        def build(tables: Tables) -> list[Op]:
            current = tables[table].get(record_id)
            if current is None:
                if expected_version is not None:
                    raise ConflictError(table, changes, None)
                raise NotFoundError(f"no {SINGULAR[table]} with id '{record_id}'")
            if expected_version is not None and current.get("version") != expected_version:
                raise ConflictError(table, changes, current)
            record = self._merged(table, current, changes)
            self._check(table, record)
            warnings[:] = self._check_references(table, record, tables)
            saved.append(record)
            return [("put", table, record)]

        self.database.transact(build)
        return SaveResult(saved[0], warnings)

    def _merged(self, table: str, current: Record, changes: Record) -> Record:
        record = dict(current)
        for key, value in changes.items():
            if value is None or value == "":
                record.pop(key, None)
            else:
                record[key] = value
        if table == ACTIVITIES:
            self._stamp_completion(current, record)
        record.update(modified_at=now_iso(), modified_by=self.user,
                      version=int(current.get("version", 0)) + 1)
        return record

    @staticmethod
    def _stamp_completion(before: Record, record: Record) -> None:
        if record.get("status", ActivityStatus.OPEN) == ActivityStatus.COMPLETED:
            newly = before.get("status") != ActivityStatus.COMPLETED
            stamp = record.get("completed_at")
            if not stamp or (newly and stamp == before.get("completed_at")):
                record["completed_at"] = now_iso()
        else:
            record.pop("completed_at", None)

    def set_status(self, activity_id: str, status: str, expected_version: int | None = None
                   ) -> SaveResult:
        """Complete, cancel or reopen an activity."""
        return self.update(ACTIVITIES, activity_id, {"status": status}, expected_version)

    def log_activity(self, activity_type: str, regarding: str, fields: Record) -> SaveResult:
        """Create an activity regarding an account or contact given by id or name."""
        regarding_type, regarding_id = self.resolve_regarding(regarding)
        return self.create(ACTIVITIES, {**fields, "type": activity_type,
                                        "regarding_type": regarding_type,
                                        "regarding_id": regarding_id})

    def _prepare_new(self, table: str, fields: Record) -> Record:
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
                fields["status"] = (ActivityStatus.OPEN if planned
                                    else ActivityStatus.COMPLETED).value
            if kind != ActivityType.NOTE:
                fields["priority"] = fields.get("priority") or "normal"
            if fields["status"] == ActivityStatus.COMPLETED and not fields.get("completed_at"):
                fields["completed_at"] = now_iso()
            if fields["status"] != ActivityStatus.COMPLETED:
                fields.pop("completed_at", None)
        return fields

    def _check(self, table: str, record: Record) -> None:
        errors = validate_fields(table, record)
        if errors:
            raise ValidationFailed(errors)

    def _check_references(self, table: str, record: Record, tables: Tables) -> list[str]:
        """Reference rules, checked against the latest committed data. Returns warnings."""
        errors: list[FieldError] = []
        warnings: list[str] = []
        if table == ACCOUNTS:
            parent_id = record.get("parent_account_id")
            if parent_id:
                if parent_id == record["id"]:
                    errors.append(FieldError("parent_account_id",
                                             "an account cannot be its own parent"))
                elif parent_id not in tables[ACCOUNTS]:
                    errors.append(FieldError("parent_account_id",
                                             f"no account with id '{parent_id}'"))
                elif self._creates_cycle(record["id"], parent_id, tables):
                    errors.append(FieldError(
                        "parent_account_id",
                        f"'{display_name(ACCOUNTS, tables[ACCOUNTS][parent_id])}' is already "
                        "below this account: that would make a loop"))
            contact_id = record.get("primary_contact_id")
            if contact_id:
                contact = tables[CONTACTS].get(contact_id)
                if contact is None:
                    errors.append(FieldError("primary_contact_id",
                                             f"no contact with id '{contact_id}'"))
                elif contact.get("account_id") != record["id"]:
                    warnings.append(f"primary contact {display_name(CONTACTS, contact)} does "
                                    "not belong to this account")
        elif table == CONTACTS:
            account_id = record.get("account_id")
            if account_id and account_id not in tables[ACCOUNTS]:
                errors.append(FieldError("account_id", f"no account with id '{account_id}'"))
        else:
            target_table = REGARDING_TABLE.get(record.get("regarding_type", ""))
            if target_table is None or record.get("regarding_id") not in tables[target_table]:
                errors.append(FieldError(
                    "regarding_id",
                    f"no {record.get('regarding_type', 'record')} with id "
                    f"'{record.get('regarding_id')}'"))
        if errors:
            raise ValidationFailed(errors)
        return warnings

    @staticmethod
    def _creates_cycle(account_id: str, parent_id: str, tables: Tables) -> bool:
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
        return [f"possible duplicate of {display_name(table, d)} ({d['id']})"
                for d in self.duplicates(table, record, exclude=record["id"])]

    # ------------------------------------------------------------ deleting
    def dependants(self, table: str, record_id: str) -> dict[str, int]:
        """What refers to a record: counts by kind, for the delete dialog."""
        counts = {"activities": len(self.indexes.activities_of.get(record_id, ()))}
        if table == ACCOUNTS:
            counts["contacts"] = len(self.indexes.contacts_of.get(record_id, ()))
            counts["subsidiaries"] = len(self.indexes.children.get(record_id, ()))
        return {k: v for k, v in counts.items() if v}

    def delete(self, table: str, record_id: str, *, contacts: str | None = None,
               subsidiaries: str | None = None, activities: str | None = None,
               expected_version: int | None = None) -> int:
        """Delete a record. Dependants need an explicit choice, else DependentsError:
        contacts: 'detach' | 'delete'; subsidiaries: 'detach' | 'reparent' (to this account's
        parent); activities: 'delete'. With `expected_version`, refuse with ConflictError if
        the record is no longer at that version (as update). Returns how many were removed."""
        removed = 0

        def build(tables: Tables) -> list[Op]:
            nonlocal removed
            record = tables[table].get(record_id)
            if record is None:
                if expected_version is not None:
                    raise ConflictError(table, {"id": record_id}, None)
                raise NotFoundError(f"no {SINGULAR[table]} with id '{record_id}'")
            if expected_version is not None and record.get("version") != expected_version:
                raise ConflictError(table, {"id": record_id}, record)
            self._require_choices(table, record_id, contacts, subsidiaries, activities)
            ops: list[Op] = []
            doomed = {record_id}
            if table == ACCOUNTS:
                for child in self.subsidiaries(record_id):
                    parent = record.get("parent_account_id") if subsidiaries == "reparent" \
                        else None
                    ops.append(("put", ACCOUNTS, self._merged(
                        ACCOUNTS, child, {"parent_account_id": parent})))
                for contact in self.contacts_of(record_id):
                    if contacts == "delete":
                        doomed.add(contact["id"])
                        ops.append(("del", CONTACTS, contact["id"]))
                    else:
                        ops.append(("put", CONTACTS, self._merged(
                            CONTACTS, contact, {"account_id": None})))
            if table == ACTIVITIES:
                ops.append(("del", ACTIVITIES, record_id))
            else:
                ops.append(("del", table, record_id))
                for owner_id in doomed:
                    for activity_id in self.indexes.activities_of.get(owner_id, ()):
                        ops.append(("del", ACTIVITIES, activity_id))
                # A subsidiary put above may name a doomed contact too: amend that put, or
                # the second put would bring back its old parent.
                puts = {op[2]["id"]: op[2] for op in ops if op[:2] == ("put", ACCOUNTS)}
                for account in tables[ACCOUNTS].values() if table != ACTIVITIES else ():
                    if account.get("primary_contact_id") in doomed and account["id"] not in doomed:
                        if account["id"] in puts:
                            puts[account["id"]].pop("primary_contact_id", None)
                        else:
                            ops.append(("put", ACCOUNTS, self._merged(
                                ACCOUNTS, account, {"primary_contact_id": None})))
            removed = sum(1 for op in ops if op[0] == "del")
            return ops

        # The entry names who deleted: someone still editing the record is told (deleted_by).
        self.database.transact(build, deletion=Deletion(self.user, now_iso()))
        return removed

    def deleted_by(self, record_id: str) -> Deletion | None:
        """Who deleted a record and when, if this process has read that delete in the journal
        (a delete folded into the base by compaction is not remembered)."""
        return self.database.deleted_by(record_id)

    def _require_choices(self, table: str, record_id: str, contacts: str | None,
                         subsidiaries: str | None, activities: str | None) -> None:
        counts = self.dependants(table, record_id)
        missing = []
        if counts.get("contacts") and contacts not in ("detach", "delete"):
            missing.append(f"{counted(counts['contacts'], 'contact')} (detach or delete)")
        if counts.get("subsidiaries") and subsidiaries not in ("detach", "reparent"):
            missing.append(f"{counted(counts['subsidiaries'], 'subsidiary')} "
                           "(detach or reparent)")
        doomed_activities = counts.get("activities", 0)
        if contacts == "delete":
            doomed_activities += sum(len(self.indexes.activities_of.get(c["id"], ()))
                                     for c in self.contacts_of(record_id))
        if doomed_activities and activities != "delete":
            missing.append(f"{counted(doomed_activities, 'activity')} (delete)")
        if missing:
            raise DependentsError(
                f"this {SINGULAR[table]} has " + ", ".join(missing)
                + ": choose what happens to them, or deactivate it instead", counts)

    # ------------------------------------------------------------ sync and upkeep
    def refresh(self) -> list[Change]:
        """Take in other users' changes; returns what changed."""
        return self.database.refresh()

    def compact(self) -> None:
        self.database.compact()

    def compact_if_needed(self) -> bool:
        if self.database.needs_compaction():
            self.database.compact()
            return True
        return False

    def replace_all(self, tables: Tables) -> None:
        self.database.replace_all(tables)

    def check(self) -> list[Problem]:
        """Integrity report: dangling references, cycles and invalid fields."""
        tables = self.database.tables
        problems: list[Problem] = []
        for table in RECORD_TABLES:
            for record in tables[table].values():
                for error in validate_fields(table, record):
                    problems.append(Problem(table, record["id"], str(error)))
        for account in tables[ACCOUNTS].values():
            parent = account.get("parent_account_id")
            if parent and parent not in tables[ACCOUNTS]:
                problems.append(Problem(ACCOUNTS, account["id"],
                                        f"parent_account_id: no account '{parent}'"))
            elif parent and self._creates_cycle(account["id"], parent, tables):
                problems.append(Problem(ACCOUNTS, account["id"],
                                        "parent_account_id: the hierarchy has a loop"))
            primary = account.get("primary_contact_id")
            if primary and primary not in tables[CONTACTS]:
                problems.append(Problem(ACCOUNTS, account["id"],
                                        f"primary_contact_id: no contact '{primary}'"))
        for contact in tables[CONTACTS].values():
            account_id = contact.get("account_id")
            if account_id and account_id not in tables[ACCOUNTS]:
                problems.append(Problem(CONTACTS, contact["id"],
                                        f"account_id: no account '{account_id}'"))
        for activity in tables[ACTIVITIES].values():
            target = REGARDING_TABLE.get(activity.get("regarding_type", ""))
            if target is None or activity.get("regarding_id") not in tables[target]:
                problems.append(Problem(ACTIVITIES, activity["id"],
                                        f"regarding_id: no {activity.get('regarding_type')} "
                                        f"'{activity.get('regarding_id')}'"))
        return problems

    def close(self) -> None:
        """Nothing is buffered (every write is durable when acknowledged); fold the journal in
        when it has grown large so that the next start is quick."""
        if self.ready:  # a compaction needs every table in memory
            self.compact_if_needed()
