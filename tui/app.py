"""The Textual application: screens over the store's service layer, refreshed as data changes."""

from __future__ import annotations

import sys
import time

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.worker import get_current_worker

from store.errors import ServerUnavailable, StorageError
from store.model import ACCOUNTS, Change
from store.service import CRM
from tui.commands import CrmCommands
from tui.literal import guard_terminal_output, visible
from tui.messages import (
    DataChanged,
    Notice,
    OpenRecord,
    RecordsChanged,
    SendsWorkFailures,
    WorkFailed,
)
from tui.screens import actions
from tui.screens.agenda import AgendaScreen
from tui.screens.base import CrmScreen
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.dialogs import TRASH_KEY, ConfirmScreen
from tui.screens.forms import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.record_list import AccountsScreen, ContactsScreen
from tui.screens.transfer import ExportScreen, ImportScreen
from tui.screens.trash import TrashScreen

POLL_SECONDS = 0.5  # another user's save shows within about half a second
COMPACT_CHECK_EVERY = 300  # polls: look at the journal's size every five minutes


class CrmApp(SendsWorkFailures, App[None]):
    """A keyboard-first CRM. Built with a CRM service already opened for the first screen."""

    TITLE = "termcrm"
    CSS_PATH = "styles/app.tcss"
    # Only ours: it also offers Textual's system commands, matched by whole words like the
    # rest (Textual's provider matches letter by letter and outranks records).
    COMMANDS = {CrmCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        # Priority: they work over forms and dialogs too (which ask before closing).
        Binding("f2", "show_accounts", "Accounts", id="accounts", priority=True),
        Binding("f3", "show_contacts", "Contacts", id="contacts", priority=True),
        Binding("f4", "show_agenda", "My activities", id="agenda", priority=True),
        Binding("f5", "import", "Import", id="import", show=False),
        Binding("f6", "export", "Export", id="export", show=False),
        Binding(TRASH_KEY.lower(), "trash", "Trash: restore or purge", id="trash", show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]
    MODES = {"accounts": AccountsScreen, "contacts": ContactsScreen, "agenda": AgendaScreen}
    DEFAULT_MODE = "accounts"

    def __init__(self, crm: CRM, *, poll_seconds: float = POLL_SECONDS) -> None:
        guard_terminal_output()
        super().__init__()
        self.crm = crm
        self.poll_seconds = poll_seconds
        self.data_generation = 0
        self._announced = -1  # the index generation the screens were last told about
        self._polls = 0
        self.connection_trouble: str | None = None  # why the database cannot be reached now
        self.sub_title = str(crm.location)

    def on_mount(self) -> None:
        self.finish_loading()
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.poll_changes)
            if self.crm.wakes:
                self._wake_on_changes()

    @work(thread=True, group="wake", exit_on_error=False, description="waiting for changes")
    def _wake_on_changes(self) -> None:
        """A server tells of other users' saves as they happen: refresh then, not at the
        next poll (which stays, for a notification lost with a connection)."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                woken = self.crm.wait_for_changes(self.poll_seconds)
            except StorageError:
                time.sleep(self.poll_seconds)  # the poll reports a lost connection
                continue
            if woken and not worker.is_cancelled:
                self.call_from_thread(self.poll_changes)

    # ------------------------------------------------------------ data
    @work(thread=True, group="load", exit_on_error=False, description="loading the activities")
    def finish_loading(self) -> None:
        try:
            self.crm.finish_loading()
        except StorageError as error:
            self.call_from_thread(self.report_error, str(error))
            return
        self.call_from_thread(self.data_changed)

    def poll_changes(self) -> None:
        if self.crm.ready:
            self._poll()

    @work(
        thread=True,
        exclusive=True,
        group="poll",
        exit_on_error=False,
        description="looking for other users' changes",
    )
    def _poll(self) -> None:
        try:
            self._polls += 1
            if self._polls % COMPACT_CHECK_EVERY == 0:
                # A session left open for days must not grow the journal without bound.
                self.crm.compact_if_needed()
            changes = self.crm.refresh()
        except ServerUnavailable as error:
            self.call_from_thread(self.lost_connection, str(error))
            return
        except StorageError as error:
            self.call_from_thread(self.report_error, str(error))
            return
        if self.connection_trouble is not None:
            self.call_from_thread(self.connection_back)
        # Other users' changes also arrive inside our own saves (a save catches up first),
        # including saves that then fail: announce whatever the indexes took in.
        if changes or self.crm.generation != self._announced:
            self.call_from_thread(self.data_changed, changes or None)

    def data_changed(self, changes: list[Change] | None = None) -> None:
        """Tell the visible screen that records changed; hidden ones catch up on resume."""
        self._announced = self.crm.generation
        self.data_generation += 1
        self.screen.post_message(DataChanged(changes))

    # ------------------------------------------------------------ the server's connection
    def lost_connection(self, reason: str) -> None:
        """Said once while the database server cannot be reached; the poll keeps trying,
        and every form keeps what was typed (a save fails with "Not saved")."""
        if self.connection_trouble is None:
            self.report_error(
                f"{reason}. Retrying. What you type is kept: save again once it is back."
            )
        self.connection_trouble = reason

    def connection_back(self) -> None:
        self.connection_trouble = None
        self.say("Connected to the database again.")
        self.data_changed()  # whatever changed meanwhile

    def _handle_exception(self, error: Exception) -> None:
        # A screen's read that finds the server gone (a list row, a name) must not end the
        # app and lose what is typed: the poll reports it and retries.
        if isinstance(error, ServerUnavailable):
            self.lost_connection(str(error))
            return
        super()._handle_exception(error)

    # ------------------------------------------------------------ messages
    def say(
        self, message: str, *, severity: SeverityLevel = "information", timeout: float = 4
    ) -> None:
        """A notification whose text is shown literally (it often contains user data)."""
        self.notify(
            visible(message, single_line=False), severity=severity, timeout=timeout, markup=False
        )

    def report_error(self, message: str) -> None:
        self.say(message, severity="error", timeout=10)

    def on_records_changed(self, message: RecordsChanged) -> None:
        self.data_changed()

    def on_open_record(self, message: OpenRecord) -> None:
        self.open_record(message.table, message.record_id)

    def on_notice(self, message: Notice) -> None:
        if message.severity == "error":
            self.report_error(message.text)
        else:
            self.say(message.text, severity=message.severity)

    def on_work_failed(self, message: WorkFailed) -> None:
        """The one end of every unexpected error in background work (search, agenda, saves,
        loading...): shown and logged, and the app keeps running. Errors a worker expects
        (storage, validation, conflicts) it reports itself, in its own words."""
        worker = message.worker
        error = worker.error
        if isinstance(error, ServerUnavailable):
            self.lost_connection(str(error))
            return
        what = worker.description or worker.name or "background work"
        self.log.error(f"{what} failed", error)
        self.report_error(f"Something went wrong while {what}: {type(error).__name__}: {error}")

    # ------------------------------------------------------------ actions
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_show_accounts(self) -> None:
        self.go_to_section("accounts")

    def action_show_contacts(self) -> None:
        self.go_to_section("contacts")

    def action_show_agenda(self) -> None:
        self.go_to_section("agenda")

    @work(exclusive=True, group="navigate", exit_on_error=False, description="changing section")
    async def go_to_section(self, mode: str) -> None:
        """F2/F3/F4: the section's first screen (its list), whatever was open before."""
        await self._section_home(mode)

    async def _section_home(self, mode: str) -> bool:
        """Show the first screen of a section (a mode, with its own history of screens).

        A form or dialog open over the current screen is closed first, after asking when
        something was typed in it; False when the user chose to keep editing."""
        if not await self.may_discard_typed_work("Leave the form and discard your changes?"):
            return False
        while self.screen.is_modal:
            await self.pop_screen()
        if self.current_mode != mode:
            await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        return True

    async def may_discard_typed_work(self, question: str) -> bool:
        """True when no open form holds changes, or the user agrees to lose them."""
        if not any(isinstance(s, FormScreen) and s.dirty for s in self.screen_stack):
            return True
        discard: bool = await self.push_screen_wait(
            ConfirmScreen(question, yes="Discard", no="Keep editing")
        )
        return discard

    async def action_quit(self) -> None:
        self._quit_asking()

    @work(exclusive=True, group="navigate", exit_on_error=False, description="quitting")
    async def _quit_asking(self) -> None:
        if await self.may_discard_typed_work("Quit and discard your changes?"):
            self.exit()

    def action_import(self) -> None:
        self.push_screen(ImportScreen())

    def action_export(self) -> None:
        self.push_screen(ExportScreen())

    def action_trash(self) -> None:
        # The palette calls this without check_action: not over a form either.
        if not self.screen.is_modal and not isinstance(self.screen, TrashScreen):
            self.push_screen(TrashScreen())

    def action_undo(self) -> None:
        """From the palette: as `u` on the lists and detail screens."""
        if isinstance(self.screen, CrmScreen) and not self.screen.is_modal:
            actions.undo_last(self.screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Import, export and the trash go on top of the current screen: over a form they
        # would strand it (forms are modal). F2/F3/F4 close forms first (go_to_section).
        if action in ("import", "export", "trash", "undo"):
            return not self.screen.is_modal
        return True

    async def new_record(self, table: str) -> None:
        if isinstance(self.screen, CrmScreen):
            await actions.new_record(self.screen, table)

    def open_record(self, table: str, record_id: str) -> None:
        """Push the detail screen for a record (from a list or a timeline): escape comes
        back here."""
        screen = AccountScreen(record_id) if table == ACCOUNTS else ContactScreen(record_id)
        self.push_screen(screen)

    @work(exclusive=True, group="navigate", exit_on_error=False, description="opening a record")
    async def jump_to_record(self, table: str, record_id: str) -> None:
        """Open a record from the palette in its own section, over that section's list: it
        does not join another section's history, and escape leads to its list."""
        if await self._section_home("accounts" if table == "accounts" else "contacts"):
            self.open_record(table, record_id)


def _notice(text: str) -> None:
    # Before the app takes the screen: a plain line on stderr says why it is slow to start.
    print(f"termcrm: {visible(text)}", file=sys.stderr, flush=True)


def run_tui(path: str, user: str | None = None, group_writable: bool = False) -> None:
    """Open the database for the first screen, run the app, and tidy up on exit."""
    crm = CRM(path, user=user, group_writable=group_writable, notice=_notice)
    crm.open_for_screen()
    app = CrmApp(crm)
    try:
        app.run()
    finally:
        if crm.ready:
            try:
                crm.close()
            except StorageError:
                pass
