"""Hostile input and shared state (issue 12): one test per finding, numbered as filed.

Each attack is the one that lost data, crashed, hung or leaked before; the test checks what
happens now: the data kept, one line and exit 2, a bound, a terminal left alone. Where a real
process is the point (a lock between two apps, a redirect, a signal, a full disk, a memory
limit), one is started; everything else runs in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import random
import re
import resource
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from apptools import run, screen_text, settle, submit
from backprop_tui import cli
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.edit import ValueScreen
from backprop_tui.app.screens.fastforward import parse_epochs
from backprop_tui.app.screens.goto import GoToScreen
from backprop_tui.cli import main
from backprop_tui.engine.fastpath import run_epochs
from backprop_tui.netfile import NetworkFileError, Source, parse_network
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session import autosave, persist, timeline
from backprop_tui.session.persist import SessionFileError, dump_session, load_session
from backprop_tui.session.quiz import parse_answer
from backprop_tui.session.session import Session
from backprop_tui.steps.names import UnknownName, resolve
from textual.pilot import Pilot
from textual.widgets import Input, Label

TUI = pathlib.Path(__file__).resolve().parents[1] / "tui"
ENV = {**os.environ, "PYTHONPATH": str(TUI)}
PROG = [sys.executable, "-m", "backprop_tui"]
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)



def one_line(text: str) -> str:
    assert text and len(text.rstrip("\n").splitlines()) == 1, text[:500]
    assert "Traceback" not in text
    return text.rstrip("\n")


def refused(capsys, argv: list[str]) -> str:
    """The one line on standard error of a command that must exit 2."""
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err[:500]
    return one_line(err)


def tutorial() -> Session:
    return Session(load_preset("mazur"), source=Source("preset", "mazur", preset_text("mazur")))


def document(session: Session) -> dict[str, Any]:
    return json.loads("".join(dump_session(session, [], [], NOW)))


def limited(megabytes: int):
    """For a child process: a memory bound, so an unbounded read fails there, not here."""

    def limit() -> None:
        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return limit


# Data loss ------------------------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from backprop_tui.session.autosave import Autosaver, claim
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session

claimed = claim(Path(sys.argv[1]))
session = Session(load_preset("mazur"))
for _ in range(int(sys.argv[2])):
    session.next()
saver = Autosaver(claimed.path, interval=0)
saver.changed(session)
print(claimed.path.name, claimed.busy.name if claimed.busy else "-", flush=True)
sys.stdin.read()  # hold the file until told to go
"""


def test_1_a_second_app_on_the_same_state_folder_saves_to_its_own_file(tmp_path) -> None:
    """Two apps on one state folder: the second is told the first has last-session.json and
    saves elsewhere; each file holds its own app's steps; a killed app lets go of its file."""
    saved = tmp_path / "last-session.json"

    def start(steps: int) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", HOLDER, str(saved), str(steps)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=ENV)

    first = start(30)
    try:
        assert first.stdout is not None and first.stdout.readline().split() == [
            "last-session.json", "-"]
        second = start(10)
        try:
            assert second.stdout is not None and second.stdout.readline().split() == [
                "last-session-2.json", "last-session.json"]
        finally:
            second.kill()
            second.wait()
    finally:
        first.kill()  # as kill -9: the system lets go of the lock
        first.wait()
    assert persist.read_session(str(saved)).index == 30
    assert persist.read_session(str(tmp_path / "last-session-2.json")).index == 10
    again = autosave.claim(saved)
    assert again is not None and again.path == saved and again.busy is None
    again.handle.close()


def test_1_with_every_session_file_taken_the_next_app_saves_nothing(tmp_path, monkeypatch,
                                                                   capsys) -> None:
    """Nine apps hold last-session.json … -9.json: a tenth is told it saves nothing, is not
    offered another's session, and leaves every file as it was."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    saved = autosave.state_path()
    held = [autosave.claim(saved) for _ in range(autosave.INSTANCES)]
    assert [c.path.name for c in held if c] == [p.name for p in autosave.session_files(saved)]
    saved.write_text("the first app's session")
    seen: dict[str, Any] = {}

    def run(app: BackpropApp) -> None:
        seen.update(autosaver=app.autosaver, notice=app._notice, last=app._last)

    monkeypatch.setattr(BackpropApp, "run", run)
    assert main([]) == 0
    assert seen["autosaver"] is None and seen["last"] is None
    assert "9 other backprop-tui apps are running" in seen["notice"]
    assert "saves nothing" in seen["notice"]
    assert saved.read_text() == "the first app's session"
    assert sorted(p.name for p in saved.parent.iterdir() if not p.name.endswith(".lock")) == [
        "last-session.json"]
    for claimed in held:
        claimed.handle.close()


def test_2_starting_fresh_twice_keeps_both_earlier_sessions(tmp_path) -> None:
    """Each fresh start moves the file before it aside; no backup replaces an older one,
    damaged files alike."""
    saved = tmp_path / "last-session.json"
    contents = []
    for steps in (3, 5, 7):
        session = tutorial()
        for _ in range(steps):
            session.next()
        saver = autosave.Autosaver(saved, keep_old=True, interval=0)
        saver.changed(session)
        assert saver.error is None
        contents.append(saved.read_bytes())
    assert (tmp_path / "last-session.previous.json").read_bytes() == contents[1]
    assert (tmp_path / "last-session.previous-2.json").read_bytes() == contents[0]
    for junk in (b"{", b"[]"):
        saved.write_bytes(junk)
        last = autosave.find_last(saved)
        assert last is not None and last.session is None
    assert (tmp_path / "last-session.damaged.json").read_bytes() == b"[]"
    assert (tmp_path / "last-session.damaged-2.json").read_bytes() == b"{"


def test_3_export_to_dev_stdout_appends_to_the_redirect_target(tmp_path) -> None:
    """`export -o /dev/stdout --force >> mylog.txt` adds to mylog.txt, never replaces it."""
    log = tmp_path / "mylog.txt"
    log.write_text("kept line\n")
    inode = log.stat().st_ino
    with open(log, "a") as redirect:
        done = subprocess.run([*PROG, "export", "--format", "txt", "-o", "/dev/stdout",
                               "--force"], stdout=redirect, stderr=subprocess.PIPE,
                              text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    text = log.read_text()
    assert text.startswith("kept line\n") and "E_total" in text
    assert log.stat().st_ino == inode  # the same file, written to, not replaced


def test_4_a_session_too_big_to_resume_is_never_saved(tmp_path, monkeypatch, capsys) -> None:
    """The save and --resume share one cap: what the app writes, the next start reads."""
    session = tutorial()
    session.fast_forward(3)
    size = len("".join(dump_session(session, [], [], NOW)).encode())
    monkeypatch.setattr(persist, "MAX_BYTES", size - 1)
    saved = tmp_path / "last-session.json"
    saved.write_text("earlier")
    saver = autosave.Autosaver(saved, interval=0)
    saver.changed(session)
    assert saver.error is not None and "more than a session file may hold" in saver.error
    assert saved.read_text() == "earlier"
    big = tmp_path / "big.json"  # what a resume keeps (all but the log) is what is capped
    big.write_text(json.dumps({"schema": persist.SCHEMA, "source": " " * size}))
    message = refused(capsys, ["export", "--resume", str(big), "-o", "-"])
    assert f"more than {size - 1:,} bytes" in message


# Crashes --------------------------------------------------------------------------------

MARKUP = ["[/", "[/]", "[@click=app.quit]x[/]", "[b]bold", "[link=x]y", "\\[", "[red"]


def test_5_markup_typed_into_a_prompt_is_shown_as_typed() -> None:
    """`[/` in the edit value prompt (as typed) and the go-to prompt (on Enter) is shown, not
    parsed; `[@click=app.quit]` runs nothing."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_edit()
        await settle(pilot)
        await submit(app, pilot, "w5")
        assert isinstance(app.screen, ValueScreen)
        await pilot.press("left_square_bracket", "slash")
        await settle(pilot)
        assert "[/" in str(app.screen.query_one("#problem", Label).render())
        await pilot.press("escape")
        for typed in MARKUP:
            app.action_goto()
            await settle(pilot)
            assert isinstance(app.screen, GoToScreen)
            await submit(app, pilot, typed)
            assert typed in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
        app.notify("[@click=app.quit]x[/] [/")
        await settle(pilot)
        assert app.is_running and "[@click=app.quit]x[/] [/" in screen_text(app)

    run(script, notifications=True)


def test_6_the_error_curve_of_a_diverging_network_draws() -> None:
    """A linear mse unit at η 10 diverges geometrically, its errors passing 1e300 before they
    overflow: the curve is drawn, linear and log, and says what it leaves off, instead of
    raising OverflowError."""
    text = ('learning_rate = 10\nloss = "mse"\ninputs = [1]\ntargets = [0.5]\n[[layer]]\n'
            'weights = [[0.3]]\nbias = 0.1\nactivation = "linear"\n')
    session = Session(parse_network(text, "diverging.toml"))
    session.fast_forward(1000)
    assert session.diverged

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_toggle_curve()
        for _ in range(2):
            app.action_log_scale()
            app.action_last()
            await settle(pilot)
            assert app.is_running and "left off" in screen_text(app)
            assert max(map(len, re.findall(r"[\d.,e+]+", screen_text(app)))) < 20

    run(script, app=BackpropApp(session))


@pytest.mark.parametrize("argv", [
    ["export", "--to", "²"], ["export", "--to", "٣"], ["export", "--to", "1" * 5000],
])
def test_7_unicode_and_huge_step_numbers_are_refused_in_one_line(argv, capsys) -> None:
    message = refused(capsys, [*argv, "-o", "-"])
    assert "Exceeds" not in message and len(message) < 300


@pytest.mark.parametrize("key", ["²", "1" * 5000, "w5 @ epoch ²", "w5 @ epoch " + "9" * 5000])
def test_7_unicode_and_huge_printed_keys_are_refused_in_one_line(key, tmp_path, capsys) -> None:
    path = tmp_path / "net.toml"
    path.write_text(preset_text("mazur").replace("[printed]", f'[printed]\n"{key}" = 0.5', 1))
    message = refused(capsys, ["check-printed", str(path)])
    assert "Exceeds" not in message and len(message) < 400


def test_7_a_session_with_an_edit_named_activation_superscript_is_kept_aside(
        tmp_path) -> None:
    """It is refused in one line; as last-session.json it is moved aside and the next start
    offers a fresh one, instead of every start crashing."""
    data = document(tutorial())
    data["edits"] = [{"epoch": 1, "name": "activation²", "value": "tanh"}]
    saved = tmp_path / "last-session.json"
    saved.write_text(json.dumps(data))
    with pytest.raises(SessionFileError) as caught:
        persist.read_session(str(saved))
    one_line(str(caught.value))
    last = autosave.find_last(saved)
    assert last is not None and last.session is None and last.kept is not None
    assert not saved.exists() and autosave.find_last(saved) is None


@pytest.mark.parametrize("command", [["check"], ["check-printed"], ["presets"],
                                     ["train", "--epochs", "2"], ["export"]])
def test_8_a_full_standard_output_ends_in_one_line(command) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([*PROG, *command], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=ENV, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "No space left on device" in one_line(done.stderr)


# Hangs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["--config", "/dev/zero", "train", "--epochs", "1"],
    ["check-printed", "/dev/zero"],
    ["export", "--resume", "/dev/zero"],
    ["--config", "/dev/zero"],
    ["--resume", "/dev/zero"],
])
def test_9_an_endless_file_is_refused_after_a_bounded_read(argv) -> None:
    """/dev/zero is read up to the cap and refused; the process has 600 MB to do it in."""
    done = subprocess.run([*PROG, *argv], capture_output=True, text=True, env=ENV,
                          timeout=120, preexec_fn=limited(600))
    assert done.returncode == 2, done.stderr[-500:]
    assert "more than" in one_line(done.stderr) and "bytes" in done.stderr


@pytest.mark.parametrize("bomb", [
    "a" + ".a" * 40_000 + " = 1\n",
    "x = " + "[" * 40_000 + "]" * 40_000 + "\n",
    "x = " + "{a = " * 40_000 + "1" + "}" * 40_000 + "\n",
])
def test_10_a_toml_bomb_is_refused_before_it_is_parsed(bomb) -> None:
    with pytest.raises(NetworkFileError) as caught:
        parse_network(bomb, "bomb.toml")
    message = one_line(str(caught.value))
    assert "nested too deeply" in message or "dotted parts" in message


def _wide(rows_on_their_own_lines: bool) -> str:
    """A 64-64-1 network (the largest layer the README allows), each weight row 64 numbers."""
    row = "[" + ", ".join(f"{(k % 7 - 3) / 10:.1f}" for k in range(64)) + "]"
    join = ",\n  " if rows_on_their_own_lines else ", "
    inputs = "[" + ", ".join("0.5" for _ in range(64)) + "]"
    return (f"inputs = {inputs}\ntargets = [0.5]\n[[layer]]\nweights = [\n  "
            f"{join.join([row] * 64)}\n]\nbias = 0.1\n[[layer]]\nweights = [{row}]\n"
            "bias = 0.1\n")


@pytest.mark.parametrize("text", [
    _wide(True), _wide(False),
    "# the weights were: " + " ".join(f"{k / 10:.1f}" for k in range(70)) + "\n"
    + preset_text("mazur"),
    preset_text("mazur").replace('note = "the post rounds', 'note = "' + "[" * 80 + " rounds"),
], ids=["rows-on-lines", "rows-inline", "numbers-in-a-comment", "brackets-in-a-note"])
def test_10_the_pre_scan_lets_every_valid_file_through(text) -> None:
    """A number's point is no dotted key, a bracket in a string or a comment no nesting."""
    parse_network(text, "valid.toml")


@pytest.mark.parametrize("text", ['x = "' + "a" * 1_000_000, "a" * 1_000_000,
                                  ("1." * 63 + "1 ") * 10_000])
def test_10_the_pre_scan_reads_a_long_line_once(text) -> None:
    """Long runs of key characters (an unterminated string, a huge bare word, chains one
    part short) are scanned in linear time (a backtracking scan took hours here), then
    refused by the parser."""
    with pytest.raises(NetworkFileError):
        parse_network(text, "long.toml")


def test_11_a_resume_far_into_training_starts_from_its_checkpoint(monkeypatch) -> None:
    """A session at epoch 5,001 carries the network of its cursor's epoch: resuming runs no
    epochs; a document claiming epoch 10^8 without one is refused, not recomputed."""
    session = tutorial()
    session.fast_forward(5000)
    session.next()
    data = document(session)
    del data["checkpoints"], data["history"]
    data["version"] = 1  # as version 1 wrote it (test_resume_starts: version 2's)
    assert data["checkpoint"]["epoch"] == 5001
    ran: list[int] = []
    original = timeline.run_epochs

    def counting(network, count, **options):
        ran.append(count)
        return original(network, count, **options)

    monkeypatch.setattr(timeline, "run_epochs", counting)
    resumed = load_session(json.dumps(data), "far.json")
    assert sum(ran) == 0
    assert resumed.epoch == 5001 and resumed.index == 1
    assert resumed.state == session.state
    np.testing.assert_array_equal(resumed.network.weights[0], session.network.weights[0])
    del data["checkpoint"]
    monkeypatch.setattr(persist, "MAX_RECOMPUTED", 4999)
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(data), "far.json")
    assert "no checkpoint" in one_line(str(caught.value)) and "4,999" in str(caught.value)
    assert sum(ran) == 0


def test_11_a_checkpoint_near_the_start_must_follow_from_the_network(monkeypatch) -> None:
    """Within MAX_CHECKED epochs a checkpoint is checked against the epochs it stands for: a
    weight changed by hand is refused in one line; further on it is trusted (not run)."""
    session = tutorial()
    session.edit("w5", 0.3)
    session.fast_forward(20)
    data = document(session)
    del data["checkpoints"], data["history"]
    data["version"] = 1  # MAX_CHECKED is version 1's rule (test_resume_starts: version 2's)
    assert load_session(json.dumps(data), "s.json").state == session.state
    data["checkpoint"]["network"]["layer"][1]["weights"][0][0] += 0.001
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(data), "s.json")
    assert "does not follow from the network and its edits" in one_line(str(caught.value))
    monkeypatch.setattr(persist, "MAX_CHECKED", 10)
    resumed = load_session(json.dumps(data), "s.json")
    assert resumed.network.weights[1][0, 0] == data["checkpoint"]["network"]["layer"][1][
        "weights"][0][0]


def test_12_a_resumed_document_is_bounded_in_size_and_in_each_event(tmp_path, capsys) -> None:
    data = document(tutorial())
    data["events"] = [{"action": "edit", "epoch": 1, "index": 0,
                       "changes": ["w5: 0.4 → 0.3"] * (persist.MAX_CHANGES + 1)}]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(data))
    assert "events" in refused(capsys, ["export", "--resume", str(path), "-o", "-"])
    big = tmp_path / "big.json"
    with open(big, "wb") as stream:
        stream.truncate(persist.MAX_BYTES + 1)  # sparse: no disk used
    assert f"more than {persist.MAX_BYTES:,} bytes" in refused(
        capsys, ["export", "--resume", str(big), "-o", "-"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_13_check_says_how_far_it_is_on_a_terminal(monkeypatch, capsys) -> None:
    """A long check rewrites '… of … gradients checked' on standard error about once a
    second (the clock here moves a second a call) and clears it at the end."""
    terminal = _Terminal()
    clock = iter(range(10**6))
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli.time, "monotonic", lambda: float(next(clock)))
    assert main(["--preset", "deep-relu", "check"]) == 0
    shown = terminal.getvalue()
    assert "gradients checked…" in shown and " of " in shown
    assert shown.endswith("\r\x1b[K")
    assert "analytic" in capsys.readouterr().out


def test_14_train_keeps_two_errors_whatever_the_epochs(capsys) -> None:
    network = load_preset("mazur")
    kept = run_epochs(network, 3000, keep=True)
    lean = run_epochs(network, 3000, keep=False)
    assert len(lean.losses) <= 2 and len(kept.losses) == 3000
    assert lean.first_loss == kept.losses[0] and lean.losses[-1] == kept.losses[-1]
    np.testing.assert_array_equal(lean.network.weights[1], kept.network.weights[1])
    assert "100,000,000" in refused(capsys, ["train", "--epochs", "100000001"])


# Hygiene --------------------------------------------------------------------------------

def test_15_escapes_in_a_session_or_a_file_name_never_reach_the_terminal(
        tmp_path, capsys) -> None:
    data = document(tutorial())
    data["source"]["text"] = "# \x1b]0;pwned\x07\x1b[2J\n" + data["source"]["text"]
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data))
    for fmt in ("txt", "md"):
        assert main(["export", "--resume", str(path), "--format", fmt, "-o", "-"]) == 0
        assert "\x1b" not in capsys.readouterr().out
    data["events"] = [{"action": "edit", "epoch": 1, "index": 0,
                       "changes": ["\x1b]0;pwned\x07"]}]
    path.write_text(json.dumps(data))
    assert "\x1b" not in refused(capsys, ["export", "--resume", str(path), "-o", "-"])
    named = tmp_path / "net\x1b[2J.toml"
    named.write_text(preset_text("mazur"))
    for fmt in ("txt", "md"):
        assert main(["--config", str(named), "export", "--format", fmt, "-o", "-"]) == 0
        assert "\x1b" not in capsys.readouterr().out


def test_16_force_keeps_the_files_mode_and_owner_and_refuses_a_symlink_loop(
        tmp_path, capsys) -> None:
    for mode in (0o600, 0o444):
        path = tmp_path / f"log-{mode:o}.txt"
        path.write_text("old")
        path.chmod(mode)
        before = path.stat()
        assert main(["export", "--format", "txt", "-o", str(path), "--force"]) == 0
        after = path.stat()
        assert stat.S_IMODE(after.st_mode) == mode
        assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
        assert "E_total" in path.read_text()
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    assert "loop" in refused(capsys, ["export", "-o", str(loop)])
    assert loop.is_symlink()


def test_17_a_fifty_megabyte_line_is_named_in_a_short_message(tmp_path, capsys) -> None:
    path = tmp_path / "net.toml"
    path.write_text(preset_text("mazur").replace('loss = "half_sse"',
                                                 'loss = "' + "x" * 500_000 + '"'))
    assert len(refused(capsys, ["--config", str(path), "train", "--epochs", "1"])) < 400
    assert len(refused(capsys, ["train", "--epochs", "9" * 100_000])) < 400


def test_17_dev_stdout_on_a_pipe_is_written_as_the_stream() -> None:
    done = subprocess.run([*PROG, "export", "--format", "txt", "-o", "/dev/stdout"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "E_total" in done.stdout and done.stderr == ""


@pytest.mark.parametrize("typed", ["9" * 5000, "²", "1" * 12])
def test_17_prompts_say_what_is_wrong_in_their_own_words(typed) -> None:
    session = tutorial()
    with pytest.raises(UnknownName) as goto:
        resolve(typed, session.steps)
    with pytest.raises(ValueError) as fast:
        parse_epochs(typed)
    for message in (str(goto.value), str(fast.value)):
        assert "Exceeds" not in message and "invalid literal" not in message
        assert len(message) < 200


def test_17_a_bad_digits_option_names_it(capsys) -> None:
    data = document(tutorial())
    for value in ("x", "²", 99):
        data["options"] = {"digits": value}
        with pytest.raises(SessionFileError) as caught:
            load_session(json.dumps(data), "s.json")
        assert one_line(str(caught.value)).startswith("s.json: ")
        assert "options.digits" in str(caught.value)


def test_17_the_quiz_refuses_1_000_which_reads_two_ways() -> None:
    with pytest.raises(ValueError) as caught:
        parse_answer("1,000")
    assert "two ways" in str(caught.value)
    assert parse_answer("1.000") == 1.0 and parse_answer("0,5") == 0.5


def test_17_term_and_hup_during_an_export_leave_no_temporary_file(tmp_path) -> None:
    for number in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"log-{number}.md"
        process = subprocess.Popen([*PROG, "export", "--epochs", "2000", "-o", str(out)],
                                   stderr=subprocess.PIPE, text=True, env=ENV)
        deadline = time.monotonic() + 120  # a bound on a hung test, not a timing
        while not any(p.name.startswith(".") for p in tmp_path.iterdir()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(number)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 128 + number and err == "", err  # as Ctrl+C: quietly
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir()] == [], list(tmp_path.iterdir())


def test_17_the_app_exits_1_when_its_last_save_fails(tmp_path) -> None:
    """A state folder that cannot be written: the app says so and the shell sees 1."""
    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; from backprop_tui.cli import main\n"
         "from backprop_tui.app import app as a\n"
         "a.BackpropApp.run = lambda self, **k: self.autosaver.changed(self.session)\n"
         "sys.exit(main([]))"],
        capture_output=True, text=True, env={**ENV, "XDG_STATE_HOME": str(blocked)},
        timeout=120)
    assert done.returncode == 1, done.stderr
    assert "could not be saved" in one_line(done.stderr)


# A seeded fuzz of what is typed or pasted into every prompt ------------------------------

PIECES = ["[/", "[/]", "[@click=app.quit]", "[b]", "[link=x]", "\\[", "[", "]", "\x1b[2J",
          "\x1b]0;owned\x07", "\x00", "\r", "\n", "\t", "\x7f", "\u202e", "²", "٣", "１",
          "1", "9", ".", ",", "e", "-", "−", " ", "w5", "net_o1", "~", "/", "..", "%s", "{}"]


def pasted(rng: random.Random) -> str:
    """Something typed or pasted: a few pieces, or a page of 100 KB."""
    if rng.random() < 0.25:
        return "".join(rng.choice(PIECES) for _ in range(40_000))[:100_000]
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))


def test_a_seeded_fuzz_of_every_prompt_shows_one_line_and_never_crashes(
        tmp_path, monkeypatch) -> None:
    """Edit (name, and value on each keystroke), go-to, fast-forward, the quiz and the export
    path, each fed 14 seeded inputs with markup, control characters and 100 KB pastes: the
    app keeps running, and what a prompt says back is one line of printable text."""
    from backprop_tui.app.screens.edit import NameScreen
    from backprop_tui.app.screens.export import ExportScreen
    from backprop_tui.app.screens.fastforward import FastForwardScreen
    from backprop_tui.app.screens.quiz import QuizScreen

    monkeypatch.chdir(tmp_path)  # where the export dialog writes, if a paste is a good name
    rng = random.Random(7)

    def said(app: BackpropApp) -> str:
        return str(app.screen.query_one("#problem", Label).render())

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        openers = {
            NameScreen: app.action_edit, GoToScreen: app.action_goto,
            FastForwardScreen: app.action_fast_forward, ExportScreen: app.action_export,
        }
        for _ in range(14):
            for kind, opener in openers.items():
                opener()
                await settle(pilot)
                assert isinstance(app.screen, kind)
                await submit(app, pilot, pasted(rng))
                assert app.is_running
                if isinstance(app.screen, kind):  # refused: said in one line, in place
                    message = said(app)
                    assert "\n" not in message.strip() and message.isprintable(), message[:200]
                    assert len(message) < 400, message[:200]
                    app.screen.dismiss(None)
                    await settle(pilot)
                while app.screen is not app.main:  # an accepted run or dialog: back
                    app.pop_screen()
                    await settle(pilot)
            app.action_edit()  # the value prompt checks on every keystroke
            await settle(pilot)
            await submit(app, pilot, "w5")
            assert isinstance(app.screen, ValueScreen)
            app.screen.query_one(Input).value = pasted(rng)
            await settle(pilot)
            assert said(app).isprintable() and len(said(app)) < 400
            app.screen.dismiss(None)
            await settle(pilot)
        app.session.first()
        app.action_quiz()
        app.action_next()
        await settle(pilot)
        assert isinstance(app.screen, QuizScreen)
        for _ in range(14):
            await submit(app, pilot, pasted(rng))
            assert app.is_running and isinstance(app.screen, QuizScreen)
            message = said(app)
            assert message.isprintable() and len(message) < 400, message[:200]

    run(script)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_17_term_and_hup_end_the_app_as_quitting_does(number, tmp_path) -> None:
    """The real app on a terminal (a pty): three steps, then TERM or HUP. The terminal gets
    its normal screen back, the session is saved at step 3, the shell sees 128 + n."""
    import pty
    import threading

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*PROG], stdin=follower, stdout=follower, stderr=follower, close_fds=True,
        env={**ENV, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color",
             "COLUMNS": "100", "LINES": "30"})
    os.close(follower)
    shown = bytearray()

    def drain() -> None:  # the app blocks on a full terminal otherwise
        with contextlib.suppress(OSError):
            while chunk := os.read(leader, 65536):
                shown.extend(chunk)

    draining = threading.Thread(target=drain, daemon=True)
    draining.start()
    saved = tmp_path / "backprop-tui" / "last-session.json"
    deadline = time.monotonic() + 120  # a bound on a hung test, not a timing
    while b"Quit" not in shown:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.write(leader, b"\x1b[C\x1b[C\x1b[C")  # → → →: the first saved at once, the rest
    while b"step 3 of 55" not in shown:  # wait for the autosave's next turn, a second on
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(number)  # so this one finds step 3 not yet saved, in most runs
    assert process.wait(timeout=60) == 128 + number
    assert json.loads(saved.read_text())["cursor"] == {"epoch": 1, "index": 3}
    draining.join(timeout=60)  # the terminal closes with the app: all it wrote is read
    assert b"\x1b[?1049l" in shown  # the alternate screen left: the shell's screen back
    os.close(leader)
