"""Export from the app in a thread: the screen stays live (a step key works while a log is
written), the progress shows above the footer, Escape stops it and leaves no file.

A gate holds the writer after its first pieces, so the test decides when it goes on.
"""

from __future__ import annotations

import json
import pathlib
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from apptools import PATIENCE, run, screen_text, settle, wait_until
from backprop_tui.app import app as app_module
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.export import ExportScreen
from backprop_tui.app.screens.main import export_text, size_text
from backprop_tui.export.formats import FORMATS
from backprop_tui.netfile import Source
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets import Input


@pytest.fixture(autouse=True)
def _isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state folder and the working folder in tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def two_epochs() -> Session:
    session = Session(load_preset("mazur"), source=Source("preset", "mazur",
                                                          preset_text("mazur")))
    assert session.next_epoch() and session.goto(20)
    return session


class Gate:
    """Wraps a format's writer: after ``after`` pieces it waits until opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fmt: str, after: int) -> None:
        self.open = threading.Event()
        self.waiting = threading.Event()
        real = FORMATS[fmt]

        def gated(session: Session, now: datetime) -> Iterator[str]:
            for count, piece in enumerate(real(session, now)):
                if count == after:
                    self.waiting.set()
                    assert self.open.wait(PATIENCE)
                yield piece

        monkeypatch.setitem(FORMATS, fmt, gated)
        monkeypatch.setattr(app_module, "EXPORT_SHOWN_EVERY", 0.0)  # every piece shows


def notifications(app: BackpropApp) -> list[str]:
    return [n.message for n in app._notifications]


async def start_export(app: BackpropApp, pilot: Pilot, fmt: str, path: str) -> None:
    app.action_export()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ExportScreen)
    screen._set_format(fmt)
    screen.query_one("#path", Input).value = path
    await screen.query_one("#path", Input).action_submit()
    await settle(pilot)


def test_the_progress_says_the_file_the_epoch_and_the_size() -> None:
    assert export_text("log.md", 3, 10, 1_234_567) == "Exporting log.md: epoch 3 of 10 · 1.2 MB"
    assert export_text("log.md", 0, 10, 0) == "Exporting log.md: 0 bytes"
    assert [size_text(n) for n in (999, 1000, 12_345, 999_999, 2_000_000)] == [
        "999 bytes", "1.0 kB", "12.3 kB", "1000.0 kB", "2.0 MB"]


def test_a_step_key_works_while_an_export_is_written(tmp_path, monkeypatch) -> None:
    expected = "".join(FORMATS["jsonl"](two_epochs(), datetime.now()))
    gate = Gate(monkeypatch, "jsonl", after=30)
    session = two_epochs()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await start_export(app, pilot, "jsonl", "log.jsonl")
        assert app.screen is app.main  # the dialog is closed; the log is being written
        await wait_until(pilot, gate.waiting.is_set)
        await wait_until(pilot, lambda: "Exporting log.jsonl: epoch" in screen_text(app))
        assert "esc Stop export" in screen_text(app)
        assert app._exporting and app.check_action("export", ()) is None  # one at a time
        await pilot.press("right")  # the screen is live: the step is taken meanwhile
        assert app.session.index == 21
        assert not (tmp_path / "log.jsonl").exists()
        gate.open.set()
        await wait_until(pilot, lambda: not app._exporting)
        await settle(pilot)
        assert notifications(app) == [
            f"Exported the session log to {tmp_path / 'log.jsonl'}"]
        assert "Exporting" not in screen_text(app)

    run(script, app=BackpropApp(session))
    lines = (tmp_path / "log.jsonl").read_text("utf-8").splitlines()
    # Complete, and the session as it stood when the export began (step 20, not 21).
    assert lines[1:] == expected.splitlines()[1:]
    assert json.loads(lines[0])["type"] == "header"
    assert [p.name for p in tmp_path.iterdir() if p.name != "state"] == ["log.jsonl"]


@pytest.mark.parametrize("existing", [False, True])
def test_escape_stops_an_export_and_leaves_no_file(existing: bool, tmp_path,
                                                    monkeypatch) -> None:
    gate = Gate(monkeypatch, "md", after=5)
    target = tmp_path / "log.md"
    if existing:
        target.write_bytes(b"the old log\n")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_export()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#path", Input).value = "log.md"
        await screen.query_one("#path", Input).action_submit()
        await settle(pilot)
        if existing:
            await pilot.press("y")  # replace it
        await wait_until(pilot, gate.waiting.is_set)
        await pilot.press("escape")
        gate.open.set()
        await wait_until(pilot, lambda: not app._exporting)
        await settle(pilot)
        assert notifications(app) == [f"Export stopped: nothing written to {target}"]
        assert app.check_action("cancel_export", ()) is False

    run(script, app=BackpropApp(two_epochs()))
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "state")
    assert left == (["log.md"] if existing else [])  # no temporary file either
    if existing:
        assert target.read_bytes() == b"the old log\n"
