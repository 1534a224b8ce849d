"""The steps of one epoch, in the order a person works them by hand.

1. Forward pass: for every unit, its weighted sum (every term shown), then its activation.
2. Error: each output's error, then the total.
3. Output layer, unit by unit: ∂E/∂out, ∂out/∂net, δ; then for each weight into the unit
   ∂net/∂w, ∂E/∂w and the new value; per-unit biases after the unit's weights, a shared
   bias after the whole layer (its gradient sums the units' δ).
4. Each hidden layer from the top down: per unit, one step per share of the error that
   flows back through each unit above (δ_k · w_k), their sum ∂E/∂out, then as above.
5. The updates applied, then the total error recomputed with the new values.

Steps are built on demand from an epoch's trace: a large network's epoch has over a
hundred thousand steps, and a person looks at a few of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import cached_property

from backprop_tui.engine.trace import EpochTrace, trace_is_finite
from backprop_tui.steps.expr import (
    HALF,
    ONE,
    Add,
    Assign,
    Call,
    Div,
    Exp,
    Expr,
    Lit,
    Mul,
    Neg,
    Positive,
    Ref,
    Square,
    Sub,
)
from backprop_tui.steps.plan import Spec, phase_of, phases, plan, step_key
from backprop_tui.steps.step import Step

ACTIVATION_EXPR: dict[str, Expr] = {
    "sigmoid": Div(ONE, Add((ONE, Exp(Neg(Ref(0)))))),
    "tanh": Call("tanh", r"\tanh", Ref(0)),
    "relu": Call("max", r"\max", Ref(0), lead="0, "),
    "linear": Ref(0),
}
SLOPE_EXPR: dict[str, Expr] = {
    "sigmoid": Mul((Ref(0), Sub(ONE, Ref(0)))),
    "tanh": Sub(ONE, Square(Ref(0))),
    "relu": Positive(Ref(0)),
    "linear": ONE,
}
ACTIVATION_WORDS = {
    "sigmoid": "The logistic function σ squashes the weighted sum into the range 0 to 1",
    "tanh": "tanh squashes the weighted sum into the range −1 to 1",
    "relu": "ReLU passes a positive weighted sum through and turns any other into 0",
    "linear": "A linear unit passes its weighted sum through unchanged",
}
SLOPE_WORDS = {
    "sigmoid": "the logistic function's derivative is out·(1 − out), so it needs only the output",
    "tanh": "tanh's derivative is 1 − out², so it needs only the output",
    "relu": "ReLU's slope is 1 where the weighted sum is above 0, and 0 elsewhere (0 at 0 too)",
    "linear": "a linear unit's slope is 1 everywhere",
}


class EpochSteps(Sequence[Step]):
    """The steps of one epoch, built from its trace as they are asked for.

    If a value stops being finite, the steps end just before it: ``diverged`` then names
    the step (1-based index and key) whose value is not finite.
    """

    def __init__(self, epoch: int, trace: EpochTrace) -> None:
        self.epoch = epoch
        self.trace = trace
        self.network = trace.network
        self.names = trace.network.names
        specs = plan(trace.network)
        self.diverged: tuple[int, str, float] | None = None
        if not trace_is_finite(trace):
            for i, spec in enumerate(specs):
                value = self._value(spec)
                if value is not None and not math.isfinite(value):
                    self.diverged = (i + 1, self._key(spec), value)
                    specs = specs[:i]
                    break
        self.specs = specs
        self._built: dict[int, Step] = {}

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, i: int) -> Step:  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self.specs)))]  # type: ignore[return-value]
        if i < 0:
            i += len(self.specs)
        if not 0 <= i < len(self.specs):
            raise IndexError(i)
        step = self._built.get(i)
        if step is None:
            step = self._built[i] = self._build(i)
        return step

    def __iter__(self) -> Iterator[Step]:
        for i in range(len(self.specs)):
            yield self._built.get(i) or self._build(i)

    def value_at(self, index: int) -> float | None:
        """The value of step ``index`` (1-based) without building the step."""
        return self._value(self.specs[index - 1])

    @cached_property
    def keys(self) -> dict[str, int]:
        """Key -> 1-based index of the step that computes it."""
        return {self._key(spec): i + 1 for i, spec in enumerate(self.specs)}

    @cached_property
    def phases(self) -> list[tuple[str, int, int]]:
        """(phase, first index, last index), 1-based, in order."""
        return phases(self.specs, self.network.depth)

    # Names -------------------------------------------------------------------------

    def _unit(self, layer: int, j: int) -> str:
        """Unit j of weight layer ``layer``'s output (layer -1 are the inputs)."""
        return self.names.units[layer + 1][j]

    def _act_key(self, layer: int, k: int) -> str:
        """The key of the k-th value feeding weight layer ``layer``."""
        return self.names.units[0][k] if layer == 0 else f"out_{self._unit(layer - 1, k)}"

    def _key(self, spec: Spec) -> str:
        return step_key(spec, self.names)

    # Values ------------------------------------------------------------------------

    def _value(self, spec: Spec) -> float | None:
        kind, layer, j, k = spec
        t = self.trace
        match kind:
            case "net":
                return float(t.fwd.nets[layer][j])
            case "out":
                return float(t.fwd.acts[layer + 1][j])
            case "error":
                return float(t.fwd.errors[j])
            case "total":
                return t.fwd.loss
            case "contrib":
                return float(t.contribs[layer][k, j])  # type: ignore[index]
            case "dE_dout":
                return float(t.dE_dout[layer][j])
            case "slope":
                return float(t.fwd.slopes[layer][j])
            case "delta":
                return float(t.deltas[layer][j])
            case "dnet_dw":
                return float(t.fwd.acts[layer][k])
            case "grad_w":
                return float(t.grad_w[layer][j, k])
            case "new_w":
                return float(t.after.weights[layer][j, k])
            case "grad_b":
                return float(t.grad_b[layer][j])
            case "new_b":
                return float(t.after.biases[layer][j])
            case "apply":
                return None
            case _:
                return t.fwd_after.loss

    # Building ------------------------------------------------------------------------

    def _build(self, i: int) -> Step:
        spec = self.specs[i]
        expr, uses, operands, touches, explanation = getattr(self, f"_{spec[0]}")(*spec[1:])
        return Step(
            epoch=self.epoch,
            index=i + 1,
            phase=phase_of(spec, self.network.depth),
            key=self._key(spec),
            kind=spec[0],
            expr=expr,
            uses=tuple(uses),
            operands=tuple(float(v) for v in operands),
            value=self._value(spec),
            explanation=explanation,
            touches=tuple(touches),
        )

    def _net(self, layer: int, j: int, _: int) -> tuple:
        net = self.network
        u = self._unit(layer, j)
        weights = self.names.weights[layer][j]
        sources = [self._act_key(layer, k) for k in range(len(weights))]
        bias = self.names.bias(layer, j)
        uses: list[str] = []
        operands: list[float] = []
        terms: list[Expr] = []
        for k, (w, src) in enumerate(zip(weights, sources, strict=True)):
            terms.append(Mul((Ref(len(uses)), Ref(len(uses) + 1))))
            uses += [w, src]
            operands += [net.weights[layer][j, k], self.trace.fwd.acts[layer][k]]
        terms.append(Ref(len(uses)))
        uses.append(bias)
        operands.append(net.biases[layer][0 if net.shared(layer) else j])
        touched = [u, *weights, *(self.names.units[layer]), bias]
        text = (f"The weighted sum into {u}: each value feeding {u} times the weight on its "
                f"connection, plus the bias {bias}. It is what {u} receives before its activation.")
        return Add(tuple(terms)), uses, operands, touched, text

    def _out(self, layer: int, j: int, _: int) -> tuple:
        u = self._unit(layer, j)
        activation = self.network.activations[layer]
        text = f"{ACTIVATION_WORDS[activation]}: this is {u}'s output, which the next layer uses."
        if layer == self.network.depth - 1:
            text = f"{ACTIVATION_WORDS[activation]}: this is {u}'s output, the network's answer."
        return (ACTIVATION_EXPR[activation], [f"net_{u}"], [self.trace.fwd.nets[layer][j]],
                [u], text)

    def _error_expr(self, target: int, out: int) -> Expr:
        diff = Square(Sub(Ref(target), Ref(out)))
        if self.network.loss == "half_sse":
            return Mul((HALF, diff))
        return Div(diff, self._n())

    def _n(self) -> Lit:
        return Lit("n", "n", str(self.network.sizes[-1]))

    def _error(self, layer: int, j: int, _: int) -> tuple:
        u = self._unit(layer, j)
        uses = [self.names.targets[j], f"out_{u}"]
        operands = [self.network.targets[j], self.trace.fwd.acts[-1][j]]
        if self.network.loss == "half_sse":
            text = (f"The error at {u}: half the squared gap between its target and its output. "
                    "The ½ is there to cancel the 2 that differentiating brings down.")
        else:
            text = (f"{u}'s share of the mean squared error: the squared gap between its target "
                    "and its output, divided by the number of outputs n.")
        return self._error_expr(0, 1), uses, operands, [u], text

    def _total(self, layer: int, _j: int, _k: int) -> tuple:
        outputs = self.names.units[-1]
        uses = [f"E_{u}" for u in outputs]
        text = ("The total error is the sum of the output errors: the one number "
                "backpropagation sets out to reduce.")
        return (Add(tuple(Ref(i) for i in range(len(uses)))), uses,
                list(self.trace.fwd.errors), outputs, text)

    def _contrib(self, layer: int, j: int, k: int) -> tuple:
        u = self._unit(layer, j)
        above = self._unit(layer + 1, k)
        w = self.names.weights[layer + 1][k][j]
        during = self.network.update_order == "during_backward"
        weight_key = f"{w}+" if during else w
        weights = self.trace.after.weights if during else self.network.weights
        operands = [self.trace.deltas[layer + 1][k], weights[layer + 1][k, j]]
        text = (f"The share of the error that reaches out_{u} through {above}: δ_{above}, the "
                f"error signal at {above}, times {w}, the weight that carries out_{u} into it.")
        if during:
            text += f" It uses the already-updated {w} (update_order = during_backward)."
        return (Mul((Ref(0), Ref(1))), [f"delta_{above}", weight_key], operands,
                [u, above, w], text)

    def _dE_dout(self, layer: int, j: int, _: int) -> tuple:
        u = self._unit(layer, j)
        if layer == self.network.depth - 1:
            uses = [self.names.targets[j], f"out_{u}"]
            operands = [self.network.targets[j], self.trace.fwd.acts[-1][j]]
            if self.network.loss == "half_sse":
                expr: Expr = Neg(Sub(Ref(0), Ref(1)))
                rule = "differentiating ½(t − out)² gives −(t − out)"
            else:
                expr = Div(Mul((Lit("−2", "-2"), Sub(Ref(0), Ref(1)))), self._n())
                rule = "differentiating (t − out)²/n gives −2(t − out)/n"
            text = (f"How the total error changes as out_{u} changes: {rule}. It is positive "
                    "when the output is above its target.")
            return expr, uses, operands, [u], text
        above = self.names.units[layer + 2]
        uses = [f"dE_{a}/dout_{u}" for a in above]
        operands = list(self.trace.contribs[layer][:, j])  # type: ignore[index]
        text = (f"out_{u} feeds every unit of the layer above, so its effect on the total error "
                "is the sum of the shares that flow back through each of them.")
        weights = [self.names.weights[layer + 1][a][j] for a in range(len(above))]
        return (Add(tuple(Ref(i) for i in range(len(uses)))), uses, operands,
                [u, *above, *weights], text)

    def _slope(self, layer: int, j: int, _: int) -> tuple:
        u = self._unit(layer, j)
        activation = self.network.activations[layer]
        text = f"How out_{u} changes as net_{u} changes: {SLOPE_WORDS[activation]}."
        if activation in ("sigmoid", "tanh"):
            return (SLOPE_EXPR[activation], [f"out_{u}"], [self.trace.fwd.acts[layer + 1][j]],
                    [u], text)
        if activation == "linear":
            return SLOPE_EXPR[activation], [], [], [u], text
        return (SLOPE_EXPR[activation], [f"net_{u}"], [self.trace.fwd.nets[layer][j]], [u], text)

    def _delta(self, layer: int, j: int, _: int) -> tuple:
        u = self._unit(layer, j)
        uses = [f"dE/dout_{u}", f"dout_{u}/dnet_{u}"]
        operands = [self.trace.dE_dout[layer][j], self.trace.fwd.slopes[layer][j]]
        text = (f"δ_{u}, the error signal at {u}: how the total error changes with net_{u}. "
                f"By the chain rule it is ∂E/∂out_{u} times ∂out_{u}/∂net_{u}; every weight "
                f"into {u} reuses it.")
        return Mul((Ref(0), Ref(1))), uses, operands, [u], text

    def _dnet_dw(self, layer: int, j: int, k: int) -> tuple:
        u = self._unit(layer, j)
        w = self.names.weights[layer][j][k]
        src = self._act_key(layer, k)
        text = (f"How net_{u} changes with {w}: {w} multiplies {src} in the weighted sum, so "
                f"the derivative is {src} itself.")
        return (Ref(0), [src], [self.trace.fwd.acts[layer][k]],
                [w, self.names.units[layer][k]], text)

    def _grad_w(self, layer: int, j: int, k: int) -> tuple:
        u = self._unit(layer, j)
        w = self.names.weights[layer][j][k]
        uses = [f"delta_{u}", f"dnet_{u}/d{w}"]
        operands = [self.trace.deltas[layer][j], self.trace.fwd.acts[layer][k]]
        text = (f"How the total error changes with {w}. By the chain rule, ∂E/∂{w} = "
                f"∂E/∂out_{u} · ∂out_{u}/∂net_{u} · ∂net_{u}/∂{w}; the first two factors "
                f"are δ_{u}.")
        return Mul((Ref(0), Ref(1))), uses, operands, [w, u, self.names.units[layer][k]], text

    def _new_w(self, layer: int, j: int, k: int) -> tuple:
        w = self.names.weights[layer][j][k]
        operands = [self.network.weights[layer][j, k], self.network.learning_rate,
                    self.trace.grad_w[layer][j, k]]
        return self._descent(w, operands)

    def _descent(self, name: str, operands: list[float]) -> tuple:
        if self.network.update_order == "during_backward" and name.startswith("w"):
            when = "It takes effect at once (update_order = during_backward)."
        else:
            when = "It takes effect when the epoch's updates are applied, at the end."
        text = (f"Gradient descent: move {name} against its gradient, a step the size of the "
                f"learning rate η times the gradient. {when}")
        expr = Sub(Ref(0), Mul((Ref(1), Ref(2))))
        return expr, [name, "eta", f"dE/d{name}"], operands, [name], text

    def _grad_b(self, layer: int, j: int, _: int) -> tuple:
        net = self.network
        b = self.names.biases[layer][j]
        units = self.names.units[layer + 1]
        if net.shared(layer):
            uses = [f"delta_{u}" for u in units]
            operands = list(self.trace.deltas[layer])
            text = (f"{b} is shared by the layer's units and ∂net/∂{b} = 1 for each of them, "
                    "so its gradient is the sum of their δ.")
            touched = [b, *units]
        else:
            uses = [f"delta_{units[j]}"]
            operands = [self.trace.deltas[layer][j]]
            text = f"∂net_{units[j]}/∂{b} = 1, so the gradient of {b} is δ_{units[j]}."
            touched = [b, units[j]]
        if not net.update_biases:
            text += " Biases stay fixed here (update_biases = false): reported, not applied."
        return Add(tuple(Ref(i) for i in range(len(uses)))), uses, operands, touched, text

    def _new_b(self, layer: int, j: int, _: int) -> tuple:
        b = self.names.biases[layer][j]
        operands = [self.network.biases[layer][j], self.network.learning_rate,
                    self.trace.grad_b[layer][j]]
        return self._descent(b, operands)

    def _apply(self, *_: int) -> tuple:
        net = self.network
        names: list[str] = []
        operands: list[float] = []
        for layer in range(net.depth):
            names += [w for row in self.names.weights[layer] for w in row]
            operands += self.trace.after.weights[layer].ravel().tolist()
            if net.update_biases:
                names += self.names.biases[layer]
                operands += self.trace.after.biases[layer].tolist()
        text = "Every new value takes effect: the next epoch starts from these."
        if net.update_order == "during_backward":
            text += (" Each layer's new weights were already in use for the layers below it "
                     "(update_order = during_backward).")
        uses = [f"{n}+" for n in names]
        return (Assign(tuple(names), tuple(Ref(i) for i in range(len(names)))), uses, operands,
                names, text)

    def _total_after(self, *_: int) -> tuple:
        outputs = self.names.units[-1]
        uses: list[str] = []
        operands: list[float] = []
        terms: list[Expr] = []
        for j, u in enumerate(outputs):
            terms.append(self._error_expr(len(uses), len(uses) + 1))
            uses += [self.names.targets[j], f"out_{u}+"]
            operands += [self.network.targets[j], self.trace.fwd_after.acts[-1][j]]
        before, after = self.trace.fwd.loss, self.trace.fwd_after.loss
        verdict = ("lower than before the updates: this epoch of gradient descent reduced the "
                   "error" if after < before else
                   "not lower than before the updates: the learning rate may be too large")
        text = ("The total error again, from a forward pass with the new values (out⁺). "
                f"It is {verdict}.")
        return Add(tuple(terms)), uses, operands, outputs, text
