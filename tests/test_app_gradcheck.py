"""The gradient check in the app: d shows the finite difference beside ∂E/∂w and ∂E/∂b."""

from __future__ import annotations

import dataclasses

from apptools import palette_commands, run, settle, show
from backprop_tui.app.actions import COMMANDS
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.panels import EquationPanel
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot


def equation_text(app: BackpropApp) -> str:
    return app.query_one(EquationPanel).text


def test_d_toggles_the_gradient_check() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "dE/dw5")
        assert "relative difference" not in equation_text(app)
        await pilot.press("d")
        await settle(pilot)
        text = equation_text(app)
        assert "≈  0.0821670406  (numeric)" in text
        relative = text.split("✓ relative difference ")[1].split()[0]
        assert float(relative) < 1e-6
        assert "h = 6e-06" in text
        assert len(app.session._checks[app.session.steps]) == 1  # only this step's
        await pilot.press("right", "right", "right")  # w5+, dnet_o1/dw6, dE/dw6
        await settle(pilot)
        text = equation_text(app)
        assert "≈  0.0826676278  (numeric)" in text and "✓ relative difference" in text
        await pilot.press("left")  # ∂net_o1/∂w6: not a gradient
        await settle(pilot)
        assert "Gradient check on" in equation_text(app)
        await pilot.press("u")  # undo moves back; the check is display state, it stays on
        await settle(pilot)
        assert app.gradient_checking and "✓ relative difference" in equation_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert not app.gradient_checking
        assert "relative difference" not in equation_text(app)
        assert "Gradient check" not in equation_text(app)

    run(script)


def test_during_backward_hidden_gradient_says_why_it_differs() -> None:
    network = dataclasses.replace(load_preset("mazur"), update_order="during_backward")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "dE/dw1")
        await pilot.press("d")
        await settle(pilot)
        text = equation_text(app)
        assert "≈  0.000438567719  (numeric)" in text  # the plain gradient, estimated
        assert "≈ relative difference 0.17" in text and "✗" not in text
        assert "during_backward" in text and "w5…w8" in text

    run(script, app=BackpropApp(Session(network)))


def test_gradient_check_is_in_the_palette() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "dE/dw1")
        assert "gradient_check" in {action for action, *_ in COMMANDS}
        commands = palette_commands(app)
        history = list(app.session.past)
        commands["Gradient check on/off"].run()
        await settle(pilot)
        assert app.gradient_checking
        assert "✓ relative difference" in equation_text(app)
        assert app.session.past == history  # display state: nothing to undo

    run(script)
