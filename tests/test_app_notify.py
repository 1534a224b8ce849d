"""What the app says once an action is done: undo and redo (what they took back), edits,
switches, a fast-forward that landed or was stopped; and y, which copies the step."""

from __future__ import annotations

import re

from apptools import run, settle, wait_until
from backprop_tui.app import notices
from backprop_tui.app.app import BackpropApp
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot


def said(app: BackpropApp) -> list[str]:
    return [n.message for n in app._notifications]


def test_undo_and_redo_say_the_move_they_took_back() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.goto(16)
        app.action_prev()
        app.action_undo()
        assert app.session.index == 16
        app.action_redo()
        assert app.session.index == 15
        app.session.last()
        app.action_next()  # into the next epoch
        app.action_undo()
        await pilot.pause()
        assert said(app) == ["Undone: step 16 → step 15", "Redone: step 16 → step 15",
                             "Undone: epoch 1, step 55 → epoch 2, the start"]
        assert all(n.timeout == BackpropApp.TOAST for n in app._notifications)

    run(script, notifications=True)


def test_an_edit_says_its_values_and_undo_and_redo_say_the_same() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app._edit("w5", 0.3)
        app.action_undo()
        assert app.session.current_value("w5") == 0.4
        app.action_redo()
        app._edit("w5", 0.25)  # replaces the edit at the same epoch
        app.action_undo()
        assert app.session.current_value("w5") == 0.3
        app._edit("learning_rate", 0.6)
        await pilot.pause()
        assert said(app) == [
            "w5 0.4 → 0.3 from epoch 1", "Undone: w5 0.4 → 0.3 from epoch 1",
            "Redone: w5 0.4 → 0.3 from epoch 1", "w5 0.3 → 0.25 from epoch 1",
            "Undone: w5 0.3 → 0.25 from epoch 1", "η 0.5 → 0.6 from epoch 1"]

    run(script, notifications=True)


def test_a_switch_says_the_option_from_which_epoch() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.next_epoch()
        app.session.next_epoch()
        app.switch("optimizer", "adam")()
        app.switch("update_biases", True)()
        app.switch("rounding", 4)()
        app.switch("activation2", "tanh")()
        app.action_undo()
        assert app.session.network.activations[-1] == "sigmoid"
        await pilot.pause()
        assert said(app) == [
            "Optimizer sgd → adam from epoch 3", "Biases kept fixed → updated too from epoch 3",
            "Hand rounding off → 4 significant digits from epoch 3",
            "Layer 2 sigmoid → tanh from epoch 3", "Undone: Layer 2 sigmoid → tanh from epoch 3"]

    run(script, notifications=True)


def test_undo_says_a_fast_forward_and_the_digits() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_more_digits()
        app.session.fast_forward(3)
        app.action_undo()
        app.action_undo()
        await pilot.pause()
        assert said(app) == ["Undone: fast-forward epochs 1 → 4", "Undone: digits 9 → 10"]

    run(script, notifications=True)


def test_a_finished_fast_forward_says_epochs_errors_and_time() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.goto(12)
        app.start_run(3)
        await app.workers.wait_for_complete()
        await settle(pilot)
        network = load_preset("mazur")
        for _ in range(3):
            network = trace_epoch(network).after
        after = fmt(trace_epoch(network).loss, 9)
        toast = list(app._notifications)[-1]
        assert toast.title == "Fast-forward"
        assert re.fullmatch(rf"epochs 1 → 4 · E_total 0\.298371109 → {re.escape(after)} · "
                            r"\d+\.\d s", toast.message), toast.message

    run(script, notifications=True)


def test_a_stopped_fast_forward_says_how_far_it_got() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.start_run(5_000_000)
        await wait_until(pilot, lambda: app.session.timeline.known() > 50)
        app.action_cancel_run()
        await wait_until(pilot, lambda: not app.available("cancel_run"))
        await settle(pilot)
        reached = app.session.timeline.known() + 1
        error = fmt(app.session.loss_at(reached), 9)
        toast = list(app._notifications)[-1]
        assert toast.title == "Fast-forward stopped"
        assert re.fullmatch(
            rf"epochs 1 → {reached:,} of 5,000,001 · E_total 0\.298371109 → "
            rf"{re.escape(error)} · \d+\.\d s · the cursor stays at epoch 1; the error "
            "curve keeps the epochs that ran", toast.message), toast.message

    run(script, notifications=True)


def test_several_examples_summarise_the_data_set_s_error() -> None:
    session = Session(load_preset("xor"))
    session.fast_forward(2)
    before, after = (fmt(session.loss_at(epoch), 9) for epoch in (1, 3))
    assert notices.run_summary(session, 1, 0.04) == f"epochs 1 → 3 · E {before} → {after} · 0.0 s"


# Copy -----------------------------------------------------------------------------------


def test_y_copies_the_step_as_the_equation_panel_shows_it() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("y")
        await pilot.pause()
        assert said(app) == [notices.NOTHING_TO_COPY] and app.clipboard == ""
        app.session.goto(16)
        app.render_session()
        await pilot.press("y")
        step = app.session.steps[15]
        assert app.clipboard == ("∂E/∂w₅ = δ_o₁·∂net_o₁/∂w₅\n"
                                 f"       = {step.substituted(9)}\n"
                                 "       = 0.0821670406")
        assert said(app)[-1] == ("Copied step 16 (formula, numbers, value): "
                                 "∂E/∂w₅ = 0.0821670406")

    run(script, notifications=True)
