"""The command line: the app, and the headless commands (which never import Textual)."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from backprop_tui import __version__, keys
from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS, choices, outputs_for
from backprop_tui.keys import Key
from backprop_tui.netfile import NetworkFileError, Source
from backprop_tui.network import MAX_EXAMPLES, MAX_ROUNDING, MIN_ROUNDING, Given, Network
from backprop_tui.numbers import aligned, fmt, value_text
from backprop_tui.output import (
    OutputError,
    check_target,
    clipped,
    open_output,
    printable,
    quoted,
    remove_temporaries,
)
from backprop_tui.presets import DEFAULT, PRESETS, preset_text
from backprop_tui.session.sources import sourced

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from backprop_tui.app.opening import Opening
    from backprop_tui.app.preferences import Remembered
    from backprop_tui.session.session import Session

PROG = "backprop-tui"
# `--resume` without a file: the last session in the state folder. A NUL cannot come from
# the command line, so no file name is mistaken for it.
LAST_SESSION = "\x00last-session"
DIVERGED = 3
USAGE_ERROR = 2
MAX_EPOCHS = 100_000_000  # --epochs: at about a million a minute, more is not a lesson


class Problem(Exception):
    """A one-line message for stderr, and the exit status that goes with it."""

    def __init__(self, message: str, status: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise Problem(f"{message} (see {self.prog} --help)")


def _whole(text: str, low: int, high: int, highest: str) -> int:
    """A whole number from ``low`` to ``high`` (said as ``highest``), for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {low} to {highest}, got {quoted(text)}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1, MAX_EPOCHS, f"{MAX_EPOCHS:,}")


def _students(text: str) -> int:
    from backprop_tui.export.exercises import MAX_STUDENTS

    return _whole(text, 1, MAX_STUDENTS, str(MAX_STUDENTS))


def _seed(text: str) -> int:
    return _whole(text, 0, 2**63 - 1, "2**63 − 1")


def _digits(text: str) -> int:
    """--rounding: 0 (off) or MIN_ROUNDING..MAX_ROUNDING significant digits."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}") from None
    if value != 0 and not MIN_ROUNDING <= value <= MAX_ROUNDING:
        raise argparse.ArgumentTypeError(
            f"expected {MIN_ROUNDING} to {MAX_ROUNDING} significant digits, or 0 for none, "
            f"got {value}")
    return value


def _tolerance(text: str) -> float:
    """--tolerance: the quiz's relative tolerance, above 0 and below 1."""
    from backprop_tui.session.tolerance import check_tolerance

    try:
        return check_tolerance(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def _rounding_option(parser: argparse.ArgumentParser, command: bool = True) -> None:
    """--rounding, before or after the command, as --preset/--config."""
    parser.add_argument("--rounding", type=_digits, metavar="N",
                        default=argparse.SUPPRESS if command else None,
                        help="round every computed value to N significant digits before it "
                             "is used again, as by hand (overrides the network file's "
                             "rounding; 0: none)")


def _look_options(parser: argparse.ArgumentParser, command: bool = True) -> None:
    """--theme, before the command or after serve."""
    parser.add_argument("--theme", metavar="NAME",
                        default=argparse.SUPPRESS if command else None,
                        help="a Textual theme for the app, e.g. textual-light, nord, gruvbox")


def _quiz_options(parser: argparse.ArgumentParser, command: bool = True) -> None:
    """--quiz and --tolerance, before the command or after serve."""
    parser.add_argument("--quiz", action="store_true",
                        default=argparse.SUPPRESS if command else False,
                        help="open the app in quiz mode: each value is asked for before it is "
                             "shown (a in the app turns it on and off)")
    parser.add_argument("--tolerance", type=_tolerance, metavar="X",
                        default=argparse.SUPPRESS if command else None,
                        help="the quiz's relative tolerance: an answer within X of the value "
                             "counts as right (above 0, below 1; default 1e-3)")


def _port(text: str) -> int:
    return _whole(text, 1, 65535, "65535")


def _public_url(text: str) -> str:
    """--public-url: http:// or https://, a host, no path (the page adds /ws to it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise argparse.ArgumentTypeError(
            f"expected http://HOST[:PORT] or https://HOST[:PORT], got {quoted(text)}")
    return text.rstrip("/")


def _network_options(parser: argparse.ArgumentParser, command: bool = True) -> None:
    """--preset/--config, before or after the command; a command's own leave the others be."""
    source = parser.add_mutually_exclusive_group()
    default = argparse.SUPPRESS if command else None
    source.add_argument("--preset", metavar="NAME", default=default,
                        help=f"a bundled network: {', '.join(PRESETS)} (default {DEFAULT})")
    source.add_argument("--config", metavar="FILE", default=default,
                        help="a network file (TOML)")


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Step through every computation of backpropagation, one scalar at a time. "
                    "Without a command, opens the app.",
        epilog="Run a command with --help for its options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _network_options(parser, command=False)
    _rounding_option(parser, command=False)
    _look_options(parser, command=False)
    parser.add_argument("--resume", nargs="?", const=LAST_SESSION, metavar="FILE",
                        help="open the app on a saved session: a JSON session file, or "
                             "without FILE the last session (kept in $XDG_STATE_HOME/"
                             "backprop-tui/last-session.json)")
    parser.add_argument("--no-config", action="store_true",
                        help="neither read nor write the app's preferences (the theme, digits, "
                             "quiz tolerance, curve scale and last network, kept in "
                             "$XDG_CONFIG_HOME/backprop-tui/preferences.toml)")
    _quiz_options(parser, command=False)
    parser.add_argument("--state-folder-in", metavar="FOLDER", type=Path,
                        help="keep the session in a new folder of the app's own inside FOLDER "
                             "(serve gives each browser tab one this way)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve the app to browsers: each tab its own app and session",
        description="Serve the app to web browsers (textual-serve): every browser tab runs "
                    "an app of its own, its session kept in a folder of its own under "
                    "$XDG_STATE_HOME/backprop-tui/served/. The app options (--preset, "
                    "--config, --rounding, --theme, --quiz, --tolerance) apply to every tab. "
                    "Ctrl+C stops the server and every app.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine alone; "
                            "0.0.0.0: every address, for a class)")
    serve.add_argument("--port", type=_port, default=8000, help="the port (default 8000)")
    serve.add_argument("--public-url", metavar="URL", type=_public_url,
                       help="the address browsers reach the server by, e.g. "
                            "http://teacher-pc:8000 (default http://HOST:PORT; needed behind "
                            "0.0.0.0 or a proxy)")
    _network_options(serve)
    _rounding_option(serve)
    _look_options(serve)
    _quiz_options(serve)

    export = commands.add_parser(
        "export", help="write the session log of N epochs (Markdown, text, JSON, JSON lines)",
        description="Write the session log: every step of N whole epochs (or up to a named "
                    "step of the first), with each epoch's summary.")
    export.add_argument("--format", choices=["md", "txt", "json", "jsonl"], default=None,
                        help="md: Markdown with math; txt: plain text; json: the session "
                             "document (resumable); jsonl: JSON lines (default)")
    _network_options(export)
    _rounding_option(export)
    span = export.add_mutually_exclusive_group()
    span.add_argument("--epochs", type=_positive, default=1, metavar="N",
                      help="how many whole epochs (default 1)")
    span.add_argument("--to", metavar="STEP",
                      help=f"stop at this step of epoch 1: a number or a name ({keys.EXAMPLES} …)")
    span.add_argument("--resume", metavar="FILE", default=argparse.SUPPRESS,
                      help="the log of a saved session (a JSON session file), as it stood")
    export.add_argument("-o", "--output", default="-", metavar="PATH",
                        help="where to write; - is standard output (default)")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.add_argument("--flavor", choices=["jupyter", "github"], default=None,
                        help="with --format md, how math is marked: jupyter: $…$ and $$ "
                             "blocks (default; Jupyter, pandoc, MathJax, KaTeX); github: "
                             "$`…`$ and ```math blocks, which GitHub renders intact")
    export.add_argument("--quiz", action="store_true", dest="worksheet",
                        help="a Markdown worksheet instead of the log: every step with its "
                             "results blanked, then the answer key")

    train = commands.add_parser(
        "train", help="run N epochs without steps and print the result as JSON",
        description="Run N epochs without steps (the fast path) and print the losses and the final "
                    "weights as one JSON object.")
    train.add_argument("--epochs", type=_positive, required=True, metavar="N")
    _network_options(train)
    _rounding_option(train)

    check = commands.add_parser(
        "check-printed", help="mark a network file's [printed] values: ✓ agrees, ⚠ does not",
        description="Check every value of the network file's [printed] table against the "
                    "computed one: ✓ where it agrees to its last written digit, ⚠ where not, "
                    "telling a slip from a value that follows from an earlier slip. Exits 1 "
                    "if any value is marked ⚠.")
    check.add_argument("file", nargs="?", metavar="FILE",
                       help="a network file with a [printed] table (or give --preset)")
    _network_options(check)
    _rounding_option(check)

    gradients = commands.add_parser(
        "check", help="check every gradient against a central finite difference",
        description="Compare every ∂E/∂w and ∂E/∂b of epoch 1 with the central finite "
                    "difference of the total error, and print them as a table. Exits 1 if "
                    "any relative difference exceeds 1e-6 (absolute 1e-10 near zero). Hand "
                    "rounding is set aside: the check is of the calculus. Under update_order "
                    "= during_backward the hidden layers' gradients are not the plain "
                    "gradient: they are listed, marked ≈, and not counted.")
    _network_options(gradients)

    exercises = commands.add_parser(
        "exercises", help="a class's exercise set: a network, worksheet and key per student, "
                          "and a Moodle quiz",
        description="Write, for each of N students, the network with weights and biases of "
                    "their own (student-01.toml), its worksheet (student-01.md) and its key "
                    "(key-01.md); every key value in keys.csv; and moodle.xml, a Moodle "
                    "question bank whose wrong answers name the slip. The same seed writes "
                    "the same files.")
    exercises.add_argument("--students", type=_students, required=True, metavar="N",
                           help="how many students (1 to 999)")
    exercises.add_argument("--seed", type=_seed, default=0, metavar="S",
                           help="a whole number from which every student's numbers are drawn "
                                "(default 0)")
    _network_options(exercises)
    exercises.add_argument("--epochs", type=_positive, default=1, metavar="N",
                           help="how many epochs each worksheet covers (1 to 20; default 1)")
    exercises.add_argument("--tolerance", type=_tolerance, default=1e-3, metavar="X",
                           dest="moodle_tolerance",
                           help="Moodle's relative tolerance for a right answer (above 0, "
                                "below 1; default 1e-3)")
    exercises.add_argument("-o", "--output", required=True, metavar="FOLDER",
                           help="the folder to write (made if missing; refused if not empty)")
    exercises.add_argument("--force", action="store_true",
                           help="write into a folder that is not empty")

    commands.add_parser("presets", help="list the bundled networks, one line each",
                        description="List the bundled networks (use one with --preset NAME).")

    new_config = commands.add_parser(
        "new-config", help="write a commented network file to start from",
        description="Write a commented network file, a copy of a preset, that loads as it is.")
    new_config.add_argument("--preset", metavar="NAME", default=argparse.SUPPRESS,
                            help=f"the preset to start from (default {DEFAULT})")
    new_config.add_argument("-o", "--output", default="-", metavar="FILE",
                            help="where to write; - is standard output (default)")
    new_config.add_argument("--force", action="store_true", help="replace an existing file")
    return parser


def _network(args: argparse.Namespace) -> Network:
    return _sourced(args)[0].network()


def _sourced(args: argparse.Namespace, app: bool = False) -> tuple[Given, Source]:
    """The network named by --preset/--config, checked but not yet in numpy, and where it
    came from (for log headers); for the ``app``, a preset's printed values left untied."""
    if args.preset is not None and args.config is not None:
        raise Problem("give --preset or --config, not both")
    if args.config == "":
        raise Problem("--config needs the path of a network file")
    try:
        given, source = sourced(args.preset, args.config, tie_presets=not app)
    except NetworkFileError as error:
        raise Problem(str(error)) from None
    if args.rounding is not None:  # --rounding overrides the file's, before anything is built
        given = dataclasses.replace(given, rounding=args.rounding)
    return given, source


class _Signalled(BaseException):
    """TERM or HUP: raised where the program is, so that what it was writing is cleaned up
    on the way out (a BaseException: nothing on the way catches it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: object) -> None:
    raise _Signalled(signum)


_lost: list[BaseException] = []  # interrupts Python could not raise, in the order they came


def _keeping_interrupts(previous: Callable[[sys.UnraisableHookArgs], object]
                        ) -> Callable[[sys.UnraisableHookArgs], None]:
    """A ctrl+c, TERM or HUP that arrives while an import cleans up is raised where Python
    ignores it (printing a traceback): this hook keeps it, to be raised where the command
    looks (`_raise_lost`), so that no interrupt is lost; anything else goes to ``previous``."""

    def hook(report: sys.UnraisableHookArgs) -> None:
        if isinstance(report.exc_value, KeyboardInterrupt | _Signalled):
            _lost.append(report.exc_value.with_traceback(None))  # not what it was cleaning
        else:
            previous(report)

    return hook


def _raise_lost() -> None:
    """Raise the first interrupt that arrived where Python could not raise it."""
    if _lost:
        raise _lost.pop(0)


def main(argv: list[str] | None = None) -> int:
    previous = sys.unraisablehook
    sys.unraisablehook = _keeping_interrupts(previous)
    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # unless ignored (kept
            signal.signal(signal.SIGINT, signal.default_int_handler)  # so): see __main__.run
        status = _main(sys.argv[1:] if argv is None else argv)
        _raise_lost()
        if _stdout_failed():
            raise Problem(_STDOUT_FAILED)
        return status
    except Problem as problem:
        print(f"{PROG}: {_one_line(str(problem))}", file=sys.stderr)
        return problem.status
    except KeyboardInterrupt:
        _leaving()
        return 130
    except _Signalled as signalled:
        _leaving()
        return 128 + signalled.signum
    finally:
        sys.unraisablehook = previous
        _lost.clear()


def _leaving() -> None:
    """On the way out after ctrl+c, TERM or HUP: another of them no longer interrupts (no
    traceback), and no temporary file is left."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    remove_temporaries()


_STDOUT_FAILED = "standard output could not be written"


def _say(text: str = "") -> None:
    """A line on standard output; a failure to write it (a full disk) is one line too."""
    try:
        print(text)
    except OSError as error:
        _stdout_failed()
        raise Problem(f"{_STDOUT_FAILED}: {error.strerror or error}") from None


def _stdout_failed() -> bool:
    """Whether what was printed cannot reach standard output (a full disk, a closed file).
    If so, standard output is pointed at /dev/null, so that Python's own last flush on the
    way out does not fail again with a traceback."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        return False
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return True


def _one_line(message: str) -> str:
    """Control characters (a newline in a file name) escaped: a problem is one line."""
    return printable(message)


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        # The collector waits until the app's first frame is drawn (BackpropApp._settled):
        # loading Textual and the app makes objects that live as long as it, and a hundred
        # passes over them would cost the first frame some fifteen milliseconds.
        gc.disable()
        try:
            return _app(args)
        finally:
            gc.enable()
    # Headless output piped into `head` ends quietly, as Unix tools do; TERM and HUP leave
    # as ctrl+c does, cleaning up what was being written.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    if args.command == "exercises" and args.tolerance is not None and not args.quiz:
        raise Problem("give --tolerance after exercises: it is then Moodle's tolerance")
    if args.state_folder_in is not None:
        raise Problem(f"--state-folder-in goes with the app, not {args.command}")
    if args.command == "serve":
        return _serve(args)
    if args.quiz or args.tolerance is not None:
        raise Problem(f"--quiz and --tolerance go with the app, not {args.command}")
    if args.no_config:
        raise Problem(f"--no-config goes with the app, not {args.command} (the commands never "
                      "read the app's preferences)")
    if args.command not in ("export",) and args.resume is not None:
        raise Problem(f"--resume goes with the app or export, not {args.command}")
    if args.command in ("presets", "new-config", "check") and args.rounding is not None:
        raise Problem(f"--rounding goes with the app, export, train or check-printed, not "
                      f"{args.command}")
    if args.command == "train":
        return _train(args)
    if args.command == "exercises":
        return _exercises(args)
    if args.command == "presets":
        width = max(len(name) for name in PRESETS)
        for name, about in PRESETS.items():
            _say(f"{name.ljust(width)}  {about}{'  (default)' if name == DEFAULT else ''}")
        return 0
    if args.command == "new-config":
        return _new_config(args)
    if args.command == "check-printed":
        return _check_printed(args)
    if args.command == "check":
        return _check_gradients(args)
    return _export(args)


def _loss_lines() -> str:
    """The losses, one a line with its formula; one that takes certain outputs only (cross-
    entropy) says which, how it reads under each, and what its targets must be."""
    width = max(len(name) for name in LOSSES) + 4
    lines = []
    for name, loss in LOSSES.items():
        outputs = outputs_for(name)
        if not outputs:
            lines.append(f'"{name}"'.ljust(width) + loss.guide)
            continue
        for n, variant in enumerate((loss, *loss.variants)):
            start = f'"{name}"'.ljust(width) if n == 0 else " " * width
            lines += [start + f'under "{output}": {variant.guide}'
                      for output in variant.outputs]
        named = " or ".join(f'"{output}"' for output in outputs)
        lines.append(" " * width + f"outputs {named} only; targets from 0 to 1")
        lines += [" " * width + f'under "{output}" each example\'s targets add up to 1'
                  for output in outputs if ACTIVATIONS[output].coupled]
    return "\n#                  ".join(lines)


def _activation_rules() -> str:
    """What an activation worked a layer at a time (softmax) asks of its layer."""
    return "".join(
        f'\n#               "{name}": the output layer only, of two units or more (its '
        "outputs: shares\n#               of 1, out_k = e^net_k / sum of e^net_j)"
        for name, activation in ACTIVATIONS.items() if activation.coupled)


def _guide() -> str:
    """The comment block ``new-config`` puts above a preset: every key explained."""
    losses = _loss_lines()
    printed = (f'h1 = 0.5933, "{keys.text(Key("grad_w", param="w5"))}" = 0.0821')
    defaults = {field.name: field.default for field in dataclasses.fields(Given)}
    stateful = choices({name: o for name, o in OPTIMIZERS.items() if o.slots})
    return f"""\
# A backprop-tui network file: change the numbers, then run
#   backprop-tui --config THIS_FILE
# Top-level keys come before the first [[layer]]:
#   learning_rate  a number above 0
#   loss           {losses}
#   update_biases  true or false
#   update_order   "after_backward" (all gradients from the epoch's starting weights) or
#                  "during_backward" (each layer's new weights used at once by the layers below)
#   inputs, targets  lists of numbers (one target per output unit); for several training
#                  examples, one row per example: inputs = [[0, 1], [1, 0]] (up to {MAX_EXAMPLES})
#   batch          with several examples: "online" (an update after every example), "full"
#                  (one update an epoch) or a number k (minibatches of k, in file order)
#   batch_loss     "mean" (a batch's errors and gradients averaged) or "sum"
#   optimizer      how a gradient g becomes an update, as PyTorch defines it: "sgd" (the
#                  default: w - eta*g) or one that keeps a state per parameter, which needs
#                  update_order = "after_backward": {stateful}
#   momentum       momentum and nesterov: mu, from 0 to 1, 1 not included (nesterov: above 0);
#                  default {defaults["momentum"]!r}
#   beta1, beta2   adam: each from 0 to 1, 1 not included; defaults {defaults["beta1"]!r} and \
{defaults["beta2"]!r}
#   epsilon        adam: above 0, added outside the square root; default {defaults["epsilon"]!r}
#                  (an option of another optimizer is refused)
# Then one [[layer]] per layer after the inputs, the output layer last:
#   weights     one row per unit of this layer, one column per unit of the layer before
#   bias        a number shared by the layer's units, or a list with one per unit
#   activation  {choices(ACTIVATIONS)}{_activation_rules()}
# Values to check against the computed ones (your own working, or a document's) go in a
# [printed] table at the end, by step name: {printed}, written to the
# digits you worked to; the app marks each, and `backprop-tui check-printed FILE` lists them.
# To work the network as by hand, each computed value rounded to N significant digits
# (2 to 15; 0 or no line: none) before it is used again, remove the # from the next line:
# rounding = 4

"""


NETWORK_FILE_GUIDE = _guide()


def _new_config(args: argparse.Namespace) -> int:
    try:
        if args.config is not None:
            raise Problem("new-config starts from a preset: use --preset, not --config")
        text = NETWORK_FILE_GUIDE + preset_text(DEFAULT if args.preset is None else args.preset)
        check_target(args.output, args.force)
        with open_output(args.output) as stream:
            stream.write(text)
    except NetworkFileError as error:
        raise Problem(str(error)) from None
    except OutputError as error:
        raise Problem(str(error)) from None
    return 0


def _check_printed(args: argparse.Namespace) -> int:
    """The marks of every [printed] value as a table, in step order; 1 if any is ⚠, 3 if
    the training diverges before a printed value is computed, else 0."""
    from backprop_tui.session.session import Session
    from backprop_tui.steps.marks import AGREES, SLIP, UNCOMPARED, exact

    if args.file is not None:
        if args.config is not None or args.preset is not None:
            raise Problem("check-printed takes FILE or --preset/--config, not both")
        args.config = args.file
    given, source = _sourced(args)
    if not given.printed:
        raise Problem(f"{source.name}: no [printed] table to check")
    session = Session(given.network(), source=source)
    rows: list[list[str]] = []
    differ = uncompared = 0
    diverged: str | None = None
    for epoch in sorted({entry.epoch for entry in given.printed}):
        diverged = diverged or _diverged_before(session, epoch)
        steps = None if diverged else session.steps_of(epoch)
        marks = {} if steps is None else session.marks_of(steps)
        marked = {mark.printed: mark for mark in marks.values()}
        entries = [e for e in given.printed if e.epoch == epoch]
        if steps is not None:
            entries.sort(key=lambda e: steps.keys.get(e.key, len(steps) + 1))
        for entry in entries:
            mark = marked.get(entry)
            if mark is None:
                differ += 1
                rows.append([str(epoch), "", entry.name, entry.text, "",
                             "⚠ not computed: the training diverged before it"])
                continue
            differ += mark.verdict not in (AGREES, UNCOMPARED)
            uncompared += mark.verdict == UNCOMPARED
            verdict = {AGREES: "✓ agrees", SLIP: "⚠ a slip here",
                       UNCOMPARED: "○ not compared: the computed value is not representable"
                       }.get(mark.verdict) or (
                "⚠ follows from " + (", ".join(mark.roots) if mark.roots else "rounding"))
            if mark.verdict == AGREES and not exact(mark.computed, entry.text):
                verdict += " but for its last digit"
            note = f" — {entry.note}" if entry.note else ""
            rows.append([str(epoch), str(mark.index), entry.name, entry.text,
                         value_text(mark.computed, session.digits), verdict + note])
        if steps is not None and steps.diverged:
            diverged = _divergence_text(session, epoch)
    _print_table(["epoch", "step", "name", "printed", "computed", "mark"], rows,
                 right=(0, 1), numbers=(3, 4))
    _say(f"\n{printable(source.name)}: {len(rows)} printed values, "
         f"{len(rows) - differ - uncompared} agree (✓), {differ} do not (⚠)"
         + (f", {uncompared} not compared (○)" if uncompared else ""))
    if diverged:
        raise Problem(diverged, DIVERGED)
    return 1 if differ else 0


def _diverged_before(session: Session, epoch: int) -> str | None:
    """Where the training diverges before ``epoch`` can start, as stepping would find it."""
    reached = session.timeline.reach(epoch)[1]
    if reached < epoch:
        return _divergence_text(session, reached)
    if epoch > 1 and session.steps_of(epoch - 1).diverged:
        return _divergence_text(session, epoch - 1)
    return None


def _divergence_text(session: Session, epoch: int) -> str:
    found = session.steps_of(epoch).diverged
    if found is None:
        return f"diverged at epoch {epoch}"
    index, key, value = found
    return f"diverged at epoch {epoch}, step {index} ({key} = {fmt(value)})"


class _Progress:
    """'1,200 of 32,776 gradients checked' on a terminal's standard error, rewritten about
    once a second while a long command works (nothing when standard error is not a
    terminal, nor for a short one)."""

    def __init__(self, total: int, what: str) -> None:
        self.total, self.what, self.count = total, what, 0
        self.shown = False
        self.next = time.monotonic() + 1.0
        self.live = sys.stderr is not None and sys.stderr.isatty()

    def tick(self) -> None:
        _raise_lost()
        self.count += 1
        if self.live and time.monotonic() >= self.next:
            self.next += 1.0
            self.shown = True
            sys.stderr.write(f"\r{self.count:,} of {self.total:,} {self.what}…")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _print_table(header: list[str], rows: list[list[str]], right: tuple[int, ...] = (),
                 numbers: tuple[int, ...] = ()) -> None:
    """Columns padded to their widest cell (``right`` ones to the right, ``numbers`` lined
    up on their decimal points); the last column, free text, is not padded."""
    for column in numbers:
        for row, text in zip(rows, aligned([row[column] for row in rows]), strict=True):
            row[column] = text
    last = len(header) - 1
    widths = [max(len(row[k]) for row in (header, *rows)) for k in range(last)]
    for row in (header, *rows):
        cells = [cell.rjust(width) if k in right else cell.ljust(width)
                 for k, (cell, width) in enumerate(zip(row, widths, strict=False))]
        _say("  ".join([*cells, row[last]]).rstrip())


def _check_gradients(args: argparse.Namespace) -> int:
    """Every gradient of epoch 1 against a central finite difference, as a table; 1 if any
    differs (a wrong gradient), else 0. Hand rounding is set aside; gradients that are not
    the plain ∂E/∂θ by design (during_backward) are shown marked ≈ and not counted."""
    from backprop_tui.engine.gradcheck import ABSOLUTE, AGREES, DIFFERS, RELATIVE
    from backprop_tui.session.session import Session

    given, source = _sourced(args)
    rounded = given.rounding
    session = Session(dataclasses.replace(given, rounding=0).network(), source=source)
    if session.diverged:
        raise Problem(session.diverged, DIVERGED)
    rows: list[list[str]] = []
    counts = {"agrees": 0, "differs": 0, "expected": 0}
    notes: list[str] = []
    steps = session.steps
    gradients = [i for i, key in enumerate(steps.order) if key.kind in ("grad_w", "grad_b")]
    progress = _Progress(len(gradients), "gradients checked")
    for i in gradients:
        step = steps[i]
        found = session.gradient_check(step)
        assert found is not None  # a gradient step has its check
        progress.tick()
        counts[found.verdict] += 1
        mark = {AGREES: "✓", DIFFERS: "✗ differs"}.get(found.verdict, "≈ expected")
        if found.caveat and found.caveat not in notes and found.verdict != AGREES:
            notes.append(found.caveat)
        rows.append([str(step.index), found.name, fmt(found.analytic, 12),
                     fmt(found.numeric, 12), fmt(found.relative, 2), mark])
    progress.done()
    _print_table(["step", "name", "analytic", "numeric", "rel. diff", ""], rows, right=(0,),
                 numbers=(2, 3, 4))
    _say(f"\n{printable(source.name)}: {len(rows):,} gradients of epoch 1 against "
         f"(E(θ+h) − E(θ−h))/2h; {counts['agrees']:,} agree (✓), {counts['differs']:,} "
         f"differ (✗) beyond a relative {fmt(RELATIVE, 2)} (absolute {fmt(ABSOLUTE, 2)} "
         "near zero)")
    if counts["expected"]:
        _say(f"{counts['expected']:,} differ as expected and are not counted (≈):")
    for note in notes:
        _say(f"  ≈ {note}")
    if rounded:
        _say(f"Hand rounding ({rounded} digits) set aside: the check is of the exact "
              "computation.")
    return 1 if counts["differs"] else 0


def _app(args: argparse.Namespace) -> int:
    """Open the app; a bad file, preset, theme or session is reported before the screen
    opens. The session is kept in the state folder as it changes; a session found there is
    offered on start, and never overwritten silently."""
    from textual.theme import BUILTIN_THEMES

    from backprop_tui.session.autosave import (
        AllTaken,
        Autosaver,
        LastSession,
        claim,
        find_last,
        others_saved,
        state_path,
    )

    if args.theme is not None and args.theme not in BUILTIN_THEMES:
        raise Problem(f"no theme named {args.theme!r}; the themes are: "
                      f"{', '.join(sorted(BUILTIN_THEMES))}")
    remembered = _preferred(args, BUILTIN_THEMES)
    preferences = remembered.preferences
    if args.resume is not None:
        start: Session | Opening = _quizzed(_resumed(args), args)  # alone: the last session
    else:
        given, source = _opened(args, remembered)

        from backprop_tui.app.opening import Opening, new_session

        def build() -> Session:  # --quiz and --tolerance win over the preferences
            return _quizzed(new_session(given, source, preferences), args)

        start = Opening(given, build)
    from backprop_tui.app.app import BackpropApp

    _raise_lost()  # a ctrl+c as the app loaded: the app does not open
    # Only now, every flag and file read (a problem with one writes nothing):
    notice = None
    folder = _state_folder(args.state_folder_in)
    try:
        claimed = claim(state_path(folder))  # held while the app runs: another app saves elsewhere
    except AllTaken as taken:  # then this one saves nothing: no file is free
        claimed, notice = None, f"{taken}: this one saves nothing (x still exports it)."
    saved = state_path(folder) if claimed is None else claimed.path
    last: LastSession | None = None

    if args.resume is None and notice is None:
        last = find_last(saved)  # a damaged file is moved aside, and the prompt says why
        if last is not None:
            # --quiz and --tolerance apply to whichever is resumed
            last = dataclasses.replace(last, others=others_saved(state_path(folder), saved),
                                       prepare=lambda session: _quizzed(session, args))
            if last.session is not None:
                _quizzed(last.session, args)
    # A file that is not this session's own is moved to .previous.json before the first save.
    own = args.resume is not None and os.path.realpath(args.resume) == os.path.realpath(saved)
    autosaver = None if notice else Autosaver(saved, keep_old=not own)
    busy = None if claimed is None else claimed.busy
    # What is loaded by now lives as long as the process: kept out of the collector's
    # passes (a full pass over it cost tens of milliseconds of the first frame).
    gc.freeze()
    app = BackpropApp(start, theme=args.theme or preferences.theme, autosaver=autosaver,
                      last=last, busy=busy, notice=notice, remembered=remembered)
    try:
        app.run()
    finally:
        if app.autosaver is not None:  # None once the person chose read-only
            app.autosaver.flush()  # the app flushes on quit; this covers a crash
    if autosaver is not None and autosaver.error:
        print(f"{PROG}: the session could not be saved: {autosaver.error}", file=sys.stderr)
        return 1
    return app.return_code or 0  # 1 after a crash, which Textual has shown


def _state_folder(inside: Path | None) -> Path | None:
    """With --state-folder-in: a new folder of this app's own inside it (None without)."""
    if inside is None:
        return None
    import tempfile

    try:
        return Path(tempfile.mkdtemp(prefix="tab-", dir=inside))
    except OSError as error:
        raise Problem(f"no folder can be made in {quoted(str(inside))}: "
                      f"{error.strerror or error}") from None


def _serve(args: argparse.Namespace) -> int:
    """Serve the app: every flag checked here, once, before any tab runs an app with it."""

    import platformdirs

    from backprop_tui.serve import exposure_warning, serve, sessions_folder

    if args.resume is not None:
        raise Problem("--resume goes with the app, not serve")
    if args.no_config:
        raise Problem("--no-config goes with the app, not serve (the served apps never read "
                      "or write the preferences)")
    if args.theme is not None:
        from textual.theme import BUILTIN_THEMES

        if args.theme not in BUILTIN_THEMES:
            raise Problem(f"no theme named {args.theme!r}; the themes are: "
                          f"{', '.join(sorted(BUILTIN_THEMES))}")
    _sourced(args, app=True)  # a bad network file is said here, not in every tab
    options = [*(["--preset", args.preset] if args.preset is not None else []),
               *(["--config", os.path.abspath(args.config)] if args.config is not None else []),
               *(["--rounding", str(args.rounding)] if args.rounding is not None else []),
               *(["--theme", args.theme] if args.theme is not None else []),
               *(["--quiz"] if args.quiz else []),
               *(["--tolerance", repr(args.tolerance)] if args.tolerance is not None else [])]
    try:
        folder = sessions_folder(platformdirs.user_state_path("backprop-tui"))
    except OSError as error:
        raise Problem(f"no folder can be made for the sessions: {error.strerror or error}") \
            from None
    warning = exposure_warning(args.host, args.port)
    if warning is not None:
        print(f"{PROG}: {warning}", file=sys.stderr)
    print(f"Each tab's session is kept in {folder}", flush=True)
    try:
        serve(args.host, args.port, args.public_url, folder, options)
    except OSError as error:  # the port taken, the address not this machine's
        raise Problem(f"cannot serve on {args.host}:{args.port}: {error.strerror or error}") \
            from None
    return 0


def _preferred(args: argparse.Namespace, themes: Collection[str]) -> Remembered:
    """The app's preferences, read from their file (none with --no-config)."""
    from backprop_tui.app.preferences import PreferencesFile, Remembered

    return Remembered(None if args.no_config else PreferencesFile(), themes)


def _opened(args: argparse.Namespace, remembered: Remembered) -> tuple[Given, Source]:
    """The network the app opens: --preset or --config, else the one opened last (or, if it
    cannot be opened any more, saying why, the default preset); remembered as the last."""
    chosen = args.preset is not None or args.config is not None
    last = remembered.preferences
    if not chosen and last.network is not None:
        option = "config" if last.network_kind == "file" else "preset"
        tried = argparse.Namespace(**{**vars(args), option: last.network})
        try:
            return _sourced(tried, app=True)
        except Problem as problem:
            remembered.forget_network(f"The network you opened last cannot be opened any "
                                      f"more ({problem}); {DEFAULT} opens instead.")
    given, source = _sourced(args, app=True)
    if chosen:
        remembered.opened(source.kind, source.name)
    return given, source


def _train(args: argparse.Namespace) -> int:
    gc.disable()  # plain epochs make no reference cycles: no collector passes over numpy's
    try:
        return _trained(args)
    finally:
        gc.enable()


def _trained(args: argparse.Namespace) -> int:
    from backprop_tui.engine.fastpath import run_epochs
    from backprop_tui.engine.trace import loss_of

    network = _network(args)
    _raise_lost()  # most are lost as the modules load: none of the epochs is run then
    run = run_epochs(network, args.epochs, keep=False, progress=_going_on)
    if run.diverged:
        raise Problem(_divergence(run.epochs + 1, run.network), DIVERGED)
    final = run.network
    loss_final = loss_of(final)
    if not math.isfinite(loss_final) and run.previous is not None:  # the last epoch's
        raise Problem(_divergence(run.epochs, run.previous), DIVERGED)  # error after it
    import json

    result = json.dumps({
        "epochs": args.epochs,
        "loss_initial": run.first_loss,
        "loss_final": loss_final,
        "updates": args.epochs * len(final.batches()),
        "weights": [w.tolist() for w in final.weights],
        "biases": final.bias_values(final.biases),
        "state": final.state_document(),
    })
    try:
        with open_output("-") as stream:
            stream.write(result + "\n")
    except OutputError as error:
        raise Problem(str(error)) from None
    return 0


def _going_on(_run: object) -> bool:
    """Between chunks of epochs: an interrupt Python could not raise is raised here."""
    _raise_lost()
    return True


def _divergence(epoch: int, start: Network) -> str:
    from backprop_tui.engine.trace import trace_epoch
    from backprop_tui.steps.build import EpochSteps

    found = EpochSteps(epoch, trace_epoch(start)).diverged
    where = f", step {found[0]} ({found[1]} = {found[2]})" if found else ""
    return f"diverged at epoch {epoch}{where}"


def _quizzed(session: Session, args: argparse.Namespace) -> Session:
    """--quiz turns the quiz on and --tolerance sets it (a resumed session keeps its own
    otherwise)."""
    if args.quiz:
        session.quiz.on = True
    if args.tolerance is not None:
        session.quiz.tolerance = args.tolerance
    return session


def _resumed(args: argparse.Namespace) -> Session:
    """A saved session; --preset and --config do not apply to it."""
    from backprop_tui.session.persist import SessionFileError, read_session

    if args.preset is not None or args.config is not None:
        raise Problem("--resume takes its network from the session file: drop --preset/--config")
    if args.rounding is not None:
        raise Problem("--resume takes its rounding from the session file: drop --rounding")
    if args.resume == LAST_SESSION:
        args.resume = str(_last_saved())
    try:
        return read_session(args.resume)
    except (OSError, ValueError) as error:
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        raise Problem(f"{args.resume}: cannot read the file: {reason}") from None
    except SessionFileError as error:
        raise Problem(str(error)) from None


def _last_saved() -> Path:
    """The last session's file for --resume; Problem if there is none, saying where it
    looked and what to do instead."""
    from backprop_tui.session.autosave import earlier_paths, state_path

    path = state_path()
    try:
        if path.exists():
            return path
        earlier = [found for found in earlier_paths(path) if found.exists()]
    except OSError:
        earlier = []
    if earlier:
        count = "an earlier one" if len(earlier) == 1 else f"{len(earlier)} earlier ones"
        raise Problem(f"--resume: no last session in {path.parent}, but {count}: run "
                      "backprop-tui without --resume to pick one, or "
                      f"--resume {earlier[0]}")
    raise Problem(f"--resume: nothing saved yet in {path.parent} (the app keeps your session "
                  "there as you work): run backprop-tui without --resume to start one, or "
                  "give a session file: --resume FILE")


def _exercises(args: argparse.Namespace) -> int:
    """A class's exercise set in a folder (``export.exercises``); one line on what was
    written."""
    from backprop_tui.export.exercises import MAX_EPOCHS, Impossible, check_folder, write_set

    if args.epochs > MAX_EPOCHS:
        raise Problem(f"exercises --epochs: at most {MAX_EPOCHS} (each student's worksheet "
                      f"covers them all), got {args.epochs:,}")
    given, _ = _sourced(args)
    progress = _Progress(args.students, "students' numbers drawn")
    try:
        check_folder(args.output, args.force)
        written = write_set(given, args.output, students=args.students, seed=args.seed,
                            epochs=args.epochs, tolerance=args.moodle_tolerance,
                            tick=progress.tick)
    except (OutputError, Impossible) as error:
        raise Problem(str(error)) from None
    finally:
        progress.done()
    _say(f"{printable(args.output)}: {len(written):,} files for {args.students:,} "
         f"student{'s' if args.students != 1 else ''} (seed {args.seed}): "
         f"{written[0]} … {written[-1]}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from backprop_tui.export.formats import FORMATS, markdown
    from backprop_tui.session.session import Session
    from backprop_tui.steps.names import UnknownName

    writer = FORMATS[args.format or "jsonl"]
    if args.flavor is not None:  # refused, not ignored: it says the file is for GitHub
        if args.format != "md" or args.worksheet:
            raise Problem("--flavor goes with --format md (the Markdown log), not with "
                          + ("--quiz" if args.worksheet else f"--format {args.format or 'jsonl'}"))
        writer = markdown(args.flavor)
    if args.worksheet:  # a worksheet is Markdown, of a network (a saved session has edits)
        if args.format not in (None, "md"):
            raise Problem("--quiz writes a Markdown worksheet: drop --format")
        if args.resume is not None:
            raise Problem("--quiz makes a worksheet of a network: give --preset or --config, "
                          "not --resume")
        from backprop_tui.export.worksheet import render as writer
    try:
        check_target(args.output, args.force)
        if args.resume is not None:
            session = _resumed(args)  # its log up to the saved cursor
        else:
            given, source = _sourced(args)
            session = Session(given.network(), source=source)
            if args.to is not None:
                session.goto(args.to)
            else:
                while session.epoch < args.epochs and session.next_epoch():
                    pass
                session.last()
        with open_output(args.output) as stream:
            for piece in writer(session, datetime.now(UTC)):
                stream.write(piece)
    except OutputError as error:
        raise Problem(str(error)) from None
    except UnknownName as error:
        raise Problem(f"--to {clipped(args.to)}: {error}") from None
    if session.diverged:
        raise Problem(session.diverged, DIVERGED)
    return 0
