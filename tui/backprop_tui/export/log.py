"""The session's timeline as it now stands, as a stream of items every exporter renders.

Epoch by epoch up to the cursor: the edits that take effect at an epoch's start, each step
in order (phase by phase), the actions that changed something at the point they happened,
and each completed epoch's summary. Epochs a fast-forward ran over appear as one item.
With several training examples the steps are grouped (``Part``): each batch, within it each
example's steps (phase by phase), then the batch's own phases (combining, update) and its
update record; the epoch ends with the data set's error. Items are produced one at a time,
so a long session streams in constant memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property

from backprop_tui.keys import Key
from backprop_tui.network import Network
from backprop_tui.session.session import Event, Session, merged_runs
from backprop_tui.session.timeline import Edit
from backprop_tui.steps.build import EpochSteps, Update
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
    level: int  # several examples: 1 a batch's own phase, 2 a phase of one example; else 0
    network: Network  # the epoch's (at its start): what the phase's introduction describes


@dataclass(frozen=True)
class Part:
    """With several examples, where a part of an epoch starts: a batch (update ``number``
    of ``count``, examples ``first`` to ``last``), one example's steps (``first``, with its
    inputs and targets), or the data set's error at the end ("dataset", with ``loss``, E at
    the epoch's start)."""

    epoch: int
    kind: str  # "batch", "example" or "dataset"
    first: int = 0
    last: int = 0
    number: int = 0
    count: int = 0
    given: tuple[tuple[Key, float], ...] = ()
    loss: float = 0.0
    batch_loss: str = "mean"  # how a batch's (and the data set's) errors combine


@dataclass(frozen=True)
class UpdateItem:
    """With several examples, a batch's update, after the step that applies it: its record
    (``EpochSteps.update_records``), the parameters it starts from and the update."""

    record: dict[str, object]
    before: Network
    update: Update


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


Item = EpochStart | PhaseStart | Part | StepItem | UpdateItem | EventItem | EpochEnd | RunItem


# Who hears, in this thread, which epoch a log has reached (see ``reporting``).
_REACHED: ContextVar[Callable[[int], None] | None] = ContextVar("reached", default=None)


@contextmanager
def reporting(reached: Callable[[int], None]) -> Iterator[None]:
    """Within it, in this thread, every log calls ``reached(epoch)`` as it comes to each
    epoch: the app, writing a long log in a thread, shows how far it got."""
    token = _REACHED.set(reached)
    try:
        yield
    finally:
        _REACHED.reset(token)


def log_items(session: Session) -> Iterator[Item]:
    reached = _REACHED.get()
    cursor = session.state
    events: dict[tuple[int, int], list[Event]] = {}
    for event in session.events:
        events.setdefault((event["epoch"], event["index"]), []).append(event)
    skipped = merged_runs(cursor.runs)
    epoch = 1
    while epoch <= cursor.epoch:
        if reached is not None:
            reached(epoch)
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
    groups = Groups(steps) if steps.network.examples > 1 else None
    for index in range(1, shown + 1):
        step = steps[index - 1]
        if groups is not None:
            parts = groups.parts(step)
            yield from parts
            if parts:
                phase = None
        if step.phase != phase and (groups is None or groups.level):
            phase = step.phase
            yield PhaseStart(epoch, phase, groups.level if groups else 0, steps.network)
        yield StepItem(step, marks.get(index))
        if groups is not None and step.kind == "apply":
            yield groups.update()
        yield from (EventItem(e) for e in events.pop((epoch, index), []))
    if shown == len(steps) and steps.diverged is None and shown > 0:
        yield EpochEnd(steps)


class Groups:
    """Where each step of an epoch over several examples belongs: its batch, and its
    example or the batch's own steps (or the data set's error, at the end)."""

    def __init__(self, steps: EpochSteps) -> None:
        self.steps = steps
        self.plan = steps.plan
        self.place = (-1, -1)  # (the batch's first example or 0 for E⁺, the example or 0)
        self.level = 0  # of the phases here: 1 a batch's own, 2 an example's, 0 none
        self.applied = 0  # updates applied so far

    def parts(self, step: Step) -> list[Part]:
        """The parts that start at ``step``."""
        key = step.typed_key
        if key.kind == "dataset_after":
            place = (0, 0)
        else:
            place = (self.plan.batch_of(key.example)[0], step.example)
        if place == self.place:
            return []
        epoch, steps = self.steps.epoch, self.steps
        how = steps.network.batch_loss
        found = []
        if place[0] != self.place[0]:
            if place[0] == 0:
                found.append(Part(epoch, "dataset", loss=steps.trace.loss, batch_loss=how))
            else:
                batches = self.plan.shape.batches()
                first, last = self.plan.batch_of(place[0])
                found.append(Part(epoch, "batch", first, last, batches.index((first, last)) + 1,
                                  len(batches), batch_loss=how))
        if place[1]:
            example = place[1]
            given = [use.at(example) for use in self.plan.one.given
                     if use.kind in ("input", "target")]
            found.append(Part(epoch, "example", example, example,
                              given=tuple((use, steps.number(use)) for use in given)))
        self.place = place
        self.level = 0 if place[0] == 0 else 2 if place[1] else 1
        return found

    def update(self) -> UpdateItem:
        """The update just applied: the next of the epoch's."""
        number, updates = self.applied, self.updates
        self.applied += 1
        before = self.steps.network if number == 0 else updates[number - 1].after
        return UpdateItem(self.records[number], before, updates[number])

    @cached_property
    def updates(self) -> list[Update]:
        return self.steps.trace.updates

    @cached_property
    def records(self) -> list[dict[str, object]]:
        return self.steps.update_records()
