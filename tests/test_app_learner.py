"""What a learner reads on the screen where they tripped before (issue 11's findings 1, 6, 8,
10 and 11): printed values after an edit, where an operand came from, a fast-forward's
summary, the quiz's first try, and names typed as people type them."""

from __future__ import annotations

import re

from apptools import run, screen_text, settle, show, submit, wait_until
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.edit import NameScreen, ValueScreen
from backprop_tui.app.screens.goto import GoToScreen
from backprop_tui.app.screens.quiz import QuizScreen
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.netfile import Source
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets import Label


def mazur() -> BackpropApp:
    source = Source("preset", "mazur", preset_text("mazur"))
    return BackpropApp(Session(load_preset("mazur"), source=source))


def notified(app: BackpropApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def test_printed_values_after_an_edit_are_not_judged() -> None:
    """Finding 1: the tutorial's printed values describe the network before the learner's
    edit; a step the edit changes says so instead of calling them slips."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.edit("w5", 0.3)
        await show(app, pilot, "net_o1")
        text = screen_text(app)
        assert "✎ printed 1.105905967 for the network before" in text
        assert "your edit of w5: not compared" in text
        assert "a slip here" not in text and "follows from" not in text
        assert "✎ 1.105905967" in text  # the values panel's mark
        await show(app, pilot, "net_h1")  # the edit does not reach it: judged as before
        assert "✓ printed 0.3775: agrees" in screen_text(app)

    run(script, app=mazur())


def test_an_operand_from_the_last_update_says_so() -> None:
    """Finding 6: from epoch 2 on a weight is the last epoch's update, not 'given'."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.next_epoch()
        await show(app, pilot, "net_h1")
        text = screen_text(app)
        assert "w₁ = 0.149780716  epoch 1's update" in text
        assert "i₁ =        0.05  given" in text
        app.session.edit("w2", 0.25)
        await show(app, pilot, "net_h1")
        assert "w₂ =        0.25  your edit" in screen_text(app)

    run(script)


def test_a_fast_forward_says_what_it_ran_and_a_stopped_one_what_it_kept() -> None:
    """Finding 8: from which epoch to which, from where, the error before and after; and a
    stopped run says the curve keeps what ran, not that nothing changed."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 12)
        app.start_run(1000)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.session.epoch == 1001
        network = load_preset("mazur")  # the error after 1,000 epochs, by chained traces
        for _ in range(1000):
            network = trace_epoch(network).after
        after = fmt(trace_epoch(network).loss)
        said = list(app._notifications)
        assert re.fullmatch(rf"epochs 1 → 1,001 · E_total 0\.298371109 → {re.escape(after)} · "
                            r"\d+\.\d s", said[-1].message), said[-1].message
        assert said[-1].title == "Fast-forward"
        app.start_run(5_000_000)
        await wait_until(pilot, lambda: app.session.timeline.known() > 1200)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await settle(pilot)
        reached = app.session.timeline.known() + 1
        stopped = list(app._notifications)[-1]
        assert stopped.title == "Fast-forward stopped"
        assert stopped.message.startswith(f"epochs 1,001 → {reached:,} of 5,001,001 · E_total ")
        assert stopped.message.endswith(" s · the cursor stays at epoch 1,001; the error curve "
                                        "keeps the epochs that ran")

    run(script)


def test_the_quiz_scores_the_first_try_hints_without_the_answer_and_confirms() -> None:
    """Finding 10: a wrong try then a right one scores as wrong; the first hint names what
    to combine, not the numbers (for a product they are the answer); a right answer is
    confirmed."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.quiz.on = True
        app.session.goto("dnet_o1/dw5")
        app.render_session()
        app.action_next()  # dE/dw5 = δ_o1·∂net_o1/∂w5 is asked
        await settle(pilot)
        assert isinstance(app.screen, QuizScreen)
        await submit(app, pilot, "0.07")
        problem = str(app.screen.query_one("#problem", Label).render())
        assert "combine δ_o₁ (step 14), ∂net_o₁/∂w₅ (step 15)" in problem
        assert "0.138498562" not in problem
        await submit(app, pilot, "0.0821670406")
        assert not isinstance(app.screen, QuizScreen)
        assert "Output layer 0/1" in screen_text(app)
        assert "Right: ∂E/∂w₅ = 0.0821670406 (counted as wrong" in notified(app)

    run(script)


def test_names_are_taken_in_any_case_and_with_spaces() -> None:
    """Finding 11: `e W5` edits w5; `:` takes 'E total' and 'out o1'; numbers put in a
    formula read with its minus sign."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_edit()
        await settle(pilot)
        assert isinstance(app.screen, NameScreen)
        await submit(app, pilot, "W5")
        assert isinstance(app.screen, ValueScreen)
        assert "New value of w5" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        for typed, symbol in (("E total", "E_total ="), ("out o1", "out_o₁ =")):
            app.action_goto()
            await settle(pilot)
            assert isinstance(app.screen, GoToScreen)
            await submit(app, pilot, typed)
            assert not isinstance(app.screen, GoToScreen), typed
            assert symbol in screen_text(app), typed
        await show(app, pilot, "dE_o2/dout_h1")
        assert "= (−0.0380982365)·0.5" in screen_text(app)

    run(script)


def test_marks_far_past_the_printed_epochs_build_no_unedited_run(monkeypatch) -> None:
    """After an edit, the marks of an epoch with no printed value need no run of the network
    as given (from epoch 1: seconds at epoch 300,000); the printed epoch's marks still do."""
    session = Session(load_preset("mazur"),
                      source=Source("preset", "mazur", preset_text("mazur")))
    session.edit("w5", 0.3)
    session.fast_forward(2000)
    steps = session.steps
    built: list[int] = []
    original = Session.steps_of

    def counting(self: Session, epoch: int, edits: tuple | None = None) -> object:
        built.append(epoch)
        return original(self, epoch, edits)

    monkeypatch.setattr(Session, "steps_of", counting)
    assert session.marks_of(steps) == {}
    assert built == []
    first = original(session, 1)
    assert session.marks_of(first) and built == [1]  # the first epoch's: edited, not judged
