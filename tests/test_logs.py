"""The Markdown and plain-text session logs: the tutorial's numbers, balanced math, a golden
file of the mazur epoch, actions where they happened, 100 columns, and streaming.

Accept an intended change of the Markdown log with
    GOLDEN_UPDATE=1 PYTHONPATH=tui python -m pytest tests/test_logs.py
"""

from __future__ import annotations

import os
import pathlib
import re
import tomllib
import types
from datetime import UTC, datetime

import numpy as np
import pytest
from backprop_tui.export import markdown, text
from backprop_tui.export.formats import FORMATS
from backprop_tui.export.log import log_items
from backprop_tui.netfile import Source, dump_network, parse_network
from backprop_tui.network import Network, frozen
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from test_tutorial_numbers import FIRST_ROUND, step_key, within_printed

GOLDEN = pathlib.Path(__file__).parent / "data" / "mazur-epoch1.md"
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"
NOW = datetime(2025, 3, 17, 12, 0, tzinfo=UTC)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
PHASES = ["Forward pass", "Error", "Output layer", "Hidden layer", "Updates"]


def mazur_session() -> Session:
    return Session(load_preset("mazur"), source=Source("preset", "mazur", preset_text("mazur")))


def one_epoch() -> Session:
    session = mazur_session()
    session.last()
    return session


def eventful() -> Session:
    """An edit, a fast-forward and undos: of an option edit, and of the fast-forward."""
    session = mazur_session()
    session.goto(5)
    assert session.edit("w5", 0.3)
    session.last()
    session.next_epoch()
    assert session.fast_forward(3)
    assert session.edit("learning_rate", 0.6)
    assert session.undo()  # the learning-rate edit
    assert session.undo()  # the fast-forward: back to the start of epoch 2
    session.goto(2)
    return session


def wide() -> Session:
    """Every option the mazur net leaves out: tanh and ReLU, the mean squared error, per-unit
    biases that are updated, updates during the backward pass, and a sum too long for a line."""
    rng = np.random.default_rng(7)
    network = Network(
        inputs=frozen(rng.uniform(0.1, 1.0, size=12)),
        targets=frozen([0.2, -0.3]),
        weights=(frozen(rng.uniform(0.1, 0.5, size=(3, 12))),
                 frozen(rng.normal(size=(2, 3)))),
        biases=(frozen([0.1, 0.2, 0.3]), frozen([0.05, -0.05])),
        activations=("relu", "tanh"),
        learning_rate=0.1,
        loss="mse",
        update_biases=True,
        update_order="during_backward",
    )
    session = Session(network)
    session.next_epoch()
    session.last()
    return session


def render(module: types.ModuleType, session: Session) -> str:
    return "".join(module.render(session, NOW))


@pytest.fixture(scope="module")
def mazur_md() -> str:
    return render(markdown, one_epoch())


@pytest.fixture(scope="module")
def mazur_txt() -> str:
    return render(text, one_epoch())


def close(shown: str, printed: str) -> bool:
    """Within one unit of the coarser last digit of the two (9 significant digits may print
    1.10590597 where the tutorial prints 1.105905967)."""
    return within_printed(float(shown), printed) or within_printed(float(printed), shown)


def step_sections(log: str, start: str) -> dict[int, str]:
    """Step number -> its part of the log; ``start`` matches a step's first line."""
    parts = re.split(start, log, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def check_first_round(log: str, start: str) -> None:
    steps = one_epoch().steps
    sections = step_sections(log, start)
    assert len(sections) == len(steps) == 55
    missing = []
    for name, printed in FIRST_ROUND.items():
        section = sections[steps.keys[step_key(name)]]
        if not any(close(shown, printed) for shown in NUMBER.findall(section)):
            missing.append((name, printed))
    assert missing == []


def test_markdown_holds_every_number_of_the_tutorial(mazur_md: str) -> None:
    check_first_round(mazur_md, r"^\*\*Step (\d+)\*\* ·")


def test_text_holds_every_number_of_the_tutorial(mazur_txt: str) -> None:
    check_first_round(mazur_txt, r"^Step (\d+) ·")


def test_markdown_reads_as_the_tutorial(mazur_md: str) -> None:
    places = [mazur_md.index(f"\n### {phase}\n") for phase in PHASES]
    assert places == sorted(places)
    updates = mazur_md[places[-1]:]
    assert "&= 0.291027774\n" in updates  # the error after the updates, by the stated method
    assert mazur_md.index("## Epoch 1\n") < places[0]
    assert "### Summary of epoch 1" in updates
    assert "| $w_{5}$ | h1 → o1 | 0.4 | 0.0821670406 | 0.35891648 |" in updates
    assert "```toml\n# The network of Matt Mazur's" in mazur_md
    assert "- **Exported:** 2025-03-17T12:00:00+00:00" in mazur_md


def test_text_reads_as_the_tutorial(mazur_txt: str) -> None:
    places = [mazur_txt.index(f"\n{phase}\n{'-' * len(phase)}\n") for phase in PHASES]
    assert places == sorted(places)
    assert "  net_h₁ = w₁·i₁ + w₂·i₂ + b₁\n         = 0.15·0.05 + 0.2·0.1 + 0.35\n" in mazur_txt
    assert "           = 0.291027774\n" in mazur_txt[places[-1]:]


def math_problems(log: str) -> list[str]:
    """Unbalanced math: a $$ block left open, \\begin without its \\end, an odd number of $
    on a line, braces or \\left/\\right unmatched in a formula."""
    problems: list[str] = []
    block: list[str] | None = None
    fence = ""
    for number, line in enumerate(log.splitlines(), 1):
        if block is None and (fence or line.startswith("```")):
            if not fence:
                fence = re.match(r"`+", line)[0]  # type: ignore[index]
            elif line == fence:
                fence = ""
            continue
        if line.strip() == "$$":
            if block is not None:
                problems += [f"line {number}: {p}" for p in tex_problems("\n".join(block))]
            block = None if block is not None else []
            continue
        if block is not None:
            if "$" in line:
                problems.append(f"line {number}: $ inside a $$ block")
            block.append(line)
            continue
        if "$$" in line:
            problems.append(f"line {number}: $$ not on a line of its own")
        if len(re.findall(r"(?<!\\)\$", line)) % 2:
            problems.append(f"line {number}: an unpaired $")
        for formula in re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", line):
            problems += [f"line {number}: {p}" for p in tex_problems(formula)]
    if block is not None:
        problems.append("a $$ block is never closed")
    return problems


def tex_problems(tex: str) -> list[str]:
    problems = []
    plain = tex.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for char in plain:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            problems.append(f"a }} closes nothing in {tex!r}")
            break
    if depth > 0:
        problems.append(f"{depth} {{ left open in {tex!r}")
    environments: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            environments.append(name)
        elif not environments or environments.pop() != name:
            problems.append(rf"\end{{{name}}} without its \begin in {tex!r}")
    problems += [rf"\begin{{{name}}} never ended" for name in environments]
    if len(re.findall(r"\\left\b", tex)) != len(re.findall(r"\\right\b", tex)):
        problems.append(rf"\left and \right unmatched in {tex!r}")
    return problems


def test_math_problems_are_found() -> None:
    assert math_problems("$$\n\\begin{aligned}\nx &= 1\n\\end{aligned}\n$$\n$a_{1}$ b") == []
    assert math_problems("$$\nx\n") == ["a $$ block is never closed"]
    assert len(math_problems("$$\n\\begin{aligned}\nx\n$$\n")) == 1
    assert len(math_problems("costs $5")) == 1
    assert math_problems("costs \\$5") == []
    assert len(math_problems("$\\frac{1}{2$")) == 1
    assert math_problems("```toml\n$ in code\n```") == []


@pytest.mark.parametrize("build", [one_epoch, eventful, wide])
def test_math_is_balanced(build) -> None:  # type: ignore[no-untyped-def]
    log = render(markdown, build())
    assert log.count("\n$$\n") >= 2
    assert math_problems(log) == []


def test_golden_markdown(mazur_md: str) -> None:
    if UPDATE:
        GOLDEN.write_text(mazur_md, "utf-8")
        return
    assert GOLDEN.exists(), f"no {GOLDEN}; write it with GOLDEN_UPDATE=1"
    expected = GOLDEN.read_text("utf-8")
    assert mazur_md == expected, (
        f"the mazur Markdown log changed: diff it with {GOLDEN}; if the change is intended, "
        "accept it with GOLDEN_UPDATE=1 PYTHONPATH=tui python -m pytest tests/test_logs.py")


def network_file(log: str) -> str:
    """The text log's copy of the network file: from its heading to the first epoch's."""
    start = log.index("Network file\n------------\n\n") + len("Network file\n------------\n\n")
    return log[start:log.index("\n\nEpoch 1\n=", start)]


@pytest.mark.parametrize("build", [one_epoch, eventful, wide])
def test_text_fits_in_100_columns(build) -> None:  # type: ignore[no-untyped-def]
    log = render(text, build())
    copied = network_file(log)
    rest = log.replace(copied, "")
    long = [line for line in rest.splitlines() if len(line) > 100]
    assert long == []


@pytest.mark.parametrize("build", [one_epoch, wide])
def test_text_log_network_file_parses_back_to_the_network(build) -> None:  # type: ignore[no-untyped-def]
    """The text log's copy of the network file is TOML: tomllib and netfile read it back."""
    session = build()
    copied = network_file(render(text, session))
    assert max(len(line) for line in copied.splitlines()) > 100  # that wrapping would break
    source = session.source.text if session.source else dump_network(session.base)
    assert tomllib.loads(copied) == tomllib.loads(source)
    assert dump_network(parse_network(copied, "the log")) == dump_network(session.base)


def test_long_formulas_wrap_under_their_right_hand_side() -> None:
    log = render(text, wide())
    first = log.index("  net_h₁ = ")
    lines = log[first:].splitlines()
    assert len(lines[0]) > 90 and lines[1].startswith(" " * len("  net_h₁ = "))
    assert not lines[1].startswith(" " * (len("  net_h₁ = ") + 1))


@pytest.mark.parametrize("module", [markdown, text])
def test_actions_appear_where_they_happened(module: types.ModuleType) -> None:
    log = render(module, eventful())
    edit = log.index("w5: 0.4 → 0.3 from epoch 1")
    assert log.index("Step 5") < edit < log.index("Step 6")  # after step 5, where it was made
    forward = log.index("fast-forward from epoch 2 to epoch 5")
    assert log.rindex("Epoch 2") < forward
    assert re.search(r"learning.?.?rate: 0\.5 → 0\.6 from epoch 5", log)
    assert re.search(r"learning.?.?rate = 0\.6 from epoch 5 removed", log)
    undone = log.index("fast-forward from epoch 2 to epoch 5 removed")
    assert forward < log.index("Actions made elsewhere") < undone  # made after the cursor
    assert log.index("Step 2", forward) < log.index("Actions made elsewhere")
    assert "(at the start of epoch 5)" in log[undone:]
    assert "w5 = 0.3" in log  # the edit in effect from epoch 1
    assert log.rstrip().endswith("The log ends at step 2 of 55 of epoch 2.")


@pytest.mark.parametrize("module", [markdown, text])
def test_a_fast_forward_is_one_paragraph(module: types.ModuleType) -> None:
    session = mazur_session()
    session.fast_forward(3)
    session.goto(1)
    log = render(module, session)
    assert "Epochs 1 to 3 (fast-forward)" in log
    assert re.search(r"Fast-forward:\S* epochs 1 to 3 run in one go", log)
    assert "0.298371109 →" in log  # the error at the start of epoch 1 ...
    assert "(from the start of epoch 1 to the start of epoch 4)" in log
    assert "Step 1" in log and "Step 2" not in log and "Epoch 4" in log


@pytest.mark.parametrize("name, module", [("md", markdown), ("txt", text)])
def test_logs_stream(monkeypatch: pytest.MonkeyPatch, name: str, module: types.ModuleType
                     ) -> None:
    session = mazur_session()
    session.next_epoch()
    session.next_epoch()
    session.last()
    total = sum(1 for _ in log_items(session))
    taken = [0]

    def counted(session: Session):  # type: ignore[no-untyped-def]
        for item in log_items(session):
            taken[0] += 1
            yield item

    monkeypatch.setattr(markdown, "log_items", counted)
    for pieces in (module.render(session, NOW), FORMATS[name](session, NOW)):
        taken[0] = 0
        assert isinstance(pieces, types.GeneratorType)
        assert taken[0] == 0  # nothing built before the first piece is asked for
        first = next(pieces)
        assert first.startswith(("# backprop-tui session log", "backprop-tui session log"))
        assert taken[0] < total
        count = 1 + sum(1 for _ in pieces)
        assert taken[0] == total and count > 3 * total // 4
