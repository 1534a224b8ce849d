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

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import ArrayLike

UPDATE_ORDERS = ("after_backward", "during_backward")
OPTIONS = ("learning_rate", "loss", "update_biases", "update_order", "rounding")
MIN_ROUNDING, MAX_ROUNDING = 2, 15  # significant digits kept by hand rounding; 0: off
MAX_LAYERS = 8
MAX_UNITS = 64


def frozen(values: ArrayLike) -> np.ndarray:
    """A read-only float64 copy, so a Network can be shared between states safely."""
    import numpy as np  # here, not above: see Given

    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


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

    inputs: tuple[float, ...]
    targets: tuple[float, ...]
    weights: tuple[tuple[tuple[float, ...], ...], ...]  # layer l: rows of (units of l-1)
    biases: tuple[tuple[float, ...], ...]  # layer l: one number when shared, else one per unit
    activations: tuple[str, ...]
    learning_rate: float = 0.5
    loss: str = "half_sse"
    update_biases: bool = False
    update_order: str = "after_backward"
    rounding: int = 0
    printed: tuple[Printed, ...] = ()  # values written down elsewhere, to check

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.inputs), *(len(w) for w in self.weights))

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
        """Every given number by name: inputs, targets, weights, biases."""
        names = self.names
        found = dict(zip(names.units[0], self.inputs, strict=True))
        found.update(zip(names.targets, self.targets, strict=True))
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
            **{name: getattr(self, name) for name in OPTIONS},
        )


@dataclass(frozen=True, eq=False)
class Network:
    """Parameters and options at the start of one epoch; never mutated, only replaced."""

    inputs: np.ndarray
    targets: np.ndarray
    weights: tuple[np.ndarray, ...]  # layer l: (units of l, units of l-1)
    biases: tuple[np.ndarray, ...]  # layer l: shape (1,) when shared, else (units of l,)
    activations: tuple[str, ...]
    learning_rate: float = 0.5
    loss: str = "half_sse"
    update_biases: bool = False
    update_order: str = "after_backward"
    rounding: int = 0  # round every step's value to this many significant digits; 0: off

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.inputs), *(w.shape[0] for w in self.weights))

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
            inputs=tuple(self.inputs.tolist()),
            targets=tuple(self.targets.tolist()),
            weights=tuple(tuple(map(tuple, w.tolist())) for w in self.weights),
            biases=tuple(tuple(b.tolist()) for b in self.biases),
            activations=self.activations,
            **self.options(),
        )

    def with_params(self, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike]) -> Network:
        return dataclasses.replace(
            self,
            weights=tuple(frozen(w) for w in weights),
            biases=tuple(frozen(b) for b in biases),
        )

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in OPTIONS}

    def bias_values(self, biases: tuple[np.ndarray, ...] | list[np.ndarray]) -> list[object]:
        """Per layer, biases (or their gradients) as in a network file: a number if shared."""
        return [float(b[0]) if self.shared(k) else b.tolist() for k, b in enumerate(biases)]

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
            "inputs": self.inputs.tolist(),
            "targets": self.targets.tolist(),
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
