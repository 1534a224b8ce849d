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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

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
    Raised,
    Ref,
    Renderer,
    Root,
    Sub,
    renumbered,
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
    value: Callable[[float], float]  # out from net (a coupled one's: from the whole layer)
    slope: Callable[[float, float], float]  # ∂out/∂net from (out, net)
    array_value: Callable[[Array], Array]  # a layer's outs from its nets
    array_slope: Callable[[Array, Array], Array]  # a layer's slopes from (outs, nets)
    formula: Expr | None  # out, of Ref(0) = net (None: coupled, see ``coupled.formula``)
    slope_formula: Expr  # ∂out/∂net, of Ref(0) = the quantity ``reads``
    reads: str  # what the slope is worked from: "out", "net", or "" (a constant)
    words: str  # what the unit's output is
    slope_words: str  # why its slope is what it is
    kinked: bool = False  # the slope jumps at net = 0: a finite difference may straddle it
    slips: tuple[OperandSlip, ...] = ()
    coupled: Coupled | None = None  # an output rule of the whole layer (softmax)

    @property
    def shape(self) -> str:
        """The slope's formula in words a person writes: ``out·(1 − out)``."""
        return _Named(("out" if self.reads == "out" else "net",), None, False, 9).render(
            self.slope_formula)


class Coupled(NamedTuple):
    """An activation whose every output depends on every weighted sum of its layer
    (softmax): out_k = f_k(net_1, …, net_n), and ∂out_k/∂net_j is a Jacobian, so its layer
    is worked whole. Such a layer is an output layer (``output_only``); the per-unit
    ``slope`` of its record is the Jacobian's diagonal."""

    values: Callable[[Sequence[float]], list[float]]  # a layer's outs from its nets
    formula: Callable[[int, int], Expr]  # out_k of Ref(j) = net_j: unit k of n
    jacobian: Callable[[bool], Expr]  # ∂out_k/∂net_j of Ref(0) = out_k, Ref(1) = out_j (k = j?)
    back: Callable[[Sequence[float], Sequence[float]], list[float]]  # δ_j = Σ_k g_k ∂out_k/∂net_j
    array_back: Callable[[Array, Array], Array]  # likewise, a row per example, from (g, outs)
    array_jacobian: Callable[[Array], Array]  # [k, j] = ∂out_k/∂net_j, from one example's outs
    jacobian_words: str  # why ∂out_k/∂net_j is what it is
    intro: str  # the logs' sentence on such a layer, in the output phase


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
_SHARE_SLOPE = Mul((Ref(0), Sub(ONE, Ref(0))))  # out·(1 − out): a sigmoid's, softmax's diagonal


def _share_slope(out: Any, _net: Any) -> Any:
    """out·(1 − out), of floats or arrays."""
    return out * (1.0 - out)


_SLOPE_AT_DERIVATIVE = OperandSlip("slope-at-derivative", "slope", "dE_dout",
                                   "you evaluated {shape} at ∂E/∂out_{u}; it takes out_{u}")
_SLOPE_AT_NET = OperandSlip("slope-at-net", "slope", "net",
                            "you evaluated {shape} at net_{u}; it takes the output out_{u}")

SIGMOID = Activation(
    name="sigmoid",
    symbol="σ",
    value=_logistic,
    slope=_share_slope,
    array_value=_array_logistic,
    array_slope=_share_slope,
    formula=_LOGISTIC,
    slope_formula=_SHARE_SLOPE,
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


def _softmax(nets: Sequence[float]) -> list[float]:
    """exp(net_k)/Σ_j exp(net_j), the largest net subtracted first (no overflow)."""
    top = max(nets)
    terms = [math.exp(z - top) for z in nets]
    total = math.fsum(terms)
    return [term / total for term in terms]


def _softmax_of(own: float, *nets: float) -> float:
    """out_k of its net and the layer's, as the step computes it."""
    top = max(nets)
    return math.exp(own - top) / math.fsum([math.exp(z - top) for z in nets])


def _array_softmax(net: Array) -> Array:
    np = _np()
    terms = np.exp(net - net.max(axis=-1, keepdims=True))
    return terms / terms.sum(axis=-1, keepdims=True)


def _logsumexp(nets: Sequence[float]) -> float:
    top = max(nets)
    return top + math.log(math.fsum([math.exp(z - top) for z in nets]))


def _array_logsumexp(net: Array) -> Array:
    np = _np()
    top = net.max(axis=-1, keepdims=True)
    return top + np.log(np.exp(net - top).sum(axis=-1, keepdims=True))


def _softmax_formula(k: int, n: int) -> Expr:
    shown = Div(Exp(Ref(k)), Add(tuple(Exp(Ref(j)) for j in range(n))))
    return Exact(shown, (Ref(k), *(Ref(j) for j in range(n))), _softmax_of)


def _softmax_jacobian(same: bool) -> Expr:
    """out_k(1 − out_k) on the diagonal, −out_k·out_j off it."""
    return _SHARE_SLOPE if same else Neg(Mul((Ref(0), Ref(1))))


def _softmax_back(g: Sequence[float], out: Sequence[float]) -> list[float]:
    """δ_j = Σ_k g_k out_k(1[k = j] − out_j) = out_j(g_j − Σ_k g_k out_k)."""
    mean = math.fsum([gk * ok for gk, ok in zip(g, out, strict=True)])
    return [oj * (gj - mean) for gj, oj in zip(g, out, strict=True)]


def _array_softmax_back(g: Array, out: Array) -> Array:
    return out * (g - (g * out).sum(axis=-1, keepdims=True))


def _array_softmax_jacobian(out: Array) -> Array:
    np = _np()
    return np.diag(out) - np.outer(out, out)


def _whole_layer(_net: float) -> float:
    raise TypeError("softmax is worked a layer at a time (Activation.coupled)")


SOFTMAX = Activation(
    name="softmax",
    symbol="softmax",
    value=_whole_layer,
    slope=_share_slope,
    array_value=_array_softmax,
    array_slope=_share_slope,
    formula=None,  # (an output's formula takes the whole layer: ``coupled.formula``)
    slope_formula=_SHARE_SLOPE,
    reads="out",
    words="Softmax turns the layer's weighted sums into shares that are positive and add up "
          "to 1: e to each sum, divided by the total of e to every sum of the layer",
    slope_words="a softmax output's share of the total moves with its own weighted sum by "
                "out·(1 − out), as a sigmoid's does",
    coupled=Coupled(
        values=_softmax,
        formula=_softmax_formula,
        jacobian=_softmax_jacobian,
        back=_softmax_back,
        array_back=_array_softmax_back,
        array_jacobian=_array_softmax_jacobian,
        jacobian_words="raising one weighted sum raises its own share and takes the same "
                       "amount from the others, in proportion to their shares: "
                       "∂out_k/∂net_j = −out_k·out_j for k ≠ j, out_j(1 − out_j) for k = j",
        intro="A softmax layer's outputs are coupled, each depending on every weighted sum "
              "of the layer: each output's ∂E/∂out comes first, then for each unit j the "
              "Jacobian's column ∂out_k/∂net_j and δ_j = Σ_k ∂E/∂out_k · ∂out_k/∂net_j, the "
              "whole column and not just its diagonal.",
    ),
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    SIGMOID, TANH, RELU, LINEAR, SOFTPLUS, LEAKY_RELU, SOFTMAX)}


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
    """A loss that sums one error per output: E_total = Σ_k E_k.

    A loss whose error is worked from the weighted sums (cross-entropy: ln out_k is
    net_k − logsumexp(net) under softmax, so an output that underflowed to 0 gives a finite
    error, not an infinite one) says so in ``nets``; its formulas then take the output
    layer's nets too. With ``shortcut`` the
    output layer's δ is out − t, worked directly; the chain rule's ∂E/∂out, slopes and
    their product are shown for teaching and may not be representable (−t/out where out
    underflowed to 0). A loss meant for certain output activations lists them in
    ``outputs`` and may have ``variants`` for others (cross-entropy under sigmoid)."""

    name: str
    error: Callable[[Sequence[float], Sequence[float], Sequence[float]], float]  # E_total
    # of one example from (targets, outs, nets)
    derivative: Callable[[float, float, int], float]  # ∂E/∂out_k from (target, out, n outputs)
    array_error: Callable[[Array, Array, Array], Array]  # every E_k from (targets, outs, nets)
    array_derivative: Callable[[Array, Array], Array]  # a row each, from (targets, outs)
    error_formula: Callable[[Expr, Expr, Expr, Expr, tuple[Expr, ...]], Expr]  # E_k of
    # (target, out, n, its net, every output's net)
    derivative_formula: Callable[[Expr, Expr, Expr], Expr]  # ∂E/∂out_k of (target, out, n)
    words: str  # what E_k is, of output {u}
    rule: str  # how its derivative comes about
    total: str  # E_total in Unicode
    total_tex: str
    guide: str  # a few words for the network file's guide
    slips: tuple[LossSlip, ...] = ()
    nets: bool = False  # the error is worked from the weighted sums
    shortcut: bool = False  # the output layer's δ is out − t
    shortcut_words: str = ""  # why the chain rule's δ comes to out − t
    unrepresentable: str = ""  # where its ∂E/∂out is not representable: "out_{u} has …"
    shortcut_intro: str = ""  # the logs' sentence on the shortcut, in the output phase
    derivative_sign: str = "positive when the output is above its target"
    other_output: str = ""  # the slip of an error worked from another output's value, {u}
    # this output, {other} the other (none: not a slip of this loss)
    outputs: tuple[str, ...] = ()  # the output activations it takes (none listed: any)
    variants: tuple[Loss, ...] = ()  # the same loss for other output activations

    @property
    def derivative_shape(self) -> str:
        """∂E/∂out in words a person writes: ``−(t − out)``."""
        named = _Named(("t", "out", "n"), None, False, 9)
        return named.render(self.derivative_formula(Ref(0), Ref(1), Ref(2)))


def loss_for(name: str, output: str) -> Loss:
    """The loss ``name`` as it applies to output units of activation ``output``."""
    record = LOSSES[name]
    for found in (record, *record.variants):
        if not found.outputs or output in found.outputs:
            return found
    raise ValueError(f"{name} does not apply to {output} outputs")


def array_chain(output: Activation, g: Array, out: Array, slope: Array) -> Array:
    """The output layer's δ by the chain rule from ∂E/∂out (``g``), on arrays (one
    example's, or a batch's rows): times the slope, or for a layer worked whole its
    Jacobian's transpose times it."""
    return output.coupled.array_back(g, out) if output.coupled else g * slope


def outputs_for(name: str) -> tuple[str, ...]:
    """The output activations loss ``name`` takes (none: any)."""
    record = LOSSES[name]
    return tuple(o for found in (record, *record.variants) for o in found.outputs)


def _not_squared(right: float, target: float, out: float, _n: int) -> float | None:
    return right / abs(target - out) if target != out else None


_NOT_SQUARED = LossSlip("not-squared", "error", _not_squared,
                        "you did not square the gap t − out")

HALF_SSE = Loss(
    name="half_sse",
    error=lambda targets, outs, _nets: sum([0.5 * power(t - out, 2)
                                            for t, out in zip(targets, outs, strict=True)]),
    derivative=lambda t, out, _n: -(t - out),
    array_error=lambda t, out, _net: 0.5 * ((t - out) * (t - out)),
    array_derivative=lambda t, out: out - t,  # −(t − out) exactly, in one operation
    error_formula=lambda t, out, _n, _net, _nets: Mul((HALF, Power(Sub(t, out)))),
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
    error=lambda targets, outs, _nets: sum([power(t - out, 2) / float(len(outs))
                                            for t, out in zip(targets, outs, strict=True)]),
    derivative=lambda t, out, n: (-2.0 * (t - out)) / float(n),
    array_error=lambda t, out, _net: ((t - out) * (t - out)) / float(out.shape[-1]),
    array_derivative=lambda t, out: (-2.0 * (t - out)) / float(out.shape[-1]),
    error_formula=lambda t, out, n, _net, _nets: Div(Power(Sub(t, out)), n),
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

def _ratio(top: float, bottom: float) -> float:
    """top/bottom; NaN for a zero bottom (not representable, as a formula gives)."""
    return top / bottom if bottom else math.nan


def _ln(x: float) -> float:
    return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


def _ln_of(arg: Expr) -> Expr:
    return Call("ln", r"\ln", (arg,), _ln)


def _softmax_error(t: float, own: float, *nets: float) -> float:
    """−t ln out_k as t(logsumexp(net) − net_k): finite for every finite net, and +0.0
    (not −0.0) at a perfect fit."""
    return _cross_entropy_term(t, _logsumexp(nets), own)


def _cross_entropy_term(t: float, lse: float, net: float) -> float:
    """t(lse − net): 0 where t is 0, even for a net so far below the others that the
    difference overflows."""
    return t * (lse - net) if t else 0.0


def _sigmoid_error(t: float, net: float) -> float:
    """−[t ln σ(net) + (1 − t) ln(1 − σ(net))] as softplus(net) − t·net."""
    return _softplus(net) - t * net


def _array_sigmoid_error(t: Array, _out: Array, net: Array) -> Array:
    np = _np()
    return np.maximum(net, 0.0) + np.log1p(np.exp(-np.abs(net))) - t * net


def _softmax_total(targets: Sequence[float], _outs: Sequence[float],
                   nets: Sequence[float]) -> float:
    lse = _logsumexp(nets)
    return sum([_cross_entropy_term(t, lse, z) for t, z in zip(targets, nets, strict=True)])


BINARY_CROSS_ENTROPY = Loss(
    name="cross_entropy",
    error=lambda targets, _outs, nets: sum([_sigmoid_error(t, z)
                                            for t, z in zip(targets, nets, strict=True)]),
    derivative=lambda t, out, _n: _ratio(-t, out) + _ratio(1.0 - t, 1.0 - out),
    array_error=_array_sigmoid_error,
    array_derivative=lambda t, out: -t / out + (1.0 - t) / (1.0 - out),
    error_formula=lambda t, out, _n, net, _nets: Exact(
        Neg(Add((Mul((t, _ln_of(out))), Mul((Sub(ONE, t), _ln_of(Sub(ONE, out))))))),
        (t, net), _sigmoid_error),
    derivative_formula=lambda t, out, _n: Add((Neg(Div(t, out)),
                                               Div(Sub(ONE, t), Sub(ONE, out)))),
    words="The error at {u}: the binary cross-entropy of its output against its target, "
          "−[t ln out + (1 − t) ln(1 − out)]: 0 for a perfect output, and without bound as "
          "the output nears the wrong end. It is worked from net_{u} "
          "(softplus(net) − t·net), so that it stays finite where out rounds to 0 or 1.",
    rule="differentiating −[t ln out + (1 − t) ln(1 − out)] gives −t/out + (1 − t)/(1 − out)",
    total="E_total = −Σ [t_o ln out_o + (1 − t_o) ln(1 − out_o)]",
    total_tex=r"E_{\mathrm{total}} = -\sum_{o} \left[t_{o} \ln \mathrm{out}_{o} + "
              r"\left(1 - t_{o}\right) \ln\left(1 - \mathrm{out}_{o}\right)\right]",
    guide="-sum of [t ln out + (1 - t) ln(1 - out)]",
    nets=True,
    shortcut=True,
    shortcut_words="the chain rule's δ is (−t/out + (1 − t)/(1 − out))·out(1 − out) = "
                   "−t(1 − out) + (1 − t)·out = out − t: the sigmoid's slope cancels the "
                   "cross-entropy's denominators",
    unrepresentable="out_{u} has underflowed to 0 or rounded to 1",
    shortcut_intro="With cross-entropy δ comes to out − t: a step of its own works this "
                   "shortcut, which the weights use, after ∂E/∂out, ∂out/∂net and their "
                   "product, which are shown for teaching (where an output has underflowed "
                   "to 0 or rounded to 1 they may not be representable; the shortcut still "
                   "is).",
    other_output="you took ln out_{other} (and ln(1 − out_{other})), another output's; E_{u} "
                 "takes the ln of its own, out_{u}",
    outputs=("sigmoid",),
)
CROSS_ENTROPY = Loss(
    name="cross_entropy",
    error=_softmax_total,
    derivative=lambda t, out, _n: _ratio(-t, out),
    array_error=lambda t, _out, net: _np().where(t != 0.0, t * (_array_logsumexp(net) - net),
                                                 0.0),
    array_derivative=lambda t, out: -t / out,
    error_formula=lambda t, out, _n, net, nets: Exact(
        Neg(Mul((t, _ln_of(out)))), (t, net, *nets), _softmax_error),
    derivative_formula=lambda t, out, _n: Neg(Div(t, out)),
    words="The error at {u}: −t ln out, the cross-entropy's term of this output; only an "
          "output whose target is not 0 adds to it. It is worked as t(logsumexp(net) − "
          "net_{u}), so that it stays finite where out_{u} underflows to 0.",
    rule="differentiating −t ln out gives −t/out",
    total="E_total = −Σ t_o ln out_o",
    total_tex=r"E_{\mathrm{total}} = -\sum_{o} t_{o} \ln \mathrm{out}_{o}",
    guide="-sum of t ln out",
    nets=True,
    shortcut=True,
    shortcut_words="the chain rule's δ_j is Σ_k (−t_k/out_k)·out_k(1[k = j] − out_j) = "
                   "−t_j + out_j·Σ_k t_k, and the targets sum to 1, so it is out_j − t_j",
    unrepresentable="out_{u} has underflowed to 0",
    shortcut_intro="With cross-entropy that δ_j comes to out_j − t_j: a step of its own "
                   "works this shortcut, which the weights use, after the chain rule's "
                   "values, which are shown for teaching (where an output has underflowed to "
                   "0 they are not representable; the shortcut still is).",
    derivative_sign="never positive: a larger output lowers −t·ln out",
    other_output="you took ln out_{other}, another output's; E_{u} takes the ln of its own, "
                 "out_{u}",
    outputs=("softmax",),
    variants=(BINARY_CROSS_ENTROPY,),
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (HALF_SSE, MSE, CROSS_ENTROPY)}


# Optimisers -----------------------------------------------------------------------------


class UpdateLine(NamedTuple):
    """One line of an optimiser's update, worked per parameter (or once per update: Adam's
    bias corrections): what it computes (``kind``: "new_v", "new_m", "new_s", "mhat",
    "shat", "bc1", "bc2", or "new", the parameter's new value), its formula of the values
    its ``uses`` name by role (w, g, eta, mu, beta1, beta2, epsilon, t, the state's v, m,
    s at the update's start, and the lines before it by kind), and why; ``first``: what it
    comes to at the first update, t = 1, every state value 0 (``{p}``: the parameter)."""

    kind: str
    formula: Expr
    uses: tuple[str, ...]
    words: str
    first: str = ""


class UpdateSlip(NamedTuple):
    """A slip with an optimiser's update at the line that computes ``kind`` (as in
    ``UpdateLine``): ``value`` gives the wrong value from the update's numbers by role (w,
    g, eta, …, t, and each line's result by its kind), None where it does not apply.
    ``text`` may name the parameter ({p}) and the update's number ({t})."""

    name: str
    kind: str
    value: Callable[[dict[str, float]], float | None]
    text: str


Numbers = Any  # a float, or an array of them: an optimiser's step works on either
State = tuple[Numbers, ...]  # a parameter's state (or a layer's), in its record's slots' order


class Optimizer(NamedTuple):
    """How a gradient becomes an update, PyTorch's definitions (so that PyTorch and
    backprop-trace agree): the options a network file gives it, the state each parameter
    keeps between updates (v; m and s, with the update count t), the lines of an update as
    formulas (the steps, hand rounding, the quiz), and the same as one function of floats
    or arrays (the fast path, the trace)."""

    name: str
    options: tuple[str, ...]  # its network-file keys (besides learning_rate)
    slots: tuple[str, ...]  # the state a parameter keeps
    per_update: tuple[UpdateLine, ...]  # worked once an update, before the parameters'
    lines: tuple[UpdateLine, ...]  # worked for each parameter, in order; the last is "new"
    step: Callable[[Numbers, Numbers, State, Hyper, int], tuple[Numbers, State]]  # (w, g,
    # the state at the update's start, the options, t) -> (the new w, the new state)
    words: str
    slips: tuple[UpdateSlip, ...] = ()
    also_right: tuple[UpdateSlip, ...] = ()  # a line's value written another way, judged
    # right: ``text`` says which form it is

    def line(self, kind: str) -> UpdateLine:
        """The line that computes ``kind`` ("new": the parameter's new value)."""
        return next(line for line in (*self.per_update, *self.lines) if line.kind == kind)

    @property
    def computed(self) -> tuple[str, ...]:
        """What its lines compute besides the new value, in order: bc1, …, new_v, mhat."""
        return tuple(line.kind for line in (*self.per_update, *self.lines)
                     if line.kind != "new")

    @property
    def given(self) -> tuple[str, ...]:
        """The numbers its lines take besides w, g, η and the state: μ; β₁, β₂, ε and t."""
        used = {role for line in (*self.per_update, *self.lines) for role in line.uses}
        return tuple(role for role in ("mu", "beta1", "beta2", "epsilon", "t") if role in used)


class Hyper(NamedTuple):
    """An optimiser's numbers besides the state (PyTorch's defaults)."""

    eta: float
    mu: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8


ROLES = ("w", "g", "eta", "mu", "beta1", "beta2", "epsilon", "t", "v", "m", "s", "new_v",
         "new_m", "new_s", "mhat", "shat", "bc1", "bc2")  # what an update line uses


class _Roles:
    """Each role's operand by name (``R.w``), to write an update line's formula."""

    def __getattr__(self, name: str) -> Ref:
        return Ref(ROLES.index(name))


R = _Roles()


def _line(kind: str, formula: Expr, words: str, first: str = "") -> UpdateLine:
    """A line written with roles (``R.w``): its uses, in the order its formula first meets
    them, and the formula numbered by them."""
    order: list[int] = []

    def place(index: int) -> Expr:
        if index not in order:
            order.append(index)
        return Ref(order.index(index))

    shown = renumbered(formula, place)
    return UpdateLine(kind, shown, tuple(ROLES[i] for i in order), words, first)


Step = tuple[Numbers, State]


def _sgd_step(w: Numbers, g: Numbers, state: State, h: Hyper, _t: int) -> Step:
    return w - h.eta * g, state


def _momentum_step(w: Numbers, g: Numbers, state: State, h: Hyper, _t: int) -> Step:
    v = h.mu * state[0] + g
    return w - h.eta * v, (v,)


def _nesterov_step(w: Numbers, g: Numbers, state: State, h: Hyper, _t: int) -> Step:
    v = h.mu * state[0] + g
    return w - h.eta * (g + h.mu * v), (v,)


def _adam_step(w: Numbers, g: Numbers, state: State, h: Hyper, t: int) -> Step:
    m = h.beta1 * state[0] + (1.0 - h.beta1) * g
    s = h.beta2 * state[1] + (1.0 - h.beta2) * (g * g)
    mhat = m / (1.0 - h.beta1**t)
    shat = s / (1.0 - h.beta2**t)
    # √ correctly rounded, as a formula's: math.sqrt on a float, numpy's on an array
    root = math.sqrt(shat) if type(shat) is float else _np().sqrt(shat)
    return w - h.eta * (mhat / (root + h.epsilon)), (m, s)


_DESCENT = _line("new", Sub(R.w, Mul((R.eta, R.g))),
                 "gradient descent: a step against the gradient, η times it")
_VELOCITY = _line("new_v", Add((Mul((R.mu, R.v)), R.g)),
                  "the velocity: μ times the last one, plus this gradient",
                  "v_{p} is 0, so v_{p}⁺ is ∂E/∂{p} itself")


def _before(t: float, beta: float, shift: int) -> float | None:
    """1 − βᵗ with t off by ``shift`` (None where that t is below 1: no update has it)."""
    return None if t + shift < 1 else 1.0 - beta ** (t + shift)


def _over(top: float, bottom: float | None) -> float | None:
    return None if bottom is None else top / bottom


# Slips with the velocity (momentum and Nesterov's): PyTorch's v has no η.
_NOT_CARRIED = UpdateSlip("velocity-not-carried", "new_v", lambda r: r["g"],
                          "that is ∂E/∂{p}, this gradient alone; the velocity carries over: "
                          "v_{p}⁺ = μ·v_{p} + ∂E/∂{p}")
_SUTSKEVER = "in Sutskever's form, v ← μ·v + η·∂E/∂{p}, whose v is η times PyTorch's"
_NO_ETA = "; PyTorch's v has no η"


def _sutskever(step: str) -> UpdateSlip:
    """v⁺ in Sutskever's form: η·v⁺, right (the same weights), with ``step`` its update."""
    return UpdateSlip("sutskever", "new_v", lambda r: r["eta"] * r["new_v"],
                      f"{_SUTSKEVER}, and {step}: the weights come out the same")


# Adam's slips with a bias correction (``bc`` of the ``moment`` m or s, ``beta`` its β;
# ``other`` the other's): at the correction, t one off and the other β; at the corrected
# moment, the correction left out, t one off, and the other correction.
_SHOWN = {"beta1": "β₁", "beta2": "β₂", "bc1": "bc₁", "bc2": "bc₂", "m": "m̂", "s": "ŝ"}


def _correction(bc: str, beta: str, other: str) -> tuple[UpdateSlip, ...]:
    swapped = (f"you swapped β₁ and β₂: {_SHOWN[bc]} = 1 − {_SHOWN[beta]}ᵗ corrects "
               f"{'m' if bc == 'bc1' else 's'}")
    return (UpdateSlip("t-off-by-one", bc, lambda r: _before(r["t"], r[beta], 1),
                       "you used t + 1; this is update t = {t}"),
            UpdateSlip("t-off-by-one", bc, lambda r: _before(r["t"], r[beta], -1),
                       "you used t − 1; this is update t = {t}"),
            UpdateSlip("betas-swapped", bc, lambda r: _before(r["t"], r[other], 0), swapped))


def _corrected(moment: str, bc: str, beta: str, other: str) -> tuple[UpdateSlip, ...]:
    kind, new = f"{moment}hat", f"new_{moment}"
    right = f"{_SHOWN[moment]}_{{p}} = {moment}_{{p}}⁺/{_SHOWN[bc]}"
    return (UpdateSlip("bias-correction-forgotten", kind, lambda r: r[new],
                       f"that is {moment}_{{p}}⁺ uncorrected; {right}"),
            UpdateSlip("t-off-by-one", kind, lambda r: _over(r[new], _before(r["t"], r[beta], 1)),
                       "you corrected with t + 1; this is update t = {t}"),
            UpdateSlip("t-off-by-one", kind,
                       lambda r: _over(r[new], _before(r["t"], r[beta], -1)),
                       "you corrected with t − 1; this is update t = {t}"),
            UpdateSlip("betas-swapped", kind, lambda r: r[new] / r[other],
                       f"you divided by {_SHOWN[other]}, the other moment's correction; {right}"))


SGD = Optimizer(
    name="sgd", options=(), slots=(), per_update=(), lines=(_DESCENT,),
    step=_sgd_step,
    words="plain gradient descent: each update a step against the gradient")
MOMENTUM = Optimizer(
    name="momentum", options=("momentum",), slots=("v",), per_update=(),
    lines=(_VELOCITY, _line("new", Sub(R.w, Mul((R.eta, R.new_v))),
                            "a step against the velocity, η times it",
                            "v_{p}⁺ is ∂E/∂{p}, so this is plain gradient descent's step")),
    step=_momentum_step,
    words="momentum: a velocity that keeps a share μ of its last value, so steps gather "
          "speed along a steady slope",
    slips=(_NOT_CARRIED,
           UpdateSlip("velocity-not-carried", "new", lambda r: r["w"] - r["eta"] * r["g"],
                      "that is {p} − η·∂E/∂{p}, as if v were this gradient alone; the "
                      "velocity carries over, v_{p}⁺ = μ·v_{p} + ∂E/∂{p}"),
           UpdateSlip("eta-on-v", "new",
                      lambda r: r["w"] - r["eta"] * (r["eta"] * r["new_v"]),
                      "you applied η to v as well as to {p}: {p} − η·(η·v_{p}⁺)" + _NO_ETA
                      + " (Sutskever's has, and then {p} ← {p} − v)")),
    also_right=(_sutskever("{p} ← {p} − v"),))
NESTEROV = Optimizer(
    name="nesterov", options=("momentum",), slots=("v",), per_update=(),
    lines=(_VELOCITY, _line("new", Sub(R.w, Mul((R.eta, Add((R.g, Mul((R.mu, R.new_v))))))),
                            "a step against the gradient plus μ times the new velocity: the "
                            "look-ahead of Nesterov's momentum",
                            "v_{p}⁺ is ∂E/∂{p}, so the step is (1 + μ)·η times the "
                            "gradient")),
    step=_nesterov_step,
    words="Nesterov's momentum: as momentum, but the step looks ahead along the velocity",
    slips=(_NOT_CARRIED,
           UpdateSlip("look-ahead-left-out", "new", lambda r: r["w"] - r["eta"] * r["g"],
                      "you left out Nesterov's look-ahead term μ·v_{p}⁺: "
                      "{p}⁺ = {p} − η·(∂E/∂{p} + μ·v_{p}⁺)"),
           UpdateSlip("momentum-step", "new", lambda r: r["w"] - r["eta"] * r["new_v"],
                      "that is momentum's step {p} − η·v_{p}⁺; Nesterov's looks ahead: "
                      "{p}⁺ = {p} − η·(∂E/∂{p} + μ·v_{p}⁺)"),
           UpdateSlip("velocity-not-carried", "new",
                      lambda r: r["w"] - r["eta"] * (r["g"] + r["mu"] * r["g"]),
                      "you took v_{p}⁺ as this gradient alone; the velocity carries over, "
                      "v_{p}⁺ = μ·v_{p} + ∂E/∂{p}"),
           UpdateSlip("eta-on-v", "new",
                      lambda r: r["w"] - r["eta"] * (r["g"] + r["mu"] * r["eta"] * r["new_v"]),
                      "you applied η to v as well as to {p}: {p} − η·(∂E/∂{p} + μ·η·v_{p}⁺)"
                      + _NO_ETA)),
    also_right=(_sutskever("{p} ← {p} − (η·∂E/∂{p} + μ·v)"),))
ADAM = Optimizer(
    name="adam", options=("beta1", "beta2", "epsilon"), slots=("m", "s"),
    per_update=(
        _line("bc1", Sub(ONE, Raised(R.beta1, R.t)),
              "the first moment's bias correction: m starts at 0, so early m are too small "
              "by the factor 1 − β₁ᵗ",
              "it is 1 − β₁, the share of the gradient that m⁺ holds"),
        _line("bc2", Sub(ONE, Raised(R.beta2, R.t)),
              "the second moment's bias correction, 1 − β₂ᵗ",
              "it is 1 − β₂, the share of the squared gradient that s⁺ holds")),
    lines=(
        _line("new_m", Add((Mul((R.beta1, R.m)), Mul((Sub(ONE, R.beta1), R.g)))),
              "the first moment: a running mean of the gradients, β₁ of the last and 1 − β₁ "
              "of this one",
              "m_{p} is 0, so m_{p}⁺ is only (1 − β₁)·∂E/∂{p}, too small until m̂ corrects "
              "it"),
        _line("new_s", Add((Mul((R.beta2, R.s)), Mul((Sub(ONE, R.beta2), Power(R.g))))),
              "the second moment: a running mean of the squared gradients",
              "s_{p} is 0, so s_{p}⁺ is only (1 − β₂)·(∂E/∂{p})², too small until ŝ "
              "corrects it"),
        _line("mhat", Div(R.new_m, R.bc1), "the first moment with its bias corrected",
              "this gives back ∂E/∂{p} itself"),
        _line("shat", Div(R.new_s, R.bc2), "the second moment with its bias corrected",
              "this gives back (∂E/∂{p})²"),
        _line("new", Sub(R.w, Mul((R.eta, Div(R.mhat, Add((Root(R.shat), R.epsilon)))))),
              "a step of about η against the gradient's sign, scaled by how steady the "
              "gradient has been: m̂/(√ŝ + ε), ε outside the root (it only keeps the "
              "division finite where ŝ is 0)",
              "m̂_{p}/√ŝ_{p} is ∂E/∂{p} over its own size, ±1, so {p} moves by almost "
              "exactly η")),
    step=_adam_step,
    words="Adam: running means of the gradient and of its square, bias-corrected, give "
          "each parameter a step of about η",
    slips=(
        UpdateSlip("betas-swapped", "new_m",
                   lambda r: r["beta2"] * r["m"] + (1.0 - r["beta2"]) * r["g"],
                   "you swapped β₁ and β₂: m_{p}⁺ = β₁·m_{p} + (1 − β₁)·∂E/∂{p}"),
        UpdateSlip("betas-swapped", "new_s",
                   lambda r: r["beta1"] * r["s"] + (1.0 - r["beta1"]) * r["g"] ** 2,
                   "you swapped β₁ and β₂: s_{p}⁺ = β₂·s_{p} + (1 − β₂)·(∂E/∂{p})²"),
        *_correction("bc1", "beta1", "beta2"),
        *_correction("bc2", "beta2", "beta1"),
        *_corrected("m", "bc1", "beta1", "bc2"),
        *_corrected("s", "bc2", "beta2", "bc1"),
        UpdateSlip("bias-correction-forgotten", "new",
                   lambda r: r["w"] - r["eta"] * r["new_m"] / (math.sqrt(r["new_s"])
                                                              + r["epsilon"]),
                   "you left out the bias corrections: the step takes m̂_{p} and ŝ_{p}, "
                   "not m_{p}⁺ and s_{p}⁺"),
        UpdateSlip("epsilon-inside-root", "new",
                   lambda r: r["w"] - r["eta"] * r["mhat"] / math.sqrt(r["shat"]
                                                                       + r["epsilon"]),
                   "you put ε inside the square root, √(ŝ_{p} + ε); it is added outside "
                   "it: m̂_{p}/(√ŝ_{p} + ε)")))

OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (SGD, MOMENTUM, NESTEROV, ADAM)}


def choices(registry: Mapping[str, object]) -> str:
    """The names as a network file writes them: '"sigmoid", "tanh" or "relu"'."""
    names = [f'"{name}"' for name in registry]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]

