"""Networks that ship with backprop-tui, as network files inside the package."""

from __future__ import annotations

import os

from backprop_tui.netfile import NetworkFileError, parse_given
from backprop_tui.network import Given, Network

DEFAULT = "mazur"
PRESETS = {
    "mazur": "the 2-2-2 sigmoid network of the well-known step-by-step tutorial, as published",
    "mazur-momentum": "the tutorial's network trained with momentum (μ = 0.9): each weight "
                      "keeps a velocity",
    "mazur-adam": "the tutorial's network trained with Adam (η = 0.05): running means of "
                  "each gradient and of its square",
    "seed": "the tutorial's network with b1 = 0.30, as a rewrite in circulation has it",
    "tanh-linear": "2-3-1: tanh hidden units, a linear output, mean squared error, per-unit "
                   "biases that learn",
    "deep-relu": "3-4-3-2: two ReLU hidden layers, sigmoid outputs, updates during the "
                 "backward pass, biases that learn",
    "xor": "2-2-1 sigmoid, the four examples of XOR, full-batch: one update an epoch",
    "xor-online": "the xor preset trained online: an update after every example",
    "softmax-ce": "2-3-3: sigmoid hidden units, softmax outputs, cross-entropy, a one-hot "
                  "target",
    "iris-mini": "4-5-3 on six Iris flowers (two of each species): softmax outputs, "
                 "cross-entropy, full batch",
}


def preset_text(name: str) -> str:
    if name not in PRESETS:
        raise NetworkFileError(
            f"no preset named {name!r}; the presets are: {', '.join(sorted(PRESETS))}")
    with open(os.path.join(os.path.dirname(__file__), f"{name}.toml"), encoding="utf-8") as file:
        return file.read()


def load_preset(name: str) -> Network:
    return preset_given(name).network()


def preset_given(name: str) -> Given:
    return parse_given(preset_text(name), f"preset {name!r}")
