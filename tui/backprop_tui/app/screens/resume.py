"""On start, list the sessions kept in the state folder: pick one to resume, or start fresh.

The folder keeps the last five sessions, the current one included (``autosave.SESSIONS``),
newest first, each with its network, where it stood and when it was saved: r resumes the
last one, 1–5 (or ↑ ↓ and Enter) any, n starts fresh. Starting fresh never loses the last
one: it is moved to last-session.previous.json before the first save. A last session that
cannot be resumed was already kept aside as last-session.damaged.json; the prompt says why
in one line.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from backprop_tui.session.autosave import SESSIONS, LastSession, Saved, previous_path


def line(number: int, saved: Saved, highlighted: bool = False) -> str:
    """'  1  mazur · epoch 2, step 7 · 2026-12-01 16:40', '▶ 1 …' where highlighted (the
    highlight is not colour alone)."""
    when = f" · {saved.when}" if saved.when else ""
    return f"{'▶' if highlighted else ' '} {number}  {saved.name} · {saved.where}{when}"


class ResumeScreen(ModalScreen[Path | None]):
    """Dismisses with the file of the session picked, or None to start fresh."""

    DEFAULT_CSS = """
    ResumeScreen #sessions {
        height: auto;
        max-height: 7;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("r", "pick(0)", "Resume the last"),
        *(Binding(str(n), f"pick({n - 1})", f"Resume {n}", show=False)
          for n in range(1, SESSIONS + 1)),
        Binding("n", "fresh", "Start fresh"),
        Binding("escape", "fresh", "Start fresh", show=False),
        Binding("enter", "default", "", show=False),
    ]

    def __init__(self, last: LastSession) -> None:
        super().__init__()
        self.last = last
        # The sessions that can be picked: the last one if it reads, then the earlier ones.
        self.listed = last.listed

    def compose(self) -> ComposeResult:
        last = self.last
        with Vertical(id="dialog"):
            if last.session is not None and self.listed:
                yield Label(f"Resume your last session ({self.listed[0].where})?", id="title")
            elif self.listed:
                yield Label("Resume an earlier session?", id="title")
            else:
                yield Label("Your last session cannot be resumed", id="title")
            if last.problem is not None:
                kept = (f"It is kept as {last.kept.name}." if last.kept is not None
                        else f"It will be kept as {previous_path(last.path).name}.")
                yield Label(f"{last.problem}\n{kept}", id="problem", markup=False)
            if self.listed:
                yield OptionList(*(Option(line(n, saved), id=str(n - 1))
                                   for n, saved in enumerate(self.listed, start=1)),
                                 id="sessions", markup=False)
                first = "r or 1: resume the last" if last.session is not None else "1: resume"
                yield Label(f"{first} · {len(self.listed)} sessions kept here, newest first: "
                            "a number or ↑ ↓ Enter picks one · n: start fresh"
                            + (f" (the last session is kept as {previous_path(last.path).name})"
                               if last.session is not None else ""),
                            id="choices", markup=False)
            else:
                yield Label("n or Enter: start fresh", id="choices")
            if last.others:
                yield Label("Also saved here, by apps that ran beside another: "
                            + ", ".join(other.name for other in last.others)
                            + f" (open one with backprop-tui --resume {last.others[0]})",
                            id="others", markup=False)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":
            return isinstance(parameters[0], int) and parameters[0] < len(self.listed)
        return True

    def action_pick(self, at: int) -> None:
        if at < len(self.listed):
            self.dismiss(self.listed[at].path)

    def action_fresh(self) -> None:
        self.dismiss(None)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Mark the highlighted session with ▶, the others without."""
        for at, saved in enumerate(self.listed):
            event.option_list.replace_option_prompt_at_index(
                at, line(at + 1, saved, at == event.option_index))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick(int(event.option_id or 0))

    def action_default(self) -> None:
        """Enter starts fresh only where that is the one choice; otherwise a pick or n."""
        if not self.listed:
            self.dismiss(None)
