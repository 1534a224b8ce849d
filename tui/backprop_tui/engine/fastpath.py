"""Plain epochs, no steps: what `train` and the app's fast-forward run.

On the networks people step through by hand (a few units a layer) numpy's per-call cost
dominates: plain Python floats (each activation's and loss's float functions from
``functions``) run an epoch of the tutorial's network several times faster
than the bare numpy loop it is benchmarked against. Larger networks run the vectorised
trace, where numpy wins. Both give the same numbers as the trace: one epoch to the last
bits (tested to 1e-12 relative), many epochs but for the rounding differences that a
chaotic network amplifies. With hand rounding on, every epoch runs the (rounded) trace itself: the
Python loop's arithmetic is not the steps' formulas, and a last-bit difference can change a
rounded digit, so only the trace reproduces stepping exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from backprop_tui.engine.trace import forward, trace_epoch, trace_is_finite
from backprop_tui.functions import ACTIVATIONS, LOSSES
from backprop_tui.network import Network

# Measured crossover (tests/benchmarks/test_train.py): with one hidden layer Python floats
# win up to about 400-500 weights; deeper networks favour them further, a thin layer of
# many units (2-64-2) sooner.
PYTHON_LOOP_MAX_WEIGHTS = 384


@dataclass
class Run:
    """The result of running epochs: where it ended, and the error before each epoch."""

    network: Network  # the start of the epoch after the last one run (or of the diverged one)
    losses: list[float] = field(default_factory=list)  # losses[i]: error before epoch i's update
    diverged: bool = False  # the epoch after the last one run produces a non-finite value
    cancelled: bool = False
    checkpoints: dict[int, Network] = field(default_factory=dict)  # epoch -> its start
    previous: Network | None = None  # the start of the last epoch run
    dropped: int = 0  # losses not kept (run_epochs(keep=False)): those of the first epochs
    first_loss: float | None = None  # the first epoch's, kept when the others are not

    @property
    def epochs(self) -> int:
        return self.dropped + len(self.losses)


Progress = Callable[[Run], bool]  # called between chunks; returning False cancels


def run_epochs(
    network: Network,
    count: int,
    *,
    epoch: int = 1,
    checkpoint_every: int = 0,
    progress: Progress | None = None,
    chunk: int = 1000,
    keep: bool = True,
) -> Run:
    """Run up to ``count`` epochs from ``network``, the start of epoch ``epoch``; stop at
    the first epoch that shows a non-finite value.

    ``checkpoint_every`` > 0 keeps the start of every epoch numbered a multiple of it, so
    that a later visit to an epoch in between recomputes at most that many. Without
    ``keep``, only the first and the latest error are kept (``first_loss``, ``losses[-1]``):
    memory stays the same however many epochs run.
    """
    run = Run(network)
    python_loop = (not network.rounding
                   and sum(w.size for w in network.weights) <= PYTHON_LOOP_MAX_WEIGHTS)
    step = _python_epochs if python_loop else _traced_epochs
    while run.epochs < count and not run.diverged:
        todo = min(chunk, count - run.epochs)
        if checkpoint_every:
            todo = min(todo, checkpoint_every - (epoch + run.epochs) % checkpoint_every)
        step(run, todo)
        if run.diverged and python_loop:
            _confirm(run)
        if not keep and run.losses:
            if run.first_loss is None:
                run.first_loss = run.losses[0]
            run.dropped += len(run.losses) - 1
            del run.losses[:-1]
        reached = epoch + run.epochs
        if checkpoint_every and reached % checkpoint_every == 0 and not run.diverged:
            run.checkpoints[reached] = run.network
        if progress is not None and run.epochs < count and not progress(run):
            run.cancelled = True
            break
    return run


def _confirm(run: Run) -> None:
    """Settle where the Python loop's alarm (a sum that stopped being finite) points.

    A forward pass that overflows first shows in the previous epoch's last step (the error
    after its updates), and an alarm may be a sum of huge finite values: the trace decides.
    """
    if run.previous is not None and not trace_is_finite(trace_epoch(run.previous)):
        run.losses.pop()
        run.network, run.previous = run.previous, None
        return
    trace = trace_epoch(run.network)
    if trace_is_finite(trace):
        run.diverged = False
        run.losses.append(trace.loss)
        run.network, run.previous = trace.after, run.network


def _traced_epochs(run: Run, count: int) -> None:
    for _ in range(count):
        trace = trace_epoch(run.network)
        if not trace_is_finite(trace):
            run.diverged = True
            return
        run.losses.append(trace.loss)
        run.network, run.previous = trace.after, run.network


def _python_epochs(run: Run, count: int) -> None:
    """The trace's arithmetic on Python floats, for small networks."""
    net = run.network
    depth = net.depth
    x = net.inputs.tolist()
    targets = net.targets.tolist()
    n_out = len(targets)
    loss_of_output = LOSSES[net.loss].error
    derivative = LOSSES[net.loss].derivative
    eta = net.learning_rate
    during = net.update_order == "during_backward"
    update_biases = net.update_biases
    functions = [ACTIVATIONS[a] for a in net.activations]
    values = [f.value for f in functions]
    slope_of = [f.slope for f in functions]
    shared = [net.shared(layer) for layer in range(depth)]
    weights = [w.tolist() for w in net.weights]
    biases = [b.tolist() for b in net.biases]
    losses = run.losses
    previous = None
    for _ in range(count):
        # Forward. `check` sums every value a step would show that could stop being finite
        # without making the loss or a new parameter non-finite too.
        outs = [x]
        slopes = []
        check = 0.0
        for layer in range(depth):
            a = outs[-1]
            b = biases[layer]
            f, slope = values[layer], slope_of[layer]
            out_l, slope_l = [], []
            for j, row in enumerate(weights[layer]):
                z = sum([w * ai for w, ai in zip(row, a)]) + b[0 if shared[layer] else j]
                check += z
                o = f(z)
                out_l.append(o)
                slope_l.append(slope(o, z))
            outs.append(out_l)
            slopes.append(slope_l)
        out = outs[-1]
        g = [derivative(t, o, n_out) for o, t in zip(out, targets)]
        loss = sum([loss_of_output(t, o, n_out) for o, t in zip(out, targets)])
        # Backward, from the output layer down.
        new_weights = list(weights)
        new_biases = list(biases)
        delta: list[float] = []
        for layer in range(depth - 1, -1, -1):
            if layer < depth - 1:
                above = new_weights[layer + 1] if during else weights[layer + 1]
                g = [0.0] * len(outs[layer + 1])
                for k, row in enumerate(above):
                    dk = delta[k]
                    g = [gj + w * dk for gj, w in zip(g, row)]
            delta = [gj * sj for gj, sj in zip(g, slopes[layer])]
            a = outs[layer]
            rows = []
            for dj, row in zip(delta, weights[layer]):
                new_row = [w - eta * (dj * ai) for w, ai in zip(row, a)]
                check += sum(new_row)
                rows.append(new_row)
            new_weights[layer] = rows
            grad_b = [sum(delta)] if shared[layer] else delta
            check += sum(grad_b)
            if update_biases:
                new_biases[layer] = [b - eta * gb for b, gb in zip(biases[layer], grad_b)]
        if not math.isfinite(check + loss):
            run.diverged = True
            break
        losses.append(loss)
        previous = (weights, biases)
        weights, biases = new_weights, new_biases
    if previous is not None:
        run.previous = net.with_params(*previous)
    run.network = net.with_params(weights, biases)


def loss_of(network: Network) -> float:
    """The total error of a network as it stands (a forward pass, no update)."""
    return forward(network).loss
