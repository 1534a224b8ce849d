"""The app in a browser tab (``backprop-tui serve``; Textual's ``App.is_web``): the person
is not the serving machine's user, and the browser keeps some keys. The footer shows F2 for
the palette; an export goes into the session's own folder and is downloaded; ctrl+o opens
the presets only. (tests/test_serve.py drives the real server in a real browser.)"""

from __future__ import annotations

import pathlib
import re

import pytest
from apptools import SIZE, run, screen_text, settle, submit, wait_until
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.export import DOWNLOADED, ExportScreen
from backprop_tui.app.screens.open import OpenScreen
from backprop_tui.presets import PRESETS, load_preset
from backprop_tui.session.autosave import Autosaver
from backprop_tui.session.session import Session
from backprop_tui.session.sources import sourced
from textual import events
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList, Static

SIZES = pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x36"])


@pytest.fixture(autouse=True)
def _in_a_browser(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The app as textual-serve runs it (its driver says is_web), in tmp_path; what it
    delivers to the browser, recorded."""
    monkeypatch.setattr(BackpropApp, "is_web", property(lambda app: True))
    monkeypatch.chdir(tmp_path)
    delivered: list[tuple] = []
    monkeypatch.setattr(BackpropApp, "deliver_binary",
                        lambda app, path, **options: delivered.append((path, options)))
    return delivered


def said(app: BackpropApp, label: str) -> str:
    """The text of a label of the dialog open."""
    return str(app.screen.query_one(label, Label).render())


def footer(app: BackpropApp) -> str:
    return screen_text(app).splitlines()[-1]


@SIZES
def test_the_footer_shows_f2_for_the_palette(size: tuple[int, int]) -> None:
    """The browser keeps ctrl+p (print): the footer shows the key that works there."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        line = footer(app)
        assert re.search(r"\s▏F2 palette", line) and "^p" not in line, line
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)

    run(script, size=size)


def test_ctrl_c_says_q_quits() -> None:
    """The browser keeps ctrl+q: q is the key to say."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+c")
        assert [str(n.message) for n in app._notifications] == ["Press q to quit the app."]

    run(script)


def test_a_screenshot_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    delivered: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(BackpropApp, "deliver_text",
                        lambda app, text, **options: delivered.append((text.read(), options)))

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.deliver_screenshot()  # as the palette's Screenshot does
        app.post_message(events.DeliveryComplete("key", path=None, name="screenshot"))
        await settle(pilot)
        assert [str(n.message) for n in app._notifications] == [
            "Saved the screenshot: your browser downloads it"]

    run(script)
    [(svg, options)] = delivered
    assert svg.startswith("<svg") and options["save_directory"] is None  # not a folder here
    assert options["name"] == "screenshot"


def test_an_export_is_written_in_the_sessions_folder_and_downloaded(
        tmp_path: pathlib.Path, _in_a_browser: list[tuple]) -> None:
    tab = tmp_path / "served" / "tab-1"
    tab.mkdir(parents=True)
    app = BackpropApp(Session(load_preset("mazur")), autosaver=Autosaver(tab / "s.json"))

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert said(app, "#where") == DOWNLOADED
        for name in ("../../mine.md", "/tmp/mine.md", "~/.bashrc", ".bashrc", "..",
                     "a;b.md", "réseau.md"):  # a path, or what the download would mangle
            await submit(app, pilot, name)  # refused, the dialog stays
            assert isinstance(app.screen, ExportScreen)
            assert said(app, "#problem") == (
                f"a file name only, of letters, digits, spaces and . _ -: {DOWNLOADED}"), name
        await submit(app, pilot, "mine.md")
        await wait_until(pilot, lambda: bool(_in_a_browser))
        await settle(pilot)
        assert "Exported the session log: your browser downloads mine.md" in screen_text(app)

    run(script, app=app, notifications=True)
    assert _in_a_browser == [(str(tab / "mine.md"), {"save_filename": "mine.md"})]
    assert (tab / "mine.md").read_text().startswith("# ")  # the log itself
    assert not (tmp_path / "mine.md").exists() and not pathlib.Path("/tmp/mine.md").exists()


def test_open_offers_the_presets_only_and_says_the_tab_cannot_go_back(
        tmp_path: pathlib.Path) -> None:
    """A tab starts afresh each time (a folder of its own): the session it leaves stays on
    the server, and no --resume is offered to someone who has no command line there."""
    tab = tmp_path / "served" / "tab-1"
    tab.mkdir(parents=True)
    given, source = sourced("mazur")
    app = BackpropApp(Session(given.network(), source=source),
                      autosaver=Autosaver(tab / "s.json", keep_old=True))

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_next()  # a session worth keeping
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, OpenScreen)
        assert not app.screen.query(Input)  # no path to type
        assert said(app, "#where") == (
            "In a browser, the presets only: your teacher can serve a network file to the "
            "class (backprop-tui serve --config FILE). This tab cannot reopen the session it "
            "leaves: to keep a copy, press Escape, then x (export).")
        assert said(app, "#hint") == "↑↓ Enter: open a preset · Escape: cancel"
        app.screen.query_one(OptionList).highlighted = list(PRESETS).index("xor")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.source is not None and app.session.source.name == "xor"
        assert [str(n.message) for n in app._notifications] == [
            "Opened preset xor. Your session on mazur stays saved on the server, but this "
            "tab cannot reopen it."]

    run(script, app=app)
    assert sorted(p.name for p in tab.iterdir()) == ["s.json", "s.previous.json"]


def test_too_small_says_how_to_get_room_in_a_browser() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.resize_terminal(83, 22)  # an 800×480 window at the page's font size
        await settle(pilot)
        text = str(app.main.query_one("#too-small", Static).render())
        assert text == ("backprop-tui needs a terminal of at least 80×24; this one is 83×22. "
                        "Make the browser window larger, or zoom out (ctrl+minus), to carry "
                        "on.")

    run(script)
