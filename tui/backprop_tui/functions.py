"""Activations and losses: each one record, read by every path that needs it.

A record holds everything about its function: the value and the local derivative on numpy
arrays (the trace) and on Python floats (the fast path), the same as formulas (the steps
show them, hand rounding and the quiz evaluate them), the words that explain them, and the
slips people make with them. Network files, the palette and ``new-config`` list the names
in ``ACTIVATIONS`` and ``LOSSES``; adding a function is adding a record there (see the
README's Development section).

Shapes the records leave room for: an activation's array functions take a whole layer's
weighted sums, so an output rule whose slope is not elementwise (softmax) can be a record
with its own steps; an optimiser with state is a record of the same kind for the updates.

The array functions run under ``np.errstate(all="ignore")``: the sigmoid's ``exp(-net)``
may overflow to inf for net below about -709, and 1 / (1 + inf) is then exactly 0, the
correctly rounded result. numpy is imported when first used, never by importing this
module: network files are checked, and the app's first frame drawn, without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from backprop_tui.formula import (
    HALF,
    ONE,
    ZERO,
    Add,
    Call,
    Div,
    Exact,
    Exp,
    Expr,
    Lit,
    Mul,
    Neg,
    Positive,
    Power,
    Ref,
    Renderer,
    Sub,
)
from backprop_tui.scalar import power

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float64]


@cache
def _np() -> ModuleType:
    import numpy

    return numpy


# Activations ---------------------------------------------------------------------------


class OperandSlip(NamedTuple):
    """A slip with an activation's own formula: the step's formula (``step``: "out" or
    "slope") worked from the wrong operand. ``operand``: "negated" (−operand), or the unit's
    "net", "out" or "dE_dout" in place of the one the formula takes. ``text`` may name the
    unit ({u}) and the slope's shape ({shape})."""

    name: str
    step: str
    operand: str
    text: str


class Activation(NamedTuple):
    name: str
    symbol: str  # how a sentence names it: σ, tanh, ReLU
    value: Callable[[float], float]  # out from net
    slope: Callable[[float, float], float]  # ∂out/∂net from (out, net)
    array_value: Callable[[Array], Array]  # a layer's outs from its nets
    array_slope: Callable[[Array, Array], Array]  # a layer's slopes from (outs, nets)
    formula: Expr  # out, of Ref(0) = net
    slope_formula: Expr  # ∂out/∂net, of Ref(0) = the quantity ``reads``
    reads: str  # what the slope is worked from: "out", "net", or "" (a constant)
    words: str  # what the unit's output is
    slope_words: str  # why its slope is what it is
    kinked: bool = False  # the slope jumps at net = 0: a finite difference may straddle it
    slips: tuple[OperandSlip, ...] = ()

    @property
    def shape(self) -> str:
        """The slope's formula in words a person writes: ``out·(1 − out)``."""
        return _Named(("out" if self.reads == "out" else "net",), None, False, 9).render(
            self.slope_formula)


@dataclass(frozen=True, slots=True)
class _Named(Renderer):
    """A Renderer whose operands read as plain words (out, net), not as a unit's keys."""

    def leaf(self, index: int) -> tuple[str, int]:
        return str(self.keys[index]), 9


def _logistic(z: float) -> float:
    """σ(z) = 1/(1 + e^(−z)), without overflow for z far below 0."""
    return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else math.exp(z)


def _softplus(z: float) -> float:
    """ln(1 + e^z), without overflow for large z nor 1 + e^z rounding to 1 for very
    negative z."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _array_logistic(net: Array) -> Array:
    return 1.0 / (1.0 + _np().exp(-net))


_LOGISTIC = Div(ONE, Add((ONE, Exp(Neg(Ref(0))))))  # 1/(1 + e^(−x))
_SLOPE_AT_DERIVATIVE = OperandSlip("slope-at-derivative", "slope", "dE_dout",
                                   "you evaluated {shape} at ∂E/∂out_{u}; it takes out_{u}")
_SLOPE_AT_NET = OperandSlip("slope-at-net", "slope", "net",
                            "you evaluated {shape} at net_{u}; it takes the output out_{u}")

SIGMOID = Activation(
    name="sigmoid",
    symbol="σ",
    value=_logistic,
    slope=lambda out, _net: out * (1.0 - out),
    array_value=_array_logistic,
    array_slope=lambda out, _net: out * (1.0 - out),
    formula=_LOGISTIC,
    slope_formula=Mul((Ref(0), Sub(ONE, Ref(0)))),
    reads="out",
    words="The logistic function σ squashes the weighted sum into the range 0 to 1",
    slope_words="the logistic function's derivative is out·(1 − out), so it needs only the "
                "output",
    slips=(OperandSlip("exponent-sign", "out", "negated",
                       "you used e^(net) in place of e^(−net) in 1/(1 + e^(−net))"),
           _SLOPE_AT_DERIVATIVE, _SLOPE_AT_NET),
)
TANH = Activation(
    name="tanh",
    symbol="tanh",
    value=math.tanh,
    slope=lambda out, _net: 1.0 - out * out,
    array_value=lambda net: _np().tanh(net),
    array_slope=lambda out, _net: 1.0 - out * out,
    formula=Call("tanh", r"\tanh", (Ref(0),), math.tanh),
    slope_formula=Sub(ONE, Power(Ref(0))),
    reads="out",
    words="tanh squashes the weighted sum into the range −1 to 1",
    slope_words="tanh's derivative is 1 − out², so it needs only the output",
    slips=(_SLOPE_AT_DERIVATIVE, _SLOPE_AT_NET),
)
RELU = Activation(
    name="relu",
    symbol="ReLU",
    value=lambda net: net if net > 0.0 else 0.0,
    slope=lambda _out, net: 1.0 if net > 0.0 else 0.0,
    array_value=lambda net: _np().maximum(net, 0.0),
    array_slope=lambda _out, net: (net > 0.0).astype(float),
    formula=Call("max", r"\max", (ZERO, Ref(0)), max),
    slope_formula=Positive(Ref(0)),
    reads="net",
    words="ReLU passes a positive weighted sum through and turns any other into 0",
    slope_words="ReLU's slope is 1 where the weighted sum is above 0, and 0 elsewhere (0 at 0 "
                "too)",
    kinked=True,
)
LINEAR = Activation(
    name="linear",
    symbol="linear",
    value=lambda net: net,
    slope=lambda _out, _net: 1.0,
    array_value=lambda net: net.copy(),
    array_slope=lambda _out, net: _np().ones_like(net),
    formula=Ref(0),
    slope_formula=ONE,
    reads="",
    words="A linear unit passes its weighted sum through unchanged",
    slope_words="a linear unit's slope is 1 everywhere",
)
SOFTPLUS = Activation(
    name="softplus",
    symbol="softplus",
    value=_softplus,
    slope=lambda _out, net: _logistic(net),
    array_value=lambda net: (_np().maximum(net, 0.0)
                             + _np().log1p(_np().exp(-_np().abs(net)))),
    array_slope=lambda _out, net: _array_logistic(net),
    formula=Exact(Call("ln", r"\ln", (Add((ONE, Exp(Ref(0)))),), math.log), (Ref(0),),
                  _softplus),
    slope_formula=_LOGISTIC,
    reads="net",
    words="Softplus, ln(1 + e^net), is a smooth ReLU: near 0 for a weighted sum far below 0, "
          "close to the sum itself far above it, and always positive",
    slope_words="softplus's derivative is the logistic function of the weighted sum, "
                "σ(net) = 1/(1 + e^(−net)), so it needs the weighted sum, not the output",
    slips=(OperandSlip("slope-at-out", "slope", "out",
                       "you evaluated σ at out_{u}; softplus's slope is σ(net_{u})"),
           OperandSlip("slope-at-derivative", "slope", "dE_dout",
                       "you evaluated σ at ∂E/∂out_{u}; softplus's slope is σ(net_{u})")),
)
LEAK = 0.01  # a leaky ReLU's slope below 0
LEAKY_RELU = Activation(
    name="leaky_relu",
    symbol="leaky ReLU",
    value=lambda net: net if net > 0.0 else LEAK * net,
    slope=lambda _out, net: 1.0 if net > 0.0 else LEAK,
    array_value=lambda net: _np().where(net > 0.0, net, LEAK * net),
    array_slope=lambda _out, net: _np().where(net > 0.0, 1.0, LEAK),
    formula=Call("max", r"\max", (Mul((Lit(str(LEAK), str(LEAK), LEAK), Ref(0))), Ref(0)), max),
    slope_formula=Positive(Ref(0), LEAK),
    reads="net",
    words=f"A leaky ReLU passes a positive weighted sum through and scales any other by "
          f"{LEAK}, so a unit below 0 still passes a little of its error back",
    slope_words=f"a leaky ReLU's slope is 1 where the weighted sum is above 0, and {LEAK} "
                f"elsewhere ({LEAK} at 0 too)",
    kinked=True,
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    SIGMOID, TANH, RELU, LINEAR, SOFTPLUS, LEAKY_RELU)}


# Losses --------------------------------------------------------------------------------


class LossSlip(NamedTuple):
    """A slip with a loss's own formula, at the step ``step`` ("error", "dE_dout" or
    "total"): ``value(right, target, out, n)`` is the wrong value (None: not here), from
    the right one, the output's target and value (None at the total) and n the outputs.
    ``text`` may name n ({n})."""

    name: str
    step: str
    value: Callable[[float, float, float, int], float | None]
    text: str


class Loss(NamedTuple):
    """A loss that sums one error per output: E_total = Σ_k E_k."""

    name: str
    error: Callable[[float, float, int], float]  # E_k from (target, out, n outputs)
    derivative: Callable[[float, float, int], float]  # ∂E/∂out_k, likewise
    array_error: Callable[[Array, Array], Array]  # every E_k from (targets, outs): a row each
    array_derivative: Callable[[Array, Array], Array]
    error_formula: Callable[[Expr, Expr, Expr], Expr]  # E_k of (target, out, n)
    derivative_formula: Callable[[Expr, Expr, Expr], Expr]
    words: str  # what E_k is, of output {u}
    rule: str  # how its derivative comes about
    total: str  # E_total in Unicode
    total_tex: str
    guide: str  # a few words for the network file's guide
    slips: tuple[LossSlip, ...] = ()

    @property
    def derivative_shape(self) -> str:
        """∂E/∂out in words a person writes: ``−(t − out)``."""
        named = _Named(("t", "out", "n"), None, False, 9)
        return named.render(self.derivative_formula(Ref(0), Ref(1), Ref(2)))


def _not_squared(right: float, target: float, out: float, _n: int) -> float | None:
    return right / abs(target - out) if target != out else None


_NOT_SQUARED = LossSlip("not-squared", "error", _not_squared,
                        "you did not square the gap t − out")

HALF_SSE = Loss(
    name="half_sse",
    error=lambda t, out, _n: 0.5 * power(t - out, 2),
    derivative=lambda t, out, _n: -(t - out),
    array_error=lambda t, out: 0.5 * ((t - out) * (t - out)),
    array_derivative=lambda t, out: out - t,  # −(t − out) exactly, in one operation
    error_formula=lambda t, out, _n: Mul((HALF, Power(Sub(t, out)))),
    derivative_formula=lambda t, out, _n: Neg(Sub(t, out)),
    words="The error at {u}: half the squared gap between its target and its output. The ½ "
          "is there to cancel the 2 that differentiating brings down.",
    rule="differentiating ½(t − out)² gives −(t − out)",
    total="E_total = Σ ½(t_o − out_o)²",
    total_tex=r"E_{\mathrm{total}} = \sum_{o} \tfrac{1}{2}\left(t_{o} - \mathrm{out}_{o}\right)^2",
    guide="E = sum of 1/2 (t - out)^2",
    slips=(LossSlip("half-left-out", "error", lambda right, _t, _o, _n: 2 * right,
                    "you left out the ½ of ½(t − out)²"),
           _NOT_SQUARED,
           LossSlip("averaged", "total", lambda right, _t, _o, n: right / n,
                    "you averaged the output errors; E_total is their sum")),
)
MSE = Loss(
    name="mse",
    error=lambda t, out, n: power(t - out, 2) / float(n),
    derivative=lambda t, out, n: (-2.0 * (t - out)) / float(n),
    array_error=lambda t, out: ((t - out) * (t - out)) / float(out.shape[-1]),
    array_derivative=lambda t, out: (-2.0 * (t - out)) / float(out.shape[-1]),
    error_formula=lambda t, out, n: Div(Power(Sub(t, out)), n),
    derivative_formula=lambda t, out, n: Div(Mul((Lit("−2", "-2", -2.0), Sub(t, out))), n),
    words="{u}'s share of the mean squared error: the squared gap between its target and its "
          "output, divided by the number of outputs n.",
    rule="differentiating (t − out)²/n gives −2(t − out)/n",
    total="E_total = Σ (t_o − out_o)²/n, n the number of outputs",
    total_tex=r"E_{\mathrm{total}} = \sum_{o} \frac{\left(t_{o} - \mathrm{out}_{o}\right)^2}{n}",
    guide="mean of (t - out)^2",
    slips=(LossSlip("n-left-out", "error", lambda right, _t, _o, n: n * right,
                    "you did not divide by n = {n}"),
           _NOT_SQUARED,
           LossSlip("two-left-out", "dE_dout", lambda right, _t, _o, _n: right / 2,
                    "you left out the 2 that differentiating (t − out)² brings down"),
           LossSlip("n-left-out", "dE_dout", lambda right, _t, _o, n: n * right,
                    "you did not divide by n = {n}")),
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (HALF_SSE, MSE)}


def choices(registry: dict[str, Activation] | dict[str, Loss]) -> str:
    """The names as a network file writes them: '"sigmoid", "tanh" or "relu"'."""
    names = [f'"{name}"' for name in registry]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]

