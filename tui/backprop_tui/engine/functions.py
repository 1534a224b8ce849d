"""Activations and losses, each with its local derivative right beside it.

Every function works on float64 arrays and returns (value, derivative). Callers run them
under ``np.errstate(all="ignore")``: the sigmoid's ``exp(-net)`` may overflow to inf for
net below about -709, and 1 / (1 + inf) is then exactly 0, the correctly rounded result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
