"""Helpers for the TUI tests: the deterministic sample database and ways to drive and read the app.

The sample database is deterministic: fixed created_at stamps, and every date either in 2025
(the past) or in 2030 (the future), so that "today"/"tomorrow" never reach a snapshot.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from tui.app import CrmApp
from tui.screens.dialogs import ConfirmScreen, ConflictScreen, DeletedScreen

STAMP = "2025-03-01T10:00:00Z"
USER = "alice"

RED_EVE = "[red]Eve[/]"
SLASH_FOO = "[/foo]"
ESCAPE_NAME = "Esc\x1b[31mape Ltd"


def _never_ends_by_itself(app: App, worker: Worker) -> bool:
    """A form's worker that awaits a dialog (push_screen_wait) only ends when it is answered;
    the one that waits for a server's notifications (CrmApp._wake_on_changes) never ends."""
    if worker.group == "wake":
        return True
    return worker.group in ("form", "navigate") and isinstance(
        app.screen, ConfirmScreen | ConflictScreen | DeletedScreen
    )


async def settle(pilot: Pilot, timeout: float = 10.0) -> None:
    """Let workers (loading, searches, saves) finish and the screen catch up.

    Workers that wait for the answer to an open dialog, or for a server's notifications, are
    left running. Fails, instead of hanging, when some worker does not finish within `timeout`
    seconds."""
    app = pilot.app
    for _ in range(4):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and not _never_ends_by_itself(app, w)]
        if not busy:
            # Not done yet: a worker's end may post a message (RecordsChanged) whose handling
            # starts the next worker (the list's search) one round later.
            continue
        try:
            await asyncio.wait_for(app.workers.wait_for_complete(busy), timeout)
        except TimeoutError:
            pytest.fail(f"workers still running after {timeout} s: {busy}")
        except WorkerCancelled:
            continue  # superseded by a newer one (an exclusive search): waited for next round
    await pilot.pause()


def screen_text(app: CrmApp) -> str:
    """The terminal as plain text, the way the user sees it (modal screens over their base)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def reopen(location: str | Path) -> CRM:
    """A fresh service over the same database (a file or a server's): what really got stored."""
    return CRM.open(location, user="checker")


@dataclass
class Sample:
    """The ids of the sample records, by a readable name."""

    path: str | Path  # a file, or a postgresql:// URL
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def _stamp(day: str) -> str:
    return f"{day}T10:00:00Z"


def fill_sample(path: str | Path) -> Sample:
    crm = CRM.open(path, user=USER)
    sample = Sample(path)
    ids = sample.ids

    def account(key: str, stamp: str = STAMP, **fields: Any) -> str:
        ids[key] = crm.create(ACCOUNTS, fields, created_at=stamp).record["id"]
        return ids[key]

    def contact(key: str, **fields: Any) -> str:
        ids[key] = crm.create(CONTACTS, fields, created_at=STAMP).record["id"]
        return ids[key]

    def activity(key: str, kind: str, regarding: str, stamp: str, **fields: Any) -> str:
        table = "account" if regarding in account_keys else "contact"
        ids[key] = crm.create(
            ACTIVITIES,
            {"type": kind, "regarding_type": table, "regarding_id": ids[regarding], **fields},
            created_at=stamp,
        ).record["id"]
        return ids[key]

    # An account hierarchy: parent, two subsidiaries, one grandchild.
    account(
        "parent",
        name="Northwind Holdings",
        relationship="customer",
        phone="+44 20 7946 0000",
        email="info@northwind.example",
        website="northwind.example",
        address_city="London",
        address_country="UK",
        industry="Retail",
    )
    account(
        "retail",
        name="Northwind Retail",
        relationship="customer",
        parent_account_id=ids["parent"],
        address_city="Leeds",
    )
    account(
        "logistics",
        name="Northwind Logistics",
        relationship="vendor",
        parent_account_id=ids["parent"],
        address_city="Hull",
    )
    account(
        "online",
        name="Northwind Retail Online",
        relationship="partner",
        parent_account_id=ids["retail"],
        address_city="Leeds",
    )
    account(
        "contoso",
        name="Contoso",
        relationship="prospect",
        phone="+1 555 0100",
        address_city="Seattle",
    )
    # Hostile names: markup and a terminal escape sequence.
    account("eve", name=RED_EVE, relationship="competitor", address_city="Berlin")
    account("escape", name=ESCAPE_NAME, relationship="other")
    account_keys = set(ids)

    contact(
        "ada",
        first_name="Ada",
        last_name="Lovelace",
        job_title="CTO",
        account_id=ids["parent"],
        email="ada@northwind.example",
        phone="+44 20 7946 0001",
        address_city="London",
    )
    contact(
        "joao",
        first_name="João",
        last_name="Silva",
        account_id=ids["contoso"],
        email="joao@contoso.example",
        address_city="Lisboa",
    )
    contact(
        "maria",
        first_name="Maria",
        last_name="Souza",
        account_id=ids["contoso"],
        mobile="+55 11 5555 0101",
        address_city="São Paulo",
    )
    contact("foo", first_name="Grace", last_name=SLASH_FOO, account_id=ids["eve"])
    # B2C: a contact without an account.
    contact(
        "b2c", first_name="Bob", last_name="Builder", phone="+47 22 00 00 00", address_city="Oslo"
    )

    # Activities of every type on the parent account (distinct moments: stable order).
    activity(
        "note",
        "note",
        "parent",
        _stamp("2025-02-10"),
        subject="Kick-off notes",
        description="Met the board.",
    )
    activity(
        "email",
        "email",
        "parent",
        _stamp("2025-02-12"),
        subject="Proposal sent",
        email_to="info@northwind.example",
        direction="outgoing",
    )
    activity(
        "call",
        "phone_call",
        "parent",
        _stamp("2025-02-14"),
        subject="Pricing call",
        phone_number="+44 20 7946 0000",
        direction="outgoing",
    )
    activity(
        "overdue",
        "task",
        "parent",
        _stamp("2025-01-02"),
        subject="Send contract",
        due_at="2025-01-15T09:00:00Z",
        priority="high",
    )
    activity(
        "meeting",
        "appointment",
        "parent",
        _stamp("2025-02-20"),
        subject="Quarterly review",
        start_at="2030-05-10T09:00:00Z",
        end_at="2030-05-10T10:00:00Z",
        location="London office",
    )
    # On a contact: one done task (for the roll-up) and a note on the hostile account.
    activity(
        "ada_task",
        "task",
        "ada",
        _stamp("2025-02-01"),
        subject="Send NDA to Ada",
        due_at="2025-02-03T09:00:00Z",
        status="completed",
    )
    activity("eve_note", "note", "eve", _stamp("2025-02-05"), subject="[bold]not bold[/]")
    crm.close()
    return sample


def title_text(app: CrmApp) -> str:
    """The plain text of the current screen's `#title`."""
    return app.screen.query_one("#title").render().plain  # type: ignore[union-attr]


def notifications(app: CrmApp) -> list[str]:
    return [n.message for n in app._notifications]


def send_keys(app: CrmApp, *keys: str) -> None:
    """Post key events the way the terminal driver does, with no pause in between (a burst
    of typing or a paste-like flood): nothing is awaited until all are queued."""
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        character = key if len(key) == 1 else None
        event = events.Key(name, character)
        event.set_sender(app)
        app.post_message(event)


async def open_record(pilot: Pilot, table: str, record_id: str) -> None:
    """Open a detail screen as the list and the palette do, and let it load."""
    pilot.app.open_record(table, record_id)  # type: ignore[attr-defined]
    await settle(pilot)


async def type_keys(pilot: Pilot, *keys: str) -> None:
    """Type quickly: the keys arrive as one burst (as from a fast typist or a paste), then
    the app settles. Much faster than pilot.press, which idles after every key."""
    send_keys(pilot.app, *keys)  # type: ignore[arg-type]
    await settle(pilot)
