"""Values that are not representable: a teaching-only step (``Plan.teaching``: the chain
rule's values at the outputs under cross-entropy) whose value is NaN or ±inf is written in
words, "not representable", by every view and log; no "nan" or "inf" text anywhere, the
JSON logs valid JSON (null, never NaN or Infinity) and resumable. Also the output phase's
introduction for softmax and for the shortcut, and the loss in the logs' header."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import re
from datetime import UTC, datetime

import pytest
from apptools import run, screen_text, show
from backprop_tui import cli
from backprop_tui.app import view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.export.formats import FORMATS
from backprop_tui.export.markdown import PHASE_INTROS, header_fields, phase_intro
from backprop_tui.functions import BINARY_CROSS_ENTROPY, CROSS_ENTROPY, SOFTMAX
from backprop_tui.netfile import Source, parse_given
from backprop_tui.numbers import (
    NOT_REPRESENTABLE,
    aligned,
    integer_width,
    representable,
    tex_value,
    value_text,
)
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from backprop_tui.steps.marks import UNCOMPARED
from networks import PM800
from textual.pilot import Pilot

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# The net of ±800 (networks.PM800): the values of epoch 1 that are not representable.
UNREPRESENTABLE = ("dE/dout_o2", "delta_o1(chain)", "delta_o2(chain)")  # epoch 1's
NUMBERS_AS_TEXT = re.compile(r"(?i)\b(?:nan|-?inf(?:inity)?)\b")


def pm800(printed: str = "", epochs: int = 2) -> Session:
    text = PM800 + printed
    session = Session(parse_given(text, "pm800.toml").network(),
                      source=Source("file", "pm800.toml", text))
    for _ in range(epochs - 1):
        session.last()
        session.next_epoch()
    session.last()
    return session


def no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def test_the_rule_in_numbers() -> None:
    for value in (math.nan, math.inf, -math.inf):
        assert not representable(value)
        assert value_text(value, 9) == NOT_REPRESENTABLE == "not representable"
        assert tex_value(value, 9) == r"\text{not representable}"
    assert representable(-0.0) and value_text(-0.0) == "0"
    assert value_text(0.75136507, 9) == "0.75136507"
    assert tex_value(1.5e-7, 4) == r"1.5 \times 10^{-7}"
    # The words start where a one-digit number does in a column aligned on the point.
    assert integer_width(NOT_REPRESENTABLE) == 1
    assert aligned(["12.5", NOT_REPRESENTABLE, "0.25"])[1].startswith(" not")


def test_the_teaching_steps_are_not_representable_and_the_rest_trains() -> None:
    session = pm800(epochs=1)
    steps = session.steps
    assert steps.diverged is None
    off = {step.key: step for step in steps if not step.representable}
    assert set(off) == set(UNREPRESENTABLE)
    assert all(steps.plan.teaching(step.typed_key) for step in off.values())
    assert all(step.value_text() == "not representable" for step in off.values())
    assert steps[steps.keys["delta_o2"] - 1].value == -1.0  # the shortcut: out − t = 0 − 1
    assert (steps.trace.loss, steps.trace.loss_after) == (1600.0, 0.0)


@pytest.mark.parametrize("kind", ["md", "txt", "json", "jsonl", "worksheet"])
def test_every_log_writes_the_words(kind: str) -> None:
    written = "".join(FORMATS[kind](pm800(), NOW))
    assert not NUMBERS_AS_TEXT.search(written), NUMBERS_AS_TEXT.search(written)
    if kind == "md":  # the result row, the substituted operand and the summary's cell
        assert written.count("&= \\text{not representable}\n") == 3
        assert r"0 \cdot 0 + \left(\text{not representable}\right) \cdot 0 \\" in written
        assert "| $\\frac{\\partial E}{\\partial \\mathrm{out}_{o_{2}}}$ | not representable |" \
            in written
    elif kind == "txt":
        assert re.search(r"^ +∂E/∂out_o₂ = −t_o₂/out_o₂\n +=[ ]−1/0\n"
                         r" += not representable\n", written, re.MULTILINE)
        assert "= 0·0 + (not representable)·0\n" in written
        assert re.search(r"^ +9  ∂E/∂out_o₂ +not representable$", written, re.MULTILINE)
    elif kind == "worksheet":  # the answer key
        assert "| 9 | $\\frac{\\partial E}{\\partial \\mathrm{out}_{o_{2}}}$ | " \
               "not representable |" in written
    else:
        lines = written.splitlines() if kind == "jsonl" else [written]
        parsed = [json.loads(line, parse_constant=no_constant) for line in lines]
        records = parsed if kind == "jsonl" else parsed[0]["steps"]
        off = [r for r in records if r["type"] == "step" and r["value_text"] ==
               "not representable"]
        assert [(r["epoch"], r["key"]) for r in off] == [(1, key) for key in UNREPRESENTABLE]
        assert all(r["value"] is None for r in off)
        chain = off[1]
        assert chain["operands"] == [-0.0, 0.0, None, 0.0]
        assert chain["substituted"] == "0·0 + (not representable)·0"


def test_the_cli_exports_and_resumes(tmp_path: pathlib.Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "pm800.toml"
    config.write_text(PM800)
    for kind in ("md", "txt", "json", "jsonl"):
        out = tmp_path / f"log.{kind}"
        assert cli.main(["export", "--config", str(config), "--format", kind, "--epochs", "2",
                         "-o", str(out)]) == 0
        written = out.read_text()
        assert "not representable" in written and not NUMBERS_AS_TEXT.search(written)
    json.loads((tmp_path / "log.json").read_text(), parse_constant=no_constant)
    assert cli.main(["export", "--resume", str(tmp_path / "log.json"), "--format", "txt",
                     "-o", str(tmp_path / "again.txt")]) == 0
    again = (tmp_path / "again.txt").read_text()
    first = (tmp_path / "log.txt").read_text()
    body = first[first.index("Epoch 1\n"):]
    assert again[again.index("Epoch 1\n"):] == body
    assert capsys.readouterr().err == ""


def test_the_app_panels_show_the_words() -> None:
    session = pm800(epochs=1)
    session.goto(session.steps.keys["dE/dout_o2"])
    shown = view_model.equation(session)
    assert shown is not None
    assert (shown.substituted, shown.result) == ("−1/0", "not representable")
    session.goto(session.steps.keys["delta_o1(chain)"])
    shown = view_model.equation(session)
    assert shown is not None
    assert shown.substituted == "0·0 + (not representable)·0"
    assert shown.result == "not representable"
    assert [f.value for f in shown.factors] == ["0", "0", "not representable", "0"]
    rows, _ = view_model.values(session)
    assert [r.symbol for r in rows if r.value == "not representable"] == [
        "∂E/∂out_o₂", "δ_o₁ (chain rule)"]
    session.last()
    rows, _ = view_model.values(session)
    assert not any(NUMBERS_AS_TEXT.search(r.value) for r in rows)


def test_a_printed_value_of_a_step_not_representable_is_not_compared(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    printed = '\n[printed]\n"dE/dout_o2" = -1e300\n"delta_o2" = -1\n'
    session = pm800(printed, epochs=1)
    found = {mark.key: mark for mark in session.marks.values()}
    assert found["dE/dout_o2"].verdict == UNCOMPARED and found["dE/dout_o2"].symbol == "○"
    assert found["dE/dout_o2"].reason(9) == (
        "printed -1e300: not compared, the computed value is not representable (an output "
        "underflowed to 0 or rounded to 1)")
    assert found["delta_o2"].symbol == "✓"
    records = [json.loads(line) for line in FORMATS["jsonl"](session, NOW)]
    assert [r["printed"]["mark"] for r in records if "printed" in r] == ["uncompared", "agrees"]
    session.goto(session.steps.keys["dE/dout_o2"])
    shown = view_model.equation(session)
    assert shown is not None and shown.mark is not None and shown.mark[0] == "○"
    for kind in ("md", "txt", "jsonl"):
        written = "".join(FORMATS[kind](session, NOW))
        assert "not compared" in written and not NUMBERS_AS_TEXT.search(written)
    config = tmp_path / "pm800.toml"
    config.write_text(PM800 + printed)
    assert cli.main(["check-printed", str(config)]) == 0
    out = capsys.readouterr().out
    assert "○ not compared: the computed value is not representable" in out
    assert out.rstrip().endswith("2 printed values, 1 agree (✓), 0 do not (⚠), "
                                 "1 not compared (○)")
    assert not NUMBERS_AS_TEXT.search(out)


# The output phase's words --------------------------------------------------------------


def test_the_output_phase_intro_follows_the_output_layer_and_the_loss() -> None:
    mazur = load_preset("mazur")
    softmax = load_preset("softmax-ce")
    base = PHASE_INTROS["output"]
    assert phase_intro("output", 0, mazur) == base
    assert SOFTMAX.coupled is not None
    coupled, shortcut = SOFTMAX.coupled.intro, CROSS_ENTROPY.shortcut_intro
    assert phase_intro("output", 0, softmax) == f"{base} {coupled} {shortcut}"
    squared = dataclasses.replace(softmax, loss="half_sse")
    assert phase_intro("output", 0, squared) == f"{base} {coupled}"
    binary = dataclasses.replace(mazur, loss="cross_entropy")
    assert phase_intro("output", 2, binary) == f"{base} {BINARY_CROSS_ENTROPY.shortcut_intro}"
    assert "out_j − t_j" in shortcut and "out − t" in BINARY_CROSS_ENTROPY.shortcut_intro
    assert phase_intro("hidden", 0, softmax) == PHASE_INTROS["hidden"]


@pytest.mark.parametrize(("output", "total"), [
    ("softmax", "cross_entropy, E_total = −Σ t_o ln out_o"),
    ("sigmoid", "cross_entropy, E_total = −Σ [t_o ln out_o + (1 − t_o) ln(1 − out_o)]"),
])
def test_the_header_names_the_loss_for_the_output_layer(output: str, total: str) -> None:
    network = load_preset("softmax-ce")
    network = dataclasses.replace(network, activations=(*network.activations[:-1], output))
    session = Session(network)
    fields = dict(header_fields(session, NOW))
    assert fields["Loss"] == total
    assert fields["Shape"] == f"2 inputs → 3 hidden units (sigmoid) → 3 outputs ({output})"
    markdown = "".join(FORMATS["md"](session, NOW))
    assert ("-\\sum_{o} \\left[t_{o}" in markdown) == (output == "sigmoid")


def test_the_app_shows_the_words_on_screen() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await show(app, pilot, app.session.steps.keys["delta_o1(chain)"])
        screen = screen_text(app)
        assert "= 0·0 + (not representable)·0" in screen
        assert re.search(r"=  not representable  ", screen)  # the result, reversed
        assert re.search(r"∂E/∂out_o₂ += not representable  step 9", screen)  # a factor
        assert re.search(r"▶ δ_o₁ \(chain rule\) +not representable", screen)  # values
        assert re.search(r"∂E/∂out_o₁ +0 ", screen)
        assert not NUMBERS_AS_TEXT.search(screen)

    session = pm800(epochs=1)
    session.goto(0)
    run(script, size=(200, 40), app=BackpropApp(session))
