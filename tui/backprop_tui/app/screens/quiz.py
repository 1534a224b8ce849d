"""The quiz's question: a step's value, asked before it is shown.

Enter checks the answer: right, and the dialog closes; wrong, and it says which slip gives
that number, or which values to combine, and asks again. Escape reveals the value.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.widgets import Input

from backprop_tui.app.screens.prompt import PromptScreen
from backprop_tui.numbers import fmt
from backprop_tui.session.tolerance import check_tolerance
from backprop_tui.steps.slips import RIGHT, Verdict

ASK = "Enter checks it; Escape reveals it."


class QuizScreen(PromptScreen[bool]):
    """Dismisses with True once answered right, None when revealed (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Reveal")]
    DEFAULT_CSS = "QuizScreen #dialog Label { width: 100%; }"  # a slip's line wraps

    def __init__(self, question: str, check: Callable[[str], Verdict]) -> None:
        super().__init__(question, Input(placeholder="your value, e.g. 0.5933",
                                         select_on_focus=False), ASK)
        self._check = check

    def parse(self, text: str) -> bool:
        verdict = self._check(text)  # ValueError: not a number, said in place
        if verdict.verdict != RIGHT:
            raise ValueError(f"{verdict.message} Try again, or Escape to reveal it.")
        return True


class ToleranceScreen(PromptScreen[float]):
    """Asks for the quiz's relative tolerance; dismisses with it (Escape: None)."""

    def __init__(self, current: float) -> None:
        super().__init__("Quiz tolerance: how near, relative to the value, must an answer be?",
                         Input(value=fmt(current)),
                         "Above 0 and below 1: 1e-3 takes 0.5933 for 0.593269992.")

    def parse(self, text: str) -> float:
        return check_tolerance(text.strip())
