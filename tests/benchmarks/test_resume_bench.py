"""Benchmark: resuming a session at epoch 1,000,000, launch to the first complete frame.

The tutorial's network is fast-forwarded to epoch 1,000,000 and saved (as the app saves
it); ``backprop-tui --resume FILE`` is launched in tmux (120×36) until the status line shows
that epoch, the weights panel its starting weights and the footer its keys. The baseline is
the same for a session saved at epoch 1; both run interleaved, the median of ROUNDS counts.
The target is absolute: under 1 s (the saved starts of version 2 make the resume cost a
fixed number of epochs, where version 1 recomputed them all).

Run with ``python -m pytest tests/benchmarks/test_resume_bench.py -n0 -s -o addopts=``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from statistics import median

from backprop_tui.netfile import Source
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session import autosave
from backprop_tui.session.session import Session
from test_app_bench import FRAME_MARKERS, Launches, first_frames

LATE = 1_000_000
ROUNDS = 7
TARGET = 1.0  # seconds, absolute


def _saved(folder: Path, epoch: int) -> tuple[Path, tuple[str, ...]]:
    """The tutorial at the start of ``epoch``, saved in ``folder``; the markers of its first
    frame: the status line, the footer's keys and the panels' texts (FRAME_MARKERS), the
    epoch, its explanation, and the weights w5 and w8 as the weights panel writes them."""
    session = Session(load_preset("mazur"), source=Source("preset", "mazur",
                                                          preset_text("mazur")))
    if epoch > 1:
        assert session.fast_forward(epoch - 1) and session.epoch == epoch
    path = folder / f"epoch-{epoch}.json"
    autosave.save(session, path)
    weights = session.network.weights[1]
    told = f"The start of epoch {epoch:,}" if epoch > 1 else "The network as given"
    return path, (*FRAME_MARKERS, f"epoch {epoch:,}  ·", told,
                  f" {fmt(float(weights[0, 0]), 4)} ", f" {fmt(float(weights[1, 1]), 4)} ")


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def test_resume_at_epoch_1_000_000_to_the_first_frame() -> None:
    """Launch to first complete frame of a resumed session at epoch 1,000,000 (the median of
    ROUNDS, interleaved with one at epoch 1, after an untimed launch of each): under 1 s."""
    folder = tempfile.TemporaryDirectory(prefix="bptui-resume-")
    try:
        launches: Launches = {}
        for name, epoch in (("late", LATE), ("early", 1)):
            path, markers = _saved(Path(folder.name), epoch)
            launches[name] = ([sys.executable, "-m", "backprop_tui", "--resume", str(path)],
                              markers)
        times = first_frames(launches, ROUNDS)
    finally:
        folder.cleanup()
    late, early = median(times["late"]), median(times["early"])
    print(f"\nresume to first frame: epoch {LATE:,} {late:.2f} s, epoch 1 {early:.2f} s, "
          f"ratio {late / early:.2f} (target < {TARGET:.0f} s absolute at epoch {LATE:,})  "
          f"[median of {ROUNDS}, interleaved; all: {_list(times['late'])} vs "
          f"{_list(times['early'])}]")
    assert late < TARGET
