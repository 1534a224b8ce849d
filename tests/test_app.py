"""The Textual app, driven headless by key presses and clicks.

Each press costs a refresh, so the presses are kept to what is about keys; anything else is
set up through the session and ``render_session``.
"""

from __future__ import annotations

import os
import pathlib
import re
import sys
import threading

import pytest
from apptools import (
    PATIENCE,
    new_app,
    palette_commands,
    palette_highlights,
    run,
    run_python,
    screen_text,
    settle,
    show,
    wait_until,
)
from backprop_tui.app.actions import COMMANDS
from backprop_tui.app.app import ACTIONS, BACKGROUND_NICE, BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.components.panels import (
    EquationPanel,
    ExplanationPanel,
    StatusLine,
    ValuesPanel,
)
from backprop_tui.app.opening import Opening
from backprop_tui.app.screens.fastforward import FastForwardScreen
from backprop_tui.app.screens.goto import GoToScreen
from backprop_tui.app.screens.help import KEYS as HELP_KEYS
from backprop_tui.app.screens.help import HelpScreen
from backprop_tui.numbers import MAX_DIGITS, MIN_DIGITS, fmt
from backprop_tui.output import path_shown
from backprop_tui.presets import load_preset, preset_given
from backprop_tui.session.session import Session
from test_tutorial_numbers import FIRST_ROUND, step_key, within_printed
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Label

NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
STEPS_IN_EPOCH = 55  # the tutorial's network, biases kept fixed

# Every stepping key, and the session action it must perform: the app's session is compared
# with a second session that performs the actions directly.
KEY_ACTIONS = [
    ("right", "next"), ("l", "next"), ("space", "next"),
    ("left", "prev"), ("h", "prev"),
    ("end", "last"), ("home", "first"), ("G", "last"), ("g", "first"),
    ("right_square_bracket", "next_phase"), ("right_square_bracket", "next_phase"),
    ("left_square_bracket", "prev_phase"),
    ("end", "last"), ("right", "next"),  # past the last step: the start of epoch 2
    ("n", "next_epoch"), ("p", "prev_epoch"),
    ("ctrl+z", "undo"), ("u", "undo"), ("ctrl+y", "redo"), ("U", "redo"),
    ("plus", "more_digits"), ("minus", "fewer_digits"),
]


def perform(session: Session, action: str) -> bool:
    if action == "more_digits":
        return session.set_digits(session.digits + 1)
    if action == "fewer_digits":
        return session.set_digits(session.digits - 1)
    return getattr(session, action)()


def agrees(shown: str, printed: str) -> bool:
    """Within one unit of the coarser last digit: the tutorial prints 1.105905967, which 9
    significant digits show as 1.10590597."""
    return within_printed(float(shown), printed) or within_printed(float(printed), shown)


def problem_text(app: BackpropApp) -> str:
    return str(app.screen.query_one("#problem", Label).render())


# Key bindings --------------------------------------------------------------------------


def test_every_stepping_key_performs_its_action() -> None:
    expected = Session(load_preset("mazur"))

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for key, action in KEY_ACTIONS:
            before = app.session.state
            assert perform(expected, action), (key, action)
            await pilot.press(key)
            assert app.session.state != before, f"{key!r} changed nothing"
            assert app.session.state == expected.state, f"{key!r} did not {action}"

    app = run(script)
    assert app.session.digits == 9  # + then -: 9 -> 10 -> 9


def test_digit_keys_change_digits_within_bounds() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        await pilot.press("plus")
        assert session.digits == 10
        await pilot.press("minus")
        assert session.digits == 9

        session.set_digits(MAX_DIGITS)
        app.render_session()
        assert not app.check_action("more_digits", ())
        assert app.check_action("fewer_digits", ())
        state = session.state
        await pilot.press("plus")
        assert session.state == state

        session.set_digits(MIN_DIGITS)
        app.render_session()
        assert not app.check_action("fewer_digits", ())
        state = session.state
        await pilot.press("minus")
        assert session.state == state
        await pilot.press("plus")
        assert session.digits == MIN_DIGITS + 1

    run(script)


def test_bindings_are_disabled_when_they_cannot_apply() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for action in ("prev", "prev_epoch", "undo", "redo", "cancel_run"):
            assert not app.check_action(action, ()), action
        for action in ("next", "first", "last", "next_phase", "next_epoch", "goto", "help"):
            assert app.check_action(action, ()), action
        state = app.session.state
        await pilot.press("left", "u", "U")  # disabled: nothing happens
        assert app.session.state == state

        await pilot.press("right")
        assert app.check_action("prev", ()) and app.check_action("undo", ())
        assert not app.check_action("redo", ())
        await pilot.press("u")
        assert app.session.index == 0
        assert app.check_action("redo", ())

        app.session.last()
        app.render_session()
        assert not app.check_action("last", ()) and not app.check_action("next_phase", ())

    run(script)


def test_stepping_keys_work_whatever_has_focus() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        focusable = list(app.screen.focus_chain)
        for widget in [None, *focusable]:
            if widget is not None:
                widget.focus()
                await pilot.pause()
                assert app.focused is widget
            index = app.session.index
            await pilot.press("right")
            assert app.session.index == index + 1, f"right did not step with {widget} focused"

    run(script)


def test_goto_by_name() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("colon")
        assert isinstance(app.screen, GoToScreen)
        await pilot.press(*"dE/dw1", "enter")
        assert not isinstance(app.screen, GoToScreen)
        assert app.session.step.key == "dE/dw1"
        assert "∂E/∂w₁" in screen_text(app)

    run(script)


def test_goto_bad_name_is_explained_and_the_dialog_stays() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("colon", "z", "z", "enter")
        assert isinstance(app.screen, GoToScreen)
        assert "no step named 'zz'" in problem_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, GoToScreen)
        assert app.session.index == 0 and not app.session.can_undo()

    run(script)


def test_keys_typed_in_the_goto_dialog_do_not_step_or_quit() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("colon", "h", "l", "q", "space", "n", "u", "left", "right")
        assert isinstance(app.screen, GoToScreen)
        assert app.screen.query_one(Input).value == "hlq nu"
        assert app.session.index == 0 and app.session.epoch == 1
        assert not app._exit

    run(script)


def test_fast_forward_runs_in_a_worker_and_undoes() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("t")
        assert isinstance(app.screen, FastForwardScreen)
        assert app.screen.query_one(Input).value == "1000"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert (app.session.epoch, app.session.index) == (1001, 0)
        assert not app._fast_forwarding and not app.screen.has_class("-running")
        assert "epoch 1,001" in screen_text(app)
        await pilot.press("u")
        assert (app.session.epoch, app.session.index) == (1, 0)

    run(script)


def test_fast_forward_dialog_rejects_zero_and_escape_closes_it() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("t")
        app.screen.query_one(Input).value = "0"
        await pilot.press("enter")
        assert isinstance(app.screen, FastForwardScreen)
        assert "from 1 to" in problem_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, FastForwardScreen)
        assert not app.workers and app.session.epoch == 1

    run(script)


def test_escape_cancels_a_long_fast_forward() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("right", "right")
        before = app.session.state
        await pilot.press("t")
        field = app.screen.query_one(Input)
        field.value = "5_000_000"  # minutes of work
        # Not pilot.press("enter"): with the run ticking, the pilot waits ~2 s for an idle app.
        await field.action_submit()
        await wait_until(pilot, lambda: app._fast_forwarding)
        assert app.screen.has_class("-running")
        assert app.check_action("cancel_run", ())
        for action in ("next_epoch", "prev_epoch", "fast_forward", "undo", "redo", "edit",
                       "quiz", "export"):
            assert not app.check_action(action, ()), action
        assert app.check_action("next", ()) and app.check_action("prev", ())  # in the epoch
        app.session.last()
        assert not app.check_action("next", ())  # not on into the epoch the run fills
        app.session.undo()
        app.session.goto(1)
        app.session.prev()
        assert app.session.index == 0 and not app.check_action("prev", ())  # nor back out
        app.session.undo()
        app.session.undo()
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not app._fast_forwarding and not app.screen.has_class("-running")
        assert app.session.state == before
        assert app.session.past[-1].index == 1  # no fast-forward entered the undo history

    run(script)


def test_help_opens_with_question_mark_and_f1() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "command palette" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes the help, does not quit
        assert not isinstance(app.screen, HelpScreen)
        assert not app._exit

    run(script)


def test_help_lists_every_key_beside_what_it_does() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_help()
        await settle(pilot)
        rows = [tuple(str(label.render()) for label in row.query(Label))
                for row in app.screen.query(".help-row")]
        for keys, what in HELP_KEYS:
            assert (keys, what) in rows, keys
        assert not any("[/]" in cell for row in rows for cell in row)

    run(script)


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
def test_quit_keys(key: str) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press(key)
        assert app._exit

    app = run(script)
    assert app.return_code == 0
    assert not app.is_running


def test_ctrl_c_says_how_to_quit_in_plain_words() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+c")
        assert not app._exit
        assert [(n.title, n.message) for n in app._notifications] == [
            ("Do you want to quit?", "Press q or ctrl+q to quit the app.")]
        await settle(pilot)
        assert "Press q or ctrl+q to quit the app." in screen_text(app)  # no [b] shown

    run(script, notifications=True)


@pytest.mark.parametrize("downloads", [True, False], ids=["Downloads", "no Downloads"])
def test_the_screenshot_says_where_it_went(downloads: bool, tmp_path, monkeypatch) -> None:
    """Into Downloads, as in any Textual app, or the working folder where there is none (where
    Textual's own would fail); the toast is plain words (Textual's is markup)."""
    import platformdirs

    folder = tmp_path / "Downloads"
    if downloads:
        folder.mkdir()
    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: folder)
    monkeypatch.chdir(tmp_path)

    def written() -> list[pathlib.Path]:  # whole (the toast may come before it is closed)
        return [path for path in (folder if downloads else tmp_path).glob("*.svg")
                if path.read_text().rstrip().endswith("</svg>")]

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.deliver_screenshot()  # as the palette's Screenshot does
        await wait_until(pilot, lambda: bool(app._notifications) and bool(written()))

    app = run(script)
    [saved] = written()
    assert saved.name.startswith("backprop-tui_") and "step 0 of 55" in saved.read_text(
        ).replace("&#160;", " ")
    assert [(n.title, n.message, n.severity) for n in app._notifications] == [
        ("Screenshot", f"Saved the screenshot to {path_shown(saved)}", "information")]


def test_a_screenshot_not_saved_says_why(tmp_path) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.deliver_screenshot("shot.svg", str(tmp_path / "gone"))
        await wait_until(pilot, lambda: bool(app._notifications))

    app = run(script)
    assert [(n.message, n.severity) for n in app._notifications] == [
        (f"The screenshot was not saved: {path_shown(tmp_path / 'gone' / 'shot.svg')}: No such "
         "file or directory", "error")]


# Command palette -----------------------------------------------------------------------


def test_palette_commands_follow_availability() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        commands = palette_commands(app)
        for action, title, _ in COMMANDS:
            assert (title in commands) == bool(app.check_action(action, ())), title
        assert "Previous step" not in commands and "Undo" not in commands
        commands["Next step"].run()
        assert app.session.index == 1
        assert "Previous step" in palette_commands(app)

    run(script)


def test_palette_runs_next_step() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Next step")
        await palette_highlights(app, pilot, "Next step")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette)
        assert app.session.index == 1

    run(script)


# The tutorial on screen -----------------------------------------------------------------


def test_first_epoch_by_keys_shows_every_published_number() -> None:
    screens: dict[str, str] = {}

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        session = app.session
        assert len(session.steps) == STEPS_IN_EPOCH and session.digits == 9
        for index in range(1, STEPS_IN_EPOCH + 1):
            await pilot.press("right")
            assert session.index == index
            step = session.step
            text = screen_text(app)
            assert f"step {index} of {STEPS_IN_EPOCH}" in text
            if step.value is not None:  # the result at the default 9 digits
                assert fmt(step.value, 9) in text, (step.key, fmt(step.value, 9))
            screens[step.key] = text.replace("−", "-")

    run(script)
    shown = {number for text in screens.values() for number in NUMBER.findall(text)}
    for name, printed in FIRST_ROUND.items():
        assert any(agrees(n, printed) for n in shown), (name, printed)
        at_step = NUMBER.findall(screens[step_key(name)])
        assert any(agrees(n, printed) for n in at_step), (name, printed)


# The diagram -----------------------------------------------------------------------------


async def click_element(pilot: Pilot, diagram: NetworkDiagram, element: str) -> None:
    """Click the first text span of ``element`` (a unit's box, a weight's label)."""
    span = next(s for s in diagram.current_layout.spans if s.element == element)
    inset = diagram.content_region.offset - diagram.region.offset
    await pilot.click(NetworkDiagram, offset=(inset.x + span.x + 1, inset.y + span.y))


def test_clicks_in_the_diagram_go_to_their_steps() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        diagram = app.query_one(NetworkDiagram)
        await click_element(pilot, diagram, "h1")
        assert app.session.step.key == "out_h1"
        await settle(pilot)
        await click_element(pilot, diagram, "w5")
        assert app.session.step.key == "w5+"
        await pilot.click(NetworkDiagram, offset=(1, 1))  # empty space: nothing
        assert app.session.step.key == "w5+"

    run(script)


# Sizes and theme ---------------------------------------------------------------------------


PANELS = [StatusLine, NetworkDiagram, EquationPanel, ExplanationPanel, ValuesPanel]


def check_panels_shown(app: BackpropApp) -> None:
    for panel in PANELS:
        region = app.query_one(panel).region
        assert region.width > 0 and region.height > 0, panel.__name__
    assert not app.query_one("#too-small").display
    text = screen_text(app)
    for title in ("Network", "Equation", "Explanation", "Values this epoch"):
        assert title in text


@pytest.mark.parametrize("size", [(80, 24), (250, 70)], ids=str)
def test_sizes_show_every_panel(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for target in (0, "E_total", "dE/dw5", "w1+", STEPS_IN_EPOCH):
            await show(app, pilot, target)
            check_panels_shown(app)
        assert "E_total" in screen_text(app)

    run(script, size=size)


def test_too_small_at_start() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        assert app.query_one("#too-small").display
        assert not app.query_one("#main").display
        assert "at least 80×24" in screen_text(app)

    run(script, size=(60, 20))


def test_resize_to_too_small_and_back() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert app.query_one("#too-small").display
        assert not app.query_one("#main").display
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        check_panels_shown(app)

    run(script)


def test_theme_option() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        assert app.theme == "textual-light"
        assert not app.current_theme.dark

    run(script, app=new_app(theme="textual-light"))


# The opening: the first frame drawn from the network file, the session built after it.


def opening(builds: list[Session], gate: threading.Event) -> Opening:
    """The tutorial's network as an Opening; ``builds`` collects the sessions it builds. A
    build in the background waits for ``gate``, so a test sees the app before it is done."""

    def build() -> Session:
        if threading.current_thread() is not threading.main_thread():
            assert gate.wait(PATIENCE)
        builds.append(Session(load_preset("mazur")))
        return builds[-1]

    return Opening(preset_given("mazur"), build)


def test_opening_draws_what_a_built_session_draws() -> None:
    """The first frame from the file alone equals the frame of the session built after it,
    footer included; the session is built once, in the background."""
    builds: list[Session] = []
    gate = threading.Event()
    frames: dict[str, tuple[str, dict[str, bool | None]]] = {}

    def frame(app: BackpropApp) -> tuple[str, dict[str, bool | None]]:
        return screen_text(app), {action: app.check_action(action, ()) for action in ACTIONS}

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        assert app._session is None
        frames["opening"] = frame(app)
        gate.set()
        await wait_until(pilot, lambda: app._session is not None)
        await settle(pilot)
        frames["built"] = frame(app)

    app = run(script, app=BackpropApp(opening(builds, gate)))
    assert len(builds) == 1 and app.session is builds[0]
    text = frames["opening"][0]
    assert "step 0 of 55" in text and re.search(r"b2 .* 0\.6 ", text) and "→ Next" in text
    assert frames["opening"] == frames["built"]  # the same text, the same keys available


@pytest.mark.skipif(sys.platform != "linux", reason="threads have a priority of their own on Linux")
def test_the_session_is_built_at_the_lowest_priority_the_frames_at_the_apps() -> None:
    """Where many apps start at once (a class's browser tabs), every first frame comes
    before any session's build: the build's thread gives way (nice 10), the app's does not."""
    priorities: dict[str, int] = {}

    def build() -> Session:
        priorities["build"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return Session(load_preset("mazur"))

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await wait_until(pilot, lambda: app._session is not None)
        priorities["app"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    run(script, app=BackpropApp(Opening(preset_given("mazur"), build)))
    assert priorities == {"build": BACKGROUND_NICE, "app": os.getpriority(os.PRIO_PROCESS, 0)}


def test_a_key_pressed_before_the_session_is_built_is_not_lost() -> None:
    """A key that comes before the background build is done builds the session at once;
    the background one, done later, is dropped."""
    builds: list[Session] = []
    gate = threading.Event()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("right")
        await settle(pilot)
        assert (app.session.epoch, app.session.index) == (1, 1)
        gate.set()
        await wait_until(pilot, lambda: len(builds) == 2)
        await settle(pilot)
        assert "step 1 of 55" in screen_text(app)

    app = run(script, app=BackpropApp(opening(builds, gate)))
    assert app.session is builds[0] and app.session.index == 1


def test_the_first_frame_does_not_import_numpy() -> None:
    """The app, the command line and the first frame's data need no numpy (it takes a
    tenth of a second to import, and the first frame would wait for it)."""
    code = (
        "import sys\n"
        "import backprop_tui.cli\n"
        "from backprop_tui.app import app, view_model\n"
        "from backprop_tui.presets import preset_given\n"
        "given = preset_given('deep-relu')\n"
        "view_model.opening_status(given), view_model.opening_diagram(given)\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
        "given.network()\n"
        "assert 'numpy' in sys.modules\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
