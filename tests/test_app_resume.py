"""Resuming in the app: the last five sessions listed and picked, undo after a resume, and
the command line's one-line messages for nothing saved and for a JSON-lines file.

XDG_STATE_HOME points into tmp_path in every test (autouse fixture), as in test_app_export.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from apptools import TUI, run, settle
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.resume import ResumeScreen
from backprop_tui.cli import main
from backprop_tui.export.formats import FORMATS
from backprop_tui.netfile import Source
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session import autosave
from backprop_tui.session.autosave import SESSIONS, Autosaver, find_last, state_path
from backprop_tui.session.persist import read_session
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets import Label, OptionList

NAMES = ["mazur", "mazur-momentum", "mazur-adam", "seed", "tanh-linear", "xor"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def preset_session(name: str, epochs: int = 0, steps: int = 0) -> Session:
    session = Session(load_preset(name), source=Source("preset", name, preset_text(name)))
    for _ in range(epochs):
        assert session.next_epoch()
    for _ in range(steps):
        assert session.next()
    return session


def six_runs() -> list[Session]:
    """Six apps run one after another, each on a preset of NAMES, the n-th at epoch n + 1
    and step n, each moving the session before it aside as it first saves (as the app does
    after a fresh start, or after ctrl+o opens another network)."""
    sessions = []
    for n, name in enumerate(NAMES):
        session = preset_session(name, n, n)
        saver = Autosaver(state_path(), keep_old=True)
        saver.changed(session)
        assert saver.error is None
        sessions.append(session)
    return sessions


def lines(screen: ResumeScreen) -> list[str]:
    options = screen.query_one("#sessions", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def test_the_state_folder_keeps_the_last_five_sessions() -> None:
    sessions = six_runs()
    folder = state_path().parent
    assert sorted(p.name for p in folder.glob("*.json")) == [
        "last-session.json", "last-session.previous-2.json", "last-session.previous-3.json",
        "last-session.previous-4.json", "last-session.previous.json"]
    last = find_last()
    assert last is not None and last.session is not None
    assert last.session.state == sessions[-1].state
    assert [(s.name, s.epoch, s.index) for s in last.listed] == [
        ("xor", 6, 5), ("tanh-linear", 5, 4), ("seed", 4, 3), ("mazur-adam", 3, 2),
        ("mazur-momentum", 2, 1)]  # newest first; the sixth oldest, mazur's, let go
    assert len(last.listed) == SESSIONS


def test_the_prompt_lists_the_five_and_a_number_picks_one() -> None:
    def today() -> str:  # this year's date: no year
        return datetime.now().astimezone().strftime("%m-%d ")

    saved_on = today()
    sessions = six_runs()
    saver = Autosaver(state_path(), keep_old=True, interval=0.0)
    app = BackpropApp(preset_session("mazur"), autosaver=saver, last=find_last())

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResumeScreen)
        assert str(screen.query_one("#title", Label).render()) == (
            "Resume your last session (epoch 6, step 5)?")
        days = (saved_on, today())  # a run across midnight shows either
        shown = lines(screen)
        assert [line.split(" · ")[:2] for line in shown] == [
            ["▶ 1  xor", "epoch 6, step 5"], ["  2  tanh-linear", "epoch 5, step 4"],
            ["  3  seed", "epoch 4, step 3"], ["  4  mazur-adam", "epoch 3, step 2"],
            ["  5  mazur-momentum", "epoch 2, step 1"]]  # the first highlighted: ▶
        assert all(line.split(" · ")[2].startswith(days) for line in shown)
        await pilot.press("3")
        await settle(pilot)
        assert not isinstance(app.screen, ResumeScreen)
        assert app.session.state == sessions[3].state  # seed's
        assert app.session.source is not None and app.session.source.name == "seed"
        said = [str(n.message) for n in app._notifications]
        assert said == [f"Resumed the session saved in {state_path().parent}/last-session."
                        "previous-2.json; the session you had last is kept as "
                        "last-session.previous.json"]  # one toast: what went where
        app.action_next()  # a change: saved

    run(script, app=app)
    # seed's session is the current one now; the one it replaced, the earlier ones'
    # first, and its own old file is gone: each session kept once.
    listed = find_last()
    assert listed is not None
    assert [(s.name, s.epoch, s.index) for s in listed.listed] == [
        ("seed", 4, 4), ("xor", 6, 5), ("tanh-linear", 5, 4), ("mazur-adam", 3, 2),
        ("mazur-momentum", 2, 1)]


def test_with_no_last_session_the_earlier_ones_are_offered() -> None:
    sessions = six_runs()
    state_path().unlink()  # xor's

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResumeScreen)
        assert str(screen.query_one("#title", Label).render()) == "Resume an earlier session?"
        assert [line[:16] for line in lines(screen)] == [
            "▶ 1  tanh-linear", "  2  seed · epoc", "  3  mazur-adam ", "  4  mazur-momen"]
        await pilot.press("1")
        await settle(pilot)
        assert app.session.state == sessions[4].state

    run(script, app=BackpropApp(preset_session("mazur"), last=find_last()))


def test_arrows_and_enter_pick_and_n_starts_fresh() -> None:
    sessions = six_runs()

    async def pick(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")
        await settle(pilot)
        assert [line[:3] for line in lines(app.screen)] == ["  1", "  2", "  3", "  4", "▶ 5"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.state == sessions[1].state  # the fifth: mazur-momentum's

    run(pick, app=BackpropApp(preset_session("mazur"), last=find_last()))

    async def fresh(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ResumeScreen) and app.session.epoch == 1

    run(fresh, app=BackpropApp(preset_session("mazur"), last=find_last()))


def test_a_session_moved_aside_for_another_network_is_listed() -> None:
    """ctrl+o's way: the current file flushed, then keep_old set, so the next save moves it
    aside as an earlier session."""
    first = preset_session("mazur", 2, 3)
    saver = Autosaver(state_path(), interval=0.0)
    saver.changed(first)
    saver.flush()
    saver.keep_old = True
    saver.changed(preset_session("xor", 1))
    last = find_last()
    assert last is not None
    assert [(s.name, s.epoch, s.index) for s in last.listed] == [("xor", 2, 0),
                                                                  ("mazur", 3, 3)]
    assert last.listed[1].path == state_path().with_name("last-session.previous.json")


def test_another_network_opened_before_a_change_keeps_the_one_resumed() -> None:
    """An earlier session picked, then (before any change saved it) another network opened
    and saved: the picked one stays an earlier session; five are kept."""
    sessions = six_runs()
    picked = state_path().with_name("last-session.previous-2.json")
    saver = Autosaver(state_path(), keep_old=True)
    saver.resumed(picked, read_session(picked))
    saver.changed(preset_session("iris-mini", 1))  # ctrl+o's network, saved first
    assert saver.error is None
    last = find_last()
    assert last is not None
    assert [(s.name, s.epoch) for s in last.listed] == [
        ("iris-mini", 2), ("xor", 6), ("tanh-linear", 5), ("seed", 4), ("mazur-adam", 3)]
    assert sessions[3].state.epoch == 4  # seed's, picked, still there
    assert len(list(state_path().parent.glob("*.json"))) == SESSIONS


def test_undo_after_a_resume_goes_back_to_the_state_before() -> None:
    session = preset_session("mazur", 1, 4)
    assert session.edit("w5", 0.3) and session.next()
    autosave.save(session, state_path())
    saver = Autosaver(state_path(), keep_old=True, interval=0.0)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert app.session.state == session.state
        await pilot.press("u")
        await settle(pilot)
        assert app.session.state == session.past[-1]  # the edit, before the step after it
        await pilot.press("u")
        await settle(pilot)
        assert app.session.state == session.past[-2]  # before the edit: w5 as given
        assert app.session.state.edits == () and app.session.current_value("w5") != 0.3

    run(script, app=BackpropApp(preset_session("mazur"), autosaver=saver, last=find_last()))


# The command line's messages ----------------------------------------------------------------


@pytest.fixture
def launched(monkeypatch) -> list[BackpropApp]:
    apps: list[BackpropApp] = []
    monkeypatch.setattr(BackpropApp, "run", lambda self, *a, **k: apps.append(self))
    return apps


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


def test_resume_with_nothing_saved_says_where_it_looked(launched, capsys) -> None:
    assert main(["--resume"]) == 2
    err = one_line_error(capsys)
    assert err == (f"backprop-tui: --resume: nothing saved yet in {state_path().parent} (the "
                   "app keeps your session there as you work): run backprop-tui without "
                   "--resume to start one, or give a session file: --resume FILE\n")
    assert not state_path().parent.exists()  # nothing written: not even a lock
    saver = Autosaver(state_path(), keep_old=True)  # an earlier session, no last one
    saver.changed(preset_session("mazur"))
    os.replace(state_path(), state_path().with_name("last-session.previous.json"))
    assert main(["--resume"]) == 2
    err = one_line_error(capsys)
    assert f"no last session in {state_path().parent}, but an earlier one: " in err
    assert "run backprop-tui without --resume to pick one" in err
    assert launched == []


def test_resume_of_a_json_lines_export_says_it_is_a_log(launched, capsys, tmp_path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(FORMATS["jsonl"](preset_session("mazur", 1), datetime.now(UTC))))
    expected = (f"backprop-tui: {log}: a JSON-lines export is a log, not a resumable session "
                "(`backprop-tui export --format json` writes one)\n")
    assert main(["--resume", str(log)]) == 2
    assert one_line_error(capsys) == expected
    assert main(["export", "--resume", str(log), "-o", str(tmp_path / "out.md")]) == 2
    assert one_line_error(capsys) == expected
    assert launched == [] and not (tmp_path / "out.md").exists()
    # what the message says to do gives a file that resumes
    document = tmp_path / "session.json"
    assert main(["export", "--format", "json", "--epochs", "2", "-o", str(document)]) == 0
    assert read_session(document).epoch == 2
    assert json.loads(document.read_text())["version"] == 2


def test_the_real_command_says_it_in_one_line_and_exits_2(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(TUI), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-m", "backprop_tui", "--resume"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "nothing saved yet in" in done.stderr and str(tmp_path / "state") in done.stderr
