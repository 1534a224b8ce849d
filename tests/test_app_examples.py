"""The app on a network of several training examples (preset ``xor``, full batch): one epoch
walked by keys with every value on screen checked against the steps; the example and batch
keys; ``:`` with ``[k]`` and plain names meaning the current example; an edit of one
example's input, undone exactly; the curve of the data set's error.

The numbers the tests hold the app to come from the preset's file (its inputs, targets and
starting weights) and a few-line forward pass written here, not from the engine.
"""

from __future__ import annotations

import math

from apptools import run, screen_text, settle, submit
from backprop_tui import keys
from backprop_tui.app import view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.components.panels import EquationPanel, ValuesPanel
from backprop_tui.app.screens.edit import ValueScreen
from backprop_tui.app.screens.goto import GoToScreen
from backprop_tui.app.screens.help import HelpScreen
from backprop_tui.netfile import parse_network
from backprop_tui.numbers import DEFAULT_DIGITS, fmt
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from backprop_tui.steps.names import resolve
from textual.pilot import Pilot
from textual.widgets import Input, Label

# The preset's data and starting parameters, as its file gives them.
INPUTS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
TARGETS = [0.0, 1.0, 1.0, 0.0]
HIDDEN = [((0.5, -0.4), 0.1), ((-0.6, 0.7), -0.1)]  # (weights, bias) of h1, h2
OUTPUT = ((0.8, -0.75), 0.05)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def forward(x: tuple[float, float]) -> tuple[list[float], float]:
    """The hidden outputs and the output of the starting network on one example."""
    hidden = [sigmoid(w[0] * x[0] + w[1] * x[1] + b) for w, b in HIDDEN]
    (v1, v2), c = OUTPUT
    return hidden, sigmoid(v1 * hidden[0] + v2 * hidden[1] + c)


def dataset_error() -> float:
    """E at the start: the mean over the examples of ½(t − o)²."""
    return sum(0.5 * (t - forward(x)[1]) ** 2 for x, t in zip(INPUTS, TARGETS, strict=True)) / 4


def xor_app() -> BackpropApp:
    return BackpropApp(Session(load_preset("xor")))


def equation_result(app: BackpropApp) -> str | None:
    """The result the equation panel shows (its third line, after '='; its fourth where a
    long symbol stands on a line of its own), None if none."""
    lines = app.main.query_one(EquationPanel).text.split("\n")
    at = 2 if " = " in lines[0] else 3
    third = lines[at] if len(lines) > at else ""
    return third.split("=", 1)[1].strip() if third.strip().startswith("=") else None


def newest(app: BackpropApp) -> tuple[str, str]:
    """The values panel's newest row (marked ▶) and the example group it is under."""
    rows = app.main.query_one(ValuesPanel)._rows
    at = next(i for i, (_, look) in enumerate(rows) if look == "values--newest")
    group = next(text for text, look in reversed(rows[:at]) if look == "values--group")
    text = " ".join(piece.strip() for piece, look in rows[at:] if look == "values--newest")
    return text, group.removeprefix("▌")


def test_one_full_batch_epoch_walked_by_keys_shows_the_steps_values() -> None:
    """→ through all 157 steps of xor's first epoch: at each, the status line, the equation
    panel's result, the values panel's newest row and its example, and the diagram's
    inputs, target and values are the steps' (the data and E checked independently)."""
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        steps = session.steps
        assert len(steps) == 157
        e = fmt(dataset_error(), DEFAULT_DIGITS)
        assert fmt(steps.value_of(keys.DATASET), DEFAULT_DIGITS) == e
        for index in range(1, len(steps) + 1):
            await pilot.press("right")
            step = steps[index - 1]
            assert session.index == index
            key = step.typed_key
            status = screen_text(app).split("\n")[0]
            assert f"step {index} of 157" in status, status
            if key.kind == "dataset_after":
                assert "data set of 4" in status
                assert f"E⁺ {fmt(step.value, DEFAULT_DIGITS)}" in status
            else:
                assert f"E {e}" in status, status
                assert (f"examples {key.example}–{key.last}" if key.last
                        else f"example {key.example} of 4") in status, status
            assert "update 1 of 1" in status
            shown = fmt(step.value, DEFAULT_DIGITS) if step.value is not None else None
            assert equation_result(app) == shown, key
            row, group = newest(app)
            assert row.startswith(f"▶ {step.symbol} ") or row == f"▶ {step.symbol}", row
            if shown is not None:
                assert row.split()[-1] == shown, row
            assert group == (f"Example {key.example}" if key.example and not key.last else
                             "Examples 1–4 together" if key.example else "The data set")
            # The diagram: the example's data (the batch's last at a combined step) and
            # its values so far, as the steps have them.
            model = app.main.query_one(NetworkDiagram)._model
            assert model is not None
            k = key.last or key.example or 4
            assert (model.values["i1"], model.values["i2"]) == INPUTS[k - 1]
            assert model.targets["o1"] == TARGETS[k - 1]
            for unit in ("h1", "h2", "o1"):
                assert model.values[unit] == session.shown(keys.unit("out", unit).at(k))
            assert app.main.query_one(NetworkDiagram).border_title == (
                f"Network · example {k} of 4" if key.example and not key.last else
                "Network · example 4 · " + ("batch 1–4" if key.example else "data set"))
        await settle(pilot)
        # At the end of the epoch, the example's forward pass is the one written here.
        model = app.main.query_one(NetworkDiagram)._model
        assert model is not None
        hidden, out = forward(INPUTS[3])
        assert math.isclose(model.values["h1"] or 0, hidden[0], rel_tol=1e-12)
        assert math.isclose(model.values["o1"] or 0, out, rel_tol=1e-12)
        # The table: the batch's gradients and new values, the parameters it started from.
        w5 = next(p for p in model.weights if p.name == "w5")
        assert (w5.value, w5.gradient, w5.new) == (
            0.8, steps.value_of(keys.Key("grad_w", param="w5").at(1, 4)),
            steps.value_of(keys.parameter("w5").new.at(1, 4)))

    run(script, app=xor_app())


def test_every_value_of_the_epoch_is_listed_under_its_example() -> None:
    session = Session(load_preset("xor"))
    session.last()
    rows, hidden = view_model.values(session)
    assert hidden == 0
    assert [row.value for row in rows] == [
        "" if step.value is None else fmt(step.value, DEFAULT_DIGITS) for step in session.steps]
    groups = list(dict.fromkeys(row.group for row in rows))
    assert groups == ["Example 1", "Example 2", "Example 3", "Example 4",
                      "Examples 1–4 together", "The data set"]
    assert [row.phase for row in rows if row.group == "Examples 1–4 together"][:2] == [
        "Batch", "Batch"]
    # One example: no groups, as before.
    one = Session(load_preset("mazur"))
    one.last()
    assert {row.group for row in view_model.values(one)[0]} == {""}
    status = view_model.status(one)
    assert (status.examples, status.update, status.total_symbol) == ((0, 0, 0), (0, 0), "E_total⁺")


MINIBATCH = preset_text("xor").replace('batch = "full"', "batch = 2")


def test_example_and_batch_keys_jump_to_first_steps() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        steps = session.steps
        first = {k: steps.keys[f"net_h1[{k}]"] for k in range(1, 5)}
        assert first == {1: 1, 2: 35, 3: 69, 4: 103}  # 34 steps an example
        await pilot.press("right_curly_bracket")
        assert session.index == first[2]
        await pilot.press("right_curly_bracket", "right", "right")
        assert session.index == first[3] + 2
        await pilot.press("left_curly_bracket")  # to the start of this example …
        assert session.index == first[3]
        await pilot.press("left_curly_bracket")  # … then of the one before
        assert session.index == first[2]
        session.goto(first[4])
        # No example after the fourth, and one batch: nowhere to go (left out of the footer).
        assert app.check_action("next_example", ()) is False
        assert app.check_action("next_batch", ()) is False
        assert app.check_action("prev_example", ()) is True

    run(script, app=xor_app())

    async def minibatches(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        await pilot.press("b")
        assert session.step is not None and session.step.key == "net_h1[3]"
        assert "update 2 of 2" in screen_text(app).split("\n")[0]
        assert app.check_action("next_batch", ()) is False

    run(minibatches, app=BackpropApp(Session(parse_network(MINIBATCH, "xor-2"))))


def test_one_example_has_no_example_keys() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for action in ("next_example", "prev_example", "next_batch"):
            assert app.check_action(action, ()) is False  # left out, not greyed
        await pilot.press("right_curly_bracket", "b")
        assert app.session.index == 0
        app.action_help()
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "next / previous training example" not in screen_text(app)

    run(script)

    async def several(app: BackpropApp, pilot: Pilot) -> None:
        app.action_help()
        await settle(pilot)
        rows = [tuple(str(label.render()) for label in row.query(Label))
                for row in app.screen.query(".help-row")]
        assert ("}  /  {",
                "next / previous training example (several examples: its first step)") in rows

    run(several, app=xor_app())


def test_go_to_takes_an_example_and_plain_names_mean_the_current_one() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        steps = session.steps
        await pilot.press("colon")
        assert isinstance(app.screen, GoToScreen)
        await submit(app, pilot, "net_h1[3]")
        assert session.index == steps.keys["net_h1[3]"]
        await pilot.press("colon")
        await submit(app, pilot, "E_total")  # plain: example 3's
        assert session.index == steps.keys["E_total[3]"]
        await pilot.press("colon")
        await submit(app, pilot, "w5")  # plain: the new w5 of example 3's batch
        assert session.index == steps.keys["w5+[1..4]"]
        await pilot.press("colon")
        await submit(app, pilot, "∂E/∂w₅[2]")
        assert session.index == steps.keys["dE/dw5[2]"]

    run(script, app=xor_app())
    # The same names without the app: a plain name by example, tags as written.
    steps = Session(load_preset("xor")).steps
    assert resolve("delta_h1", steps, 4) == steps.keys["delta_h1[4]"]
    assert resolve("delta_h1[2]", steps, 4) == steps.keys["delta_h1[2]"]
    assert resolve("apply", steps, 2) == steps.keys["apply[1..4]"]
    assert resolve("E", steps, 2) == steps.keys["E[1..4]"]
    assert resolve("E+", steps, 2) == 157
    assert resolve("dE/dw5[1-4]", steps) == steps.keys["dE/dw5[1..4]"]
    online = Session(load_preset("xor-online")).steps
    assert resolve("w5", online, 3) == online.keys["w5+[3]"]


def test_editing_an_input_edits_the_current_examples_and_undo_restores_it() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        await pilot.press("right_curly_bracket")  # example 2: inputs (0, 1)
        before = session.state
        net = session.steps.keys["net_h1[2]"]
        assert session.steps.value_at(net) == 0.5 * 0 - 0.4 * 1 + 0.1
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one(Input).value = "i1"  # plain: example 2's
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        assert str(app.screen.query_one("#title", Label).render()).startswith(
            "New value of i1[2] ")
        app.screen.query_one(Input).value = "0.5"
        await pilot.press("enter")
        await settle(pilot)
        assert session.events[-1]["changes"] == ["i1[2]: 0 → 0.5 from epoch 1"]
        steps = session.steps
        assert steps.value_at(steps.keys["net_h1[2]"]) == 0.5 * 0.5 - 0.4 * 1 + 0.1
        assert steps.value_at(steps.keys["net_h1[1]"]) == 0.1  # example 1's: untouched
        model = app.main.query_one(NetworkDiagram)._model
        assert model is not None and model.values["i1"] == 0.5
        await pilot.press("u")
        await settle(pilot)
        assert session.state == before
        steps = session.steps
        assert steps.value_at(steps.keys["net_h1[2]"]) == 0.5 * 0 - 0.4 * 1 + 0.1
        model = app.main.query_one(NetworkDiagram)._model
        assert model is not None and model.values["i1"] == 0.0
        # A double-click on a target edits the current example's too.
        app.on_network_diagram_double_clicked(NetworkDiagram.DoubleClicked("t_o1"))
        await settle(pilot)
        assert str(app.screen.query_one("#title", Label).render()).startswith(
            "New value of t_o1[2] (from the start of this epoch; now 1)")

    run(script, app=xor_app())


def test_the_curve_plots_the_data_sets_error() -> None:
    from backprop_tui.app.curve_model import error_curve

    session = Session(load_preset("xor"))
    session.fast_forward(3)
    curve = error_curve(session, 100, False)
    # The epochs run (recorded by the fast path), then the current one's E (its steps').
    expected = [session.steps_of(epoch).trace.loss for epoch in (1, 2, 3, 4)]
    assert curve.count == 4 and curve.errors[-1] == expected[-1]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(curve.errors, expected,
                                                                   strict=True))
    assert math.isclose(expected[0], dataset_error(), rel_tol=1e-12)
    assert curve.symbol == "E" and curve.caption.startswith("▶ epoch 4 · E ")


def test_online_the_table_starts_each_example_from_the_last_update() -> None:
    """xor-online, example 2's hidden layer: the table's w5 is the value example 2 uses (w5
    after example 1's update), bracketed as the old one, beside w5⁺[2] and ∂E/∂w5[2]."""
    session = Session(load_preset("xor-online"))
    session.goto("dE_o1/dout_h1[2]")
    steps = session.steps
    w5 = next(p for p in view_model.diagram(session).weights if p.name == "w5")
    assert session.step is not None and session.step.operands[1] == w5.value
    assert w5.value == steps.value_of(keys.parameter("w5").new.at(1)) != 0.8
    assert (w5.new, w5.gradient, w5.used, w5.new_symbol) == (
        steps.value_of(keys.parameter("w5").new.at(2)),
        steps.value_of(keys.Key("grad_w", param="w5").at(2)), "old", "w₅⁺[2]")
    assert view_model.status(session).update == (2, 4)
