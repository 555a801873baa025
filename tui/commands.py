"""Command palette (ctrl+p): every action, and a jump to any account or contact by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from store.model import ACCOUNTS, CONTACTS, display_name
from store.queries import ListQuery
from tui.literal import visible

if TYPE_CHECKING:
    from tui.app import CrmApp

MAX_RECORDS = 8


class CrmCommands(Provider):
    @property
    def crm_app(self) -> CrmApp:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.crm_app
        return [
            ("Accounts list", "F2", app.action_show_accounts),
            ("Contacts list", "F3", app.action_show_contacts),
            ("My activities", "F4", app.action_show_agenda),
            ("New account", "n in the accounts list", partial(app.new_record, ACCOUNTS)),
            ("New contact", "n in the contacts list", partial(app.new_record, CONTACTS)),
            ("Import CSV, vCard or iCalendar", "F5", app.action_import),
            ("Export CSV, JSON, vCard or iCalendar", "F6", app.action_export),
            ("Keys and help", "F1 or ?", app.action_help),
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback,  # type: ignore[arg-type]
                          text=name, help=help_text)
        if len(query.strip()) < 2:
            return
        app = self.crm_app
        for table, noun in ((ACCOUNTS, "account"), (CONTACTS, "contact")):
            ids = await app.in_thread(app.crm.search, table, ListQuery(text=query))
            for rank, record_id in enumerate(ids[:MAX_RECORDS]):
                record = app.crm.get(table, record_id)
                if record is None:
                    continue
                name = visible(display_name(table, record))
                yield Hit(0.9 - rank * 0.01, Content(f"Open {noun}: {name}"),
                          partial(app.open_record, table, record_id),
                          text=f"Open {noun}: {name}", help=f"jump to this {noun}")
