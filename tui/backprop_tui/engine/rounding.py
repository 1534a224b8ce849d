"""Hand rounding: an epoch worked as a person works it on paper.

With ``network.rounding`` = N every step's value is its formula (``engine.plan``) evaluated
on the already-rounded values it uses (``formula.evaluate``: one Python float operation at
a time), then rounded to N significant digits before anything later uses it. A step
recomputed from its operands therefore gives exactly its value. The inputs are rounded too
(they are the first layer's ∂net/∂w values); the given weights, biases, targets and η are
used as written.

With several training examples every epoch is worked this way, one scalar at a time from
the plan's formulas, rounding or not (``worked_examples``): the values are those the steps
show, example by example and batch by batch.
"""

from __future__ import annotations

from backprop_tui import keys
from backprop_tui.engine.plan import plan
from backprop_tui.keys import Key
from backprop_tui.network import Network, OptimizerState
from backprop_tui.scalar import round_sig


def kept(value: float, digits: int) -> float:
    """A step's value as the next steps use it: rounded when hand rounding is on."""
    return round_sig(value, digits) if digits else value


def given(network: Network) -> dict[Key, float]:
    """Every given value as hand rounding uses it: the inputs rounded, the rest as given."""
    digits = network.rounding
    numbers = [kept(x, digits) for x in network.inputs.ravel().tolist()]
    numbers += network.targets.ravel().tolist()
    for weights in network.weights:
        numbers += weights.ravel().tolist()
    for biases in network.biases:
        numbers += biases.tolist()
    numbers.append(network.learning_rate)
    steps = plan(network)
    optimizer = steps.optimizer
    numbers += [getattr(network.hyper, role) for role in optimizer.given if role != "t"]
    numbers += [network.state_value(slot, p.param) for slot in optimizer.slots
                for p in steps.updated]
    if "t" in optimizer.given:
        numbers += [float(network.updates + i) for i in range(1, len(steps.shape.batches()) + 1)]
    return dict(zip(steps.given, numbers, strict=True))


def worked(network: Network) -> tuple[dict[Key, float], Network, dict[Key, float]]:
    """Every value of the epoch that starts at ``network``, worked by hand (the given ones
    as it used them, and every step's); the network after its updates; and that network's
    forward pass (the last step's formula uses its outputs and their weighted sums, under
    their ``out_after`` and ``net_after`` keys in the first)."""
    steps = plan(network)
    values = given(network)
    after, forward, digits = network, values, network.rounding
    for key, formula in steps.work:
        if key.kind == "apply":
            after = updated(network, values)
            forward = worked_forward(after)
            for kind in ("out", "net"):
                values.update(zip(steps.units(f"{kind}_after", network.depth),
                                  (forward[key] for key in steps.units(kind, network.depth)),
                                  strict=True))
        else:
            values[key] = kept(formula.compute([values[use] for use in formula.uses]), digits)
    return values, after, forward


def worked_forward(network: Network) -> dict[Key, float]:
    """The forward pass's values worked by hand (and the given ones): every net and out,
    the errors and their total, the slopes and the output layer's ∂E/∂out (of a network
    with one example)."""
    values = given(network)
    digits = network.rounding
    for key, formula in plan(network).forward:
        values[key] = kept(formula.compute([values[use] for use in formula.uses]), digits)
    return values


def worked_examples(network: Network) -> tuple[dict[Key, float], Network, float]:
    """An epoch over several examples worked from the plan's formulas: every value (given
    and computed, keyed by example and batch), the network after its last update, and the
    data set's error E at the epoch's start."""
    steps = plan(network)
    digits = network.rounding
    values = given(network)
    batches = steps.shape.batches()
    for key, formula in steps.work:
        if key.kind == "apply":
            continue
        if key.kind == "dataset_after":
            after = updated(network, values, batches[-1])
            values.update(outputs_after(after, steps.names.units[-1]))
        values[key] = kept(formula.compute([values[use] for use in formula.uses]), digits)
    end = batches[0][1]  # the first batch's examples have their errors at the start
    totals = [values[keys.TOTAL.at(k)] if k <= end else
              worked_forward(network.example(k - 1))[keys.TOTAL]
              for k in range(1, network.examples + 1)]
    return values, updated(network, values, batches[-1]), kept(
        steps.dataset.compute(totals), digits)


def outputs_after(after: Network, outputs: list[str]) -> dict[Key, float]:
    """Every example's outputs at ``after`` and their weighted sums (``out_o1+[k]``,
    ``net_o1+[k]``), worked as the steps are."""
    found = {}
    for k in range(after.examples):
        forward = worked_forward(after.example(k))
        for u in outputs:
            for kind in ("out", "net"):
                found[keys.unit(f"{kind}_after", u).at(k + 1)] = forward[keys.unit(kind, u)]
    return found


def updated(network: Network, values: dict[Key, float],
            batch: tuple[int, int] = (0, 0)) -> Network:
    """The network with the new weights (and biases, when they are updated) of ``values``
    (of the batch of examples ``batch``, with several)."""
    names = network.names

    def new(name: str) -> float:
        return values[keys.parameter(name).new.at(*batch)]

    weights = [[[new(w) for w in row] for row in layer] for layer in names.weights]
    biases = [[new(b) for b in layer] if network.update_biases
              else network.biases[k].tolist() for k, layer in enumerate(names.biases)]
    after = network.with_params(weights, biases)
    slots = plan(network).optimizer.slots
    if not slots:
        return after

    def state(slot: str, name: str) -> float:
        return values[keys.Key(f"new_{slot}", param=name).at(*batch)]

    done = plan(network).shape.batches().index(batch) + 1 if batch[0] else 1
    return after.with_state(OptimizerState.of(
        network.updates + done,
        {slot: [[[state(slot, w) for w in row] for row in layer] for layer in names.weights]
         for slot in slots},
        {slot: [[state(slot, b) for b in layer] for layer in names.biases] for slot in slots}
        if network.update_biases else {}))
