"""Typed messages that travel up from widgets and across screens."""

from __future__ import annotations

from textual.message import Message

from store.storage import Change


class DataChanged(Message):
    """Records changed (ours or another user's): screens showing them refresh in place."""

    def __init__(self, changes: list[Change] | None = None) -> None:
        super().__init__()
        self.changes = changes or []

    def touches(self, record_ids: set[str]) -> bool:
        """True when any change is to one of `record_ids` (or when we cannot tell)."""
        if not self.changes:
            return True
        return any(c.record_id in record_ids for c in self.changes)
