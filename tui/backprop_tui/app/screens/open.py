"""Open another network in the app (ctrl+o): a bundled preset, picked from a list with its
one-line description, or a network file by its path.

The network is read and checked here (``session.sources``, as ``--preset``/``--config``
read it): a bad path or file is said in the dialog in the network file's one-line message,
and the dialog stays open. It dismisses with the checked network and where it came from;
the app builds the new session, after keeping the current one. In a browser
(``backprop-tui serve``) the presets only: the files are the serving machine's, not the
person's (the teacher serves a file with ``serve --config``).
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from backprop_tui.netfile import NetworkFileError, Source
from backprop_tui.network import Given
from backprop_tui.output import path_shown
from backprop_tui.presets import PRESETS
from backprop_tui.session.sources import sourced

Opened = tuple[Given, Source]


class OpenScreen(ModalScreen[Opened]):
    """Dismisses with (the network as given, its source), or None when cancelled."""

    AUTO_FOCUS = "#presets"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None = None, folder: str | None = None,
                 presets_only: bool = False) -> None:
        """``current``: the preset the session now runs, highlighted first; ``folder``: where
        a relative path is read from (the working folder); ``presets_only``: no path."""
        super().__init__()
        self._current = current
        self._folder = folder or os.getcwd()
        self._presets_only = presets_only

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Open a network in a new session", id="title")
            yield Label("A preset:", classes="heading")
            yield OptionList(*(Option(_preset_line(name, about), id=name)
                               for name, about in PRESETS.items()), id="presets", compact=True)
            if self._presets_only:
                yield Label("In a browser, the presets only: your teacher can serve a "
                            "network file to the class (backprop-tui serve --config FILE). "
                            "This tab cannot reopen the session it leaves: to keep a copy, "
                            "press Escape, then x (export).", id="where", markup=False)
                yield Label("↑↓ Enter: open a preset · Escape: cancel", id="hint")
            else:
                yield Label("Or a network file (TOML):", classes="heading")
                yield Input(id="path", placeholder="a path, e.g. my-network.toml")
                yield Label(f"in {path_shown(self._folder)}", id="where", markup=False)
                yield Label("↑↓ Enter: open a preset · Tab: type a path · Escape: cancel",
                            id="hint")
            yield Label("", id="problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#problem", Label).display = False
        if self._current in PRESETS:
            self.query_one(OptionList).highlighted = list(PRESETS).index(self._current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(preset=event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self._problem("type the path of a network file, or pick a preset above")
            return
        self._open(path=os.path.join(self._folder, os.path.expanduser(text)))

    def _open(self, preset: str | None = None, path: str | None = None) -> None:
        try:
            opened = sourced(preset, path)
        except NetworkFileError as problem:
            self._problem(str(problem))
            return
        self.dismiss(opened)

    def _problem(self, text: str) -> None:
        label = self.query_one("#problem", Label)
        label.update(text)
        label.display = bool(text)
        self.set_class(bool(text), "-problem")  # the list gives it room (80×24)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _preset_line(name: str, about: str) -> Text:
    """'mazur  the 2-2-2 sigmoid network …': the name in bold (a list, not colour alone)."""
    line = Text(name, style="bold")
    line.append(f"  {about}")
    return line
