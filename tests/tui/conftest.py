"""Fixtures for the TUI tests: a real database file in tmp_path, a real CrmApp, no mocks.

The process time zone is pinned to UTC so that dates render the same on every machine; the
sample data itself is built by tests.tui.helpers.fill_sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from store.service import CRM
from tests.tui.helpers import USER, Sample, fill_sample
from tui.app import CrmApp


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin the local time zone: dates render the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crm.json"


@pytest.fixture
def sample(db_path: Path) -> Sample:
    return fill_sample(db_path)


AppFactory = Callable[..., CrmApp]


@pytest.fixture
def make_app(db_path: Path) -> AppFactory:
    """`make_app()` builds a CrmApp over the test database (sample or not) as run_tui does."""

    def build(path: Path | None = None, *, user: str = USER, poll_seconds: float = 0) -> CrmApp:
        crm = CRM(path or db_path, user=user)
        crm.open_for_screen()
        return CrmApp(crm, poll_seconds=poll_seconds)

    return build


@pytest.fixture
def app(sample: Sample, make_app: AppFactory) -> CrmApp:
    """The app over the sample database."""
    return make_app()


# A test that asks for these (and not for db_path) runs once per engine: on a file and on a
# PostgreSQL database (the root conftest's `db`). Reopen with CRM.open(sample_db.path).
@pytest.fixture
def sample_db(db: str) -> Sample:
    """The sample records in the test's database, whichever engine holds it."""
    return fill_sample(db)


@pytest.fixture
def db_app(sample_db: Sample) -> Iterator[CrmApp]:
    """The app over the sample database of `sample_db`, built as run_tui builds it."""
    crm = CRM(sample_db.path, user=USER)
    crm.open_for_screen()
    yield CrmApp(crm, poll_seconds=0)  # as `app`: no polling unless a test asks
    if crm.ready:
        # A server connection left open would outlive the test (the database is dropped).
        crm.close()
