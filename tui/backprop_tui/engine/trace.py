"""One epoch of backpropagation with every intermediate kept: the numbers the steps show.

The computation is vectorised per layer; the steps read single entries out of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backprop_tui.engine.functions import ACTIVATION, LOSS
from backprop_tui.network import Network


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
    fwd_after: Forward  # the forward pass with the new parameters

    @property
    def loss(self) -> float:
        return self.fwd.loss


def trace_epoch(network: Network) -> EpochTrace:
    """Forward, error, backward layer by layer from the top, updates, error after them.

    With ``update_order = "during_backward"`` the hidden layers receive the error through
    the already-updated weights of the layer above; otherwise through the original ones.
    """
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


def trace_is_finite(trace: EpochTrace) -> bool:
    """Whether every value the epoch's steps would show is finite."""
    arrays = [
        *trace.fwd.nets, *trace.fwd.acts, trace.fwd.errors, *trace.dE_dout, *trace.fwd.slopes,
        *trace.deltas, *trace.grad_w, *trace.grad_b, *trace.after.weights, *trace.after.biases,
        *trace.fwd_after.acts, *(c for c in trace.contribs if c is not None),
    ]
    return math.isfinite(trace.fwd_after.loss) and all(np.isfinite(a).all() for a in arrays)
