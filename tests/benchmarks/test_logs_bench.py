"""Benchmark: streaming 1,000 epochs of the tutorial as a session log, JSONL and Markdown.

`export --format F --epochs 1000 -o FILE` runs in a child process of its own, so that its peak
memory is the export's and nothing else's; its peak RSS must stay under 100 MB. Its time per
epoch is printed beside that of a baseline child that builds the same 1,000 epochs' steps
(every step object, every value) without writing anything, as a ratio. Baseline and export
alternate, best of ROUNDS each, since absolute times on a shared machine mean little.

Run with ``python -m pytest tests/benchmarks -s``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from peak import PEAK_KIB  # pytest puts tests/benchmarks/ on sys.path

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository: tests/ and tui/ live here
TUI = ROOT / "tui"

EPOCHS = 1_000
ROUNDS = 3
MEMORY_LIMIT_MB = 100.0

# One child: mode "build" builds the steps only; "jsonl", "md", … export in that format.
# Times cover the work alone (imports done first); the peak is the whole process's.
CHILD = PEAK_KIB + textwrap.dedent("""
    import json, pathlib, resource, sys, time
    mode, epochs, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "build":
        from backprop_tui.presets import load_preset
        from backprop_tui.session.session import Session
    else:
        import importlib
        from backprop_tui.cli import main
        # Imported before the clock: the exporters, and the format's own module if lazy.
        importlib.import_module("backprop_tui.export.formats")
        lazy = {"md": "markdown", "txt": "text"}
        if mode in lazy:
            importlib.import_module(f"backprop_tui.export.{lazy[mode]}")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "build":
        session = Session(load_preset("mazur"))
        built = 0
        while True:
            for step in session.steps:  # every step object of the epoch, built
                step.value
                built += 1
            if session.epoch >= epochs or not session.next_epoch():
                break
        session.last()
        status, result = 0, {"epoch": session.epoch, "steps": built}
    else:
        status = main(["export", "--format", mode, "--epochs", str(epochs), "-o", output])
        result = {"bytes": pathlib.Path(output).stat().st_size if status == 0 else 0}
    elapsed = time.perf_counter() - start
    rss_peak, hwm = peak_kib()
    print(json.dumps({
        "status": status,
        "seconds": elapsed,
        "rss_before_kib": rss_before,
        "rss_peak_kib": rss_peak,
        "vm_hwm_kib": hwm,
        **result,
    }))
""")


def _env() -> dict[str, str]:
    """The environment for a child process: the checkout's tui/ first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TUI), env.get("PYTHONPATH")) if p)
    return env


def _child(mode: str, output: pathlib.Path) -> dict[str, Any]:
    """Run CHILD in a grandchild: Linux keeps ru_maxrss across exec, and a child spawned
    straight from pytest would start from pytest's own peak; a small shell in between
    (which does not exec "$@") leaves the grandchild's ru_maxrss its own."""
    output.unlink(missing_ok=True)
    command = [sys.executable, "-c", CHILD, mode, str(EPOCHS), str(output)]
    start = time.perf_counter()
    done = subprocess.run(["/bin/sh", "-c", '"$@"; exit $?', "sh", *command],
                          capture_output=True, text=True, env=_env(), timeout=300)
    wall = time.perf_counter() - start
    assert done.returncode == 0, f"{mode}: exited {done.returncode}: {done.stderr[-2000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0, f"{mode}: export exited {result['status']}: {done.stderr}"
    result["wall"] = wall
    return result


def _mb(kib: int) -> float:
    return kib / 1024  # ru_maxrss and VmHWM are in KiB on Linux


@pytest.mark.parametrize("fmt", ["jsonl", "md"])
def test_log_of_1000_epochs_streams_in_under_100_mb(fmt: str, tmp_path: pathlib.Path) -> None:
    output = tmp_path / f"log.{fmt}"
    builds: list[dict[str, Any]] = []
    exports: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):  # interleaved, so that load on the machine hits both alike
        pair = [("build", builds), (fmt, exports)]
        for mode, results in (pair if round_ % 2 == 0 else reversed(pair)):
            results.append(_child(mode, output if mode == fmt else tmp_path / "unused"))
    assert all(b["epoch"] == EPOCHS for b in builds)
    assert builds[0]["steps"] >= 50 * EPOCHS  # the tutorial's epoch has 50-odd steps
    assert all(e["bytes"] > 0 for e in exports)
    if fmt == "jsonl":
        with output.open("rb") as stream:
            stream.seek(-4096, os.SEEK_END)
            last = json.loads(stream.read().decode("utf-8").splitlines()[-1])
        assert (last["type"], last["epoch"]) == ("epoch", EPOCHS)

    build_s = min(b["seconds"] for b in builds)
    export_s = min(e["seconds"] for e in exports)
    peak_kib = max(e["rss_peak_kib"] for e in exports)
    build_peak_kib = max(b["rss_peak_kib"] for b in builds)
    peak_mb = _mb(peak_kib)
    hwm = [e["vm_hwm_kib"] for e in exports if e["vm_hwm_kib"]]
    print(f"\n{fmt}: {EPOCHS} epochs, peak {peak_mb:.0f} MB, "
          f"{export_s / EPOCHS * 1e3:.1f} ms/epoch, "
          f"ratio {export_s / build_s:.1f} to building the steps")
    print(f"  export: best {export_s:.2f} s of {ROUNDS} (child wall "
          f"{min(e['wall'] for e in exports):.2f} s), {exports[0]['bytes'] / 1e6:.1f} MB "
          f"written; peak RSS (ru_maxrss) {peak_mb:.1f} MB"
          f"{f', VmHWM {_mb(max(hwm)):.1f} MB' if hwm else ''}, "
          f"{_mb(exports[0]['rss_before_kib']):.1f} MB after imports; target < "
          f"{MEMORY_LIMIT_MB:.0f} MB")
    print(f"  building the steps ({builds[0]['steps']} steps, nothing written): best "
          f"{build_s:.2f} s of {ROUNDS}, {build_s / EPOCHS * 1e3:.2f} ms/epoch, peak RSS "
          f"{_mb(build_peak_kib):.1f} MB")
    assert peak_mb < MEMORY_LIMIT_MB
