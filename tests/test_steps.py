"""The shape of an epoch's steps: order, phases, keys, what each step uses and touches, and
formulas that render."""

from __future__ import annotations

import dataclasses

import pytest
from backprop_tui import keys
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.formula import Add, Div, Exact, Expr, Mul, Neg, Ref, Renderer, Sub
from backprop_tui.network import Network
from backprop_tui.numbers import fmt
from backprop_tui.steps.build import EpochSteps
from networks import mazur, random_networks

MAZUR_KEYS = [
    "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2",
    "E_o1", "E_o2", "E_total",
    "dE/dout_o1", "dout_o1/dnet_o1", "delta_o1",
    "dnet_o1/dw5", "dE/dw5", "w5+", "dnet_o1/dw6", "dE/dw6", "w6+",
    "dE/dout_o2", "dout_o2/dnet_o2", "delta_o2",
    "dnet_o2/dw7", "dE/dw7", "w7+", "dnet_o2/dw8", "dE/dw8", "w8+",
    "dE/db2",
    "dE_o1/dout_h1", "dE_o2/dout_h1", "dE/dout_h1", "dout_h1/dnet_h1", "delta_h1",
    "dnet_h1/dw1", "dE/dw1", "w1+", "dnet_h1/dw2", "dE/dw2", "w2+",
    "dE_o1/dout_h2", "dE_o2/dout_h2", "dE/dout_h2", "dout_h2/dnet_h2", "delta_h2",
    "dnet_h2/dw3", "dE/dw3", "w3+", "dnet_h2/dw4", "dE/dw4", "w4+",
    "dE/db1",
    "apply", "E_total+",
]


def variants() -> list[tuple[str, Network]]:
    tutorial = mazur()
    found = [
        ("mazur", tutorial),
        ("mazur-during", dataclasses.replace(tutorial, update_order="during_backward")),
        ("mazur-biases", dataclasses.replace(tutorial, update_biases=True, loss="mse")),
    ]
    found += [(f"random{i}", n) for i, n in enumerate(random_networks(99, 12))]
    return found


VARIANTS = variants()


@pytest.fixture(params=VARIANTS, ids=[name for name, _ in VARIANTS])
def steps(request: pytest.FixtureRequest) -> EpochSteps:
    return EpochSteps(1, trace_epoch(request.param[1]))


def expected_phases(depth: int) -> list[str]:
    hidden = ["hidden"] if depth == 2 else [f"hidden{k}" for k in range(depth - 1, 0, -1)]
    return ["forward", "error", "output", *hidden, "update"]


def test_mazur_steps_follow_the_tutorial() -> None:
    steps = EpochSteps(1, trace_epoch(mazur()))
    assert len(steps) == 55
    assert [step.key for step in steps] == MAZUR_KEYS
    assert steps.phases == [
        ("forward", 1, 8), ("error", 9, 11), ("output", 12, 30), ("hidden", 31, 53),
        ("update", 54, 55),
    ]


def test_variants_cover_several_depths() -> None:
    assert {network.depth for _, network in VARIANTS} >= {2, 3, 4}


def test_indexes_and_keys(steps: EpochSteps) -> None:
    assert steps.diverged is None
    assert [step.index for step in steps] == list(range(1, len(steps) + 1))
    assert all(steps[i].index == i + 1 for i in range(len(steps)))
    keys = [step.key for step in steps]
    assert len(set(keys)) == len(keys)
    assert steps.keys == {key: i + 1 for i, key in enumerate(keys)}
    assert keys[-2:] == ["apply", "E_total+"]
    assert all(step.epoch == 1 for step in steps)


def test_phases_in_order(steps: EpochSteps) -> None:
    expected = expected_phases(steps.network.depth)
    assert [phase for phase, _, _ in steps.phases] == expected
    start = 1
    for phase, first, last in steps.phases:
        assert first == start and last >= first
        assert all(steps[i - 1].phase == phase for i in range(first, last + 1))
        start = last + 1
    assert start == len(steps) + 1


def test_uses_refer_to_known_values(steps: EpochSteps) -> None:
    names = steps.network.names
    given = set(names.parameters()) | {"eta"}
    outputs_after = {f"out_{u}+" for u in names.units[-1]}
    earlier: set[str] = set()
    for step in steps:
        assert len(step.uses) == len(step.operands), step.key
        for key in step.uses:
            if step.key == "E_total+" and key in outputs_after:
                continue
            assert key in given or key in earlier, (step.key, key)
        earlier.add(step.key)
    last = steps[-1]
    assert outputs_after <= set(last.uses)


def test_touches_name_parts_of_the_network(steps: EpochSteps) -> None:
    names = steps.network.names
    parts = {u for layer in names.units for u in layer}
    parts |= {w for layer in names.weights for row in layer for w in row}
    parts |= {b for layer in names.biases for b in layer}
    for step in steps:
        assert step.touches, step.key
        assert set(step.touches) <= parts, (step.key, step.touches)


def test_formulas_render(steps: EpochSteps) -> None:
    for step in steps:
        for text in (step.formula, step.formula_tex, step.substituted(),
                     step.substituted(tex=True), step.substituted(3, tex=True)):
            assert isinstance(text, str) and text, step.key
        assert (step.value is None) == (step.key == "apply")


def test_substituted_shows_every_operand(steps: EpochSteps) -> None:
    for step in steps:
        text = step.substituted(digits=3)
        for value in step.operands:
            shown = fmt(value, 3).replace("-", "−", 1) if value < 0 else fmt(value, 3)
            assert shown in text, (step.key, shown, text)  # "(−0.5)" when negative contains it


def test_relu_reads_max_of_zero_and_the_sum() -> None:
    from backprop_tui.functions import ACTIVATIONS

    relu = ACTIVATIONS["relu"].formula
    assert Renderer(["net_h1"], None, False, 9).render(relu) == "max(0, net_h₁)"
    assert Renderer(["net_h1"], [-0.5], True, 9).render(relu) == r"\max(0, -0.5)"


def test_a_negative_number_substituted_reads_with_the_formulas_minus() -> None:
    """In Unicode, the numbers put in a formula use the minus sign its operators use."""
    steps = EpochSteps(1, trace_epoch(mazur()))
    step = steps[steps.keys["dE_o2/dout_h1"] - 1]  # δ_o2 is negative
    assert step.formula == "δ_o₂·w₇"
    assert step.substituted() == "(−0.0380982365)·0.5" and "-" not in step.substituted()
    assert step.substituted(tex=True).startswith(r"\left(-0.0380982365")


# A negation beside other operators: unambiguous, equal in meaning, in Unicode and TeX.
R0, R1, R2 = Ref(0), Ref(1), Ref(2)
NEGATIONS = [
    (Div(R0, Neg(Mul((R1, R2)))), "w₁/(−w₂·w₃)", r"\frac{w_{1}}{-w_{2} \cdot w_{3}}"),
    (Neg(Mul((Neg(R0), R1))), "−(−w₁·w₂)", r"-\left(-w_{1} \cdot w_{2}\right)"),
    (Add((R0, Neg(Neg(R1)))), "w₁ − (−w₂)", r"w_{1} - \left(-w_{2}\right)"),
    (Add((R0, Add((Neg(R1), R2)))), "w₁ − w₂ + w₃", r"w_{1} - w_{2} + w_{3}"),
    (Sub(R0, Neg(R1)), "w₁ − (−w₂)", r"w_{1} - \left(-w_{2}\right)"),
    (Mul((R0, Mul((Neg(R1), R2)))), "w₁·(−w₂·w₃)",
     r"w_{1} \cdot \left(-w_{2} \cdot w_{3}\right)"),
    (Neg(Sub(R0, R1)), "−(w₁ − w₂)", r"-\left(w_{1} - w_{2}\right)"),
    (Neg(Mul((R0, R1))), "−w₁·w₂", r"-w_{1} \cdot w_{2}"),
    (Add((Neg(R0), Exact(Neg(R1), (R1,), abs))), "−w₁ − w₂", r"-w_{1} - w_{2}"),
]


@pytest.mark.parametrize(("expr", "uni", "tex"), NEGATIONS)
def test_a_negation_reads_one_way(expr: Expr, uni: str, tex: str) -> None:
    uses = [keys.parse(name) for name in ("w1", "w2", "w3")]
    assert Renderer(uses, None, False, 9).render(expr) == uni
    assert Renderer(uses, None, True, 9).render(expr) == tex
    shown = Renderer(uses, [-0.5, 0.25, 2.0], False, 9).render(expr)
    assert "−−" not in shown and "+ −" not in shown and "·−" not in shown and "/−" not in shown
