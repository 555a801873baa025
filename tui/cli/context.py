"""What every command shares: the --db/--user/--group options, the CRM it opens, and the
turning of the CRM's errors into one line on stderr and an exit status (tui.cli.errors)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from store.dates import DateParseError
from store.engine import is_server_location, public_location
from store.errors import (
    AmbiguousError,
    ConflictError,
    DependentsError,
    NotFoundError,
    StorageError,
    ValidationFailed,
)
from store.model import APP_NAME, RECORD_TABLES
from store.service import CRM
from store.text import visible
from tui.cli.errors import CLIError, VersionConflict, warn
from tui.cli.fields import flag_for

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

DEMO_SIZE = "S"


def handle_errors(function: Callable[..., R]) -> Callable[..., R]:
    """Pass the click context first and turn the CRM's errors into one-line messages."""

    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, /, *args: Any, **kwargs: Any) -> R:
        try:
            return function(ctx, *args, **kwargs)
        except ValidationFailed as error:
            raise CLIError(
                "; ".join(f"{flag_for(e.field)}: {e.message}" for e in error.errors)
                or "invalid record"
            ) from None
        except DependentsError as error:
            raise CLIError(f"{error} (use --contacts, --subsidiaries, --activities)") from None
        except ConflictError as error:
            raise VersionConflict(str(error)) from None
        except (NotFoundError, AmbiguousError, StorageError, DateParseError) as error:
            raise CLIError(str(error) or type(error).__name__) from None
        except BrokenPipeError:
            raise  # click's main quietly handles a reader that went away (`crm list | head`)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise CLIError(f"{where}{error.strerror or error}") from None

    return wrapper


# ---------------------------------------------------------------------------- database & user


def default_database_path() -> Path:
    # Not needed when --db or $CRM_DB names the file (scripts do): spare them the import.
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "crm.json"


def demo_database_path() -> Path:
    """The demo database: `$CRM_DEMO_DB`, else `demo.json` in the user data dir."""
    override = os.environ.get("CRM_DEMO_DB")
    if override:
        return Path(override).expanduser()
    return default_database_path().with_name("demo.json")


def ensure_demo_database(
    path: Path, *, user: str | None = None, size: str = DEMO_SIZE, seed: int | None = None
) -> Path:
    """Generate the demo database at `path` if it is missing or holds no records."""
    path = Path(path)
    crm = CRM.open(path, user=user)
    try:
        if not any(crm.count(table) for table in RECORD_TABLES):
            # The generator and its name pools take longer to import than `crm list` takes
            # to run: only the commands that generate load them.
            from store.demo import fill

            if seed is None:
                fill(crm, size)
            else:
                fill(crm, size, seed)
    finally:
        crm.close()
    return path


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None and value is not False:
            ctx.meta[f"crm.{key}"] = value  # ctx.meta is shared by the whole command chain

    return callback


def db_options(function: F) -> F:
    """`--db`, `--user`, `--group`: accepted on the top command and on every subcommand."""
    return _with_db_options(function, user=True)


def db_options_for_reading(function: F) -> F:
    """`--db` and `--group` only: for a command whose own `--user` names whose changes to
    show (`crm history --user bob`), not who is making them."""
    return _with_db_options(function, user=False)


def _with_db_options(function: F, *, user: bool) -> F:
    options = [
        click.option(
            "--db",
            metavar="FILE|URL",
            expose_value=False,
            callback=_remember("db"),
            help="Database file, or a postgresql:// URL (else $CRM_DB, else crm.json in the "
            "user data dir).",
        ),
        click.option(
            "--group",
            is_flag=True,
            default=False,
            expose_value=False,
            callback=_remember("group"),
            help="Create new files group-writable (0660) instead of private (0600).",
        ),
    ]
    if user:
        options.insert(
            1,
            click.option(
                "--user",
                expose_value=False,
                callback=_remember("user"),
                help="Who is making changes (else $CRM_USER, else the login name).",
            ),
        )
    for option in reversed(options):
        function = option(function)
    return function


def database_location(ctx: click.Context) -> str:
    """The database this invocation works on: a file path, or a postgresql:// URL."""
    chosen = ctx.meta.get("crm.db") or os.environ.get("CRM_DB")
    if chosen and is_server_location(chosen):
        return str(chosen)
    return str(Path(chosen).expanduser() if chosen else default_database_path())


def database_path(ctx: click.Context) -> Path:
    """The database file, for a command that reads the file itself (check's scan, recover)."""
    location = database_location(ctx)
    if is_server_location(location):
        raise CLIError(
            f"this command works on a database file; {visible(public_location(location))} is "
            "a PostgreSQL database (its server keeps and checks its own files)"
        )
    return Path(location)


def database_exists(ctx: click.Context) -> bool:
    location = database_location(ctx)
    return is_server_location(location) or Path(location).exists()


def chosen_user(ctx: click.Context) -> str | None:
    return ctx.meta.get("crm.user") or None  # None: CRM falls back to $CRM_USER / login


def group_writable(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("crm.group"))


def notice(text: str) -> None:
    """Slow work about to start (the store says what): on stderr, before it runs."""
    click.echo(f"crm: {visible(text)}", err=True)


def open_crm(ctx: click.Context, *, only: tuple[str, ...] | None = None) -> CRM:
    """The CRM for this invocation (opened once, closed when the command ends). `only`: the
    tables a read-only command needs; it is then opened for reading only."""
    crm = ctx.meta.get("crm.instance")
    if crm is None:
        location = database_location(ctx)
        if only is not None and database_exists(ctx):
            crm = CRM.open_for_reading(location, only, user=chosen_user(ctx), notice=notice)
        else:
            crm = CRM.open(
                location, user=chosen_user(ctx), group_writable=group_writable(ctx), notice=notice
            )
        ctx.meta["crm.instance"] = crm

        def close() -> None:
            try:
                crm.close()
            except (StorageError, OSError) as error:
                warn([f"could not compact the database: {error}"])

        ctx.find_root().call_on_close(close)
    return crm
