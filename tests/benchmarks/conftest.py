"""Benchmarks import the checkout's own package, installed or not: tui/ goes first on the path."""

from __future__ import annotations

import pathlib
import sys

TUI = pathlib.Path(__file__).resolve().parents[2] / "tui"

if str(TUI) not in sys.path:
    sys.path.insert(0, str(TUI))
