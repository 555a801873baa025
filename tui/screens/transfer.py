"""Import and export screens: choose a file, check it (dry run), import with progress; or write
any table out as CSV, JSON, vCard or iCalendar. The work runs in a thread: the UI stays live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from store.errors import AmbiguousError, NotFoundError, StorageError
from store.files import write_file
from store.io.common import read_import_file
from store.io.importer import ImportReport
from store.io.jobs import (
    EXPORT_KINDS,
    PreparedImport,
    export_data,
    guess_csv_kind,
    kind_of_path,
    prepare_import,
    run_import,
)
from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    FIELD_BY_NAME,
    ValidationFailed,
    display_name,
)
from store.queries import ListQuery
from tui.literal import literal, visible
from tui.screens.base import CrmScreen
from tui.widgets.form_fields import RefRow
from tui.widgets.keybar import KeyBar
from tui.widgets.text_entry import CompletingInput, CrmInput, SafePathAutoComplete
from tui.widgets.toggles import MarkedCheckbox as Checkbox
from tui.widgets.virtual_table import Column, VirtualTable

KIND_LABELS = {
    "accounts": "Accounts (CSV)",
    "contacts": "Contacts (CSV)",
    "activities": "Activities (CSV)",
    "vcard": "Contacts (vCard .vcf)",
    "ics": "Calendar (.ics)",
}


@dataclass(frozen=True)
class ImportChoices:
    """What the import form asked for, read on the UI thread and handed to the worker."""

    path: Path
    kind: str  # a key of KIND_LABELS
    keep_unknown: bool
    create_accounts: bool
    all_or_nothing: bool
    regarding: str | None


class TransferScreen(CrmScreen):
    """Shared layout: a few settings on top, a report table below, keys in the footer."""

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous", show=False, priority=True),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def report_table(self) -> VirtualTable:
        return self.query_one("#report", VirtualTable)

    def show_lines(self, lines: list[str]) -> None:
        self.lines = lines
        self.report_table().set_rows(len(lines), lambda i: [self.lines[i]])

    @on(Button.Pressed, "#back-button")
    def action_back(self) -> None:
        self.app.pop_screen()


class ImportScreen(TransferScreen):
    help_title = "Import"
    BINDINGS = [
        Binding("ctrl+r", "check", "Check (dry run)", id="check", priority=True),
        Binding("ctrl+s", "import", "Import", id="import", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.prepared: PreparedImport | None = None
        self.checked: ImportReport | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static("termcrm › Import", classes="title")
        with Vertical(id="transfer-form"):
            with Horizontal(classes="field-line"):
                yield Label("File", classes="field-label")
                path = CompletingInput(
                    placeholder="path to a .csv, .vcf or .ics file", id="path", compact=True
                )
                yield path
            # Plain prefixes: emoji have no agreed width in terminals (and none in some fonts).
            path.dropdown = SafePathAutoComplete(
                path, path=Path.cwd(), folder_prefix=Content("▸ "), file_prefix=Content("  ")
            )
            yield path.dropdown
            with Horizontal(classes="field-line"):
                yield Label("Contains", classes="field-label")
                yield Select(
                    [(Content(label), kind) for kind, label in KIND_LABELS.items()],
                    id="kind",
                    compact=True,
                    allow_blank=False,
                    value="contacts",
                )
            yield RefRow(
                FIELD_BY_NAME[ACTIVITIES]["regarding_id"],
                self._regarding_candidates,
                self._regarding_name,
                label="Regarding",
            )
            with Horizontal(classes="checks"):
                yield Checkbox("Unknown → description", True, id="keep-unknown", compact=True)
                yield Checkbox("Create accounts", True, id="create-accounts", compact=True)
                yield Checkbox("All or nothing", False, id="all-or-nothing", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Check (ctrl+r)", id="check-button", compact=True)
                yield Button("Import (ctrl+s)", id="import-button", variant="primary", compact=True)
                yield Button("Back (esc)", id="back-button", compact=True)
        yield ProgressBar(id="progress", show_eta=False)
        yield Static(
            "Choose a file: ctrl+r checks it (writes nothing), ctrl+s imports.",
            id="transfer-status",
            classes="status-line",
        )
        yield VirtualTable([Column("line", "Report")], id="report", empty_text="")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()
        self.query_one("#progress", ProgressBar).display = False

    def _regarding_candidates(self, text: str) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for table in (ACCOUNTS, CONTACTS):
            ids = self.crm.search(table, ListQuery(text=text))[:6]
            found += [
                (record["id"], display_name(table, record), self.crm.describe(table, record))
                for record in self.crm.records(table, ids)
            ]
        return found

    def _regarding_name(self, record_id: str) -> str:
        found = self.crm.find(record_id)
        return display_name(found[0], found[1]) if found else ""

    @on(Input.Changed, "#path")
    def guess_kind(self, event: Input.Changed) -> None:
        kind = kind_of_path(Path(event.value)) or guess_csv_kind(Path(event.value))
        if kind:
            self.query_one("#kind", Select).value = kind
        self.checked = None

    def _status(self, text: str) -> None:
        self.query_one("#transfer-status", Static).update(literal(text))

    def _options(self) -> ImportChoices:
        regarding = self.query_one(RefRow)
        try:
            regarding_id = regarding.get_value()
        except ValueError as error:
            raise ValueError(f"Regarding: {error}") from None
        kind = self.query_one("#kind", Select).value
        if not isinstance(kind, str):  # never: the select has no blank (allow_blank=False)
            raise ValueError("Contains: choose what the file holds")
        return ImportChoices(
            path=Path(self.query_one("#path", Input).value.strip()).expanduser(),
            kind=kind,
            keep_unknown=self.query_one("#keep-unknown", Checkbox).value,
            create_accounts=self.query_one("#create-accounts", Checkbox).value,
            all_or_nothing=self.query_one("#all-or-nothing", Checkbox).value,
            regarding=regarding_id,
        )

    @on(Button.Pressed, "#check-button")
    def action_check(self) -> None:
        self._run(dry_run=True)

    @on(Button.Pressed, "#import-button")
    def action_import(self) -> None:
        self._run(dry_run=False)

    def _run(self, dry_run: bool) -> None:
        if self.busy:
            return
        self.query_one(SafePathAutoComplete).action_hide()
        try:
            options = self._options()
        except ValueError as error:
            self._status(str(error))
            return
        if not str(options.path) or not options.path.is_file():
            self._status(f"No file at '{options.path}'.")
            return
        self.busy = True
        progress = self.query_one("#progress", ProgressBar)
        progress.display = True
        progress.update(total=None, progress=0)
        self._status("Checking…" if dry_run else "Importing…")
        self._work(options, dry_run)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False, description="importing")
    def _work(self, options: ImportChoices, dry_run: bool) -> None:
        app = self.app
        bar = self.query_one("#progress", ProgressBar)  # widgets are looked up here, used there
        try:
            prepared = prepare_import(
                options.kind, read_import_file(options.path), keep_unknown=options.keep_unknown
            )
        except (OSError, ValueError) as error:
            app.call_from_thread(self._finished, None, f"Cannot read the file: {error}")
            return

        def progress(done: int, total: int) -> None:
            app.call_from_thread(bar.update, total=total, progress=done)

        try:
            report = run_import(
                self.crm,
                prepared,
                dry_run=dry_run,
                all_or_nothing=options.all_or_nothing,
                regarding=options.regarding,
                create_accounts=options.create_accounts,
                progress=progress,
                source=options.path.name,
            )
        except (StorageError, NotFoundError, AmbiguousError, ValidationFailed) as error:
            # e.g. another user deleted a record the file refers to, between check and commit
            app.call_from_thread(self._finished, None, f"Not imported: {error}")
            return
        except Exception as error:  # noqa: BLE001 - the screen must never stay busy
            app.call_from_thread(
                self._finished, None, f"Not imported: unexpected {type(error).__name__}: {error}"
            )
            return
        app.call_from_thread(self._finished, (prepared, report), None)

    def _finished(
        self, result: tuple[PreparedImport, ImportReport] | None, error: str | None
    ) -> None:
        self.busy = False
        self.query_one("#progress", ProgressBar).display = False
        # Back to the file: the next thing to do is name another file (or fix this one).
        self.query_one("#path", Input).focus()
        if result is None:
            self._status(error or "Failed.")
            return
        prepared, report = result
        lines = [f"error: {issue}" for issue in report.errors]
        lines.extend(f"warning: {issue}" for issue in report.warnings)
        lines.extend(f"note: {note}" for note in report.notes)
        if prepared.mapping is not None:
            lines.append(f"Columns ({prepared.encoding}, delimiter {prepared.delimiter!r}):")
            lines.extend("  " + line for line in prepared.mapping_lines())
        self.show_lines([visible(line) for line in lines])
        self._status(report.summary() + ("" if not report.dry_run else " Press ctrl+s to import."))
        if report.applied:
            self.records_changed()
            self.say(report.summary())


class ExportScreen(TransferScreen):
    help_title = "Export"
    BINDINGS = [Binding("ctrl+s", "export", "Export", id="export", priority=True)]

    def compose(self) -> ComposeResult:
        yield Static("termcrm › Export", classes="title")
        with Vertical(id="transfer-form"):
            with Horizontal(classes="field-line"):
                yield Label("What", classes="field-label")
                yield Select(
                    [(Content(k), k) for k in EXPORT_KINDS],
                    id="kind",
                    compact=True,
                    allow_blank=False,
                    value="contacts",
                )
            with Horizontal(classes="field-line"):
                yield Label("Format", classes="field-label")
                yield Select(
                    [(Content("CSV"), "csv"), (Content("JSON"), "json")],
                    id="format",
                    compact=True,
                    allow_blank=False,
                    value="csv",
                )
            with Horizontal(classes="field-line"):
                yield Label("To file", classes="field-label")
                yield CrmInput(self._default_path("contacts", "csv"), id="path", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export (ctrl+s)", id="export-button", variant="primary", compact=True)
                yield Button("Back (esc)", id="back-button", compact=True)
        yield Static(
            "vcard: contacts, and accounts as organisations; ics: appointments and tasks.",
            id="transfer-status",
            classes="status-line",
        )
        yield VirtualTable([Column("line", "Result")], id="report", empty_text="")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#kind", Select).focus()

    @staticmethod
    def _default_path(kind: str, fmt: str) -> str:
        suffix = {"vcard": "vcf", "ics": "ics"}.get(kind, fmt)
        return str(Path.home() / f"termcrm-{kind}-{date.today().isoformat()}.{suffix}")

    @on(Select.Changed)
    def update_path(self) -> None:
        kind = self.query_one("#kind", Select).value
        fmt = self.query_one("#format", Select).value
        self.query_one("#path", Input).value = self._default_path(str(kind), str(fmt))

    @on(Button.Pressed, "#export-button")
    def action_export(self) -> None:
        self._export(
            str(self.query_one("#kind", Select).value),
            str(self.query_one("#format", Select).value),
            Path(self.query_one("#path", Input).value.strip()).expanduser(),
        )

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, description="exporting")
    def _export(self, kind: str, fmt: str, path: Path) -> None:
        app = self.app
        try:
            data = export_data(self.crm, kind, fmt)
            write_file(path, data, self.crm.file_mode())
        except (OSError, ValueError) as error:
            app.call_from_thread(self.show_lines, [visible(f"Not exported: {error}")])
            return
        app.call_from_thread(self.show_lines, [visible(f"Wrote {len(data):,} bytes to {path}")])
