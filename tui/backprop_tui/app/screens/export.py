"""Export the session log from the app: a format, a path, and a question before replacing.

The dialog checks the path (a folder, a missing folder: said in the dialog, which stays
open) and dismisses with it; the app then writes the file in a thread (``write_export``),
the screen live meanwhile, and says in a notification what was written (``WHAT``). The
file is written through ``output.open_output`` (beside the target, then swapped in), so a
failure or a stop leaves any existing file as it was and no partial one. Exporting only
reads the session.

In a browser (``backprop-tui serve``) the person is not the serving machine's user: the
dialog takes a file name only, the file is written in the tab's own folder, and the app
has the browser download it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, RadioButton, RadioSet

from backprop_tui.export.formats import FORMATS, Writer, markdown
from backprop_tui.export.log import reporting
from backprop_tui.output import OutputError, check_target, open_output, path_shown
from backprop_tui.session.session import Session

# (format, label), in the order shown; the format is also the file's extension, but for
# the worksheet and the Markdown log in GitHub's flavour (both Markdown).
CHOICES = [
    ("md", "Markdown (Jupyter): math in $…$ and $$…$$"),
    ("md-github", "Markdown (GitHub): math in $`…`$ and ```math"),
    ("txt", "Plain text"),
    ("json", "JSON (resumable)"),
    ("jsonl", "JSON lines"),
    ("worksheet", "Worksheet (Markdown): results blanked, then the key"),
]
EXTENSIONS = {"worksheet": "md", "md-github": "md"}
FLAVORED = {"md-github": "github"}  # a choice that is the Markdown log in another flavour
WHAT = {"worksheet": "a worksheet"}  # what a format writes, in the notification
DOWNLOADED = "your browser downloads it (a copy stays with your session on the server)"
# A name a browser is sent as it is: textual-serve writes it into the download's header
# unquoted (a ";" would cut it, an "é" would come garbled), so plain ASCII, no folder.
DOWNLOAD_NAME = re.compile(r"[A-Za-z0-9._ -]+")


def default_name(fmt: str, now: datetime | None = None) -> str:
    """backprop-session-YYYYmmdd-HHMMSS.<ext> (a worksheet: backprop-worksheet-…), in
    local time."""
    kind = "worksheet" if fmt == "worksheet" else "session"
    return f"backprop-{kind}-{(now or datetime.now()):%Y%m%d-%H%M%S}.{_extension(fmt)}"


class Stopped(Exception):
    """An export stopped before it was done: nothing of it is left."""


# (the epoch the log has reached, the characters written): whether to go on.
Going = Callable[[int, int], bool]


def write_export(session: Session, fmt: str, path: str, going: Going | None = None) -> None:
    """Write the session log in ``fmt`` to ``path`` atomically (replacing any file there).
    ``going`` is asked after each piece and at each epoch how far it got; when it says no,
    the export stops (Stopped) and leaves no file, nor replaces one. Raises OutputError
    with a one-line reason; the session is only read."""
    reached = 0
    written = 0

    def reach(epoch: int) -> None:
        nonlocal reached
        reached = max(reached, epoch)  # (the JSON document reads the log twice)
        if going is not None and not going(reached, written):  # between two epochs too
            raise Stopped

    try:
        with reporting(reach), open_output(path) as stream:
            for piece in _writer(fmt)(session, datetime.now(UTC)):
                stream.write(piece)
                written += len(piece)
                if going is not None and not going(reached, written):
                    raise Stopped
    except (OutputError, Stopped):
        raise
    except OSError as error:
        raise OutputError(f"{path}: could not be written: {error.strerror or error}") from None
    except ImportError as error:
        raise OutputError(f"the {fmt} format is not available: {error}") from None
    except Exception as error:  # a bug in a format must not take the session with it
        raise OutputError(f"{fmt} export failed: {type(error).__name__}: {error}") from None


class FormatButton(RadioButton):
    """A radio button whose choice shows by its mark (● or blank), not by colour alone."""

    def __init__(self, label: str, value: bool, name: str) -> None:
        super().__init__(label, value=value, name=name)
        self._mark()

    def watch_value(self) -> None:
        self._mark()
        super().watch_value()

    def _mark(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "


class ExportScreen(ModalScreen[str]):
    """Dismisses with the absolute path to write, checked, or None when cancelled; ``fmt``
    is the format chosen."""

    AUTO_FOCUS = "#path"
    BINDINGS = [
        Binding("escape", "back", "Cancel"),
        Binding("enter,y", "replace", "Replace", show=False),
        Binding("up", "format(-1)", "Format", show=False),
        Binding("down", "format(1)", "Format", show=False),
    ]

    def __init__(self, folder: str | None = None, fmt: str = "md",
                 now: datetime | None = None, download: bool = False) -> None:
        """``folder``: where a relative path is written (the working folder); ``download``:
        a file name only, in ``folder``, which the browser then downloads."""
        super().__init__()
        self._folder = folder or os.getcwd()
        self._download = download
        self._fmt = fmt
        self._now = now or datetime.now()
        self._suggested = default_name(fmt, self._now)
        self._confirming: str | None = None  # the path asked about, in the second step

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Export the session log", id="title")
            with Vertical(id="form"):
                with RadioSet(id="format", compact=True):
                    for fmt, label in CHOICES:
                        yield FormatButton(label, value=fmt == self._fmt, name=fmt)
                yield Input(value=self._suggested, id="path", placeholder=(
                    "a file name" if self._download else "a file name, or a path"))
                yield Label(DOWNLOADED if self._download else f"in {path_shown(self._folder)}",
                            id="where", markup=False)
                yield Label("Enter: export · ↑↓: format · Escape: cancel", id="hint")
            yield Label("", id="question", markup=False)
            yield Label("", id="problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#problem", Label).display = False

    # The format -----------------------------------------------------------------------

    @property
    def fmt(self) -> str:
        return self._fmt

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._set_format(str(event.pressed.name))

    def action_format(self, step: int) -> None:
        formats = [fmt for fmt, _ in CHOICES]
        index = (formats.index(self._fmt) + step) % len(formats)
        buttons = list(self.query_one("#format", RadioSet).query(RadioButton))
        buttons[index].value = True  # the set posts Changed, which sets the format

    def _set_format(self, fmt: str) -> None:
        if fmt == self._fmt:
            return
        self._fmt = fmt
        path = self.query_one("#path", Input)
        if path.value == self._suggested:  # not edited: the name follows the format
            self._suggested = default_name(fmt, self._now)
            path.value = self._suggested
        self._problem("")

    # Exporting ------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._export(confirmed=False)

    def _target(self) -> str | None:
        text = self.query_one("#path", Input).value.strip()
        if not text or text == "-":
            self._problem("type a file name to export to")
            return None
        if self._download and (text.startswith(".") or not DOWNLOAD_NAME.fullmatch(text)):
            self._problem(f"a file name only, of letters, digits, spaces and . _ -: "
                          f"{DOWNLOADED}")
            return None
        return os.path.abspath(os.path.join(self._folder, os.path.expanduser(text)))

    def _export(self, confirmed: bool) -> None:
        path = self._target()
        if path is None:
            return
        try:
            check_target(path, force=True)  # a folder, a missing folder, not a file
            if not confirmed and os.path.lexists(path):
                self._ask(path)
                return
        except OutputError as problem:
            self._back()
            self._problem(str(problem))
            return
        self.dismiss(path)

    # The second step: replace an existing file? -----------------------------------------

    def _ask(self, path: str) -> None:
        self._confirming = path
        self._problem("")
        self.query_one("#question", Label).update(
            f"{path_shown(path)} already exists. Replace it?\ny or Enter: replace · Escape: back")
        self.add_class("-confirm")
        self.query_one("#form").disabled = True
        self.set_focus(None)
        self.refresh_bindings()

    def _back(self) -> None:
        if self._confirming is None:
            return
        self._confirming = None
        self.remove_class("-confirm")
        self.query_one("#form").disabled = False
        self.query_one("#path", Input).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replace":
            return self._confirming is not None
        if action == "format":
            return self._confirming is None
        return True

    def action_replace(self) -> None:
        if self._confirming is not None:
            self._export(confirmed=True)

    def action_back(self) -> None:
        """Escape: from the question back to the form; from the form, cancel."""
        if self._confirming is not None:
            self._back()
        else:
            self.dismiss(None)

    def _problem(self, text: str) -> None:
        label = self.query_one("#problem", Label)
        label.update(text)
        label.display = bool(text)


def written_what(fmt: str) -> str:
    """What an export in ``fmt`` wrote, for the notification: 'the session log' or 'a
    worksheet'."""
    return WHAT.get(fmt, "the session log")


def _writer(fmt: str) -> Writer:
    return markdown(FLAVORED[fmt]) if fmt in FLAVORED else FORMATS[fmt]


def _extension(fmt: str) -> str:
    return EXTENSIONS.get(fmt, fmt)
