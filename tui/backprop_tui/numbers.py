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


def integer_width(text: str) -> int:
    """Characters before the decimal point (or the whole number), to align on the point."""
    return len(text.split("e")[0].split(".")[0])


def aligned(texts: list[str]) -> list[str]:
    """Numbers padded on both sides so that their decimal points line up."""
    point = max(map(integer_width, texts), default=0)
    padded = [" " * (point - integer_width(text)) + text for text in texts]
    width = max(map(len, padded), default=0)
    return [text.ljust(width) for text in padded]
