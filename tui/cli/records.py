"""Commands that change records: add, edit, log, done/cancel/reopen and delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from store.dates import format_full
from store.errors import ConflictError
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    FIELD_BY_NAME,
    RECORD_TABLES,
    SINGULAR,
    ActivityStatus,
    Record,
)
from store.service import CRM
from tui.cli.context import db_options, handle_errors, open_crm
from tui.cli.errors import CLIError, FieldProblem, VersionConflict, warn
from tui.cli.fields import (
    FLAG_BY_FIELD,
    FLAG_BY_NAME,
    LOG_TYPES,
    Flag,
    collect_fields,
    field_options,
    find_record,
    flag_for,
    resolve_regarding,
)

F = TypeVar("F", bound=Callable[..., Any])

# ---------------------------------------------------------------------------- add


@click.group()
@db_options
def add() -> None:
    """Create an account or a contact; prints its id."""


@add.command("account")
@field_options(ACCOUNTS)
@db_options
@handle_errors
def add_account(ctx: click.Context, **values: Any) -> None:
    """Create an account; prints its id. Warnings (possible duplicates) go to stderr.

    \b
    Example: crm add account --name "Acme Ltd" --relationship customer --city Oslo
    """
    _create(ctx, ACCOUNTS, values)


@add.command("contact")
@field_options(CONTACTS)
@db_options
@handle_errors
def add_contact(ctx: click.Context, **values: Any) -> None:
    """Create a contact; prints its id. Warnings (possible duplicates) go to stderr.

    \b
    Example: crm add contact --first-name Ada --last-name Lovelace --account "Acme Ltd"
    """
    _create(ctx, CONTACTS, values)


def _create(ctx: click.Context, table: str, values: dict[str, Any]) -> None:
    crm = open_crm(ctx)
    result = crm.create(table, collect_fields(crm, table, values))
    warn(result.warnings)
    click.echo(result.record["id"])


# ---------------------------------------------------------------------------- --if-version

IF_VERSION_HELP = (
    "Change it only if it is still at version N (`crm show ID --json` gives "
    "it); otherwise change nothing and end with exit status 3. Without it the "
    "change goes onto the current version, whoever saved that."
)


def if_version_option(function: F) -> F:
    return click.option(
        "--if-version", "if_version", type=click.IntRange(min=1), metavar="N", help=IF_VERSION_HELP
    )(function)


def find_versioned(
    crm: CRM, reference: str, tables: Sequence[str], if_version: int | None
) -> tuple[str, Record]:
    """find_record; but with --if-version, a record someone deleted since is a conflict, not
    a mistake in the id."""
    try:
        return find_record(crm, reference, tables)
    except CLIError:
        gone = crm.deleted_by(reference.strip()) if if_version is not None else None
        if gone is None:
            raise
        raise VersionConflict(
            f"{reference.strip()} was deleted by {gone.by} at "
            f"{format_full(gone.at)}; nothing changed"
        ) from None


@contextmanager
def unless_changed(crm: CRM, table: str, record_id: str, if_version: int | None) -> Iterator[None]:
    """Runs a change made with `expected_version=if_version`; the service's ConflictError
    becomes one line naming the record, its version now and who saved that."""
    try:
        yield
    except ConflictError as error:
        noun = f"{SINGULAR[table]} {record_id}"
        theirs = error.theirs
        if theirs is None:
            gone = crm.deleted_by(record_id)
            message = f"{noun} was deleted" + (f" by {gone.by}" if gone else "")
        else:
            message = (
                f"{noun} is at version {theirs.get('version', '?')}, not {if_version}: "
                f"last changed by {theirs.get('modified_by', '?')} at "
                f"{format_full(theirs.get('modified_at'))}"
            )
        raise VersionConflict(message + "; nothing changed") from None


# ---------------------------------------------------------------------------- edit


@click.command()
@click.argument("ref", metavar="ID")
@field_options(*RECORD_TABLES, editing=True)
@click.option("--regarding", metavar="REF", help="Activities: the account or contact it is about.")
@click.option(
    "--clear",
    "clear",
    multiple=True,
    metavar="FIELD",
    help="Empty a field (repeatable), e.g. --clear phone --clear parent.",
)
@if_version_option
@db_options
@handle_errors
def edit(
    ctx: click.Context,
    ref: str,
    regarding: str | None,
    clear: tuple[str, ...],
    if_version: int | None,
    **values: Any,
) -> None:
    """Change fields of an account, contact or activity; prints its id.

    ID is an id, or the unique name of an account or contact. Takes the flags of
    `crm add` and `crm log`; an empty value ('') clears a field, as does --clear.
    """
    crm = open_crm(ctx)
    table, record = find_versioned(crm, ref, RECORD_TABLES, if_version)
    changes = collect_fields(crm, table, values, record)
    for name in clear:
        key = name.strip().lstrip("-")
        flag = FLAG_BY_NAME.get(key) or FLAG_BY_FIELD.get(key)
        if flag is None and key in FIELD_BY_NAME[table]:
            flag = Flag(flag_for(key), key, (table,), "")
        if flag is None or table not in flag.tables:
            raise FieldProblem(key or "clear", f"is not a field of {table}")
        if changes.get(flag.field) is not None:
            raise FieldProblem(flag.flag, "is both set and cleared")
        changes[flag.field] = None
    if regarding is not None:
        if table != ACTIVITIES:
            raise FieldProblem("regarding", f"is not a field of {table}")
        changes["regarding_type"], changes["regarding_id"] = resolve_regarding(crm, regarding)
    if not changes:
        raise click.UsageError("nothing to change: give at least one field flag or --clear")
    with unless_changed(crm, table, record["id"], if_version):
        result = crm.update(table, record["id"], changes, expected_version=if_version)
    warn(result.warnings)
    click.echo(record["id"])


# ---------------------------------------------------------------------------- activities


@click.command()
@click.argument("kind", metavar="TYPE", type=click.Choice(tuple(LOG_TYPES), case_sensitive=False))
@click.option(
    "--regarding",
    required=True,
    metavar="REF",
    help="The account or contact it is about: id or unique name.",
)
@field_options(ACTIVITIES)
@db_options
@handle_errors
def log(ctx: click.Context, kind: str, regarding: str, **values: Any) -> None:
    """Log a note, email, call, appointment or task; prints its id.

    \b
    Tasks and appointments start open, the others completed (change with --status).
    Dates: '2026-12-03 14:00', 'tomorrow 9am', '+2d', 'fri'; a day alone stays a day.
    \b
    Examples:
      crm log task --regarding "Acme Ltd" --subject "Send quote" --due +2d
      crm log call --regarding 01J... --subject "Intro" --direction outgoing
      crm log appointment --regarding "Ada Lovelace" --subject Demo --start "fri 10am" --end +1h
    """
    crm = open_crm(ctx)
    kind_value = LOG_TYPES[kind.lower()].value
    regarding_type, regarding_id = resolve_regarding(crm, regarding)
    fields = collect_fields(crm, ACTIVITIES, values)
    fields.update(type=kind_value, regarding_type=regarding_type, regarding_id=regarding_id)
    result = crm.create(ACTIVITIES, fields)
    warn(result.warnings)
    click.echo(result.record["id"])


def _status_command(name: str, status: ActivityStatus, summary: str) -> click.Command:
    @click.command(name, help=f"{summary}; prints its id.")
    @click.argument("ref", metavar="ID")
    @if_version_option
    @db_options
    @handle_errors
    def command(ctx: click.Context, ref: str, if_version: int | None) -> None:
        crm = open_crm(ctx)
        _table, record = find_versioned(crm, ref, (ACTIVITIES,), if_version)
        with unless_changed(crm, ACTIVITIES, record["id"], if_version):
            crm.set_status(record["id"], status.value, expected_version=if_version)
        click.echo(record["id"])

    return command


done = _status_command("done", ActivityStatus.COMPLETED, "Mark an activity completed")
cancel = _status_command("cancel", ActivityStatus.CANCELED, "Cancel an activity")
reopen = _status_command("reopen", ActivityStatus.OPEN, "Open an activity again")


# ---------------------------------------------------------------------------- delete


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "--contacts",
    type=click.Choice(("detach", "delete")),
    help="Accounts: what happens to their contacts.",
)
@click.option(
    "--subsidiaries",
    type=click.Choice(("detach", "reparent")),
    help="Accounts: subsidiaries lose their parent, or move up to this one's parent.",
)
@click.option(
    "--activities",
    type=click.Choice(("delete",)),
    help="Delete the activities regarding it (and its deleted contacts).",
)
@if_version_option
@db_options
@handle_errors
def delete(
    ctx: click.Context,
    ref: str,
    contacts: str | None,
    subsidiaries: str | None,
    activities: str | None,
    if_version: int | None,
) -> None:
    """Move a record to the trash; what depends on it needs an explicit choice.

    ID is an id, or the unique name of an account or contact.
    """
    crm = open_crm(ctx)
    table, record = find_versioned(crm, ref, RECORD_TABLES, if_version)
    with unless_changed(crm, table, record["id"], if_version):
        removed = crm.delete(
            table,
            record["id"],
            contacts=contacts,
            subsidiaries=subsidiaries,
            activities=activities,
            expected_version=if_version,
        )
    click.echo(
        f"deleted {SINGULAR[table]} {record['id']}"
        + (f" and {removed - 1} dependent records" if removed > 1 else "")
    )
    # The first line stays what scripts parse; the second says how to get it back.
    click.echo(f"moved to the trash: `uv run crm restore {record['id']}` brings it back", err=True)


COMMANDS = (add, edit, log, done, cancel, reopen, delete)
