"""The quiz under an optimiser that keeps state: each slip of the issue, answered at its step
with a value worked here from the step's own numbers, is named; Sutskever's v is judged
right. And what the learner reads at each optimiser step: the explanations and the update
phase's introduction, from the records' words."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
from backprop_tui import keys
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.export.markdown import (
    BATCH_PHASES,
    GRADIENTS_ONLY,
    PHASE_INTROS,
    phase_intro,
)
from backprop_tui.export.worksheet import Worksheet
from backprop_tui.functions import OPTIMIZERS
from backprop_tui.network import Network
from backprop_tui.presets import load_preset
from backprop_tui.session.quiz import Quiz
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.slips import judge, slips

TIGHT = 1e-10  # ε inside the root moves w5⁺ by about 1e-7 of itself: a tight quiz tells it


def network(preset: str, optimizer: str | None = None) -> Network:
    found = load_preset(preset)
    return dataclasses.replace(found, optimizer=optimizer) if optimizer else found


def epoch(net: Network, number: int) -> EpochSteps:
    """The steps of epoch ``number``, each epoch traced from the one before (its state
    carried over)."""
    for _ in range(number - 1):
        net = trace_epoch(net).after
    return EpochSteps(number, trace_epoch(net))


Numbers = Callable[[str], float]


def momentum_slips(n: Numbers) -> dict[str, dict[str, float]]:
    eta, w, g, v = n("eta"), n("w5"), n("dE/dw5"), n("v_w5+")
    return {"v_w5+": {"velocity-not-carried": g},
            "w5+": {"velocity-not-carried": w - eta * g, "eta-on-v": w - eta * eta * v}}


def nesterov_slips(n: Numbers) -> dict[str, dict[str, float]]:
    eta, mu, w, g, v = n("eta"), n("mu"), n("w5"), n("dE/dw5"), n("v_w5+")
    return {"v_w5+": {"velocity-not-carried": g},
            "w5+": {"look-ahead-left-out": w - eta * g, "momentum-step": w - eta * v,
                    "velocity-not-carried": w - eta * (g + mu * g),
                    "eta-on-v": w - eta * (g + mu * eta * v)}}


def adam_slips(n: Numbers) -> dict[str, dict[str, float]]:
    b1, b2, eps, t, eta = n("beta1"), n("beta2"), n("epsilon"), n("t"), n("eta")
    w, g, m, s = n("w5"), n("dE/dw5"), n("m_w5"), n("s_w5")
    m_new, s_new, mhat, shat = n("m_w5+"), n("s_w5+"), n("mhat_w5"), n("shat_w5")
    found: dict[str, dict[str, float]] = {
        "bc1": {"t-off-by-one": 1 - b1 ** (t + 1), "betas-swapped": 1 - b2**t},
        "bc2": {"t-off-by-one": 1 - b2 ** (t + 1), "betas-swapped": 1 - b1**t},
        "m_w5+": {"betas-swapped": b2 * m + (1 - b2) * g},
        "s_w5+": {"betas-swapped": b1 * s + (1 - b1) * g * g},
        "mhat_w5": {"bias-correction-forgotten": m_new, "t-off-by-one": m_new / (1 - b1 ** (t + 1)),
                    "betas-swapped": m_new / (1 - b2**t)},
        "shat_w5": {"bias-correction-forgotten": s_new, "t-off-by-one": s_new / (1 - b2 ** (t + 1)),
                    "betas-swapped": s_new / (1 - b1**t)},
        "w5+": {"bias-correction-forgotten": w - eta * m_new / (math.sqrt(s_new) + eps),
                "epsilon-inside-root": w - eta * mhat / math.sqrt(shat + eps)},
    }
    return found


def earlier_t(n: Numbers) -> dict[str, dict[str, float]]:
    """t − 1 in place of t, where t − 1 is not 0."""
    b1, b2, t, m_new, s_new = n("beta1"), n("beta2"), n("t"), n("m_w5+"), n("s_w5+")
    return {"bc1": {"t-off-by-one": 1 - b1 ** (t - 1)}, "bc2": {"t-off-by-one": 1 - b2 ** (t - 1)},
            "mhat_w5": {"t-off-by-one": m_new / (1 - b1 ** (t - 1))},
            "shat_w5": {"t-off-by-one": s_new / (1 - b2 ** (t - 1))}}


CASES = [
    ("mazur-momentum", None, 1, momentum_slips),
    ("mazur-momentum", None, 2, momentum_slips),
    ("mazur-momentum", "nesterov", 1, nesterov_slips),
    ("mazur-momentum", "nesterov", 3, nesterov_slips),
    ("mazur-adam", None, 1, adam_slips),
    ("mazur-adam", None, 2, adam_slips),
    ("mazur-adam", None, 3, earlier_t),
]


def numbers_of(steps: EpochSteps) -> Numbers:
    return lambda text: steps.number(keys.parse(text))


@pytest.mark.parametrize(("preset", "optimizer", "number", "expected"), CASES)
def test_each_slip_answered_at_its_step_is_named(
        preset: str, optimizer: str | None, number: int,
        expected: Callable[[Numbers], dict[str, dict[str, float]]]) -> None:
    steps = epoch(network(preset, optimizer), number)
    n = numbers_of(steps)
    named = 0
    for key, wanted in expected(n).items():
        seen = [n(key)]  # a slip equal to the right value changes nothing here (v = g at
        # t = 1), one equal to an earlier slip is that one (at t = 1 Nesterov's step without
        # the look-ahead is momentum's)
        for name, value in wanted.items():
            if any(abs(value - other) <= 1e-12 * max(1.0, abs(other)) for other in seen):
                continue
            seen.append(value)
            verdict = judge(steps, steps.keys[key], value, TIGHT)
            assert verdict.verdict == "slip", (key, name, verdict.message)
            assert verdict.slip is not None and verdict.slip.name == name, (key, name)
            assert verdict.slip.value == pytest.approx(value, rel=1e-12)
            named += 1
    assert named >= (1 if number == 1 and "momentum" in preset else 3)


def test_a_slip_that_changes_nothing_at_the_first_update_is_not_listed() -> None:
    """At t = 1 the velocity is 0, so v⁺ = g and w − η·g is momentum's own step; t − 1 = 0
    has no bias correction to divide by."""
    steps = epoch(network("mazur-momentum"), 1)
    for key in ("v_w5+", "w5+"):
        assert "velocity-not-carried" not in {s.name for s in slips(steps, steps.keys[key])}
    steps = epoch(network("mazur-adam"), 1)
    for key in ("bc1", "bc2", "mhat_w5", "shat_w5"):
        found = [s for s in slips(steps, steps.keys[key]) if s.name == "t-off-by-one"]
        assert [s.text for s in found] == ["you used t + 1; this is update t = 1"
                                           if key.startswith("bc") else
                                           "you corrected with t + 1; this is update t = 1"]


def test_the_slips_say_what_the_update_does() -> None:
    steps = epoch(network("mazur-momentum"), 2)
    texts = {s.name: s.text for s in slips(steps, steps.keys["w5+"])}
    assert texts["eta-on-v"] == ("you applied η to v as well as to w₅: w₅ − η·(η·v_w₅⁺); "
                                 "PyTorch's v has no η (Sutskever's has, and then w₅ ← w₅ − v)")
    assert texts["velocity-not-carried"] == (
        "that is w₅ − η·∂E/∂w₅, as if v were this gradient alone; the velocity carries over, "
        "v_w₅⁺ = μ·v_w₅ + ∂E/∂w₅")
    steps = epoch(network("mazur-adam"), 2)
    texts = {s.name: s.text for s in slips(steps, steps.keys["w5+"])}
    assert texts["epsilon-inside-root"] == ("you put ε inside the square root, √(ŝ_w₅ + ε); it "
                                            "is added outside it: m̂_w₅/(√ŝ_w₅ + ε)")


@pytest.mark.parametrize(("optimizer", "number"), [("momentum", 1), ("momentum", 2),
                                                   ("nesterov", 2)])
def test_sutskevers_velocity_is_right(optimizer: str, number: int) -> None:
    """v ← μ·v + η·g, w ← w − v: its v is η times PyTorch's, and the weights are the same."""
    steps = epoch(network("mazur-momentum", optimizer), number)
    index = steps.keys["v_w5+"]
    v = steps.number(keys.parse("v_w5+"))
    verdict = judge(steps, index, 0.5 * v, TIGHT)
    assert verdict.verdict == "right" and verdict.slip is None
    assert verdict.message.startswith("Right, in Sutskever's form, v ← μ·v + η·∂E/∂w₅, whose v "
                                      "is η times PyTorch's, and w₅ ← w₅ − ")
    assert verdict.message.endswith(f"the weights come out the same (v_w₅⁺ = {v:.9g} in "
                                    "PyTorch's form).")
    # Only at v⁺: η·v⁺ at the new weight is no form of it.
    assert judge(steps, steps.keys["w5+"], 0.5 * v, TIGHT).verdict == "wrong"


def test_the_quiz_records_a_slip_and_sutskevers_form_as_right() -> None:
    session = Session(load_preset("mazur-momentum"))
    session.quiz = Quiz(on=True)
    session.goto(session.steps.keys["v_w5+"] - 1)
    assert session.asks() == session.steps.keys["v_w5+"]
    g = session.steps.number(keys.parse("dE/dw5"))
    assert session.answer(f"{0.5 * g!r}").verdict == "right"  # η·v_w5⁺, v_w5⁺ = g at t = 1
    session.goto("v_w5+")
    verdict = session.answer(f"{0.4 - 0.25 * g!r}")  # w5 − η·(η·v_w5⁺)
    assert (verdict.verdict, verdict.slip.name) == ("slip", "eta-on-v")  # type: ignore[union-attr]
    assert [a.verdict for a in session.quiz.answers] == ["right", "slip"]


def test_under_sgd_the_new_weight_keeps_its_slips() -> None:
    steps = epoch(network("mazur"), 1)
    assert [s.name for s in slips(steps, steps.keys["w5+"])] == [
        "eta-left-out", "eta-twice", "step-added", "step-only"]


@pytest.mark.parametrize(("optimizer", "number"), [("momentum", 2), ("nesterov", 1),
                                                   ("adam", 1), ("adam", 2)])
def test_no_update_slip_repeats_the_right_value_or_another(optimizer: str, number: int) -> None:
    steps = epoch(network("mazur-momentum", optimizer), number)
    for step in steps:
        if step.phase == "update" and step.value is not None:
            values = [s.value for s in slips(steps, step.index)]
            assert all(abs(v - step.value) > 1e-12 for v in values), step.key
            assert len(set(values)) == len(values), step.key


# What the learner reads -------------------------------------------------------------------


def explanations(steps: EpochSteps) -> dict[str, str]:
    return {step.key: step.explanation for step in steps}


def sentence(words: str) -> str:
    return words[0].upper() + words[1:] + "."


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_every_line_is_explained_by_its_records_words_and_its_t(optimizer: str) -> None:
    record = OPTIMIZERS[optimizer]
    first = explanations(epoch(network("mazur-momentum", optimizer), 1))
    third = explanations(epoch(network("mazur-momentum", optimizer), 3))
    for line in (*record.per_update, *record.lines):
        key = "w5+" if line.kind == "new" else keys.text(keys.Key(
            line.kind, param="" if line in record.per_update else "w5"))
        assert first[key].startswith(sentence(line.words)), key
        assert "At t = 1, " in first[key] and f"{line.first.format(p='w5')}." in first[key]
        assert "At t = 1" not in third[key]
    started = f"since {' and '.join(record.slots)} started at 0 (epoch 1, or a change of"
    state = keys.text(keys.Key(record.lines[0].kind, param="w5"))
    assert started in first[state]
    assert f"This is update t = 3, counted from the first {started}" in third[state]
    assert third[state].endswith(f"{record.slots[0]}_w5 is what the update before left.")
    assert first["w5+"].endswith("It takes effect when the epoch's updates are applied, at "
                                 "the end.")


def test_the_bias_corrections_say_their_t_and_how_much_they_scale() -> None:
    found = explanations(epoch(network("mazur-adam"), 3))
    assert "This is update t = 3" in found["bc1"] and "This is update t = 3" in found["bc2"]
    bc1 = 1 - 0.9**3
    assert found["mhat_w5"].endswith(f"At t = 3, dividing by bc1 = {bc1:.4g} scales m_w5⁺ up "
                                     f"by {1 / bc1:.4g}, less with every update.")
    assert "ε outside the root" in found["w5+"]


def test_several_examples_say_whose_update_and_count_t_per_batch() -> None:
    net = dataclasses.replace(load_preset("xor-online"), optimizer="momentum")
    found = explanations(epoch(net, 1))
    assert found["v_w5+[1]"].startswith("Example 1: The velocity")
    assert "At t = 1, the first update" in found["v_w5+[1]"]
    assert "This is update t = 3" in found["v_w5+[3]"]
    assert found["w5+[3]"].endswith("It takes effect when the batch's updates are applied, and "
                                    "the next batch starts from it.")
    net = dataclasses.replace(load_preset("xor"), optimizer="adam")
    found = explanations(epoch(net, 2))
    assert found["bc1[1..4]"].startswith("The batch of examples 1 to 4: The first moment's")
    assert "This is update t = 2" in found["bc1[1..4]"]


def test_under_sgd_no_explanation_mentions_an_optimiser() -> None:
    for step in epoch(network("mazur"), 1):
        assert "t = 1" not in step.explanation and "velocity" not in step.explanation


def test_the_update_phase_names_the_optimiser_and_what_it_keeps() -> None:
    adam = phase_intro("update", 0, network("mazur-adam"))
    assert adam.startswith(f"The optimiser is {OPTIMIZERS['adam'].words}. Between updates it "
                           "keeps m and s for each parameter it updates, and t, the number of "
                           "updates so far; all start at 0 at epoch 1")
    lines = ", ".join(keys.symbol(name) for name in ("m_w1+", "s_w1+", "mhat_w1", "shat_w1",
                                                     "w1+"))
    assert f"first its bc₁ and bc₂, then each parameter's lines in turn (for w₁: {lines})" in adam
    assert adam.endswith(PHASE_INTROS["update"])
    momentum = phase_intro("update", 0, network("mazur-momentum"))
    assert "keeps v for each parameter it updates; it starts at 0" in momentum
    assert "(for w₁: v_w₁⁺, w₁⁺)" in momentum
    batch = dataclasses.replace(load_preset("xor"), optimizer="nesterov")
    assert phase_intro("update", 1, batch).endswith(BATCH_PHASES["update"][1])
    assert "each new value" not in phase_intro("batch", 1, batch)
    assert phase_intro("output", 0, batch) == GRADIENTS_ONLY["output"]
    assert phase_intro("hidden", 0, batch) == GRADIENTS_ONLY["hidden"]
    mazur = load_preset("mazur")
    assert phase_intro("update", 0, mazur) == PHASE_INTROS["update"]
    assert phase_intro("batch", 1, load_preset("xor")) == BATCH_PHASES["batch"][1]


def test_the_worksheet_gives_the_optimisers_numbers_and_boxes_the_state_carried_over() -> None:
    net = network("mazur-adam")
    sheet = Worksheet(Session(net))
    assert {name: sheet.given[name] for name in ("beta1", "beta2", "epsilon", "m_w5", "s_w5",
                                                 "t")} == {
        "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "m_w5": 0.0, "s_w5": 0.0, "t": 1.0}
    before, after = epoch(net, 1), epoch(net, 2)
    step = after[after.keys["m_w5+"] - 1]
    blanks, _ = sheet.blanks(step, after, before)
    assert blanks[step.uses.index("m_w5")] == \
        rf"\boxed{{\text{{epoch 1, step {before.keys['m_w5+']}}}}}"
