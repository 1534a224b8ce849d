"""`exercises`: a network, worksheet and key per student, drawn from a seed, and keys.csv."""

from __future__ import annotations

import csv
import pathlib
import re
import subprocess
from datetime import UTC, datetime

import pytest
from backprop_tui import cli
from backprop_tui.export import exercises, worksheet
from backprop_tui.netfile import Source, load_given, parse_given
from backprop_tui.presets import preset_given
from backprop_tui.session.session import Session
from test_cli import ENV, PROG, one_line_error, records, run

NOW = datetime(2025, 3, 17, 12, 0, tzinfo=UTC)
KEY_ROW = re.compile(r"^\| (\d+) \| \$(.+)\$ \| (\S+) \|$")


def make(folder: pathlib.Path, *argv: str) -> int:
    return cli.main(["exercises", "-o", str(folder), *argv])


@pytest.fixture(scope="module")
def mazur_set(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("set") / "class"
    assert make(folder, "--students", "3", "--seed", "5") == 0
    return folder


def files(folder: pathlib.Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def student_session(path: pathlib.Path, epochs: int) -> Session:
    text = path.read_text(encoding="utf-8")
    session = Session(parse_given(text, path.name).network(),
                      source=Source("file", path.name, text))
    while session.epoch < epochs and session.next_epoch():
        pass
    session.last()
    return session


def test_same_seed_writes_the_same_bytes(tmp_path, capsys):
    assert make(tmp_path / "a", "--students", "3", "--seed", "5") == 0
    assert make(tmp_path / "c", "--students", "3", "--seed", "6") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "11 files for 3 students (seed 5)" in out
    # again in another process, whose str hashes (set and dict orders) differ
    done = subprocess.run([*PROG, "exercises", "--students", "3", "--seed", "5", "-o",
                           str(tmp_path / "b")], env={**ENV, "PYTHONHASHSEED": "12345"},
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    first, second = files(tmp_path / "a"), files(tmp_path / "b")
    assert list(first) == ["key-01.md", "key-02.md", "key-03.md", "keys.csv", "moodle.xml",
                           "student-01.md", "student-01.toml", "student-02.md",
                           "student-02.toml", "student-03.md", "student-03.toml"]
    assert first == second
    other = files(tmp_path / "c")
    assert other["student-01.toml"] != first["student-01.toml"]
    for data in first.values():  # no time stamp, no machine path
        text = data.decode("utf-8")
        assert str(tmp_path) not in text and "/tmp" not in text
        assert not re.search(r"\d{4}-\d{2}-\d{2}|\d\d:\d\d", text)


@pytest.mark.parametrize(("preset", "epochs"), [("mazur", 1), ("tanh-linear", 2),
                                                ("deep-relu", 1), ("xor-online", 1)])
def test_every_variant_meets_the_rules(tmp_path, preset, epochs):
    folder = tmp_path / "set"
    assert make(folder, "--students", "4", "--seed", "11", "--preset", preset,
                "--epochs", str(epochs)) == 0
    given = preset_given(preset)
    for s in range(1, 5):
        path = folder / f"student-{s:02d}.toml"
        variant = load_given(path)  # it loads as a network file
        # inputs, targets, η and options kept; the numbers drawn, two decimals, in range
        assert (variant.inputs, variant.targets, variant.learning_rate, variant.activations,
                variant.update_order, variant.loss) == (
            given.inputs, given.targets, given.learning_rate, given.activations,
            given.update_order, given.loss)
        drawn = [v for layer in variant.weights for row in layer for v in row]
        drawn += [v for layer in variant.biases for v in layer]
        assert all(-1 <= v <= 1 and round(v * 100) / 100 == v for v in drawn)
        # the first draw that meets the rules, from the seed's digests
        draw = next(d for d in range(exercises.MAX_DRAWS)
                    if exercises.variant_given(given, 11, s, d).weights == variant.weights)
        assert exercises.variant_given(given, 11, s, draw).biases == variant.biases
        for earlier in range(draw):
            tried = exercises.variant_given(given, 11, s, earlier)
            session = Session(tried.network())
            while session.epoch < epochs and session.next_epoch():
                pass
            assert exercises.broken(session, epochs), (s, earlier)
        # the rules, read again from the student's own steps
        session = student_session(path, epochs)
        exempt = 0
        for epoch in range(1, epochs + 1):
            steps = session.past_steps(epoch)
            for step in steps:
                if step.kind == "slope":
                    assert step.value > exercises.MIN_SLOPE, (s, step.key)
                if step.kind in ("grad_w", "grad_b") and abs(step.value) < exercises.MIN_GRADIENT:
                    # only δ·i with a given input i of 0 (XOR's examples), which no draw changes
                    source = steps[steps.keys[step.uses[1]] - 1]
                    assert source.kind == "dnet_dw" and source.uses[0].startswith("i")
                    assert source.value == 0 == step.value, (s, step.key)
                    exempt += 1
        # XOR's four examples hold four inputs of 0, each feeding two hidden units
        assert exempt == (8 if preset == "xor-online" else 0)


def test_a_value_comes_from_the_digest_of_seed_student_and_name():
    import hashlib

    digest = hashlib.sha256(b"5/2/0/w3").digest()
    expected = (int.from_bytes(digest[:8], "big") % 201 - 100) / 100
    assert exercises.drawn(5, 2, 0, "w3") == expected
    assert {exercises.drawn(5, 2, d, "w3") for d in range(50)} != {expected}


def test_every_key_value_equals_the_export_of_the_students_file(mazur_set, capsys):
    rows = list(csv.DictReader((mazur_set / "keys.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["student", "epoch", "step", "name", "value"]
    for s in range(1, 4):
        name = f"student-{s:02d}"
        status, out, err = run(capsys, "export", "--format", "jsonl", "--config",
                               str(mazur_set / f"{name}.toml"))
        assert (status, err) == (0, "")
        steps = [r for r in records(out) if r["type"] == "step" and r["value"] is not None]
        mine = [r for r in rows if r["student"] == name]
        assert [(int(r["epoch"]), int(r["step"]), r["name"], float(r["value"])) for r in mine] \
            == [(r["epoch"], r["index"], r["key"], r["value"]) for r in steps]
        key = (mazur_set / f"key-{s:02d}.md").read_text(encoding="utf-8")
        table = {(int(m[1]), m[2]): m[3] for line in key.splitlines()
                 if (m := KEY_ROW.match(line))}
        for record in steps:
            assert table[(record["index"], record["symbol_tex"])] == record["value_text"]


@pytest.mark.parametrize(("preset", "epochs"), [("tanh-linear", 2), ("xor", 1),
                                              ("mazur-adam", 2)])
def test_every_key_value_of_other_sets_equals_the_export(tmp_path, capsys, preset, epochs):
    """Several epochs, batches (xor: dE/dw1[1..4]) and an optimiser's state, as above."""
    assert make(tmp_path / "set", "--students", "2", "--preset", preset, "--epochs",
                str(epochs)) == 0
    capsys.readouterr()
    rows = list(csv.DictReader((tmp_path / "set" / "keys.csv").open(encoding="utf-8")))
    for name in ("student-01", "student-02"):
        status, out, err = run(capsys, "export", "--format", "jsonl", "--epochs", str(epochs),
                               "--config", str(tmp_path / "set" / f"{name}.toml"))
        assert (status, err) == (0, "")
        steps = [r for r in records(out) if r["type"] == "step" and r["value"] is not None]
        assert [(int(r["epoch"]), int(r["step"]), r["name"], float(r["value"]))
                for r in rows if r["student"] == name] == [
            (r["epoch"], r["index"], r["key"], r["value"]) for r in steps]
    assert not any(r["value"] == "-0.0" for r in rows)


def test_the_worksheet_is_export_quiz_without_its_key(mazur_set):
    session = student_session(mazur_set / "student-02.toml", 1)
    whole = "".join(worksheet.render(session, NOW))
    questions, key = whole.split("---\n\n# Answer key\n\n")
    sheet = (mazur_set / "student-02.md").read_text(encoding="utf-8")
    assert sheet == questions.replace(worksheet.KEY_FOLLOWS, "")
    assert "Answer key" not in sheet and "answer key follows" not in sheet
    assert (mazur_set / "key-02.md").read_text(encoding="utf-8") == (
        "# backprop-tui worksheet: answer key\n\n" + key)
    assert "- **Network:** the file student-02.toml" in sheet


@pytest.mark.parametrize(("network", "rule"), [
    ("--preset=softmax-ce", "the gradient rule"),  # its shared output bias: Σδ = 0
    ("huge-inputs", "the saturation rule"),  # net = 1000·(w1 + w2) + b: w2 = −w1 for all 3
])
def test_an_impossible_rule_exits_2_naming_it(tmp_path, capsys, network, rule):
    if network == "huge-inputs":
        path = tmp_path / "huge.toml"
        path.write_text(_HUGE_INPUTS, encoding="utf-8")
        network = f"--config={path}"
    folder = tmp_path / "set"
    status, out, err = run(capsys, "exercises", "--students", "2", network, "-o", str(folder))
    line = one_line_error(err)
    assert status == 2 and out == ""
    assert f"student 1: none of 1,000 draws met {rule} (" in line
    assert "last broken at d" in line
    assert not folder.exists()  # nothing written


_HUGE_INPUTS = """\
learning_rate = 0.5
inputs = [1000.0, 1000.0]
targets = [0.01, 0.99]

[[layer]]
weights = [[0.15, 0.20], [0.25, 0.30], [0.35, 0.40]]
bias = 0.35
activation = "sigmoid"

[[layer]]
weights = [[0.40, 0.45, 0.50], [0.55, 0.60, 0.65]]
bias = 0.60
activation = "sigmoid"
"""


def test_bad_inputs_are_one_line_exit_2(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine\n")
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    cases = [
        (["--students", "0", "-o", str(tmp_path / "a")], "expected 1 to 999, got '0'"),
        (["--students", "x", "-o", str(tmp_path / "a")], "expected a whole number"),
        (["--students", "2", "-o", str(full)], "the folder is not empty; use --force"),
        (["--students", "2", "-o", str(afile)], "is not a folder"),
        (["--students", "2", "-o", str(tmp_path / "no" / "such")], "does not exist"),
        (["--students", "2", "-o", ""], "the output folder is empty"),
        (["--students", "2", "--seed", "-1", "-o", str(tmp_path / "a")], "expected 0 to"),
        (["--students", "2", "--tolerance", "2", "-o", str(tmp_path / "a")],
         "the tolerance must be above 0 and below 1"),
        (["--students", "2"], "the following arguments are required: -o/--output"),
        (["--students", "2", "-o", "-"], "-o -: the set is several files"),
        (["--students", "2", "--epochs", "21", "-o", str(tmp_path / "a")],
         "exercises --epochs: at most 20"),
    ]
    for argv, message in cases:
        status, out, err = run(capsys, "exercises", *argv)
        assert (status, out) == (2, ""), argv
        assert message in one_line_error(err), (argv, err)
    assert (full / "notes.txt").read_text() == "mine\n" and len(list(full.iterdir())) == 1
    assert not (tmp_path / "a").exists()
    status, out, err = run(capsys, "--tolerance", "0.01", "exercises", "--students", "1",
                           "-o", str(tmp_path / "a"))
    assert status == 2 and "give --tolerance after exercises" in one_line_error(err)


def test_force_writes_into_a_folder_that_is_not_empty(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine\n")
    status, out, err = run(capsys, "exercises", "--students", "1", "-o", str(full), "--force")
    assert (status, err) == (0, "")
    assert sorted(p.name for p in full.iterdir()) == [
        "key-01.md", "keys.csv", "moodle.xml", "notes.txt", "student-01.md",
        "student-01.toml"]
    assert not [p for p in full.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_draws_that_break_one_rule_or_another_are_counted(monkeypatch):
    """When no rule was broken by every draw, the line says how many draws broke each."""
    calls = iter(range(10_000))

    def alternating(session, epochs):
        return ({exercises.SATURATION: "dout_h1/dnet_h1"} if next(calls) % 2
                else {exercises.GRADIENT: "dE/dw1"})

    monkeypatch.setattr(exercises, "broken", alternating)
    with pytest.raises(exercises.Impossible) as raised:
        exercises.variant(preset_given("mazur"), 0, 1, 1, 2)
    assert str(raised.value) == ("student 1: none of 1,000 draws met every rule (the "
                                 "saturation rule by 500, the gradient rule by 500)")


def test_a_target_that_is_no_file_refuses_the_set_before_any_file_is_written(tmp_path,
                                                                              capsys):
    folder = tmp_path / "class"
    (folder / "keys.csv").mkdir(parents=True)
    status, out, err = run(capsys, "exercises", "--students", "2", "--force", "-o",
                           str(folder))
    assert (status, out) == (2, "")
    assert "keys.csv: is not a file; the set writes it" in one_line_error(err)
    assert [p.name for p in folder.iterdir()] == ["keys.csv"]


def test_a_learning_rate_that_saturates_the_units_is_named(tmp_path, capsys):
    """After one update of η = 1e300 every unit saturates: the rule and a cause that fits."""
    network = tmp_path / "fast.toml"
    assert cli.main(["new-config", "--preset", "mazur", "-o", str(network)]) == 0
    network.write_text(network.read_text().replace("learning_rate = 0.5",
                                                   "learning_rate = 1e300"))
    status, out, err = run(capsys, "exercises", "--students", "1", "--epochs", "3",
                           "--config", str(network), "-o", str(tmp_path / "class"))
    line = one_line_error(err)
    assert status == 2 and "none of 1,000 draws met the saturation rule" in line, line
    assert "a learning rate large enough to saturate the units" in line
    assert "softmax" not in line
