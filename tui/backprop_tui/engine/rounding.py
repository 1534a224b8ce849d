"""Hand rounding: an epoch worked as a person works it on paper.

With ``network.rounding`` = N every step's value is its formula (``engine.plan``) evaluated
on the already-rounded values it uses (``formula.evaluate``: one Python float operation at
a time), then rounded to N significant digits before anything later uses it. A step
recomputed from its operands therefore gives exactly its value. The inputs are rounded too
(they are the first layer's ∂net/∂w values); the given weights, biases, targets and η are
used as written.
"""

from __future__ import annotations

from backprop_tui import keys
from backprop_tui.engine.plan import Plan, plan
from backprop_tui.formula import evaluate
from backprop_tui.keys import Key
from backprop_tui.network import Network
from backprop_tui.scalar import round_sig

FORWARD = ("net", "out", "error", "total", "slope", "dE_dout")  # a forward pass's values


def given(network: Network, key: Key) -> float:
    """The value of a given key as hand rounding uses it: the inputs rounded."""
    if key.kind == "eta":
        return network.learning_rate
    names = network.names
    if key.kind in ("weight", "bias"):
        kind, layer, row, column = names.parameters()[key.param]
        if kind == "weight":
            return float(network.weights[layer][row, column])
        return float(network.biases[layer][row])
    j = names.position[key.unit][1]
    if key.kind == "input":
        return round_sig(float(network.inputs[j]), network.rounding)
    return float(network.targets[j])


def worked(network: Network) -> tuple[dict[Key, float], dict[Key, float]]:
    """Every step's value of the epoch that starts at ``network``, worked by hand, and the
    forward pass after its updates (the last step's formula uses its outputs, under their
    ``out_after`` keys in the first)."""
    values: dict[Key, float] = {}
    after: dict[Key, float] = {}
    steps = plan(network)
    for key in steps.keys:
        if key.kind == "apply":
            after = worked_forward(updated(network, values))
            values.update({keys.unit("out_after", u): after[keys.unit("out", u)]
                           for u in steps.names.units[-1]})
        else:
            _work(network, steps, key, values)
    return values, after


def worked_forward(network: Network) -> dict[Key, float]:
    """The forward pass's values worked by hand: every net and out, the errors and their
    total, the slopes and the output layer's ∂E/∂out."""
    steps = plan(network)
    outputs = steps.names.units[-1]
    values: dict[Key, float] = {}
    for key in steps.keys:
        if key.kind in FORWARD and (key.kind != "dE_dout" or key.unit in outputs):
            _work(network, steps, key, values)
    return values


def _work(network: Network, steps: Plan, key: Key, values: dict[Key, float]) -> None:
    """Work step ``key`` from the values before it, rounded, into ``values``."""
    formula = steps.formula(key)
    operands = [values[use] if use in values else given(network, use) for use in formula.uses]
    values[key] = round_sig(evaluate(formula.expr, operands), network.rounding)


def updated(network: Network, values: dict[Key, float]) -> Network:
    """The network with the new weights (and biases, when they are updated) of ``values``."""
    names = network.names
    weights = [[[values[keys.parameter(w).new] for w in row] for row in layer]
               for layer in names.weights]
    biases = [[values[keys.parameter(b).new] for b in layer] if network.update_biases
              else network.biases[k].tolist() for k, layer in enumerate(names.biases)]
    return network.with_params(weights, biases)
