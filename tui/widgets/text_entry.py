"""The text widgets every screen types into: keys applied in the order they arrive, user text
drawn with control characters as visible symbols.

Two upstream behaviours of Textual 8.2.8 are corrected here, once, for every field:

- **Order of keys in a burst.** A printable key is inserted at its first hop (the focused
  widget's `_on_key`), while backspace, delete and the arrows reach the widget's bindings only
  after the event has bubbled up through the screen to the App's binding check. When several
  keys arrive in one read (a laggy SSH link, a paste, a fast typist), later letters are
  inserted before earlier edits run: `abcdef`, six DEL and `xyz` left `abc`. Here `_on_key`
  first runs the widget's own (non-priority) binding for the key and stops the event, so each
  key takes effect when it is its turn. Priority bindings (ctrl+s, tab in forms) are checked by
  the App before the key reaches the widget and keep their precedence.
- **Raw control characters.** `Input` and `TextArea` draw their value as it is: an ESC in a
  stored description reached the terminal and could retitle it, wipe the screen or write the
  clipboard (OSC 52). Here the drawn text has each unsafe character replaced by one symbol
  (`␛`, `␇`, `�`), the same length, so cursor and selection stay right and the value itself is
  untouched: saving writes back exactly what was stored.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual_autocomplete import AutoComplete, DropdownItem, PathAutoComplete, TargetState

from store.text import pictured

# Keys a shown dropdown takes from its field (textual-autocomplete listens to the field's keys).
DROPDOWN_KEYS = frozenset({"up", "down", "enter", "tab", "escape"})


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run `widget`'s own binding for the key now (see the module's first note).

    Returns True, with the event stopped, when a binding handled it."""
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        if binding.priority:
            continue  # the App has already offered the key to priority bindings
        if await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


class CrmInput(Input):
    """A one-line text field: keys applied in order, controls drawn as symbols."""

    def defers_key(self, key: str) -> bool:
        """True when another widget (a dropdown attached to this field) handles `key` now."""
        return False

    async def _on_key(self, event: events.Key) -> None:
        if not self.defers_key(event.key) and await run_own_binding(self, event):
            self._restart_blink()
            return
        await super()._on_key(event)

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(pictured(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text


class CompletingInput(CrmInput):
    """A field with a textual-autocomplete dropdown under it (set `dropdown` after creating it).

    The dropdown decides what to show when it hears the field's `Changed` message, which in a
    burst arrives after the keys typed with it: `Nor` and ↓ in one read found the dropdown
    still hidden, so ↓ meant "show" instead of "next". Keys the dropdown acts on bring it up
    to date first."""

    dropdown: InOrderDropdown | None = None

    def defers_key(self, key: str) -> bool:
        dropdown = self.dropdown
        if dropdown is None or key not in DROPDOWN_KEYS:
            return False
        dropdown.catch_up()
        return bool(dropdown.display)


class InOrderDropdown(AutoComplete):
    """A dropdown that keeps up with a burst of keys (see CompletingInput).

    After `catch_up`, the late `Changed` messages of the letters typed in the burst describe a
    state the dropdown already shows; rebuilding for them would move the highlight back to the
    first row under the user's ↓, so they are skipped. (textual-autocomplete 4.0.6's private
    `_handle_target_update`, pinned with it.)"""

    _decided_for: TargetState | None = None

    def catch_up(self) -> None:
        """Show or hide, and fill, the dropdown for what the field holds now."""
        if self._decided_for != self._get_target_state():
            self._handle_target_update()

    def _handle_target_update(self) -> None:
        state = self._get_target_state()
        if state == self._decided_for:
            return
        self._decided_for = state
        super()._handle_target_update()


class SafePathAutoComplete(InOrderDropdown, PathAutoComplete):
    """File names are user text too: shown with controls as symbols, completed as they are.

    The stock dropdown builds its items from `Content(name)`, which draws an ESC raw and drops
    a BEL (so the completed name was not the file's). Items are built here from the directory
    entries themselves, shown `pictured`, and completion puts back the real name."""

    def __init__(self, target: Input, **kwargs: Any) -> None:
        super().__init__(target, **kwargs)
        self._real_names: dict[str, str] = {}

    def get_candidates(self, target_state: TargetState) -> list[DropdownItem]:
        typed = target_state.text[: target_state.cursor_position]
        folder = typed[: typed.rindex("/")] or "/" if "/" in typed else ""
        directory = (self.path / folder) if folder else self.path
        try:
            entries = sorted(
                os.scandir(directory),
                key=lambda e: (not e.is_dir(), e.name.startswith("."), e.name.lower()),
            )
        except OSError:
            return []
        items = []
        for entry in entries:
            if not self.show_dotfiles and entry.name.startswith("."):
                continue
            name = entry.name + ("/" if entry.is_dir() else "")
            self._real_names[pictured(name)] = name
            items.append(
                DropdownItem(
                    pictured(name),
                    prefix=self.folder_prefix if entry.is_dir() else self.file_prefix,
                )
            )
        return items

    def apply_completion(self, value: str, state: TargetState) -> None:
        super().apply_completion(self._real_names.get(value, value), state)


class CrmTextArea(TextArea):
    """A multi-line text field: keys applied in order, controls drawn as symbols."""

    async def _on_key(self, event: events.Key) -> None:
        if not self.read_only and await run_own_binding(self, event):
            self._restart_blink()
            return
        await super()._on_key(event)

    def get_line(self, line_index: int) -> Text:
        line = self.document.get_line(line_index)
        return Text(pictured(line, keep_layout=True), end="", no_wrap=True)
