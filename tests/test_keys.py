"""Keys: one type, written and read in one module; every key of every plan reads back as
itself, and no other module spells a key out."""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import pytest
from backprop_tui import keys
from backprop_tui.engine.plan import plan
from backprop_tui.keys import Key, NotAKey
from networks import mazur, random_networks

PACKAGE = pathlib.Path(keys.__file__).parent
# What only a key's text contains: the partials' and δ's prefixes, and a new value's "+".
KEY_PARTS = ("dE/d", "dnet_", "dout_", "delta_")

NETWORKS = [mazur(), dataclasses.replace(mazur(), update_order="during_backward",
                                         update_biases=True), *random_networks(7, 20)]


@pytest.mark.parametrize("network", NETWORKS)
def test_every_key_of_a_plan_reads_back_as_itself(network) -> None:
    steps = plan(network)
    for key in steps.keys:
        for used in (key, *steps.formula(key).uses):
            text = keys.text(used)
            assert keys.parse(text) == used, text
            assert keys.parse(text.upper()) == used, text  # any case
            assert keys.parse(keys.symbol(used)) == used, keys.symbol(used)  # the app's Unicode


@pytest.mark.parametrize(("typed", "expected"), [
    ("dE_total/dw5", Key("grad_w", param="w5")),
    ("w5_new", Key("new_w", param="w5")),
    ("dE_o1/dnet_o1", Key("delta", unit="o1")),
    ("dE/dnet_h1", Key("delta", unit="h1")),
    ("E_total_new", keys.TOTAL_AFTER),
    ("∂E/∂w₅", Key("grad_w", param="w5")),
    ("δ_o₁", Key("delta", unit="o1")),
    ("δo₁", Key("delta", unit="o1")),
    ("w₅⁺", Key("new_w", param="w5")),
    (" d E / d w 5 ", Key("grad_w", param="w5")),
    ("h1", Key("out", unit="h1")),
    ("o2", Key("out", unit="o2")),
    ("i1", Key("input", unit="i1")),
    ("t_o1", Key("target", unit="o1")),
    ("b1.2+", Key("new_b", param="b1.2")),
    ("dE_o2/dout_h1", Key("contrib", unit="h1", above="o2")),
    ("η", keys.ETA),
])
def test_typed_names_parse(typed: str, expected: Key) -> None:
    assert keys.parse(typed) == expected


@pytest.mark.parametrize("typed", ["", "nope", "w", "dE/dq1", "out_", "E_total++", "5"])
def test_text_that_names_no_value_is_refused(typed: str) -> None:
    with pytest.raises(NotAKey):
        keys.parse(typed)


def test_a_parameter_means_its_new_value_then_its_gradient() -> None:
    assert keys.choices("w5") == [Key("new_w", param="w5"), Key("grad_w", param="w5")]
    assert keys.choices("b1") == [Key("new_b", param="b1"), Key("grad_b", param="b1")]
    assert keys.choices("o1") == [Key("out", unit="o1")]


def test_symbols() -> None:
    assert keys.symbol("dE_o1/dout_h1") == "∂E_o₁/∂out_h₁"
    assert keys.tex("dE_o1/dout_h1") == r"\frac{\partial E_{o_{1}}}{\partial \mathrm{out}_{h_{1}}}"
    assert keys.symbol("b1.2+") == "b₁.₂⁺" and keys.tex("b1.2+") == "b_{1.2}^{+}"
    assert keys.symbol("t_o1") == "t_o₁" and keys.tex("E_total+") == r"E_{\mathrm{total}}^{+}"


def _spelled_keys(path: pathlib.Path) -> list[str]:
    """String literals and f-strings of ``path`` that spell a key (docstrings and the
    names of key kinds aside)."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped = {id(node.value) for node in ast.walk(tree)  # docstrings
               if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    skipped |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                for part in node.values}  # an f-string's parts: checked as a whole
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [p.value for p in node.values if isinstance(p, ast.Constant)]
            # an f-string ending in "+" right after a value: f"{name}+"
            plus = (len(node.values) > 1 and isinstance(node.values[-1], ast.Constant)
                    and str(node.values[-1].value).startswith("+")
                    and isinstance(node.values[-2], ast.FormattedValue))
            if plus or any(part in str(text) for text in parts for part in KEY_PARTS):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skipped and node.value not in keys.KINDS
              and any(part in node.value for part in KEY_PARTS)):
            found.append(f"{path.name}:{node.lineno}: {node.value[:80]!r}")
    return found


def test_no_module_but_keys_spells_a_key() -> None:
    found = [line for path in sorted(PACKAGE.rglob("*.py")) if path.name != "keys.py"
             or path.parent != PACKAGE for line in _spelled_keys(path)]
    assert found == []


def test_the_scan_finds_a_spelled_key(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text('w = "w5"\na = f"dE/d{w}"\nb = f"{w}+"\nc = "delta_o1"\n'
                      'd = "dnet_dw"\n"""dE/dw5 in a docstring"""\n', "utf-8")
    assert [line.split(":")[1] for line in _spelled_keys(source)] == ["2", "3", "4"]
