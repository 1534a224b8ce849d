"""Go to a step by number or by name, with completion; a bad name is explained in place."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label


class GoToScreen(ModalScreen[int]):
    """Dismisses with the 1-based step index; stays open while the name is not understood."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str], resolve: Callable[[str], int], count: int) -> None:
        super().__init__()
        self._names = names
        self._resolve = resolve
        self._count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Go to a step: a number (1–{self._count}) or a name", id="title")
            yield Input(placeholder="w5, dE/dw1, out_h1, delta_o1, E_total …",
                        suggester=SuggestFromList(self._names, case_sensitive=False))
            yield Label("", id="problem")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            index = self._resolve(event.value)
        except ValueError as problem:
            self.query_one("#problem", Label).update(str(problem))
            return
        self.dismiss(index)

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]
