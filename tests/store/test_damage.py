"""A missing or damaged journal, and bit rot in the base, are reported, never silently skipped
(issue 8); `crm recover` rescues the rest into a new database without touching the original.

Real files and the real `crm` command. Each damage is made the way it happens: a journal
removed or renamed, single bits flipped, a line end lost, a line cut out."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from store.model import ACCOUNTS, ACTIVITIES, RECORD_TABLES
from store.recovery import recover, scan
from store.service import CRM
from store.storage import CorruptDatabaseError, StorageError, _journal_path

ROOT = Path(__file__).resolve().parents[2]
# Only a guard against a hang (the test fails if it trips), not a measured time.
HANG_GUARD = 30


def crm_command(*args: str | Path, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tui.cli", *(["--db", str(db)] if db else []), *map(str, args)]
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "CRM_USER": "alice"},
    )


def journal(db: Path, generation: int) -> Path:
    return _journal_path(db.absolute(), generation)


def fingerprint(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file of the database in the folder: content hash, mode and modification time.
    Not the index beside it (`crm.json.index*`): derived data, which any open may bring up to
    date, and which is never read to judge the database."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file() and ".index" not in p.name
    }


def tables_of(crm: CRM) -> dict[str, dict]:
    return {t: dict(crm.all(t)) for t in RECORD_TABLES}


def two_generations(db: Path, before: int = 20, after: int = 20) -> tuple[CRM, str]:
    """A database compacted once: `before` notes in the base, `after` in the current journal."""
    crm = CRM.open(db, user="alice")
    account = crm.create(ACCOUNTS, {"name": "Acme"}).record["id"]
    for n in range(before):
        crm.log_activity("note", account, {"description": f"before {n}"})
    crm.compact()
    for n in range(after):
        crm.log_activity("note", account, {"description": f"after {n}"})
    return crm, account


def one_line(error: Exception | str) -> str:
    message = str(error)
    assert message and "\n" not in message.strip(), message
    assert "unexpected" not in message, message
    return message


# ---------------------------------------------------------------- journals missing


def test_a_generation_gap_is_refused_and_reported_by_check(db_path: Path) -> None:
    crm, account = two_generations(db_path)
    generation = crm._engine.database.generation
    # journal G holds the first saves, journal G+2 the rest: G+1 has gone missing.
    crm.log_activity("note", account, {"description": "in the next journal"})
    os.rename(journal(db_path, generation), journal(db_path, generation + 2))
    journal(db_path, generation).write_bytes(b"")
    before = fingerprint(db_path.parent)

    with pytest.raises(CorruptDatabaseError) as refused:
        CRM.open(db_path)
    assert journal(db_path, generation + 1).name in one_line(refused.value)

    checked = crm_command("check", db=db_path)
    assert checked.returncode == 1
    assert f"{journal(db_path, generation + 1).name}: missing" in checked.stdout
    assert "crm recover" in checked.stderr
    assert fingerprint(db_path.parent) == before


def test_writers_that_are_already_open_refuse_to_write_past_a_gap(db_path: Path) -> None:
    crm, account = two_generations(db_path)
    generation = crm._engine.database.generation
    journal(db_path, generation + 2).write_bytes(journal(db_path, generation).read_bytes())
    with pytest.raises(CorruptDatabaseError) as refused:
        crm.log_activity("note", account, {"description": "over the gap"})
    one_line(refused.value)
    assert b"over the gap" not in journal(db_path, generation).read_bytes()


def test_a_missing_current_journal_is_one_line_not_a_recursion(db_path: Path) -> None:
    crm, _account = two_generations(db_path)
    generation = crm._engine.database.generation
    os.rename(journal(db_path, generation), journal(db_path, generation + 1))

    result = crm_command("list", "activities", db=db_path)
    assert result.returncode == 1
    message = one_line(result.stderr)
    assert journal(db_path, generation).name in message and "missing" in message
    with pytest.raises(CorruptDatabaseError):
        CRM.open(db_path)


def test_a_journal_removed_while_in_use_is_reported_to_the_process_using_it(db_path: Path) -> None:
    crm, account = two_generations(db_path)
    journal(db_path, crm._engine.database.generation).unlink()
    with pytest.raises(CorruptDatabaseError) as refused:
        crm.log_activity("note", account, {"description": "after the removal"})
    assert "removed while in use" in one_line(refused.value)


def test_a_compaction_creates_the_current_journal_before_the_next(db_path: Path) -> None:
    # Else "current journal missing, next one there" would also be a crash between the two,
    # and a real loss could not be told from it.
    crm = CRM.open(db_path, user="alice")
    assert not journal(db_path, 1).exists()  # a new database: nothing written yet
    crm.compact()
    assert journal(db_path, 1).exists() and journal(db_path, 2).exists()
    crm.create(ACCOUNTS, {"name": "Acme"})
    assert CRM.open(db_path).count(ACCOUNTS) == 1


# ---------------------------------------------------------------- bit rot


def flipped(data: bytes, at: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[at] ^= 1 << bit
    return bytes(damaged)


@pytest.mark.parametrize("target", ["base", "journal"])
def test_no_single_bit_flip_changes_data_silently_or_fails_with_an_unexpected_error(
    tmp_path: Path, target: str
) -> None:
    """Every byte of a small database, two bits each: the database opens with exactly the
    records it had, or is refused with a StorageError. Nothing else."""
    db = tmp_path / "crm.json"
    crm, _account = two_generations(db, before=6, after=6)
    intact = tables_of(CRM.open(db))
    path = db if target == "base" else journal(db, crm._engine.database.generation)
    data = path.read_bytes()
    outcomes = {"refused": 0, "same data": 0}
    for at in range(len(data)):
        for bit in (0, 6):
            path.write_bytes(flipped(data, at, bit))
            try:
                opened = CRM.open(db)
            except StorageError as error:
                assert "\n" not in str(error)
                outcomes["refused"] += 1
                continue
            assert tables_of(opened) == intact, f"byte {at} bit {bit} changed data silently"
            outcomes["same data"] += 1
    path.write_bytes(data)
    # Most flips damage the data and are refused; the rest fell on what does not carry it
    # (a checksum's key name, the case of a hex digit).
    assert outcomes["refused"] > 10 * outcomes["same data"], outcomes


def test_a_flipped_byte_in_an_id_is_refused_and_check_names_the_records(db_path: Path) -> None:
    crm, _account = two_generations(db_path, before=100, after=0)
    victim = next(iter(crm.all(ACTIVITIES)))
    data = db_path.read_bytes()
    at = data.index(victim.encode()) + 5
    db_path.write_bytes(flipped(data, at, 0))
    before = fingerprint(db_path.parent)

    with pytest.raises(CorruptDatabaseError) as refused:
        CRM.open(db_path)
    message = one_line(refused.value)
    assert "activities 1-64 fail their checksum" in message

    checked = crm_command("check", db=db_path)
    assert checked.returncode == 1
    damaged_id = flipped(victim.encode(), 5, 0).decode()
    assert damaged_id in checked.stdout and "may have been altered" in checked.stdout
    assert fingerprint(db_path.parent) == before


def test_a_flipped_meta_line_is_refused(db_path: Path) -> None:
    two_generations(db_path)
    data = db_path.read_bytes()
    # "generation":2 -> 3 would skip a journal silently.
    at = data.index(b'"generation":') + len(b'"generation":')
    db_path.write_bytes(data[:at] + b"3" + data[at + 1 :])
    with pytest.raises(CorruptDatabaseError) as refused:
        CRM.open(db_path)
    assert "(the meta table) fails its checksum" in one_line(refused.value)


def test_documents_cut_out_of_the_base_are_refused(db_path: Path) -> None:
    two_generations(db_path, before=64 * 2, after=0)
    lines = db_path.read_bytes().split(b"\n")
    # The second block of activities, whole (the comma that ended block one goes too).
    start = [n for n, line in enumerate(lines) if line.startswith(b'"65":')][-1]
    del lines[start : start + 64]
    lines[start - 1] = lines[start - 1].rstrip(b",")
    db_path.write_bytes(b"\n".join(lines))
    with pytest.raises(CorruptDatabaseError) as refused:
        CRM.open(db_path)
    assert "activities 1-64 fail their checksum" in one_line(refused.value)


def test_a_deferred_table_is_verified_too(db_path: Path) -> None:
    two_generations(db_path, before=10, after=0)
    data = db_path.read_bytes()
    at = data.index(b"before 3") + 2
    db_path.write_bytes(flipped(data, at, 1))
    screen = CRM(db_path)
    with pytest.raises(CorruptDatabaseError) as refused:
        screen.open_for_screen()  # the index is built from every table, each verified
    assert "activities 1-10 fail their checksum" in one_line(refused.value)


def test_a_base_written_before_checksums_still_opens(db_path: Path) -> None:
    two_generations(db_path, before=5, after=0)
    lines = db_path.read_bytes().split(b"\n")
    meta = orjson.loads(lines[0][:-1] + b"}")
    del meta["meta"]["1"]["checksums"]
    lines[0] = orjson.dumps(meta)[:-1] + b","
    db_path.write_bytes(b"\n".join(lines))
    assert CRM.open(db_path).count(ACTIVITIES) == 5


# ---------------------------------------------------------------- a lost line end


def test_an_entry_that_lost_its_line_end_is_kept_by_the_next_writer(db_path: Path) -> None:
    crm, account = two_generations(db_path, before=0, after=3)
    current = journal(db_path, crm._engine.database.generation)
    current.write_bytes(current.read_bytes()[:-1])  # the last entry has no line end now
    last = dict(crm.all(ACTIVITIES))

    writer = CRM.open(db_path, user="bob")
    assert len(writer.all(ACTIVITIES)) == 2  # not a whole line yet: not read
    writer.log_activity("note", account, {"description": "next"})
    reread = CRM.open(db_path)
    assert set(last) <= set(reread.all(ACTIVITIES))
    assert reread.count(ACTIVITIES) == 4


def test_an_entry_whose_line_end_was_flipped_is_refused_not_cut(db_path: Path) -> None:
    crm, account = two_generations(db_path, before=0, after=3)
    current = journal(db_path, crm._engine.database.generation)
    data = current.read_bytes()
    current.write_bytes(data[:-1] + b"*")
    with pytest.raises(CorruptDatabaseError) as refused:
        CRM.open(db_path, user="bob")
    assert "ends in a damaged entry" in one_line(refused.value)
    with pytest.raises(CorruptDatabaseError):  # nor does a writer already open cut it
        crm.log_activity("note", account, {"description": "next"})
    assert current.read_bytes() == data[:-1] + b"*"


# ---------------------------------------------------------------- every read failure, one line


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d.replace(b'"activities"', b'"activiMies"', 1), id="table-name"),
        pytest.param(lambda d: d.replace(b'"id":', b'"iD":', 1), id="id-key"),
        pytest.param(lambda d: d.replace(b'"put"', b'"pot"', 1), id="op-kind"),
        pytest.param(lambda d: d.replace(b'"ops":[', b'"ops":{', 1), id="ops-shape"),
        pytest.param(lambda d: d[: len(d) // 2] + b"\n", id="cut-in-half"),
    ],
)
def test_a_journal_damaged_so_that_it_still_parses_is_one_line(db_path: Path, damage) -> None:
    crm, _account = two_generations(db_path, before=0, after=3)
    current = journal(db_path, crm._engine.database.generation)
    data = current.read_bytes()
    # Re-sealed, as an older entry without a checksum would be: the content itself is checked.
    lines = [line.rsplit(b',"crc":', 1)[0] + b"}" for line in data.splitlines()]
    current.write_bytes(damage(b"\n".join(lines) + b"\n"))
    result = crm_command("list", "activities", db=db_path)
    assert result.returncode == 1
    assert current.name in one_line(result.stderr)


def test_a_base_document_without_id_is_one_line(db_path: Path) -> None:
    two_generations(db_path, before=3, after=0)
    lines = db_path.read_bytes().split(b"\n")
    meta = orjson.loads(lines[0][:-1] + b"}")
    del meta["meta"]["1"]["checksums"]  # as bit rot in a base without them would look
    lines[0] = orjson.dumps(meta)[:-1] + b","
    data = b"\n".join(lines).replace(b'"id":', b'"iD":', 1)
    db_path.write_bytes(data)
    result = crm_command("list", "accounts", db=db_path)
    assert result.returncode == 1
    assert "has no id" in one_line(result.stderr)


# ---------------------------------------------------------------- crm recover


def test_recover_rescues_the_rest_lists_every_drop_and_leaves_the_original(
    db_path: Path, tmp_path: Path
) -> None:
    crm, account = two_generations(db_path, before=100, after=30)
    good = tables_of(crm)
    current = journal(db_path, crm._engine.database.generation)
    lines = current.read_bytes().split(b"\n")
    dropped = orjson.loads(lines[5])["ops"][0][2]["id"]
    lines[5] = lines[5][:40] + b"\x1b]0;owned\x07" + lines[5][50:]  # damaged, and hostile
    current.write_bytes(b"\n".join(lines) + b'{"ops":[["put"')  # and a torn last save
    data = db_path.read_bytes()
    rotten = data.index(b"before 42") + 8
    db_path.write_bytes(flipped(data, rotten, 0))
    before = fingerprint(db_path.parent)
    target = tmp_path / "rescued" / "new.json"

    result = crm_command("recover", "--to", target, db=db_path)
    assert result.returncode == 0, result.stderr
    assert fingerprint(db_path.parent) == before  # the original, byte for byte, untouched
    out = result.stdout
    assert f"{current.name}, line 6: dropped, a damaged save" in out
    assert "\x1b" not in out and "\x07" not in out and "␛]0;owned␇" in out
    assert f"{current.name}, line 31: dropped, an unfinished save" in out
    assert "activities 1-64: fail their checksum: kept" in out
    assert "rescued 1 account, 0 contacts, 129 activities" in result.stderr

    rescued = CRM.open(target)
    assert dropped not in rescued.all(ACTIVITIES)
    expected = {rid: r for rid, r in good[ACTIVITIES].items() if rid != dropped}
    assert set(rescued.all(ACTIVITIES)) == set(expected)
    changed = [rid for rid, r in rescued.all(ACTIVITIES).items() if r != expected[rid]]
    assert len(changed) == 1 and "before 4" in rescued.get(ACTIVITIES, changed[0])["description"]
    assert crm_command("check", db=target).returncode == 0
    rescued.log_activity("note", account, {"description": "life goes on"})


def test_recover_of_a_gap_keeps_both_sides_and_names_the_missing_journal(
    db_path: Path, tmp_path: Path
) -> None:
    crm, account = two_generations(db_path)
    generation = crm._engine.database.generation
    crm.log_activity("note", account, {"description": "beyond the gap"})
    lines = journal(db_path, generation).read_bytes().splitlines(keepends=True)
    journal(db_path, generation).write_bytes(b"".join(lines[:-1]))
    journal(db_path, generation + 2).write_bytes(lines[-1])
    rescue = recover(db_path, tmp_path / "new.json")
    assert [str(d) for d in rescue.damage] == [
        f"{journal(db_path, generation + 1).name}: missing: the saves in it are lost"
    ]
    assert CRM.open(tmp_path / "new.json").count(ACTIVITIES) == 41


def test_recover_of_a_healthy_database_is_the_same_database(db_path: Path, tmp_path: Path) -> None:
    crm, _account = two_generations(db_path)
    assert scan(db_path).damage == []
    recover(db_path, tmp_path / "copy.json")
    assert tables_of(CRM.open(tmp_path / "copy.json")) == tables_of(crm)


def test_recover_never_overwrites(db_path: Path, tmp_path: Path) -> None:
    two_generations(db_path)
    (tmp_path / "taken.json").write_bytes(b"mine")
    result = crm_command("recover", "--to", tmp_path / "taken.json", db=db_path)
    assert result.returncode == 1
    assert "exists" in one_line(result.stderr)
    assert (tmp_path / "taken.json").read_bytes() == b"mine"


# ---------------------------------------------------------------- odd paths for --db


def test_odd_files_named_by_db_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock = tmp_path / "sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock))
    try:
        for path, what in [
            (fifo, "a named pipe"),
            (sock, "a socket"),
            (Path("/dev/null"), "a device"),
        ]:
            result = crm_command("list", "accounts", db=path)  # a FIFO used to hang here
            assert result.returncode == 1
            assert f"is {what}" in one_line(result.stderr)
            with pytest.raises(StorageError):
                CRM.open(path)
        folder = crm_command("list", "accounts", db=tmp_path)
        assert folder.returncode == 1 and "is a folder, not a database file" in one_line(
            folder.stderr
        )
        with pytest.raises(StorageError, match="is a folder"):
            CRM.open(tmp_path)
    finally:
        listener.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "sock"]


def test_recover_keeps_the_trash(db_path: Path, tmp_path: Path) -> None:
    crm, account = two_generations(db_path, before=2, after=2)
    crm.compact()
    crm.delete(ACCOUNTS, account, activities="delete")  # the trash in the journal
    rescued = recover(db_path, tmp_path / "new.json").tables
    assert account in rescued["trash"]
    assert CRM.open(tmp_path / "new.json").in_trash(account) is not None
