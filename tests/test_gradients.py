"""Every gradient step agrees with a central finite difference, on a seeded sweep of random
networks (every activation, loss, bias layout and option).

Gradients are taken at the epoch's starting weights. With update_order = "during_backward"
the hidden layers' error flows back through the already-updated weights of the layer above,
so only the output layer's gradients are gradients of the loss; a hidden layer's are the
derivative of δ(above) · net(above), δ held fixed, on the network whose layer above already
has its new weights. Both statements are checked by finite differences.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from backprop_tui.engine.trace import EpochTrace, forward, trace_epoch
from backprop_tui.network import Network
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.step import Step
from networks import ANY_OUTPUT, PER_UNIT, mazur, random_networks

SEED = 20150317
COUNT = 200
NETWORKS = random_networks(SEED, COUNT)
H = 1e-6
RTOL = 1e-5
ATOL = 1e-8

Param = tuple[str, int, int, int]  # kind, layer, row, column (Names.parameters)


def perturbed(network: Network, param: Param, delta: float) -> Network:
    weights = [w.copy() for w in network.weights]
    biases = [b.copy() for b in network.biases]
    kind, layer, row, column = param
    if kind == "weight":
        weights[layer][row, column] += delta
    else:
        assert kind == "bias"
        biases[layer][row] += delta  # a shared bias is one parameter: biases[layer][0]
    return network.with_params(weights, biases)


def central(f: Callable[[Network], float], network: Network, param: Param) -> float:
    return (f(perturbed(network, param, H)) - f(perturbed(network, param, -H))) / (2 * H)


def loss(network: Network) -> float:
    return forward(network).loss


def close(value: float, reference: float) -> bool:
    return abs(value - reference) <= max(RTOL * abs(reference), ATOL)


def gradient_steps(steps: EpochSteps) -> list[tuple[Step, Param]]:
    """Every grad_w / grad_b step with the parameter it differentiates by."""
    parameters = steps.network.names.parameters()
    found = []
    for step in steps:
        if step.kind in ("grad_w", "grad_b"):
            assert step.key.startswith("dE/d")
            param = parameters[step.key.removeprefix("dE/d")]
            assert param[0] == ("weight" if step.kind == "grad_w" else "bias")
            found.append((step, param))
    return found


def with_layer_above_updated(trace: EpochTrace, layer: int) -> Network:
    """The start of the epoch, except that weight layer ``layer + 1`` has its new weights."""
    network = trace.network
    weights = list(network.weights)
    weights[layer + 1] = trace.after.weights[layer + 1]
    return network.with_params(weights, list(network.biases))


def test_sweep_covers_every_option() -> None:
    assert {a for n in NETWORKS for a in n.activations} == set(PER_UNIT)
    assert {n.loss for n in NETWORKS} == set(ANY_OUTPUT)
    assert {n.update_order for n in NETWORKS} == {"after_backward", "during_backward"}
    assert {n.update_biases for n in NETWORKS} == {True, False}
    assert {n.shared(k) for n in NETWORKS for k in range(n.depth)} == {True, False}
    assert {n.depth for n in NETWORKS} == {2, 3, 4}
    assert {n.sizes[0] for n in NETWORKS} == {1, 2, 3, 4}
    assert {n.sizes[-1] for n in NETWORKS} == {1, 2, 3}
    assert {s for n in NETWORKS for s in n.sizes[1:-1]} == {1, 2, 3, 4, 5}
    for order in ("after_backward", "during_backward"):
        assert sum(n.update_order == order for n in NETWORKS) >= 60


@pytest.mark.parametrize("index", range(COUNT))
def test_gradients_match_finite_differences(index: int) -> None:
    network = NETWORKS[index]
    steps = EpochSteps(1, trace_epoch(network))
    assert steps.diverged is None
    during = network.update_order == "during_backward"
    found = gradient_steps(steps)
    expected = sum(w.size + b.size for w, b in zip(network.weights, network.biases))
    assert len(found) == expected  # one step per weight and per (shared or own) bias
    checked, wrong = 0, []
    for step, param in found:
        if during and param[1] < network.depth - 1:
            continue  # hidden layers: see test_during_backward_hidden_gradients
        reference = central(loss, network, param)
        checked += 1
        if not close(step.value, reference):
            wrong.append((step.key, step.value, reference))
    assert wrong == []
    assert checked > 0


@pytest.mark.parametrize("index", range(COUNT))
def test_hidden_gradients_flow_through_the_layer_above(index: int) -> None:
    """For each hidden layer l: ∂E/∂θ_l = ∂(δ_{l+1} · net_{l+1})/∂θ_l with δ_{l+1} held fixed,
    net_{l+1} computed with layer l+1's new weights under during_backward, its original
    weights under after_backward."""
    network = NETWORKS[index]
    trace = trace_epoch(network)
    during = network.update_order == "during_backward"
    wrong = []
    for step, param in gradient_steps(EpochSteps(1, trace)):
        layer = param[1]
        if layer == network.depth - 1:
            continue
        surrogate_at = with_layer_above_updated(trace, layer) if during else network
        delta_above = trace.deltas[layer + 1]

        def signal(n: Network, layer: int = layer, delta: np.ndarray = delta_above) -> float:
            return float(delta @ forward(n).nets[layer + 1])

        reference = central(signal, surrogate_at, param)
        if not close(step.value, reference):
            wrong.append((step.key, step.value, reference))
    assert wrong == []


def test_during_backward_hidden_gradients_are_not_the_partly_updated_networks_gradient() -> None:
    """What the option means: the output δ of the original forward pass flows back through
    w5+..w8+. The gradient of the loss of the network that already has w5+..w8+ would use
    that network's own (different) output δ, and differs by a few percent on the tutorial."""
    network = dataclasses.replace(mazur(), update_order="during_backward")
    trace = trace_epoch(network)
    partly_updated = with_layer_above_updated(trace, 0)
    steps = EpochSteps(1, trace)
    for step, param in gradient_steps(steps):
        if param[1] == 0:
            reference = central(loss, partly_updated, param)
            assert abs(step.value - reference) > 0.01 * abs(reference), step.key
