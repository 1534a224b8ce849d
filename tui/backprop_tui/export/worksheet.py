"""A teacher's worksheet: the steps of an epoch with every result blanked, then the key.

Each step shows its formula and the formula with the numbers substituted, as the Markdown
log does, but only the given numbers (inputs, targets, the weights and biases at the
start of the sheet's first epoch, η; its table lists them in full, the values the steps
use) appear: every value computed in the worksheet — the step's own result, and each
earlier result the step uses — is a blank. A blank for an earlier result names the step
that computes it (▢ step 14), so a student works the epoch in order; the outputs after the
updates, which no step of their own computes, are blanks named by their symbol, and the
error after them asks whether it fell rather than saying. The answer key at the end lists
every value; it goes to a temporary file epoch by epoch and is appended at the end, so the
sheet streams as the logs do. Nothing a printed walkthrough wrote (the network file's
[printed] table) is shown: it would give the answers away. With several training examples
the steps are grouped as the logs group them (batch, example, the batch's own phases, the
data set's error), every example's inputs and targets are given, and the update tables of
the logs are left out (they hold answers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from math import isclose

from backprop_tui import keys
from backprop_tui.export.log import Groups, Part
from backprop_tui.export.markdown import (
    escape,
    example_title,
    header_fields,
    math,
    part_text,
    part_title,
    phase_intro,
    phase_title,
)
from backprop_tui.formula import Renderer
from backprop_tui.keys import Key
from backprop_tui.numbers import value_text
from backprop_tui.output import scratch
from backprop_tui.session.session import Session, merged_runs
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.step import Step

TITLE = "backprop-tui worksheet"
ANSWER_KEY = "Answer key"
BLANK = r"\underline{\qquad\qquad\qquad}"
FIELDS = ("Network", "Shape", "Learning rate", "Loss", "Biases updated", "Update order",
          "Optimizer", "Training examples")
INTRO = ("Work every step in order. Each step gives its formula, then the same formula with "
         "the given numbers put in: a box stands for a value you computed earlier (“step 14” "
         "is your answer to step 14; a boxed symbol such as out⁺, a value you work out from "
         "the new weights), and the line is this step's result to fill in.")
KEY_FOLLOWS = " The answer key follows the last step."
VERDICT_QUESTION = "Is it lower than the error before the updates?"
NUMBERS = ("the Given table's values are in full, the ones the steps use; the formulas and "
           "the answer key show numbers to {digits} significant digits")
UNROUNDED = "(keep your own results unrounded, as the key's are, and round only to compare)"


@dataclass(frozen=True)
class BlankRenderer(Renderer):
    """A Renderer that writes a blank in place of some operands."""

    blanks: Mapping[int, str] = field(default_factory=dict)

    def leaf(self, index: int) -> tuple[str, int]:
        if index in self.blanks:
            return self.blanks[index], 9
        return super().leaf(index)


OPTIMISER_GIVEN = ("mu", "beta1", "beta2", "epsilon", "t", *keys.STATE)


def _box(text: str) -> str:
    return rf"\boxed{{\text{{{text}}}}}"


class Worksheet:
    """Which operands are given and which are blanks, epoch by epoch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.skipped = {epoch for first, last in merged_runs(session.state.runs)
                        for epoch in range(first, last)}
        self.first = next((epoch for epoch in range(1, session.epoch + 1)
                           if epoch not in self.skipped and self.shown(epoch) != 0),
                          session.epoch)
        start = session.timeline.start(self.first)  # the values the sheet's first step uses
        self.given: dict[str, float] = {**start.given.by_name,
                                        keys.text(keys.ETA): start.learning_rate}
        if start.examples > 1:  # every example's inputs and targets, tagged with its number
            names = start.names
            rows: dict[str, float] = {}
            for k in range(start.examples):
                for kind, units, values in (("input", names.units[0], start.inputs[k]),
                                            ("target", names.units[-1], start.targets[k])):
                    rows.update((keys.text(keys.unit(kind, u).at(k + 1)), float(value))
                                for u, value in zip(units, values, strict=True))
            untagged = {*names.units[0], *names.targets}
            self.given = rows | {n: v for n, v in self.given.items() if n not in untagged}
        first = session.past_steps(self.first)  # an optimiser's numbers, its state, its t
        self.given |= {keys.text(key): first.number(key) for key in first.plan.given
                       if key.kind in OPTIMISER_GIVEN}
        self.digits = session.digits

    def shown(self, epoch: int) -> int | None:
        """How many of the epoch's steps the worksheet covers (None: all of them)."""
        return self.session.index if epoch == self.session.epoch else None

    def epochs(self) -> Iterator[tuple[EpochSteps, int]]:
        """(the epoch's steps, how many of them the worksheet covers), one epoch at a time
        (a long sheet streams), for every epoch stepped through up to the cursor: epochs a
        fast-forward ran over are left out, as the logs leave them out."""
        for epoch in range(self.first, self.session.epoch + 1):
            if epoch in self.skipped or self.shown(epoch) == 0:
                continue
            steps = self.session.past_steps(epoch)
            yield steps, self.shown(epoch) or len(steps)

    def blanks(self, step: Step, steps: EpochSteps, before: EpochSteps | None
               ) -> tuple[dict[int, str], list[tuple[Key, float]]]:
        """The operands to blank, as TeX by position, and those no step computes (the
        outputs after the updates) with their values, for the key."""
        blanks: dict[int, str] = {}
        unnamed: list[tuple[Key, float]] = []
        for i, (key, value) in enumerate(zip(step.typed_uses, step.operands, strict=True)):
            text = keys.text(key)
            if text in steps.keys:
                blanks[i] = _box(f"step {steps.keys[text]}")
            elif text in self.given:
                where = _updated_by(key, value, steps, before)
                if where is not None and self.given[text] != value:
                    blanks[i] = _box(where)
            else:
                blanks[i] = rf"\boxed{{{keys.tex(key)}}}"
                unnamed.append((key, value))
        return blanks, unnamed


def _updated_by(parameter: Key, value: float, steps: EpochSteps, before: EpochSteps | None
                ) -> str | None:
    """'epoch k, step s' where the epoch before gave ``parameter`` (or a state value: v, m,
    s) its value ``value``
    (None when that is not where it came from: an edit, or the value as given)."""
    if before is None or before.epoch != steps.epoch - 1 or parameter.kind not in (
            "weight", "bias", *keys.STATE):
        return None
    key = (Key(f"new_{parameter.kind}", param=parameter.param) if parameter.kind in keys.STATE
           else parameter.new)
    if before.network.examples > 1:  # the new value of the epoch's last batch
        key = key.at(*before.plan.shape.batches()[-1])
    where = before.keys.get(keys.text(key))
    if where is None:
        return None
    new = before.value_at(where)
    if new is None or not isclose(new, value, rel_tol=1e-9, abs_tol=1e-300):
        return None
    return f"epoch {before.epoch}, step {where}"


def render(session: Session, now: datetime) -> Iterator[str]:
    """The worksheet, then its answer key: each epoch's part of the key is written to a
    temporary file as the epoch is done, and appended at the end, so that only one
    epoch's steps are in memory at a time."""
    sheet = Worksheet(session)
    yield from _header(sheet, now)
    with scratch() as key:
        yield from _sheet(sheet, key.write)
        yield f"---\n\n# {ANSWER_KEY}\n\n"
        key.seek(0)
        while piece := key.read(1 << 16):
            yield piece


def split(session: Session, now: datetime) -> tuple[str, str]:
    """The worksheet without its key, and the key as a document of its own (a class's
    exercise set hands them out apart); both whole, in memory: an exercise is an epoch or
    a few of a small network."""
    sheet = Worksheet(session)
    parts: list[str] = []
    text = "".join([*_header(sheet, now, keyed=False), *_sheet(sheet, parts.append)])
    return text, f"# {TITLE}: {ANSWER_KEY.lower()}\n\n" + "".join(parts)


def _sheet(sheet: Worksheet, key: Callable[[str], object]) -> Iterator[str]:
    """The sheet's epochs, blanked; each epoch's part of the answer key goes to ``key``."""
    before: EpochSteps | None = None
    for steps, shown in sheet.epochs():
        extras: dict[int, list[tuple[Key, float]]] = {}
        yield from _epoch(sheet, steps, shown, before, extras)
        key(_key(steps, shown, extras, sheet.digits))
        before = steps


def _epoch(sheet: Worksheet, steps: EpochSteps, shown: int, before: EpochSteps | None,
           extras: dict[int, list[tuple[Key, float]]]) -> Iterator[str]:
    """An epoch's steps, blanked; ``extras`` gets, by step, the values no step computes."""
    digits = sheet.digits
    yield f"## Epoch {steps.epoch}\n\n"
    phase = None
    groups = Groups(steps) if steps.network.examples > 1 else None
    for step in steps[:shown]:
        if groups is not None:
            parts = groups.parts(step)
            yield from (_part(part, digits) for part in parts)
            phase = None if parts else phase
        if step.phase != phase and (groups is None or groups.level):
            phase = step.phase
            level = groups.level if groups else 0
            yield (f"{'#' * (3 + level)} {phase_title(phase, level)}\n\n"
                   f"{escape(phase_intro(phase, level, steps.network))}\n\n")
        blanks, unnamed = sheet.blanks(step, steps, before)
        if unnamed:
            extras[step.index] = unnamed
        yield _step(step, blanks, digits)


def _key(steps: EpochSteps, shown: int, extras: dict[int, list[tuple[Key, float]]],
         digits: int) -> str:
    """The epoch's part of the answer key: every value its steps compute."""
    rows = [f"## Epoch {steps.epoch}\n\n| Step | Symbol | Value |\n|---:|:---|---:|\n"]
    for step in steps[:shown]:
        rows += [f"| {step.index} | {math(keys.tex(key))} | {value_text(value, digits)} |\n"
                 for key, value in extras.get(step.index, [])]
        if step.value is not None:
            rows.append(f"| {step.index} | {math(step.symbol_tex)} | "
                        f"{step.value_text(digits)} |\n")
    return "".join(rows) + "\n"


def _part(part: Part, digits: int) -> str:
    """A batch's heading and what it does, an example's with its given values, or the
    data set's error's (not its value E: with one batch it is an answer)."""
    if part.kind == "example":
        return f"#### {example_title(part, digits, tex=True)}\n\n"
    if part.kind == "dataset":
        return (f"### {part_title(part)}\n\n"
                f"{math('E^{+}')}: the data set's error after the epoch's last update.\n\n")
    return f"### {part_title(part)}\n\n{escape(part_text(part, digits))}\n\n"


def _header(sheet: Worksheet, now: datetime, keyed: bool = True) -> Iterator[str]:
    session = sheet.session
    network = session.timeline.start(sheet.first)
    fields = dict(header_fields(session, now))
    lines = [f"# {TITLE}", "", escape(INTRO + (KEY_FOLLOWS if keyed else "")), ""]
    lines += [f"- **{name}:** {escape(fields[name])}" for name in FIELDS if name in fields]
    if network.rounding:
        lines.append(f"- **Hand rounding:** round every value to {network.rounding} "
                     "significant digits before you use it again")
    lines.append(f"- **Numbers:** {NUMBERS.format(digits=sheet.digits)}"
                 + ("" if network.rounding else f" {UNROUNDED}"))
    lines += ["", "## Given", "", "| Value | Given |", "|:---|---:|"]
    lines += [f"| {math(keys.tex(name))} | {_exact(value)} |"
              for name, value in sheet.given.items()]
    yield "\n".join(lines) + "\n\n"


def unanswered(step: Step) -> str:
    """The step's explanation, without the verdict of the error after the updates (“It is
    lower than before the updates”): that is the student's to find, so it is asked."""
    if step.kind not in ("total_after", "dataset_after"):
        return step.explanation
    return f"{step.explanation.rpartition(' It is ')[0]} {VERDICT_QUESTION}"


def _exact(value: float) -> str:
    """A given number in full, as the steps use it (the shortest text that reads back as
    the same float): a student who works from it reaches the key's values."""
    return "0" if value == 0 else repr(float(value)).removesuffix(".0")


def blanked(step: Step, blanks: Mapping[int, str], digits: int) -> str | None:
    """The step's formula as TeX with the given numbers put in and ``blanks`` (from
    ``Worksheet.blanks``) for the values computed earlier; None where it reads as the formula
    (nothing to put in)."""
    substituted = BlankRenderer(step.typed_uses, step.operands, True, digits,
                                blanks).render(step.expr)
    return None if substituted == step.formula_tex else substituted


def _step(step: Step, blanks: dict[int, str], digits: int) -> str:
    if step.kind == "apply":
        return (f"**Step {step.index}** · apply the new values\n\n"
                f"Every new value computed above takes effect; nothing to compute.\n\n")
    symbol = step.symbol_tex
    rows = [f"{symbol} &= {step.formula_tex}"]
    substituted = blanked(step, blanks, digits)
    if substituted is not None:
        rows.append(f"&= {substituted}")
    rows.append(f"&= {BLANK}")
    block = " \\\\\n".join(rows)
    return (f"**Step {step.index}** · {math(symbol)}\n\n"
            f"$$\n\\begin{{aligned}}\n{block}\n\\end{{aligned}}\n$$\n\n"
            f"{escape(unanswered(step))}\n\n")
