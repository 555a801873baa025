"""`crm import` and `crm export`: bring CSV, vCard and iCalendar data in, and take it out."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from click.core import ParameterSource

from store.files import write_file
from store.io.common import read_import_file
from store.io.jobs import EXPORT_KINDS, IMPORT_KINDS, export_data, prepare_import, run_import
from store.migrate import migrate, summary
from store.model import ACTIVITIES
from store.queries import ListQuery, TimelineQuery
from store.service import CRM
from store.text import counted, visible
from tui.cli.context import (
    chosen_user,
    database_exists,
    db_options,
    group_writable,
    handle_errors,
    open_crm,
)
from tui.cli.errors import CLIError

MAX_LISTED = 50


@click.command("import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS, case_sensitive=False))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=field",
    help="CSV: feed a column into a field (repeatable); `COLUMN=` skips a column.",
)
@click.option(
    "--unknown",
    type=click.Choice(("keep", "skip")),
    default="keep",
    show_default=True,
    help="CSV: columns that are not recognised go into the description, or nowhere.",
)
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="Import nothing if any row has an error (default: the valid rows).",
)
@click.option(
    "--create-accounts/--no-create-accounts",
    default=True,
    show_default=True,
    help="Contacts: create the accounts they name that do not exist yet, or import "
    "those contacts without an account.",
)
@click.option(
    "--regarding",
    metavar="REF",
    help="Activities and .ics: the account or contact they are about (for rows that do not say).",
)
@db_options
@handle_errors
def import_command(
    ctx: click.Context,
    kind: str,
    file: Path,
    dry_run: bool,
    maps: tuple[str, ...],
    unknown: str,
    all_or_nothing: bool,
    create_accounts: bool,
    regarding: str | None,
) -> None:
    """Import FILE: accounts|contacts|activities (CSV), vcard (.vcf) or ics (.ics).

    CSV columns are recognised by name (Dynamics 365, Salesforce and common names, any case);
    references (parent account, account, primary contact, regarding) may be ids, the source
    system's ids or names, and are resolved after the whole file is read. Importing the same
    file again updates the records it created instead of duplicating them.
    """
    kind = kind.lower()

    def reading(done: int, total: int) -> None:
        if sys.stderr.isatty() and total >= 2_000:
            click.echo(f"\rreading {done:,}/{total:,} events", err=True, nl=done >= total)

    try:
        prepared = prepare_import(
            kind,
            read_import_file(file),
            maps=list(maps),
            keep_unknown=unknown == "keep",
            progress=reading,
        )
    except ValueError as error:
        raise CLIError(f"{file}: {error}") from None
    if dry_run and not database_exists(ctx):
        # A dry run writes nothing, not even a new empty database: plan against an empty one.
        scratch = tempfile.TemporaryDirectory()
        ctx.call_on_close(scratch.cleanup)
        crm = CRM.open(Path(scratch.name) / "dry-run.json", user=chosen_user(ctx))
    else:
        crm = open_crm(ctx)
    if prepared.mapping is not None:
        click.echo(
            f"{visible(file.name)}: {counted(len(prepared.rows), 'row')}, "
            f"{prepared.encoding}, delimiter {prepared.delimiter!r}"
        )
        for line in prepared.mapping_lines():
            click.echo("  " + visible(line))
    show_progress = sys.stderr.isatty() and len(prepared.rows) >= 2_000

    def progress(done: int, total: int) -> None:
        if show_progress:
            click.echo(f"\rchecking {done:,}/{total:,} rows", err=True, nl=done >= total)

    report = run_import(
        crm,
        prepared,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        regarding=regarding,
        create_accounts=create_accounts,
        progress=progress,
        source=file.name,
    )
    for note in report.notes:
        click.echo("note: " + visible(note), err=True)
    for issue in report.errors[:MAX_LISTED]:
        click.echo("error: " + visible(str(issue)), err=True)
    for issue in report.warnings[:MAX_LISTED]:
        click.echo("warning: " + visible(str(issue)), err=True)
    hidden = max(0, len(report.errors) - MAX_LISTED) + max(0, len(report.warnings) - MAX_LISTED)
    if hidden:
        click.echo(f"({hidden} more not shown)", err=True)
    click.echo(report.summary())
    if report.errors:
        ctx.exit(1)


@click.command("export")
@click.argument("kind", type=click.Choice((*EXPORT_KINDS, "database"), case_sensitive=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="For accounts, contacts and activities.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
@click.option(
    "--search",
    metavar="TEXT",
    help="Only the records that match (activities: subject and description).",
)
@click.option("--regarding", metavar="REF", help="Activities or ics: only this record's.")
@db_options
@handle_errors
def export_command(
    ctx: click.Context,
    kind: str,
    fmt: str,
    output: Path | None,
    search: str | None,
    regarding: str | None,
) -> None:
    """Export accounts|contacts|activities (CSV with the documented field names, or JSON),
    vcard (contacts, and accounts as KIND:org), ics (appointments and tasks), or the whole
    database as a termcrm database file (`database --output FILE`, a new file)."""
    kind = kind.lower()
    if kind == "database":
        _export_database(ctx, output, search, regarding)
        return
    if regarding and kind not in ("activities", "ics"):
        raise click.UsageError("--regarding applies to activities and ics exports")
    if fmt == "json" and kind in ("vcard", "ics"):
        raise click.UsageError("--format applies to accounts, contacts and activities")
    crm = open_crm(ctx)
    ids = None
    if search and kind in ("accounts", "contacts", "vcard"):
        table = "contacts" if kind == "vcard" else kind
        ids = list(crm.search(table, ListQuery(text=search, status=None)))
    if regarding:
        _type, record_id = crm.resolve_regarding(regarding)
        ids = [a["id"] for a in crm.timeline(record_id, TimelineQuery(text=search or ""))]
    elif search and kind in ("activities", "ics"):
        found = {a["id"] for a in crm.search_activities(search)}
        # The order this export has always had (the database's own), not newest first.
        ids = [record_id for record_id in crm.all(ACTIVITIES) if record_id in found]
    data = export_data(crm, kind, fmt, ids)
    if output is None:
        if sys.stdout.isatty():
            # Records' controls would drive the terminal (OSC 52 writes the clipboard): show
            # them as `crm list` does. A pipe or a file gets the exact bytes.
            data = visible(data.decode("utf-8"), multiline=True).encode("utf-8")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(output, data, crm.file_mode())
        click.echo(f"wrote {visible(output)}", err=True)


def _export_database(
    ctx: click.Context, output: Path | None, search: str | None, regarding: str | None
) -> None:
    """The database (a file, or a server's) as a new termcrm database file, which plain
    TinyDB reads: every record, the trash and the history (`crm migrate` to a new file)."""
    if output is None:
        raise click.UsageError("export database needs --output FILE (a new file)")
    if search or regarding or ctx.get_parameter_source("fmt") is not ParameterSource.DEFAULT:
        raise click.UsageError("--format, --search and --regarding do not apply to a database")
    if output.exists() or output.is_symlink():
        raise CLIError(f"{visible(output)} exists; export database writes a new file")
    crm = open_crm(ctx)
    counts = migrate(crm, output, group_writable=group_writable(ctx))
    click.echo(visible(summary(counts, crm.location, str(output))), err=True)


COMMANDS = (import_command, export_command)
