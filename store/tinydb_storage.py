"""The CRM as a TinyDB storage: a user's own script (or a Jupyter notebook) can open the live
database with `TinyDB("crm.json", storage=CrmStorage)`, query it with TinyDB's queries and
write through it safely.

A read is the base plus the journal, as the CRM sees it, taking in other processes' saves
first. A write is TinyDB's whole-database dict: it is compared with what this storage last gave
TinyDB, and the difference becomes creates, updates and deletes through the service, so that
the CRM's rules apply (validation, references, stamps, versions, conflicts, under the writers'
lock). What the CRM cannot take (the meta table, a system field, a table it does not have) is
refused with WriteRefused before anything is written.

The CRM's own code never goes through here: TinyDB reads and writes the whole database on every
operation, which is fine for a script and far too slow for the app.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from tinydb.storages import Storage

from store.errors import WriteRefused
from store.model import APP_NAME, META, RECORD_TABLES, SCHEMA_VERSION, SINGULAR, SYSTEM_FIELDS
from store.service import CRM, Batch, Create, Delete, Update

Document = dict[str, Any]

# What a script may set on a new record: the source system's id is the one system field an
# import gives (the CRM keeps it); the others are the CRM's to stamp.
_SET_BY_CRM = tuple(name for name in SYSTEM_FIELDS if name != "source_id")
# Doc ids are derived from record ids in this many bits: far apart, so that TinyDB's next id
# (the largest plus one, kept by each Table) never lands on a record another process adds.
_DOC_ID_BITS = 53  # still exact as a float, for notebooks that hand ids to JavaScript


def _meta() -> dict[str, Document]:
    # The base file's layout (generation, offsets, checksums) says nothing about the merged
    # view a script reads, so only what it can rely on is shown.
    return {"1": {"schema_version": SCHEMA_VERSION, "app": APP_NAME}}


class CrmStorage(Storage):
    """The live CRM database behind TinyDB. `TinyDB(path, storage=CrmStorage, user="ana")`:
    TinyDB hands its other arguments to this class, and they go on to `CRM.open` (`user`,
    `group_writable`, `lock_timeout`)."""

    def __init__(self, path: str | os.PathLike[str], **crm_options: Any) -> None:
        self.crm = CRM.open(path, **crm_options)
        # Per table: record id <-> doc id, kept for the session (never reused).
        self._doc_ids: dict[str, dict[str, int]] = {t: {} for t in RECORD_TABLES}
        self._record_ids: dict[str, dict[int, str]] = {t: {} for t in RECORD_TABLES}

    # ------------------------------------------------------------ reading
    # TinyDB declares a dict; it only ever indexes, iterates and writes back what read gives,
    # and a lazy mapping saves copying tables a query never looks at.
    def read(self) -> _Reading:  # type: ignore[override]
        self.crm.refresh()
        return _Reading(self)

    def given(self, table: str) -> dict[int, Document]:
        """The table as a read gives it: the CRM's own (unchanging) record objects by doc id."""
        return {
            self._doc_id(table, record_id): record
            for record_id, record in self.crm.all(table).items()
        }

    def _doc_id(self, table: str, record_id: str) -> int:
        doc_id = self._doc_ids[table].get(record_id)
        if doc_id is None:
            digest = hashlib.blake2b(record_id.encode(), digest_size=8).digest()
            doc_id = int.from_bytes(digest) >> (64 - _DOC_ID_BITS) or 1
            while doc_id in self._record_ids[table]:  # two ids sharing a hash: the next free
                doc_id += 1
            self._remember(table, record_id, doc_id)
        return doc_id

    def _remember(self, table: str, record_id: str, doc_id: int) -> None:
        self._doc_ids[table][record_id] = doc_id
        self._record_ids[table][doc_id] = record_id

    # ------------------------------------------------------------ writing
    def write(self, data: Mapping[str, Mapping[str, Document]]) -> None:
        batch, doc_ids = self._batch(data)
        if batch.creates or batch.updates or batch.deletes:
            # One write, one journal entry: every rule checked under the lock, all or nothing.
            saved = self.crm.apply(batch).records
            for create, doc_id, record in zip(batch.creates, doc_ids, saved, strict=False):
                self._remember(create.table, record["id"], doc_id)

    def _batch(self, data: Mapping[str, Mapping[str, Document]]) -> tuple[Batch, list[int]]:
        """The saves that turn what TinyDB read into `data`, and the doc id of each create."""
        unknown = sorted(set(data) - {META, *RECORD_TABLES})
        if unknown:
            raise WriteRefused(
                f"the CRM has no table {', '.join(map(repr, unknown))}; its "
                f"tables are {', '.join(RECORD_TABLES)}"
            )
        dropped = [t for t in RECORD_TABLES if t not in data]
        if dropped:
            raise WriteRefused(
                f"a table cannot be dropped ({', '.join(dropped)}); remove its records instead"
            )
        reading = data if isinstance(data, _Reading) else None
        if (reading.opened(META) if reading else True) and data[META] != _meta():
            raise WriteRefused("the meta table belongs to the CRM and cannot be written")
        batch, doc_ids = Batch(), []
        for table in RECORD_TABLES:
            if reading is not None and not reading.opened(table):
                continue  # TinyDB never looked at it: unchanged
            before = reading.before(table) if reading is not None else self.given(table)
            written = {int(doc_id): doc for doc_id, doc in data[table].items()}
            for doc_id, doc in written.items():
                old = before.get(doc_id)
                if old is None:
                    batch.creates.append(self._create(table, doc_id, doc))
                    doc_ids.append(doc_id)
                elif doc != old:
                    batch.updates.append(self._update(table, old, doc))
            batch.deletes.extend(
                Delete(table, old["id"], expected_version=old.get("version"))
                for doc_id, old in before.items()
                if doc_id not in written
            )
        return batch, doc_ids

    def _create(self, table: str, doc_id: int, doc: Document) -> Create:
        if doc_id in self._record_ids[table]:
            # A doc id this session gave a record that is gone now: a new record must not
            # take it, or a script holding the old doc id would find a stranger.
            raise WriteRefused(
                f"doc id {doc_id} belonged to a deleted {SINGULAR[table]}; insert without a doc id"
            )
        fixed = [name for name in _SET_BY_CRM if name in doc]
        if fixed:
            raise WriteRefused(
                f"{', '.join(fixed)} of a new {SINGULAR[table]} are set by the "
                "CRM; insert the record without them"
            )
        return Create(table, dict(doc))

    @staticmethod
    def _update(table: str, old: Document, doc: Document) -> Update:
        version = doc.get("version")
        if version != old.get("version"):
            if isinstance(version, int) and version < int(old.get("version", 0)):
                # A document read before someone saved it, written back whole: the version it
                # carries is the one the script read, and the service refuses it as stale.
                return Update(table, old["id"], {}, version)
            raise WriteRefused(
                f"version of a {SINGULAR[table]} is counted by the CRM; leave it as read"
            )
        changed = [name for name in SYSTEM_FIELDS if doc.get(name) != old.get(name)]
        if changed:
            raise WriteRefused(
                f"{', '.join(changed)} of a {SINGULAR[table]} "
                f"{'is' if len(changed) == 1 else 'are'} kept by the CRM and "
                "cannot be changed"
            )
        changes = {name: value for name, value in doc.items() if value != old.get(name)}
        changes.update((name, None) for name in old if name not in doc)
        return Update(table, old["id"], changes, version)

    def close(self) -> None:
        self.crm.close()


class _Reading(MutableMapping[str, dict[str, Document]]):
    """What one read gives TinyDB: {table: {doc id: document}}, each table copied only when
    TinyDB looks at it (an operation touches one table, and copying 250,000 activities for a
    query on accounts is most of its time). A write of it is compared table by table with
    what that read gave."""

    def __init__(self, storage: CrmStorage) -> None:
        self._storage = storage
        self._names = [META, *RECORD_TABLES]
        self._before: dict[str, dict[int, Document]] = {}
        self._tables: dict[str, dict[str, Document]] = {}

    def opened(self, table: str) -> bool:
        return table in self._tables

    def before(self, table: str) -> dict[int, Document]:
        return self._before[table]

    def __getitem__(self, table: str) -> dict[str, Document]:
        if table not in self._tables:
            if table not in self._names:
                raise KeyError(table)
            if table == META:
                self._tables[table] = _meta()
            else:
                self._before[table] = self._storage.given(table)
                # Copies: TinyDB changes documents in place before it writes them back.
                self._tables[table] = {
                    str(doc_id): dict(record) for doc_id, record in self._before[table].items()
                }
        return self._tables[table]

    def __setitem__(self, table: str, documents: dict[str, Document]) -> None:
        if table in self._names and table not in self._tables:
            _ = self[table]  # what it was, to compare the write with
        if table not in self._names:
            self._names.append(table)
        self._tables[table] = documents

    def __delitem__(self, table: str) -> None:
        self._names.remove(table)
        self._tables.pop(table, None)

    def __contains__(self, table: object) -> bool:
        # Not Mapping's (which reads the table to answer): `in` must not copy a table.
        return table in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)
