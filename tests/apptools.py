"""Shared helpers for the tests that run the Textual app headless (test_app, test_snapshots)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from backprop_tui.app import commands
from backprop_tui.app.app import BackpropApp
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.command import Command, CommandList
from textual.pilot import Pilot
from textual.widgets import Input

SIZE = (120, 36)
TUI = pathlib.Path(__file__).resolve().parents[1] / "tui"

Script = Callable[[BackpropApp, Pilot], Awaitable[None]]


def new_app(theme: str | None = None) -> BackpropApp:
    """The app on a fresh session of the tutorial's network."""
    return BackpropApp(Session(load_preset("mazur")), theme=theme)


def run(
    script: Script, size: tuple[int, int] = SIZE, app: BackpropApp | None = None,
    notifications: bool = False,
) -> BackpropApp:
    """Run ``script(app, pilot)`` in a headless app of ``size``; return the app once it
    stopped. Toasts are drawn only with ``notifications`` (Textual's test default: none)."""
    app = app or new_app()

    async def main() -> None:
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await script(app, pilot)

    asyncio.run(main())
    return app


async def submit(app: BackpropApp, pilot: Pilot, text: str) -> None:
    """Put ``text`` in the open prompt's field, as a paste would, and press Enter there."""
    field = app.screen.query_one(Input)
    field.value = text
    await field.action_submit()
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    """Let every pending refresh happen (the values panel scrolls after its own refresh)."""
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


# Waiting for something the app does in a task or a thread: a condition, polled. The bound
# only stops a hung test; nothing is asserted about how long the wait took.
PATIENCE = 60.0


async def wait_until(pilot: Pilot, condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "the app never got there"
        await pilot.pause(0.01)


async def palette_highlights(app: BackpropApp, pilot: Pilot, title: str) -> None:
    """Wait until the command palette, which searches as one types in a task, highlights the
    command ``title`` (Enter then runs it)."""

    def found() -> bool:
        option = app.screen.query_one(CommandList).highlighted_option
        assert option is None or isinstance(option, Command)
        return option is not None and option.hit.text == title

    await wait_until(pilot, found)


def palette_commands(app: BackpropApp) -> dict[str, commands.Command]:
    """The palette's actions and option switches that apply now, by title."""
    return {command.title: command for command in (*commands.action_commands(app),
                                                   *commands.switch_commands(app))}


async def show(app: BackpropApp, pilot: Pilot, target: str | int) -> None:
    """Move the session to ``target`` without key presses, and repaint."""
    app.session.goto(target)
    app.render_session()
    await settle(pilot)


def screen_text(app: BackpropApp) -> str:
    """The plain text of the active screen, as the terminal would show it, row by row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with the checkout's package: for what a process
    imports, which a test process that imported everything cannot tell."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(TUI)}, timeout=60)
