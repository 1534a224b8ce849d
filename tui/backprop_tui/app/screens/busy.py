"""On start, when another backprop-tui runs on the same state folder: say so, and let the
person choose where this one's session goes — its own file (s, the default), or nowhere
(r: read-only). Two apps never write the same file."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label


class BusyScreen(ModalScreen[bool]):
    """Dismisses with True to save to this app's own file, False for read-only."""

    BINDINGS = [
        Binding("s,enter", "choose(True)", "Own file"),
        Binding("r", "choose(False)", "Read-only"),
        Binding("escape", "choose(True)", "Own file", show=False),
    ]

    def __init__(self, busy: Path, own: Path) -> None:
        super().__init__()
        self.busy, self.own = busy, own

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Another backprop-tui is running", id="title")
            yield Label(f"It saves its session to {self.busy.name}. This one saves to "
                        f"{self.own.name} (resume it later with backprop-tui --resume "
                        f"{self.own}), or nothing.", id="explain", markup=False)
            yield Label(f"s or Enter: save to {self.own.name} · r: read-only", id="choices",
                        markup=False)
        yield Footer()

    def action_choose(self, own_file: bool) -> None:
        self.dismiss(own_file)
