"""run_epochs: the pure-Python loop, the numpy trace and chained trace_epoch calls give the
same numbers; checkpoints, cancelling, divergence and a saturated sigmoid."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from backprop_tui.engine import fastpath
from backprop_tui.engine.fastpath import Run, run_epochs
from backprop_tui.engine.trace import forward, trace_epoch, trace_is_finite
from backprop_tui.functions import SIGMOID
from backprop_tui.network import Network, frozen
from backprop_tui.steps.build import EpochSteps
from networks import mazur, random_networks

NETWORKS = random_networks(1234, 50, optimizers=True)
LOOPS = ("python", "numpy")


def use_loop(monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", 10**9 if loop == "python" else 0)


def run_with(monkeypatch: pytest.MonkeyPatch, loop: str, network: Network, count: int,
             **options: object) -> Run:
    use_loop(monkeypatch, loop)
    return run_epochs(network, count, **options)


def chained(network: Network, count: int) -> tuple[list[Network], list[float], bool]:
    """Epoch starts (chain[i] after i epochs), losses, and whether an epoch went non-finite."""
    chain, losses = [network], []
    for _ in range(count):
        trace = trace_epoch(chain[-1])
        if not trace_is_finite(trace):
            return chain, losses, True
        losses.append(trace.loss)
        chain.append(trace.after)
    return chain, losses, False


def assert_close(got: object, expected: object) -> None:
    """The same numbers but for rounding noise: within 1e-12 relative, or 1e-11 of the
    largest magnitude among them (twenty epochs of a chaotic network amplify a last-bit
    difference in the order of a sum, and a value near 0 after cancellation keeps it in
    absolute terms)."""
    scale = max(1.0, float(np.abs(np.asarray(expected)).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-11 * scale)


def assert_same_network(got: Network, expected: Network) -> None:
    assert len(got.weights) == len(expected.weights)
    for a, b in [*zip(got.weights, expected.weights, strict=True),
                 *zip(got.biases, expected.biases, strict=True)]:
        assert_close(a, b)
    assert got.options() == expected.options()
    assert got.activations == expected.activations


def make(weights: list, inputs: list, targets: list, activations: list[str], **options) -> Network:
    return Network(
        inputs=frozen(inputs),
        targets=frozen(targets),
        weights=tuple(frozen(w) for w in weights),
        biases=tuple(frozen([0.0]) for _ in weights),
        activations=tuple(activations),
        **options,
    )


# Agreement -----------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_python_loop_numpy_and_trace_agree(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    network = NETWORKS[index]
    chain, losses, diverged = chained(network, 20)  # a few of the sweep diverge: compare that too
    for loop in LOOPS:
        run = run_with(monkeypatch, loop, network, 20)
        assert (run.epochs, run.diverged, run.cancelled) == (len(losses), diverged, False), loop
        assert_same_network(run.network, chain[-1])
        assert_close(run.losses, losses)


def test_most_of_the_sweep_runs_twenty_epochs() -> None:
    finished = sum(not chained(network, 20)[2] for network in NETWORKS)
    assert finished >= 40


@pytest.mark.parametrize("loop", LOOPS)
def test_checkpoints_are_epoch_starts(monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    network = mazur()
    chain, _, _ = chained(network, 40)
    run = run_with(monkeypatch, loop, network, 25, checkpoint_every=10)
    assert run.epochs == 25
    assert_same_network(run.network, chain[25])
    # keyed by epoch number (the first is epoch 1): epoch k starts after k - 1 epochs
    assert sorted(run.checkpoints) == [10, 20]
    for k, start in run.checkpoints.items():
        assert_same_network(start, chain[k - 1])
    later = run_with(monkeypatch, loop, chain[10], 25, epoch=11, checkpoint_every=10)
    assert sorted(later.checkpoints) == [20, 30]
    for k, start in later.checkpoints.items():
        assert_same_network(start, chain[k - 1])


@pytest.mark.parametrize("loop", LOOPS)
def test_progress_returning_false_cancels(monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    seen: list[int] = []

    def progress(run: Run) -> bool:
        seen.append(run.epochs)
        return run.epochs < 30

    run = run_with(monkeypatch, loop, mazur(), 100, chunk=10, progress=progress)
    assert run.cancelled
    assert run.epochs == 30 < 100
    assert seen == [10, 20, 30]
    chain, _, _ = chained(mazur(), 30)
    assert_same_network(run.network, chain[30])


@pytest.mark.parametrize("loop", LOOPS)
def test_progress_returning_true_runs_to_the_end(monkeypatch: pytest.MonkeyPatch,
                                                  loop: str) -> None:
    seen: list[int] = []
    run = run_with(monkeypatch, loop, mazur(), 35, chunk=10,
                   progress=lambda r: seen.append(r.epochs) or True)
    assert not run.cancelled and run.epochs == 35
    assert seen == [10, 20, 30]  # not called after the last chunk


# Divergence ----------------------------------------------------------------------------


def diverging() -> Network:
    rng = np.random.default_rng(7)
    return make(
        [rng.normal(0.0, 0.1, (2, 2)), rng.normal(0.0, 0.1, (1, 2))], [1.0, 2.0], [1.0],
        ["linear", "linear"], learning_rate=10.0, loss="mse",
    )


def test_linear_network_with_a_large_rate_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    network = diverging()
    chain, losses, diverged = chained(network, 6)
    assert diverged
    epochs = len(losses)  # epochs run before the one that shows a non-finite value
    assert epochs < 6
    runs = {loop: run_with(monkeypatch, loop, network, 6) for loop in LOOPS}
    for loop, run in runs.items():
        assert run.diverged and not run.cancelled, loop
        assert run.epochs == epochs, loop
        assert_same_network(run.network, chain[epochs])
        np.testing.assert_allclose(run.losses, losses, rtol=1e-12)

    healthy = EpochSteps(1, trace_epoch(network))
    assert healthy.diverged is None
    last_good = EpochSteps(epochs, trace_epoch(chain[epochs - 1]))
    assert last_good.diverged is None
    assert all(s.value is None or math.isfinite(s.value) for s in last_good)

    steps = EpochSteps(epochs + 1, trace_epoch(runs["python"].network))
    assert steps.diverged is not None
    index, key, value = steps.diverged
    assert not math.isfinite(value)
    assert len(steps) == index - 1
    assert healthy.keys[key] == index  # the same step of an epoch with the same shape
    assert all(s.value is None or math.isfinite(s.value) for s in steps)
    assert [s.key for s in steps] == list(healthy.keys)[: index - 1]


@pytest.mark.parametrize("loop", LOOPS)
def test_overflow_in_the_error_after_the_updates_ends_the_epoch(
    monkeypatch: pytest.MonkeyPatch, loop: str
) -> None:
    """Finite new weights whose forward pass overflows: the epoch's last step, E_total+, is
    already non-finite, so no epoch is run."""
    network = make([[[1.0]]], [1e154], [0.0], ["linear"])
    steps = EpochSteps(1, trace_epoch(network))
    assert steps.diverged is not None and steps.diverged[1] == "E_total+"
    run = run_with(monkeypatch, loop, network, 3)
    assert run.diverged and run.epochs == 0
    assert_same_network(run.network, network)


@pytest.mark.parametrize("loop", LOOPS)
def test_huge_finite_values_are_not_divergence(monkeypatch: pytest.MonkeyPatch,
                                               loop: str) -> None:
    """Two weights near the float maximum: their sum overflows, but every value is finite."""
    network = make([[[1e308, 1e308]]], [1e-300, 1e-300], [0.0], ["linear"])
    assert EpochSteps(1, trace_epoch(network)).diverged is None
    run = run_with(monkeypatch, loop, network, 3)
    assert not run.diverged and run.epochs == 3
    chain, losses, _ = chained(network, 3)
    assert_same_network(run.network, chain[3])
    np.testing.assert_allclose(run.losses, losses, rtol=1e-12)


# A saturated sigmoid ---------------------------------------------------------------------


def saturated() -> Network:
    """Output nets of ±1e4 (and hidden ones of ±1e4 below them)."""
    return make(
        [[[1e4], [-1e4]], [[1e4, -1e4], [-1e4, 1e4]]], [1.0], [0.0, 1.0], ["sigmoid", "sigmoid"],
    )


def test_sigmoid_saturates_without_warnings() -> None:
    network = saturated()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fwd = forward(network)
        steps = EpochSteps(1, trace_epoch(network))
    np.testing.assert_array_equal(fwd.nets[0], [1e4, -1e4])
    np.testing.assert_array_equal(fwd.nets[1], [1e4, -1e4])
    assert fwd.acts[1].tolist() == [1.0, 0.0]
    assert fwd.acts[2].tolist() == [1.0, 0.0]
    assert all(np.isfinite(s).all() for s in fwd.slopes)
    assert fwd.slopes[1].tolist() == [0.0, 0.0]
    assert fwd.loss == 1.0  # ½·1² + ½·1²
    assert steps.diverged is None


@pytest.mark.parametrize("loop", LOOPS)
def test_saturated_sigmoid_trains_without_warnings(monkeypatch: pytest.MonkeyPatch,
                                                    loop: str) -> None:
    network = saturated()
    use_loop(monkeypatch, loop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = run_epochs(network, 3)
    assert not run.diverged and run.epochs == 3
    assert run.losses == [1.0, 1.0, 1.0]
    assert_same_network(run.network, network)  # every slope is exactly 0: nothing moves


def test_python_sigmoid_is_exact_at_the_extremes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for z, out in ((1e4, 1.0), (-1e4, 0.0), (750.0, 1.0), (-750.0, 0.0)):
            value = SIGMOID.value(z)
            assert (value, SIGMOID.slope(value, z)) == (out, 0.0)


@pytest.mark.parametrize("index", range(len(NETWORKS)))
def test_one_epoch_agrees_to_the_last_bits(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    """One epoch on Python floats, on numpy and traced: the same numbers to 1e-12 relative
    (over many epochs a chaotic network amplifies the last-bit differences: see above)."""
    network = NETWORKS[index]
    trace = trace_epoch(network)
    if not trace_is_finite(trace):
        return
    for loop in LOOPS:
        run = run_with(monkeypatch, loop, network, 1)
        for got, expected in [*zip(run.network.weights, trace.after.weights, strict=True),
                              *zip(run.network.biases, trace.after.biases, strict=True)]:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(run.losses, [trace.loss], rtol=1e-12, atol=1e-15)
