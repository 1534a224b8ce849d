"""Export from the app, the autosave in the state folder, and resuming the last session.

XDG_STATE_HOME points into tmp_path in every test (autouse fixture), and the working folder
is tmp_path, so nothing here touches the real home. Key presses are kept to what is about
keys; the rest goes through the screens' and the session's methods.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pathlib
from collections.abc import Iterator
from datetime import datetime

import pytest
from apptools import palette_commands, run, settle, wait_until
from backprop_tui.app.actions import COMMANDS
from backprop_tui.app.app import ACTIONS, BackpropApp
from backprop_tui.app.screens.export import CHOICES, ExportScreen, default_name
from backprop_tui.app.screens.resume import ResumeScreen
from backprop_tui.cli import main
from backprop_tui.export.formats import FORMATS
from backprop_tui.netfile import Source
from backprop_tui.output import OutputError
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session import autosave, persist
from backprop_tui.session.autosave import Autosaver, find_last, state_path
from backprop_tui.session.persist import dump_session, load_session
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets import Input, Label, RadioButton, RadioSet


@pytest.fixture(autouse=True)
def _isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state folder and the working folder in tmp_path (the SIGPIPE the exporters set
    is put back by conftest.py)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def mazur() -> Session:
    return Session(load_preset("mazur"), source=Source("preset", "mazur", preset_text("mazur")))


def worked_session() -> Session:
    """Epoch 2, step 7, with an edit, an undone move and 6 digits."""
    session = mazur()
    assert session.goto("E_total") and session.edit("w5", 0.5)
    assert session.next_epoch() and session.goto(7) and session.next() and session.undo()
    assert session.set_digits(6)
    return session


def snapshot(session: Session) -> tuple:
    """Everything an export must leave alone."""
    return (session.state, json.dumps(session.events), list(session.past),
            list(session.future))


def notifications(app: BackpropApp) -> list[str]:
    return [n.message for n in app._notifications]


def problem(screen: ExportScreen) -> str:
    label = screen.query_one("#problem", Label)
    return str(label.render()) if label.display else ""


def choose(screen: ExportScreen, fmt: str) -> None:
    """Pick a format the way a click would."""
    index = [f for f, _ in CHOICES].index(fmt)
    list(screen.query_one(RadioSet).query(RadioButton))[index].value = True


async def open_export(app: BackpropApp, pilot: Pilot, fmt: str | None = None,
                      path: str | None = None) -> ExportScreen:
    app.action_export()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ExportScreen)
    if fmt is not None:
        choose(screen, fmt)
        await settle(pilot)
    if path is not None:
        screen.query_one("#path", Input).value = path
    return screen


async def submit(pilot: Pilot, screen: ExportScreen) -> None:
    """Enter in the path field; if the dialog closes, wait for the export to be written."""
    app = screen.app
    await screen.query_one("#path", Input).action_submit()
    await settle(pilot)
    await written(app, pilot)


async def written(app: BackpropApp, pilot: Pilot) -> None:
    """Wait until the export the app writes in a thread, if any, is done."""
    await wait_until(pilot, lambda: not app._exporting)
    await settle(pilot)


# Export: the key, the formats, the notification -------------------------------------------


# md and txt last: their writers are the newest.
@pytest.mark.parametrize("fmt", ["json", "jsonl", "md", "txt"])
def test_x_exports_the_session_and_leaves_it_as_it_was(fmt: str, tmp_path) -> None:
    session = worked_session()
    before = snapshot(session)
    found: list[pathlib.Path] = []

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        choose(app.screen, fmt)
        await settle(pilot)
        name = app.screen.query_one("#path", Input).value
        assert name.startswith("backprop-session-") and name.endswith(f".{fmt}")
        await pilot.press("enter")
        await written(app, pilot)
        assert not isinstance(app.screen, ExportScreen)
        found.append(tmp_path / name)
        assert any(str(found[0]) in text for text in notifications(app))
        assert snapshot(app.session) == before

    run(script, app=BackpropApp(session))
    path = found[0]
    assert path.is_absolute() and path.is_file()
    text = path.read_text("utf-8")
    assert text.strip()
    if fmt == "json":
        assert load_session(text, str(path)).state == session.state
    elif fmt == "jsonl":
        assert json.loads(text.splitlines()[0])["type"] == "header"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_format_keys_move_the_extension_until_the_name_is_edited() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot)
        path = screen.query_one("#path", Input)
        assert screen.fmt == "md" and path.value.endswith(".md")
        await pilot.press("down")
        assert screen.fmt == "md-github" and path.value.endswith(".md")
        await pilot.press("down", "down")
        assert screen.fmt == "json" and path.value.endswith(".json")
        await pilot.press("up")
        assert screen.fmt == "txt" and path.value.endswith(".txt")
        await pilot.press("end", "backspace", "backspace", "backspace", "backspace", *"-my.log")
        await pilot.press("down")
        assert screen.fmt == "json" and path.value.endswith("-my.log")
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)
        assert notifications(app) == []

    run(script)


def test_the_chosen_format_shows_by_its_mark_not_by_colour_alone() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot)
        marks = [str(button.render())[:3] for button in screen.query(RadioButton)]
        assert [mark == "▐●▌" for mark in marks] == [True, False, False, False, False, False]
        assert marks[1] == "▐ ▌"
        screen.action_format(1)
        await settle(pilot)
        marks = [str(button.render())[:3] for button in screen.query(RadioButton)]
        assert [mark == "▐●▌" for mark in marks] == [False, True, False, False, False, False]

    run(script)


def test_x_offers_markdown_in_both_flavours_of_math(tmp_path) -> None:
    """Markdown for Jupyter ($…$, $$) and for GitHub ($`…`$, ```math), both .md files."""
    session = mazur()
    session.goto("out_h1")
    found: dict[str, pathlib.Path] = {}

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for fmt in ("md", "md-github"):
            screen = await open_export(app, pilot, fmt, f"{fmt}.md")
            await submit(pilot, screen)
            assert not isinstance(app.screen, ExportScreen)
            found[fmt] = tmp_path / f"{fmt}.md"

    run(script, app=BackpropApp(session))
    jupyter, github = (found[fmt].read_text("utf-8") for fmt in ("md", "md-github"))
    symbol = r"\mathrm{out}_{h_{1}}"
    assert f"· ${symbol}$\n\n$$\n\\begin{{aligned}}\n{symbol} &=" in jupyter
    assert "```math" not in jupyter and "$`" not in jupyter
    assert f"· $`{symbol}`$\n\n```math\n\\begin{{aligned}}\n{symbol} &=" in github
    assert "$$" not in github


def test_x_writes_a_worksheet_with_every_answer_in_the_key_only(tmp_path) -> None:
    """The teacher's worksheet from the export dialog: the epoch so far, every computed
    value blank in the steps and listed in the key after them."""
    session = Session(load_preset("mazur"))
    session.goto("dE/dw5")
    found: list[pathlib.Path] = []

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot)
        await pilot.press("up")  # from Markdown round to the last choice
        assert screen.fmt == "worksheet"
        name = screen.query_one("#path", Input).value
        assert name.startswith("backprop-worksheet-") and name.endswith(".md")
        await pilot.press("enter")
        await written(app, pilot)
        found.append(tmp_path / name)

    run(script, app=BackpropApp(session))
    sheet, _, key = found[0].read_text("utf-8").partition("# Answer key")
    assert sheet.startswith("# backprop-tui worksheet") and "**Step 16**" in sheet
    assert "**Step 17**" not in sheet  # up to the cursor, as a log is
    for value in ("0.593269992", "0.75136507", "0.0821670406"):  # out_h1, out_o1, ∂E/∂w5
        assert value not in sheet and value in key


def test_the_default_name_is_dated_in_the_current_folder() -> None:
    assert default_name("jsonl", datetime(2024, 5, 6, 7, 8, 9)) == \
        "backprop-session-20240506-070809.jsonl"


def test_export_is_in_the_palette_and_held_back_while_a_dialog_is_open() -> None:
    assert "export" in {action for action, *_ in COMMANDS} and "export" in ACTIONS

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        assert "Export the session log…" in palette_commands(app)
        await open_export(app, pilot)
        assert app.check_action("export", ()) is False

    run(script)


# Export failures: the reason in the dialog (a path) or in a notification (a write that fails),
# the session and any file untouched ------------------------------------------------------------


# (path typed, what the dialog says)
UNWRITABLE = [
    ("no-such-folder/log.json", "does not exist"),
    ("a-file/log.json", "does not exist"),  # a folder that is a file: as good as read-only
    (".", "is a folder"),
    ("   ", "type a file name"),
    ("-", "type a file name"),
]


def test_a_path_that_cannot_be_written_is_explained_in_the_dialog(tmp_path) -> None:
    (tmp_path / "a-file").write_bytes(b"keep me")
    session = worked_session()
    before = snapshot(session)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot, "json")
        for path, says in UNWRITABLE:
            screen.query_one("#path", Input).value = path
            await submit(pilot, screen)
            assert app.screen is screen
            assert says in problem(screen), path
        assert notifications(app) == []

    run(script, app=BackpropApp(session))
    assert snapshot(session) == before
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]
    assert (tmp_path / "a-file").read_bytes() == b"keep me"


def test_a_full_disk_keeps_the_old_file_and_says_so(tmp_path, monkeypatch) -> None:
    target = tmp_path / "log.json"
    target.write_bytes(b"the old log\n")
    session = worked_session()
    before = snapshot(session)

    def full(session: Session, now: datetime) -> Iterator[str]:
        yield "a first piece that gets written\n"
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setitem(FORMATS, "json", full)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot, "json", "log.json")
        await submit(pilot, screen)
        await pilot.press("y")  # replace it: the write, in a thread, fails
        await written(app, pilot)
        assert app.screen is app.main
        assert notifications(app) == [
            f"Not exported: {target}: could not be written: No space left on device"]

    run(script, app=BackpropApp(session))
    assert target.read_bytes() == b"the old log\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.json"]  # no temporary left
    assert snapshot(session) == before


def test_an_output_error_from_open_output_is_notified(tmp_path, monkeypatch) -> None:
    @contextlib.contextmanager
    def refused(path: str) -> Iterator[None]:
        raise OutputError(f"{path}: could not be written: No space left on device")
        yield  # pragma: no cover

    monkeypatch.setattr("backprop_tui.app.screens.export.open_output", refused)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot, "jsonl", "log.jsonl")
        await submit(pilot, screen)
        assert notifications(app) == [f"Not exported: {tmp_path / 'log.jsonl'}: could not be "
                                      "written: No space left on device"]

    run(script)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("confirm", ["y", "enter"])
def test_an_existing_file_is_replaced_only_when_confirmed(confirm: str, tmp_path) -> None:
    target = tmp_path / "log.jsonl"
    target.write_bytes(b"old \x00 bytes\n")
    session = worked_session()
    before = snapshot(session)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot, "jsonl", "log.jsonl")
        await submit(pilot, screen)
        assert screen.has_class("-confirm")
        question = str(screen.query_one("#question", Label).render())
        assert f"{target} already exists" in question
        await pilot.press("escape")  # back to the form, the file as it was
        assert app.screen is screen and not screen.has_class("-confirm")
        assert target.read_bytes() == b"old \x00 bytes\n"
        await pilot.press("enter")  # the path field has the focus again: ask again
        assert screen.has_class("-confirm")
        await pilot.press(confirm)
        await written(app, pilot)
        assert app.screen is not screen
        assert f"Exported the session log to {target}" in notifications(app)

    run(script, app=BackpropApp(session))
    assert json.loads(target.read_text("utf-8").splitlines()[0])["type"] == "header"
    assert snapshot(session) == before


# Autosave ----------------------------------------------------------------------------------


def test_the_state_path_follows_xdg_state_home(tmp_path, monkeypatch) -> None:
    assert state_path() == tmp_path / "state" / "backprop-tui" / "last-session.json"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/state"):
        monkeypatch.setenv("XDG_STATE_HOME", unset)
        assert state_path() == tmp_path / "home/.local/state/backprop-tui/last-session.json"


def test_a_save_holds_the_session_without_its_log_and_resumes() -> None:
    session = worked_session()
    path = state_path()
    autosave.save(session, path)  # creates the folder
    document = json.loads(path.read_text("utf-8"))
    assert document["steps"] == [] and document["epochs"] == []
    resumed = load_session(path.read_bytes(), str(path))
    assert resumed.state == session.state and resumed.events == session.events


def test_the_autosaver_saves_at_most_once_a_second() -> None:
    now = [100.0]
    saver = Autosaver(state_path(), clock=lambda: now[0])
    session = mazur()
    session.next()
    assert saver.changed(session) is None and saver.saves == 1  # the first change: at once
    session.next()
    now[0] = 100.4
    assert saver.changed(session) == pytest.approx(0.6) and saver.pending
    session.next()
    now[0] = 100.7
    assert saver.changed(session) == pytest.approx(0.3)
    assert saver.saves == 1 and _cursor() == (1, 1)
    now[0] = 101.0
    assert saver.flush() and saver.saves == 2 and _cursor() == (1, 3)
    assert not saver.flush() and saver.saves == 2  # nothing pending: nothing written
    now[0] = 102.5
    session.next()
    assert saver.changed(session) is None and saver.saves == 3 and _cursor() == (1, 4)


def _cursor() -> tuple[int, int]:
    document = json.loads(state_path().read_text("utf-8"))
    return document["cursor"]["epoch"], document["cursor"]["index"]


def test_an_autosave_that_fails_reports_and_never_raises(tmp_path, monkeypatch) -> None:
    (tmp_path / "state").write_text("a file where the folder should be")
    saver = Autosaver(state_path(), interval=0.0)
    assert saver.changed(mazur()) is None
    assert saver.saves == 0 and "cannot create the folder" in saver.error
    monkeypatch.setattr(autosave, "open_output", _refusing_open_output)
    (tmp_path / "state").unlink()
    assert saver.changed(mazur()) is None and "No space left on device" in saver.error
    assert not state_path().exists()


@contextlib.contextmanager
def _refusing_open_output(path: str) -> Iterator[None]:
    raise OutputError(f"{path}: could not be written: No space left on device")
    yield  # pragma: no cover


def test_keep_old_moves_the_earlier_file_aside_before_the_first_save() -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"earlier")
    saver = Autosaver(path, keep_old=True)
    saver.changed(mazur())
    assert path.with_name("last-session.previous.json").read_bytes() == b"earlier"
    assert saver.kept == path.with_name("last-session.previous.json")
    path.write_bytes(b"later")  # a second save replaces: the file is this session's own
    saver.changed(mazur())
    saver.flush()
    assert path.with_name("last-session.previous.json").read_bytes() == b"earlier"


def test_the_app_saves_after_actions_and_on_quit() -> None:
    path = state_path()
    saver = Autosaver(path, interval=60.0)  # one save now; the rest waits for the quit

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_next()
        assert saver.saves == 1 and _cursor() == (1, 1)
        app.action_next()
        app.action_more_digits()
        app.action_prev()  # undo-able moves count as actions too
        assert saver.saves == 1 and saver.pending and _cursor() == (1, 1)
        app.action_undo()
        assert app.session.index == 2

    app = run(script, app=BackpropApp(mazur(), autosaver=saver))
    assert saver.saves == 2 and not saver.pending
    assert _cursor() == (1, 2)
    resumed = load_session(path.read_bytes(), str(path))
    assert resumed.state == app.session.state


def test_the_app_saves_within_the_second_and_after_a_fast_forward() -> None:
    now = [0.0]  # the autosaver's clock, which the test moves: no test waits on a real one
    saver = Autosaver(state_path(), interval=0.2, clock=lambda: now[0])

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_next()  # saved at once
        app.action_next()  # within the interval: waits for the timer
        assert _cursor() == (1, 1) and saver.pending
        await wait_until(pilot, lambda: _cursor() == (1, 2))  # the timer saves what waited
        assert saver.saves == 2 and not saver.pending
        now[0] = 1.0  # the interval has passed
        app.start_run(5)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert app.session.epoch == 6
        assert _cursor() == (6, 0)  # saved as the run landed
        assert saver.saves == 3

    run(script, app=BackpropApp(mazur(), autosaver=saver))


def test_an_autosave_failure_is_told_once_and_the_session_carries_on(tmp_path) -> None:
    (tmp_path / "state").write_text("not a folder")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.action_next()
        app.action_next_epoch()
        await settle(pilot)
        told = [n for n in notifications(app) if "cannot be saved" in n]
        assert len(told) == 1 and "Export it with x" in told[0]
        assert app.session.epoch == 2 and app.is_running

    run(script, app=BackpropApp(mazur(), autosaver=Autosaver(state_path(), interval=0.0)))


# Resume: --resume, and the offer on a plain start ------------------------------------------


@pytest.fixture
def launched(monkeypatch) -> list[BackpropApp]:
    """Apps main() would run: captured instead of run."""
    apps: list[BackpropApp] = []
    monkeypatch.setattr(BackpropApp, "run", lambda self, *a, **k: apps.append(self))
    return apps


def test_resume_without_a_file_reopens_the_last_session(launched, capsys) -> None:
    session = worked_session()
    autosave.save(session, state_path())
    assert main(["--resume"]) == 0
    assert capsys.readouterr().err == ""
    app = launched[0]
    state = app.session.state
    assert (state.epoch, state.index, state.digits) == (2, 7, 6)
    assert state == session.state and app.session.events == session.events
    assert [(e.name, e.value) for e in state.edits] == [("w5", 0.5)]
    assert app.autosaver.path == state_path() and not app.autosaver.keep_old
    assert app._last is None  # no offer: it is this one


def test_resume_a_file_keeps_the_last_session_aside(launched, tmp_path) -> None:
    session = worked_session()
    autosave.save(mazur(), state_path())
    exported = tmp_path / "exported.json"
    exported.write_text("".join(FORMATS["json"](session, datetime.now())), "utf-8")
    assert main(["--resume", str(exported)]) == 0
    app = launched[0]
    assert app.session.state == session.state
    assert app.autosaver.keep_old  # the last session is moved aside before the first save


def test_the_export_command_still_takes_its_own_resume(capsys, tmp_path) -> None:
    saved = tmp_path / "saved.json"
    autosave.save(worked_session(), saved)
    assert main(["export", "--resume", str(saved), "-o", str(tmp_path / "log.jsonl")]) == 0
    assert json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])["cursor"] == {
        "epoch": 2, "index": 7}


def _hostile(kind: str) -> str:
    """A session document gone wrong in one way (or not a document at all)."""
    text = "".join(dump_session(mazur(), [], []))
    document = json.loads(text)
    if kind == "wrong types":
        document["cursor"]["epoch"] = "2"
    elif kind == "unknown schema":
        document["schema"] = "something/else"
    elif kind == "version 99":
        document["version"] = 99
    elif kind == "NaN":
        return text.replace('"digits": 9', '"digits": NaN')
    elif kind == "ten million events":
        return text.replace('"events": []', '"events": [' + "0," * 9_999_999 + "0]")
    elif kind == "not JSON":
        return text[: len(text) // 2]
    return json.dumps(document)


HOSTILE = ["wrong types", "unknown schema", "version 99", "NaN", "ten million events",
           "not JSON"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_resume_refuses_a_damaged_or_hostile_file_in_one_line(
        kind: str, launched, capsys) -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_text(_hostile(kind), "utf-8")
    assert main(["--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"backprop-tui: {path}: "), err
    assert "Traceback" not in err and len(err) < 400
    assert launched == [] and path.exists()  # refused, and left where it was


def test_resume_of_a_missing_file_or_with_a_preset_is_one_line(launched, capsys) -> None:
    assert main(["--resume"]) == 2
    assert f"--resume: nothing saved yet in {state_path().parent} " in capsys.readouterr().err
    autosave.save(mazur(), state_path())
    assert main(["--resume", "--preset", "mazur"]) == 2
    assert "drop --preset/--config" in capsys.readouterr().err
    assert launched == []


def test_a_plain_start_offers_the_last_session(launched) -> None:
    session = worked_session()
    autosave.save(session, state_path())
    assert main([]) == 0
    app = launched[0]
    assert app.session.state.epoch == 1  # fresh until the user chooses
    assert app._last.session.state == session.state
    assert app.autosaver.keep_old
    assert state_path().exists()


def test_quiz_and_tolerance_apply_to_the_offered_session(launched) -> None:
    """--quiz and --tolerance hold for the session offered to resume, as for a new one."""
    session = worked_session()
    session.quiz.tolerance = 0.05
    autosave.save(session, state_path())
    assert main(["--quiz", "--tolerance", "0.2"]) == 0
    offered = launched[0]._last.session.quiz
    assert (offered.on, offered.tolerance) == (True, 0.2)
    assert main([]) == 0  # without them, the session keeps its own
    offered = launched[1]._last.session.quiz
    assert (offered.on, offered.tolerance) == (False, 0.05)


def test_a_plain_start_keeps_a_damaged_file_aside_and_says_why(launched) -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_text(_hostile("version 99"), "utf-8")
    before = path.read_bytes()
    assert main([]) == 0
    last = launched[0]._last
    assert last.session is None and "newer backprop-tui" in last.problem
    assert "\n" not in last.problem
    assert not path.exists()
    assert path.with_name("last-session.damaged.json").read_bytes() == before


def test_an_absurdly_big_last_session_is_not_read(tmp_path) -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    with path.open("wb") as sparse:
        sparse.truncate(persist.MAX_BYTES + 1)
    last = find_last(path)
    assert last is not None and last.session is None and "too big" in last.problem


def _offered() -> tuple[Session, bytes]:
    session = worked_session()
    autosave.save(session, state_path())
    return session, state_path().read_bytes()


def _app_with_offer() -> BackpropApp:
    return BackpropApp(mazur(), autosaver=Autosaver(state_path(), keep_old=True,
                                                     interval=0.0),
                       last=find_last(state_path()))


def test_r_resumes_the_offered_session() -> None:
    session, _ = _offered()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        assert isinstance(app.screen, ResumeScreen)
        title = str(app.screen.query_one("#title", Label).render())
        assert title == "Resume your last session (epoch 2, step 7)?"
        assert "last-session.previous.json" in str(app.screen.query_one("#choices").render())
        await pilot.press("r")
        await settle(pilot)
        assert not isinstance(app.screen, ResumeScreen)
        assert app.session.state == session.state
        app.action_next()

    app = run(script, app=_app_with_offer())
    assert _cursor() == (2, 8)
    assert not state_path().with_name("last-session.previous.json").exists()
    assert app.session.state.index == 8


def test_n_starts_fresh_and_keeps_the_old_session_as_previous() -> None:
    _, old = _offered()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ResumeScreen)
        assert app.session.state.epoch == 1
        assert state_path().read_bytes() == old  # nothing saved before a change
        app.action_next()
        await settle(pilot)
        assert any("last-session.previous.json" in n for n in notifications(app))

    run(script, app=_app_with_offer())
    assert state_path().with_name("last-session.previous.json").read_bytes() == old
    assert _cursor() == (1, 1)


def test_quitting_at_the_offer_leaves_the_last_session_alone() -> None:
    _, old = _offered()

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("ctrl+q")

    run(script, app=_app_with_offer())
    assert state_path().read_bytes() == old
    assert not state_path().with_name("last-session.previous.json").exists()


def test_a_damaged_last_session_is_explained_and_enter_starts_fresh() -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_text(_hostile("wrong types"), "utf-8")

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ResumeScreen)
        text = str(screen.query_one("#problem", Label).render())
        assert "cursor" in text and "kept as last-session.damaged.json" in text
        await pilot.press("r")  # nothing to resume
        assert app.screen is screen
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not screen and app.session.state.epoch == 1

    run(script, app=_app_with_offer())
    assert path.with_name("last-session.damaged.json").exists() and not path.exists()


def test_a_read_only_folder_is_explained_and_keeps_its_file(tmp_path, monkeypatch) -> None:
    """Tests run as root, which chmod cannot stop: the folder refuses as a read-only one
    does, at the point where the log would be written beside its target."""
    target = tmp_path / "log.md"
    target.write_bytes(b"the old log\n")
    session = worked_session()
    before = snapshot(session)

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("backprop_tui.output._create", read_only)

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        screen = await open_export(app, pilot, "md", "log.md")
        await submit(pilot, screen)
        await pilot.press("y")  # replace it: the folder refuses
        await written(app, pilot)
        [told] = notifications(app)
        assert told.startswith("Not exported: ") and "Permission denied" in told

    run(script, app=BackpropApp(session))
    assert target.read_bytes() == b"the old log\n"
    assert snapshot(session) == before
