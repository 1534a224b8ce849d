"""The quiz without the app: the slip catalogue on the tutorial's numbers (and the seed
document's own), judging an answer, the record of answers and its score, the session
document (saved, resumed, hostile input refused in one line), the logs and the CLI flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from backprop_tui.cli import main
from backprop_tui.export.formats import FORMATS
from backprop_tui.netfile import Source
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.persist import SessionFileError, dump_session, load_session
from backprop_tui.session.quiz import Quiz, parse_answer
from backprop_tui.session.session import Session
from backprop_tui.session.tolerance import check_tolerance
from backprop_tui.steps.slips import close, hint, judge, slips

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def session_of(preset: str = "mazur") -> Session:
    return Session(load_preset(preset), source=Source("preset", preset, preset_text(preset)))


def found(preset: str, key: str, values: dict[str, float] | None = None) -> dict[str, list]:
    """The slips of a step by name: name -> [(value, text), …]."""
    steps = session_of(preset).steps
    result: dict[str, list] = {}
    for slip in slips(steps, steps.keys[key], values):
        result.setdefault(slip.name, []).append((slip.value, slip.text))
    return result


def only(preset: str, key: str, name: str, values: dict[str, float] | None = None
         ) -> tuple[float, str]:
    (entry,) = found(preset, key, values)[name]
    return entry


# The catalogue on the tutorial's network (mazur), with its real numbers ------------------


def test_the_slope_evaluated_at_the_error_derivative() -> None:
    # y(1 − y) at ∂E/∂out_o1 = 0.741365070 instead of at out_o1 = 0.751365070
    value, text = only("mazur", "dout_o1/dnet_o1", "slope-at-derivative")
    assert value == pytest.approx(0.741365070 * (1 - 0.741365070), rel=1e-8)
    assert round(value, 6) == 0.191743
    assert text == "you evaluated out·(1 − out) at ∂E/∂out_o₁; it takes out_o₁"
    # The seed document's 0.1928 is y(1 − y) at its own ∂E/∂out_o1 = 0.7391.
    value, _ = only("seed", "dout_o1/dnet_o1", "slope-at-derivative", {"dE/dout_o1": 0.7391})
    assert round(value, 4) == 0.1928


def test_the_slope_at_net_and_the_other_unit() -> None:
    value, _ = only("mazur", "dout_h1/dnet_h1", "slope-at-net")
    assert value == pytest.approx(0.3775 * (1 - 0.3775), rel=1e-12)
    value, text = only("mazur", "dout_h1/dnet_h1", "wrong-unit")
    assert value == pytest.approx(0.240613417, rel=1e-8)  # h2's slope
    assert text == "you used out_h₂; this is h₁'s slope, from out_h₁"


def test_the_minus_sign_of_the_error_derivative_dropped() -> None:
    value, text = only("mazur", "dE/dout_o1", "minus-sign-dropped")
    assert value == pytest.approx(-0.741365070, rel=1e-8)
    assert text.startswith("you dropped the minus sign")
    value, _ = only("mazur", "dE/dw5", "minus-sign-dropped")
    assert value == pytest.approx(-0.0821670406, rel=1e-8)


def test_a_slip_says_what_the_network_computes() -> None:
    """The words of a slip come from the loss and the activation in use."""
    session = Session(load_preset("tanh-linear"))  # tanh hidden units, mse
    steps = session.steps
    texts = {slip.name: slip.text for slip in slips(steps, steps.keys["dE/dout_o1"])}
    assert texts["minus-sign-dropped"].startswith(
        "you dropped the minus sign: ∂E/∂out = −2(t − out)/n,")
    texts = {slip.name: slip.text for slip in slips(steps, steps.keys["net_h1"])}
    assert texts["activation-applied"].startswith("that is out_h₁ = tanh(net_h₁)")


def test_a_factor_left_out() -> None:
    value, text = only("mazur", "delta_o1", "slope-left-out")  # δ_o1 without σ′
    assert value == pytest.approx(0.741365070, rel=1e-8)
    assert text == "you left out the factor ∂out_o₁/∂net_o₁ (the activation's slope)"
    value, _ = only("mazur", "dE/dw5", "slope-left-out")  # ∂E/∂out_o1 · out_h1
    assert value == pytest.approx(0.741365070 * 0.593269992, rel=1e-8)
    value, _ = only("mazur", "dE_o1/dout_h1", "slope-left-out")  # ∂E/∂out_o1 · w5
    assert value == pytest.approx(0.741365070 * 0.4, rel=1e-8)


def test_the_other_outputs_target() -> None:
    value, text = only("mazur", "E_o2", "other-target")  # ½(t_o1 − out_o2)²
    assert value == pytest.approx(0.5 * (0.01 - 0.772928465) ** 2, rel=1e-8)
    assert text == "you used t_o₁, the other output's target; E_o₂ takes t_o₂"
    # The seed document's E_o2 = 0.289: its own out_o2 = 0.7703 with the other target.
    value, _ = only("seed", "E_o2", "other-target", {"out_o2": 0.7703})
    assert round(value, 3) == 0.289
    value, _ = only("mazur", "dE/dout_o1", "other-target")  # −(t_o2 − out_o1)
    assert value == pytest.approx(-(0.99 - 0.751365070), rel=1e-8)


def test_an_already_updated_weight_in_the_hidden_layer() -> None:
    value, text = only("mazur", "dE_o1/dout_h1", "updated-weight")  # δ_o1 · w5⁺
    assert value == pytest.approx(0.138498562 * 0.358916480, rel=1e-8)
    assert text == "you used the updated w₅; the hidden layer uses the original"
    value, text = only("mazur", "delta_h1", "other-order")
    assert round(value, 9) == 0.007294458
    assert text == "you used the updated w₅, w₇; the hidden layer uses the original"
    # The tutorial's own error after its first round, 0.291027924, is this slip.
    value, text = only("mazur", "E_total+", "other-order")
    assert round(value, 9) == 0.291027924
    assert "update_order = during_backward" in text


def test_the_original_weight_under_during_backward() -> None:
    steps = Session(load_preset("deep-relu")).steps
    key = next(s.key for s in steps if s.kind == "contrib")
    step = steps[steps.keys[key] - 1]
    (slip,) = [s for s in slips(steps, step.index) if s.name == "original-weight"]
    weight = step.uses[1].removesuffix("+")
    assert step.uses[1].endswith("+")  # the step itself uses the updated weight
    original = steps.network.names.parameters()[weight]
    kind, layer, row, column = original
    assert slip.value == pytest.approx(
        step.operands[0] * float(steps.network.weights[layer][row, column]), rel=1e-12)
    assert "with update_order = during_backward the layers below use the updated" in slip.text


def test_h1_where_h2_belongs() -> None:
    value, text = only("mazur", "dnet_o1/dw6", "wrong-unit")
    assert value == pytest.approx(0.593269992, rel=1e-8)
    assert text == "that is out_h₁; w₆ carries out_h₂"
    swaps = found("mazur", "net_o1")["wrong-unit"]  # w6 · out_h1: the seed's net_o1 slip
    assert [round(v, 6) for v, _ in swaps] == [1.107352, 1.104279]
    assert swaps[1][1] == "you multiplied w₆ by out_h₁; w₆ carries out_h₂"
    seed = found("seed", "net_o1", {"out_h1": 0.5812, "out_h2": 0.5969})["wrong-unit"]
    assert round(seed[1][0], 3) == 1.094  # the seed document's net_o1
    value, text = only("mazur", "dE_o1/dout_h1", "wrong-unit")  # δ_o1 · w6
    assert value == pytest.approx(0.138498562 * 0.45, rel=1e-8)


def test_the_learning_rate_left_out_applied_twice_or_added() -> None:
    slips_of_w5 = found("mazur", "w5+")
    assert slips_of_w5["eta-left-out"][0][0] == pytest.approx(0.4 - 0.0821670406, rel=1e-9)
    assert slips_of_w5["eta-twice"][0][0] == pytest.approx(0.4 - 0.25 * 0.0821670406, rel=1e-9)
    assert slips_of_w5["step-added"][0][0] == pytest.approx(0.4 + 0.5 * 0.0821670406, rel=1e-9)
    assert slips_of_w5["eta-twice"][0][1] == "you applied the learning rate twice: w₅ − η²·∂E/∂w₅"
    # The seed document's w6⁺ = 0.4078 reuses w5's gradient (its own 0.0845).
    value, text = only("seed", "w6+", "other-gradient", {"dE/dw5": 0.0845})
    assert round(value, 4) == 0.4078
    assert text == "you used ∂E/∂w₅, w₅'s gradient; w₆ has its own"
    value, _ = only("mazur", "dE/dw5", "eta-applied")
    assert value == pytest.approx(0.5 * 0.0821670406, rel=1e-9)


def test_no_slip_repeats_the_right_value_or_another_slip() -> None:
    steps = session_of().steps
    for step in steps:
        if step.value is None:
            assert slips(steps, step.index) == []
            continue
        values = [s.value for s in slips(steps, step.index)]
        assert all(abs(v - step.value) > 1e-12 for v in values), step.key
        assert len(set(values)) == len(values), step.key


# Judging -------------------------------------------------------------------------------


def test_judge_right_within_the_tolerance_else_a_slip_else_a_hint() -> None:
    steps = session_of().steps
    index = steps.keys["dE/dw5"]  # 0.0821670406
    assert judge(steps, index, 0.0821, 1e-3).verdict == "right"  # 8e-4 off
    assert judge(steps, index, 0.0821, 1e-4).verdict == "wrong"
    verdict = judge(steps, index, 0.4398, 1e-3)
    assert (verdict.verdict, verdict.slip.name) == ("slip", "slope-left-out")  # type: ignore[union-attr]
    verdict = judge(steps, index, 0.07, 1e-3)
    assert verdict.verdict == "wrong" and verdict.slip is None
    assert verdict.message == (
        "Not quite. ∂E/∂w₅ = δ_o₁·∂net_o₁/∂w₅: combine δ_o₁ = 0.138498562 (step 14), "
        "∂net_o₁/∂w₅ = 0.593269992 (step 15).")
    assert hint(steps, index) in verdict.message
    # Under the default tolerance the tutorial's 0.291027924 counts as right; tighter, it is
    # named as the other update order.
    after = steps.keys["E_total+"]
    assert judge(steps, after, 0.291027924, 1e-3).verdict == "right"
    assert judge(steps, after, 0.291027924, 1e-9).slip.name == "other-order"  # type: ignore[union-attr]


def test_a_first_wrong_try_names_what_to_combine_and_a_later_one_the_numbers() -> None:
    """For a product the numbers are the answer: the first hint names the factors and where
    they come from; a second try gets their numbers."""
    session = session_of()
    session.quiz = Quiz(on=True)
    session.goto("delta_o1")  # the next step, dnet_o1/dw5, is asked
    session.goto("dnet_o1/dw5")
    assert session.asks() == session.steps.keys["dE/dw5"]
    first = session.answer("0.07")
    assert first.message == ("Not quite. ∂E/∂w₅ = δ_o₁·∂net_o₁/∂w₅: combine δ_o₁ (step 14), "
                             "∂net_o₁/∂w₅ (step 15).")
    second = session.answer("0.07")
    assert "δ_o₁ = 0.138498562 (step 14)" in second.message
    assert session.answer("0.0821670406").verdict == "right"
    assert session.quiz.score(1) == {"output": (0, 1)}  # right only at the third try


def test_close_is_relative_and_exact_at_zero() -> None:
    assert close(1.0009, 1.0, 1e-3) and not close(1.0011, 1.0, 1e-3)
    assert close(-0.01901, -0.019049, 1e-2) and not close(0.019049, -0.019049, 1e-3)
    assert close(0.0, 0.0, 1e-3) and not close(1e-6, 0.0, 1e-3)


def test_answers_and_tolerances_are_parsed() -> None:
    assert parse_answer(" −0,5 ") == -0.5 and parse_answer("5e-3") == 0.005
    for text in ("", "abc", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_answer(text)
    assert check_tolerance("0.01") == 0.01
    for bad in ("0", "1", "-1e-3", "nan", "x", True):
        with pytest.raises(ValueError):
            check_tolerance(bad)


# The record ----------------------------------------------------------------------------


def quizzed() -> Session:
    """Two forward steps answered (a slip, then right; then revealed), one output step."""
    session = session_of()
    session.quiz = Quiz(on=True)
    assert session.asks() == 1
    assert session.answer("0.0275").verdict == "slip"
    assert session.answer("0.3775").verdict == "right"
    assert session.asks() is None  # answered: the move is free
    session.next()
    session.reveal()
    session.next()
    session.goto("delta_o1")
    assert session.answer("0.5").verdict == "wrong"
    session.reveal()
    session.next()
    return session


def test_answers_are_recorded_scored_per_phase_and_logged_as_events() -> None:
    session = quizzed()
    quiz = session.quiz
    assert [(a.index, a.verdict, a.slip) for a in quiz.answers] == [
        (1, "slip", "bias-left-out"), (1, "right", ""), (2, "revealed", ""),
        (15, "wrong", ""), (15, "revealed", "")]
    # Scored at the first try: net_h1 was a slip before it was right, out_h1 revealed.
    assert quiz.score(1) == {"forward": (0, 2), "output": (0, 1)}
    assert quiz.score(2) == {}
    assert quiz.summary() == "on, tolerance 0.001; epoch 1: Forward pass 0/2, Output layer 0/1"
    quiz_events = [e for e in session.events if e["action"] == "quiz"]
    assert quiz_events[0] == {"action": "quiz", "epoch": 1, "index": 1, "changes": [
        "net_h₁: answered 0.0275 — slip: you left out the bias b₁"]}
    assert quiz_events[2]["changes"] == ["out_h₁: revealed, 0.593269992"]
    # The apply step has no value: never asked.
    session.goto(len(session.steps) - 2)
    assert session.asks() is None


def test_the_quiz_is_saved_and_resumed() -> None:
    session = quizzed()
    session.quiz.tolerance = 0.01
    text = "".join(FORMATS["json"](session, NOW))
    document = json.loads(text)
    assert document["quiz"]["on"] is True and document["quiz"]["tolerance"] == 0.01
    assert document["quiz"]["answers"][0] == {
        "epoch": 1, "index": 1, "key": "net_h1", "phase": "forward", "answer": 0.0275,
        "verdict": "slip", "slip": "bias-left-out", "value": 0.3775}
    assert document["quiz"]["score"] == [
        {"epoch": 1, "phase": "forward", "right": 0, "asked": 2},
        {"epoch": 1, "phase": "output", "right": 0, "asked": 1}]
    resumed = load_session(text, "saved.json")
    assert resumed.quiz == session.quiz
    steps = resumed.steps
    assert resumed.quiz.settled(1, steps[14]) and not resumed.quiz.settled(1, steps[15])


def test_an_edit_that_changes_a_value_asks_for_it_again() -> None:
    """Answers hold the step's value: an edit in the same epoch that changes it makes the
    step a new question (scored again); one that leaves it as it was does not."""
    session = session_of()
    session.quiz = Quiz(on=True)
    assert session.answer("0.3775").verdict == "right"
    session.next()
    assert session.edit("w5", 0.3)  # after net_h1: its value stays
    session.first()
    session.prev()
    assert session.asks() is None
    assert session.edit("w1", 0.25)  # net_h1 = 0.25·0.05 + 0.2·0.1 + 0.35 = 0.3825
    assert session.asks() == 1
    first = session.answer("0.3775")  # the old value is wrong now, and a first try
    assert first.verdict == "wrong" and "0.05" not in first.message
    assert session.answer("0.3825").verdict == "right" and session.asks() is None
    assert session.quiz.score(1) == {"forward": (1, 2)}
    reloaded = load_session("".join(FORMATS["json"](session, NOW)), "saved.json")
    assert reloaded.quiz == session.quiz and reloaded.asks() is None


def test_the_logs_carry_the_answers_and_the_score() -> None:
    session = quizzed()
    markdown = "".join(FORMATS["md"](session, NOW))
    assert "- **Quiz:** on, tolerance 0.001; epoch 1: Forward pass 0/2, Output layer 0/1" in (
        markdown)
    assert "> **Quiz** net\\_h₁: answered 0.0275 — slip: you left out the bias b₁" in markdown
    text = "".join(FORMATS["txt"](session, NOW))
    assert "Forward pass 0/2, Output layer 0/1" in text
    assert "» Quiz: out_h₁: revealed, 0.593269992" in text
    records = [json.loads(line) for line in "".join(FORMATS["jsonl"](session, NOW)).splitlines()]
    assert records[0]["quiz"]["score"][0]["right"] == 0
    assert sum(r["type"] == "event" and r["action"] == "quiz" for r in records) == 5


def test_a_session_without_a_quiz_resumes_with_it_off() -> None:
    session = session_of()
    document = json.loads("".join(dump_session(session, [], [], NOW)))
    del document["quiz"]
    assert load_session(json.dumps(document), "old.json").quiz == Quiz()


ANSWER = {"epoch": 1, "index": 1, "key": "net_h1", "phase": "forward", "answer": 0.3775,
          "verdict": "right", "slip": ""}
HOSTILE = {
    "quiz a list": ([], "\"quiz\" is not an object"),
    "on as text": ({"on": "yes"}, "quiz.on"),
    "tolerance 0": ({"tolerance": 0}, "quiz.tolerance"),
    "tolerance text": ({"tolerance": "big"}, "quiz.tolerance"),
    "answers an object": ({"answers": {}}, "\"answers\" is not a list"),
    "answers 100,001": ({"answers": [ANSWER] * 100_001}, "\"answers\" has 100,001 entries"),
    "an answer that is a number": ({"answers": [1]}, "quiz.answers"),
    "an unknown verdict": ({"answers": [{**ANSWER, "verdict": "lucky"}]}, "quiz.answers"),
    "a text answer": ({"answers": [{**ANSWER, "answer": "0.3"}]}, "quiz.answers"),
    "a text value": ({"answers": [{**ANSWER, "value": "0.3"}]}, "quiz.answers"),
    "an infinite answer": ({"answers": [{**ANSWER, "answer": 12345.678}]}, "quiz.answers"),
    "a revealed answer with a value": (
        {"answers": [{**ANSWER, "verdict": "revealed"}]}, "quiz.answers"),
    "index 0": ({"answers": [{**ANSWER, "index": 0}]}, "quiz.answers"),
    "a 1 kB key": ({"answers": [{**ANSWER, "key": "k" * 1000}]}, "quiz.answers"),
    "an escape in a phase": ({"answers": [{**ANSWER, "phase": "x\u001b[31m"}]}, "quiz.answers"),
    "tolerance as a string of digits": ({"tolerance": "0.5"}, "quiz.tolerance"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_quiz_is_refused_in_one_line(name: str) -> None:
    quiz, expected = HOSTILE[name]
    document = json.loads("".join(dump_session(session_of(), [], [], NOW)))
    document["quiz"] = quiz
    with pytest.raises(SessionFileError) as caught:
        # 1e999 is a JSON number that parses as infinity
        load_session(json.dumps(document).replace("12345.678", "1e999"), "hostile.json")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("hostile.json: ")
    assert expected in message, message


# The command line ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1", "-0.1", "nan", "lots"])
def test_a_bad_tolerance_exits_2_with_one_line(value: str, capsys) -> None:
    assert main(["--quiz", "--tolerance", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tolerance" in err and err.startswith("backprop-tui: ")


def test_quiz_flags_go_with_the_app_only(capsys) -> None:
    assert main(["--quiz", "train", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        "backprop-tui: --quiz and --tolerance go with the app, not train\n")


def test_quiz_flags_open_the_app_in_quiz_mode(monkeypatch, tmp_path) -> None:
    from backprop_tui.app import app as app_module

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    opened = {}

    def fake_run(self) -> None:
        opened["session"] = self.session

    monkeypatch.setattr(app_module.BackpropApp, "run", fake_run)
    assert main(["--quiz", "--tolerance", "0.05"]) == 0
    assert (opened["session"].quiz.on, opened["session"].quiz.tolerance) == (True, 0.05)
