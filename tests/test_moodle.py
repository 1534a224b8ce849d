"""`exercises`' moodle.xml: the structure Moodle's XML importer reads, and every question
graded as Moodle grades it (the first answer in file order whose interval holds the
response; `*` last)."""

from __future__ import annotations

import pathlib
import re
import xml.etree.ElementTree as ElementTree

import pytest
from backprop_tui import cli
from backprop_tui.numbers import fmt
from backprop_tui.steps.slips import also_right, hint, slips
from test_exercises import student_session

STUDENTS = 3
TOLERANCE = 1e-3
NAME = re.compile(r"^(student-\d\d) · (?:epoch (\d+) · )?step (\d\d) · (.+)$")


@pytest.fixture(scope="module", params=[("mazur", 1), ("tanh-linear", 2), ("mazur-momentum", 1)],
                ids=["mazur", "tanh-linear-2-epochs", "mazur-momentum"])
def made(request, tmp_path_factory) -> tuple[pathlib.Path, int, str]:
    preset, epochs = request.param
    folder = tmp_path_factory.mktemp("moodle") / "set"
    assert cli.main(["exercises", "--students", str(STUDENTS), "--seed", "3", "--preset",
                     preset, "--epochs", str(epochs), "-o", str(folder)]) == 0
    return folder, epochs, preset


def bank(folder: pathlib.Path) -> ElementTree.Element:
    return ElementTree.parse(folder / "moodle.xml").getroot()


def answers_of(question: ElementTree.Element) -> list[tuple[float, str, float, str]]:
    """(fraction, answer text, tolerance, feedback) in file order."""
    return [(float(a.attrib["fraction"]), a.findtext("text"), float(a.findtext("tolerance")),
             a.findtext("feedback/text")) for a in question.findall("answer")]


def moodle_grade(answers: list[tuple[float, str, float, str]], response: float
                 ) -> tuple[float, str] | None:
    """Moodle's numerical question: the first answer, in order, whose nominal interval
    (answer ± tolerance, widened by 1e-14 of the larger of the tolerance and the answer, as
    qtype_numerical_answer::get_tolerance_interval does) holds the response; `*` holds any."""
    for fraction, text, tolerance, feedback in answers:
        if text == "*":
            return fraction, feedback
        value = float(text)
        margin = tolerance + 1e-14 * max(tolerance, abs(value), 1e-14)
        if value - margin <= response <= value + margin:
            return fraction, feedback
    return None


def test_every_question_grades_as_moodle_would(made):
    folder, epochs, preset = made
    questions = bank(folder).findall("question[@type='numerical']")
    by_student: dict[str, list[ElementTree.Element]] = {}
    for question in questions:
        match = NAME.match(question.findtext("name/text"))
        assert match, question.findtext("name/text")
        by_student.setdefault(match[1], []).append(question)
    assert sorted(by_student) == [f"student-{s:02d}" for s in range(1, STUDENTS + 1)]
    slips_named = also = 0
    for name, asked in by_student.items():
        session = student_session(folder / f"{name}.toml", epochs)
        steps_by_epoch = {e: session.past_steps(e) for e in range(1, epochs + 1)}
        expected = [(e, step.index) for e, steps in steps_by_epoch.items() for step in steps
                    if step.value is not None]
        seen = []
        for question in asked:
            match = NAME.match(question.findtext("name/text"))
            epoch, index = int(match[2] or 1), int(match[3])
            seen.append((epoch, index))
            steps = steps_by_epoch[epoch]
            step = steps[index - 1]
            assert match[4] == step.symbol
            answers = answers_of(question)
            assert answers[-1][1] == "*" and answers[-1][0] == 0
            assert float(answers[0][1]) == step.value
            assert answers[0][2] == pytest.approx(TOLERANCE * abs(step.value), rel=1e-15)
            # the right value scores 100, and so does one just inside the tolerance
            assert moodle_grade(answers, step.value)[0] == 100
            assert moodle_grade(answers, step.value * (1 + 0.9 * TOLERANCE))[0] == 100
            # the value in another form the quiz counts as right (Sutskever's v): 100 too
            for value, message in also_right(steps, index):
                assert moodle_grade(answers, value) in ((100, message), (100, answers[0][3]))
                also += 1
            # each slip of the quiz's catalogue: 0 with its own feedback, unless an earlier
            # answer's interval already holds its number (then it gets that one's)
            written = {float(text): feedback for fraction, text, _, feedback in answers[1:-1]
                       if fraction == 0}
            for slip in slips(steps, index):
                fraction, feedback = moodle_grade(answers, slip.value)
                if written.get(slip.value) == f"Not quite: {slip.text}.":  # its own answer
                    assert (fraction, feedback) == (0, f"Not quite: {slip.text}.")
                    slips_named += 1
                else:  # left out: held by an earlier answer, which it then gets
                    earlier = [a for a in answers[:-1] if moodle_grade([a], slip.value)]
                    assert earlier and (fraction, feedback) == (earlier[0][0], earlier[0][3])
            assert len(written) == len([a for a in answers[:-1] if a[0] == 0])  # none twice
            # a far value gets the catch-all: the quiz's hint
            far = abs(step.value) * 1000 + 1e6
            assert moodle_grade(answers, far) == (
                0, f"Not quite. {hint(steps, index, numbers=False)}")
        assert seen == expected  # one question per step with a value, in order
    assert slips_named > 10 * STUDENTS
    # momentum's eight velocities, v_w1+ … v_w8+, each also right in Sutskever's form
    assert also == (8 * STUDENTS if preset == "mazur-momentum" else 0)


def test_the_bank_has_the_structure_moodle_imports(made):
    folder, epochs, preset = made
    quiz = bank(folder)
    assert quiz.tag == "quiz"
    assert (folder / "moodle.xml").read_text(encoding="utf-8").startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
    categories = [q for q in quiz if q.attrib["type"] == "category"]
    assert [c.findtext("category/text") for c in categories] == [
        f"$course$/backprop/student-{s:02d}" for s in range(1, STUDENTS + 1)]
    current = None
    for question in quiz:
        assert question.tag == "question"
        kind = question.attrib["type"]
        assert kind in ("category", "numerical")
        if kind == "category":
            current = question.findtext("category/text").rsplit("/", 1)[1]
            continue
        assert question.findtext("name/text").startswith(f"{current} · ")
        text = question.find("questiontext")
        assert text.attrib["format"] == "html"
        html = text.findtext("text")
        assert html.startswith("<p><strong>") and r"\(" in html and r"\)" in html
        assert "$" not in html  # Moodle's MathJax filter reads \( … \), not a single $
        assert question.findtext("defaultgrade") == "1.0000000"
        for answer in question.findall("answer"):
            assert answer.attrib["fraction"] in ("100", "0")
            assert answer.attrib["format"] == "moodle_auto_format"
            value = answer.findtext("text")
            assert value == "*" or re.fullmatch(r"-?\d+(\.\d+)?", value), value
            assert re.fullmatch(r"\d+(\.\d+)?", answer.findtext("tolerance"))
            feedback = answer.find("feedback")
            assert feedback.attrib["format"] == "html" and feedback.findtext("text")
        fractions = [int(a.attrib["fraction"]) for a in question.findall("answer")]
        assert fractions[0] == 100 and fractions[-1] == 0
        assert fractions == sorted(fractions, reverse=True)  # the right ones first
        for tag in ("unitgradingtype", "unitpenalty", "showunits", "unitsleft"):
            assert question.find(tag) is not None


def test_a_question_shows_the_students_given_numbers(made):
    folder, epochs, preset = made
    quiz = bank(folder)
    firsts = [q for q in quiz.findall("question[@type='numerical']")
              if NAME.match(q.findtext("name/text"))[3] == "01"
              and NAME.match(q.findtext("name/text"))[2] in (None, "1")]
    assert len(firsts) == STUDENTS
    shown = set()
    for s, question in enumerate(firsts, start=1):
        session = student_session(folder / f"student-{s:02d}.toml", epochs)
        step = session.past_steps(1)[0]
        html = question.findtext("questiontext/text")
        for operand in step.operands:  # step 1 uses only given numbers
            assert fmt(operand) in html
        shown.add(html)
    assert len(shown) == STUDENTS  # each student's own numbers
    later = quiz.findall("question[@type='numerical']")[1].findtext("questiontext/text")
    assert r"\boxed{\text{step 1}}" in later  # an earlier result is the student's own answer


def test_the_readmes_excerpt_is_what_the_command_writes(tmp_path):
    """The README's excerpt of a question (seed 2026, student 1, step 16): its answers,
    fractions and feedback as moodle.xml has them."""
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text("utf-8")
    start = readme.index("```text\n", readme.index("An excerpt of `moodle.xml`")) + 8
    rows = readme[start:readme.index("```", start)].splitlines()
    shown = [re.match(r"^ *(\d+) %  (\S+) +(.+)$", row).groups() for row in rows[3:]]
    assert cli.main(["exercises", "--students", "1", "--seed", "2026",
                     "-o", str(tmp_path / "set")]) == 0
    question = next(q for q in bank(tmp_path / "set").findall("question[@type='numerical']")
                    if NAME.match(q.findtext("name/text"))[3] == "16")
    assert shown == [(str(round(fraction)), text, feedback)
                     for fraction, text, _, feedback in answers_of(question)]
    assert rows[0] == "Step 16 · ∂E/∂w₅"
