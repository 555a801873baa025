"""Form fields built from the store's field specs: one widget per kind, one error line each.

Every field converts between what the user sees (names, local times) and what is stored
(ids, UTC ISO strings), and says what is wrong inline instead of losing what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Offset
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static
from textual_autocomplete import DropdownItem, TargetState

from store.dates import DateParseError, from_storage, parse_when, to_storage
from store.model import FieldSpec
from tui.literal import literal, visible
from tui.widgets.text_entry import CompletingInput, CrmInput, CrmTextArea, InOrderDropdown
from tui.widgets.toggles import MarkedCheckbox

# Choices shown for enum fields: (label, stored value).
Options = list[tuple[str, str]]
# text -> [(record id, display name, what tells it from others of that name)]
Candidates = Callable[[str], list[tuple[str, str, str]]]


class FieldRow(Vertical):
    """A label, an input of the right kind and an error line (hidden while there is none)."""

    def __init__(self, spec: FieldSpec, *, label: str | None = None) -> None:
        super().__init__(classes="field-row", id=f"row-{spec.name}")
        self.spec = spec
        self.label_text = label or spec.label

    def on_descendant_focus(self) -> None:
        self.add_class("-focused")  # :focus-within is not restyled when focus moves on

    def on_descendant_blur(self) -> None:
        self.remove_class("-focused")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(self.label_text, classes="field-label")
            yield from self.compose_input()
        yield Static("", classes="field-hint")
        yield Static("", classes="field-error")

    def compose_input(self) -> ComposeResult:
        # No max_length: the Input would cut a long paste silently; the store's validation
        # says "at most N" under the field instead, with everything typed still there.
        yield CrmInput(id=f"field-{self.spec.name}", compact=True, select_on_focus=False)

    # The stored value <-> the widget.
    def get_value(self) -> Any:
        return self.query_one(Input).value.strip() or None

    def set_value(self, value: Any) -> None:
        # As stored: the field draws control characters as symbols, saving keeps them intact.
        self.query_one(Input).value = str(value) if value else ""

    def focus_input(self) -> None:
        self.query(f"#field-{self.spec.name}").first().focus()

    def show_error(self, message: str | None) -> None:
        error = self.query_one(".field-error", Static)
        error.update(literal(f"✗ {message}") if message else "")
        self.set_class(bool(message), "-invalid")

    def show_hint(self, text: str | Content) -> None:
        self.query_one(".field-hint", Static).update(text)
        self.set_class(bool(text), "-hinted")

    def check(self) -> str | None:
        """A problem the field can tell on its own (a date it cannot read), else None."""
        return None


class TextAreaRow(FieldRow):
    def compose_input(self) -> ComposeResult:
        yield CrmTextArea(
            id=f"field-{self.spec.name}",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            compact=True,
        )

    def get_value(self) -> Any:
        return self.query_one(CrmTextArea).text.strip("\n ") or None

    def set_value(self, value: Any) -> None:
        self.query_one(CrmTextArea).load_text(value or "")


class SelectRow(FieldRow):
    def __init__(
        self,
        spec: FieldSpec,
        options: Options,
        *,
        allow_blank: bool = True,
        label: str | None = None,
    ) -> None:
        super().__init__(spec, label=label)
        self.options = options
        self.allow_blank = allow_blank

    def compose_input(self) -> ComposeResult:
        yield Select(
            [(Content(label), value) for label, value in self.options],
            id=f"field-{self.spec.name}",
            compact=True,
            allow_blank=self.allow_blank,
            prompt="(none)",
            value=self.options[0][1] if not self.allow_blank else Select.NULL,
        )

    def get_value(self) -> Any:
        value = self.query_one(Select).value
        return None if value is Select.NULL else value

    def set_value(self, value: Any) -> None:
        select = self.query_one(Select)
        if value in {v for _, v in self.options}:
            select.value = value
        elif self.allow_blank:
            select.clear()


class CheckboxRow(FieldRow):
    def compose_input(self) -> ComposeResult:
        yield MarkedCheckbox(id=f"field-{self.spec.name}", compact=True)

    def get_value(self) -> Any:
        return True if self.query_one(MarkedCheckbox).value else None

    def set_value(self, value: Any) -> None:
        self.query_one(MarkedCheckbox).value = bool(value)


class WhenRow(FieldRow):
    """A date or date-time typed the way people say it: `tomorrow 9am`, `+2d`, `fri`.

    `relative_to` gives the stored value this one is read from (an end from its start): a
    bare time is then on that day and `+1h`, `90m`, `1h30m` count from it."""

    def __init__(
        self,
        spec: FieldSpec,
        *,
        date_only: Callable[[], bool] = lambda: False,
        relative_to: Callable[[], str | None] | None = None,
        label: str | None = None,
    ) -> None:
        super().__init__(spec, label=label)
        self.date_only = date_only
        self.relative_to = relative_to

    def compose_input(self) -> ComposeResult:
        yield CrmInput(
            id=f"field-{self.spec.name}",
            compact=True,
            select_on_focus=False,
            placeholder="2026-12-03 14:00 · tomorrow 9am · +2d · fri",
        )

    def set_value(self, value: Any) -> None:
        if not value:
            self.query_one(Input).value = ""
            return
        try:
            moment = from_storage(value)
        except DateParseError:
            self.query_one(Input).value = str(value)
            return
        if isinstance(moment, datetime):
            text = moment.astimezone().strftime("%Y-%m-%d %H:%M")
        else:
            text = moment.isoformat()
        self.query_one(Input).value = text

    def get_value(self) -> str | None:
        text = self.query_one(Input).value.strip()
        if not text:
            return None
        moment = parse_when(text, base=self._base())
        if self.date_only() and isinstance(moment, datetime):
            moment = moment.date()
        return to_storage(moment)

    def _base(self) -> datetime | date | None:
        """The moment (or day) this field is read from, when it has one and it is readable."""
        if self.relative_to is None:
            return None
        try:
            stored = self.relative_to()
            return from_storage(stored) if stored else None
        except DateParseError:
            return None

    def check(self) -> str | None:
        try:
            value = self.get_value()
        except DateParseError as error:
            self.show_hint("")
            return str(error)
        self.show_hint(_understood(value))
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_understood()
        # Fields read from this one (an end from its start) now mean something else.
        for row in self.screen.query(WhenRow):
            if row is not self and row.relative_to is not None:
                row.show_understood()

    def show_understood(self) -> None:
        """The hint under the field: the full date the text was read as (`→ Mon 7 Dec`)."""
        try:
            value = self.get_value()
        except DateParseError:
            self.show_hint("")
            return
        self.show_hint(_understood(value))
        self.show_error(None)


def _understood(value: str | None) -> Content | str:
    """What a typed date was read as, in full: `→ Mon 7 Dec 2026 09:00`."""
    if not value:
        return ""
    moment = from_storage(value)
    if isinstance(moment, datetime):
        shown = moment.astimezone().strftime("%a %-d %b %Y %H:%M")
    else:
        shown = moment.strftime("%a %-d %b %Y")
    return literal(f"→ {shown}")


class RecordItem(DropdownItem):
    """A record in the dropdown: its name, then (dimmed) what tells it from namesakes;
    completing puts only the name into the field."""

    def __init__(self, record_id: str, name: str, detail: str) -> None:
        self.name = visible(name)
        shown = Content.assemble(self.name, (f" · {visible(detail)}", "dim") if detail else "")
        super().__init__(shown, id=f"pick-{record_id}")

    @property
    def value(self) -> str:
        return self.name


class RecordAutoComplete(InOrderDropdown):
    """The dropdown under a reference field: candidates come from the store's search."""

    def __init__(self, target: Input, candidates: Candidates, row: RefRow) -> None:
        super().__init__(target, prevent_default_tab=False)
        self.search = candidates
        self.row = row

    def get_candidates(self, target_state: TargetState) -> list[DropdownItem]:
        text = target_state.text.strip()
        if not text or text == self.row.picked_name:
            return []
        return [RecordItem(rid, name, detail) for rid, name, detail in self.search(text)]

    def get_matches(
        self, target_state: TargetState, candidates: list[DropdownItem], search_string: str
    ) -> list[DropdownItem]:
        return candidates  # already matched, accent- and case-insensitively, by the store

    def _align_to_target(self) -> None:
        # textual-autocomplete 4.0.6 keeps the dropdown under the cursor even when that runs
        # off the bottom of the screen (it constrains x only): then it opens above the field.
        # The height is counted from the options, as the list may not be laid out yet.
        super()._align_to_target()
        options = self.option_list
        rows = options.option_count
        limit = options.styles.max_height
        if limit is not None and limit.is_cells:
            rows = min(rows, int(limit.value))
        y = self.target.cursor_screen_offset.y
        placed = self.absolute_offset  # set by the call above, with x kept on the screen
        if (
            placed is not None
            and y - rows >= 0
            and y + 1 + rows > self.screen.scrollable_content_region.bottom
        ):
            self.absolute_offset = Offset(placed.x, y - rows)

    def apply_completion(self, value: str, state: TargetState) -> None:
        option = self.option_list.highlighted_option
        if option is not None and option.id:
            self.row.pick(option.id.removeprefix("pick-"), value)


class RefRow(FieldRow):
    """A reference picked by typing a few letters of a name; the id stays behind the scenes."""

    def __init__(
        self,
        spec: FieldSpec,
        candidates: Candidates,
        name_of: Callable[[str], str],
        *,
        label: str | None = None,
    ) -> None:
        super().__init__(spec, label=label)
        self.candidates = candidates
        self.name_of = name_of
        self.picked_id: str | None = None
        self.picked_name = ""

    def compose_input(self) -> ComposeResult:
        field = CompletingInput(
            id=f"field-{self.spec.name}",
            compact=True,
            select_on_focus=False,
            placeholder="type a few letters, then pick with ↓ and enter",
        )
        field.dropdown = RecordAutoComplete(field, self.candidates, self)
        yield field
        yield field.dropdown

    def pick(self, record_id: str, name: str) -> None:
        self.picked_id, self.picked_name = record_id, name
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = name
        self.show_error(None)

    def set_value(self, value: Any) -> None:
        self.picked_id = value or None
        self.picked_name = visible(self.name_of(value)) if value else ""
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = self.picked_name

    def get_value(self) -> str | None:
        text = self.query_one(Input).value.strip()
        if not text:
            return None
        if self.picked_id and text == self.picked_name:
            return self.picked_id
        matches = self.candidates(text)
        exact = [rid for rid, name, _detail in matches if name.casefold() == text.casefold()]
        if len(exact) == 1:
            return exact[0]
        if len(matches) == 1:
            return matches[0][0]
        raise ValueError("pick one from the list (type a few letters, then ↓ and enter)")

    def check(self) -> str | None:
        try:
            self.get_value()
        except ValueError as error:
            return str(error)
        return None


def rows_of(container: Widget) -> dict[str, FieldRow]:
    return {row.spec.name: row for row in container.query(FieldRow)}
