"""Matching a file's columns to CRM fields: the guess from the header, and the user's --map.

The result, a ColumnMapping, is what the import reports before it runs (which column feeds
which field, what is unknown, what is ignored) and what conversion.py reads rows through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from store.io.common import key
from store.io.csv_import.aliases import (
    ALIAS_INDEX,
    NOISE,
    PHONE_NUMBER_COLUMN,
    PHONE_TYPE_COLUMN,
)
from store.io.fields import ACCOUNTS, ACTIVITIES, CONTACTS, FIELDS, check_kind

__all__ = [
    "PSEUDO_FIELDS",
    "ColumnMapping",
    "MappingError",
    "apply_overrides",
    "guess_mapping",
    "mappable_fields",
]


class MappingError(ValueError):
    """A --map override names a column or a field that does not exist."""


@dataclass
class ColumnMapping:
    """Which column feeds which field. Each field is fed by at most one column.

    `unknown`: columns not recognised (kept in the description on request). `ignored`: columns
    deliberately dropped (system noise such as row checksums, or mapped to nothing by the user).
    """

    kind: str
    header: list[str]
    field_for_column: dict[str, str]
    unknown: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # Numbered phone columns with a type beside them (`phone_number1.number` and
    # `phone_number1.type`, Google's `Phone 1 - Value` and `Phone 1 - Type`): (number column,
    # type column or None), in file order. Each row's type decides phone or mobile.
    typed_phones: list[tuple[str, str | None]] = field(default_factory=list)


# Pseudo-fields a column may be mapped to besides the CRM fields; rows_to_records folds them in.
PSEUDO_FIELDS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: ("status_reason", "parent_account_name", "primary_contact_name"),
    CONTACTS: ("full_name", "status_reason", "account_name"),
    ACTIVITIES: (
        "status_reason",
        "regarding_account",
        "regarding_contact",
        "duration_minutes",
        "regarding_name",
    ),
}


def mappable_fields(kind: str) -> tuple[str, ...]:
    """Every field name a column can be mapped to for this kind (for --map and help texts)."""
    check_kind(kind)
    return (*FIELDS[kind], "source_id", "created_at", "modified_at", *PSEUDO_FIELDS[kind])


def guess_mapping(kind: str, header: list[str]) -> ColumnMapping:
    """Recognise the columns of a header for accounts, contacts or activities.

    Matching ignores case and punctuation. Known: our own field names, Dynamics 365 logical and
    display names, Salesforce export names, Outlook/Google CSV names and common generic names.
    When several columns claim one field the most specific name wins ("Job Title" over "Title")
    and the others count as unknown.
    """
    check_kind(kind)
    index = ALIAS_INDEX[kind]
    claims: dict[str, tuple[int, int, str]] = {}
    unknown: list[str] = []
    ignored: list[str] = []
    typed_phones = _typed_phones(header) if kind == CONTACTS else []
    paired = {column for pair in typed_phones for column in pair if column}
    for position, column in enumerate(header):
        if column in paired:
            continue
        k = key(column)
        hit = index.get(k)
        if hit is None:
            (ignored if k in NOISE else unknown).append(column)
            continue
        field_name, rank = hit
        current = claims.get(field_name)
        if current is None or (rank, position) < current[:2]:
            if current is not None:
                unknown.append(current[2])
            claims[field_name] = (rank, position, column)
        else:
            unknown.append(column)
    field_for_column = {column: f for f, (_, _, column) in claims.items()}
    return ColumnMapping(
        kind,
        list(header),
        _in_header_order(header, field_for_column),
        _in_order(header, unknown),
        _in_order(header, ignored),
        typed_phones,
    )


def _typed_phones(header: list[str]) -> list[tuple[str, str | None]]:
    """Numbered phone columns and the type column of the same number (see ColumnMapping)."""
    types: dict[str, str] = {}
    for column in header:
        m = PHONE_TYPE_COLUMN.fullmatch(key(column))
        if m:
            types.setdefault(m.group(1), column)
    pairs: list[tuple[str, str | None]] = []
    for column in header:
        m = PHONE_NUMBER_COLUMN.fullmatch(key(column))
        if m:
            pairs.append((column, types.get(m.group(1))))
    return pairs


def _in_header_order(header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    return {column: mapping[column] for column in header if column in mapping}


def _in_order(header: list[str], columns: list[str]) -> list[str]:
    wanted = set(columns)
    return [column for column in header if column in wanted]


_IGNORE_WORDS = {"", "-", "ignore", "skip", "none", "drop"}


def apply_overrides(mapping: ColumnMapping, overrides: list[str]) -> ColumnMapping:
    """Apply `COLUMN=field` overrides (the CLI's --map) and return the new mapping.

    COLUMN is matched exactly, then ignoring case and punctuation. `COLUMN=` (or `=-`, `=ignore`)
    drops a column. Mapping a column to a field already fed by another column moves that other
    column to `unknown`. Raises MappingError naming an unknown column or field.
    """
    kind = mapping.kind
    fields = mappable_fields(kind)
    field_by_key = {key(f): f for f in fields}
    result = replace(
        mapping,
        field_for_column=dict(mapping.field_for_column),
        unknown=list(mapping.unknown),
        ignored=list(mapping.ignored),
        typed_phones=list(mapping.typed_phones),
    )
    for item in overrides:
        if "=" not in item:
            raise MappingError(f"--map {item!r}: expected COLUMN=field")
        column_text, field_text = (p.strip() for p in item.rsplit("=", 1))
        column = _find_column(mapping.header, column_text)
        if field_text.lower() in _IGNORE_WORDS:
            target = None
        elif key(field_text) == "id":
            raise MappingError(
                f"--map {item!r}: the CRM gives records their own ids; map the "
                "other system's id to source_id"
            )
        else:
            target = field_by_key.get(key(field_text))
            if target is None:
                raise MappingError(
                    f"--map {item!r}: {field_text!r} is not a field of {kind}; "
                    f"use one of: {', '.join(fields)}"
                )
        result.field_for_column.pop(column, None)
        result.typed_phones = [pair for pair in result.typed_phones if column not in pair]
        for bucket in (result.unknown, result.ignored):
            if column in bucket:
                bucket.remove(column)
        if target is None:
            result.ignored.append(column)
            continue
        for other, other_field in list(result.field_for_column.items()):
            if other_field == target:
                del result.field_for_column[other]
                result.unknown.append(other)
        result.field_for_column[column] = target
    result.field_for_column = _in_header_order(mapping.header, result.field_for_column)
    result.unknown = _in_order(mapping.header, result.unknown)
    result.ignored = _in_order(mapping.header, result.ignored)
    return result


def _find_column(header: list[str], text: str) -> str:
    if text in header:
        return text
    folded = [c for c in header if c.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0]
    keyed = [c for c in header if key(c) == key(text)]
    if len(keyed) == 1 and key(text):
        return keyed[0]
    shown = ", ".join(repr(c) for c in header[:30])
    raise MappingError(f"--map: there is no column {text!r} in the file; columns are: {shown}")
