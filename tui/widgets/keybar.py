"""The footer: one line listing the keys of the focused widget, the screen and the app.

Textual's Footer builds a widget per key and restyles them all whenever focus moves; on a
screen with thirty bindings that cost a third of a second per screen. This draws one line."""

from __future__ import annotations

from textual.content import Content, Span
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar { height: 1; dock: bottom; background: $panel; color: $text; }
    KeyBar > .keybar--key { text-style: bold reverse; }
    KeyBar > .keybar--disabled { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--disabled"}
    _version: reactive[int] = reactive(0)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._version += 1

    def render(self) -> Content:
        key_style = self.get_visual_style("keybar--key")
        disabled_style = self.get_visual_style("keybar--disabled")
        text = ""
        spans: list[Span] = []
        seen: set[str] = set()
        palette = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette = active
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            display = self.app.get_key_display(binding)
            start = len(text) + 1
            text += f" {display} "
            spans.append(Span(start - 1, len(text), key_style))
            if not active.enabled:
                spans.append(
                    Span(len(text), len(text) + len(binding.description) + 1, disabled_style)
                )
            text += f"{binding.description} "
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            tail = f" {self.app.get_key_display(palette.binding)} palette "
            room = self.size.width - len(tail)
            if len(text) > room:
                text = text[: max(0, room - 1)] + "…"
                spans = [s for s in spans if s.start < room]
            text = text.ljust(room) + tail
            spans.append(Span(len(text) - len(tail), len(text), key_style))
        return Content(text, spans=spans)
