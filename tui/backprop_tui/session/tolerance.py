"""The quiz's tolerance rule, apart from the quiz: the command line and the app's preferences
check a tolerance before anything that imports numpy is loaded."""

from __future__ import annotations

import math

from backprop_tui.output import clipped, quoted

DEFAULT_TOLERANCE = 1e-3


def check_tolerance(value: object) -> float:
    """A relative tolerance above 0 and below 1, or ValueError saying so in one line."""
    try:
        if not isinstance(value, int | float | str):
            raise TypeError(value)
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"expected a tolerance such as 1e-3, got {quoted(str(value))}") from None
    if isinstance(value, bool) or not math.isfinite(number) or not 0 < number < 1:
        raise ValueError(f"the tolerance must be above 0 and below 1, got {clipped(str(value))}")
    return number
