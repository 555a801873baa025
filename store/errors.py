"""Every error the store raises, in one place: callers (the TUI, the command line, scripts)
catch them from here without knowing which layer raised them. Each message is for the user.

This module imports nothing of the store at load time, so that every other store module can
import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class StorageError(Exception):
    """A database file could not be read or written; the message is for the user."""


class ServerUnavailable(StorageError):
    """The database server cannot be reached, or the connection broke: nothing was saved
    unless said so, and the next call tries again. The app says so and keeps what was typed."""


class CorruptDatabaseError(StorageError):
    pass


class MigrationRefused(StorageError):  # noqa: N818
    """`crm migrate` would overwrite a database that holds data, or copy one onto itself:
    nothing was written."""


class NewerSchemaError(StorageError):
    pass


class LockTimeoutError(StorageError):
    pass


@dataclass
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class ValidationFailed(Exception):
    """One or more fields are invalid; `errors` names each field with a user-facing message."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)

    def for_field(self, name: str) -> str | None:
        return next((e.message for e in self.errors if e.field == name), None)


class NotFoundError(LookupError):
    """No record answers to a reference; the message is for the user."""


class AmbiguousError(LookupError):
    def __init__(self, message: str, candidates: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.candidates = candidates


class ConflictError(Exception):
    """Someone else saved the record since it was read; `theirs` is what is stored now."""

    def __init__(self, table: str, mine: dict[str, Any], theirs: dict[str, Any] | None) -> None:
        # Imported here: store.model imports this module for ValidationFailed.
        from store.model import SINGULAR

        who = (theirs or {}).get("modified_by", "someone")
        what = "deleted" if theirs is None else f"changed by {who}"
        super().__init__(f"this {SINGULAR[table]} was {what} since you opened it")
        self.table, self.mine, self.theirs = table, mine, theirs


class DependentsError(Exception):
    """A delete would orphan other records; the caller must choose what happens to them."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


class WriteRefused(ValueError):
    """A TinyDB write (store.tinydb_storage) that the CRM does not take as it is: the meta
    table, a system field, a table it does not have. Nothing was written."""


class TrashedParentError(Exception):  # noqa: N818
    """A restore needs a record (a parent account, an account, what an activity is regarding)
    that is in the trash itself. `needs`: those records, named (`account Acme`), for a
    question of the caller's own."""

    def __init__(self, message: str, needs: list[str] | None = None) -> None:
        super().__init__(message)
        self.needs = needs or []


class UndoConflict(Exception):  # noqa: N818
    """An undo would overwrite what someone changed since, or bring back what is gone for
    good: nothing was changed."""


class MergeRefused(ValueError):
    """A merge that cannot be made as asked (a record into itself, across tables, into its own
    subsidiary, an unknown field to take); nothing was written."""
