"""The session log as Markdown with math that GitHub and Jupyter render.

A header (export time, version, the network file, the options), then the timeline as it
stands: a heading per epoch and phase, each step as an aligned block (symbol = formula,
= the numbers substituted, = the result) and its explanation, the actions that changed
something where they happened, and after each completed epoch a table of its values and
its new weights and biases. Math sits in ``$…$`` and in ``$$`` blocks on their own lines;
plain text is escaped so Markdown cannot take an underscore or a bar for markup.

The log is written piece by piece as ``log_items`` yields its items: nothing but the
current item (and the actions heading an epoch) is held, so a long session streams in
constant memory. The plain-text log (``export.text``) shares the wording defined here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from backprop_tui import keys
from backprop_tui.export.log import (
    EpochEnd,
    EpochStart,
    EventItem,
    Item,
    PhaseStart,
    RunItem,
    StepItem,
    log_items,
)
from backprop_tui.functions import LOSSES
from backprop_tui.keys import Key
from backprop_tui.netfile import dump_network
from backprop_tui.network import Network
from backprop_tui.numbers import fmt
from backprop_tui.output import printable
from backprop_tui.session.persist import header
from backprop_tui.session.session import Event, Session
from backprop_tui.session.timeline import Edit
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.marks import Mark
from backprop_tui.steps.phases import phase_label
from backprop_tui.steps.step import Step

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
UPDATE_ORDERS = {
    "after_backward": "every gradient from the epoch's starting weights; all new values "
                      "applied together at the end",
    "during_backward": "each layer's new weights take effect at once, so the layers below "
                       "already use them",
}
ACTIONS = {"edit": "Edit", "fast-forward": "Fast-forward", "undo": "Undo", "redo": "Redo"}
ELSEWHERE = "Actions made elsewhere"
ELSEWHERE_TEXT = ("These actions were made at places the log above does not show (after the "
                  "point it ends, or inside epochs a fast-forward ran over); each says where.")


def phase_intro(phase: str) -> str:
    return PHASE_INTROS.get(phase, PHASE_INTROS["hidden"])


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
    """A completed epoch's total error before its updates and after them."""
    return steps.number(keys.TOTAL), steps.number(keys.TOTAL_AFTER)


def loss_change(before: float, after: float, digits: int) -> str:
    return fmt(after - before, digits)


def weight_rows(steps: EpochSteps) -> Iterator[tuple[str, str, float, float, float]]:
    """(name, 'i1 → h1', before, gradient, after) for every weight of a completed epoch."""
    names = steps.names
    for layer, rows in enumerate(names.weights):
        for j, row in enumerate(rows):
            for k, name in enumerate(row):
                link = f"{names.units[layer][k]} → {names.units[layer + 1][j]}"
                yield (name, link, *_before_gradient_after(steps, keys.parameter(name)))


def bias_rows(steps: EpochSteps) -> Iterator[tuple[str, float, float, float]]:
    """(name, before, gradient, after) for every bias of a completed epoch."""
    for layer_names in steps.names.biases:
        for name in layer_names:
            yield (name, *_before_gradient_after(steps, keys.parameter(name)))


def _before_gradient_after(steps: EpochSteps, parameter: Key) -> tuple[float, float, float]:
    return (steps.number(parameter), steps.number(parameter.gradient),
            steps.number(parameter.new))


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


def tex_number(value: float, digits: int) -> str:
    text = fmt(value, digits)
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def math(tex: str) -> str:
    return f"${tex}$"


GRADIENT_W = math(r"\partial E/\partial w")
GRADIENT_B = math(r"\partial E/\partial b")


def render(session: Session, now: datetime) -> Iterator[str]:
    digits = session.digits
    yield from _header(session, now)
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
            case PhaseStart(_, phase):
                yield f"### {phase_label(phase)}\n\n{escape(phase_intro(phase))}\n\n"
            case StepItem(step, mark):
                yield _step(step, digits, mark)
            case EventItem(event):
                label, changes = event_parts(event)
                place = event_place(event, walker.epoch, walker.index)
                if place and not elsewhere:
                    elsewhere = True
                    yield f"## {ELSEWHERE}\n\n{escape(ELSEWHERE_TEXT)}\n\n"
                yield f"> **{label}** {escape(changes)}{escape(place)}\n\n"
            case RunItem():
                text = escape(run_text(item, digits)).replace(
                    "E\\_total", math(r"E_{\mathrm{total}}"), 1)
                yield text.replace("Fast-forward:", "**Fast-forward:**", 1) + "\n\n"
            case EpochEnd(steps):
                yield from _summary(steps, digits)
    yield f"---\n\n{escape(ending_text(session))}\n"


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
        ("Loss", f"{network.loss}, {LOSSES[network.loss].total}"),
        ("Biases updated", f"{'yes' if network.update_biases else 'no'} "
                           f"(update_biases = {update_biases})"),
        ("Update order", f"{network.update_order}: {UPDATE_ORDERS[network.update_order]}"),
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


def _header(session: Session, now: datetime) -> Iterator[str]:
    network = session.base
    text = source_text(session)[1]
    maths = {  # these read better as math than as the plain text
        "Learning rate": math(r"\eta = " + tex_number(network.learning_rate, session.digits)),
        "Loss": f"{escape(network.loss)}, {math(LOSSES[network.loss].total_tex)}",
    }
    lines = [f"# {TITLE}", "", escape(INTRO), ""]
    lines += [f"- **{name}:** {maths.get(name) or escape(value)}"
              for name, value in header_fields(session, now)]
    lines += ["", "## Network file", ""]
    yield "\n".join(lines) + "\n"
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    yield f"{fence}toml\n{text.rstrip()}\n{fence}\n\n"


def _step(step: Step, digits: int, mark: Mark | None = None) -> str:
    if step.kind == "apply":
        title = "apply the new values"
        rows = [rf"{keys.tex(use.parameter)} &\leftarrow {keys.tex(use)} = "
                f"{tex_number(value, digits)}"
                for use, value in zip(step.typed_uses, step.operands, strict=True)]
    else:
        symbol, last = step.symbol_tex, step.formula_tex
        title = math(symbol)
        rows = [f"{symbol} &= {last}"]
        for right in (step.substituted(digits, tex=True),
                      tex_number(step.value, digits) if step.value is not None else None):
            if right is not None and right != last:
                rows.append(f"&= {right}")
                last = right
    block = " \\\\\n".join(rows)
    printed = "" if mark is None else f"> {mark.symbol} {escape(mark.reason(digits))}\n\n"
    return (f"**Step {step.index}** · {title}\n\n"
            f"$$\n\\begin{{aligned}}\n{block}\n\\end{{aligned}}\n$$\n\n"
            f"{printed}{escape(step.explanation)}\n\n")


def _summary(steps: EpochSteps, digits: int) -> Iterator[str]:
    epoch = steps.epoch
    before, after = epoch_losses(steps)
    total = math(r"E_{\mathrm{total}}")
    yield (f"### Summary of epoch {epoch}\n\n"
           f"{total} before the updates: {fmt(before, digits)}; after them: "
           f"{fmt(after, digits)} (change {loss_change(before, after, digits)}).\n\n")
    yield f"**Values of epoch {epoch}**\n\n| Step | Symbol | Value |\n|---:|:---|---:|\n"
    for step in steps:
        if step.value is not None:
            yield f"| {step.index} | {math(step.symbol_tex)} | {fmt(step.value, digits)} |\n"
    yield from _parameters(steps, digits)


def _parameters(steps: EpochSteps, digits: int) -> Iterator[str]:
    network = steps.network
    yield (f"\n**New weights** (after epoch {steps.epoch})\n\n"
           f"| Weight | Connection | Before | {GRADIENT_W} | After |\n"
           "|:---|:---|---:|---:|---:|\n")
    for name, link, before, gradient, after in weight_rows(steps):
        yield (f"| {math(keys.tex(name))} | {link} | {fmt(before, digits)} | "
               f"{fmt(gradient, digits)} | {fmt(after, digits)} |\n")
    kept = "" if network.update_biases else " (not updated: update\\_biases = false)"
    yield (f"\n**Biases**{kept}\n\n"
           f"| Bias | Before | {GRADIENT_B} | After |\n"
           "|:---|---:|---:|---:|\n")
    for name, before, gradient, after in bias_rows(steps):
        yield (f"| {math(keys.tex(name))} | {fmt(before, digits)} | "
               f"{fmt(gradient, digits)} | {fmt(after, digits)} |\n")
    yield "\n"
