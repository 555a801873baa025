"""Read CSV exports (Dynamics 365, Salesforce, Outlook, Google, spreadsheets) into CRM records.

Three steps, all pure:

1. :func:`read_csv` turns bytes into a :class:`CsvTable` (encoding and delimiter detected, line
   numbers kept). It raises :class:`CsvError` only when there is no header at all.
2. :func:`guess_mapping` recognises columns (:class:`ColumnMapping`); :func:`apply_overrides`
   applies the user's ``--map COLUMN=field`` corrections.
3. :func:`rows_to_records` converts each row to a :class:`~store.io.common.ParsedRow`. It never
   raises on row content: whatever cannot be read becomes a problem on that row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from store.io.common import (
    DYNAMICS_INDUSTRIES,
    LIMITS,
    ImportLimits,
    ParsedRow,
    check_size,
    decode_bytes,
    key,
    mangled_text,
    over_limit,
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

__all__ = [
    "PSEUDO_FIELDS",
    "ColumnMapping",
    "CsvError",
    "CsvRow",
    "CsvTable",
    "MappingError",
    "apply_overrides",
    "guess_mapping",
    "mappable_fields",
    "read_csv",
    "rows_to_records",
    "unneutralise",
]


class CsvError(ValueError):
    """The file cannot be read as a table at all (empty, or no header row)."""


class MappingError(ValueError):
    """A --map override names a column or a field that does not exist."""


@dataclass
class CsvRow:
    """One data row. `line` is the 1-based physical line where it starts (the header is line 1
    when it is the first line). `values` has every header column ("" when the row is short)."""

    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class CsvTable:
    header: list[str]
    rows: list[CsvRow]
    encoding: str
    delimiter: str
    problems: list[str] = field(default_factory=list)  # file-level notes (renamed columns...)


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
    ACTIVITIES: ("status_reason", "regarding_account", "regarding_contact", "duration_minutes",
                 "regarding_name"),
}


def mappable_fields(kind: str) -> tuple[str, ...]:
    """Every field name a column can be mapped to for this kind (for --map and help texts)."""
    check_kind(kind)
    return (*FIELDS[kind], "source_id", "created_at", "modified_at", *PSEUDO_FIELDS[kind])


# --------------------------------------------------------------------------- reading


_DELIMITERS = ",;\t"
_SAMPLE = 8 * 1024


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _first_record_text(text: str) -> str:
    """The first non-blank logical line (a quoted header cell may span lines)."""
    out: list[str] = []
    quoted = False
    for line in text.split("\n"):
        if not out and not line.strip():
            continue
        out.append(line)
        quoted ^= line.count('"') % 2 == 1
        if not quoted or len(out) > 50:
            break
    return "\n".join(out)


def _detect_delimiter(text: str) -> str:
    header = _first_record_text(text)
    counts = {d: _count_outside_quotes(header, d) for d in _DELIMITERS}
    present = [d for d in _DELIMITERS if counts[d] > 0]
    if len(present) == 1:
        return present[0]  # the header is unambiguous: no need to sniff
    # Only when the header has several candidates (or none) is the sniffer asked. Its regular
    # expressions can be quadratic on odd input, hence the small sample.
    sample = text[:_SAMPLE]
    if len(text) > _SAMPLE and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except Exception:  # noqa: BLE001 - the sniffer can fail in odd ways
        sniffed = None
    if sniffed in counts and counts[sniffed] > 0:
        return sniffed
    best = max(_DELIMITERS, key=lambda d: counts[d])
    if counts[best] > 0:
        return best
    return sniffed if sniffed in counts else ","


def _unique_header(cells: list[str], problems: list[str]) -> list[str]:
    header: list[str] = []
    seen: set[str] = set()
    next_number: dict[str, int] = {}
    for i, cell in enumerate(cells, start=1):
        name = " ".join(cell.replace("\ufeff", "").split())
        if not name:
            name = f"Column {i}"
        if name in seen:
            n = next_number.get(name, 2)
            while f"{name} ({n})" in seen:
                n += 1
            next_number[name] = n + 1
            problems.append(f"column {i}: a second column named {name!r}, read as "
                            f"'{name} ({n})'")
            name = f"{name} ({n})"
        seen.add(name)
        header.append(name)
    if len(problems) > 20:
        problems[20:] = [f"... and {len(problems) - 20} more repeated column names"]
    return header


def read_csv(data: bytes, *, limits: ImportLimits = LIMITS) -> CsvTable:
    """Read a CSV file of unknown origin.

    Encoding: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 or what charset-normalizer
    finds. Delimiter: `,` `;` or tab, sniffed and checked against the header line; an Excel
    `sep=;` first line is honoured. Quoted fields may hold delimiters, quotes and newlines. Blank
    lines are skipped. Short rows get "" for missing cells; extra cells are reported in
    `CsvRow.problems`. Raises CsvError only when there is no header row, ImportLimitError for
    a file beyond `limits` (rows, columns, characters in a field).
    """
    check_size(data, limits)
    # The csv module's own cap (128 KiB a field by default) would cut a row short and read
    # on from inside the field; ours is checked on each row, below.
    csv.field_size_limit(max(csv.field_size_limit(), limits.field_chars + 1))
    text, encoding = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    problems: list[str] = []
    delimiter = None
    first_line, _, rest = text.partition("\n")
    m = re.fullmatch(r'\s*"?sep=([,;\t|])"?\s*', first_line.lstrip("\ufeff"), re.IGNORECASE)
    if m:
        delimiter = m.group(1)
        text = "\n" + rest  # keep the physical line numbers
    if not text.strip():
        raise CsvError("the file is empty: there is no header row to read")
    if delimiter is None:
        delimiter = _detect_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    header: list[str] | None = None
    rows: list[CsvRow] = []
    consumed = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise over_limit("characters in one field", limits.field_chars,
                                 f"line {consumed + 1} has a longer one") from None
            start, consumed = consumed + 1, reader.line_num
            if header is not None:
                rows.append(CsvRow(start, dict.fromkeys(header, ""),
                                   [f"line {start}: unreadable row ({exc})"]))
            else:
                problems.append(f"line {start}: unreadable line skipped ({exc})")
            continue
        start, consumed = consumed + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        _check_row(cells, start, len(rows), limits)
        if header is None:
            header = _unique_header(cells, problems)
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        row_problems: list[str] = []
        extra = [c for c in cells[len(header):] if c.strip()]
        if extra:
            shown = ", ".join(repr(_short(c)) for c in extra[:5])
            row_problems.append(f"line {start}: {len(extra)} more cell(s) than the header has "
                                f"columns, ignored: {shown}")
        rows.append(CsvRow(start, values, row_problems))
    if header is None:
        raise CsvError("no header row: the file holds no readable line")
    return CsvTable(header, rows, encoding, delimiter, problems)


def _check_row(cells: list[str], line: int, rows_before: int, limits: ImportLimits) -> None:
    if rows_before >= limits.rows:
        raise over_limit("rows", limits.rows)
    if len(cells) > limits.fields:
        raise over_limit("columns in a row", limits.fields, f"line {line} has {len(cells):,}")
    if any(len(cell) > limits.field_chars for cell in cells):
        raise over_limit("characters in one field", limits.field_chars,
                         f"line {line} has a longer one")


def _short(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --------------------------------------------------------------------------- column recognition

_COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "created_at": ("createdat", "createdon", "createddate", "created", "datecreated",
                   "creationdate", "createdtime", "createdate"),
    "modified_at": ("modifiedat", "modifiedon", "lastmodifieddate", "lastmodified", "modified",
                    "datemodified", "updatedat", "updatedon", "lastupdated", "updated"),
    "owner": ("owner", "ownerid", "ownername", "recordowner", "assignedto", "ownedby",
              "accountowner", "contactowner", "salesrep", "accountmanager"),
    "description": ("description", "notes", "note", "comments", "comment", "remarks", "details",
                    "memo"),
    "status_reason": ("statuscode", "statusreason"),
}

_ADDRESS_ALIASES: dict[str, tuple[str, ...]] = {
    "address_line1": ("addressline1", "address1line1", "address1street1", "billingstreet",
                      "mailingstreet", "businessstreet", "address1street", "street",
                      "streetaddress", "address", "address1", "street1", "line1",
                      "addressstreet", "streetline1"),
    "address_line2": ("addressline2", "address1line2", "address1street2", "businessstreet2",
                      "street2", "line2", "address2", "streetline2"),
    "address_city": ("addresscity", "address1city", "billingcity", "mailingcity", "businesscity",
                     "city", "town", "locality"),
    "address_state": ("addressstate", "address1stateorprovince", "address1stateprovince",
                      "address1region", "billingstate", "mailingstate", "businessstate",
                      "stateorprovince", "stateprovince", "state", "province", "region",
                      "county"),
    "address_postal_code": ("addresspostalcode", "address1postalcode", "address1zippostalcode",
                            "billingpostalcode", "mailingpostalcode", "businesspostalcode",
                            "postalcode", "zippostalcode", "zip", "zipcode", "postcode",
                            "postal", "plz"),
    "address_country": ("addresscountry", "address1country", "address1countryregion",
                        "billingcountry", "mailingcountry", "businesscountryregion",
                        "businesscountry", "country", "countryregion", "nation"),
}

_EMAIL_ALIASES = ("email", "emailaddress1", "emailaddress", "email1", "email1value",
                  "email1address", "primaryemail", "workemail", "businessemail", "mail")

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ACCOUNTS: {
        "source_id": ("id", "accountid", "donotmodifyaccount", "sourceid", "externalid",
                      "recordid"),
        "name": ("name", "accountname", "companyname", "company", "organization",
                 "organisation", "organizationname", "business", "businessname",
                 "customername", "customer"),
        "account_number": ("accountnumber", "accountno", "accountnum", "customernumber",
                           "customerno", "customerid", "accountcode"),
        "relationship": ("relationship", "customertypecode", "relationshiptype", "type",
                         "accounttype", "customertype", "category"),
        "industry": ("industry", "industrycode", "sector"),
        "phone": ("phone", "telephone1", "mainphone", "phonenumber", "telephone",
                  "businessphone", "officephone", "workphone", "phone1value", "tel"),
        "email": _EMAIL_ALIASES,
        "website": ("website", "websiteurl", "web", "url", "homepage", "webpage",
                    "websiteaddress", "webaddress", "webpage1value", "website1value"),
        **_ADDRESS_ALIASES,
        "parent_account_id": ("parentaccountid", "parentaccount", "parentid", "parent",
                              "parentaccountname", "parentcompany"),
        "primary_contact_id": ("primarycontactid", "primarycontact", "maincontact",
                               "primarycontactname", "contact", "contactname"),
        "parent_account_name": ("parentaccountname", "parentaccountidname"),
        "primary_contact_name": ("primarycontactname", "primarycontactidname"),
        "status": ("status", "statecode"),
        **_COMMON_ALIASES,
    },
    CONTACTS: {
        "source_id": ("id", "contactid", "donotmodifycontact", "sourceid", "externalid",
                      "recordid"),
        "first_name": ("firstname", "givenname", "first", "forename", "vorname", "prenom",
                       "prénom"),
        "last_name": ("lastname", "surname", "familyname", "last", "nachname", "nom"),
        "full_name": ("fullname", "name", "contactname", "displayname", "contact"),
        "job_title": ("jobtitle", "title", "position", "role", "organizationtitle",
                      "organization1title", "function"),
        "account_id": ("accountid", "parentcustomerid", "companyname", "company", "account",
                       "accountname", "organization", "organisation", "organizationname",
                       "organization1name", "employer", "parentcustomer", "firm"),
        "account_name": ("accountname", "parentcustomeridname"),
        "email": _EMAIL_ALIASES,
        "phone": ("phone", "telephone1", "businessphone", "phonenumber", "telephone",
                  "workphone", "officephone", "directphone", "phone1value", "tel"),
        "mobile": ("mobile", "mobilephone", "cell", "cellphone", "mobilenumber", "cellular",
                   "handy", "mobiletelephone"),
        **_ADDRESS_ALIASES,
        "status": ("status", "statecode"),
        **_COMMON_ALIASES,
    },
    ACTIVITIES: {
        "source_id": ("id", "activityid", "donotmodifyactivity", "donotmodifytask",
                      "donotmodifyphonecall", "donotmodifyappointment", "donotmodifyemail",
                      "sourceid", "taskid", "eventid", "externalid", "recordid"),
        "type": ("type", "activitytypecode", "activitytype", "tasksubtype", "eventsubtype",
                 "kind"),
        "subject": ("subject", "title", "summary", "topic", "name"),
        "regarding_type": ("regardingtype", "regardingobjecttypecode", "regardingobjecttype",
                           "relatedtotype"),
        "regarding_id": ("regardingid", "regardingobjectid", "regarding", "relatedto",
                         "regardingname", "regardingobjectidname"),
        "regarding_name": ("regardingname", "regardingobjectidname"),
        "regarding_contact": ("whoid", "contact", "contactid", "contactname", "who"),
        "regarding_account": ("whatid", "account", "accountid", "accountname", "company",
                              "what"),
        "status": ("status", "statecode", "activitystatus"),
        "priority": ("priority", "prioritycode", "importance"),
        "due_at": ("dueat", "scheduledend", "due", "duedate", "activitydate", "deadline",
                   "dueon", "date"),
        "start_at": ("startat", "scheduledstart", "starttime", "startdate", "start",
                     "startdatetime", "activitydatetime", "begin"),
        "end_at": ("endat", "endtime", "enddate", "end", "enddatetime", "finish"),
        "completed_at": ("completedat", "actualend", "completeddatetime", "completedon",
                         "datecompleted", "closedon"),
        "all_day": ("allday", "isalldayevent", "alldayevent"),
        "location": ("location", "place", "where", "venue"),
        "direction": ("direction", "directioncode", "calltype"),
        "phone_number": ("phonenumber", "phone", "telephone", "number"),
        "email_from": ("emailfrom", "from", "sender", "fromaddress", "sentfrom"),
        "email_to": ("emailto", "to", "recipient", "recipients", "toaddress", "toaddresses",
                     "sentto"),
        "duration_minutes": ("durationminutes", "durationinminutes", "scheduleddurationminutes",
                             "actualdurationminutes", "duration"),
        **_COMMON_ALIASES,
    },
}

# System columns that carry nothing a user wants in a description.
_NOISE = frozenset(
    {
        "donotmodifyrowchecksum", "rowchecksum", "donotmodifymodifiedon", "isdeleted",
        "systemmodstamp", "createdbyid", "lastmodifiedbyid", "lastvieweddate",
        "lastreferenceddate", "jigsaw", "jigsawcompanyid", "jigsawcontactid", "photourl",
        "masterrecordid", "cleanstatus", "versionnumber", "timezoneruleversionnumber",
        "utcconversiontimezonecode", "importsequencenumber", "overriddencreatedon",
        "owningbusinessunit", "owninguser", "owningteam", "createdonbehalfby",
        "modifiedonbehalfby", "processid", "stageid", "traversedpath", "billinglatitude",
        "billinglongitude", "billinggeocodeaccuracy", "shippinglatitude", "shippinglongitude",
        "shippinggeocodeaccuracy", "mailinglatitude", "mailinglongitude",
        "mailinggeocodeaccuracy", "otherlatitude", "otherlongitude", "othergeocodeaccuracy",
        "isarchived", "isclosed", "ishighpriority", "isrecurrence", "isreminderset",
    }
)


def _alias_index(kind: str) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for field_name, aliases in _ALIASES[kind].items():
        for rank, alias in enumerate((key(field_name), *aliases)):
            alias = key(alias)
            if alias not in index or index[alias][1] > rank:
                index[alias] = (field_name, rank)
    return index


_INDEX = {kind: _alias_index(kind) for kind in _ALIASES}


def guess_mapping(kind: str, header: list[str]) -> ColumnMapping:
    """Recognise the columns of a header for accounts, contacts or activities.

    Matching ignores case and punctuation. Known: our own field names, Dynamics 365 logical and
    display names, Salesforce export names, Outlook/Google CSV names and common generic names.
    When several columns claim one field the most specific name wins ("Job Title" over "Title")
    and the others count as unknown.
    """
    check_kind(kind)
    index = _INDEX[kind]
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
            (ignored if k in _NOISE else unknown).append(column)
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
    return ColumnMapping(kind, list(header), _in_header_order(header, field_for_column),
                         _in_order(header, unknown), _in_order(header, ignored), typed_phones)


_PHONE_NUMBER = re.compile(r"(?:phone|phonenumber|telephone|tel)(\d+)(?:number|value)")
_PHONE_TYPE = re.compile(r"(?:phone|phonenumber|telephone|tel)(\d+)(?:type|label)")


def _typed_phones(header: list[str]) -> list[tuple[str, str | None]]:
    """Numbered phone columns and the type column of the same number (see ColumnMapping)."""
    types: dict[str, str] = {}
    for column in header:
        m = _PHONE_TYPE.fullmatch(key(column))
        if m:
            types.setdefault(m.group(1), column)
    pairs: list[tuple[str, str | None]] = []
    for column in header:
        m = _PHONE_NUMBER.fullmatch(key(column))
        if m:
            pairs.append((column, types.get(m.group(1))))
    return pairs


# A typed phone's type word (lower case) -> the contact field it goes to; other types (home,
# work, main, other, none) go to phone. The first number for each field wins.
_MOBILE_TYPES = frozenset({"mobile", "cell", "cellular", "cellphone", "mobilephone", "iphone",
                           "handy"})


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
    result = replace(mapping, field_for_column=dict(mapping.field_for_column),
                     unknown=list(mapping.unknown), ignored=list(mapping.ignored),
                     typed_phones=list(mapping.typed_phones))
    for item in overrides:
        if "=" not in item:
            raise MappingError(f"--map {item!r}: expected COLUMN=field")
        column_text, field_text = (p.strip() for p in item.rsplit("=", 1))
        column = _find_column(mapping.header, column_text)
        if field_text.lower() in _IGNORE_WORDS:
            target = None
        elif key(field_text) == "id":
            raise MappingError(f"--map {item!r}: the CRM gives records their own ids; map the "
                               "other system's id to source_id")
        else:
            target = field_by_key.get(key(field_text))
            if target is None:
                raise MappingError(f"--map {item!r}: {field_text!r} is not a field of {kind}; "
                                   f"use one of: {', '.join(fields)}")
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


# --------------------------------------------------------------------------- rows to records

_FORMULA = re.compile(r"'+[=+\-@\t\r]")
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+\d+")
# Salesforce id key prefixes (first three characters of 15/18 character ids).
_SALESFORCE_PREFIXES = {"001": "account", "003": "contact", "00Q": "lead", "006": "opportunity",
                        "500": "case", "701": "campaign", "00T": "task", "00U": "event"}


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
            parsed = ParsedRow(row.line, problems=[*row.problems,
                                                   f"line {row.line}: could not be read ({exc!r})"])
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
    kind: str, row: CsvRow, mapping: ColumnMapping, keep_unknown: bool, tz: tzinfo | None,
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
                problems.append(f"{at}: {column} {_short(value)!r} has '?' where letters should "
                                "be: the file was probably saved in an encoding that lost them")

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
                problems.append(f"{at}: {column} {_short(value)!r} is not a date this import "
                                f"can read, so the {_LABEL[field_name]} was left empty")
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
        status = (to_activity_status(reason, reason=True) if kind == ACTIVITIES
                  else to_record_status(reason, reason=True))
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
            record["description"] = "\n".join(
                ([description, ""] if description else []) + extra)

    _required(kind, record, refs, at, problems)
    parsed.record = _ordered(kind, record)
    return parsed


def _typed_phone_values(row: CsvRow, mapping: ColumnMapping, record: dict[str, Any],
                        extra: list[str], at: str, problems: list[str]) -> None:
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
            record[field_name] = _value(CONTACTS, field_name, number, number_column, at,
                                        problems)
        else:
            extra.append(f"Phone ({label}): {number}" if label else f"Phone: {number}")


def _value(kind: str, field_name: str, value: str, column: str, at: str,
           problems: list[str]) -> Any:
    def bad(what: str) -> None:
        problems.append(f"{at}: {column} {_short(value)!r} is not a known {what}, left empty")

    if field_name == "relationship":
        result = to_relationship(value)
        if result is None:
            bad("relationship")
        return result
    if field_name == "status":
        result = (to_activity_status(value) if kind == ACTIVITIES else to_record_status(value))
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
            problems.append(f"{at}: {column} {_short(value)!r} is not a known activity type, "
                            "imported as a task")
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
        problems.append(f"{at}: {column} {_short(value)!r} does not look like an email address")
    if field_name in ("phone", "mobile", "phone_number") and _SCIENTIFIC.fullmatch(value):
        problems.append(f"{at}: {column} {value!r} looks like a phone number a spreadsheet turned "
                        "into a number in scientific notation; the digits are lost")
    if field_name == "address_line1" and "\n" in value:
        return value  # split into line 1 and 2 by _ordered
    return single_line(field_name, value)


def _activity(record: dict[str, Any], refs: dict[str, str], pseudo: dict[str, str],
              whens: dict[str, date | datetime], found: dict[str, tuple[str, str]], at: str,
              problems: list[str]) -> None:
    # Regarding: an explicit regarding column, else Salesforce WhoId (contact) / WhatId (account).
    if "regarding_id" in refs:
        if "regarding_type" not in record:
            sf = _salesforce_kind(refs["regarding_id"])
            if sf in ("account", "contact"):
                record["regarding_type"] = sf
    else:
        for pseudo_field, regarding_type in (("regarding_contact", "contact"),
                                             ("regarding_account", "account")):
            value = pseudo.get(pseudo_field)
            if not value:
                continue
            sf = _salesforce_kind(value)
            if sf is not None and sf != regarding_type:
                problems.append(f"{at}: {found[pseudo_field][1]} {value!r} is a Salesforce "
                                f"{sf}, which this CRM does not have; not linked")
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
            problems.append(f"{at}: {found['duration_minutes'][1]} {minutes!r} is not a number "
                            "of minutes")
    if ("all_day" not in record and record.get("type") == "appointment"
            and isinstance(start, date) and not isinstance(start, datetime)):
        record["all_day"] = True  # only appointments have all_day; a task may start on a day


def _store_whens(record: dict[str, Any], whens: dict[str, date | datetime], tz: tzinfo | None,
                 at: str, problems: list[str]) -> None:
    all_day = record.get("all_day") is True
    for field_name, when in whens.items():
        try:
            record[field_name] = when_to_storage(
                when, tz, as_day=all_day and field_name in ("start_at", "end_at"),
                as_moment=field_name in MOMENT_FIELDS or (
                    field_name in ("start_at", "end_at") and record.get("all_day") is False))
        except (ValueError, OverflowError):
            problems.append(f"{at}: the {_LABEL[field_name]} is out of range, left empty")


def _required(kind: str, record: dict[str, Any], refs: dict[str, str], at: str,
              problems: list[str]) -> None:
    if kind == ACCOUNTS and not record.get("name"):
        problems.append(f"{at}: no account name")
    elif kind == CONTACTS and not record.get("first_name") and not record.get("last_name"):
        problems.append(f"{at}: no first or last name")
    elif kind == ACTIVITIES and not record.get("subject") and not (
            record.get("type") == "note" and record.get("description")):
        problems.append(f"{at}: no subject")


def _ordered(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    line1 = record.get("address_line1")
    if isinstance(line1, str) and "\n" in line1:
        first, _, rest = line1.partition("\n")
        record["address_line1"] = first.strip()
        if rest.strip():
            rest = single_line("address_line2", rest)
            record["address_line2"] = (f"{rest}, {record['address_line2']}"
                                       if record.get("address_line2") else rest)
    order = {name: i for i, name in enumerate(("source_id", *FIELDS[kind], "created_at",
                                               "modified_at"))}
    return dict(sorted(record.items(), key=lambda item: order.get(item[0], len(order))))
