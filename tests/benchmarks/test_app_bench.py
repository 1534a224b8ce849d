"""Benchmarks: the app against a minimal Textual app (one Static and a Footer).

- first frame: launch to the first complete frame in a real terminal (tmux, 120×36);
- key press: process CPU time per "right" press under ``run_test``, at epoch 1 and 1,000.

Run with ``python -m pytest tests/benchmarks -s``. Both apps run interleaved in the same run
and the median of several rounds counts, since absolute times on a shared machine mean little
(and a best run says more about luck than about the app).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from statistics import median

import pytest
from backprop_tui.app.app import BackpropApp
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from minimal_app import READY, MinimalApp  # pytest puts tests/benchmarks/ on sys.path
from textual.app import App

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository: tests/ and tui/ live here
TUI = ROOT / "tui"
MINIMAL_APP = pathlib.Path(__file__).with_name("minimal_app.py")

WIDTH, HEIGHT = 120, 36
FRAME_ROUNDS = 15
FRAME_POLL = 0.01  # seconds between screen captures
FRAME_TIMEOUT = 30.0
FRAME_TARGET = 1.3

PRESSES = 30  # within epoch 1, which has 55 steps
WARMUP_PRESSES = 3
PRESS_ROUNDS = 4
PRESS_TARGET = 3.0
LATE_EPOCH = 1_000
LATE_TOLERANCE = 1.5  # epoch 1,000's press costs within this factor of epoch 1's

# Text that is only on screen once the whole first frame is: the status line, the footer,
# the equation and values panels' texts (which wrap to widths only the layout knows); then
# a new session's diagram and explanation.
FRAME_MARKERS = ("step 0 of 55", "Nothing computed yet", "Values appear here", "→ Next",
                 "q Quit", "^p palette")
OURS_MARKERS = (*FRAME_MARKERS, "b2 →o1–o2", "The network as given")
MINIMAL_MARKERS = (READY, "→ Next", "q Quit", "^p palette")


def _env(pycache: str) -> dict[str, str]:
    """The environment for the apps: the checkout's tui/ first on PYTHONPATH, and bytecode
    cached under ``pycache`` (as an installed package has it), never in the checkout; the
    state folder is there too."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TUI), env.get("PYTHONPATH")) if p)
    env["PYTHONPYCACHEPREFIX"] = pycache
    env["XDG_STATE_HOME"] = os.path.join(pycache, "state")  # no earlier session is offered
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("TMUX", None)
    return env


# First frame in tmux ------------------------------------------------------------------


class Tmux:
    """A private tmux server (its own socket, no config), kept alive by an idle session."""

    def __init__(self, pycache: str) -> None:
        self.socket = f"bptui-bench-{os.getpid()}"
        self.env = _env(pycache)
        self("new-session", "-d", "-s", "idle", "-x", str(WIDTH), "-y", str(HEIGHT),
             "sleep 600")
        self("set-option", "-g", "remain-on-exit", "on")  # a crash stays on screen
        self.path = self("display-message", "-p", "#{socket_path}").strip()

    def __call__(self, *args: str) -> str:
        """Run one tmux command against this server; its stdout."""
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, env=self.env, timeout=10)
        assert done.returncode == 0, f"tmux {args}: {done.stderr}"
        return done.stdout

    def close(self) -> None:
        """Stop the server and remove its socket."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10)
        pathlib.Path(self.path).unlink(missing_ok=True)


def _gone(pid: int, timeout: float = 5.0) -> None:
    """Wait until ``pid`` has exited (SIGKILL after ``timeout``), so it steals no CPU later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def first_frame(tmux: Tmux, name: str, command: Sequence[str], markers: Sequence[str]) -> float:
    """Seconds from launching ``command`` in a 120×36 pane until every marker is on screen."""
    shell = shlex.join(command)
    start = time.perf_counter()
    tmux("new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), shell)
    pid = int(tmux("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])
    screen = ""
    try:
        while time.perf_counter() - start < FRAME_TIMEOUT:
            screen = tmux("capture-pane", "-p", "-t", name)
            if all(marker in screen for marker in markers):
                return time.perf_counter() - start
            if "Traceback (most recent call last)" in screen:
                break
            time.sleep(FRAME_POLL)
        pytest.fail(f"{name}: no complete frame; the screen:\n{screen}")
    finally:
        tmux("kill-session", "-t", name)
        _gone(pid)


Launches = dict[str, tuple[Sequence[str], Sequence[str]]]  # name: (command, markers)


def first_frames(launches: Launches, rounds: int) -> dict[str, list[float]]:
    """Seconds to the first complete frame of each launch, ``rounds`` times, interleaved
    (the order turned round every other round), after one untimed launch of each (which
    writes its bytecode, as an installed package has it)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the benchmark needs it")
    times: dict[str, list[float]] = {name: [] for name in launches}
    pycache = tempfile.TemporaryDirectory(prefix="bptui-pycache-")
    tmux = Tmux(pycache.name)
    try:
        for name, (command, markers) in launches.items():
            first_frame(tmux, f"{name.replace(' ', '-')}-warmup", command, markers)
        for round_ in range(rounds):
            order = list(launches) if round_ % 2 == 0 else list(reversed(launches))
            for name in order:
                command, markers = launches[name]
                session = f"{name.replace(' ', '-')}-{round_}"
                times[name].append(first_frame(tmux, session, command, markers))
    finally:
        tmux.close()
        pycache.cleanup()
    return times


def test_first_frame_vs_minimal_app() -> None:
    """Launch to first complete frame (the median of FRAME_ROUNDS, interleaved, after one
    untimed launch each): at most FRAME_TARGET × the minimal app."""
    times = first_frames({
        "backprop-tui": ([sys.executable, "-m", "backprop_tui"], OURS_MARKERS),
        "minimal app": ([sys.executable, str(MINIMAL_APP)], MINIMAL_MARKERS),
    }, FRAME_ROUNDS)
    ours, minimal = median(times["backprop-tui"]), median(times["minimal app"])
    ratio = ours / minimal
    print(f"\nfirst frame: backprop-tui {ours:.2f} s, minimal app {minimal:.2f} s, "
          f"ratio {ratio:.2f} (target <= {FRAME_TARGET})  [median of {FRAME_ROUNDS}, interleaved; "
          f"all: {_list(times['backprop-tui'])} vs {_list(times['minimal app'])}]")
    assert ratio <= FRAME_TARGET


# CPU per key press under run_test -----------------------------------------------------


async def _cpu_per_press(make: Callable[[], App[None]], epoch: int = 1) -> float:
    """CPU seconds per "right" press, each press followed by a pause that repaints."""
    app = make()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        if isinstance(app, BackpropApp) and epoch > 1:
            app.session.fast_forward(epoch - 1)
            app.render_session()
            await pilot.pause()
        for _ in range(WARMUP_PRESSES):
            await pilot.press("right")
            await pilot.pause()
        start = time.process_time()
        for _ in range(PRESSES):
            await pilot.press("right")
            await pilot.pause()
        elapsed = time.process_time() - start
        if isinstance(app, BackpropApp):
            assert (app.session.epoch, app.session.index) == (epoch, WARMUP_PRESSES + PRESSES)
        else:
            assert isinstance(app, MinimalApp) and app.presses == WARMUP_PRESSES + PRESSES
    return elapsed / PRESSES


def test_key_press_cpu_vs_minimal_app() -> None:
    """CPU per step press (the median of 4, interleaved): at most 3× the minimal app's counter
    press, and about the same at epoch 1,000 as at epoch 1."""
    runs: dict[str, tuple[Callable[[], App[None]], int]] = {
        "epoch 1": (lambda: BackpropApp(Session(load_preset("mazur"))), 1),
        f"epoch {LATE_EPOCH:,}": (lambda: BackpropApp(Session(load_preset("mazur"))), LATE_EPOCH),
        "minimal app": (MinimalApp, 1),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(PRESS_ROUNDS):
        order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
        for name in order:
            make, epoch = runs[name]
            times[name].append(asyncio.run(_cpu_per_press(make, epoch)))
    early, late = median(times["epoch 1"]), median(times[f"epoch {LATE_EPOCH:,}"])
    minimal = median(times["minimal app"])
    ratio, late_ratio = early / minimal, late / early
    print(f"\nCPU per step press: backprop-tui {early * 1e3:.2f} ms at epoch 1, "
          f"{late * 1e3:.2f} ms at epoch {LATE_EPOCH:,} ({late_ratio:.2f}× epoch 1; "
          f"target within {LATE_TOLERANCE}×); minimal app {minimal * 1e3:.2f} ms; "
          f"ratio {ratio:.2f} (target <= {PRESS_TARGET})  "
          f"[{PRESSES} presses, median of {PRESS_ROUNDS}, interleaved]")
    for name, values in times.items():
        print(f"  {name}: {_list([v * 1e3 for v in values])} ms")
    assert ratio <= PRESS_TARGET
    assert 1 / LATE_TOLERANCE <= late_ratio <= LATE_TOLERANCE


def _list(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)
