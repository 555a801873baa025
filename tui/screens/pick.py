"""Pick one record from a short list narrowed by typing (the primary contact of an account)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from store.errors import ConflictError, NotFoundError, StorageError
from store.merging import likely_duplicates
from store.model import ACCOUNTS, CONTACTS, SINGULAR, Record, ValidationFailed, display_name
from store.queries import ListQuery
from store.text import fold, tokens
from tui.literal import literal
from tui.screens.merge import MergeScreen
from tui.widgets.form_fields import Candidates, RecordItem
from tui.widgets.keybar import KeyBar
from tui.widgets.text_entry import CrmInput

if TYPE_CHECKING:
    from tui.screens.base import CrmScreen

MAX_SHOWN = 12


class PickRecordScreen(ModalScreen[str | None]):
    """A question, a field that narrows the list as you type, and the records (name · what
    tells it from namesakes). ↓/↑ move in the list, enter picks, escape cancels.

    Dismissed with the picked record's id, or None."""

    BINDINGS = [
        Binding("down", "move('down')", "Next", show=False),
        Binding("up", "move('up')", "Previous", show=False),
        Binding("enter", "pick", "Pick"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, question: str, candidates: Candidates, *, hint: str = "") -> None:
        super().__init__(classes="small-modal")
        self.question = question
        self.candidates = candidates
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick"):
            yield Static(literal(self.question), classes="dialog-title")
            yield CrmInput(
                id="pick-filter",
                compact=True,
                select_on_focus=False,
                placeholder="type to narrow the list",
            )
            yield OptionList(id="pick-list")
            yield Static(
                literal(self.hint or "↑↓ move · enter picks · escape cancels"),
                classes="dialog-hint",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#pick-list", OptionList).can_focus = False  # typing stays in the filter
        self._fill("")
        self.query_one("#pick-filter", Input).focus()

    @on(Input.Changed, "#pick-filter")
    def narrow(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        found = self.candidates(text.strip())
        options = self.query_one("#pick-list", OptionList)
        options.clear_options()
        options.add_options([RecordItem(rid, name, detail) for rid, name, detail in found])
        if found:
            options.highlighted = 0

    def action_move(self, direction: str) -> None:
        options = self.query_one("#pick-list", OptionList)
        if direction == "down":
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(Input.Submitted, "#pick-filter")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pick()

    @on(OptionList.OptionSelected, "#pick-list")
    def clicked(self, event: OptionList.OptionSelected) -> None:
        self.action_pick()

    def action_pick(self) -> None:
        option = self.query_one("#pick-list", OptionList).highlighted_option
        if option is not None and option.id:
            self.dismiss(option.id.removeprefix("pick-"))

    def action_cancel(self) -> None:
        self.dismiss(None)


def choose_primary_contact(screen: CrmScreen, account: Record) -> None:
    """Offer the account's contacts (all contacts when it has none) and save the one picked
    as its primary contact; a save by someone else meanwhile is reported, not overwritten."""
    crm = screen.crm
    name = display_name(ACCOUNTS, account)
    own = [
        (c["id"], display_name(CONTACTS, c), crm.describe(CONTACTS, c))
        for c in crm.contacts_of(account["id"])
    ]

    def candidates(text: str) -> list[tuple[str, str, str]]:
        if own:  # the same rule as the lists' search: every word, accents and case ignored
            words = tokens(text)
            return [
                item for item in own if all(word in fold(f"{item[1]} {item[2]}") for word in words)
            ]
        ids = crm.search(CONTACTS, ListQuery(text=text))[:MAX_SHOWN]
        return [
            (c["id"], display_name(CONTACTS, c), crm.describe(CONTACTS, c))
            for c in crm.records(CONTACTS, ids)
        ]

    question = (
        f"Primary contact of {name}: pick one of its contacts"
        if own
        else f"{name} has no contacts yet: pick any contact"
    )
    version = account.get("version")

    def save(contact_id: str) -> None:  # in a thread worker: the save waits for the lock
        try:
            crm.update(ACCOUNTS, account["id"], {"primary_contact_id": contact_id}, version)
        except ConflictError as conflict:
            screen.say(f"Not saved: {conflict}. Press i to pick again.", severity="warning")
            screen.records_changed()
            return
        except (StorageError, NotFoundError, ValidationFailed) as error:
            screen.say(f"Not saved: {error}", severity="error")
            return
        screen.records_changed()
        screen.say(f"{crm.name_of(CONTACTS, contact_id)} is now the primary contact of {name}.")

    def picked(contact_id: str | None) -> None:
        if contact_id:
            screen.run_worker(
                lambda: save(contact_id),
                thread=True,
                group="primary-contact",
                exit_on_error=False,
                description="saving the primary contact",
            )

    screen.app.push_screen(PickRecordScreen(question, candidates), picked)


def choose_record_to_merge(screen: CrmScreen, table: str, keep_id: str) -> None:
    """Pick the record to merge into `keep_id` (its likely duplicates first, then any record
    of the table as typed), then show the two side by side (MergeScreen)."""
    crm = screen.crm
    keep = crm.get(table, keep_id)
    if keep is None:
        return
    likely = likely_duplicates(crm, table, keep_id)

    def candidates(text: str) -> list[tuple[str, str, str]]:
        if not text.strip() and likely:
            records = likely
        else:
            records = crm.records(table, crm.search(table, ListQuery(text=text))[:MAX_SHOWN])
        return [
            (r["id"], display_name(table, r), crm.describe(table, r))
            for r in records
            if r["id"] != keep_id
        ]

    name = display_name(table, keep)
    hint = (
        "its likely duplicates · type to find another · enter picks · escape cancels"
        if likely
        else "no likely duplicates: type to find one · enter picks · escape cancels"
    )

    def picked(other_id: str | None) -> None:
        if other_id:
            screen.app.push_screen(MergeScreen(crm, table, keep_id, other_id))

    screen.app.push_screen(
        PickRecordScreen(f"Merge into {name}: which {SINGULAR[table]}?", candidates, hint=hint),
        picked,
    )
