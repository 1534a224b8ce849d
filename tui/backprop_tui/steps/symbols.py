"""Keys, and the symbols people read for them (Unicode for the app, LaTeX for exports).

A key is the ASCII name of a value: ``w5``, ``i1``, ``t_o1``, ``eta``, ``net_h1``,
``out_h1``, ``E_o1``, ``E_total``, ``delta_o1``, ``dE/dout_o1``, ``dout_o1/dnet_o1``,
``dnet_o1/dw5``, ``dE/dw5``, ``dE_o1/dout_h1``, ``dE/db2``, a new value ``w5+`` / ``b2+``,
an output after the updates ``out_o1+``, ``E_total+``, and ``apply``.
"""

from __future__ import annotations

import re
from functools import cache

_NAME = re.compile(r"([a-z])(\d+(?:\.\d+)?)")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PREFIX_UNI = {"net": "net", "out": "out", "delta": "δ", "E": "E", "t": "t"}
_PREFIX_TEX = {"net": r"\mathrm{net}", "out": r"\mathrm{out}", "delta": r"\delta", "E": "E",
               "t": "t"}


def _simple(body: str, tex: bool) -> str:
    if body == "eta":
        return r"\eta" if tex else "η"
    if body == "apply":
        return r"\text{apply}" if tex else "apply"
    if body == "total":
        return r"\mathrm{total}" if tex else "total"
    plus = body.endswith("+")
    if plus:
        body = body[:-1]
    name = _NAME.fullmatch(body)
    if body == "E":
        text = body
    elif name:
        text = f"{name[1]}_{{{name[2]}}}" if tex else name[1] + name[2].translate(_SUBSCRIPT)
    else:
        prefix, _, unit = body.partition("_")
        table = _PREFIX_TEX if tex else _PREFIX_UNI
        text = f"{table[prefix]}_{{{_simple(unit, tex)}}}" if tex else (
            f"{table[prefix]}_{_simple(unit, tex)}")
    if plus:
        text = f"{text}^{{+}}" if tex else text + "⁺"
    return text


@cache
def unicode_symbol(key: str) -> str:
    if key.startswith("d") and "/" in key and not key.startswith("delta"):
        top, bottom = key.split("/")
        return f"∂{_simple(top[1:], False)}/∂{_simple(bottom[1:], False)}"
    return _simple(key, False)


@cache
def tex_symbol(key: str) -> str:
    if key.startswith("d") and "/" in key and not key.startswith("delta"):
        top, bottom = key.split("/")
        top, bottom = _simple(top[1:], True), _simple(bottom[1:], True)
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
    return _simple(key, True)
