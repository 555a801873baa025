"""Snapshots of the main screens at 80x24 over the deterministic sample database.

Every interaction happens in `run_before`, which waits for the app's workers (loading,
searches, saves) before the picture is taken, so a snapshot never shows a loading state.
Update the baselines with `uv run pytest tests/tui/test_snapshots.py --snapshot-update`
after checking the new pictures in snapshot_report.html.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from store.model import ACCOUNTS, CONTACTS
from tests.tui.helpers import send_keys, settle

SIZE = (80, 24)


async def _steady(pilot: Pilot) -> None:
    """Settle, and stop text cursors blinking so the picture does not depend on timing."""
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


def steps(
    *actions: Callable[[Pilot], Awaitable[None]] | str | tuple[str, ...],
) -> Callable[[Pilot], Awaitable[None]]:
    """A run_before that performs keys (a str: one key; a tuple: a burst of typing) or
    callables in order, settling after each."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for action in actions:
            if isinstance(action, str):
                await pilot.press(action)
            elif isinstance(action, tuple):  # typed as one quick burst
                send_keys(pilot.app, *action)
            else:
                await action(pilot)
            await settle(pilot)
        await _steady(pilot)

    return run_before


def opening(table: str, record_id: str) -> Callable[[Pilot], Awaitable[None]]:
    async def open_it(pilot: Pilot) -> None:
        pilot.app.open_record(table, record_id)  # type: ignore[attr-defined]

    return open_it


def test_accounts_list(snap_compare, app, sample):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps())


def test_contacts_list(snap_compare, app, sample):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f3"))


def test_account_detail_timeline(snap_compare, app, sample):
    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps(opening(ACCOUNTS, sample["parent"]))
    )


def test_contact_detail(snap_compare, app, sample):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(opening(CONTACTS, sample["ada"])))


def test_new_task_form(snap_compare, app, sample):
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=steps(
            opening(ACCOUNTS, sample["parent"]),
            "l",
            "t",
            (*"Send the offer", "tab", *"2030-01-07 09:00"),
        ),
    )


def test_account_form_with_validation_error(snap_compare, app, sample):
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=steps(
            "n", (*"Bad Mail Inc", "tab", "tab", "tab", "tab", "tab", *"not-an-email"), "ctrl+s"
        ),
    )


def test_my_activities(snap_compare, app, sample):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f4"))


def test_hierarchy(snap_compare, app, sample):
    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps(opening(ACCOUNTS, sample["retail"]), "h")
    )


def test_help(snap_compare, app, sample):
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("question_mark"))
