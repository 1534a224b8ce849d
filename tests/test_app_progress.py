"""The fast-forward's progress: the bar, the count of epochs run and the time left."""

from __future__ import annotations

import pytest
from apptools import run, screen_text, settle
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.main import duration, progress_text
from textual.pilot import Pilot


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0 s"), (3, "3 s"), (59, "59 s"), (60, "1 min 0 s"), (125, "2 min 5 s"),
    (3600, "1 h 0 min"), (3 * 3600 + 4 * 60 + 5, "3 h 4 min"),
])
def test_the_time_left_is_said_in_its_two_largest_units(seconds: int, shown: str) -> None:
    assert duration(seconds) == shown


def test_the_count_has_thousands_separators_and_the_time_left_once_known() -> None:
    assert progress_text(1_234, 10_000, 3) == "1,234 / 10,000 epochs · 3 s left"
    assert progress_text(1_234, 10_000, None) == "1,234 / 10,000 epochs"
    assert progress_text(10_000, 10_000, 0) == "10,000 / 10,000 epochs"  # nothing left
    assert progress_text(0, 1, None) == "0 / 1 epoch"


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_the_progress_bar_shows_the_count_and_the_time_left(
        size: tuple[int, int]) -> None:
    """Driven as the run's ticker drives it, on a clock the test sets: 2,000 of 10,000
    epochs in 2 s leave 8 s at that speed."""
    clock = [100.0]

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.main.clock = lambda: clock[0]
        app.main.start_progress(10_000)
        await settle(pilot)
        assert "0 / 10,000 epochs" in screen_text(app)
        clock[0] = 100.5
        app._show_progress(500)  # too soon for a speed: the count alone
        await settle(pilot)
        assert "500 / 10,000 epochs" in screen_text(app)
        assert "left" not in screen_text(app)
        clock[0] = 102.0
        app._show_progress(2_000)
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines() if "epochs" in line)
        assert row.rstrip().endswith("20% 2,000 / 10,000 epochs · 8 s left"), row
        app.main.end_progress()
        await settle(pilot)
        assert "epochs ·" not in screen_text(app)

    run(script, size=size)
