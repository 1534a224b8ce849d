"""With several training examples: where each example and each batch begins in an epoch, and
which example the cursor is at — what the status line says, the diagram and the editor
show, the example keys move to and a plain name at the go-to prompt means.

From the plan alone (keys, no numbers, no numpy): the first frame uses it too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from backprop_tui.engine.plan import Plan
from backprop_tui.keys import Key


class Where(NamedTuple):
    """The cursor's place among the examples (all from 1)."""

    example: int  # the example whose values the diagram shows and a plain name means
    first: int  # its batch's first example …
    last: int  # … and last
    update: int  # that batch's update, within the epoch
    # What the step is about: one example (``first == last`` of ``about``), a batch's
    # combined values (its range), or the data set (0, 0).
    about: tuple[int, int]


class Starts(NamedTuple):
    """Where each example's steps and each batch's begin (1-based step indexes)."""

    examples: dict[int, int]  # example -> the index of its first step
    batches: list[int]  # per batch, in order: the index of its first example's first step


@lru_cache(maxsize=8)
def starts(plan: Plan) -> Starts:
    """The first step of every example and batch (none with one example)."""
    found: dict[int, int] = {}
    if plan.shape.examples > 1:
        for i, key in enumerate(plan.keys):
            if key.example and not key.last and key.example not in found:
                found[key.example] = i + 1
    batches = [found[first] for first, _ in plan.shape.batches()] if found else []
    return Starts(found, batches)


def where(plan: Plan, key: Key | None) -> Where:
    """The cursor's place at the step of ``key`` (None: the start of the epoch, before
    example 1). A batch's combined step shows its last example; the data set's error after
    the updates, the last example."""
    shape = plan.shape
    if key is None:
        about = (1, 1)
    elif key.example == 0:  # E+: the whole data set
        about = (0, 0)
    else:
        about = (key.example, key.last or key.example)
    example = about[1] or shape.examples
    first, last = plan.batch_of(example)
    return Where(example, first, last, (first - 1) // shape.batch + 1, about)


def updates(plan: Plan) -> int:
    """The updates an epoch makes: its number of batches."""
    return len(plan.shape.batches())


def next_start(indexes: list[int], index: int, count: int) -> int | None:
    """The first of ``indexes`` after ``index`` (among the ``count`` steps there are); the
    start of the epoch counts as the first step's (at it, the first example is next)."""
    return next((i for i in indexes if max(index, 1) < i <= count), None)


def prev_start(indexes: list[int], index: int) -> int | None:
    """The start of this stretch, or of the one before when already there."""
    before = [i for i in indexes if i < index]
    return before[-1] if before else None
