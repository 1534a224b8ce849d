"""The session log as Markdown with math that GitHub and Jupyter render.

A header (export time, version, the network file, the options), then the timeline as it
stands: a heading per epoch and phase, each step as an aligned block (symbol = formula,
= the numbers substituted, = the result) and its explanation, the actions that changed
something where they happened, and after each completed epoch a table of its values and
its new weights and biases. Math is in a flavour (``FLAVORS``): Jupyter's ``$…$`` and
``$$`` blocks on their own lines (the default), or GitHub's ``$`…`$`` and ``math`` fences,
which its parser leaves as they are; plain text is escaped so Markdown cannot take an
underscore or a bar for markup.

The log is written piece by piece as ``log_items`` yields its items: nothing but the
current item (and the actions heading an epoch) is held, so a long session streams in
constant memory. The plain-text log (``export.text``) shares the wording defined here.

With several training examples each epoch is grouped as ``log_items`` groups it: a heading
per batch, within it one per example (its inputs and targets) over that example's phases,
then the batch's combining phase and its update with a table of the parameters before it,
the batch's gradients and the parameters after it; last the data set's error, E at the
epoch's start and the step E⁺.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.export.log import (
    EpochEnd,
    EpochStart,
    EventItem,
    Item,
    Part,
    PhaseStart,
    RunItem,
    StepItem,
    UpdateItem,
    log_items,
)
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, loss_for
from backprop_tui.keys import Key
from backprop_tui.netfile import dump_network
from backprop_tui.network import Names, Network
from backprop_tui.numbers import fmt, tex_value
from backprop_tui.output import printable
from backprop_tui.session.persist import header
from backprop_tui.session.session import Event, Session
from backprop_tui.session.timeline import Edit
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.marks import Mark
from backprop_tui.steps.phases import phase_label
from backprop_tui.steps.step import Step

if TYPE_CHECKING:
    from numpy import ndarray

TITLE = "backprop-tui session log"
INTRO = ("Every computation of backpropagation, one scalar at a time, in the order the app "
         "steps through them: for each step the formula, the numbers substituted, the result "
         "and what it means.")

# Shared with the plain-text log: Unicode words, no markup.
PHASE_INTROS = {
    "forward": "Each unit's weighted sum of what feeds it (net), then its activation (out), "
               "layer by layer from the inputs to the outputs.",
    "error": "How far each output is from its target, and the total error that training "
             "sets out to reduce.",
    "output": "Backpropagation starts at the outputs: for each output unit its error signal "
              "δ, then for each weight into it the gradient ∂E/∂w and the new value gradient "
              "descent gives it.",
    "hidden": "The error signals flow back through the weights: for each hidden unit, the "
              "share of the error that reaches it from every unit above, its own δ, and the "
              "gradients and new values of the weights into it.",
    "update": "The new values take effect, and a forward pass with them gives the error after "
              "this epoch.",
}
# Under an optimiser that keeps state, the backward phases (and a batch's combining
# phase) stop at each gradient: the update phase works the new values.
GRADIENTS_ONLY = {
    "output": "Backpropagation starts at the outputs: for each output unit its error signal "
              "δ, then for each weight into it the gradient ∂E/∂w. The optimiser turns the "
              "gradients into new values after the backward pass.",
    "hidden": "The error signals flow back through the weights: for each hidden unit, the "
              "share of the error that reaches it from every unit above, its own δ, and the "
              "gradients of the weights into it.",
    "batch": "Each example of the batch gave its own error and gradients, all at the "
             "parameters the batch starts from. Here they combine (batch_loss) into the "
             "batch's error and its gradient of each parameter.",
}
UPDATE_ORDERS = {
    "after_backward": "every gradient from the epoch's starting weights; all new values "
                      "applied together at the end",
    "during_backward": "each layer's new weights take effect at once, so the layers below "
                       "already use them",
}
# With several examples, a batch's own phases (``PhaseStart.level`` 1): (title, intro).
BATCH_PHASES = {
    "batch": ("Combining the batch",
              "Each example of the batch gave its own error and gradients, all at the "
              "parameters the batch starts from. Here they combine (batch_loss) into the "
              "batch's error, its gradient of each parameter, and each new value."),
    "update": ("The update",
               "The batch's new values take effect: the next batch, or the next epoch, starts "
               "from them."),
}
# With several examples, an example's own error phase (``PhaseStart.level`` 2).
EXAMPLE_ERROR = ("How far each output is from its target for this example, and the example's "
                 "total error: its batch's update reduces the batch's error, which is this "
                 "error alone online, else its examples' errors combined.")
BATCH_LOSSES = {"mean": "the mean, the sum divided by the batch's size", "sum": "the sum"}
ACTIONS = {"edit": "Edit", "fast-forward": "Fast-forward", "undo": "Undo", "redo": "Redo"}
ELSEWHERE = "Actions made elsewhere"
ELSEWHERE_TEXT = ("These actions were made at places the log above does not show (after the "
                  "point it ends, or inside epochs a fast-forward ran over); each says where.")


def phase_title(phase: str, level: int = 0) -> str:
    """A phase's heading: a batch's own phases (``level`` 1) have theirs."""
    return BATCH_PHASES[phase][0] if level == 1 and phase in BATCH_PHASES else phase_label(phase)


def phase_intro(phase: str, level: int, network: Network) -> str:
    """A phase's introduction; the output phase's says how a softmax layer's δ is worked
    and, under cross-entropy, the shortcut; under an optimiser that keeps state, the update
    phase's names it and what it keeps (``network``: the epoch's)."""
    stateful = bool(OPTIMIZERS[network.optimizer].slots)
    if phase == "update" and stateful:
        then = BATCH_PHASES[phase][1] if level == 1 else PHASE_INTROS[phase]
        return f"{optimizer_intro(network)} {then}"
    if level == 1 and phase in BATCH_PHASES:
        return GRADIENTS_ONLY[phase] if stateful else BATCH_PHASES[phase][1]
    if level == 2 and phase == "error":
        return EXAMPLE_ERROR
    if stateful and phase.startswith("hidden"):
        return GRADIENTS_ONLY["hidden"]
    if phase != "output":
        return PHASE_INTROS.get(phase, PHASE_INTROS["hidden"])
    output = network.activations[-1]
    coupled, loss = ACTIVATIONS[output].coupled, loss_for(network.loss, output)
    return " ".join([(GRADIENTS_ONLY if stateful else PHASE_INTROS)["output"],
                     *([coupled.intro] if coupled else []),
                     *([loss.shortcut_intro] if loss.shortcut else [])])


def optimizer_text(network: Network, digits: int) -> str:
    """'momentum (momentum = 0.9)': the optimiser and its options, as the file writes them."""
    options = ", ".join(f"{option} = {fmt(getattr(network, option), digits)}"
                        for option in OPTIMIZERS[network.optimizer].options)
    return f"{network.optimizer} ({options})"


def optimizer_intro(network: Network) -> str:
    """What the optimiser is, what it keeps, and the order of its lines in an update (for
    the first weight: the others' follow the same way)."""
    optimizer = OPTIMIZERS[network.optimizer]
    weight = keys.parameter(network.names.weights[0][0][0])
    once = [keys.symbol(Key(line.kind)) for line in optimizer.per_update]
    each = [keys.symbol(weight.new if line.kind == "new" else Key(line.kind, param=weight.param))
            for line in optimizer.lines]
    count = ", and t, the number of updates so far" if "t" in optimizer.given else ""
    start = "all start" if count or len(optimizer.slots) > 1 else "it starts"
    first = f"first its {' and '.join(once)}, then " if once else ""
    return (f"The optimiser is {optimizer.words}. Between updates it keeps "
            f"{' and '.join(optimizer.slots)} for each parameter it updates{count}; {start} "
            "at 0 at epoch 1, and again after a change of optimizer or update_biases. Each "
            f"update works {first}each parameter's lines in turn (for {keys.symbol(weight)}: "
            f"{', '.join(each)}).")


def examples_text(first: int, last: int) -> str:
    """'example 2', 'examples 1 to 4'."""
    return f"examples {first} to {last}" if last > first else f"example {first}"


def part_title(part: Part) -> str:
    """The heading of a batch or the data set's error (an example's: ``example_title``)."""
    if part.kind == "dataset":
        return "The data set's error"
    return f"Batch {part.number} of {part.count} · {examples_text(part.first, part.last)}"


def part_text(part: Part, digits: int) -> str:
    """What a batch does, or the data set's error E at the epoch's start."""
    how = BATCH_LOSSES[part.batch_loss]
    if part.kind == "dataset":
        return (f"E, the data set's error at the epoch's start (every example's forward pass "
                f"with the parameters the epoch starts from, their errors E_total combined: "
                f"{how.replace('batch', 'data set')}), is {fmt(part.loss, digits)}. The last "
                "step, E⁺, is the same after the epoch's last update.")
    if part.last == part.first:
        return ("A batch of one example: its own gradients give the update, and the next "
                "example starts from the new values.")
    return (f"Each of the {part.last - part.first + 1} examples goes forward and back with the "
            "parameters as they stand at the batch's start; then their errors and gradients "
            f"combine ({how}) and one update follows.")


def example_title(part: Part, digits: int, tex: bool = False, flavor: Flavor | None = None
                  ) -> str:
    """'Example 2 · i₁ = 0, i₂ = 1, t_o₁ = 1' (its values as Markdown math with ``tex``, in
    ``flavor``'s, Jupyter's by default)."""
    values = []
    for key, value in part.given:
        plain = key._replace(example=0)
        tex_text = f"{keys.tex(plain)} = {tex_value(value, digits)}"
        values.append((flavor or JUPYTER).math(tex_text) if tex
                      else f"{keys.symbol(plain)} = {fmt(value, digits)}")
    return f"Example {part.first} · {', '.join(values)}"


def update_title(item: UpdateItem) -> tuple[str, Key]:
    """('Update 1 · examples 1 to 4', the key of the batch's error: E[1..4], or E_total[2]
    for a batch of one)."""
    examples = item.update.examples
    first, last = examples[0], examples[-1]
    error = keys.TOTAL.at(first) if last == first else Key("batch_error").at(first, last)
    return f"Update {item.record['update']} · {examples_text(first, last)}", error


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def shape_text(network: Network) -> str:
    """'2 inputs → 2 hidden units (sigmoid) → 2 outputs (sigmoid)'."""
    sizes = network.sizes
    parts = [plural(sizes[0], "input")]
    for layer, activation in enumerate(network.activations):
        count = sizes[layer + 1]
        last = layer == network.depth - 1
        words = plural(count, "output") if last else plural(count, "hidden unit")
        parts.append(f"{words} ({activation})")
    return " → ".join(parts)


def shown(value: object, digits: int) -> str:
    """An edit's value as the log shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt(value, digits) if isinstance(value, float) else str(value)


def edit_text(edit: Edit, digits: int) -> str:
    return f"{edit.name} = {shown(edit.value, digits)}"


def epochs_text(first: int, last: int) -> str:
    """Epochs ``first`` up to (not including) ``last``."""
    return f"epoch {first}" if last - first <= 1 else f"epochs {first} to {last - 1}"


def run_heading(first: int, last: int) -> str:
    return f"{epochs_text(first, last).capitalize()} (fast-forward)"


def run_text(item: RunItem, digits: int, total: str = "E_total") -> str:
    return (f"Fast-forward: {epochs_text(item.first, item.last)} run in one go, their steps "
            f"not shown; {total} {fmt(item.loss_before, digits)} → "
            f"{fmt(item.loss_after, digits)} (from the start of epoch {item.first} to the "
            f"start of epoch {item.last}).")


def event_parts(event: Event) -> tuple[str, str]:
    """(label, what changed) for an action: ('Edit', 'w5: 0.4 → 0.3 from epoch 1')."""
    action = event["action"]
    label = ACTIONS.get(action, action.capitalize() or "Action")
    return label, "; ".join(event["changes"])


def event_place(event: Event, epoch: int, index: int) -> str:
    """'' where the action sits in place, else where it happened (a place the log no
    longer shows, such as a step after the cursor)."""
    if (event["epoch"], event["index"]) == (epoch, index):
        return ""
    if event["index"] == 0:
        return f" (at the start of epoch {event['epoch']})"
    return f" (at epoch {event['epoch']}, step {event['index']})"


def cursor_text(session: Session) -> str:
    return f"epoch {session.epoch}, step {session.index} of {len(session.steps)}"


def ending_text(session: Session) -> str:
    steps = len(session.steps)
    if session.diverged:
        return f"The log ends where training stops: {session.diverged}."
    if session.index == steps:
        return f"The log ends after the last step of epoch {session.epoch}."
    if session.index == 0:
        return f"The log ends at the start of epoch {session.epoch}, before its first step."
    return f"The log ends at step {session.index} of {steps} of epoch {session.epoch}."


def epoch_losses(steps: EpochSteps) -> tuple[float, float]:
    """A completed epoch's total error (the data set's, with several examples) before its
    updates and after them."""
    return steps.trace.loss, steps.trace.loss_after


def loss_change(before: float, after: float, digits: int) -> str:
    return fmt(after - before, digits)


Row = tuple[str, str, float, float | None, float]


def parameter_rows(names: Names, before: Network, after: Network,
                   gradients: tuple[Sequence[ndarray], Sequence[ndarray]] | None) -> Iterator[Row]:
    """(name, 'i1 → h1' or '' for a bias, before, gradient, after) for every weight, then
    every bias: an update's (its gradients), or an epoch's (with several updates, None)."""
    for layer, rows in enumerate(names.weights):
        for j, row in enumerate(rows):
            for k, name in enumerate(row):
                link = f"{names.units[layer][k]} → {names.units[layer + 1][j]}"
                yield (name, link, float(before.weights[layer][j, k]),
                       None if gradients is None else float(gradients[0][layer][j, k]),
                       float(after.weights[layer][j, k]))
    for layer, layer_names in enumerate(names.biases):
        for j, name in enumerate(layer_names):
            yield (name, "", float(before.biases[layer][j]),
                   None if gradients is None else float(gradients[1][layer][j]),
                   float(after.biases[layer][j]))


def epoch_rows(steps: EpochSteps) -> list[Row]:
    """The parameters of a completed epoch: before it, their gradients (with one update)
    and after it."""
    trace, updates = steps.trace, steps.trace.updates
    gradients = (updates[0].grad_w, updates[0].grad_b) if len(updates) == 1 else None
    return list(parameter_rows(steps.names, steps.network, trace.after, gradients))


def update_rows(item: UpdateItem) -> Iterator[Row]:
    update = item.update
    return parameter_rows(item.before.names, item.before, update.after,
                          (update.grad_w, update.grad_b))


def source_text(session: Session) -> tuple[str, str]:
    """(what the network is, the network file's text), control characters escaped: a
    session file may bring any."""
    source = session.source
    if source is None:
        return "a network without a file (its network file follows)", dump_network(session.base)
    text = printable(source.text, keep="\n\t")
    if source.kind == "preset":
        return f"the preset {printable(source.name)}", text
    return f"the file {printable(source.name)}", text


class Walker:
    """Follows the log's items and keeps what each exporter needs to know of the place:
    the epoch and step last shown (to tell where an action sits), and the actions that
    head an epoch until it is known whether a fast-forward covers it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.epoch = 0
        self.index = 0

    def items(self) -> Iterator[tuple[Item, RunItem | None]]:
        """Each item with, for an epoch's start, the fast-forward that covers the epoch."""
        pending: list[Item] = []
        for item in log_items(self.session):
            if isinstance(item, EpochStart):
                yield from self._flush(pending, None)
                pending = [item]
            elif pending and isinstance(item, EventItem):
                pending.append(item)
            else:
                yield from self._flush(pending, item if isinstance(item, RunItem) else None)
                pending = []
                yield from self._place(item, None)
        yield from self._flush(pending, None)

    def _flush(self, pending: list[Item], run: RunItem | None
               ) -> Iterator[tuple[Item, RunItem | None]]:
        for item in pending:
            yield from self._place(item, run)

    def _place(self, item: Item, run: RunItem | None) -> Iterator[tuple[Item, RunItem | None]]:
        if isinstance(item, EpochStart):
            self.epoch, self.index = item.epoch, 0
        elif isinstance(item, StepItem):
            self.index = item.step.index
        yield item, run


# Markdown ---------------------------------------------------------------------------

_ESCAPES = str.maketrans({char: "\\" + char for char in "\\`*_[]<>|$~#"})


def escape(text: str) -> str:
    """Plain text that Markdown shows as it is: no emphasis, links, bars or math."""
    return text.translate(_ESCAPES)


@dataclass(frozen=True)
class Flavor:
    """How math is delimited: inline (opening, closing) and display (opening, closing)."""

    inline: tuple[str, str]
    display: tuple[str, str]

    def math(self, tex: str) -> str:
        return f"{self.inline[0]}{tex}{self.inline[1]}"

    def block(self, tex: str) -> str:
        """Display math on lines of its own."""
        return f"{self.display[0]}\n{tex}\n{self.display[1]}"


# jupyter: what Jupyter, pandoc, MathJax and KaTeX's auto-render read, but CommonMark
# parses inside it first (a pair of ``_`` becomes emphasis, ``\\`` a ``\``). github: what
# GitHub documents for math its parser must leave alone (inline code within the dollars,
# a fenced block); Jupyter does not read it.
FLAVORS = {
    "jupyter": Flavor(("$", "$"), ("$$", "$$")),
    "github": Flavor(("$`", "`$"), ("```math", "```")),
}
JUPYTER = FLAVORS["jupyter"]
math = JUPYTER.math  # the worksheet's


def render(session: Session, now: datetime, flavor: str = "jupyter") -> Iterator[str]:
    """The log, its math in ``flavor`` (a name of ``FLAVORS``)."""
    digits = session.digits
    how = FLAVORS[flavor]
    yield from _header(session, now, how)
    walker = Walker(session)
    elsewhere = False
    for item, run in walker.items():
        match item:
            case EpochStart(epoch, edits):
                title = run_heading(run.first, run.last) if run else f"Epoch {epoch}"
                yield f"## {title}\n\n"
                if edits:
                    listed = ", ".join(escape(edit_text(e, digits)) for e in edits)
                    yield f"*Edits in effect from the start of this epoch:* {listed}.\n\n"
            case PhaseStart(_, phase, level, network):
                yield (f"{'#' * (3 + level)} {phase_title(phase, level)}\n\n"
                       f"{escape(phase_intro(phase, level, network))}\n\n")
            case Part(kind="example"):
                yield f"#### {example_title(item, digits, tex=True, flavor=how)}\n\n"
            case Part():
                text = escape(part_text(item, digits)).replace("E⁺", how.math("E^{+}"))
                yield f"### {part_title(item)}\n\n{text}\n\n"
            case StepItem(step, mark):
                yield _step(step, digits, how, mark)
            case UpdateItem():
                yield from _update(item, digits, how)
            case EventItem(event):
                label, changes = event_parts(event)
                place = event_place(event, walker.epoch, walker.index)
                if place and not elsewhere:
                    elsewhere = True
                    yield f"## {ELSEWHERE}\n\n{escape(ELSEWHERE_TEXT)}\n\n"
                yield f"> **{label}** {escape(changes)}{escape(place)}\n\n"
            case RunItem():
                total = "E_total" if session.base.examples == 1 else "E"
                text = escape(run_text(item, digits, total)).replace(
                    "E\\_total", how.math(r"E_{\mathrm{total}}"), 1)
                yield text.replace("Fast-forward:", "**Fast-forward:**", 1) + "\n\n"
            case EpochEnd(steps):
                yield from _summary(steps, digits, how)
    yield f"---\n\n{escape(ending_text(session))}\n"


def batches_text(network: Network) -> str:
    """'4; batch = full: one update per epoch; batch_loss = mean: …'."""
    n, size = network.examples, network.batch_size
    updates = len(network.batches())
    if size == 1:
        how = "online: an update after every example"
    elif size == n:
        how = "full: one update per epoch, from all of them"
    else:
        last = n - size * (updates - 1)
        how = (f"{size}: minibatches of {size} in file order, {updates} updates per epoch"
               + (f" (the last of {last})" if last < size else ""))
    return (f"{n}; batch = {how}; batch_loss = {network.batch_loss}: a batch's error and "
            f"gradients combine its examples' ({BATCH_LOSSES[network.batch_loss]})")


def header_fields(session: Session, now: datetime) -> list[tuple[str, str]]:
    """The log header's facts as (name, plain text), shared by the Markdown and text logs."""
    head = header(session, now)
    network = session.base
    digits = session.digits
    edits = ", ".join(f"{edit_text(e, digits)} from epoch {e.epoch}" for e in session.state.edits)
    runs = ", ".join(f"{epochs_text(a, b)} (to the start of epoch {b})"
                     for a, b in session.state.runs)
    update_biases = "true" if network.update_biases else "false"
    return [
        ("Exported", str(head["exported"])),
        ("Version", f"backprop-tui {head['app_version']}"),
        ("Network", source_text(session)[0]),
        ("Shape", shape_text(network)),
        ("Learning rate", f"η = {fmt(network.learning_rate, digits)}"),
        ("Loss", f"{network.loss}, {loss_for(network.loss, network.activations[-1]).total}"),
        ("Biases updated", f"{'yes' if network.update_biases else 'no'} "
                           f"(update_biases = {update_biases})"),
        ("Update order", f"{network.update_order}: {UPDATE_ORDERS[network.update_order]}"),
        *([("Optimizer", optimizer_text(network, digits))] if network.optimizer != "sgd" else []),
        *([("Training examples", batches_text(network))] if network.examples > 1 else []),
        ("Hand rounding", f"every value rounded to {network.rounding} significant digits "
                          f"before it is used (rounding = {network.rounding})"
         if network.rounding else "none (rounding = 0)"),
        ("Digits shown", f"{head['options']['digits']} significant"),
        ("Log up to", cursor_text(session)),
        ("Edits", edits or "none"),
        ("Fast-forwards", runs or "none"),
        *([("Quiz", session.quiz.summary())]  # the score per phase, epoch by epoch
          if session.quiz.on or session.quiz.answers else []),
    ]


def _header(session: Session, now: datetime, flavor: Flavor) -> Iterator[str]:
    network = session.base
    text = source_text(session)[1]
    rate = tex_value(network.learning_rate, session.digits)
    maths = {  # these read better as math than as the plain text
        "Learning rate": flavor.math(rf"\eta = {rate}"),
        "Loss": f"{escape(network.loss)}, "
                f"{flavor.math(loss_for(network.loss, network.activations[-1]).total_tex)}",
    }
    lines = [f"# {TITLE}", "", escape(INTRO), ""]
    lines += [f"- **{name}:** {maths.get(name) or escape(value)}"
              for name, value in header_fields(session, now)]
    lines += ["", "## Network file", ""]
    yield "\n".join(lines) + "\n"
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    yield f"{fence}toml\n{text.rstrip()}\n{fence}\n\n"


def _step(step: Step, digits: int, flavor: Flavor, mark: Mark | None = None) -> str:
    if step.kind == "apply":
        title = "apply the new values"
        rows = [rf"{keys.tex(use.parameter)} &\leftarrow {keys.tex(use)} = "
                f"{tex_value(value, digits)}"
                for use, value in zip(step.typed_uses, step.operands, strict=True)]
    else:
        symbol, last = step.symbol_tex, step.formula_tex
        title = flavor.math(symbol)
        rows = [f"{symbol} &= {last}"]
        for right in (step.substituted(digits, tex=True),
                      tex_value(step.value, digits) if step.value is not None else None):
            if right is not None and right != last:
                rows.append(f"&= {right}")
                last = right
    aligned = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
    printed = "" if mark is None else f"> {mark.symbol} {escape(mark.reason(digits))}\n\n"
    return (f"**Step {step.index}** · {title}\n\n"
            f"{flavor.block(aligned)}\n\n"
            f"{printed}{escape(step.explanation)}\n\n")


def _summary(steps: EpochSteps, digits: int, flavor: Flavor) -> Iterator[str]:
    epoch = steps.epoch
    before, after = epoch_losses(steps)
    several = steps.network.examples > 1
    total = flavor.math("E" if several else r"E_{\mathrm{total}}")
    yield (f"### Summary of epoch {epoch}\n\n"
           f"{total} before the updates: {fmt(before, digits)}; after them: "
           f"{fmt(after, digits)} (change {loss_change(before, after, digits)}).\n\n")
    yield f"**Values of epoch {epoch}**\n\n| Step | Symbol | Value |\n|---:|:---|---:|\n"
    for step in steps:
        if step.value is not None:
            yield f"| {step.index} | {flavor.math(step.symbol_tex)} | {step.value_text(digits)} |\n"
    yield from _parameters(steps, digits, flavor)


def _table(rows: Sequence[Row], digits: int, weights: bool, flavor: Flavor) -> Iterator[str]:
    """The weights' table (their connections too) or the biases'; a gradient column when
    the rows have gradients."""
    gradient = bool(rows) and rows[0][3] is not None
    head = ["Weight", "Connection"] if weights else ["Bias"]
    partial = flavor.math(rf"\partial E/\partial {'w' if weights else 'b'}")
    head += ["Before", *([partial] if gradient else []), "After"]
    yield "| " + " | ".join(head) + " |\n"
    yield "|" + "|".join([":---"] * (2 if weights else 1) + ["---:"] * (len(head) - (
        2 if weights else 1))) + "|\n"
    for name, link, before, change, after in rows:
        cells = [flavor.math(keys.tex(name)), *([link] if weights else []), fmt(before, digits)]
        cells += [fmt(change, digits)] if change is not None else []
        yield "| " + " | ".join([*cells, fmt(after, digits)]) + " |\n"


def _parameters(steps: EpochSteps, digits: int, flavor: Flavor) -> Iterator[str]:
    network = steps.network
    rows = epoch_rows(steps)
    yield f"\n**New weights** (after epoch {steps.epoch})\n\n"
    yield from _table([row for row in rows if row[1]], digits, True, flavor)
    kept = "" if network.update_biases else " (not updated: update\\_biases = false)"
    yield f"\n**Biases**{kept}\n\n"
    yield from _table([row for row in rows if not row[1]], digits, False, flavor)
    yield "\n"


def _update(item: UpdateItem, digits: int, flavor: Flavor) -> Iterator[str]:
    """A batch's update: its error, then each parameter before it, its gradient, after it."""
    title, error = update_title(item)
    rows = list(update_rows(item))
    yield (f"**{title}**: the batch's error {flavor.math(keys.tex(error))} = "
           f"{fmt(item.update.loss, digits)}\n\n")
    yield from _table([row for row in rows if row[1]], digits, True, flavor)
    yield "\n"
    yield from _table([row for row in rows if not row[1]], digits, False, flavor)
    yield "\n"
