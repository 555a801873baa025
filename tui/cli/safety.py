"""The safety net: trash, restore, purge, history and undo."""

from __future__ import annotations

import re
import sys
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import click

from store.dates import format_full
from store.errors import NotFoundError, TrashedParentError, UndoConflict
from store.history import HistoryEntry
from store.model import SINGULAR
from store.service import CRM, TrashEntry
from store.text import counted, fold, visible
from tui.cli.context import db_options, db_options_for_reading, handle_errors, open_crm
from tui.cli.errors import CLIError
from tui.cli.fields import find_record, parse_date
from tui.cli.output import Column, echo_table, emit_json, when_text


class UndoRefused(CLIError):
    """Someone changed the record since: a status of its own, like --if-version's."""

    exit_code = 3


def _trashed(crm: CRM, reference: str) -> TrashEntry:
    """A trash entry by record id, or by the unique name of a record in the trash."""
    reference = reference.strip()
    entry = crm.in_trash(reference)
    if entry is not None:
        return entry
    named = [e for e in crm.trash() if fold(e.name) == fold(reference)]
    if len(named) == 1:
        return named[0]
    if named:
        listed = ", ".join(f"{e.name} ({e.record_id})" for e in named[:5])
        raise CLIError(
            f"'{reference}' names {len(named)} records in the trash: {listed}; use an id"
        )
    raise CLIError(f"'{reference}' is not in the trash (`uv run crm trash` lists what is)")


def _what(entry: TrashEntry) -> str:
    return entry.what  # the Trash screen names it the same way


@click.command("trash")
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
@db_options
@handle_errors
def trash(ctx: click.Context, as_json: bool) -> None:
    """List what is in the trash: what, who deleted it, when, with how many dependants."""
    entries = open_crm(ctx).trash()
    if as_json:
        emit_json([asdict(e) for e in entries])
        return
    if not entries:
        click.echo("the trash is empty", err=True)
        return
    echo_table(
        [
            Column("Deleted", [when_text(e.deleted_at) for e in entries], min_width=10),
            Column("By", [visible(e.deleted_by) for e in entries], drop=3),
            Column("What", [visible(_what(e)) for e in entries], flex=True, min_width=20),
            Column("Id", [e.record_id for e in entries], drop=1),
        ]
    )


@click.command("restore")
@click.argument("ref", metavar="ID")
@click.option(
    "--with-parents",
    is_flag=True,
    help="Also restore the account or parent it needs, when that is in the trash too.",
)
@db_options
@handle_errors
def restore(ctx: click.Context, ref: str, with_parents: bool) -> None:
    """Bring back a record from the trash, with everything deleted with it and its links."""
    crm = open_crm(ctx)
    entry = _trashed(crm, ref)
    try:
        result = crm.restore(entry.record_id, with_parents=with_parents)
    except TrashedParentError as error:
        if not (sys.stdin.isatty() and click.confirm(f"{visible(error)}. Restore both?")):
            raise CLIError(f"{error}") from None
        result = crm.restore(entry.record_id, with_parents=True)
    click.echo(f"restored {visible(_what(entry))}: {counted(result.restored, 'record')} back")


_AGE = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")


def _age(text: str) -> timedelta:
    match = _AGE.match(text)
    if not match:
        raise click.BadParameter("give a number of days, hours or weeks, e.g. 30d, 12h, 2w")
    number, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "w": "weeks"}[unit]: number})


@click.command("purge")
@click.argument("ref", metavar="[ID]", required=False)
@click.option("--older-than", metavar="AGE", help="Everything deleted longer ago, e.g. 30d.")
@click.option("--yes", is_flag=True, help="Do not ask.")
@db_options
@handle_errors
def purge(ctx: click.Context, ref: str | None, older_than: str | None, yes: bool) -> None:
    """Delete records in the trash for good: one (ID) or those deleted longer ago than AGE."""
    if (ref is None) == (older_than is None):
        raise click.UsageError("give an ID or --older-than AGE")
    crm = open_crm(ctx)
    age = _age(older_than) if older_than else None
    if ref is not None:
        chosen = [_trashed(crm, ref)]
    else:
        chosen = crm.trash(older_than=age)
    if not chosen:
        click.echo("nothing to purge", err=True)
        return
    what = visible(_what(chosen[0])) if len(chosen) == 1 else counted(len(chosen), "deletion")
    if not yes:
        if not sys.stdin.isatty():
            raise CLIError("purging cannot be undone: add --yes to purge without being asked")
        click.confirm(f"Delete {what} for good? This cannot be undone", abort=True)
    gone = crm.purge([e.record_id for e in chosen])
    click.echo(f"purged {what}: {counted(gone, 'record')} deleted for good")


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    data = asdict(entry)
    data["changes"] = [
        {**asdict(c), "fields": {k: list(v) for k, v in c.fields.items()}} for c in entry.changes
    ]
    return data


def _value(value: Any) -> str:
    return "∅" if value is None or value == "" else visible(str(value))


def echo_history(entries: list[HistoryEntry], record_id: str | None = None) -> None:
    for entry in entries:
        undo = f"  (undoes {entry.undoes})" if entry.undoes else ""
        click.echo(
            f"{when_text(entry.at)}  {visible(entry.by)}  {visible(entry.summary)}{undo}"
            f"  [{entry.batch_id}]"
        )
        for change in entry.changes:
            if record_id is not None and change.record_id != record_id:
                continue
            if record_id is None or change.action != "update":
                click.echo(
                    f"    {change.action} {SINGULAR.get(change.table, change.table)} "
                    f"{visible(change.name)}"
                )
            for name, (old, new) in change.fields.items():
                click.echo(f"      {name}: {_value(old)} → {_value(new)}")


@click.command("history")
@click.argument("ref", metavar="[ID]", required=False)
@click.option("--user", metavar="USER", help="Only this user's changes.")
@click.option("--since", metavar="DATE", help="Only changes since this day, e.g. 2026-11-01.")
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
@db_options_for_reading
@handle_errors
def history(
    ctx: click.Context, ref: str | None, user: str | None, since: str | None, as_json: bool
) -> None:
    """Every change, newest first: who, when, and each field's old and new value.

    With ID (a record's id, or its unique name), that record's history, also once it is in
    the trash."""
    crm = open_crm(ctx)
    record_id = None
    if ref is not None:
        found = crm.find(ref.strip())
        record_id = found[1]["id"] if found else None
        if record_id is None:
            trashed = crm.in_trash(ref.strip())
            if trashed is not None:
                record_id = trashed.record_id
            else:
                record_id = find_record(crm, ref)[1]["id"]
    entries = crm.history(record_id, user=user, since=parse_date("since", since) if since else None)
    if as_json:
        emit_json([_history_json(e) for e in entries])
    elif not entries:
        click.echo("no changes recorded", err=True)
    else:
        echo_history(entries, record_id)


@click.command("undo")
@click.argument("batch", metavar="[CHANGE]", required=False)
@click.option("--list", "listing", is_flag=True, help="List your changes that can be undone.")
@db_options
@handle_errors
def undo(ctx: click.Context, batch: str | None, listing: bool) -> None:
    """Undo your last change (a save, a status, a delete, a whole import, a merge), or the
    change CHANGE (an id from `--list` or `crm history`; an undo's id redoes it).

    The undo is a change of its own; it is refused, changing nothing, when someone has
    changed the same record since (exit status 3)."""
    crm = open_crm(ctx)
    if listing:
        entries = crm.undoable()
        if not entries:
            click.echo("nothing of yours to undo", err=True)
        echo_history(entries[:20])
        return
    try:
        entry, _result = crm.undo(batch.strip() if batch else None)
    except UndoConflict as error:
        raise UndoRefused(str(error)) from None
    except NotFoundError as error:
        raise CLIError(str(error)) from None
    click.echo(f"undone: {visible(entry.summary)} ({format_full(entry.at)})")


COMMANDS = (trash, restore, purge, history, undo)
