"""What does not combine with softmax and cross-entropy is refused in one line: by `check`
and `train` on a network file (exit 2, nothing on stdout, no traceback), and by an edit
(``Session.check_edit`` and ``Session.edit``: EditError, nothing changed).

The rules: softmax on the output layer only, with two outputs or more; cross-entropy with
softmax or sigmoid outputs only; its targets in [0, 1], and under softmax each example's
adding up to 1 (within 1e-12)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backprop_tui import cli
from backprop_tui.functions import ACTIVATIONS, outputs_for
from backprop_tui.netfile import NetworkFileError, classifier_problem, parse_network
from backprop_tui.network import frozen
from backprop_tui.presets import load_preset
from backprop_tui.session.persist import SessionFileError, dump_session, load_session
from backprop_tui.session.session import EditError, Session, State
from backprop_tui.steps.names import UnknownName, resolve
from networks import random_classifier

TUTORIAL = """\
learning_rate = 0.5
loss = "{loss}"
inputs = [0.05, 0.10]
targets = {targets}

[[layer]]
weights = [[0.15, 0.20], [0.25, 0.30]]
bias = 0.35
activation = "{hidden}"

[[layer]]
weights = {output_weights}
bias = 0.60
activation = "{output}"
"""
TWO = "[[0.40, 0.45], [0.50, 0.55]]"


def tutorial(loss: str = "cross_entropy", output: str = "softmax", hidden: str = "sigmoid",
             targets: str = "[0.01, 0.99]", output_weights: str = TWO) -> str:
    return TUTORIAL.format(loss=loss, output=output, hidden=hidden, targets=targets,
                           output_weights=output_weights)


def several(targets: str) -> str:
    """Three examples of the tutorial's inputs, one row of targets each."""
    return tutorial(targets=targets).replace("inputs = [0.05, 0.10]",
                                             "inputs = [[0.05, 0.10], [0.10, 0.05], [1, 0]]")


WRONG_OUTPUTS = [a for a in ACTIVATIONS if a not in outputs_for("cross_entropy")]

# (file text, what the one line says)
REFUSED = {
    "softmax-hidden": (tutorial(loss="half_sse", hidden="softmax", output="sigmoid"),
                       "layer 1, key 'activation': \"softmax\" is for the output layer only "
                       "(layer 2)"),
    "softmax-one-output": (tutorial(loss="half_sse", targets="[0.99]",
                                    output_weights="[[0.40, 0.45]]"),
                           "layer 2, key 'activation': \"softmax\" needs two outputs or more"),
    **{f"cross-entropy-{output}": (
        tutorial(output=output),
        f"key 'loss': \"cross_entropy\" needs \"softmax\" or \"sigmoid\" outputs; the output "
        f"layer (layer 2) is \"{output}\"") for output in WRONG_OUTPUTS},
    "softmax-targets-sum": (tutorial(targets="[0.2, 0.3]"),
                            "key 'targets': with \"softmax\" outputs and \"cross_entropy\" an "
                            "example's targets add up to 1 (one-hot, such as [0, 1, 0], or "
                            "shares); these add up to 0.5"),
    "softmax-targets-one-hot-twice": (tutorial(targets="[1, 1]"), "these add up to 2"),
    "softmax-targets-off-by-1e-9": (tutorial(targets="[0.01, 0.990000001]"),
                                    "these add up to 1.000000001"),
    "softmax-targets-row": (several("[[0, 1], [1, 0], [0.5, 0.6]]"),
                            "key 'targets', row 3: with \"softmax\" outputs and "
                            "\"cross_entropy\" an example's targets add up to 1"),
    "softmax-target-negative": (tutorial(targets="[1.5, -0.5]"),
                                "key 'targets': with \"cross_entropy\" every target is a "
                                "probability from 0 to 1, got 1.5, -0.5"),
    "sigmoid-target-above-1": (tutorial(output="sigmoid", targets="[0.01, 1.2]"),
                               "key 'targets': with \"cross_entropy\" every target is a "
                               "probability from 0 to 1, got 0.01, 1.2"),
    "sigmoid-target-below-0": (several("[[0, 1], [-0.1, 0.5], [1, 1]]").replace(
        'activation = "softmax"', 'activation = "sigmoid"'), "key 'targets', row 2: with "
        "\"cross_entropy\" every target is a probability from 0 to 1, got -0.1, 0.5"),
}

ACCEPTED = {
    "softmax-cross-entropy": tutorial(),
    "sigmoid-cross-entropy": tutorial(output="sigmoid"),
    "sigmoid-cross-entropy-any-targets-in-0-1": tutorial(output="sigmoid", targets="[1, 1]"),
    "softmax-half-sse-any-targets": tutorial(loss="half_sse", targets="[0.2, 0.3]"),
    "softmax-mse-targets-outside": tutorial(loss="mse", targets="[2, -1]"),
    "softmax-targets-within-1e-12": tutorial(targets="[0.1, 0.9000000000001]"),
    "softmax-targets-rows": several("[[0, 1], [1, 0], [0.25, 0.75]]"),
}


def test_every_activation_that_cross_entropy_does_not_take_is_listed() -> None:
    assert set(WRONG_OUTPUTS) == {"tanh", "relu", "linear", "softplus", "leaky_relu"}
    assert set(outputs_for("cross_entropy")) == {"softmax", "sigmoid"}


@pytest.mark.parametrize("command", [["check"], ["train", "--epochs", "3"],
                                     ["export", "--format", "md"]])
@pytest.mark.parametrize("case", list(REFUSED))
def test_the_command_line_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              case: str, command: list[str]) -> None:
    text, says = REFUSED[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text, "utf-8")
    assert cli.main([*command, "--config", str(path)]) == cli.USAGE_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"backprop-tui: {path}: ") and err.endswith("\n")
    assert err.count("\n") == 1 and says in err, err
    with pytest.raises(NetworkFileError, match="^" + str(path)):
        parse_network(text, str(path))


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_what_combines_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   case: str) -> None:
    path = tmp_path / f"{case}.toml"
    path.write_text(ACCEPTED[case], "utf-8")
    assert cli.main(["check", "--config", str(path)]) == 0
    assert ", 0 differ (✗)" in capsys.readouterr().out


def test_a_real_process_refuses_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "hidden-softmax.toml"
    path.write_text(REFUSED["softmax-hidden"][0], "utf-8")
    done = subprocess.run([sys.executable, "-m", "backprop_tui", "train", "--epochs", "1",
                           "--config", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "is for the output layer only" in done.stderr


def test_the_rules_in_one_function() -> None:
    """classifier_problem, which the files and the edits both ask."""
    assert classifier_problem(["sigmoid", "softmax"], "cross_entropy", [[0.0, 1.0]]) is None
    assert classifier_problem(["sigmoid", "softmax"], "half_sse", [[5.0, 7.0]]) is None
    assert classifier_problem(["tanh", "linear"], "mse", [[5.0]]) is None
    # fsum: 0.1 + 0.2 + 0.7 is 0.9999999999999999 in floats, within 1e-12 of 1.
    assert classifier_problem(["sigmoid", "softmax"], "cross_entropy",
                              [[0.1, 0.2, 0.7]]) is None
    found = classifier_problem(["softmax", "softmax"], "cross_entropy", [[0.5, 0.5]])
    assert found is not None and found.startswith("layer 1, key 'activation'")


# Edits ----------------------------------------------------------------------------------


def refused(session: Session, name: str, value: object, says: str) -> None:
    """The edit is refused in one line, by check_edit and by edit, and changes nothing."""
    with pytest.raises(EditError) as found:
        session.check_edit(name, value)
    message = str(found.value)
    assert says in message and "\n" not in message, message
    before, network = session.state, session.network
    with pytest.raises(EditError, match=None) as again:
        session.edit(name, value)
    assert str(again.value) == message
    assert session.state == before and session.network is network


def test_edits_that_break_the_rules_are_refused() -> None:
    mazur = Session(load_preset("mazur"))  # sigmoid outputs, half_sse, targets 0.01/0.99
    refused(mazur, "activation1", "softmax", "\"softmax\" is for the output layer only")
    assert mazur.state == State() and not mazur.can_undo()
    mazur.edit("loss", "cross_entropy")  # sigmoid + cross-entropy: fine
    refused(mazur, "t_o2", 1.5, "every target is a probability from 0 to 1, got 0.01, 1.5")
    refused(mazur, "t_o1", -0.01, "got -0.01, 0.99")
    for output in WRONG_OUTPUTS:
        refused(mazur, "activation2", output, f"the output layer (layer 2) is \"{output}\"")
    mazur.edit("activation2", "softmax")  # 0.01 + 0.99 = 1: fine
    refused(mazur, "t_o1", 0.02, "these add up to 1.01")
    mazur.edit("loss", "half_sse")  # softmax + half_sse: any targets
    mazur.edit("t_o1", 0.5)
    refused(mazur, "loss", "cross_entropy", "these add up to 1.49")
    assert mazur.network.activations == ("sigmoid", "softmax")


def test_edits_of_the_new_presets() -> None:
    session = Session(load_preset("softmax-ce"))  # one-hot [0, 1, 0]
    refused(session, "t_o1", 1.0, "these add up to 2")
    refused(session, "activation1", "softmax", "is for the output layer only (layer 2)")
    refused(session, "activation2", "tanh", "needs \"softmax\" or \"sigmoid\" outputs")
    session.edit("activation2", "sigmoid")  # one-hot targets are in [0, 1]: fine
    session.edit("t_o1", 1.0)  # two classes at once: fine under sigmoid
    refused(session, "activation2", "softmax", "these add up to 2")
    iris = Session(load_preset("iris-mini"))
    refused(iris, "t_o2[4]", 0.0, "example 4: with \"softmax\" outputs")
    refused(iris, "t_o3[6]", 2.0, "example 6: with \"cross_entropy\" every target is a "
                                   "probability from 0 to 1, got 0, 0, 2")


def test_a_network_of_one_output_cannot_be_made_softmax() -> None:
    session = Session(load_preset("xor"))
    assert session.network.sizes[-1] == 1
    refused(session, f"activation{session.network.depth}", "softmax",
            "needs two outputs or more")


# The guide new-config writes ---------------------------------------------------------------


@pytest.mark.parametrize("preset", ["softmax-ce", "iris-mini"])
def test_new_config_states_the_rules_and_loads(capsys: pytest.CaptureFixture[str],
                                               preset: str) -> None:
    assert cli.main(["new-config", "--preset", preset]) == 0
    text = capsys.readouterr().out
    assert text.startswith(cli.NETWORK_FILE_GUIDE)
    guide = cli.NETWORK_FILE_GUIDE.splitlines()
    loss = next(i for i, line in enumerate(guide) if line.startswith("#   loss "))
    assert [line[19:] for line in guide[loss:loss + 6]] == [
        '"half_sse"       E = sum of 1/2 (t - out)^2',
        '"mse"            mean of (t - out)^2',
        '"cross_entropy"  under "softmax": -sum of t ln out',
        '                 under "sigmoid": -sum of [t ln out + (1 - t) ln(1 - out)]',
        '                 outputs "softmax" or "sigmoid" only; targets from 0 to 1',
        '                 under "softmax" each example\'s targets add up to 1']
    assert ('#               "softmax": the output layer only, of two units or more (its '
            'outputs: shares') in guide
    assert max(len(line) for line in guide) <= 96
    assert parse_network(text, "new-config").to_document() == load_preset(preset).to_document()


def test_a_value_that_is_no_step_here_says_why() -> None:
    """Beyond four softmax outputs the Jacobian's entries are inside δ; without a shortcut
    the chain rule's δ is δ itself: the go-to prompt and --to say so."""
    session = Session(dataclasses.replace(load_preset("softmax-ce"), loss="half_sse"))
    with pytest.raises(UnknownName, match=r"only with a shortcut \(cross-entropy\)"):
        resolve("delta_o1(chain)", session.steps)
    wide = random_classifier(np.random.default_rng(6), "softmax", "cross_entropy")
    wide = dataclasses.replace(
        wide, weights=(*wide.weights[:-1], frozen(np.full((6, wide.sizes[-2]), 0.1))),
        biases=(*wide.biases[:-1], frozen(np.zeros(1))),
        targets=frozen(np.array([[0.0, 1.0, 0.0, 0.0, 0.0, 0.0]])))
    steps = Session(wide).steps
    with pytest.raises(UnknownName, match="written inside δ's formula.*try delta_o1$"):
        resolve("dout_o2/dnet_o1", steps)
    with pytest.raises(UnknownName, match="try delta_o3$"):
        resolve("dout_o3/dnet_o3", steps)


def test_a_session_that_moved_a_one_hot_target_resumes() -> None:
    """The edits of an epoch are checked together, as the timeline applies them: a class
    moved under a squared error in between resumes; a file whose edits break the rules
    says which epoch's, in one line."""
    session = Session(load_preset("softmax-ce"))
    for name, value in (("loss", "half_sse"), ("t_o1", 1.0), ("t_o2", 0.0),
                        ("loss", "cross_entropy")):
        assert session.edit(name, value)
    session.next_epoch()
    text = "".join(dump_session(session, [], []))
    resumed = load_session(text, "s.json")
    assert resumed.network.targets.tolist() == [[1.0, 0.0, 0.0]]
    assert resumed.network.loss == "cross_entropy" and resumed.epoch == 2
    document = json.loads(text)
    document["edits"] = [e for e in document["edits"] if e["name"] != "t_o2"]
    with pytest.raises(SessionFileError, match=r"^s\.json: its edits cannot be used: .*add up "
                                               r"to 2 \(from epoch 1 on, with the edits made "
                                               r"there\)$"):
        load_session(json.dumps(document), "s.json")
    document = json.loads(text)
    document["edits"].append(dict(document["edits"][0], value=0.5))
    with pytest.raises(SessionFileError, match="changes a value twice in one epoch"):
        load_session(json.dumps(document), "s.json")


def test_an_edit_is_checked_at_every_epoch_its_later_edits_reach() -> None:
    """Edits of later epochs stay when an earlier one changes: switching the loss back to
    cross-entropy at epoch 1 is refused when epoch 3's edited targets would not add up."""
    session = Session(load_preset("softmax-ce"))
    session.edit("loss", "half_sse")
    session.next_epoch()
    session.next_epoch()
    assert session.epoch == 3 and session.edit("t_o1", 1.0)
    while session.epoch > 1:
        session.prev_epoch()
    refused(session, "loss", "cross_entropy",
            "these add up to 2 (from epoch 3 on, with the edits made there)")
