"""A private, throw-away PostgreSQL cluster for the test suite and CI.

    python3 tests/postgres_server.py newdir      # prints a new empty DIR, in memory if it can
    python3 tests/postgres_server.py start DIR   # prints postgresql://postgres@127.0.0.1:PORT/postgres
    python3 tests/postgres_server.py stop DIR
    python3 tests/postgres_server.py start --durable DIR   # fsync etc. at their defaults

The cluster lives entirely in DIR (data, log, unix socket) on a free local port, trusts local
connections and skips every durability cost (fsync, synchronous commit): it holds only test data.
Standard library only: .ci/run starts it before the virtual environment exists.

PostgreSQL refuses to run as root, so under root the server runs as the unprivileged `postgres`
system user (created when missing) and DIR is handed over to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

# Tests point this at a directory without a server to see the "no server" path.
BINDIR_OVERRIDE = "CRM_TEST_PG_BINDIR"
SERVER_USER = "postgres"
SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    " -c full_page_writes=off -c max_connections=200"
)
# benchmarks/bench_postgres.py: a save must be measured durable, so the server's defaults stay.
DURABLE_SETTINGS = "-c listen_addresses=127.0.0.1 -c max_connections=200"


class ServerUnavailable(RuntimeError):
    """No server could be started here; the message says why."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl."""
    override = os.environ.get(BINDIR_OVERRIDE)
    if override is not None:
        candidates = [Path(override)]
    else:
        candidates = []
        pg_config = shutil.which("pg_config")
        if pg_config:
            # pg_config from libpq-dev alone answers /usr/bin, which has no initdb: checked below.
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip():
                candidates.append(Path(done.stdout.strip()))
        candidates += sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True
        )
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return bindir
    looked = ", ".join(str(c) for c in candidates) or "pg_config, /usr/lib/postgresql/*/bin, PATH"
    raise ServerUnavailable(f"initdb and pg_ctl not found (looked in {looked})")


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/9.6/bin < /usr/lib/postgresql/15/bin: numbers, not strings.
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


# On a disk CREATE DATABASE (one per test) takes ~280 ms on the 2-core machine, ~15 ms in memory.
# Docker gives /dev/shm only 64 MB by default: a cluster with a few databases would not fit.
MEMORY = Path("/dev/shm")
MEMORY_NEEDED = 1 << 30


def new_directory() -> str:
    """A new empty directory for a cluster: in memory when there is room, else the usual tmp."""
    parent = None
    if MEMORY.is_dir() and os.access(MEMORY, os.W_OK):
        if shutil.disk_usage(MEMORY).free >= MEMORY_NEEDED:
            parent = str(MEMORY)
    # Directly under a sticky tmp, not in pytest's tmp_path: its parents are 0700 (out of reach
    # of the server user under root) and a unix socket path must stay under 107 bytes.
    return tempfile.mkdtemp(prefix="crm-pg-", dir=parent)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_server_user() -> list[str]:
    """The command prefix that runs the server tools as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        _run(["useradd", "--system", "--no-create-home", SERVER_USER], "useradd")
    return ["runuser", "-u", SERVER_USER, "--"]


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    except OSError as error:
        raise ServerUnavailable(f"{what} could not run: {error}") from error
    if done.returncode != 0:
        raise ServerUnavailable(f"{what} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def _hand_over(directory: Path) -> None:
    """Under root, give DIR to the server user and check that it can reach it."""
    entry = pwd.getpwnam(SERVER_USER)
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    # mkdtemp parents are 0700: a DIR below one is owned by postgres but out of its reach.
    try:
        _run(["runuser", "-u", SERVER_USER, "--", "test", "-w", str(directory)], "access check")
    except ServerUnavailable:
        raise ServerUnavailable(
            f"{directory} is not reachable by the {SERVER_USER} user (a parent directory is "
            "closed to others: chmod 0755 it)"
        ) from None


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def start(directory: str | os.PathLike[str], *, durable: bool = False) -> str:
    """Create and start a cluster in DIR (which must exist); return its URL."""
    directory = Path(directory).resolve()
    bindir = find_bindir()
    prefix = _as_server_user()
    if prefix:
        _hand_over(directory)
    data, log = directory / "data", directory / "server.log"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    initdb += ["--no-sync", "-E", "UTF8"]
    try:
        _run([*prefix, *initdb, "--locale=C.UTF-8"], "initdb", cwd=directory)
    except ServerUnavailable as error:
        # A system without the C.UTF-8 locale: plain C still stores UTF-8, only case rules of
        # non-ASCII letters are lost. (initdb removes what it created when it fails.)
        if "locale" not in str(error):
            raise
        _run([*prefix, *initdb, "--locale=C"], "initdb", cwd=directory)
    # The free port can be taken between the probe and the server's bind: try another.
    for _attempt in range(3):
        port = free_port()
        settings = DURABLE_SETTINGS if durable else SETTINGS
        options = f"-p {port} -k {directory} {settings}"
        pg_ctl = [str(bindir / "pg_ctl"), "-w", "-t", "60", "-D", str(data), "-l", str(log)]
        try:
            _run([*prefix, *pg_ctl, "-o", options, "start"], "pg_ctl start", cwd=directory)
        except ServerUnavailable as error:
            if "already in use" in _log_tail(log, 5):
                continue
            raise ServerUnavailable(f"{error}\nlast lines of {log}:\n{_log_tail(log)}") from None
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"
    raise ServerUnavailable(f"no free port after 3 attempts\n{_log_tail(log)}")


def restart(directory: str | os.PathLike[str], url: str, *, durable: bool = False) -> None:
    """Start again, on the port of its `url`, a cluster that `stop` stopped."""
    directory = Path(directory).resolve()
    data, log = directory / "data", directory / "server.log"
    settings = DURABLE_SETTINGS if durable else SETTINGS
    options = f"-p {urlsplit(url).port} -k {directory} {settings}"
    pg_ctl = [str(find_bindir() / "pg_ctl"), "-w", "-t", "60", "-D", str(data), "-l", str(log)]
    _run([*_as_server_user(), *pg_ctl, "-o", options, "start"], "pg_ctl start", cwd=directory)


def stop(directory: str | os.PathLike[str]) -> None:
    """Stop the cluster in DIR, dropping its connections."""
    data = Path(directory).resolve() / "data"
    pg_ctl = [str(find_bindir() / "pg_ctl"), "-w", "-D", str(data), "-m", "fast", "stop"]
    _run([*_as_server_user(), *pg_ctl], "pg_ctl stop", cwd=data.parent)


def main(argv: list[str]) -> int:
    if argv == ["newdir"]:
        print(new_directory())
        return 0
    durable = "--durable" in argv[1:2]  # start --durable DIR: fsync and friends left on
    if durable:
        argv = [argv[0], *argv[2:]]
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        usage = "usage: postgres_server.py newdir | start [--durable] DIR | stop DIR"
        print(usage, file=sys.stderr)
        return 2
    command, directory = argv
    try:
        if command == "start":
            print(start(directory, durable=durable))
        else:
            stop(directory)
    except ServerUnavailable as error:
        print(f"postgres_server: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
