"""`export --quiz`: a Markdown worksheet with every computed value blanked, and its key."""

from __future__ import annotations

import pathlib
import re
from datetime import UTC, datetime

import pytest
from backprop_tui import cli, keys
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.export import worksheet
from backprop_tui.netfile import Source
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from test_logs import math_problems

NOW = datetime(2025, 3, 17, 12, 0, tzinfo=UTC)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
KEY_ROW = re.compile(r"^\| (\d+) \| (\$.+\$) \| (\S+) \|$")


def session_of(preset: str, epochs: int = 1) -> Session:
    session = Session(load_preset(preset), source=Source("preset", preset, preset_text(preset)))
    while session.epoch < epochs and session.next_epoch():
        pass
    session.last()
    return session


def split(sheet: str) -> tuple[str, str]:
    questions, key = sheet.split("\n# Answer key\n")
    return questions, key


def computed(session: Session) -> list[tuple[int, int, str, float]]:
    """(epoch, index, symbol, value) of every value the worksheet's epochs compute: each
    step's, and the outputs after the updates (no step of their own)."""
    found = []
    for epoch in range(1, session.epoch + 1):
        steps = EpochSteps(epoch, trace_epoch(session.timeline.start(epoch)))
        for step in steps:
            if step.value is not None:
                found.append((epoch, step.index, step.symbol_tex, step.value))
        last = len(steps)
        for j, value in enumerate(steps.trace.fwd_after.acts[-1].tolist()):
            found.append((epoch, last, rf"\mathrm{{out}}_{{o_{{{j + 1}}}}}^{{+}}", value))
    return found


@pytest.mark.parametrize(("preset", "epochs"), [("mazur", 1), ("mazur", 2),
                                                ("deep-relu", 1), ("tanh-linear", 2)])
def test_worksheet_hides_every_answer(preset: str, epochs: int) -> None:
    session = session_of(preset, epochs)
    questions, _ = split("".join(worksheet.render(session, NOW)))
    given = {fmt(v, session.digits) for v in session.base.given.by_name.values()}
    given |= {fmt(session.base.learning_rate, session.digits), "0", "1", "2", "-1"}
    shown = set(NUMBER.findall(questions))
    answers = {fmt(value, session.digits) for *_, value in computed(session)}
    # An answer that is itself a given number (∂net_h1/∂w1 = i1 = 0.05) cannot be hidden.
    leaked = (answers - given) & shown
    assert leaked == set()
    assert len(answers - given) > 40
    count = sum(len(EpochSteps(e, trace_epoch(session.timeline.start(e))))
                for e in range(1, session.epoch + 1))
    assert questions.count("**Step ") == count
    assert questions.count(worksheet.BLANK) == count - session.epoch  # all but "apply"


def test_worksheet_shows_the_given_numbers_and_names_the_blanks() -> None:
    questions, _ = split("".join(worksheet.render(session_of("mazur", 2), NOW)))
    assert r"&= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 \\" in questions  # net_h1, epoch 1
    # ∂E/∂w5 = δ_o1 · ∂net_o1/∂w5: both from earlier steps
    assert r"&= \boxed{\text{step 14}} \cdot \boxed{\text{step 15}} \\" in questions
    # w5+ = w5 − η·∂E/∂w5: w5 and η given, the gradient a blank
    assert r"&= 0.4 - 0.5 \cdot \boxed{\text{step 16}} \\" in questions
    # epoch 2 starts from epoch 1's new weights: blanks naming the step that gave them
    assert (r"&= \boxed{\text{epoch 1, step 38}} \cdot 0.05 + "
            r"\boxed{\text{epoch 1, step 41}} \cdot 0.1 + 0.35 \\") in questions
    assert r"\boxed{\mathrm{out}_{o_{1}}^{+}}" in questions
    assert "[printed]" not in questions and "0.082167041" not in questions


@pytest.mark.parametrize(("preset", "epochs"), [("mazur", 2), ("deep-relu", 1)])
def test_answer_key_holds_every_value(preset: str, epochs: int) -> None:
    session = session_of(preset, epochs)
    _, key = split("".join(worksheet.render(session, NOW)))
    tables = key.split("\n## Epoch ")[1:]
    assert len(tables) == session.epoch
    rows = {(int(table.split("\n")[0]), int(m[1]), m[2], m[3])
            for table in tables for line in table.splitlines() if (m := KEY_ROW.match(line))}
    expected = {(e, i, f"${symbol}$", fmt(value, session.digits))
                for e, i, symbol, value in computed(session)}
    assert rows == expected


@pytest.mark.parametrize("preset", ["mazur", "deep-relu", "tanh-linear", "seed"])
def test_worksheet_math_is_balanced(preset: str) -> None:
    sheet = "".join(worksheet.render(session_of(preset, 2), NOW))
    assert sheet.count("\n$$\n") >= 100
    assert math_problems(sheet) == []


def test_export_quiz_writes_the_worksheet(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sheet.md"
    assert cli.main(["export", "--quiz", "-o", str(path)]) == 0
    sheet = path.read_text("utf-8")
    assert sheet.startswith("# backprop-tui worksheet\n")
    questions, key = split(sheet)
    assert questions.count("**Step ") == 55
    assert "| 16 | $\\frac{\\partial E}{\\partial w_{5}}$ | 0.0821670406 |" in key
    assert cli.main(["export", "--quiz", "--to", "dE/dw5"]) == 0
    questions, key = split(capsys.readouterr().out)
    assert questions.count("**Step ") == 16 and key.count("\n| ") == 16 + 1  # and the header
    assert cli.main(["export", "--quiz", "--epochs", "2", "--format", "md"]) == 0
    assert capsys.readouterr().out.count("\n## Epoch ") == 4  # two epochs, two keys


@pytest.mark.parametrize("argv", [
    ["export", "--quiz", "--format", "txt"],
    ["export", "--quiz", "--format", "jsonl"],  # the log's default, asked for
    ["export", "--quiz", "--resume", "session.json"],
    ["export", "--quiz", "--preset", "nope"],
])
def test_export_quiz_bad_input(capsys, argv) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1


def test_epochs_run_over_by_a_fast_forward_are_left_out_and_edits_are_given() -> None:
    """Like the logs, the worksheet skips epochs a fast-forward ran over (its cost does not
    grow with them); a value an edit set is given, not a box pointing at an update."""
    session = Session(load_preset("seed"), source=Source("preset", "seed", preset_text("seed")))
    session.fast_forward(2_000)
    session.edit("i1", 0.2)
    session.edit("learning_rate", 0.9)
    session.last()
    text = "".join(worksheet.render(session, NOW))
    sheet, key = split(text)
    assert re.findall(r"^## Epoch (\d+)$", sheet, re.MULTILINE) == ["2001"]
    assert "step None" not in sheet and "epoch 2000, step" not in sheet
    assert r"\cdot 0.2 + " in sheet  # the edited input, given
    assert not math_problems(text)


def test_worksheet_builds_each_epoch_only_when_it_is_written(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sheet streams: epoch 3's steps are built after epoch 2 is written, not all at
    the start (10,000 epochs' steps held for the key took 937 MB)."""
    session = session_of("mazur", 3)
    built: list[int] = []
    past_steps = session.past_steps

    def counted(epoch: int) -> EpochSteps:
        built.append(epoch)
        return past_steps(epoch)

    monkeypatch.setattr(session, "past_steps", counted)
    pieces = worksheet.render(session, NOW)
    while next(pieces) != "## Epoch 2\n\n":
        pass
    assert 3 not in built
    rest = "".join(pieces)
    assert built.count(3) == 1 and "\n## Epoch 3\n" in rest


def test_worksheet_answer_key_file_has_no_name_while_the_sheet_streams(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is written to a temporary file whose name is removed as soon as it is open:
    nothing is in the temporary folder while the sheet streams, after it, or after an
    abandoned one, and nothing is left for a signal's clean-up to find."""
    import tempfile

    from backprop_tui import output

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    session = session_of("mazur", 2)
    for finish in ("done", "close"):
        pieces = worksheet.render(session, NOW)
        while next(pieces) != "## Epoch 2\n\n":
            pass
        assert list(tmp_path.iterdir()) == [] and not output._WRITING
        if finish == "done":
            assert "\n# Answer key\n" in "".join(pieces)
        pieces.close()
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preset", ["mazur", "xor"])
def test_worksheet_does_not_say_whether_the_error_fell(preset: str) -> None:
    sheet = "".join(worksheet.render(session_of(preset, 2), NOW))
    questions, _ = split(sheet)
    assert "lower than before the updates" not in questions
    assert "lower than E, the error" not in questions and "reduced" not in questions
    assert questions.count(worksheet.VERDICT_QUESTION) == 2


def given_table(questions: str) -> dict[str, str]:
    table = questions.split("\n## Given\n")[1].split("\n## Epoch ")[0]
    return {m[1]: m[2] for m in re.finditer(r"^\| (\$.+\$) \| (\S+) \|$", table, re.MULTILINE)}


def test_worksheet_given_values_are_those_of_its_first_epoch() -> None:
    session = Session(load_preset("mazur"))
    assert session.fast_forward(4)
    session.last()
    questions, _ = split("".join(worksheet.render(session, NOW)))
    assert re.findall(r"^## Epoch (\d+)$", questions, re.MULTILINE) == ["5"]
    given = given_table(questions)
    start = session.timeline.start(5)
    assert float(given["$w_{1}$"]) == start.given.by_name["w1"] != 0.15
    assert float(given["$w_{5}$"]) == start.given.by_name["w5"] != 0.4


def test_worksheet_given_values_are_the_full_values_the_steps_use() -> None:
    """A student works from the values the key was computed from: each in full (it reads
    back as the very float), and the sheet says the formulas and the key are rounded."""
    session = Session(load_preset("mazur"))
    assert session.fast_forward(1)
    session.last()
    questions, _ = split("".join(worksheet.render(session, NOW)))
    given = given_table(questions)
    start = session.timeline.start(2)
    assert len(given) == len(start.given.by_name) + 1  # and η
    for name, value in start.given.by_name.items():
        assert float(given[f"${keys.tex(name)}$"]) == value
    assert given["$w_{1}$"] == repr(start.given.by_name["w1"])
    assert len(given["$w_{1}$"]) > len(fmt(start.given.by_name["w1"], session.digits))
    assert ("the formulas and the answer key show numbers to 9 significant digits"
            in questions)
