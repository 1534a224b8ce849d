"""Optimisers as records: each one's update lines, as formulas, give its step on floats and
on arrays, and both agree with a few lines written here from the issue's definitions
(PyTorch's); the tutorial's pinned numbers by stepping and by ``train``; the network file's
options and their refusals. (Training as a whole: test_optimizer_training.py.)"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib

import numpy as np
import pytest
from backprop_tui import cli
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.formula import evaluate
from backprop_tui.functions import OPTIMIZERS, Hyper, Optimizer
from backprop_tui.netfile import (
    NetworkFileError,
    dump_network,
    network_from_document,
    parse_given,
    parse_network,
)
from backprop_tui.network import OPTIMIZER_OPTIONS
from backprop_tui.presets import load_preset
from backprop_tui.steps.build import EpochSteps

AGREE = 1e-12  # relative, as the issue asks


def independent(name: str, gradients: list[float], h: Hyper, w: float) -> list[float]:
    """w after each update, written from the issue's formulas alone."""
    v = m = s = 0.0
    found = []
    for t, g in enumerate(gradients, start=1):
        if name == "sgd":
            w -= h.eta * g
        elif name in ("momentum", "nesterov"):
            v = h.mu * v + g
            w -= h.eta * (v if name == "momentum" else g + h.mu * v)
        else:
            m = h.beta1 * m + (1 - h.beta1) * g
            s = h.beta2 * s + (1 - h.beta2) * g * g
            w -= h.eta * (m / (1 - h.beta1**t)) / (math.sqrt(s / (1 - h.beta2**t)) + h.epsilon)
        found.append(w)
    return found


def by_lines(optimizer: Optimizer, gradients: list[float], h: Hyper, w: float) -> list[float]:
    """w after each update, each line's formula evaluated on the values it names."""
    state = dict.fromkeys(optimizer.slots, 0.0)
    found = []
    for t, g in enumerate(gradients, start=1):
        values = {"w": w, "g": g, "eta": h.eta, "mu": h.mu, "beta1": h.beta1,
                  "beta2": h.beta2, "epsilon": h.epsilon, "t": float(t), **state}
        for line in (*optimizer.per_update, *optimizer.lines):
            values[line.kind] = evaluate(line.formula, [values[use] for use in line.uses])
        w = values["new"]
        state = {slot: values[f"new_{slot}"] for slot in optimizer.slots}
        found.append(w)
    return found


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("seed", range(4))
def test_lines_step_and_arrays_agree_with_the_definitions(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    optimizer = OPTIMIZERS[name]
    h = Hyper(eta=float(rng.uniform(0.01, 0.5)), mu=float(rng.uniform(0.0, 0.99)),
              beta1=float(rng.uniform(0.5, 0.99)), beta2=float(rng.uniform(0.9, 0.9999)))
    gradients = [float(g) for g in rng.normal(size=50)]
    w0 = float(rng.normal())
    expected = independent(name, gradients, h, w0)
    assert by_lines(optimizer, gradients, h, w0) == pytest.approx(expected, rel=AGREE)
    w, state = w0, tuple(0.0 for _ in optimizer.slots)
    weights = np.array([w0, -w0])
    states = tuple(np.zeros(2) for _ in optimizer.slots)
    for t, (g, want) in enumerate(zip(gradients, expected, strict=True), start=1):
        w, state = optimizer.step(w, g, state, h, t)
        weights, states = optimizer.step(weights, np.array([g, -g]), states, h, t)
        assert w == pytest.approx(want, rel=AGREE)
        assert weights.tolist() == pytest.approx([want, -want], rel=AGREE)


PINNED = {  # (epoch 1's E_total after the update, w5 after epochs 1-3): issue 15, computed
    # independently twice, PyTorch among them; biases fixed
    "momentum": ("mazur-momentum", 0.29102777369359933,
                 [0.35891647971788465, 0.28037869374533453, 0.16736577834731522]),
    "nesterov": ("mazur-momentum", 0.28436255741436656,
                 [0.32194131146398075, 0.20896110742492624, 0.06363562413041951]),
    "adam": ("mazur-adam", 0.28777553335869843,
             [0.3500000060851643, 0.29998625918649235, 0.24995313912430814]),
}


def pinned_close(found: float, want: float) -> bool:
    return abs(found - want) <= 1e-12 * max(1.0, abs(want))


@pytest.mark.parametrize("name", list(PINNED))
def test_the_tutorials_pinned_numbers_by_stepping_and_by_train(
        name: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """|a − b| ≤ 1e-12·max(1, |b|): stepping (every epoch's trace), and ``train`` (the fast
    path) from a network file."""
    preset, loss_after, w5 = PINNED[name]
    network = dataclasses.replace(load_preset(preset), optimizer=name)
    assert network.learning_rate == (0.05 if name == "adam" else 0.5)
    trace = trace_epoch(network)
    assert pinned_close(trace.loss_after, loss_after)
    for epoch, want in enumerate(w5, start=1):
        assert pinned_close(float(trace.after.weights[1][0, 0]), want), epoch
        trace = trace_epoch(trace.after)
    path = tmp_path / "net.toml"
    path.write_text(dump_network(network), encoding="utf-8")
    for epochs, want in enumerate(w5, start=1):
        assert cli.main(["train", "--config", str(path), "--epochs", str(epochs)]) == 0
        trained = json.loads(capsys.readouterr().out)
        assert pinned_close(trained["weights"][1][0][0], want), epochs
        assert trained["updates"] == epochs


# Network files ------------------------------------------------------------------------

TUTORIAL = """learning_rate = 0.5
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
[[layer]]
weights = [[0.15, 0.20], [0.25, 0.30]]
bias = 0.35
activation = "sigmoid"
[[layer]]
weights = [[0.40, 0.45], [0.50, 0.55]]
bias = 0.60
activation = "sigmoid"
"""


@pytest.mark.parametrize(("options", "says"), [
    ('beta1 = 0.5', "key 'beta1': an option of optimizer = \"adam\"; this network's optimizer "
                    "is \"sgd\" (the default)"),
    ('optimizer = "momentum"\nbeta2 = 0.5', "key 'beta2': an option of optimizer = \"adam\"; "
                                            "this network's optimizer is \"momentum\""),
    ('optimizer = "adam"\nmomentum = 0.5', "key 'momentum': an option of optimizer = "
                                           "\"momentum\" or \"nesterov\""),
    ('optimizer = "nesterov"\nmomentum = 0', "key 'momentum': expected a number from 0 to 1"),
    ('optimizer = "momentum"\nmomentum = 1', "1 not included, got 1"),
    ('optimizer = "adam"\nbeta2 = -0.1', "key 'beta2': expected a number from 0 to 1"),
    ('optimizer = "adam"\nepsilon = 0', "key 'epsilon': expected a number above 0, got 0"),
    ('optimizer = "Adam"', "key 'optimizer': expected one of 'sgd', 'momentum', 'nesterov', "
                           "'adam', got 'Adam'"),
    ('optimizer = "adam"\nupdate_order = "during_backward"',
     "\"during_backward\" goes with optimizer = \"sgd\" only"),
])
def test_optimiser_options_are_refused_in_one_line(options: str, says: str) -> None:
    with pytest.raises(NetworkFileError) as found:
        parse_given(options + "\n" + TUTORIAL, "net.toml")
    assert says in str(found.value) and "\n" not in str(found.value)


@pytest.mark.parametrize("options", ['optimizer = "adam"\nbeta1 = 0.8\nepsilon = 1e-6',
                                     'optimizer = "nesterov"\nmomentum = 0.5', ""])
def test_an_optimiser_and_its_own_options_are_written_back(options: str) -> None:
    network = parse_network(options + "\n" + TUTORIAL, "net.toml")
    document = network.to_document()
    written = {key for key in document if key in OPTIMIZER_OPTIONS}
    assert written == set(OPTIMIZERS[network.optimizer].options) | (
        {"optimizer"} if network.optimizer != "sgd" else set())
    again = network_from_document(document, "again")
    assert again.to_document() == document and again.hyper == network.hyper


def test_a_squared_gradient_reads_as_the_square_of_the_quotient() -> None:
    """s⁺ = β₂·s + (1 − β₂)·(∂E/∂w)²: the square is of the gradient, not of w."""
    steps = EpochSteps(1, trace_epoch(load_preset("mazur-adam")))
    step = steps[steps.keys["s_w5+"] - 1]
    assert step.formula == "β₂·s_w₅ + (1 − β₂)·(∂E/∂w₅)²"
    assert r"\left(\frac{\partial E}{\partial w_{5}}\right)^2" in step.formula_tex
