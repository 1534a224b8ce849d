"""The error curve: the total error of every epoch run so far against the epoch.

A textual-plot ``PlotWidget`` (numpy-native; its import costs a few tenths of a second, so
this module is imported when the curve first opens, never for the first frame). It plots
the ``Curve`` the view model gives it — already downsampled to its width — with the current
epoch marked by a vertical line and ●, and the epoch and its error in the caption, so the
mark never relies on colour alone. On a log scale it plots log10 of the errors, labelled
with the errors themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from math import ceil, floor, log10
from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter, NumericAxisFormatter

from backprop_tui.app.curve_model import LARGEST, Curve, curve_key, error_curve
from backprop_tui.numbers import fmt

if TYPE_CHECKING:
    from backprop_tui.session.session import Session

LIVE_EVERY = 0.25  # seconds between redraws while a fast-forward runs
MIN_BUCKETS = 8
TITLE = "Error curve"
LINE, DOT = "⠒⠒", "·"  # the line's mark (braille, as it is drawn) and plain sgd's dots
TITLE_MARGIN = 4  # the border's cells around its title


class LogAxisFormatter(AxisFormatter):
    """Ticks for an axis that shows log10 of the values, labelled with the values: at the
    powers of ten, or at round values when less than two decades show."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        low, high = ceil(min_), floor(max_)
        if high > low:
            step = max(1, ceil((high - low + 1) / max_ticks))
            return [float(k) for k in range(low - low % step, high + 1, step) if k >= low]
        ticks = NumericAxisFormatter().get_ticks(10.0**min_, 10.0**max_, max_ticks)
        return [log10(t) for t in ticks if t > 0]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [f"{10.0**t:.3g}" for t in ticks]


class LinearAxisFormatter(NumericAxisFormatter):
    """Ticks labelled as every number in the app is written: 0.25, 1e+92 (not 93 digits)."""

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        labels = super().get_labels_for_ticks(ticks)
        if all(len(label) <= 8 for label in labels):
            return labels
        return [fmt(tick, 3) for tick in ticks]


class ErrorCurve(PlotWidget, can_focus=True, inherit_bindings=False):
    """The curve panel; ``follow(session)`` draws it when what it shows changed. It takes
    the focus (Tab), to be maximised (m), but none of the plot's pan and zoom keys: + - and
    the arrows stay the app's. Compared with plain sgd (``compare``), that run's errors
    are dotted under the line, and the border title names the two beside their marks (a
    legend inside would hide a corner of a small plot)."""

    COMPONENT_CLASSES = PlotWidget.COMPONENT_CLASSES | {"curve--line", "curve--marker",
                                                        "curve--plain"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.border_title = TITLE
        self.log_scale = False
        self.compare = False  # with plain sgd's errors (o), where the session has them
        self.curve: Curve | None = None
        self._session: Session | None = None
        self._drawn_at = 0.0

    @property
    def buckets(self) -> int:
        """How many buckets the errors are reduced to: one a column of the plot (each drawn
        as its largest and smallest error: a braille cell is two dots wide)."""
        return max(MIN_BUCKETS, self.size.width - self.margin_left - 2)

    def follow(self, session: Session, live: bool = False) -> bool:
        """Draw the session's curve if it changed (at most every ``LIVE_EVERY`` seconds when
        ``live``: during a fast-forward); whether it drew."""
        self._session = session
        if not self.display or not self.is_mounted:
            return False  # (once mounted, it follows the session it was given)
        if live and time.monotonic() - self._drawn_at < LIVE_EVERY:
            return False
        buckets = self.buckets
        if self.curve is not None and curve_key(session, buckets, self.log_scale,
                                                self.compare) == self.curve.key:
            return False
        self.show(error_curve(session, buckets, self.log_scale, self.compare))
        return True

    def show(self, curve: Curve) -> None:
        self.curve = curve
        self._drawn_at = time.monotonic()
        self.border_subtitle = curve.caption
        self._draw()

    def _draw(self) -> None:
        curve = self.curve
        if curve is None:
            return
        line = str(self.get_component_rich_style("curve--line"))
        marker = str(self.get_component_rich_style("curve--marker"))
        plain = str(self.get_component_rich_style("curve--plain"))
        self.clear()
        self.set_xlabel("epoch")
        self.set_ylabel(curve.symbol + (" (log)" if curve.log else ""))
        self.set_y_formatter(LogAxisFormatter() if curve.log else LinearAxisFormatter())
        last = max(2, curve.count, curve.epoch)
        self.set_xlimits(1, last + max(1, (last - 1) // 25))  # room for the mark at the end
        errors = _scaled(curve.errors, curve.log)
        compared = None if curve.plain is None else _scaled(curve.plain[1], curve.log)
        shown = errors if compared is None else np.concatenate((errors, compared))
        shown = shown[np.isfinite(shown)]
        low, high = (float(shown.min()), float(shown.max())) if len(shown) else (0.0, 1.0)
        if high - low < 1e-12 * max(1.0, abs(high)):
            low, high = low - max(1.0, abs(low)) / 2, high + max(1.0, abs(high)) / 2
        self.set_ylimits(low, high)
        if curve.plain is not None and compared is not None and len(compared):
            self.scatter(curve.plain[0], compared, marker=DOT, marker_style=plain)  # first:
            # under the line, where they meet
        if curve.count:
            self.plot(curve.epochs, errors, line_style=line, hires_mode=HiResMode.BRAILLE)
        self._title(curve)
        # The current epoch: a vertical line, and ● on the curve once its error is known.
        rows = max(2, self.size.height - self.margin_top - self.margin_bottom)
        self.scatter(np.full(2 * rows, float(curve.epoch)), np.linspace(low, high, 2 * rows),
                     marker="│", marker_style=marker)
        if curve.error is not None and (curve.error > 0 or not curve.log) and (
                abs(curve.error) <= LARGEST):
            y = log10(curve.error) if curve.log else curve.error
            self.scatter([curve.epoch], [y], marker="●", marker_style=f"bold {marker}")

    def _title(self, curve: Curve) -> None:
        """The border title; compared with plain sgd, which line is which: each one's mark
        in its colour beside its name (without the title's words where the panel is
        narrow)."""
        if not curve.labels:
            self.border_title = TITLE
            return
        own, plain = curve.labels
        names = Text.assemble((LINE, self._colour("curve--line")), f" {own}, ",
                              (DOT * 2, self._colour("curve--plain")), f" {plain}")
        full = Text.assemble(f"{TITLE}: ", names)
        width = self.outer_size.width
        self.border_title = full if not width or full.cell_len + TITLE_MARGIN <= width else names

    def _colour(self, component: str) -> Style:
        """A component's colour alone (the border has its own background)."""
        return Style(color=self.get_component_rich_style(component).color)

    def on_mount(self) -> None:
        self.call_after_refresh(self._follow_again)

    def _follow_again(self) -> None:
        if self._session is not None:
            self.follow(self._session)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._follow_again)

    def notify_style_update(self) -> None:
        """A new theme: draw again in its colours."""
        self._draw()
        super().notify_style_update()


def _scaled(errors: np.ndarray, log: bool) -> np.ndarray:
    """The errors as plotted: log10 of them on a log scale (0 goes off it)."""
    if not log:
        return errors
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(errors)
