"""Reading a CSV file of unknown origin into a table of text cells.

Decoding (UTF-8, UTF-16, Windows-1252...), the delimiter (an Excel `sep=` line, or sniffed and
checked against the header), unique column names, physical line numbers, and the import limits
(rows, columns, characters in a field). Nothing here knows what a column means: that is
mapping.py's job.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from store.io.common import LIMITS, ImportLimits, check_size, decode_bytes, over_limit

__all__ = ["CsvError", "CsvRow", "CsvTable", "read_csv", "shortened"]


class CsvError(ValueError):
    """The file cannot be read as a table at all (empty, or no header row)."""


@dataclass
class CsvRow:
    """One data row. `line` is the 1-based physical line where it starts (the header is line 1
    when it is the first line). `values` has every header column ("" when the row is short)."""

    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class CsvTable:
    """A whole file: unique column names, its data rows in file order, and how it was read."""

    header: list[str]
    rows: list[CsvRow]
    encoding: str
    delimiter: str
    problems: list[str] = field(default_factory=list)  # file-level notes (renamed columns...)


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
            problems.append(f"column {i}: a second column named {name!r}, read as '{name} ({n})'")
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
    reader = csv.reader(
        io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True, strict=False
    )
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
                raise over_limit(
                    "characters in one field",
                    limits.field_chars,
                    f"line {consumed + 1} has a longer one",
                ) from None
            start, consumed = consumed + 1, reader.line_num
            if header is not None:
                rows.append(
                    CsvRow(
                        start, dict.fromkeys(header, ""), [f"line {start}: unreadable row ({exc})"]
                    )
                )
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
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            shown = ", ".join(repr(shortened(c)) for c in extra[:5])
            row_problems.append(
                f"line {start}: {len(extra)} more cell(s) than the header has "
                f"columns, ignored: {shown}"
            )
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
        raise over_limit(
            "characters in one field", limits.field_chars, f"line {line} has a longer one"
        )


def shortened(value: str, limit: int = 40) -> str:
    """A cell as problem messages quote it: on one line, at most `limit` characters."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
