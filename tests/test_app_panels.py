"""The panels, the status line, the footer and the help as a learner meets them, at 80×24
and 120×36 (issue 11: findings 2, 3, 7, 9 and the too-small screen's keys of 11).

Each test reads the screen's text. Keys are pressed where the test is about keys (scrolling
a focused panel, Tab, m, + and -, the too-small screen); otherwise the session is driven
directly.
"""

from __future__ import annotations

import re

import pytest
from apptools import run, screen_text, settle, show
from backprop_tui.app import view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.netfile import Source, parse_given
from backprop_tui.presets import preset_text
from backprop_tui.session.session import Session
from textual.pilot import Pilot

SMALL, LARGE = (80, 24), (120, 36)
SIZES = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x36"])


def preset(name: str = "mazur") -> BackpropApp:
    """The app on a preset as `backprop-tui --preset NAME` opens it: its printed values
    marked."""
    text = preset_text(name)
    return BackpropApp(Session(parse_given(text, name).network(),
                               source=Source("preset", name, text)))


def box(app: BackpropApp, selector: str) -> list[str]:
    """The rows of the screen a widget of the main screen covers, its border included."""
    region = app.main.query_one(selector).region
    rows = screen_text(app).split("\n")
    return [row[region.x:region.right] for row in rows[region.y:region.bottom]]


def inside(rows: list[str]) -> list[str]:
    """A bordered box's rows without the border."""
    return [row[1:-1] for row in rows[1:-1]]


def status(app: BackpropApp) -> str:
    return screen_text(app).split("\n")[0]


def footer(app: BackpropApp) -> str:
    return screen_text(app).split("\n")[-1]


def says_more(rows: list[str]) -> bool:
    """Whether a box's bottom border says that lines are out of sight below."""
    return bool(re.search(r"↓ \d+ more", rows[-1]))


async def scroll_through(app: BackpropApp, pilot: Pilot, selector: str, key: str) -> str:
    """Focus a panel and press ``key`` until its text stops changing (or nothing more
    follows); every row that came into sight, in order."""
    app.main.query_one(selector).focus()
    await settle(pilot)
    seen: list[str] = []
    for _ in range(60):
        rows = box(app, selector)
        seen += inside(rows)
        if not says_more(rows):
            break
        await pilot.press(key)
        await settle(pilot)
        if box(app, selector) == rows:
            break
    return "\n".join(seen)


def factor_lines(app: BackpropApp) -> list[str]:
    """Each factor of the step on screen as its line reads: symbol = value."""
    model = view_model.equation(app.session)
    assert model is not None
    return [rf"{re.escape(f.symbol)} *= +{re.escape(f.value)}" for f in model.factors]


# Finding 7: the digits always in the status line; E_total or E_total⁺, and which ----------


@SIZES
def test_the_status_line_always_shows_the_digits(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for target in (0, 9, 11, 17, 40, 54, 55):
            await show(app, pilot, target)
            assert "9 digits" in status(app), status(app)
        await pilot.press("plus")
        await settle(pilot)
        assert "10 digits" in status(app), status(app)
        await pilot.press("minus")
        await settle(pilot)
        assert "9 digits" in status(app), status(app)

    run(script, size=size, app=preset())


@SIZES
def test_the_status_line_says_which_total_error_it_shows(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 55)
        assert "E_total⁺ 0.291027774 (after" in status(app), status(app)
        await show(app, pilot, 53)  # before the updates are applied: no word needed
        assert "E_total 0.298371109" in status(app) and "(" not in status(app), status(app)
        await show(app, pilot, "apply")
        assert "E_total 0.298371109 (before" in status(app), status(app)

    run(script, size=size, app=preset())
