"""The one rule every number on screen and in the logs follows: ``digits`` significant digits.

Trailing zeros are dropped (0.75136507, as the tutorial prints it), very small or large
magnitudes switch to exponent form, and a negative zero prints as 0. A value that is not
a finite number (a teaching-only step's −t/out where out underflowed to 0) is written in
words, "not representable", wherever a step's value or operand is shown or written:
``value_text`` is that rule, and every view and log reads it.
"""

from __future__ import annotations

import math

DEFAULT_DIGITS = 9
MIN_DIGITS = 3
MAX_DIGITS = 15
NOT_REPRESENTABLE = "not representable"  # a value that is NaN or ±inf, in words


def fmt(value: float, digits: int = DEFAULT_DIGITS) -> str:
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def representable(value: float) -> bool:
    """Whether ``value`` is a number a view can write (finite), not NaN or ±inf."""
    return math.isfinite(value)


def value_text(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """A step's value (or operand) as every view and log writes it: ``fmt``, or the words
    "not representable" for NaN and ±inf."""
    return fmt(value, digits) if representable(value) else NOT_REPRESENTABLE


def tex_value(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """``value_text`` as LaTeX: an exponent as × 10ⁿ, the words as text."""
    text = value_text(value, digits)
    if text == NOT_REPRESENTABLE:
        return rf"\text{{{NOT_REPRESENTABLE}}}"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def integer_width(text: str) -> int:
    """Characters before the decimal point (or the whole number), to align on the point;
    the words "not representable" start where a one-digit number does."""
    if text == NOT_REPRESENTABLE:
        return 1
    return len(text.split("e")[0].split(".")[0])


def aligned(texts: list[str]) -> list[str]:
    """Numbers padded on both sides so that their decimal points line up."""
    point = max(map(integer_width, texts), default=0)
    padded = [" " * (point - integer_width(text)) + text for text in texts]
    width = max(map(len, padded), default=0)
    return [text.ljust(width) for text in padded]
