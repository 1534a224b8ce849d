"""Activations and losses are records that every path reads: a record registered here, in
one place each, works everywhere — the numpy trace, the fast path, hand rounding, the step
formulas and their words, the gradient check, the slips, network files and edits — and the
paths agree. A path with its own table of functions would fail here (it does not know
the test's names). The two activations added as records, softplus and leaky_relu, are
checked against a few independent lines each."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np
import pytest
from backprop_tui.engine import fastpath
from backprop_tui.engine.fastpath import run_epochs
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.formula import ONE, Add, Call, Div, Lit, Mul, Neg, Power, Ref, Sub, evaluate
from backprop_tui.functions import ACTIVATIONS, LOSSES, Activation, Loss
from backprop_tui.netfile import parse_given
from backprop_tui.network import Network
from backprop_tui.scalar import round_sig
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.slips import slips
from networks import random_networks

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# A test-only activation, out = atan(net), whose slope 1/(1 + net²) reads the weighted sum.
ARCTAN = Activation(
    name="arctan_test",
    symbol="arctan",
    value=math.atan,
    slope=lambda _out, net: 1.0 / (1.0 + net * net),
    array_value=np.arctan,
    array_slope=lambda _out, net: 1.0 / (1.0 + net * net),
    formula=Call("arctan", r"\arctan", (Ref(0),), math.atan),
    slope_formula=Div(ONE, Add((ONE, Power(Ref(0))))),
    reads="net",
    words="arctan bends the weighted sum into the range −π/2 to π/2",
    slope_words="arctan's derivative is 1/(1 + net²), so it needs the weighted sum",
)
# A test-only loss: E_k = ¼(t − out)⁴, so ∂E/∂out_k = −(t − out)³.
QUARTER = Lit("¼", r"\tfrac{1}{4}", 0.25)
QUARTIC = Loss(
    name="quartic_test",
    error=lambda targets, outs, _nets: sum(0.25 * (t - out) ** 4
                                           for t, out in zip(targets, outs, strict=True)),
    derivative=lambda t, out, _n: -((t - out) ** 3),
    array_error=lambda t, out, _net: 0.25 * (t - out) ** 4,
    array_derivative=lambda t, out: -((t - out) ** 3),
    error_formula=lambda t, out, _n, _net, _nets: Mul((QUARTER, Power(Sub(t, out), 4))),
    derivative_formula=lambda t, out, _n: Neg(Power(Sub(t, out), 3)),
    words="The error at {u}: a quarter of the gap to the fourth power.",
    rule="differentiating ¼(t − out)⁴ gives −(t − out)³",
    total="E_total = Σ ¼(t_o − out_o)⁴",
    total_tex=r"E_{\mathrm{total}} = \sum_{o} \tfrac{1}{4}\left(t_{o} - \mathrm{out}_{o}\right)^4",
    guide="E = sum of 1/4 (t - out)^4",
)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test's records, registered where every path looks them up, and only there."""
    monkeypatch.setitem(ACTIVATIONS, ARCTAN.name, ARCTAN)
    monkeypatch.setitem(LOSSES, QUARTIC.name, QUARTIC)
    yield


def with_test_records(network: Network, seed: int) -> Network:
    """The network with the test activation in some layers (at least one) and the test loss."""
    rng = np.random.default_rng(seed)
    chosen = [ARCTAN.name if rng.random() < 0.5 else name for name in network.activations]
    chosen[int(rng.integers(len(chosen)))] = ARCTAN.name
    return dataclasses.replace(network, activations=tuple(chosen), loss=QUARTIC.name,
                               learning_rate=0.05)


NETWORKS = [with_test_records(network, seed)
            for seed, network in enumerate(random_networks(31337, 16))]


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_every_path_reads_the_registered_records_and_they_agree(
        monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    network = NETWORKS[index]
    steps = EpochSteps(1, trace_epoch(network))
    assert steps.diverged is None and len(steps) > 0

    # The step formulas (from the records) give the numpy trace's values (the records'
    # array functions), and the words come from the records.
    for step in steps:
        if step.value is not None:
            assert evaluate(step.expr, step.operands) == pytest.approx(
                step.value, rel=1e-12, abs=1e-300), step.key
    formulas = {(step.kind, step.formula) for step in steps}
    assert any(kind == "out" and "arctan(" in text for kind, text in formulas)
    assert any(kind == "slope" and text.startswith("1/(1 + net_") for kind, text in formulas)
    assert {text for kind, text in formulas if kind == "error"} == {
        f"¼(t_{u} − out_{u})⁴".translate(SUBSCRIPTS) for u in network.names.units[-1]}
    explanations = " ".join(step.explanation for step in steps)
    assert "arctan bends" in explanations and "¼(t − out)⁴" in explanations

    # An independent forward pass: atan of each weighted sum, the quartic error.
    acts = network.inputs[0]
    for weights, bias, name in zip(network.weights, network.biases, network.activations,
                                   strict=True):
        net = weights @ acts + bias
        acts = np.arctan(net) if name == ARCTAN.name else ACTIVATIONS[name].array_value(net)
    expected = float(np.sum(0.25 * (network.targets[0] - acts) ** 4))
    assert steps.trace.loss == pytest.approx(expected, rel=1e-12)

    # The fast path, on Python floats and on numpy, runs the same epochs as the trace.
    chain = [network]
    for _ in range(5):
        chain.append(trace_epoch(chain[-1]).after)
    for loop in (10**9, 0):
        monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", loop)
        run = run_epochs(network, 5)
        for got, want in zip(run.network.weights, chain[-1].weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)

    # Hand rounding works each step from its formula on rounded operands, and at 15 digits
    # it is the exact computation, rounded.
    rounded = EpochSteps(1, trace_epoch(dataclasses.replace(network, rounding=15)))
    for hand, exact in zip(rounded, steps, strict=True):
        if hand.value is not None:
            assert hand.value == round_sig(evaluate(hand.expr, hand.operands), 15), hand.key
            assert hand.value == pytest.approx(exact.value, rel=1e-9, abs=1e-12), hand.key

    # Every gradient agrees with its central finite difference (as far as the gradient is
    # the plain one: the check itself says when it is not).
    session = Session(network)
    checks = [session.gradient_check(step) for step in session.steps]
    verdicts = {check.verdict for check in checks if check is not None}
    assert verdicts and "differs" not in verdicts

    # The slips are worked from the records too, for every step.
    for index_ in range(1, len(steps) + 1):
        for slip in slips(steps, index_):
            assert math.isfinite(slip.value)


def test_network_files_and_edits_take_the_registered_names() -> None:
    text = ('loss = "quartic_test"\ninputs = [0.5]\ntargets = [0.2]\n\n[[layer]]\n'
            'weights = [[0.3]]\nactivation = "arctan_test"\n')
    given = parse_given(text, "net.toml")
    assert (given.loss, given.activations) == ("quartic_test", ("arctan_test",))
    session = Session(given.network())
    assert session.edit("activation1", "sigmoid") and session.edit("activation1", "arctan_test")
    assert session.edit("loss", "half_sse") and session.edit("loss", "quartic_test")


# The activations added as records, against independent lines ---------------------------

GRID = [-800.0, -40.0, -3.0, -0.5, -1e-9, 0.0, 1e-9, 0.5, 3.0, 40.0, 800.0]


@pytest.mark.parametrize("net", GRID)
def test_softplus_is_ln_of_one_plus_e_to_the_net(net: float) -> None:
    softplus = ACTIVATIONS["softplus"]
    # ln(1 + e^x) written out where it does not overflow; e^x (its limit) far below 0 and
    # x far above.
    expected = net if net > 30 else math.exp(net) if net < -30 else math.log(1 + math.exp(net))
    assert softplus.value(net) == pytest.approx(expected, rel=1e-15)
    with np.errstate(all="ignore"):  # as the trace runs them
        array = float(softplus.array_value(np.array([net]))[0])
        array_slope = float(softplus.array_slope(np.array([0.0]), np.array([net]))[0])
    assert array == pytest.approx(expected, rel=1e-14)
    assert evaluate(softplus.formula, [net]) == softplus.value(net)
    slope = 1 / (1 + math.exp(-net)) if net > -700 else 0.0
    assert softplus.slope(softplus.value(net), net) == pytest.approx(slope, rel=1e-15)
    assert evaluate(softplus.slope_formula, [net]) == pytest.approx(slope, rel=1e-15)
    assert array_slope == pytest.approx(slope, rel=1e-14)


@pytest.mark.parametrize("net", GRID)
def test_leaky_relu_scales_what_is_not_above_zero(net: float) -> None:
    leaky = ACTIVATIONS["leaky_relu"]
    expected, slope = (net, 1.0) if net > 0 else (0.01 * net, 0.01)
    array = np.array([net])
    assert leaky.value(net) == expected == evaluate(leaky.formula, [net])
    assert float(leaky.array_value(array)[0]) == expected
    assert leaky.slope(expected, net) == slope == evaluate(leaky.slope_formula, [net])
    assert float(leaky.array_slope(array, array)[0]) == slope


def test_the_new_activations_read_as_on_paper() -> None:
    softplus, leaky = ACTIVATIONS["softplus"], ACTIVATIONS["leaky_relu"]
    step = EpochSteps(1, trace_epoch(dataclasses.replace(
        parse_given('inputs = [1, -2]\ntargets = [0.5]\n[[layer]]\nweights = [[0.1, 0.4]]\n'
                    'activation = "softplus"\n[[layer]]\nweights = [[-0.3]]\n'
                    'activation = "leaky_relu"\n', "f").network())))
    formulas = {s.key: (s.formula, s.substituted(3)) for s in step}
    assert formulas["out_h1"][0] == "ln(1 + e^(net_h₁))"
    assert formulas["dout_h1/dnet_h1"][0] == "1/(1 + e^(−net_h₁))"
    assert formulas["out_o1"] == ("max(0.01·net_o₁, net_o₁)", "max(0.01(−0.121), −0.121)")
    assert formulas["dout_o1/dnet_o1"][0] == "(1 if net_o₁ > 0, else 0.01)"
    assert softplus.shape == "1/(1 + e^(−net))" and leaky.kinked and not softplus.kinked
