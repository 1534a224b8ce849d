"""What the app says in a toast once an action is done, and how it names an option and
its values: each text a function of session data (states, values, the equation shown).

Plain text only (``BackpropApp.notify`` never reads markup). No Textual and no numpy
here: the action table takes the option switches' wording from this module before the
first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.keys import Key
from backprop_tui.numbers import value_text

if TYPE_CHECKING:
    from backprop_tui.app.view_model import Equation
    from backprop_tui.session.session import Session, State
    from backprop_tui.session.timeline import Edit, Value

# The options the palette switches, as it and the toasts name them.
OPTION_LABELS = {"update_biases": "Biases", "update_order": "Update order",
                 "optimizer": "Optimizer", "loss": "Loss", "rounding": "Hand rounding"}


def option_name(name: str) -> str:
    """An edited value as a person reads it: 'Optimizer', 'Layer 2' (its activation), 'η',
    'μ', or a parameter's own name ('w5', 'i1[2]')."""
    if name.startswith("activation"):
        return f"Layer {name.removeprefix('activation')}"
    if name in OPTION_LABELS:
        return OPTION_LABELS[name]
    from backprop_tui.session.session import OPTION_OF  # loaded with the session

    kind = next((kind for kind, option in OPTION_OF.items() if option == name), None)
    return keys.symbol(Key(kind)) if kind else name


def option_value(name: str, value: object, digits: int) -> str:
    """A value of ``name`` in words: 'updated too', '4 significant digits', 'adam', a
    number at ``digits`` significant digits."""
    if name == "update_biases":
        return "updated too" if value else "kept fixed"
    if name == "rounding":
        return f"{value} significant digits" if value else "off"
    if isinstance(value, float):
        return value_text(value, digits)
    return str(value)


def edited(name: str, old: Value, new: Value, epoch: int, digits: int) -> str:
    """An edit or a switch: 'w5 0.4 → 0.3 from epoch 1', 'Optimizer sgd → adam from epoch 3'."""
    return (f"{option_name(name)} {option_value(name, old, digits)} → "
            f"{option_value(name, new, digits)} from epoch {epoch:,}")


def edit_between(first: State, second: State) -> Edit | None:
    """The edit one state holds and the other does not (an edit's own undo step: one, or
    two of the same name and epoch where it replaced one); None if they hold the same."""
    return next(iter(set(first.edits) ^ set(second.edits)), None)


def undone(before: State, after: State, values: tuple[Value, Value] | None, digits: int,
           redo: bool) -> str:
    """What undo (``redo``: redo) did, said as the action it took back (did again) was
    done: 'Undone: step 16 → step 15', 'Undone: w5 0.4 → 0.3 from epoch 1'. ``before``
    and ``after``: the session's states around the undo; ``values``: the edited value's,
    in them (an edit's undo)."""
    if redo:
        return f"Redone: {_action(before, after, values, digits)}"
    back = None if values is None else (values[1], values[0])
    return f"Undone: {_action(after, before, back, digits)}"


def _action(start: State, end: State, values: tuple[Value, Value] | None, digits: int) -> str:
    """The action that went from ``start`` to ``end``, in a few words."""
    edit = edit_between(start, end)
    if edit is not None and values is not None:
        return edited(edit.name, *values, edit.epoch, digits)
    run = next(iter(set(start.runs) ^ set(end.runs)), None)
    if run is not None:
        return f"fast-forward epochs {run[0]:,} → {run[1]:,}"
    if start.digits != end.digits:
        return f"digits {start.digits} → {end.digits}"
    return f"{_place(start, end)} → {_place(end, start)}"


def _place(state: State, other: State) -> str:
    """Where the cursor of ``state`` is ('step 16', 'the start'), with its epoch where
    ``other``'s is another."""
    where = f"step {state.index}" if state.index else "the start"
    return where if state.epoch == other.epoch else f"epoch {state.epoch:,}, {where}"


def run_summary(session: Session, start: int, seconds: float) -> str:
    """A fast-forward that landed: 'epochs 2 → 10,001 · E_total 0.291 → 3.51e-05 · 1.9 s'
    (with several examples, the data set's E)."""
    reached = session.epoch
    return f"epochs {start:,} → {reached:,} · {_errors(session, start, reached)} · {seconds:.1f} s"


def run_stopped(session: Session, start: int, count: int, seconds: float) -> str:
    """A fast-forward stopped by Escape: how far it got (epochs an earlier run computed
    count as reached), and that the cursor stays (the curve keeps the epochs run)."""
    reached = max(start, session.timeline.known() + 1)
    return (f"epochs {start:,} → {reached:,} of {start + count:,} · "
            f"{_errors(session, start, reached)} · {seconds:.1f} s · the cursor stays at "
            f"epoch {start:,}; the error curve keeps the epochs that ran")


def _errors(session: Session, start: int, reached: int) -> str:
    """'E_total 0.291 → 3.51e-05': the total error at the two epochs' starts."""
    error = keys.symbol(keys.DATASET if session.network.examples > 1 else keys.TOTAL)
    before, after = (value_text(session.loss_at(epoch), session.digits)
                     for epoch in (start, reached))
    return f"{error} {before} → {after}"


def copied_text(model: Equation) -> str:
    """A step as the equation panel shows it, as plain text: its formula, the numbers
    substituted and its value, one under the other, the '=' aligned."""
    pad = " " * len(model.symbol)
    lines = [f"{model.symbol} = {model.formula}", f"{pad} = {model.substituted}"]
    if model.result:
        lines.append(f"{pad} = {model.result}")
    return "\n".join(lines)


def copied(index: int, model: Equation) -> str:
    """What ``y`` says it copied: 'Copied step 16 (formula, numbers, value): ∂E/∂w₅ = …'."""
    value = f" = {model.result}" if model.result else ""
    return f"Copied step {index} (formula, numbers, value): {model.symbol}{value}"


NOTHING_TO_COPY = "Nothing to copy: no step is computed yet this epoch (→ takes the first)."
