"""Benchmarks: `train` against the bare numpy loops (plain and Adam), a session's memory, the
fast path's crossover.

Run with ``python -m pytest tests/benchmarks -s``. Each measurement runs the thing measured and
its baseline side by side in the same run, since absolute times on a shared machine mean little.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
import time
from statistics import median
from typing import Any

import numpy as np
import pytest
from backprop_tui.engine import fastpath
from backprop_tui.network import Network, frozen
from peak import PEAK_KIB  # pytest puts tests/benchmarks/ on sys.path
from test_app_bench import _env

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository: tests/ and tui/ live here
BARE_LOOP = ROOT.parent / "shared" / "baselines" / "bare_numpy_loop.py"
BARE_ADAM = ROOT.parent / "shared" / "baselines" / "bare_numpy_adam.py"

TRAIN_EPOCHS = 100_000
TRAIN_ROUNDS = 3
ADAM_EPOCHS = 10_000
MEMORY_EPOCHS = 1_000
MEMORY_LIMIT_MB = 100.0
CROSSOVER_SIZES = [
    (2, 2, 2), (4, 8, 4), (8, 8, 8), (8, 16, 8), (8, 24, 8), (12, 20, 12), (16, 16, 16),
    (16, 24, 16), (32, 32, 32),
]
CROSSOVER_EPOCHS = 200
CROSSOVER_ROUNDS = 5
CROSSOVER_TOLERANCE = 1.5  # the path taken may be this much slower than the other (noise)


def _run(command: list[str], pycache: pathlib.Path) -> tuple[float, str]:
    """Run ``command`` to completion with its bytecode cached under ``pycache`` (as an
    installed package has it): (wall time in seconds, its stdout). Fails on an error."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(str(pycache)),
                          timeout=300)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stderr}"
    return elapsed, done.stdout


def _versus(train: list[str], baseline: pathlib.Path, epochs: int, what: str,
            pycache: pathlib.Path) -> tuple[float, dict[str, dict[str, Any]]]:
    """``train`` (backprop-tui's arguments) and the baseline script for ``epochs``, run
    TRAIN_ROUNDS times interleaved after a run of each that compiles their bytecode: the
    ratio of their median times (printed), and each one's output."""
    if not baseline.is_file():
        pytest.fail(f"the baseline is missing: {baseline} (../shared from the repository root)")
    commands = {
        "train": [sys.executable, "-m", "backprop_tui", "train", "--epochs", str(epochs), *train],
        "bare": [sys.executable, str(baseline), str(epochs)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    results: dict[str, dict[str, Any]] = {}
    for command in commands.values():
        _run(command, pycache)
    for round_ in range(TRAIN_ROUNDS):
        order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
        for name in order:
            elapsed, stdout = _run(commands[name], pycache)
            times[name].append(elapsed)
            results[name] = json.loads(stdout)
    ours, bare = median(times["train"]), median(times["bare"])
    ratio = ours / bare
    print(f"\n{what} {epochs} epochs: {ours:.2f} s; {baseline.stem}: {bare:.2f} s; "
          f"ratio {ratio:.2f} (target <= 1.0)  [median of {TRAIN_ROUNDS}, interleaved]")
    assert results["train"]["epochs"] == results["bare"]["epochs"] == epochs
    return ratio, results


def test_train_vs_bare_numpy_loop(tmp_path: pathlib.Path) -> None:
    """`train --epochs 100000` (the median of 3) takes no longer than the bare numpy loop."""
    ratio, results = _versus([], BARE_LOOP, TRAIN_EPOCHS, "train", tmp_path)
    loss, expected = results["train"]["loss_final"], results["bare"]["loss_final"]
    assert loss == pytest.approx(expected, rel=1e-9, abs=0.0)
    assert ratio <= 1.0


def test_train_adam_vs_bare_numpy_adam(tmp_path: pathlib.Path) -> None:
    """`train --epochs 10000 --preset mazur-adam` takes no longer than the bare numpy Adam
    loop, with the same result. Its final error (about 7e-34) is rounding noise, so the
    weights are compared too."""
    ratio, results = _versus(["--preset", "mazur-adam"], BARE_ADAM, ADAM_EPOCHS,
                             "train --preset mazur-adam", tmp_path)
    loss, expected = results["train"]["loss_final"], results["bare"]["loss_final"]
    assert loss == pytest.approx(expected, rel=1e-6, abs=1e-30)
    bare_weights = _bare_adam_weights(ADAM_EPOCHS)
    ours = [w for layer in results["train"]["weights"] for row in layer for w in row]
    assert ours == pytest.approx(bare_weights, rel=1e-9)
    assert ratio <= 1.0


def _bare_adam_weights(epochs: int) -> list[float]:
    """The baseline's weights after ``epochs``: its own loop, run with a line that prints
    them (the script prints the error alone)."""
    source = BARE_ADAM.read_text(encoding="utf-8").replace("sys.argv[1]", repr(str(epochs)))
    source += "\nprint(json.dumps([float(w) for layer in W for w in layer.ravel()]))\n"
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=300, check=True)
    return list(json.loads(done.stdout.splitlines()[-1]))


# Run in a child process, so that its peak memory is the stepping's and nothing else's.
STEPPER = PEAK_KIB + textwrap.dedent("""
    import json, pathlib, resource, sys, time, tracemalloc
    from backprop_tui.presets import load_preset
    from backprop_tui.session.session import Session

    epochs, traced = int(sys.argv[1]), sys.argv[2] == "tracemalloc"
    session = Session(load_preset("mazur"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    calls = 0
    start = time.perf_counter()
    while session.epoch <= epochs:  # up to the start of epoch epochs + 1
        if not session.next():
            raise SystemExit(f"stuck at epoch {session.epoch}, step {session.index}")
        calls += 1
    elapsed = time.perf_counter() - start
    rss_peak, hwm = peak_kib()
    print(json.dumps({
        "calls": calls,
        "seconds": elapsed,
        "rss_before_kib": rss_before,
        "rss_peak_kib": rss_peak,
        "vm_hwm_kib": hwm,  # this process image's own peak RSS
        "traced_peak_bytes": tracemalloc.get_traced_memory()[1] if traced else None,
    }))
""")


def _step_through(mode: str, pycache: pathlib.Path) -> dict[str, Any]:
    """Run STEPPER in a grandchild: Linux keeps ru_maxrss across exec, and a child spawned
    straight from pytest would start from pytest's own peak; a small shell in between
    leaves the grandchild's ru_maxrss its own."""
    command = [sys.executable, "-c", STEPPER, str(MEMORY_EPOCHS), mode]
    _, stdout = _run(["/bin/sh", "-c", '"$@"; exit $?', "sh", *command],  # no exec of "$@"
                     pycache)
    return json.loads(stdout)


def test_session_memory_1000_epochs(tmp_path: pathlib.Path) -> None:
    """Stepping a session through 1,000 epochs one step at a time peaks below 100 MB RSS.

    Two child processes: one untraced for the RSS peak and the time per step (tracemalloc
    costs both memory and time), one under tracemalloc for the stepping's own peak.
    """
    plain = _step_through("plain", tmp_path)
    traced = _step_through("tracemalloc", tmp_path)
    rss_mb = plain["rss_peak_kib"] / 1024  # ru_maxrss is in KiB on Linux
    hwm = f"VmHWM {plain['vm_hwm_kib'] / 1024:.1f} MB, " if plain["vm_hwm_kib"] else ""
    before_mb = plain["rss_before_kib"] / 1024
    traced_mb = traced["traced_peak_bytes"] / 1e6
    per_step_us = plain["seconds"] / plain["calls"] * 1e6
    print(f"\nsession, mazur, {MEMORY_EPOCHS} epochs one step at a time "
          f"({plain['calls']} next() calls):\n"
          f"  peak RSS (ru_maxrss) {rss_mb:.1f} MB, target < {MEMORY_LIMIT_MB:.0f} ({hwm}"
          f"{before_mb:.1f} MB before stepping)\n"
          f"  tracemalloc peak of the stepping alone {traced_mb:.1f} MB\n"
          f"  {per_step_us:.1f} µs per step ({plain['seconds']:.2f} s in all, untraced)")
    assert plain["calls"] == traced["calls"] > 50 * MEMORY_EPOCHS
    assert rss_mb < MEMORY_LIMIT_MB


def _network(sizes: tuple[int, ...], seed: int = 0) -> Network:
    """A sigmoid network of the given layer sizes, per-unit biases, every parameter trained."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 1.0 / np.sqrt(n), size=(m, n)) for n, m in zip(sizes, sizes[1:])]
    return Network(
        inputs=frozen(rng.uniform(0.0, 1.0, size=sizes[0])),
        targets=frozen(rng.uniform(0.1, 0.9, size=sizes[-1])),
        weights=tuple(frozen(w) for w in weights),
        biases=tuple(frozen(rng.normal(0.0, 0.1, size=m)) for m in sizes[1:]),
        activations=("sigmoid",) * len(weights),
        learning_rate=0.5,
        update_biases=True,
    )


def _per_epoch(monkeypatch: pytest.MonkeyPatch, network: Network, limit: int) -> float:
    """Seconds per epoch of run_epochs with PYTHON_LOOP_MAX_WEIGHTS set to ``limit``."""
    monkeypatch.setattr(fastpath, "PYTHON_LOOP_MAX_WEIGHTS", limit)
    start = time.perf_counter()
    run = fastpath.run_epochs(network, CROSSOVER_EPOCHS)
    elapsed = time.perf_counter() - start
    assert run.epochs == CROSSOVER_EPOCHS and not run.diverged
    return elapsed / CROSSOVER_EPOCHS


def test_python_loop_crossover(monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHON_LOOP_MAX_WEIGHTS sends each network to the faster path (within the tolerance)."""
    limit = fastpath.PYTHON_LOOP_MAX_WEIGHTS
    print(f"\nrun_epochs per epoch, best of {CROSSOVER_ROUNDS} x {CROSSOVER_EPOCHS} epochs, "
          f"PYTHON_LOOP_MAX_WEIGHTS = {limit}")
    print(f"  {'size':<10} {'weights':>7} {'python µs':>10} {'numpy µs':>9}  chosen   faster")
    slow: list[str] = []
    faster_by_weights: list[tuple[int, str]] = []
    for sizes in CROSSOVER_SIZES:
        network = _network(sizes)
        weights = sum(w.size for w in network.weights)
        python_times, numpy_times = [], []
        for _ in range(CROSSOVER_ROUNDS):  # interleaved, so that load hits both alike
            python_times.append(_per_epoch(monkeypatch, network, 10**9))
            numpy_times.append(_per_epoch(monkeypatch, network, 0))
        python_us, numpy_us = min(python_times) * 1e6, min(numpy_times) * 1e6
        chosen = "python" if weights <= limit else "numpy"
        faster = "python" if python_us <= numpy_us else "numpy"
        faster_by_weights.append((weights, faster))
        name = "-".join(map(str, sizes))
        print(f"  {name:<10} {weights:>7} {python_us:>10.1f} {numpy_us:>9.1f}  "
              f"{chosen:<8} {faster}")
        taken, other = (python_us, numpy_us) if chosen == "python" else (numpy_us, python_us)
        if taken > CROSSOVER_TOLERANCE * other:
            slow.append(f"{name}: {chosen} {taken:.1f} µs vs {other:.1f} µs")
    print(f"  {_crossover(faster_by_weights)}")
    assert not slow, f"the path taken is over {CROSSOVER_TOLERANCE}x slower: {slow}"


def _crossover(faster_by_weights: list[tuple[int, str]]) -> str:
    """Where Python floats stop winning, from (weights, faster path) in increasing size."""
    python_upto = 0
    for weights, faster in faster_by_weights:
        if faster != "python":
            break
        python_upto = weights
    numpy_from = None
    for weights, faster in reversed(faster_by_weights):
        if faster != "numpy":
            break
        numpy_from = weights
    return (f"python faster at every size up to {python_upto} weights, numpy at every size "
            f"from {numpy_from if numpy_from is not None else '-'}")
