"""Ask how many epochs to fast-forward; the run itself happens in the app's worker."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label

MAX_EPOCHS = 10_000_000


def parse_epochs(text: str) -> int:
    """A whole number of epochs from 1 to MAX_EPOCHS, or ValueError saying what is wrong."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not cleaned.isdigit():
        raise ValueError("type a whole number of epochs, such as 1000")
    count = int(cleaned)
    if not 1 <= count <= MAX_EPOCHS:
        raise ValueError(f"from 1 to {MAX_EPOCHS:,} epochs")
    return count


class FastForwardScreen(ModalScreen[int]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Fast-forward: how many epochs?", id="title")
            yield Input(value="1000", restrict=r"[0-9_,]*")
            yield Label("Runs plain epochs; Escape stops the run.", id="problem")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            count = parse_epochs(event.value)
        except ValueError as problem:
            self.query_one("#problem", Label).update(str(problem))
            return
        self.dismiss(count)

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]
