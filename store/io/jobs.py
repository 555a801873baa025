"""Import and export as the command line and the TUI ask for them: read a file, show its
mapping, import it (or dry-run it), and write any table out as CSV, JSON, vCard or iCalendar."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from store.io.common import LIMITS, ImportLimits, ParsedRow, Progress, check_size, key
from store.io.csv_export import export_csv, export_json
from store.io.csv_import import (
    ColumnMapping,
    apply_overrides,
    guess_mapping,
    read_csv,
    rows_to_records,
)
from store.io.fields import EXPORT_FIELDS, NAME_FIELDS
from store.io.importer import REF_TARGETS, ImportReport, import_rows
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, Record, display_name
from store.service import CRM

CSV_KINDS = (ACCOUNTS, CONTACTS, ACTIVITIES)
IMPORT_KINDS = (*CSV_KINDS, "vcard", "ics")
EXPORT_KINDS = (*CSV_KINDS, "vcard", "ics")


@dataclass
class PreparedImport:
    """A file read and mapped, ready to dry-run or import."""

    kind: str  # accounts | contacts | activities | vcard | ics
    table: str  # the table the rows go to
    rows: list[ParsedRow]
    mapping: ColumnMapping | None = None
    extra_accounts: list[ParsedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # file-level: encoding, broken cards
    encoding: str = ""
    delimiter: str = ""
    keep_unknown: bool = True

    def mapping_lines(self) -> list[str]:
        if self.mapping is None:
            return []
        lines = [f"{column} -> {name}" for column, name in self.mapping.field_for_column.items()]
        lines += [
            f"{number} -> phone or mobile, by {kind}" if kind else f"{number} -> phone"
            for number, kind in self.mapping.typed_phones
        ]
        fate = "kept in description" if self.keep_unknown else "skipped"
        lines += [f"{column} -> (unknown: {fate})" for column in self.mapping.unknown]
        return lines


def kind_of_path(path: Path) -> str | None:
    """vcard or ics from a file's ending (CSV needs the table named)."""
    suffix = path.suffix.lower()
    return {".vcf": "vcard", ".vcard": "vcard", ".ics": "ics", ".ical": "ics"}.get(suffix)


def guess_csv_kind(path: Path) -> str | None:
    """accounts, contacts or activities: whichever recognises most of the file's columns."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
        header = read_csv(head.split(b"\n", 1)[0] + b"\n").header
    except (OSError, ValueError):
        return None
    scores = {kind: len(guess_mapping(kind, header).field_for_column) for kind in CSV_KINDS}
    best = max(scores, key=lambda kind: (scores[kind], kind == CONTACTS))
    return best if scores[best] else None


def prepare_import(
    kind: str,
    data: bytes,
    *,
    maps: list[str] | None = None,
    keep_unknown: bool = True,
    limits: ImportLimits = LIMITS,
    progress: Progress | None = None,
) -> PreparedImport:
    """Parse `data`. Raises ValueError (CsvError, MappingError, ImportLimitError) for a file
    that cannot be read as a whole; problems with single rows are kept on the rows.
    `progress(done, total)`: called while a calendar's entries are read."""
    check_size(data, limits)
    if kind == "vcard":
        from store.io.vcard import parse_vcards

        cards = parse_vcards(data, limits=limits)
        return PreparedImport(
            kind,
            CONTACTS,
            cards.contacts,
            extra_accounts=cards.accounts,
            notes=[*cards.errors, *cards.skipped],
        )
    if kind == "ics":
        from store.io.ics import parse_ics

        calendar = parse_ics(data, limits=limits, progress=progress)
        return PreparedImport(
            kind, ACTIVITIES, calendar.activities, notes=[*calendar.errors, *calendar.skipped]
        )
    if kind not in CSV_KINDS:
        raise ValueError(f"cannot import '{kind}': choose one of {', '.join(IMPORT_KINDS)}")
    table = read_csv(data, limits=limits)
    mapping = guess_mapping(kind, table.header)
    if maps:
        mapping = apply_overrides(mapping, maps)
    mapping = _own_id_column(mapping)
    rows = rows_to_records(kind, table, mapping, keep_unknown)
    return PreparedImport(
        kind,
        kind,
        rows,
        mapping=mapping,
        notes=list(table.problems),
        encoding=table.encoding,
        delimiter=table.delimiter,
        keep_unknown=keep_unknown,
    )


def _own_id_column(mapping: ColumnMapping) -> ColumnMapping:
    """A file exported by this CRM has an `id` column (our record id) and a `source_id` column.
    The latter claims source_id, which leaves `id` unknown: it would land in the description and
    every record would get a new id. Map it to the record id instead (the importer updates the
    record with that id, or creates it with that id)."""
    if "source_id" not in mapping.field_for_column.values():
        return mapping
    for column in mapping.unknown:
        if key(column) == "id":
            field_for_column = dict(mapping.field_for_column)
            field_for_column[column] = "id"
            return replace(
                mapping,
                field_for_column=field_for_column,
                unknown=[c for c in mapping.unknown if c != column],
            )
    return mapping


def run_import(
    crm: CRM,
    prepared: PreparedImport,
    *,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    regarding: str | None = None,
    create_accounts: bool = True,
    progress: Progress | None = None,
    source: str = "",
) -> ImportReport:
    """`source`: the file's name, for the history ("import contacts.csv").
    `create_accounts`: contacts that name an account the database does not have create it;
    otherwise they are imported without an account (a warning each)."""
    report = import_rows(
        crm,
        prepared.table,
        prepared.rows,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        regarding=regarding,
        create_missing_accounts=create_accounts,
        progress=progress,
        extra_accounts=prepared.extra_accounts,
        source=source,
    )
    report.notes = list(prepared.notes)
    return report


def export_data(crm: CRM, kind: str, fmt: str = "csv", ids: list[str] | None = None) -> bytes:
    """The records of `kind` (all, or `ids` of that table) in a file format."""
    if kind == "vcard":
        from store.io.vcard import export_vcards

        contacts = _records(crm, CONTACTS, ids)
        accounts = _records(crm, ACCOUNTS, None if ids is None else [])
        names = {a["id"]: display_name(ACCOUNTS, a) for a in crm.all(ACCOUNTS).values()}
        return export_vcards(contacts, accounts, names).encode("utf-8")
    if kind == "ics":
        from store.io.ics import export_ics

        activities = [
            a for a in _records(crm, ACTIVITIES, ids) if a.get("type") in ("appointment", "task")
        ]
        linked = [a for a in activities if a.get("regarding_id")]
        names = dict(
            zip((a["regarding_id"] for a in linked), crm.regarding_names(linked), strict=True)
        )
        return export_ics(activities, names)
    if kind not in CSV_KINDS:
        raise ValueError(f"cannot export '{kind}': choose one of {', '.join(EXPORT_KINDS)}")
    records = _records(crm, kind, ids)
    if fmt == "json":
        return export_json(records)
    if fmt != "csv":
        raise ValueError(f"unknown format '{fmt}': csv or json")
    named = (_with_names(crm, record) for record in records)
    return export_csv(kind, named, list(EXPORT_FIELDS[kind])).encode("utf-8-sig")


def _with_names(crm: CRM, record: Record) -> Record:
    """The record with the name of each record it refers to beside the id (NAME_FIELDS)."""
    named = dict(record)
    for ref, name_field in NAME_FIELDS.items():
        target = record.get(ref)
        if not target:
            continue
        if ref == "regarding_id":
            named[name_field] = crm.regarding_name(record)
        else:
            named[name_field] = crm.name_of(REF_TARGETS[ref], target)
    return named


def _records(crm: CRM, table: str, ids: list[str] | None) -> list[Record]:
    records = crm.all(table)
    chosen = ids if ids is not None else sorted(records)
    return [records[i] for i in chosen if i in records]
