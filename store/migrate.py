"""Copying a whole database between engines (`crm migrate`, `crm export database`).

A migration copies documents, never re-saves them: every record keeps its id, version,
stamps and every field as stored (nothing is validated or stamped again), the trash keeps its
entries, and every history entry lands as it was written, so that undo, restore and "who
changed this" go on working on the copy. The target is written in one step by
`replace_all` (a file: a new base; a server: TRUNCATE + COPY in one transaction), then the
history is added, then the target is opened afresh and counted against the source.

A history is append-only (on a server a member may not rewrite it), so `replace` replaces the
records and the trash of a target that holds data and keeps its history beside the source's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from store.engine import is_server_location, public_location
from store.errors import MigrationRefused, StorageError
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, STORED_TABLES, TRASH, Record, Tables
from store.service import CRM
from store.text import counted

HISTORY = "history"  # the stage name of the history in `progress` and in the counts
WRITING = "writing"  # the stage of `progress` while the target takes the records in
# Stages, each reported from 0 (unless empty) to its total once: reading each stored table,
# writing, the history.
Progress = Callable[[str, int, int], None]  # stage, done, total
_EVERY = 5_000  # records between two progress calls
# What each stage counts, for messages: `counted(n, NOUNS[stage])`.
NOUNS = {
    ACCOUNTS: "account",
    CONTACTS: "contact",
    ACTIVITIES: "activity",
    TRASH: "trash entry",
    HISTORY: "history entry",
}


def migrate(
    source: CRM,
    target_location: str | os.PathLike[str],
    *,
    replace: bool = False,
    progress: Progress | None = None,
    group_writable: bool = False,
) -> dict[str, int]:
    """Copy everything in `source` to the database at `target_location` (a path or a
    `postgresql://` URL; a server database without the schema gets it). Refused with
    MigrationRefused when the target is the source, or holds any record, trash entry or
    history entry and `replace` is false. Returns the count per stored table and "history"."""
    target_location = str(target_location)
    if same_database(source.location, target_location):
        raise MigrationRefused(
            f"{public_location(target_location)} is the database being copied; "
            "name another one as the target"
        )
    report = progress or _quiet
    if is_server_location(target_location):
        CRM.init(target_location)  # the schema, if it is not there yet
    target = CRM.open(target_location, user=source._user, group_writable=group_writable)
    try:
        held = _contents(target)
        if held and not replace:
            raise MigrationRefused(
                f"{target.location} already holds {held}; nothing was copied "
                "(replace its records with --replace)"
            )
        if held:
            # Folds a file target's journals in, so that the history they hold is archived
            # before the new base drops them (a server keeps its history in a table).
            target.compact()
        history_ids = _history_ids(source)
        tables = _read_tables(source, report)
        counts = {str(table): len(records) for table, records in tables.items()}
        total = sum(counts.values())
        if total:
            report(WRITING, 0, total)
        target.replace_all(tables)
        report(WRITING, total, total)
        del tables  # the target holds its own copy (a file) or none (a server)
        target._engine.add_history(_counted_history(source, len(history_ids), report))
    finally:
        target.close()
    counts[HISTORY] = len(history_ids)
    _verify(target_location, counts, history_ids)
    return counts


def same_database(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Whether two locations name one database: the same file (through links too), or the
    same database on the same server (a URL's password and options aside)."""
    first, second = str(first), str(second)
    if is_server_location(first) != is_server_location(second):
        return False
    if is_server_location(first):
        return _server_database(first) == _server_database(second)
    one, other = Path(first).expanduser(), Path(second).expanduser()
    if one.exists() and other.exists():
        return one.samefile(other)
    return one.absolute().resolve() == other.absolute().resolve()


def summary(counts: dict[str, int], source: str, target: str) -> str:
    """`copied 3 accounts, 4 contacts, 5 activities, 1 in the trash and 9 history entries
    from A to B`: the one line both `crm migrate` and scripts show."""
    return (
        f"copied {counted(counts.get(ACCOUNTS, 0), 'account')}, "
        f"{counted(counts.get(CONTACTS, 0), 'contact')}, "
        f"{counted(counts.get(ACTIVITIES, 0), 'activity')}, "
        f"{counts.get(TRASH, 0):,} in the trash and "
        f"{counted(counts.get(HISTORY, 0), 'history entry')} "
        f"from {public_location(source)} to {public_location(target)}"
    )


def _server_database(url: str) -> tuple[str, str, str]:
    """Host, port and database name of a URL, with libpq's defaults where it says none."""
    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = options.get("host") or parts.hostname or os.environ.get("PGHOST") or "localhost"
    port = options.get("port") or (str(parts.port) if parts.port else None)
    user = options.get("user") or parts.username or os.environ.get("PGUSER") or ""
    name = options.get("dbname") or parts.path.lstrip("/") or os.environ.get("PGDATABASE")
    return host, port or os.environ.get("PGPORT") or "5432", name or user


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def _contents(crm: CRM) -> str:
    """What a database holds, for the refusal (`2 accounts and 5 history entries`); ''
    when it is empty."""
    parts = [counted(crm.count(table), NOUNS[table]) for table in STORED_TABLES if crm.count(table)]
    if next(iter(crm._engine.history_entries()), None) is not None:
        parts.append("a history")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return "".join(parts)


def _read_tables(source: CRM, report: Progress) -> Tables:
    """Every stored table of `source` by id (a server streams it page by page)."""
    tables: Tables = {}
    for table in STORED_TABLES:
        total = source.count(table)
        records: dict[str, Record] = {}
        if total:
            report(table, 0, total)
        # items(), not the mapping itself: a server's table answers a lookup by id with a
        # query of its own, and streams its items.
        for record_id, record in source.all(table).items():
            records[record_id] = record
            if len(records) % _EVERY == 0 and len(records) < total:
                report(table, len(records), total)
        report(table, len(records), total)
        tables[table] = records
    return tables


def _history_ids(source: CRM) -> set[str]:
    return {str(entry["id"]) for entry in source._engine.history_entries()}


def _counted_history(source: CRM, total: int, report: Progress) -> Iterator[Record]:
    if total:
        report(HISTORY, 0, total)
    done = 0
    for entry in source._engine.history_entries():
        yield entry
        done += 1
        if done % _EVERY == 0 and done < total:
            report(HISTORY, done, total)
    report(HISTORY, done, total)


def _verify(location: str, counts: dict[str, int], history_ids: set[str]) -> None:
    """Open the target afresh and count it: what landed is what was read."""
    copy = CRM.open(location)
    try:
        wrong = [
            f"{table}: {copy.count(table):,} of {counts[table]:,}"
            for table in STORED_TABLES
            if copy.count(table) != counts[table]
        ]
        landed = {str(entry["id"]) for entry in copy._engine.history_entries()}
        missing = len(history_ids - landed)
        if missing:
            wrong.append(f"history: {counted(missing, 'entry')} missing")
    finally:
        copy.close()
    if wrong:
        raise StorageError(
            f"the copy at {public_location(location)} does not match its source ("
            + "; ".join(wrong)
            + "): do not use it; copy again with --replace"
        )
