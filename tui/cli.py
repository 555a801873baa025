"""The `crm` command line: opens the TUI, or scripts the CRM with subcommands.

Scripting subcommands import only click, platformdirs and store/ (never textual, icalendar or
vobject) so that `crm list` starts fast. Every error reaches the user as one line on stderr,
`error: <field>: <problem>`, and a non-zero exit status; click's usage errors keep their form.

Extending (e.g. `tui/cli_io.py`)::

    from tui.cli import cli, db_options, handle_errors, open_crm

    @cli.command("export")
    @db_options
    @handle_errors
    def export(ctx: click.Context, ...) -> None:   # handle_errors passes the context
        crm = open_crm(ctx)
        ...
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from store.dates import DateParseError, format_local, from_storage, parse_when, to_storage
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    ACTIVITY_LABELS,
    CONTACTS,
    FIELD_BY_NAME,
    RECORD_TABLES,
    SINGULAR,
    ActivityStatus,
    ActivityType,
    Direction,
    Priority,
    RecordStatus,
    Relationship,
    ValidationFailed,
    activity_status_label,
    activity_type_label,
    activity_when,
    display_name,
)
from store.queries import ListQuery, TimelineQuery
from store.service import (
    CRM,
    REGARDING_TABLE,
    AmbiguousError,
    ConflictError,
    DependentsError,
    NotFoundError,
)
from store.storage import APP_NAME, CorruptDatabaseError, Record, StorageError
from store.text import UNSAFE, counted, fold, json_escaped, tokens

F = TypeVar("F", bound=Callable[..., Any])

DEMO_SIZE = "S"
SIZES = ("S", "M", "L")

# ---------------------------------------------------------------------------- safe output

_UNSAFE = UNSAFE  # the same characters the app shows as symbols (store.text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)  # caret notation: ESC -> ^[
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """`text` made harmless for a terminal: control characters shown as `^[` / `\\x9b` /
    `\\u202e`. With `multiline`, newlines are kept (and tabs become spaces)."""
    value = "" if text is None else str(text)
    if multiline:
        lines = value.replace("\r\n", "\n").split("\n")
        return "\n".join(_UNSAFE.sub(_escape, line.replace("\t", "    ")) for line in lines)
    return _UNSAFE.sub(_escape, value)


def to_json(data: Any) -> str:
    """Pretty JSON that parses back to exactly `data`, with no raw terminal controls in it."""
    return json_escaped(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json(data: Any) -> None:
    click.echo(to_json(data))


def cell_width(text: str) -> int:
    """Columns `text` takes in a terminal (wide East Asian characters count 2)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns (with an ellipsis), padded to exactly `width`."""
    if cell_width(text) > width:
        out, used = [], 0
        for ch in text:
            w = 0 if unicodedata.combining(ch) else (
                2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * (width - cell_width(text))


@dataclass
class Column:
    header: str
    values: list[str]
    flex: bool = False  # shrinks to share the room left
    min_width: int = 8  # a flexible column is not made narrower than this
    drop: int = 99  # lower numbers are left out first when the table cannot fit


def terminal_width() -> int:
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def render_table(columns: list[Column], width: int | None = None, gap: int = 2) -> list[str]:
    """Aligned rows (header first) that fit `width` columns: empty and then optional columns
    are left out, flexible ones shortened with an ellipsis. Values are shown `visible()`."""
    width = width or terminal_width()
    columns = [Column(c.header, [visible(v) for v in c.values], c.flex, c.min_width, c.drop)
               for c in columns if c.drop == 99 or any(c.values)]  # leave out empty columns
    natural = {id(c): max([cell_width(c.header)] + [cell_width(v) for v in c.values])
               for c in columns}

    def least(c: Column) -> int:
        return min(natural[id(c)], max(c.min_width, cell_width(c.header))) if c.flex \
            else natural[id(c)]

    def needed(cols: list[Column], size: Callable[[Column], int]) -> int:
        return sum(size(c) for c in cols) + gap * (len(cols) - 1)

    shown = list(columns)
    while needed(shown, least) > width and any(c.drop < 99 for c in shown):
        shown.remove(min((c for c in shown if c.drop < 99), key=lambda c: c.drop))
    widths = {id(c): natural[id(c)] for c in shown}
    if needed(shown, lambda c: natural[id(c)]) > width:
        flexible = sorted((c for c in shown if c.flex), key=lambda c: natural[id(c)])
        room = width - needed([c for c in shown if not c.flex], lambda c: natural[id(c)]) \
            - gap * len(flexible)
        for index, c in enumerate(flexible):
            share = room // (len(flexible) - index)
            widths[id(c)] = max(least(c), min(natural[id(c)], share))
            room -= widths[id(c)]
    rows = []
    for row in range(-1, len(columns[0].values) if columns else 0):
        cells = [fit(c.header if row < 0 else c.values[row], widths[id(c)]) for c in shown]
        rows.append((" " * gap).join(cells).rstrip())
    return rows


def echo_table(columns: list[Column]) -> None:
    for line in render_table(columns):
        click.echo(line)


# ---------------------------------------------------------------------------- errors


class CLIError(click.ClickException):
    """A one-line `error: ...` on stderr and exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo("error: " + visible(self.format_message()), err=True)


class VersionConflict(CLIError):
    """`--if-version N` and the record is no longer at version N: nothing was changed. A
    status of its own, so that a script can tell "someone else changed it" from a mistake."""

    exit_code = 3


class FieldProblem(CLIError):
    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}")
        self.flag = flag


def handle_errors(function: F) -> F:
    """Pass the click context first and turn the CRM's errors into one-line messages."""

    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(ctx, *args, **kwargs)
        except ValidationFailed as error:
            raise CLIError("; ".join(f"{flag_for(e.field)}: {e.message}"
                                     for e in error.errors) or "invalid record") from None
        except DependentsError as error:
            raise CLIError(f"{error} (use --contacts, --subsidiaries, --activities)") from None
        except ConflictError as error:
            raise VersionConflict(str(error)) from None
        except (NotFoundError, AmbiguousError, StorageError,
                DateParseError) as error:
            raise CLIError(str(error) or type(error).__name__) from None
        except BrokenPipeError:
            raise  # click's main quietly handles a reader that went away (`crm list | head`)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise CLIError(f"{where}{error.strerror or error}") from None

    return wrapper  # type: ignore[return-value]


def warn(messages: Iterable[str]) -> None:
    for message in messages:
        click.echo("warning: " + visible(message), err=True)


# ---------------------------------------------------------------------------- database & user


def default_database_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "crm.json"


def demo_database_path() -> Path:
    """The demo database: `$CRM_DEMO_DB`, else `demo.json` in the user data dir."""
    override = os.environ.get("CRM_DEMO_DB")
    if override:
        return Path(override).expanduser()
    return default_database_path().with_name("demo.json")


def ensure_demo_database(path: Path, *, user: str | None = None, size: str = DEMO_SIZE,
                         seed: int | None = None) -> Path:
    """Generate the demo database at `path` if it is missing or holds no records."""
    path = Path(path)
    crm = CRM.open(path, user=user)
    try:
        if not any(crm.count(table) for table in RECORD_TABLES):
            from store.demo import fill

            fill(crm, size, **({} if seed is None else {"seed": seed}))
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
    options = (
        click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                     expose_value=False, callback=_remember("db"),
                     help="Database file (else $CRM_DB, else crm.json in the user data dir)."),
        click.option("--user", expose_value=False, callback=_remember("user"),
                     help="Who is making changes (else $CRM_USER, else the login name)."),
        click.option("--group", is_flag=True, default=False, expose_value=False,
                     callback=_remember("group"),
                     help="Create new files group-writable (0660) instead of private (0600)."),
    )
    for option in reversed(options):
        function = option(function)
    return function


def database_path(ctx: click.Context) -> Path:
    chosen = ctx.meta.get("crm.db") or os.environ.get("CRM_DB")
    return Path(chosen).expanduser() if chosen else default_database_path()


def chosen_user(ctx: click.Context) -> str | None:
    return ctx.meta.get("crm.user") or None  # None: CRM falls back to $CRM_USER / login


def group_writable(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("crm.group"))


def open_crm(ctx: click.Context, *, only: tuple[str, ...] | None = None) -> CRM:
    """The CRM for this invocation (opened once, closed when the command ends). `only`: the
    tables a read-only command needs; the others are not even parsed."""
    crm = ctx.meta.get("crm.instance")
    if crm is None:
        if only is not None and database_path(ctx).exists():
            crm = CRM.open_for_reading(database_path(ctx), only, user=chosen_user(ctx))
        else:
            crm = CRM.open(database_path(ctx), user=chosen_user(ctx),
                           group_writable=group_writable(ctx))
        ctx.meta["crm.instance"] = crm

        def close() -> None:
            try:
                crm.close()
            except (StorageError, OSError) as error:
                warn([f"could not compact the database: {error}"])
        ctx.find_root().call_on_close(close)
    return crm


# ---------------------------------------------------------------------------- fields & flags


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
    Flag("relationship", "relationship", (ACCOUNTS,), "Relationship.", "choice",
         tuple(Relationship)),
    Flag("industry", "industry", (ACCOUNTS,), "Industry."),
    Flag("first-name", "first_name", (CONTACTS,), "First name."),
    Flag("last-name", "last_name", (CONTACTS,), "Last name (a first or last name is required)."),
    Flag("job-title", "job_title", (CONTACTS,), "Job title."),
    Flag("account", "account_id", (CONTACTS,), "The contact's account: id or unique name.",
         "ref", ref_table=ACCOUNTS),
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
    Flag("parent", "parent_account_id", (ACCOUNTS,), "Parent account: id or unique name.",
         "ref", ref_table=ACCOUNTS),
    Flag("primary-contact", "primary_contact_id", (ACCOUNTS,),
         "Primary contact: id or unique name.", "ref", ref_table=CONTACTS),
    Flag("subject", "subject", (ACTIVITIES,), "Subject (required except for notes)."),
    Flag("description", "description", _ALL, "Description ('-' reads it from stdin)."),
    Flag("due", "due_at", (ACTIVITIES,), "Due date/time, e.g. 'tomorrow 9am', +2d, 2026-12-03.",
         "when"),
    Flag("start", "start_at", (ACTIVITIES,), "Start, e.g. '2026-12-03 14:00' or 'fri 10am'.",
         "when"),
    Flag("end", "end_at", (ACTIVITIES,), "End; relative to the start: 15:00, +1h.", "when"),
    Flag("all-day", "all_day", (ACTIVITIES,), "An all-day appointment.", "bool"),
    Flag("location", "location", (ACTIVITIES,), "Where (appointments)."),
    Flag("direction", "direction", (ACTIVITIES,), "Calls and emails: incoming or outgoing.",
         "choice", tuple(Direction)),
    Flag("phone-number", "phone_number", (ACTIVITIES,), "Calls: the number."),
    Flag("from", "email_from", (ACTIVITIES,), "Emails: sender address."),
    Flag("to", "email_to", (ACTIVITIES,), "Emails: recipients."),
    Flag("priority", "priority", (ACTIVITIES,), "Priority.", "choice", tuple(Priority)),
    Flag("owner", "owner", _ALL, "Owner (default: you)."),
    Flag("status", "status", _ALL, "Status.", "status"),
)
FLAG_BY_FIELD = {f.field: f for f in FLAGS}
FLAG_BY_NAME = {f.flag: f for f in FLAGS}
_EXTRA_FLAG_NAMES = {"regarding_id": "regarding", "regarding_type": "regarding",
                     "completed_at": "completed", "type": "type"}
STATUS_CHOICES = {ACCOUNTS: tuple(RecordStatus), CONTACTS: tuple(RecordStatus),
                  ACTIVITIES: tuple(ActivityStatus)}


def flag_for(field: str) -> str:
    """How the command line names a record field in messages: `address_city` -> `city`."""
    flag = FLAG_BY_FIELD.get(field)
    if flag is not None:
        return flag.flag
    return _EXTRA_FLAG_NAMES.get(field, field.replace("_", "-"))


def _click_option(flag: Flag, tables: Sequence[str], editing: bool) -> Callable[[F], F]:
    name = f"--{flag.flag}"
    if flag.kind == "bool":
        return click.option(f"{name}/--no-{flag.flag}", flag.field, default=None,
                            help=flag.help)
    kwargs: dict[str, Any] = {"help": flag.help, "metavar": "TEXT"}
    if flag.kind == "choice":
        kwargs.update(type=click.Choice(flag.choices, case_sensitive=False), metavar=None)
        if len(flag.choices) > 4:
            kwargs.update(metavar=flag.flag.upper(),
                          help=f"{flag.help[:-1]}: {', '.join(flag.choices)}.")
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


def _text(flag: str, value: str) -> str:
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


def collect_fields(crm: CRM, table: str, values: dict[str, Any],
                   current: Record | None = None) -> dict[str, Any]:
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
        value = _text(flag.flag, value)
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


# ---------------------------------------------------------------------------- the group


@click.group("crm", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
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
        path = ensure_demo_database(demo_database_path(), user=chosen_user(ctx))
    else:
        path = database_path(ctx)
    try:
        from tui.app import run_tui
    except ImportError as error:
        raise CLIError(f"the full-screen app is not available: {error}") from None
    run_tui(path, chosen_user(ctx), group_writable(ctx))


# ---------------------------------------------------------------------------- demo


@cli.command()
@click.option("--size", type=click.Choice(SIZES, case_sensitive=False), default=DEMO_SIZE,
              show_default=True, help="How much data: S, M or L.")
@click.option("--seed", type=int, default=None,
              help="Random seed: the same seed gives the same data.")
@click.option("--force", is_flag=True, help="Replace the records already in the database.")
@db_options
@handle_errors
def demo(ctx: click.Context, size: str, seed: int | None, force: bool) -> None:
    """Fill the database with generated demo data."""
    crm = open_crm(ctx)
    existing = sum(crm.count(table) for table in RECORD_TABLES)
    if existing and not force:
        raise CLIError(f"{crm.path} already has {existing} records; "
                       "use --force to replace them all with demo data")
    from store.demo import fill

    fill(crm, size.upper(), **({} if seed is None else {"seed": seed}))
    counts = ", ".join(f"{crm.count(t)} {t}" for t in RECORD_TABLES)
    click.echo(f"{counts} in {visible(crm.path)}", err=True)


# ---------------------------------------------------------------------------- add / edit


@cli.group()
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


def find_record(crm: CRM, reference: str, tables: Sequence[str] = RECORD_TABLES
                ) -> tuple[str, Record]:
    """The table and record for an id, a source id or a unique account/contact name."""
    reference = _text("id", reference).strip()
    found = crm.find(reference)
    if found is None:
        for table in RECORD_TABLES:
            record_id = crm.indexes.by_source_id[table].get(reference)
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


# ---------------------------------------------------------------------------- --if-version

IF_VERSION_HELP = ("Change it only if it is still at version N (`crm show ID --json` gives "
                   "it); otherwise change nothing and end with exit status 3. Without it the "
                   "change goes onto the current version, whoever saved that.")


def if_version_option(function: F) -> F:
    return click.option("--if-version", "if_version", type=click.IntRange(min=1), metavar="N",
                        help=IF_VERSION_HELP)(function)


def find_versioned(crm: CRM, reference: str, tables: Sequence[str], if_version: int | None
                   ) -> tuple[str, Record]:
    """find_record; but with --if-version, a record someone deleted since is a conflict, not
    a mistake in the id."""
    try:
        return find_record(crm, reference, tables)
    except CLIError:
        gone = crm.deleted_by(reference.strip()) if if_version is not None else None
        if gone is None:
            raise
        raise VersionConflict(f"{reference.strip()} was deleted by {gone.by} at "
                              f"{when_full(gone.at)}; nothing changed") from None


@contextmanager
def unless_changed(crm: CRM, table: str, record_id: str, if_version: int | None
                   ) -> Iterator[None]:
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
            message = (f"{noun} is at version {theirs.get('version', '?')}, not {if_version}: "
                       f"last changed by {theirs.get('modified_by', '?')} at "
                       f"{when_full(theirs.get('modified_at'))}")
        raise VersionConflict(message + "; nothing changed") from None


@cli.command()
@click.argument("ref", metavar="ID")
@field_options(*RECORD_TABLES, editing=True)
@click.option("--regarding", metavar="REF", help="Activities: the account or contact it is about.")
@click.option("--clear", "clear", multiple=True, metavar="FIELD",
              help="Empty a field (repeatable), e.g. --clear phone --clear parent.")
@if_version_option
@db_options
@handle_errors
def edit(ctx: click.Context, ref: str, regarding: str | None, clear: tuple[str, ...],
         if_version: int | None, **values: Any) -> None:
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

LOG_TYPES = {"note": ActivityType.NOTE, "email": ActivityType.EMAIL,
             "call": ActivityType.PHONE_CALL, "appointment": ActivityType.APPOINTMENT,
             "task": ActivityType.TASK}


@cli.command()
@click.argument("kind", metavar="TYPE", type=click.Choice(tuple(LOG_TYPES), case_sensitive=False))
@click.option("--regarding", required=True, metavar="REF",
              help="The account or contact it is about: id or unique name.")
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


def _status_command(name: str, status: ActivityStatus, summary: str) -> None:
    @cli.command(name, help=f"{summary}; prints its id.")
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


_status_command("done", ActivityStatus.COMPLETED, "Mark an activity completed")
_status_command("cancel", ActivityStatus.CANCELED, "Cancel an activity")
_status_command("reopen", ActivityStatus.OPEN, "Open an activity again")


# ---------------------------------------------------------------------------- delete


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--contacts", type=click.Choice(("detach", "delete")),
              help="Accounts: what happens to their contacts.")
@click.option("--subsidiaries", type=click.Choice(("detach", "reparent")),
              help="Accounts: subsidiaries lose their parent, or move up to this one's parent.")
@click.option("--activities", type=click.Choice(("delete",)),
              help="Delete the activities regarding it (and its deleted contacts).")
@if_version_option
@db_options
@handle_errors
def delete(ctx: click.Context, ref: str, contacts: str | None, subsidiaries: str | None,
           activities: str | None, if_version: int | None) -> None:
    """Delete a record; what depends on it needs an explicit choice.

    ID is an id, or the unique name of an account or contact.
    """
    crm = open_crm(ctx)
    table, record = find_versioned(crm, ref, RECORD_TABLES, if_version)
    with unless_changed(crm, table, record["id"], if_version):
        removed = crm.delete(table, record["id"], contacts=contacts, subsidiaries=subsidiaries,
                             activities=activities, expected_version=if_version)
    click.echo(f"deleted {SINGULAR[table]} {record['id']}"
               + (f" and {removed - 1} dependent records" if removed > 1 else ""))


# ---------------------------------------------------------------------------- reading

LIST_TABLES = {"accounts": ACCOUNTS, "contacts": CONTACTS, "activities": ACTIVITIES}
_SINGULAR_TABLES = {"account": "accounts", "contact": "contacts", "activity": "activities"}


class TableChoice(click.Choice):
    """accounts, contacts or activities (the singular is accepted too)."""

    def __init__(self) -> None:
        super().__init__(tuple(LIST_TABLES), case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        if isinstance(value, str):
            value = _SINGULAR_TABLES.get(value.lower(), value)
        return super().convert(value, param, ctx)


def when_text(value: str | None) -> str:
    return format_local(value) if value else ""


def when_full(value: str | None) -> str:
    """A stored date as local `YYYY-MM-DD HH:MM` (or `YYYY-MM-DD` for a day)."""
    if not value:
        return ""
    try:
        parsed = from_storage(value)
    except DateParseError:
        return value
    if isinstance(parsed, datetime):
        return parsed.astimezone().strftime("%Y-%m-%d %H:%M")
    return parsed.isoformat() if isinstance(parsed, date) else value


def _account_columns(crm: CRM, records: list[Record]) -> list[Column]:
    return [
        Column("ID", [r["id"] for r in records]),
        Column("NAME", [display_name(ACCOUNTS, r) for r in records], flex=True, min_width=16),
        Column("RELATIONSHIP", [r.get("relationship", "") for r in records], drop=3),
        Column("CITY", [r.get("address_city", "") for r in records], flex=True, min_width=10,
               drop=2),
        Column("PHONE", [r.get("phone", "") for r in records], flex=True, min_width=12, drop=1),
        Column("EMAIL", [r.get("email", "") for r in records], flex=True, min_width=14, drop=0),
    ]


def _contact_columns(crm: CRM, records: list[Record]) -> list[Column]:
    return [
        Column("ID", [r["id"] for r in records]),
        Column("NAME", [display_name(CONTACTS, r) for r in records], flex=True, min_width=14),
        Column("ACCOUNT", [crm.name_of(ACCOUNTS, r.get("account_id")) for r in records],
               flex=True, min_width=12, drop=3),
        Column("EMAIL", [r.get("email", "") for r in records], flex=True, min_width=14, drop=2),
        Column("PHONE", [r.get("phone") or r.get("mobile") or "" for r in records], flex=True,
               min_width=12, drop=1),
        Column("TITLE", [r.get("job_title", "") for r in records], flex=True, min_width=10,
               drop=0),
    ]


def _activity_columns(crm: CRM, records: list[Record], regarding: bool = True
                      ) -> list[Column]:
    columns = [
        Column("ID", [r["id"] for r in records]),
        Column("WHEN", [when_text(activity_when(r)) for r in records]),
        Column("TYPE", [activity_type_label(r.get("type")) for r in records]),
        Column("STATUS", [activity_status_label(r.get("status")) for r in records], drop=1),
        Column("SUBJECT", [display_name(ACTIVITIES, r) for r in records], flex=True,
               min_width=14),
    ]
    if regarding:
        columns.append(Column("REGARDING", [crm.regarding_name(r) for r in records], flex=True,
                              min_width=10, drop=2))
    return columns


def _matches(activity: Record, words: list[str]) -> bool:
    text = fold((activity.get("subject") or "") + " " + (activity.get("description") or ""))
    return all(word in text for word in words)


@cli.command("list")
@click.argument("what", metavar="accounts|contacts|activities", type=TableChoice())
@click.option("--search", "text", default="", metavar="TEXT",
              help="Words that must all appear (names, email, phone, city; activities: "
                   "subject and description).")
@click.option("--regarding", metavar="REF",
              help="Activities: the timeline of this account or contact (id or unique name).")
@click.option("--with-contacts", is_flag=True,
              help="Activities --regarding an account: include its contacts' activities.")
@click.option("--account", metavar="REF", help="Contacts: only those of this account.")
@click.option("--relationship", type=click.Choice(tuple(Relationship), case_sensitive=False),
              metavar="RELATIONSHIP",
              help="Accounts: only this relationship (" + ", ".join(Relationship) + ").")
@click.option("--status", metavar="STATUS",
              help="Accounts/contacts: active or inactive; activities: open, completed, "
                   "canceled.")
@click.option("--type", "kinds", multiple=True,
              type=click.Choice(tuple(LOG_TYPES), case_sensitive=False),
              help="Activities: only this type (repeatable).")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of the records instead.")
@db_options
@handle_errors
def list_records(ctx: click.Context, what: str, text: str, regarding: str | None,
                 with_contacts: bool, account: str | None, relationship: str | None,
                 status: str | None, kinds: tuple[str, ...], limit: int | None,
                 as_json: bool) -> None:
    """List accounts, contacts or activities as a table (or JSON).

    Accounts and contacts are sorted by name, activities newest first.
    """
    table = LIST_TABLES[what.lower()]
    needs = {ACCOUNTS: (ACCOUNTS,), CONTACTS: (ACCOUNTS, CONTACTS)}.get(table)
    crm = open_crm(ctx, only=needs)
    status = status.strip().lower() if status else None
    if status and status not in STATUS_CHOICES[table]:
        raise FieldProblem("status", f"'{status}' is not one of: "
                           + ", ".join(STATUS_CHOICES[table]))
    _only(table, ACTIVITIES, regarding=regarding, with_contacts=with_contacts, type=kinds)
    _only(table, CONTACTS, account=account)
    _only(table, ACCOUNTS, relationship=relationship)
    if table == ACTIVITIES:
        records = _activities(crm, text, regarding, with_contacts, status, kinds)
    else:
        query = ListQuery(text=text, relationship=relationship.lower() if relationship else None,
                          status=status)
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


def _activities(crm: CRM, text: str, regarding: str | None, with_contacts: bool,
                status: str | None, kinds: tuple[str, ...]) -> list[Record]:
    types = frozenset(LOG_TYPES[k.lower()].value for k in kinds) or None
    statuses = frozenset({status}) if status else None
    if regarding:
        kind, record_id = resolve_regarding(crm, regarding)
        if with_contacts and kind != "account":
            raise FieldProblem("with-contacts", "only applies to an account")
        return crm.timeline(record_id, TimelineQuery(types=types, statuses=statuses, text=text,
                                                     include_contacts=with_contacts))
    words = tokens(text)
    items = [a for a in crm.database.tables[ACTIVITIES].values()
             if (types is None or a.get("type") in types)
             and (statuses is None or a.get("status", "open") in statuses)
             and (not words or _matches(a, words))]
    items.sort(key=lambda a: (activity_when(a), a["id"]), reverse=True)
    return items


TABLE_TITLE = {ACCOUNTS: "Account", CONTACTS: "Contact", ACTIVITIES: "Activity"}


def _field_lines(crm: CRM, table: str, record: Record) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("Id", record["id"])]
    for spec in FIELD_BY_NAME[table].values():
        value = record.get(spec.name)
        if value is None or value == "" or spec.name == "regarding_type":
            continue
        if spec.kind == "ref":
            target = {"parent_account_id": ACCOUNTS, "account_id": ACCOUNTS,
                      "primary_contact_id": CONTACTS}.get(spec.name)
            if spec.name == "regarding_id":
                target = REGARDING_TABLE.get(record.get("regarding_type", ""), ACCOUNTS)
            name = crm.name_of(target, value) if target else ""
            shown = f"{name} ({value})" if name else f"{value} (missing)"
        elif spec.kind == "when":
            shown = when_full(value)
        elif spec.kind == "bool":
            shown = "yes" if value else "no"
        elif spec.name == "type":
            shown = ACTIVITY_LABELS.get(value, value)
        else:
            shown = str(value)
        rows.append((spec.label, shown))
    if record.get("source_id"):
        rows.append(("Source id", record["source_id"]))
    rows.append(("Created", f"{when_full(record.get('created_at'))} by "
                            f"{record.get('created_by', '?')}"))
    rows.append(("Modified", f"{when_full(record.get('modified_at'))} by "
                             f"{record.get('modified_by', '?')} (version "
                             f"{record.get('version', '?')})"))
    return rows


@cli.command()
@click.argument("ref", metavar="ID")
@click.option("--with-contacts", is_flag=True,
              help="Accounts: include the contacts' activities in the timeline.")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="Timeline entries to show (default 20 as text, all as JSON; 0: all).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@db_options
@handle_errors
def show(ctx: click.Context, ref: str, with_contacts: bool, limit: int | None,
         as_json: bool) -> None:
    """Show a record, its timeline (and an account's hierarchy and contacts).

    ID is an id, or the unique name of an account or contact.
    """
    crm = open_crm(ctx)
    table, record = find_record(crm, ref)
    timeline: list[Record] = []
    if table != ACTIVITIES:
        timeline = crm.timeline(record["id"], TimelineQuery(
            include_contacts=with_contacts and table == ACCOUNTS))
    related: dict[str, list[Record]] = {}
    if table == ACCOUNTS:
        related = {"parents": crm.parent_chain(record["id"]),
                   "subsidiaries": crm.subsidiaries(record["id"]),
                   "contacts": crm.contacts_of(record["id"])}
    if as_json:
        shown = timeline[:limit] if limit else timeline
        emit_json({"table": table, "record": record, **related,
                   **({"timeline": shown} if table != ACTIVITIES else {})})
        return
    click.echo(f"{TABLE_TITLE[table]}: {visible(display_name(table, record))}")
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
        _section("Subsidiaries", related["subsidiaries"],
                 lambda rs: _account_columns(crm, rs)[:3])
        _section("Contacts", related["contacts"],
                 lambda rs: [c for c in _contact_columns(crm, rs) if c.header != "ACCOUNT"])
    if table == ACTIVITIES:
        return
    count = len(timeline)
    limit = 20 if limit is None else limit
    shown = timeline[:limit] if limit else timeline
    _section("Timeline", shown, lambda rs: _activity_columns(crm, rs, regarding=with_contacts),
             total=count)
    if len(shown) < count:
        click.echo(f"  … {count - len(shown)} more: crm list activities --regarding "
                   f"{record['id']}" + (" --with-contacts" if with_contacts else ""))


def _section(title: str, records: list[Record],
             columns: Callable[[list[Record]], list[Column]], total: int | None = None) -> None:
    total = len(records) if total is None else total
    click.echo(f"\n{title} ({total})")
    if records:
        for line in render_table(columns(records), terminal_width() - 2):
            click.echo("  " + line)


@cli.command()
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
    sections = (("Overdue", buckets.overdue), ("Today", buckets.today),
                ("Upcoming", buckets.upcoming), ("No date", buckets.no_date))
    if as_json:
        emit_json({title.lower().replace(" ", "_"): items for title, items in sections})
        return
    if not any(items for _title, items in sections):
        click.echo("nothing open" + ("" if everyone else f" for {visible(crm.user)}"),
                   err=True)
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
            Column("WHEN", [when_text(a.get("due_at") if a.get("type") == "task"
                                      else a.get("start_at")) for a in items]),
            Column("TYPE", [activity_type_label(a.get("type")) for a in items]),
            Column("SUBJECT", [display_name(ACTIVITIES, a) for a in items], flex=True,
                   min_width=14),
            Column("REGARDING", [crm.regarding_name(a) for a in items], flex=True,
                   min_width=10, drop=2),
        ]
        if everyone:
            columns.append(Column("OWNER", [a.get("owner", "") for a in items], flex=True,
                                  min_width=8, drop=1))
        for line in render_table(columns, terminal_width() - 2):
            click.echo("  " + line)


# ---------------------------------------------------------------------------- upkeep


@cli.command()
@db_options
@handle_errors
def check(ctx: click.Context) -> None:
    """Check the database's integrity; exits 1 when there are problems.

    A database too damaged to open is read leniently instead, and every piece of damage is
    listed: `crm recover` then rescues the rest into a new database.
    """
    from store.recovery import scan

    try:
        crm = open_crm(ctx)
    except CorruptDatabaseError as error:
        damage = scan(database_path(ctx)).damage
        for item in damage:
            click.echo(visible(item))
        click.echo(f"{counted(max(1, len(damage)), 'problem')} found: the database cannot be "
                   "opened as it is; `crm recover --to NEW.json` rescues the rest into a new "
                   "database", err=True)
        if not damage:
            click.echo("error: " + visible(error), err=True)
        ctx.exit(1)
    problems = crm.check()
    for problem in problems:
        click.echo(visible(problem))
    if problems:
        click.echo(f"{counted(len(problems), 'problem')} found", err=True)
        ctx.exit(1)
    counts = ", ".join(counted(crm.count(t), SINGULAR[t]) for t in RECORD_TABLES)
    click.echo(f"no problems ({counts})", err=True)


@cli.command()
@db_options
@handle_errors
def compact(ctx: click.Context) -> None:
    """Fold the journal into the database file.

    Afterwards the file alone (read by plain TinyDB) holds every record.
    """
    crm = open_crm(ctx)
    crm.compact()
    click.echo(f"compacted {visible(crm.path)}", err=True)


@cli.command()
@click.option("--to", "target", required=True, metavar="NEW",
              type=click.Path(dir_okay=False, path_type=Path),
              help="The new database file to write (must not exist).")
@db_options
@handle_errors
def recover(ctx: click.Context, target: Path) -> None:
    """Rescue what can be read from a damaged database into a new one.

    The damaged files are only read, never changed. Every entry that had to be dropped, and
    every record kept that may have been altered, is listed; then `crm check` on the new
    database lists the references the drops left dangling.
    """
    from store.recovery import recover as rescue_into

    rescue = rescue_into(database_path(ctx), target, user=chosen_user(ctx))
    for item in rescue.damage:
        click.echo(visible(item))
    click.echo(f"rescued {rescue.counts()} into {visible(target)}; "
               f"{counted(len(rescue.damage), 'problem')} listed", err=True)


# ---------------------------------------------------------------------------- entry point


def _load_extensions() -> None:
    """Commands other modules register on `cli` (import/export), when they exist."""
    try:
        import tui.cli_io  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "tui.cli_io":
            raise


def main(argv: Sequence[str] | None = None) -> None:
    """The `crm` console script: no traceback ever reaches the user (set CRM_DEBUG=1)."""
    try:
        _load_extensions()
        cli.main(args=list(argv) if argv is not None else None, prog_name="crm")
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if os.environ.get("CRM_DEBUG"):
            raise
        message = visible(str(error).splitlines()[0] if str(error) else "")
        click.echo(f"error: unexpected {type(error).__name__}"
                   + (f": {message}" if message else "") + " (CRM_DEBUG=1 shows details)",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
