"""Names of steps with several training examples: at `:`, in `export --to` and in a network
file's [printed] table a plain name means the current example's (the first's at the start),
a tagged one keeps its tag, and the data set's E names what computes it."""

from __future__ import annotations

import re

import pytest
from backprop_tui import keys
from backprop_tui.netfile import NetworkFileError, parse_given
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from backprop_tui.steps.names import UnknownName, resolve, resolve_printed


def named(preset: str, text: str, example: int = 0) -> str:
    steps = Session(load_preset(preset)).steps
    return keys.text(steps.order[resolve(text, steps, example) - 1])


@pytest.mark.parametrize(("preset", "text", "example", "key"), [
    ("xor", "out_h1", 0, "out_h1[1]"),
    ("xor", "E_total", 3, "E_total[3]"),
    ("xor", "w5", 2, "w5+[1..4]"),  # the batch's new value
    ("xor", "w5[3]", 1, "w5+[1..4]"),  # example 3's batch, wherever the cursor is
    ("xor", "dE/dw5[3]", 1, "dE/dw5[3]"),  # example 3's own gradient
    ("xor", "E", 2, "E[1..4]"),  # the batch's error
    ("xor", "E_total+", 0, "E+"),
    ("xor-online", "w5[3]", 1, "w5+[3]"),
    ("xor-online", "E", 2, "E_total[2]"),  # a batch of one: the example's own error
    ("xor-online", "E[3]", 1, "E_total[3]"),
    ("xor", "E[3]", 1, "E[1..4]"),
    ("mazur", "E", 0, "E_total"),
    ("mazur", "E+", 0, "E_total+"),
])
def test_a_name_means_the_step_a_learner_means(preset: str, text: str, example: int,
                                               key: str) -> None:
    assert named(preset, text, example) == key


@pytest.mark.parametrize(("preset", "text", "message"), [
    ("xor", "w5[999]", "this network has examples 1 to 4"),
    ("xor", "net_h1[5]", "this network has examples 1 to 4"),
    ("mazur", "w5[3]", "this network has one example: its names carry no [k] (w5)"),
    ("xor", "w5[1..3]", "no batch is examples 1 to 3; the batches of several are 1..4"),
    ("xor-online", "w5[3..4]", "no batch is examples 3 to 4: every batch here is one example"),
    ("xor", "nothing", "try w5, dE/dw1[1], out_h1[1], E_total[1]"),
])
def test_a_name_that_means_no_step_says_why(preset: str, text: str, message: str) -> None:
    with pytest.raises(UnknownName, match=re.escape(message)):
        named(preset, text)


def test_export_to_a_plain_name_goes_to_the_first_example() -> None:
    session = Session(load_preset("xor"))
    session.goto("delta_o1")
    assert session.step is not None and session.step.key == "delta_o1[1]"
    session.goto("out_h1")  # from example 1's step: still example 1's
    assert session.step is not None and session.step.key == "out_h1[1]"


def test_a_printed_plain_name_is_the_first_examples() -> None:
    text = preset_text("xor") + '\n[printed]\nnet_h1 = 0.1\n"dE/dw5" = 0.001\n"w5[2]" = 0.79\n'
    given = resolve_printed(parse_given(text, "x.toml"), "x.toml")
    assert [entry.key for entry in given.printed] == ["net_h1[1]", "dE/dw5[1]", "w5+[1..4]"]
    with pytest.raises(NetworkFileError, match="examples 1 to 4"):
        resolve_printed(parse_given(preset_text("xor") + "\n[printed]\n\"h1[7]\" = 0.1\n",
                                    "x.toml"), "x.toml")


def test_a_plain_name_at_a_batch_step_means_its_last_example() -> None:
    """As the app's diagram shows it: at w5+[1..4] the cursor is at example 4."""
    session = Session(load_preset("xor"))
    session.goto("w5+[1..4]")
    assert session.example == 4
    session.goto("h1")
    assert session.step is not None and session.step.key == "out_h1[4]"
