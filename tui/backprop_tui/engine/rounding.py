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
from backprop_tui.engine.plan import plan
from backprop_tui.keys import Key
from backprop_tui.network import Network
from backprop_tui.scalar import round_sig


def given(network: Network) -> dict[Key, float]:
    """Every given value as hand rounding uses it: the inputs rounded, the rest as given."""
    digits = network.rounding
    numbers = [round_sig(x, digits) for x in network.inputs.tolist()]
    numbers += network.targets.tolist()
    for weights in network.weights:
        numbers += weights.ravel().tolist()
    for biases in network.biases:
        numbers += biases.tolist()
    numbers.append(network.learning_rate)
    return dict(zip(plan(network).given, numbers, strict=True))


def worked(network: Network) -> tuple[dict[Key, float], Network, dict[Key, float]]:
    """Every value of the epoch that starts at ``network``, worked by hand (the given ones
    as it used them, and every step's); the network after its updates; and that network's
    forward pass (the last step's formula uses its outputs, under their ``out_after`` keys
    in the first)."""
    steps = plan(network)
    values = given(network)
    after, forward, digits = network, values, network.rounding
    for key, formula in steps.work:
        if key.kind == "apply":
            after = updated(network, values)
            forward = worked_forward(after)
            values.update(zip(steps.units("out_after", network.depth),
                              (forward[key] for key in steps.units("out", network.depth)),
                              strict=True))
        else:
            values[key] = round_sig(formula.compute([values[use] for use in formula.uses]),
                                    digits)
    return values, after, forward


def worked_forward(network: Network) -> dict[Key, float]:
    """The forward pass's values worked by hand (and the given ones): every net and out,
    the errors and their total, the slopes and the output layer's ∂E/∂out."""
    values = given(network)
    digits = network.rounding
    for key, formula in plan(network).forward:
        values[key] = round_sig(formula.compute([values[use] for use in formula.uses]), digits)
    return values


def updated(network: Network, values: dict[Key, float]) -> Network:
    """The network with the new weights (and biases, when they are updated) of ``values``."""
    names = network.names
    weights = [[[values[keys.parameter(w).new] for w in row] for row in layer]
               for layer in names.weights]
    biases = [[values[keys.parameter(b).new] for b in layer] if network.update_biases
              else network.biases[k].tolist() for k, layer in enumerate(names.biases)]
    return network.with_params(weights, biases)
