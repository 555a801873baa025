"""What the command line prints: aligned tables that fit the terminal, and JSON.

Every value goes through `visible()`: a record's text never drives the terminal."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from wcwidth import wcswidth, wcwidth

from store.dates import format_local
from store.text import json_escaped, visible


def to_json(data: Any) -> str:
    """Pretty JSON that parses back to exactly `data`, with no raw terminal controls in it."""
    return json_escaped(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json(data: Any) -> None:
    click.echo(to_json(data))


def _char_width(ch: str) -> int:
    return max(0, wcwidth(ch))  # -1 (a control) cannot occur after visible(); count it as 0


def cell_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide East Asian characters and emoji count 2,
    combining marks and zero-width characters 0."""
    if text.isascii():  # one column each (controls were made visible before this)
        return len(text)
    width = wcswidth(text)
    return width if width >= 0 else sum(_char_width(ch) for ch in text)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns (with an ellipsis), padded to exactly `width`."""
    if text.isascii():
        return text[: max(0, width - 1)] + "…" if len(text) > width else text.ljust(width)
    if cell_width(text) > width:
        out, used = [], 0
        for ch in text:
            w = _char_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * max(0, width - cell_width(text))


def when_text(value: str | None) -> str:
    """A stored date as tables show it: `today 14:00`, `3 Dec`, `2025-12-03`."""
    return format_local(value) if value else ""


@dataclass
class Column:
    header: str
    values: list[str]
    flex: bool = False  # shrinks to share the room left
    min_width: int = 8  # a flexible column is not made narrower than this
    drop: int = 99  # lower numbers are left out first when the table cannot fit


def terminal_width() -> int:
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def render_table(columns: list[Column], width: int | None = None, gap: int = 2) -> list[str]:
    """Aligned rows (header first) that fit `width` columns: empty and then optional columns
    are left out, flexible ones shortened with an ellipsis. Values are shown `visible()`."""
    width = width or terminal_width()
    columns = [
        Column(c.header, [visible(v) for v in c.values], c.flex, c.min_width, c.drop)
        for c in columns
        if c.drop == 99 or any(c.values)
    ]  # leave out empty columns
    natural = {
        id(c): max([cell_width(c.header)] + [cell_width(v) for v in c.values]) for c in columns
    }

    def least(c: Column) -> int:
        return (
            min(natural[id(c)], max(c.min_width, cell_width(c.header)))
            if c.flex
            else natural[id(c)]
        )

    def needed(cols: list[Column], size: Callable[[Column], int]) -> int:
        return sum(size(c) for c in cols) + gap * (len(cols) - 1)

    shown = list(columns)
    while needed(shown, least) > width and any(c.drop < 99 for c in shown):
        shown.remove(min((c for c in shown if c.drop < 99), key=lambda c: c.drop))
    widths = {id(c): natural[id(c)] for c in shown}
    if needed(shown, lambda c: natural[id(c)]) > width:
        flexible = sorted((c for c in shown if c.flex), key=lambda c: natural[id(c)])
        room = (
            width
            - needed([c for c in shown if not c.flex], lambda c: natural[id(c)])
            - gap * len(flexible)
        )
        for index, c in enumerate(flexible):
            share = room // (len(flexible) - index)
            widths[id(c)] = max(least(c), min(natural[id(c)], share))
            room -= widths[id(c)]
    rows = []
    for row in range(-1, len(columns[0].values) if columns else 0):
        cells = [fit(c.header if row < 0 else c.values[row], widths[id(c)]) for c in shown]
        rows.append((" " * gap).join(cells).rstrip())
    return rows


def echo_table(columns: list[Column]) -> None:
    for line in render_table(columns):
        click.echo(line)
