"""Several training examples: the engine's batch gradients, epochs and numbers held against
what the issue's contract says, computed here independently.

- every ∂E/∂w and ∂E/∂b of a batch is the central finite difference of the batch's error,
  built here from forward passes written here (numpy, a few lines), at the parameters the
  batch starts from, for online, full, k = 2 and k = 3 and both ``batch_loss`` values;
- ``train`` (both fast paths, run_epochs' choice, the CLI) agrees with stepping every step;
- the issue's pinned numbers; the XOR presets' epoch of learning; hand rounding; a shared
  bias's batch gradient.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from backprop_tui import cli, keys
from backprop_tui.engine import fastpath
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.formula import evaluate
from backprop_tui.netfile import dump_network, parse_network
from backprop_tui.network import Network, frozen
from backprop_tui.presets import load_preset
from backprop_tui.scalar import round_sig
from backprop_tui.steps.build import EpochSteps
from networks import (
    ANY_OUTPUT,
    DIVERGING,
    PER_UNIT,
    Params,
    agree,
    central_difference,
    mazur,
    random_examples_network,
)

# An independent forward pass: each activation and loss as the textbooks write it.
ACTIVATION: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
}
LOSS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "half_sse": lambda t, o: 0.5 * float(np.sum((t - o) ** 2)),
    "mse": lambda t, o: float(np.mean((t - o) ** 2)),
}

MODES: list[str | int] = ["online", "full", 2, 3]
TRAIN_RELATIVE = 1e-12


def test_the_independent_functions_cover_the_registries() -> None:
    assert set(ACTIVATION) == set(PER_UNIT) and set(LOSS) == set(ANY_OUTPUT)


def example_error(params: Params, network: Network, k: int) -> float:
    """Example ``k``'s (0-based) own error at ``params``: a forward pass written here."""
    out = network.inputs[k]
    for (w, b), activation in zip(params, network.activations, strict=True):
        out = ACTIVATION[activation](w @ out + b)
    return LOSS[network.loss](network.targets[k], out)


def batch_error(params: Params, network: Network, examples: range) -> float:
    """A batch's error: its examples' errors, their mean (by the batch's own size) or sum."""
    errors = [example_error(params, network, k) for k in examples]
    return sum(errors) / len(errors) if network.batch_loss == "mean" else sum(errors)


def batches(network: Network) -> list[range]:
    """The batches (0-based examples) as the issue defines them, in file order."""
    n, batch = network.examples, network.batch
    size = 1 if batch == "online" else n if batch == "full" else int(batch)
    return [range(first, min(first + size, n)) for first in range(0, n, size)]


def tag(network: Network, batch: range) -> str:
    """A batch's tag in the steps' names: '' (one example), '[3]', '[1..4]'."""
    if network.examples == 1:
        return ""
    first, last = batch.start + 1, batch.stop
    return f"[{first}..{last}]" if last > first else f"[{first}]"


def value(steps: EpochSteps, name: str) -> float:
    """The value of the step named ``name``, which must be a step of the epoch."""
    assert name in steps.keys, name
    found = steps.value_at(steps.keys[name])
    assert found is not None
    return found


def starting_params(steps: EpochSteps, batch_list: list[range], number: int) -> Params:
    """The parameters batch ``number`` starts from: as given for the first, else the new
    values of the batch before, each checked to be its w − η·g."""
    network = steps.network
    params = [(w.copy(), b.copy()) for w, b in zip(network.weights, network.biases,
                                                   strict=True)]
    for before in batch_list[:number]:
        for name, (kind, layer, row, column) in network.names.parameters().items():
            if kind == "bias" and not network.update_biases or kind not in ("weight", "bias"):
                continue
            array = params[layer][0 if kind == "weight" else 1]
            index = (row, column) if kind == "weight" else (row,)
            gradient = value(steps, f"dE/d{name}{tag(network, before)}")
            new = value(steps, f"{name}+{tag(network, before)}")
            assert new == float(array[index]) - network.learning_rate * gradient, name
            array[index] = new
    return params


def fd_failures(network: Network) -> tuple[list[str], int]:
    """Every batch gradient (and every example's own, within a batch of several) of the
    first epoch against the central difference of its error: (failures, gradients checked)."""
    steps = EpochSteps(1, trace_epoch(network))
    assert steps.diverged is None
    batch_list = batches(network)
    failures, checked = [], 0
    for number, batch in enumerate(batch_list):
        start = starting_params(steps, batch_list, number)
        parts = [(batch, tag(network, batch))]
        if len(batch) > 1:  # each example's own gradient, of its own error
            parts += [(range(k, k + 1), f"[{k + 1}]") for k in batch]
        for examples, suffix in parts:
            def error(params: Params, examples: range = examples) -> float:
                return batch_error(params, network, examples)

            for name, (kind, layer, row, column) in network.names.parameters().items():
                if kind not in ("weight", "bias"):
                    continue
                where = (layer, 0, (row, column)) if kind == "weight" else (layer, 1, (row,))
                analytic = value(steps, f"dE/d{name}{suffix}")
                numeric = central_difference(start, where, error)
                checked += 1
                if not agree(analytic, numeric, error(start)):
                    failures.append(f"dE/d{name}{suffix}: {analytic!r} vs {numeric!r}")
    return failures, checked


# (a) Batch gradients are finite differences of the batch error ------------------------


@pytest.mark.parametrize("batch_loss", ["mean", "sum"])
@pytest.mark.parametrize("batch", MODES)
def test_batch_gradients_are_central_differences_of_the_batch_error(
        batch: str | int, batch_loss: str) -> None:
    """Random networks (every activation, loss and bias layout) with 1 to 6 examples: every
    ∂E/∂w and ∂E/∂b step of every batch is the central difference of the batch error at
    the parameters the batch starts from."""
    rng = np.random.default_rng([20260317, MODES.index(batch), len(batch_loss)])
    checked, failures = 0, []
    for examples in (1, 2, 3, 4, 5, 6, 4, 6):
        network = random_examples_network(rng, examples, batch, batch_loss, "after_backward")
        found, count = fd_failures(network)
        failures += [f"{examples} examples: {failure}" for failure in found]
        checked += count
    assert failures == []
    assert checked > 300


# (b) train agrees with stepping --------------------------------------------------------

EPOCHS = 4


@dataclass(frozen=True)
class Epoch:
    """What stepping through one epoch shows: E, E⁺ and the parameters after it."""

    loss: float
    loss_after: float
    params: list[float]  # every weight, then every bias, as after the epoch's last update


def params_of(network: Network) -> list[float]:
    return [*(x for w in network.weights for x in w.ravel().tolist()),
            *(x for b in network.biases for x in b.tolist())]


def stepped(network: Network, epochs: int) -> list[Epoch]:
    """Each epoch's E, E⁺ and new parameters, read off its steps."""
    found = []
    names = network.names
    for epoch in range(1, epochs + 1):
        trace = trace_epoch(network)
        steps = EpochSteps(epoch, trace)
        assert steps.diverged is None
        last = tag(network, batches(network)[-1])
        new = [value(steps, f"{w}+{last}") for layer in names.weights for row in layer
               for w in row]
        for layer, biases in zip(names.biases, network.biases, strict=True):
            new += ([value(steps, f"{b}+{last}") for b in layer] if network.update_biases
                    else biases.tolist())
        dataset = steps.value_of(keys.DATASET)
        assert dataset is not None
        found.append(Epoch(dataset, value(steps, "E+"), new))
        assert params_of(trace.after) == new
        network = trace.after
    return found


def two_examples(batch: str | int = "full", batch_loss: str = "mean",
                 examples: int = 2) -> Network:
    """The tutorial's network with the issue's second example (inputs [0.10, 0.05], targets
    [0.99, 0.01]), and for three a third (inputs [0.5, 0.2], targets [0.3, 0.7])."""
    inputs = [[0.05, 0.10], [0.10, 0.05], [0.5, 0.2]][:examples]
    targets = [[0.01, 0.99], [0.99, 0.01], [0.3, 0.7]][:examples]
    return dataclasses.replace(mazur(), inputs=frozen(inputs), targets=frozen(targets),
                               batch=batch, batch_loss=batch_loss)


def train_networks() -> list[Network]:
    """The XOR presets, the two-example tutorial in every mode, and random networks with 2
    to 6 examples in every mode whose first epochs stay finite."""
    found = [load_preset("xor"), load_preset("xor-online"),
             *(two_examples(batch, loss) for batch in ("online", "full", 2) for loss in
               ("mean", "sum")), two_examples(2, "mean", 3)]
    rng = np.random.default_rng(4242)
    for batch in MODES:
        for batch_loss in ("mean", "sum"):
            while True:
                network = random_examples_network(rng, int(rng.integers(2, 7)), batch,
                                                  batch_loss)
                if fastpath.run_epochs(network, EPOCHS + 1).epochs == EPOCHS + 1:
                    found.append(network)
                    break
    return found


TRAIN_NETWORKS = train_networks()


def close(found: float, expected: float) -> bool:
    return abs(found - expected) <= TRAIN_RELATIVE * abs(expected)


def assert_close(found: list[float], expected: list[float], what: str) -> None:
    assert len(found) == len(expected), what
    far = [(i, a, b) for i, (a, b) in enumerate(zip(found, expected, strict=True))
           if not close(a, b)]
    assert far == [], what


@pytest.mark.parametrize("path", ["_python_batches", "_numpy_batches"])
def test_each_fast_path_agrees_with_stepping_every_epoch(path: str) -> None:
    """One epoch at a time: E before it, the parameters after it, and E⁺ (the next
    epoch's E)."""
    for n, network in enumerate(TRAIN_NETWORKS):
        expected = stepped(network, EPOCHS)
        run = fastpath.Run(network)
        for epoch, step in enumerate(expected, start=1):
            getattr(fastpath, path)(run, 1)
            assert not run.diverged and len(run.losses) == epoch
            assert close(run.losses[-1], step.loss), (n, epoch)
            assert_close(params_of(run.network), step.params, f"network {n}, epoch {epoch}")
        getattr(fastpath, path)(run, 1)
        assert_close(run.losses[1:], [step.loss_after for step in expected], f"network {n}")


def test_run_epochs_and_train_agree_with_stepping(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    for n, network in enumerate(TRAIN_NETWORKS):
        expected = stepped(network, EPOCHS)
        run = fastpath.run_epochs(network, EPOCHS, checkpoint_every=1)
        assert_close(run.losses, [step.loss for step in expected], f"network {n}")
        starts = [run.checkpoints[epoch] for epoch in range(2, EPOCHS + 1)] + [run.network]
        for epoch, (start, step) in enumerate(zip(starts, expected, strict=True), start=1):
            assert_close(params_of(start), step.params, f"network {n}, epoch {epoch}")
        path = tmp_path / f"net{n}.toml"
        path.write_text(dump_network(network), "utf-8")
        assert cli.main(["train", "--epochs", str(EPOCHS), "--config", str(path)]) == 0
        result = json.loads(capsys.readouterr().out)
        assert close(result["loss_initial"], expected[0].loss), n
        assert close(result["loss_final"], expected[-1].loss_after), n
        assert result["updates"] == EPOCHS * len(batches(network))
        biases = [b if isinstance(b, list) else [b] for b in result["biases"]]
        found = [x for w in result["weights"] for row in w for x in row]
        assert_close(found + [x for b in biases for x in b], expected[-1].params, f"CLI {n}")


# (c) The pinned numbers --------------------------------------------------------

# (batch, batch_loss): epoch 1's E and E⁺ (None: not pinned), w5 after epochs 1, 2 and 3.
PINNED = {
    ("full", "mean"): (0.308906233000222, 0.307315404950524,
                       [0.38606796664966553, 0.37219417951743766, 0.35838318419559695]),
    ("full", "sum"): (0.617812466000444, 0.6114593162773077,
                      [0.3721359332993311, 0.3445145129287074, 0.3171720513613141]),
    ("online", "mean"): (None, 0.30578652143956697,
                         [0.3729849855117601, 0.34623322406962426, 0.31977762518808295]),
}


def pinned(found: float, expected: float) -> bool:
    """The issue's comparison: |a − b| ≤ 1e-12·max(1, |b|)."""
    return abs(found - expected) <= 1e-12 * max(1.0, abs(expected))


@pytest.mark.parametrize(("batch", "batch_loss"), list(PINNED))
def test_the_pinned_numbers_by_stepping(batch: str, batch_loss: str) -> None:
    loss, loss_after, w5 = PINNED[batch, batch_loss]
    network = two_examples(batch, batch_loss)
    epochs = stepped(network, 3)
    w5_index = network.names.parameters()["w5"]
    position = sum(w.size for w in network.weights[:w5_index[1]]) + w5_index[2] * 2
    assert all(pinned(e.params[position], w) for e, w in zip(epochs, w5, strict=True))
    assert pinned(epochs[0].loss_after, loss_after)
    # E is every example's error at the epoch's start, combined: under online too (the
    # mean of the errors met during the pass would differ).
    assert pinned(epochs[0].loss, loss if loss is not None else PINNED["full", "mean"][0])
    steps = EpochSteps(3, trace_epoch(network))
    assert steps.record()["updates"] == 3 * len(batches(network))  # online: 6 after 3


@pytest.mark.parametrize(("batch", "batch_loss"), list(PINNED))
def test_the_pinned_numbers_by_train(tmp_path, capsys, batch: str, batch_loss: str) -> None:  # type: ignore[no-untyped-def]
    loss, loss_after, w5 = PINNED[batch, batch_loss]
    path = tmp_path / "two.toml"
    path.write_text(dump_network(two_examples(batch, batch_loss)), "utf-8")
    for epochs, expected in enumerate(w5, start=1):
        assert cli.main(["train", "--epochs", str(epochs), "--config", str(path)]) == 0
        result = json.loads(capsys.readouterr().out)
        assert pinned(result["weights"][1][0][0], expected)  # w5: o1's weight from h1
        assert result["updates"] == epochs * (2 if batch == "online" else 1)
        if epochs == 1:
            assert pinned(result["loss_final"], loss_after)
            assert pinned(result["loss_initial"], loss or PINNED["full", "mean"][0])


# (f) The XOR presets learn at the epochs the README gives ------------------------------


def all_right(network: Network) -> bool:
    """Whether every output is on the target's side of 0.5: a forward pass written here."""
    params = list(zip(network.weights, network.biases, strict=True))
    for x, t in zip(network.inputs, network.targets, strict=True):
        out = x
        for w, b in params:
            out = 1.0 / (1.0 + np.exp(-(w @ out + b)))
        if ((out > 0.5) != (t > 0.5)).any():
            return False
    return True


@pytest.mark.parametrize(("preset", "epoch"), [("xor", 3653), ("xor-online", 1837)])
def test_xor_presets_learn_at_the_pinned_epoch(preset: str, epoch: int) -> None:
    """The first epoch that starts with all four outputs on the right side of 0.5."""
    network = load_preset(preset)
    assert network.activations == ("sigmoid", "sigmoid")
    run = fastpath.run_epochs(network, epoch, checkpoint_every=1)
    assert run.epochs == epoch and not run.diverged
    starts = {1: network, **run.checkpoints}  # every epoch's start, to epoch + 1's
    assert sorted(starts) == list(range(1, epoch + 2))
    assert [e for e, start in starts.items() if all_right(start)] == [epoch, epoch + 1]


# (g) Hand rounding with several examples -----------------------------------------------


@pytest.mark.parametrize("network", [
    load_preset("xor"), load_preset("xor-online"), two_examples(2, "sum", 3),
    two_examples("full", "mean", 3)], ids=["xor", "xor-online", "k2-sum", "full-mean"])
def test_hand_rounding_each_step_is_its_formula_on_rounded_operands(network: Network) -> None:
    """rounding = 4: every step's value is its formula on its operands, rounded to 4
    digits, and each operand is the (rounded) value of the step or given value it names;
    epoch 2 starts from epoch 1's rounded new values."""
    network = dataclasses.replace(network, rounding=4)
    checked = 0
    for epoch in (1, 2):
        trace = trace_epoch(network)
        steps = EpochSteps(epoch, trace)
        for step in steps:
            if step.value is None:  # apply
                continue
            assert step.value == round_sig(evaluate(step.expr, step.operands), 4), step.key
            assert round_sig(step.value, 4) == step.value, step.key
            for use, operand in zip(step.typed_uses, step.operands, strict=True):
                if use.kind != "out_after":  # E⁺'s outputs: a forward pass inside its formula
                    assert steps.value_of(use) == operand, (step.key, keys.text(use))
            checked += 1
        after = trace.after
        assert all(round_sig(x, 4) == x for x in params_of(after)[:sum(
            w.size for w in after.weights)])
        network = after
    assert checked > 100


# (h) A shared bias's batch gradient ----------------------------------------------------


@pytest.mark.parametrize("batch_loss", ["mean", "sum"])
def test_a_shared_bias_batch_gradient_sums_its_units_deltas_per_example(
        batch_loss: str) -> None:
    """Three examples in batches of 2 ([1..2], then [3] alone): the shared b1's gradient
    of a batch is Σ over its examples of Σ over h1, h2 of δ, combined (a last batch of one
    divided by 1)."""
    network = two_examples(2, batch_loss, 3)
    steps = EpochSteps(1, trace_epoch(network))
    units = {"b1": ("h1", "h2"), "b2": ("o1", "o2")}
    for bias, fed in units.items():
        per_example = []
        for k in (1, 2, 3):
            deltas = sum(value(steps, f"delta_{u}[{k}]") for u in fed)
            assert value(steps, f"dE/d{bias}[{k}]") == pytest.approx(deltas, rel=1e-15)
            per_example.append(deltas)
        combined = per_example[0] + per_example[1]
        expected = combined / 2 if batch_loss == "mean" else combined
        assert value(steps, f"dE/d{bias}[1..2]") == pytest.approx(expected, rel=1e-15)
    failures, checked = fd_failures(network)  # and each is the batch error's derivative
    assert failures == [] and checked == 10 * 4


@pytest.mark.parametrize("limit", [10**9, 0], ids=["python", "numpy"])
@pytest.mark.parametrize("batch", ["online", "full"])
def test_both_fast_paths_stop_where_stepping_diverges(monkeypatch: pytest.MonkeyPatch,
                                                      limit: int, batch: str) -> None:
    """A linear network with a learning rate far too large, on two examples: run_epochs
    ends at the start of the first epoch whose steps stop being finite."""
    network = dataclasses.replace(parse_network(DIVERGING, "diverging.toml"),
                                  inputs=frozen([[1.0, 2.0], [2.0, -1.0]]),
                                  targets=frozen([[1.0], [0.5]]), batch=batch)
    epoch, start = 1, network
    while EpochSteps(epoch, trace_epoch(start)).diverged is None:
        start, epoch = trace_epoch(start).after, epoch + 1
    assert 2 < epoch < 50
    monkeypatch.setattr(fastpath, "PYTHON_BATCH_MAX_WEIGHTS", limit)
    run = fastpath.run_epochs(network, 100)
    assert run.diverged and run.epochs == epoch - 1
    assert params_of(run.network) == pytest.approx(params_of(start), rel=1e-9)
