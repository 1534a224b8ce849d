"""One epoch of backpropagation with every intermediate kept: the numbers the steps show.

The computation is vectorised per layer, with each activation's and loss's array functions
from ``functions``; ``value`` reads any single value out of it by key. With
``network.rounding`` on, the epoch is worked by hand instead (``engine.rounding``) and the
same arrays are filled from that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from backprop_tui import keys
from backprop_tui.engine import rounding
from backprop_tui.engine.plan import plan
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, array_chain, loss_for
from backprop_tui.keys import Key
from backprop_tui.network import Network, OptimizerState
from backprop_tui.scalar import fsum

Array = np.ndarray


@dataclass(frozen=True)
class Forward:
    """A forward pass: activations (inputs first), weighted sums and local slopes per layer."""

    acts: list[Array]
    nets: list[Array]
    slopes: list[Array]  # d out / d net per layer
    errors: Array  # E_k per output unit
    loss: float  # E_total
    dE_dout: Array  # ∂E/∂out at the outputs
    jacobian: Array | None = None  # a softmax output layer's: [k, j] = ∂out_k/∂net_j


def forward(network: Network) -> Forward:
    """The forward pass of the (first) example and its error; with hand rounding, every
    value rounded."""
    if network.rounding:
        return _forward_of(network, rounding.worked_forward(network))
    acts, nets, slopes = [network.inputs[0]], [], []
    loss = loss_for(network.loss, network.activations[-1])
    jacobian = None
    with np.errstate(all="ignore"):
        for weights, bias, name in zip(network.weights, network.biases, network.activations,
                                       strict=True):
            activation = ACTIVATIONS[name]
            net = weights @ acts[-1] + bias
            out = activation.array_value(net)
            nets.append(net)
            acts.append(out)
            slopes.append(activation.array_slope(out, net))
            if activation.coupled:
                jacobian = activation.coupled.array_jacobian(out)
        errors = loss.array_error(network.targets[0], acts[-1], nets[-1])
        dE_dout = loss.array_derivative(network.targets[0], acts[-1])
        total = float(errors.sum())
    return Forward(acts, nets, slopes, errors, total, dE_dout, jacobian)


@dataclass(frozen=True)
class EpochTrace:
    """Everything one epoch computes, from the network at its start to the one after it."""

    network: Network
    fwd: Forward
    dE_dout: list[Array]  # ∂E/∂out per layer (the output layer's from the loss)
    contribs: list[Array | None]  # hidden layer l: [k, j] = δ_k (layer l+1) · w_kj
    deltas: list[Array]  # the δ the updates and the layers below use
    chain: Array | None  # the output layer's δ by the chain rule, where δ is out − t
    grad_w: list[Array]
    grad_b: list[Array]  # shape (1,) for a shared bias: the sum of its units' δ
    after: Network  # the network with every update applied
    # The forward pass with the new parameters. With hand rounding its loss is E_total+ as
    # its step computes it, from the new outputs in one formula, not the rounded errors' sum.
    fwd_after: Forward

    @property
    def loss(self) -> float:
        return self.fwd.loss

    @property
    def loss_after(self) -> float:
        return self.fwd_after.loss

    @cached_property
    def updates(self) -> list[Update]:
        return [Update((1,), self.loss, self.grad_w, self.grad_b, self.after)]


@dataclass(frozen=True)
class Update:
    """One update of an epoch: its examples (from 1), the batch's error and gradients, and
    the network after it."""

    examples: tuple[int, ...]
    loss: float
    grad_w: list[Array]
    grad_b: list[Array]
    after: Network


@dataclass(frozen=True)
class DataTrace:
    """An epoch over several examples: every value by key (``engine.rounding`` works it
    from the plan's formulas, one scalar at a time, example by example)."""

    network: Network
    values: dict[Key, float]
    after: Network
    loss: float  # E: the data set's error at the epoch's start

    @property
    def loss_after(self) -> float:
        return self.values[keys.DATASET_AFTER]

    @cached_property
    def updates(self) -> list[Update]:
        found = []
        names = self.network.names
        for first, last in plan(self.network).shape.batches():

            def gradient(name: str, first: int = first, last: int = last) -> float:
                return self.values[keys.parameter(name).gradient.at(first, last)]

            found.append(Update(
                tuple(range(first, last + 1)),
                self.values[Key("batch_error").at(first, last) if last > first
                            else keys.TOTAL.at(first)],
                [_array([[gradient(w) for w in row] for row in layer]) for layer in names.weights],
                [_array([gradient(b) for b in layer]) for layer in names.biases],
                rounding.updated(self.network, self.values, (first, last))))
        return found


Trace = EpochTrace | DataTrace


def trace_epoch(network: Network) -> Trace:
    """Forward, error, backward layer by layer from the top, updates, error after them.

    With ``update_order = "during_backward"`` the hidden layers receive the error through
    the already-updated weights of the layer above; otherwise through the original ones.
    Several examples: ``DataTrace``.
    """
    if network.examples > 1:
        values, after, loss = rounding.worked_examples(network)
        return DataTrace(network, values, after, loss)
    return trace_one(network)


def trace_one(network: Network) -> EpochTrace:
    """``trace_epoch`` of a network with one example."""
    if network.rounding:
        return _worked_trace(network)
    fwd = forward(network)
    depth = network.depth
    optimizer, hyper = OPTIMIZERS[network.optimizer], network.hyper
    update = network.updates + 1  # its t
    state_w = {slot: list(network.slot(slot)[0]) for slot in optimizer.slots}
    state_b = {slot: list(network.slot(slot)[1]) for slot in optimizer.slots}
    during = network.update_order == "during_backward"
    loss = loss_for(network.loss, network.activations[-1])
    output = ACTIVATIONS[network.activations[-1]]
    chain = None
    dE_dout: list[Array] = [fwd.dE_dout] * depth
    contribs: list[Array | None] = [None] * depth
    deltas: list[Array] = [fwd.dE_dout] * depth
    grad_w = list(network.weights)
    grad_b = list(network.biases)
    new_w = list(network.weights)
    new_b = list(network.biases)
    with np.errstate(all="ignore"):
        for layer in reversed(range(depth)):
            if layer < depth - 1:
                above = new_w[layer + 1] if during else network.weights[layer + 1]
                contribs[layer] = shares = above * deltas[layer + 1][:, None]
                dE_dout[layer] = shares.sum(axis=0)
            if layer < depth - 1:
                delta = dE_dout[layer] * fwd.slopes[layer]
            else:
                t, out = network.targets[0], fwd.acts[-1]
                delta = array_chain(output, dE_dout[layer], out, fwd.slopes[layer])
                if loss.shortcut:
                    chain, delta = delta, out - t
            deltas[layer] = delta
            grad_w[layer] = np.outer(delta, fwd.acts[layer])
            grad_b[layer] = delta.sum(keepdims=True) if network.shared(layer) else delta
            new_w[layer], found = optimizer.step(
                network.weights[layer], grad_w[layer],
                tuple(state_w[slot][layer] for slot in state_w), hyper, update)
            for slot, value in zip(state_w, found):
                state_w[slot][layer] = value
            if network.update_biases:
                new_b[layer], found = optimizer.step(
                    network.biases[layer], grad_b[layer],
                    tuple(state_b[slot][layer] for slot in state_b), hyper, update)
                for slot, value in zip(state_b, found):
                    state_b[slot][layer] = value
    after = network.with_params(new_w, new_b)
    if optimizer.slots:
        after = after.with_state(OptimizerState.of(
            update, state_w, state_b if network.update_biases else {}))
    return EpochTrace(
        network, fwd, dE_dout, contribs, deltas, chain, grad_w, grad_b, after, forward(after)
    )


def value(trace: Trace, key: Key) -> float | None:
    """The value of ``key`` in the epoch: a given one (as the epoch uses it), a step's, or
    an output after the updates; None for the step that applies the updates."""
    if isinstance(trace, DataTrace):
        if key.kind == "apply":
            return None
        return trace.loss if key.kind == "dataset" else trace.values[key]
    network = trace.network
    names = network.names
    if key.param:
        kind, layer, row, column = names.parameters()[key.param]
    else:
        layer, row = names.position.get(key.unit, (0, 0))
        column = 0
    fwd = trace.fwd
    match key.kind:
        case "input":
            return float(fwd.acts[0][row])  # rounded, with hand rounding
        case "target":
            return float(network.targets[0, row])
        case "weight":
            return float(network.weights[layer][row, column])
        case "bias":
            return float(network.biases[layer][row])
        case "eta":
            return network.learning_rate
        case "net":
            return float(fwd.nets[layer][row])
        case "out":
            return float(fwd.acts[layer + 1][row])
        case "error":
            return float(fwd.errors[row])
        case "total":
            return fwd.loss
        case "contrib":
            shares = trace.contribs[layer]
            assert shares is not None
            return float(shares[names.position[key.above][1], row])
        case "dE_dout":
            return float(trace.dE_dout[layer][row])
        case "slope":
            return float(fwd.slopes[layer][row])
        case "jacobian":
            assert fwd.jacobian is not None
            return float(fwd.jacobian[row, names.position[key.above][1]])
        case "chain":
            assert trace.chain is not None
            return float(trace.chain[row])
        case "delta":
            return float(trace.deltas[layer][row])
        case "dnet_dw":
            return float(fwd.acts[layer][column])
        case "grad_w":
            return float(trace.grad_w[layer][row, column])
        case "new_w":
            return float(trace.after.weights[layer][row, column])
        case "grad_b":
            return float(trace.grad_b[layer][row])
        case "new_b":
            return float(trace.after.biases[layer][row])
        case "mu" | "beta1" | "beta2" | "epsilon":
            return float(getattr(network.hyper, key.kind))
        case "t":
            return float(network.updates + 1)
        case "v" | "m" | "s":
            return network.state_value(key.kind, key.param)
        case "new_v" | "new_m" | "new_s":
            return trace.after.state_value(key.kind[-1], key.param)
        case "bc1" | "bc2" | "mhat" | "shat":  # worked from the values its formula names
            formula = plan(network).formula(key)
            return rounding.kept(formula.compute([operand(trace, use) for use in formula.uses]),
                                 network.rounding)
        case "apply":
            return None
        case "total_after":
            return trace.fwd_after.loss
        case "out_after":
            return float(trace.fwd_after.acts[-1][row])
        case "net_after":
            return float(trace.fwd_after.nets[-1][row])
        case "dataset":
            return fwd.loss
    raise ValueError(f"not a key: {key!r}")


def operand(trace: Trace, key: Key) -> float:
    """The value of ``key`` as a formula's operand (every key but ``apply`` has one)."""
    found = value(trace, key)
    if found is None:
        raise ValueError(f"{key} is not a value")
    return found


def loss_of(network: Network) -> float:
    """The error of the data set at ``network`` (E_total with one example): every
    example's forward pass, combined by ``batch_loss``."""
    if network.examples == 1:
        return forward(network).loss
    total = fsum(forward(network.example(k)).loss for k in range(network.examples))
    mean = network.batch_loss == "mean"  # as plan.dataset combines them, without the plan
    return rounding.kept(total / network.examples if mean else total, network.rounding)


def _worked_trace(network: Network) -> EpochTrace:
    """``trace_epoch`` worked by hand (``engine.rounding``), in the same arrays."""
    values, after, worked_after = rounding.worked(network)
    steps = plan(network)
    names = network.names

    def per_unit(kind: str, layer: int) -> Array:  # layer: of units, 0 the inputs
        return _array([values[key] for key in steps.units(kind, layer)])

    def per_weight(kind: str, layer: int) -> Array:
        return _array([[values[Key(kind, param=w)] for w in row] for row in names.weights[layer]])

    depth = network.depth
    contribs: list[Array | None] = [None] * depth
    for layer in range(depth - 1):
        contribs[layer] = _array([[values[Key("contrib", unit=u, above=a)]
                                   for u in names.units[layer + 1]]
                                  for a in names.units[layer + 2]])
    chain = per_unit("chain", depth) if steps.loss.shortcut else None
    return EpochTrace(
        network, _forward_of(network, values),
        [per_unit("dE_dout", k + 1) for k in range(depth)], contribs,
        [per_unit("delta", k + 1) for k in range(depth)], chain,
        [per_weight("grad_w", k) for k in range(depth)],
        [_array([values[keys.parameter(b).gradient] for b in layer]) for layer in names.biases],
        after, _forward_of(after, worked_after, loss=values[keys.TOTAL_AFTER]))


def _forward_of(network: Network, values: dict[Key, float],
                loss: float | None = None) -> Forward:
    """The forward pass's arrays from values worked by hand."""
    steps = plan(network)
    layers = range(1, network.depth + 1)

    def per_unit(kind: str, layer: int) -> Array:
        return _array([values[key] for key in steps.units(kind, layer)])

    outs = [per_unit("input", 0), *(per_unit("out", layer) for layer in layers)]
    coupled = steps.output.coupled
    jacobian = None
    if coupled is not None:  # the worked entries; beyond four outputs none is a step
        jacobian = coupled.array_jacobian(outs[-1])
        if steps.jacobian_steps():
            outputs = steps.names.units[-1]
            jacobian = _array([[values[keys.unit("slope", k) if k == j else
                                       Key("jacobian", unit=k, above=j)] for j in outputs]
                               for k in outputs])
    return Forward(
        outs,
        [per_unit("net", layer) for layer in layers],
        [np.diagonal(jacobian).copy() if jacobian is not None and layer == network.depth
         else per_unit("slope", layer) for layer in layers],
        per_unit("error", network.depth),
        values[keys.TOTAL] if loss is None else loss,
        per_unit("dE_dout", network.depth),
        jacobian,
    )


def _state_arrays(network: Network) -> list[Array]:
    state = network.state
    if state is None:
        return []
    return [a for slots in (state.weights, state.biases) for arrays in slots.values()
            for a in arrays]


def _array(values: Sequence[object]) -> Array:
    return np.array(values, dtype=np.float64)


def trace_is_finite(trace: Trace) -> bool:
    """Whether every value the epoch's steps would show is finite."""
    steps = plan(trace.network)
    if isinstance(trace, DataTrace):
        if math.isfinite(sum(trace.values.values())):
            return True
        return all(math.isfinite(v) for key, v in trace.values.items()
                   if not steps.teaching(key))
    depth = trace.network.depth
    teaching = steps.loss.shortcut  # the chain rule's values at the outputs: see Plan.teaching
    arrays = [
        *trace.fwd.nets, *trace.fwd.acts, trace.fwd.errors, *trace.dE_dout[:depth - teaching],
        *trace.fwd.slopes[:depth - teaching], *trace.deltas, *trace.grad_w, *trace.grad_b,
        *trace.after.weights, *trace.after.biases, *trace.fwd_after.acts,
        *(c for c in trace.contribs if c is not None), *_state_arrays(trace.after),
    ]
    return math.isfinite(trace.fwd_after.loss) and all(np.isfinite(a).all() for a in arrays)

