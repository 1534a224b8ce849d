"""The session's timeline as it now stands, as a stream of items every exporter renders.

Epoch by epoch up to the cursor: the edits that take effect at an epoch's start, each step
in order (phase by phase), the actions that changed something at the point they happened,
and each completed epoch's summary. Epochs a fast-forward ran over appear as one item.
Items are produced one at a time, so a long session streams in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from backprop_tui.session.session import Event, Session, merged_runs
from backprop_tui.session.timeline import Edit
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.marks import Mark
from backprop_tui.steps.step import Step


@dataclass(frozen=True)
class EpochStart:
    epoch: int
    edits: tuple[Edit, ...]  # edits that take effect from this epoch's start


@dataclass(frozen=True)
class PhaseStart:
    epoch: int
    phase: str


@dataclass(frozen=True)
class StepItem:
    step: Step
    mark: Mark | None = None  # its printed value's, if the network file has one

    def record(self, digits: int) -> dict[str, object]:
        """The step's record, with its printed value's mark."""
        record = self.step.record(digits)
        if self.mark is not None:
            record["printed"] = self.mark.record(digits)
        return record


@dataclass(frozen=True)
class EventItem:
    event: Event


@dataclass(frozen=True)
class EpochEnd:
    steps: EpochSteps  # the completed epoch: its summary, its record

    @property
    def record(self) -> dict[str, object]:
        """The epoch record: loss before and after, new values."""
        return self.steps.record()


@dataclass(frozen=True)
class RunItem:
    first: int  # the first epoch run
    last: int  # the epoch reached (its start)
    loss_before: float  # the error at the start of `first`
    loss_after: float  # the error at the start of `last`


Item = EpochStart | PhaseStart | StepItem | EventItem | EpochEnd | RunItem


def log_items(session: Session) -> Iterator[Item]:
    cursor = session.state
    events: dict[tuple[int, int], list[Event]] = {}
    for event in session.events:
        events.setdefault((event["epoch"], event["index"]), []).append(event)
    skipped = merged_runs(cursor.runs)
    epoch = 1
    while epoch <= cursor.epoch:
        run = next(((a, b) for a, b in skipped if a == epoch), None)
        if run is not None and epoch < cursor.epoch:
            last = min(run[1], cursor.epoch)
            yield EpochStart(epoch, tuple(e for e in cursor.edits if e.epoch == epoch))
            yield from (EventItem(e) for e in events.pop((epoch, 0), []))
            yield RunItem(epoch, last, session.loss_at(epoch), session.loss_at(last))
            epoch = last
            continue
        yield from _epoch(session, epoch, events)
        epoch += 1
    for remaining in events.values():  # actions whose place the timeline no longer holds
        yield from (EventItem(event) for event in remaining)


def _epoch(session: Session, epoch: int, events: dict[tuple[int, int], list[Event]]
           ) -> Iterator[Item]:
    cursor = session.state
    steps = session.past_steps(epoch)  # a log only reads: the session's cache stays
    shown = cursor.index if epoch == cursor.epoch else len(steps)
    marks = session.marks_of(steps)
    yield EpochStart(epoch, tuple(e for e in cursor.edits if e.epoch == epoch))
    yield from (EventItem(e) for e in events.pop((epoch, 0), []))
    phase = None
    for index in range(1, shown + 1):
        step = steps[index - 1]
        if step.phase != phase:
            phase = step.phase
            yield PhaseStart(epoch, phase)
        yield StepItem(step, marks.get(index))
        yield from (EventItem(e) for e in events.pop((epoch, index), []))
    if shown == len(steps) and steps.diverged is None and shown > 0:
        yield EpochEnd(steps)
