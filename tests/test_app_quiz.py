"""The quiz in the app: `a` turns it on, → asks for the value, a slip is named, a wrong answer
gets a hint, Escape reveals, and the score per phase shows in the status line.

Answers are put in the field directly and submitted with Enter: the presses are the keys
the quiz is about (a, →, Enter, Escape)."""

from __future__ import annotations

from apptools import run, settle
from backprop_tui.app.actions import COMMANDS
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.panels import StatusLine
from backprop_tui.app.screens.help import KEYS as HELP_KEYS
from backprop_tui.app.screens.quiz import QuizScreen
from textual.pilot import Pilot
from textual.widgets import Input, Label


def problem(app: BackpropApp) -> str:
    return str(app.screen.query_one("#problem", Label).render())


def status(app: BackpropApp) -> str:
    return str(app.screen_stack[0].query_one(StatusLine).render())


async def submit(app: BackpropApp, pilot: Pilot, text: str) -> None:
    app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await settle(pilot)


def test_the_quiz_asks_names_a_slip_hints_reveals_and_scores() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        await pilot.press("a")
        assert session.quiz.on
        assert "quiz" in status(app)

        await pilot.press("right")  # net_h1 = 0.3775 is asked for, not shown
        assert isinstance(app.screen, QuizScreen)
        assert session.index == 0
        assert "net_h₁ = w₁·i₁ + w₂·i₂ + b₁" in str(app.screen.query_one("#title", Label).render())

        await submit(app, pilot, "0.0275")  # w1·i1 + w2·i2 without b1
        assert isinstance(app.screen, QuizScreen) and session.index == 0
        assert "you left out the bias b₁" in problem(app)

        await submit(app, pilot, "0.5")  # no slip gives 0.5: a hint
        assert "combine w₁ = 0.15 (given), i₁ = 0.05 (given)" in problem(app)
        assert "b₁ = 0.35 (given)" in problem(app)

        await submit(app, pilot, "zero point four")  # not a number: said, not scored
        assert "type a number" in problem(app)

        await submit(app, pilot, "0.3776")  # within 1e-3 of 0.3775
        assert not isinstance(app.screen, QuizScreen)
        assert session.index == 1
        assert "Forward pass 0/1" in status(app)  # scored at the first try: a slip
        await settle(pilot)
        assert any("Right: net_h₁ = 0.3775 (counted as wrong: the first answer was not)" in
                   str(n.message) for n in app._notifications)

        await pilot.press("right")  # out_h1: revealed with Escape
        assert isinstance(app.screen, QuizScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, QuizScreen)
        assert session.index == 2
        assert "Forward pass 0/2" in status(app)
        assert [a.verdict for a in session.quiz.answers] == [
            "slip", "wrong", "right", "revealed"]
        assert session.quiz.answers[0].slip == "bias-left-out"

        await pilot.press("left")  # back, then forward over an answered step: not asked
        await pilot.press("right")
        assert not isinstance(app.screen, QuizScreen) and session.index == 2

        await pilot.press("a")  # off: → moves at once, and the score leaves the status line
        await pilot.press("right")
        assert session.index == 3 and not isinstance(app.screen, QuizScreen)
        assert "quiz" not in status(app) and "1/2" not in status(app)

    run(script)


def test_a_slip_of_the_hidden_layer_is_named_in_the_dialog() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        session.goto("dE_o1/dout_h1")
        session.quiz.on = True
        app.render_session()
        await pilot.press("right")  # ∂E_o2/∂out_h1 = δ_o2·w7
        assert isinstance(app.screen, QuizScreen)
        await submit(app, pilot, "-0.01948")  # δ_o2 · w7+ (0.511301270)
        assert ("you used the updated w₇; the hidden layer uses the original"
                in problem(app))
        assert "Hidden layer 0/1" in status(app)

    run(script)


def test_the_quiz_key_is_in_the_help_and_the_palette() -> None:
    assert ("quiz", "Quiz on/off (ask first)",
            "Ask for each value before showing it, and score it") in COMMANDS
    assert any(keys == "a" and "quiz" in what for keys, what in HELP_KEYS)
    binding = next(b for b in BackpropApp.BINDINGS if getattr(b, "action", "") == "quiz")
    assert binding.key == "a" and binding.tooltip  # type: ignore[union-attr]
