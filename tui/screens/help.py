"""Help: every key of the screen underneath, and the keys that work everywhere."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.literal import literal
from tui.widgets.keybar import KeyBar
from tui.widgets.virtual_table import Column, VirtualTable

ALWAYS = [
    ("tab / shift+tab", "Move between fields and panes"),
    ("↑ ↓ j k", "Move in lists; PgUp PgDn Home End jump"),
    ("enter", "Open the highlighted record"),
    ("ctrl+p", "Command palette: any action, jump to any account or contact"),
    ("escape", "Cancel a form, leave a search box, go back"),
]
# The actions of the keys above, which every list and form has: not repeated per screen.
ALWAYS_ACTIONS = {
    "cursor_up",
    "cursor_down",
    "page_up",
    "page_down",
    "first",
    "last",
    "select",
    "next_field",
    "app.focus_next",
    "app.focus_previous",
}


def declared_by_us(node_type: type) -> set[tuple[str, str]]:
    """(action, description) of the bindings that classes of ours declare for `node_type`."""
    declared = set()
    for cls in node_type.__mro__:
        if cls.__module__.startswith("tui."):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding):
                    declared.add((binding.action, binding.description))
    return declared


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "close", "Close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__(classes="small-modal")
        self.rows: list[tuple[str, str]] = []
        seen = set()
        for _key, active in screen.active_bindings.items():
            binding = active.binding
            # Every binding our classes declare, with or without an id (dialogs' keys have
            # none), and those with an id they inherit (the palette's); not Textual's
            # scrolling keys.
            node_type = type(active.node)
            ours = (binding.action, binding.description) in declared_by_us(node_type) or (
                node_type.__module__.startswith("tui.") and binding.id
            )
            if (
                not ours
                or binding.action in ALWAYS_ACTIONS
                or (binding.action, binding.description) in seen
            ):
                continue
            seen.add((binding.action, binding.description))
            keys = [
                k for k, a in screen.active_bindings.items() if a.binding.action == binding.action
            ]
            display = " / ".join(
                dict.fromkeys(
                    screen.app.get_key_display(screen.active_bindings[k].binding) for k in keys
                )
            )
            self.rows.append((display, binding.description))
        self.rows.extend(ALWAYS)
        self.title_text = f"Keys · {getattr(screen, 'help_title', type(screen).__name__)}"

    def compose(self) -> ComposeResult:
        yield Static(literal(self.title_text), classes="dialog-title")
        yield VirtualTable([Column("key", "Key", 18), Column("does", "Does")], id="keys")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows(len(self.rows), lambda i: self.rows[i])
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
