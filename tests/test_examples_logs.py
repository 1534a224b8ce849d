"""The logs of several training examples: `xor` (full batch), `xor-online` and minibatches
of 3 (mean and sum). Every number of the JSON lines is a step's; each update record's
gradients are its examples' gradient steps combined (here, in a few lines); E and E⁺ come
from forward passes written here; the four formats agree; the Markdown's math is balanced;
a JSON export resumes; the worksheet hides every answer and its key holds every value.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from backprop_tui import cli
from backprop_tui.export import markdown, text, worksheet
from backprop_tui.export.formats import FORMATS
from backprop_tui.netfile import Source
from backprop_tui.network import Network
from backprop_tui.numbers import fmt, tex_value
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session
from test_logs import math_problems

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
KEY_ROW = re.compile(r"^\| (\d+) \| (\$.+\$) \| (\S+) \|$")
VARIANTS = ["xor", "xor-online", "k3-mean", "k3-sum"]


def network_of(name: str) -> Network:
    if name.startswith("k3"):
        return dataclasses.replace(load_preset("xor"), batch=3, batch_loss=name[3:])
    return load_preset(name)


def session_of(name: str, epochs: int = 2) -> Session:
    source = Source("preset", name, preset_text(name)) if not name.startswith("k3") else None
    session = Session(network_of(name), source=source)
    while session.epoch < epochs and session.next_epoch():
        pass
    session.last()
    return session


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


def errors(weights: list, biases: list, network: Network) -> list[float]:
    """Each example's ½Σ(t − o)² at these parameters: the 2-2-1 sigmoid forward pass."""
    found = []
    for x, t in zip(network.inputs, network.targets, strict=True):
        out = np.asarray(x, dtype=float)
        for w, b in zip(weights, biases, strict=True):
            out = 1 / (1 + np.exp(-(np.asarray(w) @ out + np.asarray(b).reshape(-1))))
        found.append(float(0.5 * np.sum((t - out) ** 2)))
    return found


def combined(values: list[float], how: str) -> float:
    return math.fsum(values) / (len(values) if how == "mean" else 1)


def records(session: Session) -> list[dict]:
    return [json.loads(line) for line in "".join(FORMATS["jsonl"](session, NOW)).splitlines()]


@pytest.fixture(scope="module", params=VARIANTS)
def logged(request: pytest.FixtureRequest) -> tuple[str, Session, list[dict]]:
    session = session_of(request.param)
    return request.param, session, records(session)


def test_every_number_of_the_jsonl_is_a_steps(logged) -> None:  # type: ignore[no-untyped-def]
    _, session, found = logged
    steps = [r for r in found if r["type"] == "step"]
    for epoch in (1, 2):
        expected = session.past_steps(epoch)
        mine = [r for r in steps if r["epoch"] == epoch]
        assert len(mine) == len(expected) > 150
        for record, step in zip(mine, expected, strict=True):
            assert record["key"] == step.key and record["value"] == step.value
            assert record["operands"] == list(step.operands)
            tag = re.search(r"\[(\d+)\]$", step.key)
            example = int(tag[1]) if tag and step.kind != "apply" else None
            assert record.get("example") == example


def test_update_records_combine_the_examples_gradient_steps(logged) -> None:  # type: ignore[no-untyped-def]
    name, session, found = logged
    network = session.base
    how = network.batch_loss
    size = {"xor": 4, "xor-online": 1}.get(name, 3)
    names = network.names
    weights = [w for layer in names.weights for row in layer for w in row]
    biases = [b for layer in names.biases for b in layer]
    order = [r["type"] for r in found]
    before = dict(network.given.by_name)  # the parameters the next update starts from
    for epoch in (1, 2):
        values = {r["key"]: r["value"] for r in found if r["type"] == "step"
                  and r["epoch"] == epoch}
        updates = [r for r in found if r["type"] == "update" and r["epoch"] == epoch]
        assert [u["examples"] for u in updates] == [
            list(range(k, min(k + size, 5))) for k in range(1, 5, size)]
        for update in updates:
            examples = update["examples"]
            tag = (f"[{examples[0]}..{examples[-1]}]" if len(examples) > 1
                   else f"[{examples[0]}]")
            flat_w = [g for layer in update["gradients"]["weights"] for row in layer for g in row]
            flat_b = [g for layer in update["gradients"]["biases"] for g in layer]
            for parameter, gradient in [*zip(weights, flat_w), *zip(biases, flat_b)]:
                parts = [values[f"dE/d{parameter}[{k}]"] for k in examples]
                assert close(gradient, combined(parts, how))
                assert close(values[f"{parameter}+{tag}"],
                             before[parameter] - network.learning_rate * gradient)
            totals = [values[f"E_total[{k}]"] for k in examples]
            assert close(update["loss"], combined(totals, how))
            # the update record comes right after the step applying it
            step = next(i for i, r in enumerate(found) if r["type"] == "step"
                        and r["epoch"] == epoch and r["key"] == f"apply{tag}")
            assert found[step + 1] is update and order[step + 1] == "update"
            after_w = [w for layer in update["weights"] for row in layer for w in row]
            after_b = [b for layer in update["biases"] for b in layer]
            for parameter, value in [*zip(weights, after_w), *zip(biases, after_b)]:
                assert value == values[f"{parameter}+{tag}"]
                before[parameter] = value
            assert update["state"] is None  # sgd keeps no state


def test_epoch_records_hold_the_data_sets_error(logged) -> None:  # type: ignore[no-untyped-def]
    _, session, found = logged
    network = session.base
    epochs = [r for r in found if r["type"] == "epoch"]
    updates = [r for r in found if r["type"] == "update"]
    per_epoch = len(updates) // 2
    start = network
    for record in epochs:
        e = combined(errors(list(start.weights), list(start.biases), network),
                     network.batch_loss)
        assert close(record["loss"], e)  # E: every example at the epoch's start parameters
        after = [r for r in updates if r["epoch"] == record["epoch"]][-1]
        assert record["weights"] == after["weights"] and record["biases"] == after["biases"]
        assert record["state"] is after["state"] is None
        e_plus = combined(errors(after["weights"], after["biases"], network),
                          network.batch_loss)
        assert close(record["loss_after"], e_plus)
        step = [r for r in found if r["type"] == "step" and r["epoch"] == record["epoch"]][-1]
        assert step["key"] == "E+" and step["value"] == record["loss_after"]
        assert record["updates"] == record["epoch"] * per_epoch
        assert ("gradients" in record) == (per_epoch == 1)
        start = dataclasses.replace(
            network, weights=tuple(np.array(w) for w in after["weights"]),
            biases=tuple(np.array(b) for b in after["biases"]))


def test_the_four_formats_agree(logged) -> None:  # type: ignore[no-untyped-def]
    _, session, found = logged
    document = json.loads("".join(FORMATS["json"](session, NOW)))
    assert document["steps"] == [r for r in found if r["type"] in ("step", "update")]
    assert document["epochs"] == [r for r in found if r["type"] == "epoch"]
    md = "".join(markdown.render(session, NOW))
    txt = "".join(text.render(session, NOW))
    shown = {id(md): lambda v: f"&= {tex_value(v, session.digits)}\n",
             id(txt): lambda v: f"= {fmt(v, session.digits)}\n"}
    for log, start in ((md, r"^\*\*Step (\d+)\*\* ·"), (txt, r"^Step (\d+) ·")):
        epochs = re.split(r"^(?:## )?Epoch \d+\n", log, flags=re.MULTILINE)[1:]
        assert len(epochs) == 2
        for epoch, part in enumerate(epochs, start=1):
            parts = re.split(start, part, flags=re.MULTILINE)
            sections = dict(zip(map(int, parts[1::2]), parts[2::2], strict=True))
            for record in found:
                if record["type"] == "step" and record["epoch"] == epoch and \
                        record["value"] is not None:
                    assert shown[id(log)](record["value"]) in sections[record["index"]]
        for record in found:
            if record["type"] in ("update", "epoch"):
                assert fmt(record["loss"], session.digits) in log


def test_the_logs_group_by_batch_and_example(logged) -> None:  # type: ignore[no-untyped-def]
    name, session, _ = logged
    md = "".join(markdown.render(session, NOW))
    epoch = md[md.index("## Epoch 1\n"):md.index("## Epoch 2\n")]
    headings = re.findall(r"^(#{3,5}) (.*)$", epoch, flags=re.MULTILINE)
    size = {"xor": 4, "xor-online": 1}.get(name, 3)
    expected = []
    batches = [(k, min(k + size - 1, 4)) for k in range(1, 5, size)]
    for number, (first, last) in enumerate(batches, start=1):
        span = f"examples {first} to {last}" if last > first else f"example {first}"
        expected.append(("###", f"Batch {number} of {len(batches)} · {span}"))
        for k in range(first, last + 1):
            row = session.base.inputs[k - 1]
            expected.append(("####", f"Example {k} · $i_{{1}} = {fmt(row[0])}$, "
                                     f"$i_{{2}} = {fmt(row[1])}$, $t_{{o_{{1}}}} = "
                                     f"{fmt(session.base.targets[k - 1][0])}$"))
            expected += [("#####", p) for p in
                         ("Forward pass", "Error", "Output layer", "Hidden layer")]
        if last > first:
            expected.append(("####", "Combining the batch"))
        expected.append(("####", "The update"))
    expected += [("###", "The data set's error"), ("###", "Summary of epoch 1")]
    assert headings == expected
    loss = session.past_steps(1).trace.loss
    assert f"is {fmt(loss, session.digits)}. The last step, $E^{{+}}$" in epoch
    assert "**Training examples:** 4; batch = " in md


@pytest.mark.parametrize("name", VARIANTS)
def test_math_is_balanced(name: str) -> None:
    session = session_of(name, 1)
    for log in ("".join(markdown.render(session, NOW)),
                "".join(worksheet.render(session, NOW))):
        assert log.count("\n$$\n") > 300
        assert math_problems(log) == []


def test_text_fits_in_100_columns() -> None:
    log = "".join(text.render(session_of("k3-sum", 1), NOW))
    assert [line for line in log.splitlines() if len(line) > 100] == []


def test_a_json_export_resumes(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The document holds the rows, the batch, batch_loss and the listed biases."""
    session = session_of("k3-sum", 2)
    session.goto(40)
    path = tmp_path / "session.json"
    path.write_text("".join(FORMATS["json"](session, NOW)), "utf-8")
    assert cli.main(["export", "--resume", str(path), "--format", "jsonl"]) == 0
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = records(session)
    assert [r for r in again if r["type"] != "header"] == [r for r in mine
                                                          if r["type"] != "header"]
    network = again[0]["network"]
    assert network["batch"] == 3 and network["batch_loss"] == "sum"
    assert network["inputs"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert network["layer"][1]["bias"] == [0.05]  # a list, as written


def test_export_of_xor_from_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for form in ("md", "txt", "json", "jsonl"):
        path = tmp_path / f"xor.{form}"
        assert cli.main(["export", "--preset", "xor", "--epochs", "2", "--format", form,
                         "-o", str(path)]) == 0
        assert path.stat().st_size > 100_000


def computed(session: Session) -> set[tuple[int, int, str, str]]:
    """(epoch, index, symbol, value) of every value the worksheet's epochs compute: each
    step's, and the outputs after the updates that E⁺ uses (no step of their own)."""
    found = set()
    digits = session.digits
    for epoch in range(1, session.epoch + 1):
        steps = session.past_steps(epoch)
        for step in steps:
            if step.value is not None:
                found.add((epoch, step.index, f"${step.symbol_tex}$", fmt(step.value, digits)))
        after = steps.trace.after
        for k, (x, _) in enumerate(zip(after.inputs, after.targets, strict=True), start=1):
            out = np.asarray(x, dtype=float)
            for w, b in zip(after.weights, after.biases, strict=True):
                out = 1 / (1 + np.exp(-(w @ out + b)))
            found.add((epoch, len(steps), rf"$\mathrm{{out}}_{{o_{{1}}}}^{{+}}[{k}]$",
                       fmt(float(out[0]), digits)))
    return found


@pytest.mark.parametrize("name", VARIANTS)
def test_the_worksheet_hides_every_answer_and_the_key_holds_every_value(name: str) -> None:
    session = session_of(name, 2)
    sheet = "".join(worksheet.render(session, NOW))
    questions, key = sheet.split("\n# Answer key\n")
    digits = session.digits
    values = computed(session)
    base = session.base
    given = {fmt(float(v), digits) for v in [*base.inputs.ravel(), *base.targets.ravel()]}
    given |= {fmt(v, digits) for v in base.given.by_name.values()}
    given |= {fmt(base.learning_rate, digits), "1", "2", "3", "4", "0", "-1"}
    answers = {value for *_, value in values}
    leaked = (answers - given) & set(NUMBER.findall(questions))
    assert leaked == set() and len(answers - given) > 150
    tables = key.split("\n## Epoch ")[1:]
    rows = {(int(table.split("\n")[0]), int(m[1]), m[2], m[3])
            for table in tables for line in table.splitlines() if (m := KEY_ROW.match(line))}
    assert rows == values
    count = sum(len(session.past_steps(e)) for e in (1, 2))
    assert questions.count("**Step ") == count
    applies = sum(1 for e in (1, 2) for s in session.past_steps(e) if s.kind == "apply")
    assert questions.count(worksheet.BLANK) == count - applies
    assert r"| $i_{2}[2]$ | 1 |" in questions and r"| $t_{o_{1}}[4]$ | 0 |" in questions
