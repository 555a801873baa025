"""Turning rows into CRM records: cell values to field values, one ParsedRow per row.

Cells are cleaned (formula guards, Excel's `="00123"`), enumerations read from Dynamics and
Salesforce labels and codes, dates read with the file's day/month order, pseudo-fields (a full
name, a status reason, a duration, a Salesforce WhoId/WhatId) folded into real fields, and
whatever cannot be read becomes a problem on its row, never an exception.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from store.io.common import (
    DYNAMICS_INDUSTRIES,
    ParsedRow,
    key,
    mangled_text,
    parse_bool,
    parse_when,
    single_line,
    split_full_name,
    to_activity_status,
    to_activity_type,
    to_direction,
    to_priority,
    to_record_status,
    to_regarding_type,
    to_relationship,
    when_to_storage,
)
from store.io.csv_import.mapping import PSEUDO_FIELDS, ColumnMapping
from store.io.csv_import.reader import CsvRow, CsvTable, shortened
from store.io.fields import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    FIELDS,
    MOMENT_FIELDS,
    NAME_FIELDS,
    REF_FIELDS,
    WHEN_FIELDS,
    check_kind,
)

__all__ = ["rows_to_records", "unneutralise"]


_FORMULA = re.compile(r"'+[=+\-@\t\r]")
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+\d+")
# Salesforce id key prefixes (first three characters of 15/18 character ids).
_SALESFORCE_PREFIXES = {
    "001": "account",
    "003": "contact",
    "00Q": "lead",
    "006": "opportunity",
    "500": "case",
    "701": "campaign",
    "00T": "task",
    "00U": "event",
}

# A typed phone's type word (lower case) -> the contact field it goes to; other types (home,
# work, main, other, none) go to phone. The first number for each field wins.
_MOBILE_TYPES = frozenset(
    {"mobile", "cell", "cellular", "cellphone", "mobilephone", "iphone", "handy"}
)


def unneutralise(value: str) -> str:
    """Undo the `'` that exports put before cells starting with = + - @ tab or CR."""
    return value[1:] if _FORMULA.match(value) else value


def _clean_cell(raw: str) -> str:
    raw = raw.replace("\x00", "")
    if _FORMULA.match(raw):
        return unneutralise(raw).strip()
    value = raw.strip()
    m = _EXCEL_TEXT.fullmatch(value)  # ="00123": Excel's way to keep leading zeros
    if m:
        value = m.group(1).strip()
    return value


def _salesforce_kind(value: str) -> str | None:
    if re.fullmatch(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}", value) and any(c.isdigit() for c in value):
        return _SALESFORCE_PREFIXES.get(value[:3])
    return None


def rows_to_records(
    kind: str,
    table: CsvTable,
    mapping: ColumnMapping,
    keep_unknown_in_description: bool = False,
    *,
    tz: tzinfo | None = None,
) -> list[ParsedRow]:
    """Convert rows to CRM records (see ParsedRow). Never raises on row content.

    Values are stripped; empty ones are left out; `'=...` formula guards are undone. Enumerations
    are mapped from Dynamics/Salesforce labels and codes; dates are read from common export
    formats (US month-first slashes unless the file shows otherwise, see _day_first; naive times
    are local time: `tz`, default the machine's zone) and stored as
    `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DD` for a due/start/end date without a time.
    Unknown columns are appended to the description as `Column: value` lines when asked.
    """
    check_kind(kind)
    if mapping.kind != kind:
        raise ValueError(f"the column mapping is for {mapping.kind}, not {kind}")
    day_first = _day_first(table, mapping)
    out: list[ParsedRow] = []
    for row in table.rows:
        try:
            parsed = _convert(kind, row, mapping, keep_unknown_in_description, tz, day_first)
        except Exception as exc:  # noqa: BLE001 - one odd row must not stop an import
            parsed = ParsedRow(
                row.line, problems=[*row.problems, f"line {row.line}: could not be read ({exc!r})"]
            )
        out.append(parsed)
    return out


_SLASHED = re.compile(r"\s*(\d{1,2})[/-](\d{1,2})[/-]\d{2,4}\b")


def _day_first(table: CsvTable, mapping: ColumnMapping) -> bool:
    """Whether `03/12/2026` in this file means 3 December.

    Decided for the whole file from its date columns: a first number above 12 somewhere means day
    first, a second number above 12 means month first (US). Without evidence, files delimited
    with `;` (European spreadsheets) are read day first, others month first.
    """
    columns = [c for c, f in mapping.field_for_column.items() if f in WHEN_FIELDS]
    day_first = month_first = False
    for row in table.rows:
        for column in columns:
            m = _SLASHED.match(row.values.get(column, ""))
            if m:
                day_first |= int(m.group(1)) > 12
                month_first |= int(m.group(2)) > 12
    if day_first != month_first:
        return day_first
    return table.delimiter == ";"


_LABEL = {
    "due_at": "due date",
    "start_at": "start",
    "end_at": "end",
    "completed_at": "completion date",
    "created_at": "creation date",
    "modified_at": "modification date",
}


def _convert(
    kind: str,
    row: CsvRow,
    mapping: ColumnMapping,
    keep_unknown: bool,
    tz: tzinfo | None,
    day_first: bool,
) -> ParsedRow:
    parsed = ParsedRow(row.line, problems=list(row.problems))
    record, refs, problems = parsed.record, parsed.refs, parsed.problems
    at = f"line {row.line}"
    found: dict[str, tuple[str, str]] = {}
    for column, field_name in mapping.field_for_column.items():
        value = _clean_cell(row.values.get(column, ""))
        if value:
            found[field_name] = (value, column)
            if mangled_text(value):
                problems.append(
                    f"{at}: {column} {shortened(value)!r} has '?' where letters should "
                    "be: the file was probably saved in an encoding that lost them"
                )

    whens: dict[str, date | datetime] = {}
    pseudo: dict[str, str] = {}
    for field_name, (value, column) in found.items():
        if field_name in REF_FIELDS[kind]:
            refs[field_name] = single_line(field_name, value)
        elif field_name in PSEUDO_FIELDS[kind]:
            pseudo[field_name] = value
        elif field_name in WHEN_FIELDS:
            when = parse_when(value, day_first=day_first)
            if when is None:
                problems.append(
                    f"{at}: {column} {shortened(value)!r} is not a date this import "
                    f"can read, so the {_LABEL[field_name]} was left empty"
                )
            else:
                whens[field_name] = when
        else:
            converted = _value(kind, field_name, value, column, at, problems)
            if converted is not None and converted != "":
                record[field_name] = converted

    for ref, name_field in NAME_FIELDS.items():
        name = single_line(ref, pseudo.get(name_field, ""))
        if name and ref in REF_FIELDS[kind]:
            if refs.get(ref, name) != name:
                parsed.ref_names[ref] = name  # the id beside it wins, when it finds a record
            else:
                refs[ref] = name
    extra_phones: list[str] = []
    if mapping.typed_phones:
        _typed_phone_values(row, mapping, record, extra_phones, at, problems)
    if kind == CONTACTS:
        full = pseudo.get("full_name")
        if full and not record.get("first_name") and not record.get("last_name"):
            first, last = split_full_name(single_line("full_name", full))
            if first:
                record["first_name"] = first
            if last:
                record["last_name"] = last
    if "status" not in record and "status_reason" in pseudo:
        reason = pseudo["status_reason"]
        status = (
            to_activity_status(reason, reason=True)
            if kind == ACTIVITIES
            else to_record_status(reason, reason=True)
        )
        if status:
            record["status"] = status
    if kind == ACTIVITIES:
        _activity(record, refs, pseudo, whens, found, at, problems)
    _store_whens(record, whens, tz, at, problems)
    if kind == ACTIVITIES and "completed_at" in record and "status" not in record:
        record["status"] = "completed"

    if keep_unknown:
        extra = list(extra_phones)
        for column in mapping.unknown:
            value = _clean_cell(row.values.get(column, ""))
            if value:
                extra.append(f"{column}: {value}")
        if extra:
            description = record.get("description", "")
            record["description"] = "\n".join(([description, ""] if description else []) + extra)

    _required(kind, record, refs, at, problems)
    parsed.record = _ordered(kind, record)
    return parsed


def _typed_phone_values(
    row: CsvRow,
    mapping: ColumnMapping,
    record: dict[str, Any],
    extra: list[str],
    at: str,
    problems: list[str],
) -> None:
    """Numbered phones by their type: mobile/cell to mobile, others to phone, the first of each
    wins (unless a phone or mobile column gave one); the rest are listed for the description."""
    for number_column, type_column in mapping.typed_phones:
        number = _clean_cell(row.values.get(number_column, ""))
        if not number:
            continue
        label = _clean_cell(row.values.get(type_column, "")) if type_column else ""
        words = set(re.findall(r"[a-z]+", label.lower()))
        field_name = "mobile" if words & _MOBILE_TYPES else "phone"
        if field_name not in record and "fax" not in words:
            record[field_name] = _value(CONTACTS, field_name, number, number_column, at, problems)
        else:
            extra.append(f"Phone ({label}): {number}" if label else f"Phone: {number}")


def _value(
    kind: str, field_name: str, value: str, column: str, at: str, problems: list[str]
) -> Any:
    def bad(what: str) -> None:
        problems.append(f"{at}: {column} {shortened(value)!r} is not a known {what}, left empty")

    if field_name == "relationship":
        result = to_relationship(value)
        if result is None:
            bad("relationship")
        return result
    if field_name == "status":
        result = to_activity_status(value) if kind == ACTIVITIES else to_record_status(value)
        if result is None:
            bad("status")
        return result
    if field_name == "priority":
        result = to_priority(value)
        if result is None:
            bad("priority")
        return result
    if field_name == "type":
        result = to_activity_type(value)
        if result is None:
            problems.append(
                f"{at}: {column} {shortened(value)!r} is not a known activity type, "
                "imported as a task"
            )
            return "task"
        return result
    if field_name == "direction":
        result = to_direction(value)
        if result is None:
            bad("direction")
        return result
    if field_name == "regarding_type":
        result = to_regarding_type(value)
        if result is None:
            bad("kind of record (account or contact)")
        return result
    if field_name == "all_day":
        flag = parse_bool(value)
        if flag is None:
            bad("yes/no value")
        return flag
    if field_name == "industry" and key(column) == "industrycode":
        return DYNAMICS_INDUSTRIES.get(value, single_line(field_name, value))
    if field_name in ("email", "email_from") and "@" not in value:
        problems.append(f"{at}: {column} {shortened(value)!r} does not look like an email address")
    if field_name in ("phone", "mobile", "phone_number") and _SCIENTIFIC.fullmatch(value):
        problems.append(
            f"{at}: {column} {value!r} looks like a phone number a spreadsheet turned "
            "into a number in scientific notation; the digits are lost"
        )
    if field_name == "address_line1" and "\n" in value:
        return value  # split into line 1 and 2 by _ordered
    return single_line(field_name, value)


def _activity(
    record: dict[str, Any],
    refs: dict[str, str],
    pseudo: dict[str, str],
    whens: dict[str, date | datetime],
    found: dict[str, tuple[str, str]],
    at: str,
    problems: list[str],
) -> None:
    # Regarding: an explicit regarding column, else Salesforce WhoId (contact) / WhatId (account).
    if "regarding_id" in refs:
        if "regarding_type" not in record:
            sf = _salesforce_kind(refs["regarding_id"])
            if sf in ("account", "contact"):
                record["regarding_type"] = sf
    else:
        for pseudo_field, regarding_type in (
            ("regarding_contact", "contact"),
            ("regarding_account", "account"),
        ):
            value = pseudo.get(pseudo_field)
            if not value:
                continue
            sf = _salesforce_kind(value)
            if sf is not None and sf != regarding_type:
                problems.append(
                    f"{at}: {found[pseudo_field][1]} {value!r} is a Salesforce "
                    f"{sf}, which this CRM does not have; not linked"
                )
                continue
            refs["regarding_id"] = single_line("regarding_id", value)
            record["regarding_type"] = regarding_type
            break
    if "type" not in record:
        record["type"] = "appointment" if "start_at" in whens and "end_at" in whens else "task"
    if record["type"] == "appointment" and "due_at" in whens and "end_at" not in whens:
        # Dynamics exports an appointment's end as scheduledend, which reads as "due".
        whens["end_at" if "start_at" in whens else "start_at"] = whens.pop("due_at")
    minutes = pseudo.get("duration_minutes", "")
    start = whens.get("start_at")
    if minutes and "end_at" not in whens and isinstance(start, datetime):
        try:
            whens["end_at"] = start + timedelta(minutes=float(minutes.replace(",", ".")))
        except (ValueError, OverflowError):
            problems.append(
                f"{at}: {found['duration_minutes'][1]} {minutes!r} is not a number of minutes"
            )
    if (
        "all_day" not in record
        and record.get("type") == "appointment"
        and isinstance(start, date)
        and not isinstance(start, datetime)
    ):
        record["all_day"] = True  # only appointments have all_day; a task may start on a day


def _store_whens(
    record: dict[str, Any],
    whens: dict[str, date | datetime],
    tz: tzinfo | None,
    at: str,
    problems: list[str],
) -> None:
    all_day = record.get("all_day") is True
    for field_name, when in whens.items():
        try:
            record[field_name] = when_to_storage(
                when,
                tz,
                as_day=all_day and field_name in ("start_at", "end_at"),
                as_moment=field_name in MOMENT_FIELDS
                or (field_name in ("start_at", "end_at") and record.get("all_day") is False),
            )
        except (ValueError, OverflowError):
            problems.append(f"{at}: the {_LABEL[field_name]} is out of range, left empty")


def _required(
    kind: str, record: dict[str, Any], refs: dict[str, str], at: str, problems: list[str]
) -> None:
    if kind == ACCOUNTS and not record.get("name"):
        problems.append(f"{at}: no account name")
    elif kind == CONTACTS and not record.get("first_name") and not record.get("last_name"):
        problems.append(f"{at}: no first or last name")
    elif (
        kind == ACTIVITIES
        and not record.get("subject")
        and not (record.get("type") == "note" and record.get("description"))
    ):
        problems.append(f"{at}: no subject")


def _ordered(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    line1 = record.get("address_line1")
    if isinstance(line1, str) and "\n" in line1:
        first, _, rest = line1.partition("\n")
        record["address_line1"] = first.strip()
        if rest.strip():
            rest = single_line("address_line2", rest)
            record["address_line2"] = (
                f"{rest}, {record['address_line2']}" if record.get("address_line2") else rest
            )
    order = {
        name: i for i, name in enumerate(("source_id", *FIELDS[kind], "created_at", "modified_at"))
    }
    return dict(sorted(record.items(), key=lambda item: order.get(item[0], len(order))))
