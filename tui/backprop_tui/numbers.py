"""The one rule every number on screen and in the logs follows: ``digits`` significant digits.

Trailing zeros are dropped (0.75136507, as the tutorial prints it), very small or large
magnitudes switch to exponent form, and a negative zero prints as 0.
"""

from __future__ import annotations

DEFAULT_DIGITS = 9
MIN_DIGITS = 3
MAX_DIGITS = 15


def fmt(value: float, digits: int = DEFAULT_DIGITS) -> str:
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"
