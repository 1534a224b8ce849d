"""The baseline for tests/benchmarks/test_app.py: the smallest Textual app worth comparing with.

One Static and a Footer; "right" bumps a counter shown in the Static. Run it as a script to
open it in the terminal, or import ``MinimalApp`` and drive it with ``run_test``.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

READY = "minimal app: 0 presses"  # the Static's text on the first frame


class MinimalApp(App[None]):
    """One Static and a Footer; → counts presses in the Static."""

    BINDINGS = [
        Binding("right", "next", "Next"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.presses = 0

    def compose(self) -> ComposeResult:
        yield Static(READY, id="text")
        yield Footer()

    def action_next(self) -> None:
        """Count one press and show the count."""
        self.presses += 1
        self.query_one("#text", Static).update(f"minimal app: {self.presses} presses")


if __name__ == "__main__":
    MinimalApp().run()
