"""The order of an epoch's steps, from the network's shape alone (no numbers, no numpy).

The app counts and labels the steps of its first frame from this before the engine has
loaded; ``build`` makes the steps themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from backprop_tui.network import Names

Spec = tuple[str, int, int, int]  # kind, weight layer (0-based), unit, other unit

PHASE_LABELS = {
    "forward": "Forward pass",
    "error": "Error",
    "output": "Output layer",
    "hidden": "Hidden layer",
    "update": "Updates",
}


def phase_label(phase: str) -> str:
    """'hidden2' reads 'Hidden layer 2'; the rest come from PHASE_LABELS."""
    if phase in PHASE_LABELS:
        return PHASE_LABELS[phase]
    return f"Hidden layer {phase.removeprefix('hidden')}"


class Shape(Protocol):
    """What the order depends on: a Network or a Given has it."""

    @property
    def sizes(self) -> tuple[int, ...]: ...

    @property
    def depth(self) -> int: ...

    @property
    def update_biases(self) -> bool: ...

    def shared(self, layer: int) -> bool: ...


def plan(net: Shape) -> list[Spec]:
    """Every step of the epoch as (kind, layer, unit, other), in teaching order."""
    sizes = net.sizes
    depth = net.depth
    specs: list[Spec] = []
    for layer in range(depth):
        for j in range(sizes[layer + 1]):
            specs += [("net", layer, j, 0), ("out", layer, j, 0)]
    specs += [("error", depth - 1, j, 0) for j in range(sizes[-1])]
    specs.append(("total", depth - 1, 0, 0))
    for layer in reversed(range(depth)):
        shared = net.shared(layer)
        for j in range(sizes[layer + 1]):
            if layer < depth - 1:
                specs += [("contrib", layer, j, k) for k in range(sizes[layer + 2])]
            specs += [("dE_dout", layer, j, 0), ("slope", layer, j, 0), ("delta", layer, j, 0)]
            for k in range(sizes[layer]):
                specs += [("dnet_dw", layer, j, k), ("grad_w", layer, j, k), ("new_w", layer, j, k)]
            if not shared:
                specs += _bias_specs(net.update_biases, layer, j)
        if shared:
            specs += _bias_specs(net.update_biases, layer, 0)
    specs += [("apply", 0, 0, 0), ("total_after", depth - 1, 0, 0)]
    return specs


def _bias_specs(update: bool, layer: int, unit: int) -> list[Spec]:
    return [("grad_b", layer, unit, 0)] + ([("new_b", layer, unit, 0)] if update else [])


def phase_of(spec: Spec, depth: int) -> str:
    kind, layer = spec[0], spec[1]
    if kind in ("net", "out"):
        return "forward"
    if kind in ("error", "total"):
        return "error"
    if kind in ("apply", "total_after"):
        return "update"
    if layer == depth - 1:
        return "output"
    return "hidden" if depth == 2 else f"hidden{layer + 1}"


def phases(specs: list[Spec], depth: int) -> list[tuple[str, int, int]]:
    """(phase, first index, last index), 1-based, in order."""
    found: list[tuple[str, int, int]] = []
    for i, spec in enumerate(specs):
        phase = phase_of(spec, depth)
        if found and found[-1][0] == phase:
            found[-1] = (phase, found[-1][1], i + 1)
        else:
            found.append((phase, i + 1, i + 1))
    return found


def step_key(spec: Spec, names: Names) -> str:
    """How steps name each other's values: ``net_h1``, ``dE/dw5``, ``w5+``."""
    kind, layer, j, k = spec
    u = names.units[layer + 1][j] if kind not in ("total", "apply", "total_after") else ""
    match kind:
        case "net" | "out":
            return f"{kind}_{u}"
        case "error":
            return f"E_{u}"
        case "total":
            return "E_total"
        case "contrib":
            return f"dE_{names.units[layer + 2][k]}/dout_{u}"
        case "dE_dout":
            return f"dE/dout_{u}"
        case "slope":
            return f"dout_{u}/dnet_{u}"
        case "delta":
            return f"delta_{u}"
        case "dnet_dw":
            return f"dnet_{u}/d{names.weights[layer][j][k]}"
        case "grad_w":
            return f"dE/d{names.weights[layer][j][k]}"
        case "new_w":
            return f"{names.weights[layer][j][k]}+"
        case "grad_b":
            return f"dE/d{names.biases[layer][j]}"
        case "new_b":
            return f"{names.biases[layer][j]}+"
        case "apply":
            return "apply"
        case _:
            return "E_total+"
