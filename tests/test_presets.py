"""The bundled networks, the presets command and new-config."""

from __future__ import annotations

import math

import pytest
from backprop_tui.cli import main
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.netfile import parse_network
from backprop_tui.presets import PRESETS, load_preset, preset_text
from backprop_tui.steps.build import EpochSteps


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_loads_and_runs_an_epoch_of_finite_steps(name: str) -> None:
    steps = EpochSteps(1, trace_epoch(load_preset(name)))
    assert steps.diverged is None and len(steps) > 0
    assert all(s.value is None or math.isfinite(s.value) for s in steps)


def test_the_presets_show_what_else_the_engine_does() -> None:
    networks = [load_preset(name) for name in PRESETS]
    assert {a for n in networks for a in n.activations} == {"sigmoid", "tanh", "relu", "linear",
                                                             "softmax"}
    assert {n.loss for n in networks} == {"half_sse", "mse", "cross_entropy"}
    assert any(n.update_biases for n in networks)
    assert any(not n.shared(k) for n in networks for k in range(n.depth))
    assert any(n.depth > 2 for n in networks)
    assert {n.update_order for n in networks} == {"after_backward", "during_backward"}


def test_seed_is_the_tutorial_with_b1_030() -> None:
    seed, mazur = load_preset("seed"), load_preset("mazur")
    assert seed.biases[0][0] == 0.30 and mazur.biases[0][0] == 0.35
    steps = EpochSteps(1, trace_epoch(seed))
    value = {step.key: step.value for step in steps}
    assert abs(value["net_h1"] - 0.3275) < 1e-12
    assert round(value["out_h1"], 4) == 0.5812
    assert round(value["out_h2"], 9) == 0.584797675
    assert round(value["out_o1"], 9) == 0.749438402
    assert round(value["out_o2"], 9) == 0.770690492


def test_presets_lists_each_one_on_a_line(capsys) -> None:
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    assert "(default)" in lines[0]


@pytest.mark.parametrize("argv", [["new-config", "--preset", "tanh-linear"],
                                  ["--preset", "tanh-linear", "new-config"]])
def test_new_config_writes_a_commented_file_that_loads_as_it_is(capsys, argv) -> None:
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("# A backprop-tui network file")
    written = parse_network(text, "new-config")
    original = load_preset("tanh-linear")
    assert written.to_document() == original.to_document()
    assert preset_text("tanh-linear") in text


def test_new_config_refuses_to_overwrite_and_names_unknown_presets(capsys, tmp_path) -> None:
    target = tmp_path / "net.toml"
    target.write_text("mine\n")
    assert main(["new-config", "-o", str(target)]) == 2
    assert target.read_text() == "mine\n"
    assert main(["new-config", "--preset", "nope"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "no preset named 'nope'" in err
    assert main(["new-config", "-o", str(target), "--force"]) == 0
    assert parse_network(target.read_text(), "net.toml").to_document() == \
        load_preset("mazur").to_document()
