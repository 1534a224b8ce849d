"""The error curve: every epoch's total error as the timeline runs it, its downsampling, and
the panel in the app (c, the palette, log scale, the current epoch marked, live growth)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from apptools import palette_highlights, run, run_python, screen_text, settle, show, wait_until
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.curve import ErrorCurve, LogAxisFormatter
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.curve_model import error_curve
from backprop_tui.engine.fastpath import run_epochs
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset
from backprop_tui.session.losses import LossRecord, downsample
from backprop_tui.session.session import Session, State
from backprop_tui.session.timeline import Edit, Timeline
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

MAZUR = load_preset("mazur")
# The tutorial: "After repeating this process 10,000 times … the error plummets to
# 0.0000351085": the error of epoch 10,000 (the one before the 10,000th update).
TUTORIAL_EPOCH_10000 = 3.51085e-05


def e_total(session: Session, epoch: int) -> float:
    """The E_total step's value at ``epoch``, as stepping shows it."""
    steps = session.steps_of(epoch)
    return steps.value_at(steps.keys["E_total"])


# The record and its downsampling ---------------------------------------------------------


def test_the_record_grows_without_gaps_and_skips_what_it_knows() -> None:
    record = LossRecord(first=5)
    record.record(5, [1.0, 2.0])
    record.record(6, [2.0, 3.0, 4.0])  # epoch 6 again, then 7 and 8
    record.record(10, [9.0])  # would leave epoch 9 out: ignored
    assert record.end == 8 and list(record.values()) == [1.0, 2.0, 3.0, 4.0]
    assert list(record.values(upto=6)) == [1.0, 2.0]
    many = np.arange(5000, dtype=float)
    record.record(9, many)  # beyond the first capacity: the array grows
    assert record.end == 5008 and record.values()[-1] == 4999.0
    view = record.values()
    with pytest.raises(ValueError):
        view[0] = 0.0  # a reader cannot change the record


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e3), min_size=1, max_size=3000), st.integers(1, 300))
def test_downsampling_keeps_the_ends_the_extremes_and_the_order(
        errors: list[float], buckets: int) -> None:
    values = np.array(errors)
    epochs, points = downsample(values, buckets, first=3)
    assert len(points) <= 2 * buckets + 2
    assert (epochs[0], points[0]) == (3, values[0])
    assert (epochs[-1], points[-1]) == (3 + len(values) - 1, values[-1])
    assert points.max() == values.max() and points.min() == values.min()
    assert np.all(np.diff(epochs) >= 0)
    if len(values) <= 2 * buckets:  # everything fits: every epoch, as it is
        assert list(epochs) == list(range(3, 3 + len(values))) and list(points) == errors


# The record the timeline keeps -------------------------------------------------------------


def test_the_curve_has_every_epochs_e_total() -> None:
    session = Session(MAZUR)
    session.next_epoch()
    session.next_epoch()
    assert list(session.timeline.errors()) == pytest.approx(
        [e_total(session, 1), e_total(session, 2)], rel=1e-12)
    session.fast_forward(600)
    errors = session.timeline.errors()
    assert len(errors) == session.timeline.known() == 602
    for epoch in (1, 255, 256, 257, 500, 602):
        assert errors[epoch - 1] == pytest.approx(e_total(session, epoch), rel=1e-12)


def test_ten_thousand_tutorial_epochs_fall_to_the_published_error() -> None:
    session = Session(MAZUR)
    session.fast_forward(10_000)
    errors = session.timeline.errors()
    assert len(errors) == 10_000 and session.epoch == 10_001
    assert errors[-1] == pytest.approx(TUTORIAL_EPOCH_10000, rel=1e-5)
    assert errors[0] == pytest.approx(0.298371109, rel=1e-9)  # the tutorial's first E_total
    assert np.all(np.diff(errors) < 0)  # it falls all the way
    session.goto("E_total")
    curve = error_curve(session, 60, log=False)
    assert curve.count == 10_001
    assert curve.errors[-1] == e_total(session, 10_001) == curve.error
    assert curve.errors[-1] == pytest.approx(3.51e-05, rel=1e-3)
    assert len(curve.errors) <= 122  # drawn from a few points, however many epochs


def test_an_edit_forks_the_curve_and_undo_brings_the_old_one_back() -> None:
    session = Session(MAZUR)
    session.fast_forward(299)  # to epoch 300
    before = session.timeline.errors().copy()
    session.edit("w5", 0.9)
    session.fast_forward(100)
    errors = session.timeline.errors()
    assert len(errors) == 399
    assert np.array_equal(errors[:299], before)  # the epochs before the edit are shared
    assert errors[299] == pytest.approx(e_total(session, 300), rel=1e-12)
    assert errors[299] != pytest.approx(before[-1], rel=1e-3)  # w5 changed the error
    session.undo()
    session.undo()
    assert np.array_equal(session.timeline.errors(), before)


def test_a_resumed_session_with_an_edit_has_no_gap_before_the_fork() -> None:
    """Rebuilt from a saved state, the edited timeline forks from a plain one that has not
    run yet: the epoch before the fork is run on its own, and recorded too."""
    edit = Edit(200, "w5", 0.9)
    session = Session(MAZUR, State(epoch=250, edits=(edit,)))
    session.network  # noqa: B018 (reaches epoch 250)
    errors = session.timeline.errors()
    assert len(errors) == session.timeline.known() == 249
    plain = run_epochs(MAZUR, 199).losses
    assert errors[:199] == pytest.approx(plain, rel=1e-12)
    assert errors[248] == pytest.approx(e_total(session, 249), rel=1e-12)


def test_a_cancelled_run_keeps_what_it_ran_and_nothing_else_moves() -> None:
    timeline = Timeline(MAZUR)
    seen: list[int] = []

    def ticker(done: int) -> bool:
        seen.append(timeline.known())
        return done < 1000

    _, reached, cancelled = timeline.reach(100_000, ticker)
    assert cancelled and reached < 100_000
    assert seen == sorted(seen) and seen[-1] >= 1000  # the record grew while it ran
    losses = run_epochs(MAZUR, timeline.known()).losses
    assert timeline.errors() == pytest.approx(losses, rel=1e-12)


def test_the_epoch_a_cancelled_run_reached_is_known_without_running_again(monkeypatch) -> None:
    """Its start (and so its error, which a stopped run's summary says) is there at once:
    reaching it, or an epoch just before it, runs no more than a checkpoint's stretch."""
    from backprop_tui.session import timeline as module

    timeline = Timeline(MAZUR)
    _, reached, cancelled = timeline.reach(100_000, lambda done: done < 3000)
    assert cancelled and 3000 <= reached < 100_000
    ran: list[int] = []
    original = module.run_epochs
    monkeypatch.setattr(module, "run_epochs", lambda network, count, **options: (
        ran.append(count), original(network, count, **options))[1])
    assert timeline.start(reached).to_document() == run_epochs(
        MAZUR, reached - 1).network.to_document()
    assert ran == [] and timeline.reach(reached - 1)[1] == reached - 1
    assert sum(ran) <= module.CHECKPOINT


def test_the_app_can_reach_a_shown_epoch_while_a_run_goes_on() -> None:
    """A fast-forward's ticker waits for the app; the app meanwhile reaches epochs of the
    same timeline (a key press during a run): no deadlock."""
    timeline = Timeline(MAZUR)
    timeline.start(5)
    ticked = threading.Event()
    release = threading.Event()
    gave_up = threading.Event()

    def ticker(done: int) -> bool:
        ticked.set()
        if not release.wait(60):  # only if reaching the epochs below waited for the run
            gave_up.set()
        return done < 2000

    worker = threading.Thread(target=timeline.reach, args=(100_000, ticker))
    worker.start()
    assert ticked.wait(60)
    assert timeline.start(4) is not None and timeline.start(300) is not None
    assert not gave_up.is_set()  # the run still waited in its ticker: no lock held by it
    release.set()
    worker.join(10)
    assert not worker.is_alive()


# The panel ---------------------------------------------------------------------------------


def curve_of(app: BackpropApp) -> ErrorCurve:
    return app.query_one("#curve", ErrorCurve)


def test_c_toggles_the_curve_in_the_diagrams_place() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.fast_forward(299)
        await show(app, pilot, "E_total")
        assert not app.query("#curve")  # not made until first opened
        await pilot.press("c")
        await settle(pilot)
        curve = curve_of(app)
        assert curve.display and not app.query_one(NetworkDiagram).display
        assert curve.curve is not None and curve.curve.count == 300
        assert curve.curve.errors[-1] == e_total(app.session, 300)
        text = screen_text(app)
        assert "Error curve" in text and "▶ epoch 300 · E_total 0.005057" in text
        assert fmt(e_total(app.session, 300), 4) == "0.005057"
        assert "●" in text  # the current epoch's error on the curve
        assert "epoch" in text and "E_total" in text
        await pilot.press("c")
        await settle(pilot)
        assert not curve.display and app.query_one(NetworkDiagram).display
        assert "Network" in screen_text(app) and "●" not in screen_text(app)

    run(script)


def test_the_current_epoch_is_marked_where_it_is() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.fast_forward(999)
        app.session.prev_epoch()  # epochs 1 to 999 are known; the cursor at 999
        for _ in range(500):
            app.session.prev_epoch()
        await show(app, pilot, 0)
        await pilot.press("c")
        await settle(pilot)
        curve = curve_of(app).curve
        assert curve is not None and (curve.epoch, curve.count) == (499, 999)
        assert curve.error is None  # not yet computed in this epoch: no ●, the line only
        text = screen_text(app)
        assert "▶ epoch 499" in text and "●" not in text
        rows = [row for row in text.splitlines() if row.count("┃") == 2]  # inside the plot
        left, right = rows[0].index("┃"), rows[0].rindex("┃")
        columns = {left + 1 + row[left + 1:right].index("│") for row in rows
                   if "│" in row[left + 1:right]}
        assert len(columns) == 1 and len(rows) > 5  # one vertical line …
        where = (columns.pop() - left) / (right - left)
        assert where == pytest.approx(498 / (999 * 1.04), abs=0.05)  # … about mid-way
        await show(app, pilot, "E_total")
        assert curve_of(app).curve.error == e_total(app.session, 499)
        assert "●" in screen_text(app)

    run(script)


def test_log_scale_from_the_key_and_the_palette() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.fast_forward(10_000)
        await show(app, pilot, "E_total")
        await pilot.press("C")  # opens the curve too
        await settle(pilot)
        curve = curve_of(app)
        assert curve.display and curve.log_scale and curve.curve.log
        text = screen_text(app)
        assert "E_total (log)" in text and "log scale" in text
        for label in ("0.1", "0.01", "0.001", "0.0001"):  # the decades the curve falls by
            assert f" {label} ┫" in text, label
        assert curve.curve.errors[-1] == pytest.approx(3.51e-05, rel=1e-3)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"log / linear")
        await palette_highlights(app, pilot, "Error curve: log / linear scale")
        await pilot.press("enter")
        await settle(pilot)
        assert not curve.log_scale and "log scale" not in screen_text(app)
        assert " 0.25 ┫" in screen_text(app)

    run(script)


def test_the_palette_toggles_the_curve() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for shown in (True, False):
            await pilot.press("ctrl+p")
            await pilot.press(*"Error curve")
            await palette_highlights(app, pilot, "Error curve")
            await pilot.press("enter")
            await settle(pilot)
            assert curve_of(app).display == shown
            assert app.query_one(NetworkDiagram).display != shown

    run(script)


def test_the_curve_grows_during_a_fast_forward() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("c")
        await settle(pilot)
        curve = curve_of(app)
        assert curve.curve.count == 0 and "▶ epoch 1" in screen_text(app)
        await pilot.press("t")
        field = app.screen.query_one(Input)
        field.value = "5_000_000"
        await field.action_submit()
        counts: list[int] = []

        def grown() -> bool:  # redrawn at least three times as the run went on
            if curve.curve is not None:
                counts.append(curve.curve.count)
            return len(set(counts)) >= 3

        await wait_until(pilot, grown)
        assert app._fast_forwarding
        assert len(set(counts)) >= 3 and counts == sorted(counts)  # drawn as it grew
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.session.epoch == 1  # cancelled: the cursor stays …
        errors = app.session.timeline.errors()  # … and the curve keeps what was run
        assert curve.curve.count == len(errors) >= counts[-1]
        assert curve.curve.errors[-1] == errors[-1]
        assert errors[99] == pytest.approx(trace_epoch(app.session.timeline.start(100)).loss,
                                           rel=1e-12)

    run(script)


@pytest.mark.parametrize("size", [(80, 24), (250, 70)], ids=str)
def test_the_curve_fits_every_size(size: tuple[int, int]) -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.fast_forward(299)
        await show(app, pilot, "E_total")
        await pilot.press("c")
        await settle(pilot)
        text = screen_text(app)
        assert "Error curve" in text and "▶ epoch 300" in text and "●" in text
        assert "Equation" in text and "Values this epoch" in text
        curve = curve_of(app)
        assert curve.buckets == curve.size.width - curve.margin_left - 2  # a bucket a column
        await pilot.resize_terminal(160, 40)
        await settle(pilot)
        assert curve.curve.key[4] == curve.buckets  # drawn again at the new width

    run(script, size=size)


def test_log_axis_ticks() -> None:
    formatter = LogAxisFormatter()
    ticks = formatter.get_ticks(-4.5, -0.5)
    assert ticks == [-4.0, -3.0, -2.0, -1.0]
    assert formatter.get_labels_for_ticks(ticks) == ["0.0001", "0.001", "0.01", "0.1"]
    narrow = formatter.get_ticks(np.log10(0.2), np.log10(0.6))  # less than a decade
    assert len(narrow) >= 2 and all(np.log10(0.2) <= t <= np.log10(0.6) for t in narrow)


def test_the_first_frame_does_not_import_textual_plot() -> None:
    """textual-plot costs a few tenths of a second: imported when the curve first opens."""
    code = (
        "import asyncio, sys\n"
        "from backprop_tui.app.app import BackpropApp\n"
        "from backprop_tui.presets import load_preset\n"
        "from backprop_tui.session.session import Session\n"
        "async def main():\n"
        "    app = BackpropApp(Session(load_preset('mazur')))\n"
        "    async with app.run_test() as pilot:\n"
        "        await pilot.press('right', 'right')\n"
        "        assert 'textual_plot' not in sys.modules, 'imported too early'\n"
        "        await pilot.press('c')\n"
        "        assert 'textual_plot' in sys.modules\n"
        "asyncio.run(main())\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
