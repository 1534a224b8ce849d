"""Go to a step by number or by name, with completion; a bad name is explained in place."""

from __future__ import annotations

from collections.abc import Callable

from textual.suggester import SuggestFromList
from textual.widgets import Input

from backprop_tui import keys
from backprop_tui.app.screens.prompt import PromptScreen


class GoToScreen(PromptScreen[int]):
    """Dismisses with the 1-based step index; stays open while the name is not understood."""

    def __init__(self, names: list[str], resolve: Callable[[str], int], count: int) -> None:
        field = Input(placeholder=f"{keys.EXAMPLES} …",
                      suggester=SuggestFromList(names, case_sensitive=False))
        super().__init__(f"Go to a step: a number (1–{count}) or a name", field)
        self._resolve = resolve

    def parse(self, text: str) -> int:
        return self._resolve(text)
