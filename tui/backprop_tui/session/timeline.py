"""The network at the start of every epoch, for one history of edits, computed on demand.

Epoch starts are derived data: they follow from the base network and the edits, so the
session's undo never stores them. A timeline keeps the start of every ``CHECKPOINT``-th
epoch and of the epochs used most recently; reaching an epoch costs at most ``CHECKPOINT``
plain epochs beyond the nearest one known, however many epochs were run before.

A resumed session seeds its timeline with the saved starts of every ``SAVED``-th epoch
(``seed``): reaching any epoch up to the cursor then costs at most ``SAVED`` epochs. A seeded
start is checked when a run reaches its epoch from a start at most ``SAVED`` epochs before it
(stepping forward onto it, a fast-forward through it): a start that differs is replaced by
the one computed, and ``problem`` says so in one line.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_tui.engine.fastpath import Run, run_epochs
from backprop_tui.network import OPTIMIZER_OPTIONS, OPTIONS, Network, frozen
from backprop_tui.session.losses import LossRecord

RESTARTS = ("optimizer", "update_biases")  # an edit of these restarts the optimiser's state

CHECKPOINT = 256
SAVED = 16 * CHECKPOINT  # the epochs between two starts a session document keeps
RECENT = 64

Ticker = Callable[[int], bool]  # epochs run so far -> keep going?


Value = float | str | bool  # what an edit sets: a number, a choice (loss, …), a switch


@dataclass(frozen=True)
class Edit:
    """A value changed from the start of ``epoch`` on."""

    epoch: int
    name: str  # a parameter (w5, b1, i1, t_o1, i1[2]), an option, or activation<layer>
    value: Value


def apply_edit(network: Network, edit: Edit) -> Network:
    name, value = edit.name, edit.value
    if name in OPTIONS or name in OPTIMIZER_OPTIONS:
        changed: dict[str, Any] = {name: value}  # an option, checked by Session.check_edit
        if name in RESTARTS:  # the optimiser's state starts again at zero
            changed["state"] = None
        return dataclasses.replace(network, **changed)
    if name.startswith("activation"):
        activations = list(network.activations)
        activations[int(name.removeprefix("activation")) - 1] = str(value)
        return dataclasses.replace(network, activations=tuple(activations))
    found = network.names.given(name)
    assert found is not None, name  # checked by Session.check_edit
    kind, layer, row, column, example = found
    if kind in ("input", "target"):
        field = "inputs" if kind == "input" else "targets"
        values = getattr(network, field).copy()
        values[example, row] = value
        return (dataclasses.replace(network, inputs=frozen(values)) if kind == "input"
                else dataclasses.replace(network, targets=frozen(values)))
    weights = [w.copy() for w in network.weights]
    biases = [b.copy() for b in network.biases]
    if kind == "weight":
        weights[layer][row, column] = value
    else:
        biases[layer][row] = value
    return network.with_params(weights, biases)


def same_start(ours: Network, theirs: Network) -> bool:
    """Whether two starts of an epoch agree: options, parameters and the optimiser's state
    (with the updates it counts), their numbers to 1e-9 relative."""
    return _same(start_document(ours), start_document(theirs))


def start_document(network: Network) -> dict[str, Any]:
    """A start as the session document writes it: the network and its optimiser's state,
    with the updates it counts, t, for every optimiser that keeps one (null under sgd)."""
    state = network.state_document()
    return {"network": network.to_document(),
            "state": None if state is None else {**state, "t": network.updates}}


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    if isinstance(ours, float) or isinstance(theirs, float):
        return (isinstance(ours, int | float) and isinstance(theirs, int | float)
                and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-15))
    return bool(ours == theirs)


class Timeline:
    """Epoch starts for ``base`` under ``edits``. A timeline made by editing epoch ``fork``
    of ``parent`` shares every epoch before the fork with it."""

    def __init__(self, base: Network, edits: tuple[Edit, ...] = (),
                 parent: Timeline | None = None, fork: int = 1) -> None:
        self.base = base
        self.edits = edits
        self.parent = parent if fork > 1 else None
        self.fork = fork if parent is not None else 1
        self.diverged_at: int | None = None  # the first epoch that shows a non-finite value
        self._starts: dict[int, Network] = {}  # checkpoints and edited epochs
        self._recent: OrderedDict[int, Network] = OrderedDict()
        self._furthest: tuple[int, Network] | None = None  # the latest start computed
        self._seeded: set[int] = set()  # the epochs of the starts a saved session gave
        self._unchecked: set[int] = set()  # those no run has reached yet
        self._problem: str | None = None  # a seeded start that a run found different
        self._lock = threading.Lock()  # a fast-forward may run in a worker thread
        # The error of every epoch run from the fork on (earlier ones: the parent's).
        self.losses = LossRecord(self.fork)

    def child(self, edits: tuple[Edit, ...], fork: int) -> Timeline:
        return Timeline(self.base, edits, self, fork)

    def _edits_at(self, epoch: int) -> list[Edit]:
        return [e for e in self.edits if e.epoch == epoch]

    def start(self, epoch: int) -> Network:
        """The network at the start of ``epoch``, that epoch's edits applied."""
        return self.reach(epoch)[0]

    def reach(self, epoch: int, ticker: Ticker | None = None) -> tuple[Network, int, bool]:
        """(start of the epoch reached, its number, cancelled): ``epoch`` unless an earlier
        epoch diverges or ``ticker`` cancels."""
        if self.parent is not None and epoch < self.fork:
            return self.parent.reach(epoch, ticker)
        return self._reach(epoch, ticker)

    def _reach(self, target: int, ticker: Ticker | None) -> tuple[Network, int, bool]:
        # The lock guards the bookkeeping only, never a run of epochs: while a fast-forward
        # runs in a worker, the app can still reach the epochs it shows (and the worker's
        # ticker may wait for the app without a deadlock). Two runs over the same epochs
        # compute the same networks, so either may store them.
        with self._lock:
            if self.diverged_at is not None:
                target = min(target, self.diverged_at)
            epoch, network = self._nearest(target)
            if epoch == target and target in self._unchecked:
                epoch, network = self._nearest(target - 1)
                if target - epoch > SAVED:  # too far to check on the way: taken as saved
                    epoch, network = target, self._starts[target]
        first = epoch
        cancelled = False
        while epoch < target:
            stop = min((e.epoch for e in self.edits if epoch < e.epoch <= target),
                       default=target)

            def progress(run: Run, start: int = epoch) -> bool:
                self._record(start, run.losses)  # the curve grows while a run goes on
                return ticker is None or ticker(start - first + run.epochs)

            run = run_epochs(network, stop - epoch, epoch=epoch, checkpoint_every=CHECKPOINT,
                             progress=progress)
            self._record(epoch, run.losses)
            epoch += run.epochs
            network = run.network
            with self._lock:
                for reached in sorted(self._unchecked.intersection(run.checkpoints)):
                    self._check(reached, self._edited(run.checkpoints[reached], reached))
                self._starts.update(run.checkpoints)
                if run.diverged:
                    self.diverged_at = min(epoch, self.diverged_at or epoch)
                    break
                if self._edits_at(epoch):
                    network = self._starts[epoch] = self._edited(network, epoch)
                if run.cancelled:  # the epoch reached is known all the same: kept below
                    cancelled = True
                    break
        with self._lock:
            if epoch > first:
                self._check(epoch, network)  # the epoch reached may be a saved one, too
            if self._furthest is None or epoch > self._furthest[0]:
                self._furthest = (epoch, network)
            self._recent[epoch] = network
            self._recent.move_to_end(epoch)
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return network, epoch, cancelled

    def _edited(self, network: Network, epoch: int) -> Network:
        for edit in self._edits_at(epoch):
            network = apply_edit(network, edit)
        return network

    def seed(self, epoch: int, network: Network, checked: bool = True) -> None:
        """Take ``network`` as the start of ``epoch`` (a saved session's checkpoint): epochs
        from it on are reached without running the ones before. Unless ``checked``, the
        first run that reaches ``epoch`` compares its start with it (see ``_check``)."""
        if self.parent is not None and epoch < self.fork:
            self.parent.seed(epoch, network, checked)
            return
        if epoch <= self.fork and not checked:  # computed from the epoch before, at the
            return  # cost of one: whoever seeds it compares
        with self._lock:
            self._starts[epoch] = network
            self._seeded.add(epoch)
            if not checked:
                self._unchecked.add(epoch)
            if self._furthest is None or epoch > self._furthest[0]:
                self._furthest = (epoch, network)

    def _check(self, epoch: int, start: Network) -> None:
        """Compare the start of ``epoch`` a run computed (its edits applied) with the seeded
        one, if that is not checked yet: one that differs is replaced (and every start worked
        out from it dropped), and said in ``problem``."""
        if epoch not in self._unchecked:
            return
        self._unchecked.discard(epoch)
        if same_start(self._starts[epoch], start):
            return
        self._problem = (f"the saved start of epoch {epoch:,} does not follow from the epochs "
                         "before it (was the file changed by hand?): it is recomputed")
        after = min((e for e in self._seeded if e > epoch), default=math.inf)
        for derived in [e for e in self._starts if epoch < e < after]:
            del self._starts[derived]
        for derived in [e for e in self._recent if epoch <= e < after]:
            del self._recent[derived]
        if self._furthest is not None and epoch <= self._furthest[0] < after:
            self._furthest = None
        self._starts[epoch] = start

    @property
    def problem(self) -> str | None:
        """A seeded start of this timeline, or of the one it forks from, that a run found
        different from the epochs before it: one line."""
        return self._problem or (self.parent.problem if self.parent is not None else None)

    def known_start(self, epoch: int) -> Network | None:
        """The start of ``epoch`` if it is kept (computed or seeded), else None."""
        if self.parent is not None and epoch < self.fork:
            return self.parent.known_start(epoch)
        with self._lock:
            return self._starts.get(epoch)

    def _nearest(self, target: int) -> tuple[int, Network]:
        """The known start closest below or at ``target``."""
        if self._furthest is not None and self._furthest[0] <= target:
            return self._furthest
        if self.fork not in self._starts:
            raw = self.base if self.parent is None else self.parent.raw_start(self.fork)
            self._starts[self.fork] = self._edited(raw, self.fork)
        furthest = self._furthest or (self.fork, self._starts[self.fork])
        if furthest[0] <= target:
            return furthest
        best = max((e for e in self._recent if e <= target), default=self.fork)
        for e in [*(e.epoch for e in self.edits), target - target % CHECKPOINT,
                  target - target % SAVED]:
            if best < e <= target and e in self._starts:
                best = e
        if best in self._recent:
            self._recent.move_to_end(best)
            return best, self._recent[best]
        return best, self._starts[best]

    def raw_start(self, epoch: int) -> Network:
        """The start of ``epoch`` as the epoch before leaves it, before ``epoch``'s edits."""
        if epoch == 1:
            return self.base
        run = run_epochs(self.start(epoch - 1), 1, epoch=epoch - 1)
        self._record(epoch - 1, run.losses)
        return run.network

    def _record(self, epoch: int, losses: list[float]) -> None:
        """Note the errors of epochs ``epoch`` … in the record they belong to."""
        if self.parent is not None and epoch < self.fork:
            self.parent._record(epoch, losses[: self.fork - epoch])
            losses, epoch = losses[self.fork - epoch:], self.fork
        self.losses.record(epoch, losses)

    def known(self) -> int:
        """How many epochs from 1 on have their error recorded, without a gap."""
        if self.parent is None:
            return len(self.losses)
        before = self.parent.known()
        return before if before < self.fork - 1 else self.fork - 1 + len(self.losses)

    def errors(self) -> np.ndarray:
        """The error (E_total) of every epoch from 1 on, as far as run without a gap: for a
        fork, the parent's before it."""
        own = self.losses.values()
        if self.parent is None:
            return own
        before = self.parent.errors()[: self.fork - 1]
        if len(before) < self.fork - 1:
            return before  # the parent has not run up to the fork yet
        return np.concatenate((before, own)) if len(own) else before
