"""What the error curve shows, picked out of the session: the view model of one panel.

The errors come from the session's timeline (recorded as its epochs run) and, for the
current epoch once its E_total step is reached, from that step (with several examples,
the data set's error E: ``trace.loss``, known from the epoch's start); ``downsample`` reduces them
to the panel's width. Imported when the curve first opens (it needs numpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from backprop_tui import keys
from backprop_tui.numbers import fmt
from backprop_tui.session.losses import downsample

if TYPE_CHECKING:
    from backprop_tui.session.session import Session

LABEL_DIGITS = 4
LARGEST = 1e300  # errors beyond this (or not finite) are left off the curve: a diverging run


@dataclass(frozen=True, eq=False)
class Curve:
    """The points to draw (already downsampled) and the current epoch to mark."""

    key: tuple[object, ...]  # equal keys: the same curve (no need to draw it again)
    epochs: np.ndarray = field(repr=False)
    errors: np.ndarray = field(repr=False)
    count: int  # epochs on the curve: 1 … count
    epoch: int  # the current epoch, marked
    error: float | None  # its E_total, once known this epoch
    log: bool
    left_off: int = 0  # epochs whose error is not finite or beyond LARGEST: not drawn
    symbol: str = "E_total"  # E with several examples: the data set's error

    @property
    def caption(self) -> str:
        """What the panel says beneath the curve: the marked epoch, its error, the scale, and
        what it leaves off."""
        where = f"▶ epoch {self.epoch:,}"
        if self.error is not None:
            where += f" · {self.symbol} {fmt(self.error, LABEL_DIGITS)}"
        if self.left_off:
            where += f" · {self.left_off:,} beyond {fmt(LARGEST, 1)} left off"
        return where + (" · log scale" if self.log else "")


def _current(session: Session) -> float | None:
    """The current epoch's E_total once its step is reached (as the status line shows it);
    with several examples, the data set's error E, known from the epoch's start."""
    if session.network.examples > 1:
        return session.steps.value_of(keys.DATASET)
    return session.shown(keys.TOTAL)


def curve_key(session: Session, buckets: int, log: bool,
              known: int | None = None) -> tuple[object, ...]:
    """What the curve depends on; cheap, whatever the number of epochs."""
    timeline = session.timeline
    known = timeline.known() if known is None else known
    return timeline, known, session.epoch, _current(session), buckets, log


def error_curve(session: Session, buckets: int, log: bool) -> Curve:
    """The curve of every epoch's total error run so far, in at most about ``2 * buckets``
    points, the current epoch marked."""
    timeline = session.timeline
    known = timeline.known()
    errors = timeline.errors()[:known]
    current = _current(session)
    if current is not None and session.epoch == known + 1:  # its E_total is on screen
        errors = np.append(errors, current)
    drawable = np.isfinite(errors) & (np.abs(errors) <= LARGEST)
    left_off = len(errors) - int(drawable.sum())
    if left_off:  # a diverging run: the curve ends where its errors stop being numbers
        errors = errors[: int(np.argmin(drawable))] if not drawable.all() else errors
    epochs, values = downsample(errors, buckets)
    symbol = keys.symbol(keys.DATASET if session.network.examples > 1 else keys.TOTAL)
    return Curve(curve_key(session, buckets, log, known), epochs, values, len(errors),
                 session.epoch, current, log, left_off, symbol)
