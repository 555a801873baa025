"""Record fields as command-line flags: the one flag table, and reading flag values.

`crm add`, `crm edit` and `crm log` take their options from FLAGS; messages name a field by
its flag (`city`, not `address_city`) through `flag_for`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import click

from store.dates import DateParseError, from_storage, parse_when, to_storage
from store.errors import AmbiguousError, NotFoundError
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    RECORD_TABLES,
    REGARDING_TABLE,
    SINGULAR,
    ActivityStatus,
    ActivityType,
    Direction,
    Priority,
    Record,
    RecordStatus,
    Relationship,
)
from store.service import CRM
from tui.cli.errors import CLIError, FieldProblem

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Flag:
    flag: str  # without dashes
    field: str
    tables: tuple[str, ...]
    help: str
    kind: str = "text"  # text, ref, when, bool, choice, status
    choices: tuple[str, ...] = ()
    ref_table: str = ""


_AC = (ACCOUNTS, CONTACTS)
_ALL = (ACCOUNTS, CONTACTS, ACTIVITIES)
FLAGS: tuple[Flag, ...] = (
    Flag("name", "name", (ACCOUNTS,), "Account name (required)."),
    Flag("account-number", "account_number", (ACCOUNTS,), "Account number."),
    Flag(
        "relationship", "relationship", (ACCOUNTS,), "Relationship.", "choice", tuple(Relationship)
    ),
    Flag("industry", "industry", (ACCOUNTS,), "Industry."),
    Flag("first-name", "first_name", (CONTACTS,), "First name."),
    Flag("last-name", "last_name", (CONTACTS,), "Last name (a first or last name is required)."),
    Flag("job-title", "job_title", (CONTACTS,), "Job title."),
    Flag(
        "account",
        "account_id",
        (CONTACTS,),
        "The contact's account: id or unique name.",
        "ref",
        ref_table=ACCOUNTS,
    ),
    Flag("phone", "phone", _AC, "Phone number."),
    Flag("mobile", "mobile", (CONTACTS,), "Mobile number."),
    Flag("email", "email", _AC, "Email address."),
    Flag("website", "website", (ACCOUNTS,), "Web site."),
    Flag("street1", "address_line1", _AC, "Address: street, line 1."),
    Flag("street2", "address_line2", _AC, "Address: street, line 2."),
    Flag("city", "address_city", _AC, "Address: city."),
    Flag("state", "address_state", _AC, "Address: state or province."),
    Flag("postal-code", "address_postal_code", _AC, "Address: postal code."),
    Flag("country", "address_country", _AC, "Address: country."),
    Flag(
        "parent",
        "parent_account_id",
        (ACCOUNTS,),
        "Parent account: id or unique name.",
        "ref",
        ref_table=ACCOUNTS,
    ),
    Flag(
        "primary-contact",
        "primary_contact_id",
        (ACCOUNTS,),
        "Primary contact: id or unique name.",
        "ref",
        ref_table=CONTACTS,
    ),
    Flag("subject", "subject", (ACTIVITIES,), "Subject (required except for notes)."),
    Flag("description", "description", _ALL, "Description ('-' reads it from stdin)."),
    Flag(
        "due",
        "due_at",
        (ACTIVITIES,),
        "Due date/time, e.g. 'tomorrow 9am', +2d, 2026-12-03.",
        "when",
    ),
    Flag(
        "start", "start_at", (ACTIVITIES,), "Start, e.g. '2026-12-03 14:00' or 'fri 10am'.", "when"
    ),
    Flag("end", "end_at", (ACTIVITIES,), "End; relative to the start: 15:00, +1h.", "when"),
    Flag("all-day", "all_day", (ACTIVITIES,), "An all-day appointment.", "bool"),
    Flag("location", "location", (ACTIVITIES,), "Where (appointments)."),
    Flag(
        "direction",
        "direction",
        (ACTIVITIES,),
        "Calls and emails: incoming or outgoing.",
        "choice",
        tuple(Direction),
    ),
    Flag("phone-number", "phone_number", (ACTIVITIES,), "Calls: the number."),
    Flag("from", "email_from", (ACTIVITIES,), "Emails: sender address."),
    Flag("to", "email_to", (ACTIVITIES,), "Emails: recipients."),
    Flag("priority", "priority", (ACTIVITIES,), "Priority.", "choice", tuple(Priority)),
    Flag("owner", "owner", _ALL, "Owner (default: you)."),
    Flag("status", "status", _ALL, "Status.", "status"),
)
FLAG_BY_FIELD = {f.field: f for f in FLAGS}
FLAG_BY_NAME = {f.flag: f for f in FLAGS}
_EXTRA_FLAG_NAMES = {
    "regarding_id": "regarding",
    "regarding_type": "regarding",
    "completed_at": "completed",
    "type": "type",
}
# Keyed by str: the service names tables as plain strings (a `Table` is one too).
STATUS_CHOICES: dict[str, tuple[str, ...]] = {
    ACCOUNTS: tuple(RecordStatus),
    CONTACTS: tuple(RecordStatus),
    ACTIVITIES: tuple(ActivityStatus),
}
# The activity types as `crm log TYPE` and `crm list --type` name them.
LOG_TYPES = {
    "note": ActivityType.NOTE,
    "email": ActivityType.EMAIL,
    "call": ActivityType.PHONE_CALL,
    "appointment": ActivityType.APPOINTMENT,
    "task": ActivityType.TASK,
}


def flag_for(field: str) -> str:
    """How the command line names a record field in messages: `address_city` -> `city`."""
    flag = FLAG_BY_FIELD.get(field)
    if flag is not None:
        return flag.flag
    return _EXTRA_FLAG_NAMES.get(field, field.replace("_", "-"))


def _click_option(flag: Flag, tables: Sequence[str], editing: bool) -> Callable[[F], F]:
    name = f"--{flag.flag}"
    if flag.kind == "bool":
        return click.option(f"{name}/--no-{flag.flag}", flag.field, default=None, help=flag.help)
    kwargs: dict[str, Any] = {"help": flag.help, "metavar": "TEXT"}
    if flag.kind == "choice":
        kwargs.update(type=click.Choice(flag.choices, case_sensitive=False), metavar=None)
        if len(flag.choices) > 4:
            kwargs.update(
                metavar=flag.flag.upper(), help=f"{flag.help[:-1]}: {', '.join(flag.choices)}."
            )
    elif flag.kind == "status":
        choices = sorted({c for t in tables for c in STATUS_CHOICES[t]})
        if editing:
            kwargs["help"] = "Status: " + ", ".join(choices) + "."
        else:
            kwargs.update(type=click.Choice(choices, case_sensitive=False), metavar=None)
    elif flag.kind == "ref":
        kwargs["metavar"] = "REF"
    elif flag.kind == "when":
        kwargs["metavar"] = "WHEN"
    return click.option(name, flag.field, **kwargs)


def field_options(*tables: str, editing: bool = False) -> Callable[[F], F]:
    """One option per field of `tables`, named after the field (`--first-name`, `--due`)."""
    chosen = [f for f in FLAGS if any(t in f.tables for t in tables)]

    def decorate(function: F) -> F:
        for flag in reversed(chosen):
            function = _click_option(flag, tables, editing)(function)
        return function

    return decorate


def checked_text(flag: str, value: str) -> str:
    """`value` if it is text that can be stored (arguments may carry undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldProblem(flag, "is not valid UTF-8 text") from None
    return value


def parse_date(flag: str, text: str, base: datetime | date | None = None) -> str:
    """Typed date text as stored: a moment in UTC, or a plain day when no time was given.
    With `base` (an end's start), a bare time is on its day and `+1h`, `90m` count from it."""
    try:
        return to_storage(parse_when(text, base=base))
    except DateParseError as error:
        raise FieldProblem(flag, str(error)) from None


def resolve_ref(crm: CRM, table: str, reference: str, flag: str) -> str:
    try:
        return crm.resolve(table, reference)
    except (NotFoundError, AmbiguousError) as error:
        raise FieldProblem(flag, str(error)) from None


def resolve_regarding(crm: CRM, reference: str, flag: str = "regarding") -> tuple[str, str]:
    try:
        return crm.resolve_regarding(reference)
    except (NotFoundError, AmbiguousError) as error:
        raise FieldProblem(flag, str(error)) from None


def _start_moment(stored: str | None) -> datetime | date | None:
    """The moment (or day) an `--end` is read relative to."""
    if not stored:
        return None
    try:
        return from_storage(stored)
    except DateParseError:
        return None


def collect_fields(
    crm: CRM, table: str, values: dict[str, Any], current: Record | None = None
) -> dict[str, Any]:
    """Record fields from option values (None: not given). '' clears a field when editing."""
    fields: dict[str, Any] = {}
    for name, value in values.items():
        flag = FLAG_BY_FIELD.get(name)
        if flag is None or value is None:
            continue
        if table not in flag.tables:
            raise FieldProblem(flag.flag, f"is not a field of {table}")
        if flag.kind == "bool":
            fields[name] = bool(value)
            continue
        value = checked_text(flag.flag, value)
        if name == "description" and value == "-":
            value = sys.stdin.read()
        if value.strip() == "":
            fields[name] = None
        elif flag.kind == "ref":
            fields[name] = resolve_ref(crm, flag.ref_table, value, flag.flag)
        elif flag.kind in ("choice", "status"):
            fields[name] = value.strip().lower()
        elif flag.kind == "when" and name != "end_at":
            fields[name] = parse_date(flag.flag, value)
        else:
            fields[name] = value
    end = fields.get("end_at")
    if end:
        start = fields.get("start_at") or (current or {}).get("start_at")
        fields["end_at"] = parse_date("end", end, _start_moment(start))
    return fields


def find_record(
    crm: CRM, reference: str, tables: Sequence[str] = RECORD_TABLES
) -> tuple[str, Record]:
    """The table and record for an id, a source id or a unique account/contact name."""
    reference = checked_text("id", reference).strip()
    found = crm.find(reference)
    if found is None:
        for table in RECORD_TABLES:
            record_id = crm.by_source_id(table, reference)
            if record_id:
                found = (table, crm.get(table, record_id) or {})
                break
    if found is None and reference:
        try:
            kind, record_id = crm.resolve_regarding(reference)
        except NotFoundError:
            pass
        else:
            table = REGARDING_TABLE[kind]
            found = (table, crm.get(table, record_id) or {})
    if found is None:
        wanted = " or ".join(SINGULAR[t] for t in tables)
        raise CLIError(f"no {wanted} with id or name '{reference}'")
    if found[0] not in tables:
        wanted = " or ".join(SINGULAR[t] for t in tables)
        raise CLIError(f"'{reference}' is {_a(SINGULAR[found[0]])}, not {_a(wanted)}")
    return found


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun
