"""Training: ``fit`` runs gradient descent over a data set; ``accuracy`` scores outputs.

``fit`` loops over epochs and batches around one kind of step (nn.steps): on the eager
engine (``train_step``: compute the loss, zero the grads, backpropagate, step the
optimizer), or through micrograd.compile.
"""

from __future__ import annotations

import numbers
import reprlib
import sys
from collections.abc import Callable

import numpy as np

from micrograd import Value

from . import functional as F
from .checks import _brief
from .data import _flag, _generator, _non_negative, batches
from .dense import MLP, Layer, Neuron, Sequential
from .module import Module
from .optim import SGD, LRScheduler, OneCycleLR, Optimizer, ReduceLROnPlateau
from .steps import CompiledSteps, EagerSteps, first_sample, output_width, train_step

__all__ = ["fit", "accuracy", "train_step", "LOSSES"]

LOSSES: dict[str, Callable] = {
    "hinge": F.hinge_loss,
    "mse": F.mse_loss,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy,
}
"""Losses by name for fit(loss=...): each ``loss(outputs, targets) -> Value``."""

_THRESHOLDS = {"binary_cross_entropy": 0.5}  # outputs are probabilities, not scores


def accuracy(outputs, targets, threshold: float = 0.0) -> float:
    """Fraction correct: argmax == target for multi-class outputs, else (output > threshold)
    == (target > 0.5) for labels in {-1, +1} or in [0, 1] (0/1, or the probabilities of soft
    labels, as binary cross-entropy takes them; a soft label of exactly 0.5 is negative)."""
    outputs, targets = _listed("outputs", outputs), _listed("targets", targets)
    if len(outputs) != len(targets):
        raise ValueError(f"accuracy: got {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError("accuracy: no outputs")
    rows = [o if isinstance(o, (list, tuple, np.ndarray)) else [o] for o in outputs]
    if len({len(row) for row in rows}) > 1:
        raise ValueError("accuracy: every sample needs as many outputs, got rows of "
                         f"{sorted({len(row) for row in rows})}")  # fmt: skip
    numbers = np.array([[_number("outputs", v) for v in row] for row in rows])
    labels = np.array([_number("targets", t) for t in targets])
    width = numbers.shape[1]
    whole = np.isfinite(labels) & (labels == np.round(labels))
    if width > 1 and not whole.all():  # a class outside 0..width-1 is one no output is: wrong
        raise ValueError(f"accuracy: class targets must be whole numbers, got "
                         f"{labels[~whole][0].item()}")  # fmt: skip
    probabilities = ((labels >= 0) & (labels <= 1)).all()
    if width == 1 and not (probabilities or np.isin(labels, (-1, 1)).all()):
        raise ValueError(f"accuracy: labels of one output must be -1/+1 or in [0, 1], got "
                         f"{sorted(set(labels.tolist()))[:4]}")  # fmt: skip
    return _correct(numbers, labels, threshold) / len(outputs)


def _listed(name: str, xs) -> list:
    if isinstance(xs, (Value, numbers.Real, str)):
        raise TypeError(f"accuracy: {name} must be one entry per sample, got {_brief(xs)}")
    return list(xs)


def _number(name: str, x) -> float:
    """A Value's number, or the number itself (numpy's numbers have a .data of their own)."""
    number = x.data if isinstance(x, Value) else x
    if isinstance(number, (bool, np.bool_)) and name == "targets":  # y > 0: labels 0/1
        return float(number)
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(f"accuracy: {name} must be numbers, got {_brief(x)}")
    return float(number)


def _correct(outputs: np.ndarray, targets: np.ndarray, threshold: float) -> int:
    """How many of the outputs (one row per sample) are right (see accuracy)."""
    if outputs.shape[1] > 1:  # the first largest score, as list.index(max(...)) finds it
        classes = targets.astype(np.int64)
        hits = _hits_by_columns(outputs, classes)
        return int(np.sum(np.argmax(outputs, axis=1) == classes) if hits is None else hits)
    # > 0.5 parts -1 from +1 and 0 from 1 alike, and soft labels (0.2, 0.8) by their side
    return int(np.count_nonzero((outputs[:, 0] > threshold) == (targets > 0.5)))


def _hits_by_columns(outputs: np.ndarray, classes: np.ndarray) -> int | None:
    """How many rows hold their largest score in their class's column, or None when a row
    holds nan, or its largest twice, or its class is not a column: argmax, which picks the
    first, answers then. It reads whole columns, where argmax loops over rows of a few
    scores, 40 us of a compiled epoch of the digits."""
    if classes.size and (classes.min() < 0 or classes.max() >= outputs.shape[1]):
        return None
    best = outputs.max(axis=1)
    if np.isnan(best).any():  # a nan is its row's largest, and equal to nothing
        return None
    # every row holds its largest at least once: once each, or a row ties (where argmax may
    # pick an earlier column)
    if np.count_nonzero(outputs == best[:, None]) != len(outputs):
        return None
    return int(np.count_nonzero(outputs[np.arange(len(outputs)), classes] == best))


def fit(
    model: Module,
    X,
    y,
    loss: str | Callable = "hinge",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    l2: float = 0.0,
    scheduler: LRScheduler | None = None,
    scheduler_interval: str = "epoch",
    seed: int | np.random.RandomState | None = 0,
    progress: bool = True,
    compile: bool = False,
    validation_data: tuple | None = None,
) -> dict[str, list[float]]:
    """Train model on (X, y); returns {"loss": [...], "accuracy": [...]}, one entry per epoch
    (the mean batch loss and the accuracy of the outputs computed during the epoch). With
    validation_data=(X_val, y_val) it also holds "val_loss" and "val_accuracy": the loss
    (penalty included, as in "loss") and accuracy on those samples, evaluated after each
    epoch's last step, without training on them. Accuracy takes the argmax of several
    outputs; one output counts as positive above 0.5 for binary_cross_entropy (whose
    outputs are probabilities) and for mse on targets in [0, 1], above 0 otherwise, and a
    target by > 0.5 (-1/+1 and 0/1 labels alike).

    X holds one sample per row: a list of numbers (X of shape (n, features)), or an image
    [channels][height][width] (X of shape (n, channels, height, width)) for a convolution.

    batch_size None is full-batch, 1 per-sample, else mini-batches (reshuffled each epoch
    when shuffle). l2 adds l2 * sum(p**2) to each batch's loss. The default optimizer is
    SGD(lr=0.1); the scheduler, if any, steps once per epoch, after the validation (or,
    with scheduler_interval="batch", after each batch's step, as a OneCycleLR is stepped):
    an nn.optim.LRScheduler (LambdaLR for a schedule of one's own; a ReduceLROnPlateau, of
    mode "min", is given the epoch's val_loss, or its loss without validation_data), or
    anything with a step() method. A OneCycleLR must have steps left for every one fit
    makes. A LambdaLR's function or such a step() may read and
    change the model as eager training leaves it, compiled or not (compiled, that costs
    writing the numbers back into the Values and reading them again, each epoch, unless
    the scheduler's reads_model is False, as every nn.optim schedule's but LambdaLR's, and
    a SequentialLR's holding one, is). compile traces the loss of one sample
    with micrograd.compile and runs each batch with numpy, the optimizer stepping all
    parameters at once: the same numbers but for rounding, much faster (see nn.steps; Adam's
    division can magnify a rounding difference over many steps). Every loss in LOSSES
    traces; a loss of your own must not branch in Python on a value
    (micrograd.compiler.TracingError says where).

    Every argument is checked before the first step: a bad one is a TypeError or a
    ValueError naming fit (or the loss that refuses a target) and the argument. X's width is
    checked against a first dense layer's; a convolution checks its images as it runs.
    """
    loss_fn, threshold = _loss_and_threshold(loss)
    _check_counts(epochs, batch_size)
    l2 = _non_negative("fit", "l2", l2)
    X, y = _checked_data(model, X, y)
    validation = _checked_validation(model, X, validation_data)
    classes = None
    if loss_fn is F.cross_entropy:
        classes = output_width(model, first_sample(X))
        if classes == 1:  # softmax over one output is 1: the loss is 0, and nothing learns
            raise ValueError(
                f"fit: cross_entropy needs a model of one output per class (2 or more); "
                f"{type(model).__name__} gives 1: for two classes, use "
                "binary_cross_entropy_with_logits"
            )
        _check_classes(model, classes, y, "y")
        if validation is not None:
            _check_classes(model, classes, validation[1], "validation_data: y")
    F.check_data(loss_fn, targets=y)  # here, not at a step: compiled or not, before any
    if validation is not None:
        F.check_data(loss_fn, targets=validation[1])
    _check_label_range(loss_fn, y, "y")
    if validation is not None:
        _check_label_range(loss_fn, validation[1], "validation_data: y")
    threshold = _threshold_for(loss_fn, threshold, y)
    _check_training_options(optimizer, scheduler, shuffle=shuffle, progress=progress,
                            compile=compile)  # fmt: skip
    _check_schedules(optimizer, scheduler)
    _check_grads(model)
    per_batch = _check_interval(scheduler, scheduler_interval)
    if isinstance(scheduler, OneCycleLR):
        batches_per_epoch = 1 if batch_size is None else -(-len(X) // batch_size)
        _check_cycle_length(scheduler, epochs * (batches_per_epoch if per_batch else 1))
    rng = _generator("fit", seed)
    optimizer = optimizer if optimizer is not None else SGD(model.parameters(), lr=0.1)
    if compile:
        steps = CompiledSteps(model, loss_fn, optimizer, l2, classes)
    else:
        steps = EagerSteps(model, loss_fn, optimizer, l2)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    watched = "loss" if validation is None else "val_loss"  # what a ReduceLROnPlateau sees
    bar = _progress_bar(epochs, progress)
    try:
        for _ in range(epochs):
            losses, correct = [], 0
            for X_batch, y_batch in batches(X, y, batch_size, shuffle=shuffle, seed=rng):
                batch_loss, outputs = steps.run(X_batch, y_batch)
                losses.append((batch_loss, len(y_batch)))
                correct += _correct(outputs, y_batch, threshold)
                if per_batch:
                    steps.between_steps(scheduler.step)
            history["loss"].append(_mean_loss(losses))
            history["accuracy"].append(correct / len(y))
            if validation is not None:
                val_loss, val_outputs = steps.evaluate(*validation)
                history["val_loss"].append(val_loss)
                val_correct = _correct(val_outputs, validation[1], threshold)
                history["val_accuracy"].append(val_correct / len(validation[1]))
            if isinstance(scheduler, ReduceLROnPlateau):
                steps.between_steps(scheduler.step, history[watched][-1])
            elif scheduler is not None and not per_batch:
                steps.between_steps(scheduler.step)
            if bar is not None:
                # shown with the next update(1), not drawn now: a redraw every epoch passed
                # by tqdm's mininterval (104 MB of stderr for a million epochs)
                bar.set_postfix(_shown(history), refresh=False)
                bar.update(1)
    finally:  # an interrupted run leaves the Values and the optimizer where it stopped
        steps.finish()
        if bar is not None:
            bar.close()
    return history


def _check_training_options(optimizer, scheduler, **flags) -> None:
    """TypeError, naming fit and the argument, for what would fail only once training ran.
    Eager training takes any optimizer with zero_grad() and step(), as karpathy's users
    write one; compiled training steps nn.optim's rules on arrays."""
    compiled = flags["compile"]
    if optimizer is not None and (
        not isinstance(optimizer, Optimizer)
        if compiled
        else not all(callable(getattr(optimizer, m, None)) for m in ("zero_grad", "step"))
    ):
        kind = "an nn.optim optimizer" if compiled else "an optimizer with zero_grad() and step()"
        raise TypeError(
            f"fit: optimizer must be {kind}, such as optim.Adam(model.parameters()), got "
            f"{_brief(optimizer)}"
        )
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"fit: scheduler must have a step() method, got {_brief(scheduler)}")
    if isinstance(scheduler, ReduceLROnPlateau) and scheduler.mode != "min":
        raise ValueError(
            "fit: steps a ReduceLROnPlateau with the epoch's loss, which should fall; "
            f"its mode must be 'min', not {scheduler.mode!r}"
        )
    for name, value in flags.items():
        _flag("fit", name, value)


def _check_schedules(optimizer, scheduler) -> None:
    """ValueError unless an nn.optim scheduler schedules the optimizer fit steps: else its
    lrs change an optimizer that never trains, and nothing says so."""
    if not isinstance(scheduler, LRScheduler) or scheduler.optimizer is optimizer:
        return
    if optimizer is None:
        raise ValueError(
            "fit: the scheduler schedules an optimizer, and fit was given none, so it would "
            "train with a default SGD the scheduler never sees; pass the optimizer too"
        )
    raise ValueError("fit: the scheduler schedules another optimizer than the one fit was given")


def _check_grads(model: Module) -> None:
    """TypeError, naming the parameter, for a .grad that is no number (None, as torch's
    set_to_none leaves them): backward adds to it, and compiled training read it as nan."""
    named = getattr(model, "named_parameters", None)  # a model of one's own may not have it
    pairs = named() if callable(named) else [(f"{k}", p) for k, p in enumerate(model.parameters())]
    for name, p in pairs:
        grad = p.grad
        if not isinstance(grad, Value) and (
            isinstance(grad, bool) or not isinstance(grad, numbers.Real)
        ):
            raise TypeError(
                f"fit: parameter {name} has .grad {_brief(grad)}, not a number; a Value's grad "
                "is a number, 0.0 after zero_grad()"
            )


def _check_interval(scheduler, interval) -> bool:
    """Whether fit steps scheduler after each batch (interval "batch"), not each epoch."""
    if not isinstance(interval, str):
        raise TypeError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {interval!r}")
    if interval not in ("epoch", "batch"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {interval!r}")
    if interval == "batch" and scheduler is None:
        raise ValueError("fit: scheduler_interval='batch' was given without a scheduler")
    if interval == "batch" and isinstance(scheduler, ReduceLROnPlateau):
        raise ValueError(
            "fit: a ReduceLROnPlateau steps with an epoch's loss, once per epoch; drop "
            "scheduler_interval='batch'"
        )
    return interval == "batch"


def _check_cycle_length(scheduler: OneCycleLR, steps: int) -> None:
    """ValueError before training, rather than after it ran, unless a OneCycleLR has as many
    steps left as fit will make."""
    left = scheduler.total_steps - scheduler.last_epoch
    if steps > left:
        raise ValueError(
            f"fit: will step the OneCycleLR {steps} times, and its cycle has {left} steps left "
            f"(total_steps {scheduler.total_steps}); make it with total_steps={steps}, or "
            "epochs=epochs and steps_per_epoch=the batches per epoch with "
            "scheduler_interval='batch'"
        )


def _loss_and_threshold(loss: str | Callable, owner: str = "fit") -> tuple[Callable, float]:
    """(the loss function, the output above which a single output counts as positive): a
    loss of LOSSES given by its function reads outputs as given by its name (a probability
    read by > 0 counted every sample positive)."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{owner}: unknown loss {loss!r}; expected one of {sorted(LOSSES)}")
        return LOSSES[loss], _THRESHOLDS.get(loss, 0.0)
    if not callable(loss):
        raise TypeError(f"{owner}: loss must be a name in LOSSES or a callable, got {loss!r}")
    name = next((name for name, fn in LOSSES.items() if fn is loss), None)
    return loss, _THRESHOLDS.get(name, 0.0)


def _threshold_for(loss_fn: Callable, threshold: float, y: np.ndarray) -> float:
    """threshold, but 0.5 for mse on targets in [0, 1]: its outputs near 0 are class 0's,
    and > 0 counted them positive (the label is read by > 0.5 whatever the loss)."""
    if loss_fn is F.mse_loss and y.dtype.kind in "iuf" and ((y >= 0) & (y <= 1)).all():
        return 0.5
    return threshold


def _check_label_range(loss_fn: Callable, targets: np.ndarray, name: str) -> None:
    """binary_cross_entropy_with_logits takes any target, as torch's does, but outside
    [0, 1] its loss has no lower bound: fit on -1/+1 labels trained toward -inf."""
    if loss_fn is not F.binary_cross_entropy_with_logits:
        return
    t = np.asarray(targets, dtype=np.float64)
    outside = t[~((t >= 0.0) & (t <= 1.0))]
    if outside.size:
        raise ValueError(
            f"fit: binary_cross_entropy_with_logits needs targets in [0, 1] ({name} holds "
            f"{float(outside[0])!r}; outside them its loss has no lower bound, and a nan "
            "makes every loss nan): for -1/+1 labels use (y + 1) / 2"
        )


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_counts(epochs: object, batch_size: object) -> None:
    if not _is_integer(epochs) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if batch_size is not None and (not _is_integer(batch_size) or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a positive integer or None, got {batch_size!r}")


def _checked_data(model: Module, X, y) -> tuple[np.ndarray, np.ndarray]:
    """X as float64 and y as an array: as many targets as rows, rows as wide as model's input."""
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError(
            "fit: model must be a module with parameters() (an nn Module, or a model of one's "
            f"own with a parameters() method), got {type(model).__name__}"
        )
    try:
        given = np.asarray(X)
    except (TypeError, ValueError):  # ragged rows
        given = None
    except RuntimeError as error:  # a torch tensor that requires grad
        raise ValueError(f"fit: X cannot be read as numbers ({error})") from None
    if given is not None and given.dtype.kind in "cUS":  # complex numbers lost their
        # imaginary part, and text was parsed as numbers
        raise ValueError(
            "fit: X must be a rectangular array of numbers, one row per sample, got an array "
            f"of {given.dtype} (real numbers only)"
        )
    try:
        rows = None if given is None else given.astype(np.float64, copy=False)
    except (TypeError, ValueError):  # entries that are not numbers
        rows = None
    if rows is None or rows.ndim == 0:
        raise ValueError(
            "fit: X must be a rectangular array of numbers, one row per sample, "
            f"got {reprlib.repr(X)}"
        )
    try:
        targets = np.asarray(y)
    except RuntimeError as error:  # a torch tensor that requires grad
        raise ValueError(f"fit: y cannot be read as numbers ({error})") from None
    # accuracy() reads each target as one number, whatever the loss
    if targets.ndim != 1:
        raise ValueError(
            f"fit: y must be a 1-D array, one target per sample, got shape {targets.shape}"
        )
    if len(rows) != len(targets):
        raise ValueError(f"fit: X has {len(rows)} samples but y has {len(targets)}")
    if len(rows) == 0:
        raise ValueError("fit: X and y are empty; expected at least one sample")
    width = int(np.prod(rows.shape[1:]))  # each row is flattened; a 1-D X is one value a row
    expected = _input_width(model)
    if expected is not None and width != expected:
        raise ValueError(
            f"fit: X has rows of {width} values but {type(model).__name__} "
            f"expects {expected} inputs"
        )
    if expected is not None and rows.ndim > 2 and _computes_as_nn(model):  # rows, not images
        raise ValueError(
            f"fit: X holds samples of shape {rows.shape[1:]}, but {type(model).__name__} "
            "takes each as a row of numbers: give X.reshape(len(X), -1)"
        )
    return rows, targets


def _checked_validation(model: Module, X: np.ndarray, validation_data) -> tuple | None:
    """validation_data as checked arrays of samples shaped as X's, or None."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(
            "fit: validation_data must be a pair (X_val, y_val), got "
            f"{reprlib.repr(validation_data)}"
        )
    try:
        X_val, y_val = _checked_data(model, *validation_data)
    except ValueError as error:
        raise ValueError(f"fit: validation_data: {str(error).removeprefix('fit: ')}") from None
    if X_val.shape[1:] != X.shape[1:]:
        raise ValueError(
            f"fit: validation_data: samples of shape {X_val.shape[1:]}, but X's are {X.shape[1:]}"
        )
    return X_val, y_val


def _check_classes(model: Module, classes: int | None, y: np.ndarray, name: str) -> None:
    """cross_entropy's targets: class indices, integers from 0 to classes - 1 (the model's
    outputs, None if they cannot be told).
    Checked before the first step, in both modes: compiled training reads them as one-hot
    rows, where -1 would silently be the last class and 1.5 class 1."""
    if y.dtype.kind not in "iu":  # floats, bools, strings; objects may still be integers
        bad = [t for t in y.tolist() if not _is_integer(t)]
        if bad:
            got = f"{_brief(bad[0])}" if y.dtype == object else f"an array of {y.dtype}"
            raise ValueError(
                f"fit: {name} must hold class indices (integers) for cross_entropy, got {got}"
            )
    outside = (y < 0) if classes is None else (y < 0) | (y >= classes)
    if outside.any():
        k = int(np.argmax(outside))
        expected = (
            "a class index must be non-negative" if classes is None
            else f"{type(model).__name__} gives {classes} outputs, classes 0 to {classes - 1}"
        )  # fmt: skip
        raise ValueError(f"fit: {name} holds class {y[k]} (sample {k}); {expected}")


def _shown(history: dict[str, list[float]]) -> dict[str, str]:
    """The progress bar's figures: the latest epoch's loss and accuracy."""
    shown = {"loss": f"{history['loss'][-1]:.4f}", "acc": f"{history['accuracy'][-1]:.2%}"}
    if "val_loss" in history:
        shown.update(val_loss=f"{history['val_loss'][-1]:.4f}")
        shown.update(val_acc=f"{history['val_accuracy'][-1]:.2%}")
    return shown


def _input_width(model: Module) -> int | None:
    """How many inputs model reads, when it is a module whose first layer says so."""
    if isinstance(model, Neuron):
        return len(model.w)
    if isinstance(model, Layer):
        return model.nin
    if isinstance(model, Sequential) and model.layers:
        return _input_width(model.layers[0])
    return None


def _computes_as_nn(model: Module) -> bool:
    """Whether model computes as nn's own Neuron, Layer, MLP or Sequential does: a subclass
    with a __call__ of its own may flatten an image itself."""
    return type(model).__call__ in (Neuron.__call__, Layer.__call__, MLP.__call__,
                                    Sequential.__call__)  # fmt: skip


def _mean_loss(batch_losses: list[tuple[float, int]]) -> float:
    """The epoch's loss: each batch's mean loss weighted by its size (the last may be short)."""
    if len(batch_losses) == 1:
        return batch_losses[0][0]  # exactly the batch's loss, not (loss * n) / n
    total = sum(loss * size for loss, size in batch_losses)
    return total / sum(size for _, size in batch_losses)


def _progress_bar(epochs: int, enabled: bool):
    if not enabled or sys.stderr is None:  # no stderr to draw on (closed, or pythonw's)
        return None
    # Plain tqdm: a text bar works in a terminal and in Jupyter alike, where tqdm.auto
    # would want ipywidgets and warn without it.
    from tqdm import tqdm

    return tqdm(total=epochs, desc="fit", unit="epoch")
