"""ctrl+o: another network in the app, a preset or a file, in a new session; the session
it replaces is saved first and kept aside (last-session.previous.json), resumable.

XDG_STATE_HOME and the working folder are in tmp_path (autouse fixture).
"""

from __future__ import annotations

import json
import pathlib

import pytest
from apptools import run, settle
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.preferences import Preferences, PreferencesFile, Remembered, parse
from backprop_tui.app.screens.open import OpenScreen
from backprop_tui.cli import main
from backprop_tui.netfile import NetworkFileError, Source
from backprop_tui.presets import PRESETS, preset_text
from backprop_tui.session.autosave import Autosaver, previous_path, state_path
from backprop_tui.session.persist import load_session
from backprop_tui.session.session import Session
from backprop_tui.session.sources import sourced
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList


@pytest.fixture(autouse=True)
def _isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def new_session(preset: str = "mazur") -> Session:
    given, source = sourced(preset)
    return Session(given.network(), source=source)


def saving_app(session: Session) -> BackpropApp:
    """The app as a plain start makes it: saving to the state folder."""
    return BackpropApp(session, autosaver=Autosaver(state_path(), keep_old=True))


def notifications(app: BackpropApp) -> list[str]:
    return [n.message for n in app._notifications]


def problem(screen: OpenScreen) -> str:
    label = screen.query_one("#problem", Label)
    return str(label.render()) if label.display else ""


async def open_dialog(app: BackpropApp, pilot: Pilot) -> OpenScreen:
    app.action_open()
    await settle(pilot)
    assert isinstance(app.screen, OpenScreen)
    return app.screen


async def open_path(app: BackpropApp, pilot: Pilot, typed: str) -> OpenScreen:
    screen = await open_dialog(app, pilot)
    field = screen.query_one("#path", Input)
    field.value = typed
    await field.action_submit()
    await settle(pilot)
    return screen


def test_the_dialog_lists_every_preset_with_its_description_the_current_one_first() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_dialog(app, pilot)
        presets = screen.query_one(OptionList)
        shown = [(option.id, str(option.prompt))
                 for option in (presets.get_option_at_index(k)
                                for k in range(presets.option_count))]
        assert shown == [(name, f"{name}  {about}") for name, about in PRESETS.items()]
        assert presets.highlighted == list(PRESETS).index("xor")
        assert screen.focused is presets

    run(script, app=BackpropApp(new_session("xor")))


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[BackpropApp]:
    """Apps main() would run: captured instead of run."""
    apps: list[BackpropApp] = []
    monkeypatch.setattr(BackpropApp, "run", lambda self, *a, **k: apps.append(self))
    return apps


def test_ctrl_o_opens_a_preset_and_the_old_session_is_kept_and_resumable(launched) -> None:
    old = new_session()
    assert old.goto("E_total") and old.edit("w5", 0.5) and old.goto(7)
    before = old.state

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, OpenScreen)
        app.screen.query_one(OptionList).highlighted = list(PRESETS).index("xor")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, OpenScreen)
        session = app.session
        assert session is not old
        assert session.source == Source("preset", "xor", preset_text("xor"))
        assert session.network.examples == 4 and (session.epoch, session.index) == (1, 0)
        kept = previous_path(state_path())
        assert notifications(app)[-1] == (
            f"Opened preset xor. Your session on mazur is kept: start the app with --resume "
            f"{kept}, or pick it on the next start.")

    app = run(script, app=saving_app(old))
    kept = previous_path(state_path())
    assert load_session(kept.read_bytes(), str(kept)).state == before
    saved = json.loads(state_path().read_text("utf-8"))  # the new session's own file
    assert saved["cursor"]["epoch"] == 1 and app.session.source.name == "xor"
    assert main(["--resume", str(kept)]) == 0  # as the notification says
    resumed = launched[0].session
    assert resumed.state == before and resumed.source.name == "mazur"


def test_ctrl_o_opens_a_network_file(tmp_path: pathlib.Path) -> None:
    text = preset_text("tanh-linear")
    (tmp_path / "net.toml").write_text(text, "utf-8")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await open_path(app, pilot, "net.toml")  # relative: to the working folder
        assert not isinstance(app.screen, OpenScreen)
        assert app.session.source == Source("file", str(tmp_path / "net.toml"), text)
        assert list(app.session.network.activations) == list(
            new_session("tanh-linear").network.activations)
        assert notifications(app)[-1].startswith(
            f"Opened {tmp_path / 'net.toml'}. Your session on mazur is kept")

    worked = new_session()
    assert worked.next()  # something done in it: kept
    run(script, app=saving_app(worked))
    assert previous_path(state_path()).exists()


def test_a_session_nothing_was_done_in_is_not_kept() -> None:
    """Trying the presets one after another keeps none of them: the five kept are work."""
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for name in ("xor", "seed", "mazur-adam"):
            app._opened(sourced(name))
            await settle(pilot)
            assert notifications(app)[-1] == f"Opened preset {name}."
        assert app.session.source.name == "mazur-adam"

    run(script, app=saving_app(new_session()))
    assert not previous_path(state_path()).exists()


def test_a_bad_path_or_file_is_said_in_the_dialog_which_stays_open(tmp_path) -> None:
    (tmp_path / "bad.toml").write_text("[network]\nlayers = [2, 2]\nweights = 'x'\n", "utf-8")
    with pytest.raises(NetworkFileError) as bad_file:
        sourced(path=str(tmp_path / "bad.toml"))
    session = new_session()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_path(app, pilot, "nope.toml")
        assert app.screen is screen
        assert problem(screen) == (f"{tmp_path / 'nope.toml'}: cannot read the file: "
                                   "No such file or directory")
        field = screen.query_one("#path", Input)
        field.value = "bad.toml"
        await field.action_submit()
        await settle(pilot)
        assert app.screen is screen and problem(screen) == str(bad_file.value)
        assert str(tmp_path / "bad.toml") in problem(screen)
        field.value = "  "
        await field.action_submit()
        await settle(pilot)
        assert problem(screen) == "type the path of a network file, or pick a preset above"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, OpenScreen) and app.session is session

    run(script, app=saving_app(session))
    assert not previous_path(state_path()).exists()


def test_opening_resets_what_the_app_shows_of_the_old_session() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_gradient_check()
        app.action_toggle_curve()
        app.main.curve.compare = True
        await settle(pilot)
        app._opened(sourced("xor"))
        await settle(pilot)
        assert not app.gradient_checking and app._comparing is None
        curve = app.main.curve
        assert not curve.display and not curve.compare
        assert app.main.query_one("#diagram").display

    run(script, app=saving_app(new_session()))


def test_a_session_that_cannot_be_saved_is_not_replaced(tmp_path) -> None:
    (tmp_path / "state").write_text("a file where the folder should be")
    session = new_session()
    assert session.next()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app._opened(sourced("xor"))
        await settle(pilot)
        assert app.session is session
        assert notifications(app)[-1].startswith(
            "Not opened: this session could not be saved first (")
        assert notifications(app)[-1].endswith("Export it with x, then open again.")

    run(script, app=saving_app(session))


def test_an_app_that_saves_nothing_opens_and_says_so() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app._opened(sourced("xor"))
        await settle(pilot)
        assert app.session.source.name == "xor"
        assert notifications(app)[-1] == ("Opened preset xor. The session on mazur was not "
                                          "saved (nothing is, in this app).")

    run(script, app=BackpropApp(new_session()))
    assert not state_path().parent.exists()


def test_the_new_session_takes_the_preferences_and_is_remembered(tmp_path) -> None:
    """As a start does: the digits and the quiz's tolerance preferred; the network opened is
    the one the next plain start opens."""
    file = PreferencesFile(tmp_path / "preferences.toml")
    file.path.write_text("digits = 6\ntolerance = 0.02\n", "utf-8")
    remembered = Remembered(file)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app._opened(sourced("xor"))
        await settle(pilot)
        assert app.session.digits == 6 and app.session.quiz.tolerance == 0.02

    run(script, app=BackpropApp(new_session(), remembered=remembered))
    assert parse(file.path.read_text("utf-8"), ()) == Preferences(
        digits=6, tolerance=0.02, network_kind="preset", network="xor")
