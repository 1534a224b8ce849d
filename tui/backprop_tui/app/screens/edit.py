"""Editing a parameter: its name (with completion), then its value, checked as typed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from backprop_tui.app.screens.prompt import PromptScreen
from backprop_tui.output import quoted


class NameScreen(PromptScreen[str]):
    """Which parameter to edit: a weight, bias, input, target, the learning rate or an
    option of the optimiser."""

    def __init__(self, names: list[str], known: Callable[[str], str | None],
                 options: Sequence[str] = ()) -> None:
        """``known`` gives the name of the value a typed name means (any case), or None;
        ``options``: the optimiser's own (momentum; beta1, beta2, epsilon), named too."""
        field = Input(placeholder="w5, b1, i1, t_o1, eta …",
                      suggester=SuggestFromList(names, case_sensitive=False))
        which = ", ".join(("a weight, bias, input, target", "eta", *options))
        super().__init__(f"Edit which value? ({' or '.join(which.rsplit(', ', 1))})", field)
        self._known = known

    def parse(self, text: str) -> str:
        name = self._known(text.strip())
        if name is None:
            raise ValueError(f"no parameter named {quoted(text.strip())}: try w1, b1, i1, t_o1 "
                             "or eta")
        return name


class ValueScreen(PromptScreen[float]):
    """The new value, checked on every key: a bad one is explained, the old one kept."""

    def __init__(self, name: str, current: str, check: Callable[[str], float]) -> None:
        super().__init__(f"New value of {name} (from the start of this epoch; now {current})",
                         Input(value=current, select_on_focus=True),
                         "Enter applies it; Escape keeps the old value.")
        self._check = check

    def parse(self, text: str) -> float:
        return self._check(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        try:
            self._check(event.value)
        except ValueError as problem:
            self.query_one("#problem", Label).update(str(problem))
        else:
            self.query_one("#problem", Label).update("Enter applies it; Escape keeps the old "
                                                      "value.")
