"""`crm migrate SOURCE TARGET`: copy a whole database between a file and a PostgreSQL server
(either way, or file to file), with everything it holds (store.migrate)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from store.engine import is_server_location, public_location
from store.migrate import NOUNS, WRITING, migrate, summary
from store.model import STORED_TABLES
from store.service import CRM
from store.text import counted, visible
from tui.cli.context import chosen_user, db_options, group_writable, handle_errors
from tui.cli.errors import CLIError


class MigrationProgress:
    """What `migrate` reports, on stderr: a bar per stage on a terminal, else one line per
    stage once it is done (a log, a pipe)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.tty = sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.tty:
            self._draw(stage, done, total)
        elif done >= total:
            click.echo(self._line(stage, done), err=True)

    def _draw(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            # One width for every label, so that the bars line up (the target is named in
            # the summary: a URL would not fit on the line).
            label = "writing records" if stage == WRITING else f"reading {stage}"
            self.bar = click.progressbar(
                length=max(total, 1), label=f"{label:<19}", file=sys.stderr
            )
            self.bar.render_progress()
        # An empty table is done at once: its bar is full, not at 0%.
        self.bar.update((self.bar.length if done >= total else done) - self.bar.pos)
        if done >= total:
            self.bar.render_finish()
            self.bar = None

    def _line(self, stage: str, done: int) -> str:
        if stage == WRITING:
            return f"wrote {counted(done, 'record')} to {self.target}"
        return f"read {counted(done, NOUNS.get(stage, stage))}"


@click.command("migrate")
@click.argument("source")
@click.argument("target")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the records and trash of a TARGET that holds data (its history is kept).",
)
@db_options
@handle_errors
def migrate_command(ctx: click.Context, source: str, target: str, replace: bool) -> None:
    """Copy the database SOURCE to TARGET, each a file or a postgresql:// URL: every record
    with its id, version and stamps, the trash and the whole history.

    A TARGET that holds anything is refused unless --replace; a server database without the
    CRM's tables gets them. Stop other users' writes to SOURCE while it copies.
    """
    if ctx.meta.get("crm.db"):
        raise click.UsageError("migrate names its databases as SOURCE and TARGET; leave out --db")
    if not is_server_location(source) and not Path(source).expanduser().exists():
        raise CLIError(f"no database at {visible(source)}")
    if not is_server_location(target):
        target = str(Path(target).expanduser())
    source = source if is_server_location(source) else str(Path(source).expanduser())
    shown = visible(public_location(target))
    crm = CRM.open_for_reading(source, tuple(STORED_TABLES), user=chosen_user(ctx))
    try:
        counts = migrate(
            crm,
            target,
            replace=replace,
            progress=MigrationProgress(shown),
            group_writable=group_writable(ctx),
        )
    finally:
        crm.close()
    click.echo(visible(summary(counts, source, target)), err=True)


COMMANDS = (migrate_command,)
