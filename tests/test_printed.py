"""Printed values beside computed ones: the [printed] table, its ✓/⚠ marks and their reasons,
in the session, the app's panels, the logs and ``check-printed``."""

from __future__ import annotations

import json
import os
import pathlib
import re
import threading
from datetime import datetime

import pytest
from backprop_tui.app import view_model
from backprop_tui.cli import main
from backprop_tui.export.formats import FORMATS
from backprop_tui.export.markdown import escape
from backprop_tui.netfile import NetworkFileError, Source, parse_given
from backprop_tui.presets import preset_text
from backprop_tui.session.persist import dump_session, load_session
from backprop_tui.session.session import Session
from backprop_tui.steps.marks import AGREES, FOLLOWS, SLIP, agrees, exact
from backprop_tui.steps.names import resolve_printed

NOW = datetime(2026, 11, 28, 12, 0, 0)


def session_of(text: str, name: str = "net.toml") -> Session:
    source = Source("file", name, text)
    return Session(parse_given(text, name).network(), source=source)


def preset_session(name: str) -> Session:
    return Session(parse_given(preset_text(name), name).network(),
                   source=Source("preset", name, preset_text(name)))


def by_key(session: Session) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {mark.key: (mark.verdict, mark.roots) for mark in session.marks.values()}


def log(session: Session, kind: str) -> str:
    return "".join(FORMATS[kind](session, NOW))


# Agreement at the printed precision ---------------------------------------------------


@pytest.mark.parametrize(("value", "text", "expected"), [
    (0.581150964, "0.5812", True),  # within one unit of the 4th decimal
    (0.584797675, "0.5969", False),
    (0.59295, "0.5930", True),  # a written trailing zero counts: 4 decimals, not 3
    (0.5919, "0.5930", False),
    (0.5921, "0.593", True),
    (3.51018778e-05, "0.0000351085", False),
    (3.50847863e-05, "0.000035085", True),
    (3.51085e-05, "3.51085e-5", True),
    (2.4, "2", True),
    (3.5, "2", False),
    (float("nan"), "0.5", False),
])
def test_agreement_is_within_one_unit_of_the_last_written_digit(
        value: float, text: str, expected: bool) -> None:
    assert agrees(value, text) is expected


def test_the_digits_are_kept_as_written() -> None:
    text = (preset_text("deep-relu") + "\n[printed]\nw7_new = 0.511301270\n"
            '\n[printed."o1 @ epoch 3"]\nvalue = 0.5930\nnote = "mine"\n')
    entries = {(p.name, p.epoch): p for p in parse_given(text, "f").printed}
    assert entries[("o1", 3)].text == "0.5930" and entries[("o1", 3)].note == "mine"
    assert entries[("w7_new", 1)].text == "0.511301270"


@pytest.mark.parametrize(("table", "words"), [
    ("nope = 1", "no step named 'nope'"),
    ('h1 = "0.5"', "expected a number, got a string"),
    ("h1 = nan", "expected a finite number"),
    ("h1 = { note = 'x' }", "needs a value"),
    ("h1 = { value = 1, colour = 2 }", "unknown key 'colour'"),
    ("h1 = { value = 1, note = 2 }", "one line of text"),
    ('"h1 @ epoch 0" = 1', "the epoch must be 1 to 100,000"),
    ('"h1 @ epoch 200000" = 1', "the epoch must be 1 to 100,000"),
    ('"h1 @ epoch 99999999999999999999999" = 1', "the epoch must be 1 to 100,000"),
    ("i1 = 0.05", "given, not computed"),
    ("h1 = 1e-999999999", "at most 17 significant digits"),
    ("h1 = 0e999999999", "at most 17 significant digits"),
    ("h1 = 0.50000000000000000000000000000", "at most 17 significant digits"),
    ("h1 = 0.59\nout_h1 = 0.6", "the same step as key 'h1'"),
    ('E_total = 0.3\n"E_total @ epoch 1" = 0.3', "the same step as key 'E_total'"),
    ("apply = 1", "has no value of its own"),
    ('h1 = { value = 0.5, note = "\\u001b[31mred" }', "one line of text"),
    ("h1.1 = 0.5", 'needs quotes: "h1.1"'),
])
def test_a_bad_printed_table_is_one_line_naming_the_entry(table: str, words: str) -> None:
    with pytest.raises(NetworkFileError) as caught:
        resolve_printed(parse_given(preset_text("tanh-linear") + "\n[printed]\n" + table + "\n",
                                    "net.toml"), "net.toml")
    message = str(caught.value)
    assert message.startswith("net.toml: printed") and words in message
    assert "\n" not in message


def test_printed_must_be_a_table() -> None:
    with pytest.raises(NetworkFileError, match="key 'printed': expected a table"):
        parse_given("printed = 3\n" + preset_text("mazur").split("[printed]")[0], "f")


# The seed: every finding of the rewrite -------------------------------------------------

SEED_MARKS = {
    "net_h1": (AGREES, ()),
    "out_h1": (AGREES, ()),
    "out_h2": (SLIP, ()),  # the value for b1 = 0.35
    "net_o1": (SLIP, ()),  # w6·h1 where w6·h2 belongs
    "out_o1": (FOLLOWS, ("net_o1",)),
    "out_o2": (SLIP, ()),  # the same slip, in a sum the rewrite does not print
    "E_o1": (FOLLOWS, ("net_o1",)),
    "E_o2": (SLIP, ()),  # the other output's target
    "dE/dout_o1": (FOLLOWS, ("net_o1",)),
    "dout_o1/dnet_o1": (SLIP, ()),  # y(1 − y) at the error's derivative
    "dnet_o1/dw5": (SLIP, ()),  # h1 for b1 = 0.35, cut off
    "dE/dw5": (FOLLOWS, ("net_o1", "dout_o1/dnet_o1", "dnet_o1/dw5")),
    "w5+": (FOLLOWS, ("net_o1", "dout_o1/dnet_o1", "dnet_o1/dw5")),
    "w6+": (SLIP, ()),  # w5's gradient reused
}
SEED_COMPUTED = {  # the correct values, with b1 = 0.30
    "out_h2": 0.584797675, "net_o1": 1.095619339, "out_o1": 0.749438402,
    "out_o2": 0.770690492, "E_o1": 0.273384575, "E_o2": 0.024048330,
    "dE/dout_o1": 0.739438402, "dout_o1/dnet_o1": 0.187780484, "dnet_o1/dw5": 0.581150964,
    "dE/dw5": 0.080694032, "w5+": 0.359652984, "w6+": 0.409399807,
}


def test_seed_marks_tell_slips_from_what_follows_from_them() -> None:
    session = preset_session("seed")
    assert by_key(session) == SEED_MARKS
    computed = {mark.key: mark.computed for mark in session.marks.values()}
    for key, value in SEED_COMPUTED.items():
        assert computed[key] == pytest.approx(value, abs=1e-9), key


def test_seed_notes_explain_each_slip() -> None:
    notes = {mark.key: mark.printed.note for mark in preset_session("seed").marks.values()}
    assert "b1 = 0.35" in notes["out_h2"] and "b1 = 0.35" in notes["dnet_o1/dw5"]
    assert "h2 belongs" in notes["net_o1"] and "0.99" in notes["E_o2"]
    assert "0.7391" in notes["dout_o1/dnet_o1"] and "w5's gradient" in notes["w6+"]
    assert "∂out_o1/∂net_o1 · ∂net_o1/∂w5" in notes["dE/dw5"]  # the chain rule's notation
    assert "σ(net_o1)" in notes["out_o1"]  # ŷ1 = σ(ŷ1) written for σ(y1)


def test_seed_marks_in_the_app_panels() -> None:
    """The equation panel says why; the values panel marks each printed value."""
    session = preset_session("seed")
    session.goto("out_o1")
    equation = view_model.equation(session)
    assert equation is not None and equation.mark is not None
    assert equation.mark == ("⚠", "printed 0.7491, computed 0.749438402: follows from the "
                                  "slip in net_o₁ — the rewrite writes ŷ1 = 1/(1 + e^(−ŷ1)) "
                                  "where σ(net_o1) is meant")
    rows, _ = view_model.values(session)
    marks = {row.symbol: row.mark for row in rows}
    assert marks == {"net_h₁": "✓", "out_h₁": "✓", "net_h₂": "", "out_h₂": "⚠ 0.5969",
                     "net_o₁": "⚠ 1.094", "out_o₁": "⚠ 0.7491"}
    session.goto("net_h2")
    assert view_model.equation(session).mark is None  # type: ignore[union-attr]


def test_seed_marks_in_every_log() -> None:
    session = preset_session("seed")
    session.last()
    digits = session.digits
    markdown, text = log(session, "md"), log(session, "txt")
    for mark in session.marks.values():
        assert f"> {mark.symbol} {escape(mark.reason(digits))}\n" in markdown
        assert f"{mark.symbol} printed {mark.printed.text}" in text
    records = [json.loads(line) for line in log(session, "jsonl").splitlines()]
    printed = {r["key"]: r["printed"] for r in records if "printed" in r}
    assert {key: (p["mark"], tuple(p["follows_from"])) for key, p in printed.items()} == \
        SEED_MARKS
    assert printed["out_h2"]["value"] == "0.5969"


# The tutorial: every first-round value agrees; the closing figures do not ----------------


def test_mazur_first_round_agrees_and_the_closing_figures_need_the_other_order() -> None:
    session = preset_session("mazur")
    first = by_key(session)
    assert len(first) == 29
    assert {k for k, (verdict, _) in first.items() if verdict != AGREES} == {"E_total+"}
    after = next(m for m in session.marks.values() if m.key == "E_total+")
    assert after.computed == pytest.approx(0.291027774, abs=1e-9)
    assert "during_backward" in after.reason(9)
    session.fast_forward(10_000)
    assert session.epoch == 10_001
    late = {m.key: (m.verdict, m.computed) for m in session.marks.values()}
    assert {key: verdict for key, (verdict, _) in late.items()} == {
        "out_o1": SLIP, "out_o2": SLIP, "E_total": SLIP}


def test_mazur_closing_figures_agree_when_w5_to_w8_are_updated_first() -> None:
    text = preset_text("mazur").replace('update_order = "after_backward"',
                                         'update_order = "during_backward"')
    session = session_of(text)
    assert by_key(session)["E_total+"][0] == AGREES
    session.fast_forward(10_000)
    late = {m.key: m for m in session.marks.values()}
    assert late["out_o1"].verdict == late["out_o2"].verdict == AGREES
    # 0.0000351085 matches neither order; this one gives the copies' 0.000035085.
    assert late["E_total"].verdict == SLIP and agrees(late["E_total"].computed, "0.000035085")


@pytest.mark.parametrize("order", ["after_backward", "during_backward"])
def test_mazur_notes_read_right_under_either_update_order(order: str) -> None:
    """Under either order every ⚠ slip is explained by a note, and a note that says
    "as update_order = X does" stands beside a value that agrees exactly under X."""
    text = preset_text("mazur").replace('update_order = "after_backward"',
                                         f'update_order = "{order}"')
    session = session_of(text)
    marks = list(session.marks.values())
    session.fast_forward(10_000)
    marks += session.marks.values()
    for mark in marks:
        note = mark.printed.note
        assert note or mark.verdict != SLIP, mark.reason(9)
        named = re.search(r"as update_order = (\w+) does", note)
        if named:
            assert (mark.verdict == AGREES) == (named[1] == order), mark.reason(9)


# A user's own file --------------------------------------------------------------------

USER_PRINTED = """
[printed]
out_h1 = 0.59            # rounded to 2 digits: agrees at that precision
net_o1 = 1.1046          # worked from 0.59: follows from the rounding, no slip
"E_total" = { value = 0.3, note = "rounded at the end" }
"dE/dw5" = 0.0921        # a slip
"""


def user_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "homework.toml"
    path.write_text(preset_text("mazur").split("\n# The post's numbers")[0] + USER_PRINTED)
    return path


def test_a_user_file_is_marked_in_the_session_and_the_logs(tmp_path: pathlib.Path) -> None:
    path = user_file(tmp_path)
    session = session_of(path.read_text(), str(path))
    assert by_key(session) == {"out_h1": (AGREES, ()), "net_o1": (FOLLOWS, ()),
                               "E_total": (AGREES, ()), "dE/dw5": (SLIP, ())}
    reasons = {m.key: m.reason(9) for m in session.marks.values()}
    assert reasons["net_o1"] == ("printed 1.1046, computed 1.10590597: follows from rounding "
                                 "the printed values it was worked from")
    assert reasons["E_total"] == "printed 0.3: agrees — rounded at the end"
    session.last()
    assert ("> ⚠ printed 0.0921, computed 0.0821670406: a slip here (from the values printed "
            "before it: 0.0817408746)\n") in log(session, "md")


def test_check_printed_lists_every_mark_and_exits_1_on_any_warning(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-printed", str(user_file(tmp_path))]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["epoch", "step", "name", "printed", "computed", "mark"]
    rows = {line.split()[2]: line for line in lines[1:5]}
    assert rows["out_h1"].endswith("✓ agrees")
    assert rows["net_o1"].endswith("⚠ follows from rounding")
    assert rows["dE/dw5"].endswith("⚠ a slip here")
    assert rows["E_total"].endswith("✓ agrees — rounded at the end")
    assert lines[-1].endswith("4 printed values, 2 agree (✓), 2 do not (⚠)")


def test_check_printed_exits_0_when_all_agree(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "right.toml"
    path.write_text(preset_text("mazur").split("\n# The closing figures")[0])
    assert main(["check-printed", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("28 printed values, 28 agree (✓), "
                                                             "0 do not (⚠)")


def test_check_printed_of_the_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-printed", "--preset", "seed"]) == 1
    assert "14 printed values, 2 agree (✓), 12 do not (⚠)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["check-printed", "--preset", "tanh-linear"],  # no [printed] table
    ["check-printed", "x.toml", "--preset", "seed"],
    ["check-printed", "/no/such/file.toml"],
])
def test_check_printed_refuses_with_one_line(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("backprop-tui: ") and err.count("\n") == 1


def test_a_resumed_session_keeps_its_marks() -> None:
    session = preset_session("seed")
    session.goto("w6")
    document = "".join(dump_session(session, [], [], NOW))
    resumed = load_session(document.encode(), "saved.json")
    assert by_key(resumed) == SEED_MARKS


def test_a_last_digit_from_rounding_along_the_way_is_told() -> None:
    """The tutorial's ∂E_o2/∂out_h1 agrees but for its last digit: the post rounded δ_o2
    before multiplying. Every other first-round value agrees digit for digit."""
    session = preset_session("mazur")
    inexact = {m.key: m.reason(9) for m in session.marks.values()
               if m.verdict == AGREES and not exact(m.computed, m.printed.text)}
    assert inexact == {"dE_o2/dout_h1": (
        "printed -0.019049119: agrees but for its last digit (computed -0.0190491183): a "
        "value rounded along the way — the post rounds δ_o2 to -0.038098237 before "
        "multiplying by w7 = 0.5, its value before the update, as update_order = after_backward "
        "does")}


def test_a_user_file_is_marked_in_the_app_panels(tmp_path: pathlib.Path) -> None:
    path = user_file(tmp_path)
    session = session_of(path.read_text(), str(path))
    session.goto("dE/dw5")
    equation = view_model.equation(session)
    assert equation is not None and equation.mark is not None
    assert equation.mark[0] == "⚠" and equation.mark[1].startswith("printed 0.0921, computed")
    rows = {row.symbol: row.mark for row in view_model.values(session)[0]}
    assert rows["out_h₁"] == "✓" and rows["net_o₁"] == "⚠ 1.1046"
    assert rows["∂E/∂w₅"] == "⚠ 0.0921" and rows["net_h₁"] == ""


def test_check_printed_reads_a_pipe_once(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that can be read only once (a pipe, /dev/stdin) still gets its marks."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(preset_text("seed"),))
    writer.start()
    try:
        assert main(["check-printed", str(fifo)]) == 1
    finally:
        writer.join(10)
    assert "14 printed values, 2 agree (✓), 12 do not (⚠)" in capsys.readouterr().out


@pytest.mark.parametrize("table", [
    "out_o1 = 5.5e200\nE_o1 = 0.2748",
    "E_o1 = 1.5e299\nE_o2 = 1.5e299\nE_total = 0.2984",
    "net_h1 = -1e300\nout_h1 = 0.5",
])
def test_huge_printed_values_are_marked_not_crashed_on(
        table: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(preset_text("mazur").split("\n# The post's numbers")[0]
                    + "\n[printed]\n" + table + "\n")
    assert main(["check-printed", str(path)]) == 1
    assert "⚠" in capsys.readouterr().out
    session = session_of(path.read_text())
    session.last()
    assert "> ⚠ printed" in log(session, "md")


def test_a_printed_name_keeps_its_step_after_an_edit() -> None:
    """b2 names ∂E/∂b2 while biases stay fixed; switching them on later does not make it
    the new b2 (the step the name would resolve to now)."""
    text = preset_text("mazur").split("\n# The post's numbers")[0] + "\n[printed]\nb2 = 0.1004\n"
    session = session_of(text)
    assert by_key(session) == {"dE/db2": (AGREES, ())}
    session.edit("update_biases", True)
    assert by_key(session) == {"dE/db2": (AGREES, ())}


def test_hand_rounding_checks_at_the_digits_it_keeps() -> None:
    """Rounding to 4 digits, the tutorial's 9-digit values are checked at 4 digits."""
    text = preset_text("mazur").replace('update_order = "after_backward"',
                                         'update_order = "after_backward"\nrounding = 4')
    marks = by_key(session_of(text))
    assert marks["out_h1"] == (AGREES, ()) and marks["dE/dw5"] == (AGREES, ())


def test_check_printed_stops_where_the_training_diverges(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Values past a divergence are not computed: marked so, and exit 3 with the line that
    names the epoch and step, as stepping would find them."""
    path = tmp_path / "wild.toml"
    path.write_text(preset_text("mazur").split("\n# The post's numbers")[0]
                    .replace("learning_rate = 0.5", "learning_rate = 1e200")
                    .replace('"sigmoid"', '"linear"')
                    + '\n[printed]\nh1 = 0.3775\n"E_total+" = 0.3\n"h1 @ epoch 2" = 0.5\n')
    assert main(["check-printed", str(path)]) == 3
    out, err = capsys.readouterr()
    rows = {tuple(line.split()[:3]): line for line in out.splitlines()[1:4]}
    assert rows[("1", "2", "h1")].endswith("✓ agrees")
    assert rows[("1", "E_total+", "0.3")].endswith("not computed: the training diverged "
                                                    "before it")
    assert rows[("2", "h1", "0.5")].endswith("diverged before it")
    assert err == "backprop-tui: diverged at epoch 1, step 55 (E_total+ = inf)\n"
