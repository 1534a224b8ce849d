"""A Moodle question bank (Moodle XML) of a class's exercise set: a category per student,
a ``numerical`` question per step, whose wrong answers name the slip that gives them.

Each question shows the step's formula, then the formula with that student's given numbers
put in and a box for each value an earlier step computes (as the worksheet does), as TeX in
``\\( … \\)``, which Moodle's MathJax filter reads. Its answers, in the order Moodle tries
them (it takes the first whose interval holds the response; a tolerance is absolute): the
right value, 100 %, within r·|value| (and, as the quiz, the same value in another form:
Sutskever's momentum v); then every slip of the quiz's catalogue
(``steps.slips``) whose number lies outside every earlier answer's interval, 0 %, its
feedback naming the slip; last ``*``, 0 %, with the quiz's hint. Numbers are written in
full, as plain decimals without an exponent, which Moodle's ``apply_units`` parses (it may
store fewer digits; its interval's widening covers that).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from backprop_tui.export.worksheet import Worksheet, blanked, unanswered
from backprop_tui.numbers import value_text
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.slips import also_right, hint, slips
from backprop_tui.steps.step import Step

CATEGORY = "$course$/backprop/{name}"
ANYTHING = "*"
PRECISION = 1e-14  # PHP's default precision, 14 digits: Moodle widens each interval by it
BOXES = ("A box such as “step 2” stands for your answer to that step. Give this step's "
         "value; within {tolerance} of it, relative, counts as right.")


@dataclass(frozen=True)
class Answer:
    fraction: int  # percent
    value: float | None  # None: any response (*)
    tolerance: float
    feedback: str  # plain text

    def holds(self, response: float) -> bool:
        """Whether Moodle gives ``response`` this answer: its nominal (absolute) interval,
        widened as Moodle widens it, by 1e-14 of the larger of the tolerance and the value
        (question/type/numerical/question.php, MDL-3225)."""
        if self.value is None:
            return True
        margin = self.tolerance + PRECISION * max(self.tolerance, abs(self.value), PRECISION)
        return self.value - margin <= response <= self.value + margin


def number(value: float) -> str:
    """A float as plain decimal digits, the shortest that read back as it (no exponent)."""
    return "0" if value == 0 else format(Decimal(repr(float(value))), "f")


def answers(steps: EpochSteps, step: Step, tolerance: float) -> list[Answer]:
    """The step's answers in Moodle's order: right (and the same value written another
    way, which the quiz counts as right), the slips outside every earlier interval,
    anything."""
    assert step.value is not None
    right = step.value
    found = [Answer(100, right, tolerance * abs(right),
                    f"Right: {step.symbol} = {value_text(right)}.")]
    found += [Answer(100, value, tolerance * abs(value), message)
              for value, message in also_right(steps, step.index)
              if math.isfinite(value) and not any(a.holds(value) for a in found)]
    for slip in slips(steps, step.index):
        if not math.isfinite(slip.value) or any(a.holds(slip.value) for a in found):
            continue  # Moodle would give an earlier answer's grade and feedback
        found.append(Answer(0, slip.value, tolerance * abs(slip.value),
                            f"Not quite: {slip.text}."))
    found.append(Answer(0, None, 0.0, f"Not quite. {hint(steps, step.index, numbers=False)}"))
    return found


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _text(tag: str, content: str, indent: str) -> str:
    """``<tag format="html"><text><![CDATA[…]]></text></tag>``: HTML kept as written."""
    return f'{indent}<{tag} format="html">\n{indent}  <text>{_cdata(content)}</text>\n' \
           f"{indent}</{tag}>\n"


def _math(tex: str) -> str:
    return html.escape(rf"\({tex}\)", quote=False)


def question_text(sheet: Worksheet, steps: EpochSteps, step: Step, before: EpochSteps | None,
                  tolerance: float, epochs: int) -> str:
    """The question as HTML: the step, its formula, the formula with the student's numbers
    (earlier results boxed), what it is, and what to give."""
    blanks, _ = sheet.blanks(step, steps, before)
    where = f"Epoch {steps.epoch}, step {step.index}" if epochs > 1 else f"Step {step.index}"
    rows = [f"<p><strong>{where}</strong> · {_math(step.symbol_tex)}</p>",
            f"<p>{_math(f'{step.symbol_tex} = {step.formula_tex}')}</p>"]
    substituted = blanked(step, blanks, sheet.digits)
    if substituted is not None:
        rows.append(f"<p>{_math(f'{step.symbol_tex} = {substituted}')}</p>")
    rows.append(f"<p>{html.escape(unanswered(step), quote=False)}</p>")
    rows.append(f"<p>{html.escape(BOXES.format(tolerance=f'{tolerance:g}'), quote=False)}</p>")
    return "\n".join(rows)


def _question(name: str, text: str, found: list[Answer]) -> str:
    lines = ['  <question type="numerical">\n',
             f"    <name>\n      <text>{html.escape(name, quote=False)}</text>\n    </name>\n",
             _text("questiontext", text, "    "),
             _text("generalfeedback", "", "    "),
             "    <defaultgrade>1.0000000</defaultgrade>\n",
             "    <penalty>0.3333333</penalty>\n",
             "    <hidden>0</hidden>\n",
             "    <idnumber></idnumber>\n"]
    for answer in found:
        shown = ANYTHING if answer.value is None else number(answer.value)
        lines += [f'    <answer fraction="{answer.fraction}" format="moodle_auto_format">\n',
                  f"      <text>{shown}</text>\n",
                  _text("feedback", html.escape(answer.feedback, quote=False), "      "),
                  f"      <tolerance>{number(answer.tolerance)}</tolerance>\n",
                  "    </answer>\n"]
    lines += ["    <unitgradingtype>0</unitgradingtype>\n",
              "    <unitpenalty>0.1000000</unitpenalty>\n",
              "    <showunits>3</showunits>\n",
              "    <unitsleft>0</unitsleft>\n",
              "  </question>\n"]
    return "".join(lines)


def _category(name: str) -> str:
    path = html.escape(CATEGORY.format(name=name), quote=False)
    return ('  <question type="category">\n'
            f"    <category>\n      <text>{path}</text>\n    </category>\n"
            "  </question>\n")


def render(students: Sequence[tuple[str, Sequence[EpochSteps], Session]],
           tolerance: float) -> str:
    """The question bank: for each (name, the set's epochs' steps, session), its category,
    then a question per step that has a value."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    for name, epochs, session in students:
        sheet = Worksheet(session)
        parts.append(_category(name))
        before: EpochSteps | None = None
        for steps in epochs:
            for step in steps:
                if step.value is None or not step.representable:
                    continue
                where = (f"epoch {steps.epoch} · " if len(epochs) > 1 else "")
                title = f"{name} · {where}step {step.index:02d} · {step.symbol}"
                text = question_text(sheet, steps, step, before, tolerance, len(epochs))
                parts.append(_question(title, text, answers(steps, step, tolerance)))
            before = steps
    parts.append("</quiz>\n")
    return "".join(parts)
