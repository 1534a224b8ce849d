"""The engine's records as JSON objects: one per step, one per completed epoch."""

from __future__ import annotations

from backprop_tui.engine.trace import EpochTrace


def epoch_record(epoch: int, trace: EpochTrace) -> dict[str, object]:
    """``loss`` is the error before the epoch's updates; weights and biases are after them."""
    network = trace.network
    return {
        "type": "epoch",
        "epoch": epoch,
        "loss": trace.loss,
        "loss_after": trace.fwd_after.loss,
        "weights": [w.tolist() for w in trace.after.weights],
        "biases": network.bias_values(trace.after.biases),
        "gradients": {
            "weights": [g.tolist() for g in trace.grad_w],
            "biases": network.bias_values(trace.grad_b),
        },
    }
