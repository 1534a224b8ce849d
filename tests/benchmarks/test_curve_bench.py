"""Benchmarks: the error curve (c) with many epochs.

- redraw: with 100,000 epochs run, the CPU time of switching the curve's scale (C) until
  the new frame is composed (the wall time includes the pilot's own waits for an idle app),
  against the same with 1,000 epochs (downsampling to the panel's width makes it independent
  of the epochs run); target under 0.2 s at 250×70, the largest layout;
- key press and collector pauses during a run: the worst time from a key press to its
  action done, and the worst pause of Python's garbage collector (``gc.callbacks``: from
  its start to its stop, in any thread), while a 100,000-epoch fast-forward runs in the
  background with the curve open and growing; each against the same with the app idle,
  in the same run; target: each under 50 ms. Three rounds, interleaved; the median of the
  rounds' worsts counts (not the best round). Like the command line, which freezes what is
  loaded before the app runs (``gc.freeze``), each round freezes what is there before it.

Run with ``python -m pytest tests/benchmarks -s -k curve``.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.curve import ErrorCurve
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual import events

BIG = (250, 70)
EPOCHS = 100_000
BASELINE_EPOCHS = 1_000
REDRAWS = 6
REDRAW_TARGET = 0.2  # seconds
PRESS_EVERY = 0.03  # seconds between key presses
PRESS_TARGET = 0.05  # seconds, the worst press
GC_TARGET = 0.05  # seconds, the worst collector pause
IDLE_PRESSES = 40
RUN_ROUNDS = 3


def _screen_text(app: BackpropApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _redraws(epochs: int) -> list[tuple[float, float]]:
    """(CPU, wall) seconds per scale switch, each until the frame showing it is composed."""
    session = Session(load_preset("mazur"))
    session.fast_forward(epochs)
    session.goto("E_total")
    app = BackpropApp(session)
    times = []
    async with app.run_test(size=BIG) as pilot:
        await pilot.press("c")
        await pilot.pause()
        curve = app.query_one(ErrorCurve)
        assert curve.curve is not None and curve.curve.count == epochs + 1
        for _ in range(REDRAWS):
            log = not curve.log_scale
            start, cpu = time.perf_counter(), time.process_time()
            await pilot.press("C")
            await pilot.pause()
            text = _screen_text(app)
            times.append((time.process_time() - cpu, time.perf_counter() - start))
            assert ("log scale" in text) == log and curve.curve.log == log
    return times


def test_curve_redraw_with_100000_epochs() -> None:
    """A redraw with 100,000 epochs: under 0.2 s of CPU (median of 6), about a redraw with
    1,000 epochs."""
    many = asyncio.run(_redraws(EPOCHS))
    few = asyncio.run(_redraws(BASELINE_EPOCHS))
    ours = statistics.median(cpu for cpu, _ in many)
    baseline = statistics.median(cpu for cpu, _ in few)
    wall = statistics.median(wall for _, wall in many)
    ratio = ours / baseline
    print(f"\ncurve redraw at {BIG[0]}×{BIG[1]}: {ours * 1e3:.1f} ms CPU with {EPOCHS:,} epochs "
          f"({wall * 1e3:.1f} ms wall), {baseline * 1e3:.1f} ms with {BASELINE_EPOCHS:,}, "
          f"ratio {ratio:.2f} (target < {REDRAW_TARGET * 1e3:.0f} ms)  [median of {REDRAWS}; "
          f"CPU: {_ms([c for c, _ in many])} vs {_ms([c for c, _ in few])} ms]")
    assert ours < REDRAW_TARGET


@contextmanager
def _gc_pauses() -> Iterator[list[float]]:
    """The collector's pauses while in the block, in seconds (filled as they end)."""
    pauses: list[float] = []
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.freeze()  # as the command line does before the app runs
    gc.callbacks.append(timed)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(timed)
        gc.unfreeze()


async def _press_latencies(run_epochs: int) -> tuple[list[float], list[int]]:
    """Seconds from each key press (→ and ← in turn, between steps 2 and 3) to its action
    done, while a fast-forward of ``run_epochs`` runs (0: the app idle); and the curve's sizes
    seen meanwhile. (Between steps 2 and 3 no key changes availability: that the footer
    changes its keys in place is measured by the run's start and end.)"""
    app = BackpropApp(Session(load_preset("mazur")))
    done: list[float] = []
    latencies: list[float] = []
    counts: list[int] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("c", "right", "right")
        await pilot.pause()
        curve = app.query_one(ErrorCurve)
        for name in ("action_next", "action_prev"):
            action = getattr(app, name)

            def timed(action=action) -> None:
                action()
                done.append(time.perf_counter())

            setattr(app, name, timed)
        if run_epochs:
            app.start_run(run_epochs)
            while not app._fast_forwarding:
                await asyncio.sleep(0.001)

        def going() -> bool:
            return app._fast_forwarding if run_epochs else len(latencies) < IDLE_PRESSES

        key = "right"  # 2 -> 3, then back
        while going():
            before = len(done)
            start = time.perf_counter()
            app.post_message(events.Key(key, None))
            while len(done) == before:
                await asyncio.sleep(0.0005)
            latencies.append(done[-1] - start)
            if curve.curve is not None:
                counts.append(curve.curve.count)
            key = "left" if key == "right" else "right"
            await asyncio.sleep(PRESS_EVERY)
        await app.workers.wait_for_complete()
        await pilot.pause()
        if run_epochs:  # done: at the start of the epoch after the run
            assert app.session.timeline.known() == run_epochs
            assert (app.session.epoch, app.session.index) == (run_epochs + 1, 0)
        else:
            assert app.session.index in (2, 3)
    return latencies, counts


def _round(run_epochs: int) -> tuple[float, float, float, list[int], int]:
    """(worst press, median press, worst collector pause, the curve's sizes seen, presses)
    of one app's run."""
    with _gc_pauses() as pauses:
        latencies, counts = asyncio.run(_press_latencies(run_epochs))
    return max(latencies), statistics.median(latencies), max(pauses, default=0.0), counts, \
        len(latencies)


def test_key_press_and_gc_pauses_during_a_100000_epoch_fast_forward() -> None:
    """While 100,000 epochs run with the curve open: the worst key press and the worst
    collector pause each under 50 ms (the median over 3 rounds of each round's worst),
    beside the same with the app idle."""
    during: list[tuple[float, float, float, list[int], int]] = []
    idle: list[tuple[float, float, float, list[int], int]] = []
    for round_ in range(RUN_ROUNDS):
        order = (EPOCHS, 0) if round_ % 2 == 0 else (0, EPOCHS)
        for epochs in order:
            (during if epochs else idle).append(_round(epochs))
    press, gc_pause = (statistics.median(r[i] for r in during) for i in (0, 2))
    idle_press, idle_gc = (statistics.median(r[i] for r in idle) for i in (0, 2))
    typical = statistics.median(r[1] for r in during)
    print(f"\nduring a {EPOCHS:,}-epoch fast-forward with the curve open (redrawn "
          f"{statistics.median(len(set(r[3])) for r in during):.0f} times as it grew, "
          f"{statistics.median(r[4] for r in during):.0f} presses; median of {RUN_ROUNDS} "
          "rounds' worsts, interleaved with the idle app's):")
    print(f"  worst key press {press * 1e3:.1f} ms (target < {PRESS_TARGET * 1e3:.0f} ms); "
          f"idle app {idle_press * 1e3:.1f} ms; ratio {press / idle_press:.1f}; median press "
          f"{typical * 1e3:.1f} ms  [worsts: {_ms([r[0] for r in during])} vs "
          f"{_ms([r[0] for r in idle])} ms]")
    print(f"  worst GC pause {gc_pause * 1e3:.1f} ms (target < {GC_TARGET * 1e3:.0f} ms); "
          f"idle app {idle_gc * 1e3:.1f} ms; ratio {gc_pause / max(idle_gc, 1e-4):.1f}  "
          f"[worsts: {_ms([r[2] for r in during])} vs {_ms([r[2] for r in idle])} ms]")
    assert all(r[4] >= 20 and len(set(r[3])) >= 3 for r in during)  # the curve grew meanwhile
    assert press < PRESS_TARGET
    assert gc_pause < GC_TARGET


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1e3:.1f}" for v in values)
