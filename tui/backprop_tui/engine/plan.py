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
   bias after the whole layer (its gradient sums the units' δ). A softmax layer computes
   every net before any output (each output needs them all); its backward pass starts with
   every output's ∂E/∂out, then per unit j the Jacobian's column ∂out_k/∂net_j (one step
   an entry, its diagonal as the slope step, up to four outputs; inside δ beyond) and
   δ_j = Σ_k ∂E/∂out_k·∂out_k/∂net_j. Under cross-entropy δ is out − t, worked directly:
   the chain rule's δ comes just before it (``chain``) to show that they agree, and the
   chain's values (∂E/∂out, slopes, Jacobian) are for teaching only (``Plan.teaching``).
4. Each hidden layer from the top down: per unit, one step per share of the error that
   flows back through each unit above (δ_k · w_k), their sum ∂E/∂out, then as above.
5. The updates applied, then the total error recomputed with the new values.

An optimiser other than plain gradient descent (``functions.OPTIMIZERS``) keeps state
between updates; its lines are steps of their own, after the backward pass (PyTorch's
``backward()`` then ``step()``): Adam's bias corrections once, then for every updated
parameter in network order each line of its update (v⁺ then w⁺; m⁺, s⁺, m̂, ŝ, w⁺), then
the updates applied. The backward phases then stop at each gradient.

With several training examples an epoch is a pass over them in file order, batch by batch
(``network.batches``): each example's steps 1–4 as above, tagged with its number from 1
(``net_h1[2]``) and using the parameters as they stood at its batch's start; for a batch of
more than one example, a phase that combines each parameter's gradients over the batch
(their mean or sum, ``batch_loss``) with the batch's error, and the new values; then the
batch's updates applied (``apply[1..4]``). The epoch ends with the data set's error after
its last update (``E+``). A batch of one example has no combining phase: its gradient is
the example's own, and its new values come where a single example's do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple, Protocol

from backprop_tui import keys
from backprop_tui.formula import (
    Add,
    Assign,
    Computation,
    Div,
    Expr,
    Lit,
    Mul,
    Ref,
    Sub,
    compiled,
    count,
    renumbered,
)
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, Activation, Loss, Optimizer, loss_for
from backprop_tui.keys import Key
from backprop_tui.network import Names, batches, names_of

FORWARD = ("net", "out", "error", "total", "slope", "jacobian", "dE_dout")  # see Plan.forward
JACOBIAN_STEPS_MAX = 4  # outputs of a softmax layer up to which each Jacobian entry is a step
TEACHING = ("dE_dout", "slope", "jacobian", "chain")  # see Plan.teaching


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

    @property
    def examples(self) -> int: ...

    @property
    def batch_size(self) -> int: ...

    @property
    def batch_loss(self) -> str: ...

    @property
    def optimizer(self) -> str: ...

    def shared(self, layer: int) -> bool: ...


class Shape(NamedTuple):
    """A network's shape and the options that decide its steps (not its numbers)."""

    sizes: tuple[int, ...]
    shared: tuple[bool, ...]
    activations: tuple[str, ...]
    loss: str
    update_biases: bool
    update_order: str
    examples: int = 1
    batch: int = 1  # examples per batch
    batch_loss: str = "mean"
    optimizer: str = "sgd"

    @classmethod
    def of(cls, net: Shaped) -> Shape:
        examples = net.examples
        return cls(net.sizes, tuple(net.shared(k) for k in range(net.depth)),
                   net.activations, net.loss, net.update_biases, net.update_order,
                   examples, net.batch_size if examples > 1 else 1,
                   net.batch_loss if examples > 1 else "mean", net.optimizer)

    def batches(self) -> list[tuple[int, int]]:
        """Each batch's first and last example, from 1."""
        return batches(self.examples, self.batch)

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
        """The formula as a function of its operands (compiled once per expression)."""
        return compiled(self.expr)

    def with_uses(self, uses: tuple[Key, ...]) -> Formula:
        """The same formula of other operands (another example's), sharing its function."""
        found = Formula(self.expr, uses, self.touches)
        found.__dict__["compute"] = self.compute
        return found


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
        self.loss: Loss = loss_for(shape.loss, shape.activations[-1])
        self.output: Activation = ACTIVATIONS[shape.activations[-1]]
        self.optimizer: Optimizer = OPTIMIZERS[shape.optimizer]
        self.stateful = bool(self.optimizer.slots)  # its lines are steps of the update phase
        if shape.examples > 1:
            self.one = _plan(shape._replace(examples=1, batch=1, batch_loss="mean"))
            self._order_examples()
        else:
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

    @property
    def work(self) -> Iterator[tuple[Key, Formula]]:
        """Every step with its formula, in order (for working an epoch step by step)."""
        return ((key, self.formula(key)) for key in self.keys)

    @cached_property
    def forward(self) -> list[tuple[Key, Formula]]:
        """The steps of a forward pass and its error, with the slopes and the output layer's
        ∂E/∂out (all they need is the forward pass), with their formulas."""
        outputs = self.names.units[-1]
        return [(key, formula) for key, formula in self.work if key.kind in FORWARD
                and (key.kind != "dE_dout" or key.unit in outputs)]

    @cached_property
    def given(self) -> list[Key]:
        """Every given value's key: each example's inputs and targets (tagged with its
        number when there are several), the weights, the biases and η; an optimiser's
        numbers (μ; β₁, β₂, ε), each updated parameter's state at the epoch's start and
        each update's number t (tagged with its batch when there are several examples)."""
        names = self.names
        tags = range(1, self.shape.examples + 1) if self.shape.examples > 1 else [0]
        optimizer = self.optimizer
        options = [role for role in optimizer.given if role != "t"]
        counted = "t" in optimizer.given
        return [*(keys.unit("input", u).at(k) for k in tags for u in names.units[0]),
                *(keys.unit("target", u).at(k) for k in tags for u in names.units[-1]),
                *(keys.parameter(w) for layer in names.weights for row in layer for w in row),
                *(keys.parameter(b) for layer in names.biases for b in layer), keys.ETA,
                *(Key(role) for role in options),
                *(p.state(slot) for slot in optimizer.slots for p in self.updated),
                *((Key("t").at(*batch) if self.shape.examples > 1 else Key("t")
                   for batch in self.shape.batches()) if counted else ())]

    @cached_property
    def updated(self) -> list[Key]:
        """The weights and biases the updates change, in the order they are applied: each
        layer's weights, then its biases when they are updated."""
        names = self.names
        found: list[str] = []
        for layer in range(self.shape.depth):
            found += [w for row in names.weights[layer] for w in row]
            if self.shape.update_biases:
                found += names.biases[layer]
        return [keys.parameter(name) for name in found]

    def batch_of(self, example: int) -> tuple[int, int]:
        """The first and last example of the batch that example ``example`` is in."""
        first = (example - 1) // self.shape.batch * self.shape.batch + 1
        return first, min(first + self.shape.batch - 1, self.shape.examples)

    def units(self, kind: str, layer: int) -> list[Key]:
        """The keys of quantity ``kind`` of every unit of a layer (0: the inputs)."""
        found = self._units.get((kind, layer))
        if found is None:
            found = self._units[kind, layer] = [keys.unit(kind, u)
                                                for u in self.names.units[layer]]
        return found

    def teaching(self, key: Key) -> bool:
        """Whether ``key``'s value is shown for teaching only: a value of the chain rule
        at the outputs where δ is worked by the shortcut out − t. It may not be
        representable (−t/out where out underflowed to 0), which is not a divergence."""
        return (self.loss.shortcut and key.kind in TEACHING
                and key.unit in self.names.units[-1])

    def jacobian_steps(self) -> bool:
        """Whether a softmax output layer's Jacobian entries are steps of their own."""
        return self.shape.sizes[-1] <= JACOBIAN_STEPS_MAX

    def formula(self, key: Key) -> Formula:
        """A step's formula: kept for a one-example plan; made anew for a step of several
        examples' (from the single example's, which are kept: hundreds of thousands of
        steps should not hold their formulas)."""
        found = self._formulas.get(key)
        if found is None:
            if key.example or key.kind == "dataset_after":
                return self._of_examples(key)
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
            units = names.units[layer + 1]
            if layer == depth - 1 and self.output.coupled:  # every net before any output
                self._add("forward", [*(keys.unit("net", u) for u in units),
                                      *(keys.unit("out", u) for u in units)])
                continue
            for u in units:
                self._add("forward", [keys.unit("net", u), keys.unit("out", u)])
        self._add("error", [*(keys.unit("error", u) for u in names.units[-1]), keys.TOTAL])
        for layer in reversed(range(depth)):
            if layer == depth - 1:
                phase = "output"
            else:
                phase = "hidden" if depth == 2 else f"hidden{layer + 1}"
            found: list[Key] = []
            coupled = layer == depth - 1 and self.output.coupled is not None
            if coupled:
                found += self.units("dE_dout", depth)
            for j, u in enumerate(names.units[layer + 1]):
                if layer < depth - 1:
                    found += [Key("contrib", unit=u, above=a) for a in names.units[layer + 2]]
                if coupled:
                    found += self._column(u)
                else:
                    found += [keys.unit("dE_dout", u), keys.unit("slope", u)]
                if layer == depth - 1 and self.loss.shortcut:
                    found.append(keys.unit("chain", u))
                found.append(keys.unit("delta", u))
                for w in names.weights[layer][j]:
                    found += [Key("dnet_dw", unit=u, param=w), Key("grad_w", param=w),
                              *(() if self.stateful else (Key("new_w", param=w),))]
                if not shape.shared[layer]:
                    found += self._bias(names.biases[layer][j])
            if shape.shared[layer]:
                found += self._bias(names.biases[layer][0])
            self._add(phase, found)
        self._add("update", [*self._lines(), keys.APPLY, keys.TOTAL_AFTER])

    def _lines(self, first: int = 0, last: int = 0) -> list[Key]:
        """An optimiser's lines for an update (of the batch of examples ``first`` to
        ``last``, with several): once per update, then per updated parameter."""
        if not self.stateful:
            return []
        optimizer = self.optimizer
        found = [Key(line.kind).at(first, last) for line in optimizer.per_update]
        for p in self.updated:
            found += [(p.new if line.kind == "new" else Key(line.kind, param=p.param))
                      .at(first, last) for line in optimizer.lines]
        return found

    def _order_examples(self) -> None:
        """Several examples: each example's steps, then per batch its combining phase (a
        batch of more than one example) and its update; the data set's error at the end."""
        one = self.one
        for first, last in self.shape.batches():
            for k in range(first, last + 1):
                for key, phase in zip(one.keys, one.phase_of, strict=True):
                    if phase != "update" and (last == first or key.kind not in NEW):
                        self.keys.append(key.at(k))
                        self.phase_of.append(phase)
            if last > first:
                found = [Key("batch_error").at(first, last)]
                for key in one.keys:
                    if key.kind in ("grad_w", "grad_b"):
                        found.append(key.at(first, last))
                        if not self.stateful and (key.kind == "grad_w"
                                                  or self.shape.update_biases):
                            found.append(key.parameter.new.at(first, last))
                self._add("batch", found)
            self._add("update", [*self._lines(first, last), keys.APPLY.at(first, last)])
        self._add("update", [keys.DATASET_AFTER])

    def _column(self, unit: str) -> list[Key]:
        """The Jacobian entries that δ of ``unit`` sums over: ∂out_k/∂net_unit for each
        output k (the diagonal is the slope step), when they are steps of their own."""
        if not self.jacobian_steps():
            return []
        return [keys.unit("slope", u) if u == unit else Key("jacobian", unit=u, above=unit)
                for u in self.names.units[-1]]

    def _bias(self, name: str) -> list[Key]:
        bias = keys.parameter(name)
        return [bias.gradient,
                *([bias.new] if self.shape.update_biases and not self.stateful else [])]

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
        if activation.coupled:
            outputs = self.names.units[-1]
            k = outputs.index(key.unit)
            return Formula(activation.coupled.formula(k, len(outputs)),
                           tuple(keys.unit("net", u) for u in outputs),
                           (key.unit, *(u for u in outputs if u != key.unit)))
        assert activation.formula is not None  # (every activation but a coupled one's)
        return Formula(activation.formula, (keys.unit("net", key.unit),), (key.unit,))

    def _loss_uses(self, unit: str, after: bool = False, example: int = 0) -> list[Key]:
        """What an output's error is worked from: its target and output, and the output
        layer's weighted sums where the loss needs them (after the updates: ``after``)."""
        kinds = ("out_after", "net_after") if after else ("out", "net")
        found = [keys.unit("target", unit), keys.unit(kinds[0], unit)]
        if self.loss.nets:
            found += [keys.unit(kinds[1], u) for u in self.names.units[-1]]
        return [use.at(example) for use in found] if example else found

    def _loss_expr(self, unit: str, first: int) -> Expr:
        """An output's error, its operands from ``first`` on as ``_loss_uses`` lists them."""
        outputs = self.names.units[-1]
        nets = tuple(Ref(first + 2 + j) for j in range(len(outputs))) if self.loss.nets else ()
        own = nets[outputs.index(unit)] if nets else Ref(first + 1)
        return self.loss.error_formula(Ref(first), Ref(first + 1), count(len(outputs)), own,
                                       nets)

    def _target_and_out(self, unit: str) -> tuple[Key, Key]:
        return keys.unit("target", unit), keys.unit("out", unit)

    def _error(self, key: Key) -> Formula:
        return Formula(self._loss_expr(key.unit, 0), tuple(self._loss_uses(key.unit)),
                       (key.unit,))

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
            expr = self.loss.derivative_formula(Ref(0), Ref(1), count(self.shape.sizes[-1]))
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

    def _jacobian(self, key: Key) -> Formula:
        coupled = self.output.coupled
        assert coupled is not None
        return Formula(coupled.jacobian(False),
                       (keys.unit("out", key.unit), keys.unit("out", key.above)),
                       (key.unit, key.above))

    def _chain(self, key: Key) -> Formula:
        """δ by the chain rule: ∂E/∂out·∂out/∂net; of a softmax output, summed over every
        output, each term with its Jacobian entry (written out beyond four outputs)."""
        coupled = self.output.coupled
        layer, _ = self._where(key.unit)
        if coupled is None or layer < self.shape.depth - 1:
            return Formula(Mul((Ref(0), Ref(1))),
                           (keys.unit("dE_dout", key.unit), keys.unit("slope", key.unit)),
                           (key.unit,))
        outputs = self.names.units[-1]
        uses: list[Key] = []
        terms: list[Expr] = []
        if self.jacobian_steps():  # Σ_k ∂E/∂out_k·∂out_k/∂net_j, each entry a step's value
            for u, entry in zip(outputs, self._column(key.unit), strict=True):
                terms.append(Mul((Ref(len(uses)), Ref(len(uses) + 1))))
                uses += [keys.unit("dE_dout", u), entry]
            return Formula(Add(tuple(terms)), tuple(uses), tuple(outputs))
        for u in outputs:  # each entry written out: out_k(1 − out_k), −out_k·out_j
            same = u == key.unit
            at = len(uses) + 1
            places = [Ref(at), Ref(at if same else at + 1)]  # out_k, out_j
            written = renumbered(coupled.jacobian(same), places.__getitem__)
            terms.append(Mul((Ref(len(uses)), written)))
            uses += [keys.unit("dE_dout", u), keys.unit("out", u),
                     *(() if same else (keys.unit("out", key.unit),))]
        return Formula(Add(tuple(terms)), tuple(uses), tuple(outputs))

    def _delta(self, key: Key) -> Formula:
        layer, _ = self._where(key.unit)
        if layer == self.shape.depth - 1 and self.loss.shortcut:
            return Formula(Sub(Ref(0), Ref(1)),
                           (keys.unit("out", key.unit), keys.unit("target", key.unit)),
                           (key.unit,))
        return self._chain(key)

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

    def _line(self, key: Key) -> Formula:
        """A line of the optimiser's update (the new value under sgd: w − η·∂E/∂w), its
        operands those of the update of ``key``'s batch (untagged: of one example): the
        parameter and its state as they stood at the batch's start, the batch's gradient
        and the lines before it."""
        kind = "new" if key.kind in NEW else key.kind
        line = self.optimizer.line(kind)
        tag = (key.example, key.last)
        first = key.example or 1
        parameter = keys.parameter(key.param) if key.param else None

        def operand(role: str) -> Key:
            match role:
                case "w":
                    assert parameter is not None
                    return self._starting(parameter, first)
                case "g":
                    assert parameter is not None
                    return parameter.gradient.at(*tag)
                case "eta":
                    return keys.ETA
                case "mu" | "beta1" | "beta2" | "epsilon":
                    return Key(role)
                case "t" | "bc1" | "bc2":
                    return Key(role).at(*tag)
                case "v" | "m" | "s":
                    assert parameter is not None
                    if first == 1:
                        return parameter.state(role)
                    return Key(f"new_{role}", param=key.param).at(*self.batch_of(first - 1))
            return Key(role, param=key.param).at(*tag)  # new_v, mhat: this update's

        return Formula(line.formula, tuple(operand(role) for role in line.uses),
                       (key.param,) if key.param else ())

    _new_w = _new_b = _bc1 = _bc2 = _new_v = _new_m = _new_s = _mhat = _shat = _line

    def _grad_b(self, key: Key) -> Formula:
        _, layer, row, _ = self.names.parameters()[key.param]
        units = self.names.units[layer + 1]
        fed = units if self.shape.shared[layer] else [units[row]]
        return Formula(_sum(len(fed)), tuple(keys.unit("delta", u) for u in fed),
                       (key.param, *fed))

    def _apply(self, key: Key) -> Formula:
        parameters = self.updated
        return Formula(Assign(tuple(keys.text(p) for p in parameters),
                              tuple(Ref(i) for i in range(len(parameters)))),
                       tuple(p.new for p in parameters), tuple(p.param for p in parameters))

    def _total_after(self, key: Key) -> Formula:
        outputs = self.names.units[-1]
        uses: list[Key] = []
        terms: list[Expr] = []
        for u in outputs:
            terms.append(self._loss_expr(u, len(uses)))
            uses += self._loss_uses(u, after=True)
        return Formula(Add(tuple(terms)), tuple(uses), tuple(outputs))


    # Several examples ---------------------------------------------------------------

    def _starting(self, parameter: Key, first: int) -> Key:
        """The value of a weight or bias at the start of the batch that begins with example
        ``first``: as given for the first batch, else the batch before's new value."""
        if first == 1 or (parameter.kind == "bias" and not self.shape.update_biases):
            return parameter
        return parameter.new.at(*self.batch_of(first - 1))

    def _of_examples(self, key: Key) -> Formula:
        if key.kind == "dataset_after":
            return self._dataset_after()
        first, last = self.batch_of(key.example)
        combined = key.last or (key.kind == "apply" or key.kind == "batch_error")
        if key.kind in LINES or (key.kind in NEW and self.stateful):
            return self._line(key)
        if not combined and not (key.kind in NEW and last == first):
            return self._example(key)
        untagged = Key(key.kind, key.unit, key.param, key.above)
        match key.kind:
            case "grad_w" | "grad_b":
                return self._combine([untagged.at(k) for k in range(first, last + 1)],
                                     (key.param,))
            case "batch_error":
                return self._combine([keys.TOTAL.at(k) for k in range(first, last + 1)],
                                     tuple(self.names.units[-1]))
            case "new_w" | "new_b":
                return self._line(key)
            case "apply":
                single = self.one.formula(keys.APPLY)
                return single.with_uses(tuple(use.at(first, last) for use in single.uses))
        raise ValueError(f"no step computes {key!r}")

    def _example(self, key: Key) -> Formula:
        """A step of one example: the single example's formula, its operands of that
        example, the parameters as they stood at its batch's start."""
        single = self.one.formula(Key(key.kind, key.unit, key.param, key.above))
        return single.with_uses(tuple(self.tagged(use, key.example) for use in single.uses))

    def tagged(self, use: Key, example: int) -> Key:
        """A value of a single example's formula as example ``example`` uses it: its own
        values tagged with its number, the parameters as they stood at its batch's start,
        the batch's new values tagged with the batch."""
        first, last = self.batch_of(example)
        if use.kind in ("weight", "bias"):
            return self._starting(use, first)
        if use.kind in NEW:
            return use.at(first, last)
        return use if use.kind == "eta" else use.at(example)

    @cached_property
    def dataset(self) -> Formula:
        """E: every example's E_total combined (at the epoch's start, not a step's)."""
        return self._combine([keys.TOTAL.at(k) for k in range(1, self.shape.examples + 1)],
                             tuple(self.names.units[-1]))

    def _combine(self, parts: list[Key], touches: tuple[str, ...]) -> Formula:
        """A batch's parts combined by ``batch_loss``: (g₁ + g₂ + g₃)/3, or their sum."""
        total = _sum(len(parts))
        if self.shape.batch_loss == "mean":
            total = Div(total, _number(len(parts)))
        return Formula(total, tuple(parts), touches)

    def _dataset_after(self) -> Formula:
        """E⁺: every example's error after the epoch's last update, combined."""
        outputs = self.names.units[-1]
        uses: list[Key] = []
        examples: list[Expr] = []
        for k in range(1, self.shape.examples + 1):
            terms: list[Expr] = []
            for u in outputs:
                terms.append(self._loss_expr(u, len(uses)))
                uses += self._loss_uses(u, after=True, example=k)
            examples.append(Add(tuple(terms)) if len(terms) > 1 else terms[0])
        total: Expr = Add(tuple(examples))
        if self.shape.batch_loss == "mean":
            total = Div(total, _number(self.shape.examples))
        return Formula(total, tuple(uses), tuple(outputs))


NEW = ("new_w", "new_b")
LINES = ("bc1", "bc2", "new_v", "new_m", "new_s", "mhat", "shat")  # an optimiser's, but new


def _number(n: int) -> Lit:
    """A count written as its number: a batch's size."""
    return Lit(str(n), str(n), float(n))


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
