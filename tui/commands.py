"""Command palette (ctrl+p): every action, and a jump to any account or contact by name.

Matching is by whole words, not Textual's letter-by-letter fuzzy match (which let `joao` pick
"Export CSV, JSON..." through j-o-a-o scattered over it): every typed word must begin a word of
a record's name, email or account, or of a command's name or help. Records come first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.style import Style
from textual.worker import WorkerCancelled, WorkerFailed

from store.model import ACCOUNTS, CONTACTS, Record, display_name
from store.queries import ListQuery
from store.text import fold
from tui.literal import visible

if TYPE_CHECKING:
    from tui.app import CrmApp

MAX_RECORDS = 8  # per table
SCAN_LIMIT = 2000  # store matches looked at per table: the palette answers every keystroke
# Scores: Textual sorts hits by score, high first. Each tier is above the next whatever the rank.
NAME_MATCH, OTHER_MATCH, COMMAND_NAME, COMMAND_HELP = 30.0, 20.0, 10.0, 5.0
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Folded words (accents and case ignored; punctuation separates): `joao@contoso.example`
    -> `joao`, `contoso`, `example`."""
    return _WORD.findall(fold(text))


def begins_words(typed: list[str], text_words: Iterable[str]) -> bool:
    """Every typed word is the start of a word of the text."""
    pool = list(text_words)
    return all(any(word.startswith(t) for word in pool) for t in typed)


def highlighted(text: str, typed: list[str], style: Style) -> Content:
    """`text` shown literally, with the words the typed words begin in `style`."""
    shown = visible(text)
    content = Content(shown)
    for match in _WORD.finditer(shown):
        if any(w.startswith(t) for w in words(match.group()) for t in typed):
            content = content.stylize(style, match.start(), match.end())
    return content


class CrmCommands(Provider):
    @property
    def crm_app(self) -> CrmApp:
        # Only CrmApp lists this provider (CrmApp.COMMANDS); Provider types its app loosely.
        return cast("CrmApp", self.app)

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.crm_app
        ours: list[tuple[str, str, Callable[[], object]]] = [
            ("Accounts list", "F2", app.action_show_accounts),
            ("Contacts list", "F3", app.action_show_contacts),
            ("My activities", "F4", app.action_show_agenda),
            ("New account", "n in the accounts list", partial(app.new_record, ACCOUNTS)),
            ("New contact", "n in the contacts list", partial(app.new_record, CONTACTS)),
            ("Import CSV, vCard or iCalendar", "F5", app.action_import),
            ("Export CSV, JSON, vCard or iCalendar", "F6", app.action_export),
            ("Trash: restore or purge deleted records", "F7", app.action_trash),
            ("Undo my last change", "u in lists and records", app.action_undo),
            ("Keys and help", "F1 or ?", app.action_help),
        ]
        # Textual's own (theme, quit, screenshot...) are matched here too, by the same rule,
        # instead of by its SystemCommandsProvider's fuzzy match (see CrmApp.COMMANDS).
        system = [
            (command.title, command.help, command.callback)
            for command in app.get_system_commands(self.screen)
        ]
        return ours + system

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        typed = words(query)
        if not typed:
            return
        style = self.matcher(query).match_style
        for index, (name, help_text, callback) in enumerate(self._commands()):
            if begins_words(typed, words(name)):
                score = COMMAND_NAME
            elif begins_words(typed, words(name) + words(help_text)):
                score = COMMAND_HELP
            else:
                continue
            yield Hit(
                score - index * 0.01,
                highlighted(name, typed, style),
                callback,
                text=name,
                help=help_text,
            )
        app = self.crm_app
        for table, noun in ((ACCOUNTS, "account"), (CONTACTS, "contact")):
            # In a thread: at 500k records the store's search takes longer than a keystroke.
            worker = app.run_worker(
                partial(self._records, table, typed),
                thread=True,
                group="palette",
                exit_on_error=False,
                description=f"looking up {noun}s for the palette",
            )
            try:
                found = await worker.wait()
            except (WorkerFailed, WorkerCancelled):  # a failure is shown by the App
                return
            for rank, (score, record) in enumerate(found):
                name = display_name(table, record)
                detail = app.crm.describe(table, record)
                shown = Content.assemble(
                    f"Open {noun}: ",
                    highlighted(name, typed, style),
                    (f" · {visible(detail)}", "dim") if detail else "",
                )
                yield Hit(
                    score - rank * 0.01,
                    shown,
                    partial(app.jump_to_record, table, record["id"]),
                    text=f"Open {noun}: {visible(name)}",
                    help=f"jump to this {noun}",
                )

    def _records(self, table: str, typed: list[str]) -> list[tuple[float, Record]]:
        """Records whose name (first) or email or account name has words the typed words begin.

        The store's search (a substring match over more fields) narrows them down first."""
        crm = self.crm_app.crm
        by_name: list[tuple[float, Record]] = []
        by_other: list[tuple[float, Record]] = []
        for record_id in crm.search(table, ListQuery(text=" ".join(typed)))[:SCAN_LIMIT]:
            record = crm.get(table, record_id)
            if record is None:
                continue
            name_words = words(display_name(table, record))
            if begins_words(typed, name_words):
                by_name.append((NAME_MATCH, record))
                if len(by_name) == MAX_RECORDS:
                    break
                continue
            account = crm.name_of(ACCOUNTS, record.get("account_id")) if table == CONTACTS else ""
            other = name_words + words(record.get("email") or "") + words(account)
            if len(by_other) < MAX_RECORDS and begins_words(typed, other):
                by_other.append((OTHER_MATCH, record))
        return (by_name + by_other)[:MAX_RECORDS]
