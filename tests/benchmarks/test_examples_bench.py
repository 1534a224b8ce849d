"""Benchmarks of several training examples: `train` on XOR against the bare numpy batch loop,
and a step of a four-example epoch against a step of the one-example tutorial.

Run with ``python -m pytest tests/benchmarks -s -n0 -k examples``. Each runs the thing
measured and its baseline interleaved in the same run, and the ratio of their medians counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import runpy
import subprocess
import sys
import time
from statistics import median
from unittest import mock

import pytest
from backprop_tui.app.app import BackpropApp
from backprop_tui.engine import fastpath
from backprop_tui.netfile import dump_network
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from test_app_bench import PRESS_ROUNDS, PRESSES, WARMUP_PRESSES, _cpu_per_press, _env, _list
from test_train import ROOT

BARE_BATCH = ROOT.parent / "shared" / "baselines" / "bare_numpy_batch.py"
EPOCHS = 10_000
ROUNDS = 7
TRAIN_TARGET = 1.0
STEP_TARGET = 1.2
SESSION_STEPS = 150  # xor's epoch has 157 steps; mazur's 55: several epochs of it


def _start(preset: str) -> str:
    """A preset's starting weights as the baseline's JSON argument."""
    network = load_preset(preset)
    w1, w2 = (w.tolist() for w in network.weights)
    b1, b2 = (b.tolist() for b in network.biases)
    return json.dumps({"W1": w1, "b1": b1, "W2": w2, "b2": b2})


def _run(command: list[str], pycache: str) -> tuple[float, str]:
    """Run ``command`` to completion with its bytecode cached under ``pycache`` (as an
    installed package has it): (wall time in seconds, its stdout). Fails on an error."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(pycache),
                          timeout=300)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stderr}"
    return elapsed, done.stdout


def _bare_in_process(argv: list[str]) -> float:
    """Seconds the baseline takes in this process (numpy already loaded): its loop alone."""
    with mock.patch.object(sys, "argv", [str(BARE_BATCH), *argv]), \
            contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        runpy.run_path(str(BARE_BATCH), run_name="__main__")
        return time.perf_counter() - start


def test_train_xor_vs_bare_numpy_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`train --epochs 10000` on xor (full batch, numpy across the four examples) against
    the bare numpy batch loop from the same starting weights: the median of 7, interleaved,
    as processes (the target) and in this process (the loops alone)."""
    if not BARE_BATCH.is_file():
        pytest.fail(f"the baseline is missing: {BARE_BATCH} (../shared from the repository root)")
    network = load_preset("xor")
    assert network.batch == "full" and network.examples == 4
    start = _start("xor")
    pycache = str(tmp_path / "pycache")
    # The same work: at the baseline's learning rate (2.0) train ends where it does. (Untimed:
    # these runs also write the bytecode.)
    same = tmp_path / "xor-eta2.toml"
    same.write_text(dump_network(dataclasses.replace(network, learning_rate=2.0)), "utf-8")
    _, ours = _run([sys.executable, "-m", "backprop_tui", "train", "--epochs", str(EPOCHS),
                    "--config", str(same)], pycache)
    _, bare = _run([sys.executable, str(BARE_BATCH), str(EPOCHS), start], pycache)
    assert json.loads(ours)["loss_final"] == pytest.approx(json.loads(bare)["loss_final"],
                                                           rel=1e-9)
    commands = {
        "train": [sys.executable, "-m", "backprop_tui", "train", "--preset", "xor",
                  "--epochs", str(EPOCHS)],
        "bare": [sys.executable, str(BARE_BATCH), str(EPOCHS), start],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    loops: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(ROUNDS):
        order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for name in order:
            times[name].append(_run(commands[name], pycache)[0])
            if name == "train":
                begin = time.perf_counter()
                run = fastpath.run_epochs(network, EPOCHS, keep=False)
                loops[name].append(time.perf_counter() - begin)
                assert run.epochs == EPOCHS and not run.diverged
            else:
                loops[name].append(_bare_in_process([str(EPOCHS), start]))
    ratio = median(times["train"]) / median(times["bare"])
    loop_ratio = median(loops["train"]) / median(loops["bare"])
    print(f"\ntrain --preset xor --epochs {EPOCHS:,}: {median(times['train']):.3f} s; bare "
          f"numpy batch loop: {median(times['bare']):.3f} s; ratio {ratio:.2f} (target <= "
          f"{TRAIN_TARGET})  [median of {ROUNDS}, interleaved]\n"
          f"  the loops alone, in this process: run_epochs {median(loops['train']) * 1e3:.0f} "
          f"ms, bare {median(loops['bare']) * 1e3:.0f} ms, ratio {loop_ratio:.2f}\n"
          f"  processes: train {_list(times['train'])}; bare {_list(times['bare'])} s")
    assert ratio <= TRAIN_TARGET


def _session_per_step(preset: str) -> float:
    """Seconds per Session.next() over SESSION_STEPS steps from the start."""
    session = Session(load_preset(preset))
    begin = time.perf_counter()
    for _ in range(SESSION_STEPS):
        assert session.next()
    return (time.perf_counter() - begin) / SESSION_STEPS


def test_a_step_of_four_examples_vs_the_tutorial() -> None:
    """CPU per step key press in the app (as test_app_bench measures it) in xor's first
    epoch against the tutorial's (mazur): at most 1.2×; and the session's own cost per
    step, printed."""
    runs = {"xor": lambda: BackpropApp(Session(load_preset("xor"))),
            "mazur": lambda: BackpropApp(Session(load_preset("mazur")))}
    times: dict[str, list[float]] = {name: [] for name in runs}
    sessions: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(PRESS_ROUNDS):
        order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
        for name in order:
            times[name].append(asyncio.run(_cpu_per_press(runs[name])))
            sessions[name].append(_session_per_step(name))
    ratio = median(times["xor"]) / median(times["mazur"])
    session_ratio = median(sessions["xor"]) / median(sessions["mazur"])
    print(f"\nCPU per step press: xor (4 examples) {median(times['xor']) * 1e3:.2f} ms, mazur "
          f"{median(times['mazur']) * 1e3:.2f} ms; ratio {ratio:.2f} (target <= {STEP_TARGET})"
          f"  [{PRESSES} presses after {WARMUP_PRESSES}, median of {PRESS_ROUNDS}, "
          f"interleaved]\n"
          f"  Session.next(): xor {median(sessions['xor']) * 1e6:.1f} µs, mazur "
          f"{median(sessions['mazur']) * 1e6:.1f} µs per step, ratio {session_ratio:.2f}  "
          f"[{SESSION_STEPS} steps from the start]")
    assert ratio <= STEP_TARGET
