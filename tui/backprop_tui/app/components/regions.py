"""Drawing again only the rows of a widget that changed.

A step changes a few rows of the diagram and of the equation panel; asking Textual to draw
the whole widget again costs a frame's worth of work per key (every row goes through its
styles: border, padding, scrollbar). ``refresh_rows`` asks for the changed rows only, a
region per run of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.geometry import Region
from textual.widget import Widget


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """``rows`` as runs of consecutive rows, in order: [start, stop) each."""
    found: list[tuple[int, int]] = []
    for y in sorted(set(rows)):
        if found and found[-1][1] == y:
            found[-1] = (found[-1][0], y + 1)
        else:
            found.append((y, y + 1))
    return found


def refresh_rows(widget: Widget, rows: Iterable[int], width: int) -> None:
    """Draw again ``rows`` of ``widget``'s content (``width`` cells wide); none: nothing
    (where Textual's ``refresh()`` with no region would draw it all)."""
    regions = [Region(0, start, width, stop - start) for start, stop in runs(rows)]
    if regions:
        widget.refresh(*regions)
