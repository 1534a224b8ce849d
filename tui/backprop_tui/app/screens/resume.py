"""On start, offer the session found in the state folder: r resumes it, n starts fresh.

Starting fresh never loses it: the old file is moved to last-session.previous.json before
the first save. A file that cannot be resumed was already kept aside as
last-session.damaged.json; the prompt says why in one line.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label

from backprop_tui.session.autosave import LastSession, previous_path


def where(last: LastSession) -> str:
    """'epoch k, step s' of the saved session (or 'the start of epoch k')."""
    session = last.session
    assert session is not None
    if session.index == 0:
        return f"the start of epoch {session.epoch}"
    return f"epoch {session.epoch}, step {session.index}"


class ResumeScreen(ModalScreen[bool]):
    """Dismisses with True to resume the last session, False to start fresh."""

    BINDINGS = [
        Binding("r", "choose(True)", "Resume"),
        Binding("n", "choose(False)", "Start fresh"),
        Binding("escape", "choose(False)", "Start fresh", show=False),
        Binding("enter", "default", "", show=False),
    ]

    def __init__(self, last: LastSession) -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        last = self.last
        with Vertical(id="dialog"):
            if last.session is not None:
                yield Label(f"Resume your last session ({where(last)})?", id="title")
                yield Label("r: resume · n: start fresh (the last session is kept as "
                            f"{previous_path(last.path).name})", id="choices", markup=False)
            else:
                yield Label("Your last session cannot be resumed", id="title")
                kept = (f"It is kept as {last.kept.name}." if last.kept is not None
                        else f"It will be kept as {previous_path(last.path).name}.")
                yield Label(f"{last.problem}\n{kept}", id="problem", markup=False)
                yield Label("n or Enter: start fresh", id="choices")
            if last.others:
                yield Label("Also saved here, by apps that ran beside another: "
                            + ", ".join(other.name for other in last.others)
                            + f" (open one with backprop-tui --resume {last.others[0]})",
                            id="others", markup=False)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters == (True,):
            return self.last.session is not None
        return True

    def action_choose(self, resume: bool) -> None:
        self.dismiss(resume and self.last.session is not None)

    def action_default(self) -> None:
        """Enter starts fresh only where that is the one choice; otherwise r or n."""
        if self.last.session is None:
            self.dismiss(False)
