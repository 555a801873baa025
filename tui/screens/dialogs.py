"""Small modal questions: confirm, choose what happens on delete, resolve a save conflict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, RadioSet, Static

from store.storage import Record
from tui.format import count
from tui.literal import literal, visible
from tui.widgets.keybar import KeyBar
from tui.widgets.toggles import MarkedRadioButton as RadioButton
from tui.widgets.virtual_table import Column, VirtualTable


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y or enter on the focused button answers; n or escape says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="small-modal")
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(self.question, single_line=False), classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class DeleteScreen(ModalScreen[dict[str, str] | None]):
    """Deleting a record that others refer to: say what happens to each kind of dependant."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Delete", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, what: str, counts: dict[str, int]) -> None:
        super().__init__(classes="small-modal")
        self.what, self.counts = what, counts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(f"Delete {self.what}?"), classes="dialog-title")
            if not self.counts:
                yield Static("Nothing else refers to it.", classes="dialog-hint")
            if self.counts.get("contacts"):
                yield Static(f"Its {count(self.counts['contacts'], 'contact')}:")
                with RadioSet(id="contacts"):
                    yield RadioButton("keep them, without an account", value=True,
                                      name="detach")
                    yield RadioButton("delete them (and their activities)", name="delete")
            if self.counts.get("subsidiaries"):
                yield Static(f"Its {count(self.counts['subsidiaries'], 'subsidiary')}:")
                with RadioSet(id="subsidiaries"):
                    yield RadioButton("move them up to this account's parent", value=True,
                                      name="reparent")
                    yield RadioButton("make them top-level accounts", name="detach")
            if self.counts.get("activities"):
                many = self.counts["activities"]
                yield Static(f"Its {count(many, 'activity')} {'is' if many == 1 else 'are'} "
                             "deleted with it.")
            yield Static("Deactivating (edit › status) keeps everything instead.",
                         classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (ctrl+s)", id="delete", variant="error", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#delete")
    def action_confirm(self) -> None:
        choices = {"activities": "delete"}
        for radio in self.query(RadioSet):
            pressed = radio.pressed_button
            if pressed is not None and radio.id and pressed.name:
                choices[radio.id] = pressed.name
        self.dismiss(choices)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConflictScreen(ModalScreen[str]):
    """Someone saved the record while you edited it: show both and let the user choose."""

    BINDINGS = [
        Binding("m", "choose('mine')", "Keep mine"),
        Binding("t", "choose('theirs')", "Take theirs"),
        Binding("e", "choose('edit')", "Back to editing"),
        Binding("escape", "choose('edit')", "Back", show=False),
    ]

    def __init__(self, labels: dict[str, str], mine: dict[str, Any], theirs: Record,
                 original: Record, show: Callable[[str, Any], str]) -> None:
        super().__init__(classes="small-modal")
        self.labels, self.mine, self.theirs = labels, mine, theirs
        self.original, self.show = original, show
        changed_by_them = {k for k in set(theirs) | set(original)
                           if theirs.get(k) != original.get(k)}
        # Fields either side changed, in form order.
        self.fields = [n for n in labels if n in mine or n in changed_by_them]

    def compose(self) -> ComposeResult:
        who = self.theirs.get("modified_by", "someone")
        with Vertical(classes="dialog wide"):
            yield Static(literal(f"{who} saved this record while you were editing it."),
                         classes="dialog-title")
            yield VirtualTable([Column("field", "Field", 16), Column("mine", "Yours"),
                                Column("theirs", "Theirs")], id="conflict")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep mine (m)", id="mine", compact=True)
                yield Button("Take theirs (t)", id="theirs", compact=True)
                yield Button("Back to editing (e)", id="edit", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        rows = []
        for name in self.fields:
            mine = self.mine.get(name, self.original.get(name))
            rows.append([self.labels.get(name, name), visible(self.show(name, mine)),
                         visible(self.show(name, self.theirs.get(name)))])
        table = self.query_one(VirtualTable)
        table.set_rows(len(rows), lambda i: rows[i])
        self.query_one("#edit", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "edit")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
