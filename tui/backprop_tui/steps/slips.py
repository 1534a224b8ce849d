"""The classic slips of working backpropagation by hand, computed for one step.

For a step, each candidate is a wrong value a person is likely to arrive at — a factor left
out, the slope evaluated at the wrong value, the other output's target, an already-updated
weight, h1 where h2 belongs, the learning rate left out or applied twice — with a one-line
explanation. Each is computed for this step from its own formula and operands (``evaluate``
with one operand replaced), from the epoch's earlier values and from the network's options,
so a quiz answer can be matched to the slip that produces it. The slips that belong to an
activation, a loss or an optimiser (the sigmoid's e^(−net), the ½ of ½(t − out)², Adam's ε
inside the square root) come from its record in ``functions``; so does an optimiser's line
written another way that counts as right (Sutskever's v, η times PyTorch's).

A classifier's output layer has slips of its own: under softmax, δ_j with the Jacobian's
diagonal only (∂E/∂out_j·out_j(1 − out_j)), a Jacobian entry with its sign lost, taken as 0
or worked with the diagonal's formula; under cross-entropy, the squared error's derivative
kept (out − t, times the slope at δ), the sign lost (t − out), ln taken of another output;
under softmax with a squared error, the shortcut out − t used where it does not hold. A step
whose value is not representable (−t/out where out underflowed) has no slips: nothing
answers it. No Textual, no state.

With several training examples, a step of one example is worked from that example's values
and the parameters its batch starts from (``Plan.tagged``); the steps of a batch have slips
of their own: its gradients summed where the mean was asked (or the reverse), one example's
gradient taken for the batch's, the parameters updated between the batch's examples (the
batch taken online), and an error taken after the updates instead of before.
"""

from __future__ import annotations

import dataclasses
import math
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backprop_tui import keys
from backprop_tui.engine.trace import loss_of, trace_epoch
from backprop_tui.formula import evaluate
from backprop_tui.functions import ACTIVATIONS, HALF_SSE, UpdateSlip
from backprop_tui.keys import Key, symbol
from backprop_tui.network import UPDATE_ORDERS, Network
from backprop_tui.numbers import fmt
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.step import Step

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


def judge(steps: EpochSteps, index: int, answer: float, tolerance: float,
          numbers: bool = True) -> Verdict:
    """Whether ``answer`` is step ``index``'s value; if not, the slip that gives it, or a
    hint naming the values to combine (with their ``numbers``, or only where they come from:
    for a product, the numbers are the answer)."""
    step = steps[index - 1]
    if step.value is None or not math.isfinite(step.value):
        raise ValueError(f"step {index} has no value to answer")
    if close(answer, step.value, tolerance):
        return Verdict(RIGHT, None, f"Right: {step.symbol} = {fmt(step.value)}")
    for value, message in also_right(steps, index):
        if close(answer, value, tolerance):
            return Verdict(RIGHT, None, message)
    for slip in slips(steps, index):
        if close(answer, slip.value, tolerance):
            return Verdict(SLIP, slip, f"Not quite: {slip.text}.")
    return Verdict(WRONG, None, f"Not quite. {hint(steps, index, numbers)}")


def also_right(steps: EpochSteps, index: int) -> list[tuple[float, str]]:
    """The values of step ``index`` written another way that count as right (under
    momentum, Sutskever's v, η times PyTorch's), each with what to say of it."""
    step = steps[index - 1]
    if step.value is None:
        return []
    right = fmt(step.value)
    return [(value, f"Right, {text} ({step.symbol} = {right} in PyTorch's form).")
            for value, text in _Slips(steps, index, {}).also_right()]


def hint(steps: EpochSteps, index: int, numbers: bool = True) -> str:
    """The formula, and the earlier values it combines with where they come from (and, with
    ``numbers``, what they are)."""
    step = steps[index - 1]
    indexes = steps.keys
    parts = []
    for key, value in list(zip(step.uses, step.operands, strict=True))[:6]:
        where = f"step {indexes[key]}" if key in indexes else "given"
        parts.append(f"{symbol(key)} = {fmt(value)} ({where})" if numbers
                     else f"{symbol(key)} ({where})")
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
        self.key = self.step.typed_key
        self.network = steps.network
        self.names = steps.network.names
        self.overrides = values
        self.operands = [values.get(key, value)
                         for key, value in zip(self.step.uses, self.step.operands, strict=True)]
        self.right = values.get(self.step.key, self.step.value)
        self.out: list[Slip] = []
        self.layer, self.j, self.k = self._place(self.key)
        self.example = self.step.example  # with several examples, the step's (or 0)
        self.loss = steps.plan.loss  # the loss as it applies to the output activation
        self.output = steps.plan.output  # the output layer's activation

    def _place(self, key: Key) -> tuple[int, int, int]:
        """The step's weight layer (0-based), its unit or row, and the other unit or column."""
        names = self.names
        if key.param:
            _, layer, row, column = names.parameters()[key.param]
            return layer, row, column
        if key.unit:
            layer, j = names.position[key.unit]
            return layer, j, names.position[key.above][1] if key.above else 0
        return self.network.depth - 1, 0, 0

    # Values ---------------------------------------------------------------------------

    def mine(self, key: Key) -> Key:
        """A value named as a single example names it, as this step's example uses it."""
        return self.steps.plan.tagged(key, self.example) if self.example else key

    def earlier(self, key: Key) -> float | None:
        """A value a person has at this step: an earlier step's, or one given."""
        key = self.mine(key)
        text = keys.text(key)
        if text in self.overrides:
            return self.overrides[text]
        found = self.steps.keys.get(text)
        if found is not None:
            return self.steps.value_at(found) if found < self.index else None
        return self.steps.value_of(key) if key.kind in keys.GIVEN else None

    def later(self, key: Key) -> float | None:
        """Any step's value this epoch (a value computed the wrong way round)."""
        text = keys.text(self.mine(key))
        if text in self.overrides:
            return self.overrides[text]
        found = self.steps.keys.get(text)
        return None if found is None else self.steps.value_at(found)

    def sub(self, replace: Mapping[int, float | None]) -> float | None:
        """The step's formula with some operands replaced (None if a replacement is)."""
        operands = list(self.operands)
        for i, value in replace.items():
            if value is None:
                return None
            operands[i] = value
        return self.step.compute(operands)

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
        if self.right is not None and math.isfinite(self.right):  # not "not representable"
            if self.key.last and self.key.kind in ("grad_w", "grad_b"):
                self._combined()
            else:
                getattr(self, f"_{self.key.kind}", lambda: None)()
            self._online()
        return self.out

    def _unit(self, layer: int, j: int) -> str:
        return self.names.units[layer + 1][j]

    def _source(self, layer: int, k: int) -> Key:
        """What the k-th weight into a unit of ``layer`` multiplies: an input or an output."""
        return keys.source(self.names.units[layer][k])

    @property
    def _derivative(self) -> str:
        """The loss's ∂E/∂out as one writes it: −(t − out)."""
        return self.loss.derivative_shape

    def _output(self) -> bool:
        return self.layer == self.network.depth - 1

    def _coupled(self, layer: int | None = None) -> bool:
        """Whether the units of weight layer ``layer`` (this step's) are outputs of a layer
        worked whole (softmax): δ is then a sum over the Jacobian's column, not a product."""
        return ((self.layer if layer is None else layer) == self.network.depth - 1
                and self.output.coupled is not None)

    def _shortcut(self) -> bool:
        """Whether this step's unit is an output whose δ is worked as out − t."""
        return self._output() and self.loss.shortcut

    def _outputs(self, kind: str) -> list[float] | None:
        """Every output's value of ``kind`` (out, net, target, dE_dout) as this step has
        them, or None if one is not known yet."""
        found = [self.earlier(keys.unit(kind, u)) for u in self.names.units[-1]]
        return None if any(v is None for v in found) else [v for v in found if v is not None]

    def _slope_of(self, u: str) -> float | None:
        """∂out_u/∂net_u of output u (a softmax's Jacobian diagonal): its step's value, or
        worked from out_u and net_u where it has none."""
        found = self.earlier(keys.unit("slope", u))
        if found is not None:
            return found
        out, net = self.earlier(keys.unit("out", u)), self.earlier(keys.unit("net", u))
        return None if out is None or net is None else self.output.slope(out, net)

    def _column(self, u: str) -> list[float] | None:
        """The Jacobian's column ∂out_k/∂net_u for every output k, from the outputs."""
        coupled = self.output.coupled
        outs = self._outputs("out")
        if coupled is None or outs is None:
            return None
        mine = outs[self.names.units[-1].index(u)]
        return [evaluate(coupled.jacobian(other == u), [out, mine])
                for other, out in zip(self.names.units[-1], outs, strict=True)]

    def _net(self) -> None:
        u = self.key.unit
        uses = self.step.uses
        bias = len(uses) - 1
        self.add("bias-left-out", self.sub({bias: 0.0}),
                 f"you left out the bias {symbol(uses[bias])}")
        terms = bias // 2
        if terms <= MAX_SOURCES:
            for t in range(terms):
                for m in range(terms):
                    if m != t:
                        self.add("wrong-unit", self.sub({2 * t + 1: self.operands[2 * m + 1]}),
                                 f"you multiplied {symbol(uses[2 * t])} by "
                                 f"{symbol(uses[2 * m + 1])}; {symbol(uses[2 * t])} carries "
                                 f"{symbol(uses[2 * t + 1])}")
        function = ACTIVATIONS[self.network.activations[self.layer]].symbol
        self.add("activation-applied", self.later(keys.unit("out", u)),
                 f"that is out_{u} = {function}(net_{u}), after the activation; net_{u} is the "
                 "sum before it")

    def _activation_slips(self, step: str) -> None:
        """The slips of this unit's activation at its out or slope step."""
        u = self.key.unit
        activation = ACTIVATIONS[self.network.activations[self.layer]]
        wrong: dict[str, Callable[[], float | None]] = {
            "negated": lambda: -self.operands[0],
            "dE_dout": lambda: self.earlier(keys.unit("dE_dout", u)),
            "net": lambda: self.earlier(keys.unit("net", u)),
            "out": lambda: self.earlier(keys.unit("out", u)),
        }
        for slip in activation.slips:
            if slip.step == step:
                self.add(slip.name, self.sub({0: wrong[slip.operand]()}),
                         slip.text.format(u=u, shape=activation.shape))

    def _out(self) -> None:
        u = self.key.unit
        activation = self.network.activations[self.layer]
        self.add("activation-left-out", self.operands[0],
                 f"that is net_{u}; out_{u} is the activation ({activation}) of it")
        self._activation_slips("out")

    def _targets(self, text: Callable[[str, str], str]) -> None:
        """The other outputs' targets in place of this one's (operand 0)."""
        mine = self.names.targets[self.j]
        for m, (output, other) in enumerate(zip(self.names.units[-1], self.names.targets,
                                                strict=True)):
            if m != self.j:
                self.add("other-target", self.sub({0: self.earlier(keys.unit("target", output))}),
                         text(other, mine))

    def _loss_slips(self, step: str) -> None:
        """The slips of the network's loss at this step (error, dE_dout or total)."""
        n = self.network.sizes[-1]
        target, out = (self.operands[0], self.operands[1]) if step != "total" else (0.0, 0.0)
        for slip in self.loss.slips:
            if slip.step == step:
                assert self.right is not None
                self.add(slip.name, slip.value(self.right, target, out, n),
                         slip.text.format(n=n))

    def _error(self) -> None:
        u = self.key.unit
        self._targets(lambda other, mine: f"you used {symbol(other)}, the other output's "
                      f"target; E_{u} takes {symbol(mine)}")
        self._loss_slips("error")
        if self.loss.other_output:
            self._wrong_output()

    def _wrong_output(self) -> None:
        """Cross-entropy's ln taken of another output: −t_u ln out_m (under sigmoid, the
        whole binary cross-entropy of out_m against t_u), worked from the nets as the loss
        works it."""
        u, t = self.key.unit, self.operands[0]
        outs, nets = self._outputs("out"), self._outputs("net")
        if outs is None or nets is None:
            return
        for m, other in enumerate(self.names.units[-1]):
            if m == self.j:
                continue
            if self._coupled():
                targets = [t if i == m else 0.0 for i in range(len(outs))]
                value = self.loss.error(targets, outs, nets)
            else:
                value = self.loss.error([t], [outs[m]], [nets[m]])
            self.add("ln-wrong-output", value, self.loss.other_output.format(u=u, other=other))

    def _total(self) -> None:
        for key, value in zip(self.step.uses, self.operands, strict=True):
            if len(self.step.uses) > 1:
                assert self.right is not None
                self.add("term-left-out", self.right - value, f"you left out {symbol(key)}")
        self._loss_slips("total")

    def _dE_dout(self) -> None:
        u = self.key.unit
        assert self.right is not None
        if self._output():
            sign = self.loss.derivative_sign
            self.add("minus-sign-dropped", -self.right,
                     f"you dropped the minus sign: ∂E/∂out = {self._derivative}, {sign}")
            self._targets(lambda other, mine: f"you used {symbol(other)}, the other output's "
                          f"target; ∂E/∂out_{u} takes {symbol(mine)}")
            self._loss_slips("dE_dout")
            if self.loss.shortcut:
                target, out = self.operands[0], self.operands[1]
                self.add("squared-error-kept", out - target,
                         f"you kept the squared error's ∂E/∂out = {HALF_SSE.derivative_shape}; "
                         f"cross-entropy's is {self._derivative}")
            return
        above = self.names.units[self.layer + 2]
        if len(above) > 1:
            for a, value in zip(above, self.operands, strict=True):
                self.add("one-share", value, f"you kept only the share through {a}; out_{u} "
                         f"feeds {', '.join(b for b in above if b != a)} as well")
        slopes = [self.earlier(keys.unit("dE_dout", a)) for a in above]
        weights = [self._weight_used(self.layer + 1, k, self.j) for k in range(len(above))]
        if all(s is not None for s in slopes):
            left_out = ("the Jacobian ∂out/∂net is left out" if self._coupled(self.layer + 1)
                        else "the slope ∂out/∂net is left out")
            self.add("slope-left-out", math.fsum(s * w for s, w in zip(slopes, weights,
                                                                       strict=True)
                                                 if s is not None),
                     f"you multiplied the weights by ∂E/∂out of {', '.join(above)} in place of "
                     f"their δ: {left_out}")
        self._other_order()

    def _weight(self, layer: int, k: int, j: int) -> Key:
        """The weight from unit j into unit k of ``layer``."""
        return keys.parameter(self.names.weights[layer][k][j])

    def _weight_used(self, layer: int, k: int, j: int) -> float:
        """The weight from unit j into unit k of ``layer`` as the backward pass uses it."""
        weight = self._weight(layer, k, j)
        if self.network.update_order == "during_backward":
            found = self.earlier(weight.new)
            if found is not None:
                return found
        return self._given(weight)

    def _given(self, key: Key) -> float:
        found = self.steps.value_of(self.mine(key))
        assert found is not None
        return found

    def _contrib(self) -> None:
        u, above = self.key.unit, self.key.above
        layer, j, k = self.layer, self.j, self.k
        weight = self._weight(layer + 1, k, j)
        w = weight.param
        if self.network.update_order == "during_backward":
            self.add("original-weight", self.sub({1: self._given(weight)}),
                     f"you used the original {symbol(weight)}; with update_order = "
                     f"during_backward the layers below use the updated {symbol(weight.new)}")
        else:
            self.add("updated-weight", self.sub({1: self.earlier(weight.new)}),
                     f"you used the updated {symbol(weight)}; the hidden layer uses the "
                     "original")
        for m, other in enumerate(self.names.weights[layer + 1][k]):
            if m != j:
                self.add("wrong-unit", self.sub({1: self._weight_used(layer + 1, k, m)}),
                         f"you used {symbol(keys.parameter(other))}, which carries "
                         f"out_{self._unit(layer, m)}; out_{u} reaches {above} through "
                         f"{symbol(keys.parameter(w))}")
        left_out = (f"the Jacobian's ∂out_k/∂net_{above} are left out"
                    if self._coupled(layer + 1)
                    else f"the factor ∂out_{above}/∂net_{above} is left out")
        self.add("slope-left-out", self.sub({0: self.earlier(keys.unit("dE_dout", above))}),
                 f"you used ∂E/∂out_{above} in place of δ_{above}: {left_out}")

    def _slope(self) -> None:
        u = self.key.unit
        activation = ACTIVATIONS[self.network.activations[self.layer]]
        self._activation_slips("slope")
        if activation.reads != "out":
            return
        for other in self.names.units[self.layer + 1]:
            if other != u:
                self.add("wrong-unit", self.sub({0: self.earlier(keys.unit("out", other))}),
                         f"you used out_{other}; this is {u}'s slope, from out_{u}")
        self.add("activation-itself", self.operands[0],
                 f"that is out_{u} itself; its slope is {activation.shape}")
        coupled = activation.coupled
        if coupled is not None:
            out = self.operands[0]
            self.add("off-diagonal-formula", evaluate(coupled.jacobian(False), [out, out]),
                     f"you used −out_k·out_j, the formula off the diagonal; on it "
                     f"∂out_{u}/∂net_{u} = {activation.shape}")

    def _jacobian(self) -> None:
        """An entry ∂out_k/∂net_j off a softmax Jacobian's diagonal: −out_k·out_j."""
        k, j = self.key.unit, self.key.above
        out_k, out_j = self.operands[0], self.operands[1]
        assert self.right is not None
        self.add("minus-sign-dropped", -self.right,
                 f"you dropped the minus sign: off the diagonal ∂out_{k}/∂net_{j} = "
                 f"−out_{k}·out_{j}, as a larger net_{j} takes share from out_{k}")
        self.add("diagonal-formula", out_k * (1.0 - out_j),
                 f"you used the diagonal's formula off it, out_{k}·(1 − out_{j}); for k ≠ j "
                 f"∂out_{k}/∂net_{j} = −out_{k}·out_{j}")
        self.add("diagonal-only", 0.0,
                 f"you took the Jacobian as diagonal; net_{j} moves every output's share, so "
                 f"∂out_{k}/∂net_{j} = −out_{k}·out_{j}, not 0")

    def _delta(self) -> None:
        if self._shortcut():
            self._shortcut_slips()
        elif self._coupled():
            self._summed()
        else:
            self._factors()
            self._other_order()

    def _chain(self) -> None:
        """The chain rule's δ of an output whose δ is worked as out − t (cross-entropy)."""
        if self._coupled():
            self._summed()
        else:
            self._factors()
        self._squared_error_kept()

    def _factors(self) -> None:
        """δ as the product ∂E/∂out·∂out/∂net (operands 0 and 1)."""
        u = self.key.unit
        assert self.right is not None
        self.add("slope-left-out", self.sub({1: 1.0}),
                 f"you left out the factor ∂out_{u}/∂net_{u} (the activation's slope)")
        self.add("dE-left-out", self.sub({0: 1.0}),
                 f"that is ∂out_{u}/∂net_{u} alone: multiply it by ∂E/∂out_{u}")
        if self._output():
            self.add("minus-sign-dropped", -self.right,
                     f"you dropped the minus sign of ∂E/∂out_{u} = {self._derivative}")

    def _summed(self) -> None:
        """δ_u of a softmax output by the chain rule, Σ_k ∂E/∂out_k·∂out_k/∂net_u: the
        Jacobian's diagonal only, the shortcut where the loss is not cross-entropy, the
        Jacobian left out, the sign dropped."""
        u = self.key.unit
        assert self.right is not None
        self._diagonal_only()
        if not self.loss.shortcut:
            out, target = (self.earlier(keys.unit(kind, u)) for kind in ("out", "target"))
            if out is not None and target is not None:
                self.add("shortcut-not-cross-entropy", out - target,
                         f"you used the shortcut δ = out − t, which holds for cross-entropy; "
                         f"with loss = \"{self.network.loss}\" δ_{u} sums "
                         f"∂E/∂out_k·∂out_k/∂net_{u} over every output k")
        self.add("jacobian-left-out", self.earlier(keys.unit("dE_dout", u)),
                 f"that is ∂E/∂out_{u} alone: δ_{u} multiplies each ∂E/∂out_k by "
                 f"∂out_k/∂net_{u} and sums over every output k")
        self.add("minus-sign-dropped", -self.right,
                 f"you dropped the minus sign of ∂E/∂out = {self._derivative}")

    def _diagonal_only(self) -> None:
        """A softmax output's δ_u with the Jacobian's diagonal only: ∂E/∂out_u·out_u(1 − out_u)."""
        if not self._coupled():
            return
        u = self.key.unit
        derivative, slope = self.earlier(keys.unit("dE_dout", u)), self._slope_of(u)
        if derivative is not None and slope is not None:
            self.add("diagonal-only", derivative * slope,
                     f"you took only the Jacobian's diagonal, ∂E/∂out_{u}·∂out_{u}/∂net_{u}; "
                     f"δ_{u} sums ∂E/∂out_k·∂out_k/∂net_{u} over every output k")

    def _shortcut_slips(self) -> None:
        """δ_u = out_u − t_u of an output under cross-entropy (operands out_u, t_u)."""
        u = self.key.unit
        assert self.right is not None
        self.add("sign-lost", -self.right,
                 f"you took t_{u} − out_{u}; δ_{u} = ∂E/∂net_{u} = out_{u} − t_{u}, positive "
                 "when the output is above its target")
        self._squared_error_kept()
        self._diagonal_only()

    def _squared_error_kept(self) -> None:
        """An output's δ under cross-entropy worked with the squared error's ∂E/∂out =
        out − t: (out_u − t_u)·∂out_u/∂net_u, and under softmax also with the whole Jacobian,
        Σ_k (out_k − t_k)·∂out_k/∂net_u."""
        u = self.key.unit
        outs, targets = self._outputs("out"), self._outputs("target")
        if outs is None or targets is None:
            return
        gaps = [out - target for out, target in zip(outs, targets, strict=True)]
        column = self._column(u)
        if column is not None:
            self.add("squared-error-kept", math.fsum(g * c for g, c in zip(gaps, column,
                                                                             strict=True)),
                     f"you kept the squared error's ∂E/∂out = {HALF_SSE.derivative_shape}; "
                     f"with cross-entropy it is {self._derivative}, and δ_{u} = out_{u} − t_{u}")
        slope = self._slope_of(u)
        if slope is not None:
            self.add("squared-error-kept", gaps[self.names.units[-1].index(u)] * slope,
                     f"you kept the squared error's δ, (out_{u} − t_{u})·∂out_{u}/∂net_{u}; "
                     f"with cross-entropy the slope cancels: δ_{u} = out_{u} − t_{u}")

    def _dnet_dw(self) -> None:
        layer, k = self.layer, self.k
        weight = keys.parameter(self.key.param)
        source = self._source(layer, k)
        self.add("weight-itself", self._given(weight),
                 f"that is {symbol(weight)} itself; the derivative of "
                 f"{symbol(weight)}·{symbol(source)} with respect to {symbol(weight)} is "
                 f"{symbol(source)}")
        if layer > 0:
            below = self._unit(layer - 1, k)
            self.add("net-not-out", self.earlier(keys.unit("net", below)),
                     f"that is net_{below}; {symbol(weight)} multiplies the output out_{below}")
        for m in range(self.network.sizes[layer]):
            if m != k:
                other = self._source(layer, m)
                self.add("wrong-unit", self.earlier(other),
                         f"that is {symbol(other)}; {symbol(weight)} carries {symbol(source)}")

    def _grad_w(self) -> None:
        layer, j, k = self.layer, self.j, self.k
        u = self._unit(layer, j)
        weight = keys.parameter(self.key.param)
        source = self._source(layer, k)
        assert self.right is not None
        text = (f"you multiplied ∂E/∂out_{u} by {symbol(source)} in place of δ_{u}: the "
                f"Jacobian's ∂out_k/∂net_{u} are left out" if self._coupled()
                else f"you multiplied ∂E/∂out_{u} by {symbol(source)}: the factor "
                f"∂out_{u}/∂net_{u} is left out")
        self.add("slope-left-out", self.sub({0: self.earlier(keys.unit("dE_dout", u))}), text)
        if self._shortcut():
            self.add("sign-lost", -self.right,
                     f"you took δ_{u} as t_{u} − out_{u}; δ_{u} = out_{u} − t_{u}")
        elif self._output():
            self.add("minus-sign-dropped", -self.right,
                     f"you dropped the minus sign of ∂E/∂out_{u} = {self._derivative}")
        self.add("dnet-left-out", self.operands[0],
                 f"that is δ_{u} alone: multiply it by ∂net_{u}/∂{symbol(weight)} = "
                 f"{symbol(source)}")
        for m in range(self.network.sizes[layer]):
            if m != k:
                other = self._source(layer, m)
                self.add("wrong-unit", self.sub({1: self.earlier(other)}),
                         f"you used {symbol(other)}; {symbol(weight)} carries {symbol(source)}")
        for m, other_unit in enumerate(self.names.units[layer + 1]):
            delta = self.earlier(keys.unit("delta", other_unit))
            if m != j and delta is not None:
                self.add("wrong-unit", self.sub({0: delta}),
                         f"you used δ_{other_unit}; {symbol(weight)} feeds {u}, so its "
                         f"gradient takes δ_{u}")
        self.add("eta-applied", self.network.learning_rate * self.right,
                 f"that is η·∂E/∂{symbol(weight)}, the step; the gradient itself has no η")
        self._other_order()

    def _new_w(self) -> None:
        if self.steps.plan.stateful:
            self._update()
            return
        layer, j, k = self.layer, self.j, self.k
        weight = keys.parameter(self.key.param)
        self._descent(weight)
        for m, other in enumerate(self.names.weights[layer][j]):
            gradient = self.earlier(keys.parameter(other).gradient)
            if m != k and gradient is not None:
                self.add("other-gradient", self.sub({2: gradient}),
                         f"you used ∂E/∂{symbol(keys.parameter(other))}, "
                         f"{symbol(keys.parameter(other))}'s gradient; {symbol(weight)} has "
                         "its own")

    def _new_b(self) -> None:
        if self.steps.plan.stateful:
            self._update()
        else:
            self._descent(keys.parameter(self.key.param))

    def _descent(self, parameter: Key) -> None:
        name = symbol(parameter)
        eta = self.operands[1]
        self.add("eta-left-out", self.sub({1: 1.0}),
                 f"you did not apply the learning rate: {name} − ∂E/∂{name}")
        self.add("eta-twice", self.sub({1: eta * eta}),
                 f"you applied the learning rate twice: {name} − η²·∂E/∂{name}")
        self.add("step-added", self.operands[0] + eta * self.operands[2],
                 f"you added the step; gradient descent subtracts η·∂E/∂{name}")
        self.add("step-only", eta * self.operands[2],
                 f"that is the step η·∂E/∂{name}; subtract it from {name}")
        self._other_order()

    # An optimiser's update ------------------------------------------------------------

    def _update(self) -> None:
        """A line of an optimiser's update: the slips its record lists for the line, worked
        from this update's numbers."""
        for slip in self._line_slips(self.steps.plan.optimizer.slips):
            self.add(slip.name, slip.value, slip.text)

    _bc1 = _bc2 = _new_v = _new_m = _new_s = _mhat = _shat = _update

    def also_right(self) -> list[tuple[float, str]]:
        """The step's value in another form that counts as right (Sutskever's v), with what
        to say of it."""
        return [(slip.value, _subscripts(slip.text))
                for slip in self._line_slips(self.steps.plan.optimizer.also_right)]

    def _line_slips(self, listed: tuple[UpdateSlip, ...]) -> list[Slip]:
        """Of ``listed``, those at this step's line, worked from this update's numbers."""
        kind = "new" if self.key.kind in ("new_w", "new_b") else self.key.kind
        mine = [slip for slip in listed if slip.kind == kind]
        if not mine:
            return []
        numbers = self._update_numbers(kind)
        parameter = symbol(keys.parameter(self.key.param)) if self.key.param else ""
        t = fmt(numbers["t"]) if "t" in numbers else ""
        return [Slip(slip.name, value, slip.text.format(p=parameter, t=t))
                for slip in mine if (value := slip.value(numbers)) is not None]

    def _update_numbers(self, kind: str) -> dict[str, float]:
        """Every number of this step's update (of its parameter) by role: the operands of
        each line, and each line's result by its kind ("new": the new value)."""
        optimizer = self.steps.plan.optimizer
        tag = (self.key.example, self.key.last)
        lines = optimizer.per_update + (optimizer.lines if self.key.param else ())
        numbers: dict[str, float] = {}
        for line in lines:
            key = (keys.parameter(self.key.param).new if line.kind == "new"
                   else Key(line.kind, param=self.key.param if line in optimizer.lines else ""))
            key = key.at(*tag)
            uses = self.steps.plan.formula(key).uses
            for role, use in zip(line.uses, uses, strict=True):
                numbers.setdefault(role, self._number(use))
            numbers[line.kind] = self._number(key)
        assert self.right is not None
        numbers[kind] = self.right
        return numbers

    def _number(self, key: Key) -> float:
        """A value of the epoch by key (or as ``values`` overrides it)."""
        text = keys.text(key)
        return self.overrides[text] if text in self.overrides else self.steps.number(key)

    def _grad_b(self) -> None:
        layer, j = self.layer, self.j
        units = self.names.units[layer + 1]
        bias = keys.parameter(self.key.param)
        shared = self.network.shared(layer)
        if shared and len(units) > 1:
            for u, value in zip(units, self.operands, strict=True):
                self.add("one-share", value,
                         f"you took only δ_{u}; {symbol(bias)} feeds every unit of the layer: "
                         "sum their δ")
        slopes = [self.earlier(keys.unit("dE_dout", u)) for u in (units if shared else [units[j]])]
        if all(s is not None for s in slopes):
            left_out = "the Jacobian" if self._coupled() else "the slope ∂out/∂net"
            self.add("slope-left-out", math.fsum(s for s in slopes if s is not None),
                     f"you summed ∂E/∂out in place of δ: {left_out} is left out")
        self._other_order()

    def _total_after(self) -> None:
        self.add("before-updates", self.earlier(keys.TOTAL),
                 "that is E_total, the error before the updates; E_total⁺ comes from a forward "
                 "pass with the new values")
        self._other_order()

    # Several examples ----------------------------------------------------------------

    def _batch(self) -> tuple[int, int]:
        """The first and last example of the step's batch."""
        key = self.key
        return (key.example, key.last) if key.last else (key.example, key.example)

    def _sum_or_mean(self, total: float, n: int, what: str) -> None:
        """``what`` (the examples' gradients, errors) summed where the mean was asked, or
        the reverse; ``total`` is their sum."""
        if self.network.batch_loss == "mean":
            self.add("sum-not-mean", total, f"you added the {n} examples' {what}; with "
                     f"batch_loss = \"mean\" their sum is divided by {n}, the batch's size")
        else:
            self.add("mean-not-sum", total / n, f"you took the mean of the {n} examples' "
                     f"{what}; with batch_loss = \"sum\" they are added, not divided")

    def _combined(self) -> None:
        """A batch's gradient: the mean or the sum of its examples' gradients (operands)."""
        first, last = self._batch()
        name = symbol(keys.parameter(self.key.param))
        self._sum_or_mean(math.fsum(self.operands), last - first + 1, "gradients")
        for k, value, which in ((last, self.operands[-1], "last"),
                                (first, self.operands[0], "first")):
            self.add(f"{which}-example", value,
                     f"that is ∂E/∂{name}[{k}], the gradient of example {k} alone; the batch's "
                     f"gradient combines those of examples {first} to {last}")

    def _batch_error(self) -> None:
        first, last = self._batch()
        self._sum_or_mean(math.fsum(self.operands), last - first + 1, "errors")
        after = _batch_network(self.steps, first, last, after=True)
        self.add("error-after-update", loss_of(after),
                 f"that is the error of examples {first} to {last} after the batch's update; "
                 "E" + f"[{first}–{last}] is taken before it, at the parameters the batch "
                 "starts from")

    def _dataset_after(self) -> None:
        n = self.network.examples
        assert self.right is not None
        before = self.steps.value_of(keys.DATASET)
        self.add("before-updates", before,
                 "that is E, the data set's error at the epoch's start, before the updates; "
                 "E⁺ takes every example's forward pass after the epoch's last update")
        if self.network.batch_loss == "mean":
            self._sum_or_mean(self.right * n, n, "errors")
        else:
            self._sum_or_mean(self.right, n, "errors")
        met = [self.later(keys.TOTAL.at(k)) for k in range(1, n + 1)]
        if all(value is not None for value in met):
            self.add("errors-met", _dataset_of(self.steps, [v for v in met if v is not None]),
                     "that combines the errors E_total[1] … met during the epoch, each at its "
                     "batch's parameters; E⁺ takes every example at the parameters after the "
                     "last update")

    def _online(self) -> None:
        """A later example of a batch, or the batch's new value, worked with the parameters
        updated between the batch's examples: the batch taken online."""
        key = self.key
        if self.network.batch_size == 1 or key.kind in ("batch_error", "dataset_after"):
            return
        first, last = self._batch() if key.last else self.steps.plan.batch_of(self.example)
        if key.last and key.kind not in ("new_w", "new_b"):
            return
        if not key.last and (not self.example or self.example == first):
            return
        online = _online_steps(self.steps, first, last)
        shifted = key.last - first + 1 if key.last else self.example - first + 1
        value = online.value_of(key._replace(example=shifted, last=0))
        if key.last:
            self.add("updated-between-examples", value,
                     f"that is {symbol(key._replace(example=0, last=0))} after taking examples "
                     f"{first} to {last} one at a time, an update after each (online); the "
                     "batch takes one step, with its combined gradient")
        else:
            self.add("updated-between-examples", value,
                     f"you used the parameters updated after example {self.example - 1}; every "
                     f"example of a batch uses those the batch starts from (updating between "
                     "examples is online training)")

    def _other_order(self) -> None:
        """The value the other update order gives: below the output layer, the weights
        above are either the original ones or the already-updated ones."""
        after = self.key.kind == "total_after"
        if (self._output() and not after) or self.network.batch_size > 1:
            return  # during_backward needs batches of one example
        other = _other_order(self.steps)
        found = other.keys.get(self.step.key)
        if found is None:
            return
        value = other.value_at(found)
        top = self.network.depth - 1
        above = [w for row in self.names.weights[top] for w in row] if after else \
            self._weights_above()
        listed = ", ".join(symbol(keys.parameter(w)) for w in above)
        if self.network.update_order == "after_backward":
            text = (f"that is the error with {listed} updated before the hidden layer's "
                    "gradients (update_order = during_backward)" if after
                    else f"you used the updated {listed}; the hidden layer uses the original")
        else:
            text = (f"you used the original {listed}; with update_order = during_backward the "
                    "layers below use the updated ones")
        self.add("other-order", value, text)

    def _weights_above(self) -> list[str]:
        """The weights out of this step's unit, which the backward pass reads."""
        layer, j = self.layer, self.j
        if self.key.kind in ("grad_b", "new_b") and self.network.shared(layer):
            return [w for row in self.names.weights[layer + 1] for w in row]
        return [row[j] for row in self.names.weights[layer + 1]]


_NAME = re.compile(r"(?<![A-Za-z0-9_])((?:out_|net_|δ_|E_|t_)?[hiowb])(\d+(?:\.\d+)?)")
_SUBSCRIPT = str.maketrans("0123456789.", "₀₁₂₃₄₅₆₇₈₉.")


def _subscripts(text: str) -> str:
    """Names as the app shows them: out_h1 -> out_h₁, w5 -> w₅ (already shown ones stay)."""
    return _NAME.sub(lambda m: m[1] + m[2].translate(_SUBSCRIPT), text)


_OTHER: weakref.WeakKeyDictionary[EpochSteps, EpochSteps] = weakref.WeakKeyDictionary()
_ONLINE: weakref.WeakKeyDictionary[EpochSteps, dict[int, EpochSteps]] = \
    weakref.WeakKeyDictionary()


def _batch_network(steps: EpochSteps, first: int, last: int, after: bool = False) -> Network:
    """The batch of examples ``first`` to ``last`` alone, with the parameters it starts from
    (or, ``after``, those after its update)."""
    batches = steps.plan.shape.batches()
    number = batches.index((first, last))
    updates = steps.trace.updates
    if after:
        network = updates[number].after
    else:
        network = steps.network if number == 0 else updates[number - 1].after
    return dataclasses.replace(network, inputs=network.inputs[first - 1:last],
                               targets=network.targets[first - 1:last], batch="full")


def _online_steps(steps: EpochSteps, first: int, last: int) -> EpochSteps:
    """The batch of examples ``first`` to ``last`` taken online from the parameters it
    starts from (traced once, on first use): its examples numbered from 1."""
    found = _ONLINE.setdefault(steps, {})
    if first not in found:
        network = dataclasses.replace(_batch_network(steps, first, last), batch="online")
        found[first] = EpochSteps(steps.epoch, trace_epoch(network))
    return found[first]


def _dataset_of(steps: EpochSteps, totals: list[float]) -> float:
    """Every example's E_total combined as the data set's error combines them."""
    return steps.plan.dataset.compute(totals)


def _other_order(steps: EpochSteps) -> EpochSteps:
    """The same epoch worked with the other update order (traced once, on first use)."""
    found = _OTHER.get(steps)
    if found is None:
        network = steps.network
        order = next(o for o in UPDATE_ORDERS if o != network.update_order)
        found = _OTHER[steps] = EpochSteps(
            steps.epoch, trace_epoch(dataclasses.replace(network, update_order=order)))
    return found
