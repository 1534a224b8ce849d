"""One epoch of backpropagation with every intermediate kept: the numbers the steps show.

The computation is vectorised per layer; the steps read single entries out of it.

With ``network.rounding`` = N (hand rounding) the epoch is worked as a person works it on
paper instead: every value is computed on Python floats by the formula its step shows, from
the already-rounded values that step uses, then rounded to N significant digits before
anything later uses it. A step recomputed from its operands then gives exactly its value.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backprop_tui.engine.functions import (
    ACTIVATION,
    HAND_ACTIVATION,
    HAND_SLOPE,
    LOSS,
    hand_dE_dout,
    hand_error,
)
from backprop_tui.network import Network
from backprop_tui.scalar import fsum, round_sig


@dataclass(frozen=True)
class Forward:
    """A forward pass: activations (inputs first), weighted sums and local slopes per layer."""

    acts: list[np.ndarray]
    nets: list[np.ndarray]
    slopes: list[np.ndarray]  # d out / d net per layer
    errors: np.ndarray  # E_k per output unit
    loss: float  # E_total
    dE_dout: np.ndarray  # ∂E/∂out at the outputs


def forward(network: Network) -> Forward:
    """The forward pass and the error; with hand rounding, every value rounded."""
    if network.rounding:
        return _hand_forward(network)
    acts, nets, slopes = [network.inputs], [], []
    with np.errstate(all="ignore"):
        for weights, bias, activation in zip(
            network.weights, network.biases, network.activations, strict=True
        ):
            net = weights @ acts[-1] + bias
            out, slope = ACTIVATION[activation](net)
            nets.append(net)
            acts.append(out)
            slopes.append(slope)
        errors, dE_dout = LOSS[network.loss](network.targets, acts[-1])
        loss = float(errors.sum())
    return Forward(acts, nets, slopes, errors, loss, dE_dout)


@dataclass(frozen=True)
class EpochTrace:
    """Everything one epoch computes, from the network at its start to the one after it."""

    network: Network
    fwd: Forward
    dE_dout: list[np.ndarray]  # ∂E/∂out per layer (the output layer's from the loss)
    contribs: list[np.ndarray | None]  # hidden layer l: [k, j] = δ_k (layer l+1) · w_kj
    deltas: list[np.ndarray]
    grad_w: list[np.ndarray]
    grad_b: list[np.ndarray]  # shape (1,) for a shared bias: the sum of its units' δ
    after: Network  # the network with every update applied
    # The forward pass with the new parameters. With hand rounding its loss is E_total+ as
    # its step computes it, from the new outputs in one formula, not the rounded errors' sum.
    fwd_after: Forward

    @property
    def loss(self) -> float:
        return self.fwd.loss


def trace_epoch(network: Network) -> EpochTrace:
    """Forward, error, backward layer by layer from the top, updates, error after them.

    With ``update_order = "during_backward"`` the hidden layers receive the error through
    the already-updated weights of the layer above; otherwise through the original ones.
    """
    if network.rounding:
        return _hand_trace(network)
    fwd = forward(network)
    depth = network.depth
    eta = network.learning_rate
    during = network.update_order == "during_backward"
    dE_dout: list[np.ndarray] = [fwd.dE_dout] * depth
    contribs: list[np.ndarray | None] = [None] * depth
    deltas: list[np.ndarray] = [fwd.dE_dout] * depth
    grad_w = list(network.weights)
    grad_b = list(network.biases)
    new_w = list(network.weights)
    new_b = list(network.biases)
    with np.errstate(all="ignore"):
        for layer in reversed(range(depth)):
            if layer < depth - 1:
                above = new_w[layer + 1] if during else network.weights[layer + 1]
                contribs[layer] = above * deltas[layer + 1][:, None]
                dE_dout[layer] = contribs[layer].sum(axis=0)
            delta = dE_dout[layer] * fwd.slopes[layer]
            deltas[layer] = delta
            grad_w[layer] = np.outer(delta, fwd.acts[layer])
            grad_b[layer] = delta.sum(keepdims=True) if network.shared(layer) else delta
            new_w[layer] = network.weights[layer] - eta * grad_w[layer]
            if network.update_biases:
                new_b[layer] = network.biases[layer] - eta * grad_b[layer]
    after = network.with_params(new_w, new_b)
    return EpochTrace(
        network, fwd, dE_dout, contribs, deltas, grad_w, grad_b, after, forward(after)
    )


def _hand_forward(network: Network) -> Forward:
    """The forward pass worked by hand: each value rounded before the next one uses it. The
    inputs are rounded too: they are the values of the first layer's ∂net/∂w steps."""
    digits = network.rounding
    act = [round_sig(x, digits) for x in network.inputs.tolist()]
    acts, nets, slopes = [act], [], []
    for layer, (weights, activation) in enumerate(
        zip(network.weights, network.activations, strict=True)
    ):
        bias = network.biases[layer].tolist()
        shared = network.shared(layer)
        net = [
            round_sig(fsum([*map(operator.mul, row, act), bias[0 if shared else j]]), digits)
            for j, row in enumerate(weights.tolist())
        ]
        act = [round_sig(HAND_ACTIVATION[activation](z), digits) for z in net]
        slope = HAND_SLOPE[activation]
        nets.append(net)
        acts.append(act)
        slopes.append([round_sig(slope(o, z), digits) for o, z in zip(act, net, strict=True)])
    loss, targets, n = network.loss, network.targets.tolist(), len(act)
    pairs = list(zip(targets, act, strict=True))
    errors = [round_sig(hand_error(loss, t, o, n), digits) for t, o in pairs]
    dE_dout = [round_sig(hand_dE_dout(loss, t, o, n), digits) for t, o in pairs]
    return Forward(_arrays(acts), _arrays(nets), _arrays(slopes), np.array(errors),
                   round_sig(fsum(errors), digits), np.array(dE_dout))


def _hand_loss_after(network: Network, fwd: Forward) -> float:
    """E_total+ as its step works it: every output's error formula summed, then rounded."""
    out, n = fwd.acts[-1].tolist(), fwd.acts[-1].shape[0]
    terms = [hand_error(network.loss, t, o, n)
             for t, o in zip(network.targets.tolist(), out, strict=True)]
    return round_sig(fsum(terms), network.rounding)


def _hand_trace(network: Network) -> EpochTrace:
    """``trace_epoch`` worked by hand: the same order, each value from its step's formula
    applied to the rounded values it uses, then rounded."""
    digits = network.rounding
    fwd = _hand_forward(network)
    depth = network.depth
    eta = network.learning_rate
    during = network.update_order == "during_backward"
    acts = [a.tolist() for a in fwd.acts]
    slopes = [s.tolist() for s in fwd.slopes]
    weights = [w.tolist() for w in network.weights]
    biases = [b.tolist() for b in network.biases]
    new_w, new_b = list(weights), list(biases)
    dE_dout: list[list[float]] = [[]] * depth
    contribs: list[np.ndarray | None] = [None] * depth
    deltas: list[list[float]] = [[]] * depth
    grad_w: list[list[list[float]]] = [[]] * depth
    grad_b: list[list[float]] = [[]] * depth
    signal = fwd.dE_dout.tolist()
    for layer in reversed(range(depth)):
        if layer < depth - 1:
            above = new_w[layer + 1] if during else weights[layer + 1]
            shares = [[round_sig(d * w, digits) for w in row]
                      for d, row in zip(deltas[layer + 1], above, strict=True)]
            contribs[layer] = np.array(shares)
            signal = [round_sig(fsum(column), digits) for column in zip(*shares)]
        dE_dout[layer] = signal
        delta = [round_sig(g * s, digits) for g, s in zip(signal, slopes[layer], strict=True)]
        deltas[layer] = delta
        grad_w[layer] = [[round_sig(d * a, digits) for a in acts[layer]] for d in delta]
        grad_b[layer] = [round_sig(fsum(delta), digits)] if network.shared(layer) else delta
        new_w[layer] = [[round_sig(w - eta * g, digits) for w, g in zip(row, grads, strict=True)]
                        for row, grads in zip(weights[layer], grad_w[layer], strict=True)]
        if network.update_biases:
            new_b[layer] = [round_sig(b - eta * g, digits)
                            for b, g in zip(biases[layer], grad_b[layer], strict=True)]
    after = network.with_params(_arrays(new_w), _arrays(new_b))
    fwd_after = _hand_forward(after)
    fwd_after = dataclasses.replace(fwd_after, loss=_hand_loss_after(after, fwd_after))
    return EpochTrace(network, fwd, _arrays(dE_dout), contribs, _arrays(deltas),
                      _arrays(grad_w), _arrays(grad_b), after, fwd_after)


def _arrays(values: Sequence[Sequence]) -> list[np.ndarray]:
    return [np.array(v, dtype=np.float64) for v in values]


def trace_is_finite(trace: EpochTrace) -> bool:
    """Whether every value the epoch's steps would show is finite."""
    arrays = [
        *trace.fwd.nets, *trace.fwd.acts, trace.fwd.errors, *trace.dE_dout, *trace.fwd.slopes,
        *trace.deltas, *trace.grad_w, *trace.grad_b, *trace.after.weights, *trace.after.biases,
        *trace.fwd_after.acts, *(c for c in trace.contribs if c is not None),
    ]
    return math.isfinite(trace.fwd_after.loss) and all(np.isfinite(a).all() for a in arrays)
