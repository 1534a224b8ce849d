"""What keeps a key press cheap and the collector's pauses short, as a learner never sees it
but would feel it: a step draws again only the rows it changed (and what is on screen is
then exactly what a fresh app shows), and the collector is back on, with what the app
holds frozen out of its full passes, once the app is up."""

from __future__ import annotations

import fcntl
import gc
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from apptools import TUI, new_app, run, screen_text, settle, show
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.components.panels import EquationPanel
from textual.geometry import Region
from textual.pilot import Pilot


def test_a_step_draws_again_only_the_rows_it_changed_and_leaves_none_stale() -> None:
    screens: dict[str, str] = {}
    asked: list[tuple[str, tuple[Region, ...]]] = []

    async def stepped(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 3)
        for panel in (app.query_one(NetworkDiagram), app.query_one(EquationPanel)):

            def refresh(*regions: Region, _panel=panel, _original=panel.refresh,
                        **options: bool) -> object:
                asked.append((type(_panel).__name__, regions))
                return _original(*regions, **options)

            panel.refresh = refresh  # type: ignore[method-assign]
        for _ in range(6):  # forward pass into the error: units, weights, a softmax-free δ
            await pilot.press("right")
            await settle(pilot)
        screens["stepped"] = screen_text(app)

    async def fresh(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 9)
        screens["fresh"] = screen_text(app)

    run(stepped)
    run(fresh)
    assert screens["stepped"] == screens["fresh"]
    diagram = [regions for name, regions in asked if name == "NetworkDiagram"]
    assert len(diagram) == 6 and all(diagram)  # each step: some rows, never the whole
    height = 34  # the diagram's rows at 120×36, inside its border
    assert all(sum(region.height for region in regions) < height / 2 for regions in diagram)
    assert any(regions for name, regions in asked if name == "EquationPanel")


def test_the_collector_is_back_on_with_the_app_frozen_out_of_it_once_up() -> None:
    seen: list[tuple[bool, int]] = []

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("right")
        await settle(pilot)
        seen.append((gc.isenabled(), gc.get_freeze_count()))

    run(script, app=new_app())
    assert seen[0][0] and seen[0][1] > 10_000  # the app's widgets and session, at least
    assert gc.isenabled() and gc.get_freeze_count() == 0  # on quit: all of it collectable


def test_the_terminal_is_sent_a_whole_first_frame(tmp_path: Path) -> None:
    """The real app in a pseudo-terminal: the first frame it sends has the footer's keys and
    the panels' texts (which wrap to widths only the layout knows), not empty panels that
    fill a frame later."""
    terminal, tty = pty.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "backprop_tui"], stdin=tty, stdout=tty, stderr=tty,
        start_new_session=True,
        env={**{name: value for name, value in os.environ.items()  # its size: the terminal's
                if name not in ("COLUMNS", "LINES", "ROWS")},
             "PYTHONPATH": str(TUI), "TERM": "xterm-256color",
             "XDG_STATE_HOME": str(tmp_path / "state"),
             "XDG_CONFIG_HOME": str(tmp_path / "config")})
    os.close(tty)
    sent = b""
    try:
        deadline = time.monotonic() + 60
        while b"palette" not in sent and time.monotonic() < deadline:  # the footer's last key
            if select.select([terminal], [], [], 0.1)[0]:
                sent += os.read(terminal, 1 << 20)
    finally:
        os.write(terminal, b"\x11")  # ctrl+q
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        os.close(terminal)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", sent.decode(errors="replace"))
    first = text[:text.index("palette")]  # a frame ends with the footer: only the first
    for said in ("step 0 of 55", "Nothing computed yet", "The network as given",
                 "Values appear here", "Fast-fwd"):
        assert said in first, (said, first)
