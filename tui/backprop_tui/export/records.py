"""The engine's records as JSON objects: one per step, one per completed epoch."""

from __future__ import annotations

from backprop_tui.engine.trace import EpochTrace


def _bias(values: object, shared: bool) -> object:
    values = values.tolist()  # type: ignore[attr-defined]
    return values[0] if shared else values


def epoch_record(epoch: int, trace: EpochTrace) -> dict[str, object]:
    """``loss`` is the error before the epoch's updates; weights and biases are after them."""
    network = trace.network
    shared = [network.shared(layer) for layer in range(network.depth)]
    return {
        "type": "epoch",
        "epoch": epoch,
        "loss": trace.loss,
        "loss_after": trace.fwd_after.loss,
        "weights": [w.tolist() for w in trace.after.weights],
        "biases": [_bias(b, s) for b, s in zip(trace.after.biases, shared, strict=True)],
        "gradients": {
            "weights": [g.tolist() for g in trace.grad_w],
            "biases": [_bias(g, s) for g, s in zip(trace.grad_b, shared, strict=True)],
        },
    }
