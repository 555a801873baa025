"""Shared fixtures for the store tests: real database files in tmp_path, no mocks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs several processes (still run by default)")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crm.json"


@pytest.fixture
def crm(db: str) -> Iterator[CRM]:
    opened = CRM.open(db, user="alice")
    yield opened
    opened.close()


class Maker:
    """Creates valid records with as few words as possible in the tests."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    def account(self, name: str = "Acme", **fields: Any) -> dict[str, Any]:
        return self.crm.create(ACCOUNTS, {"name": name, **fields}).record

    def contact(self, first: str = "Ada", last: str = "Lovelace", **fields: Any) -> dict[str, Any]:
        return self.crm.create(CONTACTS, {"first_name": first, "last_name": last, **fields}).record

    def activity(
        self, regarding: dict[str, Any], type: str = "task", subject: str = "Call", **fields: Any
    ) -> dict[str, Any]:
        regarding_type = (
            "contact" if "first_name" in regarding or "last_name" in regarding else "account"
        )
        return self.crm.create(
            ACTIVITIES,
            {
                "type": type,
                "subject": subject,
                "regarding_type": regarding_type,
                "regarding_id": regarding["id"],
                **fields,
            },
        ).record


@pytest.fixture
def make(crm: CRM) -> Maker:
    return Maker(crm)


@pytest.fixture
def local_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Switch the process time zone: `local_tz("Asia/Tokyo")`; restored afterwards."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def umask() -> Iterator[Any]:
    """Set the process umask for one test: `umask(0o022)`; restored afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)
