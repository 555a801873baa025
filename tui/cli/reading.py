"""Commands that read: list, show and agenda."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from store.dates import format_full
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    FIELD_BY_NAME,
    REGARDING_TABLE,
    SINGULAR,
    Record,
    Relationship,
    activity_status_label,
    activity_type_label,
    activity_when,
    display_name,
)
from store.queries import ListQuery, TimelineQuery
from store.service import CRM
from store.text import visible
from tui.cli.context import db_options, handle_errors, open_crm
from tui.cli.errors import FieldProblem
from tui.cli.fields import (
    LOG_TYPES,
    STATUS_CHOICES,
    find_record,
    resolve_ref,
    resolve_regarding,
)
from tui.cli.output import (
    Column,
    cell_width,
    echo_table,
    emit_json,
    render_table,
    terminal_width,
    when_text,
)

LIST_TABLES = {"accounts": ACCOUNTS, "contacts": CONTACTS, "activities": ACTIVITIES}
_SINGULAR_TABLES = {"account": "accounts", "contact": "contacts", "activity": "activities"}


class TableChoice(click.Choice[str]):
    """accounts, contacts or activities (the singular is accepted too)."""

    def __init__(self) -> None:
        super().__init__(tuple(LIST_TABLES), case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str):
            value = _SINGULAR_TABLES.get(value.lower(), value)
        return super().convert(value, param, ctx)


def _account_columns(crm: CRM, records: list[Record]) -> list[Column]:
    return [
        Column("ID", [r["id"] for r in records]),
        Column("NAME", [display_name(ACCOUNTS, r) for r in records], flex=True, min_width=16),
        Column("RELATIONSHIP", [r.get("relationship", "") for r in records], drop=3),
        Column(
            "CITY", [r.get("address_city", "") for r in records], flex=True, min_width=10, drop=2
        ),
        Column("PHONE", [r.get("phone", "") for r in records], flex=True, min_width=12, drop=1),
        Column("EMAIL", [r.get("email", "") for r in records], flex=True, min_width=14, drop=0),
    ]


def _contact_columns(crm: CRM, records: list[Record]) -> list[Column]:
    return [
        Column("ID", [r["id"] for r in records]),
        Column("NAME", [display_name(CONTACTS, r) for r in records], flex=True, min_width=14),
        Column(
            "ACCOUNT",
            [crm.name_of(ACCOUNTS, r.get("account_id")) for r in records],
            flex=True,
            min_width=12,
            drop=3,
        ),
        Column("EMAIL", [r.get("email", "") for r in records], flex=True, min_width=14, drop=2),
        Column(
            "PHONE",
            [r.get("phone") or r.get("mobile") or "" for r in records],
            flex=True,
            min_width=12,
            drop=1,
        ),
        Column("TITLE", [r.get("job_title", "") for r in records], flex=True, min_width=10, drop=0),
    ]


def _activity_columns(crm: CRM, records: list[Record], regarding: bool = True) -> list[Column]:
    columns = [
        Column("ID", [r["id"] for r in records]),
        Column("WHEN", [when_text(activity_when(r)) for r in records]),
        Column("TYPE", [activity_type_label(r.get("type")) for r in records]),
        Column("STATUS", [activity_status_label(r.get("status")) for r in records], drop=1),
        Column("SUBJECT", [display_name(ACTIVITIES, r) for r in records], flex=True, min_width=14),
    ]
    if regarding:
        columns.append(
            Column(
                "REGARDING",
                crm.regarding_names(records),
                flex=True,
                min_width=10,
                drop=2,
            )
        )
    return columns


# ---------------------------------------------------------------------------- list


@click.command("list")
@click.argument("what", metavar="accounts|contacts|activities", type=TableChoice())
@click.option(
    "--search",
    "text",
    default="",
    metavar="TEXT",
    help="Words that must all appear (names, email, phone, city; activities: "
    "subject and description).",
)
@click.option(
    "--regarding",
    metavar="REF",
    help="Activities: the timeline of this account or contact (id or unique name).",
)
@click.option(
    "--with-contacts",
    is_flag=True,
    help="Activities --regarding an account: include its contacts' activities.",
)
@click.option("--account", metavar="REF", help="Contacts: only those of this account.")
@click.option(
    "--relationship",
    type=click.Choice(tuple(Relationship), case_sensitive=False),
    metavar="RELATIONSHIP",
    help="Accounts: only this relationship (" + ", ".join(Relationship) + ").",
)
@click.option(
    "--status",
    metavar="STATUS",
    help="Accounts/contacts: active or inactive; activities: open, completed, canceled.",
)
@click.option(
    "--type",
    "kinds",
    multiple=True,
    type=click.Choice(tuple(LOG_TYPES), case_sensitive=False),
    help="Activities: only this type (repeatable).",
)
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of the records instead.")
@db_options
@handle_errors
def list_records(
    ctx: click.Context,
    what: str,
    text: str,
    regarding: str | None,
    with_contacts: bool,
    account: str | None,
    relationship: str | None,
    status: str | None,
    kinds: tuple[str, ...],
    limit: int | None,
    as_json: bool,
) -> None:
    """List accounts, contacts or activities as a table (or JSON).

    Accounts and contacts are sorted by name, activities newest first.
    """
    table = LIST_TABLES[what.lower()]
    needs = {ACCOUNTS: (ACCOUNTS,), CONTACTS: (ACCOUNTS, CONTACTS)}.get(table)
    crm = open_crm(ctx, only=needs)
    status = status.strip().lower() if status else None
    if status and status not in STATUS_CHOICES[table]:
        raise FieldProblem(
            "status", f"'{status}' is not one of: " + ", ".join(STATUS_CHOICES[table])
        )
    _only(table, ACTIVITIES, regarding=regarding, with_contacts=with_contacts, type=kinds)
    _only(table, CONTACTS, account=account)
    _only(table, ACCOUNTS, relationship=relationship)
    if table == ACTIVITIES:
        records = _activities(crm, text, regarding, with_contacts, status, kinds)
    else:
        query = ListQuery(
            text=text, relationship=relationship.lower() if relationship else None, status=status
        )
        if account:
            query.account_id = resolve_ref(crm, ACCOUNTS, account, "account")
        records = crm.records(table, crm.search(table, query))
    if limit is not None:
        records = records[:limit]
    if as_json:
        emit_json(records)
        return
    if not records:
        click.echo(f"no {table}", err=True)
        return
    if table == ACCOUNTS:
        echo_table(_account_columns(crm, records))
    elif table == CONTACTS:
        echo_table(_contact_columns(crm, records))
    else:
        echo_table(_activity_columns(crm, records, regarding=not regarding or with_contacts))


def _only(table: str, wanted: str, **given: Any) -> None:
    for name, value in given.items():
        if value and table != wanted:
            raise FieldProblem(name.replace("_", "-"), f"only applies to {wanted}")


def _activities(
    crm: CRM,
    text: str,
    regarding: str | None,
    with_contacts: bool,
    status: str | None,
    kinds: tuple[str, ...],
) -> list[Record]:
    types = frozenset(LOG_TYPES[k.lower()].value for k in kinds) or None
    statuses = frozenset({status}) if status else None
    if regarding:
        kind, record_id = resolve_regarding(crm, regarding)
        if with_contacts and kind != "account":
            raise FieldProblem("with-contacts", "only applies to an account")
        return crm.timeline(
            record_id,
            TimelineQuery(
                types=types, statuses=statuses, text=text, include_contacts=with_contacts
            ),
        )
    return crm.search_activities(text, types=types, statuses=statuses)


# ---------------------------------------------------------------------------- show


def _field_lines(crm: CRM, table: str, record: Record) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("Id", record["id"])]
    for spec in FIELD_BY_NAME[table].values():
        value = record.get(spec.name)
        if value is None or value == "" or spec.name == "regarding_type":
            continue
        if spec.kind == "ref":
            target = {
                "parent_account_id": ACCOUNTS,
                "account_id": ACCOUNTS,
                "primary_contact_id": CONTACTS,
            }.get(spec.name)
            if spec.name == "regarding_id":
                target = REGARDING_TABLE.get(record.get("regarding_type", ""), ACCOUNTS)
            name = crm.name_of(target, value) if target else ""
            shown = f"{name} ({value})" if name else f"{value} (missing)"
        elif spec.kind == "when":
            shown = format_full(value)
        elif spec.kind == "bool":
            shown = "yes" if value else "no"
        elif spec.name == "type":
            shown = activity_type_label(value)
        else:
            shown = str(value)
        rows.append((spec.label, shown))
    if record.get("source_id"):
        rows.append(("Source id", record["source_id"]))
    rows.append(
        ("Created", f"{format_full(record.get('created_at'))} by {record.get('created_by', '?')}")
    )
    rows.append(
        (
            "Modified",
            f"{format_full(record.get('modified_at'))} by "
            f"{record.get('modified_by', '?')} (version "
            f"{record.get('version', '?')})",
        )
    )
    return rows


@click.command()
@click.argument("ref", metavar="ID")
@click.option(
    "--with-contacts",
    is_flag=True,
    help="Accounts: include the contacts' activities in the timeline.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="Timeline entries to show (default 20 as text, all as JSON; 0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@db_options
@handle_errors
def show(
    ctx: click.Context, ref: str, with_contacts: bool, limit: int | None, as_json: bool
) -> None:
    """Show a record, its timeline (and an account's hierarchy and contacts).

    ID is an id, or the unique name of an account or contact.
    """
    crm = open_crm(ctx)
    table, record = find_record(crm, ref)
    timeline: list[Record] = []
    if table != ACTIVITIES:
        timeline = crm.timeline(
            record["id"], TimelineQuery(include_contacts=with_contacts and table == ACCOUNTS)
        )
    related: dict[str, list[Record]] = {}
    if table == ACCOUNTS:
        related = {
            "parents": crm.parent_chain(record["id"]),
            "subsidiaries": crm.subsidiaries(record["id"]),
            "contacts": crm.contacts_of(record["id"]),
        }
    if as_json:
        shown = timeline[:limit] if limit else timeline
        emit_json(
            {
                "table": table,
                "record": record,
                **related,
                **({"timeline": shown} if table != ACTIVITIES else {}),
            }
        )
        return
    click.echo(f"{SINGULAR[table].capitalize()}: {visible(display_name(table, record))}")
    rows = _field_lines(crm, table, record)
    label_width = max(cell_width(label) for label, _ in rows)
    for label, value in rows:
        lines = visible(value, multiline=True).split("\n")
        click.echo(f"  {label:<{label_width}}  {lines[0]}".rstrip())
        for line in lines[1:]:
            click.echo(f"  {'':<{label_width}}  {line}".rstrip())
    if table == ACCOUNTS:
        chain = related["parents"]
        if chain:
            path = " < ".join(display_name(ACCOUNTS, r) for r in chain)
            click.echo(f"\nParents: {visible(path)}")
        _section("Subsidiaries", related["subsidiaries"], lambda rs: _account_columns(crm, rs)[:3])
        _section(
            "Contacts",
            related["contacts"],
            lambda rs: [c for c in _contact_columns(crm, rs) if c.header != "ACCOUNT"],
        )
    if table == ACTIVITIES:
        return
    count = len(timeline)
    limit = 20 if limit is None else limit
    shown = timeline[:limit] if limit else timeline
    _section(
        "Timeline",
        shown,
        lambda rs: _activity_columns(crm, rs, regarding=with_contacts),
        total=count,
    )
    if len(shown) < count:
        click.echo(
            f"  … {count - len(shown)} more: crm list activities --regarding "
            f"{record['id']}" + (" --with-contacts" if with_contacts else "")
        )


def _section(
    title: str,
    records: list[Record],
    columns: Callable[[list[Record]], list[Column]],
    total: int | None = None,
) -> None:
    total = len(records) if total is None else total
    click.echo(f"\n{title} ({total})")
    if records:
        for line in render_table(columns(records), terminal_width() - 2):
            click.echo("  " + line)


# ---------------------------------------------------------------------------- agenda


@click.command()
@click.option("--all", "everyone", is_flag=True, help="Everyone's, not only yours.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@db_options
@handle_errors
def agenda(ctx: click.Context, everyone: bool, as_json: bool) -> None:
    """Your open tasks and appointments.

    Grouped as overdue, today, upcoming and undated; --all shows everyone's.
    """
    crm = open_crm(ctx)
    buckets = crm.agenda(None if everyone else crm.user)
    sections = (
        ("Overdue", buckets.overdue),
        ("Today", buckets.today),
        ("Upcoming", buckets.upcoming),
        ("No date", buckets.no_date),
    )
    if as_json:
        emit_json({title.lower().replace(" ", "_"): list(items) for title, items in sections})
        return
    if not any(items for _title, items in sections):
        click.echo("nothing open" + ("" if everyone else f" for {visible(crm.user)}"), err=True)
        return
    first = True
    for title, items in sections:
        if not items:
            continue
        if not first:
            click.echo()
        first = False
        click.echo(f"{title} ({len(items)})")
        columns = [
            Column("ID", [a["id"] for a in items]),
            Column(
                "WHEN",
                [
                    when_text(a.get("due_at") if a.get("type") == "task" else a.get("start_at"))
                    for a in items
                ],
            ),
            Column("TYPE", [activity_type_label(a.get("type")) for a in items]),
            Column(
                "SUBJECT", [display_name(ACTIVITIES, a) for a in items], flex=True, min_width=14
            ),
            Column("REGARDING", crm.regarding_names(items), flex=True, min_width=10, drop=2),
        ]
        if everyone:
            columns.append(
                Column("OWNER", [a.get("owner", "") for a in items], flex=True, min_width=8, drop=1)
            )
        for line in render_table(columns, terminal_width() - 2):
            click.echo("  " + line)


COMMANDS = (list_records, show, agenda)
