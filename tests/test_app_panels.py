"""The panels, the status line, the footer and the help as a learner meets them, at 80×24
and 120×36 (issue 11: findings 2, 3, 7, 9 and the too-small screen's keys of 11).

Each test reads the screen's text. Keys are pressed where the test is about keys (scrolling
a focused panel, Tab, m, + and -, the too-small screen); otherwise the session is driven
directly.
"""

from __future__ import annotations

import asyncio
import pathlib
import re

import pytest
from apptools import run, screen_text, settle, show
from backprop_tui.app import view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.panels import ValuesPanel
from backprop_tui.app.screens.export import CHOICES
from backprop_tui.app.textual_private import FooterKey
from backprop_tui.netfile import Source, parse_given
from backprop_tui.numbers import MAX_DIGITS
from backprop_tui.presets import preset_text
from backprop_tui.session.session import Session
from backprop_tui.steps.names import UnknownName, resolve
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


# Finding 2: the equation panel scrolls, and says that more follows -------------------------


@SIZES
def test_every_new_value_of_apply_can_be_scrolled_into_view(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "apply")
        first = box(app, "#equation")
        lines = factor_lines(app)
        assert len(lines) == 8  # w₁⁺ … w₈⁺
        if not all(re.search(line, "\n".join(first)) for line in lines):
            assert says_more(first), "\n".join(first)
        seen = await scroll_through(app, pilot, "#equation", "pagedown")
        for line in lines:
            assert re.search(line, seen), (line, seen)

    run(script, size=size, app=preset())


def test_at_step_55_the_note_leaves_every_factor_reachable() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 55)
        first = box(app, "#equation")
        assert "⚠ printed 0.291027924" in "\n".join(first)
        assert says_more(first), "\n".join(first)
        seen = await scroll_through(app, pilot, "#equation", "down")
        lines = factor_lines(app)
        assert len(lines) == 4  # t_o₁, out_o₁⁺, t_o₂, out_o₂⁺
        for line in lines:
            assert re.search(line, seen), (line, seen)
        assert "after_backward, gives 0.291027774" in seen  # the note too, whole

    run(script, size=SMALL, app=preset())


def test_a_larger_networks_apply_scrolls_to_its_last_value() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "apply")
        assert says_more(box(app, "#equation"))
        seen = await scroll_through(app, pilot, "#equation", "pagedown")
        lines = factor_lines(app)
        assert len(lines) > 20
        for line in lines:
            assert re.search(line, seen), (line, seen)

    run(script, size=LARGE, app=preset("deep-relu"))


# Finding 3: five rows of values at 80×24, the newest in view; ? and q in the footer --------


def test_the_values_panel_shows_five_rows_and_the_newest_at_80x24() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        rows = inside(box(app, "#values"))
        assert len(rows) >= 5
        assert "Values appear here" in "\n".join(rows)
        for target in (17, 55):
            await show(app, pilot, target)
            rows = [row.strip() for row in inside(box(app, "#values"))]
            assert len(rows) >= 5 and all(rows), rows  # five rows of values, none blank
            assert rows[-1].startswith("▶ " + app.session.step.symbol), rows
            assert not app.main.query_one(ValuesPanel).show_horizontal_scrollbar
        assert re.search(r"↑ \d+ above", box(app, "#values")[-1])  # the earlier values

    run(script, size=SMALL, app=preset())


@SIZES
def test_the_footer_shows_help_and_quit_first_and_cuts_no_key(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        line = footer(app)
        assert line.split()[:4] == ["?", "Help", "q", "Quit"], line
        assert re.search(r"\s▏\^p palette", line), line  # the last key before it is whole
        await show(app, pilot, 55)
        assert footer(app).split()[:4] == ["?", "Help", "q", "Quit"], footer(app)

    run(script, size=size, app=preset())


def test_during_a_fast_forward_the_footer_shows_help_quit_and_stop() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        app._run_started(1000)  # as `t` starts a run (its worker not started: it stays on)
        await settle(pilot)
        await pilot.pause(0.1)
        line = footer(app)
        assert line.split()[:7] == ["?", "Help", "q", "Quit", "esc", "Stop", "run"], line
        assert re.search(r"\s▏\^p palette", line), line

    run(script, size=LARGE, app=preset())


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


def test_at_15_digits_the_footer_offers_minus() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 9)
        app.session.set_digits(MAX_DIGITS)
        app.render_session()
        await settle(pilot)
        await pilot.pause(0.1)
        assert "15 digits" in status(app), status(app)
        line = footer(app)
        assert "- Digits" in line and "+/-" not in line, line
        key = next(k for k in app.main.query(FooterKey) if k.description == "Digits")
        assert key.action == "fewer_digits" and not key.has_class("-disabled")
        await pilot.press("minus")
        await settle(pilot)
        assert "14 digits" in status(app), status(app)
        assert "+/- Digits" in footer(app), footer(app)

    run(script, size=LARGE, app=preset())


# Finding 9: the help, a table that explains every mark; nothing cut without a sign --------


def test_the_explanation_says_more_follows_and_scrolls_to_its_end() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "dE/db1")
        text = app.session.step.explanation
        assert text.endswith("not applied.")
        rows = box(app, "#explanation")
        if "not applied." not in "\n".join(rows):
            assert says_more(rows), rows
        seen = await scroll_through(app, pilot, "#explanation", "down")
        assert "not applied." in seen, seen

    run(script, size=SMALL, app=preset())


SCROLLBAR = re.compile("[▁▂▃▄▅▆▇█]")  # a scrollbar's thumb, which may sit inside a row


async def help_text(app: BackpropApp, pilot: Pilot) -> tuple[str, list[str]]:
    """Open the help and page through it: its whole text as seen, and its rows on screen."""
    await pilot.press("question_mark")
    await settle(pilot)
    frame = app.screen.query_one("#help")
    seen: list[str] = []
    for _ in range(30):
        region = frame.region
        rows = [row[region.x:region.right] for row in
                screen_text(app).split("\n")[region.y:region.bottom]]
        seen += [SCROLLBAR.sub(" ", row[1:-1]) for row in rows[1:-1]]
        if not says_more(rows):
            break
        await pilot.press("pagedown")
        await settle(pilot)
    return "\n".join(seen), seen


@SIZES
def test_the_help_explains_every_mark_and_score(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        text, _ = await help_text(app, pilot)
        flat = re.sub(r"\s+", " ", text)
        assert "It checks the document, not you" in flat, flat  # ✓ beside a value
        for mark in ("✓", "⚠", "✎", "○", "✗", "≈", "quiz 3/4", "E_total⁺", "↓ 5 more"):
            assert mark in text, mark
        assert "wrong gradient (✗)" in flat and "differs as expected" in flat
        assert "the values answered right at the first try / the values asked" in flat
        assert "before your edit" in flat  # ✎
        assert "not representable" in flat and "shown, not compared" in flat  # ○
        assert "command palette (ctrl+p, or F2)" in flat

    run(script, size=size, app=preset())


def test_the_help_is_a_table_its_meanings_wrap_in_their_column() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        _, rows = await help_text(app, pilot)
        keys = [row for row in rows if row.lstrip().startswith("d ")]
        assert keys, rows  # the gradient check's key
        column = keys[0].index("gradient check")
        assert column > 4
        for row in rows:
            words = row.strip()
            if not words or row.startswith("  ") and row[2] != " ":  # a key or a heading
                continue
            assert row[:column].strip() == "", row  # a meaning goes on in its column
        continued = [row for row in rows if row.strip().startswith("against a finite")]
        assert continued and continued[0].index("against") == column, rows

    run(script, size=SMALL, app=preset())


def test_the_go_to_error_is_read_whole_at_80x24() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("colon", *"zzz", "enter")
        await settle(pilot)
        try:
            resolve("zzz", app.session.steps)
        except UnknownName as why:
            message = str(why)
        dialog = app.screen.query_one("#dialog").region
        rows = [row[dialog.x + 1:dialog.right - 1].strip() for row in
                screen_text(app).split("\n")[dialog.y:dialog.bottom]]
        assert message.endswith("E_total")
        assert message in " ".join(row for row in rows if row), rows

    run(script, size=SMALL, app=preset())


def test_the_export_choices_are_whole_and_a_worksheet_says_so(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("x")
        await settle(pilot)
        text = screen_text(app)
        for _, label in CHOICES:
            assert label in text, (label, text)
        for _ in range(len(CHOICES) - 1):
            await pilot.press("down")  # the worksheet: the last choice
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.2)
        flat = re.sub(r"[\s│▏▕▎▊▌▐]+", " ", screen_text(app))
        assert "Exported a worksheet to" in flat, flat
        assert "Exported the session log" not in flat
        assert [path.name.startswith("backprop-worksheet-") for path in tmp_path.iterdir()] == [
            True]

    app = preset()

    async def main() -> None:
        async with app.run_test(size=SMALL, notifications=True) as pilot:  # toasts drawn
            await script(app, pilot)

    asyncio.run(main())


# Every panel takes the focus, scrolls by keys and can be maximised -------------------------


def test_tab_moves_the_focus_and_m_maximises_the_focused_panel() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, "apply")
        chain = [widget.id for widget in app.main.focus_chain]
        assert chain == ["diagram", "equation", "explanation", "values"]
        assert app.focused is app.main.query_one("#equation")  # at the start
        assert box(app, "#equation")[0].startswith("╔═ Equation")  # double: not colour alone
        await pilot.press("tab")
        assert app.focused is app.main.query_one("#explanation")
        await pilot.press("tab", "tab")
        assert app.focused is app.main.query_one("#diagram")
        await pilot.press("tab", "m")  # the equation panel fills the screen
        await settle(pilot)
        assert app.main.maximized is app.main.query_one("#equation")
        text = screen_text(app)
        for line in factor_lines(app):
            assert re.search(line, text), line  # all eight new values in sight
        assert "Values this epoch" not in text
        assert "step 54 of 55" in status(app)
        await pilot.press("right")  # the step keys keep stepping
        assert app.session.index == 55
        await pilot.press("escape")
        await settle(pilot)
        assert app.main.maximized is None and "Values this epoch" in screen_text(app)
        await pilot.press("m", "m")
        assert app.main.maximized is None
        await pilot.press("c")  # the error curve, in the diagram's place, takes the focus too
        await settle(pilot)
        assert [widget.id for widget in app.main.focus_chain][0] == "curve"
        app.main.query_one("#curve").focus()
        await pilot.press("m")
        await settle(pilot)
        assert app.main.maximized is app.main.query_one("#curve")
        assert "Error curve" in screen_text(app) and "Values this epoch" not in screen_text(app)
        await pilot.press("plus")  # the app's key, not the plot's zoom
        assert app.session.digits == 10

    run(script, size=SMALL, app=preset())


# Finding 11: keys do not act while the too-small screen is up ------------------------------


def test_keys_do_not_act_while_the_terminal_is_too_small() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, 9)
        state = app.session.state
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert "needs a terminal of at least 80×24" in screen_text(app)
        for key in ("right", "left", "end", "n", "plus", "colon", "question_mark", "x", "e",
                    "t", "a", "m", "c"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is app.main, key  # no dialog opened
            assert app.session.state == state, key
        assert app.session.index == 9 and app.session.digits == 9
        assert footer(app).split()[:2] == ["q", "Quit"] and "Next" not in footer(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("right")
        assert app.session.index == 10  # enlarged: it carries on
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        await pilot.press("q")
        assert app._exit

    run(script, size=SMALL, app=preset())


def test_the_footer_makes_its_keys_once_unless_the_keys_shown_change(monkeypatch) -> None:
    """Making the keys restyles a widget per key (a frame's worth of work, and garbage for
    the collector): the start makes them once, Tab between panels never, a key that comes
    to apply changes its widget in place, a key that comes into the footer makes them
    again."""
    from backprop_tui.app.components.footer import KeyFooter
    from textual.app import ComposeResult

    made: list[int] = []
    original = KeyFooter.compose

    def counting(self: KeyFooter) -> ComposeResult:
        keys = list(original(self))
        if keys:
            made.append(len(keys))
        yield from keys

    monkeypatch.setattr(KeyFooter, "compose", counting)

    def prev(app: BackpropApp) -> FooterKey:
        return next(k for k in app.main.query(FooterKey) if k.description == "Prev")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        assert len(made) == 1, made
        first = prev(app)
        assert first.has_class("-disabled") and first._disabled
        await pilot.press("tab", "tab")
        await settle(pilot)
        assert len(made) == 1, made
        await pilot.press("right")  # ← Prev comes to apply: the same widget, not greyed
        await settle(pilot)
        assert len(made) == 1, made
        assert prev(app) is first and not first.has_class("-disabled") and not first._disabled
        await pilot.press("left")  # greyed again
        await settle(pilot)
        assert prev(app) is first and first.has_class("-disabled"), made
        app._run_started(1000)  # Stop run comes into the footer: the keys are made again
        await settle(pilot)
        await pilot.pause(0.1)
        assert len(made) == 2, made
        assert "Stop run" in footer(app), footer(app)

    run(script, app=preset())
