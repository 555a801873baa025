"""Text normalisation for search and duplicate detection: case- and accent-insensitive."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose but people type without the accent.
_FOLD = {
    "ø": "o",
    "đ": "d",
    "ł": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "ð": "d",
}
# One str.translate table: drop accents and every other combining mark (Hebrew and Arabic
# points, Indic signs...), replace the letters above. Three times faster than a regex sub.
_STRIP = dict.fromkeys(
    [c for c in range(0x1F000) if unicodedata.combining(chr(c))]
    + [
        *range(0x300, 0x370),
        *range(0x1AB0, 0x1B00),
        *range(0x1DC0, 0x1E00),
        *range(0x20D0, 0x2100),
        *range(0xFE20, 0xFE30),
    ]
)
_STRIP.update({ord(letter): plain for letter, plain in _FOLD.items()})
_NOT_WORD = re.compile(r"[^\w ]+|_+")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse white space: `São  Paulo` -> `sao paulo`.

    Runs once per record when indexes are built, so the common ASCII case takes a fast path."""
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.lower().split())
    # Fold case after decomposing too: `㎂` and `𝕊` decompose to capitals.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return " ".join(decomposed.translate(_STRIP).split())


def tokens(query: str) -> list[str]:
    """The folded words of a search query; every one must match for a record to match."""
    return fold(query).split()  # not [""] for `¯`, which folds to nothing


def key_of_folded(folded: str) -> str:
    """`name_key` for text that is already folded."""
    return " ".join(_NOT_WORD.sub("", folded).split())


def name_key(text: str) -> str:
    """A key for 'the same name': folded, punctuation dropped (`ACME, Inc.` == `Acme Inc`)."""
    return key_of_folded(fold(text))


# Characters that can drive a terminal or disguise text: C0/C1 controls, DEL, bidi embeddings,
# overrides and isolates, line/paragraph separators and lone surrogates (which cannot even be
# encoded). Every screen and every line the CLI prints shows them, never sends them.
UNSAFE_CHARACTERS = (
    "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
)
UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")


def _caret(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)  # caret notation: ESC -> ^[
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """`text` made harmless for a terminal's standard output: control characters shown as
    `^[` / `\\x9b` / `\\u202e`, which a script's reader can still tell apart (the screens
    use `pictured`, one symbol per character, instead). With `multiline`, newlines are kept
    (and tabs become spaces)."""
    value = "" if text is None else str(text)
    if multiline:
        lines = value.replace("\r\n", "\n").split("\n")
        return "\n".join(UNSAFE.sub(_caret, line.replace("\t", "    ")) for line in lines)
    return UNSAFE.sub(_caret, value)


def _picture(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 control pictures: ESC shows as ␛, BEL as ␇
    if code == 0x7F:
        return "␡"
    if code in (0x2028, 0x2029):
        return "␤"
    return "\ufffd"  # C1 controls, bidi controls, surrogates: the replacement character


# One symbol per character: text keeps its length, so cursor positions and selections in an
# edited value stay where they are while the value itself is untouched.
_PICTURES = {
    code: _picture(code)
    for code in [
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0xD800, 0xE000),
    ]
}
_PICTURES_KEEP_LAYOUT = {code: pic for code, pic in _PICTURES.items() if code not in (9, 10)}


def pictured(text: str, *, keep_layout: bool = False) -> str:
    """`text` with every unsafe character replaced by one visible symbol (`␛`, `␇`, `�`).

    With `keep_layout`, tabs and newlines stay (a multi-line editor lays them out itself)."""
    if not UNSAFE.search(text):
        return text
    return text.translate(_PICTURES_KEEP_LAYOUT if keep_layout else _PICTURES)


# JSON writers escape C0 controls themselves (JSON requires it) but leave the rest of UNSAFE
# raw, which is valid JSON yet drives a terminal that shows the file (`cat`, `less -r`).
_JSON_RAW = re.compile(f"[{UNSAFE_CHARACTERS.removeprefix(chr(0) + '-' + chr(0x1F))}]")


def json_escaped(json_text: str) -> str:
    """JSON text with every unsafe character a JSON writer left raw as a `\\uXXXX` escape:
    it parses back to the same strings. Outside strings JSON has only ASCII, so only string
    contents change."""
    if not _JSON_RAW.search(json_text):
        return json_text
    return _JSON_RAW.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


_IRREGULAR = {"activity": "activities", "entry": "entries", "subsidiary": "subsidiaries"}


def plural(noun: str) -> str:
    """`contact` -> `contacts`, `open activity` -> `open activities`: the last word changes."""
    head, _, last = noun.rpartition(" ")
    return f"{head} {_plural_word(last)}" if head else _plural_word(last)


def _plural_word(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def counted(n: int, noun: str) -> str:
    """`1 contact`, `2,000 contacts`, `3 activities`, `1 warning`: for messages and status
    lines. One wording, one thousands separator, for the CLI and the TUI alike."""
    return f"{n:,} {noun if n == 1 else plural(noun)}"
