"""The CRM's records: tables, fields, enumerations and the field-level validation rules.

Records are plain dicts (what the TinyDB document stores). Empty optional fields are left out of
the stored document; a missing field reads as "" (or None for references and dates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict

from store.dates import is_valid_storage
from store.errors import FieldError
from store.errors import ValidationFailed as ValidationFailed  # still imported from here

# A record as stored: a plain dict (the TinyDB document); a table maps ids to records.
Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]
# The tables as the rules read them: a file's dicts, or a server's tables read as asked.
TablesView = Mapping[str, Mapping[str, Record]]


@dataclass(frozen=True)
class Change:
    """One record as it was and as it is now (None: it did not exist / it was deleted)."""

    table: str
    record_id: str
    old: Record | None
    new: Record | None


@dataclass(frozen=True)
class Deletion:
    """Who deleted a record and when (UTC ISO), as its journal entry says."""

    by: str
    at: str


# 2: the trash table, history in journal entries and crm.json.history.
SCHEMA_VERSION = 2
APP_NAME = "termcrm"  # in the base's meta, and the name of the user data folder


class Table(StrEnum):
    """The three record tables. A member is its TinyDB table name (a str), and knows how the
    CRM speaks of one of its records."""

    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    ACTIVITIES = "activities"

    @property
    def singular(self) -> str:
        """`account`, `contact`, `activity`: in messages."""
        return _SINGULARS[self]

    @property
    def label(self) -> str:
        """`Account`, `Contact`, `Activity`: in headings and labels."""
        return self.singular.capitalize()

    @property
    def regarding_type(self) -> RegardingType | None:
        """What an activity regarding one of these records stores in `regarding_type`."""
        return _REGARDING_TYPES.get(self)

    @classmethod
    def regarded_by(cls, regarding_type: str | None) -> Table | None:
        """The table an activity's `regarding_type` points into (None: not a known one)."""
        for table, value in _REGARDING_TYPES.items():
            if value == regarding_type:
                return table
        return None


ACCOUNTS = Table.ACCOUNTS
CONTACTS = Table.CONTACTS
ACTIVITIES = Table.ACTIVITIES
META = "meta"
RECORD_TABLES: tuple[Table, ...] = tuple(Table)
# Deleted records, as trash entries ({"id", "table", "record", "batch", ...}) until purged.
TRASH = "trash"
# Every table the base file and the journal hold besides meta.
STORED_TABLES: tuple[str, ...] = (*RECORD_TABLES, TRASH)
_SINGULARS: dict[str, str] = {ACCOUNTS: "account", CONTACTS: "contact", ACTIVITIES: "activity"}


class Relationship(StrEnum):
    CUSTOMER = "customer"
    PROSPECT = "prospect"
    PARTNER = "partner"
    RESELLER = "reseller"
    VENDOR = "vendor"
    SUPPLIER = "supplier"
    COMPETITOR = "competitor"
    INVESTOR = "investor"
    CONSULTANT = "consultant"
    INFLUENCER = "influencer"
    PRESS = "press"
    OTHER = "other"


class RecordStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ActivityType(StrEnum):
    NOTE = "note"
    EMAIL = "email"
    PHONE_CALL = "phone_call"
    APPOINTMENT = "appointment"
    TASK = "task"


class ActivityStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELED = "canceled"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class RegardingType(StrEnum):
    ACCOUNT = "account"
    CONTACT = "contact"


_REGARDING_TYPES = {ACCOUNTS: RegardingType.ACCOUNT, CONTACTS: RegardingType.CONTACT}
# What an activity's regarding_type says -> the table its regarding_id is in, and back.
REGARDING_TABLE: dict[str, Table] = {value: table for table, value in _REGARDING_TYPES.items()}
TABLE_REGARDING: dict[str, str] = {table: value.value for table, value in _REGARDING_TYPES.items()}


ACTIVITY_LABELS = {
    ActivityType.NOTE: "Note",
    ActivityType.EMAIL: "Email",
    ActivityType.PHONE_CALL: "Phone call",
    ActivityType.APPOINTMENT: "Appointment",
    ActivityType.TASK: "Task",
}
# The one vocabulary of statuses: timelines, filters, forms, the CLI and help all say these.
ACTIVITY_STATUS_LABELS = {
    ActivityStatus.OPEN: "open",
    ActivityStatus.COMPLETED: "completed",
    ActivityStatus.CANCELED: "canceled",
}


def activity_type_label(value: str | None) -> str:
    """`phone_call` -> `Phone call`; an unknown type is shown as stored."""
    try:
        return ACTIVITY_LABELS[ActivityType(value)] if value else ""
    except ValueError:
        return value or ""


def activity_status_label(value: str | None) -> str:
    """`completed` -> `completed`; a missing status reads as open, as the store treats it."""
    try:
        return ACTIVITY_STATUS_LABELS[ActivityStatus(value or "open")]
    except ValueError:
        return value or ""


@dataclass(frozen=True)
class FieldSpec:
    """How one field is checked. `kind`: text, email, phone, url, when, bool, enum or ref."""

    name: str
    label: str
    kind: str = "text"
    max_len: int = 200
    choices: tuple[str, ...] = ()
    multiline: bool = False
    # Required on every record of the table (conditional rules, such as an activity's subject
    # except on notes, are in `_required`).
    required: bool = False
    # For kind "ref": the table the id points into (None for `regarding_id`, whose table
    # `regarding_type` says).
    ref_table: Table | None = None


def _text(name: str, label: str, max_len: int = 200, **kw: Any) -> FieldSpec:
    return FieldSpec(name, label, "text", max_len, **kw)


_ADDRESS = (
    _text("address_line1", "Street 1"),
    _text("address_line2", "Street 2"),
    _text("address_city", "City", 80),
    _text("address_state", "State/Province", 80),
    _text("address_postal_code", "Postal code", 20),
    _text("address_country", "Country", 80),
)
_STATUS = FieldSpec("status", "Status", "enum", choices=tuple(RecordStatus))
_OWNER = _text("owner", "Owner", 64)
_DESCRIPTION = _text("description", "Description", 20_000, multiline=True)

ACCOUNT_FIELDS: tuple[FieldSpec, ...] = (
    _text("name", "Account name", 160, required=True),
    _text("account_number", "Account number", 40),
    FieldSpec("relationship", "Relationship", "enum", choices=tuple(Relationship)),
    _text("industry", "Industry", 80),
    FieldSpec("phone", "Phone", "phone", 40),
    FieldSpec("email", "Email", "email", 254),
    FieldSpec("website", "Website", "url", 300),
    *_ADDRESS,
    FieldSpec("parent_account_id", "Parent account", "ref", ref_table=ACCOUNTS),
    FieldSpec("primary_contact_id", "Primary contact", "ref", ref_table=CONTACTS),
    _DESCRIPTION,
    _OWNER,
    _STATUS,
)

CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    _text("first_name", "First name", 80),
    _text("last_name", "Last name", 80),
    _text("job_title", "Job title", 100),
    FieldSpec("account_id", "Account", "ref", ref_table=ACCOUNTS),
    FieldSpec("email", "Email", "email", 254),
    FieldSpec("phone", "Phone", "phone", 40),
    FieldSpec("mobile", "Mobile", "phone", 40),
    *_ADDRESS,
    _DESCRIPTION,
    _OWNER,
    _STATUS,
)

ACTIVITY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "Type", "enum", choices=tuple(ActivityType), required=True),
    _text("subject", "Subject", 200),
    _DESCRIPTION,
    FieldSpec(
        "regarding_type", "Regarding type", "enum", choices=tuple(RegardingType), required=True
    ),
    FieldSpec("regarding_id", "Regarding", "ref", required=True),
    FieldSpec("status", "Status", "enum", choices=tuple(ActivityStatus)),
    FieldSpec("priority", "Priority", "enum", choices=tuple(Priority)),
    FieldSpec("due_at", "Due", "when"),
    FieldSpec("start_at", "Start", "when"),
    FieldSpec("end_at", "End", "when"),
    FieldSpec("all_day", "All day", "bool"),
    _text("location", "Location", 200),
    FieldSpec("direction", "Direction", "enum", choices=tuple(Direction)),
    FieldSpec("phone_number", "Phone number", "phone", 40),
    FieldSpec("email_from", "From", "email", 254),
    _text("email_to", "To", 1000),
    FieldSpec("completed_at", "Completed", "when"),
    _OWNER,
)

# Fields every record carries, maintained by the service, never typed by users.
SYSTEM_FIELDS = (
    "id",
    "created_at",
    "created_by",
    "modified_at",
    "modified_by",
    "version",
    "source_id",
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    ACCOUNTS: ACCOUNT_FIELDS,
    CONTACTS: CONTACT_FIELDS,
    ACTIVITIES: ACTIVITY_FIELDS,
}
FIELD_BY_NAME: dict[str, dict[str, FieldSpec]] = {
    table: {f.name: f for f in specs} for table, specs in FIELDS.items()
}
SINGULAR: dict[str, str] = {table: table.singular for table in Table}
# Every reference field and the table it points into (regarding_id's depends on the record).
REFERENCES: dict[str, dict[str, Table]] = {
    table: {f.name: f.ref_table for f in FIELDS[table] if f.ref_table is not None}
    for table in Table
}


class _Stamps(TypedDict, total=False):
    id: str
    created_at: str
    created_by: str
    modified_at: str
    modified_by: str
    version: int
    source_id: str


class _Address(TypedDict, total=False):
    address_line1: str
    address_line2: str
    address_city: str
    address_state: str
    address_postal_code: str
    address_country: str


class AccountRecord(_Stamps, _Address, total=False):
    """An account as stored (absent keys are empty fields). For reading code and scripts;
    the store itself passes `Record` dicts."""

    name: str
    account_number: str
    relationship: str
    industry: str
    phone: str
    email: str
    website: str
    parent_account_id: str
    primary_contact_id: str
    description: str
    owner: str
    status: str


class ContactRecord(_Stamps, _Address, total=False):
    """A contact as stored."""

    first_name: str
    last_name: str
    job_title: str
    account_id: str
    email: str
    phone: str
    mobile: str
    description: str
    owner: str
    status: str


class ActivityRecord(_Stamps, total=False):
    """An activity as stored."""

    type: str
    subject: str
    description: str
    regarding_type: str
    regarding_id: str
    status: str
    priority: str
    due_at: str
    start_at: str
    end_at: str
    all_day: bool
    location: str
    direction: str
    phone_number: str
    email_from: str
    email_to: str
    completed_at: str
    owner: str


_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@(?:[^@\s<>(),;:\"\[\].]+\.)+[^@\s<>(),;:\"\[\].]+$")
# At least three digits: "---" or "( ) ." is not a phone number.
_PHONE = re.compile(
    r"^(?=(?:[^0-9]*[0-9]){3})\+?[0-9 ()./\-]{3,}(\s*(x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE
)
_URL = re.compile(r"^(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]{1,5})?(/\S*)?$", re.IGNORECASE)


def check_field(spec: FieldSpec, value: Any) -> str | None:
    """The problem with one value, or None. Empty values are always fine here (see required)."""
    if value is None or value == "":
        return None
    if spec.kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if not isinstance(value, str):
        return "must be text"
    if len(value) > spec.max_len:
        return f"is too long ({len(value)} characters, at most {spec.max_len})"
    if not spec.multiline and ("\n" in value or "\r" in value):
        return "must be a single line"
    if spec.kind == "enum" and value not in spec.choices:
        return f"'{value}' is not one of: {', '.join(spec.choices)}"
    if spec.kind == "email" and not _EMAIL.match(value):
        return f"'{value}' is not an email address"
    if spec.kind == "phone" and not _PHONE.match(value):
        return f"'{value}' is not a phone number (digits, spaces, + ( ) - . /)"
    if spec.kind == "url" and not _URL.match(value):
        return f"'{value}' is not a web address"
    if spec.kind == "when" and not is_valid_storage(value):
        return f"'{value}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
    return None


def validate_fields(table: str, record: dict[str, Any]) -> list[FieldError]:
    """Field-level checks that need no other record: kinds, lengths, enums and required fields."""
    specs = FIELD_BY_NAME[table]
    errors: list[FieldError] = []
    for name, value in record.items():
        if name in SYSTEM_FIELDS:
            continue
        spec = specs.get(name)
        if spec is None:
            errors.append(FieldError(name, "is not a field of " + SINGULAR[table] + "s"))
            continue
        problem = check_field(spec, value)
        if problem:
            errors.append(FieldError(name, problem))
    errors.extend(_required(table, record))
    return errors


def _required(table: str, record: dict[str, Any]) -> list[FieldError]:
    def blank(name: str) -> bool:
        value = record.get(name)
        return value is None or (isinstance(value, str) and not value.strip())

    if table == ACCOUNTS:
        return [
            FieldError(f.name, "is required")
            for f in ACCOUNT_FIELDS
            if f.required and blank(f.name)
        ]
    if table == CONTACTS and blank("first_name") and blank("last_name"):
        return [FieldError("last_name", "a first name or a last name is required")]
    if table == ACTIVITIES:
        errors = []
        if blank("type"):
            errors.append(FieldError("type", "is required"))
        elif record.get("type") != ActivityType.NOTE and blank("subject"):
            errors.append(FieldError("subject", "is required"))
        if record.get("type") == ActivityType.NOTE and blank("subject") and blank("description"):
            errors.append(FieldError("description", "a note needs some text"))
        if blank("regarding_id") or blank("regarding_type"):
            errors.append(
                FieldError("regarding_id", "an activity must be regarding an account or a contact")
            )
        start, end = record.get("start_at"), record.get("end_at")
        if start and end and is_valid_storage(start) and is_valid_storage(end) and end < start:
            errors.append(FieldError("end_at", "ends before it starts"))
        return errors
    return []


def clean(table: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Strip surrounding white space, lower-case emails, map '' to 'unset' (None).

    Other characters are kept as typed: the UI shows control characters visibly instead."""
    specs = FIELD_BY_NAME[table]
    out: dict[str, Any] = {}
    for name, value in changes.items():
        spec = specs.get(name)
        if isinstance(value, str):
            value = value.strip() if not (spec and spec.multiline) else value.strip("\n ")
            if spec and spec.kind == "email":
                value = value.lower() if value.count("@") == 1 else value
            if value == "":
                value = None
        out[name] = value
    return out


def display_name(table: str, record: dict[str, Any]) -> str:
    """How a record is named in lists, pickers and messages."""
    if table == ACCOUNTS:
        return record.get("name") or "(no name)"
    if table == CONTACTS:
        full = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
        return full or "(no name)"
    subject = record.get("subject") or (record.get("description") or "").split("\n", 1)[0]
    return subject[:80] or "(no subject)"


def activity_when(activity: dict[str, Any]) -> str:
    """The moment an activity is filed under on a timeline (stored format, sortable)."""
    return activity.get("start_at") or activity.get("due_at") or activity.get("created_at") or ""


def brief(table: str, record: dict[str, Any], account_name: str = "") -> str:
    """The few words that tell a record from others with the same name, as stored (the
    screen escapes them): a contact's account and email (or city), an account's city (or
    email, or relationship). `account_name` is the contact's account's name."""
    if table == ACCOUNTS:
        return record.get("address_city") or record.get("email") or record.get("relationship") or ""
    if table == CONTACTS:
        where = record.get("email") or record.get("address_city")
        return " · ".join(part for part in (account_name, where) if part)
    return ""
