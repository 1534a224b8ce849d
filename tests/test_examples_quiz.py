"""The quiz's slips of several training examples, each answer computed here from the
session's own values in a few lines: the gradients summed where the mean was asked (and the
reverse), one example's gradient for the batch's, the parameters updated between a batch's
examples (the batch taken online), and an error taken after the updates."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from backprop_tui.network import Network
from backprop_tui.presets import load_preset
from backprop_tui.session.quiz import answered
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.slips import SLIP, slips

TOLERANCE = 1e-9


def steps_of(name: str, epoch: int = 1) -> EpochSteps:
    network = load_preset(name) if not name.startswith("k3") else dataclasses.replace(
        load_preset("xor"), batch=3, batch_loss=name[3:])
    session = Session(network)
    while session.epoch < epoch:
        session.next_epoch()
    return session.steps


def value(steps: EpochSteps, key: str) -> float:
    found = steps.value_at(steps.keys[key])
    assert found is not None
    return found


def named(steps: EpochSteps, key: str, answer: float, slip: str, words: str) -> None:
    """The quiz takes ``answer`` to step ``key`` for the slip ``slip``, saying ``words``."""
    record, verdict = answered(steps, steps.epoch, steps.keys[key], repr(float(answer)), TOLERANCE)
    assert (verdict.verdict, record.slip) == (SLIP, slip)
    assert verdict.slip is not None and words in verdict.message
    assert verdict.slip.value == pytest.approx(answer, rel=1e-12, abs=1e-15)


def outputs(network: Network, p: dict[str, float], x: np.ndarray) -> tuple[float, float, float]:
    """The 2-2-1 xor net's forward pass, written out: out_h1, out_h2, out_o1."""
    def sigma(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    h1 = sigma(p["w1"] * x[0] + p["w2"] * x[1] + p["b1.1"])
    h2 = sigma(p["w3"] * x[0] + p["w4"] * x[1] + p["b1.2"])
    return h1, h2, sigma(p["w5"] * h1 + p["w6"] * h2 + p["b2"])


def error(network: Network, p: dict[str, float], k: int) -> float:
    return 0.5 * (network.targets[k - 1][0] - outputs(network, p, network.inputs[k - 1])[2]) ** 2


def online(network: Network, p: dict[str, float], examples: range) -> dict[str, float]:
    """The parameters after taking ``examples`` (from 1) one at a time, an update each."""
    p = dict(p)
    eta = network.learning_rate
    for k in examples:
        x, t = network.inputs[k - 1], network.targets[k - 1][0]
        h1, h2, o = outputs(network, p, x)
        d_o = (o - t) * o * (1 - o)
        d_h1, d_h2 = d_o * p["w5"] * h1 * (1 - h1), d_o * p["w6"] * h2 * (1 - h2)
        grads = {"w5": d_o * h1, "w6": d_o * h2, "b2": d_o, "w1": d_h1 * x[0],
                 "w2": d_h1 * x[1], "b1.1": d_h1, "w3": d_h2 * x[0], "w4": d_h2 * x[1],
                 "b1.2": d_h2}
        p = {name: v - eta * grads[name] for name, v in p.items()}
    return p


def given(steps: EpochSteps) -> dict[str, float]:
    return {name: v for name, v in steps.network.given.by_name.items() if name[0] in "wb"}


def test_the_gradients_summed_where_the_mean_was_asked() -> None:
    steps = steps_of("xor")
    total = sum(value(steps, f"dE/dw5[{k}]") for k in range(1, 5))
    named(steps, "dE/dw5[1..4]", total, "sum-not-mean", "you added the 4 examples' gradients")


def test_the_mean_where_the_sum_was_asked() -> None:
    steps = steps_of("k3-sum")
    mean = sum(value(steps, f"dE/db2[{k}]") for k in range(1, 4)) / 3
    named(steps, "dE/db2[1..3]", mean, "mean-not-sum", "you took the mean of the 3 examples'")


@pytest.mark.parametrize(("which", "k"), [("last", 4), ("first", 1)])
def test_one_examples_gradient_for_the_batch(which: str, k: int) -> None:
    steps = steps_of("xor")
    named(steps, "dE/dw6[1..4]", value(steps, f"dE/dw6[{k}]"), f"{which}-example",
          f"the gradient of example {k} alone")


def test_the_parameters_updated_between_examples_of_a_batch() -> None:
    steps = steps_of("xor", epoch=2)  # epoch 2: the batch starts from epoch 1's values
    network = steps.network
    start = given(steps)  # the network epoch 2 starts from
    p = online(network, start, range(1, 3))  # examples 1 and 2 taken online
    net = p["w1"] * network.inputs[2][0] + p["w2"] * network.inputs[2][1] + p["b1.1"]
    named(steps, "net_h1[3]", net, "updated-between-examples",
          "you used the parameters updated after example 2")
    named(steps, "w5+[1..4]", online(network, start, range(1, 5))["w5"],
          "updated-between-examples", "after taking examples 1 to 4 one at a time")


def test_a_minibatchs_third_example_with_the_first_two_taken_online() -> None:
    steps = steps_of("k3-mean")
    network = steps.network
    p = online(network, given(steps), range(1, 3))
    named(steps, "out_h1[3]", outputs(network, p, network.inputs[2])[0],
          "updated-between-examples", "updated after example 2")


def test_a_batchs_error_taken_after_its_update() -> None:
    steps = steps_of("k3-mean")
    network = steps.network
    after = {name: value(steps, f"{name}+[1..3]") for name in given(steps)}
    mean = sum(error(network, after, k) for k in range(1, 4)) / 3
    named(steps, "E[1..3]", mean, "error-after-update", "after the batch's update")


def test_the_data_sets_error_before_the_updates_where_e_plus_was_asked() -> None:
    steps = steps_of("xor-online")
    network = steps.network
    start = given(steps)
    e = sum(error(network, start, k) for k in range(1, 5)) / 4
    named(steps, "E+", e, "before-updates", "that is E, the data set's error at the epoch's start")
    met = sum(value(steps, f"E_total[{k}]") for k in range(1, 5)) / 4
    named(steps, "E+", met, "errors-met", "met during the epoch")


@pytest.mark.parametrize("name", ["xor", "xor-online", "k3-mean", "k3-sum"])
def test_every_step_has_slips_apart_from_its_value(name: str) -> None:
    steps = steps_of(name)
    counted = 0
    for index, step in enumerate(steps, start=1):
        if step.value is None:
            continue
        found = slips(steps, index)
        counted += len(found)
        for slip in found:
            assert abs(slip.value - step.value) > 1e-12 * max(1.0, abs(step.value))
            assert slip.text and "None" not in slip.text
    assert counted > 2 * len(steps)
