"""store/files.py: exports get the database's mode whatever the umask, and never follow a link."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.files import FileWriteError, write_file
from store.service import CRM


@pytest.fixture(params=[0o022, 0o077, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("group", [False, True])
def test_a_written_file_has_the_database_mode_whatever_the_umask(
    tmp_path: Path, umask: int, group: bool
) -> None:
    crm = CRM.open(tmp_path / "crm.json", user="alice", group_writable=group)
    expected = 0o660 if group else 0o600
    assert mode_of(tmp_path / "crm.json") == expected
    assert crm.file_mode() == expected
    target = tmp_path / "export.csv"
    write_file(target, b"a,b\r\n", crm.file_mode())
    assert target.read_bytes() == b"a,b\r\n"
    assert mode_of(target) == expected
    # Writing over an existing, wider file gives it the database's mode too.
    target.chmod(0o644)
    write_file(target, b"c\r\n", expected)
    assert (target.read_bytes(), mode_of(target)) == (b"c\r\n", expected)
    crm.close()


def test_a_group_database_opened_without_group_still_exports_0660(tmp_path: Path) -> None:
    CRM.open(tmp_path / "crm.json", user="alice", group_writable=True).close()
    crm = CRM.open(tmp_path / "crm.json", user="bob")  # another member, no --group
    assert crm.file_mode() == 0o660
    crm.close()


def test_a_symlink_at_the_target_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "export.csv"
    link.symlink_to(victim)
    with pytest.raises(FileWriteError) as raised:
        write_file(link, b"records", 0o600)
    assert str(raised.value) == f"{link} is a symbolic link: not followed; name the file itself"
    assert victim.read_bytes() == b"precious"
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "victim.txt"]


def test_a_dangling_symlink_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    link = tmp_path / "export.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(FileWriteError):
        write_file(link, b"records", 0o600)
    assert not (tmp_path / "elsewhere.csv").exists()


def test_a_failed_write_leaves_the_existing_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):  # fails in the middle of writing: the temp file goes too
        write_file(target, [b"not", b"bytes"], 0o600)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    # A folder at the path: the rename fails.
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(FileWriteError) as raised:
        write_file(folder, b"new", 0o600)
    assert str(raised.value).startswith(f"{folder}: ")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "folder.csv"]


def test_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError) as raised:
        write_file(tmp_path / "no" / "such.csv", b"x", 0o600)
    assert str(raised.value) == f"{tmp_path / 'no' / 'such.csv'}: No such file or directory"
