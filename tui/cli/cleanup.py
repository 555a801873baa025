"""Commands that tidy the records: duplicates (likely pairs) and merge."""

from __future__ import annotations

import sys
from typing import Any

import click

from store.errors import ConflictError, MergeRefused
from store.merging import (
    MERGEABLE,
    SAME_EMAIL,
    SAME_NAME,
    SIMILAR,
    DuplicatePair,
    duplicate_pairs,
    plan_merge,
)
from store.model import ACCOUNTS, CONTACTS, FIELD_BY_NAME, SINGULAR, display_name
from store.service import CRM
from store.text import counted, visible
from tui.cli.context import db_options, handle_errors, open_crm
from tui.cli.errors import CLIError, VersionConflict
from tui.cli.fields import FLAG_BY_FIELD, FLAG_BY_NAME, find_record
from tui.cli.output import Column, echo_table, emit_json

# ---------------------------------------------------------------------------- duplicates


@click.command()
@click.argument(
    "table", metavar="accounts|contacts", type=click.Choice([t.value for t in MERGEABLE])
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of the pairs instead.")
@db_options
@handle_errors
def duplicates(ctx: click.Context, table: str, as_json: bool) -> None:
    """List likely duplicate accounts or contacts, two lines a pair: the one to keep first.

    \b
    A pair has the same email (any case), the same name (case, accents and punctuation
    ignored) or names that are close; merge one with `crm merge KEEP OTHER`.
    """
    crm = open_crm(ctx, only=(ACCOUNTS, CONTACTS))
    pairs = duplicate_pairs(crm, table)
    if as_json:
        emit_json([_pair_json(crm, pair) for pair in pairs])
        return
    if not pairs:
        click.echo(f"no likely duplicate {table}", err=True)
        return
    numbers, roles, ids, names, details, why = [], [], [], [], [], []
    for number, pair in enumerate(pairs, 1):
        for role, record_id in (("keep", pair.keep_id), ("other", pair.other_id)):
            record = crm.get(table, record_id) or {}
            numbers.append(str(number) if role == "keep" else "")
            roles.append(role)
            ids.append(record_id)
            names.append(display_name(table, record))
            details.append(crm.describe(table, record))
            why.append(_why(pair) if role == "keep" else "")
    echo_table(
        [
            Column("#", numbers),
            Column("", roles),
            Column("ID", ids),
            Column("NAME", names, flex=True, min_width=20),
            Column("MATCH", why),
            Column("DETAILS", details, flex=True, min_width=12, drop=1),
        ]
    )
    click.echo(f"{counted(len(pairs), 'likely pair')}; merge one: crm merge KEEP OTHER", err=True)


_MATCH = {SAME_EMAIL: "email", SAME_NAME: "name", SIMILAR: "similar"}


def _why(pair: DuplicatePair) -> str:
    """`email, name`, `similar 92%`: short, so that the names keep the room at 80 columns."""
    return ", ".join(
        f"{_MATCH[reason]} {pair.score}%" if reason == SIMILAR else _MATCH[reason]
        for reason in pair.reasons
    )


def _pair_json(crm: CRM, pair: DuplicatePair) -> dict[str, Any]:
    def side(record_id: str) -> dict[str, str]:
        return {"id": record_id, "name": crm.name_of(pair.table, record_id)}

    return {
        "table": pair.table,
        "keep": side(pair.keep_id),
        "other": side(pair.other_id),
        "reasons": list(pair.reasons),
        "score": pair.score,
    }


# ---------------------------------------------------------------------------- merge


@click.command()
@click.argument("keep_ref", metavar="KEEP")
@click.argument("other_ref", metavar="OTHER")
@click.option(
    "--take",
    multiple=True,
    metavar="FIELD",
    help="Take this field from OTHER even where KEEP has one (repeatable): --take phone.",
)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@db_options
@handle_errors
def merge(
    ctx: click.Context, keep_ref: str, other_ref: str, take: tuple[str, ...], yes: bool
) -> None:
    """Merge two accounts or two contacts: OTHER goes into KEEP, and to the trash.

    KEEP and OTHER are ids or unique names. KEEP fills its empty fields from OTHER (and takes
    the --take fields whatever it has); OTHER's activities, contacts, subsidiaries and
    primary-contact links move to KEEP. One change: `crm undo` takes it back. On a terminal
    it asks first, unless --yes.
    """
    crm = open_crm(ctx)
    table, keep = find_record(crm, keep_ref, MERGEABLE)
    _other_table, other = find_record(crm, other_ref, MERGEABLE)
    try:
        plan = plan_merge(crm, table, keep["id"], other["id"], [_field(table, t) for t in take])
    except MergeRefused as error:
        raise CLIError(str(error)) from None
    moved = plan.moved_counts
    summary = (
        f"merge {SINGULAR[table]} {display_name(table, plan.other)} ({other['id']}) into "
        f"{display_name(table, plan.keep)} ({keep['id']})"
        + (f", moving {', '.join(moved)}" if moved else "")
        + (f", taking {', '.join(plan.taken)}" if plan.taken else "")
    )
    if not yes and sys.stdin.isatty():
        click.confirm(visible(summary[:1].upper() + summary[1:]) + "?", abort=True, err=True)
    try:
        crm.apply(plan.batch)
    except ConflictError as error:
        # Versions as read: a record someone saved since the plan refuses the whole merge.
        raise VersionConflict(f"{error}; nothing merged (run it again)") from None
    click.echo(visible(plan.outcome))


def _field(table: str, name: str) -> str:
    """A field named as its flag (`--city`, `city`) or as stored (`address_city`)."""
    key = name.strip().lstrip("-")
    flag = FLAG_BY_NAME.get(key) or FLAG_BY_FIELD.get(key)
    if flag is not None and table in flag.tables:
        return flag.field
    if key in FIELD_BY_NAME[table]:
        return key
    raise CLIError(f"--take: '{key}' is not a field of {table}")


COMMANDS = (duplicates, merge)
