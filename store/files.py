"""Writing the files a user names (exports): as private as the database, never through a link.

An export holds the same records as the database, so it gets the database's permissions: 0600,
or 0660 for a group database (`crm --group`). The permissions are set with fchmod after the file
is opened, because the umask would otherwise decide them (0644 under the usual 022, readable by
every user of the machine). A symbolic link at the path is refused, not followed: in a shared
directory another user could plant one to make us overwrite a file of ours. The data goes to a
temporary file beside the target (opened O_EXCL|O_NOFOLLOW) that replaces it only once it is
complete on disk, so a failed write leaves an existing file as it was.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

__all__ = ["FileWriteError", "database_file_mode", "write_file"]

PRIVATE_MODE = 0o600
GROUP_MODE = 0o660


class FileWriteError(OSError):
    """The file could not be written; the message is one line naming the path."""


def database_file_mode(path: Path, mode: int) -> int:
    """0660 for a group database (opened with --group: `mode`, or a file at `path` that is
    group-writable, as another member of the group created it), else 0600."""
    try:
        on_disk = os.stat(path).st_mode
    except OSError:
        on_disk = 0
    return GROUP_MODE if (mode | on_disk) & stat.S_IWGRP else PRIVATE_MODE


def write_file(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Write `data` to `path` with exactly `mode` (see the module's docstring).

    Raises FileWriteError: the path is a symbolic link, its folder is missing, or the disk
    refused; the file that was there (if any) is then left as it was.
    """
    target = Path(path)
    try:
        if stat.S_ISLNK(os.lstat(target).st_mode):
            raise FileWriteError(f"{target} is a symbolic link: not followed; name the file itself")
    except FileNotFoundError:
        pass
    except FileWriteError:
        raise
    except OSError as error:
        raise FileWriteError(f"{target}: {error.strerror}") from error
    temp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except OSError as error:
        raise FileWriteError(f"{target}: {error.strerror}") from error
    try:
        try:
            os.fchmod(fd, mode)  # the umask must neither widen nor narrow the mode
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if target.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        # rename replaces a link planted meanwhile instead of writing through it
        os.replace(temp, target)
    except BaseException as error:
        with suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise FileWriteError(f"{target}: {error.strerror or error}") from error
        raise
    with suppress(OSError):
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
