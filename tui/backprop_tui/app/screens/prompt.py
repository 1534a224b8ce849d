"""A one-line question in a dialog: the answer is checked as typed and submitted, and a bad
one is explained in place while the dialog stays open."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label

Answer = TypeVar("Answer")


class PromptScreen(ModalScreen[Answer], Generic[Answer]):
    """Dismisses with ``parse(text)``; Escape dismisses with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, field: Input, hint: str = "") -> None:
        super().__init__()
        self._title = title
        self._field = field
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            yield self._field
            yield Label(self._hint, id="problem", markup=False)
        yield Footer()

    def parse(self, text: str) -> Answer:
        """The answer, or ValueError saying in one line what is wrong with ``text``."""
        raise NotImplementedError

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            answer = self.parse(event.value)
        except ValueError as problem:
            self.query_one("#problem", Label).update(str(problem))
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
