"""The quiz: before a step's value is shown, the person is asked for it.

The session holds it: whether quiz mode is on, the relative tolerance an answer must be
within, and every answer given — right, a named slip, wrong, or revealed — so the score per
phase can be shown, logged, saved and restored. Matching an answer is ``steps.slips``'s;
this module judges an answer and the session records it. No Textual here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from backprop_tui.numbers import fmt
from backprop_tui.output import clipped, quoted
from backprop_tui.session.tolerance import DEFAULT_TOLERANCE
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.phases import phase_label
from backprop_tui.steps.slips import REVEALED, RIGHT, SLIP, WRONG, Verdict, judge
from backprop_tui.steps.step import Step

VERDICTS = (RIGHT, SLIP, WRONG, REVEALED)


def parse_answer(text: str) -> float:
    """A typed answer: a finite number (a comma for the decimal point is taken too, but not
    where it could separate thousands: 1,000 is refused, not read as 1)."""
    cleaned = text.strip().replace("−", "-").replace(" ", "")
    if re.fullmatch(r"[-+]?[0-9]{1,3}(,[0-9]{3})+", cleaned) or ("," in cleaned
                                                                 and "." in cleaned):
        raise ValueError(f"{clipped(text.strip())} reads two ways: write it with a point for the "
                         "decimals and no separator for thousands, such as 1000 or 1.000")
    cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"type a number, such as 0.5933 (not {quoted(text.strip())})") from None
    if not math.isfinite(number):
        raise ValueError("type a finite number")
    return number


@dataclass(frozen=True)
class Answer:
    """One answer: to step ``index`` of ``epoch`` (``key``, in ``phase``), whose value was
    then ``value``. An edit that changes the value makes it another question."""

    epoch: int
    index: int
    key: str
    phase: str
    answer: float | None  # None: revealed without an answer
    verdict: str  # right, slip, wrong or revealed
    slip: str = ""  # the slip's name, for a slip
    value: float | None = None  # the step's value; None in files older than it: any value

    def record(self) -> dict[str, object]:
        return {"epoch": self.epoch, "index": self.index, "key": self.key,
                "phase": self.phase, "answer": self.answer, "verdict": self.verdict,
                "slip": self.slip, "value": self.value}

    def of(self, epoch: int, step: Step) -> bool:
        """Whether this answers ``step`` of ``epoch`` as it now is (same key, same value)."""
        return (self.epoch == epoch and self.key == step.key
                and self.value in (None, step.value))


def change(step: Step, typed: str = "", verdict: Verdict | None = None) -> str:
    """An answer as the session's log records it, in one line (no verdict: revealed)."""
    if verdict is None:
        return f"{step.symbol}: revealed, {fmt(step.value or 0.0)}"[:480]
    outcome = ("right" if verdict.verdict == RIGHT else
               f"slip: {verdict.slip.text}" if verdict.slip else "wrong")
    return f"{step.symbol}: answered {clipped(typed.strip())} — {outcome}"[:480]


def answered(steps: EpochSteps, epoch: int, index: int, text: str, tolerance: float,
             first: bool = True) -> tuple[Answer, Verdict]:
    """The answer ``text`` to step ``index``, judged (a ``first`` try's hint names what to
    combine, a later one's their numbers too). ValueError (one line) for text that is not a
    number."""
    value = parse_answer(text)
    verdict = judge(steps, index, value, tolerance, numbers=not first)
    step = steps[index - 1]
    return Answer(epoch, index, step.key, step.phase, value, verdict.verdict,
                  verdict.slip.name if verdict.slip else "", step.value), verdict


def revealed(steps: EpochSteps, epoch: int, index: int) -> Answer:
    """Step ``index`` revealed without an answer."""
    step = steps[index - 1]
    return Answer(epoch, index, step.key, step.phase, None, REVEALED, value=step.value)


@dataclass
class Quiz:
    on: bool = False
    tolerance: float = DEFAULT_TOLERANCE
    answers: list[Answer] = field(default_factory=list)

    def settled(self, epoch: int, step: Step) -> bool:
        """Whether ``step`` of ``epoch``, as it now is, has been answered right or revealed."""
        return any(a.verdict in (RIGHT, REVEALED) and a.of(epoch, step) for a in self.answers)

    def asks(self, steps: EpochSteps, epoch: int, index: int) -> int | None:
        """The step after ``index`` of ``epoch``, if the quiz asks for its value first."""
        following = index + 1
        if not self.on or following > len(steps):
            return None
        step = steps[following - 1]
        if step.value is None or not math.isfinite(step.value) or self.settled(epoch, step):
            return None  # nothing to answer: the apply step, or "not representable"
        return following

    def tries(self, epoch: int, step: Step) -> int:
        """How many answers ``step`` of ``epoch``, as it now is, has had."""
        return sum(a.of(epoch, step) for a in self.answers)

    def score(self, epoch: int) -> dict[str, tuple[int, int]]:
        """Phase -> (right at the first try, asked) for the steps of ``epoch`` asked so far:
        a step answered wrong and then right counts as wrong, as it would on paper; asked
        again after an edit changed its value, it counts again."""
        outcome: dict[tuple[str, float | None], tuple[int, str, bool]] = {}
        for a in self.answers:
            if a.epoch == epoch and (a.key, a.value) not in outcome:
                outcome[a.key, a.value] = (a.index, a.phase, a.verdict == RIGHT)
        found: dict[str, tuple[int, int]] = {}
        for _, phase, right in sorted(outcome.values()):
            done, asked = found.get(phase, (0, 0))
            found[phase] = (done + right, asked + 1)
        return found

    def summary(self) -> str:
        """Every epoch's score per phase, in one line: 'epoch 1: Forward pass 7/8, …'."""
        epochs = sorted({a.epoch for a in self.answers})
        parts = []
        for epoch in epochs:
            scores = ", ".join(f"{phase_label(phase)} {right}/{asked}"
                               for phase, (right, asked) in self.score(epoch).items())
            parts.append(f"epoch {epoch}: {scores}")
        state = "on" if self.on else "off"
        head = f"{state}, tolerance {fmt(self.tolerance, 3)}"
        return f"{head}; " + "; ".join(parts) if parts else f"{head}; no answers yet"

    def document(self) -> dict[str, object]:
        """For the session document: the options, every answer, and the scores."""
        epochs = sorted({a.epoch for a in self.answers})
        return {
            "on": self.on,
            "tolerance": self.tolerance,
            "answers": [a.record() for a in self.answers],
            "score": [{"epoch": epoch, "phase": phase, "right": right, "asked": asked}
                      for epoch in epochs for phase, (right, asked) in self.score(epoch).items()],
        }

