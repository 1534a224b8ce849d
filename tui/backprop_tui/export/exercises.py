"""A class's exercise set: the same network for every student, each with weights and biases
of their own, and what a teacher hands out and marks with.

Student s's network keeps the given network's shape, options, inputs, targets and η; each of
its weights and biases is a number from −1.00 to 1.00 in steps of 0.01 (two decimals), taken
from the SHA-256 digest of the seed, s, the draw's number and the parameter's name, so the same
seed gives the same set on every machine and in every version. A draw is kept when no unit
saturates (every ∂out/∂net step above 0.05: a constant slope, a linear unit's 1, always is)
and no gradient (∂E/∂w, ∂E/∂b) is below 1e-4 in magnitude (but one that a given input of 0
makes 0, which no draw changes), in every epoch of the set;
otherwise the next draw is tried, up to 1,000. The rules are read from the variant's own
steps, through its session, as the exports read them.

The folder holds, for each student, the network file (``student-01.toml``), the worksheet
without its key (``student-01.md``) and the key (``key-01.md``); for all of them, every key
value as CSV (``keys.csv``) and the Moodle question bank (``moodle.xml``, ``export.moodle``).
Nothing in it carries a time or a path: the same command writes the same bytes.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from backprop_tui.export import moodle
from backprop_tui.export.worksheet import split
from backprop_tui.netfile import Source, dump_network, parse_given
from backprop_tui.network import Given
from backprop_tui.output import OutputError, open_output, path_shown
from backprop_tui.session.session import Session
from backprop_tui.steps.build import EpochSteps
from backprop_tui.steps.step import Step

LOWEST, HIGHEST = -100, 100  # hundredths: every weight and bias from −1.00 to 1.00
MIN_SLOPE = 0.05  # a unit whose ∂out/∂net is at most this is saturated (or, ReLU, dead)
MIN_GRADIENT = 1e-4  # a gradient below this in magnitude teaches nothing by hand
MAX_DRAWS = 1000
MAX_STUDENTS = 999
MAX_EPOCHS = 20  # the set is built in memory, and a worksheet of more is no exercise
# The worksheet's header is given a time only for the log's "Exported" field, which a
# worksheet leaves out: a fixed one keeps any future use of it from changing the bytes.
FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
SATURATION = ("the saturation rule", f"every ∂out/∂net above {MIN_SLOPE}")
GRADIENT = ("the gradient rule", f"every ∂E/∂w and ∂E/∂b at least {MIN_GRADIENT:g} in magnitude")
FINITE = ("the finite rule", "every value finite (no divergence)")
RULES = (SATURATION, GRADIENT, FINITE)


class Impossible(Exception):
    """No draw met a rule; str() is one line naming it."""


@dataclass(frozen=True)
class Variant:
    """One student's network: its file's name (no suffix) and text, and its session at the
    end of the set's last epoch."""

    student: int
    name: str  # "student-01"
    text: str  # the network file
    session: Session
    epochs: int

    def steps(self) -> Iterator[EpochSteps]:
        """The set's epochs' steps, in order."""
        for epoch in range(1, self.epochs + 1):
            yield self.session.past_steps(epoch)


def drawn(seed: int, student: int, draw: int, name: str) -> float:
    """A parameter's value: from the SHA-256 of (seed, student, draw, name), a whole number
    of hundredths from LOWEST to HIGHEST (the 64 bits' modulo bias is below 1e-17)."""
    digest = hashlib.sha256(f"{seed}/{student}/{draw}/{name}".encode()).digest()
    hundredths = LOWEST + int.from_bytes(digest[:8], "big") % (HIGHEST - LOWEST + 1)
    return hundredths / 100


def variant_given(given: Given, seed: int, student: int, draw: int) -> Given:
    """The given network with every weight and bias drawn anew; nothing printed elsewhere
    (its values belong to the original numbers)."""
    names = given.names

    def value(name: str) -> float:
        return drawn(seed, student, draw, name)

    weights = tuple(tuple(tuple(value(name) for name in row) for row in layer)
                    for layer in names.weights)
    biases = tuple(tuple(value(name) for name in layer) for layer in names.biases)
    return dataclasses.replace(given, weights=weights, biases=biases, printed=())


def broken(session: Session, epochs: int) -> dict[tuple[str, str], str]:
    """Every rule the session's epochs break, each with the first step that breaks it (a
    draw is kept when this is empty). Values are read without building the steps (a draw
    is tried in a few milliseconds). A gradient that a given input of 0 makes 0 (∂E/∂w =
    δ·i with i = 0: XOR's examples) is not held to the gradient rule: no draw changes it."""
    found: dict[tuple[str, str], str] = {}
    for epoch in range(1, epochs + 1):
        steps = session.past_steps(epoch)
        if steps.diverged is not None:
            found.setdefault(FINITE, steps.diverged[1])
        for index, key in enumerate(steps.order, start=1):
            rule = {"slope": SATURATION, "grad_w": GRADIENT, "grad_b": GRADIENT}.get(key.kind)
            if rule is None or rule in found:  # the first step that breaks it is enough
                continue
            value = steps.value_at(index)
            if value is None or not math.isfinite(value):  # a divergence: the finite rule's
                continue
            if rule is SATURATION and not value > MIN_SLOPE:
                found[rule] = steps[index - 1].key
            elif rule is GRADIENT and not abs(value) >= MIN_GRADIENT:
                step = steps[index - 1]
                if not _zero_input(steps, step):
                    found[rule] = step.key
    return found


def _zero_input(steps: EpochSteps, gradient: Step) -> bool:
    """Whether a gradient is δ times a given input of 0."""
    for name in gradient.uses:
        source = steps[steps.keys[name] - 1] if name in steps.keys else None
        if (source is not None and source.kind == "dnet_dw" and source.value == 0
                and all(key.kind == "input" for key in source.typed_uses)):
            return True
    return False


def _session(text: str, name: str, epochs: int) -> Session:
    """The session of a network file's text, run to the end of ``epochs`` as ``export``
    runs it: what the keys must agree with."""
    session = Session(parse_given(text, name).network(), source=Source("file", name, text))
    while session.epoch < epochs and session.next_epoch():
        pass
    session.last()
    return session


def _file_text(network_text: str, seed: int, student: int) -> str:
    return (f"# backprop-tui exercises, seed {seed}, student {student}: the weights and biases\n"
            f"# drawn (two decimals, {LOWEST / 100:.2f} to {HIGHEST / 100:.2f}); the shape, "
            "options, inputs, targets and\n# learning rate as given.\n" + network_text)


def variant(given: Given, seed: int, student: int, epochs: int, width: int) -> Variant:
    """Student ``student``'s network: the first draw that meets every rule; Impossible
    after MAX_DRAWS, naming each rule every draw broke and the last step that broke it (or,
    when no rule was broken by all, how many draws broke each)."""
    name = f"student-{student:0{width}d}"
    misses: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], str] = {}
    for draw in range(MAX_DRAWS):
        text = _file_text(dump_network(variant_given(given, seed, student, draw).network()),
                          seed, student)
        session = _session(text, f"{name}.toml", epochs)
        found = broken(session, epochs)
        if not found:
            return Variant(student, name, text, session, epochs)
        for rule, key in found.items():
            misses[rule] = misses.get(rule, 0) + 1
            where[rule] = key
    always = [rule for rule in RULES if misses.get(rule) == MAX_DRAWS]
    if not always:  # each draw broke one rule or another
        counts = ", ".join(f"{rule[0]} by {misses[rule]:,}" for rule in RULES if rule in misses)
        raise Impossible(f"student {student}: none of {MAX_DRAWS:,} draws met every rule "
                         f"({counts})")
    named = ", nor ".join(f"{rule[0]} ({rule[1]}; last broken at {where[rule]})"
                          for rule in always)
    raise Impossible(f"student {student}: none of {MAX_DRAWS:,} draws met {named}"
                     f"{_why(always[0])}")


def _why(rule: tuple[str, str]) -> str:
    if rule is GRADIENT:
        return ": a softmax layer's shared bias or ReLU units can make it impossible"
    if rule is SATURATION:
        return (": large inputs, a learning rate large enough to saturate the units after "
                "an update, or ReLU units that must all be active, can make it impossible")
    return ": a smaller learning rate keeps training from diverging"


def check_folder(path: str, force: bool) -> None:
    """Refuse before any work is done: an empty path, a file, a non-empty folder (unless
    forced), a missing parent folder."""
    if not path:
        raise OutputError("the output folder is empty; give a folder's name")
    if path == "-":
        raise OutputError("-o -: the set is several files; give a folder's name")
    shown = path_shown(path)
    try:
        if os.path.isdir(path):
            if os.listdir(path) and not force:
                raise OutputError(f"{shown}: the folder is not empty; use --force to write "
                                  "into it")
            return
        if os.path.lexists(path):
            raise OutputError(f"{shown}: is not a folder; give a folder's name")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise OutputError(f"{shown}: the folder {path_shown(parent)} does not exist")
    except (OSError, ValueError) as error:
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        raise OutputError(f"{shown}: not a usable path: {reason}") from None


def keys_csv(variants: list[Variant]) -> str:
    """Every value of every student's key: student, epoch, step, name (as ``export`` names
    it), value (in full: the shortest text that reads back as the same float)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "epoch", "step", "name", "value"])
    for one in variants:
        for steps in one.steps():
            writer.writerows([one.name, step.epoch, step.index, step.key,
                              repr(step.value + 0.0)]  # (+ 0.0: no "-0.0")
                             for step in steps if step.value is not None)
    return out.getvalue()


def write_set(given: Given, folder: str, students: int, seed: int, epochs: int,
              tolerance: float, tick: Callable[[], None] = lambda: None) -> list[str]:
    """Draw every student's network (``tick`` after each), then write the folder (made if
    missing); the files' names, in the order written. Impossible (nothing written) when a
    rule cannot be met."""
    width = max(2, len(str(students)))
    variants = []
    for s in range(1, students + 1):
        variants.append(variant(given, seed, s, epochs, width))
        tick()
    files: dict[str, str] = {}
    for one in variants:
        sheet, key = split(one.session, FIXED_TIME)
        files[f"{one.name}.toml"] = one.text
        files[f"{one.name}.md"] = sheet
        files[f"key-{one.student:0{width}d}.md"] = key
    files["keys.csv"] = keys_csv(variants)
    files["moodle.xml"] = moodle.render(
        [(one.name, list(one.steps()), one.session) for one in variants], tolerance)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{path_shown(folder)}: cannot make the folder: "
                          f"{error.strerror or error}") from None
    for name in files:  # checked before any is written: no half-written set on a refusal
        target = os.path.join(folder, name)
        if os.path.lexists(target) and not os.path.isfile(target):
            raise OutputError(f"{path_shown(target)}: is not a file; the set writes it")
    for name, text in files.items():
        with open_output(os.path.join(folder, name)) as stream:
            stream.write(text)
    return list(files)
