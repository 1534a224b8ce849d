"""Benchmark: `backprop-tui serve` with ten browser tabs opened at once, against one alone.

Each tab's time is from its page's navigation to its terminal's first frame (measured in
the page, see tests/browser.py), so the order in which the tabs are opened does not count.
Ten tabs start ten app processes on this 2-core machine at once: the target is a worst tab
within 6× one tab alone (the median of ROUNDS). Run with
``python -m pytest tests/benchmarks/test_serve_bench.py -n0 -s -o addopts=``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: browser.py
import browser  # noqa: E402

TABS = 10
ROUNDS = 3  # of one tab alone, and of ten
TARGET = 6.0  # the worst of ten tabs, against one tab alone


def opened(url: str, server: int, chromium: browser.Browser, tabs: int) -> list[float]:
    """Seconds to the first frame of each of ``tabs`` tabs opened at once; their apps gone
    when it returns (so that no app quitting slows the next round)."""
    context = chromium.new_context(viewport=browser.VIEWPORT)
    try:
        pages = [context.new_page() for _ in range(tabs)]
        for page in pages:
            browser.open_tab(page, url)
        return [browser.first_frame(page) for page in pages]
    finally:
        context.close()  # the tabs close: their apps quit
        deadline = time.monotonic() + 30
        while browser.app_processes(server) and time.monotonic() < deadline:
            time.sleep(0.05)


def test_ten_tabs_at_once(tmp_path: Path) -> None:
    browser.chromium()
    with browser.served(tmp_path) as (url, server), browser.browser() as chromium:
        pid = server.pid
        opened(url, pid, chromium, 1)  # warm-up: the first app start reads its files
        alone = [opened(url, pid, chromium, 1)[0] for _ in range(ROUNDS)]
        ten = [opened(url, pid, chromium, TABS) for _ in range(ROUNDS)]
    one = median(alone)
    medians = [median(times) for times in ten]
    worsts = [max(times) for times in ten]
    worst = median(worsts)
    print(f"\nfirst frame, one tab alone: {one:.2f} s (rounds: "
          f"{', '.join(f'{t:.2f}' for t in alone)})")
    print(f"{TABS} tabs at once: median {median(medians):.2f} s, worst {worst:.2f} s = "
          f"{worst / one:.1f}× one tab (target ≤ {TARGET:g}×; rounds' worst: "
          f"{', '.join(f'{t:.2f}' for t in worsts)}; load average {os.getloadavg()[0]:.1f})")
    assert worst <= TARGET * one
