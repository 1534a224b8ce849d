"""What the error curve shows, picked out of the session: the view model of one panel.

The errors come from the session's timeline (recorded as its epochs run) and, for the
current epoch once its E_total step is reached, from that step (with several examples,
the data set's error E: ``trace.loss``, known from the epoch's start); ``downsample`` reduces them
to the panel's width. Imported when the curve first opens (it needs numpy).

Compared with plain sgd (``o``), the curve also shows the errors of ``Session.plain_sgd``
over the same epochs, as far as the app's worker has run them (nothing is run here).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from backprop_tui import keys
from backprop_tui.numbers import fmt
from backprop_tui.session.losses import downsample

if TYPE_CHECKING:
    from backprop_tui.session.session import Session

LABEL_DIGITS = 4
PLAIN = "plain SGD"  # the compared line's name in the legend and the caption
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
    # Compared with plain sgd: its points (epochs, errors; downsampled alike) over the same
    # epochs as far as run, its error at the marked epoch once run, and the two lines'
    # names (the optimisers of the session's, then PLAIN); None and () otherwise.
    plain: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    plain_error: float | None = None
    labels: tuple[str, ...] = ()

    @property
    def caption(self) -> str:
        """What the panel says beneath the curve: the marked epoch, its error (and plain
        sgd's, compared), the scale, and what it leaves off."""
        where = f"▶ epoch {self.epoch:,}"
        if self.error is not None:
            where += f" · {self.symbol} {fmt(self.error, LABEL_DIGITS)}"
        if self.plain_error is not None:
            where += f" · {PLAIN} {fmt(self.plain_error, LABEL_DIGITS)}"
        if self.left_off:
            where += f" · {self.left_off:,} beyond {fmt(LARGEST, 1)} left off"
        return where + (" · log scale" if self.log else "")


def _current(session: Session) -> float | None:
    """The current epoch's E_total once its step is reached (as the status line shows it);
    with several examples, the data set's error E, known from the epoch's start."""
    if session.network.examples > 1:
        return session.steps.value_of(keys.DATASET)
    return session.shown(keys.TOTAL)


def epochs_shown(session: Session) -> int:
    """How many epochs the curve shows: those run, and the current one once its error is
    on screen (the epochs the comparison with plain sgd runs to)."""
    known = session.timeline.known()
    return known + (session.epoch == known + 1 and _current(session) is not None)


def curve_key(session: Session, buckets: int, log: bool, compare: bool = False,
              known: int | None = None) -> tuple[object, ...]:
    """What the curve depends on; cheap, whatever the number of epochs."""
    timeline = session.timeline
    known = timeline.known() if known is None else known
    plain = session.plain_sgd() if compare else None
    return (timeline, known, session.epoch, _current(session), buckets, log, plain,
            plain.known() if plain is not None else 0)


def error_curve(session: Session, buckets: int, log: bool, compare: bool = False) -> Curve:
    """The curve of every epoch's total error run so far, in at most about ``2 * buckets``
    points, the current epoch marked; ``compare``: with plain sgd's over the same epochs
    (where some epoch uses another optimiser)."""
    timeline = session.timeline
    known = timeline.known()
    plain = session.plain_sgd() if compare else None
    key = curve_key(session, buckets, log, compare, known)  # before reading: never newer
    errors = timeline.errors()[:known]
    current = _current(session)
    if current is not None and session.epoch == known + 1:  # its E_total is on screen
        errors = np.append(errors, current)
    errors, left_off = _drawable(errors)
    epochs, values = downsample(errors, buckets)
    symbol = keys.symbol(keys.DATASET if session.network.examples > 1 else keys.TOTAL)
    curve = Curve(key, epochs, values, len(errors), session.epoch, current, log,
                  left_off, symbol)
    if plain is None:
        return curve
    compared, _ = _drawable(plain.errors()[:curve.count])
    marked = session.epoch - 1
    return replace(curve, plain=downsample(compared, buckets),
                   plain_error=float(compared[marked]) if marked < len(compared) else None,
                   labels=(_optimizers(session), PLAIN))


def _drawable(errors: np.ndarray) -> tuple[np.ndarray, int]:
    """The errors up to the first that is not finite or beyond LARGEST (a diverging run:
    the curve ends there), and how many are left off."""
    drawable = np.isfinite(errors) & (np.abs(errors) <= LARGEST)
    left_off = len(errors) - int(drawable.sum())
    if left_off:
        errors = errors[: int(np.argmin(drawable))] if not drawable.all() else errors
    return errors, left_off


def _optimizers(session: Session) -> str:
    """The session's own line's name: its optimisers in the order its epochs use them."""
    used = [session.base.optimizer, *(edit.value for edit in session.state.edits
                                      if edit.name == "optimizer")]
    names = [str(name) for k, name in enumerate(used) if k == 0 or name != used[k - 1]]
    return " → ".join(names)
