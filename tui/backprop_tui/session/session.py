"""The session: a cursor over the steps of every epoch, edits, and undo of any action.

The whole undoable state is a small immutable value (``State``): the cursor, the edits
and the display precision. Everything else — epoch starts, traces, steps — is derived from
it and cached, so undo and redo restore a state exactly by swapping values.
"""

from __future__ import annotations

import copy
import math
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict

from backprop_tui import keys
from backprop_tui.engine.trace import loss_of, trace_epoch
from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS
from backprop_tui.keys import Key
from backprop_tui.netfile import (
    NetworkFileError,
    Source,
    classifier_problem,
    option_owner_problem,
    option_problem,
    order_problem,
    parse_given,
)
from backprop_tui.network import (
    MAX_ROUNDING,
    MIN_ROUNDING,
    OPTIMIZER_OPTIONS,
    OPTIONS,
    UPDATE_ORDERS,
    Network,
    Printed,
)
from backprop_tui.numbers import DEFAULT_DIGITS, MAX_DIGITS, MIN_DIGITS, fmt
from backprop_tui.output import clipped, quoted
from backprop_tui.session.quiz import Answer, Quiz, answered, change, revealed
from backprop_tui.session.timeline import Edit, Ticker, Timeline, Value, apply_edit
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.marks import Mark, marks
from backprop_tui.steps.names import resolve, resolve_printed
from backprop_tui.steps.slips import Verdict
from backprop_tui.steps.step import Step

if TYPE_CHECKING:
    from backprop_tui.engine.gradcheck import Check

STEPS_CACHED = 8
# The option an edit of a given number that is no parameter changes, by its key's kind.
OPTION_OF = {"eta": "learning_rate", "mu": "momentum", "beta1": "beta1", "beta2": "beta2",
             "epsilon": "epsilon"}


class EditError(ValueError):
    """An edit that cannot apply: its message says why, in one line."""


class Event(TypedDict):
    """An action that changed something, for the log: what it was, where, and what changed."""

    action: str  # edit, fast-forward, undo, redo, quiz, check (a saved start found wrong)
    epoch: int
    index: int
    changes: list[str]


@dataclass(frozen=True)
class State:
    epoch: int = 1
    index: int = 0  # 0: the start of the epoch, nothing computed yet; else the current step
    edits: tuple[Edit, ...] = ()
    digits: int = DEFAULT_DIGITS
    runs: tuple[tuple[int, int], ...] = ()  # fast-forwards taken: (from epoch, to epoch)


def merged_runs(runs: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Fast-forwards joined into the stretches of epochs they ran over, in order."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def describe(before: State, after: State) -> list[str]:
    """What changed between two states beyond the cursor: edits and fast-forwards."""
    changes = []
    for edit in after.edits:
        if edit not in before.edits:
            changes.append(f"{edit.name} = {_shown(edit.value)} from epoch {edit.epoch}")
    for edit in before.edits:
        if edit not in after.edits:
            changes.append(f"{edit.name} = {_shown(edit.value)} from epoch {edit.epoch} removed")
    for first, last in after.runs:
        if (first, last) not in before.runs:
            changes.append(f"fast-forward from epoch {first} to epoch {last}")
    for first, last in before.runs:
        if (first, last) not in after.runs:
            changes.append(f"fast-forward from epoch {first} to epoch {last} removed")
    return changes


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt(value) if isinstance(value, float) else str(value)


class Session:
    def __init__(self, network: Network, state: State | None = None,
                 source: Source | None = None, events: list[Event] | None = None
                 ) -> None:
        self.base = network
        self.source = source
        self.printed = printed_values(source) if source else ()
        self._marks: weakref.WeakKeyDictionary[EpochSteps, dict[int, Mark]] = (
            weakref.WeakKeyDictionary())
        self._checks: weakref.WeakKeyDictionary[EpochSteps, dict[int, Check]] = (
            weakref.WeakKeyDictionary())  # gradient checks, by step index
        self.state = state or State()
        self.past: list[State] = []
        self.future: list[State] = []
        # What changed something, in the order it happened, undos included: the log's record.
        self.events: list[Event] = events if events is not None else []
        self.quiz = Quiz()  # quiz mode, its tolerance, and the answers given (not undone)
        self._told: set[str] = set()  # the timelines' problems the events record
        self._timelines: dict[tuple[Edit, ...], Timeline] = {(): Timeline(network)}
        # The same network under plain sgd, by its edits (see ``plain_sgd``).
        self._plain: dict[tuple[Edit, ...], Timeline] = {}
        self._steps: OrderedDict[tuple[tuple[Edit, ...], int], EpochSteps] = OrderedDict()
        if self.state.edits:
            self.timeline_for(self.state.edits)

    # Derived values ------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        return self._timelines[self.state.edits]

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def index(self) -> int:
        return self.state.index

    @property
    def digits(self) -> int:
        return self.state.digits

    @property
    def network(self) -> Network:
        """The network at the start of the current epoch."""
        return self.timeline.start(self.epoch)

    @property
    def steps(self) -> EpochSteps:
        return self.steps_of(self.epoch)

    def steps_of(self, epoch: int, edits: tuple[Edit, ...] | None = None) -> EpochSteps:
        """The steps of ``epoch`` (under ``edits``, by default the current ones), kept among
        the few most recently used."""
        edits = self.state.edits if edits is None else edits
        key = (edits, epoch)
        found = self._steps.get(key)
        if found is None:
            timeline = self._timelines[edits]
            found = EpochSteps(epoch, trace_epoch(timeline.start(epoch)))
            self._steps[key] = found
            if len(self._steps) > STEPS_CACHED:
                self._steps.popitem(last=False)
        else:
            self._steps.move_to_end(key)
        return found

    def past_steps(self, epoch: int) -> EpochSteps:
        """The steps of ``epoch`` for reading once (a log of every epoch): the current epoch's
        from the cache, any other traced anew without touching the cache."""
        if epoch == self.epoch:
            return self.steps
        return EpochSteps(epoch, trace_epoch(self.timeline.start(epoch)))

    def loss_at(self, epoch: int) -> float:
        """The total error at the start of ``epoch`` (that epoch's E_total)."""
        return loss_of(self.timeline.start(epoch))

    def shown(self, key: Key) -> float | None:
        """The value of ``key`` if a step of this epoch computed it at or before the cursor."""
        index = self.steps.keys.get(keys.text(key))
        return self.steps.value_at(index) if index is not None and index <= self.index else None

    @property
    def step(self) -> Step | None:
        return self.steps[self.index - 1] if self.index else None

    def marks_of(self, steps: EpochSteps) -> dict[int, Mark]:
        """The marks of the printed values on these steps, by index (worked out once). The
        printed values describe the network as given: under edits in force by this epoch,
        the steps the edits change are marked as edited, not judged."""
        found = self._marks.get(steps)
        if found is None:
            printed = [entry for entry in self.printed if entry.epoch == steps.epoch]
            edits = [edit for edit in self.state.edits if edit.epoch <= steps.epoch]
            # The unedited epoch only where a printed value needs it: it may mean running
            # the network as given from epoch 1 (printed values end at an early epoch).
            unedited = self.steps_of(steps.epoch, ()) if edits and printed else None
            names = list(dict.fromkeys(_edit_name(edit.name) for edit in edits))
            found = self._marks[steps] = marks(steps, printed, unedited, names)
        return found

    @property
    def marks(self) -> dict[int, Mark]:
        return self.marks_of(self.steps)

    def gradient_check(self, step: Step, steps: EpochSteps | None = None) -> Check | None:
        """A ∂E/∂w or ∂E/∂b step's value against a central finite difference of the epoch's
        total error (None for any other step); worked out once, when first asked for.
        ``steps``: the epoch the step belongs to (default: its epoch under the current edits)."""
        if step.kind not in ("grad_w", "grad_b") or step.value is None:
            return None
        steps = self.steps_of(step.epoch) if steps is None else steps
        found = self._checks.setdefault(steps, {})
        if step.index not in found:
            from backprop_tui.engine.gradcheck import check

            found[step.index] = check(steps.network, steps.order[step.index - 1], step.value)
        return found[step.index]

    @property
    def diverged(self) -> str | None:
        """'diverged at epoch k, step s (key = value)' once the current epoch diverges."""
        found = self.steps.diverged
        if found is None:
            return None
        index, key, value = found
        return f"diverged at epoch {self.epoch}, step {index} ({key} = {fmt(value)})"

    def values(self) -> list[Step]:
        """Every step computed so far this epoch, in order."""
        return list(self.steps[: self.index])

    def frozen(self) -> Session:
        """This session as it stands, for reading in another thread (an export) while this
        one goes on: its own cursor, history, events, quiz and caches, so that later actions
        leave it as it is; the same networks and timelines, shared safely (a timeline only
        grows, under its lock, and computes the same epochs whoever asks). Make it on the
        thread that acts on this session."""
        twin = copy.copy(self)
        twin.past, twin.future, twin.events = list(self.past), list(self.future), list(
            self.events)
        twin.quiz = copy.deepcopy(self.quiz)
        twin._timelines, twin._plain = dict(self._timelines), dict(self._plain)
        twin._steps = OrderedDict(self._steps)
        twin._marks = weakref.WeakKeyDictionary(self._marks)
        twin._checks = weakref.WeakKeyDictionary(self._checks)
        return twin

    # Actions: each returns whether it changed anything --------------------------------

    def _go(self, state: State, action: str = "move", note: str | None = None) -> bool:
        if state == self.state:
            return False
        problem = self.timeline.problem  # a resumed file's saved start, found wrong
        if problem is not None and problem not in self._told:
            self._told.add(problem)
            self.events.append({"action": "check", "epoch": self.epoch, "index": self.index,
                                "changes": [problem]})
        self._record(action, self.state, state, note)
        self.past.append(self.state)
        self.future.clear()
        self.state = state
        return True

    def _record(self, action: str, before: State, after: State, note: str | None = None) -> None:
        changes = [note] if note else describe(before, after)
        if changes:
            self.events.append({"action": action, "epoch": before.epoch, "index": before.index,
                                "changes": changes})

    def _move(self, epoch: int, index: int) -> bool:
        return self._go(replace(self.state, epoch=epoch, index=index))

    def can_next(self) -> bool:
        return self.index < len(self.steps) or self.can_next_epoch()

    def next(self) -> bool:
        if self.index < len(self.steps):
            return self._move(self.epoch, self.index + 1)
        return self.next_epoch()

    def can_prev(self) -> bool:
        return self.index > 0 or self.epoch > 1

    def prev(self) -> bool:
        if self.index > 0:
            return self._move(self.epoch, self.index - 1)
        if self.epoch > 1:
            return self._move(self.epoch - 1, len(self.steps_of(self.epoch - 1)))
        return False

    def first(self) -> bool:
        return self._move(self.epoch, min(1, len(self.steps)))

    def last(self) -> bool:
        return self._move(self.epoch, len(self.steps))

    def next_phase(self) -> bool:
        for _, first, _ in self.steps.phases:
            if first > self.index:
                return self._move(self.epoch, first)
        return False

    def prev_phase(self) -> bool:
        """To the start of this phase, or of the one before when already there."""
        starts = [first for _, first, _ in self.steps.phases if first < self.index]
        return self._move(self.epoch, starts[-1]) if starts else False

    @property
    def example(self) -> int:
        """The example the cursor is at, from 1 (0 before the epoch's first step): a batch's
        combined step is at its last example, E⁺ at the data set's last. A plain name means
        its values."""
        key = self.step.typed_key if self.step else None
        if key is None or self.network.examples == 1:
            return 0
        return key.last or key.example or self.network.examples

    def goto(self, target: str | int) -> bool:
        """Go to a step of this epoch by number or by name (see ``steps.names``)."""
        index = target if isinstance(target, int) else resolve(str(target), self.steps,
                                                                 self.example)
        if not 0 <= index <= len(self.steps):
            raise ValueError(f"this epoch has steps 1 to {len(self.steps)}")
        return self._move(self.epoch, index)

    def can_next_epoch(self) -> bool:
        return self.steps.diverged is None

    def next_epoch(self) -> bool:
        if not self.can_next_epoch():
            return False
        self.timeline.start(self.epoch + 1)
        return self._move(self.epoch + 1, 0)

    def prev_epoch(self) -> bool:
        return self.epoch > 1 and self._move(self.epoch - 1, 0)

    def fast_forward(self, count: int, ticker: Ticker | None = None) -> bool:
        """Run ``count`` plain epochs from the start of this one and land at the start of the
        epoch after them (or of the one that diverges). Cancelled: nothing changes."""
        if count < 1:
            raise ValueError("the number of epochs must be at least 1")
        if not self.can_next_epoch():
            return False
        _, reached, cancelled = self.timeline.reach(self.epoch + count, ticker)
        if cancelled or reached == self.epoch:
            return False
        runs = (*self.state.runs, (self.epoch, reached))
        return self._go(replace(self.state, epoch=reached, index=0, runs=runs), "fast-forward")

    def set_digits(self, digits: int) -> bool:
        digits = max(MIN_DIGITS, min(MAX_DIGITS, digits))
        return self._go(replace(self.state, digits=digits))

    def edit(self, name: str, value: object) -> bool:
        """Change a parameter or option from the start of this epoch on; the epoch is
        recomputed and the cursor stays on the same step."""
        name, value = self.check_edit(name, value)
        old = self.current_value(name)
        edits = self._with(Edit(self.epoch, name, value))
        self.timeline_for(edits, fork=self.epoch)
        key = self.step.key if self.step else None
        steps = self.steps_of(self.epoch, edits)
        index = steps.keys.get(key, min(self.index, len(steps))) if key else 0
        note = f"{name}: {_shown(old)} → {_shown(value)} from epoch {self.epoch}"
        return self._go(replace(self.state, edits=edits, index=index), "edit", note)

    def current_value(self, name: str) -> Value:
        network = self.network
        if name in OPTIONS or name in OPTIMIZER_OPTIONS:
            option: Value = getattr(network, name)
            return option
        if name.startswith("activation"):
            return network.activations[int(name.removeprefix("activation")) - 1]
        found = network.names.given(name)
        assert found is not None, name
        kind, layer, row, column, example = found
        if kind == "input":
            return float(network.inputs[example, row])
        if kind == "target":
            return float(network.targets[example, row])
        if kind == "weight":
            return float(network.weights[layer][row, column])
        return float(network.biases[layer][row])

    def editable(self, typed: str) -> str | None:
        """The name of the given value ``typed`` names, as edits write it (``W5`` -> ``w5``,
        ``η`` -> ``learning_rate``, ``μ`` -> ``momentum`` under an optimiser that takes
        it), or None if it names no value a person gives."""
        try:
            key = keys.parse(typed)
        except keys.NotAKey:  # an option by its file key: learning_rate, momentum
            option = typed.strip() if typed.strip() in OPTION_OF.values() else None
        else:
            option = OPTION_OF.get(key.kind)
            if option is None:
                name = keys.text(key)
                return name if self._given(name) else None
        return option if option in self.options() else None

    def options(self) -> tuple[str, ...]:
        """The numbers of this epoch's network an edit may change besides the parameters:
        the learning rate and its optimiser's own options."""
        return ("learning_rate", *OPTIMIZERS[self.network.optimizer].options)

    def _given(self, name: str) -> bool:
        """Whether ``name`` is a given number of this network (an example's, of one that
        exists)."""
        found = self.network.names.given(name)
        return found is not None and found[4] < self.network.examples

    def check_edit(self, name: str, value: object) -> tuple[str, Value]:
        """The edit in canonical form, or EditError saying in one line what is wrong (with
        the value alone, or with the network it would make: softmax on a hidden layer,
        cross-entropy's targets that do not add up to 1, …)."""
        found = self.check_value(name, value)
        foreign = option_owner_problem(found[0], self.network.optimizer)
        if foreign:
            raise EditError(f"{found[0]}: {foreign}")
        wrong = combination_problem(self.base, self._with(Edit(self.epoch, *found)))
        if wrong:
            raise EditError(as_edit(*wrong, found[0], self.epoch))
        return found

    def _with(self, edit: Edit) -> tuple[Edit, ...]:
        """The session's edits with ``edit`` in place of any of the same value and epoch."""
        kept = tuple(e for e in self.state.edits if (e.epoch, e.name) != (edit.epoch, edit.name))
        return tuple(sorted((*kept, edit), key=lambda e: e.epoch))

    def check_value(self, name: str, value: object) -> tuple[str, Value]:
        """The edit in canonical form, or EditError: the value alone (``check_edit`` also
        asks whether the network it makes combines)."""
        network = self.network
        name = {"eta": "learning_rate", "η": "learning_rate"}.get(name.strip(), name.strip())
        choices = {"loss": tuple(LOSSES), "update_order": UPDATE_ORDERS,
                   "optimizer": tuple(OPTIMIZERS)}
        if name in choices:
            if not isinstance(value, str) or value not in choices[name]:
                raise EditError(f"{name} must be one of {', '.join(choices[name])}")
            return name, value
        if name == "update_biases":
            if not isinstance(value, bool):
                raise EditError("update_biases must be true or false")
            return name, value
        if name == "rounding":
            return name, _rounding(value)
        if name in OPTIMIZER_OPTIONS:  # momentum, beta1, beta2, epsilon: numbers in a range
            number = _number(value)
            problem = option_problem(name, number)
            if problem:
                raise EditError(f"{name}: {problem}")
            return name, number
        if name.startswith("activation"):
            layer = name.removeprefix("activation")
            if not (layer.isascii() and layer.isdigit() and len(layer) < 4
                    and 1 <= int(layer) <= network.depth):
                raise EditError(f"layers are numbered 1 to {network.depth}: activation1 …")
            if not isinstance(value, str) or value not in ACTIVATIONS:
                raise EditError(f"an activation is one of {', '.join(ACTIVATIONS)}")
            return name, value
        if name != "learning_rate" and not self._given(name):
            names = network.names
            such = [names.weights[0][0][0], names.biases[0][0], names.units[0][0],
                    names.targets[0]]
            if network.examples > 1:
                found = network.names.given(name)
                if found is not None:  # an input or target of an example beyond the last
                    raise EditError(f"this network has examples 1 to {network.examples}")
                such[2:] = [f"{names.units[0][0]}[2] (examples 1 to {network.examples})",
                            f"{names.targets[0]}[2]"]
            raise EditError(f"no parameter named {quoted(name)}: try {', '.join(such)} "
                            "or eta")
        number = _number(value)
        if name == "learning_rate" and number <= 0:
            raise EditError("the learning rate must be above 0")
        return name, number

    @property
    def optimized(self) -> bool:
        """Whether some epoch (of the base network, under the edits in force) uses an
        optimiser other than plain sgd: then the error curve may compare with sgd."""
        return self.base.optimizer != "sgd" or any(
            edit.name == "optimizer" and edit.value != "sgd" for edit in self.state.edits)

    def plain_sgd(self) -> Timeline | None:
        """The same network under plain sgd, for the error curve to compare with: the base
        network with optimizer = "sgd" under every edit in force but the optimiser's
        switches; None while every epoch uses sgd. Nothing is run here: whoever shows its
        errors runs its epochs (the app, in a worker thread)."""
        if not self.optimized:
            return None
        edits = tuple(edit for edit in self.state.edits if edit.name != "optimizer")
        found = self._plain.get(edits)
        if found is None:
            found = self._plain[edits] = self._plain_fork(edits)
        return found

    def _plain_fork(self, edits: tuple[Edit, ...]) -> Timeline:
        """A plain-sgd timeline for ``edits``: a fork of the known one that agrees with them
        longest, sharing the epochs before they differ (an edit at epoch 10,000 reruns
        none of the 9,999 before it)."""
        parent, fork = _longest_agreeing(self._plain, edits)
        if parent is None:
            return Timeline(replace(self.base, optimizer="sgd", state=None), edits)
        return parent if fork == 0 else parent.child(edits, fork)

    def timeline_for(self, edits: tuple[Edit, ...], fork: int | None = None) -> Timeline:
        """The timeline of ``edits``, made on first use: forked at ``fork`` from the current
        one (an edit), or, rebuilding a resumed session's, from the known one that agrees
        with them longest (an undone edit shares the epochs before it)."""
        found = self._timelines.get(edits)
        if found is None:
            if fork is None:
                parent, fork = _longest_agreeing(self._timelines, edits)
                if parent is None:  # they differ from every known one at epoch 1
                    found = self._timelines[edits] = Timeline(self.base, edits)
                    return found
                if fork == 0:
                    self._timelines[edits] = parent
                    return parent
            else:
                parent = self.timeline
            found = self._timelines[edits] = parent.child(edits, fork)
        return found

    # The quiz: the quiz judges an answer, the session records it ---------------------

    def asks(self) -> int | None:
        """The step the next move lands on, if the quiz asks for its value first."""
        return self.quiz.asks(self.steps, self.epoch, self.index)

    def answer(self, text: str) -> Verdict:
        """Check a typed answer for the step the quiz asks for, and record it. ValueError
        (one line) for text that is not a number: nothing is recorded."""
        index = self.asks()
        if index is None:
            raise ValueError("no step is waiting for an answer")
        first = not self.quiz.tries(self.epoch, self.steps[index - 1])
        answer, verdict = answered(self.steps, self.epoch, index, text, self.quiz.tolerance,
                                   first)
        self._record_answer(answer, change(self.steps[index - 1], text, verdict))
        return verdict

    def reveal(self) -> None:
        """Give up on the step the quiz asks for: its value is shown."""
        index = self.asks()
        if index is not None:
            self._record_answer(revealed(self.steps, self.epoch, index),
                                change(self.steps[index - 1]))

    def _record_answer(self, answer: Answer, line: str) -> None:
        self.quiz.answers.append(answer)
        self.events.append({"action": "quiz", "epoch": answer.epoch, "index": answer.index,
                            "changes": [line]})

    # Undo ---------------------------------------------------------------------------

    def can_undo(self) -> bool:
        return bool(self.past)

    def can_redo(self) -> bool:
        return bool(self.future)

    def undo(self) -> bool:
        if not self.past:
            return False
        self.future.append(self.state)
        self._record("undo", self.state, self.past[-1])
        self.state = self._within(self.past.pop())
        return True

    def redo(self) -> bool:
        if not self.future:
            return False
        self.past.append(self.state)
        self._record("redo", self.state, self.future[-1])
        self.state = self._within(self.future.pop())
        return True

    def _within(self, state: State) -> State:
        """``state`` with its step within its epoch: a resumed file's history may point past
        the steps of an epoch that diverges (they end before the first value that is not
        finite), which only running it shows."""
        steps = len(self.steps_of(state.epoch, state.edits))
        return state if state.index <= steps else replace(state, index=steps)


def _longest_agreeing(known: dict[tuple[Edit, ...], Timeline], edits: tuple[Edit, ...]
                      ) -> tuple[Timeline | None, int]:
    """The known timeline that agrees with ``edits`` longest and the first epoch where they
    differ (0: the same edits, made in another order, so the same network)."""
    parent, fork = None, 1
    for edited, timeline in known.items():
        changed = set(edited) ^ set(edits)
        if not changed:
            return timeline, 0
        differ = min(edit.epoch for edit in changed)
        if differ > fork:
            parent, fork = timeline, differ
    return parent, fork


def combination_problem(base: Network, edits: tuple[Edit, ...]) -> tuple[int, str] | None:
    """The first epoch whose network, as ``edits`` make it (each epoch's together, in epoch
    order, as the timeline applies them), has options that do not combine, and what is
    wrong; None if every one does. The rules are the network files': an output rule, loss
    and targets (``netfile.classifier_problem``); the update order beside the optimiser
    and the batches (``netfile.order_problem``); the optimiser's options under it (nesterov
    needs a momentum above 0)."""
    network = base
    for at, edit in enumerate(edits):
        network = apply_edit(network, edit)
        if at + 1 < len(edits) and edits[at + 1].epoch == edit.epoch:
            continue
        problem = (classifier_problem(network.activations, network.loss,
                                      network.targets.tolist())
                   or order_problem(network.update_order, network.optimizer,
                                    network.batch_size)
                   or _options_problem(network))
        if problem:
            return edit.epoch, problem
    return None


def _options_problem(network: Network) -> str | None:
    """An option of the network's optimiser out of its range under it, said with its name."""
    for key in OPTIMIZERS[network.optimizer].options:
        problem = option_problem(key, getattr(network, key), network.optimizer)
        if problem:
            return f"{key}: {problem}"
    return None


def as_edit(epoch: int, problem: str, name: str = "", current: int = 0) -> str:
    """A network file's problem said of an edit: without the file's key ("key 'targets',
    row 4: …" -> "example 4: …"); at a later epoch than the edit's (``current``), which;
    for a target at the edit's own epoch, how a one-hot target moves."""
    where = re.match(r"(?:layer \d+, )?key '\w+'(?:, row (\d+))?: ", problem)
    if where:
        problem = (f"example {where[1]}: " if where[1] else "") + problem[where.end():]
    if epoch > current:
        problem += f" (from epoch {epoch} on, with the edits made there)"
    elif name.startswith("t_") and "add up to" in problem:
        problem += (" — to move a one-hot target to another class, switch the loss to "
                    "half_sse, edit both targets, and switch back")
    return problem


def _rounding(value: object) -> int:
    """Significant digits for hand rounding: 0 (off) or MIN_ROUNDING..MAX_ROUNDING; typed
    text such as "4" counts, as it does for numbers."""
    expected = (f"rounding must be 0 (off) or {MIN_ROUNDING} to {MAX_ROUNDING} significant "
                "digits")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,2}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditError(f"{expected}, got {clipped(repr(value))}")
    if value != 0 and not MIN_ROUNDING <= value <= MAX_ROUNDING:
        raise EditError(f"{expected}, got {value}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise EditError("expected a number, not true/false")
    if not isinstance(value, int | float | str):
        raise EditError(f"expected a number, got {quoted(str(value))}")
    try:
        number = float(value)
    except OverflowError:
        raise EditError("expected a finite number") from None
    except (TypeError, ValueError):
        raise EditError(f"expected a number, got {quoted(str(value))}") from None
    if not math.isfinite(number):
        raise EditError("expected a finite number")
    return number


def _edit_name(name: str) -> str:
    """An edit's name as a person reads it: w5, η, μ, the loss, layer 2's activation."""
    number = next((kind for kind, option in OPTION_OF.items() if option == name), None)
    if number is not None:  # learning_rate, momentum, beta1 …: η, μ, β₁ …
        return keys.symbol(Key(number))
    if name.startswith("activation"):
        return f"layer {name.removeprefix('activation')}'s activation"
    if name in OPTIONS or name in OPTIMIZER_OPTIONS:
        return name.replace("_", " ")
    return name


def printed_values(source: Source) -> tuple[Printed, ...]:
    """The [printed] values of the network file a session came from, each tied to its
    step; none if the text no longer reads as a network file."""
    try:
        return resolve_printed(parse_given(source.text, source.name), source.name).printed
    except NetworkFileError:
        return ()
