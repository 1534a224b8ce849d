"""Ask how many epochs to fast-forward; the run itself happens in the app's worker."""

from __future__ import annotations

from textual.widgets import Input

from backprop_tui.app.screens.prompt import PromptScreen

MAX_EPOCHS = 10_000_000


def parse_epochs(text: str) -> int:
    """A whole number of epochs from 1 to MAX_EPOCHS, or ValueError saying what is wrong."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise ValueError("type a whole number of epochs, such as 1000")
    count = int(cleaned) if len(cleaned) <= len(str(MAX_EPOCHS)) else MAX_EPOCHS + 1
    if not 1 <= count <= MAX_EPOCHS:
        raise ValueError(f"from 1 to {MAX_EPOCHS:,} epochs")
    return count


class FastForwardScreen(PromptScreen[int]):
    def __init__(self) -> None:
        super().__init__("Fast-forward: how many epochs?",
                         Input(value="1000", restrict=r"[0-9_,]*"),
                         "Runs whole epochs without stepping; Escape stops the run.")

    def parse(self, text: str) -> int:
        return parse_epochs(text)
