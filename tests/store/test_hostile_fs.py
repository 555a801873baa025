"""The store attacked as a shared host would attack it (issue 8): a lock file deleted under six
real writer processes, symlinks planted at journal, temp and lock names, orphaned temp files,
a team database written and compacted by members without --group.

Real files and real processes only. A "victim" is a file in another directory that a hostile
neighbour points a planted symlink at; whatever the store does, its content and mode stay."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, RECORD_TABLES
from store.service import CRM
from store.storage import StorageError, _journal_path

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"secret\n"
VICTIM_MODE = 0o640
WRITERS = 6
WRITES_EACH = 150
# Only a guard against a hang (the test fails if it trips), not a measured time.
HANG_GUARD = 180

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- helpers


class Victim:
    """Another user's private file, as far as this test can tell: not in the database's dir."""

    def __init__(self, path: Path, content: bytes) -> None:
        self.path, self.content = path, content
        path.write_bytes(content)
        path.chmod(VICTIM_MODE)

    def assert_untouched(self) -> None:
        info = os.lstat(self.path)
        assert stat.S_ISREG(info.st_mode), f"{self.path} was replaced"
        assert self.path.read_bytes() == self.content, (
            f"{self.path} was written through a planted link"
        )
        assert stat.S_IMODE(info.st_mode) == VICTIM_MODE, f"{self.path} was chmodded"


# A token that does not parse as a journal entry, one that looks like a torn last line (a
# follower would cut it off), and an empty file (a follower would take it for an empty journal
# and append to it): a refusal must come from the link itself, not from what it points at.
@pytest.fixture(params=[SECRET, SECRET.rstrip(), b""], ids=["secret", "torn", "empty"])
def victim(tmp_path: Path, request: pytest.FixtureRequest) -> Victim:
    home = tmp_path / "victim-home"
    home.mkdir()
    return Victim(home / "token", request.param)


def assert_refusal(error: StorageError, path: Path) -> None:
    """A refusal is one line for the user that names the offending file."""
    message = str(error)
    assert "\n" not in message, message
    assert str(path) in message, message


def journal(db_path: Path, generation: int) -> Path:
    return _journal_path(db_path.absolute(), generation)


def generation_of(crm: CRM) -> int:
    return crm._engine.database.generation


def new_db(db_path: Path) -> tuple[CRM, str]:
    crm = CRM.open(db_path, user="alice")
    account = crm.create(ACCOUNTS, {"name": "Acme"}).record
    crm.log_activity("note", account["id"], {"subject": "first"})
    return crm, account["id"]


def everything(crm: CRM) -> dict[str, dict]:
    return {table: dict(crm.all(table)) for table in RECORD_TABLES}


def write_or_refuse(crm: CRM, account_id: str, path: Path) -> bool:
    """A write that either works or is refused with a one-line message naming `path`."""
    try:
        crm.log_activity("note", account_id, {"subject": "after the plant"})
    except StorageError as error:
        assert_refusal(error, path)
        return False
    return True


# ---------------------------------------------------------------- the lock file vanishes

_WRITER = """
import sys
from store.service import CRM
path, account_id, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
crm = CRM.open(path, user=name)
for n in range(count):
    saved = crm.log_activity("note", account_id, {"subject": f"{name}-{n}"})
    print(saved.record["id"], flush=True)  # acknowledged: the write returned
"""


def test_deleting_the_lock_file_under_six_writers_loses_no_acknowledged_write(
    db_path: Path, tmp_path: Path
) -> None:
    crm = CRM.open(db_path, user="setup")
    account_id = crm.create(ACCOUNTS, {"name": "Shared"}).record["id"]
    lock = Path(f"{db_path}.lock")
    outputs = [tmp_path / f"w{i}.out" for i in range(WRITERS)]
    errors = [tmp_path / f"w{i}.err" for i in range(WRITERS)]
    writers = []
    for i in range(WRITERS):
        with outputs[i].open("wb") as out, errors[i].open("wb") as err:
            writers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _WRITER,
                        str(db_path),
                        account_id,
                        f"w{i}",
                        str(WRITES_EACH),
                    ],
                    cwd=ROOT,
                    stdout=out,
                    stderr=err,
                )
            )
    deleted = 0
    started = time.monotonic()
    try:
        while any(writer.poll() is None for writer in writers):
            assert time.monotonic() - started < HANG_GUARD, "the writers did not finish"
            for _ in range(50):
                # The writers lock the folder and keep no lock file: what a cleanup tool
                # deletes (here the old lock file's name, recreated each time so that there is
                # always something to delete) cannot let two writers in.
                lock.touch()
                try:
                    os.unlink(lock)
                    deleted += 1
                except FileNotFoundError:
                    pass
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
            writer.wait()
    acknowledged = [line for out in outputs for line in out.read_text().split()]
    assert deleted > 0, "the lock file was never there to delete: nothing was tested"

    fresh = CRM.open(db_path)  # must not refuse the database ("damaged entry")
    missing = [rid for rid in acknowledged if fresh.get(ACTIVITIES, rid) is None]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes lost"
    failures = {
        i: errors[i].read_text().strip().splitlines()[-1:]
        for i, writer in enumerate(writers)
        if writer.returncode != 0
    }
    assert not failures, f"writers failed: {failures}"
    assert len(set(acknowledged)) == WRITERS * WRITES_EACH
    assert fresh.count(ACTIVITIES) == WRITERS * WRITES_EACH
    assert fresh.check() == []
    cli_check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tui.cli import main; main(sys.argv[1:])",
            "check",
            "--db",
            str(db_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert cli_check.returncode == 0, cli_check.stderr
    assert "no problems" in cli_check.stderr
    for generation in range(1, generation_of(fresh) + 1):
        if journal(db_path, generation).exists():
            assert b"\0" not in journal(db_path, generation).read_bytes()


# ---------------------------------------------------------------- journal names as symlinks


def test_a_symlink_planted_at_the_first_journal_is_refused(db_path: Path, victim: Victim) -> None:
    crm = CRM.open(db_path, user="alice")  # a new database: no journal written yet
    first = journal(db_path, generation_of(crm))
    assert not first.exists()
    os.symlink(victim.path, first)
    with pytest.raises(StorageError) as refused:
        crm.create(ACCOUNTS, {"name": "Acme"})
    assert_refusal(refused.value, first)
    victim.assert_untouched()


def test_a_symlink_planted_at_the_next_journal_is_not_followed_by_writers(
    db_path: Path, victim: Victim
) -> None:
    """`ln -s ~victim/token crm.json.journal-<G+1>`: writers follow the journal chain forward,
    so the planted name is where they would append next."""
    crm, account_id = new_db(db_path)
    following = journal(db_path, generation_of(crm) + 1)
    os.symlink(victim.path, following)
    with pytest.raises(StorageError) as refused:
        crm.log_activity("note", account_id, {"subject": "through the link?"})
    assert_refusal(refused.value, following)
    victim.assert_untouched()


def test_a_symlink_planted_at_the_next_journal_is_refused_by_compaction(
    db_path: Path, victim: Victim
) -> None:
    crm, account_id = new_db(db_path)
    following = journal(db_path, generation_of(crm) + 1)
    os.symlink(victim.path, following)
    with pytest.raises(StorageError) as refused:
        crm.compact()
    assert_refusal(refused.value, following)
    victim.assert_untouched()
    write_or_refuse(crm, account_id, following)
    victim.assert_untouched()


def test_a_symlink_at_the_next_journal_after_compaction_is_refused(
    db_path: Path, victim: Victim
) -> None:
    """After one compaction the generation has moved on; the next one plants one further."""
    crm, account_id = new_db(db_path)
    crm.compact()
    crm.log_activity("note", account_id, {"subject": "in the new generation"})
    following = journal(db_path, generation_of(crm) + 1)
    os.symlink(victim.path, following)
    with pytest.raises(StorageError) as refused:
        crm.compact()
    assert_refusal(refused.value, following)
    victim.assert_untouched()


def test_the_current_journal_replaced_by_a_symlink_is_refused(
    db_path: Path, victim: Victim
) -> None:
    crm, account_id = new_db(db_path)
    current = journal(db_path, generation_of(crm))
    assert current.is_file()
    current.unlink()
    os.symlink(victim.path, current)
    with pytest.raises(StorageError) as refused:
        crm.log_activity("note", account_id, {"subject": "through the link?"})
    assert_refusal(refused.value, current)
    victim.assert_untouched()
    with pytest.raises(StorageError) as reopened:
        CRM.open(db_path, user="bob")
    assert_refusal(reopened.value, current)
    victim.assert_untouched()


def test_the_current_journal_replaced_by_a_fifo_is_refused_not_waited_on(db_path: Path) -> None:
    """Only a regular file is a journal: a FIFO there must not block the open forever."""
    crm, _ = new_db(db_path)
    current = journal(db_path, generation_of(crm))
    current.unlink()
    os.mkfifo(current)
    opener = "import sys; from store.service import CRM; CRM.open(sys.argv[1])"
    try:
        opened = subprocess.run(
            [sys.executable, "-c", opener, str(db_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"opening a database whose journal is a FIFO hangs ({current})")
    assert opened.returncode != 0
    last = opened.stderr.strip().splitlines()[-1]
    assert "StorageError" in last and str(current) in last, opened.stderr


# ---------------------------------------------------------------- compaction temp files


def test_symlinks_at_guessable_temp_names_do_not_receive_the_database(
    db_path: Path, victim: Victim
) -> None:
    crm, account_id = new_db(db_path)
    crm.create(CONTACTS, {"first_name": "Ada", "account_id": account_id})
    folder, name, pid = db_path.parent, db_path.name, os.getpid()
    guesses = [
        f".{name}.{pid}.tmp",
        f".{name}.{pid + 1}.tmp",
        f".{name}.tmp",
        f"{name}.tmp",
        f"{name}.{pid}.tmp",
        f".{name}.new",
        f"{name}.new",
    ]
    for guess in guesses:
        os.symlink(victim.path, folder / guess)
    before = everything(crm)
    crm.compact()
    victim.assert_untouched()
    info = os.lstat(db_path)
    assert stat.S_ISREG(info.st_mode) and not db_path.is_symlink()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert everything(CRM.open(db_path)) == before


def test_orphaned_temp_files_are_removed_by_the_next_compaction(db_path: Path) -> None:
    crm, _ = new_db(db_path)
    folder, name = db_path.parent, db_path.name
    by_pid = folder / f".{name}.12345.tmp"
    by_pid.write_text("half a database from a killed compaction")
    fd, made = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.write(fd, b'{"meta":')
    os.close(fd)
    by_mkstemp = Path(made)
    notes = folder / "notes.txt"
    notes.write_text("mine")
    crm.compact()
    assert not by_pid.exists()
    assert not by_mkstemp.exists()
    assert notes.read_text() == "mine"
    assert sorted(p.name for p in folder.glob(f".{name}.*.tmp")) == []


def test_another_databases_temp_file_in_the_same_folder_is_left_alone(db_path: Path) -> None:
    """`crm.json.old` is a database of its own: `.crm.json.old.<random>.tmp` may be its
    compaction in progress, not an orphan of `crm.json`."""
    crm, _ = new_db(db_path)
    other = db_path.with_name(f"{db_path.name}.old")
    CRM.open(other, user="bob").create(ACCOUNTS, {"name": "Other"})
    fd, made = tempfile.mkstemp(prefix=f".{other.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    crm.compact()
    assert Path(made).exists()


# ---------------------------------------------------------------- the lock file as a symlink


def test_a_lock_file_planted_as_a_symlink_is_not_written_through(
    db_path: Path, victim: Victim
) -> None:
    crm, account_id = new_db(db_path)
    lock = Path(f"{db_path.absolute()}.lock")
    with_lock = lock.exists()
    if with_lock:
        lock.unlink()
    os.symlink(victim.path, lock)
    saved = write_or_refuse(crm, account_id, lock)
    victim.assert_untouched()
    try:
        again = CRM.open(db_path, user="bob")
    except StorageError as error:
        assert_refusal(error, lock)
    else:
        write_or_refuse(again, account_id, lock)
        if saved:
            assert again.count(ACTIVITIES) >= 2
    victim.assert_untouched()


# ---------------------------------------------------------------- a team database


@contextlib.contextmanager
def _as_user(name: str) -> Iterator[None]:
    """Act as a real Unix user for file access (effective ids), then become root again."""
    entry = pwd.getpwnam(name)
    groups = os.getgroups()
    os.setgroups(os.getgrouplist(name, entry.pw_gid))
    os.setegid(entry.pw_gid)
    os.seteuid(entry.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


@pytest.fixture
def team() -> Iterator[tuple[str, str, str, Path]]:
    """Two members of one group and an outsider, real users made with useradd (as root)."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to create real users")
    tag = secrets.token_hex(3)
    group, members, outsider = f"crmt{tag}", (f"crma{tag}", f"crmb{tag}"), f"crmo{tag}"
    subprocess.run(["groupadd", group], check=True)
    for user in members:
        subprocess.run(["useradd", "-M", "-N", "-G", group, user], check=True)
    subprocess.run(["useradd", "-M", "-N", outsider], check=True)
    folder = Path(tempfile.mkdtemp(prefix="team", dir="/tmp"))
    os.chown(folder, 0, grp.getgrnam(group).gr_gid)
    os.chmod(folder, 0o2770)  # group-owned, setgid: how the README says to share
    try:
        yield members[0], members[1], outsider, folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for user in (*members, outsider):
            subprocess.run(["userdel", user], check=False)
        subprocess.run(["groupdel", group], check=False)


def test_a_team_database_stays_one_whoever_writes_and_compacts(team) -> None:
    ana, bob, outsider, folder = team
    path = folder / "crm.json"
    with _as_user(ana):
        crm = CRM.open(path, user=ana, group_writable=True)
        account = crm.create(ACCOUNTS, {"name": "Shared"}).record["id"]
    for turn, member in enumerate([bob, ana, bob, ana]):
        with _as_user(member):
            # Without --group: the files must still be the team's.
            crm = CRM.open(path, user=member)
            crm.create(
                ACTIVITIES,
                {
                    "type": "note",
                    "regarding_type": "account",
                    "regarding_id": account,
                    "subject": f"turn {turn}",
                },
            )
            crm.compact()
            crm.create(
                ACTIVITIES,
                {
                    "type": "note",
                    "regarding_type": "account",
                    "regarding_id": account,
                    "subject": f"after {turn}",
                },
            )
    gid = grp.getgrnam(grp.getgrgid(os.stat(folder).st_gid).gr_name).gr_gid
    for file in [path, *folder.glob("crm.json.journal-*")]:
        info = os.stat(file)
        assert info.st_mode & 0o777 == 0o660, file.name
        assert info.st_gid == gid, file.name
    with _as_user(bob):
        assert CRM.open(path, user=bob).count(ACTIVITIES) == 8
    with _as_user(outsider), pytest.raises((StorageError, PermissionError)):
        CRM.open(path, user=outsider)


@pytest.mark.parametrize("mask", [0o000, 0o022])
def test_a_new_data_folder_is_private_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        CRM.open(tmp_path / "new" / "crm.json", user="u").close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
