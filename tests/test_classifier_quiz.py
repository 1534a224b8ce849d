"""The quiz's slips of a classifier's output layer, each answer computed here from the
session's own values in a line or two: the Jacobian's diagonal only, the squared-error
derivative kept, the sign lost, ln taken of the wrong output, the shortcut used where the
loss is not cross-entropy; a Jacobian entry's own slips; and a step that is not
representable is never asked and has no slips."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from backprop_tui.network import Network, frozen
from backprop_tui.presets import load_preset
from backprop_tui.session.quiz import Quiz
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.slips import SLIP, judge, slips
from networks import CLASSIFIERS, random_classifier

TOLERANCE = 1e-9


def session_of(preset: str, loss: str = "") -> Session:
    """A preset (with another loss), quiz on, answers judged to 1e-9."""
    network = load_preset(preset)
    session = Session(dataclasses.replace(network, loss=loss) if loss else network)
    session.quiz = Quiz(on=True, tolerance=TOLERANCE)
    return session


def v(session: Session, key: str) -> float:
    """A step's value this epoch, by its key."""
    found = session.steps.value_at(session.steps.keys[key])
    assert found is not None
    return found


def named(session: Session, key: str, answer: float, slip: str, words: str) -> None:
    """The quiz asks for step ``key`` and takes ``answer`` for the slip ``slip``, saying
    ``words``."""
    index = session.steps.keys[key]
    session.goto(index - 1)
    assert session.asks() == index
    verdict = session.answer(repr(float(answer)))
    assert verdict.verdict == SLIP and verdict.slip is not None, (key, verdict.message)
    assert verdict.slip.name == slip, (key, verdict.message)
    assert words in verdict.message, verdict.message
    assert verdict.slip.value == pytest.approx(answer, rel=1e-12, abs=1e-15)
    assert session.quiz.answers[-1].slip == slip


def names(session: Session, key: str) -> list[str]:
    return [s.name for s in slips(session.steps, session.steps.keys[key])]


# softmax + cross-entropy (softmax-ce: target o2 = 1) ----------------------------------


def test_the_jacobians_diagonal_only() -> None:
    session = session_of("softmax-ce")
    # δ_o1 by the chain rule with only ∂E/∂out_o1·out_o1(1 − out_o1): t_o1 = 0, so 0.
    out = v(session, "out_o1")
    answer = v(session, "dE/dout_o1") * out * (1 - out)
    assert answer == 0.0 and v(session, "delta_o1(chain)") == pytest.approx(out)
    named(session, "delta_o1(chain)", answer, "diagonal-only",
          "you took only the Jacobian's diagonal, ∂E/∂out_o₁·∂out_o₁/∂net_o₁")
    # A Jacobian entry off the diagonal taken as 0.
    named(session, "dout_o3/dnet_o1", 0.0, "diagonal-only", "you took the Jacobian as diagonal")


def test_the_squared_error_derivative_kept() -> None:
    session = session_of("softmax-ce")
    out, t = v(session, "out_o2"), 1.0
    named(session, "delta_o2", (out - t) * out * (1 - out), "squared-error-kept",
          "you kept the squared error's δ, (out_o₂ − t_o₂)·∂out_o₂/∂net_o₂")
    named(session, "dE/dout_o2", out - t, "squared-error-kept",
          "you kept the squared error's ∂E/∂out = −(t − out); cross-entropy's is −t/out")
    # With the whole Jacobian: Σ_k (out_k − t_k)·∂out_k/∂net_o3, softmax + ½(t − out)²'s δ.
    outs = [v(session, f"out_o{k}") for k in (1, 2, 3)]
    gaps = [outs[0], outs[1] - 1, outs[2]]
    column = [-outs[0] * outs[2], -outs[1] * outs[2], outs[2] * (1 - outs[2])]
    answer = sum(g * c for g, c in zip(gaps, column, strict=True))
    assert answer == pytest.approx(v(session_of("softmax-ce", "half_sse"), "delta_o3"))
    named(session, "delta_o3(chain)", answer, "squared-error-kept",
          "you kept the squared error's ∂E/∂out = −(t − out)")


def test_the_sign_lost() -> None:
    session = session_of("softmax-ce")
    named(session, "delta_o2", 1.0 - v(session, "out_o2"), "sign-lost",
          "you took t_o₂ − out_o₂; δ_o₂ = ∂E/∂net_o₂ = out_o₂ − t_o₂")
    named(session, "dE/dw10", (1.0 - v(session, "out_o2")) * v(session, "out_h1"), "sign-lost",
          "you took δ_o₂ as t_o₂ − out_o₂")
    named(session, "dE/dout_o2", 1.0 / v(session, "out_o2"), "minus-sign-dropped",
          "∂E/∂out = −t/out, never positive")
    # A Jacobian entry: −out_k·out_j with its sign lost, or worked as on the diagonal.
    out1, out2 = v(session, "out_o1"), v(session, "out_o2")
    named(session, "dout_o2/dnet_o1", out2 * out1, "minus-sign-dropped",
          "off the diagonal ∂out_o₂/∂net_o₁ = −out_o₂·out_o₁")
    named(session, "dout_o2/dnet_o1", out2 * (1 - out1), "diagonal-formula",
          "you used the diagonal's formula off it, out_o₂·(1 − out_o₁)")
    named(session, "dout_o1/dnet_o1", -out1 * out1, "off-diagonal-formula",
          "the formula off the diagonal; on it ∂out_o₁/∂net_o₁ = out·(1 − out)")


def test_ln_taken_of_the_wrong_output() -> None:
    session = session_of("softmax-ce")
    for other in ("o1", "o3"):  # E_o2 = −t_o2 ln out_o2, with t_o2 = 1
        named(session, "E_o2", -1.0 * math.log(v(session, f"out_{other}")), "ln-wrong-output",
              f"you took ln out_{other[0]}{'₁₃'[other == 'o3']}, another output's; E_o₂ takes "
              "the ln of its own, out_o₂")
    # An output whose target is 0 has no error to take ln of: nothing to slip on.
    assert "ln-wrong-output" not in names(session, "E_o1")


def test_a_chain_rule_delta_and_the_shortcut_have_no_product_slips() -> None:
    """δ = out − t is no product: no factor left out; the chain rule's sum has none either."""
    session = session_of("softmax-ce")
    assert names(session, "delta_o1") == ["sign-lost", "squared-error-kept",
                                          "squared-error-kept", "diagonal-only"]
    assert set(names(session, "delta_o2(chain)")) == {
        "jacobian-left-out", "minus-sign-dropped", "squared-error-kept"}
    named(session, "delta_o2(chain)", v(session, "dE/dout_o2"), "jacobian-left-out",
          "that is ∂E/∂out_o₂ alone")


# sigmoid + cross-entropy (the tutorial's network) -------------------------------------


def test_sigmoid_cross_entropy_slips() -> None:
    session = session_of("mazur", "cross_entropy")
    out, t = v(session, "out_o1"), 0.01
    # The tutorial's own δ_o1 = 0.138498562: the squared error's derivative kept.
    assert round((out - t) * out * (1 - out), 9) == 0.138498562
    named(session, "delta_o1", (out - t) * out * (1 - out), "squared-error-kept",
          "with cross-entropy the slope cancels: δ_o₁ = out_o₁ − t_o₁")
    named(session, "delta_o1(chain)", (out - t) * out * (1 - out), "squared-error-kept",
          "you kept the squared error's δ")
    named(session, "dE/dout_o1", out - t, "squared-error-kept",
          "cross-entropy's is −t/out + (1 − t)/(1 − out)")
    named(session, "delta_o1", t - out, "sign-lost", "you took t_o₁ − out_o₁")
    out2 = v(session, "out_o2")
    named(session, "E_o1", -(t * math.log(out2) + (1 - t) * math.log(1 - out2)),
          "ln-wrong-output", "you took ln out_o₂ (and ln(1 − out_o₂)), another output's")
    assert "diagonal-only" not in names(session, "delta_o1")  # no Jacobian under sigmoid


# softmax with a squared error ---------------------------------------------------------


@pytest.mark.parametrize("loss", ["half_sse", "mse"])
def test_the_shortcut_where_the_loss_is_not_cross_entropy(loss: str) -> None:
    session = session_of("softmax-ce", loss)
    named(session, "delta_o1", v(session, "out_o1") - 0.0, "shortcut-not-cross-entropy",
          f"you used the shortcut δ = out − t, which holds for cross-entropy; with loss = "
          f"\"{loss}\"")
    out = v(session, "out_o3")
    named(session, "delta_o3", v(session, "dE/dout_o3") * out * (1 - out), "diagonal-only",
          "you took only the Jacobian's diagonal")
    assert "slope-left-out" not in names(session, "delta_o1")


# several examples ---------------------------------------------------------------------


def test_a_slip_of_one_of_several_examples() -> None:
    """iris-mini: example 4's δ_o2 with the sign lost, from its own output and target."""
    session = session_of("iris-mini")
    network = session.steps.network
    out, t = v(session, "out_o2[4]"), float(network.targets[3][1])
    named(session, "delta_o2[4]", t - out, "sign-lost", "you took t_o₂ − out_o₂")
    named(session, "delta_o2[4]", (out - t) * out * (1 - out), "squared-error-kept",
          "you kept the squared error's δ")


# more than four outputs: the Jacobian written inside δ's formula ------------------------


def five_outputs(loss: str) -> Session:
    """Two inputs, five softmax outputs with soft targets: no Jacobian or slope steps."""
    network = Network(
        inputs=frozen(np.array([0.5, -1.0])),
        targets=frozen(np.array([0.1, 0.2, 0.3, 0.15, 0.25])),
        weights=(frozen(np.array([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6], [0.7, 0.8],
                                  [-0.9, 1.0]])),),
        biases=(frozen(np.array([0.05])),), activations=("softmax",), learning_rate=0.5,
        loss=loss, update_biases=False)
    session = Session(network)
    session.quiz = Quiz(on=True, tolerance=TOLERANCE)
    return session


def test_five_outputs_diagonal_only_and_squared_error_kept() -> None:
    session = five_outputs("cross_entropy")
    assert "dout_o3/dnet_o3" not in session.steps.keys  # entries inside δ's formula
    out = np.array([v(session, f"out_o{k}") for k in range(1, 6)])
    t = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    named(session, "delta_o3(chain)", -t[2] / out[2] * out[2] * (1 - out[2]), "diagonal-only",
          "you took only the Jacobian's diagonal")
    jacobian = np.diag(out) - np.outer(out, out)
    named(session, "delta_o3(chain)", float((out - t) @ jacobian[:, 2]), "squared-error-kept",
          "you kept the squared error's ∂E/∂out = −(t − out)")
    named(session, "delta_o3", (out[2] - t[2]) * out[2] * (1 - out[2]), "squared-error-kept",
          "you kept the squared error's δ")
    session = five_outputs("half_sse")
    named(session, "delta_o4", out[3] - t[3], "shortcut-not-cross-entropy",
          "you used the shortcut δ = out − t")


# not representable --------------------------------------------------------------------


def saturated() -> Session:
    """One softmax layer with nets ±800: out_o2 underflows to 0, so ∂E/∂out_o2 = −1/0 and
    the chain rule's δ are not representable."""
    network = Network(
        inputs=frozen(np.array([1.0])), targets=frozen(np.array([0.0, 1.0])),
        weights=(frozen(np.array([[800.0], [-800.0]])),), biases=(frozen(np.array([0.0])),),
        activations=("softmax",), learning_rate=1000.0, loss="cross_entropy",
        update_biases=False)
    session = Session(network)
    session.quiz = Quiz(on=True)
    return session


def test_a_step_that_is_not_representable_is_never_asked_and_has_no_slips() -> None:
    session = saturated()
    steps = session.steps
    unrepresentable = [s.index for s in steps if s.value is not None
                       and not math.isfinite(s.value)]
    assert [steps[i - 1].key for i in unrepresentable] == [
        "dE/dout_o2", "delta_o1(chain)", "delta_o2(chain)"]
    for index in unrepresentable:
        assert slips(steps, index) == []
        with pytest.raises(ValueError):
            judge(steps, index, 0.0, 1e-3)
        session.goto(index - 1)
        assert session.asks() is None  # the move to it is free
    for step in steps:  # the shortcut's δ is finite, and its slips are too
        if step.value is not None and math.isfinite(step.value):
            assert all(math.isfinite(s.value) for s in slips(steps, step.index)), step.key
    session.goto(steps.keys["delta_o2"] - 1)
    assert session.asks() == steps.keys["delta_o2"]
    assert session.answer("1.0").slip.name == "sign-lost"  # type: ignore[union-attr]


# the whole catalogue ------------------------------------------------------------------


def distinct(steps: EpochSteps) -> None:
    """Every step's slips: none gives the right value or another slip's, each finite, each
    said in one short line."""
    for step in steps:
        found = slips(steps, step.index)
        if step.value is None:
            assert found == []
            continue
        values = [s.value for s in found]
        assert all(abs(x - step.value) > 1e-12 for x in values), step.key
        assert len(set(values)) == len(values), step.key
        assert all(math.isfinite(x) for x in values), step.key
        assert all("\n" not in s.text and len(s.text) < 240 for s in found), step.key


@pytest.mark.parametrize("preset,loss", [("softmax-ce", ""), ("softmax-ce", "half_sse"),
                                         ("softmax-ce", "mse"), ("mazur", "cross_entropy")])
def test_no_slip_repeats_the_right_value_or_another_slip(preset: str, loss: str) -> None:
    distinct(session_of(preset, loss).steps)


@pytest.mark.parametrize("output,loss", CLASSIFIERS)
def test_random_classifiers_slips_are_distinct(output: str, loss: str) -> None:
    rng = np.random.default_rng(14)
    for examples in (1, 1, 3):
        distinct(Session(random_classifier(rng, output, loss, examples=examples,
                                           batch="full")).steps)
