"""Reading a damaged database as far as it goes: what `crm check` lists and `crm recover` saves.

`Database` refuses a damaged file whole, so that nothing is written on top of damage. This
module reads it leniently instead, entry by entry and document by document, never writing to
it and never following a journal through a link, and says what it had to leave out and why.
`recover` writes what it rescued into a new database, through the one bulk write path.
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from store.model import RECORD_TABLES, SINGULAR, STORED_TABLES, Record
from store.storage import (
    _BLOCK_LINES,
    _SEAL,
    CorruptDatabaseError,
    StorageError,
    Tables,
    _journal_path,
    _meta_sum,
    _open_existing,
    _parse_checksums,
    _parse_entry,
    _refuse_odd_file,
)
from store.text import counted, pictured

_PREVIEW = 60
_JOURNAL = re.compile(r"\.journal-(\d+)$")


@dataclass(frozen=True)
class Damage:
    """One thing that could not be read as written: where, what became of it, and the ids of
    the records concerned where they could still be read."""

    where: str
    what: str
    records: tuple[str, ...] = ()

    def __str__(self) -> str:
        ids = ""
        if self.records:
            shown = ", ".join(self.records[:5])
            more = len(self.records) - 5
            ids = f" ({shown}" + (f" and {more:,} more)" if more > 0 else ")")
        return f"{self.where}: {self.what}{ids}"


@dataclass
class Rescue:
    """The records that could be read, and every piece of damage met on the way."""

    tables: Tables = field(default_factory=lambda: {t: {} for t in STORED_TABLES})
    damage: list[Damage] = field(default_factory=list)
    schema_version: int | None = None

    def counts(self) -> str:
        return ", ".join(counted(len(self.tables[t]), SINGULAR[t]) for t in RECORD_TABLES)


def _read(path: Path) -> bytes:
    fd = _open_existing(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _preview(line: bytes) -> str:
    text = line.decode("utf-8", "replace").strip()
    return pictured(text[:_PREVIEW] + ("..." if len(text) > _PREVIEW else ""))


def _document(line: bytes) -> Record | None:
    """One document line of our base layout (`"12":{...},`), or None if it does not parse."""
    body = line.rstrip().rstrip(b",")
    try:
        parsed = orjson.loads(b"{" + body + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or len(parsed) != 1:
        return None
    (doc,) = parsed.values()
    return doc if isinstance(doc, dict) and type(doc.get("id")) is str else None


def scan(path: str | os.PathLike[str]) -> Rescue:
    """Read the database at `path` as far as it can be read. Never writes."""
    path = Path(path).expanduser().absolute()
    _refuse_odd_file(path)
    rescue = Rescue()
    generation = _scan_base(path, rescue)
    _scan_journals(path, generation, rescue)
    return rescue


def _scan_base(path: Path, rescue: Rescue) -> int | None:
    """Fill `rescue` from the base; returns the generation it records (None: unknown)."""
    name = path.name
    try:
        data = _read(path)
    except OSError as error:
        rescue.damage.append(Damage(name, f"cannot be read ({error.strerror}): no records from it"))
        return None
    first, _, rest = data.partition(b"\n")
    if not (first.startswith(b'{"meta":') and first.endswith(b",")):
        # Written by plain TinyDB: one JSON document, read whole or not at all.
        try:
            raw = orjson.loads(data)
            meta = next(iter(raw["meta"].values()))
            for table in STORED_TABLES:
                for doc in raw.get(table, {}).values():
                    rescue.tables[table][doc["id"]] = doc
            rescue.schema_version = meta.get("schema_version")
            return int(meta.get("generation", 1))
        except (
            orjson.JSONDecodeError,
            AttributeError,
            KeyError,
            StopIteration,
            TypeError,
            ValueError,
        ) as error:
            rescue.damage.append(
                Damage(
                    name,
                    f"is not readable JSON ({error}): no records from it, only the journals' saves",
                )
            )
            return None
    generation = None
    sums = None
    try:
        meta = next(iter(orjson.loads(first[:-1] + b"}")["meta"].values()))
        generation = meta.get("generation", 1)
        rescue.schema_version = meta.get("schema_version")
        sums = _parse_checksums(meta.get("checksums"))
        verified = _meta_sum(first + b"\n")
        if verified is not None and verified[0] != verified[1]:
            rescue.damage.append(
                Damage(
                    f"{name}, line 1",
                    "the meta table fails its checksum: its generation may be wrong",
                )
            )
    except (orjson.JSONDecodeError, AttributeError, KeyError, StopIteration, TypeError):
        rescue.damage.append(
            Damage(
                f"{name}, line 1",
                "the meta table is damaged: the journals are read from the oldest one there is",
            )
        )
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 1:
        generation = None
    current: str | None = None
    block: list[bytes] = []
    block_number = 0
    line_number = 1
    for line in rest.split(b"\n"):
        line_number += 1
        if current is None:
            header = re.fullmatch(rb'"(\w+)":\{', line)
            if header:
                current = header.group(1).decode()
                block, block_number = [], 0
            continue
        if line.startswith(b"}"):
            _check_block(path, current, block, block_number, sums, rescue)
            _check_block_count(path, current, block_number + bool(block), sums, rescue)
            current = None
            continue
        block.append(line + b"\n")
        if len(block) == _BLOCK_LINES:
            _check_block(path, current, block, block_number, sums, rescue)
            block, block_number = [], block_number + 1
        doc = _document(line)
        if doc is None:
            rescue.damage.append(
                Damage(
                    f"{name}, line {line_number:,}",
                    f"dropped, not a readable document: {_preview(line)}",
                )
            )
        elif current in rescue.tables:
            rescue.tables[current][doc["id"]] = doc
    if current is not None:
        rescue.damage.append(
            Damage(name, f"ends too early, inside {current}: the rest of the file is lost")
        )
    return generation


def _check_block(
    path: Path,
    table: str,
    block: list[bytes],
    number: int,
    sums: dict[str, list[int]] | None,
    rescue: Rescue,
) -> None:
    expected = None if sums is None else sums.get(table, [])
    if not block or expected is None:
        return
    if number < len(expected) and zlib.crc32(b"".join(block)) == expected[number]:
        return
    first = number * _BLOCK_LINES + 1
    ids = tuple(doc["id"] for doc in map(_document, block) if doc is not None)
    rescue.damage.append(
        Damage(
            f"{path.name}, {table} {first:,}-{first + len(block) - 1:,}",
            "fail their checksum: kept, but check them, they may have been altered",
            ids,
        )
    )


def _check_block_count(
    path: Path, table: str, blocks: int, sums: dict[str, list[int]] | None, rescue: Rescue
) -> None:
    expected = None if sums is None else sums.get(table, [])
    if expected is not None and blocks < len(expected):
        rescue.damage.append(
            Damage(f"{path.name}, {table}", "has fewer documents than were written: some are lost")
        )


def _scan_journals(path: Path, generation: int | None, rescue: Rescue) -> None:
    numbers = sorted(
        int(match.group(1))
        for entry in os.listdir(path.parent)
        if entry.startswith(path.name + ".journal-") and (match := _JOURNAL.search(entry))
    )
    if generation is None:
        start = numbers[0] if numbers else 1
    else:
        start = generation
    expected = start
    for number in (n for n in numbers if n >= start):
        if number > expected:
            missing = ", ".join(_journal_path(path, n).name for n in range(expected, number))
            rescue.damage.append(Damage(missing, "missing: the saves in it are lost"))
        _scan_journal(_journal_path(path, number), rescue)
        expected = number + 1


def _scan_journal(journal: Path, rescue: Rescue) -> None:
    try:
        data = _read(journal)
    except (OSError, StorageError) as error:
        rescue.damage.append(Damage(journal.name, f"cannot be read ({error}): its saves are lost"))
        return
    lines = data.split(b"\n")
    torn = lines.pop()  # after the last line end: empty, or an unfinished entry
    if torn and _SEAL in torn:
        lines.append(torn)  # a whole entry that lost its line end: read it like the rest
        torn = b""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ops, _deletion = _parse_entry(line, journal, number)
        except CorruptDatabaseError:
            rescue.damage.append(
                Damage(
                    f"{journal.name}, line {number:,}", f"dropped, a damaged save: {_preview(line)}"
                )
            )
            continue
        for kind, table, payload in ops:
            if kind == "put":
                rescue.tables[table][payload["id"]] = payload
            elif kind == "del":
                rescue.tables[table].pop(payload, None)
    if torn:
        rescue.damage.append(
            Damage(
                f"{journal.name}, line {len(lines) + 1:,}",
                "dropped, an unfinished save (its writer was stopped before it was acknowledged)",
            )
        )


def recover(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, user: str | None = None
) -> Rescue:
    """Write what `scan(source)` rescues as the new database `target`, which must not exist.
    The source files are only read."""
    from store.service import CRM  # the service imports storage; so must this, lazily

    source, target = Path(source).expanduser().absolute(), Path(target).expanduser().absolute()
    if target.exists() or target.is_symlink():
        raise StorageError(f"{target} exists: recover into a new file")
    rescue = scan(source)
    group = bool(source.exists() and os.stat(source).st_mode & 0o060)
    crm = CRM.open(target, user=user, group_writable=group)
    crm.replace_all(rescue.tables)
    return rescue
