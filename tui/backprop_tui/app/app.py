"""The Textual app: holds the session and performs the actions on it (each described once,
in ``actions``); the ``MainScreen`` lays out and draws the panels.

It holds no math: every number on screen comes from a step, through ``view_model``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App
from textual.command import CommandPalette
from textual.timer import Timer
from textual.worker import get_current_worker

from backprop_tui import keys
from backprop_tui.app import actions, commands, notices, view_model
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.app.opening import Opening, new_session
from backprop_tui.app.preferences import Remembered
from backprop_tui.app.screens.main import MainScreen
from backprop_tui.app.textual_private import hold_frames, show_frames
from backprop_tui.numbers import MAX_DIGITS, fmt

if TYPE_CHECKING:  # these import numpy: the first frame does not wait for them
    from textual.notifications import SeverityLevel

    from backprop_tui.app.components.curve import ErrorCurve
    from backprop_tui.netfile import Source
    from backprop_tui.network import Given
    from backprop_tui.session.autosave import Autosaver, LastSession
    from backprop_tui.session.session import Session
    from backprop_tui.session.timeline import Timeline
    from backprop_tui.steps.slips import Verdict

BACKGROUND_NICE = 10  # the session's build, after the first frame (see _in_the_background)
FRAME_REFRESHES = 5  # at most, waiting for the footer's keys (they come with the screen)
EXPORT_SHOWN_EVERY = 0.1  # seconds between two redraws of an export's progress, at least

ACTIONS = set(actions.BY_NAME)  # every action's name (see actions.TABLE)
QUIT_ACTIONS = {"leave", "quit"}  # q, and Textual's ctrl+q
# The actions whose keys the footer may show (an ``instead``'s too): what it shows depends
# on whether these apply, and on nothing else of the session.
FOOTER_ACTIONS = tuple(dict.fromkeys(name for action in actions.TABLE if action.show
                                     for name in (action.name, action.instead) if name))


class BackpropApp(App[None]):
    """Step through backpropagation on a live network diagram."""

    TITLE = "backprop-tui"
    CSS_PATH = "app.tcss"
    BINDINGS = actions.BINDINGS
    COMMANDS = commands.PROVIDERS  # the actions and Textual's own, steps, values (commands.py)
    TOAST = 3.0  # seconds an action's toast stays: they come one per key press
    main: MainScreen  # the first screen, under every dialog: see get_default_screen

    def __init__(self, session: Session | Opening, theme: str | None = None,
                 autosaver: Autosaver | None = None, last: LastSession | None = None,
                 busy: Path | None = None, notice: str | None = None,
                 remembered: Remembered | None = None) -> None:
        """``session`` may be an Opening: the first frame is then drawn from the network
        file, and the session built just after. ``autosaver`` keeps the session in the
        state folder (none: nothing is saved); ``last`` is a session found there, offered
        on start; ``busy``, the session file another running app saves to (this one then
        saves to its own, or, if the person chooses, nothing); ``notice``, a warning said
        once the screen is up (every session file taken: nothing is saved); ``remembered``,
        the preferences, written as they change (none: nothing is kept)."""
        super().__init__()
        self._opening = session if isinstance(session, Opening) else None
        self._session = None if isinstance(session, Opening) else session
        self._theme_name = theme
        self._enabled: dict[str, bool | None] = {}  # the footer's actions: see _keys_follow
        self._fast_forwarding = False
        self._run_began = 0.0  # when the running fast-forward began (time.monotonic)
        self._exporting = False  # an export is being written in a thread
        self.autosaver = autosaver
        self._last = last
        self._busy = busy
        self._notice = notice  # said once the screen is up (e.g. why nothing is saved)
        self.remembered = remembered or Remembered(None)
        # The session's events looked at (see _say_checks): those of a resumed file are old.
        self._checks_seen = {} if self._session is None else {
            id(self._session): len(self._session.events)}
        self._autosave_timer: Timer | None = None
        self._autosave_warned = False
        self._kept_told = False
        self.gradient_checking = False  # display state (d), not an undoable session action
        # Plain sgd's run for the curve to compare with, while a worker runs it: (its
        # timeline, the epochs it runs to).
        self._comparing: tuple[Timeline, int] | None = None
        self._spare_folder: Path | None = None  # exports in a browser, with no autosaver

    def get_default_screen(self) -> MainScreen:
        """The main screen, which the app draws the session on (``self.main``). Until the
        first frame is drawn and the session built, the collector waits (see ``_settled``):
        starting makes tens of thousands of objects that live as long as the app, and its
        passes over them cost the first frame some twenty milliseconds. In a browser,
        nothing is sent until the first frame is whole (see ``hold_frames``): one frame, not
        four, each of which the page's script would draw; a terminal gets the first as soon
        as the screen is laid out."""
        gc.disable()
        if self.is_web:
            hold_frames(self)
        self.main = MainScreen(ready=self._main_ready, width=self.size.width)
        return self.main

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        # From the next message on, so the theme just set (by a flag or the preferences,
        # published by Textual's next message) is not taken for a choice made in the app.
        self.call_next(self.theme_changed_signal.subscribe, self,
                       lambda theme: self._remember(theme=theme.name))
        # TERM (a shutdown, kill) and HUP (the terminal closed) end the app as q does: the
        # terminal restored, the session saved; the shell sees 128 + the signal's number.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, partial(self.exit, None, 128 + signum))

    def _main_ready(self) -> None:
        """The main screen is mounted: draw the session, or the network file alone while the
        session is built after the first frame; then offer the last session, if any."""
        if self._session is None and self._opening is not None:
            given = self._opening.given
            self.main.show(view_model.opening_status(given), view_model.opening_diagram(given),
                           None, _start_text(1), ((), 0))
            self._keys_follow()
            self.call_after_refresh(self._build_when_drawn, FRAME_REFRESHES)
        else:
            self.render_session()
            self.call_after_refresh(show_frames, self)
            self.call_after_refresh(_settled)
        if self._last is not None:
            from backprop_tui.app.screens.resume import ResumeScreen

            self.push_screen(ResumeScreen(self._last), self._resume_chosen)
        if self._notice is not None:
            self.notify(self._notice, severity="warning", timeout=10)
        self._remember()
        if self._busy is not None and self.autosaver is not None:
            from backprop_tui.app.screens.busy import BusyScreen

            self.push_screen(BusyScreen(self._busy, self.autosaver.path), self._busy_chosen)

    @property
    def session(self) -> Session:
        """The session, built on first use when the app was opened on an Opening."""
        if self._session is None:
            assert self._opening is not None
            self._session = self._opening.build()
        return self._session

    @session.setter
    def session(self, session: Session) -> None:
        """Another session (resumed, opened): what its log held before is not news."""
        self._session = session
        self._checks_seen = {id(session): len(session.events)}

    def _build_when_drawn(self, refreshes: int) -> None:
        """Start building the session once the footer has its keys (Textual's footer makes
        them a refresh or two after the rest; ours, with the screen), or after
        ``refreshes`` more refreshes at most: the first frame is then whole."""
        if self.main.keys_drawn or refreshes <= 0:  # the next refresh draws them
            show_frames(self)  # the first frame, whole
            self.call_after_refresh(self._build_session, self._opening)
        else:
            self.call_after_refresh(self._build_when_drawn, refreshes - 1)

    def _build_session(self, opening: Opening) -> None:
        """Build the session beside the event loop, so the first frame is drawn meanwhile.
        A key pressed before it is done builds one at once (see ``session``). The thread
        gives way to other work (``_in_the_background``): where many apps start at once, as
        for a class's browser tabs, the first frames come before the sessions' builds. A
        thread of its own, not a Textual worker's: those are pooled, and the next worker
        would inherit its low priority (which only a privileged process can raise again)."""

        def build() -> None:
            _in_the_background()
            try:
                session: Session | None = opening.build()
            except Exception:  # built again at the first key, where its error is shown
                session = None
            try:
                self.call_from_thread(self._session_built, session)
            except RuntimeError:  # the app has ended meanwhile
                pass

        threading.Thread(target=build, name="session build", daemon=True).start()

    def _session_built(self, session: Session | None) -> None:
        if self._session is None and session is not None:
            self._session = session
            self.render_session()
        self.call_after_refresh(_settled)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every message is plain text, whoever asks (a widget's notify asks for markup):
        names, paths and typed answers in it are never read as markup (``[/`` would crash,
        ``[@click=…]`` would run an action)."""
        super().notify(message, title=title, severity=severity, timeout=timeout,
                       markup=False)

    # Rendering ------------------------------------------------------------------------

    def render_session(self) -> None:
        """Show the session at its cursor, repainting only the panels that change."""
        session = self.session
        step = session.step
        self.main.show(view_model.status(session), view_model.diagram(session),
                       self._equation(session),
                       step.explanation if step else _start_text(session.epoch),
                       view_model.values(session))
        self._keys_follow()
        self._curve_follow(live=self._fast_forwarding)

    def _curve_follow(self, live: bool = False) -> None:
        """Redraw the curve if shown and changed (``live``, while a run fills it: a few
        redraws a second at most); compared with plain sgd, run its epochs up to the
        curve's in a worker thread."""
        curve = self.main.curve
        if curve is None or not curve.display:
            return
        curve.follow(self.session, live=live)
        if curve.compare:
            from backprop_tui.app.curve_model import epochs_shown  # numpy: loaded by now

            self._compare_up_to(epochs_shown(self.session))

    def _compare_up_to(self, count: int) -> None:
        """Run plain sgd's epochs 1 … ``count`` in the background unless run (or running)."""
        plain = self.session.plain_sgd()
        if plain is None or plain.known() >= count or plain.diverged_at is not None:
            return
        running = self._comparing
        if running is not None and running[0] is plain and running[1] >= count:
            return
        self._comparing = (plain, count)
        self._compare(plain, count)

    @work(thread=True, exclusive=True, group="compare")
    def _compare(self, plain: Timeline, count: int) -> None:
        """Run plain sgd's epochs in a thread (a newer run cancels this one); the curve
        grows as they run, as during a fast-forward."""
        worker = get_current_worker()

        def ticker(done: int) -> bool:
            self.call_from_thread(self._compared, plain, count, False)
            return not worker.is_cancelled

        plain.reach(count + 1, ticker)
        self.call_from_thread(self._compared, plain, count, True)

    def _compared(self, plain: Timeline, count: int, done: bool) -> None:
        if done and self._comparing == (plain, count):
            self._comparing = None
        curve = self.main.curve
        if curve is not None and curve.display and curve.compare:
            curve.follow(self.session, live=not done)

    def _equation(self, session: Session) -> view_model.Equation | None:
        """The equation panel's model, with the gradient check while it is on (d)."""
        model = view_model.equation(session)
        if model is None or not self.gradient_checking:
            return model
        return dataclasses.replace(model, gradient=view_model.gradient_check(session))

    def _keys_follow(self) -> None:
        """Redraw the footer's keys when whether one of them applies changed, only then
        (the footer's keys only: whether another action applies is asked when its key is
        pressed)."""
        enabled = {action: self.available(action) for action in FOOTER_ACTIONS}
        if enabled != self._enabled:
            if self._enabled:  # (the first time, it is about to draw them anyway)
                self.refresh_bindings()
            self._enabled = enabled

    # Actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if len(self.screen_stack) > 1 and action in ACTIONS:
            return False  # a dialog is open: its keys are typed, not stepped
        if self.main.too_small and action not in QUIT_ACTIONS:
            return False  # nothing to see it by: only quitting acts until it is enlarged
        return self.available(action)

    def available(self, action: str) -> bool | None:
        """True: enabled; None: shown greyed out; False: hidden (see actions.TABLE). While
        an export is written, Escape stops it and another waits."""
        if self._exporting and action in actions.WHILE_EXPORTING:
            return actions.WHILE_EXPORTING[action]
        return actions.availability(action, self._session, self._fast_forwarding)

    def _do(self, change: Callable[[], bool]) -> None:
        if change():
            self.render_session()
            self.session_changed()

    def action_next(self) -> None:
        asked = self.session.asks()
        if asked is None:
            self._do(self.session.next)
            return
        from backprop_tui.app.screens.quiz import QuizScreen

        session = self.session
        step = session.steps[asked - 1]

        said: list[Verdict] = []

        def check(text: str) -> Verdict:
            said.append(session.answer(text))
            self.render_session()  # the score
            self.session_changed()
            return said[-1]

        def done(right: bool | None) -> None:
            if not right:  # Escape: revealed
                session.reveal()
            self._do(session.next)
            if right:
                first = len(said) == 1
                self.notify(said[-1].message + ("" if first else
                            " (counted as wrong: the first answer was not)"),
                            timeout=4)

        self.push_screen(QuizScreen(f"Step {asked} · {step.symbol} = {step.formula}\n"
                                    "Your value?", check), done)

    def action_quiz(self) -> None:
        """a: the quiz on or off (ask for each value before showing it)."""
        quiz = self.session.quiz
        quiz.on = not quiz.on
        self.render_session()
        self.session_changed()
        self.notify("Quiz on: → asks for each value before showing it; Escape reveals it."
                    if quiz.on else "Quiz off.", timeout=3)

    def action_quiz_tolerance(self) -> None:
        """The quiz's tolerance, asked for; kept with the session and for the next start."""
        from backprop_tui.app.screens.quiz import ToleranceScreen

        quiz = self.session.quiz

        def chosen(tolerance: float | None) -> None:
            if tolerance is None or tolerance == quiz.tolerance:
                return
            before, quiz.tolerance = quiz.tolerance, tolerance
            self.session_changed()
            self._remember(tolerance=tolerance)
            self.notify(f"Quiz tolerance {fmt(before)} → {fmt(tolerance)}", timeout=3)

        self.push_screen(ToleranceScreen(quiz.tolerance), chosen)

    def action_prev(self) -> None:
        self._do(self.session.prev)

    def action_first(self) -> None:
        self._do(self.session.first)

    def action_last(self) -> None:
        self._do(self.session.last)

    def action_next_phase(self) -> None:
        self._do(self.session.next_phase)

    def action_prev_phase(self) -> None:
        self._do(self.session.prev_phase)

    def action_next_example(self) -> None:
        self.go_to_step(actions.example_move(self.session, forward=True))

    def action_prev_example(self) -> None:
        self.go_to_step(actions.example_move(self.session, forward=False))

    def action_next_batch(self) -> None:
        self.go_to_step(actions.batch_move(self.session))

    def go_to_step(self, index: int | None) -> None:
        """To step ``index`` of this epoch, an undoable move (None: nowhere to go)."""
        if index is not None:
            self._do(lambda: self.session.goto(index))

    def _example(self) -> int:
        """The example the cursor is at (from 1; 0 with one example): what a plain name
        at the go-to prompt and an edited input or target mean."""
        session = self.session
        return session.example or (1 if session.network.examples > 1 else 0)

    def _of_example(self, name: str) -> str:
        """An input's or a target's name as the current example's (``i1`` -> ``i1[3]``)."""
        example = self._example()
        try:
            key = keys.parse(name)
        except keys.NotAKey:
            return name
        if example and key.kind in ("input", "target") and not key.example:
            return keys.text(key.at(example))
        return name

    def action_next_epoch(self) -> None:
        self._do(self.session.next_epoch)

    def action_prev_epoch(self) -> None:
        self._do(self.session.prev_epoch)

    def action_undo(self) -> None:
        self._undo(redo=False)

    def action_redo(self) -> None:
        self._undo(redo=True)

    def _undo(self, redo: bool) -> None:
        """Undo (redo) the last action and say which it was; an edit's values are read
        in the states around it (the cursor keeps its epoch across an edit)."""
        session = self.session
        ahead = session.future if redo else session.past
        if not ahead:
            return
        before = session.state
        edit = notices.edit_between(before, ahead[-1])
        old = None if edit is None else session.current_value(edit.name)
        if not (session.redo() if redo else session.undo()):
            return
        values = None if edit is None or old is None else (
            old, session.current_value(edit.name))
        self.render_session()
        self.session_changed()
        self.notify(notices.undone(before, session.state, values, session.digits, redo),
                    timeout=self.TOAST)
        self._remember(digits=session.digits)  # the digits shown now are the preference

    def action_more_digits(self) -> None:
        self._do(lambda: self.session.set_digits(self.session.digits + 1))
        self._remember(digits=self.session.digits)

    def action_fewer_digits(self) -> None:
        self._do(lambda: self.session.set_digits(self.session.digits - 1))
        self._remember(digits=self.session.digits)

    def action_leave(self) -> None:
        """q: quit from the main screen; in a dialog, q is typed (ctrl+q quits anywhere)."""
        self.exit()

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: into the Downloads folder, as in any Textual app, or,
        where there is none (where Textual's would fail), the working folder, as x's export."""
        if path is None and not self.is_web:
            import platformdirs

            downloads = platformdirs.user_downloads_path()
            path = str(downloads) if downloads.is_dir() else os.getcwd()
        return super().deliver_screenshot(filename, path, time_format)

    @on(events.DeliveryComplete)
    def _screenshot_saved(self, event: events.DeliveryComplete) -> None:
        """Where the screenshot went, in plain words (Textual's toast is markup)."""
        if event.name == "screenshot":
            event.prevent_default()
            from backprop_tui.output import path_shown

            self.notify(f"Saved the screenshot to {path_shown(event.path)}" if event.path
                        else "Saved the screenshot: your browser downloads it",
                        title="Screenshot")

    @on(events.DeliveryFailed)
    def _screenshot_failed(self, event: events.DeliveryFailed) -> None:
        """Why the screenshot was not saved (Textual's toast does not say)."""
        if event.name == "screenshot":
            event.prevent_default()
            from backprop_tui.output import path_shown, reason

            error, where = event.exception, getattr(event.exception, "filename", None)
            why = reason(error) if where is None else f"{path_shown(where)}: {reason(error)}"
            self.notify(f"The screenshot was not saved: {why}", title="Screenshot",
                        severity="error", timeout=10)

    def action_help_quit(self) -> None:
        """ctrl+c on the main screen (a dialog keeps it): it does not quit, as in every
        Textual app; say what does, in plain words (Textual's own toast is markup, which
        this app's notices never read). The browser keeps ctrl+q."""
        how = "q" if self.is_web else "q or ctrl+q"
        self.notify(f"Press {how} to quit the app.", title="Do you want to quit?")

    def action_gradient_check(self) -> None:
        """d: show or hide the gradient check (display state: not undone by undo)."""
        self.gradient_checking = not self.gradient_checking
        self.render_session()

    def action_toggle_curve(self) -> None:
        """c: the error curve in place of the diagram, or the diagram back (display state,
        not undone by undo). textual-plot is imported on the first opening only."""
        self._toggle_curve()
        self._curve_follow()

    def _toggle_curve(self) -> ErrorCurve:
        """Show or hide the curve; made on its first showing, on the scale last chosen."""
        made = self.main.curve is not None
        curve = self.main.toggle_curve()
        if not made:
            curve.log_scale = self.remembered.preferences.curve_scale == "log"
        return curve

    def _shown_curve(self) -> ErrorCurve:
        curve = self.main.curve
        return curve if curve is not None and curve.display else self._toggle_curve()

    def action_log_scale(self) -> None:
        """C: the curve's error axis on a log scale, or linear again; opens the curve."""
        curve = self._shown_curve()
        curve.log_scale = not curve.log_scale
        self._remember(curve_scale="log" if curve.log_scale else "linear")
        self._curve_follow()

    def action_plain_sgd(self) -> None:
        """o: the curve compares with the same network under plain sgd, or no longer;
        opens the curve (display state, as the log scale)."""
        curve = self._shown_curve()
        curve.compare = not curve.compare
        self._curve_follow()

    def action_maximize(self) -> None:
        """m: the focused panel fills the screen (the equation panel, when none has the
        focus), or the panels come back (Escape too: Textual's own)."""
        screen = self.main
        if screen.maximized is not None:
            screen.minimize()
            return
        panel = screen.focused or screen.query_one("#equation")
        panel.focus()
        screen.maximize(panel, container=False)

    def action_help(self) -> None:
        from backprop_tui.app.screens.help import HelpScreen

        session = self.session
        self.push_screen(HelpScreen(several=session.network.examples > 1,
                                    optimized=session.optimized))

    def action_goto(self) -> None:
        from backprop_tui.app.screens.goto import GoToScreen
        from backprop_tui.steps.names import completions, resolve

        steps = self.session.steps
        example = self._example()

        self.push_screen(
            GoToScreen(completions(steps), lambda text: resolve(text, steps, example),
                       len(steps)),
            self.go_to_step)

    # Editing ----------------------------------------------------------------------------

    def action_edit(self, name: str | None = None) -> None:
        """Ask for the parameter (unless given), then its new value."""
        from backprop_tui.app.screens.edit import NameScreen, ValueScreen

        session = self.session
        if name is None:
            def chosen(picked: str | None) -> None:
                if picked:
                    self.action_edit(picked)

            self.push_screen(NameScreen(self.edit_names(), lambda typed: session.editable(
                self._of_example(typed)), session.options()[1:]), chosen)
            return

        def check(text: str) -> float:
            return _number(session.check_edit(name, text)[1])

        def apply(value: float | None) -> None:
            if value is not None:
                self._edit(name, value)

        current = fmt(_number(session.current_value(name)), MAX_DIGITS)
        shown = keys.text(keys.ETA) if name == "learning_rate" else name
        self.push_screen(ValueScreen(shown, current, check), apply)

    def edit_names(self) -> list[str]:
        """What an edit may change, as a person types it: the parameters (an input or a
        target: the current example's), eta, the optimiser's options (momentum; beta1 …)."""
        session = self.session
        return [*map(self._of_example, session.network.names.parameters()), "eta",
                *session.options()[1:]]

    def _edit(self, name: str, value: object) -> None:
        """Make an edit (a switch: an option's) and say what it changed. EditError if it
        does not apply."""
        session = self.session
        old = session.current_value(name)
        if session.edit(name, value):
            self.render_session()
            self.session_changed()
            self.notify(notices.edited(name, old, session.current_value(name), session.epoch,
                                       session.digits), timeout=self.TOAST)

    def on_network_diagram_double_clicked(self, message: NetworkDiagram.DoubleClicked) -> None:
        if self._fast_forwarding:
            self.notify("Edits wait until the fast-forward is done (Escape stops it).",
                        timeout=3)
        elif (name := self.session.editable(self._of_example(message.element))) is not None:
            self.action_edit(name)
        else:
            self.notify(f"{message.element} is computed, not given: edit what feeds it",
                        timeout=3)

    def switch(self, name: str, value: object) -> Callable[[], None]:
        """A palette command that switches an option, as an undoable edit; one that does
        not combine with the rest (the palette offers none such) is said, not made, and
        the value in force is said to be."""
        from backprop_tui.session.session import EditError

        def switch() -> None:
            session = self.session
            if session.current_value(name) == value:
                self.notify(f"{notices.option_name(name)} is "
                            f"{notices.option_value(name, value, session.digits)} already",
                            timeout=self.TOAST)
                return
            try:
                self._edit(name, value)
            except EditError as why:
                self.notify(str(why), title="Not switched", severity="error", timeout=6)

        return switch

    def on_network_diagram_clicked(self, message: NetworkDiagram.Clicked) -> None:
        from backprop_tui.steps.names import UnknownName, resolve

        try:
            index = resolve(message.element, self.session.steps, self._example())
        except UnknownName as why:
            self.notify(str(why), timeout=3)
            return
        self._do(lambda: self.session.goto(index))

    # Fast-forward ---------------------------------------------------------------------

    def action_fast_forward(self) -> None:
        from backprop_tui.app.screens.fastforward import FastForwardScreen

        def chosen(count: int | None) -> None:
            if count is not None:
                self.start_run(count)

        self.push_screen(FastForwardScreen(), chosen)

    def start_run(self, count: int) -> None:
        """Fast-forward ``count`` epochs in the background: from now until it is done, the
        keys that would leave this epoch wait (so the run's start is the cursor's epoch)."""
        self._run_started(count)
        self._run_began = time.monotonic()
        self._fast_forward(self.session.epoch, count)

    @work(thread=True, exclusive=True, group="fast-forward")
    def _fast_forward(self, start: int, count: int) -> None:
        """Fill the timeline in a thread; the cursor moves on the main thread when done."""
        worker = get_current_worker()
        target = start + count

        def ticker(done: int) -> bool:
            self.call_from_thread(self._show_progress, done)
            return not worker.is_cancelled

        _, _, cancelled = self.session.timeline.reach(target, ticker)
        self.call_from_thread(self._run_finished, start, count, cancelled)

    def _run_started(self, count: int) -> None:
        self._fast_forwarding = True
        self.main.start_progress(count)
        self.refresh_bindings()

    def _show_progress(self, done: int) -> None:
        self.main.progress(done)
        self._curve_follow(live=True)  # grows as the epochs run

    def _run_finished(self, start: int, count: int, cancelled: bool) -> None:
        self._fast_forwarding = False
        self.main.end_progress()
        seconds = time.monotonic() - self._run_began
        if cancelled:
            self.notify(notices.run_stopped(self.session, start, count, seconds),
                        title="Fast-forward stopped", timeout=6)
        elif self.session.epoch != start:  # cannot happen: the keys that leave it wait
            self.notify("The epoch changed during the fast-forward; the cursor stays.",
                        severity="warning", timeout=5)
        else:
            if self.session.fast_forward(count):  # the epochs are computed: this only moves
                self.session_changed()
                self.notify(notices.run_summary(self.session, start, seconds),
                            title="Fast-forward", timeout=6)
            if self.session.diverged:
                self.notify(self.session.diverged, severity="warning")
        self.render_session()
        self.refresh_bindings()

    def action_cancel_run(self) -> None:
        self.workers.cancel_group(self, "fast-forward")

    # Export ---------------------------------------------------------------------------

    def action_export(self) -> None:
        from backprop_tui.app.screens.export import ExportScreen  # the exporters: only now

        # In a browser, into the session's own folder, and downloaded (see ExportScreen)
        folder = str(self._own_folder()) if self.is_web else None
        dialog = ExportScreen(folder=folder, download=self.is_web)

        def chosen(path: str | None) -> None:
            if path is not None:
                self._start_export(dialog.fmt, path)

        self.push_screen(dialog, chosen)

    def _start_export(self, fmt: str, path: str) -> None:
        """Write the session as it stands now in a thread: the keys keep working (what they
        change is not in this export), Escape stops it."""
        from backprop_tui.app.screens.main import export_text

        session = self.session.frozen()  # what later keys change is not in this export
        self._exporting = True
        self.main.show_export(export_text(Path(path).name, 0, session.epoch, 0))
        self.refresh_bindings()
        self._export(session, fmt, path)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, session: Session, fmt: str, path: str) -> None:
        from backprop_tui.app.screens.export import Stopped, write_export
        from backprop_tui.app.screens.main import export_text
        from backprop_tui.output import OutputError

        worker = get_current_worker()
        name, epochs = Path(path).name, session.epoch
        shown, shown_epoch = 0.0, 0

        def going(epoch: int, size: int) -> bool:
            nonlocal shown, shown_epoch
            # A few redraws a second, and at once when the log comes to its first epoch
            # (before it a run of epochs may take a while to reach).
            if time.monotonic() - shown >= EXPORT_SHOWN_EVERY or (epoch and not shown_epoch):
                shown, shown_epoch = time.monotonic(), epoch
                self.call_from_thread(self.main.show_export,
                                      export_text(name, epoch, epochs, size))
            return not worker.is_cancelled

        problem: str | None = None
        try:
            write_export(session, fmt, path, going)
        except Stopped:
            problem = "stopped"
        except OutputError as error:
            problem = str(error)
        if not worker.is_cancelled or problem == "stopped":
            self.call_from_thread(self._export_finished, fmt, path, problem)

    def _export_finished(self, fmt: str, path: str, problem: str | None) -> None:
        from backprop_tui.app.screens.export import written_what
        from backprop_tui.output import path_shown

        self._exporting = False
        self.main.show_export(None)
        self.refresh_bindings()
        if problem is None and self.is_web:
            self.deliver_binary(path, save_filename=Path(path).name)
            self.notify(f"Exported {written_what(fmt)}: your browser downloads "
                        f"{Path(path).name}", timeout=8)
        elif problem is None:
            self.notify(f"Exported {written_what(fmt)} to {path_shown(path)}", timeout=8)
        elif problem == "stopped":
            self.notify(f"Export stopped: nothing written to {path_shown(path)}", timeout=6)
        else:
            self.notify(f"Not exported: {problem}", severity="error", timeout=10)

    def _own_folder(self) -> Path:
        """The folder this session is kept in (in a browser, the tab's own); one of the
        app's own, made once, when it is kept nowhere (read-only)."""
        if self.autosaver is not None:
            return self.autosaver.path.parent
        if self._spare_folder is None:
            import tempfile

            self._spare_folder = Path(tempfile.mkdtemp(prefix="backprop-tui-"))
        return self._spare_folder

    def action_cancel_export(self) -> None:
        self.workers.cancel_group(self, "export")

    # Open another network ------------------------------------------------------------

    def action_open(self) -> None:
        """ctrl+o: a preset or a network file, in a new session; this one is kept."""
        from backprop_tui.app.screens.open import OpenScreen

        source = self.session.source
        self.push_screen(OpenScreen(source.name if source and source.kind == "preset"
                                    else None, presets_only=self.is_web), self._opened)

    def _opened(self, opened: tuple[Given, Source] | None) -> None:
        """Keep the current session (saved now; the new one's first save moves its file to
        last-session.previous.json), then start on the network opened, as a start with
        --preset or --config would. If the current session cannot be saved, it stays."""
        if opened is None:
            return
        from backprop_tui.output import path_shown
        from backprop_tui.session.autosave import previous_path

        given, source = opened
        old = self.session
        saver = self.autosaver
        # A session at its start with nothing done in it is not kept: it would push real
        # work out of the five the state folder keeps.
        untouched = (not (old.past or old.future or old.events or old.state.edits)
                     and (old.epoch, old.index) == (1, 0))
        if saver is not None and not untouched:
            if not self._save_now():
                self.notify(f"Not opened: this session could not be saved first "
                            f"({saver.error}). Export it with x, then open again.",
                            severity="error", timeout=10)
                return
            saver.keep_old = True  # the new session's first save moves the file aside
            self._kept_told = True  # said here, with how to reopen it (if this tab can)
        self.session = new_session(given, source, self.remembered.preferences)
        self.remembered.opened(source.kind, source.name)  # started with, next time
        self._remember()
        self._reset_display()
        self.render_session()
        opened_what = (f"preset {source.name}" if source.kind == "preset"
                       else path_shown(source.name))
        if saver is None or untouched:
            self.notify(f"Opened {opened_what}." + (f" The session on {_about(old)} was not "
                        "saved (nothing is, in this app)." if saver is None else ""),
                        timeout=8)
            return
        self._save_now()
        kept = saver.path if saver.keep_old else previous_path(saver.path)  # moved or not
        if self.is_web:  # a tab starts afresh each time: the kept file is the teacher's
            self.notify(f"Opened {opened_what}. Your session on {_about(old)} stays saved on "
                        "the server, but this tab cannot reopen it.", timeout=12)
            return
        self.notify(f"Opened {opened_what}. Your session on {_about(old)} is kept: start "
                    f"the app with --resume {path_shown(kept)}, or pick it on the next start.",
                    timeout=12)

    def _save_now(self) -> bool:
        """Save the session at once, not within the second; whether it is saved."""
        saver = self.autosaver
        assert saver is not None
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
            self._autosave_timer = None
        self.session_changed()  # saves now, or leaves the change pending
        saver.flush()
        self._autosave_report()
        return saver.error is None

    def _reset_display(self) -> None:
        """What the app shows that belongs to a session: the curve (the diagram back, no
        comparison), the gradient check, a comparison running."""
        self.workers.cancel_group(self, "compare")
        self._comparing = None
        self.gradient_checking = False
        curve = self.main.curve
        if curve is not None:
            curve.compare = False
            if curve.display:
                self.main.toggle_curve()

    # Autosave and resume --------------------------------------------------------------

    def session_changed(self) -> None:
        """Save the session soon: now, or within the second (at most one save a second);
        say what the session found wrong in the file it was resumed from, if anything."""
        self._say_checks()
        if self.autosaver is None:
            return
        wait = self.autosaver.changed(self.session)
        if wait is not None and self._autosave_timer is None:
            self._autosave_timer = self.set_timer(wait, self._autosave_due, name="autosave")
        self._autosave_report()

    def _say_checks(self) -> None:
        """A resumed file's saved start found wrong as a run reached it (an event ``check``
        in the session's log): said once, as a warning."""
        session = self.session
        seen = self._checks_seen.get(id(session), 0)
        for event in session.events[seen:]:
            if event["action"] == "check":
                self.notify(" ".join(event["changes"]), title="The resumed file",
                            severity="warning", timeout=10)
        self._checks_seen = {id(session): len(session.events)}

    def _autosave_due(self) -> None:
        self._autosave_timer = None
        if self.autosaver is not None:
            self.autosaver.flush()
            self._autosave_report()

    def _autosave_report(self) -> None:
        """Tell once that saving fails (the session carries on), and where an earlier
        session went."""
        saver = self.autosaver
        if saver is None:
            return
        if saver.error and not self._autosave_warned:
            self._autosave_warned = True
            self.notify(f"The session cannot be saved: {saver.error}. Export it with x to "
                        "keep your work.", severity="warning", timeout=10)
        if saver.kept is not None and not self._kept_told:
            self._kept_told = True
            self.notify(f"Your earlier session is kept as {saver.kept}",
                        timeout=6)

    def _busy_chosen(self, own_file: bool | None) -> None:
        """Another app has the usual session file: save to this one's own, or nothing."""
        if not own_file:
            self.autosaver = None
            self.notify("Read-only: nothing of this session is saved (x still exports it).",
                        timeout=6)

    def _resume_chosen(self, picked: Path | None) -> None:
        """Resume the session picked on the prompt (the last one, already read, or an
        earlier one, read now), or keep the fresh one."""
        last, self._last = self._last, None
        if picked is None or last is None:
            return
        if picked == last.path and last.session is not None:
            session = last.session
            if self.autosaver is not None and self.autosaver.path == last.path:
                self.autosaver.keep_old = False  # it is this session's own file
        else:
            from backprop_tui.session.autosave import read
            from backprop_tui.session.persist import SessionFileError

            try:
                session = last.prepare(read(picked))
            except SessionFileError as error:
                self.notify(str(error), severity="warning", timeout=10)
                return
            except (OSError, ValueError) as error:
                self.notify(f"{picked}: cannot read the file: {error}", severity="warning",
                            timeout=10)
                return
            if self.autosaver is not None:
                self.autosaver.resumed(picked, session)  # the current session now
        self.session = session
        earlier = picked != last.path
        self._kept_told = self._kept_told or earlier  # said here, with what was resumed
        self.session_changed()  # rewritten in this version's format
        self.render_session()
        kept = self.autosaver.kept if earlier and self.autosaver is not None else None
        if earlier and kept is None:
            self._kept_told = False  # moved at a later save: said then
        also = "" if kept is None else f"; the session you had last is kept as {kept.name}"
        self.notify(f"Resumed the session saved in {picked}{also}", timeout=6)

    def on_unmount(self) -> None:
        """On quit, save what the last second changed; the collector may again free what
        was frozen at the start (see ``_settled``)."""
        gc.enable()
        gc.unfreeze()
        if self.autosaver is not None:
            if self._autosave_timer is not None:
                self._autosave_timer.stop()
                self._autosave_timer = None
            self.autosaver.flush()

    # Preferences ----------------------------------------------------------------------

    def _remember(self, **changes: object) -> None:
        """Keep preferences that changed (the file is written only then); say, once, what
        went wrong with the file or the network remembered."""
        self.remembered.change(**changes)
        for notice in self.remembered.said():
            self.notify(notice, title="Preferences", severity="warning", timeout=10)

    # Command palette and clipboard ----------------------------------------------------

    def action_palette(self) -> None:
        """F2: the palette, where a browser keeps ctrl+p for printing."""
        self.action_command_palette()

    def action_command_palette(self) -> None:
        """ctrl+p: Textual's palette, its field saying what it finds (see commands.py)."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=commands.PLACEHOLDER,
                                            id="--command-palette"))

    def action_copy(self) -> None:
        """y: the current step as the equation panel shows it, to the clipboard."""
        model = view_model.equation(self.session)
        if model is None:
            self.notify(notices.NOTHING_TO_COPY, timeout=self.TOAST)
            return
        self.copy_to_clipboard(notices.copied_text(model))
        self.notify(notices.copied(self.session.index, model), timeout=self.TOAST)


def _in_the_background() -> None:
    """This thread at a low priority (Linux's nice 10, for one thread): its work mostly
    waits while other processes have some to do (other apps', as many start at once). Not
    the lowest: while it holds Python's lock, the app's own thread waits for it. Nothing
    where threads have no priority of their own."""
    if sys.platform == "linux":  # elsewhere, the id would name a process
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        except OSError:
            pass


def _settled() -> None:
    """The first frame is drawn and the session built: what is there now (the session, the
    widgets, Textual's styles) lives as long as the app. Kept out of the collector's full
    passes, which otherwise visit it all again every few seconds while a fast-forward
    makes garbage (a pause of tens of milliseconds each, at any key); then the collector
    works again (it waited from the start: see ``get_default_screen``)."""
    gc.freeze()
    gc.enable()


def _number(value: object) -> float:
    """A parameter's value: a number, though the session types it as any option's."""
    if not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _about(session: Session) -> str:
    """What a session runs, in a few words: 'mazur', 'my-net.toml'."""
    source = session.source
    if source is None:
        return "this network"
    return source.name if source.kind == "preset" else Path(source.name).name


def _start_text(epoch: int) -> str:
    if epoch == 1:
        return ("The network as given, before anything is computed. Press → (or l, or space) "
                "to take the first step of the forward pass, ? for every key.")
    return (f"The start of epoch {epoch:,}: the network holds the values the last epoch's "
            "updates gave it. Press → to run the forward pass with them.")
