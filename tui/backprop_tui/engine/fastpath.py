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

Several examples: the same two ways, batch by batch (``_python_batches``, and
``_numpy_batches`` with each batch's examples as the rows of one array), each epoch's error
E from a forward pass of every example at the epoch's start.

An optimiser with state (momentum, Adam) updates through its record's ``step`` on Python
floats or on arrays, the same function the trace uses, and the run's networks carry the
state (``Network.state``) as stepping does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backprop_tui.engine.trace import trace_epoch, trace_is_finite
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, State, array_chain, loss_for
from backprop_tui.network import Network, OptimizerState

# Measured crossover (tests/benchmarks/test_train.py): with one hidden layer Python floats
# win up to about 400-500 weights; deeper networks favour them further, a thin layer of
# many units (2-64-2) sooner.
PYTHON_LOOP_MAX_WEIGHTS = 384
# Several examples: Python floats win while weights times examples per batch stay small
# (XOR online or in pairs: 12; full batch, 24, runs faster in numpy).
PYTHON_BATCH_MAX_WEIGHTS = 16


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
    every_loss: bool = True  # False: the errors that would be dropped are not computed

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
    run = Run(network, every_loss=keep)
    weights = sum(w.size for w in network.weights)
    python_loop = not network.rounding and weights <= PYTHON_LOOP_MAX_WEIGHTS
    step = _python_epochs if python_loop else _traced_epochs
    if network.examples > 1 and not network.rounding:
        python_loop = weights * network.batch_size <= PYTHON_BATCH_MAX_WEIGHTS
        step = _python_batches if python_loop else _numpy_batches
    while run.epochs < count and not run.diverged:
        todo = min(chunk, count - run.epochs)
        if checkpoint_every:
            todo = min(todo, checkpoint_every - (epoch + run.epochs) % checkpoint_every)
        step(run, todo)
        if run.diverged and (python_loop or network.examples > 1):
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
    x = net.inputs[0].tolist()
    targets = net.targets[0].tolist()
    error = loss_for(net.loss, net.activations[-1]).error
    output_delta = _output_delta(net)
    eta = net.learning_rate
    during = net.update_order == "during_backward"
    update_biases = net.update_biases
    layers = _layers(net)
    shared = [net.shared(layer) for layer in range(depth)]
    weights = [w.tolist() for w in net.weights]
    biases = [b.tolist() for b in net.biases]
    stepped = _Stepper.of(net)
    state = stepped.start(net) if stepped else []
    flat = stepped.flat(net.weights, net.biases) if stepped else []
    t = net.updates
    losses = run.losses
    previous = None
    for _ in range(count):
        grad_w: Params = [[] for _ in weights] if stepped else []  # (the optimiser's)
        grad_b: list[list[float]] = [[] for _ in biases]
        # Forward. `check` sums every value a step would show that could stop being finite
        # without making the loss or a new parameter non-finite too.
        outs, slopes, check, nets = _forward(x, weights, biases, layers)
        loss = error(targets, outs[-1], nets)
        # Backward, from the output layer down.
        new_weights = list(weights)
        new_biases = list(biases)
        delta: list[float] = []
        for layer in range(depth - 1, -1, -1):
            if layer < depth - 1:
                g = _back(delta, (new_weights if during else weights)[layer + 1])
                delta = [gj * sj for gj, sj in zip(g, slopes[layer])]
            else:
                delta = output_delta(targets, outs[-1], slopes[-1], 1.0)
            a = outs[layer]
            grad_b[layer] = [sum(delta)] if shared[layer] else delta
            check += sum(grad_b[layer])
            if stepped:  # every gradient first, then the optimiser's update
                grad_w[layer] = [[dj * ai for ai in a] for dj in delta]
                continue
            rows = []
            for dj, row in zip(delta, weights[layer]):
                new_row = [w - eta * (dj * ai) for w, ai in zip(row, a)]
                check += sum(new_row)
                rows.append(new_row)
            new_weights[layer] = rows
            if update_biases:
                new_biases[layer] = [b - eta * gb for b, gb in zip(biases[layer], grad_b[layer])]
        new_state, new_flat = state, flat
        if stepped:
            new_weights, new_biases, new_flat, new_state, alarm = stepped(
                flat, biases, grad_w, grad_b, state, t + 1)
            check += alarm
        if not math.isfinite(check + loss):
            run.diverged = True
            break
        losses.append(loss)
        previous = (weights, biases, state, t)
        weights, biases, state, flat = new_weights, new_biases, new_state, new_flat
        t += 1 if stepped else 0
    if previous is not None:
        run.previous = _network(net, stepped, *previous)
    run.network = _network(net, stepped, weights, biases, state, t)


def _python_batches(run: Run, count: int) -> None:
    """Epochs over several examples on Python floats, batch by batch."""
    net = run.network
    depth = net.depth
    examples = list(zip(net.inputs.tolist(), net.targets.tolist(), strict=True))
    batches = [examples[b.start:b.stop] for b in net.batches()]
    rest = examples[len(batches[0]):]
    error = loss_for(net.loss, net.activations[-1]).error
    output_delta = _output_delta(net)
    mean = net.batch_loss == "mean"
    eta = net.learning_rate
    update_biases = net.update_biases
    during = net.update_order == "during_backward"  # batches of one example only
    layers = _layers(net)
    shared = [net.shared(layer) for layer in range(depth)]

    weights: Params = [w.tolist() for w in net.weights]
    biases: list[list[float]] = [b.tolist() for b in net.biases]
    stepped = _Stepper.of(net)
    state = stepped.start(net) if stepped else []
    flat = stepped.flat(net.weights, net.biases) if stepped else []
    t = net.updates
    previous = None
    for i in range(count):
        wanted = run.every_loss or i == count - 1 or run.epochs == 0
        start = (weights, biases, state, t, flat)
        check = 0.0
        total = 0.0  # the data set's error at the epoch's start: the first batch's, …
        for number, batch in enumerate(batches):
            scale = 1.0 / len(batch) if mean else 1.0
            grad_w = [[[0.0] * len(row) for row in layer] for layer in weights]
            grad_b = [[0.0] * len(b) for b in biases]
            new_weights = list(weights)
            for x, targets in batch:
                outs, slopes, seen, nets = _forward(x, weights, biases, layers)
                check += seen
                if number == 0 and wanted:
                    total += error(targets, outs[-1], nets)
                delta: list[float] = []
                for layer in range(depth - 1, -1, -1):
                    if layer < depth - 1:
                        g = _back(delta, (new_weights if during else weights)[layer + 1])
                        delta = [gj * sj for gj, sj in zip(g, slopes[layer])]
                    else:
                        delta = output_delta(targets, outs[-1], slopes[-1], scale)
                    a = outs[layer]
                    for dj, grad_row in zip(delta, grad_w[layer]):
                        grad_row[:] = [gw + dj * ai for gw, ai in zip(grad_row, a)]
                    grad_b[layer] = ([grad_b[layer][0] + sum(delta)] if shared[layer] else
                                     [gb + dj for gb, dj in zip(grad_b[layer], delta)])
                    if during:  # a batch of one: its new weights take effect at once
                        new_weights[layer] = _descend(weights[layer], grad_w[layer], eta)
            if stepped:
                t += 1
                new_weights, biases, flat, state, alarm = stepped(flat, biases, grad_w, grad_b,
                                                                  state, t)
                check += alarm
            else:
                new_weights = [_descend(w, g, eta) for w, g in zip(weights, grad_w)]
                if update_biases:
                    biases = [[b - eta * g for b, g in zip(bl, gl)]
                              for bl, gl in zip(biases, grad_b)]
                check += sum([sum(row) for layer in new_weights for row in layer])
            check += sum([sum(gb) for gb in grad_b])
            weights = new_weights
        for x, targets in rest if wanted else ():  # … and every other example's at the start
            outs, _, _, nets = _forward(x, *start[:2], layers)
            total += error(targets, outs[-1], nets)
        loss = total / len(examples) if mean else total
        if not math.isfinite(check + loss):
            weights, biases, state, t, flat = start
            run.diverged = True
            break
        run.losses.append(loss if wanted else math.nan)  # (nan: dropped, never read)
        previous = start[:4]
    if previous is not None:
        run.previous = _network(net, stepped, *previous)
    run.network = _network(net, stepped, weights, biases, state, t)


Params = list[list[list[float]]]
Floats = Sequence[float]
Layer = tuple[Callable[[float], float], Callable[[float, float], float], bool,
              Callable[[Floats], list[float]] | None]
OutputDelta = Callable[[Floats, Floats, Floats, float], list[float]]


def _layers(net: Network) -> list[Layer]:
    """Per layer: its activation and slope on Python floats, whether its bias is shared,
    and a softmax layer's outputs from all its weighted sums."""
    found = []
    for layer, name in enumerate(net.activations):
        a = ACTIVATIONS[name]
        found.append((a.value, a.slope, net.shared(layer), a.coupled and a.coupled.values))
    return found


def _output_delta(net: Network) -> OutputDelta:
    """The output layer's δ from (targets, outs, slopes, scale): out − t under
    cross-entropy, Jacobian-transposed ∂E/∂out under softmax, else ∂E/∂out times the
    slope; each scaled (1/batch under mean)."""
    loss = loss_for(net.loss, net.activations[-1])
    coupled = ACTIVATIONS[net.activations[-1]].coupled
    n = net.sizes[-1]
    derivative = loss.derivative
    if loss.shortcut:
        return lambda targets, out, _slopes, scale: [(o - t) * scale
                                                     for o, t in zip(out, targets)]
    if coupled is not None:
        back = coupled.back
        return lambda targets, out, _slopes, scale: back(
            [derivative(t, o, n) * scale for o, t in zip(out, targets)], out)
    return lambda targets, out, slopes, scale: [derivative(t, o, n) * scale * s
                                                for o, t, s in zip(out, targets, slopes)]


def _forward(x: list[float], weights: Params, biases: list[list[float]], layers: list[Layer]
             ) -> tuple[list[list[float]], list[list[float]], float, list[float]]:
    """One example's forward pass on Python floats: every layer's outputs (the inputs
    first) and slopes, the sum of the weighted sums (the alarm for a non-finite one), and
    the output layer's weighted sums."""
    outs, slopes, check = [x], [], 0.0
    zs: list[float] = []
    for (f, slope, shared, coupled), rows, b in zip(layers, weights, biases):
        a = outs[-1]
        out_l, slope_l, zs = [], [], []
        for j, row in enumerate(rows):
            z = sum([w * ai for w, ai in zip(row, a)]) + b[0 if shared else j]
            check += z
            zs.append(z)
            if coupled is None:
                o = f(z)
                out_l.append(o)
                slope_l.append(slope(o, z))
        if coupled is not None:
            out_l = coupled(zs)
            slope_l = [slope(o, 0.0) for o in out_l]
        outs.append(out_l)
        slopes.append(slope_l)
    return outs, slopes, check, zs


def _back(delta: list[float], above: list[list[float]]) -> list[float]:
    """∂E/∂out of a layer's units: the shares of the error signals δ of the layer above."""
    g = [0.0] * len(above[0])
    for dk, row in zip(delta, above):
        g = [gj + w * dk for gj, w in zip(g, row)]
    return g


def _descend(weights: list[list[float]], gradients: list[list[float]], eta: float
             ) -> list[list[float]]:
    return [[w - eta * g for w, g in zip(row, grow)] for row, grow in zip(weights, gradients)]


class _Stepper:
    """An optimiser with state on the Python loops: an update of every parameter, one at a
    time by the record's step on floats, over one flat list of them (each layer's weights
    row by row, then its biases when they are updated), with their states (a tuple each,
    in the record's slots' order) in a list beside it."""

    def __init__(self, net: Network) -> None:
        optimizer = OPTIMIZERS[net.optimizer]
        self.step, self.hyper, self.slots = optimizer.step, net.hyper, optimizer.slots
        self.biases = net.update_biases
        self.shapes = [w.shape for w in net.weights]
        self.sizes = [b.shape[0] for b in net.biases]

    @classmethod
    def of(cls, net: Network) -> _Stepper | None:
        """None under sgd (its loops stay as they are)."""
        return cls(net) if OPTIMIZERS[net.optimizer].slots else None

    def start(self, net: Network) -> list[State]:
        """The state ``net`` carries, as the list the updates take."""
        return list(zip(*(self.flat(*net.slot(slot)) for slot in self.slots)))

    def flat(self, weights: Sequence[Any], biases: Sequence[Any]) -> list[float]:
        found: list[float] = []
        for w, b in zip(weights, biases, strict=True):
            found += w.ravel().tolist()
            if self.biases:
                found += b.tolist()
        return found

    def __call__(self, params: list[float], biases: list[list[float]], grad_w: Params,
                 grad_b: list[list[float]], state: list[State], t: int
                 ) -> tuple[Params, list[list[float]], list[float], list[State], float]:
        """Update ``t`` of ``params`` (as ``flat`` lays them out) from their gradients: the
        new weights' rows and biases, the new flat list, the states after it, and the sum
        of every new value and state value (the alarm: a value that stops being finite is
        a step's)."""
        gradients: list[float] = []
        for layer, grads in enumerate(grad_w):
            for row in grads:
                gradients += row
            if self.biases:
                gradients += grad_b[layer]
        step, hyper = self.step, self.hyper
        new: list[float] = []
        kept: list[State] = []
        for w, g, old in zip(params, gradients, state):
            w, after = step(w, g, old, hyper, t)
            new.append(w)
            kept.append(after)
        alarm = sum(new) + sum([sum(after) for after in kept])
        new_weights, new_biases = self.rows(new, biases)
        return new_weights, new_biases, new, kept, alarm

    def rows(self, flat: list[float], biases: list[list[float]]
             ) -> tuple[Params, list[list[float]]]:
        """A flat list as each layer's weights' rows and its biases (``biases`` where they
        are not in it)."""
        weights: Params = []
        found = list(biases)
        at = 0
        for layer, (units, inputs) in enumerate(self.shapes):
            weights.append([flat[at + j * inputs:at + (j + 1) * inputs] for j in range(units)])
            at += units * inputs
            if self.biases:
                found[layer] = flat[at:at + self.sizes[layer]]
                at += self.sizes[layer]
        return weights, found

    def state(self, state: list[State], t: int) -> OptimizerState:
        """The state as a network carries it (per layer, shaped like its parameters)."""
        weights: dict[str, Params] = {}
        biases: dict[str, list[list[float]]] = {}
        for slot, flat in zip(self.slots, zip(*state, strict=True)):
            weights[slot], biases[slot] = self.rows(list(flat), [[] for _ in self.sizes])
        return OptimizerState.of(t, weights, biases if self.biases else {})


def _network(net: Network, stepped: _Stepper | None, weights: Params,
             biases: list[list[float]], state: list[State], t: int) -> Network:
    """``net`` with these parameters and, under an optimiser with state, this state."""
    found = net.with_params(weights, biases)
    return found.with_state(stepped.state(state, t)) if stepped else found


def _numpy_batches(run: Run, count: int) -> None:
    """Epochs over several examples in numpy: a batch's examples are the rows of one array.

    Each layer's biases ride as the last column of its weights, against a column of ones
    after the activations below it, so that a layer's weighted sums, and its gradients
    with its biases', are one product each (a shared bias's column is summed, a fixed
    bias's zeroed). The alarm (weighted sums and errors that stop being finite; a parameter
    that does shows in the next epoch's sums) is settled by ``_confirm``.
    """
    import numpy as np

    net = run.network
    depth = net.depth
    mean = net.batch_loss == "mean"
    loss = loss_for(net.loss, net.activations[-1])
    error, derivative = loss.array_error, loss.array_derivative
    output = ACTIVATIONS[net.activations[-1]]
    eta = net.learning_rate
    during = net.update_order == "during_backward"
    functions = [(f.array_value, f.array_slope) for f in (ACTIVATIONS[a] for a in net.activations)]
    summed = [net.shared(layer) and net.sizes[layer + 1] > 1 for layer in range(depth)]
    fixed = not net.update_biases
    layers = list(zip(range(depth - 1, -1, -1), summed[::-1], strict=True))

    def ones(x: Any) -> list[Any]:
        """Activations, the inputs' filled in, each layer's below the output ending in 1s."""
        rows = len(x)
        found = [np.ones((rows, size + 1)) for size in net.sizes[:-1]]
        found[0][:, :-1] = x
        return found

    def sums(rows: int) -> tuple[Any, list[Any]]:
        """One buffer for a batch's weighted sums, every layer's a view of it: one sum of it
        is the epoch's alarm."""
        flat = np.empty(rows * sum(net.sizes[1:]))
        views, at = [], 0
        for size in net.sizes[1:]:
            views.append(flat[at:at + rows * size].reshape(rows, size))
            at += rows * size
        return flat, views

    # Per batch: its activations (below the outputs), targets, η (÷ its size under mean),
    # its size and its weighted sums' buffer.
    batches = [(ones(net.inputs[b.start:b.stop]), net.targets[b.start:b.stop],
                eta / len(b) if mean else eta, len(b), *sums(len(b))) for b in net.batches()]
    first = len(net.batches()[0])
    rest = (ones(net.inputs[first:]), net.targets[first:]) if first < net.examples else None
    params = _joined(net.weights, net.biases)
    optimizer = OPTIMIZERS[net.optimizer]
    step, hyper = optimizer.step, net.hyper
    state = {slot: _joined(*net.slot(slot)) for slot in optimizer.slots}
    t = net.updates
    slopes: list[Any] = [None] * depth
    previous = None
    with np.errstate(all="ignore"):
        for i in range(count):
            wanted = run.every_loss or i == count - 1 or run.epochs == 0
            start = (params, state, t)
            check = 0.0
            total: Any = None if wanted else 0.0  # the data set's error at the start: …
            for acts, targets, rate, size, flat, zs in batches:
                for layer, (value, slope) in enumerate(functions):
                    z = np.matmul(acts[layer], params[layer].T, out=zs[layer])
                    out = value(z)
                    slopes[layer] = slope(out, z)
                    if layer < depth - 1:
                        acts[layer + 1][:, :-1] = out
                check += flat.sum()
                if total is None:
                    total = error(targets, out, z).sum()
                delta = (out - targets if loss.shortcut else
                         array_chain(output, derivative(targets, out), out, slopes[-1]))
                old, params = params, list(params)
                if state:
                    t, before, state = t + 1, state, {slot: list(state[slot]) for slot in state}
                for layer, shared in layers:
                    if layer < depth - 1:
                        delta = delta * slopes[layer]
                    gradient = delta.T @ acts[layer]
                    if fixed:
                        gradient[:, -1] = 0.0
                    elif shared:
                        gradient[:, -1] = gradient[:, -1].sum()
                    if not state:
                        params[layer] = old[layer] - rate * gradient
                    else:  # the batch's gradient (its mean: the sum over its size)
                        params[layer], found = step(
                            old[layer], gradient / size if mean else gradient,
                            tuple(before[slot][layer] for slot in state), hyper, t)
                        for slot, values in zip(state, found):
                            state[slot][layer] = values
                            check += values.sum()
                    if layer:
                        delta = delta @ (params if during else old)[layer][:, :-1]
            if rest is not None and wanted:  # … and every other example's at the start
                acts = rest[0]
                for layer, (value, _) in enumerate(functions):
                    z = acts[layer] @ start[0][layer].T
                    out = value(z)
                    if layer < depth - 1:
                        acts[layer + 1][:, :-1] = out
                total = total + error(rest[1], out, z).sum()
            e = float(total) / net.examples if mean else float(total)
            if not math.isfinite(e + check):
                params, state, t = start
                run.diverged = True
                break
            run.losses.append(e if wanted else math.nan)  # (nan: dropped, never read)
            previous = start
    if previous is not None:
        run.previous = _split(net, *previous)
    run.network = _split(net, params, state, t)


def _joined(weights: Sequence[Any], biases: Sequence[Any]) -> list[Any]:
    """Per layer, [weights | biases]: a shared bias repeated down its column."""
    import numpy as np

    return [np.hstack([w, np.broadcast_to(b[:, None], (len(w), 1))])
            for w, b in zip(weights, biases, strict=True)]


def _split(net: Network, params: list[Any], state: dict[str, list[Any]], t: int) -> Network:
    """The network with the weights and biases of ``params`` ([weights | biases] per
    layer), and the optimiser's state of ``state`` (each slot the same way)."""

    def parts(joined: list[Any]) -> tuple[list[Any], list[Any]]:
        return ([p[:, :-1] for p in joined],
                [p[:1, -1] if net.shared(k) else p[:, -1] for k, p in enumerate(joined)])

    found = net.with_params(*parts(params))
    if not state:
        return found
    split = {slot: parts(joined) for slot, joined in state.items()}
    return found.with_state(OptimizerState.of(
        t, {slot: weights for slot, (weights, _) in split.items()},
        {slot: biases for slot, (_, biases) in split.items()} if net.update_biases else {}))
