"""The app's main states as SVG screenshots, compared with baselines in tests/snapshots/.

``app.export_screenshot()`` is deterministic, so a baseline that differs means the picture
changed. To accept a change (or to add a state), regenerate the baselines:

    SNAPSHOT_UPDATE=1 PYTHONPATH=tui python -m pytest tests/test_snapshots.py

A mismatch leaves the new picture beside the baseline as ``<name>.actual.svg``.
"""

from __future__ import annotations

import os
import pathlib

import pytest
from apptools import SIZE, run, run_python, settle, show
from backprop_tui.app.app import BackpropApp
from textual.pilot import Pilot

SNAPSHOTS = pathlib.Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SNAPSHOT_UPDATE") == "1"

# name -> (step to show, or "help" for the help screen over the start; terminal size)
STATES: dict[str, tuple[str | int, tuple[int, int]]] = {
    "start": (0, SIZE),
    "out_o1": ("out_o1", SIZE),
    "E_total": ("E_total", SIZE),
    "dE_dw5": ("dE/dw5", SIZE),
    "dE_dw1": ("dE/dw1", SIZE),
    "E_total_after": ("E_total+", SIZE),
    "help": ("help", SIZE),
    "small_dE_dw5": ("dE/dw5", (80, 24)),
    # A forward step, a hidden δ (the flow drawn backwards), apply, step 55: at both sizes.
    "small_out_o1": ("out_o1", (80, 24)),
    "delta_h1": ("delta_h1", SIZE),
    "small_delta_h1": ("delta_h1", (80, 24)),
    "apply": ("apply", SIZE),
    "small_apply": ("apply", (80, 24)),
    "small_E_total_after": ("E_total+", (80, 24)),
}


def screenshot(target: str | int, size: tuple[int, int]) -> str:
    pictures: list[str] = []

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        if target == "help":
            app.action_help()
        else:
            await show(app, pilot, target)
        await settle(pilot)
        pictures.append(app.export_screenshot())

    run(script, size=size)
    return pictures[0]


@pytest.mark.parametrize("name", list(STATES))
def test_snapshot(name: str) -> None:
    picture = screenshot(*STATES[name])
    baseline = SNAPSHOTS / f"{name}.svg"
    actual = SNAPSHOTS / f"{name}.actual.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        baseline.write_text(picture, "utf-8")
        actual.unlink(missing_ok=True)
        return
    if not baseline.exists():
        pytest.fail(f"no baseline {baseline}; create it with SNAPSHOT_UPDATE=1 "
                    "PYTHONPATH=tui python -m pytest tests/test_snapshots.py")
    if picture == baseline.read_text("utf-8"):
        actual.unlink(missing_ok=True)
        return
    actual.write_text(picture, "utf-8")
    pytest.fail(
        f"the screen for {name!r} changed: compare {actual} with {baseline} (open both in a "
        "browser, or diff them); if the change is intended, accept it with SNAPSHOT_UPDATE=1 "
        "PYTHONPATH=tui python -m pytest tests/test_snapshots.py",
        pytrace=False,
    )


def test_the_screenshot_script_loads() -> None:
    """screenshots/generate.py (run by hand, not here: it takes a while) still imports what
    it drives the app with."""
    script = pathlib.Path(__file__).resolve().parents[1] / "screenshots" / "generate.py"
    done = run_python(f"import runpy; runpy.run_path({str(script)!r}, run_name='loaded')")
    assert done.returncode == 0, done.stderr
