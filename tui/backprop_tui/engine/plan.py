"""The computation of an epoch as structure: every step's key, phase and formula, in order.

All of it follows from the network's shape and options alone (no numbers, no numpy): the
app counts and labels the steps of its first frame from it before numpy has loaded, hand
rounding works each step by evaluating its formula, and ``steps`` pairs each step with its
value from a trace. A formula's operands are keys: the values a person combines.

The order is the one a person works by hand:

1. Forward pass: for every unit, its weighted sum (every term shown), then its activation.
2. Error: each output's error, then the total.
3. Output layer, unit by unit: ∂E/∂out, ∂out/∂net, δ; then for each weight into the unit
   ∂net/∂w, ∂E/∂w and the new value; per-unit biases after the unit's weights, a shared
   bias after the whole layer (its gradient sums the units' δ).
4. Each hidden layer from the top down: per unit, one step per share of the error that
   flows back through each unit above (δ_k · w_k), their sum ∂E/∂out, then as above.
5. The updates applied, then the total error recomputed with the new values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple, Protocol

from backprop_tui import keys
from backprop_tui.formula import Add, Assign, Computation, Expr, Mul, Ref, Sub, compiled, count
from backprop_tui.functions import ACTIVATIONS, LOSSES
from backprop_tui.keys import Key
from backprop_tui.network import Names, names_of

FORWARD = ("net", "out", "error", "total", "slope", "dE_dout")  # see Plan.forward


class Shaped(Protocol):
    """What a plan depends on: a Network or a Given has it."""

    @property
    def sizes(self) -> tuple[int, ...]: ...

    @property
    def depth(self) -> int: ...

    @property
    def activations(self) -> tuple[str, ...]: ...

    @property
    def loss(self) -> str: ...

    @property
    def update_biases(self) -> bool: ...

    @property
    def update_order(self) -> str: ...

    def shared(self, layer: int) -> bool: ...


class Shape(NamedTuple):
    """A network's shape and the options that decide its steps (not its numbers)."""

    sizes: tuple[int, ...]
    shared: tuple[bool, ...]
    activations: tuple[str, ...]
    loss: str
    update_biases: bool
    update_order: str

    @classmethod
    def of(cls, net: Shaped) -> Shape:
        return cls(net.sizes, tuple(net.shared(k) for k in range(net.depth)),
                   net.activations, net.loss, net.update_biases, net.update_order)

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    @property
    def names(self) -> Names:
        return names_of(self.sizes, self.shared)


@dataclass(frozen=True)
class Formula:
    """One step's structure: its formula, the values it combines (its operands, by position
    in the formula) and the parts of the network it touches (for the diagram)."""

    expr: Expr
    uses: tuple[Key, ...]
    touches: tuple[str, ...]

    @cached_property
    def compute(self) -> Computation:
        """The formula as a function of its operands (compiled once per plan)."""
        return compiled(self.expr)


def plan(net: Shaped) -> Plan:
    """The plan of an epoch of ``net`` (shared by every network of the same shape)."""
    return _plan(Shape.of(net))


@lru_cache(maxsize=16)
def _plan(shape: Shape) -> Plan:
    return Plan(shape)


class Plan:
    """Every step of an epoch, in order: its key and phase, and its formula on demand (a
    large network has over a hundred thousand steps; a person looks at a few)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.names = shape.names
        self.keys: list[Key] = []
        self.phase_of: list[str] = []  # by position, as keys
        self._formulas: dict[Key, Formula] = {}
        self._units: dict[tuple[str, int], list[Key]] = {}
        self._order()

    def __len__(self) -> int:
        return len(self.keys)

    @cached_property
    def index(self) -> dict[Key, int]:
        """Key -> the 1-based index of the step that computes it."""
        return {key: i + 1 for i, key in enumerate(self.keys)}

    @cached_property
    def phases(self) -> list[tuple[str, int, int]]:
        """(phase, first index, last index), 1-based, in order."""
        return phases(self.phase_of)

    @cached_property
    def work(self) -> list[tuple[Key, Formula]]:
        """Every step with its formula, in order (for working an epoch step by step)."""
        return [(key, self.formula(key)) for key in self.keys]

    @cached_property
    def forward(self) -> list[tuple[Key, Formula]]:
        """The steps of a forward pass and its error, with the slopes and the output layer's
        ∂E/∂out (all they need is the forward pass), with their formulas."""
        outputs = self.names.units[-1]
        return [(key, formula) for key, formula in self.work if key.kind in FORWARD
                and (key.kind != "dE_dout" or key.unit in outputs)]

    @cached_property
    def given(self) -> list[Key]:
        """Every given value's key, in the order of ``given_numbers``."""
        names = self.names
        return [*(keys.unit("input", u) for u in names.units[0]),
                *(keys.unit("target", u) for u in names.units[-1]),
                *(keys.parameter(w) for layer in names.weights for row in layer for w in row),
                *(keys.parameter(b) for layer in names.biases for b in layer), keys.ETA]

    def units(self, kind: str, layer: int) -> list[Key]:
        """The keys of quantity ``kind`` of every unit of a layer (0: the inputs)."""
        found = self._units.get((kind, layer))
        if found is None:
            found = self._units[kind, layer] = [keys.unit(kind, u)
                                                for u in self.names.units[layer]]
        return found

    def formula(self, key: Key) -> Formula:
        found = self._formulas.get(key)
        if found is None:
            found = self._formulas[key] = getattr(self, f"_{key.kind}")(key)
        return found

    # The order ------------------------------------------------------------------------

    def _add(self, phase: str, found: Sequence[Key]) -> None:
        self.keys += found
        self.phase_of += [phase] * len(found)

    def _order(self) -> None:
        shape, names = self.shape, self.names
        depth = shape.depth
        for layer in range(depth):
            for u in names.units[layer + 1]:
                self._add("forward", [keys.unit("net", u), keys.unit("out", u)])
        self._add("error", [*(keys.unit("error", u) for u in names.units[-1]), keys.TOTAL])
        for layer in reversed(range(depth)):
            if layer == depth - 1:
                phase = "output"
            else:
                phase = "hidden" if depth == 2 else f"hidden{layer + 1}"
            found: list[Key] = []
            for j, u in enumerate(names.units[layer + 1]):
                if layer < depth - 1:
                    found += [Key("contrib", unit=u, above=a) for a in names.units[layer + 2]]
                found += [keys.unit(kind, u) for kind in ("dE_dout", "slope", "delta")]
                for w in names.weights[layer][j]:
                    found += [Key("dnet_dw", unit=u, param=w), Key("grad_w", param=w),
                              Key("new_w", param=w)]
                if not shape.shared[layer]:
                    found += self._bias(names.biases[layer][j])
            if shape.shared[layer]:
                found += self._bias(names.biases[layer][0])
            self._add(phase, found)
        self._add("update", [keys.APPLY, keys.TOTAL_AFTER])

    def _bias(self, name: str) -> list[Key]:
        bias = keys.parameter(name)
        return [bias.gradient, *([bias.new] if self.shape.update_biases else [])]

    # The formulas ----------------------------------------------------------------------

    def _where(self, name: str) -> tuple[int, int]:
        """A unit's weight layer (0-based; the inputs: -1) and its index in the layer."""
        return self.names.position[name]

    def _net(self, key: Key) -> Formula:
        names = self.names
        layer, j = self._where(key.unit)
        weights = names.weights[layer][j]
        bias = names.bias(layer, j)
        uses: list[Key] = []
        terms: list[Expr] = []
        for w, source in zip(weights, names.units[layer], strict=True):
            terms.append(Mul((Ref(len(uses)), Ref(len(uses) + 1))))
            uses += [keys.parameter(w), keys.source(source)]
        terms.append(Ref(len(uses)))
        uses.append(keys.parameter(bias))
        return Formula(Add(tuple(terms)), tuple(uses),
                       (key.unit, *weights, *names.units[layer], bias))

    def _activation(self, unit: str) -> str:
        return self.shape.activations[self._where(unit)[0]]

    def _out(self, key: Key) -> Formula:
        activation = ACTIVATIONS[self._activation(key.unit)]
        return Formula(activation.formula, (keys.unit("net", key.unit),), (key.unit,))

    def _loss_expr(self, target: int, out: int) -> Expr:
        loss = LOSSES[self.shape.loss]
        return loss.error_formula(Ref(target), Ref(out), count(self.shape.sizes[-1]))

    def _target_and_out(self, unit: str, kind: str = "out") -> tuple[Key, Key]:
        return keys.unit("target", unit), keys.unit(kind, unit)

    def _error(self, key: Key) -> Formula:
        return Formula(self._loss_expr(0, 1), self._target_and_out(key.unit), (key.unit,))

    def _total(self, key: Key) -> Formula:
        outputs = self.names.units[-1]
        return Formula(_sum(len(outputs)), tuple(keys.unit("error", u) for u in outputs),
                       tuple(outputs))

    def _weight_into(self, above: str, unit: str) -> str:
        """The weight that carries ``unit``'s output into ``above``."""
        layer, k = self._where(above)
        return self.names.weights[layer][k][self._where(unit)[1]]

    def _contrib(self, key: Key) -> Formula:
        weight = keys.parameter(self._weight_into(key.above, key.unit))
        if self.shape.update_order == "during_backward":
            weight = weight.new
        return Formula(Mul((Ref(0), Ref(1))), (keys.unit("delta", key.above), weight),
                       (key.unit, key.above, weight.param))

    def _dE_dout(self, key: Key) -> Formula:
        layer, _ = self._where(key.unit)
        if layer == self.shape.depth - 1:
            loss = LOSSES[self.shape.loss]
            expr = loss.derivative_formula(Ref(0), Ref(1), count(self.shape.sizes[-1]))
            return Formula(expr, self._target_and_out(key.unit), (key.unit,))
        above = self.names.units[layer + 2]
        weights = [self._weight_into(a, key.unit) for a in above]
        return Formula(_sum(len(above)),
                       tuple(Key("contrib", unit=key.unit, above=a) for a in above),
                       (key.unit, *above, *weights))

    def _slope(self, key: Key) -> Formula:
        activation = ACTIVATIONS[self._activation(key.unit)]
        uses = (keys.unit(activation.reads, key.unit),) if activation.reads else ()
        return Formula(activation.slope_formula, uses, (key.unit,))

    def _delta(self, key: Key) -> Formula:
        return Formula(Mul((Ref(0), Ref(1))),
                       (keys.unit("dE_dout", key.unit), keys.unit("slope", key.unit)),
                       (key.unit,))

    def _source(self, key: Key) -> str:
        """The unit (or input) whose value the weight of ``key`` multiplies."""
        _, layer, _, column = self.names.parameters()[key.param]
        return self.names.units[layer][column]

    def _dnet_dw(self, key: Key) -> Formula:
        source = self._source(key)
        return Formula(Ref(0), (keys.source(source),), (key.param, source))

    def _grad_w(self, key: Key) -> Formula:
        _, layer, row, _ = self.names.parameters()[key.param]
        unit = self.names.units[layer + 1][row]
        return Formula(Mul((Ref(0), Ref(1))),
                       (keys.unit("delta", unit), Key("dnet_dw", unit=unit, param=key.param)),
                       (key.param, unit, self._source(key)))

    def _descent(self, key: Key) -> Formula:
        parameter = key.parameter
        return Formula(Sub(Ref(0), Mul((Ref(1), Ref(2)))),
                       (parameter, keys.ETA, parameter.gradient), (key.param,))

    _new_w = _new_b = _descent

    def _grad_b(self, key: Key) -> Formula:
        _, layer, row, _ = self.names.parameters()[key.param]
        units = self.names.units[layer + 1]
        fed = units if self.shape.shared[layer] else [units[row]]
        return Formula(_sum(len(fed)), tuple(keys.unit("delta", u) for u in fed),
                       (key.param, *fed))

    def _apply(self, key: Key) -> Formula:
        names = self.names
        updated: list[str] = []
        for layer in range(self.shape.depth):
            updated += [w for row in names.weights[layer] for w in row]
            if self.shape.update_biases:
                updated += names.biases[layer]
        parameters = [keys.parameter(name) for name in updated]
        return Formula(Assign(tuple(keys.text(p) for p in parameters),
                              tuple(Ref(i) for i in range(len(updated)))),
                       tuple(p.new for p in parameters), tuple(updated))

    def _total_after(self, key: Key) -> Formula:
        outputs = self.names.units[-1]
        uses: list[Key] = []
        terms: list[Expr] = []
        for u in outputs:
            terms.append(self._loss_expr(len(uses), len(uses) + 1))
            uses += self._target_and_out(u, "out_after")
        return Formula(Add(tuple(terms)), tuple(uses), tuple(outputs))


def _sum(terms: int) -> Expr:
    """The sum of the operands: a single one is itself (an exact sum of one -0.0 is 0.0)."""
    return Add(tuple(Ref(i) for i in range(terms))) if terms > 1 else Ref(0)


def phases(phase_of: Sequence[str]) -> list[tuple[str, int, int]]:
    """(phase, first index, last index), 1-based, in order, from each step's phase."""
    found: list[tuple[str, int, int]] = []
    for i, phase in enumerate(phase_of):
        if found and found[-1][0] == phase:
            found[-1] = (phase, found[-1][1], i + 1)
        else:
            found.append((phase, i + 1, i + 1))
    return found
