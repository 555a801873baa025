"""A table that renders only the rows on screen, for lists of any length.

The stock DataTable measures every cell of every row; at 50,000 records that is seconds per
refill. This widget asks its owner for the visible rows only (`row_source`), so a new search
result is just a new row count and a refresh.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.literal import visible

CURSOR_MARK = "▶"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: share what is left
    min_width: int = 6
    align_right: bool = False
    hide_below: int = 0  # terminal width under which the column is left out


# A row is its cells, or one string that spans the whole width (a section heading).
RowSource = Callable[[int], Sequence[str] | str]
RowMark = Callable[[int], str | None]


def _wrap(text: str, width: int) -> list[str]:
    """Word-wrap, never inside `a command`."""
    kept = re.sub(r"`[^`]*`", lambda m: m.group().replace(" ", "\0"), text)
    return [line.replace("\0", " ") for line in textwrap.wrap(kept, width, break_on_hyphens=False)]


class VirtualTable(ScrollView, can_focus=True):
    """Rows come from `row_source(index)`; a header line stays on top; one row has the cursor."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--cursor-blurred",
        "virtual-table--warning",
        "virtual-table--muted",
        "virtual-table--empty",
    }

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; background: $surface; overflow-x: hidden; }
    VirtualTable > .virtual-table--header { text-style: bold; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $primary; color: $text; text-style: bold; }
    VirtualTable > .virtual-table--cursor-blurred { text-style: underline; }
    VirtualTable > .virtual-table--warning { color: $warning; text-style: bold; }
    VirtualTable > .virtual-table--muted { color: $text-muted; }
    VirtualTable > .virtual-table--empty { color: $text-muted; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table, self.index = table, index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Highlighted):
        pass

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty_text: str = "Nothing here.",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.row_count = 0
        self.row_source: RowSource = lambda index: ()
        self.row_mark: RowMark = lambda index: None
        self.empty_text = empty_text
        self.rows_version = 0  # counts set_rows calls: "which rows are on screen" for timing

    # ------------------------------------------------------------ data
    def set_rows(
        self,
        count: int,
        source: RowSource,
        *,
        mark: RowMark | None = None,
        cursor: int | None = None,
    ) -> None:
        """Show `count` rows fetched through `source`; keep the cursor where asked."""
        self.row_count = count
        self.row_source = source
        self.rows_version += 1
        if mark is not None:
            self.row_mark = mark
        self.virtual_size = Size(self.size.width, count + 1)
        target = self.cursor if cursor is None else cursor
        self.cursor = max(0, min(target, count - 1)) if count else 0
        self._scroll_cursor_into_view()
        self.refresh()

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.refresh()

    # ------------------------------------------------------------ cursor
    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if self.row_count:
            self.post_message(self.Highlighted(self, new))

    def _scroll_cursor_into_view(self) -> None:
        visible_rows = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible_rows:
            self.scroll_to(y=self.cursor - visible_rows + 1, animate=False, immediate=True)

    def _move(self, delta: int) -> None:
        if self.row_count:
            self.cursor = max(0, min(self.row_count - 1, self.cursor + delta))

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_page_up(self) -> None:
        self._move(-max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self._move(max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._move(-self.row_count)

    def action_last(self) -> None:
        self._move(self.row_count)

    def action_select(self) -> None:
        if self.row_count:
            self.post_message(self.Selected(self, self.cursor))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.row_count + 1)
        self._scroll_cursor_into_view()

    # ------------------------------------------------------------ rendering
    def shown_columns(self, width: int) -> list[int]:
        return [i for i, c in enumerate(self.columns) if width >= c.hide_below]

    def column_widths(self, width: int, shown: list[int]) -> list[int]:
        """Fixed columns keep their width; the others share the rest (one space between)."""
        columns = [self.columns[i] for i in shown]
        usable = width - 2 - (len(columns) - 1)  # 2: cursor gutter
        fixed = sum(c.width or 0 for c in columns)
        flexible = [c for c in columns if c.width is None]
        left = max(0, usable - fixed)
        share = left // len(flexible) if flexible else 0
        widths = []
        for column in columns:
            if column.width is not None:
                widths.append(column.width)
            else:
                widths.append(max(column.min_width, share))
        if flexible:  # give the rounding remainder to the first flexible column
            first = columns.index(flexible[0])
            widths[first] += max(0, usable - sum(widths))
        return widths

    def _line(
        self, cells: Sequence[str], shown: list[int], widths: list[int], style: Style, gutter: str
    ) -> Strip:
        parts = [gutter]
        for index, width in zip(shown, widths, strict=True):
            column = self.columns[index]
            cell = cells[index] if index < len(cells) else ""
            text = visible(cell)
            if cell_len(text) > width and width > 1:
                text = set_cell_size(text, width - 1) + "…"
            elif column.align_right:
                text = " " * max(0, width - cell_len(text)) + text
            parts.append(set_cell_size(text, width))
        line = " ".join(parts[1:])
        return Strip([Segment(parts[0] + " " + line, style)])

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        shown = self.shown_columns(width)
        widths = self.column_widths(width, shown)
        if y == 0:
            style = base + self.get_component_rich_style("virtual-table--header")
            labels = [c.label for c in self.columns]
            return self._line(labels, shown, widths, style, " ").adjust_cell_length(width, style)
        index = int(self.scroll_y) + y - 1
        if self.row_count == 0:
            lines = _wrap(visible(self.empty_text), max(10, width - 4))
            if 1 <= y <= len(lines):
                style = base + self.get_component_rich_style("virtual-table--empty")
                return Strip([Segment("  " + lines[y - 1], style)]).adjust_cell_length(width, style)
            return Strip.blank(width, base)
        if index >= self.row_count:
            return Strip.blank(width, base)
        cells = self.row_source(index)
        style = base
        if isinstance(cells, str):
            style = base + self.get_component_rich_style("virtual-table--header")
            gutter = CURSOR_MARK if index == self.cursor else " "
            return Strip([Segment(f"{gutter} {visible(cells)}", style)]).adjust_cell_length(
                width, style
            )
        mark = self.row_mark(index)
        if mark:
            style = style + self.get_component_rich_style(f"virtual-table--{mark}")
        gutter = " "
        if index == self.cursor:
            gutter = CURSOR_MARK
            cursor_class = (
                "virtual-table--cursor" if self.has_focus else "virtual-table--cursor-blurred"
            )
            style = style + self.get_component_rich_style(cursor_class)
        return self._line(cells, shown, widths, style, gutter).adjust_cell_length(width, style)
