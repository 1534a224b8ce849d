"""The network as it stands at the start of an epoch, and the names of its parts.

Naming scheme (it reduces to the tutorial's names on the tutorial's 2-2-2 network):

- inputs ``i1 … in``; outputs ``o1 … om``;
- hidden units ``h1 … hn`` when there is one hidden layer, ``h{l}.{j}`` (layer ``l``
  counted from the inputs, unit ``j``) when there are several;
- weights ``w1, w2, …`` numbered row by row, layer by layer (``w1``: i1→h1, ``w2``: i2→h1, …);
- a bias shared by a layer's units is ``b{l}`` (layer ``l`` counted from 1 after the inputs);
  per-unit biases are ``b{l}.{j}``;
- targets ``t_o1 …``, the learning rate ``eta``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from backprop_tui import keys
from backprop_tui.functions import OPTIMIZERS, Hyper

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    from numpy.typing import ArrayLike

UPDATE_ORDERS = ("after_backward", "during_backward")
OPTIONS = ("learning_rate", "loss", "update_biases", "update_order", "rounding")
BATCH_OPTIONS = ("batch", "batch_loss")  # written only for several examples
# How gradients become updates: written only for an optimiser other than sgd, and then only
# the options that optimiser takes (``Optimizer.options``).
OPTIMIZER_OPTIONS = ("optimizer", "momentum", "beta1", "beta2", "epsilon")
BATCHES = ("online", "full")  # or a whole number: minibatches of that many examples
BATCH_LOSSES = ("mean", "sum")
MAX_EXAMPLES = 256
MIN_ROUNDING, MAX_ROUNDING = 2, 15  # significant digits kept by hand rounding; 0: off
MAX_LAYERS = 8
MAX_UNITS = 64


def batch_size(batch: str | int, examples: int) -> int:
    """Examples per update: online is 1, full all of them."""
    if batch == "online":
        return 1
    return examples if batch == "full" else min(int(batch), examples)


def batches(examples: int, size: int) -> list[tuple[int, int]]:
    """Each batch's first and last example, from 1, in file order (the last may be smaller)."""
    return [(first, min(first + size - 1, examples)) for first in range(1, examples + 1, size)]


def frozen(values: ArrayLike) -> np.ndarray:
    """A read-only float64 copy, so a Network can be shared between states safely."""
    import numpy as np  # here, not above: see Given

    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class OptimizerState:
    """What an optimiser keeps between updates: per slot (v; m and s) a read-only array per
    layer shaped like the weights, and like the biases when they are updated (a shared bias
    is one value), and the updates made so far, ``t``. A network at rest has none (zeros,
    t = 0): the first epoch's, every sgd network's, and after the optimiser or
    ``update_biases`` changes."""

    t: int
    weights: dict[str, tuple[np.ndarray, ...]]
    biases: dict[str, tuple[np.ndarray, ...]]  # {} when biases stay fixed

    @classmethod
    def of(cls, t: int, weights: Mapping[str, Sequence[ArrayLike]],
           biases: Mapping[str, Sequence[ArrayLike]]) -> OptimizerState:
        return cls(t, {slot: tuple(frozen(a) for a in arrays) for slot, arrays in weights.items()},
                   {slot: tuple(frozen(a) for a in arrays) for slot, arrays in biases.items()})


@dataclass(frozen=True)
class Printed:
    """A value written down elsewhere (by hand, in a document) for the step ``name``
    (a name a person can type: h1, dE/dw5, E_total+) of epoch ``epoch``."""

    name: str
    epoch: int
    text: str  # the number as written: its last digit sets the precision it is checked at
    note: str
    written: str  # the entry's name in the file, epoch included: "h1 @ epoch 3"
    key: str = ""  # the key of the step it names, once resolved (steps.names.resolve_printed)

    @property
    def value(self) -> float:
        return float(self.text)


@dataclass(frozen=True)
class Given:
    """A network file's numbers as plain Python, already checked.

    The app draws its first frame from this alone, while numpy (a tenth of a second to
    import) and the first epoch's trace wait until the frame is on screen.
    """

    inputs: tuple[tuple[float, ...], ...]  # one row per training example
    targets: tuple[tuple[float, ...], ...]
    weights: tuple[tuple[tuple[float, ...], ...], ...]  # layer l: rows of (units of l-1)
    biases: tuple[tuple[float, ...], ...]  # layer l: one number when shared, else one per unit
    activations: tuple[str, ...]
    learning_rate: float = 0.5
    loss: str = "half_sse"
    update_biases: bool = False
    update_order: str = "after_backward"
    rounding: int = 0
    batch: str | int = "online"
    batch_loss: str = "mean"
    optimizer: str = "sgd"
    momentum: float = 0.9  # μ of momentum and nesterov
    beta1: float = 0.9  # adam
    beta2: float = 0.999
    epsilon: float = 1e-8
    listed: tuple[bool, ...] = ()  # per layer: its bias was written as a list
    printed: tuple[Printed, ...] = ()  # values written down elsewhere, to check

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.inputs[0]), *(len(w) for w in self.weights))

    @property
    def examples(self) -> int:
        return len(self.inputs)

    @property
    def batch_size(self) -> int:
        return batch_size(self.batch, self.examples)

    @property
    def depth(self) -> int:
        return len(self.weights)

    def shared(self, layer: int) -> bool:
        return len(self.biases[layer]) == 1

    @property
    def names(self) -> Names:
        return names_of(self.sizes, tuple(self.shared(k) for k in range(self.depth)))

    @cached_property
    def by_name(self) -> dict[str, float]:
        """Every given number by name: inputs, targets (the first example's), weights,
        biases."""
        names = self.names
        found = dict(zip(names.units[0], self.inputs[0], strict=True))
        found.update(zip(names.targets, self.targets[0], strict=True))
        for layer, rows in enumerate(names.weights):
            for row_names, row in zip(rows, self.weights[layer], strict=True):
                found.update(zip(row_names, row, strict=True))
            found.update(zip(names.biases[layer], self.biases[layer], strict=True))
        return found

    def network(self) -> Network:
        return Network(
            inputs=frozen(self.inputs),
            targets=frozen(self.targets),
            weights=tuple(frozen(w) for w in self.weights),
            biases=tuple(frozen(b) for b in self.biases),
            activations=self.activations,
            listed=self.listed,
            **{name: getattr(self, name)
               for name in (*OPTIONS, *BATCH_OPTIONS, *OPTIMIZER_OPTIONS)},
        )


@dataclass(frozen=True, eq=False)
class Network:
    """Parameters and options at the start of one epoch; never mutated, only replaced."""

    inputs: np.ndarray  # (examples, inputs): one row per training example
    targets: np.ndarray  # (examples, outputs)
    weights: tuple[np.ndarray, ...]  # layer l: (units of l, units of l-1)
    biases: tuple[np.ndarray, ...]  # layer l: shape (1,) when shared, else (units of l,)
    activations: tuple[str, ...]
    learning_rate: float = 0.5
    loss: str = "half_sse"
    update_biases: bool = False
    update_order: str = "after_backward"
    rounding: int = 0  # round every step's value to this many significant digits; 0: off
    batch: str | int = "online"  # "online", "full" or examples per minibatch
    batch_loss: str = "mean"  # how a batch's errors and gradients combine: "mean" or "sum"
    optimizer: str = "sgd"  # how gradients become updates (functions.OPTIMIZERS)
    momentum: float = 0.9  # μ of momentum and nesterov
    beta1: float = 0.9  # adam's
    beta2: float = 0.999
    epsilon: float = 1e-8
    listed: tuple[bool, ...] = ()  # per layer: its bias was written as a list (kept as one)
    state: OptimizerState | None = None  # the optimiser's, at the epoch's start; None: at rest

    def __post_init__(self) -> None:
        """One example may come as a flat row (as a network file writes it)."""
        for name in ("inputs", "targets"):
            values = getattr(self, name)
            if values.ndim == 1:
                object.__setattr__(self, name, values.reshape(1, -1))

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.inputs.shape[1], *(w.shape[0] for w in self.weights))

    @property
    def examples(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return batch_size(self.batch, self.examples)

    def batches(self) -> list[range]:
        """The examples (0-based) of each update of an epoch, in file order."""
        return [range(first - 1, last) for first, last in batches(self.examples, self.batch_size)]

    def example(self, k: int) -> Network:
        """The network with its ``k``-th example (0-based) alone."""
        return dataclasses.replace(self, inputs=self.inputs[k:k + 1],
                                   targets=self.targets[k:k + 1])

    @property
    def depth(self) -> int:
        return len(self.weights)

    def shared(self, layer: int) -> bool:
        return self.biases[layer].shape[0] == 1

    @property
    def names(self) -> Names:
        return names_of(self.sizes, tuple(self.shared(k) for k in range(self.depth)))

    @cached_property
    def given(self) -> Given:
        """The network's numbers as plain Python (what a network file holds)."""
        return Given(
            inputs=tuple(map(tuple, self.inputs.tolist())),
            targets=tuple(map(tuple, self.targets.tolist())),
            weights=tuple(tuple(map(tuple, w.tolist())) for w in self.weights),
            biases=tuple(tuple(b.tolist()) for b in self.biases),
            activations=self.activations,
            listed=self.listed,
            batch=self.batch,
            batch_loss=self.batch_loss,
            **{name: getattr(self, name) for name in (*OPTIONS, *OPTIMIZER_OPTIONS)},
        )

    def with_params(self, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike]) -> Network:
        return dataclasses.replace(
            self,
            weights=tuple(frozen(w) for w in weights),
            biases=tuple(frozen(b) for b in biases),
        )

    def with_state(self, state: OptimizerState | None) -> Network:
        return dataclasses.replace(self, state=state)

    @property
    def updates(self) -> int:
        """The updates made since the optimiser's state last started at zero (its t)."""
        return self.state.t if self.state is not None else 0

    def slot(self, name: str) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """The optimiser's state ``name`` (v, m, s) per layer, for the weights and for the
        biases (zeros at rest; the biases' are zeros too when they stay fixed)."""
        import numpy as np

        state = self.state
        weights = state.weights.get(name) if state is not None else None
        biases = state.biases.get(name) if state is not None else None
        return (weights or tuple(np.zeros_like(w) for w in self.weights),
                biases or tuple(np.zeros_like(b) for b in self.biases))

    def state_value(self, name: str, parameter: str) -> float:
        """The state ``name`` of one weight or bias, by its name (w5, b1)."""
        kind, layer, row, column = self.names.parameters()[parameter]
        weights, biases = self.slot(name)
        return float(weights[layer][row, column] if kind == "weight" else biases[layer][row])

    def state_document(self) -> dict[str, Any] | None:
        """The optimiser's state as the records write it: ``{"v": {"weights": …, "biases":
        …}}`` or ``{"m": …, "s": …, "t": n}``, each shaped like the weights and biases (a
        layer's biases null when they stay fixed); None under sgd."""
        optimizer = OPTIMIZERS[self.optimizer]
        if not optimizer.slots:
            return None
        found: dict[str, Any] = {}
        for name in optimizer.slots:
            weights, biases = self.slot(name)
            found[name] = {"weights": [w.tolist() for w in weights],
                           "biases": self.bias_values(biases) if self.update_biases
                           else [None] * self.depth}
        if "t" in optimizer.given:
            found["t"] = self.updates
        return found

    def options(self) -> dict[str, Any]:
        """The options as a network file writes them (how batches work: with several
        examples only; the optimiser and its own options: when it is not sgd)."""
        names = (*OPTIONS, *BATCH_OPTIONS) if self.examples > 1 else OPTIONS
        if self.optimizer != "sgd":
            names = (*names, "optimizer", *OPTIMIZERS[self.optimizer].options)
        return {name: getattr(self, name) for name in names}

    @property
    def hyper(self) -> Hyper:
        """The optimiser's numbers: η and its own options."""
        return Hyper(self.learning_rate, self.momentum, self.beta1, self.beta2, self.epsilon)

    def bias_values(self, biases: tuple[np.ndarray, ...] | list[np.ndarray]) -> list[object]:
        """Per layer, biases (or their gradients) as in a network file: a number if shared
        and written as one."""
        return [float(b[0]) if self.shared(k) and not self.is_listed(k) else b.tolist()
                for k, b in enumerate(biases)]

    def is_listed(self, layer: int) -> bool:
        return layer < len(self.listed) and self.listed[layer]

    def to_document(self) -> dict[str, Any]:
        """The network in the network-file layout (plain lists), for JSON and TOML."""
        layers = [
            {"weights": w.tolist(), "bias": bias, "activation": activation}
            for w, bias, activation in zip(
                self.weights, self.bias_values(self.biases), self.activations, strict=True
            )
        ]
        return {
            **self.options(),
            "inputs": self.inputs.tolist() if self.examples > 1 else self.inputs[0].tolist(),
            "targets": self.targets.tolist() if self.examples > 1 else self.targets[0].tolist(),
            "layer": layers,
        }


@lru_cache(maxsize=64)
def names_of(sizes: tuple[int, ...], shared: tuple[bool, ...]) -> Names:
    """The names of a shape, made once: every epoch's network has the same ones."""
    return Names(sizes, shared)


class Names:
    """Names of every unit, weight and bias of a network of the given shape."""

    def __init__(self, sizes: tuple[int, ...], shared: tuple[bool, ...]) -> None:
        depth = len(sizes) - 1
        self.units: list[list[str]] = [[f"i{j + 1}" for j in range(sizes[0])]]
        for layer in range(1, depth + 1):
            if layer == depth:
                prefix = "o"
            elif depth == 2:
                prefix = "h"
            else:
                prefix = f"h{layer}."
            self.units.append([f"{prefix}{j + 1}" for j in range(sizes[layer])])
        self.weights: list[list[list[str]]] = []
        number = 0
        for layer in range(1, depth + 1):
            rows = []
            for _ in range(sizes[layer]):
                rows.append([f"w{number + k + 1}" for k in range(sizes[layer - 1])])
                number += sizes[layer - 1]
            self.weights.append(rows)
        self.biases: list[list[str]] = [
            [f"b{layer + 1}"] if shared[layer] else
            [f"b{layer + 1}.{j + 1}" for j in range(sizes[layer + 1])]
            for layer in range(depth)
        ]
        self.targets = [keys.text(keys.unit("target", name)) for name in self.units[-1]]

        # unit -> (its weight layer, 0-based: the inputs are layer -1; its index in the layer)
        self.position = {name: (layer - 1, j) for layer, units in enumerate(self.units)
                         for j, name in enumerate(units)}
        self._parameters = self._find_parameters()

    def given(self, name: str) -> tuple[str, int, int, int, int] | None:
        """An editable number by name: (kind, layer, row, column, example from 0). An
        input or target of example k is written ``i1[k]``, ``t_o1[k]`` (plain: the first)."""
        base, _, tag = name.partition("[")
        found = self._parameters.get(base)
        if found is None:
            return None
        if not tag:
            return (*found, 0)
        number = tag.removesuffix("]")
        if found[0] not in ("input", "target") or not tag.endswith("]") or not (
                number.isascii() and number.isdigit() and len(number) < 4 and int(number)):
            return None
        return (*found, int(number) - 1)

    def bias(self, layer: int, unit: int) -> str:
        """The name of the bias that unit ``unit`` of weight layer ``layer`` (0-based) adds."""
        names = self.biases[layer]
        return names[0] if len(names) == 1 else names[unit]

    def parameters(self) -> dict[str, tuple[str, int, int, int]]:
        """Every editable number: name -> (kind, layer, row, column)."""
        return self._parameters

    def _find_parameters(self) -> dict[str, tuple[str, int, int, int]]:
        found: dict[str, tuple[str, int, int, int]] = {}
        for j, name in enumerate(self.units[0]):
            found[name] = ("input", 0, j, 0)
        for j, name in enumerate(self.targets):
            found[name] = ("target", 0, j, 0)
        for layer, rows in enumerate(self.weights):
            for j, row in enumerate(rows):
                for k, name in enumerate(row):
                    found[name] = ("weight", layer, j, k)
            for j, name in enumerate(self.biases[layer]):
                found[name] = ("bias", layer, j, 0)
        return found
