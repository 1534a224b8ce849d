"""The app on a softmax output layer with cross-entropy (preset ``softmax-ce``, issue 14):
its output layer walked by keys — ∂E/∂out, the Jacobian's diagonal and off-diagonal entries,
the chain rule's δ and the shortcut δ = out − t — with the equation panel's formulas and
results, and the diagram's coupling (both units of a Jacobian entry marked, a heavy bracket
joining the layer's outputs, the caption saying what it means); the palette offers only the
switches that combine, and a switch that does not combine is said, not made.

The numbers come from the preset's file and a few-line forward pass written here.
"""

from __future__ import annotations

import math

import pytest
from apptools import run, submit
from backprop_tui.app import actions, view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram, layout
from backprop_tui.app.components.panels import EquationPanel, breaks
from backprop_tui.app.screens.edit import ValueScreen
from backprop_tui.netfile import classifier_problem
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets import Label

# The preset's data and starting parameters, as its file gives them.
INPUTS = (0.05, 0.10)
TARGETS = (0.0, 1.0, 0.0)
HIDDEN = ((0.15, 0.20), (0.25, 0.30), (0.35, 0.40))
B1 = 0.35
OUTPUT = ((0.40, 0.45, 0.50), (0.55, 0.60, 0.65), (0.70, 0.75, 0.80))
B2 = 0.60
HEAVY, LIGHT = "┓┃┫┛", "╮│┤╯"  # the bracket joining the outputs: while coupled, and not


def outputs() -> list[float]:
    """The softmax outputs of the starting network."""
    hidden = [1 / (1 + math.exp(-(w[0] * INPUTS[0] + w[1] * INPUTS[1] + B1))) for w in HIDDEN]
    nets = [sum(w * h for w, h in zip(row, hidden, strict=True)) + B2 for row in OUTPUT]
    exps = [math.exp(n) for n in nets]
    return [e / sum(exps) for e in exps]


def equation_lines(app: BackpropApp) -> list[str]:
    return app.main.query_one(EquationPanel).text.split("\n")


def result(app: BackpropApp) -> float:
    """The equation panel's result (its third line, after '='; its fourth where a long
    symbol stands on a line of its own)."""
    lines = equation_lines(app)
    return float(lines[2 if " = " in lines[0] else 3].split("=", 1)[1])


def bracket(app: BackpropApp) -> str:
    """The glyphs of the bracket right of the output units, top to bottom."""
    found = app.main.query_one(NetworkDiagram).current_layout
    column = max(x for x, _ in found.lines)
    return "".join(glyph for (x, _), (glyph, _) in sorted(found.lines.items(),
                   key=lambda item: item[0][1]) if x == column)


def marked(app: BackpropApp) -> set[str]:
    """The output units the diagram marks ◀ (touched, backwards)."""
    rows = app.main.query_one(NetworkDiagram).current_layout.rows()
    return {unit for unit in ("o1", "o2", "o3") if any(f"◀{unit} " in row for row in rows)}


def title(app: BackpropApp) -> str:
    return str(app.main.query_one(NetworkDiagram).border_title)


def test_the_output_layer_walked_by_keys_shows_the_jacobian_and_the_shortcut() -> None:
    """] three times to the output layer, then →: ∂E/∂out_o₂ = −1/out_o₂; the diagonal
    out_o₁(1 − out_o₁); the entry ∂out_o₂/∂net_o₁ = −out_o₂·out_o₁ with o1 and o2 marked
    and the bracket heavy; the chain rule's δ_o₁ and the shortcut out_o₁ − t_o₁, equal."""
    out = outputs()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for _ in range(3):
            await pilot.press("right_square_bracket")
        session = app.session
        assert session.step is not None and session.step.kind == "dE_dout"
        assert equation_lines(app)[0] == "∂E/∂out_o₁ = −t_o₁/out_o₁"
        assert bracket(app) == LIGHT[0] + LIGHT[1] * 4 + LIGHT[2] + LIGHT[1] * 4 + LIGHT[3]
        await pilot.press("right")
        assert equation_lines(app)[0] == "∂E/∂out_o₂ = −t_o₂/out_o₂"
        assert result(app) == pytest.approx(-1 / out[1], rel=1e-8)
        await pilot.press("right", "right")  # the diagonal: a Jacobian entry k = j
        assert equation_lines(app)[0] == "∂out_o₁/∂net_o₁ = out_o₁·(1 − out_o₁)"
        assert result(app) == pytest.approx(out[0] * (1 - out[0]), rel=1e-8)
        assert set(bracket(app)) == set(HEAVY)
        await pilot.press("right")  # off the diagonal: both units, the layer coupled
        assert equation_lines(app)[0] == "∂out_o₂/∂net_o₁ = −out_o₂·out_o₁"
        assert result(app) == pytest.approx(-out[1] * out[0], rel=1e-8)
        assert marked(app) == {"o1", "o2"}
        assert set(bracket(app)) == set(HEAVY)
        assert title(app) == "Network · softmax: every output depends on every net"
        model = view_model.diagram(session)
        assert (model.focus, model.part) == ("o1", "delta")  # a term of δ_o₁
        await pilot.press("right", "right")  # the chain rule's δ_o₁: every output
        lines = equation_lines(app)  # a long symbol: on its own line, the '='s under it
        assert lines[0] == "δ_o₁ (chain rule)"
        assert lines[1].startswith(" = ∂E/∂out_o₁·∂out_o₁/∂net_o₁ + ")
        chain = result(app)
        assert chain == pytest.approx(out[0] - TARGETS[0], rel=1e-8)
        assert marked(app) == {"o1", "o2", "o3"}
        assert title(app) == "Network · chain rule: δ sums over every output"
        await pilot.press("right")  # the shortcut
        assert equation_lines(app)[0] == "δ_o₁ = out_o₁ − t_o₁"
        assert abs(result(app) - chain) <= 1e-8
        assert title(app).startswith("Network · shortcut: δ = out − t")
        assert set(bracket(app)) == set(HEAVY)
        await pilot.press("right")  # the weights: the layer's coupling no longer the point
        assert title(app) == "Network"
        assert set(bracket(app)) == set(LIGHT)

    run(script, app=BackpropApp(Session(load_preset("softmax-ce"))))


def test_at_80x24_the_caption_is_short_and_the_jacobian_keeps_its_numbers_whole() -> None:
    """The narrow panel takes the caption's fewer words; the substituted Jacobian entry
    breaks after its '·', not inside a number."""
    out = outputs()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.goto(21)
        app.render_session()
        await pilot.pause()
        assert title(app) == "Network · softmax: outputs coupled"
        assert set(bracket(app)) == set(HEAVY)
        panel = app.main.query_one(EquationPanel)
        shown = [strip.text.strip() for strip in (panel.render_line(y) for y in range(4))]
        assert shown[1] == f"= −{out[1]:.9f}·"
        assert shown[2] == f"{out[0]:.9f}"

    run(script, size=(80, 24), app=BackpropApp(Session(load_preset("softmax-ce"))))


def test_a_line_breaks_after_a_product_where_no_space_does() -> None:
    text = "      = −(0.325459513·0.248798087)"
    assert [text[a:b] for a, b in breaks(text, 24, 8)] == [
        "      = −(0.325459513·", "0.248798087)"]


def test_the_forward_step_of_a_softmax_output_uses_every_net() -> None:
    session = Session(load_preset("softmax-ce"))
    session.goto("out_o2")
    model = view_model.diagram(session)
    assert model.touched == {"o1", "o2", "o3"}
    assert (model.focus, model.part) == ("o2", "value")
    assert model.coupling == "softmax: each output uses every net"
    rows = layout(model, 70, 33).rows()
    assert sum(row.count("▶o") for row in rows) == 3


def test_the_bracket_is_only_for_a_softmax_layer() -> None:
    model = view_model.diagram(Session(load_preset("mazur")))
    assert model.coupled == () and model.coupling == ""
    drawn = layout(model, 70, 33)
    assert not set("".join(drawn.rows())) & set(HEAVY + "┐┘")


def titles(network: str) -> set[str]:
    return {switch.title for switch in actions.switches(Session(load_preset(network)).network)}


def test_the_palette_offers_only_switches_that_combine() -> None:
    """Softmax only for the output layer; cross-entropy only with softmax or sigmoid
    outputs; under cross-entropy, no output activation it does not take."""
    softmax = titles("softmax-ce")
    assert {"Loss: half_sse", "Loss: mse", "Layer 2: sigmoid"} <= softmax
    assert not {"Layer 1: softmax", "Layer 2: tanh", "Layer 2: linear",
                "Layer 2: relu"} & softmax
    mazur = titles("mazur")  # sigmoid outputs, half_sse, targets 0.01 and 0.99
    assert {"Loss: cross_entropy", "Layer 2: softmax", "Layer 2: tanh"} <= mazur
    assert "Layer 1: softmax" not in mazur
    assert "Loss: cross_entropy" not in titles("tanh-linear")  # linear outputs
    for switch in actions.switches(Session(load_preset("softmax-ce")).network):
        if switch.option == "loss":
            assert classifier_problem(["sigmoid", "softmax"], str(switch.value),
                                      [list(TARGETS)]) is None


def test_a_switch_that_does_not_combine_is_said_not_made() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.switch("activation2", "tanh")()
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        problem = classifier_problem(["sigmoid", "tanh"], "cross_entropy", [list(TARGETS)])
        assert problem is not None and said == [problem.removeprefix("key 'loss': ")]
        assert said[0].startswith("\"cross_entropy\" needs")
        assert app.session.network.activations[-1] == "softmax"

    run(script, app=BackpropApp(Session(load_preset("softmax-ce"))))


def test_an_edited_target_that_breaks_the_one_hot_sum_is_refused_in_the_dialog() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_edit("t_o2")
        await pilot.pause()
        await submit(app, pilot, "0.5")
        assert isinstance(app.screen, ValueScreen)  # still asking
        problem = str(app.screen.query_one("#problem", Label).render())
        found = classifier_problem(["sigmoid", "softmax"], "cross_entropy", [[0.0, 0.5, 0.0]])
        assert found is not None and problem.startswith(found.removeprefix("key 'targets': "))
        assert "add up to 1" in problem and "to move a one-hot target" in problem
        assert app.session.network.targets.tolist() == [list(TARGETS)]

    run(script, app=BackpropApp(Session(load_preset("softmax-ce"))))
