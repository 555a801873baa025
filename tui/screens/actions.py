"""Flows that several screens start: create, edit, log an activity, change status, delete,
undo, put back a field's old value.

Each pushes its modal, lets the store do the work in a thread worker, then tells the app that
data changed so every screen showing it refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from store.errors import (
    ConflictError,
    DependentsError,
    NotFoundError,
    StorageError,
    UndoConflict,
    ValidationFailed,
)
from store.history import HistoryEntry
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    SINGULAR,
    ActivityStatus,
    ActivityType,
    Record,
    display_name,
)
from store.text import counted
from tui.format import type_label, when_text
from tui.screens.dialogs import TRASH_KEY, ConfirmScreen, DeleteChoice, DeleteScreen
from tui.screens.forms import ActivityTypeScreen, account_form, activity_form, contact_form
from tui.screens.hierarchy import HierarchyScreen

if TYPE_CHECKING:
    from tui.screens.base import CrmScreen

STATUS_VERB = {
    ActivityStatus.COMPLETED: "completed",
    ActivityStatus.CANCELED: "canceled",
    ActivityStatus.OPEN: "reopened",
}


def _saved(
    screen: CrmScreen,
    what: str,
    then: Callable[[Record], None] | None = None,
    *,
    table: str | None = None,
) -> Callable[[Record | None], None]:
    def done(record: Record | None) -> None:
        if record is None:
            return
        if table is not None:
            screen.show_saved(table, record["id"])  # the cursor goes to what was just saved
        screen.records_changed()
        screen.say(f"Saved {what}.")
        if then:
            then(record)

    return done


async def new_record(screen: CrmScreen, table: str, *, account_id: str | None = None) -> None:
    """Open the new-record form. Awaited: keys typed right after `n` wait in the app's queue
    until the form's first field has focus, so they land in it."""
    form = (
        account_form(screen.crm)
        if table == ACCOUNTS
        else contact_form(screen.crm, account_id=account_id)
    )
    await screen.app.push_screen(
        form,
        _saved(
            screen,
            f"the new {SINGULAR[table]}",
            table=table,
            then=lambda record: screen.open_record(table, record["id"]),
        ),
    )


async def edit_record(screen: CrmScreen, table: str, record_id: str) -> None:
    record = screen.crm.get(table, record_id)
    if record is None:
        screen.say("That record no longer exists.", severity="warning")
        return
    if table == ACTIVITIES:
        form = activity_form(screen.crm, record.get("type", "note"), record=record)
    elif table == ACCOUNTS:
        form = account_form(screen.crm, record)
    else:
        form = contact_form(screen.crm, record)
    await screen.app.push_screen(form, _saved(screen, display_name(table, record)))


async def log_activity(
    screen: CrmScreen, table: str, record_id: str, kind: str | None = None
) -> None:
    """Quick create: pick the type (unless given), then fill only that type's fields. Each
    step is awaited, so a burst like `l t Call back<tab>fri` lands where it belongs."""
    if table not in (ACCOUNTS, CONTACTS):
        return
    if not screen.crm.ready:
        screen.say("Activities are still loading; try again in a moment.")
        return
    name = screen.crm.name_of(table, record_id)
    chooser: ActivityTypeScreen | None = None

    async def open_form(chosen: str) -> None:
        saved = _saved(screen, f"the {type_label(chosen)}".lower(), table=ACTIVITIES)

        def closed(record: Record | None) -> None:
            if chooser is not None and screen.app.screen is chooser:
                chooser.dismiss(ActivityType(chosen))  # the type was only the first step
            saved(record)

        await screen.app.push_screen(activity_form(screen.crm, chosen, table, record_id), closed)

    if kind:
        await open_form(kind)
    else:
        chooser = ActivityTypeScreen(name, open_form)
        await screen.app.push_screen(chooser)


def set_status(screen: CrmScreen, activity: Record, status: str) -> None:
    """Complete, cancel or reopen with one key; a concurrent edit is reported, not overwritten."""

    def run() -> None:  # in a thread worker: the save waits for the lock and the disk
        try:
            screen.crm.set_status(activity["id"], status, activity.get("version"))
        except ConflictError:
            screen.say(
                "Someone changed this activity just now; it was refreshed. Try again.",
                severity="warning",
            )
            screen.records_changed()
            return
        except (StorageError, NotFoundError) as error:
            screen.say(f"Not saved: {error}", severity="error")
            return
        screen.records_changed()
        screen.say(f"{type_label(activity.get('type'))} {STATUS_VERB[ActivityStatus(status)]}.")

    screen.run_worker(
        run,
        thread=True,
        group="status",
        exit_on_error=False,
        description="changing the activity's status",
    )


def delete_record(
    screen: CrmScreen, table: str, record_id: str, then: Callable[[], None] | None = None
) -> None:
    record = screen.crm.get(table, record_id)
    if record is None:
        return
    counts = screen.crm.dependants(table, record_id)
    what = f"{SINGULAR[table]} {display_name(table, record)}"

    def run(choice: DeleteChoice) -> None:  # in a thread worker
        try:
            removed = screen.crm.delete(
                table,
                record_id,
                contacts=choice.contacts,
                subsidiaries=choice.subsidiaries,
                activities=choice.activities,
            )
        except (DependentsError, StorageError, NotFoundError) as error:
            screen.say(f"Not deleted: {error}", severity="error")
            return
        if then:  # e.g. leave the deleted record's screen before it hears of the delete
            screen.app.call_from_thread(then)
        screen.records_changed()
        screen.say(
            f"Deleted {what} ({counted(removed, 'record')}): moved to the trash; restore it "
            f"from the Trash ({TRASH_KEY} or the palette)."
        )

    def chosen(choice: DeleteChoice | None) -> None:
        if choice is not None:
            # The App's worker, not the screen's: `then` may close the screen, which would
            # cancel its workers while the delete still has things to say.
            screen.app.run_worker(
                lambda: run(choice),
                thread=True,
                group="delete",
                exit_on_error=False,
                description=f"deleting the {what}",
            )

    screen.app.push_screen(DeleteScreen(what, counts), chosen)


def undo_last(screen: CrmScreen) -> None:
    """`u`: find the user's last change (the history is read from disk), ask, then undo it.

    The undo names the change it was asked about: a change made meanwhile is not undone
    in its place."""

    def find() -> None:  # in a thread worker: reads the history file
        try:
            entries = screen.crm.undoable()
        except StorageError as error:
            screen.say(f"Cannot undo: {error}", severity="error")
            return
        if not entries:
            screen.say("Nothing of yours to undo.")
            return
        screen.app.call_from_thread(ask, entries[0])

    def ask(entry: HistoryEntry) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                _in_app_worker(screen, lambda: undo(entry), f"undoing {entry.summary}")

        screen.app.push_screen(
            ConfirmScreen(f"Undo: {entry.summary} ({when_text(entry.at)})?", yes="Undo", no="Keep"),
            answered,
        )

    def undo(entry: HistoryEntry) -> None:  # in a thread worker
        try:
            screen.crm.undo(entry.batch_id)
        except UndoConflict as error:
            screen.say(str(error), severity="error")
            return
        except NotFoundError:
            screen.say("Nothing of yours to undo.")
            return
        except (StorageError, ConflictError) as error:
            screen.say(f"Not undone: {error}", severity="error")
            return
        screen.records_changed()
        screen.say(f"Undone: {entry.summary}.")

    _in_app_worker(screen, find, "finding your last change")


def restore_value(
    screen: CrmScreen, table: str, record_id: str, field: str, label: str, old: Any
) -> None:
    """Enter on a History line: put a field's old value back, as a save of its own (checked
    against the version shown, so that a change made meanwhile is not overwritten)."""
    record = screen.crm.get(table, record_id)
    if record is None:
        return
    now = record.get(field)
    version = record.get("version")
    what = f"{SINGULAR[table]} {display_name(table, record)}"
    if now == old or (not now and not old):
        screen.say(f"{label} of the {what} is that already.")
        return

    def run() -> None:  # in a thread worker
        try:
            screen.crm.update(table, record_id, {field: old}, expected_version=version)
        except ConflictError:
            screen.say(
                f"Someone changed the {what} just now; it was refreshed. Try again.",
                severity="error",
            )
            screen.records_changed()
            return
        except (StorageError, NotFoundError, ValidationFailed) as error:
            screen.say(f"Not saved: {error}", severity="error")
            return
        screen.records_changed()
        screen.say(f"Restored the old {label} of the {what}.")

    def answered(yes: bool | None) -> None:
        if yes:
            _in_app_worker(screen, run, f"restoring the old {label}")

    screen.app.push_screen(
        ConfirmScreen(
            f"Set {label} of the {what} back to {_shown(old)}? (It is {_shown(now)} now.)",
            yes="Restore",
            no="Keep",
        ),
        answered,
    )


def _shown(value: Any) -> str:
    return "(empty)" if value is None or value == "" else f'"{value}"'


def _in_app_worker(screen: CrmScreen, job: Callable[[], None], description: str) -> None:
    # The App's worker, not the screen's: an undo may close the screen (a record it deletes).
    screen.app.run_worker(
        job, thread=True, group="undo", exit_on_error=False, description=description
    )


def show_hierarchy(screen: CrmScreen, account_id: str) -> None:
    screen.app.push_screen(HierarchyScreen(account_id))
