"""The two ways fit() takes a step: on the eager engine, or through micrograd.compile.

Both answer ``run(X_batch, y_batch) -> (loss, outputs)`` (the batch's mean loss, and the
model's outputs computed on the way, before the step, as an array), ``evaluate(X, y)`` (the
same without a step) and ``finish()``, so that fit is one loop around either.

* ``EagerSteps`` builds one graph per sample, backpropagates and steps the optimizer.
* ``CompiledSteps`` traces the loss of one sample once, targets included, and runs each
  batch with numpy; the parameters, their gradients and the optimizer's state live in
  arrays meanwhile, stepped by the optimizer's own rule in one operation per group
  (nn.optim.arrays). ``finish`` writes them back into the Values and the optimizer. The
  numbers are the eager steps' to about 1e-15: the batch is summed in another order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from micrograd import Value, enable_grad, no_grad

from . import functional as F
from .activations import Activation
from .dense import MLP, Layer, Neuron, Sequential
from .module import Module
from .optim import Optimizer
from .optim.arrays import ArrayStep

__all__ = ["CompiledSteps", "EagerSteps", "output_width", "per_sample_loss", "train_step"]


def _as_list(output) -> list:
    """A model's output as a list: its outputs (a list or tuple of them), or the one."""
    if isinstance(output, list):
        return output
    return list(output) if isinstance(output, tuple) else [output]


def train_step(
    model: Module,
    loss_fn: str | Callable,
    optimizer: Optimizer,
    X_batch: list[list[float]],
    y_batch: list,
    penalty: Callable[[], Value] | None = None,
) -> tuple[float, list]:
    """One gradient step on one batch; returns (loss, the model's outputs) as plain floats.
    loss_fn is a loss function or, as fit takes it, its name ("cross_entropy")."""
    from .train import _loss_and_threshold  # train imports this module

    loss_fn = _loss_and_threshold(loss_fn, "train_step")[0]
    if penalty is not None and not callable(penalty):
        raise TypeError(
            "train_step: penalty must be a function of no arguments returning a Value, such as "
            f"lambda: 1e-4 * l2_penalty(model.parameters()), got {penalty!r}"
        )
    outputs = [model(row) for row in X_batch]
    loss = loss_fn(outputs, y_batch)
    if penalty is not None:
        loss = loss + penalty()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # floats, not Values: holding Values would keep every batch's graph alive all epoch
    return loss.data, [[v.data for v in _as_list(out)] for out in outputs]


def _samples(X: np.ndarray) -> list:
    """The samples as the model takes them: a list of numbers per row of a 1-D or 2-D X (one
    number a row for 1-D), nested lists for images and other samples of several axes."""
    return X.reshape(len(X), -1).tolist() if X.ndim <= 2 else X.tolist()


def first_sample(X: np.ndarray):
    """X's first sample as the model takes it (see _samples)."""
    return _samples(X[:1])[0]


class EagerSteps:
    """One graph per sample: forward, zero_grad, backward, step (train_step)."""

    def __init__(self, model: Module, loss_fn: Callable, optimizer: Optimizer, l2: float):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        params = model.parameters()
        self.penalty = (lambda: l2 * F.l2_penalty(params)) if l2 else None

    def run(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, np.ndarray]:
        # with gradients on, whatever the thread was in: inside no_grad (or a no_grad a
        # Ctrl-C left behind) every step would silently train nothing
        with enable_grad():
            loss, outputs = train_step(
                self.model, self.loss_fn, self.optimizer, _samples(X_batch), y_batch.tolist(),
                self.penalty,
            )  # fmt: skip
        return loss, np.array(outputs)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        with no_grad():  # no graph: nothing to backpropagate
            outputs = [self.model(sample) for sample in _samples(X)]
            loss = self.loss_fn(outputs, y.tolist())
            if self.penalty is not None:
                loss = loss + self.penalty()
        return loss.data, np.array([[v.data for v in _as_list(out)] for out in outputs])

    def between_steps(self, callback: Callable[..., None], *arguments) -> None:
        callback(*arguments)

    def finish(self) -> None:
        pass


def output_width(model, sample=None) -> int | None:
    """How many outputs model gives: as its last layer says, for nn's own Neuron, Layer and
    Sequential (an MLP) computing as theirs do; else, for a module of one's own, as its
    output for sample says (run once, without a graph); None when neither can tell. The
    attribute names of a module of one's own say nothing to go by (its layers[-1] may be
    8 neurons wide before a head of 3)."""
    call = type(model).__call__
    if isinstance(model, Layer) and call is Layer.__call__:
        return len(model.neurons)
    if isinstance(model, Neuron) and call is Neuron.__call__:
        return 1
    if isinstance(model, Sequential) and call in (Sequential.__call__, MLP.__call__):
        # nn's activation modules keep the width of what comes before them
        kept = [m for m in model.layers if type(m).__call__ is not Activation.__call__]
        width = output_width(kept[-1]) if kept else None
        if width is not None:
            return width
    if sample is None:
        return None
    with no_grad():
        output = model(sample)
    return len(output) if isinstance(output, (list, tuple)) else 1


def per_sample_loss(model: Module, loss_fn: Callable, classes: int | None) -> Callable:
    """The function micrograd.compile traces: one sample's loss, then the model's outputs.
    classes: for cross-entropy, targets come one-hot (so one trace serves every class).
    A loss of nn.functional is traced as its term for one sample (F.PER_SAMPLE), without
    the mean over a batch of one around it."""
    term = _traced_term(loss_fn, classes)

    def one(x, target):
        out = model(x)
        if classes is not None:
            target = list(target)
        if term is None:
            return [loss_fn([out], [target]), *_as_list(out)]
        if classes is None:  # a loss of one output per sample, as loss_fn itself checks
            F._check_prediction(loss_fn.__name__, out)
        return [term(out if classes is None else _as_list(out), target), *_as_list(out)]

    return one


def _traced_term(loss_fn: Callable, classes: int | None) -> Callable | None:
    """loss_fn's term for one sample when its targets can be traced Values (one trace for
    all of them), else None: a loss of one's own gets plain-number targets, one trace per
    distinct value, and so does cross_entropy when the model's width (classes) is unknown."""
    if loss_fn is F.cross_entropy and classes is None:
        return None
    return F.PER_SAMPLE.get(loss_fn)


class CompiledSteps:
    """The loss of one sample traced once, each batch run with numpy (see the module)."""

    def __init__(
        self,
        model: Module,
        loss_fn: Callable,
        optimizer: Optimizer,
        l2: float,
        classes: int | None = None,
    ):
        """classes: the model's outputs, for cross_entropy (fit reads them, see
        output_width)."""
        import micrograd

        self.model, self.loss_fn, self.l2 = model, loss_fn, l2
        if loss_fn is not F.cross_entropy:
            classes = None
        elif classes is None:
            classes = output_width(model)
        self.traced_targets = _traced_term(loss_fn, classes) is not None
        self.classes = classes if self.traced_targets else None
        static = () if self.traced_targets else (1,)
        fn = per_sample_loss(model, loss_fn, self.classes)
        self.compiled = micrograd.compile(fn, static=static)
        self.arrays = ArrayStep(optimizer)
        self.position = {p: k for k, p in enumerate(self.arrays.parameters)}
        self.grad: np.ndarray | None = None
        self._one_hot: tuple[np.ndarray, np.ndarray] | None = None  # (labels, their rows)
        # The penalty covers the model's parameters, as the eager step's does: those the
        # optimizer moves (their places in theta), and the frozen ones.
        params = model.parameters()
        places = np.array([self.position.get(p, -1) for p in params], dtype=np.intp)
        self._penalized = places[places >= 0]
        # Values the optimizer does not move whose gradients build up from step to step, as
        # in eager training, where its zero_grad never clears them: the frozen parameters
        # first, then any other the trace reads (see _index)
        self.others: list[Value] = [p for p in params if p not in self.position]
        self._frozen_count = len(self.others)
        self._read()

    def _read(self) -> None:
        """The numbers from the Values: the parameters (theta), the frozen ones and the
        others' gradients so far."""
        self.theta = self.arrays.values()
        self._frozen = np.array([p.data for p in self.others[: self._frozen_count]])
        self._frozen_squares = float(np.dot(self._frozen, self._frozen))
        self.other_grads = np.array([p.grad for p in self.others], dtype=np.float64)
        self._traces = -1  # the index below, the trace's numbers the optimizer does not move

    def between_steps(self, callback: Callable[..., None], *arguments) -> None:
        """callback(*arguments) (a scheduler's step) where it sees what eager training would
        show it. A scheduler whose reads_model is False (all of nn.optim's but LambdaLR, and a
        SequentialLR holding one)
        only sets the groups' settings (lr; a OneCycleLR's momentum too), which every array
        step reads: it runs as it is. Anything
        else (a LambdaLR, whose function may look at the model, anything with a step())
        may read or change the parameters, their grads or the optimizer's state: they are
        written back before it and read again after it."""
        if getattr(getattr(callback, "__self__", None), "reads_model", True) is False:
            callback(*arguments)
            return
        self.finish()
        try:
            callback(*arguments)
        finally:  # what it changed before an interrupt counts too
            self.arrays.read_state()
            self._read()
            if self.grad is not None:  # the grads it may have set, which finish writes back
                self.grad = np.array([p.grad for p in self.arrays.parameters], dtype=np.float64)

    def _index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(where each traced parameter sits in theta, -1 if the optimizer does not move it;
        which do; the numbers of those it does not move, read once)."""
        if self._traces != self.compiled.trace_count:
            traced = self.compiled.parameters()
            index = np.array([self.position.get(p, -1) for p in traced], dtype=np.intp)
            self._fixed = np.array([p.data for p in traced], dtype=np.float64)
            self._known, self._where = index >= 0, index
            # the trace reads exactly theta, in its order (a model and its optimizer's params)
            self._same_order = np.array_equal(index, np.arange(len(self.theta)))
            self._traced_others = self._other_places(
                [traced[k] for k in np.flatnonzero(~self._known)]
            )
            self._traces = self.compiled.trace_count
        return self._where, self._known, self._fixed

    def _other_places(self, values: list[Value]) -> np.ndarray:
        """Where values sit in self.others, which takes in those it lacks."""
        place = {p: k for k, p in enumerate(self.others)}
        new = [p for p in values if p not in place]
        if new:
            self.others = self.others + new
            more = np.array([p.grad for p in new], dtype=np.float64)
            self.other_grads = np.concatenate([self.other_grads, more])
            place.update((p, k) for k, p in enumerate(self.others))
        return np.array([place[p] for p in values], dtype=np.intp)

    def _targets(self, y_batch: np.ndarray) -> np.ndarray:
        if self.classes is None:
            return y_batch.astype(np.float64, copy=False) if self.traced_targets else y_batch
        labels = y_batch.astype(np.intp)
        last = self._one_hot  # full-batch training asks for the same rows every epoch
        if last is not None and np.array_equal(last[0], labels):
            return last[1]
        one_hot = np.zeros((len(labels), self.classes))
        one_hot[np.arange(len(labels)), labels] = 1.0
        one_hot.flags.writeable = False  # it is handed out again
        self._one_hot = (labels, one_hot)
        return one_hot

    def _traced_values(self, X: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The numbers of the parameters the trace for this batch reads, in its order."""
        if not self.traced_targets or self._traces < 0:  # a new target may need a new trace
            self.compiled.trace(X, targets)
        index, known, fixed = self._index()
        if self._same_order:
            return self.theta
        values = fixed.copy()
        values[known] = self.theta[index[known]]
        return values

    def _penalty(self) -> float:
        """l2 * sum(p * p) over the model's parameters; _loss, its one caller, silences
        overflow to inf."""
        if not self.l2:
            return 0.0
        moved = self.theta[self._penalized]
        return self.l2 * (float(np.dot(moved, moved)) + self._frozen_squares)

    def _loss(self, outputs: np.ndarray) -> float:
        """The mean of the samples' losses (outputs[:, 0]) and the penalty. Overflow is inf,
        as in float arithmetic, without a warning; the penalty, +0.0 at least, makes a -0.0
        total +0.0, as the eager loss (0 + l_1 + ... + l_n) * (1 / n) always is."""
        with np.errstate(all="ignore"):
            return float(outputs[:, 0].sum() / len(outputs)) + self._penalty()

    def run(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, np.ndarray]:
        targets = self._targets(y_batch)
        values = self._traced_values(X_batch, targets)
        outputs, grad_traced = self.compiled.value_and_grad(X_batch, targets, parameters=values)
        F.check_data(self.loss_fn, predictions=outputs[:, 1:])  # before the step, as eagerly
        index, known, _ = self._index()
        if self._same_order:
            grad = grad_traced
        else:
            grad = np.zeros_like(self.theta)
            grad[index[known]] = grad_traced[known]
            self.other_grads[self._traced_others] += grad_traced[~known]
        loss = self._loss(outputs)
        if self.l2:  # l2 * sum(p * p): each p * p hands l2 * p to p twice, as the graph does
            with np.errstate(all="ignore"):
                moved = self.l2 * self.theta[self._penalized]
                grad[self._penalized] += moved
                grad[self._penalized] += moved
                frozen = self.other_grads[: len(self._frozen)]  # a view: added in place
                frozen += self.l2 * self._frozen
                frozen += self.l2 * self._frozen
        self.arrays.step(self.theta, grad)
        self.grad = grad
        return loss, outputs[:, 1:]

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        targets = self._targets(y)
        outputs = self.compiled.forward(X, targets, parameters=self._traced_values(X, targets))
        F.check_data(self.loss_fn, predictions=outputs[:, 1:])
        return self._loss(outputs), outputs[:, 1:]

    def finish(self) -> None:
        """Every parameter's data and grad, and the optimizer's state, from the arrays."""
        self.arrays.write_back(self.theta, self.grad)
        for p, grad in zip(self.others, self.other_grads.tolist()):
            p.grad = grad
