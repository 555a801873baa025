"""The history of every change: who changed what, when, and each field's old and new value.

A batch's history entry is written into its own journal entry (key `h`), so a save costs one
write, as before; `crm compact` moves the entries of the journals it folds into the
append-only `crm.json.history` (JSON lines) before it writes the new base. The history is
never read at start-up: `Database.history_lines` reads it on demand, and a record's history is
found by a byte search for its id before any line is parsed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from store.model import RECORD_TABLES, SINGULAR, TRASH, Record, TablesView, display_name

Op = tuple[str, str, Any]  # as in the journal: ("put", table, record) | ("del", table, id)

# Fields the service stamps on every save: their change is the save itself, not news.
_QUIET = ("id", "created_at", "created_by", "modified_at", "modified_by", "version")
CREATE, UPDATE, DELETE, RESTORE, PURGE = "create", "update", "delete", "restore", "purge"


@dataclass(frozen=True)
class RecordChange:
    """What one batch did to one record. `fields`: name -> (old, new), None for absent."""

    table: str
    record_id: str
    action: str  # create | update | delete | restore | purge
    version: int | None  # the record's version after the batch (None: it is gone)
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    root: str | None = None  # delete/restore: the record whose delete this was part of


@dataclass(frozen=True)
class HistoryEntry:
    """One batch: one journal entry, one step to undo."""

    batch_id: str
    at: str
    by: str
    summary: str
    changes: tuple[RecordChange, ...]
    undoes: str | None = None  # the batch this one undid

    def concerns(self, record_id: str) -> bool:
        return any(change.record_id == record_id for change in self.changes)


def entry_for(
    batch_id: str,
    at: str,
    by: str,
    summary: str,
    ops: Iterable[Op],
    before: TablesView,
    undoes: str | None = None,
) -> Record:
    """The history entry (as stored) of a batch whose journal ops are `ops`, applied to the
    tables as they were `before` it."""
    trashed_now = {op[2]["id"]: op[2] for op in ops if op[0] == "put" and op[1] == TRASH}
    put_ids = {op[2]["id"] for op in ops if op[0] == "put" and op[1] in RECORD_TABLES}
    changes: list[Record] = []
    for kind, table, payload in ops:
        if table in RECORD_TABLES and kind == "put":
            old = before[table].get(payload["id"])
            if old is None:
                gone = before[TRASH].get(payload["id"])
                action = RESTORE if gone is not None else CREATE
                fields = {} if gone is not None else _diff({}, payload)
                root = gone.get("root") if gone is not None else None
            else:
                action, fields, root = UPDATE, _diff(old, payload), None
            changes.append(_change(table, payload, action, payload.get("version"), fields, root))
        elif table in RECORD_TABLES and kind == "del":
            old = before[table].get(payload, {"id": payload})
            trashed = trashed_now.get(payload)
            changes.append(
                _change(table, old, DELETE, None, {}, trashed.get("root") if trashed else None)
            )
        elif table == TRASH and kind == "del" and payload not in put_ids:
            gone = before[TRASH].get(payload)
            if gone is not None:
                changes.append(_change(gone["table"], gone["record"], PURGE, None, {}, None))
    entry: Record = {"id": batch_id, "at": at, "by": by, "what": summary, "changes": changes}
    if not summary:
        entry["what"] = describe(changes)
    if undoes:
        entry["undoes"] = undoes
    return entry


def _change(
    table: str,
    record: Record,
    action: str,
    version: int | None,
    fields: dict[str, list[Any]],
    root: str | None,
) -> Record:
    change: Record = {"t": table, "id": record["id"], "a": action, "n": _name(table, record)}
    if version is not None:
        change["v"] = version
    if fields:
        change["f"] = fields
    if root:
        change["r"] = root
    return change


def _name(table: str, record: Record) -> str:
    return display_name(table, record) if len(record) > 1 else record["id"]


def _diff(old: Record, new: Record) -> dict[str, list[Any]]:
    return {
        name: [old.get(name), new.get(name)]
        for name in sorted(old.keys() | new.keys())
        if name not in _QUIET and old.get(name) != new.get(name)
    }


def describe(changes: list[Record]) -> str:
    """`edit account Acme`, `delete account Acme and 3 more`: for a batch that has no summary
    of its own, named after what the user did (the record deleted or restored, not the
    contacts a delete detached)."""
    if not changes:
        return "no change"
    rooted = [c for c in changes if c["a"] in (DELETE, RESTORE) and c.get("r") in (None, c["id"])]
    first = (rooted or changes)[0]
    verb = {CREATE: "create", UPDATE: "edit", DELETE: "delete", RESTORE: "restore"}.get(
        first["a"], first["a"]
    )
    text = f"{verb} {SINGULAR.get(first['t'], first['t'])} {first['n']}"
    return text + (f" and {len(changes) - 1:,} more" if len(changes) > 1 else "")


def parse(raw: Record) -> HistoryEntry:
    """A stored entry as a HistoryEntry (the stored form is compact: short keys)."""
    changes = tuple(
        RecordChange(
            table=c["t"],
            record_id=c["id"],
            action=c["a"],
            version=c.get("v"),
            name=c.get("n", c["id"]),
            # By name, as `_diff` writes them: a server's jsonb keeps keys in an order of its own.
            fields={k: (v[0], v[1]) for k, v in sorted(c.get("f", {}).items())},
            root=c.get("r"),
        )
        for c in raw.get("changes", ())
    )
    return HistoryEntry(
        raw["id"], raw["at"], raw["by"], raw.get("what", ""), changes, raw.get("undoes")
    )
