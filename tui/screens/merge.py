"""Merging two duplicate accounts or contacts: the two side by side, only the fields where they
differ, the user choosing with the keyboard which value the kept record ends with.

What each choice means is store.merging's rule, not this screen's: every key plans the merge
again (`plan_merge`, reads only) and the rows show that plan, so what the screen says is what
the merge will write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.errors import ConflictError, MergeRefused, NotFoundError, StorageError, ValidationFailed
from store.merging import MergePlan, plan_merge
from store.model import FIELDS, SINGULAR, FieldSpec, Record, display_name
from store.service import CRM, BatchResult
from tui.literal import literal, visible
from tui.messages import Notice, RecordsChanged, SendsWorkFailures
from tui.screens.dialogs import ConfirmScreen
from tui.widgets.history import shown_value
from tui.widgets.keybar import KeyBar
from tui.widgets.virtual_table import Column, VirtualTable

Side = Literal["keep", "other"]
CHOSEN = "✓"  # marks the value that wins: readable without colour

# Errors a merge can meet that are the user's to read, not a bug: shown in the screen.
_EXPECTED = (MergeRefused, ConflictError, ValidationFailed, NotFoundError, StorageError)


@dataclass(frozen=True)
class MergeDone:
    """What MergeScreen dismisses with after a merge: which record was kept (the user may
    have swapped them) and the service's result."""

    table: str
    keep_id: str
    other_id: str
    result: BatchResult


def _empty(value: Any) -> bool:
    return value in ("", None)


class MergeScreen(SendsWorkFailures, ModalScreen[MergeDone | None]):
    """Merge `other_id` into `keep_id` (two accounts or two contacts), choosing per field.

    Dismisses with a MergeDone once merged (having posted RecordsChanged and a Notice), or
    with None when cancelled: nothing written."""

    BINDINGS = [
        # Priority: the table under focus would scroll sideways with the arrows.
        Binding("left", "choose('keep')", "Kept's value", priority=True, id="merge-keep"),
        Binding("right", "choose('other')", "Other's value", priority=True, id="merge-other"),
        Binding("s", "swap", "Swap", id="merge-swap"),
        Binding("ctrl+s", "merge", "Merge", priority=True, id="merge"),
        Binding("escape", "cancel", "Cancel", id="merge-cancel"),
    ]

    def __init__(self, crm: CRM, table: str, keep_id: str, other_id: str) -> None:
        super().__init__(classes="small-modal")
        self.crm, self.table = crm, table
        self.keep_id, self.other_id = keep_id, other_id
        self.keep: Record = {}
        self.other: Record = {}
        self.take: set[str] = set()  # the fields where the user chose the other's value
        self.plan: MergePlan | None = None  # None: this merge cannot be made as it stands
        self.fields: list[FieldSpec] = []  # where the two differ, in form order
        self.merging = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="merge"):
            yield Static("", id="merge-title", classes="dialog-title")
            yield VirtualTable(
                [Column("field", "Field", 15), Column("keep", "Keep"), Column("other", "Other")],
                id="merge-fields",
                empty_text="The two have the same values in every field.",
            )
            # The field under the cursor, with the room of the whole line (the table's columns
            # cut values at a third of it).
            yield Static("", id="merge-field")
            yield Static("", id="merge-moves")
            yield Static("", id="merge-error")
            yield Static(
                f"{CHOSEN} marks the value kept · ←→ choose it · s swaps which record is kept",
                classes="dialog-hint",
            )
        yield KeyBar()

    @property
    def rows(self) -> VirtualTable:
        return self.query_one("#merge-fields", VirtualTable)

    def on_mount(self) -> None:
        self._replan()
        self.rows.focus()

    # ------------------------------------------------------------ showing the plan
    def _replan(self) -> str | None:
        """Read both records and plan the merge with the current choices; show it. Returns
        why the merge cannot be made (also shown), or None."""
        self.keep = self.crm.get(self.table, self.keep_id) or {}
        self.other = self.crm.get(self.table, self.other_id) or {}
        refused: str | None = None
        try:
            self.plan = plan_merge(self.crm, self.table, self.keep_id, self.other_id, self.take)
        except (MergeRefused, NotFoundError) as error:
            self.plan, refused = None, str(error)
        self.fields = [
            spec
            for spec in FIELDS[self.table]
            if self.keep.get(spec.name) != self.other.get(spec.name)
            and not (_empty(self.keep.get(spec.name)) and _empty(self.other.get(spec.name)))
        ]
        self._show()
        self._say(refused or "")
        self.refresh_bindings()
        return refused

    def _called(self, record: Record) -> str:
        return display_name(self.table, record) if record else "?"

    def _show(self) -> None:
        keep, other = self._called(self.keep), self._called(self.other)
        self.query_one("#merge-title", Static).update(
            literal(f"Merge {SINGULAR[self.table]} {other} into {keep}")
        )
        table = self.rows
        table.columns[1] = Column("keep", f"Keep: {keep}")
        table.columns[2] = Column("other", f"Other: {other}")
        table.set_rows(len(self.fields), self._row)
        self._show_field(table.cursor)
        if self.plan is None:
            moves = ""
        else:
            moved = self.plan.moved_counts
            moves = (
                f"Moving to {keep}: {', '.join(moved)}." if moved else "Nothing else moves."
            ) + f" {other} goes to the trash."
        self.query_one("#merge-moves", Static).update(literal(moves))

    def winner(self, name: str) -> Side:
        """Whose value the kept record ends with, as planned."""
        return "other" if self.plan is not None and name in self.plan.changes else "keep"

    def _value(self, spec: FieldSpec, record: Record) -> str:
        value = record.get(spec.name)
        if spec.kind == "ref" and not _empty(value):
            value = self.crm.name_of(spec.ref_table or self.table, value) or "(deleted)"
        return shown_value(value)

    def _row(self, index: int) -> list[str]:
        spec = self.fields[index]
        won = self.winner(spec.name)
        return [
            spec.label,
            f"{CHOSEN if won == 'keep' else ' '} {self._value(spec, self.keep)}",
            f"{CHOSEN if won == 'other' else ' '} {self._value(spec, self.other)}",
        ]

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show_field(event.index)

    def _show_field(self, index: int) -> None:
        text = ""
        if 0 <= index < len(self.fields):
            spec = self.fields[index]
            whose = "its own" if self.winner(spec.name) == "keep" else "the other's"
            text = (
                f"{spec.label}: the kept {SINGULAR[self.table]} ends with {whose} value\n"
                f"  keep:  {self._value(spec, self.keep)}\n"
                f"  other: {self._value(spec, self.other)}"
            )
        self.query_one("#merge-field", Static).update(literal(text, single_line=False))

    def _say(self, text: str, *, error: bool = True) -> None:
        line = self.query_one("#merge-error", Static)
        line.set_class(error and bool(text), "-error")
        line.update(literal(text))

    def current(self) -> FieldSpec | None:
        index = self.rows.cursor
        return self.fields[index] if 0 <= index < len(self.fields) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.merging:
            return False  # the write is under way: its end closes the screen
        if action == "merge" and self.plan is None:
            return None  # shown dimmed: the line above says why
        if action == "choose" and not self.fields:
            return None
        return True

    # ------------------------------------------------------------ actions
    def action_choose(self, side: Side) -> None:
        spec = self.current()
        if spec is None:
            return
        before = set(self.take)
        if side == "other":
            self.take.add(spec.name)
        else:
            self.take.discard(spec.name)
        refused = self._replan()
        if refused is not None and before != self.take:
            self.take = before  # that choice cannot be made: back to the one that could
            self._replan()
            self._say(refused)
        elif self.winner(spec.name) != side:
            # The merge's rule: a field the kept record has empty always takes the other's
            # value; and a parent account that would make a loop is never carried over.
            self._say(
                f"{spec.label}: the kept {SINGULAR[self.table]}'s empty field takes the "
                "other's value"
                if side == "keep"
                else f"{spec.label} cannot be taken from the other",
                error=False,
            )

    def action_swap(self) -> None:
        self.keep_id, self.other_id = self.other_id, self.keep_id
        self.take.clear()  # the choices were about the other record's values
        self._replan()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_merge(self) -> None:
        plan = self.plan
        if plan is None:
            return
        moved, taken = plan.moved_counts, plan.taken
        labels = {spec.name: spec.label for spec in FIELDS[self.table]}
        question = (
            f"Merge {self._called(plan.other)} into {self._called(plan.keep)}"
            + (f", moving {', '.join(moved)}" if moved else "")
            + (f", taking {', '.join(labels[name] for name in taken)}" if taken else "")
            + "?"
        )

        def answered(yes: bool | None) -> None:
            if yes and self.plan is plan:
                self.merging = True
                self.refresh_bindings()
                self._say("Merging…", error=False)
                self.run_worker(
                    lambda: self._merge(plan),
                    thread=True,
                    group="merge",
                    exclusive=True,
                    exit_on_error=False,
                    description=f"merging {visible(self._called(plan.other))}",
                )

        self.app.push_screen(ConfirmScreen(question, yes="Merge", no="Back"), answered)

    # ------------------------------------------------------------ in a thread worker
    def _merge(self, plan: MergePlan) -> None:
        # The plan the user saw, with the versions it read: a record someone changed since
        # refuses the merge (ConflictError) instead of being merged unseen.
        try:
            result = self.crm.apply(plan.batch)
        except _EXPECTED as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.post_message(RecordsChanged())
        self.app.post_message(Notice(plan.outcome[:1].upper() + plan.outcome[1:]))
        done = MergeDone(self.table, plan.keep["id"], plan.other["id"], result)
        self.app.call_from_thread(self.dismiss, done)

    def _failed(self, error: Exception) -> None:
        self.merging = False
        # What is stored now, with the user's choices kept: ctrl+s again merges that.
        refused = self._replan()
        then = refused or "Shown now: what is stored; ctrl+s merges it."
        self._say(f"Not merged: {error}; nothing was written. {then}")
