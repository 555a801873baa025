"""The io layer speaks the same language as the storage model: field names, enumerations and
storage formats, so that what an import produces passes the model's validation."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store.io import fields as io_fields
from store.io.csv_import import guess_mapping, read_csv, rows_to_records
from store.io.ics import parse_ics
from store.io.vcard import parse_vcards

model = pytest.importorskip("store.model")

FIXTURES = Path(__file__).parents[2] / "fixtures" / "io"
PARIS = ZoneInfo("Europe/Paris")


def test_field_names_agree():
    for kind in io_fields.KINDS:
        assert tuple(spec.name for spec in model.FIELDS[kind]) == io_fields.FIELDS[kind]
    choices = {spec.name: spec.choices for spec in model.ACTIVITY_FIELDS if spec.choices}
    assert choices["type"] == io_fields.ACTIVITY_TYPES
    assert choices["status"] == io_fields.ACTIVITY_STATUSES
    assert choices["priority"] == io_fields.PRIORITIES
    assert choices["direction"] == io_fields.DIRECTIONS
    assert choices["regarding_type"] == io_fields.REGARDING_TYPES
    account_choices = {spec.name: spec.choices for spec in model.ACCOUNT_FIELDS if spec.choices}
    assert account_choices["relationship"] == io_fields.RELATIONSHIPS
    assert account_choices["status"] == io_fields.RECORD_STATUSES
    for kind, refs in io_fields.REF_FIELDS.items():
        assert refs == tuple(s.name for s in model.FIELDS[kind] if s.kind == "ref")
    for kind in io_fields.KINDS:
        whens = {s.name for s in model.FIELDS[kind] if s.kind == "when"}
        assert whens <= set(io_fields.WHEN_FIELDS)
        multiline = {s.name for s in model.FIELDS[kind] if s.multiline}
        assert multiline == set(io_fields.MULTILINE_FIELDS)


def _imported():
    for name, kind in [
        ("dynamics_accounts.csv", "accounts"),
        ("dynamics_contacts_display.csv", "contacts"),
        ("salesforce_accounts.csv", "accounts"),
        ("salesforce_contacts.csv", "contacts"),
        ("generic_contacts.csv", "contacts"),
    ]:
        table = read_csv((FIXTURES / name).read_bytes())
        mapping = guess_mapping(kind, table.header)
        for row in rows_to_records(kind, table, mapping, True, tz=PARIS):
            yield name, kind, row
    for name in ("google_contacts.vcf", "apple_contacts.vcf", "v4_contacts.vcf"):
        result = parse_vcards((FIXTURES / name).read_bytes(), tz=PARIS)
        for row in result.contacts:
            yield name, "contacts", row
        for row in result.accounts:
            yield name, "accounts", row
    for name in ("outlook.ics", "google.ics"):
        for row in parse_ics((FIXTURES / name).read_bytes(), tz=PARIS).activities:
            yield name, "activities", row


def test_imported_fixture_records_pass_the_models_validation():
    checked = 0
    for name, kind, row in _imported():
        if row.problems:
            continue  # rows with problems are shown to the user, not silently stored
        record = model.clean(kind, row.record)
        record = {k: v for k, v in record.items() if v is not None}
        for ref in io_fields.REF_FIELDS[kind]:
            if ref in row.refs:
                record[ref] = "resolved-id"
        if kind == "activities":
            record.setdefault("regarding_id", "resolved-id")
            record.setdefault("regarding_type", "account")
        errors = model.validate_fields(kind, record)
        assert errors == [], (name, row.line, [str(e) for e in errors])
        checked += 1
    assert checked > 25


def test_parsing_layer_never_imports_textual():
    import subprocess
    import sys

    code = (
        "import sys, store.io.csv_import, store.io.csv_export, store.io.vcard, store.io.ics; "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    )
    assert out.stdout.strip() == "False"
