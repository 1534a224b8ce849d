"""Training under an optimiser with state, held against an independent implementation.

The implementation here is a few lines of numpy written from the issue's definitions
(PyTorch's): each activation's and loss's derivative as the textbooks write it, a batch's
gradient as its examples' mean or sum, and the updates

- momentum: v ← μ·v + g; w ← w − η·v;
- nesterov: v ← μ·v + g; w ← w − η·(g + μ·v);
- adam: m ← β₁·m + (1 − β₁)·g; s ← β₂·s + (1 − β₂)·g²; w ← w − η·m̂/(√ŝ + ε) with
  m̂ = m/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ), t the update's number from 1.

For random networks (every activation and loss, shared or per-unit biases, fixed or
updated, one example or several in every batch mode, every optimiser) each parameter and
each state value after every epoch agrees to 1e-12 relative with stepping (chained
``trace_epoch``) and with both fast paths: relative to the value, or to the largest of its
layer where it cancels to near 0 (a sum of gradients in another order differs in its last
bits, which a cancellation keeps in absolute terms).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from backprop_tui.engine import fastpath
from backprop_tui.engine.trace import Trace, Update, trace_epoch, trace_is_finite
from backprop_tui.functions import OPTIMIZERS
from backprop_tui.network import Network
from networks import random_examples_network

RELATIVE = 1e-12
Slope = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (z, out) -> d out / d z

ACTIVATION: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Slope]] = {
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, o: o * (1.0 - o)),
    "tanh": (np.tanh, lambda z, o: 1.0 - o * o),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, o: (z > 0).astype(float)),
    "linear": (lambda z: z, lambda z, o: np.ones_like(z)),
    "softplus": (lambda z: np.logaddexp(0.0, z), lambda z, o: 1.0 / (1.0 + np.exp(-z))),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z),
                   lambda z, o: np.where(z > 0, 1.0, 0.01)),
}
LOSS_SLOPE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "half_sse": lambda t, o: o - t,
    "mse": lambda t, o: 2.0 * (o - t) / len(t),
}


SLOTS = {"sgd": "", "momentum": "v", "nesterov": "v", "adam": "ms"}


class Independent:
    """A network trained as the definitions say: parameters, state and t, all numpy."""

    def __init__(self, network: Network) -> None:
        """From ``network`` as an epoch starts: its parameters, and the optimiser's state
        it carries (zeros and t = 0 at rest)."""
        self.network = network
        self.weights = [w.copy() for w in network.weights]
        self.biases = [b.copy() for b in network.biases]
        state = network.state
        self.state = {}
        for slot in SLOTS[network.optimizer]:
            weights = state.weights[slot] if state else [np.zeros_like(w) for w in self.weights]
            biases = (state.biases[slot] if state and network.update_biases else
                      [np.zeros_like(b) for b in self.biases])
            self.state[slot] = ([w.copy() for w in weights], [b.copy() for b in biases])
        self.t = state.t if state else 0

    def gradients(self, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Example ``k``'s gradients at the current parameters: backpropagation."""
        net = self.network
        outs, zs = [net.inputs[k]], []
        for w, b, name in zip(self.weights, self.biases, net.activations, strict=True):
            zs.append(w @ outs[-1] + b)
            outs.append(ACTIVATION[name][0](zs[-1]))
        delta = LOSS_SLOPE[net.loss](net.targets[k], outs[-1])
        grad_w: list[np.ndarray] = [np.empty(0)] * net.depth
        grad_b: list[np.ndarray] = [np.empty(0)] * net.depth
        for layer in reversed(range(net.depth)):
            delta = delta * ACTIVATION[net.activations[layer]][1](zs[layer], outs[layer + 1])
            grad_w[layer] = np.outer(delta, outs[layer])
            grad_b[layer] = np.array([delta.sum()]) if net.shared(layer) else delta
            delta = self.weights[layer].T @ delta
        return grad_w, grad_b

    def epoch(self, given: list[Update] | None = None) -> None:
        """An epoch: per batch its gradient (the examples' mean or sum; or the one
        ``given`` for that update), then every parameter's update."""
        for number, batch in enumerate(self.network.batches()):
            if given is None:
                parts = [self.gradients(k) for k in batch]
                scale = 1.0 / len(batch) if self.network.batch_loss == "mean" else 1.0
                grad_w = [sum(p[0][layer] for p in parts) * scale
                          for layer in range(self.network.depth)]
                grad_b = [sum(p[1][layer] for p in parts) * scale
                          for layer in range(self.network.depth)]
            else:
                grad_w, grad_b = given[number].grad_w, given[number].grad_b
            self.t += 1
            for layer in range(self.network.depth):
                self.weights[layer] = self.update(self.weights[layer], grad_w[layer], 0, layer)
                if self.network.update_biases:
                    self.biases[layer] = self.update(self.biases[layer], grad_b[layer], 1,
                                                     layer)

    def update(self, w: np.ndarray, g: np.ndarray, part: int, layer: int) -> np.ndarray:
        net, t = self.network, self.t
        if net.optimizer == "sgd":
            return w - net.learning_rate * g
        if net.optimizer in ("momentum", "nesterov"):
            v = self.state["v"][part][layer] = net.momentum * self.state["v"][part][layer] + g
            step = v if net.optimizer == "momentum" else g + net.momentum * v
            return w - net.learning_rate * step
        m = self.state["m"][part][layer] = (net.beta1 * self.state["m"][part][layer]
                                            + (1 - net.beta1) * g)
        s = self.state["s"][part][layer] = (net.beta2 * self.state["s"][part][layer]
                                            + (1 - net.beta2) * g * g)
        mhat, shat = m / (1 - net.beta1**t), s / (1 - net.beta2**t)
        return w - net.learning_rate * mhat / (np.sqrt(shat) + net.epsilon)


def assert_agree(network: Network, model: Independent, what: str, near: bool = False) -> None:
    """Every parameter and state value of ``network`` is the model's, to 1e-12 relative;
    ``near``: or, where it is near 0, to the largest of its kind in the network (a gradient
    summed in another order differs in its last bits, and where it cancels to near 0 the
    difference stays that size)."""
    groups = [(list(network.weights) + list(network.biases), model.weights + model.biases)]
    for slot, (weights, biases) in model.state.items():
        got_w, got_b = network.slot(slot)
        groups.append((list(got_w) + (list(got_b) if network.update_biases else []),
                       weights + (biases if network.update_biases else [])))
    for got_arrays, expected_arrays in groups:
        scale = max(float(np.abs(a).max(initial=0.0)) for a in expected_arrays)
        for got, expected in zip(got_arrays, expected_arrays, strict=True):
            np.testing.assert_allclose(got, expected, rtol=RELATIVE,
                                       atol=RELATIVE * scale if near else 0.0, err_msg=what)
    assert network.updates == (model.t if model.state else 0), what


MODES: list[tuple[int, str | int]] = [(1, "online"), (3, "online"), (4, "full"), (5, 2),
                                      (6, 3)]
PER_MODE = 2  # networks per mode and batch_loss
SMALL = 24  # weights at most: 50 updates of a larger one take seconds to step


def networks() -> list[Network]:
    """Per mode and batch_loss, small random networks, the optimisers taken in turn (their
    options as drawn)."""
    rng = np.random.default_rng(1515)
    found: list[Network] = []
    optimizers = itertools.cycle(OPTIMIZERS)
    for examples, batch in MODES:
        for batch_loss in ("mean", "sum"):
            for _ in range(PER_MODE):
                optimizer = next(optimizers)
                while True:
                    network = dataclasses.replace(
                        random_examples_network(rng, examples, batch, batch_loss,
                                                "after_backward", optimizers=True),
                        optimizer=optimizer)
                    if sum(w.size for w in network.weights) <= SMALL and all(
                            np.isfinite(w).all() for w in trace_epoch(network).after.weights):
                        found.append(network)
                        break
    return found


def epochs_for(network: Network) -> int:
    """Epochs that make up to 50 updates: as many as fit in 50."""
    return max(1, 50 // len(network.batches()))


NETWORKS = networks()


# Over many updates a last-bit difference in a gradient (summed in another order) grows
# where the gradient cancels to near 0, as it does once a network has learned (Adam
# divides it by its own size): that says nothing about the arithmetic of an update. So the
# first epochs are held against the model's own backpropagation; every epoch up to 50
# updates against the model's updates from the engine's state and gradients (1e-12
# relative, nothing absolute); and the fast paths against stepping.


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_the_first_epochs_agree_with_the_definitions(index: int) -> None:
    model = Independent(NETWORKS[index])
    for epoch, trace in enumerate(stepped(index)[:3], start=1):
        network = trace.after
        model.epoch()
        assert_agree(network, model, f"epoch {epoch}, after {model.t} updates", near=True)


@cache
def stepped(index: int) -> list[Trace]:
    """Every epoch of network ``index`` stepped: up to 50 updates, or up to the first
    epoch that is not finite (a large η)."""
    traces = [trace_epoch(NETWORKS[index])]
    while len(traces) < epochs_for(NETWORKS[index]):
        trace = trace_epoch(traces[-1].after)
        if not trace_is_finite(trace):
            break
        traces.append(trace)
    return traces


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_every_update_and_state_value_is_the_definitions(index: int) -> None:
    for epoch, trace in enumerate(stepped(index), start=1):
        model = Independent(trace.network)
        model.epoch(trace.updates)
        assert_agree(trace.after, model, f"epoch {epoch}, after {model.t} updates")


FAST_EPOCHS = 4  # (test_fastpath runs them further)


@pytest.mark.parametrize("loop", ["python", "numpy"])
@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_the_fast_paths_agree_with_stepping(monkeypatch: pytest.MonkeyPatch, loop: str,
                                            index: int) -> None:
    """Both loops, an epoch at a time (each run starts from the state the last one left,
    as a checkpoint does), against stepping; and all at once, the same numbers exactly."""
    weights = 10**9 if loop == "python" else 0
    monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", weights)
    monkeypatch.setattr(fastpath, "PYTHON_BATCH_MAX_WEIGHTS", weights)
    traces = stepped(index)[:FAST_EPOCHS]
    network = traces[0].network
    for epoch, trace in enumerate(traces, start=1):
        run = fastpath.run_epochs(trace.network, 1)
        assert not run.diverged and run.network.updates == trace.after.updates
        assert_same(run.network, trace.after, f"{loop}: epoch {epoch}", 1e-12, 1e-12)
        network = fastpath.run_epochs(network, 1).network
    whole = fastpath.run_epochs(traces[0].network, len(traces)).network
    assert whole.updates == network.updates
    for a, b in zip(_values(whole), _values(network), strict=True):
        assert a.tolist() == b.tolist()


def assert_same(got: Network, expected: Network, what: str, rtol: float, atol: float) -> None:
    """The same parameters and state, within ``rtol``, or ``atol`` of the largest of the
    values (at least 1)."""
    for a, b in zip(_values(got), _values(expected), strict=True):
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=what)


def _values(network: Network) -> list[np.ndarray]:
    """Every parameter and state value, per layer."""
    found = [*network.weights, *network.biases]
    state = network.state
    if state is not None:
        found += [a for slots in (state.weights, state.biases) for arrays in slots.values()
                  for a in arrays]
    return found


def test_the_sweep_covers_every_optimiser_with_biases_updated_and_fixed() -> None:
    seen = {(n.optimizer, n.update_biases) for n in NETWORKS}
    assert {name for name, _ in seen} == {"sgd", "momentum", "nesterov", "adam"}
    assert {updated for _, updated in seen} == {True, False}
    assert {(n.optimizer, n.examples > 1) for n in NETWORKS} == {
        (name, several) for name in OPTIMIZERS for several in (True, False)}
    assert max(len(stepped(i)) * len(n.batches()) for i, n in enumerate(NETWORKS)) >= 48
