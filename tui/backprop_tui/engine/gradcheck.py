"""Gradient check: each ∂E/∂w and ∂E/∂b against a central finite difference of E.

The numeric estimate differentiates the epoch's total error E (the loss of a forward pass)
with respect to one parameter, on the network at the start of the epoch:

    ∂E/∂θ ≈ (E(θ + h) − E(θ − h)) / (2h),   h = H_SCALE · max(1, |θ|)

With several training examples a gradient step is of one example or of one batch, and so
is the error differentiated, at the parameters its batch starts from (the steps' own, after
the batches before it): ``dE/dw5[2]`` is of example 2's own error E_total[2], and
``dE/dw5[1..4]`` of the batch's error E[1..4], its examples' errors combined by
``batch_loss``.

The step is about the cube root of the float64 precision, where the central difference's
truncation error (h²) and its cancellation error (ε/h) are about equal: both near 1e-11,
well below the 1e-6 the check allows. A shared bias is one parameter: perturbing it moves
every unit's weighted sum, so its estimate is the sum of the units' δ. On a softmax layer
that sum is Σ out − Σ t = 0 (moving every weighted sum alike leaves the shares as they
are): the step shows a few 1e-17 of rounding, the estimate 0, and they agree near zero.
Softmax has no kink, and cross-entropy's error is worked from the weighted sums, so the
estimate is finite wherever the error is.

The analytic value is not always the plain gradient, and the check says so instead of
reporting a false failure (``Check.caveat``):

- with ``update_order = "during_backward"`` the hidden layers' error signals flow back
  through weights already updated in this epoch, so their ∂E/∂w is not the gradient of the
  starting network's E (only the output layer's is);
- with hand rounding, every analytic value is rounded to N significant digits and computed
  from rounded values, so it differs from the exact derivative near the N-th digit. The
  numeric estimate is always of the exact E (rounding set aside).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from backprop_tui import keys
from backprop_tui.engine.trace import forward, loss_of, trace_epoch
from backprop_tui.functions import ACTIVATIONS
from backprop_tui.keys import Key
from backprop_tui.network import Network
from backprop_tui.numbers import fmt

H_SCALE = 6e-6  # ≈ ε^(1/3) for float64
RELATIVE = 1e-6  # the largest relative difference that counts as agreeing
ABSOLUTE = 1e-10  # near zero: the largest absolute difference that counts as agreeing
# The estimate's rounding: E(θ ± h) are each rounded by about ε·E, so a difference of the
# estimate below about 3ε·E/h cannot be told from noise. With a large E that is more than
# ABSOLUTE: such a difference is not a ✓ (nothing was checked) but "≈", saying why.
NOISE = 3 * float(np.finfo(float).eps)

AGREES, DIFFERS, EXPECTED = "agrees", "differs", "expected"

Param = tuple[str, int, int, int]  # kind ("weight" or "bias"), layer, row, column


@dataclass(frozen=True)
class Check:
    """One gradient: the value its step computed, the finite-difference estimate, and
    whether they agree."""

    name: str  # the parameter: w5, b1, b1.2 (with several examples w5[2], w5[1..4])
    analytic: float
    numeric: float
    h: float  # the step the central difference took
    relative: float  # |analytic − numeric| / max(|analytic|, |numeric|); 0 when both are 0
    verdict: str  # AGREES; DIFFERS (a wrong gradient); EXPECTED (differs, as caveat says)
    caveat: str = ""  # why the analytic value is not the plain gradient, if it is not

    @property
    def absolute(self) -> float:
        return abs(self.analytic - self.numeric)


def loss(network: Network) -> float:
    """The total error E of a forward pass, exactly (hand rounding set aside); with several
    examples, theirs combined by ``batch_loss``."""
    if network.rounding:
        network = dataclasses.replace(network, rounding=0)
    return loss_of(network)


def objective(network: Network, gradient: Key) -> Network:
    """The network whose error ``gradient`` (a gradient step's key) is the derivative of:
    the epoch's start with one example; else the example's or the batch's examples alone,
    at the parameters their batch starts from."""
    if network.examples == 1:
        return network
    first = (gradient.example - 1) // network.batch_size * network.batch_size + 1
    start = _batch_starts(network)[(first - 1) // network.batch_size]
    last = gradient.last or gradient.example
    return dataclasses.replace(start, inputs=start.inputs[gradient.example - 1:last],
                               targets=start.targets[gradient.example - 1:last])


@lru_cache(maxsize=4)
def _batch_starts(network: Network) -> list[Network]:
    """The parameters each batch of the epoch starting at ``network`` starts from, as its
    steps work them (the session asks for one epoch's gradients in a row)."""
    updates = trace_epoch(network).updates
    return [network, *(update.after for update in updates[:-1])]


def perturbed(network: Network, param: Param, value: float) -> Network:
    """The network with one weight or bias set to ``value``."""
    kind, layer, row, column = param
    weights, biases = list(network.weights), list(network.biases)
    if kind == "weight":
        changed = network.weights[layer].copy()
        changed[row, column] = value
        weights[layer] = changed
    elif kind == "bias":
        changed = network.biases[layer].copy()
        changed[row] = value
        biases[layer] = changed
    else:
        raise ValueError(f"not a weight or bias: {kind}")
    return network.with_params(weights, biases)


def parameter(network: Network, param: Param) -> float:
    kind, layer, row, column = param
    if kind == "weight":
        return float(network.weights[layer][row, column])
    return float(network.biases[layer][row])


def central_difference(network: Network, param: Param) -> tuple[float, float]:
    """(the estimate of ∂E/∂θ, the step h) for parameter ``param`` of ``network``."""
    theta = parameter(network, param)
    h = H_SCALE * max(1.0, abs(theta))
    above, below = theta + h, theta - h
    with np.errstate(all="ignore"):
        rise = loss(perturbed(network, param, above)) - loss(perturbed(network, param, below))
    # Divided by the step as the floats took it: θ ± h is rounded, and that would show.
    return rise / (above - below), h


def straddled_kink(network: Network, param: Param, h: float) -> str:
    """The activation ('' if none) of a unit whose slope jumps at 0 (a ReLU's) and whose
    weighted sum is 0, or changes sign between θ − h and θ + h: a central difference there
    averages the two sides."""
    kinked = [ACTIVATIONS[name].kinked for name in network.activations]
    if not any(kinked):
        return ""
    exact = dataclasses.replace(network, rounding=0)
    theta = parameter(network, param)
    for k in range(network.examples):
        with np.errstate(all="ignore"):
            passes = [forward(perturbed(exact, param, theta + s).example(k)).nets
                      for s in (-h, 0.0, h)]
        for layer, kink in enumerate(kinked):
            if kink:
                low, mid, high = (nets[layer] for nets in passes)
                if (mid == 0).any() or ((low > 0) != (high > 0)).any():
                    return network.activations[layer]
    return ""


def relative_difference(analytic: float, numeric: float) -> float:
    scale = max(abs(analytic), abs(numeric))
    return abs(analytic - numeric) / scale if scale else 0.0


def agree(analytic: float, numeric: float) -> bool:
    """Within RELATIVE, or near zero within ABSOLUTE."""
    return (abs(analytic - numeric) <= ABSOLUTE
            or relative_difference(analytic, numeric) <= RELATIVE)


def unresolved(analytic: float, numeric: float, error: float, h: float) -> str:
    """Why the estimate, at the total error ``error`` and step ``h``, cannot tell
    ``analytic`` from ``numeric`` ('' if it can): its rounding hides their difference."""
    noise = NOISE * abs(error) / h
    if abs(analytic - numeric) > noise:
        return ""
    return (f"E = {fmt(error, 3)}: the estimate's rounding (about 3ε·E/h = {fmt(noise, 2)}) "
            "hides a difference this small: not checked")


def caveat(network: Network, param: Param, h: float = 0.0) -> str:
    """Why the analytic value of ``param``'s gradient is not the plain ∂E/∂θ, or the
    estimate not a fair one ('' if both are)."""
    layer = param[1]
    kink = straddled_kink(network, param, h) if h else ""
    if kink:
        return (f"a {ACTIVATIONS[kink].symbol} unit's weighted sum is at 0 or crosses it "
                "within ±h, where its slope jumps: the estimate averages both sides")
    if network.rounding:
        return (f"hand rounding to {network.rounding} digits: the step's value is rounded, "
                "the estimate exact")
    if network.update_order == "during_backward" and layer < network.depth - 1:
        above = network.names.weights[layer + 1]
        return (f"update_order = during_backward: the error reaches this layer through the "
                f"already-updated {above[0][0]}…{above[-1][-1]}: not the gradient of E at the "
                "epoch's start")
    return ""


def check(network: Network, gradient: Key | str, analytic: float) -> Check:
    """The check of the gradient ``analytic`` that the epoch starting at ``network``
    computed for the step ``gradient`` (its key, or the parameter's name: ``w5``)."""
    if isinstance(gradient, str):
        gradient = keys.parameter(gradient).gradient
    param = network.names.parameters()[gradient.param]
    of = objective(network, gradient)
    numeric, h = central_difference(of, param)
    why = caveat(of, param, h)
    if agree(analytic, numeric):
        verdict = AGREES
    else:  # a difference the estimate's rounding hides is not a ✓: nothing was checked
        why = why or unresolved(analytic, numeric, loss(of), h)
        verdict = EXPECTED if why else DIFFERS
    name = keys.text(gradient.parameter.at(gradient.example, gradient.last))
    return Check(name, analytic, numeric, h, relative_difference(analytic, numeric), verdict,
                 why)
