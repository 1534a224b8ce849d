"""The app's preferences: kept in the config folder, read at start, overridden by flags, ignored
with --no-config and by the headless commands; a broken file said once and set aside.

Each app here starts through ``main`` (the command line's own path), with the terminal's run
replaced by a headless ``run_test`` driven by the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.preferences import BROKEN, Preferences, config_path, parse
from backprop_tui.cli import main
from backprop_tui.numbers import DEFAULT_DIGITS
from textual.pilot import Pilot
from textual.theme import BUILTIN_THEMES
from textual.widgets import Label

from tests.apptools import SIZE, submit

Script = Callable[[BackpropApp, Pilot], Awaitable[None]]


def launch(monkeypatch: pytest.MonkeyPatch, argv: list[str],
           script: Script | None = None) -> BackpropApp:
    """``main(argv)`` with the app run headless by ``script``; the app, once it stopped. Each
    app has a state folder of its own: no earlier session is offered."""
    seen: list[BackpropApp] = []
    monkeypatch.setenv("XDG_STATE_HOME", tempfile.mkdtemp(dir=os.environ["XDG_CONFIG_HOME"]))

    def run(app: BackpropApp) -> None:
        async def driven() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                app.session  # noqa: B018 (built now if the first frame has not yet)
                if script is not None:
                    await script(app, pilot)
                await pilot.pause()
        seen.append(app)
        asyncio.run(driven())

    monkeypatch.setattr(BackpropApp, "run", run)
    assert main(argv) == 0
    return seen[0]


def said(app: BackpropApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_preferences_live_in_the_config_folder(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "backprop-tui" / "preferences.toml"


def test_what_is_changed_in_the_app_is_there_at_the_next_start(
                                                               monkeypatch) -> None:
    async def change(app: BackpropApp, pilot: Pilot) -> None:
        app.theme = "nord"
        await pilot.press("plus", "plus", "C")

    first = launch(monkeypatch, ["--preset", "xor"], change)
    assert first.session.digits == DEFAULT_DIGITS + 2
    written = config_path().read_text()
    assert parse(written, BUILTIN_THEMES) == Preferences(
        theme="nord", digits=DEFAULT_DIGITS + 2, curve_scale="log", network_kind="preset",
        network="xor")

    async def look(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("c")
        assert app.main.curve is not None and app.main.curve.log_scale

    again = launch(monkeypatch, [], look)
    assert again.theme == "nord"
    assert again.session.digits == DEFAULT_DIGITS + 2
    assert again.session.source is not None and again.session.source.name == "xor"
    assert said(again) == []
    assert config_path().read_text() == written  # nothing changed: nothing rewritten


def test_flags_win_for_their_run_and_only_a_network_chosen_is_remembered(
                                                                        monkeypatch) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text('theme = "nord"\ntolerance = 0.01\n')
    app = launch(monkeypatch, ["--theme", "gruvbox", "--tolerance", "0.05", "--preset",
                               "mazur-adam"])
    assert app.theme == "gruvbox" and app.session.quiz.tolerance == 0.05
    assert parse(config_path().read_text(), BUILTIN_THEMES) == Preferences(
        theme="nord", tolerance=0.01, network_kind="preset", network="mazur-adam")
    plain = launch(monkeypatch, [])
    assert plain.theme == "nord" and plain.session.quiz.tolerance == 0.01
    assert plain.session.network.optimizer == "adam"


def test_a_network_file_is_remembered_by_its_full_path(tmp_path: Path,
                                                       monkeypatch) -> None:
    network = tmp_path / "mine.toml"
    assert main(["new-config", "--preset", "xor", "-o", str(network)]) == 0
    monkeypatch.chdir(tmp_path)
    launch(monkeypatch, ["--config", "mine.toml"])
    assert parse(config_path().read_text(), BUILTIN_THEMES).network == str(network)
    monkeypatch.chdir("/")
    again = launch(monkeypatch, [])
    assert again.session.source is not None and again.session.source.name == str(network)


def test_with_no_config_nothing_is_read_or_written(monkeypatch) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text('theme = "nord"\ndigits = 9\n')

    async def change(app: BackpropApp, pilot: Pilot) -> None:
        assert app.theme == "textual-dark" and app.session.digits == DEFAULT_DIGITS
        await pilot.press("plus", "C")
        app.theme = "gruvbox"

    app = launch(monkeypatch, ["--no-config"], change)
    assert app.session.digits == DEFAULT_DIGITS + 1
    assert config_path().read_text() == 'theme = "nord"\ndigits = 9\n'


@pytest.mark.parametrize(("text", "why"), [
    ("theme = [", "not TOML"),
    ("digits = 99\n", "digits must be a whole number from 3 to 15, not 99"),
    ("tolerance = 2.0\n", "tolerance: the tolerance must be above 0 and below 1, got 2.0"),
    ('tolerance = "0.01"\n', "tolerance must be a number such as 0.001, not '0.01'"),
    ('theme = "no-such-theme"\n', "theme 'no-such-theme' is not a theme of this Textual"),
    ('curve_scale = "loud"\n', "curve_scale must be 'linear' or 'log', not 'loud'"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('network_kind = "preset"\n', "network_kind and network go together"),
])
def test_a_broken_file_is_said_once_and_set_aside(monkeypatch, text: str,
                                                  why: str) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text(text)
    app = launch(monkeypatch, [])
    notices = [n for n in said(app) if "preferences" in n]
    assert len(notices) == 1 and why in notices[0], said(app)
    assert notices[0].endswith(f"set aside as {BROKEN}, the defaults apply")
    assert app.session.digits == DEFAULT_DIGITS and app.theme == "textual-dark"
    assert (config_path().parent / BROKEN).read_text() == text
    assert not config_path().exists()
    assert not [n for n in said(launch(monkeypatch, [])) if "preferences" in n]


def test_a_network_gone_is_said_and_the_default_opens(tmp_path: Path,
                                                      monkeypatch) -> None:
    gone = tmp_path / "gone.toml"
    config_path().parent.mkdir(parents=True)
    config_path().write_text(f'network_kind = "file"\nnetwork = {json.dumps(str(gone))}\n')
    app = launch(monkeypatch, [])
    assert app.session.source is not None and app.session.source.name == "mazur"
    assert [n for n in said(app) if "opened last" in n] == [
        f"The network you opened last cannot be opened any more ({gone}: cannot read the "
        "file: No such file or directory); mazur opens instead."]
    assert parse(config_path().read_text(), BUILTIN_THEMES).network is None


def test_the_headless_commands_never_read_the_preferences(monkeypatch,
                                                          capsys) -> None:
    def exported() -> list[dict[str, object]]:
        """The log's records, the header without the second it was written."""
        assert main(["export", "--to", "3"]) == 0
        log = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        del log[0]["exported"]
        return log

    plain = exported()
    config_path().parent.mkdir(parents=True)
    config_path().write_text('digits = 12\nnetwork_kind = "preset"\nnetwork = "xor"\n'
                             'tolerance = 0.5\n')
    assert exported() == plain
    assert main(["--no-config", "export", "--to", "3"]) == 2
    assert "--no-config goes with the app, not export" in capsys.readouterr().err


def test_the_quiz_tolerance_set_in_the_palette_is_kept(monkeypatch) -> None:
    async def change(app: BackpropApp, pilot: Pilot) -> None:
        app.action_quiz_tolerance()
        await pilot.pause()
        await submit(app, pilot, "2")
        assert "the tolerance must be above 0 and below 1, got 2" in str(
            app.screen.query_one("#problem", Label).render())
        await submit(app, pilot, "0.02")
        assert app.session.quiz.tolerance == 0.02

    first = launch(monkeypatch, [], change)
    assert "Quiz tolerance 0.001 → 0.02" in said(first)
    assert parse(config_path().read_text(), BUILTIN_THEMES).tolerance == 0.02
    assert launch(monkeypatch, []).session.quiz.tolerance == 0.02


def test_undoing_a_digits_change_undoes_the_preference(monkeypatch) -> None:
    async def change(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("plus", "plus", "u")
        assert app.session.digits == DEFAULT_DIGITS + 1

    launch(monkeypatch, [], change)
    assert parse(config_path().read_text(), BUILTIN_THEMES).digits == DEFAULT_DIGITS + 1
