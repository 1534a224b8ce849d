"""What the app shows, as plain data picked out of the session's steps.

No Textual here and no arithmetic: every number comes from a step (or the network as
given), so the views and their tests stay functions of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.engine.plan import plan
from backprop_tui.keys import Key
from backprop_tui.network import Given
from backprop_tui.numbers import DEFAULT_DIGITS, fmt
from backprop_tui.steps.phases import phase_label

if TYPE_CHECKING:  # a session imports numpy; the first frame is drawn without it
    from backprop_tui.session.session import Session
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


def status(session: Session) -> Status:
    steps = session.steps
    current = session.step.phase if session.step else None
    phases = tuple((phase_label(phase), phase == current) for phase, _, _ in steps.phases)
    total, symbol, when = _total(session)
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
    )


def _total(session: Session) -> tuple[float | None, str, str]:
    """The total error the status line shows: E_total once computed, E_total⁺ once the
    error after the updates is; from the updates on, it says which of the two it is."""
    after = session.shown(keys.TOTAL_AFTER)
    if after is not None:
        return after, keys.symbol(keys.TOTAL_AFTER), "after the updates"
    applied = session.steps.keys.get(keys.text(keys.APPLY))
    when = "before the updates" if applied is not None and applied <= session.index else ""
    return session.shown(keys.TOTAL), keys.symbol(keys.TOTAL), when


def _scores(session: Session) -> tuple[str, ...] | None:
    """Per phase of this epoch, the quiz's 'right/asked' ('' where none was asked); None
    while the quiz is off (the scores stay in the log)."""
    quiz = session.quiz
    if not quiz.on:
        return None
    scores = quiz.score(session.epoch)
    return tuple(f"{scores[phase][0]}/{scores[phase][1]}" if phase in scores else ""
                 for phase, _, _ in session.steps.phases)


def opening_status(given: Given) -> Status:
    """The status at the start of a new session, from the network file alone."""
    order = plan(given)
    return Status(
        phases=tuple((phase_label(phase), False) for phase, _, _ in order.phases),
        index=0,
        count=len(order),
        epoch=1,
        total_error=None,
        diverged=None,
        digits=DEFAULT_DIGITS,
        rounding=given.rounding,
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
            value=fmt(value, digits),
            source=_source(key, session),
        )
        for key, value in zip(step.typed_uses, step.operands, strict=True)
    )
    result = "" if step.value is None else fmt(step.value, digits)
    found = session.marks.get(step.index)
    mark = None if found is None else (found.symbol, found.reason(digits))
    return Equation(step.symbol, step.formula, step.substituted(digits), result, factors, mark)


def run_summary(session: Session, start: int, index: int) -> str:
    """What a fast-forward that landed says: the epochs it ran, from where, and the total
    error before and after them."""
    reached = session.epoch
    ran = f"epoch {start:,}" if reached == start + 1 else f"epochs {start:,} to {reached - 1:,}"
    began = (f" (begun at step {index} of epoch {start:,}, which ran whole)" if index else "")
    before, after = (fmt(session.loss_at(e), session.digits) for e in (start, reached))
    return (f"Fast-forward: {ran} run{began}; E_total {before} → {after}. Now at the start "
            f"of epoch {reached:,}.")


def run_stopped(session: Session, start: int, count: int) -> str:
    """What a fast-forward stopped by Escape says: how far it got (epochs an earlier run
    had computed count as reached), that the cursor stays, that the curve keeps them."""
    reached = max(start, session.timeline.known() + 1)
    return (f"Fast-forward stopped at epoch {reached:,} of {start + count:,}: the cursor "
            f"stays at epoch {start:,}; the error curve keeps the epochs that ran.")


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
    name = "learning_rate" if key == keys.ETA else keys.text(key)
    if any(e.epoch == session.epoch and e.name == name for e in session.state.edits):
        return "your edit"
    updated = key.kind == "weight" or (key.kind == "bias" and session.network.update_biases)
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


def values(session: Session) -> tuple[tuple[ValueRow, ...], int]:
    """The newest values computed this epoch (at most VALUES_SHOWN) and how many are hidden."""
    from backprop_tui.steps.marks import AGREES  # with the session: not for the first frame

    steps = session.steps
    first = max(1, session.index - VALUES_SHOWN + 1)
    marks = session.marks
    rows = []
    for index in range(first, session.index + 1):
        step = steps[index - 1]
        value = "" if step.value is None else fmt(step.value, session.digits)
        found = marks.get(index)
        mark = "" if found is None else (
            found.symbol if found.verdict == AGREES else f"{found.symbol} {found.printed.text}")
        rows.append(ValueRow(phase_label(step.phase), step.symbol, value,
                             index == session.index, mark))
    return tuple(rows), first - 1


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


# What the step computes, by its kind: which value of the focus the diagram highlights.
_PARTS = {"net": "value", "out": "value", "dE_dout": "delta", "slope": "delta", "delta": "delta",
          "contrib": "delta", "dnet_dw": "gradient", "grad_w": "gradient",
          "grad_b": "gradient", "new_w": "new", "new_b": "new"}


def diagram(session: Session) -> DiagramModel:
    return _diagram(session.network.given, session.shown, session.step)


def opening_diagram(given: Given) -> DiagramModel:
    """The diagram at the start of a new session: the given values, nothing computed."""
    return _diagram(given, lambda key: None, None)


def _diagram(given: Given, shown: Callable[[Key], float | None],
             step: Step | None) -> DiagramModel:
    """The diagram of a network as given, with the values ``shown`` has computed so far."""
    names = given.names
    value = given.by_name
    values: dict[str, float | None] = {unit: value[unit] for unit in names.units[0]}
    deltas: dict[str, float | None] = {}
    for units in names.units[1:]:
        for unit in units:
            values[unit] = shown(keys.unit("out", unit))
            deltas[unit] = shown(keys.unit("delta", unit))
    targets = {unit: value[keys.text(keys.unit("target", unit))] for unit in names.units[-1]}
    uses = frozenset(step.typed_uses) if step else frozenset()

    def parameter(name: str, source: str | None, feeds: tuple[str, ...],
                  updates: bool) -> Parameter:
        key = keys.parameter(name)
        new = shown(key.new) if updates else None
        used = ""
        if step is not None and new is not None and step.kind not in ("apply", "total_after"):
            if key in uses and step.typed_key != key.new:
                used = "old"
            elif key.new in uses:
                used = "new"
        return Parameter(name, source, feeds, value[name], new, shown(key.gradient), updates,
                         used)

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
        # marking the outputs would point at values the step does not use.
        if step.kind != "total_after":
            touched = frozenset(step.touches)
        part = _PARTS.get(step.kind, "") if step.touches else ""
        focus = step.touches[0] if part else None
        backward = step.phase == "output" or step.phase.startswith("hidden")
    return DiagramModel(tuple(tuple(u) for u in names.units), values, weights, tuple(biases),
                        touched, focus, part, backward, deltas, targets, given.learning_rate)
