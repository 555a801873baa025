"""Commands that look after the database file: demo, check, compact and recover."""

from __future__ import annotations

from pathlib import Path

import click

from store.engine import is_server_location, public_location
from store.errors import CorruptDatabaseError
from store.model import RECORD_TABLES, SINGULAR
from store.recovery import recover as rescue_into
from store.recovery import scan
from store.service import CRM
from store.text import counted, visible
from tui.cli.context import (
    DEMO_SIZE,
    chosen_user,
    database_location,
    database_path,
    db_options,
    group_writable,
    handle_errors,
    open_crm,
)
from tui.cli.errors import CLIError

SIZES = ("S", "M", "L")


@click.command()
@click.option(
    "--size",
    type=click.Choice(SIZES, case_sensitive=False),
    default=DEMO_SIZE,
    show_default=True,
    help="How much data: S, M or L.",
)
@click.option(
    "--seed", type=int, default=None, help="Random seed: the same seed gives the same data."
)
@click.option("--force", is_flag=True, help="Replace the records already in the database.")
@db_options
@handle_errors
def demo(ctx: click.Context, size: str, seed: int | None, force: bool) -> None:
    """Fill the database with generated demo data."""
    crm = open_crm(ctx)
    existing = sum(crm.count(table) for table in RECORD_TABLES)
    if existing and not force:
        raise CLIError(
            f"{crm.location} already has {existing} records; "
            "use --force to replace them all with demo data"
        )
    # Imported here, not above: the generator's name pools would slow every other command.
    from store.demo import fill

    if seed is None:
        fill(crm, size.upper())
    else:
        fill(crm, size.upper(), seed)
    counts = ", ".join(f"{crm.count(t)} {t}" for t in RECORD_TABLES)
    click.echo(f"{counts} in {visible(crm.location)}", err=True)


@click.command()
@db_options
@handle_errors
def check(ctx: click.Context) -> None:
    """Check the database's integrity; exits 1 when there are problems.

    A database too damaged to open is read leniently instead, and every piece of damage is
    listed: `crm recover` then rescues the rest into a new database.
    """
    try:
        crm = open_crm(ctx)
    except CorruptDatabaseError as error:
        damage = scan(database_path(ctx)).damage
        for item in damage:
            click.echo(visible(item))
        click.echo(
            f"{counted(max(1, len(damage)), 'problem')} found: the database cannot be "
            "opened as it is; `crm recover --to NEW.json` rescues the rest into a new "
            "database",
            err=True,
        )
        if not damage:
            click.echo("error: " + visible(error), err=True)
        ctx.exit(1)
    problems = crm.check()
    for note in crm.check_derived():  # repaired already: told, not counted as a problem
        click.echo(visible(note), err=True)
    for problem in problems:
        click.echo(visible(problem))
    if problems:
        click.echo(f"{counted(len(problems), 'problem')} found", err=True)
        ctx.exit(1)
    counts = ", ".join(counted(crm.count(t), SINGULAR[t]) for t in RECORD_TABLES)
    click.echo(f"no problems ({counts})", err=True)


@click.command()
@click.option(
    "--users-name-themselves/--users-are-their-role",
    default=None,
    help="PostgreSQL: stamp saves with the name a user gives (--user, $CRM_USER) instead of "
    "their login role (the default: nobody can save as someone else).",
)
@click.option(
    "--team",
    metavar="ROLE",
    help="PostgreSQL: let the members of this group role work in the CRM (read and save "
    "records, use the trash, add to the history; never change the history or the tables).",
)
@db_options
@handle_errors
def init(ctx: click.Context, users_name_themselves: bool | None, team: str | None) -> None:
    """Create a database: the tables on a PostgreSQL server (`--db postgresql://...`), or an
    empty database file. On a database made by an older termcrm, brings it up to date.
    Run it as the database's owner (the admin); see README, "A team on PostgreSQL"."""
    location = database_location(ctx)
    made = CRM.init(
        location,
        users_name_themselves=users_name_themselves,
        team=team,
        group_writable=group_writable(ctx),
    )
    shown = visible(public_location(location))
    click.echo(f"{'created' if made else 'already there:'} {shown}", err=True)


@click.command()
@db_options
@handle_errors
def compact(ctx: click.Context) -> None:
    """Fold the journal into the database file.

    Afterwards the file alone (read by plain TinyDB) holds every record.
    """
    crm = open_crm(ctx)
    if is_server_location(crm.location):
        click.echo(
            f"nothing to compact: {visible(crm.location)} is on a PostgreSQL server, which "
            "keeps its own files (autovacuum)",
            err=True,
        )
        return
    crm.compact()
    click.echo(f"compacted {visible(crm.location)}", err=True)


@click.command()
@click.option(
    "--to",
    "target",
    required=True,
    metavar="NEW",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new database file to write (must not exist).",
)
@db_options
@handle_errors
def recover(ctx: click.Context, target: Path) -> None:
    """Rescue what can be read from a damaged database into a new one.

    The damaged files are only read, never changed. Every entry that had to be dropped, and
    every record kept that may have been altered, is listed; then `crm check` on the new
    database lists the references the drops left dangling.
    """
    rescue = rescue_into(database_path(ctx), target, user=chosen_user(ctx))
    for item in rescue.damage:
        click.echo(visible(item))
    click.echo(
        f"rescued {rescue.counts()} into {visible(target)}; "
        f"{counted(len(rescue.damage), 'problem')} listed",
        err=True,
    )


COMMANDS = (init, demo, check, compact, recover)
