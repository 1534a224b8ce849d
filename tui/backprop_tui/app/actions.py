"""Every app action, described once: its keys, its words in the footer, the palette and the
help screen, and when it applies.

``TABLE`` is the one description; the app's bindings, its palette commands, the help
screen's key rows and ``check_action`` are derived from it. Only the order differs between
them, so the palette's and the help screen's orders are data here too (``PALETTE``,
``HELP``); the bindings, and so the footer and Textual's keys panel, follow ``TABLE``:
Help and Quit first, so that a narrow footer, which drops the keys that do not fit, keeps
them (and the fast-forward's Stop run after them).

Nothing here imports numpy: the first frame is drawn with these bindings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from textual.binding import Binding, BindingType
from textual.keys import format_key

from backprop_tui import keys
from backprop_tui.app import examples
from backprop_tui.app.notices import option_name, option_value
from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS
from backprop_tui.netfile import classifier_problem, option_problem, order_problem
from backprop_tui.network import UPDATE_ORDERS
from backprop_tui.numbers import MAX_DIGITS, MIN_DIGITS

if TYPE_CHECKING:
    from backprop_tui.network import Network
    from backprop_tui.session.session import Session

Check = Callable[["Session"], bool]


def always(session: Session) -> bool:
    return True


def held_back(session: Session) -> bool:
    """During a fast-forward: waits until it is done. For what leaves the epoch, changes
    the network or reads the timeline the run fills."""
    return False


@dataclass(frozen=True)
class Action:
    """One action: ``BackpropApp.action_<name>``, bound to ``keys``."""

    name: str
    keys: str  # Textual's key names, comma-separated: "right,l,space"; "": the palette's alone
    label: str  # in the footer and the keys panel
    show: bool = True  # in the footer
    key_display: str | None = None
    priority: bool = False  # before any focused widget sees the key
    tooltip: str = ""
    palette_title: str = ""  # "": not in the palette
    palette_help: str = ""
    help_keys: str = ""  # the keys as the help screen lists them; "": in another row
    help_text: str = ""
    available: Check = always  # when no fast-forward runs
    during_run: Check | None = None  # while one runs; None: as ``available``
    at_start: bool = True  # applies at the start of a new session (nothing behind it)
    hidden: bool = False  # when it does not apply: left out of the footer, not greyed
    # In the footer, when this does not apply but action ``instead`` does: that action's
    # key in this one's place (at 15 digits '- Digits', not a greyed '+/- Digits').
    instead: str = ""
    # Only for a network of several training examples: with one, it is left out of the
    # footer, the palette and the help screen, as if it did not exist.
    several: bool = False
    # Only where some epoch uses an optimiser other than sgd (``Session.optimized``): else
    # left out of the footer, the palette and the help screen, as ``several``.
    optimized: bool = False

    @property
    def keys_shown(self) -> str:
        """Its keys as the palette shows them beside its title: '→ l space', 'ctrl+z u'
        ('' for an action of the palette alone)."""
        return " ".join(format_key(key) for key in self.keys.split(",") if key)

    def binding(self) -> Binding:
        return Binding(self.keys, self.name, self.label, show=self.show,
                       key_display=self.key_display, priority=self.priority,
                       tooltip=self.tooltip)


@dataclass(frozen=True)
class HelpRow:
    """A row of the help screen that is no action: a mouse gesture, a Textual key."""

    help_keys: str
    help_text: str


TABLE: tuple[Action, ...] = (
    Action("help", "question_mark,f1", "Help", key_display="?",
           palette_title="Help", palette_help="Every key, and what each panel shows",
           help_keys="?  F1", help_text="this help"),
    Action("leave", "q", "Quit", tooltip="Quit (ctrl+q works everywhere but a browser)",
           help_keys="q  ctrl+q", help_text="quit (in a browser q: it keeps ctrl+q)"),
    # ctrl+p is Textual's own; F2 for a browser, which keeps ctrl+p (print) for itself.
    Action("palette", "f2", "palette", key_display="F2", show=False,  # in a browser's footer
           help_keys="ctrl+p  F2",
           help_text="command palette: every action (with its keys), the option switches, "
                     "the steps of the epoch, the values to edit (in a browser F2: it keeps "
                     "ctrl+p)"),
    Action("cancel_run", "escape", "Stop run",  # only while a fast-forward runs
           available=lambda s: False, during_run=always, at_start=False, hidden=True),
    Action("cancel_export", "escape", "Stop export",  # only while an export is written
           available=lambda s: False, at_start=False, hidden=True),
    Action("next", "right,l,space", "Next", priority=True, tooltip="Compute the next value",
           palette_title="Next step", palette_help="Compute the next value",
           help_keys="→  l  space",
           help_text="next step (at the end of an epoch: the start of the next)",
           available=lambda s: s.can_next(),
           # not on into the epoch the run fills, nor to a question (the run moves on)
           during_run=lambda s: (s.index != len(s.steps) and s.asks() is None
                                 and s.can_next())),
    Action("prev", "left,h", "Prev", priority=True, tooltip="Go back one computation",
           palette_title="Previous step", palette_help="Go back one computation",
           help_keys="←  h", help_text="previous step",
           available=lambda s: s.can_prev(),
           during_run=lambda s: s.index != 0 and s.can_prev(),  # not out of the epoch
           at_start=False),
    Action("first", "home,g", "First", show=False, priority=True,
           palette_title="First step of the epoch",
           palette_help="Go to the epoch's first computation",
           help_keys="Home g  /  End G", help_text="first / last step of the epoch",
           available=lambda s: s.index != 1 and len(s.steps) > 0),
    Action("last", "end,G", "Last", show=False, priority=True,
           palette_title="Last step of the epoch",
           palette_help="Go to the epoch's last computation",
           available=lambda s: s.index != len(s.steps)),
    Action("next_phase", "right_square_bracket", "Phase", key_display="]", priority=True,
           tooltip="Next phase",
           palette_title="Next phase", palette_help="Skip to the start of the next phase",
           help_keys="]  /  [", help_text="next / previous phase",
           available=lambda s: any(first > s.index for _, first, _ in s.steps.phases)),
    Action("prev_phase", "left_square_bracket", "Phase back", show=False, key_display="[",
           priority=True,
           palette_title="Previous phase",
           palette_help="Back to the start of this or the previous phase",
           available=lambda s: s.index > 1, at_start=False),
    Action("next_example", "right_curly_bracket", "Example", key_display="}", priority=True,
           tooltip="The next training example's first step",
           palette_title="Next example",
           palette_help="Skip to the first step of the next training example",
           help_keys="}  /  {",
           help_text="next / previous training example (several examples: its first step)",
           available=lambda s: example_move(s, forward=True) is not None,
           at_start=False, hidden=True, several=True),
    Action("prev_example", "left_curly_bracket", "Example back", show=False, key_display="{",
           priority=True,
           palette_title="Previous example",
           palette_help="Back to the first step of this or the previous training example",
           available=lambda s: example_move(s, forward=False) is not None,
           at_start=False, hidden=True, several=True),
    Action("next_batch", "b", "Batch", show=False,
           tooltip="The next batch's first step",
           palette_title="Next batch", palette_help="Skip to the first step of the next batch",
           help_keys="b",
           help_text="next batch (several examples: the first step of its first example)",
           available=lambda s: batch_move(s) is not None,
           at_start=False, hidden=True, several=True),
    Action("next_epoch", "n", "Epoch", tooltip="Start the next epoch",
           palette_title="Next epoch", palette_help="Start the next epoch",
           help_keys="n  /  p", help_text="next / previous epoch",
           available=lambda s: s.can_next_epoch(), during_run=held_back),
    Action("prev_epoch", "p", "Epoch back", show=False,
           palette_title="Previous epoch", palette_help="Go to the start of the previous epoch",
           available=lambda s: s.epoch > 1, during_run=held_back, at_start=False),
    Action("goto", "colon", "Go to", key_display=":", tooltip="Go to a step by name",
           palette_title="Go to a step…",
           palette_help=f"By number or by name: {keys.listed(keys.W5, keys.DE_DW1, keys.TOTAL)} …",
           help_keys=":",
           help_text="go to a step by number or by name: "
                     f"{keys.listed(keys.W5, keys.DE_DW1, keys.OUT_H1, keys.TOTAL)} …"),
    Action("fast_forward", "t", "Fast-fwd", tooltip="Run K plain epochs",
           palette_title="Fast-forward…", palette_help="Run K plain epochs",
           help_keys="t", help_text="fast-forward K epochs (Escape cancels)",
           available=lambda s: s.can_next_epoch(), during_run=held_back),
    Action("undo", "ctrl+z,u", "Undo", tooltip="Undo any action, moves included",
           palette_title="Undo", palette_help="Undo the last action, a move included",
           help_keys="ctrl+z u  /  ctrl+y U",
           help_text="undo / redo any action, moves included",
           available=lambda s: s.can_undo(), during_run=held_back, at_start=False),
    Action("redo", "ctrl+y,U", "Redo", show=False,
           palette_title="Redo", palette_help="Redo what was undone",
           available=lambda s: s.can_redo(), during_run=held_back, at_start=False),
    Action("export", "x", "Export", show=False,
           palette_title="Export the session log…",
           palette_help="Markdown, plain text, JSON or JSON lines",
           help_keys="x",
           help_text="export the session log: Markdown, plain text, JSON (resumable) or "
                     "JSON lines, written in the background (Escape stops it)",
           during_run=held_back),
    Action("open", "ctrl+o", "Open", show=False,
           tooltip="Open a preset or a network file (this session is saved and kept)",
           palette_title="Open a network…",
           palette_help="A preset or a network file, in a new session; this one is saved "
                        "and kept",
           help_keys="ctrl+o",
           help_text="open a preset or a network file in a new session (this one is saved "
                     "and kept: in a terminal, --resume, or the prompt at the next start, "
                     "reopens it)",
           during_run=held_back),
    Action("edit", "e", "Edit", show=False, tooltip="Edit a weight, bias, input, target or option",
           palette_title="Edit a value…",
           palette_help="A weight, bias, input, target, the learning rate or an optimiser's option",
           help_keys="e  /  double-click",
           help_text="edit a weight, bias, input, target, η (or μ, β₁, β₂, ε) from this epoch on",
           during_run=held_back),
    Action("toggle_curve", "c", "Curve",
           tooltip="Show or hide the error curve: the total error of every epoch run",
           palette_title="Error curve",
           palette_help="Show or hide the total error of every epoch run so far",
           help_keys="c  /  C",
           help_text="error curve of every epoch run, in the diagram's place / log scale"),
    Action("log_scale", "C", "Log scale", show=False,
           tooltip="The error curve on a log / linear scale",
           palette_title="Error curve: log / linear scale",
           palette_help="Switch the curve's error axis"),
    Action("plain_sgd", "o", "SGD overlay", show=False,
           tooltip="Overlay, on the error curve, the error of the same network under plain SGD",
           palette_title="Error curve: compare with plain SGD",
           palette_help="Overlay the error of the same network under plain SGD (the same η "
                        "and edits), or take it off",
           help_keys="o",
           help_text="the error curve compares with plain SGD (the same network, η and "
                     "edits) on/off",
           at_start=False, hidden=True, optimized=True),
    Action("quiz", "a", "Quiz", show=False,
           tooltip="Quiz (ask first): type each value before it is shown",
           palette_title="Quiz on/off (ask first)",
           palette_help="Ask for each value before showing it, and score it",
           help_keys="a",
           help_text="quiz on/off: → asks for each value before showing it (Escape reveals it)",
           during_run=held_back),
    Action("quiz_tolerance", "", "Tolerance", show=False,
           palette_title="Quiz tolerance…",
           palette_help="How near an answer must come to count as right (kept for the next "
                        "start)"),
    Action("gradient_check", "d", "Grad check", show=False,
           tooltip="Show the finite-difference check beside each ∂E/∂w and ∂E/∂b",
           palette_title="Gradient check on/off",
           palette_help="Beside each ∂E/∂w and ∂E/∂b: the central finite difference and the "
                        "relative difference",
           help_keys="d",
           help_text="gradient check on/off: each ∂E/∂w and ∂E/∂b against a finite difference"),
    Action("more_digits", "plus", "Digits", key_display="+/-",
           tooltip="More / fewer significant digits", instead="fewer_digits",
           palette_title="More digits", palette_help="Show one more significant digit",
           help_keys="+  /  -", help_text="more / fewer digits (3 to 15)",
           available=lambda s: s.digits < MAX_DIGITS),
    Action("fewer_digits", "minus", "Fewer digits", show=False,
           palette_title="Fewer digits", palette_help="Show one fewer significant digit",
           available=lambda s: s.digits > MIN_DIGITS),
    Action("copy", "y", "Copy", show=False,
           tooltip="Copy the current step: its formula, the numbers substituted, its value",
           palette_title="Copy the step",
           palette_help="Its formula, the numbers substituted and its value, to the clipboard",
           help_keys="y",
           help_text="copy the current step (formula, numbers substituted, value) to the "
                     "clipboard"),
    Action("maximize", "m", "Maximise", show=False,
           tooltip="The focused panel fills the screen, or goes back",
           palette_title="Maximise / restore a panel",
           palette_help="The focused panel (Tab moves the focus) fills the screen, or goes back",
           help_keys="m  /  Escape",
           help_text="maximise the focused panel (Tab moves the focus) / restore it"),
)

BY_NAME = {action.name: action for action in TABLE}

# While an export is written (in a thread): Escape stops it, and another waits until it is
# done; the rest applies as ever (the export writes the session as it stood).
WHILE_EXPORTING: dict[str, bool | None] = {"cancel_export": True, "export": None}


def example_move(session: Session, forward: bool) -> int | None:
    """Where } (forward) or { goes: the first step of the next example, or of this or the
    previous one; None where there is none (or only one example)."""
    found = examples.starts(session.steps.plan).examples
    indexes = sorted(found.values())
    if forward:
        return examples.next_start(indexes, session.index, len(session.steps))
    return examples.prev_start(indexes, session.index)


def batch_move(session: Session) -> int | None:
    """Where b goes: the first step of the next batch; None where there is none."""
    return examples.next_start(examples.starts(session.steps.plan).batches, session.index,
                               len(session.steps))

# The palette's order (it lists them alphabetically, but ties in a search keep it).
PALETTE = ("next", "prev", "first", "last", "next_phase", "prev_phase", "next_example",
           "prev_example", "next_batch", "next_epoch",
           "prev_epoch", "goto", "fast_forward", "undo", "redo", "export", "open", "edit",
           "more_digits", "fewer_digits", "quiz", "quiz_tolerance", "gradient_check",
           "toggle_curve",
           "log_scale", "plain_sgd", "copy", "maximize", "help")

# The help screen's rows: an action's name for its row, and the rows that are no action.
HELP: tuple[str | HelpRow, ...] = (
    "next", "prev", "first", "next_phase", "next_example", "next_batch", "next_epoch", "goto",
    "fast_forward", "undo",
    "more_digits", "gradient_check", "quiz", "toggle_curve", "plain_sgd", "copy", "export",
    "open",
    HelpRow("click", "a unit or connection in the diagram: go to the step that computes it"),
    "edit",
    HelpRow("Tab  /  shift+Tab",
            "focus the next / previous panel (its border turns double); the equation panel "
            "has the focus at the start"),
    HelpRow("↑ ↓  PgUp PgDn",
            "scroll the focused panel; the step keys → ← Home End keep stepping whatever "
            "has the focus"),
    "maximize",
    "palette", "help", "leave",
    HelpRow("in a browser", "the browser keeps ctrl+p, ctrl+q and ctrl+w (which closes the "
                            "tab): F2 opens the palette, q quits, and in a field ctrl+u "
                            "clears what is left of the cursor"),
)

BINDINGS: list[BindingType] = [action.binding() for action in TABLE if action.keys]
# (action, title, help) for the palette.
COMMANDS = [(name, BY_NAME[name].palette_title, BY_NAME[name].palette_help)
            for name in PALETTE]
_HELP_ITEMS = [BY_NAME[item] if isinstance(item, str) else item for item in HELP]


def help_rows(several: bool = True, optimized: bool = True) -> list[tuple[str, str]]:
    """(keys, what) for the help screen: the rows of a network of several examples or of
    one, where some epoch uses an optimiser other than sgd or none does."""
    return [(row.help_keys, row.help_text) for row in _HELP_ITEMS
            if not (isinstance(row, Action) and (row.several and not several
                                                 or row.optimized and not optimized))]


HELP_ROWS = help_rows()  # every row


def availability(name: str, session: Session | None, running: bool) -> bool | None:
    """Whether action ``name`` applies, as Textual's ``check_action`` says it: True,
    enabled; None, greyed out; False, left out. ``session`` is None while it is being built
    (a new session: only what needs nothing behind the cursor applies); ``running``: a
    fast-forward runs."""
    action = BY_NAME.get(name)
    if action is None:  # Textual's own (the palette, quit …)
        return True
    if session is None:
        applies = action.at_start
    elif (action.several and session.network.examples == 1
          or action.optimized and not session.optimized):
        return False
    elif running and action.during_run is not None:
        applies = action.during_run(session)
    else:
        applies = action.available(session)
    return True if applies else (False if action.hidden else None)


# The palette's option switches ---------------------------------------------------------

# Hand rounding the palette offers, 0 for off (a network file or --rounding: 2 to 15).
ROUNDING_CHOICES = (0, 3, 4, 5, 6, 9)


class Switch(NamedTuple):
    """A palette command that sets ``option`` to ``value``, as an undoable edit; or, for the
    value in force (``current``), one that says so."""

    option: str
    value: object
    title: str  # "Optimizer: adam"
    current: bool
    now: str  # the value in force, in words: "sgd"


def switches(network: Network) -> Iterator[Switch]:
    """Every value of each option, the one in force included (``current``), in the
    palette's order; an update order, optimiser, loss or activation only where it
    combines with the rest (as an edit would check: during_backward with sgd and batches
    of one only, nesterov with a momentum above 0, softmax on the output layer only,
    cross-entropy with softmax or sigmoid outputs and targets that suit it), so that every
    switch offered can be made."""
    yield from _choices("update_biases", network.update_biases, (False, True))
    orders = (order for order in UPDATE_ORDERS
              if order_problem(order, network.optimizer, network.batch_size) is None)
    yield from _choices("update_order", network.update_order, orders)
    optimizers = (name for name, optimizer in OPTIMIZERS.items()
                  if order_problem(network.update_order, name, network.batch_size) is None
                  and not any(option_problem(key, getattr(network, key), name)
                              for key in optimizer.options))
    yield from _choices("optimizer", network.optimizer, optimizers)
    activations = list(network.activations)
    targets = network.targets.tolist()
    losses = (loss for loss in LOSSES
              if classifier_problem(activations, loss, targets) is None)
    yield from _choices("loss", network.loss, losses)
    for layer, current in enumerate(activations, start=1):
        allowed = (name for name in ACTIVATIONS if classifier_problem(
            [*activations[:layer - 1], name, *activations[layer:]], network.loss,
            targets) is None)
        yield from _choices(f"activation{layer}", current, allowed)
    yield from _choices("rounding", network.rounding, ROUNDING_CHOICES)


def _choices(option: str, current: object, choices: Iterable[object]) -> Iterator[Switch]:
    """``option``'s switches: the value in force first where the choices lack it (a
    rounding a network file set)."""
    listed = list(choices)
    if current not in listed:
        listed.insert(0, current)
    now = option_value(option, current, MAX_DIGITS)
    for choice in listed:
        yield Switch(option, choice,
                     f"{option_name(option)}: {option_value(option, choice, MAX_DIGITS)}",
                     choice == current, now)
