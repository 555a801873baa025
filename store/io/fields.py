"""Field names and value sets that the import/export layer reads and writes.

These mirror the CRM's record fields (see ``store.model``) but are kept here as plain tuples so
that the io layer stays pure and importable on its own; a test checks that both agree.
"""

from __future__ import annotations

ACCOUNTS = "accounts"
CONTACTS = "contacts"
ACTIVITIES = "activities"
KINDS = (ACCOUNTS, CONTACTS, ACTIVITIES)

ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
)

ACCOUNT_FIELDS = (
    "name",
    "account_number",
    "relationship",
    "industry",
    "phone",
    "email",
    "website",
    *ADDRESS_FIELDS,
    "parent_account_id",
    "primary_contact_id",
    "description",
    "owner",
    "status",
)

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "account_id",
    "email",
    "phone",
    "mobile",
    *ADDRESS_FIELDS,
    "description",
    "owner",
    "status",
)

ACTIVITY_FIELDS = (
    "type",
    "subject",
    "description",
    "regarding_type",
    "regarding_id",
    "status",
    "priority",
    "due_at",
    "start_at",
    "end_at",
    "all_day",
    "location",
    "direction",
    "phone_number",
    "email_from",
    "email_to",
    "completed_at",
    "owner",
)

# Every record also carries these. `id` is the CRM's own id; `source_id` the id the record had in
# the system it was imported from.
COMMON_FIELDS = ("id", "source_id", "created_at", "modified_at")

FIELDS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: ACCOUNT_FIELDS,
    CONTACTS: CONTACT_FIELDS,
    ACTIVITIES: ACTIVITY_FIELDS,
}

# Columns a CSV export writes beside a reference, so that a spreadsheet user can read whom it
# names. Not stored: the import reads them back as the name to link by when the id beside it
# finds no record (a file taken to another database).
NAME_FIELDS: dict[str, str] = {
    "parent_account_id": "parent_account_name",
    "primary_contact_id": "primary_contact_name",
    "account_id": "account_name",
    "regarding_id": "regarding_name",
}


def _with_names(fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for f in fields for name in (f, NAME_FIELDS.get(f)) if name)


# Every field an export may name, in a sensible column order.
EXPORT_FIELDS: dict[str, tuple[str, ...]] = {
    kind: ("id", *_with_names(fields), "source_id", "created_at", "modified_at")
    for kind, fields in FIELDS.items()
}

# References to other records. Importers never put these in `record`: the raw text (an id, a
# source id or a name) goes to `refs` and is resolved against the database later.
REF_FIELDS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: ("parent_account_id", "primary_contact_id"),
    CONTACTS: ("account_id",),
    ACTIVITIES: ("regarding_id",),
}

# Fields holding a moment or a day, stored as YYYY-MM-DDTHH:MM:SSZ (UTC) or YYYY-MM-DD.
WHEN_FIELDS = ("due_at", "start_at", "end_at", "completed_at", "created_at", "modified_at")
# Of those, the ones that are always moments (a date-only value becomes local midnight).
MOMENT_FIELDS = ("completed_at", "created_at", "modified_at")

# Fields that may hold several lines; every other text field must be a single line.
MULTILINE_FIELDS = ("description",)

RELATIONSHIPS = (
    "customer",
    "prospect",
    "partner",
    "reseller",
    "vendor",
    "supplier",
    "competitor",
    "investor",
    "consultant",
    "influencer",
    "press",
    "other",
)
RECORD_STATUSES = ("active", "inactive")
ACTIVITY_TYPES = ("note", "email", "phone_call", "appointment", "task")
ACTIVITY_STATUSES = ("open", "completed", "canceled")
PRIORITIES = ("low", "normal", "high")
DIRECTIONS = ("incoming", "outgoing")
REGARDING_TYPES = ("account", "contact")


def check_kind(kind: str) -> None:
    """Raise ValueError for anything but accounts, contacts or activities."""
    if kind not in FIELDS:
        raise ValueError(f"unknown record kind {kind!r}: use one of {', '.join(KINDS)}")
