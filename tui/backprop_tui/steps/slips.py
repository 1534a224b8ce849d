"""The classic slips of working backpropagation by hand, computed for one step.

For a step, each candidate is a wrong value a person is likely to arrive at — a factor left
out, the slope evaluated at the wrong value, the other output's target, an already-updated
weight, h1 where h2 belongs, the learning rate left out or applied twice — with a one-line
explanation. Each is computed for this step from its own formula and operands (``evaluate``
with one operand replaced), from the epoch's earlier values and from the network's options,
so a quiz answer can be matched to the slip that produces it. No Textual, no state.
"""

from __future__ import annotations

import dataclasses
import math
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backprop_tui.numbers import fmt
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.expr import evaluate
from backprop_tui.steps.step import Step
from backprop_tui.steps.symbols import unicode_symbol as sym

RIGHT, SLIP, WRONG, REVEALED = "right", "slip", "wrong", "revealed"
MAX_SOURCES = 8  # beyond this many values feeding a unit, swapped sources are not listed


@dataclass(frozen=True)
class Slip:
    name: str  # a stable identifier: "slope-left-out", "updated-weight", …
    value: float
    text: str  # one line, addressed to the person: "you used the updated w₅; …"


@dataclass(frozen=True)
class Verdict:
    verdict: str  # RIGHT, SLIP or WRONG
    slip: Slip | None  # the slip matched, for SLIP
    message: str  # one line: what to say


def close(answer: float, value: float, tolerance: float) -> bool:
    """Within ``tolerance`` relative to ``value`` (exactly equal when ``value`` is 0, but
    for float noise)."""
    return abs(answer - value) <= max(tolerance * abs(value), 1e-12)


def judge(steps: EpochSteps, index: int, answer: float, tolerance: float) -> Verdict:
    """Whether ``answer`` is step ``index``'s value; if not, the slip that gives it, or a
    hint naming the values to combine."""
    step = steps[index - 1]
    assert step.value is not None
    if close(answer, step.value, tolerance):
        return Verdict(RIGHT, None, f"Right: {step.symbol} = {fmt(step.value)}")
    for slip in slips(steps, index):
        if close(answer, slip.value, tolerance):
            return Verdict(SLIP, slip, f"Not quite: {slip.text}.")
    return Verdict(WRONG, None, f"Not quite. {hint(steps, index)}")


def hint(steps: EpochSteps, index: int) -> str:
    """The formula, and the earlier values it combines with where they come from."""
    step = steps[index - 1]
    keys = steps.keys
    parts = []
    for key, value in list(zip(step.uses, step.operands, strict=True))[:6]:
        where = f"step {keys[key]}" if key in keys else "given"
        parts.append(f"{sym(key)} = {fmt(value)} ({where})")
    more = len(step.uses) - len(parts)
    listed = ", ".join(parts) + (f" and {more} more" if more > 0 else "")
    if not parts:
        return f"{step.symbol} = {step.formula}: it needs no earlier value."
    return f"{step.symbol} = {step.formula}: combine {listed}."


def slips(steps: EpochSteps, index: int,
          values: Mapping[str, float] | None = None) -> list[Slip]:
    """The slips for step ``index`` (1-based), in order, each with a value that differs
    from the right one. ``values`` overrides the epoch's values by key (a document's own
    numbers, say): the slips are then worked from those."""
    return _Slips(steps, index, values or {}).found()


class _Slips:
    def __init__(self, steps: EpochSteps, index: int, values: Mapping[str, float]) -> None:
        self.steps = steps
        self.index = index
        self.step: Step = steps[index - 1]
        self.spec = steps.specs[index - 1]
        self.network = steps.network
        self.names = steps.network.names
        self.overrides = values
        self.operands = [values.get(key, value)
                         for key, value in zip(self.step.uses, self.step.operands, strict=True)]
        self.right = values.get(self.step.key, self.step.value)
        self.out: list[Slip] = []

    # Values ---------------------------------------------------------------------------

    def earlier(self, key: str) -> float | None:
        """A value a person has at this step: an earlier step's, or one given."""
        if key in self.overrides:
            return self.overrides[key]
        found = self.steps.keys.get(key)
        if found is not None:
            return self.steps.value_at(found) if found < self.index else None
        return _given(self.network, key)

    def later(self, key: str) -> float | None:
        """Any step's value this epoch (a value computed the wrong way round)."""
        if key in self.overrides:
            return self.overrides[key]
        found = self.steps.keys.get(key)
        return None if found is None else self.steps.value_at(found)

    def sub(self, replace: Mapping[int, float]) -> float:
        """The step's formula with some operands replaced."""
        operands = [replace.get(i, v) for i, v in enumerate(self.operands)]
        return evaluate(self.step.expr, operands)

    def add(self, name: str, value: float | None, text: str) -> None:
        if value is None or not math.isfinite(value) or self.right is None:
            return
        if abs(value - self.right) <= 1e-12 * max(1.0, abs(self.right)):
            return  # the slip changes nothing here
        if any(abs(value - s.value) <= 1e-12 * max(1.0, abs(value)) for s in self.out):
            return  # the same number as an earlier slip: that one names it
        self.out.append(Slip(name, float(value), _subscripts(text)))

    # The catalogue ----------------------------------------------------------------------

    def found(self) -> list[Slip]:
        if self.right is not None:
            getattr(self, f"_{self.spec[0]}", lambda: None)()
        return self.out

    def _unit(self, layer: int, j: int) -> str:
        return self.names.units[layer + 1][j]

    def _source(self, layer: int, k: int) -> str:
        return self.names.units[0][k] if layer == 0 else f"out_{self._unit(layer - 1, k)}"

    def _output(self) -> bool:
        return self.spec[1] == self.network.depth - 1

    def _net(self) -> None:
        _, layer, j, _ = self.spec
        u = self._unit(layer, j)
        uses = self.step.uses
        bias = len(uses) - 1
        self.add("bias-left-out", self.sub({bias: 0.0}), f"you left out the bias {sym(uses[bias])}")
        terms = bias // 2
        if terms <= MAX_SOURCES:
            for t in range(terms):
                for m in range(terms):
                    if m != t:
                        self.add("wrong-unit", self.sub({2 * t + 1: self.operands[2 * m + 1]}),
                                 f"you multiplied {sym(uses[2 * t])} by {sym(uses[2 * m + 1])}; "
                                 f"{sym(uses[2 * t])} carries {sym(uses[2 * t + 1])}")
        self.add("activation-applied", self.later(f"out_{u}"),
                 f"that is out_{u} = σ(net_{u}), after the activation; net_{u} is the sum "
                 "before it")

    def _out(self) -> None:
        _, layer, j, _ = self.spec
        u = self._unit(layer, j)
        activation = self.network.activations[layer]
        self.add("activation-left-out", self.operands[0],
                 f"that is net_{u}; out_{u} is the activation ({activation}) of it")
        if activation == "sigmoid":
            self.add("exponent-sign", self.sub({0: -self.operands[0]}),
                     "you used e^(net) in place of e^(−net) in 1/(1 + e^(−net))")

    def _targets(self, text: Callable[[str, str], str]) -> None:
        """The other outputs' targets in place of this one's (operand 0)."""
        j = self.spec[2]
        mine = self.names.targets[j]
        for m, other in enumerate(self.names.targets):
            if m != j:
                self.add("other-target", self.sub({0: float(self.network.targets[m])}),
                         text(other, mine))

    def _error(self) -> None:
        u = self._unit(self.spec[1], self.spec[2])
        self._targets(lambda other, mine: f"you used {sym(other)}, the other output's target; "
                      f"E_{u} takes {sym(mine)}")
        if self.network.loss == "half_sse":
            self.add("half-left-out", 2 * self.right, "you left out the ½ of ½(t − out)²")
        else:
            n = self.network.sizes[-1]
            self.add("n-left-out", n * self.right, f"you did not divide by n = {n}")
        self.add("not-squared", self.right / abs(self.operands[0] - self.operands[1])
                 if self.operands[0] != self.operands[1] else None,
                 "you did not square the gap t − out")

    def _total(self) -> None:
        for key, value in zip(self.step.uses, self.operands, strict=True):
            if len(self.step.uses) > 1:
                self.add("term-left-out", self.right - value, f"you left out {sym(key)}")
        if self.network.loss == "mse":
            return
        self.add("averaged", self.right / len(self.step.uses),
                 "you averaged the output errors; E_total is their sum")

    def _dE_dout(self) -> None:
        _, layer, j, _ = self.spec
        u = self._unit(layer, j)
        if self._output():
            self.add("minus-sign-dropped", -self.right,
                     "you dropped the minus sign: ∂E/∂out = −(t − out), positive when the "
                     "output is above its target")
            self._targets(lambda other, mine: f"you used {sym(other)}, the other output's "
                          f"target; ∂E/∂out_{u} takes {sym(mine)}")
            if self.network.loss == "mse":
                n = self.network.sizes[-1]
                self.add("two-left-out", self.right / 2, "you left out the 2 that "
                         "differentiating (t − out)² brings down")
                self.add("n-left-out", n * self.right, f"you did not divide by n = {n}")
            return
        above = self.names.units[layer + 2]
        if len(above) > 1:
            for a, value in zip(above, self.operands, strict=True):
                self.add("one-share", value, f"you kept only the share through {a}; out_{u} "
                         f"feeds {', '.join(b for b in above if b != a)} as well")
        slopes = [self.earlier(f"dE/dout_{a}") for a in above]
        weights = [self._weight_used(layer + 1, k, j) for k in range(len(above))]
        if all(s is not None for s in slopes):
            self.add("slope-left-out", math.fsum(s * w for s, w in zip(slopes, weights)),  # type: ignore[operator]
                     f"you multiplied the weights by ∂E/∂out of {', '.join(above)} in place of "
                     "their δ: the slope ∂out/∂net is left out")
        self._other_order()

    def _weight_used(self, layer: int, k: int, j: int) -> float:
        """The weight from unit j into unit k of ``layer`` as the backward pass uses it."""
        if self.network.update_order == "during_backward":
            found = self.earlier(f"{self.names.weights[layer][k][j]}+")
            if found is not None:
                return found
        return float(self.network.weights[layer][k, j])

    def _contrib(self) -> None:
        _, layer, j, k = self.spec
        u, above = self._unit(layer, j), self._unit(layer + 1, k)
        w = self.names.weights[layer + 1][k][j]
        if self.network.update_order == "during_backward":
            self.add("original-weight", self.sub({1: float(self.network.weights[layer + 1][k, j])}),
                     f"you used the original {sym(w)}; with update_order = during_backward the "
                     f"layers below use the updated {sym(w + '+')}")
        else:
            self.add("updated-weight", self.sub({1: self.earlier(f"{w}+")})  # type: ignore[dict-item]
                     if self.earlier(f"{w}+") is not None else None,
                     f"you used the updated {sym(w)}; the hidden layer uses the original")
        for m, other in enumerate(self.names.weights[layer + 1][k]):
            if m != j:
                self.add("wrong-unit", self.sub({1: self._weight_used(layer + 1, k, m)}),
                         f"you used {sym(other)}, which carries out_{self._unit(layer, m)}; "
                         f"out_{u} reaches {above} through {sym(w)}")
        slope = self.earlier(f"dE/dout_{above}")
        self.add("slope-left-out", self.sub({0: slope}) if slope is not None else None,
                 f"you used ∂E/∂out_{above} in place of δ_{above}: the factor "
                 f"∂out_{above}/∂net_{above} is left out")

    def _slope(self) -> None:
        _, layer, j, _ = self.spec
        u = self._unit(layer, j)
        activation = self.network.activations[layer]
        if activation not in ("sigmoid", "tanh"):
            return
        shape = "out·(1 − out)" if activation == "sigmoid" else "1 − out²"
        dE = self.earlier(f"dE/dout_{u}")
        self.add("slope-at-derivative", self.sub({0: dE}) if dE is not None else None,
                 f"you evaluated {shape} at ∂E/∂out_{u}; it takes out_{u}")
        net = self.earlier(f"net_{u}")
        self.add("slope-at-net", self.sub({0: net}) if net is not None else None,
                 f"you evaluated {shape} at net_{u}; it takes the output out_{u}")
        for m, other in enumerate(self.names.units[layer + 1]):
            if m != j:
                value = self.earlier(f"out_{other}")
                self.add("wrong-unit", self.sub({0: value}) if value is not None else None,
                         f"you used out_{other}; this is {u}'s slope, from out_{u}")
        self.add("activation-itself", self.operands[0],
                 f"that is out_{u} itself; its slope is {shape}")

    def _delta(self) -> None:
        _, layer, j, _ = self.spec
        u = self._unit(layer, j)
        self.add("slope-left-out", self.sub({1: 1.0}),
                 f"you left out the factor ∂out_{u}/∂net_{u} (the activation's slope)")
        self.add("dE-left-out", self.sub({0: 1.0}),
                 f"that is ∂out_{u}/∂net_{u} alone: multiply it by ∂E/∂out_{u}")
        if self._output():
            self.add("minus-sign-dropped", -self.right,
                     f"you dropped the minus sign of ∂E/∂out_{u} = −(t − out)")
        self._other_order()

    def _dnet_dw(self) -> None:
        _, layer, j, k = self.spec
        w = self.names.weights[layer][j][k]
        source = self._source(layer, k)
        self.add("weight-itself", float(self.network.weights[layer][j, k]),
                 f"that is {sym(w)} itself; the derivative of {sym(w)}·{sym(source)} with "
                 f"respect to {sym(w)} is {sym(source)}")
        if layer > 0:
            below = self._unit(layer - 1, k)
            self.add("net-not-out", self.earlier(f"net_{below}"),
                     f"that is net_{below}; {sym(w)} multiplies the output out_{below}")
        for m in range(self.network.sizes[layer]):
            if m != k:
                other = self._source(layer, m)
                self.add("wrong-unit", self.earlier(other),
                         f"that is {sym(other)}; {sym(w)} carries {sym(source)}")

    def _grad_w(self) -> None:
        _, layer, j, k = self.spec
        u = self._unit(layer, j)
        w = self.names.weights[layer][j][k]
        dE = self.earlier(f"dE/dout_{u}")
        self.add("slope-left-out", self.sub({0: dE}) if dE is not None else None,
                 f"you multiplied ∂E/∂out_{u} by {sym(self._source(layer, k))}: the factor "
                 f"∂out_{u}/∂net_{u} is left out")
        if self._output():
            self.add("minus-sign-dropped", -self.right,
                     f"you dropped the minus sign of ∂E/∂out_{u} = −(t − out)")
        self.add("dnet-left-out", self.operands[0],
                 f"that is δ_{u} alone: multiply it by ∂net_{u}/∂{sym(w)} = "
                 f"{sym(self._source(layer, k))}")
        for m in range(self.network.sizes[layer]):
            if m != k:
                other = self._source(layer, m)
                value = self.earlier(other)
                self.add("wrong-unit", self.sub({1: value}) if value is not None else None,
                         f"you used {sym(other)}; {sym(w)} carries {sym(self._source(layer, k))}")
        for m, other in enumerate(self.names.units[layer + 1]):
            delta = self.earlier(f"delta_{other}")
            if m != j and delta is not None:
                self.add("wrong-unit", self.sub({0: delta}),
                         f"you used δ_{other}; {sym(w)} feeds {u}, so its gradient takes δ_{u}")
        self.add("eta-applied", self.network.learning_rate * self.right,
                 f"that is η·∂E/∂{sym(w)}, the step; the gradient itself has no η")
        self._other_order()

    def _new_w(self) -> None:
        _, layer, j, k = self.spec
        self._descent(self.names.weights[layer][j][k])
        for m, other in enumerate(self.names.weights[layer][j]):
            gradient = self.earlier(f"dE/d{other}")
            if m != k and gradient is not None:
                self.add("other-gradient", self.sub({2: gradient}),
                         f"you used ∂E/∂{sym(other)}, {sym(other)}'s gradient; "
                         f"{sym(self.names.weights[layer][j][k])} has its own")

    def _new_b(self) -> None:
        self._descent(self.names.biases[self.spec[1]][self.spec[2]])

    def _descent(self, name: str) -> None:
        eta = self.operands[1]
        self.add("eta-left-out", self.sub({1: 1.0}),
                 f"you did not apply the learning rate: {sym(name)} − ∂E/∂{sym(name)}")
        self.add("eta-twice", self.sub({1: eta * eta}),
                 f"you applied the learning rate twice: {sym(name)} − η²·∂E/∂{sym(name)}")
        self.add("step-added", self.operands[0] + eta * self.operands[2],
                 f"you added the step; gradient descent subtracts η·∂E/∂{sym(name)}")
        self.add("step-only", eta * self.operands[2],
                 f"that is the step η·∂E/∂{sym(name)}; subtract it from {sym(name)}")
        self._other_order()

    def _grad_b(self) -> None:
        _, layer, j, _ = self.spec
        units = self.names.units[layer + 1]
        b = self.names.biases[layer][j]
        if self.network.shared(layer) and len(units) > 1:
            for u, value in zip(units, self.operands, strict=True):
                self.add("one-share", value,
                         f"you took only δ_{u}; {sym(b)} feeds every unit of the layer: sum "
                         "their δ")
        slopes = [self.earlier(f"dE/dout_{u}") for u in
                  (units if self.network.shared(layer) else [units[j]])]
        if all(s is not None for s in slopes):
            self.add("slope-left-out", math.fsum(slopes),  # type: ignore[arg-type]
                     "you summed ∂E/∂out in place of δ: the slope ∂out/∂net is left out")
        self._other_order()

    def _total_after(self) -> None:
        self.add("before-updates", self.earlier("E_total"),
                 "that is E_total, the error before the updates; E_total⁺ comes from a forward "
                 "pass with the new values")
        self._other_order()

    def _other_order(self) -> None:
        """The value the other update order gives: below the output layer, the weights
        above are either the original ones or the already-updated ones."""
        if self._output() and self.spec[0] != "total_after":
            return
        other = _other_order(self.steps)
        found = other.keys.get(self.step.key)
        if found is None:
            return
        value = other.value_at(found)
        top = self.network.depth - 1
        above = [w for row in self.names.weights[top] for w in row] if self.spec[0] == \
            "total_after" else self._weights_above()
        listed = ", ".join(sym(w) for w in above)
        if self.network.update_order == "after_backward":
            text = (f"that is the error with {listed} updated before the hidden layer's "
                    "gradients (update_order = during_backward)" if self.spec[0] == "total_after"
                    else f"you used the updated {listed}; the hidden layer uses the original")
        else:
            text = (f"you used the original {listed}; with update_order = during_backward the "
                    "layers below use the updated ones")
        self.add("other-order", value, text)

    def _weights_above(self) -> list[str]:
        """The weights out of this step's unit, which the backward pass reads."""
        kind, layer, j, _ = self.spec
        if kind in ("grad_b", "new_b") and self.network.shared(layer):
            return [w for row in self.names.weights[layer + 1] for w in row]
        return [row[j] for row in self.names.weights[layer + 1]]


_NAME = re.compile(r"(?<![A-Za-z0-9_])((?:out_|net_|δ_|E_|t_)?[hiowb])(\d+(?:\.\d+)?)")
_SUBSCRIPT = str.maketrans("0123456789.", "₀₁₂₃₄₅₆₇₈₉.")


def _subscripts(text: str) -> str:
    """Names as the app shows them: out_h1 -> out_h₁, w5 -> w₅ (already shown ones stay)."""
    return _NAME.sub(lambda m: m[1] + m[2].translate(_SUBSCRIPT), text)


_OTHER: weakref.WeakKeyDictionary[EpochSteps, EpochSteps] = weakref.WeakKeyDictionary()


def _other_order(steps: EpochSteps) -> EpochSteps:
    """The same epoch worked with the other update order (traced once, on first use)."""
    found = _OTHER.get(steps)
    if found is None:
        from backprop_tui.engine.trace import trace_epoch
        from backprop_tui.network import UPDATE_ORDERS

        network = steps.network
        order = next(o for o in UPDATE_ORDERS if o != network.update_order)
        found = _OTHER[steps] = EpochSteps(
            steps.epoch, trace_epoch(dataclasses.replace(network, update_order=order)))
    return found


def _given(network: object, key: str) -> float | None:
    """A parameter, input, target or the learning rate of the network, by name."""
    if key == "eta":
        return float(network.learning_rate)  # type: ignore[attr-defined]
    found = network.names.parameters().get(key)  # type: ignore[attr-defined]
    if found is None:
        return None
    kind, layer, row, column = found
    if kind == "input":
        return float(network.inputs[row])  # type: ignore[attr-defined]
    if kind == "target":
        return float(network.targets[row])  # type: ignore[attr-defined]
    if kind == "weight":
        return float(network.weights[layer][row, column])  # type: ignore[attr-defined]
    return float(network.biases[layer][row])  # type: ignore[attr-defined]
