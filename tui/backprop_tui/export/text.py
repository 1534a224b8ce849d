"""The session log as plain text: the Markdown log's content with the Unicode math the app
shows, headings underlined, every line wrapped at 100 columns but the network file's, which
is copied as it is, so that it can be cut out and read back as TOML.

Each step reads as in the app, its '=' signs aligned::

    net_h₁ = w₁·i₁ + w₂·i₂ + b₁
           = 0.15·0.05 + 0.2·0.1 + 0.35
           = 0.3775

A formula too long for a line continues under the start of its right-hand side. Written
piece by piece as the log's items come, in constant memory, like the Markdown log.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator
from datetime import datetime

from backprop_tui import keys
from backprop_tui.export.log import (
    EpochEnd,
    EpochStart,
    EventItem,
    Part,
    PhaseStart,
    RunItem,
    StepItem,
    UpdateItem,
)
from backprop_tui.export.markdown import (
    ELSEWHERE,
    ELSEWHERE_TEXT,
    INTRO,
    TITLE,
    Row,
    Walker,
    edit_text,
    ending_text,
    epoch_losses,
    epoch_rows,
    event_parts,
    event_place,
    example_title,
    header_fields,
    loss_change,
    part_text,
    part_title,
    phase_intro,
    phase_title,
    run_heading,
    run_text,
    source_text,
    update_rows,
    update_title,
)
from backprop_tui.numbers import fmt
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.marks import Mark
from backprop_tui.steps.step import Step

WIDTH = 100
RULES = "-~."  # the underlines of a phase's heading, and with several examples of deeper ones
INDENT = "  "  # steps, explanations and tables sit under their headings by this much
NUMBER = 22  # a number column: the longest fmt() gives at 15 digits, and a space


def wrap(text: str, first: str = "", rest: str | None = None) -> str:
    """``text`` wrapped at WIDTH, its first line after ``first`` and the others after
    ``rest`` (``first`` when None); a newline at the end."""
    lines = textwrap.wrap(text, WIDTH, initial_indent=first,
                          subsequent_indent=first if rest is None else rest,
                          break_on_hyphens=False)
    return "\n".join(lines or [first.rstrip()]) + "\n"


def fit(lines: Iterable[str]) -> str:
    """Lines that may be long (a table row) kept within WIDTH:
    a long line continues on the next, indented four more."""
    out = []
    for line in lines:
        if len(line) <= WIDTH:
            out.append(line + "\n")
        else:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(wrap(line.strip(), indent, indent + "    "))
    return "".join(out)


def heading(text: str, rule: str) -> str:
    return f"{text}\n{rule * len(text)}\n\n"


def render(session: Session, now: datetime) -> Iterator[str]:
    digits = session.digits
    yield from _header(session, now)
    walker = Walker(session)
    elsewhere = False
    for item, run in walker.items():
        match item:
            case EpochStart(epoch, edits):
                yield heading(run_heading(run.first, run.last) if run else f"Epoch {epoch}", "=")
                if edits:
                    listed = ", ".join(edit_text(e, digits) for e in edits)
                    yield wrap(f"Edits in effect from the start of this epoch: {listed}.") + "\n"
            case PhaseStart(_, phase, level, network):
                yield (heading(phase_title(phase, level), RULES[level])
                       + wrap(phase_intro(phase, level, network)) + "\n")
            case Part(kind="example"):
                yield heading(example_title(item, digits), RULES[1])
            case Part():
                yield heading(part_title(item), RULES[0]) + wrap(part_text(item, digits)) + "\n"
            case StepItem(step, mark):
                yield _step(step, digits, mark)
            case UpdateItem():
                title, error = update_title(item)
                yield wrap(f"{title}: the batch's error {keys.symbol(error)} = "
                           f"{fmt(item.update.loss, digits)}") + "\n"
                yield from _table(list(update_rows(item)), digits)
            case EventItem(event):
                label, changes = event_parts(event)
                place = event_place(event, walker.epoch, walker.index)
                if place and not elsewhere:
                    elsewhere = True
                    yield heading(ELSEWHERE, "=") + wrap(ELSEWHERE_TEXT) + "\n"
                yield wrap(f"{label}: {changes}{place}", "» ", "  ") + "\n"
            case RunItem():
                total = "E_total" if session.base.examples == 1 else "E"
                yield wrap(run_text(item, digits, total)) + "\n"
            case EpochEnd(steps):
                yield from _summary(steps, digits)
    yield "-" * WIDTH + "\n\n" + wrap(ending_text(session))


def _header(session: Session, now: datetime) -> Iterator[str]:
    fields = header_fields(session, now)
    text = source_text(session)[1]
    width = max(len(name) for name, _ in fields) + 2
    yield heading(TITLE, "=") + wrap(INTRO) + "\n"
    yield "".join(wrap(value, f"{name + ':':<{width}}", " " * width) for name, value in fields)
    yield "\n" + heading("Network file", "-")
    yield text.rstrip() + "\n\n"  # unwrapped and unindented: a wrapped line is not TOML


def _step(step: Step, digits: int, mark: Mark | None = None) -> str:
    if step.kind == "apply":
        lines = [f"Step {step.index} · apply the new values\n"]
        lines += [wrap(f"{keys.symbol(use.parameter)} ← {keys.symbol(use)} = "
                       f"{fmt(value, digits)}", INDENT)
                  for use, value in zip(step.typed_uses, step.operands, strict=True)]
    else:
        symbol, last = step.symbol, step.formula
        pad = INDENT + " " * len(symbol)
        lines = [f"Step {step.index} · {symbol}\n",
                 wrap(last, f"{INDENT}{symbol} = ", pad + "   ")]
        for right in (step.substituted(digits),
                      step.value_text(digits) if step.value is not None else None):
            if right is not None and right != last:
                lines.append(wrap(right, f"{pad} = ", pad + "   "))
                last = right
    if mark is not None:
        lines.append(wrap(f"{mark.symbol} {mark.reason(digits)}", INDENT, INDENT + "  "))
    lines.append(wrap(step.explanation, INDENT))
    return "".join(lines) + "\n"


def _summary(steps: EpochSteps, digits: int) -> Iterator[str]:
    epoch = steps.epoch
    before, after = epoch_losses(steps)
    total = "E" if steps.network.examples > 1 else "E_total"
    yield heading(f"Summary of epoch {epoch}", "-")
    yield wrap(f"{total} before the updates: {fmt(before, digits)}; after them: "
               f"{fmt(after, digits)} (change {loss_change(before, after, digits)}).") + "\n"
    yield f"Values of epoch {epoch}\n\n{INDENT}{'Step':>7}  {'Symbol':<24}Value\n"
    for step in steps:
        if step.value is not None:
            yield fit([f"{INDENT}{step.index:>7}  {step.symbol:<24}{step.value_text(digits)}"])
    network = steps.network
    kept = "" if network.update_biases else " (not updated: update_biases = false)"
    yield f"\nNew weights (after epoch {epoch})\n\n"
    yield from _table(epoch_rows(steps), digits, kept)


def _table(rows: list[Row], digits: int, kept: str = "") -> Iterator[str]:
    """The weights' table and the biases' (headed ``Biases{kept}``): before, the gradient
    (when the rows have one), after."""
    for weights in (True, False):
        part = [row for row in rows if bool(row[1]) == weights]
        gradient = bool(part) and part[0][3] is not None
        if not weights:
            yield f"\nBiases{kept}\n\n"
        head = f"{INDENT}{'Weight' if weights else 'Bias':<8}{'Connection' if weights else '':<16}"
        head += f"{'Before':<{NUMBER}}"
        head += f"{'∂E/∂w' if weights else '∂E/∂b':<{NUMBER}}" if gradient else ""
        yield head + "After\n"
        for name, link, was, change, now in part:
            line = f"{INDENT}{keys.symbol(name):<8}{link:<16}{fmt(was, digits):<{NUMBER}}"
            line += f"{fmt(change, digits):<{NUMBER}}" if change is not None else ""
            yield fit([line + fmt(now, digits)])
    yield "\n"
