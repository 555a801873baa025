"""Read CSV exports (Dynamics 365, Salesforce, Outlook, Google, spreadsheets) into CRM records.

Three steps, all pure, one module each (aliases.py holds the column-name tables step 2 uses):

1. :func:`read_csv` (reader.py) turns bytes into a :class:`CsvTable` (encoding and delimiter
   detected, line numbers kept). It raises :class:`CsvError` only when there is no header at all.
2. :func:`guess_mapping` (mapping.py) recognises columns (:class:`ColumnMapping`);
   :func:`apply_overrides` applies the user's ``--map COLUMN=field`` corrections.
3. :func:`rows_to_records` (conversion.py) converts each row to a
   :class:`~store.io.common.ParsedRow`. It never raises on row content: whatever cannot be read
   becomes a problem on that row.

Callers import from here; the modules are the package's own business.
"""

from __future__ import annotations

from store.io.csv_import.conversion import rows_to_records, unneutralise
from store.io.csv_import.mapping import (
    PSEUDO_FIELDS,
    ColumnMapping,
    MappingError,
    apply_overrides,
    guess_mapping,
    mappable_fields,
)
from store.io.csv_import.reader import CsvError, CsvRow, CsvTable, read_csv

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
