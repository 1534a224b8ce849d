"""Regenerate the README's screenshots from the real app: `python screenshots/generate.py`
(or only those named: `python screenshots/generate.py softmax-jacobian`).

Each shot drives the app (moves through the session, then key presses) in a 120×36 headless
terminal (80×24 for those named small-…) and saves the screen as SVG beside this script.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from backprop_tui.app.app import BackpropApp
from backprop_tui.netfile import Source, parse_network
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session.session import Session

HERE = Path(__file__).parent
SIZE = (120, 36)
SMALL = (80, 24)

LARGER = """\
# A 3-4-4-2 network: two hidden layers of tanh units, a sigmoid output.
learning_rate = 0.5
inputs = [0.5, -0.2, 0.9]
targets = [0.1, 0.9]
[[layer]]
weights = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.3], [-0.2, 0.5, 0.1], [0.3, 0.3, -0.1]]
bias = 0.1
activation = "tanh"
[[layer]]
weights = [[0.2, -0.1, 0.4, 0.1], [-0.3, 0.2, 0.1, 0.5],
           [0.1, 0.1, -0.2, 0.3], [0.4, -0.4, 0.2, 0.1]]
bias = -0.1
activation = "tanh"
[[layer]]
weights = [[0.3, -0.2, 0.5, 0.1], [-0.1, 0.4, 0.2, -0.3]]
bias = 0.2
"""

# name -> (network, what to do before the shot: a go-to target, or keys)
SHOTS: dict[str, tuple[str, list[str]]] = {
    "start": ("mazur", []),
    "forward-step": ("mazur", ["goto:out_o1"]),
    "total-error": ("mazur", ["goto:E_total"]),
    "output-gradient": ("mazur", ["goto:dE/dw5"]),
    "hidden-gradient": ("mazur", ["goto:dE/dw1"]),
    "update": ("mazur", ["goto:E_total+"]),
    "help": ("mazur", ["goto:dE/dw5", "question_mark"]),
    "larger-network": ("larger", ["goto:dE/dw20"]),
    "seed-marks": ("seed", ["goto:dE/dw5"]),
    "edit-dialog": ("mazur", ["goto:w5+", "e", "w", "5", "enter", "0", ".", "4", "x"]),
    # the gradient check (d): ∂E/∂w1 beside its central finite difference
    "gradient-check": ("mazur", ["goto:dE/dw1", "d"]),
    # the quiz: δ_o1·w5 answered with the updated w5, and the slip named
    "quiz": ("mazur", ["goto:dE/db2", "a", "right", *"0.04971", "enter"]),
    # the error curve (c; C: log scale) after fast-forwarding 10,000 epochs, as `t` does
    "error-curve": ("mazur", ["ff:10000", "goto:E_total", "C"]),
    # several examples: xor full batch in its combining phase, the values grouped by
    # example; then the error curves of xor and xor-online after 4,000 epochs
    "examples-values": ("xor", ["goto:w6+[1..4]"]),
    "xor-curve": ("xor", ["ff:4000", "c"]),
    "xor-online-curve": ("xor-online", ["ff:4000", "c"]),
    # the smallest terminal the app is made for: a hidden δ, the flow drawn backwards
    "small-hidden-delta": ("mazur", ["goto:delta_h1"]),
    "small-apply": ("mazur", ["goto:apply"]),
    # softmax with cross-entropy: a Jacobian entry off the diagonal (the outputs' bracket
    # heavy, both units marked), then the shortcut δ = out − t beside the chain rule's δ
    "softmax-jacobian": ("softmax-ce", ["goto:dout_o2/dnet_o1"]),
    "softmax-shortcut": ("softmax-ce", ["goto:delta_o1"]),
    # an optimiser: Adam's update of w5 in epoch 2 (its m and s beside each weight), then
    # momentum's and Adam's error curves over 1,000 epochs with plain SGD's beside them (o)
    "adam-update": ("mazur-adam", ["ff:1", "goto:w5+"]),
    "momentum-curve": ("mazur-momentum", ["ff:1000", "c", "C", "o", "wait"]),
    "adam-curve": ("mazur-adam", ["ff:1000", "c", "C", "o", "wait"]),
    # The command palette finding the steps and values named w5; the open dialog (ctrl+o).
    "palette-steps": ("mazur", ["goto:dE/dw5", "ctrl+p", *"w5", "wait"]),
    "open-dialog": ("mazur", ["ctrl+o"]),
}


async def shoot(name: str, network: str, actions: list[str]) -> None:
    if network == "larger":
        session = Session(parse_network(LARGER, "3-4-4-2"))
    else:  # a preset as `backprop-tui --preset NAME` opens it: its [printed] values marked
        session = Session(load_preset(network), source=Source("preset", network,
                                                              preset_text(network)))
    app = BackpropApp(session)
    async with app.run_test(size=SMALL if name.startswith("small-") else SIZE) as pilot:
        for action in actions:
            if action.startswith("goto:"):
                app.session.goto(action.removeprefix("goto:"))
                app.render_session()
            elif action.startswith("ff:"):
                app.session.fast_forward(int(action.removeprefix("ff:")))
                app.render_session()
            elif action == "wait":  # for the app's background work (the SGD comparison)
                await app.workers.wait_for_complete()
                await pilot.pause()
            else:
                await pilot.press(action)
            await pilot.pause()
        await pilot.pause()
        app.save_screenshot(f"{name}.svg", str(HERE))


async def main(names: list[str]) -> None:
    unknown = set(names) - set(SHOTS)
    if unknown:
        raise SystemExit(f"no such screenshot: {', '.join(sorted(unknown))}")
    for name, (network, actions) in SHOTS.items():
        if names and name not in names:
            continue
        await shoot(name, network, actions)
        print(f"screenshots/{name}.svg")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
