"""The steps of one epoch: its plan (``engine.plan``), each step's values from the epoch's
trace, and the words that explain it.

Steps are built on demand: a large network's epoch has over a hundred thousand steps, and a
person looks at a few of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import overload

from backprop_tui import keys
from backprop_tui.engine.plan import Formula, Plan, phases, plan
from backprop_tui.engine.trace import Trace, operand, trace_is_finite, value
from backprop_tui.engine.trace import Update as Update  # the exporters read it from here
from backprop_tui.functions import ACTIVATIONS, OPTIMIZERS, Activation, Loss, loss_for
from backprop_tui.keys import Key
from backprop_tui.network import Network
from backprop_tui.numbers import fmt
from backprop_tui.steps.step import Step


class EpochSteps(Sequence[Step]):
    """The steps of one epoch, built from its trace as they are asked for.

    If a value stops being finite, the steps end just before it: ``diverged`` then names
    the step (1-based index and key) whose value is not finite.
    """

    def __init__(self, epoch: int, trace: Trace) -> None:
        self.epoch = epoch
        self.trace = trace
        self.network = trace.network
        self.names = trace.network.names
        self.plan: Plan = plan(trace.network)
        order = self.plan.keys
        self.diverged: tuple[int, str, float] | None = None
        if not trace_is_finite(trace):
            for i, key in enumerate(order):
                found = value(trace, key)
                if (found is not None and not math.isfinite(found)
                        and not self.plan.teaching(key)):
                    self.diverged = (i + 1, keys.text(key), found)
                    order = order[:i]
                    break
        self.order: Sequence[Key] = order
        self._built: dict[int, Step] = {}

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, i: int) -> Step: ...

    @overload
    def __getitem__(self, i: slice) -> list[Step]: ...

    def __getitem__(self, i: int | slice) -> Step | list[Step]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self.order)))]
        if i < 0:
            i += len(self.order)
        if not 0 <= i < len(self.order):
            raise IndexError(i)
        step = self._built.get(i)
        if step is None:
            step = self._built[i] = self._build(i)
        return step

    def __iter__(self) -> Iterator[Step]:
        for i in range(len(self.order)):
            yield self._built.get(i) or self._build(i)

    def value_at(self, index: int) -> float | None:
        """The value of step ``index`` (1-based) without building the step."""
        return value(self.trace, self.order[index - 1])

    def value_of(self, key: Key) -> float | None:
        """Any value of the epoch by key: given, computed by a step, or after the updates
        (None only for ``apply``, which has none)."""
        return value(self.trace, key)

    def number(self, key: Key) -> float:
        """The value of ``key``, which has one (every key but ``apply``)."""
        return operand(self.trace, key)

    @cached_property
    def keys(self) -> dict[str, int]:
        """Key -> 1-based index of the step that computes it."""
        return {keys.text(key): i + 1 for i, key in enumerate(self.order)}

    @cached_property
    def phases(self) -> list[tuple[str, int, int]]:
        """(phase, first index, last index), 1-based, in order."""
        if self.diverged is None:
            return self.plan.phases
        return phases(self.plan.phase_of[: len(self.order)])

    def record(self) -> dict[str, object]:
        """The epoch record of the JSON logs: ``loss`` is the error before the epoch's
        updates (the data set's, with several examples); weights, biases and the optimiser's
        state (null under sgd) are after them. With several examples, ``updates`` counts the
        updates since epoch 1, and the gradients are in the update records unless the epoch
        had one update."""
        trace, network = self.trace, self.network
        updates = trace.updates
        found: dict[str, object] = {
            "type": "epoch",
            "epoch": self.epoch,
            "loss": trace.loss,
            "loss_after": trace.loss_after,
            "weights": [w.tolist() for w in trace.after.weights],
            "biases": network.bias_values(trace.after.biases),
            "state": trace.after.state_document(),
        }
        if network.examples > 1:
            found["updates"] = self.epoch * len(updates)
        if len(updates) == 1:
            found["gradients"] = self._gradients(updates[0])
        return found

    def update_records(self) -> list[dict[str, object]]:
        """With several examples, one record per update, in order: its examples (from 1),
        the batch's error and gradients, and the parameters and the optimiser's state after
        it."""
        if self.network.examples == 1:
            return []
        return [{
            "type": "update",
            "epoch": self.epoch,
            "update": number,
            "examples": list(update.examples),
            "loss": update.loss,
            "gradients": self._gradients(update),
            "weights": [w.tolist() for w in update.after.weights],
            "biases": self.network.bias_values(update.after.biases),
            "state": update.after.state_document(),
        } for number, update in enumerate(self.trace.updates, start=1)]

    def _gradients(self, update: Update) -> dict[str, object]:
        return {"weights": [g.tolist() for g in update.grad_w],
                "biases": self.network.bias_values(update.grad_b)}

    def _build(self, i: int) -> Step:
        key = self.order[i]
        formula = self.plan.formula(key)
        return Step(
            epoch=self.epoch,
            index=i + 1,
            phase=self.plan.phase_of[i],
            key=keys.text(key),
            kind=key.kind,
            expr=formula.expr,
            uses=tuple(keys.text(use) for use in formula.uses),
            operands=tuple(operand(self.trace, use) for use in formula.uses),
            value=value(self.trace, key),
            explanation=explain(key, formula, self.network, self.trace),
            touches=formula.touches,
            typed_key=key,
            typed_uses=formula.uses,
            compute=formula.compute,
        )


def explain(key: Key, formula: Formula, network: Network, trace: Trace) -> str:
    """What step ``key`` computes and why, in a few sentences."""
    if network.examples > 1:
        return _explain_examples(key, formula, network, trace)
    return _explain(key, formula, network, trace)


def _explain_examples(key: Key, formula: Formula, network: Network, trace: Trace) -> str:
    """Several examples: a step of one example says which; a batch's steps say how it
    combines its examples."""
    how = "mean" if network.batch_loss == "mean" else "sum"
    combine = ("averages them (batch_loss = \"mean\": divided by the batch's own size)"
               if how == "mean" else "adds them up (batch_loss = \"sum\")")
    if key.kind == "dataset_after":
        verdict = ("lower than E, the error at the epoch's start: this epoch reduced it"
                   if trace.loss_after < trace.loss else
                   "not lower than E, the error at the epoch's start: the learning rate "
                   "may be too large")
        return (f"E⁺, the data set's error after the epoch's last update: every example's "
                f"forward pass with the new values (out⁺), their errors combined as the "
                f"batches combine them ({how}). It is {verdict}.")
    first, last = key.example, key.last or key.example
    examples = f"examples {first} to {last}" if last > first else f"example {first}"
    if key.kind == "batch_error":
        return (f"The batch's error: the errors E_total of {examples}, combined — the batch "
                f"{combine}. It is the error this update reduces.")
    if key.kind in ("grad_w", "grad_b") and key.last:
        return (f"The batch's gradient of {key.param}: each of {examples} gave its own "
                f"∂E/∂{key.param} at the same parameters; the batch {combine}. One update "
                "uses it.")
    if key.kind == "apply":
        return (f"The new values of the batch of {examples} take effect: the next batch, or "
                "the next epoch, starts from these.")
    if _stateful_line(key, network):
        whose = f"The batch of {examples}" if key.last else f"Example {first}"
        when = ("It takes effect when the batch's updates are applied, and the next batch "
                "starts from it.")
        return f"{whose}: {_optimizer_line(key, formula, network, trace, when)}"
    if key.kind in ("new_w", "new_b"):
        whose = f"the batch of {examples}" if key.last else f"example {first} alone"
        return (f"Gradient descent for {whose}: move {key.param} against the gradient, a "
                "step the size of η times it. It takes effect when the batch's updates are "
                "applied, and the next batch starts from it.")
    batch = plan(network).batch_of(first)
    if key.kind == "total":
        whose = (f"the batch combines its examples' into E[{batch[0]}–{batch[1]}], the error "
                 "its update reduces" if batch[1] > batch[0] else
                 "it is the error this example's update reduces")
        return (f"Example {first}: its own total error, the sum of its output errors; "
                f"{whose}. The data set's E combines every example's.")
    words = _explain(key._replace(example=0, last=0), formula, network, trace)
    if key.kind in ("grad_w", "grad_b") and batch[1] > batch[0]:
        words += (f" This is example {first}'s gradient; its batch (examples {batch[0]} to "
                  f"{batch[1]}) combines them before one update.")
    return f"Example {first}: {words}"


def _explain(key: Key, formula: Formula, network: Network, trace: Trace) -> str:
    u = key.unit
    names = network.names
    during = network.update_order == "during_backward"
    if _stateful_line(key, network):
        when = "It takes effect when the epoch's updates are applied, at the end."
        return _optimizer_line(key, formula, network, trace, when)
    match key.kind:
        case "net":
            bias = formula.uses[-1].param
            return (f"The weighted sum into {u}: each value feeding {u} times the weight on its "
                    f"connection, plus the bias {bias}. It is what {u} receives before its "
                    "activation.")
        case "out":
            words = _activation(network, u).words
            if u in names.units[-1]:
                return f"{words}: this is {u}'s output, the network's answer."
            return f"{words}: this is {u}'s output, which the next layer uses."
        case "error":
            return _loss(network).words.format(u=u)
        case "total":
            return ("The total error is the sum of the output errors: the one number "
                    "backpropagation sets out to reduce.")
        case "contrib":
            w = formula.uses[1].param
            text = (f"The share of the error that reaches out_{u} through {key.above}: "
                    f"δ_{key.above}, the error signal at {key.above}, times {w}, the weight "
                    f"that carries out_{u} into it.")
            if during:
                text += f" It uses the already-updated {w} (update_order = during_backward)."
            if key.above in names.units[-1] and _activation(network, key.above).coupled:
                text += (f" Here E_{key.above} names that share, not {key.above}'s own error: "
                         f"under {_activation(network, key.above).symbol} every output's "
                         f"error moves with net_{key.above}, and δ_{key.above} gathers them "
                         "all.")
            return text
        case "dE_dout" if u in names.units[-1] and _loss(network).shortcut:
            loss = _loss(network)
            return (f"How the total error changes as out_{u} changes: {loss.rule}. The chain "
                    "rule's first factor, shown to follow it through: δ itself is worked by "
                    f"the shortcut out − t a few steps on (where "
                    f"{loss.unrepresentable.format(u=u)} this is not representable, and the "
                    "shortcut still is).")
        case "dE_dout" if u in names.units[-1]:
            return (f"How the total error changes as out_{u} changes: "
                    f"{_loss(network).rule}. It is {_loss(network).derivative_sign}.")
        case "dE_dout":
            return (f"out_{u} feeds every unit of the layer above, so its effect on the total "
                    "error is the sum of the shares that flow back through each of them.")
        case "slope" if _activation(network, u).coupled:
            return (f"How out_{u} changes as its own net_{u} changes, the Jacobian's diagonal "
                    f"entry: {_activation(network, u).slope_words}.")
        case "slope":
            return f"How out_{u} changes as net_{u} changes: {_activation(network, u).slope_words}."
        case "jacobian":
            coupled = _activation(network, u).coupled
            assert coupled is not None
            words, name = coupled.jacobian_words, _activation(network, u).symbol
            return (f"How out_{u} changes as net_{key.above} changes: every output of a "
                    f"{name} layer depends on every weighted sum of it, because {words}. "
                    "Leaving these entries out (the diagonal only) is the best-known slip "
                    f"with {name}.")
        case "chain" | "delta" if (u in names.units[-1] and _activation(network, u).coupled
                                   and (key.kind == "chain" or not _loss(network).shortcut)):
            why = (f"δ_{u}, the error signal at {u}: how the total error changes with net_{u}. "
                   f"net_{u} moves every output of the {_activation(network, u).symbol} layer, "
                   f"so by the chain rule δ_{u} "
                   f"sums over all of them, ∂E/∂out_k · ∂out_k/∂net_{u} for each output k — the "
                   "Jacobian's whole column, not just its diagonal.")
            if key.kind == "chain":
                return why + " The next step works it by the shortcut, which the weights use."
            return why + f" Every weight into {u} reuses it."
        case "chain":
            return (f"δ_{u}, the error signal at {u}, by the chain rule: ∂E/∂out_{u} times "
                    f"∂out_{u}/∂net_{u}. The next step works it by the shortcut, which the "
                    "weights use.")
        case "delta" if u in names.units[-1] and _loss(network).shortcut:
            rounded = (" (with hand rounding they may differ in the last digits: each was "
                       "rounded on its own)" if network.rounding else "")
            return (f"δ_{u}, the error signal at {u}, by the shortcut out_{u} − t_{u}: "
                    f"{_loss(network).shortcut_words}. So it agrees with the chain rule's "
                    f"value of the step before wherever that is representable{rounded}, and "
                    f"it stays representable where "
                    f"{_loss(network).unrepresentable.format(u=u)}. Every weight into {u} "
                    "uses it.")
        case "delta":
            return (f"δ_{u}, the error signal at {u}: how the total error changes with net_{u}. "
                    f"By the chain rule it is ∂E/∂out_{u} times ∂out_{u}/∂net_{u}; every weight "
                    f"into {u} reuses it.")
        case "dnet_dw":
            w, source = key.param, keys.text(formula.uses[0])
            return (f"How net_{u} changes with {w}: {w} multiplies {source} in the weighted "
                    f"sum, so the derivative is {source} itself.")
        case "grad_w" if _activation(network, formula.uses[0].unit).coupled:
            w, u = key.param, formula.uses[0].unit
            return (f"How the total error changes with {w}. By the chain rule, ∂E/∂{w} = "
                    f"∂E/∂net_{u} · ∂net_{u}/∂{w}, and ∂E/∂net_{u} is δ_{u} (through every "
                    f"output of the {_activation(network, u).symbol} layer, not through out_{u} "
                    "alone).")
        case "grad_w":
            w, u = key.param, formula.uses[0].unit
            return (f"How the total error changes with {w}. By the chain rule, ∂E/∂{w} = "
                    f"∂E/∂out_{u} · ∂out_{u}/∂net_{u} · ∂net_{u}/∂{w}; the first two factors "
                    f"are δ_{u}.")
        case "new_w" | "new_b":
            if during and key.kind == "new_w":
                when = "It takes effect at once (update_order = during_backward)."
            else:
                when = "It takes effect when the epoch's updates are applied, at the end."
            return (f"Gradient descent: move {key.param} against its gradient, a step the size "
                    f"of the learning rate η times the gradient. {when}")
        case "grad_b":
            b = key.param
            fed = [use.unit for use in formula.uses]
            if network.shared(names.parameters()[b][1]):
                text = (f"{b} is shared by the layer's units and ∂net/∂{b} = 1 for each of "
                        "them, so its gradient is the sum of their δ.")
                if fed[0] in names.units[-1] and _activation(network, fed[0]).coupled:
                    text += (f" A {_activation(network, fed[0]).symbol} layer's outputs do not "
                             "change when every weighted sum moves by the same amount, so "
                             "that sum is 0 (up to rounding; under cross-entropy it is "
                             "Σ out − Σ t = 1 − 1): a shared bias here never changes.")
            else:
                text = f"∂net_{fed[0]}/∂{b} = 1, so the gradient of {b} is δ_{fed[0]}."
            if not network.update_biases:
                text += " Biases stay fixed here (update_biases = false): reported, not applied."
            return text
        case "apply":
            text = "Every new value takes effect: the next epoch starts from these."
            if during:
                text += (" Each layer's new weights were already in use for the layers below "
                         "it (update_order = during_backward).")
            return text
        case "total_after":
            verdict = ("lower than before the updates: this epoch of gradient descent reduced "
                       "the error" if trace.loss_after < trace.loss else
                       "not lower than before the updates: the learning rate may be too large")
            return ("The total error again, from a forward pass with the new values (out⁺). "
                    f"It is {verdict}.")
    raise ValueError(f"no step computes {key!r}")


def _stateful_line(key: Key, network: Network) -> bool:
    """Whether ``key`` is a line of an optimiser that keeps state (its new values too)."""
    optimizer = OPTIMIZERS[network.optimizer]
    return bool(optimizer.slots) and key.kind in (*optimizer.computed, "new_w", "new_b")


def _optimizer_line(key: Key, formula: Formula, network: Network, trace: Trace,
                    when: str) -> str:
    """A line of an optimiser's update: its record's words, then this update's t and what
    the line comes to at it (``when``: when a new value takes effect)."""
    optimizer = OPTIMIZERS[network.optimizer]
    kind = "new" if key.kind in ("new_w", "new_b") else key.kind
    line = optimizer.line(kind)
    p = key.param
    t = network.updates + (max(key.example, 1) - 1) // network.batch_size + 1
    since = (f"since {' and '.join(optimizer.slots)} started at 0 (epoch 1, or a change of "
             "optimizer or update_biases)")
    state = ("new_v", "new_m", "new_s")
    text = line.words[0].upper() + line.words[1:] + "."
    if t == 1:
        where = f"the first update {since}, " if kind in (*state, "bc1", "bc2") else ""
        text += f" At t = 1, {where}{line.first.format(p=p)}."
    elif kind in state:
        text += (f" This is update t = {t}, counted from the first {since}: "
                 f"{kind.removeprefix('new_')}_{p} is what the update before left.")
    elif kind in ("bc1", "bc2"):
        text += (f" This is update t = {t}, counted from the first {since}; as t grows the "
                 "correction nears 1 and fades.")
    elif kind in ("mhat", "shat"):
        bc = operand(trace, formula.uses[1])
        text += (f" At t = {t}, dividing by {keys.text(formula.uses[1].at(0))} = {fmt(bc, 4)} "
                 f"scales {kind[0]}_{p}⁺ up by {fmt(1 / bc, 4)}, less with every update.")
    return f"{text} {when}" if kind == "new" else text


def _loss(network: Network) -> Loss:
    return loss_for(network.loss, network.activations[-1])


def _activation(network: Network, unit: str) -> Activation:
    return ACTIVATIONS[network.activations[network.names.position[unit][0]]]
