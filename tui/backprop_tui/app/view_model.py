"""What the app shows, as plain data picked out of the session's steps.

No Textual here and no arithmetic: every number comes from a step (or the network as
given), so the views and their tests stay functions of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.app.examples import Where, updates, where
from backprop_tui.engine.plan import Plan, plan
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, loss_for
from backprop_tui.keys import Key
from backprop_tui.network import Given
from backprop_tui.numbers import DEFAULT_DIGITS, fmt, value_text
from backprop_tui.steps.phases import phase_label

if TYPE_CHECKING:  # a session imports numpy; the first frame is drawn without it
    from backprop_tui.network import Network
    from backprop_tui.session.session import Session
    from backprop_tui.steps.build import EpochSteps
    from backprop_tui.steps.step import Step

DIAGRAM_DIGITS = 4
VALUES_SHOWN = 400  # the values panel lists at most this many of the newest values


@dataclass(frozen=True)
class Status:
    phases: tuple[tuple[str, bool], ...]  # (label, is current)
    index: int
    count: int
    epoch: int
    total_error: str | None  # the total error once known this epoch (see total_symbol)
    diverged: str | None
    digits: int
    rounding: int  # hand rounding's significant digits; 0: off
    # The quiz's score per phase this epoch, "right/asked" ("" where none was asked), in
    # the order of ``phases``; None while the quiz is off.
    quiz: tuple[str, ...] | None = None
    total_symbol: str = "E_total"  # E_total⁺ once the error after the updates is computed
    total_when: str = ""  # which error it is, once the updates are applied: before or after
    # With several examples: what the step is about — one example (k, k), a batch's
    # examples (first, last) or the data set (0, 0) — and how many there are; and the
    # update it belongs to, of how many. (0, 0, 0) and (0, 0) with one example.
    examples: tuple[int, int, int] = (0, 0, 0)
    update: tuple[int, int] = (0, 0)


def status(session: Session) -> Status:
    steps = session.steps
    step = session.step
    current = step.phase if step else None
    phases = tuple((phase_label(phase), phase == current) for phase in _phases(steps.phases))
    total, symbol, when = _total(session)
    examples, update = _place(steps.plan, step.typed_key if step else None)
    return Status(
        phases=phases,
        index=session.index,
        count=len(steps),
        epoch=session.epoch,
        total_error=None if total is None else fmt(total, session.digits),
        diverged=session.diverged,
        digits=session.digits,
        rounding=session.network.rounding,
        quiz=_scores(session),
        total_symbol=symbol,
        total_when=when,
        examples=examples,
        update=update,
    )


def _phases(phases: list[tuple[str, int, int]]) -> list[str]:
    """The phases the status line lists: each once (with several examples, every example
    goes through the same ones)."""
    return list(dict.fromkeys(phase for phase, _, _ in phases))


def _place(order: Plan, key: Key | None) -> tuple[tuple[int, int, int], tuple[int, int]]:
    """With several examples, what the step at ``key`` is about and its update (see
    Status); nothing with one."""
    if order.shape.examples == 1:
        return (0, 0, 0), (0, 0)
    at = where(order, key)
    return (*at.about, order.shape.examples), (at.update, updates(order))


def _total(session: Session) -> tuple[float | None, str, str]:
    """The total error the status line shows: E_total once computed, E_total⁺ once the
    error after the updates is; from the updates on, it says which of the two it is. With
    several examples, the data set's: E (known from the epoch's start), then E⁺."""
    if session.network.examples > 1:
        return _dataset_total(session)
    after = session.shown(keys.TOTAL_AFTER)
    if after is not None:
        return after, keys.symbol(keys.TOTAL_AFTER), "after the updates"
    applied = session.steps.keys.get(keys.text(keys.APPLY))
    when = "before the updates" if applied is not None and applied <= session.index else ""
    return session.shown(keys.TOTAL), keys.symbol(keys.TOTAL), when


def _dataset_total(session: Session) -> tuple[float | None, str, str]:
    steps = session.steps
    after = session.shown(keys.DATASET_AFTER)
    if after is not None:
        return after, keys.symbol(keys.DATASET_AFTER), "after the updates"
    applied = next((first for phase, first, _ in steps.phases if phase == "update"), None)
    when = "before the updates" if applied is not None and applied <= session.index else ""
    return steps.value_of(keys.DATASET), keys.symbol(keys.DATASET), when


def _scores(session: Session) -> tuple[str, ...] | None:
    """Per phase of this epoch, the quiz's 'right/asked' ('' where none was asked); None
    while the quiz is off (the scores stay in the log)."""
    quiz = session.quiz
    if not quiz.on:
        return None
    scores = quiz.score(session.epoch)
    return tuple(f"{scores[phase][0]}/{scores[phase][1]}" if phase in scores else ""
                 for phase in _phases(session.steps.phases))


def opening_status(given: Given) -> Status:
    """The status at the start of a new session, from the network file alone."""
    order = plan(given)
    examples, update = _place(order, None)
    return Status(
        phases=tuple((phase_label(phase), False) for phase in _phases(order.phases)),
        index=0,
        count=len(order),
        epoch=1,
        total_error=None,
        diverged=None,
        digits=DEFAULT_DIGITS,
        rounding=given.rounding,
        examples=examples,
        update=update,
    )


@dataclass(frozen=True)
class Factor:
    symbol: str
    value: str
    source: str  # "step 14"; "given" for a parameter, input or target; or after the updates


@dataclass(frozen=True)
class Equation:
    symbol: str
    formula: str
    substituted: str
    result: str
    factors: tuple[Factor, ...]
    mark: tuple[str, str] | None = None  # a printed value's ✓ or ⚠, and why
    gradient: GradientView | None = None  # the gradient check, while it is on


def equation(session: Session) -> Equation | None:
    step = session.step
    if step is None:
        return None
    digits = session.digits
    factors = tuple(
        Factor(
            symbol=keys.symbol(key),
            value=value_text(value, digits),
            source=_source(key, session),
        )
        for key, value in zip(step.typed_uses, step.operands, strict=True)
    )
    result = step.value_text(digits)
    found = session.marks.get(step.index)
    mark = None if found is None else (found.symbol, found.reason(digits))
    return Equation(step.symbol, step.formula, step.substituted(digits), result, factors, mark)


@dataclass(frozen=True)
class GradientView:
    """The gradient check beside a ∂E/∂w or ∂E/∂b step (numbers from the session)."""

    symbol: str  # ✓ agrees, ✗ differs, ≈ differs as expected; '' on a step with no gradient
    numeric: str  # the central finite difference's estimate
    relative: str  # the relative difference
    h: str  # the step the estimate took
    note: str  # why a difference is expected, or where the check shows


GRADIENT_SYMBOLS = {"agrees": "✓", "differs": "✗", "expected": "≈"}


def gradient_check(session: Session) -> GradientView:
    """The gradient check at the cursor, worked out by the session (only for this step)."""
    step = session.step
    found = None if step is None else session.gradient_check(step)
    if found is None:
        return GradientView("", "", "", "", "Gradient check on: shown at each ∂E/∂w and ∂E/∂b "
                            "step (d turns it off).")
    digits = session.digits
    return GradientView(GRADIENT_SYMBOLS[found.verdict], fmt(found.numeric, digits),
                        fmt(found.relative, 2), fmt(found.h, 2), found.caveat)


def _source(key: Key, session: Session) -> str:
    """Where an operand comes from: a step of this epoch, the new values, an edit, the
    epoch before's updates, or the network as given."""
    index = session.steps.keys.get(keys.text(key))
    if index is not None:
        return f"step {index}"
    if key.kind == "out_after":
        return "with the new values"
    name = session.editable(keys.text(key))  # as an edit names it: learning_rate, momentum
    if name and any(e.epoch == session.epoch and e.name == name for e in session.state.edits):
        return "your edit"
    network = session.network
    updated = (key.kind == "weight" or (key.kind == "bias" and network.update_biases)
               or (key.kind in keys.STATE and network.state is not None))  # not at rest
    if session.epoch > 1 and updated:
        return f"epoch {session.epoch - 1:,}'s update"
    return "given"


@dataclass(frozen=True)
class ValueRow:
    phase: str  # the phase label, for grouping
    symbol: str
    value: str
    newest: bool
    mark: str = ""  # beside a printed value: ✓, or ⚠ and what was printed
    # With several examples, the group above the phases: 'Example 2', 'Examples 1–4
    # together' (a batch's combined values), 'The data set'; '' with one example.
    group: str = ""


def values(session: Session) -> tuple[tuple[ValueRow, ...], int]:
    """The newest values computed this epoch (at most VALUES_SHOWN) and how many are hidden."""
    from backprop_tui.steps.marks import AGREES  # with the session: not for the first frame

    steps = session.steps
    first = max(1, session.index - VALUES_SHOWN + 1)
    marks = session.marks
    several = session.network.examples > 1
    rows = []
    for index in range(first, session.index + 1):
        step = steps[index - 1]
        value = step.value_text(session.digits)
        found = marks.get(index)
        mark = "" if found is None else (
            found.symbol if found.verdict == AGREES else f"{found.symbol} {found.printed.text}")
        group = _group(step.typed_key) if several else ""
        rows.append(ValueRow(phase_label(step.phase), step.symbol, value,
                             index == session.index, mark, group))
    return tuple(rows), first - 1


def _group(key: Key) -> str:
    """The values panel's group of a step's value, with several examples."""
    if not key.example:
        return "The data set"
    if key.last:
        return f"Examples {key.example}–{key.last} together"
    return f"Example {key.example}"


@dataclass(frozen=True)
class Parameter:
    """A weight or bias as the diagram shows it: what it joins and its numbers so far."""

    name: str
    source: str | None  # a weight's unit below; None for a bias
    feeds: tuple[str, ...]  # the unit a weight feeds, or the units a bias is added to
    value: float  # at the start of the epoch
    new: float | None = None  # its new value, once computed this epoch
    gradient: float | None = None  # ∂E/∂w or ∂E/∂b, once computed this epoch
    updates: bool = True  # whether it gets a new value this epoch (a fixed bias does not)
    # Which of its values the current step uses, when both are shown: "old" (a hidden layer
    # under after_backward), "new" (under during_backward), else "".
    used: str = ""
    new_symbol: str = ""  # its new value's symbol where it is tagged: w₅⁺[2], w₅⁺[1–4]
    # Its optimiser's state, a (value, new) per slot of DiagramModel.slots: the value as
    # the update starts, or once this epoch's step computed it, the new one (new True);
    # () under sgd and for a bias that stays fixed (it keeps none).
    state: tuple[tuple[float, bool], ...] = ()


@dataclass(frozen=True)
class DiagramModel:
    """The network as the diagram draws it at the cursor."""

    layers: tuple[tuple[str, ...], ...]  # unit names per layer, inputs first
    values: Mapping[str, float | None]  # unit -> its output (an input's as given), None until known
    weights: tuple[Parameter, ...]
    biases: tuple[Parameter, ...]
    touched: frozenset[str]
    focus: str | None  # the unit, weight or bias whose value the step computes
    # Which of the focus's values: "value" (a unit's output), "delta" (its δ, and the
    # factors that make it), "gradient" or "new" (a weight's or bias's); "" for none.
    part: str = ""
    backward: bool = False  # in the output or a hidden layer's phase: the flow goes back
    deltas: Mapping[str, float | None] = field(default_factory=dict)  # unit -> δ once computed
    targets: Mapping[str, float] = field(default_factory=dict)  # output unit -> its target
    eta: float | None = None  # the learning rate
    digits: int = DIAGRAM_DIGITS
    # With several examples, whose values these are ('example 2 of 4'); '' with one.
    caption: str = ""
    # A softmax output layer: its units, which the diagram joins with a bracket (every
    # output depends on every net of the layer); () for outputs worked one at a time.
    coupled: tuple[str, ...] = ()
    # While a step that the coupling is about is current (a softmax output, a Jacobian
    # entry, the chain rule's δ, the shortcut): what it means, in words and in fewer words
    # for a narrow panel; "" otherwise (the bracket is then drawn light).
    coupling: str = ""
    coupling_short: str = ""
    slots: tuple[str, ...] = ()  # the optimiser's state of each parameter: v; m and s


# What the step computes, by its kind: which value of the focus the diagram highlights.
# A Jacobian entry ∂out_k/∂net_j and the chain rule's δ_j go into δ_j: unit j's δ.
_PARTS = {"net": "value", "out": "value", "dE_dout": "delta", "slope": "delta", "delta": "delta",
          "jacobian": "delta", "chain": "delta", "contrib": "delta", "dnet_dw": "gradient",
          "grad_w": "gradient", "grad_b": "gradient", "new_w": "new", "new_b": "new",
          "new_v": "v", "new_m": "m", "new_s": "s"}

# What the coupling of a softmax output layer means at a step of it, by the step's kind:
# (words, fewer words), {name} the activation's symbol. "delta" is the chain rule's sum
# where the loss has no shortcut.
_COUPLING = {
    "out": ("{name}: each output uses every net", "{name}: uses every net"),
    "slope": ("{name}: every output depends on every net", "{name}: outputs coupled"),
    "jacobian": ("{name}: every output depends on every net", "{name}: outputs coupled"),
    "chain": ("chain rule: δ sums over every output", "δ sums over every output"),
    "delta": ("chain rule: δ sums over every output", "δ sums over every output"),
}
# The shortcut δ = out − t of cross-entropy (softmax or sigmoid outputs).
_SHORTCUT = ("shortcut: δ = out − t, the chain rule worked out", "shortcut: δ = out − t")


def diagram(session: Session) -> DiagramModel:
    step = session.step
    network = session.network
    if network.examples == 1:
        return _diagram(network.given, session.shown, step, start=_starts(network))
    steps = session.steps
    example = _Example(steps, where(steps.plan, step.typed_key if step else None))
    return _diagram(network.given, session.shown, step, example, example.start_state)


StartState = Callable[[Key, str], float]  # (a parameter, a slot) -> its state as given


def _resting(parameter: Key, slot: str) -> float:
    """The state of a network at rest (the first epoch's): zero."""
    return 0.0


def _starts(network: Network) -> StartState:
    """The state of each parameter as the network starts the epoch: each slot's arrays
    taken once (at rest, they are made)."""
    where = network.names.parameters()
    slots = {slot: network.slot(slot) for slot in OPTIMIZERS[network.optimizer].slots}

    def start(parameter: Key, slot: str) -> float:
        kind, layer, row, column = where[parameter.param]
        weights, biases = slots[slot]
        return float(weights[layer][row, column] if kind == "weight" else biases[layer][row])

    return start


def opening_diagram(given: Given) -> DiagramModel:
    """The diagram at the start of a new session: the given values, nothing computed (with
    several examples, the first example's, as the session's at its start)."""
    model = _diagram(given, lambda key: None, None)
    if given.examples == 1:
        return model
    return replace(model, caption=_caption(where(plan(given), None), given.examples))


@dataclass(frozen=True)
class _Example:
    """With several examples, which one the diagram shows: the keys of its values, of its
    batch's gradients and new values, and of the parameters as its batch starts."""

    steps: EpochSteps
    at: Where

    def of(self, key: Key) -> Key:
        return key.at(self.at.example)

    def batch(self, key: Key) -> Key:
        return key.at(self.at.first, self.at.last)

    def start(self, parameter: Key) -> Key:
        """The value the batch's steps use: the new value's formula starts from it."""
        if parameter.kind == "bias" and not self.steps.network.update_biases:
            return parameter
        return self.steps.plan.formula(self.batch(parameter.new)).uses[0]

    def start_state(self, parameter: Key, slot: str) -> float:
        """A parameter's state ``slot`` as the batch starts: what its new value's formula
        takes (as given for the first batch, else the batch before's new value)."""
        new = self.batch(Key(f"new_{slot}", param=parameter.param))
        return self.steps.number(next(use for use in self.steps.plan.formula(new).uses
                                      if use.kind in (slot, new.kind)))


def _caption(at: Where, examples: int) -> str:
    """Whose values the diagram shows: an example's ('example 2 of 4'), or at a batch's
    combined step (or the data set's) the last example's it computed, and which batch
    ('example 4 · batch 1–4')."""
    first, last = at.about
    if first and first == last:
        return f"example {at.example} of {examples}"
    return f"example {at.example} · " + (f"batch {first}–{last}" if first else "data set")


def _diagram(given: Given, shown: Callable[[Key], float | None],
             step: Step | None, example: _Example | None = None,
             start: StartState = _resting) -> DiagramModel:
    """The diagram of a network as given, with the values ``shown`` has computed so far;
    with several examples, ``example``'s values; each parameter's optimiser state as
    ``start`` gives it until its step computes the new one."""
    names = given.names
    value = given.by_name
    of = example.of if example else _same
    batch = example.batch if example else _same
    values: dict[str, float | None] = {
        unit: example.steps.number(of(keys.unit("input", unit))) if example else value[unit]
        for unit in names.units[0]}
    deltas: dict[str, float | None] = {}
    for units in names.units[1:]:
        for unit in units:
            values[unit] = shown(of(keys.unit("out", unit)))
            deltas[unit] = shown(of(keys.unit("delta", unit)))
    targets = {unit: example.steps.number(of(keys.unit("target", unit))) if example
               else value[keys.text(keys.unit("target", unit))] for unit in names.units[-1]}
    uses = frozenset(step.typed_uses) if step else frozenset()
    slots = OPTIMIZERS[given.optimizer].slots

    def state(key: Key) -> tuple[tuple[float, bool], ...]:
        """Each slot's new value once shown, else its value as the update starts."""
        found = []
        for slot in slots:
            new = shown(batch(Key(f"new_{slot}", param=key.param)))
            found.append((start(key, slot), False) if new is None else (new, True))
        return tuple(found)

    def parameter(name: str, source: str | None, feeds: tuple[str, ...],
                  updates: bool) -> Parameter:
        key = keys.parameter(name)
        start, new_key = (example.start(key), batch(key.new)) if example else (key, key.new)
        new = shown(new_key) if updates else None
        used = ""
        if step is not None and new is not None and step.kind not in AFTER:
            if start in uses and step.typed_key != new_key:
                used = "old"
            elif new_key in uses:
                used = "new"
        old = example.steps.number(start) if example else value[name]
        return Parameter(name, source, feeds, old, new, shown(batch(key.gradient)), updates,
                         used, keys.symbol(new_key) if example else "",
                         state(key) if updates else ())

    weights = tuple(
        parameter(w, names.units[layer][k], (names.units[layer + 1][j],), True)
        for layer, rows in enumerate(names.weights)
        for j, row in enumerate(rows)
        for k, w in enumerate(row)
    )
    biases = []
    for layer, bias_names in enumerate(names.biases):
        fed_by = names.units[layer + 1]
        for j, b in enumerate(bias_names):
            fed = tuple(fed_by) if given.shared(layer) else (fed_by[j],)
            biases.append(parameter(b, None, fed, given.update_biases))
    touched: frozenset[str] = frozenset()
    focus, part, backward = None, "", False
    if step is not None:
        # The error after the updates comes from out⁺, which the diagram does not show:
        # marking the outputs would point at values the step does not use; a batch's error
        # combines every example's, not the one shown.
        if step.kind not in ("total_after", "dataset_after", "batch_error"):
            touched = frozenset(step.touches)
        part = _PARTS.get(step.kind, "") if step.touches else ""
        focus = step.touches[0] if part else None
        if step.kind == "jacobian":  # ∂out_k/∂net_j: a term of δ_j
            focus = step.typed_key.above
        elif step.kind == "chain":  # touches every output: the δ is its own unit's
            focus = step.typed_key.unit
        backward = step.phase == "output" or step.phase.startswith("hidden")
    caption = _caption(example.at, given.examples) if example else ""
    coupled = _coupled(given)
    coupling = _coupling(given, step, coupled)
    return DiagramModel(tuple(tuple(u) for u in names.units), values, weights, tuple(biases),
                        touched, focus, part, backward, deltas, targets, given.learning_rate,
                        caption=caption, coupled=coupled, coupling=coupling[0],
                        coupling_short=coupling[1], slots=slots)


def _coupled(given: Given) -> tuple[str, ...]:
    """The output units when the output layer is worked whole (softmax), else ()."""
    if ACTIVATIONS[given.activations[-1]].coupled is None:
        return ()
    return tuple(given.names.units[-1])


def _coupling(given: Given, step: Step | None, coupled: tuple[str, ...]) -> tuple[str, str]:
    """What the output layer's coupling means at ``step`` (see DiagramModel.coupling)."""
    if step is None or step.typed_key.unit not in given.names.units[-1]:
        return "", ""
    kind = step.kind
    if kind in ("chain", "delta") and loss_for(given.loss, given.activations[-1]).shortcut:
        return _SHORTCUT if kind == "delta" else _COUPLING["chain"] if coupled else ("", "")
    name = ACTIVATIONS[given.activations[-1]].symbol
    titles = _COUPLING.get(kind, ("", "")) if coupled else ("", "")
    return titles[0].format(name=name), titles[1].format(name=name)


def _same(key: Key) -> Key:
    return key


# The steps that list or use the new values themselves: no value of theirs is "used".
AFTER = ("apply", "total_after", "dataset_after")
