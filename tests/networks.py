"""Random networks for the engine tests: every shape, activation, loss and option mixed."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable

import numpy as np
from backprop_tui.engine.trace import forward, trace_epoch
from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS, outputs_for
from backprop_tui.netfile import load_network
from backprop_tui.network import UPDATE_ORDERS, Network, batch_size, frozen

Params = list[tuple[np.ndarray, np.ndarray]]  # per layer: (weights, biases)
MAZUR_PATH = (
    pathlib.Path(__file__).parents[1] / "tui" / "backprop_tui" / "presets" / "mazur.toml"
)
RELU_MARGIN = 1e-4  # a ReLU net this close to 0 would make a finite difference straddle the kink
# What ``random_network`` draws from: the activations of any layer and the losses of any
# output (a softmax layer and cross-entropy have rules of their own: ``random_classifier``).
PER_UNIT = [name for name, a in ACTIVATIONS.items() if not a.coupled]
ANY_OUTPUT = [name for name in LOSSES if not outputs_for(name)]
CLASSIFIERS = [("softmax", "cross_entropy"), ("softmax", "half_sse"), ("softmax", "mse"),
               ("sigmoid", "cross_entropy")]


def mazur() -> Network:
    return load_network(MAZUR_PATH)


def random_network(rng: np.random.Generator, optimizers: bool = False) -> Network:
    """1-3 hidden layers of 1-5 units, 1-4 inputs, 1-3 outputs, weights ~ N(0, 1).

    Every activation (mixed per layer), every loss, shared or per-unit biases (per layer),
    update_biases on or off and both update orders; with ``optimizers``, every optimiser
    (its options drawn in range; during_backward only under sgd, as a network file has it),
    else sgd. No weighted sum of a unit whose slope
    jumps at 0 (a ReLU's) lies within RELU_MARGIN of 0: such a network is drawn again.
    """
    while True:
        sizes = [int(rng.integers(1, 5))]
        sizes += [int(rng.integers(1, 6)) for _ in range(int(rng.integers(1, 4)))]
        sizes.append(int(rng.integers(1, 4)))
        weights = [rng.normal(size=(m, n)) for n, m in zip(sizes, sizes[1:])]
        biases = [rng.normal(size=1 if rng.random() < 0.5 else m) for m in sizes[1:]]
        optimizer, hyper = "sgd", {}
        if optimizers:  # (drawn only then: every other test's networks stay as they were)
            optimizer = str(rng.choice(list(OPTIMIZERS)))
            hyper = {"momentum": float(rng.uniform(0.1, 0.99)),
                     "beta1": float(rng.uniform(0.5, 0.99)),
                     "beta2": float(rng.uniform(0.9, 0.9999)),
                     "epsilon": float(10.0 ** rng.uniform(-10, -4))}
        network = Network(
            inputs=frozen(rng.normal(size=sizes[0])),
            targets=frozen(rng.uniform(-1.0, 1.0, size=sizes[-1])),
            weights=tuple(frozen(w) for w in weights),
            biases=tuple(frozen(b) for b in biases),
            activations=tuple(str(a) for a in rng.choice(PER_UNIT, size=len(weights))),
            learning_rate=float(rng.uniform(0.05, 0.5)),
            loss=str(rng.choice(ANY_OUTPUT)),
            update_biases=bool(rng.random() < 0.5),
            update_order=str(rng.choice(UPDATE_ORDERS)) if optimizer == "sgd"
            else "after_backward",
            optimizer=optimizer, **hyper,
        )
        if relu_clear(network):
            return network


def relu_clear(network: Network) -> bool:
    """Whether every weighted sum of a unit whose slope jumps at 0 is at least RELU_MARGIN
    away from 0."""
    nets = forward(network).nets
    return all(
        np.abs(net).min() >= RELU_MARGIN
        for net, activation in zip(nets, network.activations, strict=True)
        if ACTIVATIONS[activation].kinked
    )


def random_classifier(rng: np.random.Generator, output: str, loss: str,
                      examples: int = 1, batch: str | int = "online",
                      batch_loss: str = "mean") -> Network:
    """A random network (as ``random_network``) whose output layer is ``output`` (2-4
    units) under ``loss``, with targets it takes: under softmax each example's add up to 1
    (drawn from a flat Dirichlet), else each in [0, 1]; inputs ~ N(0, 1)."""
    while True:
        base = random_network(rng)
        n = int(rng.integers(2, 5))
        hidden = rng.normal(size=(n, base.sizes[-2]))
        if output == "softmax":
            targets = rng.dirichlet(np.ones(n), size=examples)
            targets[:, -1] = 1.0 - targets[:, :-1].sum(axis=1)  # Σt = 1 to the last bit
        else:
            targets = rng.uniform(0.0, 1.0, size=(examples, n))
        network = dataclasses.replace(
            base, inputs=frozen(rng.normal(size=(examples, base.sizes[0]))),
            targets=frozen(targets),
            weights=(*base.weights[:-1], frozen(hidden)),
            biases=(*base.biases[:-1], frozen(rng.normal(size=1 if rng.random() < 0.5 else n))),
            activations=(*base.activations[:-1], output), loss=loss, batch=batch,
            batch_loss=batch_loss,
            update_order="after_backward" if batch_size(batch, examples) > 1
            else base.update_order)
        if (np.abs(network.targets.sum(axis=1) - 1.0).max() <= 1e-12 or output != "softmax") \
                and all(relu_clear(network.example(k)) for k in range(examples)):
            return network


def random_networks(seed: int, count: int, optimizers: bool = False) -> list[Network]:
    rng = np.random.default_rng(seed)
    return [random_network(rng, optimizers) for _ in range(count)]


def random_examples_network(rng: np.random.Generator, examples: int, batch: str | int,
                            batch_loss: str, update_order: str = "",
                            optimizers: bool = False) -> Network:
    """A random network (as ``random_network``) with ``examples`` training examples, inputs
    ~ N(0, 1), targets uniform in [-1, 1]. Either update order (or ``update_order``), but
    ``during_backward`` only with batches of one example (a network file refuses it
    otherwise). No kinked unit's weighted sum lies within RELU_MARGIN of 0 for any example
    at the parameters its batch starts from."""
    while True:
        base = random_network(rng, optimizers)
        order = update_order or base.update_order
        if batch_size(batch, examples) > 1:
            order = "after_backward"
        network = dataclasses.replace(
            base, inputs=frozen(rng.normal(size=(examples, base.sizes[0]))),
            targets=frozen(rng.uniform(-1.0, 1.0, size=(examples, base.sizes[-1]))),
            batch=batch, batch_loss=batch_loss, update_order=order)
        if examples == 1:
            if relu_clear(network):
                return network
            continue
        starts = [network, *(update.after for update in trace_epoch(network).updates[:-1])]
        if all(relu_clear(start.example(k)) for start, batch_range in
               zip(starts, network.batches(), strict=True) for k in batch_range):
            return network


# A linear 2-2-1 network with a learning rate far too large: it overflows in epoch 5.
DIVERGING = """\
learning_rate = 10
loss = "mse"
inputs = [1, 2]
targets = [1]

[[layer]]
weights = [[0.5, -0.3], [0.2, 0.8]]
activation = "linear"

[[layer]]
weights = [[0.7, -0.4]]
activation = "linear"
"""


# Gradients against finite differences of E.
FD_RELATIVE = 1e-6  # central difference with h = 1e-6·max(1, |θ|): truncation ~h², far below
FD_ABSOLUTE = 2e-9  # near zero: the difference cannot resolve much below ε·E/h ≈ 2e-10·E


def central_difference(params: Params, where: tuple[int, int, tuple[int, ...]],
                       error: Callable[[Params], float]) -> float:
    """(E(θ + h) − E(θ − h)) / 2h for the parameter at ``where`` = (layer, 0 for weights or
    1 for biases, index), h = 1e-6·max(1, |θ|)."""
    layer, which, index = where
    theta = float(params[layer][which][index])
    h = 1e-6 * max(1.0, abs(theta))
    estimates = []
    for shifted in (theta + h, theta - h):
        moved = [(w.copy(), b.copy()) for w, b in params]
        moved[layer][which][index] = shifted
        estimates.append(error(moved))
    return (estimates[0] - estimates[1]) / ((theta + h) - (theta - h))


def agree(analytic: float, numeric: float, scale: float) -> bool:
    """Whether a gradient and its central difference agree: relatively, or near zero
    absolutely, against ``scale`` (the error the difference was taken of)."""
    difference = abs(analytic - numeric)
    return (difference <= FD_RELATIVE * max(abs(analytic), abs(numeric))
            or difference <= FD_ABSOLUTE * max(1.0, scale))


def pm800_text(output: str = "softmax") -> str:
    """The net of ±800: one ``output`` layer (softmax or sigmoid), x = 1, w = (800, −800),
    b = 0, t = (0, 1), η = 1000, cross-entropy. out_o2 underflows to 0, so ∂E/∂out_o2 =
    −1/0 and the chain rule's δs are not representable; the shortcut δ = out − t is, and
    one update takes E from 1600 to 0 (or nearly)."""
    return f"""\
learning_rate = 1000
loss = "cross_entropy"
inputs = [1.0]
targets = [0, 1]
[[layer]]
weights = [[800], [-800]]
bias = 0
activation = "{output}"
"""


PM800 = pm800_text()
