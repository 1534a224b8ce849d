"""What the error curve shows, picked out of the session: the view model of one panel.

The errors come from the session's timeline (recorded as its epochs run) and, for the
current epoch once its E_total step is reached, from that step; ``downsample`` reduces them
to the panel's width. Imported when the curve first opens (it needs numpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from backprop_tui.app.view_model import total_error
from backprop_tui.numbers import fmt
from backprop_tui.session.losses import downsample

if TYPE_CHECKING:
    from backprop_tui.session.session import Session

LABEL_DIGITS = 4


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

    @property
    def caption(self) -> str:
        """What the panel says beneath the curve: the marked epoch, its error, the scale."""
        where = f"▶ epoch {self.epoch:,}"
        if self.error is not None:
            where += f" · E_total {fmt(self.error, LABEL_DIGITS)}"
        return where + (" · log scale" if self.log else "")


def curve_key(session: Session, buckets: int, log: bool,
              known: int | None = None) -> tuple[object, ...]:
    """What the curve depends on; cheap, whatever the number of epochs."""
    timeline = session.timeline
    known = timeline.known() if known is None else known
    return timeline, known, session.epoch, total_error(session), buckets, log


def error_curve(session: Session, buckets: int, log: bool) -> Curve:
    """The curve of every epoch's total error run so far, in at most about ``2 * buckets``
    points, the current epoch marked."""
    timeline = session.timeline
    known = timeline.known()
    errors = timeline.errors()[:known]
    current = total_error(session)
    if current is not None and session.epoch == known + 1:  # its E_total is on screen
        errors = np.append(errors, current)
    epochs, values = downsample(errors, buckets)
    return Curve(curve_key(session, buckets, log, known), epochs, values, len(errors),
                 session.epoch, current, log)
