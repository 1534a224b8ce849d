"""Editing values in the app: e and a name, a double-click in the diagram, option switches
from the palette; each an undoable edit, a bad entry explained with the old value kept."""

from __future__ import annotations

from apptools import palette_commands, run, screen_text, settle
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.screens.edit import NameScreen, ValueScreen
from textual.pilot import Pilot
from textual.widgets import Input, Label


def w5(app: BackpropApp) -> float:
    return float(app.session.network.weights[1][0, 0])


def problem(app: BackpropApp) -> str:
    return str(app.screen.query_one("#problem", Label).render())


def test_e_edits_a_named_value_rejects_a_bad_one_and_undoes() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, NameScreen)
        await pilot.press("w", "9", "9", "enter")  # no such parameter: explained, kept open
        await settle(pilot)
        assert isinstance(app.screen, NameScreen) and "no parameter named 'w99'" in problem(app)
        app.screen.query_one(Input).value = "w5"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        assert app.screen.query_one(Input).value == "0.4"  # the current value, to change
        app.screen.query_one(Input).value = "abc"
        await settle(pilot)
        assert "expected a number" in problem(app)  # checked as typed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen) and w5(app) == 0.4  # the old value kept
        app.screen.query_one(Input).value = "0.3"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ValueScreen) and w5(app) == 0.3
        assert app.session.events[-1]["changes"] == ["w5: 0.4 → 0.3 from epoch 1"]
        await pilot.press("u")
        await settle(pilot)
        assert w5(app) == 0.4
        await pilot.press("U")
        await settle(pilot)
        assert w5(app) == 0.3

    run(script)


def test_escape_keeps_the_old_value() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_edit("w5")
        await settle(pilot)
        app.screen.query_one(Input).value = "0.9"
        await pilot.press("escape")
        await settle(pilot)
        assert w5(app) == 0.4 and not app.session.can_undo()

    run(script)


def test_double_clicking_a_weight_edits_it_and_a_computed_value_is_explained() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        diagram = app.query_one(NetworkDiagram)
        inset = diagram.content_region.offset - diagram.region.offset

        def at(element: str) -> tuple[int, int]:
            span = next(s for s in diagram.current_layout.spans if s.element == element)
            return inset.x + span.x + 1, inset.y + span.y

        await pilot.double_click(NetworkDiagram, offset=at("w5"))
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        app.screen.query_one(Input).value = "0.25"
        await pilot.press("enter")
        await settle(pilot)
        assert w5(app) == 0.25
        await pilot.double_click(NetworkDiagram, offset=at("h1"))
        await settle(pilot)
        assert not isinstance(app.screen, ValueScreen)
        assert any("h1 is computed" in str(n.message) for n in app._notifications)

    run(script)


def test_options_switch_from_the_palette_as_undoable_edits() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        commands = palette_commands(app)
        assert {"Loss: mse", "Biases: updated too", "Update order: during_backward",
                "Layer 1: tanh", "Layer 2: linear"} <= set(commands)
        commands["Loss: mse"].run()
        commands["Biases: updated too"].run()
        await settle(pilot)
        assert app.session.network.loss == "mse" and app.session.network.update_biases
        assert "b1+" in app.session.steps.keys  # the epoch recomputed with the new option
        await pilot.press("u", "u")
        await settle(pilot)
        assert app.session.network.loss == "half_sse" and not app.session.network.update_biases

    run(script)


def test_hand_rounding_switches_from_the_palette_and_shows_in_the_status_line() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        commands = palette_commands(app)
        assert commands["Hand rounding: off"].aside == "current"
        commands["Hand rounding: 4 significant digits"].run()
        app.session.goto("out_h1")
        app.render_session()
        await settle(pilot)
        assert app.session.network.rounding == 4
        assert app.session.step is not None and app.session.step.value == 0.5933
        assert "rounding to 4" in screen_text(app).splitlines()[0]
        assert palette_commands(app)["Hand rounding: off"].aside == "now 4 significant digits"
        await pilot.press("u", "u")  # the move, then the switch
        await settle(pilot)
        assert app.session.network.rounding == 0
        assert "rounding" not in screen_text(app).splitlines()[0]

    run(script)
