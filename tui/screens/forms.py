"""New and edit forms for accounts, contacts and activities.

One modal does the work for all three: fields come from the store's specs, the store validates,
errors appear next to their fields, and nothing typed is lost on an error or a conflict.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from store.dates import DateParseError, to_storage
from store.errors import ConflictError, NotFoundError, StorageError
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    ACTIVITY_LABELS,
    APP_NAME,
    CONTACTS,
    FIELD_BY_NAME,
    SINGULAR,
    SYSTEM_FIELDS,
    ActivityStatus,
    ActivityType,
    Deletion,
    Direction,
    Priority,
    Record,
    Table,
    ValidationFailed,
    display_name,
)
from store.queries import ListQuery
from store.service import CRM, SaveResult
from tui.literal import literal
from tui.messages import Notice, RecordsChanged, SendsWorkFailures
from tui.screens.dialogs import ConfirmScreen, ConflictScreen, DeletedScreen, deleted_text
from tui.screens.history import HistoryScreen
from tui.screens.merge import MergeScreen
from tui.widgets.form_fields import (
    Candidates,
    CheckboxRow,
    FieldRow,
    RefRow,
    SelectRow,
    TextAreaRow,
    WhenRow,
    rows_of,
)
from tui.widgets.keybar import KeyBar

ACCOUNT_FORM = [
    "name",
    "account_number",
    "relationship",
    "industry",
    "phone",
    "email",
    "website",
    "parent_account_id",
    "primary_contact_id",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
    "owner",
    "status",
    "description",
]
CONTACT_FORM = [
    "first_name",
    "last_name",
    "job_title",
    "account_id",
    "email",
    "phone",
    "mobile",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
    "owner",
    "status",
    "description",
]
ACTIVITY_FORM = {
    ActivityType.NOTE: ["subject", "description"],
    ActivityType.TASK: ["subject", "due_at", "priority", "status", "description"],
    # A call happened at some moment (now, unless said otherwise): its start.
    ActivityType.PHONE_CALL: [
        "subject",
        "start_at",
        "direction",
        "phone_number",
        "status",
        "description",
    ],
    ActivityType.EMAIL: ["subject", "email_from", "email_to", "direction", "status", "description"],
    ActivityType.APPOINTMENT: [
        "subject",
        "start_at",
        "end_at",
        "all_day",
        "location",
        "status",
        "description",
    ],
}
REQUIRED = {"name", "subject"}


def _options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(str(value).replace("_", " "), str(value)) for value in values]


class FormScreen(SendsWorkFailures, ModalScreen[Record | None]):
    """Create or edit one record. Dismisses with the saved record, or None when cancelled."""

    AUTO_FOCUS = ""  # the first field is focused in on_mount, at once (see type-ahead)

    BINDINGS = [
        # Priority: the move happens before the next key is routed, so a fast typist's
        # `Alice<tab>Oslo` lands in two fields, never as `AliceOslo` in the first.
        Binding("tab", "next_field", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
        Binding("ctrl+s", "save", "Save", id="save", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("f8", "history", "History", id="history"),
        Binding("f9", "save_and_merge", "Save, then merge", id="save-merge"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # An activity's history is shown over its form (accounts and contacts have a tab).
        if action == "history":
            return self.table == ACTIVITIES and self.record is not None
        if action == "save_and_merge":  # offered with the duplicate warning
            return self._duplicate_of is not None
        return True

    def action_save_and_merge(self) -> None:
        """Save the new record anyway, then merge it into the record it duplicates (the
        merge screen shows both, field by field)."""
        if self._duplicate_of is not None:
            self._merge_after = True
            self._duplicates_confirmed = True
            self._save()

    def action_history(self) -> None:
        if self.table == ACTIVITIES and self.record is not None:
            title = display_name(ACTIVITIES, self.record)
            self.app.push_screen(HistoryScreen(self.crm, self.record["id"], title))

    def __init__(
        self,
        crm: CRM,
        table: str,
        fields: list[str],
        *,
        record: Record | None = None,
        fixed: dict[str, Any] | None = None,
        defaults: dict[str, Any] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(classes="form-screen")
        self.crm = crm
        self.table = table
        self.field_names = fields
        self.record = record
        self.version = record.get("version") if record else None
        self.fixed = fixed or {}
        self.defaults = defaults or {}
        if record is None and "owner" in fields:
            self.defaults.setdefault("owner", crm.user)
        self.title_text = title or (
            f"Edit {SINGULAR[table]}" if record else f"New {SINGULAR[table]}"
        )
        self._initial: dict[str, Any] = {}
        self._duplicates_confirmed = False
        self._duplicate_of: str | None = None  # the first likely duplicate, once warned
        self._merge_after = False
        self._saving = False
        self._typed_ahead = ""

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(literal(self.title_text), id="form-title")
            yield Static("", id="form-message")
            with VerticalScroll(id="form-fields", can_focus=False):
                for name in self.field_names:
                    yield self.make_row(name)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)
        yield KeyBar()

    def make_row(self, name: str) -> FieldRow:
        spec = FIELD_BY_NAME[self.table][name]
        label = spec.label + (" *" if name in REQUIRED else "")
        if name == "first_name" or name == "last_name":
            label = spec.label + " ¹"
        if spec.kind == "ref":
            target = spec.ref_table or ACCOUNTS
            return RefRow(
                spec,
                self._candidates(target),
                lambda rid: self.crm.name_of(target, rid),
                label=label,
            )
        if spec.kind == "when":
            if name == "start_at" and self._kind() == ActivityType.PHONE_CALL:
                label = "When"
            # An end is read from the start typed above it: `11:00` that day, `+1h` after.
            relative_to = self._start if name == "end_at" else None
            return WhenRow(spec, label=label, date_only=self._all_day, relative_to=relative_to)
        if spec.kind == "bool":
            return CheckboxRow(spec, label=label)
        if spec.multiline:
            return TextAreaRow(spec, label=label)
        if spec.kind == "enum":
            # Optional choices may be left empty; status and priority always have a value.
            blank = name in ("relationship", "direction")
            return SelectRow(spec, _options(spec.choices), allow_blank=blank, label=label)
        return FieldRow(spec, label=label)

    def _kind(self) -> str | None:
        return self.fixed.get("type") or (self.record or {}).get("type")

    def _start(self) -> str | None:
        """The start as typed so far (stored form), or None while it is empty or unreadable."""
        rows = self.query("#row-start_at")
        if not rows:
            return None
        try:
            return rows.first(WhenRow).get_value()
        except DateParseError:
            return None

    def _all_day(self) -> bool:
        row = self.query("#row-all_day")
        return bool(row) and bool(row.first(CheckboxRow).get_value())

    def _candidates(self, table: str) -> Candidates:
        def search(text: str) -> list[tuple[str, str, str]]:
            ids = self.crm.search(table, ListQuery(text=text))[:12]
            own = self.record["id"] if self.record else None
            records = self.crm.records(table, [rid for rid in ids if rid != own])
            return [
                (record["id"], display_name(table, record), self.crm.describe(table, record))
                for record in records
            ]

        return search

    def on_mount(self) -> None:
        rows = rows_of(self)
        source = {**self.defaults, **(self.record or {})}
        for name, row in rows.items():
            if name in source:
                row.set_value(source[name])
        self._initial = self._snapshot()
        if self.table in (ACCOUNTS, CONTACTS) and not self.record:
            self._hint_required()
        self._focus_first_field()

    # ------------------------------------------------------------ type-ahead
    # Keys typed right after the key that opened the form reach the screen before any field
    # has focus (focusing is deferred); they are kept and put into the first field.
    def on_key(self, event: events.Key) -> None:
        if self.focused is None and event.is_printable and event.character:
            self._typed_ahead += event.character
            event.stop()

    def _first_input(self) -> Widget | None:
        found = self.query(f"#field-{self.field_names[0]}")
        return found.first() if found else None

    def _focus_first_field(self) -> None:
        if self.focused is not None:
            return
        first = self._first_input()
        if first is None:
            return
        self.set_focus(first)  # now, not after the next refresh
        if self._typed_ahead and isinstance(first, Input):
            first.insert_text_at_cursor(self._typed_ahead)
        self._typed_ahead = ""

    def action_next_field(self) -> None:
        self._focus_first_field()
        self.focus_next()

    def _hint_required(self) -> None:
        if self.table == CONTACTS:
            self._message("¹ a first name or a last name is needed", "hint")

    # ------------------------------------------------------------ values
    def _snapshot(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, row in rows_of(self).items():
            try:
                values[name] = row.get_value()
            except (ValueError, DateParseError):
                values[name] = (
                    "unreadable",
                    row.query(Input).first().value if row.query(Input) else None,
                )
        return values

    @property
    def dirty(self) -> bool:
        return self._snapshot() != self._initial

    def _collect(self) -> dict[str, Any] | None:
        """The typed values ready for the store, or None after showing field errors."""
        rows = rows_of(self)
        problems = {}
        for name, row in rows.items():
            problem = row.check()
            row.show_error(problem)
            if problem:
                problems[name] = problem
        if problems:
            self._message("Some fields need attention (marked ✗).", "error")
            rows[next(iter(problems))].focus_input()
            return None
        values = {name: row.get_value() for name, row in rows.items()}
        if self.record:  # only what the user changed: a conflict merge keeps others' edits
            values = {k: v for k, v in values.items() if v != self._initial.get(k)}
        return {**values, **self.fixed}

    def _message(self, text: str, kind: str = "error") -> None:
        message = self.query_one("#form-message", Static)
        message.update(literal(text, single_line=False))
        message.set_classes(f"-{kind}" if text else "")

    # ------------------------------------------------------------ saving
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self._save()

    @work(exclusive=True, group="form", exit_on_error=False, description="saving the form")
    async def _save(self) -> None:
        if self._saving:
            return
        values = self._collect()
        if values is None:
            return
        if self.record and not any(k not in self.fixed for k in values):
            # A new version would only cause conflicts.
            self.app.post_message(Notice("No changes to save."))
            self.dismiss(None)
            return
        if not self.record and not self._duplicates_confirmed:
            try:
                duplicates = self.crm.duplicates(self.table, values)
            except StorageError as error:
                # The server gone: answered here like a failed save, or a second ctrl+s
                # while it is away would seem to do nothing (the app says "lost" once).
                self._message(f"Not saved: {error}. Your changes are still here.", "error")
                return
            if duplicates:
                names = ", ".join(display_name(self.table, d) for d in duplicates[:3])
                self._message(
                    f"Possible duplicate of {names}. Press ctrl+s again to save anyway, "
                    f"F9 to save and merge it into {display_name(self.table, duplicates[0])}, "
                    "or change the fields.",
                    "warning",
                )
                self._duplicates_confirmed = True
                self._duplicate_of = duplicates[0]["id"]
                self.refresh_bindings()
                return
        await self._store(values)

    async def _store(self, values: dict[str, Any], version: int | None = None) -> None:
        self._saving = True
        try:
            result = await self._write(values, version or self.version).wait()
        except (WorkerFailed, WorkerCancelled):  # the App has shown and logged what failed
            self._message("Not saved. Your changes are still here.", "error")
            return
        finally:
            self._saving = False
        if isinstance(result, ValidationFailed):
            self._show_failure(result)
        elif isinstance(result, ConflictError):
            await self._resolve_conflict(result, values)
        elif isinstance(result, StorageError | NotFoundError):
            self._message(f"Not saved: {result}. Your changes are still here.", "error")
        else:
            if self._merge_after and self._duplicate_of is not None:
                # Not the new record's screen: the merge screen, then the list as it was.
                self.app.post_message(RecordsChanged())
                self.dismiss(None)
                self.app.push_screen(
                    MergeScreen(self.crm, self.table, self._duplicate_of, result.record["id"])
                )
                return
            for warning in result.warnings:
                self.app.post_message(Notice(warning, "warning"))
            self.dismiss(result.record)

    def _write(
        self, values: dict[str, Any], version: int | None
    ) -> Worker[SaveResult | ValidationFailed | ConflictError | StorageError | NotFoundError]:
        """The save itself, in a thread (it waits for the lock and the disk). The errors a
        save can meet come back as values, for the form to answer in its own words."""

        def save() -> SaveResult | ValidationFailed | ConflictError | StorageError | NotFoundError:
            try:
                if self.record:
                    return self.crm.update(self.table, self.record["id"], values, version)
                return self.crm.create(self.table, values)
            except (ValidationFailed, ConflictError, StorageError, NotFoundError) as expected:
                return expected

        return self.run_worker(
            save,
            thread=True,
            group="form-save",
            exit_on_error=False,
            description=f"saving the {SINGULAR[self.table]}",
        )

    def _show_failure(self, failure: ValidationFailed) -> None:
        rows = rows_of(self)
        first = None
        elsewhere = []
        for error in failure.errors:
            row = rows.get(error.field)
            if row is None:
                elsewhere.append(str(error))
                continue
            row.show_error(error.message)
            first = first or row
        self._message(
            "Not saved: " + ("; ".join(elsewhere) if elsewhere else "fix the fields marked ✗."),
            "error",
        )
        if first:
            first.focus_input()

    async def _resolve_conflict(self, conflict: ConflictError, values: dict[str, Any]) -> None:
        theirs = conflict.theirs
        if theirs is None:
            await self._resolve_deleted()
            return
        fields = {
            name: spec.label
            for name, spec in FIELD_BY_NAME[self.table].items()
            if name in self.field_names
        }
        choice = await self.app.push_screen_wait(
            ConflictScreen(fields, values, theirs, self.record or {}, self._display)
        )
        if choice == "theirs":
            self.app.post_message(Notice("Kept their version; your changes were discarded."))
            self.app.post_message(RecordsChanged())
            self.dismiss(None)  # nothing of ours was saved
            return
        # Mine, or back to editing: their values under my changes, so that the form shows
        # what a save would store, and a later save starts from their version.
        self.record, self.version = theirs, theirs["version"]
        for name, row in rows_of(self).items():
            if name not in values:
                row.set_value(theirs.get(name))
        self._initial = {**self._snapshot(), **{k: theirs.get(k) for k in values}}
        if choice == "mine":
            await self._store(values, version=theirs["version"])
        else:
            self._message(
                "Their version is loaded; your changes are kept on top. ctrl+s saves.", "warning"
            )

    async def _resolve_deleted(self) -> None:
        """Someone deleted the record meanwhile: what was typed is kept, never thrown away."""
        what = SINGULAR[self.table]
        deletion = self.crm.deleted_by(self.record["id"]) if self.record else None
        choice = await self.app.push_screen_wait(DeletedScreen(what, deletion))
        if choice == "new":
            self._become_new()
            values = self._collect()
            if values is not None:
                await self._store(values)
        elif choice == "file":
            text = self._as_text(deletion)

            def write() -> Path | OSError:  # in a thread: a slow disk must not stall typing
                try:
                    return write_unsaved(what, text)
                except OSError as error:
                    return error

            try:
                written = await self.run_worker(
                    write,
                    thread=True,
                    group="form-save",
                    exit_on_error=False,
                    description="writing your version to a file",
                ).wait()
            except (WorkerFailed, WorkerCancelled):  # shown and logged by the App
                return
            if isinstance(written, OSError):
                self._message(
                    f"Could not write the file: {written}. Your changes are still here.", "error"
                )
                return
            self._message(
                f"Your version was written to {written}. ctrl+s offers the choices again.",
                "warning",
            )
        else:
            self._message(
                f"{deleted_text(what, deletion)}. Your changes are still here; "
                "ctrl+s offers to save them as a new one.",
                "warning",
            )

    def _become_new(self) -> None:
        """Turn this edit into the creation of a new record with every value of the form.
        Fields the form does not show (an activity's type and regarding) come along too."""
        record = self.record or {}
        kept = {
            k: v for k, v in record.items() if k not in SYSTEM_FIELDS and k not in self.field_names
        }
        self.fixed = {**kept, **self.fixed}
        self.record, self.version = None, None
        self.title_text = f"New {SINGULAR[self.table]} (the one you edited was deleted)"
        self.query_one("#form-title", Static).update(literal(self.title_text))

    def _as_text(self, deletion: Deletion | None) -> str:
        """The form as plain text, one `Label: value` line per filled field, for a file."""
        what = SINGULAR[self.table]
        lines = [
            f"{deleted_text(what, deletion)} while {self.crm.user} was editing it; "
            "this is the version in the form, not saved in the CRM.",
            "",
        ]
        specs = FIELD_BY_NAME[self.table]
        for name, value in self._snapshot().items():
            if isinstance(value, tuple):  # unreadable as typed (a date): the text itself
                shown = value[1] or ""
            elif value is True:
                shown = "yes"
            else:
                shown = self._display(name, value)
            if not shown:
                continue
            if "\n" in shown:
                body = "\n".join("    " + line for line in shown.splitlines())
                lines.append(f"{specs[name].label}:\n{body}")
            else:
                lines.append(f"{specs[name].label}: {shown}")
        return "\n".join(lines) + "\n"

    def _display(self, name: str, value: Any) -> str:
        spec = FIELD_BY_NAME[self.table].get(name)
        if spec is not None and spec.kind == "ref" and value:
            return self.crm.name_of(spec.ref_table or ACCOUNTS, value) or str(value)
        return "" if value is None else str(value)

    # ------------------------------------------------------------ cancelling
    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self._cancel()

    @work(exclusive=True, group="form", exit_on_error=False, description="closing the form")
    async def _cancel(self) -> None:
        if self.dirty:
            discard = await self.app.push_screen_wait(
                ConfirmScreen("Discard your changes?", yes="Discard", no="Keep editing")
            )
            if not discard:
                return
        self.dismiss(None)


class ActivityTypeScreen(ModalScreen[ActivityType | None]):
    """First step of logging an activity: which kind (one key each).

    The chosen type's form opens on top of this screen, awaited, so that keys typed right
    after the type letter land in the form; when the form closes, this screen closes too,
    answering the type chosen (None when cancelled)."""

    KEYS = {
        "n": ActivityType.NOTE,
        "e": ActivityType.EMAIL,
        "c": ActivityType.PHONE_CALL,
        "a": ActivityType.APPOINTMENT,
        "t": ActivityType.TASK,
    }
    BINDINGS = [
        Binding("n", "choose('note')", "Note", priority=True),
        Binding("e", "choose('email')", "Email", priority=True),
        Binding("c", "choose('phone_call')", "Phone call", priority=True),
        Binding("a", "choose('appointment')", "Appointment", priority=True),
        Binding("t", "choose('task')", "Task", priority=True),
        Binding("escape,q", "cancel", "Cancel"),
    ]

    def __init__(self, regarding_name: str, open_form: Callable[[str], Awaitable[None]]) -> None:
        super().__init__(classes="small-modal")
        self.regarding_name = regarding_name
        self.open_form = open_form

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                literal(f"Log an activity for {self.regarding_name}"), classes="dialog-title"
            )
            yield OptionList(
                *[
                    Option(f"{key}  {ACTIVITY_LABELS[kind]}", id=kind.value)
                    for key, kind in self.KEYS.items()
                ],
                id="types",
            )
            yield Static(
                "Press a letter or pick with ↑↓ and enter; q or escape cancels.",
                classes="dialog-hint",
            )
        yield KeyBar()

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self.open_form(event.option.id)

    async def action_choose(self, kind: str) -> None:
        await self.open_form(kind)

    def action_cancel(self) -> None:
        self.dismiss(None)


def write_unsaved(what: str, text: str) -> Path:
    """Write `text` to a new file in the user's data dir (`unsaved/`), readable by the user
    only: it works over SSH, where there may be no mouse and no clipboard."""
    folder = Path(user_data_dir(APP_NAME, appauthor=False)) / "unsaved"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for number in range(1, 1000):
        path = folder / f"{what}-{stamp}{f'-{number}' if number > 1 else ''}.txt"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        return path
    raise FileExistsError(f"too many files in {folder}")


def account_form(crm: CRM, record: Record | None = None) -> FormScreen:
    return FormScreen(crm, ACCOUNTS, ACCOUNT_FORM, record=record)


def contact_form(
    crm: CRM, record: Record | None = None, account_id: str | None = None
) -> FormScreen:
    defaults = {"account_id": account_id} if account_id else {}
    return FormScreen(crm, CONTACTS, CONTACT_FORM, record=record, defaults=defaults)


def activity_form(
    crm: CRM,
    kind: str,
    regarding_table: str | None = None,
    regarding_id: str | None = None,
    record: Record | None = None,
) -> FormScreen:
    """The quick-create (or edit) form for one activity type, prefilled from its record."""
    if record is not None:
        regarding_table = Table.regarded_by(record.get("regarding_type")) or CONTACTS
        regarding_id = record.get("regarding_id")
    target = crm.get(regarding_table or ACCOUNTS, regarding_id or "") or {}
    defaults: dict[str, Any] = {}
    if kind == ActivityType.PHONE_CALL:
        defaults = {
            "phone_number": target.get("phone") or target.get("mobile"),
            "direction": Direction.OUTGOING.value,
            "status": ActivityStatus.COMPLETED.value,
        }
        if record is None:  # a call being logged happened now, unless the user says when
            defaults["start_at"] = to_storage(datetime.now().astimezone())
    elif kind == ActivityType.EMAIL:
        defaults = {
            "email_to": target.get("email"),
            "direction": Direction.OUTGOING.value,
            "status": ActivityStatus.COMPLETED.value,
        }
    elif kind in (ActivityType.TASK, ActivityType.APPOINTMENT):
        defaults = {"status": ActivityStatus.OPEN.value, "priority": Priority.NORMAL.value}
    fixed = (
        {}
        if record
        else {
            "type": kind,
            "regarding_id": regarding_id,
            "regarding_type": "account" if regarding_table == ACCOUNTS else "contact",
        }
    )
    name = display_name(regarding_table or ACCOUNTS, target) if target else "?"
    label = ACTIVITY_LABELS[ActivityType(kind)]
    title = f"{'Edit' if record else 'New'} {label.lower()} · {name}"
    return FormScreen(
        crm,
        ACTIVITIES,
        ACTIVITY_FORM[ActivityType(kind)],
        record=record,
        fixed=fixed,
        defaults=defaults,
        title=title,
    )
