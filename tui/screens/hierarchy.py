"""An account's hierarchy: the tree from its top parent down, the account itself marked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode as UiNode

from store.model import ACCOUNTS, display_name
from store.queries import TreeNode
from tui.literal import literal, literal_text
from tui.messages import DataChanged
from tui.screens.base import CrmScreen
from tui.widgets.keybar import KeyBar


class HierarchyScreen(CrmScreen):
    help_title = "Account hierarchy"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="back"),
        Binding("o", "open", "Open account", id="open"),
    ]

    def __init__(self, account_id: str) -> None:
        super().__init__()
        self.account_id = account_id

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="title")
        yield Tree(Text("accounts"), id="hierarchy")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload(None)
        self.query_one(Tree).focus()

    def reload(self, changes: DataChanged | None = None) -> None:
        root = self.crm.hierarchy(self.account_id)
        tree: Tree[str] = self.query_one(Tree)
        tree.clear()
        name = self.crm.name_of(ACCOUNTS, self.account_id)
        self.query_one("#title", Static).update(literal(f"Hierarchy › {name}"))
        if root is None:
            return
        tree.root.set_label(self._label(root))
        tree.root.data = root.record["id"]
        tree.show_root = True
        marked = self._add(tree.root, root)
        tree.root.expand_all()
        if marked is not None:  # after layout: before it, the node has no line yet
            self.call_after_refresh(tree.move_cursor, marked)

    def _label(self, node: TreeNode) -> Text:
        name = display_name(ACCOUNTS, node.record)
        if node.record["id"] == self.account_id:
            return literal_text(f"▶ {name} ◀", style="bold reverse")
        kind = node.record.get("relationship")
        return literal_text(f"{name}" + (f"  ({kind})" if kind else ""))

    def _add(self, parent: UiNode[str], node: TreeNode) -> UiNode[str] | None:
        marked = parent if node.record["id"] == self.account_id else None
        for child in node.children:
            ui = parent.add(self._label(child), data=child.record["id"])
            found = self._add(ui, child)
            marked = marked or found
        return marked

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()

    def action_open(self) -> None:
        node = self.query_one(Tree).cursor_node
        if node is not None and node.data:
            self.open_record(ACCOUNTS, node.data)

    def action_back(self) -> None:
        self.app.pop_screen()
