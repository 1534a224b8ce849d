"""The command line: the headless `export` and `train` commands, their errors and exits.

Most tests call `main([...])` in-process; the few that need a real process (a pipe closed by
`head`, ctrl+c, which modules get imported, `python -m`) start one.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest
from backprop_tui import __version__, cli
from backprop_tui.cli import main
from backprop_tui.engine import fastpath
from backprop_tui.netfile import parse_network
from backprop_tui.presets import preset_text
from networks import DIVERGING

REPO = pathlib.Path(__file__).parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "tui")}
PROG = [sys.executable, "-m", "backprop_tui"]

MAZUR_LOSS = 0.298371109  # E_total before the first update, as published
MAZUR_DE_DW5 = 0.082167041

STEP_FIELDS = {
    "type", "epoch", "index", "phase", "key", "symbol", "symbol_tex", "formula",
    "formula_tex", "substituted", "value", "explanation", "uses", "touches",
}

# 3 inputs, 2 tanh hidden units with a bias each, 1 linear output, mse, biases updated.
CUSTOM = """\
learning_rate = 0.1
loss = "mse"
update_biases = true
inputs = [0.5, -1.0, 2.0]
targets = [0.25]

[[layer]]
weights = [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
bias = [0.1, -0.2]
activation = "tanh"

[[layer]]
weights = [[0.7, -0.8]]
bias = 0.05
activation = "linear"
"""

DIVERGED = re.compile(r"diverged at epoch (\d+), step (\d+) \((\S+) = (\S+)\)$")



def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def records(text: str) -> list[dict]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def export(capsys, *argv: str) -> list[dict]:
    """The JSON-lines log after its header record (checked here)."""
    status, out, err = run(capsys, "export", *argv)
    assert (status, err) == (0, "")
    head, *lines = records(out)
    assert head["type"] == "header" and head["schema"] == "backprop-tui/session"
    return lines


def train(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, "train", *argv)
    assert (status, err) == (0, "")
    assert out.count("\n") == 1
    return json.loads(out)


def epochs_of(lines: list[dict]) -> list[dict]:
    return [r for r in lines if r["type"] == "epoch"]


def close(a, b, rel: float = 1e-12) -> bool:
    """Nested lists of numbers equal in shape, and in value to ``rel`` relative."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(close(x, y, rel) for x, y in zip(a, b)))
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def one_line_error(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    assert err.startswith("backprop-tui: "), err
    return err.rstrip("\n")


@pytest.fixture
def custom(tmp_path) -> str:
    path = tmp_path / "custom.toml"
    path.write_text(CUSTOM, encoding="utf-8")
    return str(path)


@pytest.fixture
def diverging(tmp_path) -> str:
    path = tmp_path / "diverging.toml"
    path.write_text(DIVERGING, encoding="utf-8")
    return str(path)


# --- version and help ---------------------------------------------------------------------

def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code in (0, None)
    assert capsys.readouterr().out == f"backprop-tui {__version__}\n"
    assert __version__ == "0.1.0"


@pytest.mark.parametrize(("argv", "options"), [
    ([], ["--version", "--preset", "--config", "export", "train"]),
    (["export"], ["--format", "--preset", "--config", "--epochs", "--output", "--force"]),
    (["train"], ["--epochs", "--preset", "--config"]),
])
def test_help(capsys, argv, options):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith("usage: backprop-tui")
    for option in options:
        assert option in out


# --- export -------------------------------------------------------------------------------

def test_export_default_is_one_epoch_of_mazur(capsys):
    lines = export(capsys)
    assert [r["type"] for r in lines] == ["step"] * 55 + ["epoch"]
    steps, (epoch,) = lines[:-1], lines[-1:]
    for step in steps:
        assert STEP_FIELDS <= step.keys()
        assert step["epoch"] == 1
        assert isinstance(step["uses"], list) and isinstance(step["touches"], list)
    assert [s["index"] for s in steps] == list(range(1, 56))
    assert steps[0]["key"] == "net_h1" and steps[0]["value"] == pytest.approx(0.3775)
    assert len({s["key"] for s in steps}) == 55

    assert epoch["epoch"] == 1
    assert epoch["loss"] == pytest.approx(MAZUR_LOSS, abs=1e-9)
    weights = epoch["weights"]
    assert len(weights) == 2 and all(len(w) == 2 and all(len(r) == 2 for r in w)
                                     for w in weights)
    assert epoch["biases"] == [0.35, 0.6]  # update_biases is false in the tutorial
    assert epoch["state"] is None  # sgd keeps no state
    gradients = epoch["gradients"]
    assert gradients.keys() == {"weights", "biases"}
    assert gradients["weights"][1][0][0] == pytest.approx(MAZUR_DE_DW5, abs=1e-9)
    # the step that computes dE/dw5 says the same
    (dw5,) = [s for s in steps if s["key"] == "dE/dw5"]
    assert dw5["value"] == gradients["weights"][1][0][0]


def test_export_preset_flag_is_the_default(capsys):
    assert export(capsys, "--preset", "mazur") == export(capsys)


def test_export_three_epochs_chain(capsys):
    lines = export(capsys, "--epochs", "3")
    epochs = epochs_of(lines)
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert lines[-1]["type"] == "epoch"
    assert len(lines) == 3 * 56
    for before, after in zip(epochs, epochs[1:]):
        assert close(after["loss"], before["loss_after"])
    assert epochs[0]["loss"] > epochs[1]["loss"] > epochs[2]["loss"]
    assert [s["epoch"] for s in lines if s["type"] == "step"] == [1] * 55 + [2] * 55 + [3] * 55


def test_train_agrees_with_export(capsys):
    trained = train(capsys, "--epochs", "5")
    exported = epochs_of(export(capsys, "--epochs", "6"))
    assert trained["epochs"] == 5
    assert close(trained["weights"], exported[4]["weights"])
    assert close(trained["biases"], exported[4]["biases"])
    assert trained["state"] is None and exported[4]["state"] is None
    assert close(trained["loss_final"], exported[5]["loss"])
    assert close(trained["loss_final"], exported[4]["loss_after"])
    assert close(trained["loss_initial"], exported[0]["loss"])
    assert trained["loss_initial"] == pytest.approx(MAZUR_LOSS, abs=1e-9)


def test_export_custom_network_file(capsys, custom):
    lines = export(capsys, "--config", custom, "--epochs", "2")
    steps = [r for r in lines if r["type"] == "step"]
    keys = [s["key"] for s in steps if s["epoch"] == 1]
    for key in ("dE/db1.1", "dE/db1.2", "dE/db2", "b1.1+", "b1.2+", "b2+"):
        assert key in keys
    kinds = {s["key"]: s["kind"] for s in steps}
    assert kinds["dE/db1.1"] == "grad_b" and kinds["b1.1+"] == "new_b"
    assert all(STEP_FIELDS <= s.keys() for s in steps)
    epochs = epochs_of(lines)
    assert [e["epoch"] for e in epochs] == [1, 2]
    first = epochs[0]
    assert len(first["weights"]) == 2
    assert [len(r) for r in first["weights"][0]] == [3, 3]
    assert [len(r) for r in first["weights"][1]] == [2]
    # per-unit hidden biases are a list, the output's shared bias one number; both updated
    hidden, output = first["biases"]
    assert len(hidden) == 2 and isinstance(output, float)
    assert not close(hidden, [0.1, -0.2]) and output != 0.05
    new_b = {s["key"]: s["value"] for s in steps if s["epoch"] == 1 and s["kind"] == "new_b"}
    assert close([new_b["b1.1+"], new_b["b1.2+"]], hidden)
    assert close(new_b["b2+"], output)
    # train reads the same file to the same numbers
    trained = train(capsys, "--config", custom, "--epochs", "2")
    assert close(trained["weights"], epochs[1]["weights"])
    assert close(trained["biases"], epochs[1]["biases"])


def test_export_to_file(capsys, tmp_path):
    target = tmp_path / "log.jsonl"
    status, out, err = run(capsys, "export", "-o", str(target))
    assert (status, out, err) == (0, "", "")
    assert records(target.read_text(encoding="utf-8"))[1:] == export(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["log.jsonl"]  # no temporary left behind


def test_force_replaces_an_existing_file(capsys, tmp_path):
    target = tmp_path / "log.jsonl"
    target.write_text("old\n", encoding="utf-8")
    status, out, err = run(capsys, "export", "-o", str(target), "--force")
    assert (status, out, err) == (0, "", "")
    assert len(records(target.read_text(encoding="utf-8"))) == 57  # header, 55 steps, epoch
    assert [p.name for p in tmp_path.iterdir()] == ["log.jsonl"]


def test_the_network_file_guide_gives_the_optimisers_options(capsys):
    """new-config's guide: each optimiser, each of their keys, and the defaults a file
    without them gets."""
    status, guide, _ = run(capsys, "new-config")
    assert status == 0
    keys = re.findall(r"^#   (\w+(?:, \w+)*) {2,}", guide, flags=re.MULTILINE)
    assert {"optimizer", "momentum", "beta1, beta2", "epsilon"} <= set(keys)
    optimizer = guide[guide.index("#   optimizer"):guide.index("#   momentum")]
    assert all(f'"{name}"' in optimizer for name in ("sgd", "momentum", "nesterov", "adam"))
    for name in ("nesterov", "adam"):  # no option given: the defaults the guide states
        text = preset_text("mazur").replace('update_order = "after_backward"',
                                            f'optimizer = "{name}"')
        network = parse_network(text, "net.toml")
        if name == "adam":
            assert f"defaults {network.beta1!r} and {network.beta2!r}" in guide
            assert f"default {network.epsilon!r}" in guide
        else:
            assert f"default {network.momentum!r}" in guide


# --- bad input: exit 2 and one line -------------------------------------------------------

def bad(capsys, *argv: str) -> str:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    return one_line_error(err)


@pytest.mark.parametrize("command", [["export"], ["train", "--epochs", "1"]])
def test_unknown_preset(capsys, command):
    assert "no preset named 'nope'" in bad(capsys, *command, "--preset", "nope")


@pytest.mark.parametrize("command", [["export"], ["train", "--epochs", "1"]])
def test_missing_config(capsys, tmp_path, command):
    missing = str(tmp_path / "missing.toml")
    assert missing in bad(capsys, *command, "--config", missing)


def test_malformed_toml_names_the_line(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("inputs = [1, 2]\ntargets = [1]\nlearning rate = 0.5\n", encoding="utf-8")
    message = bad(capsys, "export", "--config", str(path))
    assert str(path) in message
    assert "invalid TOML" in message and "line 3" in message


def test_invalid_network_file(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CUSTOM.replace('"tanh"', '"tanhh"'), encoding="utf-8")
    message = bad(capsys, "train", "--epochs", "1", "--config", str(path))
    assert "layer 1, key 'activation'" in message


@pytest.mark.parametrize("command", ["export", "train"])
@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5"])
def test_bad_epochs(capsys, command, value):
    assert "--epochs" in bad(capsys, command, "--epochs", value)


@pytest.mark.parametrize("argv", [
    ["--bogus"], ["export", "--bogus"], ["train", "--epochs", "1", "--bogus"], ["frobnicate"],
])
def test_unknown_flag_or_command(capsys, argv):
    bad(capsys, *argv)


@pytest.mark.parametrize("command", [[], ["export"], ["train", "--epochs", "1"]])
def test_preset_and_config_together(capsys, custom, command):
    message = bad(capsys, *command, "--preset", "mazur", "--config", custom)
    assert "not allowed" in message


def test_train_needs_epochs(capsys):
    assert "--epochs" in bad(capsys, "train")


def test_unknown_format(capsys):
    assert "xml" in bad(capsys, "export", "--format", "xml")


def test_output_into_missing_folder(capsys, tmp_path):
    target = tmp_path / "nowhere" / "log.jsonl"
    assert "does not exist" in bad(capsys, "export", "-o", str(target))
    assert not target.parent.exists()


def test_output_existing_file_needs_force(capsys, tmp_path):
    target = tmp_path / "log.jsonl"
    target.write_text("keep me\n", encoding="utf-8")
    assert "--force" in bad(capsys, "export", "-o", str(target))
    assert target.read_text(encoding="utf-8") == "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.jsonl"]


def test_output_is_a_folder(capsys, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "folder" in bad(capsys, "export", "-o", str(folder), "--force")
    assert list(folder.iterdir()) == []


def test_global_config_before_the_command_is_used(capsys, diverging):
    # The top-level parser accepts --preset/--config, but the subcommand's own defaults
    # (None) overwrite them: `--config f train` trains mazur and exits 0.
    status, _, err = run(capsys, "--config", diverging, "train", "--epochs", "50")
    assert status == 3, "the file's network diverges; mazur was trained instead"


def test_global_unknown_preset_before_the_command(capsys):
    assert "no preset named 'nope'" in bad(capsys, "--preset", "nope", "train", "--epochs", "1")


# --- divergence: exit 3 -------------------------------------------------------------------

def test_train_divergence(capsys, diverging):
    status, out, err = run(capsys, "train", "--epochs", "50", "--config", diverging)
    assert (status, out) == (3, "")
    match = DIVERGED.search(one_line_error(err))
    assert match, err
    epoch, step = int(match[1]), int(match[2])
    assert 1 < epoch <= 6 and step >= 1
    assert not math.isfinite(float(match[4]))


def test_export_divergence(capsys, diverging):
    train_status, _, train_err = run(capsys, "train", "--epochs", "50", "--config", diverging)
    assert train_status == 3
    status, out, err = run(capsys, "export", "--epochs", "50", "--config", diverging)
    assert status == 3
    message = one_line_error(err)
    match = DIVERGED.search(message)
    assert match, err
    assert DIVERGED.search(train_err.rstrip("\n"))[0] == match[0]  # same epoch, step, value
    epoch, step, key = int(match[1]), int(match[2]), match[3]

    head, *lines = records(out)
    assert head["type"] == "header"
    epochs = epochs_of(lines)
    assert [e["epoch"] for e in epochs] == list(range(1, epoch))  # completed epochs only
    assert lines[-1]["type"] == "step"
    last = [r for r in lines if r["type"] == "step" and r["epoch"] == epoch]
    assert [s["index"] for s in last] == list(range(1, step))  # up to the non-finite step
    assert key not in {s["key"] for s in last}
    for record in lines:
        if record["type"] == "step":
            assert record["value"] is None or math.isfinite(record["value"])
            assert all(math.isfinite(x) for x in record["operands"])
        else:
            assert math.isfinite(record["loss"]) and math.isfinite(record["loss_after"])


def test_export_divergence_to_file(capsys, diverging, tmp_path):
    target = tmp_path / "log.jsonl"
    status, out, err = run(capsys, "export", "--epochs", "50", "--config", diverging,
                           "-o", str(target))
    assert (status, out) == (3, "")
    assert DIVERGED.search(one_line_error(err))
    _, expected, _ = run(capsys, "export", "--epochs", "50", "--config", diverging)
    # the same log apart from the header, which holds the export time
    assert target.read_text(encoding="utf-8").split("\n")[1:] == expected.split("\n")[1:]


# --- real processes -----------------------------------------------------------------------

def test_pipe_into_head_is_quiet():
    command = f"{' '.join(map(str, PROG))} export --epochs 200 | head -n 1"
    done = subprocess.run(["bash", "-c", command], env=ENV, capture_output=True, text=True,
                          timeout=30)
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1
    assert json.loads(done.stdout)["type"] == "header"


def test_a_closed_pipe_exits_141():
    """`head` closing the pipe ends the export by SIGPIPE: status 128 + 13, nothing on stderr."""
    command = (f"{' '.join(map(str, PROG))} export --epochs 200 | head -n 1 >/dev/null; "
               "echo ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], env=ENV, capture_output=True, text=True,
                          timeout=30)
    assert (done.stdout, done.stderr) == ("141\n", "")


def test_a_worksheet_cut_off_by_a_closed_pipe_leaves_no_temporary_file(tmp_path):
    """SIGPIPE kills the process outright, with no clean-up: the answer key's temporary file
    has no name by then to leave behind."""
    command = (f"{' '.join(map(str, PROG))} export --quiz --epochs 30 | head -c 100 "
               ">/dev/null; echo ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], env={**ENV, "TMPDIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert (done.stdout, done.stderr) == ("141\n", "")
    assert list(tmp_path.iterdir()) == []


def test_readme_shows_a_step_record_as_export_writes_it(capsys):
    """The README's "Each step" leads to a step record with the fields and numbers of the
    export's own record of that step."""
    readme = (REPO / "README.md").read_text("utf-8")
    start = readme.index("```json\n", readme.index("Each step is one record")) + len("```json\n")
    shown = json.loads(readme[start:readme.index("```", start)])
    written = export(capsys)[shown["index"] - 1]
    assert shown.keys() == written.keys()
    assert {key: value for key, value in shown.items() if "…" not in str(value)} == {
        key: written[key] for key in shown if "…" not in str(shown[key])}


def test_readme_lists_every_exit_status():
    """The README's exit statuses of the headless commands: each one the code gives."""
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme[readme.index("**Exit status**"):readme.index("## Your own numbers")]
    listed = {int(status) for status in re.findall(r"`(\d+)`", section)}
    assert listed == {0, 1, 2, 3, 129, 130, 141, 143}


def _numpy_loaded(pid: int) -> bool:
    """Whether the process has loaded numpy: `train` does that inside main(), where ctrl+c
    is handled (before it, Python itself is still starting)."""
    try:
        return "_multiarray_umath" in pathlib.Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def as_from_a_terminal(ignored: bool = False) -> None:
    """In the child, before the program starts: ctrl+c acts (``ignored``: it does not), as
    started from a terminal, however this test run was (a shell's background job has it
    ignored, and a program keeps it so)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.SIG_DFL)


def test_ctrl_c_exits_130():
    process = subprocess.Popen([*PROG, "train", "--epochs", "100000000"], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 60  # only a bound against a hang, not a time limit
    try:
        while not _numpy_loaded(process.pid):  # however long starting takes on this machine
            assert process.poll() is None, "train finished before it could be interrupted"
            assert time.monotonic() < deadline, "train never got to its epochs"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err[-800:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert out == ""


class _LostInACleanUp:
    """An interrupt that arrives as an import cleans up is raised in a weakref callback,
    where Python ignores it: this object raises one in the same kind of place."""

    def __init__(self, interrupt: BaseException) -> None:
        self.interrupt = interrupt

    def __del__(self) -> None:
        raise self.interrupt


@pytest.mark.parametrize(("interrupt", "status"), [
    (KeyboardInterrupt(), 130), (cli._Signalled(signal.SIGTERM), 143)], ids=["ctrl+c", "TERM"])
def test_an_interrupt_python_ignored_still_stops_the_command(interrupt, status, monkeypatch,
                                                             capsys):
    network, hook, runs = cli._network, sys.unraisablehook, []

    def interrupted_while_loading(args):
        _LostInACleanUp(interrupt)
        return network(args)

    monkeypatch.setattr(cli, "_network", interrupted_while_loading)
    monkeypatch.setattr(fastpath, "run_epochs", lambda *args, **options: runs.append(args))
    assert main(["train", "--epochs", "2000"]) == status
    assert runs == []  # not one epoch is run
    assert capsys.readouterr() == ("", "")
    assert cli._lost == [] and sys.unraisablehook is hook  # nothing kept for the next run


def test_an_interrupt_lost_as_the_app_loads_does_not_open_it(monkeypatch, capsys, tmp_path):
    from backprop_tui.app.app import BackpropApp

    opened, preferred = [], cli._preferred

    def interrupted_while_loading(*args):
        _LostInACleanUp(KeyboardInterrupt())
        return preferred(*args)

    monkeypatch.setattr(cli, "_preferred", interrupted_while_loading)
    monkeypatch.setattr(BackpropApp, "run", lambda app, *a, **k: opened.append(app))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert main([]) == 130
    assert opened == [] and capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []  # no state folder claimed


def test_an_interrupt_lost_between_epochs_stops_them(monkeypatch, capsys):
    """Lost where the epochs run: raised between chunks of them (of 1,000 each)."""
    run_epochs = fastpath.run_epochs

    def interrupted_while_running(*args, **options):
        _LostInACleanUp(KeyboardInterrupt())
        return run_epochs(*args, **options)

    monkeypatch.setattr(fastpath, "run_epochs", interrupted_while_running)
    assert main(["train", "--epochs", "5000"]) == 130
    assert capsys.readouterr() == ("", "")


INTERRUPT_AS_IT_LOADS = """
import os, signal, sys

class Interrupt:  # ctrl+c as a module starts to load, as a quick one comes
    def find_spec(self, name, path=None, target=None):
        if name in {"backprop_tui.cli", "backprop_tui.engine.fastpath"}:
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
"""

HOW = pytest.mark.parametrize("how", ["python -m", "backprop-tui"])


def interrupted_as_it_loads(how: str, folder: pathlib.Path,
                            ignored: bool = False) -> subprocess.CompletedProcess[str]:
    """`train --epochs 3` sent ctrl+c as the command line is imported, and again as the
    epochs' module is (``ignored``: started with ctrl+c ignored, as a script's background
    job is)."""
    (folder / "sitecustomize.py").write_text(INTERRUPT_AS_IT_LOADS)
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(folder), ENV["PYTHONPATH"]])}
    command = PROG if how == "python -m" else [str(pathlib.Path(sys.executable).with_name(
        "backprop-tui"))]  # the console script, as installed beside this Python
    return subprocess.run(
        [*command, "train", "--epochs", "3"], env=env, capture_output=True, text=True,
        timeout=30,
        preexec_fn=lambda: as_from_a_terminal(ignored))


@HOW
def test_a_ctrl_c_as_the_program_loads_ends_it_quietly(how, tmp_path):
    done = interrupted_as_it_loads(how, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")


@HOW
def test_a_program_started_with_ctrl_c_ignored_keeps_it_ignored(how, tmp_path):
    done = interrupted_as_it_loads(how, tmp_path, ignored=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["epochs"] == 3


def test_headless_commands_do_not_import_textual(tmp_path):
    target = tmp_path / "log.jsonl"
    script = (
        "import sys; from backprop_tui.cli import main; "
        "assert main(['train','--epochs','3']) == 0; "
        f"assert main(['export','--epochs','1','-o', {str(target)!r}]) == 0; "
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(records(target.read_text(encoding="utf-8"))) == 57  # header, 55 steps, epoch


def test_python_dash_m_version():
    done = subprocess.run([*PROG, "--version"], env=ENV, capture_output=True, text=True,
                          timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"backprop-tui {__version__}\n", "")


def test_python_dash_m_error_exit_status():
    done = subprocess.run([*PROG, "export", "--epochs", "0"], env=ENV, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and done.stdout == ""
    one_line_error(done.stderr)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "-o", "a" * 300 + "/x"], "File name too long"),
        (["train", "--epochs", "1", "--config", "a\x00b"], "embedded null byte"),
        (["train", "--epochs", "1", "--config", ""], "--config needs the path"),
        (["export", "-o", ""], "the output path is empty"),
        (["export", "-o", "/dev/null", "--force"], "is not a regular file"),
    ],
)
def test_odd_paths_get_one_line(capsys, argv: list[str], says: str) -> None:
    assert says in bad(capsys, *argv)


@pytest.mark.parametrize("command", [["export"], ["train", "--epochs", "1"]])
def test_a_full_standard_output_gets_one_line(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "backprop_tui", *command], env=ENV,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 2
    assert one_line_error(done.stderr).endswith("No space left on device")


def test_force_through_a_symbolic_link_replaces_the_file_and_keeps_the_link(
        capsys, tmp_path: pathlib.Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert run(capsys, "export", "-o", str(link), "--force")[0] == 0
    assert link.is_symlink() and records(real.read_text())[1]["key"] == "net_h1"


def test_an_unknown_theme_is_refused_before_the_screen_opens(capsys) -> None:
    message = bad(capsys, "--theme", "no-such-theme")
    assert "no theme named 'no-such-theme'" in message and "textual-dark" in message


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "1", "--config", "/tmp/no such\ndir/net.toml"],
    ["export", "-o", "/tmp/no such\ndir/log.md"],
])
def test_a_newline_in_a_path_still_gives_one_line(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such\\ndir" in err


def test_train_reports_a_divergence_in_the_last_epochs_error_after(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One epoch whose updates blow up: the error after them is not finite, so train says
    where (exit 3), as export does, instead of printing Infinity (not JSON)."""
    path = tmp_path / "wild.toml"
    path.write_text(preset_text("mazur").split("\n# The post's numbers")[0]
                    .replace("learning_rate = 0.5", "learning_rate = 1e200")
                    .replace('"sigmoid"', '"linear"'))
    assert main(["train", "--epochs", "1", "--config", str(path)]) == 3
    out, err = capsys.readouterr()
    assert out == "" and err == "backprop-tui: diverged at epoch 1, step 55 (E_total+ = inf)\n"
