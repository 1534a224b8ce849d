"""Scalar arithmetic as a formula on paper does it, for ``formula.evaluate`` (which hand
rounding and the re-working of printed values use): one float operation each, and overflow
gives inf (as numpy does) instead of raising, so a huge value cannot stop a walkthrough.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Context


def round_sig(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant decimal digits, as a person writes it.

    The rounding is decimal, of the value written to 15 significant digits, half away from
    zero: a person who gets 2.675 writes 2.68 at 3 digits, where ``f"{2.675:.3g}"`` gives
    2.67 because the float nearest 2.675 lies just below it. Binary noise past the 15th
    digit must not decide a hand rounding.
    """
    if not math.isfinite(value):
        return value
    return float(_hand_context(digits).create_decimal(f"{value:.14e}"))


@cache
def _hand_context(digits: int) -> Context:
    """Decimal arithmetic to ``digits`` significant digits, rounding half away from zero."""
    from decimal import ROUND_HALF_UP, Context  # here: only hand rounding needs it

    return Context(prec=digits, rounding=ROUND_HALF_UP)


def fsum(values: Iterable[float]) -> float:
    """An exactly rounded sum; inf or NaN where math.fsum refuses (overflow, inf − inf)."""
    values = list(values)
    try:
        return math.fsum(values)
    except OverflowError:
        return sum(values)
    except ValueError:
        return math.nan


def power(x: float, exponent: int) -> float:
    """``x ** exponent`` as a formula evaluates it, ±inf where Python raises on overflow."""
    try:
        return x**exponent
    except OverflowError:
        return math.copysign(math.inf, x) if exponent % 2 else math.inf


def exp(x: float) -> float:
    """e**x, inf where math.exp raises on overflow."""
    return math.exp(x) if x < 709 else math.inf
