"""Hand rounding (the network option ``rounding = N``): every step's value is its formula
applied to the rounded values it uses, then rounded to N significant digits, so the app
reproduces a computation done by hand that way; the fast path, the session, session files
and the command line all follow it."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal

import numpy as np
import pytest
from backprop_tui.app.app import BackpropApp
from backprop_tui.cli import NETWORK_FILE_GUIDE, main
from backprop_tui.engine import fastpath
from backprop_tui.engine.fastpath import run_epochs
from backprop_tui.engine.trace import EpochTrace, forward, trace_epoch, trace_is_finite
from backprop_tui.export.formats import FORMATS
from backprop_tui.formula import evaluate
from backprop_tui.netfile import Source, parse_given
from backprop_tui.network import Network
from backprop_tui.presets import PRESETS, load_preset, preset_text
from backprop_tui.scalar import round_sig
from backprop_tui.session.persist import SessionFileError, load_session
from backprop_tui.session.session import EditError, Session, State
from backprop_tui.steps.build import EpochSteps
from networks import DIVERGING, PER_UNIT, mazur, random_networks
from test_tutorial_numbers import FIRST_ROUND, step_key

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
RANDOM = random_networks(424242, 40)


def rounded(network: Network, digits: int) -> Network:
    return dataclasses.replace(network, rounding=digits)


def worked(network: Network, epochs: int) -> list[EpochSteps]:
    """The steps of up to ``epochs`` epochs, each starting from the one before's ``after``
    (fewer if one diverges)."""
    done = []
    for epoch in range(1, epochs + 1):
        trace = trace_epoch(network)
        done.append(EpochSteps(epoch, trace))
        if done[-1].diverged:
            break
        network = trace.after
    return done


def assert_hand_worked(network: Network, digits: int, epochs: int) -> int:
    """The contract, checked on every step with a value: value == round_N(its formula on its
    operands), and the value has at most N significant digits. Returns the steps checked."""
    checked = 0
    for steps in worked(rounded(network, digits), epochs):
        for step in steps:
            if step.value is None:  # "apply": sets values, computes none
                continue
            expected = round_sig(evaluate(step.expr, step.operands), digits)
            assert step.value == expected, (steps.epoch, step.key, step.operands, step.value,
                                            expected)
            assert round_sig(step.value, digits) == step.value, (steps.epoch, step.key)
            checked += 1
    return checked


# Rounding itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.5932699921071872, 4, 0.5933),
        (0.5932699921071872, 9, 0.593269992),
        (1.10590596705977, 9, 1.10590597),
        (-0.019049118258278114, 3, -0.019),
        (0.00043856773447434685, 2, 0.00044),
        (99.96, 3, 100.0),
        (123456.0, 2, 120000.0),
        # Decimal ties round half away from zero, as a person rounds, whichever side of the
        # tie the float lies (the float nearest 2.675 is below it).
        (2.675, 3, 2.68),
        (-2.675, 3, -2.68),
        (0.3775, 3, 0.378),
        (0.0190491185, 8, 0.019049119),
        (0.0, 4, 0.0),
    ],
)
def test_round_sig_is_decimal_rounding_to_significant_digits(
        value: float, digits: int, expected: float) -> None:
    assert round_sig(value, digits) == expected


def test_round_sig_ties_do_not_depend_on_the_float_below_them() -> None:
    assert f"{2.675:.3g}" == "2.67"  # what binary formatting alone would write down
    net_h2 = math.fsum([0.25 * 0.05, 0.3 * 0.1, 0.35])  # the tutorial's 0.3925, as computed
    assert f"{net_h2:.3g}" == "0.392" and round_sig(net_h2, 3) == 0.393
    assert math.copysign(1.0, round_sig(-0.0, 3)) == -1.0
    assert round_sig(math.inf, 3) == math.inf and math.isnan(round_sig(math.nan, 3))


def test_round_sig_is_idempotent_at_every_precision() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=300) * 10.0 ** rng.integers(-8, 8, size=300)
    for digits in range(2, 16):
        for value in values.tolist():
            once = round_sig(value, digits)
            assert round_sig(once, digits) == once
            # within half a unit of the last digit kept, and of the 15th (see round_sig),
            # and of the float's own last bit
            exponent = math.floor(math.log10(abs(value)))
            bound = 0.5 * (10.0 ** (exponent - digits + 1) + 10.0 ** (exponent - 14))
            assert abs(once - value) <= bound + math.ulp(value)


# The contract ----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [3, 4, 9])
@pytest.mark.parametrize("name", list(PRESETS))
def test_every_step_of_every_preset_is_its_formula_on_rounded_operands(
        name: str, digits: int) -> None:
    network = load_preset(name)
    checked = assert_hand_worked(network, digits, epochs=3)
    assert checked == 3 * sum(s.value is not None for s in EpochSteps(1, trace_epoch(network)))


@pytest.mark.parametrize("digits", [2, 5, 12])
@pytest.mark.parametrize("index", range(len(RANDOM)))
def test_every_step_of_random_networks_is_its_formula_on_rounded_operands(
        index: int, digits: int) -> None:
    assert assert_hand_worked(RANDOM[index], digits, epochs=2) > 0


def test_the_random_sweep_covers_every_option() -> None:
    options = {(n.loss, n.update_order, n.update_biases) for n in RANDOM}
    assert len(options) == 8
    assert {a for n in RANDOM for a in n.activations} == set(PER_UNIT)
    assert {n.shared(k) for n in RANDOM for k in range(n.depth)} == {True, False}


@pytest.mark.parametrize("network", [load_preset(name) for name in PRESETS] + RANDOM[:20])
def test_fifteen_digits_agree_with_the_unrounded_engine(network: Network) -> None:
    """The hand path computes the same quantities as the vectorised one: at 15 digits only
    the rounding differs (a cross-check the contract cannot give, since both sides of the
    contract read the same trace)."""
    plain, hand = worked(network, 2), worked(rounded(network, 15), 2)
    assert [len(s) for s in hand] == [len(s) for s in plain]
    for plain_steps, hand_steps in zip(plain, hand, strict=True):
        for a, b in zip(plain_steps, hand_steps, strict=True):
            assert a.key == b.key
            if a.value is not None:
                assert math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-12), a.key


def by_hand(network: Network, digits: int) -> dict[str, Decimal]:
    """Epoch 1 of a sigmoid network with half_sse, fixed shared biases and updates after
    the backward pass (the tutorial's kind), worked in exact decimal arithmetic as on paper:
    each value rounded half away from zero to ``digits`` before it is used. Independent of
    the engine and of the step formulas' evaluation."""
    work = Context(prec=40)
    hand = Context(prec=digits, rounding=ROUND_HALF_UP)
    names = network.names
    one, eta = Decimal(1), Decimal(repr(network.learning_rate))
    weights = [[[Decimal(repr(w)) for w in row] for row in layer.tolist()]
               for layer in network.weights]
    biases = [Decimal(repr(float(b[0]))) for b in network.biases]
    targets = [Decimal(repr(t)) for t in network.targets[0].tolist()]
    found: dict[str, Decimal] = {}

    def put(key: str, value: Decimal) -> Decimal:
        found[key] = hand.plus(value)
        return found[key]

    def forward(weights: list, suffix: str) -> list[list[Decimal]]:
        acts = [[hand.plus(Decimal(repr(x))) for x in network.inputs[0].tolist()]]
        for layer, rows in enumerate(weights):
            outs = []
            for j, row in enumerate(rows):
                unit = names.units[layer + 1][j]
                net = put(f"net_{unit}{suffix}", sum((w * a for w, a in zip(row, acts[-1])),
                                                     biases[layer]))
                outs.append(put(f"out_{unit}{suffix}",
                                work.divide(one, one + work.exp(-net))))
            acts.append(outs)
        return acts

    acts = forward(weights, "")
    outputs = names.units[-1]
    errors = [put(f"E_{o}", (t - out) ** 2 / 2)
              for o, t, out in zip(outputs, targets, acts[-1])]
    put("E_total", sum(errors))
    new = [[list(row) for row in layer] for layer in weights]
    deltas: list[Decimal] = []
    for layer in reversed(range(network.depth)):
        above, below = deltas, []
        for j, unit in enumerate(names.units[layer + 1]):
            if layer == network.depth - 1:
                signal = put(f"dE/dout_{unit}", -(targets[j] - acts[-1][j]))
            else:
                shares = [put(f"dE_{a}/dout_{unit}", d * weights[layer + 1][k][j])
                          for k, (a, d) in enumerate(zip(names.units[layer + 2], above))]
                signal = put(f"dE/dout_{unit}", sum(shares))
            out = acts[layer + 1][j]
            delta = put(f"delta_{unit}", signal * put(f"dout_{unit}/dnet_{unit}",
                                                      out * (one - out)))
            below.append(delta)
            for k, w in enumerate(names.weights[layer][j]):
                put(f"dnet_{unit}/d{w}", acts[layer][k])
                grad = put(f"dE/d{w}", delta * acts[layer][k])
                new[layer][j][k] = put(f"{w}+", weights[layer][j][k] - eta * grad)
        put(f"dE/d{names.biases[layer][0]}", sum(below))
        deltas = below
    after = forward(new, "+")
    put("E_total+", sum((t - out) ** 2 / 2 for t, out in zip(targets, after[-1])))
    return found


@pytest.mark.parametrize("digits", [3, 4, 6, 9])
@pytest.mark.parametrize("name", ["mazur", "seed"])
def test_the_tutorial_worked_by_hand_in_decimal_gives_every_step(name: str, digits: int) -> None:
    network = load_preset(name)
    expected = by_hand(network, digits)
    steps = EpochSteps(1, trace_epoch(rounded(network, digits)))
    values = {s.key: s.value for s in steps if s.value is not None}
    assert len(values) == len(steps) - 1 == 54 and values.keys() <= expected.keys()
    assert values == {key: float(expected[key]) for key in values}


def test_the_tutorial_at_three_digits() -> None:
    """The tutorial's first steps, worked to 3 digits."""
    steps = EpochSteps(1, trace_epoch(rounded(mazur(), 3)))
    value = {s.key: s.value for s in steps}
    assert value["net_h1"] == 0.378  # 0.0075 + 0.02 + 0.35 = 0.3775: a tie, rounded up
    assert value["net_h2"] == 0.393  # 0.3925, computed as a float just below it
    assert value["out_h1"] == 0.593  # σ(0.378) = 0.59339…
    assert value["net_o1"] == 1.11  # 0.4·0.593 + 0.45·out_h2 + 0.6
    assert value["E_total"] == 0.299
    assert value["dE/dw5"] == 0.0818 and value["w5+"] == 0.359
    assert value["E_total+"] == 0.292  # 0.291 unrounded: the rounding shows by now


def test_the_next_epoch_starts_from_the_rounded_new_values() -> None:
    trace = trace_epoch(rounded(load_preset("tanh-linear"), 4))  # biases learn here
    steps = EpochSteps(1, trace)
    new = {s.key: s.value for s in steps if s.kind in ("new_w", "new_b")}
    after = trace.after
    assert after.rounding == 4
    assert [new[f"{w}+"] for row in after.names.weights[0] for w in row] == \
        after.weights[0].ravel().tolist()
    assert new["b1.1+"] == float(after.biases[0][0]) == round_sig(new["b1.1+"], 4)
    second = EpochSteps(2, trace_epoch(after))
    assert second[0].operands[0] == float(after.weights[0][0, 0])


def test_the_error_after_the_updates_is_the_rounded_networks_forward_pass() -> None:
    trace = trace_epoch(rounded(mazur(), 4))
    again = forward(trace.after)  # the forward pass of the rounded network, rounded
    assert np.array_equal(trace.fwd_after.acts[-1], again.acts[-1])
    # E_total+ is one formula over the new outputs; the next epoch's E_total sums the
    # rounded errors: the two are the same to the last digit kept.
    assert math.isclose(trace.fwd_after.loss, again.loss, rel_tol=2e-4)
    assert trace_epoch(trace.after).loss == again.loss


def test_rounding_off_leaves_the_engine_untouched() -> None:
    network = mazur()
    assert network.rounding == 0
    trace = trace_epoch(network)
    assert trace.fwd.nets[0][0] == 0.3775 and trace.fwd.loss == 0.2983711087600027
    assert float(trace.after.weights[1][0, 0]) == 0.35891647971788465


# The tutorial's published digits ----------------------------------------------------------


def digit_for_digit(value: float, printed: str) -> bool:
    """The value rounded to the printed number of decimals is the printed string."""
    return str(Decimal(value).quantize(Decimal(printed))) == printed


def reproduced(digits: int) -> set[str]:
    """The published first-round numbers the computation reproduces digit for digit."""
    steps = EpochSteps(1, trace_epoch(rounded(mazur(), digits)))
    values = {s.key: s.value for s in steps}
    return {name for name, printed in FIRST_ROUND.items()
            if digit_for_digit(values[step_key(name)], printed)}


def test_which_published_digits_come_from_rounding() -> None:
    exact = reproduced(0)
    assert set(FIRST_ROUND) - exact == {"dE_o2/dout_h1"}
    # Rounding every value to 9 significant digits reproduces no published number the exact
    # computation misses, and drifts three of them off the printed last digit.
    assert reproduced(9) - exact == set()
    assert exact - reproduced(9) == {"net_o1", "E_o1", "E_total"}
    # Nor does any other consistent precision give the post's -0.019049119.
    for digits in range(2, 16):
        assert "dE_o2/dout_h1" not in reproduced(digits), digits
    assert reproduced(10) == exact


def test_how_the_post_got_its_dE_o2_dout_h1() -> None:
    """It rounded δ_o2 alone to 9 decimals, multiplied by w7 and rounded half up: not a
    computation rounded throughout (which gives …1183 at 9 digits)."""
    steps = EpochSteps(1, trace_epoch(mazur()))
    value = {s.key: s.value for s in steps}
    delta = Decimal(value["delta_o2"]).quantize(Decimal("1e-9"), ROUND_HALF_UP)
    assert str(delta) == "-0.038098237"
    share = (delta * Decimal("0.5")).quantize(Decimal("1e-9"), ROUND_HALF_UP)
    assert str(share) == FIRST_ROUND["dE_o2/dout_h1"] == "-0.019049119"
    hand = {s.key: s.value for s in EpochSteps(1, trace_epoch(rounded(mazur(), 9)))}
    assert hand["dE_o2/dout_h1"] == -0.0190491183 and hand["delta_o2"] == -0.0380982366
    assert hand["net_o1"] == 1.10590597  # 9 digits: the post prints 10 (1.105905967)


# The fast path -------------------------------------------------------------------------


def chained(network: Network, count: int) -> tuple[list[EpochTrace], bool]:
    traces: list[EpochTrace] = []
    for _ in range(count):
        trace = trace_epoch(network)
        if not trace_is_finite(trace):
            return traces, True
        traces.append(trace)
        network = trace.after
    return traces, False


def assert_identical(a: Network, b: Network) -> None:
    assert a.options() == b.options()
    for x, y in zip([*a.weights, *a.biases], [*b.weights, *b.biases], strict=True):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("loop_limit", [10**9, 0])  # the Python loop would be chosen, or not
@pytest.mark.parametrize("network", [load_preset(name) for name in PRESETS] + RANDOM[:8])
def test_fast_forward_lands_exactly_where_stepping_does(
        monkeypatch: pytest.MonkeyPatch, network: Network, loop_limit: int) -> None:
    monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", loop_limit)
    start = rounded(network, 4)
    traces, diverged = chained(start, 12)
    run = run_epochs(start, 12, chunk=5, checkpoint_every=4)
    assert (run.epochs, run.diverged) == (len(traces), diverged)
    assert run.losses == [t.loss for t in traces]
    assert_identical(run.network, traces[-1].after if traces else start)
    for epoch, checkpoint in run.checkpoints.items():
        assert_identical(checkpoint, traces[epoch - 2].after)


def test_fast_forward_with_rounding_is_not_the_unrounded_run() -> None:
    plain = run_epochs(mazur(), 12).network
    hand = run_epochs(rounded(mazur(), 4), 12).network
    assert not np.array_equal(plain.weights[0], hand.weights[0])
    assert all(round_sig(w, 4) == w for w in hand.weights[0].ravel().tolist())


def test_a_rounded_run_that_diverges_stops_where_stepping_does() -> None:
    start = rounded(parse_given(DIVERGING, "diverging").network(), 4)
    traces, diverged = chained(start, 50)
    run = run_epochs(start, 50)
    assert diverged and run.diverged and 1 <= run.epochs == len(traces) < 10
    assert_identical(run.network, traces[-1].after)
    assert EpochSteps(run.epochs + 1, trace_epoch(run.network)).diverged is not None


def test_session_fast_forward_equals_stepping_epoch_by_epoch() -> None:
    forwarded, stepped = Session(rounded(mazur(), 5)), Session(rounded(mazur(), 5))
    assert forwarded.fast_forward(30)
    for _ in range(30):
        assert stepped.next_epoch()
    assert forwarded.epoch == stepped.epoch == 31
    assert_identical(forwarded.network, stepped.network)
    assert forwarded.steps[-1].value == stepped.steps[-1].value


# The session ---------------------------------------------------------------------------


def test_a_rounding_edit_applies_from_this_epoch_and_undoes_and_redoes() -> None:
    session = Session(mazur())
    assert session.next_epoch() and session.goto("dE/dw5")
    plain = session.step.value
    assert session.current_value("rounding") == 0
    assert session.edit("rounding", 4)
    assert session.current_value("rounding") == 4 and session.network.rounding == 4
    step = session.step
    assert step.key == "dE/dw5" and step.value != plain
    assert step.value == round_sig(evaluate(step.expr, step.operands), 4)
    assert session.events[-1]["changes"] == ["rounding: 0 → 4 from epoch 2"]
    assert session.next_epoch()  # epoch 3 starts from epoch 2's rounded new weights
    assert all(round_sig(w, 4) == w for w in session.network.weights[1].ravel().tolist())
    assert session.prev_epoch() and session.prev_epoch()
    assert session.network.rounding == 0  # epoch 1 is not rounded
    assert session.steps[0].value == 0.3775 and session.steps[1].value == 0.5932699921071872
    for _ in range(4):  # the three moves, then the edit
        assert session.undo()
    assert (session.epoch, session.step.key) == (2, "dE/dw5")
    assert session.network.rounding == 0 and session.step.value == plain
    assert session.redo() and session.step.value == step.value
    assert session.edit("rounding", 0)  # and off again, as another edit
    assert session.step.value == plain


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (2, 2), (15, 15), ("4", 4), (" 9 ", 9)])
def test_a_rounding_edit_takes_0_or_2_to_15(value: object, expected: int) -> None:
    assert Session(mazur()).check_edit("rounding", value) == ("rounding", expected)


@pytest.mark.parametrize("value", [1, 16, -1, 4.0, 2.5, True, False, "4.5", "x", "", None])
def test_a_bad_rounding_edit_is_refused_in_one_line(value: object) -> None:
    session = Session(mazur())
    with pytest.raises(EditError) as refused:
        session.edit("rounding", value)
    message = str(refused.value)
    assert message.startswith("rounding must be 0 (off) or 2 to 15") and "\n" not in message
    assert session.state == State() and not session.can_undo()


# Session files -------------------------------------------------------------------------


def saved(session: Session) -> str:
    return "".join(FORMATS["json"](session, NOW))


def rounding_session() -> Session:
    session = Session(mazur(), source=Source("preset", "mazur", preset_text("mazur")))
    assert session.next_epoch() and session.edit("rounding", 5) and session.goto(20)
    return session


def test_a_rounding_edit_round_trips_through_a_session_file() -> None:
    session = rounding_session()
    document = saved(session)
    assert json.loads(document)["edits"] == [{"epoch": 2, "name": "rounding", "value": 5}]
    resumed = load_session(document, "saved.json")
    assert resumed.state == session.state
    assert resumed.network.rounding == 5 and resumed.step.value == session.step.value
    assert saved(resumed) == document


def test_a_network_that_rounds_from_the_start_round_trips() -> None:
    session = Session(rounded(mazur(), 3))
    assert session.goto("E_total")
    document = saved(session)
    assert json.loads(document)["network"]["rounding"] == 3
    resumed = load_session(document, "saved.json")
    assert resumed.base.rounding == 3 and resumed.step.value == 0.299


@pytest.mark.parametrize("value", [1, 16, 4.5, True, "lots"])
def test_a_bad_rounding_edit_in_a_session_file_is_refused_in_one_line(value: object) -> None:
    document = json.loads(saved(rounding_session()))
    document["edits"][0]["value"] = value
    with pytest.raises(SessionFileError) as refused:
        load_session(json.dumps(document), "bad.json")
    message = str(refused.value)
    assert message.startswith("bad.json: edit of 'rounding' in epoch 2: rounding must be")
    assert "\n" not in message


# The command line ----------------------------------------------------------------------



def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def train(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    status, out, err = run(capsys, "train", *argv)
    assert (status, err) == (0, "")
    return json.loads(out)


def export(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    status, out, err = run(capsys, "export", *argv)
    assert (status, err) == (0, "")
    return [json.loads(line) for line in out.splitlines()]


def test_export_and_train_round_with_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    head, *records = export(capsys, "--rounding", "3", "--epochs", "4")
    assert head["network"]["rounding"] == 3
    steps = {(r["epoch"], r["key"]): r["value"] for r in records if r["type"] == "step"}
    assert steps[(1, "net_h1")] == 0.378 and steps[(1, "E_total")] == 0.299
    epochs = [r for r in records if r["type"] == "epoch"]
    trained = train(capsys, "--epochs", "3", "--rounding", "3")
    assert trained["weights"] == epochs[2]["weights"]  # exactly: the same epochs
    assert trained["loss_initial"] == epochs[0]["loss"] == 0.299
    assert trained["loss_final"] == epochs[3]["loss"]
    assert train(capsys, "--rounding", "3", "--epochs", "3") == trained
    assert run(capsys, "--rounding", "3", "train", "--epochs", "3")[1] == \
        json.dumps(trained) + "\n"
    assert train(capsys, "--epochs", "3") != trained


def test_the_flag_overrides_the_files_rounding(capsys: pytest.CaptureFixture[str],
                                               tmp_path) -> None:
    path = tmp_path / "rounded.toml"
    path.write_text("rounding = 3\n" + preset_text("mazur"), encoding="utf-8")
    from_file = train(capsys, "--epochs", "2", "--config", str(path))
    assert from_file == train(capsys, "--epochs", "2", "--rounding", "3")
    assert train(capsys, "--epochs", "2", "--config", str(path), "--rounding", "0") == \
        train(capsys, "--epochs", "2")
    assert train(capsys, "--epochs", "2", "--config", str(path), "--rounding", "6") == \
        train(capsys, "--epochs", "2", "--rounding", "6") != from_file


@pytest.mark.parametrize("command", [["export"], ["train", "--epochs", "1"], []])
@pytest.mark.parametrize("value", ["1", "16", "-1", "x", "2.5", ""])
def test_a_bad_rounding_flag_exits_2_with_one_line(
        capsys: pytest.CaptureFixture[str], command: list[str], value: str) -> None:
    status, out, err = run(capsys, *command, "--rounding", value)
    assert (status, out) == (2, "")
    assert err.startswith("backprop-tui: argument --rounding: expected ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--rounding", "4", "presets"],
                                  ["--rounding", "4", "new-config"],
                                  ["--rounding", "4", "--resume", "saved.json"],
                                  ["export", "--rounding", "4", "--resume", "saved.json"]])
def test_the_flag_where_it_cannot_apply_exits_2_with_one_line(
        capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert "--rounding" in err and err.count("\n") == 1


def test_the_app_opens_on_the_rounded_network(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    apps: list[BackpropApp] = []
    monkeypatch.setattr(BackpropApp, "run", lambda self, *a, **k: apps.append(self))
    assert main(["--preset", "seed", "--rounding", "4"]) == 0
    session = apps[0].session
    assert session.base.rounding == 4 and session.source.name == "seed"
    out_h1 = session.steps[1]  # σ(0.3275) = 0.581150964…: rounding shows here
    assert out_h1.key == "out_h1" and out_h1.value == 0.5812


def test_new_config_shows_the_rounding_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, text, _ = run(capsys, "new-config")
    assert status == 0 and text.startswith(NETWORK_FILE_GUIDE)
    assert "\n# rounding = 4\n" in text
    assert parse_given(text, "as written").rounding == 0
    assert parse_given(text.replace("\n# rounding = 4\n", "\nrounding = 4\n"),
                       "uncommented").rounding == 4
