"""User text is data, never markup: helpers that make any string safe to show."""

from __future__ import annotations

import re

from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual.content import Content

from store.text import UNSAFE, pictured

_NEWLINES = re.compile(r"\r\n|\r|\n|\t")


def visible(text: object, *, single_line: bool = True) -> str:
    """`text` with control, bidi and other unsafe characters shown as symbols (an ESC can never
    reach the terminal; `\\u202e` cannot reverse what follows).

    Single-line use folds newlines and tabs into spaces."""
    value = "" if text is None else str(text)
    if single_line:
        value = _NEWLINES.sub(" ", value)
        return pictured(value)
    return pictured(value, keep_layout=True)


def literal(text: object, *, single_line: bool = True) -> Content:
    """Textual Content showing `text` exactly as typed: `[red]x[/]` stays those characters."""
    return Content(visible(text, single_line=single_line))


def literal_text(text: object, style: str = "", *, single_line: bool = True) -> Text:
    """The Rich equivalent of `literal`, for renderables."""
    return Text(visible(text, single_line=single_line), style=style, no_wrap=single_line)


def guard_terminal_output() -> None:
    """The last line of defence: no unsafe character in any drawn text reaches the terminal.

    Widgets show user text with symbols (above, and tui.widgets.text_entry); this catches any
    text that still slipped through a widget of Textual's or a library's (an option prompt, a
    toast, a label built elsewhere). It patches `Strip.render`, the one place where every
    segment of every widget becomes terminal output, and drops the unsafe characters there:
    they are all zero cells wide, so the layout that was measured stays right. Segments that
    Textual itself marks as control sequences are left alone. Idempotent."""
    from textual.strip import Strip

    if getattr(Strip.render, "_termcrm_guard", False):
        return
    render = Strip.render

    def guarded_render(self: Strip, console: Console) -> str:
        if self._render_cache is None and any(
            not control and UNSAFE.search(text) for text, _, control in self._segments
        ):
            self._segments = [
                segment if segment.control else Segment(UNSAFE.sub("", segment.text), segment.style)
                for segment in self._segments
            ]
        return render(self, console)

    # Both ignores are the patch itself: a marker attribute on a function (which mypy does not
    # let functions carry) and the replacement of Textual's method (the whole point here).
    guarded_render._termcrm_guard = True  # type: ignore[attr-defined]
    Strip.render = guarded_render  # type: ignore[method-assign]
