"""Small modal questions: confirm, choose what happens on delete, resolve a save conflict,
keep what was typed into a record someone deleted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, RadioSet, Static

from store.dates import DateParseError, format_local, from_storage
from store.model import Deletion, Record
from tui.format import count
from tui.literal import literal, visible
from tui.widgets.keybar import KeyBar
from tui.widgets.toggles import MarkedRadioButton as RadioButton
from tui.widgets.virtual_table import Column, VirtualTable

# The Trash screen's key (the App binds it): the delete dialog and its notification name it.
TRASH_KEY = "F7"


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


@dataclass(frozen=True)
class DeleteChoice:
    """What happens to a deleted record's dependants (the keywords of CRM.delete)."""

    contacts: str | None = None  # "detach" | "delete"
    subsidiaries: str | None = None  # "reparent" | "detach"
    activities: str | None = "delete"  # they go with it: the dialog says so


ConflictChoice = Literal["mine", "theirs", "edit"]
DeletedChoice = Literal["new", "file", "edit"]


class DeleteScreen(ModalScreen[DeleteChoice | None]):
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
                    yield RadioButton("keep them, without an account", value=True, name="detach")
                    yield RadioButton("delete them (and their activities)", name="delete")
            if self.counts.get("subsidiaries"):
                yield Static(f"Its {count(self.counts['subsidiaries'], 'subsidiary')}:")
                with RadioSet(id="subsidiaries"):
                    yield RadioButton(
                        "move them up to this account's parent", value=True, name="reparent"
                    )
                    yield RadioButton("make them top-level accounts", name="detach")
            if self.counts.get("activities"):
                many = self.counts["activities"]
                yield Static(
                    f"Its {count(many, 'activity')} {'is' if many == 1 else 'are'} deleted with it."
                )
            yield Static(
                f"It is moved to the trash; restore it from the Trash ({TRASH_KEY} or the "
                "palette). Deactivating (edit › status) keeps everything instead.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (ctrl+s)", id="delete", variant="error", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#delete")
    def action_confirm(self) -> None:
        chosen: dict[str, str] = {}
        for radio in self.query(RadioSet):
            pressed = radio.pressed_button
            if pressed is not None and radio.id and pressed.name:
                chosen[radio.id] = pressed.name
        self.dismiss(
            DeleteChoice(contacts=chosen.get("contacts"), subsidiaries=chosen.get("subsidiaries"))
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConflictScreen(ModalScreen[ConflictChoice]):
    """Someone saved the record while you edited it: show both and let the user choose."""

    BINDINGS = [
        Binding("m", "choose('mine')", "Keep mine"),
        Binding("t", "choose('theirs')", "Take theirs"),
        Binding("e", "choose('edit')", "Back to editing"),
        Binding("escape", "choose('edit')", "Back", show=False),
    ]

    def __init__(
        self,
        labels: dict[str, str],
        mine: dict[str, Any],
        theirs: Record,
        original: Record,
        show: Callable[[str, Any], str],
    ) -> None:
        """`original`: the version the form started from; `mine`: the fields typed over it;
        `theirs`: what is stored now; `show` renders a stored value for a field."""
        super().__init__(classes="small-modal")
        self.labels, self.mine, self.theirs = labels, mine, theirs
        self.original, self.show = original, show
        changed_by_them = {
            k for k in set(theirs) | set(original) if theirs.get(k) != original.get(k)
        }
        # Fields either side changed, in form order.
        self.fields = [n for n in labels if n in mine or n in changed_by_them]
        self.rows: list[list[str]] = []  # label, before, yours, theirs (shown), per field

    def compose(self) -> ComposeResult:
        who = self.theirs.get("modified_by", "someone")
        saved = f"saved by {who} {at_moment(self.theirs.get('modified_at'))}".rstrip()
        with Vertical(classes="dialog wide"):
            yield Static(
                literal(f"Changed while you were editing · theirs: {saved}"), classes="dialog-title"
            )
            # The label column fits every field label (15); the values share the rest, each
            # cut with … by the table, so that at 80 columns every row stays one line.
            yield VirtualTable(
                [
                    Column("field", "Field", 15),
                    Column("before", "Before"),
                    Column("mine", "Yours"),
                    Column("theirs", "Theirs"),
                ],
                id="conflict",
            )
            # The field under the cursor in full: values that differ only at the end look
            # alike once cut.
            yield Static("", id="conflict-field")
            yield Static(
                "Before: as you opened it · ↑↓ a field in full · m saves yours over theirs",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep mine (m)", id="mine", compact=True)
                yield Button("Take theirs (t)", id="theirs", compact=True)
                yield Button("Back to editing (e)", id="edit", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        rows = self.rows
        for name in self.fields:
            before = self.original.get(name)
            mine = self.mine.get(name, before)
            rows.append(
                [
                    self.labels.get(name, name),
                    visible(self.show(name, before)),
                    visible(self.show(name, mine)),
                    visible(self.show(name, self.theirs.get(name))),
                ]
            )
        table = self.query_one(VirtualTable)
        table.set_rows(len(rows), lambda i: rows[i])
        table.focus()
        self._show_field(0)

    @on(VirtualTable.Highlighted)
    def highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show_field(event.index)

    def _show_field(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        label, before, mine, theirs = self.rows[index]
        self.query_one("#conflict-field", Static).update(
            literal(
                f"{label}\n  before: {_clip(before)}\n  yours:  {_clip(mine)}\n"
                f"  theirs: {_clip(theirs)}",
                single_line=False,
            )
        )

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(cast(ConflictChoice, event.button.id or "edit"))  # ids are the choices

    def action_choose(self, choice: ConflictChoice) -> None:
        self.dismiss(choice)


class DeletedScreen(ModalScreen[DeletedChoice]):
    """Someone deleted the record while you edited it: what you typed can still be kept.

    Answers "new" (save it as a new record), "file" (write it to a text file) or "edit"."""

    BINDINGS = [
        Binding("n", "choose('new')", "Save as new"),
        Binding("w", "choose('file')", "Write to a file"),
        Binding("e", "choose('edit')", "Back to editing"),
        Binding("escape", "choose('edit')", "Back", show=False),
    ]

    def __init__(self, what: str, deletion: Deletion | None) -> None:
        super().__init__(classes="small-modal")
        self.what, self.deletion = what, deletion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                literal(deleted_text(self.what, self.deletion) + " while you were editing it."),
                classes="dialog-title",
            )
            yield Static(
                f"Your version is still in the form. n saves it as a new {self.what} "
                "(references that are gone are marked); w writes it to a text file.",
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save as new (n)", id="new", variant="primary", compact=True)
                yield Button("Write to a file (w)", id="file", compact=True)
                yield Button("Keep editing (e)", id="edit", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#edit", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(cast(DeletedChoice, event.button.id or "edit"))  # ids are the choices

    def action_choose(self, choice: DeletedChoice) -> None:
        self.dismiss(choice)


def _clip(text: str, most: int = 150) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def deleted_text(what: str, deletion: Deletion | None) -> str:
    """`bob deleted this account at 14:05`; `Another user ...` when the journal does not say."""
    if deletion is None:
        return f"Another user deleted this {what}"
    return f"{deletion.by} deleted this {what} {at_moment(deletion.at)}".rstrip()


def at_moment(stamp: str | None) -> str:
    """`at 14:05` today (local time), `on 3 Dec 14:05` another day; '' when unknown."""
    if not stamp:
        return ""
    try:
        moment = from_storage(stamp)
    except DateParseError:
        return ""
    if not isinstance(moment, datetime):
        return ""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return f"at {local:%H:%M}"
    return f"on {format_local(stamp)}"
