"""Activations and losses, each with its local derivative right beside it.

Every function works on float64 arrays and returns (value, derivative). Callers run them
under ``np.errstate(all="ignore")``: the sigmoid's ``exp(-net)`` may overflow to inf for
net below about -709, and 1 / (1 + inf) is then exactly 0, the correctly rounded result.

The ``hand_`` and ``HAND_`` versions at the end work on single Python floats, for hand
rounding (see there).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from backprop_tui.scalar import exp, square

Pair = tuple[np.ndarray, np.ndarray]


def sigmoid(net: np.ndarray) -> Pair:
    out = 1.0 / (1.0 + np.exp(-net))
    return out, out * (1.0 - out)  # d out / d net = out (1 - out)


def tanh(net: np.ndarray) -> Pair:
    out = np.tanh(net)
    return out, 1.0 - out * out  # d out / d net = 1 - out²


def relu(net: np.ndarray) -> Pair:
    out = np.maximum(net, 0.0)
    return out, (net > 0.0).astype(np.float64)  # 1 where net > 0, else 0 (0 at 0)


def linear(net: np.ndarray) -> Pair:
    out = net.copy()
    return out, np.ones_like(net)  # d out / d net = 1


ACTIVATION: dict[str, Callable[[np.ndarray], Pair]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "linear": linear,
}


def half_sse(targets: np.ndarray, out: np.ndarray) -> Pair:
    """E_k = ½(t_k − out_k)², the tutorial's error; ∂E/∂out_k = −(t_k − out_k)."""
    diff = targets - out
    return 0.5 * (diff * diff), -diff


def mse(targets: np.ndarray, out: np.ndarray) -> Pair:
    """E_k = (t_k − out_k)² / n, so E_total is the mean; ∂E/∂out_k = −2(t_k − out_k) / n."""
    n = float(len(out))
    diff = targets - out
    return (diff * diff) / n, (-2.0 * diff) / n


LOSS: dict[str, Callable[[np.ndarray, np.ndarray], Pair]] = {
    "half_sse": half_sse,
    "mse": mse,
}


# Hand rounding ------------------------------------------------------------------------
#
# With ``rounding`` on, each value is computed from already-rounded values by the formula
# its step shows, with the same Python float operations ``steps.expr.evaluate`` uses (fsum
# for a sum, ``x ** 2`` for a square, math.exp), then rounded: so a step recomputed from
# its operands gives back exactly its value. numpy's exp or pairwise sums could differ in
# the last bit, and that bit can decide a decimal rounding.


def _hand_sigmoid(net: float) -> float:
    return 1.0 / (1.0 + exp(-net))


HAND_ACTIVATION: dict[str, Callable[[float], float]] = {
    "sigmoid": _hand_sigmoid,
    "tanh": math.tanh,
    "relu": lambda net: max(0.0, net),
    "linear": lambda net: net,
}
# d out / d net from (out, net), as the slope step shows it: from the rounded out.
HAND_SLOPE: dict[str, Callable[[float, float], float]] = {
    "sigmoid": lambda out, _: out * (1.0 - out),
    "tanh": lambda out, _: 1.0 - square(out),
    "relu": lambda _, net: 1.0 if net > 0 else 0.0,
    "linear": lambda _out, _net: 1.0,
}


def hand_error(loss: str, target: float, out: float, n: int) -> float:
    """E_k for one output: ½(t − out)², or (t − out)²/n."""
    if loss == "half_sse":
        return 0.5 * square(target - out)
    return square(target - out) / float(n)


def hand_dE_dout(loss: str, target: float, out: float, n: int) -> float:
    """∂E/∂out_k for one output: −(t − out), or −2(t − out)/n."""
    if loss == "half_sse":
        return -(target - out)
    return (-2.0 * (target - out)) / float(n)
