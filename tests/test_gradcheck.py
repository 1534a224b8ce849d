"""The gradient check: central finite differences of E against every ∂E/∂w and ∂E/∂b step,
through the session (cached, lazy) and the `check` command (exit 1 on a wrong gradient)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterable

import numpy as np
import pytest
from backprop_tui import cli, keys
from backprop_tui.engine import gradcheck
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.netfile import dump_network
from backprop_tui.network import Network, frozen
from backprop_tui.presets import PRESETS, load_preset
from backprop_tui.session import session as session_module
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from networks import random_examples_network, random_networks
from test_tutorial_numbers import FIRST_ROUND, within_printed
from test_tutorial_numbers import step_key as tutorial_key


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def rows(out: str) -> dict[str, list[str]]:
    """The check table's rows by parameter name: [step, name, analytic, numeric, rel, mark]."""
    found = {}
    for line in out.splitlines()[1:]:
        if not line.strip():
            break
        cells = line.split()
        found[cells[1]] = cells
    return found


def gradient_steps(session: Session) -> list:
    return [s for s in session.steps if s.kind in ("grad_w", "grad_b")]


# The engine and the session ------------------------------------------------------------


def test_finite_differences_give_the_tutorials_gradients() -> None:
    session = Session(load_preset("mazur"))
    checks = {s.key: session.gradient_check(s) for s in gradient_steps(session)}
    assert len(checks) == 10  # w1…w8, b1, b2
    for name, printed in FIRST_ROUND.items():
        key = tutorial_key(name)
        if key in checks:  # ∂E/∂w5 = 0.082167041, ∂E/∂w1 = 0.000438568
            assert within_printed(checks[key].numeric, printed), (key, checks[key].numeric)
    for check in checks.values():
        assert check.verdict == gradcheck.AGREES, check
        assert check.relative < 1e-6 and check.caveat == ""
    # A shared bias: the estimate is the sum of its units' δ.
    steps = session.steps
    deltas = steps.trace.deltas[1]
    assert checks["dE/db2"].numeric == pytest.approx(float(deltas.sum()), rel=1e-8)
    assert checks["dE/dw5"].h == pytest.approx(6e-6)


def test_estimate_is_the_central_difference_of_the_loss() -> None:
    network = load_preset("mazur")
    param = network.names.parameters()["w5"]
    numeric, h = gradcheck.central_difference(network, param)
    plus = gradcheck.loss(gradcheck.perturbed(network, param, 0.4 + h))
    minus = gradcheck.loss(gradcheck.perturbed(network, param, 0.4 - h))
    assert numeric == pytest.approx((plus - minus) / (2 * h), rel=1e-9)
    assert numeric == pytest.approx(0.0821670406, rel=1e-9)


def test_every_plain_gradient_agrees_on_random_networks() -> None:
    """No false failure: on 300 random networks (every activation, loss, bias layout), every
    gradient that is the plain ∂E/∂θ agrees within the check's tolerance."""
    wrong, checked = _disagreements(random_networks(20260317, 300))
    assert wrong == []
    assert checked > 2000


def _disagreements(networks: Iterable[Network]) -> tuple[list[gradcheck.Check], int]:
    """Every gradient step of each network's first epoch that is the plain ∂E/∂θ (no
    caveat) checked: those that do not agree, and how many were checked."""
    wrong, checked = [], 0
    for network in networks:
        steps = EpochSteps(1, trace_epoch(network))
        for key in steps.order:
            if key.kind in ("grad_w", "grad_b"):
                found = gradcheck.check(network, key, steps.number(key))
                if found.caveat:
                    continue
                checked += 1
                if found.verdict != gradcheck.AGREES:
                    wrong.append(found)
    return wrong, checked


def test_a_wrong_gradient_differs() -> None:
    network = load_preset("mazur")
    right = EpochSteps(1, trace_epoch(network)).trace.grad_w[0][0, 0]
    assert gradcheck.check(network, "w1", right).verdict == gradcheck.AGREES
    off = gradcheck.check(network, "w1", right * (1 + 1e-5))
    assert off.verdict == gradcheck.DIFFERS
    assert off.relative == pytest.approx(1e-5, rel=0.05)


def test_a_gradient_below_the_estimates_rounding_is_not_a_check_mark() -> None:
    """With E ≈ 5e13 the estimate rounds away differences below about 3ε·E/h ≈ 5e3: a
    gradient of 1e-5 (an input of 1e-12) cannot be checked, and is not shown ✓ (nor is 100
    in its place, which the old allowance of 1e-10·E passed); a large one is checked only as
    far as the rounding lets it."""
    network = Network(inputs=frozen([[1e-12, 1.0]]), targets=frozen([[1e7]]),
                      weights=(frozen([[0.5, 0.5]]),), biases=(frozen([0.0]),),
                      activations=("linear",), loss="half_sse")
    steps = EpochSteps(1, trace_epoch(network))
    tiny = steps.number(keys.parameter("w1").gradient)
    assert tiny == pytest.approx(-1e-5, rel=1e-6)
    for analytic in (tiny, 100.0):  # the estimate is 0, within its rounding of both
        found = gradcheck.check(network, "w1", analytic)
        assert found.verdict == gradcheck.EXPECTED and "not checked" in found.caveat
    large = steps.number(keys.parameter("w2").gradient)  # ≈ -1e7, the estimate off by ~1e3
    assert gradcheck.check(network, "w2", large).verdict == gradcheck.EXPECTED
    assert gradcheck.check(network, "w2", large * 1.01).verdict == gradcheck.DIFFERS


def test_session_checks_lazily_once() -> None:
    session = Session(load_preset("mazur"))
    session.goto("dE/dw5")
    step = session.step
    assert step is not None
    first = session.gradient_check(step)
    assert first is session.gradient_check(step)  # cached
    assert len(session._checks[session.steps]) == 1  # only what was asked for
    assert session.gradient_check(session.steps[0]) is None  # net_h1: not a gradient


def test_during_backward_hidden_gradients_are_expected_to_differ() -> None:
    network = dataclasses.replace(load_preset("mazur"), update_order="during_backward")
    session = Session(network)
    checks = {s.key: session.gradient_check(s) for s in gradient_steps(session)}
    for key in ("dE/dw5", "dE/dw8", "dE/db2"):  # the output layer: plain gradients
        assert checks[key].verdict == gradcheck.AGREES
    w1 = checks["dE/dw1"]
    assert w1.verdict == gradcheck.EXPECTED
    assert "during_backward" in w1.caveat and "w5…w8" in w1.caveat
    assert w1.analytic == pytest.approx(0.000364722878, rel=1e-8)  # through w5+…w8+
    assert w1.numeric == pytest.approx(0.000438567734, rel=1e-6)  # the plain gradient
    assert w1.relative == pytest.approx(0.168, abs=0.001)


def test_hand_rounding_is_expected_to_differ() -> None:
    network = dataclasses.replace(load_preset("mazur"), rounding=4)
    session = Session(network)
    checks = {s.key: session.gradient_check(s) for s in gradient_steps(session)}
    w5 = checks["dE/dw5"]
    assert w5.analytic == 0.08217
    assert w5.numeric == pytest.approx(0.0821670406, rel=1e-8)  # the exact E's
    assert w5.verdict == gradcheck.EXPECTED and "hand rounding to 4" in w5.caveat
    assert all(c.verdict != gradcheck.DIFFERS for c in checks.values())


def test_a_relu_kink_is_said_not_failed() -> None:
    """A ReLU unit whose weighted sum is exactly 0: the step takes its slope as 0, the
    central difference averages the slopes 0 and 1."""
    network = Network(
        inputs=frozen([1.0, 1.0]), targets=frozen([0.5]),
        weights=(frozen([[1.0, -1.0]]), frozen([[2.0]])), biases=(frozen([0.0]), frozen([0.1])),
        activations=("relu", "linear"))
    steps = EpochSteps(1, trace_epoch(network))
    w1 = next(s for s in steps if s.key == "dE/dw1")
    found = gradcheck.check(network, "w1", w1.value)
    assert w1.value == 0  # slopes 0 and 1 averaged: (0 − 0.8)/2
    assert found.numeric == pytest.approx(-0.4, rel=1e-4)
    assert found.verdict == gradcheck.EXPECTED and "ReLU" in found.caveat


# The check command ---------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(PRESETS))
def test_check_passes_every_preset(capsys, preset: str) -> None:  # type: ignore[no-untyped-def]
    status, out, err = run(capsys, "check", "--preset", preset)
    assert (status, err) == (0, "")
    table = rows(out)
    network = load_preset(preset)
    parameters = sum(w.size + b.size for w, b in zip(network.weights, network.biases,
                                                      strict=True))
    # Each example's gradients, and each batch of more than one example's combined ones.
    combined = sum(len(batch) > 1 for batch in network.batches())
    assert len(table) == parameters * (network.examples + combined)
    if network.examples > 1:  # xor: w5[1] … w5[4], and w5[1..4] under full batch
        n = network.examples  # (iris-mini: six, and per-unit biases b1.1 … b1.5)
        assert {"w5[1]", f"{network.names.biases[0][-1]}[{n}]"} <= set(table)
        assert (f"w5[1..{n}]" in table) == (network.batch == "full")
    assert all(row[-1] in ("✓", "expected") for row in table.values())
    assert "0 differ (✗)" in out
    if network.update_order == "during_backward":  # deep-relu: hidden layers marked ≈
        assert any(row[-1] == "expected" for row in table.values())
        assert "not counted" in out


def test_check_table_holds_the_numbers(capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = run(capsys, "check")
    assert status == 0
    table = rows(out)
    assert table["w5"][0] == "16"
    assert float(table["w5"][2]) == pytest.approx(0.0821670405642, rel=1e-11)
    assert within_printed(float(table["w1"][3]), "0.000438568")
    assert float(table["w1"][4]) < 1e-6
    assert all(row[-1] == "✓" for row in table.values())
    assert "mazur: 10 gradients" in out and "10 agree" in out


@pytest.mark.parametrize(("kind", "layer", "index", "change"), [
    ("weight", 0, (0, 1), lambda g: g * (1 + 1e-5)),  # w2, relatively off by 1e-5
    ("weight", 1, (1, 0), lambda g: -g),  # w7 with the wrong sign
    ("bias", 1, (0,), lambda g: g + 1e-6),  # b2, off by 1e-6 absolute
])
def test_check_catches_an_injected_wrong_gradient(capsys, monkeypatch, kind, layer, index,
                                                  change) -> None:  # type: ignore[no-untyped-def]
    """A trace with one gradient made wrong: the check names it and exits 1."""

    def wrong_trace(network: Network):  # type: ignore[no-untyped-def]
        trace = trace_epoch(network)
        grads = list(trace.grad_w if kind == "weight" else trace.grad_b)
        bad = grads[layer].copy()
        bad[index] = change(bad[index])
        grads[layer] = bad
        field = "grad_w" if kind == "weight" else "grad_b"
        return dataclasses.replace(trace, **{field: grads})

    monkeypatch.setattr(session_module, "trace_epoch", wrong_trace)
    status, out, err = run(capsys, "check")
    assert (status, err) == (1, "")
    table = rows(out)
    name = {("weight", 0): "w2", ("weight", 1): "w7", ("bias", 1): "b2"}[(kind, layer)]
    assert table[name][-2:] == ["✗", "differs"]
    assert sum(row[-1] == "differs" for row in table.values()) == 1
    assert "1 differ (✗)" in out


def test_check_sets_hand_rounding_aside(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    network = dataclasses.replace(load_preset("mazur"), rounding=4)
    path = tmp_path / "rounded.toml"
    path.write_text(dump_network(network), "utf-8")
    status, out, _ = run(capsys, "check", "--config", str(path))
    assert status == 0
    assert float(rows(out)["w5"][2]) == pytest.approx(0.0821670405642, rel=1e-11)
    assert "Hand rounding (4 digits) set aside" in out


def test_check_during_backward_counts_only_plain_gradients(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    network = dataclasses.replace(load_preset("mazur"), update_order="during_backward")
    path = tmp_path / "during.toml"
    path.write_text(dump_network(network), "utf-8")
    status, out, _ = run(capsys, "check", "--config", str(path))
    assert status == 0
    table = rows(out)
    assert [table[w][-1] for w in ("w1", "w2", "w3", "w4", "b1")] == ["expected"] * 5
    assert [table[w][-1] for w in ("w5", "w6", "w7", "w8", "b2")] == ["✓"] * 5
    assert "5 agree (✓), 0 differ (✗)" in out and "5 differ as expected" in out
    assert "during_backward" in out


@pytest.mark.parametrize("argv", [
    ["check", "--preset", "nope"],
    ["check", "--config", "/nonexistent/net.toml"],
    ["--rounding", "4", "check"],
    ["check", "--preset", "mazur", "--config", "x.toml"],
])
def test_check_bad_input_is_one_line_and_status_2(capsys, argv) -> None:  # type: ignore[no-untyped-def]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("backprop-tui: ") and err.count("\n") == 1


def test_check_does_not_import_textual() -> None:
    code = ("import sys; from backprop_tui.cli import main; status = main(['check']); "
            "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(cli.__file__).rsplit("/backprop_tui", 1)[0]},
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "10 agree" in result.stdout



# Several examples ----------------------------------------------------------------------


def sigmoid_error(network: Network, k: int, param: tuple[str, int, int, int],
                  theta: float) -> float:
    """Example ``k``'s (0-based) ½Σ(t − o)² with one parameter set to ``theta``: a forward
    pass of a sigmoid network written here."""
    kind, layer, row, column = param
    weights = [w.copy() for w in network.weights]
    biases = [b.copy() for b in network.biases]
    if kind == "weight":
        weights[layer][row, column] = theta
    else:
        biases[layer][row] = theta
    out = network.inputs[k]
    for w, b in zip(weights, biases, strict=True):
        out = 1.0 / (1.0 + np.exp(-(w @ out + b)))
    return 0.5 * float(np.sum((network.targets[k] - out) ** 2))


def estimate(network: Network, name: str, examples: list[int], mean: bool = True) -> float:
    """The central difference of the examples' errors (their mean or sum) at ``network``,
    with the check's step."""
    param = network.names.parameters()[name]
    theta = gradcheck.parameter(network, param)
    h = 6e-6 * max(1.0, abs(theta))

    def error(at: float) -> float:
        total = sum(sigmoid_error(network, k, param, at) for k in examples)
        return total / len(examples) if mean else total

    return (error(theta + h) - error(theta - h)) / ((theta + h) - (theta - h))


def test_an_examples_gradient_is_checked_against_its_own_error_at_its_batch_start() -> None:
    """xor-online: dE/dw5[2] is example 2's gradient at the parameters after the first
    update (example 1's); the check differentiates example 2's error there."""
    network = load_preset("xor-online")
    session = Session(network)
    session.goto("dE/dw5[2]")
    step = session.step
    assert step is not None and step.key == "dE/dw5[2]"
    found = session.gradient_check(step)
    assert found is not None and found.name == "w5[2]" and found.verdict == gradcheck.AGREES
    after_first = trace_epoch(network).updates[0].after
    assert found.numeric == pytest.approx(estimate(after_first, "w5", [1]), rel=1e-8)
    # At the epoch's start it would be another number: the batch's start matters.
    assert abs(found.numeric - estimate(network, "w5", [1])) > 1e-3 * abs(found.numeric)


@pytest.mark.parametrize("batch_loss", ["mean", "sum"])
def test_a_batch_gradient_is_checked_against_the_batch_error(batch_loss: str) -> None:
    """xor in batches of 2: dE/dw5[3..4] against the FD of examples 3 and 4's errors,
    combined, at the parameters after the first batch's update."""
    network = dataclasses.replace(load_preset("xor"), batch=2, batch_loss=batch_loss)
    steps = EpochSteps(1, trace_epoch(network))
    key = keys.parse("dE/dw5[3..4]")
    analytic = steps.number(key)
    found = gradcheck.check(network, key, analytic)
    assert found.name == "w5[3..4]" and found.verdict == gradcheck.AGREES, found
    start = trace_epoch(network).updates[0].after
    expected = estimate(start, "w5", [2, 3], mean=batch_loss == "mean")
    assert found.numeric == pytest.approx(expected, rel=1e-8)
    first = gradcheck.check(network, keys.parse("dE/dw5[1..2]"),
                            steps.number(keys.parse("dE/dw5[1..2]")))
    assert first.numeric == pytest.approx(
        estimate(network, "w5", [0, 1], mean=batch_loss == "mean"), rel=1e-8)


def test_the_slips_of_batches_differ() -> None:
    """The sum where the mean is asked, one example's gradient for the whole batch, the
    epoch's start for a later batch: each is a wrong gradient (✗)."""
    network = load_preset("xor")
    steps = EpochSteps(1, trace_epoch(network))
    batch = keys.parse("dE/dw5[1..4]")
    right = steps.number(batch)
    assert gradcheck.check(network, batch, right).verdict == gradcheck.AGREES
    assert gradcheck.check(network, batch, 4 * right).verdict == gradcheck.DIFFERS
    for k in (1, 4):
        one = steps.number(keys.parse(f"dE/dw5[{k}]"))
        assert gradcheck.check(network, batch, one).verdict == gradcheck.DIFFERS
    online = load_preset("xor-online")
    at_start = EpochSteps(1, trace_epoch(online.example(1))).number(keys.parse("dE/dw5"))
    found = gradcheck.check(online, keys.parse("dE/dw5[2]"), at_start)
    assert found.verdict == gradcheck.DIFFERS


def test_every_plain_gradient_agrees_on_random_networks_with_examples() -> None:
    """No false failure with 2-5 examples in every mode: 60 random networks."""
    rng = np.random.default_rng(777)
    wrong, checked = _disagreements(
        random_examples_network(rng, 2 + i % 4, ("online", "full", 2, 3)[i % 4],
                                ("mean", "sum")[i % 2]) for i in range(60))
    assert wrong == []
    assert checked > 2000


def test_a_relu_kink_of_a_later_example_is_said() -> None:
    """Example 2's ReLU unit sits at 0 (example 1's does not): the check says why."""
    network = Network(
        inputs=frozen([[2.0, 1.0], [1.0, 1.0]]), targets=frozen([[0.5], [0.5]]),
        weights=(frozen([[1.0, -1.0]]), frozen([[2.0]])), biases=(frozen([0.0]), frozen([0.1])),
        activations=("relu", "linear"), batch="full")
    steps = EpochSteps(1, trace_epoch(network))
    key = keys.parse("dE/dw1[1..2]")
    found = gradcheck.check(network, key, steps.number(key))
    assert found.verdict == gradcheck.EXPECTED and "ReLU" in found.caveat


def test_hand_rounding_with_examples_is_expected_to_differ(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    network = dataclasses.replace(load_preset("xor"), rounding=3)
    session = Session(network)
    checks = [session.gradient_check(s) for s in gradient_steps(session)]
    assert len(checks) == 45 and all(c is not None and c.verdict != gradcheck.DIFFERS
                                     for c in checks)
    assert any(c is not None and "hand rounding to 3" in c.caveat for c in checks)
    path = tmp_path / "rounded.toml"
    path.write_text(dump_network(network), "utf-8")
    status, out, _ = run(capsys, "check", "--config", str(path))
    assert status == 0 and "45 agree (✓), 0 differ" in out
