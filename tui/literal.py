"""User text is data, never markup: helpers that make any string safe to show."""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\t")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 control pictures: ESC shows as ␛
    return "␡" if code == 0x7F else "�"


def visible(text: object, *, single_line: bool = True) -> str:
    """`text` with control characters shown as symbols (an ESC can never reach the terminal).

    Single-line use folds newlines and tabs into spaces."""
    value = "" if text is None else str(text)
    if single_line:
        value = _NEWLINES.sub(" ", value)
    return _CONTROL.sub(_picture, value)


def literal(text: object, *, single_line: bool = True) -> Content:
    """Textual Content showing `text` exactly as typed: `[red]x[/]` stays those characters."""
    return Content(visible(text, single_line=single_line))


def literal_text(text: object, style: str = "", *, single_line: bool = True) -> Text:
    """The Rich equivalent of `literal`, for renderables."""
    return Text(visible(text, single_line=single_line), style=style, no_wrap=single_line)
