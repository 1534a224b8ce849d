"""The help screen: every key, and what each panel shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from backprop_tui.app.actions import HELP_ROWS

KEYS = HELP_ROWS  # (keys, what), from the app's one table of actions

PANELS = """\
[b]Diagram[/b]  the network: units with their values (· until computed this epoch), \
connections with their weights (old → new once updated), biases. What the current step \
involves is marked ▶ and bold; what it computes is reversed.
[b]Equation[/b]  the formula, the same with the numbers plugged in, and the result; then \
each value it uses, and the step that computed it.
[b]Explanation[/b]  what the step computes and why.
[b]Values[/b]  every quantity computed so far this epoch, by phase; the newest is marked ▶.
[b]Error curve[/b] (c)  the total error of every epoch run so far against the epoch; the \
current epoch is marked by a vertical line, and ● once its error is known.
[b]Status line[/b]  the phases (the current one in brackets), step k of n, the epoch, the \
total error once known, the number of digits shown."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", show=True),
    ]

    def compose(self) -> ComposeResult:
        width = max(len(keys) for keys, _ in KEYS)
        keys = "\n".join(f"[b $accent]{_literal(keys.ljust(width))}[/]  {what}"
                         for keys, what in KEYS)
        with VerticalScroll(id="help"):
            yield Static("[b]backprop-tui — keys[/b]\n\n" + keys + "\n\n[b]Panels[/b]\n\n"
                         + PANELS + "\n\n[$text-muted]Escape closes this help.[/]")
        yield Footer()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss()


def _literal(text: str) -> str:
    """Markup-escape every bracket: the keys include a lone '[' and ']'."""
    return text.replace("[", r"\[")
