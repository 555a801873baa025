"""Write records as CSV (spreadsheet-safe) or JSON."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import orjson

from store.io.fields import EXPORT_FIELDS, check_kind
from store.text import json_escaped

__all__ = ["export_csv", "export_json", "neutralise"]

# The formula guard (CSV injection). A spreadsheet runs a cell that starts with = + - @ tab or
# CR as a formula, and a formula can call functions (HYPERLINK, WEBSERVICE, DDE `cmd|...`).
# Such cells get a leading `'`, with one exception: `+` or `-` followed only by ASCII digits,
# spaces and ( ) . - / is a phone number (`+1 512 555 0132`) or a plain number. Without letters,
# quotes, `!`, `|` or `=` no function can be named, so at worst a spreadsheet does arithmetic
# on it; guarding it would hand every international phone number back with a `'` before it.
# Cells already starting with `'` before a formula character always get one more, so that the
# importer's `unneutralise` (which removes exactly one) gives back the original text.
_GUARDED = re.compile(r"'+[=+\-@\t\r]")
_FORMULA = re.compile(r"[=@\t\r]|[+\-](?![0-9 ().\-/]*[0-9][0-9 ().\-/]*\Z)")


def neutralise(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would take for a formula (see the rule above)."""
    return "'" + value if _GUARDED.match(value) or _FORMULA.match(value) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    # A NUL (the API stores one as given) would reach the file raw: readers built on C
    # strings end the cell there and our own importer removes it silently. The symbol the
    # app shows for it (U+2400) keeps its place visible to every reader; JSON exports keep
    # the exact text.
    return neutralise(str(value).replace("\x00", "\u2400"))


def export_csv(kind: str, records: Iterable[dict[str, Any]], fields: list[str]) -> str:
    """CSV text: a header of CRM field names, then one row per record.

    `fields` are CRM field names of `kind` (see fields.EXPORT_FIELDS: the record fields plus id,
    source_id, created_at, modified_at). Missing values are empty cells, booleans true/false.
    Formula-like cells are guarded with a leading `'`. Rows end with CRLF (RFC 4180); write the
    text as UTF-8 with a BOM ("utf-8-sig") so that Excel shows accents correctly.
    """
    check_kind(kind)
    allowed = EXPORT_FIELDS[kind]
    wrong = [f for f in fields if f not in allowed]
    if wrong:
        raise ValueError(f"not a field of {kind}: {', '.join(wrong)}; use: {', '.join(allowed)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(fields)
    for record in records:
        writer.writerow([_cell(record.get(f)) for f in fields])
    return buffer.getvalue()


def export_json(records: Iterable[dict[str, Any]]) -> bytes:
    """The records as an indented JSON array (UTF-8, trailing newline). Every control and
    bidi character is a `\\uXXXX` escape (store.text.json_escaped), so the file is safe to
    show in a terminal and parses back to exactly the stored text."""
    data = orjson.dumps(
        list(records),
        option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS,
        default=str,
    )
    return json_escaped(data.decode("utf-8")).encode("utf-8")
