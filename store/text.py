"""Text normalisation for search and duplicate detection: case- and accent-insensitive."""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"\s+")
# Letters that NFKD does not decompose but people type without the accent.
_FOLD = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th",
                       "ı": "i", "ħ": "h"})


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse white space: `São  Paulo` -> `sao paulo`."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = _COMBINING.sub("", decomposed).translate(_FOLD)
    return _SPACES.sub(" ", stripped).strip()


def tokens(query: str) -> list[str]:
    """The folded words of a search query; every one must match for a record to match."""
    return [t for t in fold(query).split(" ") if t]


def name_key(text: str) -> str:
    """A key for 'the same name': folded, punctuation dropped (`ACME, Inc.` == `Acme Inc`)."""
    words = ("".join(ch for ch in word if ch.isalnum()) for word in fold(text).split())
    return " ".join(w for w in words if w)
