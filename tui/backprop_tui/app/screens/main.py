"""The main screen: the status line, the diagram (or the error curve), the side panels and
the footer, or a notice while the terminal is too small.

It owns the layout and draws what it is given; the app owns the session and the actions.
Every panel takes the focus (Tab; the equation panel has it at the start), scrolls by keys
while focused, and can be maximised (m, Textual's ``maximize``): the status line, the
progress bar and the footer stay in sight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer, Static

from backprop_tui.app import view_model
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.components.footer import KeyFooter
from backprop_tui.app.components.panels import (
    EquationPanel,
    ExplanationPanel,
    StatusLine,
    ValuesPanel,
)

if TYPE_CHECKING:  # these import numpy or textual-plot: the first frame does not wait
    from textual.eta import ETA
    from textual.widgets import Label, ProgressBar

    from backprop_tui.app.components.curve import ErrorCurve

MIN_WIDTH, MIN_HEIGHT = 80, 24
TITLES = {"#diagram": "Network", "#equation": "Equation", "#explanation": "Explanation",
          "#values": "Values this epoch"}


class MainScreen(Screen[None]):
    """The first screen on the stack, under every dialog."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # the side panels' share
    AUTO_FOCUS = "#equation"  # so ↑ ↓ scroll it at once
    ALLOW_IN_MAXIMIZED_VIEW = "#status, #progress, Footer"

    def __init__(self, ready: Callable[[], None], width: int = 0) -> None:
        """``ready`` is called once the panels are mounted, to draw the first frame: the
        screen composes after the app's own mount. ``width``, the terminal's: the screen
        starts with the breakpoint class Textual gives it on its first resize (which then
        styles its widgets once again only if that changed)."""
        super().__init__(classes=" ".join(breakpoint_class(width, self.HORIZONTAL_BREAKPOINTS)))
        self._panels_ready = ready
        self.curve: ErrorCurve | None = None  # mounted when first opened (c)
        self._progress: ProgressBar | None = None  # mounted while a fast-forward runs
        self._progress_text: Label | None = None  # its count and time left
        self._eta: ETA | None = None
        self._started = 0.0  # when the run began, by ``clock``
        self.clock: Callable[[], float] = time.monotonic  # the time left's (tests set it)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="main"):
            diagram = NetworkDiagram(id="diagram", heading=TITLES["#diagram"])
            diagram.can_focus = True  # to be maximised; it draws to its size, so no scrolling
            yield diagram
            with Vertical(id="side"):
                yield EquationPanel(id="equation")
                yield ExplanationPanel(id="explanation")
                yield ValuesPanel(id="values")
        yield Static(id="too-small")
        yield KeyFooter()

    def on_mount(self) -> None:
        for selector, title in TITLES.items():
            self.query_one(selector).border_title = title
        self.fit(self.app.size)
        self._panels_ready()

    @property
    def too_small(self) -> bool:
        """Whether the notice of the size needed is up, in the panels' place."""
        return self.has_class("-too-small")

    @property
    def keys_drawn(self) -> bool:
        """Whether the footer has its keys (made with the screen: see KeyFooter)."""
        return bool(self.query_one(Footer).children)

    def show(self, status: view_model.Status, diagram: view_model.DiagramModel,
             equation: view_model.Equation | None, explanation: str,
             values: tuple[tuple[view_model.ValueRow, ...], int]) -> None:
        """Draw the view models; each panel repaints only if its model changed."""
        self.query_one(StatusLine).show(status)
        self.query_one(NetworkDiagram).show(diagram)  # its title too (see its show)
        self.query_one(EquationPanel).show(equation)
        self.query_one(ExplanationPanel).show(explanation)
        self.query_one(ValuesPanel).show(values)

    # The terminal's size --------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size)

    def fit(self, size: Size) -> None:
        """Below MIN_WIDTH×MIN_HEIGHT, the panels give way to a notice of the size needed."""
        small = size.width < MIN_WIDTH or size.height < MIN_HEIGHT
        if small != self.too_small:
            self.set_class(small, "-too-small")
            self.app.refresh_bindings()  # only Quit acts meanwhile (BackpropApp.check_action)
        if small:
            self.query_one("#too-small", Static).update(too_small_text(size, self.app.is_web))

    # The error curve ------------------------------------------------------------------

    def toggle_curve(self) -> ErrorCurve:
        """The error curve in the diagram's place, or the diagram back; the curve is made
        (and textual-plot imported) when first shown."""
        if self.curve is None:
            from backprop_tui.app.components.curve import ErrorCurve

            self.curve = ErrorCurve(id="curve")
            self.query_one("#main").mount(self.curve, after=self.query_one(NetworkDiagram))
        shown = not self.has_class("-curve")
        self.set_class(shown, "-curve")
        self.curve.display = shown
        return self.curve

    # The fast-forward's progress ------------------------------------------------------

    def start_progress(self, total: int) -> None:
        """A progress bar above the footer, with the count and the time left (made only
        now: the first frame is lighter)."""
        from textual.eta import ETA
        from textual.widgets import Label, ProgressBar

        self._progress = ProgressBar(total=total, show_eta=False)
        self._progress_text = Label(progress_text(0, total, None), id="progress-text",
                                    markup=False)
        self._eta = ETA()
        self._started = self.clock()
        self.mount(Horizontal(self._progress, self._progress_text, id="progress"),
                   before=self.query_one(Footer))
        self.add_class("-running")

    def progress(self, done: int) -> None:
        """``done`` epochs of the run: the bar, the count and the time left (Textual's
        estimate from the last minute's speed; none in the first second)."""
        bar, label, eta = self._progress, self._progress_text, self._eta
        if bar is None or label is None or eta is None or not bar.total:
            return
        bar.update(progress=done)
        total = int(bar.total)
        now = self.clock() - self._started
        eta.add_sample(now, done / total)
        label.update(progress_text(done, total, eta.get_eta(now)))

    def end_progress(self) -> None:
        if self._progress is not None:
            self.query_one("#progress").remove()
            self._progress = None
        self.remove_class("-running")

    # An export's progress ----------------------------------------------------------------

    def show_export(self, text: str | None) -> None:
        """The line above the footer that says how far an export got; None takes it off."""
        from textual.widgets import Label

        found = self.query("#exporting")
        if text is None:
            found.remove()
        elif found:
            found.first(Label).update(text)
        else:
            self.mount(Label(text, id="exporting", markup=False),
                       before=self.query_one(Footer))


def export_text(name: str, epoch: int, epochs: int, size: int) -> str:
    """'Exporting backprop-session-….md: epoch 3 of 10 · 1.2 MB' (``size`` bytes; epoch 0:
    not yet known)."""
    where = f"epoch {epoch:,} of {epochs:,} · " if epoch else ""
    return f"Exporting {name}: {where}{size_text(size)}"


def size_text(size: int) -> str:
    """'512 bytes', '12.3 kB', '1.2 MB'."""
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def progress_text(done: int, total: int, left: int | None) -> str:
    """'1,234 / 10,000 epochs · 3 s left' (``left`` seconds; None: not known yet)."""
    count = f"{done:,} / {total:,} epoch{'' if total == 1 else 's'}"
    return count if left is None or done >= total else f"{count} · {duration(left)} left"


def duration(seconds: int) -> str:
    """'3 s', '2 min 5 s', '1 h 4 min': the two largest units."""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"

def too_small_text(size: Size, in_browser: bool) -> str:
    """What a terminal below MIN_WIDTH×MIN_HEIGHT shows; in a browser, how to get room
    there (the terminal's cells follow the window and the page's zoom)."""
    how = ("Make the browser window larger, or zoom out (ctrl+minus), to carry on."
           if in_browser else "Enlarge it to carry on.")
    return (f"backprop-tui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one "
            f"is {size.width}×{size.height}. {how}")


def breakpoint_class(width: int, breakpoints: list[tuple[int, str]]) -> list[str]:
    """The class of the last of ``breakpoints`` that ``width`` reaches, as Textual sets it
    on a resize (none for width 0: not known yet)."""
    if width <= 0:
        return []
    return next(([name] for start, name in sorted(breakpoints, reverse=True)
                 if width >= start), [])
