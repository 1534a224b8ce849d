"""The total error of every epoch run so far, for the error curve.

A timeline keeps networks only at checkpoints; the curve needs one number an epoch. A
``LossRecord`` is that number for a run of consecutive epochs, in a float array that grows
by doubling (appending is amortised O(1)), filled as the timeline runs epochs — by stepping
or by a fast-forward in a worker thread, read meanwhile by the app to draw the curve live.

``downsample`` reduces any number of epochs to a few points a column of the panel (each
bucket's smallest and largest error), so drawing costs the same at 100 epochs as at 100,000.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

INITIAL_CAPACITY = 1024


class LossRecord:
    """The errors of epochs ``first``, ``first + 1`` … as far as known, without gaps.

    Safe to write and read from several threads: a reader gets a view of the values known
    when it asked, which later appends never change.
    """

    def __init__(self, first: int = 1) -> None:
        self.first = first
        self._values = np.empty(INITIAL_CAPACITY)
        self._count = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    @property
    def end(self) -> int:
        """The last epoch recorded (``first - 1`` when none is)."""
        return self.first + self._count - 1

    def record(self, epoch: int, losses: Sequence[float]) -> None:
        """The errors of epochs ``epoch``, ``epoch + 1`` …: those beyond the last one known
        are appended; those already known are the same numbers (epochs are deterministic)
        and are skipped; a run that starts beyond the end would leave a gap and is ignored."""
        with self._lock:
            count = self._count
            skip = self.first + count - epoch
            if skip < 0 or skip >= len(losses):
                return
            new = np.asarray(losses[skip:], dtype=float)
            if count + len(new) > len(self._values):
                grown = np.empty(max(2 * len(self._values), count + len(new)))
                grown[:count] = self._values[:count]
                self._values = grown  # readers holding the old array keep valid values
            self._values[count:count + len(new)] = new
            self._count = count + len(new)

    def values(self, upto: int | None = None) -> np.ndarray:
        """The errors of epochs ``first`` … ``min(upto, end)``, a read-only view."""
        with self._lock:
            values, count = self._values, self._count
        if upto is not None:
            count = max(0, min(count, upto - self.first + 1))
        view = values[:count]
        view.flags.writeable = False
        return view


def downsample(errors: np.ndarray, buckets: int, first: int = 1
               ) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, errors) to draw ``errors`` (of epochs ``first`` …) in ``buckets`` columns:
    every epoch when they fit; else each bucket's largest and smallest error, in the order
    the curve passes them (falling: largest first), at the bucket's middle epoch. Spikes and
    the range of every bucket stay visible; the cost is one pass over the errors."""
    count = len(errors)
    buckets = max(1, buckets)
    if count <= 2 * buckets:
        return np.arange(first, first + count, dtype=float), np.array(errors, dtype=float)
    starts = (np.arange(buckets) * count) // buckets
    ends = np.append(starts[1:], count)
    high = np.maximum.reduceat(errors, starts)
    low = np.minimum.reduceat(errors, starts)
    falling = errors[starts] >= errors[ends - 1]
    middle = first + (starts + ends - 1) / 2.0
    epochs = np.empty(2 * buckets + 2)
    values = np.empty(2 * buckets + 2)
    epochs[1:-1] = np.repeat(middle, 2)
    values[1:-1:2] = np.where(falling, high, low)
    values[2:-1:2] = np.where(falling, low, high)
    # The curve starts at the first epoch's error and ends at the last one's, exactly.
    epochs[0], values[0] = first, errors[0]
    epochs[-1], values[-1] = first + count - 1, errors[-1]
    return epochs, values
