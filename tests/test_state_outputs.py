"""The optimiser's state in what the engine writes out: the epoch and update records of the
JSON logs and `train`'s result carry it after the epoch or the update (the issue's layout,
null under sgd). Each state is checked against the issue's formulas, worked here in a few
lines of numpy from the records' own gradients, not by the engine's code."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import numpy as np
import pytest
from backprop_tui.cli import main
from backprop_tui.engine import fastpath
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.netfile import parse_network
from backprop_tui.network import Network
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.steps.build import EpochSteps

OPTIONS = {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.6},
           "adam": {"beta1": 0.85, "beta2": 0.99, "epsilon": 1e-6}}


def network_text(optimizer: str, examples: int = 1) -> str:
    """3 inputs, 2 tanh units with a bias each, 1 linear output with its bias, mse, biases
    updated; with several examples, minibatches of 2 (the last of one)."""
    rows = [[0.5, -1.0, 2.0], [1.0, 0.25, -0.5], [-0.75, 0.5, 1.0]][:examples]
    targets = [[0.25], [-0.5], [0.75]][:examples]
    several = examples > 1
    options = "".join(f"{key} = {value!r}\n" for key, value in OPTIONS[optimizer].items())
    return f"""\
learning_rate = 0.1
loss = "mse"
update_biases = true
optimizer = "{optimizer}"
{options}{'batch = 2' + chr(10) if several else ''}\
inputs = {rows if several else rows[0]}
targets = {targets if several else targets[0]}

[[layer]]
weights = [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
bias = [0.1, -0.2]
activation = "tanh"

[[layer]]
weights = [[0.7, -0.8]]
bias = 0.05
activation = "linear"
"""


def flat(value: Any) -> list[float]:
    """Every number of nested lists (a record's weights, biases or state), in order."""
    if isinstance(value, list):
        return [x for item in value for x in flat(item)]
    return [float(value)]


def parameters(record: dict[str, Any]) -> np.ndarray:
    return np.array(flat(record["weights"]) + flat(record["biases"]))


def expected(name: str, options: dict[str, float], eta: float, w: np.ndarray, g: np.ndarray,
             state: dict[str, np.ndarray], t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One update by the issue's formulas (PyTorch's)."""
    if name == "adam":
        b1, b2, eps = options["beta1"], options["beta2"], options["epsilon"]
        m = b1 * state["m"] + (1 - b1) * g
        s = b2 * state["s"] + (1 - b2) * g * g
        mhat, shat = m / (1 - b1**t), s / (1 - b2**t)
        return w - eta * mhat / (np.sqrt(shat) + eps), {"m": m, "s": s}
    mu = options["momentum"]
    v = mu * state["v"] + g
    return w - eta * (v if name == "momentum" else g + mu * v), {"v": v}


def agree(found: np.ndarray, wanted: np.ndarray) -> bool:
    return bool(np.all(np.abs(found - wanted) <= 1e-12 * np.maximum(1.0, np.abs(wanted))))


def check_update(record: dict[str, Any], name: str, before: np.ndarray,
                 state: dict[str, np.ndarray], t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A record's parameters and state after an update from ``before`` and ``state`` with
    the record's gradients: as the formulas give them. Returns them, for the next update."""
    options = OPTIONS[name]
    after, new = expected(name, options, 0.1, before, parameters(record["gradients"]),
                          state, t)
    assert agree(parameters(record), after)
    written = record["state"]
    assert set(written) == {*new, *(["t"] if name == "adam" else [])}
    for slot, values in new.items():
        assert set(written[slot]) == {"weights", "biases"}
        assert agree(np.array(flat(written[slot]["weights"]) + flat(written[slot]["biases"])),
                     values)
        # shaped like the record's weights and biases: per layer, a list of rows; a shared
        # bias one number, per-unit biases a list
        assert [np.shape(layer) for layer in written[slot]["weights"]] == [(2, 3), (1, 2)]
        assert [np.shape(layer) for layer in written[slot]["biases"]] == [(2,), ()]
    if name == "adam":
        assert written["t"] == t
    return parameters(record), {slot: parameters(written[slot]) for slot in new}


def at_rest(name: str, parameters: np.ndarray) -> dict[str, np.ndarray]:
    return {slot: np.zeros_like(parameters) for slot in (("m", "s") if name == "adam" else "v")}


def epoch_steps(network: Network, epochs: int) -> list[EpochSteps]:
    """Each epoch's steps, stepped: every epoch from the trace of the one before."""
    found = []
    for epoch in range(1, epochs + 1):
        found.append(EpochSteps(epoch, trace_epoch(network)))
        network = found[-1].trace.after
    return found


@pytest.mark.parametrize("name", list(OPTIONS))
def test_epoch_records_carry_the_state_after_the_epoch(name: str) -> None:
    network = parse_network(network_text(name), "net.toml")
    before = parameters({"weights": [w.tolist() for w in network.weights],
                         "biases": network.bias_values(network.biases)})
    state = at_rest(name, before)
    for t, steps in enumerate(epoch_steps(network, 5), start=1):
        record = steps.record()
        before, state = check_update(record, name, before, state, t)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_update_records_carry_the_state_after_each_update(name: str) -> None:
    """Three examples in minibatches of 2 and 1: t counts every update since epoch 1, and
    the epoch record's state is its last update's."""
    network = parse_network(network_text(name, examples=3), "net.toml")
    assert [list(b) for b in network.batches()] == [[0, 1], [2]]
    before = parameters({"weights": [w.tolist() for w in network.weights],
                         "biases": network.bias_values(network.biases)})
    state = at_rest(name, before)
    t = 0
    for steps in epoch_steps(network, 3):
        updates = steps.update_records()
        assert [u["examples"] for u in updates] == [[1, 2], [3]]
        for update in updates:
            t += 1
            before, state = check_update(update, name, before, state, t)
        record = steps.record()
        assert record["state"] == updates[-1]["state"]
        assert (record["weights"], record["biases"]) == (updates[-1]["weights"],
                                                         updates[-1]["biases"])


def test_biases_that_stay_fixed_have_a_null_state() -> None:
    """The tutorial under Adam keeps its biases: each layer's bias state is null, and the
    weights' state is the first update's m = (1 − β₁)·g, s = (1 − β₂)·g²."""
    (steps,) = epoch_steps(load_preset("mazur-adam"), 1)
    record = steps.record()
    state = record["state"]
    assert state["m"]["biases"] == state["s"]["biases"] == [None, None] and state["t"] == 1
    g = np.array(flat(record["gradients"]["weights"]))
    assert agree(np.array(flat(state["m"]["weights"])), 0.1 * g)
    assert agree(np.array(flat(state["s"]["weights"])), 0.001 * g * g)


@pytest.mark.parametrize("preset", ["mazur", "xor", "xor-online"])
def test_records_under_sgd_have_a_null_state(preset: str) -> None:
    for steps in epoch_steps(load_preset(preset), 2):
        assert steps.record()["state"] is None
        assert all(update["state"] is None for update in steps.update_records())


# train --------------------------------------------------------------------------------------


def trained(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    status = main(["train", *argv])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert isinstance(result, dict)
    return result


def close(a: Any, b: Any) -> bool:
    """Nested lists (nulls included) equal in shape, their numbers to 1e-12 relative."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(close(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(close(a[k], b[k]) for k in a))
    if a is None or b is None or isinstance(a, int) and isinstance(b, int):
        return a == b
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


@pytest.mark.parametrize(("name", "examples"), [(name, n) for name in OPTIONS for n in (1, 3)])
def test_train_writes_the_final_state_as_stepping_reaches_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Any, name: str, examples: int) -> None:
    path = tmp_path / "net.toml"
    path.write_text(network_text(name, examples), encoding="utf-8")
    result = trained(capsys, "--epochs", "7", "--config", str(path))
    final = epoch_steps(parse_network(path.read_text("utf-8"), "net.toml"), 7)[-1].trace.after
    assert final.updates == 7 * len(final.batches()) == result["updates"]
    assert close(result["weights"], [w.tolist() for w in final.weights])
    assert close(result["biases"], final.bias_values(final.biases))
    assert close(result["state"], final.state_document())


@pytest.mark.parametrize("preset", ["mazur-momentum", "mazur-adam"])
def test_train_of_the_optimiser_presets_matches_stepping(capsys: pytest.CaptureFixture[str],
                                                          preset: str) -> None:
    result = trained(capsys, "--epochs", "12", "--preset", preset)
    final = epoch_steps(load_preset(preset), 12)[-1].trace.after
    assert close(result["state"], final.state_document())
    assert close(result["weights"], [w.tolist() for w in final.weights])
    assert result["state"]["m" if preset == "mazur-adam" else "v"]["biases"] == [None, None]


def test_train_under_sgd_has_a_null_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert trained(capsys, "--epochs", "3")["state"] is None
    assert trained(capsys, "--epochs", "3", "--preset", "xor")["state"] is None


@pytest.mark.parametrize("preset", ["mazur", "xor-online"])
def test_an_optimiser_step_that_overflows_is_a_divergence_in_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Any, preset: str) -> None:
    """Adam at η = 1e308 moves every weight by about 1e308: the next step overflows, and
    train says where it diverged in one line, with no warning of numpy's."""
    path = tmp_path / "net.toml"
    path.write_text(re.sub(r"^learning_rate = .*$", 'learning_rate = 1e308\noptimizer = "adam"',
                           preset_text(preset), count=1, flags=re.MULTILINE), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(["train", "--epochs", "5", "--config", str(path)])
    out, err = capsys.readouterr()
    assert [str(warning.message) for warning in caught] == []
    assert (status, out) == (3, "") and err.count("\n") == 1 and "diverged at epoch" in err


# A gradient whose square overflows: s⁺ = inf while m̂/(√ŝ + ε) = 0 keeps every weight finite.
SQUARE_OVERFLOWS = """learning_rate = 0.1
optimizer = "adam"
{examples}
[[layer]]
weights = [[1e40]]
bias = 0.0
activation = "linear"
"""


@pytest.mark.parametrize("loop", ["python", "numpy"])
@pytest.mark.parametrize("examples", [
    "inputs = [1e60]\ntargets = [0.0]",
    'batch = "full"\ninputs = [[1e60], [2e60]]\ntargets = [[0.0], [0.0]]'])
def test_a_state_that_overflows_stops_train_where_stepping_does(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
        examples: str, loop: str) -> None:
    """Every fast path (Python floats, numpy's batches, the trace) counts the state among
    the values a step shows, as stepping does: train stops at the same step, never
    writing inf."""
    weights = 10**9 if loop == "python" else 0
    monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", weights)
    monkeypatch.setattr(fastpath, "PYTHON_BATCH_MAX_WEIGHTS", weights)
    network = parse_network(SQUARE_OVERFLOWS.format(examples=examples), "net.toml")
    steps = EpochSteps(1, trace_epoch(network))
    assert steps.diverged is not None
    path = tmp_path / "net.toml"
    path.write_text(SQUARE_OVERFLOWS.format(examples=examples), encoding="utf-8")
    assert main(["train", "--epochs", "3", "--config", str(path)]) == 3
    out, err = capsys.readouterr()
    assert out == "" and "diverged at epoch 1, step" in err and "s_w1+" in err
