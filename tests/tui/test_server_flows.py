"""The app on a PostgreSQL server: other users' changes appear without a key pressed, and a
server that goes away keeps what the user typed until it is back.

Real servers throughout: the session's server for the live updates, and a private one of the
test's own to stop and start again for the connection loss.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from store.model import ACCOUNTS, CONTACTS
from store.queries import ListQuery
from store.service import CRM, Batch, Create
from tests import postgres_server as server
from tests.conftest import database_url, fresh_database
from tests.tui.helpers import (
    USER,
    fill_sample,
    notifications,
    open_record,
    reopen,
    screen_text,
    settle,
    type_keys,
)
from tui.app import CrmApp
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.forms import FormScreen
from tui.screens.record_list import AccountsScreen, ContactsScreen

POLL_SECONDS = 0.2
DEADLINE = 5.0  # seconds: a bound on a wait that fails the test, not a measured time
CANNOT_REACH = "cannot reach the database server"
BACK = "Connected to the database again."


async def until(pilot: Pilot, condition: Callable[[], bool], deadline: float = DEADLINE) -> bool:
    """Let the app run (its poll included), with no key pressed, until `condition` holds."""
    for _ in range(int(deadline / 0.1)):
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()


def screen_app(url: str) -> CrmApp:
    """The app as run_tui builds it, polling the server as often as a test can afford."""
    crm = CRM(url, user=USER)
    crm.open_for_screen()
    return CrmApp(crm, poll_seconds=POLL_SECONDS)


def field_value(app: CrmApp, name: str) -> str:
    return app.screen.query_one(f"#field-{name}", Input).value


def form_message(app: CrmApp) -> str:
    return str(app.screen.query_one("#form-message").render().plain)


def contacts_named(url: str, text: str) -> list[dict]:
    crm = reopen(url)
    try:
        return crm.records(CONTACTS, crm.search(CONTACTS, ListQuery(text=text)))
    finally:
        crm.close()


# ---------------------------------------------------------------------------- live
async def test_other_users_changes_appear_without_a_key(postgres_crm_url: str) -> None:
    sample = fill_sample(postgres_crm_url)
    app = screen_app(postgres_crm_url)
    bob = CRM.open(postgres_crm_url, user="bob")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, AccountsScreen)
            before = screen_text(app)
            assert "Contoso" in before and "Contoso Group" not in before
            assert "Zephyr Freight" not in before

            bob.create(ACCOUNTS, {"name": "Zephyr Freight"})
            bob.update(ACCOUNTS, sample["contoso"], {"name": "Contoso Group"})
            shown = await until(
                pilot,
                lambda: (
                    "Zephyr Freight" in screen_text(app) and "Contoso Group" in screen_text(app)
                ),
            )
            assert shown, screen_text(app)

            await open_record(pilot, ACCOUNTS, sample["parent"])
            assert isinstance(app.screen, AccountScreen)
            assert "+44 20 7946 9999" not in screen_text(app)
            bob.update(ACCOUNTS, sample["parent"], {"phone": "+44 20 7946 9999"})
            assert await until(pilot, lambda: "+44 20 7946 9999" in screen_text(app)), screen_text(
                app
            )
            assert isinstance(app.screen, AccountScreen)
    finally:
        bob.close()
        app.crm.close()


# ---------------------------------------------------------------------------- connection loss
@pytest.fixture
def private_server(postgres_server: str) -> Iterator[tuple[str, str, str]]:
    """A server of this test's own, to stop and start: (its directory, its URL, the URL of a
    CRM database on it). Asks for `postgres_server` only to be skipped (or fail in CI) the
    same way when no server can be started here."""
    directory = server.new_directory()
    try:
        url = server.start(directory)
        crm_url = database_url(url, fresh_database(url))
        CRM.init(crm_url, users_name_themselves=True)
        yield directory, url, crm_url
    finally:
        try:
            server.stop(directory)
        except server.ServerUnavailable:
            pass  # the test stopped it and failed before starting it again
        shutil.rmtree(directory, ignore_errors=True)


async def test_a_lost_server_keeps_the_typing_and_saves_once_it_is_back(
    private_server: tuple[str, str, str],
) -> None:
    directory, url, crm_url = private_server
    app = screen_app(crm_url)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            assert isinstance(app.screen, ContactsScreen)
            await pilot.press("n")
            await settle(pilot)
            await type_keys(pilot, *"Zed", "tab", *"Quinn")
            typed = (field_value(app, "first_name"), field_value(app, "last_name"))
            assert typed == ("Zed", "Quinn")

            server.stop(directory)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.is_running and app.return_code is None
            assert isinstance(app.screen, FormScreen), "the form stays open"
            assert (field_value(app, "first_name"), field_value(app, "last_name")) == typed
            message = form_message(app)
            assert message.startswith(f"Not saved: {CANNOT_REACH}"), message
            assert message.endswith("Your changes are still here."), message
            # The poll finds the server gone and says so (once), and keeps trying.
            assert await until(pilot, lambda: any(CANNOT_REACH in n for n in notifications(app)))
            await pilot.pause(5 * POLL_SECONDS)  # a few more polls, all failing
            said = notifications(app)
            assert [n for n in said if CANNOT_REACH in n] == [said[0]], said
            assert BACK not in said, "back while the server is still down"
            assert not any(n.startswith("Saved") for n in said), said

            server.restart(directory, url)
            # Nothing of the failed save reached the server.
            assert contacts_named(crm_url, "Zed Quinn") == []
            # _RETRY_AFTER (2 s) of failing fast, then the poll's next attempt gets through.
            assert await until(pilot, lambda: BACK in notifications(app), 3 * DEADLINE), (
                notifications(app)
            )
            assert isinstance(app.screen, FormScreen)
            assert (field_value(app, "first_name"), field_value(app, "last_name")) == typed

            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ContactScreen), (notifications(app), form_message(app))
            contact_id = app.screen.record_id
    finally:
        app.crm.close()

    [saved] = contacts_named(crm_url, "Zed Quinn")
    assert saved["id"] == contact_id
    assert (saved["first_name"], saved["last_name"]) == ("Zed", "Quinn")
    assert saved["created_by"] == USER and saved["version"] == 1


# ---------------------------------------------------------------------------- big lists
async def test_a_search_with_more_matches_than_are_counted_says_so(postgres_crm_url: str) -> None:
    crm = CRM.open(postgres_crm_url, user=USER)
    crm.apply(
        Batch(
            creates=[
                Create(CONTACTS, {"first_name": "Ana", "last_name": f"{n:04d}"})
                for n in range(1005)
            ]
        )
    )
    crm.close()
    app = screen_app(postgres_crm_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        assert await until(pilot, lambda: isinstance(app.screen, ContactsScreen))
        assert await until(pilot, lambda: "1,000+ of 1,005 contacts" in screen_text(app))
        await pilot.press("end")  # the last row the list counted, found in one query
        assert await until(pilot, lambda: "▶ Ana 0999" in screen_text(app))
