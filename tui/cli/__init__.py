"""The `crm` command line: opens the TUI, or scripts the CRM with subcommands.

Scripting commands import only click, platformdirs, wcwidth and store/ (never textual, rich,
icalendar or vobject) so that `crm list` starts fast; tests/test_import_hygiene.py holds the
package to that. Every error reaches the user as one line on stderr, `error: <field>:
<problem>`, and a non-zero exit status (tui.cli.errors); click's usage errors keep their form.

The rooms, each importing only those before it:
  errors   CLIError and the exit statuses         output   tables that fit, JSON
  fields   the flag table, reading flag values    context  --db/--user/--group, open_crm,
  records  add, edit, log, done/cancel/reopen,             handle_errors
           delete                                 reading  list, show, agenda
  transfer import, export                         upkeep   demo, check, compact, recover
  safety   trash, restore, purge, history, undo
  cleanup  duplicates, merge
  migrate  migrate (a whole database, between engines)

A new command is a click command in one of the rooms, decorated `@db_options` and
`@handle_errors` (which passes the click context first), added to COMMANDS there and named in
ROOMS below: a command's room is imported only when it runs (`crm log` does not load the
merge, import or migration code), and `crm --help` imports them all.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from store.text import visible
from tui.cli.context import (
    chosen_user,
    database_location,
    db_options,
    demo_database_path,
    ensure_demo_database,
    group_writable,
    handle_errors,
)
from tui.cli.errors import CLIError

# Each command and the room that holds it (tests/test_cli.py checks these against COMMANDS).
ROOMS = {
    **dict.fromkeys(("add", "edit", "log", "done", "cancel", "reopen", "delete"), "records"),
    **dict.fromkeys(("list", "show", "agenda"), "reading"),
    **dict.fromkeys(("import", "export"), "transfer"),
    **dict.fromkeys(("init", "demo", "check", "compact", "recover"), "upkeep"),
    **dict.fromkeys(("trash", "restore", "purge", "history", "undo"), "safety"),
    **dict.fromkeys(("duplicates", "merge"), "cleanup"),
    "migrate": "migrate",
}


class _Rooms(click.Group):
    """The commands, each loaded from its room when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(ROOMS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        room = ROOMS.get(cmd_name)
        if room is None:
            return None
        commands = importlib.import_module(f"tui.cli.{room}").COMMANDS
        return next((c for c in commands if c.name == cmd_name), None)


@click.group(
    "crm",
    cls=_Rooms,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--demo", is_flag=True, help="Open the TUI on a demo database (never your data).")
@db_options
@click.version_option(package_name="termcrm", prog_name="crm")
@handle_errors
def cli(ctx: click.Context, demo: bool) -> None:
    """A keyboard-first CRM. Without a command, opens the full-screen app.

    Every command accepts --db, --user and --group, before or after its name.
    """
    if ctx.invoked_subcommand is not None:
        if demo:
            raise click.UsageError("--demo only opens the app; it takes no command")
        return
    if demo:
        if ctx.meta.get("crm.db"):
            raise click.UsageError("--demo and --db cannot be used together")
        path = str(ensure_demo_database(demo_database_path(), user=chosen_user(ctx)))
    else:
        path = database_location(ctx)
    # The one import of the app, and only here: it brings in textual and rich, which no
    # scripting command may load (startup time, and a CLI that works without a terminal UI).
    try:
        from tui.app import run_tui
    except ImportError as error:
        raise CLIError(f"the full-screen app is not available: {error}") from None
    run_tui(path, chosen_user(ctx), group_writable(ctx))


def main(argv: Sequence[str] | None = None) -> None:
    """The `crm` console script: no traceback ever reaches the user (set CRM_DEBUG=1)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="crm")
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if os.environ.get("CRM_DEBUG"):
            raise
        message = visible(str(error).splitlines()[0] if str(error) else "")
        click.echo(
            f"error: unexpected {type(error).__name__}"
            + (f": {message}" if message else "")
            + " (CRM_DEBUG=1 shows details)",
            err=True,
        )
        sys.exit(1)
