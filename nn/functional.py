"""softmax, log_softmax and the losses, written with Value operations only.

Each loss takes a batch as lists (one entry per sample) and returns the mean over the
batch as one Value, so it can be drawn, differentiated and checked against the matching
``torch.nn.functional`` call. None of them makes a Python decision on a number: the
stabilising shifts and clamps are ops (``maximum``, ``abs``, ``log1p``), so every loss can
be traced by ``micrograd.compile``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence, Set

import numpy as np

from micrograd import Value
from micrograd.ops import BCE_WITH_LOGITS
from micrograd.tracing import is_tracing

from .checks import _brief

__all__ = [
    "softmax",
    "log_softmax",
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
]


def _values(name: str, xs) -> list:
    if isinstance(xs, (Value, numbers.Real)):
        return [xs]
    if isinstance(xs, (str, bytes, Mapping, Set)):  # a dict would give its keys, a set any order
        raise TypeError(f"{name}: expected a list, one entry per sample, got {_brief(xs)}")
    try:
        xs = list(xs)
    except TypeError:
        raise TypeError(
            f"{name}: expected a list, one entry per sample, got {_brief(xs)}"
        ) from None
    if not xs:
        raise ValueError(f"{name}: expected a non-empty list, got an empty one")
    return xs


def _as_values(name: str, xs) -> list[Value]:
    values = _values(name, xs)
    for x in values:
        if isinstance(x, bool) or not isinstance(x, (Value, numbers.Real)):
            raise TypeError(f"{name}: expected numbers (Values) in a row, got {_brief(x)}")
    return [x if isinstance(x, Value) else Value(x) for x in values]


def _batch(name: str, preds, targets) -> tuple[list[Value], list[float]]:
    """(the predictions as Values, the targets as numbers or traced Values)."""
    preds, targets = _values(name, preds), _values(name, targets)
    if len(preds) != len(targets):
        raise ValueError(f"{name}: got {len(preds)} predictions but {len(targets)} targets")
    for p in preds:
        _check_prediction(name, p)
    preds = [p if isinstance(p, Value) else Value(p) for p in preds]  # a loss is a Value
    # Targets may be numbers, numpy scalars or Values: micrograd.compile traces them per sample
    return preds, [t if isinstance(t, Value) else _target(name, t) for t in targets]


def _check_prediction(name: str, p) -> None:
    """Raise TypeError, naming the loss, unless p is one number (a Value or a real)."""
    if not isinstance(p, (Value, numbers.Real)):
        raise TypeError(
            f"{name}: each prediction must be one number (a Value), got {_brief(p)}; "
            "a model of several outputs gives a list per sample"
        )


def _target(name: str, t) -> float:
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{name}: targets must be numbers, got {t!r}")
    try:
        return float(t)
    except OverflowError:  # an int past float range
        raise ValueError(f"{name}: a target is too large for a float: {_brief(t)}") from None


def _known(t) -> float | None:
    """A target's number, unless micrograd.compile is tracing it (one Value for every sample)."""
    if isinstance(t, Value):
        return None if is_tracing() else t.data
    return t


def _mean(losses: list) -> Value:
    # sum(...) * (1 / n), as karpathy/micrograd's demo writes it, so its loss is reproduced
    return sum(losses) * (1.0 / len(losses))


def _shifted(values: list[Value]) -> list[Value]:
    """x_i - max(x): exp of these cannot overflow. The max is taken with the maximum op,
    not a Python comparison, so that a traced loss stays a graph. Pairs are taken level by
    level (a tree, log2(n) deep, rather than a chain n deep), so that micrograd.compile runs
    each level as one call. Its gradient is stopped: softmax does not change when every x_i
    shifts by the same amount, so the gradient through the shift is zero, and backward need
    not walk the tree to hand that zero down it (as PyTorch's softmax backward does not)."""
    level = list(values)
    while len(level) > 1:
        pairs = [a.maximum(b) for a, b in zip(level[::2], level[1::2])]
        level = pairs + level[len(pairs) * 2 :]
    shift = level[0].stop_gradient()
    return [v - shift for v in values]


def _total(values: list[Value]) -> Value:
    """values[0] + values[1] + ..., left to right: sum() would start from a constant 0."""
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def softmax(values: Sequence[Value]) -> list[Value]:
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max(x): stable for any magnitude."""
    exps = [s.exp() for s in _shifted(_as_values("softmax", values))]
    total = _total(exps)
    return [e / total for e in exps]


def log_softmax(values: Sequence[Value]) -> list[Value]:
    """log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m)), m = max(x)."""
    shifted = _shifted(_as_values("log_softmax", values))
    log_total = _total([s.exp() for s in shifted]).log()
    return [s - log_total for s in shifted]


def mse_loss(preds, targets) -> Value:
    """mean((pred - target)**2), as torch.nn.functional.mse_loss."""
    preds, targets = _batch("mse_loss", preds, targets)
    return _mean([_squared_error(p, t) for p, t in zip(preds, targets)])


def _squared_error(pred, target) -> Value:
    return (pred - target) * (pred - target)


# PyTorch clamps BCE's logs at -100, so that a probability of exactly 0 or 1 gives a finite
# loss. log(max(p, e**-100)) is that clamp (log(e**-100) is exactly -100.0), and it keeps
# the gradient at p = 0 finite, where max(log(p), -100) would send 0 * inf = nan back.
_LOG_FLOOR = math.exp(-100.0)


def _clamped_log(p) -> Value:
    return (p if isinstance(p, Value) else Value(p)).maximum(_LOG_FLOOR).log()


def _check_probability(p) -> None:
    if isinstance(p, Value) and is_tracing():
        return  # traced by micrograd.compile: p stands for every sample, no one number to check
    number = p.data if isinstance(p, Value) else p
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"binary_cross_entropy: probabilities must be in [0, 1], got {p}")


def _check_bce_target(t) -> None:
    number = _known(t)
    if number is not None and not 0.0 <= number <= 1.0:  # torch refuses them too
        raise ValueError(f"binary_cross_entropy: targets must be in [0, 1], got {number!r}")


_HINGE_TARGETS = "hinge_loss: targets must be -1 or +1 (for 0/1 labels use y*2 - 1)"


def check_data(loss_fn: Callable, targets=None, predictions=None) -> None:
    """Raise the ValueError loss_fn raises on these targets or predictions (arrays of
    numbers), all at once: micrograd.compile traces one sample, whose Values stand for every
    sample's numbers, and cannot check them one by one as the eager loss does."""
    if targets is not None:
        if loss_fn in _NUMBER_TARGETS:
            _check_numbers(loss_fn.__name__, np.asarray(targets))
        t = np.asarray(targets, dtype=np.float64)
        if loss_fn is hinge_loss and not np.isin(t, (-1.0, 1.0)).all():
            raise ValueError(_HINGE_TARGETS)
        if loss_fn is binary_cross_entropy:
            for number in t[~((t >= 0.0) & (t <= 1.0))][:1].tolist():
                _check_bce_target(number)
    if predictions is not None and loss_fn is binary_cross_entropy:
        p = np.asarray(predictions, dtype=np.float64)
        for number in p[~((p >= 0.0) & (p <= 1.0))][:1].tolist():  # nan too, as eagerly
            _check_probability(number)


def _check_numbers(name: str, targets: np.ndarray) -> None:
    """The TypeError the loss raises at the first target that is no real number (a bool, a
    string, a complex, None), for all at once: compiled, they would be read as floats."""
    if targets.dtype.kind in "iuf":
        return
    for t in targets.ravel().tolist():
        if not isinstance(t, Value):
            _target(name, t)


def binary_cross_entropy(probs, targets) -> Value:
    """mean(-(t * log(p) + (1 - t) * log(1 - p))), logs clamped at -100 as in PyTorch.
    Its gradient is this clamped loss's own derivative, t/p and (1 - t)/(1 - p) apart; where
    p(1 - p) < 1e-12 PyTorch's backward divides (p - t) by max(p(1 - p), 1e-12) instead."""
    probs, targets = _batch("binary_cross_entropy", probs, targets)
    losses = []
    for p, t in zip(probs, targets):
        _check_probability(p)
        _check_bce_target(t)
        losses.append(_binary_cross_entropy(p, t))
    return _mean(losses)


def _binary_cross_entropy(p, t) -> Value:
    return -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))


def binary_cross_entropy_with_logits(logits, targets) -> Value:
    """mean((1 - t) * x + log(1 + exp(-x))): BCE of sigmoid(x), stable for any logit x."""
    logits, targets = _batch("binary_cross_entropy_with_logits", logits, targets)
    return _mean([_binary_cross_entropy_with_logits(x, t) for x, t in zip(logits, targets)])


def _binary_cross_entropy_with_logits(x: Value, t) -> Value:
    return BCE_WITH_LOGITS(x, t)  # one op: its gradient is PyTorch's sigmoid(x) - t


def cross_entropy(logits: Sequence[Sequence[Value]], targets: Iterable) -> Value:
    """mean(-log_softmax(logits_n)[target_n]): logits one list per sample; a target is a
    class index, or (as in torch.nn.functional.cross_entropy) the class probabilities, for
    mean(-sum_k p_nk * log_softmax(logits_n)_k): a one-hot row gives the index's loss. One
    sample's flat row of logits, as torch's unbatched input, takes one class index, or its
    class probabilities as floats ([0, 1.0, 0]: [0, 1, 0] would be class indices)."""
    logits, targets = _one_row(logits, targets)
    targets = _values("cross_entropy", targets)
    if len(logits) != len(targets):
        raise ValueError(f"cross_entropy: got {len(logits)} samples but {len(targets)} targets")
    losses, width = [], None
    for row, target in zip(logits, targets):
        row = _as_values("cross_entropy", row)
        if width is not None and len(row) != width:  # torch takes a rectangle of logits
            raise ValueError(
                f"cross_entropy: every sample needs as many logits, got {width} and {len(row)}"
            )
        width = len(row)
        if isinstance(target, np.ndarray) and target.ndim == 0:
            target = target.item()  # np.array(2): the number
        if isinstance(target, (Sequence, np.ndarray)) and not isinstance(target, str):
            losses.append(_cross_entropy(row, target))
            continue
        if isinstance(target, bool) or not isinstance(target, numbers.Integral):
            hint = (
                "; micrograd.compile traces every argument but its static ones: give class "
                "indices as one, compile(fn, static=(1,)), or give one-hot rows"
                if isinstance(target, Value) and is_tracing()
                else ""
            )
            raise TypeError(
                f"cross_entropy: a target must be a class index or class probabilities, "
                f"got {target!r}{hint}"
            )
        if not 0 <= target < len(row):
            raise ValueError(f"cross_entropy: target {target} out of range for {len(row)} classes")
        losses.append(-log_softmax(row)[int(target)])
    return _mean(losses)


def _one_row(logits, targets) -> tuple[list, object]:
    """(logits as a list of rows, targets as a list): a flat row of numbers is one sample's,
    as torch reads a 1-D input, with a class index or a row of class probabilities (floats)
    as its target; with a list of class indices it would be a batch of one-class samples,
    whose loss is always 0, and is refused."""
    logits = _values("cross_entropy", logits)
    if not all(isinstance(x, (Value, numbers.Real)) for x in logits):
        return logits, targets
    if isinstance(targets, np.ndarray) and targets.ndim == 0:
        targets = targets.item()  # np.array(2): the number
    if isinstance(targets, (numbers.Number, Value)):  # one target: checked as any
        return [logits], [targets]
    row = list(targets) if isinstance(targets, (Sequence, np.ndarray)) else None
    if row is not None and len(row) == len(logits) and any(_is_fraction(p) for p in row):
        return [logits], [row]  # class probabilities: torch's target is then of floats
    raise ValueError(
        f"cross_entropy: got a flat list of {len(logits)} logit{'s' * (len(logits) != 1)}, "
        "one sample's; give its class index alone, cross_entropy(row, k), its class "
        "probabilities as floats ([0, 1.0, 0]), or the batch as a list of rows, "
        "cross_entropy([row, ...], [k, ...])"
    )


def _is_fraction(p) -> bool:
    """A float (or a Value): a row holding one is class probabilities, as torch.tensor
    makes a row of floats of [0, 1.0, 0], where [0, 1, 0] is class indices."""
    return isinstance(p, (float, np.floating, Value))


def _cross_entropy(row: list[Value], target) -> Value:
    """-sum_k p_k * log_softmax(row)_k: one sample's loss, for class probabilities p (one
    per class, checked)."""
    return -_dot(_probabilities(target, len(row)), log_softmax(row))


def _probabilities(target, classes: int) -> list:
    probabilities = list(target)
    if len(probabilities) != classes:
        raise ValueError(
            f"cross_entropy: a target of class probabilities needs {classes} of them (one per "
            f"class), got {len(probabilities)}"
        )
    return [p if isinstance(p, Value) else _target("cross_entropy", p) for p in probabilities]


def _dot(weights: list, values: list[Value]) -> Value:
    """sum_k weights_k * values_k, added left to right."""
    total = weights[0] * values[0]
    for w, v in zip(weights[1:], values[1:]):
        total = total + w * v
    return total


def hinge_loss(scores, targets) -> Value:
    """mean(max(0, 1 - y * score)) for labels y in {-1, +1}: karpathy/micrograd's demo loss."""
    scores, targets = _batch("hinge_loss", scores, targets)
    if any(_known(t) not in (-1.0, 1.0, None) for t in targets):
        raise ValueError(_HINGE_TARGETS)
    return _mean([_hinge(s, t) for s, t in zip(scores, targets)])


def _hinge(score, target) -> Value:
    return (1 + -target * score).relu()


# the losses whose target is one real number per sample
_NUMBER_TARGETS = (mse_loss, hinge_loss, binary_cross_entropy, binary_cross_entropy_with_logits)


def l1_penalty(parameters: Iterable[Value]) -> Value:
    """sum_i |p_i|"""
    return _penalty("l1_penalty", abs, parameters)


def l2_penalty(parameters: Iterable[Value]) -> Value:
    """sum_i p_i**2 (karpathy/micrograd's demo adds 1e-4 times this to its loss)"""
    return _penalty("l2_penalty", lambda p: p * p, parameters)


def _penalty(name: str, term: Callable, parameters) -> Value:
    """sum(term(p) for p in parameters), from 0 as sum() starts (karpathy's demo's graph),
    always a Value: Value(0.0) for no parameters."""
    if isinstance(parameters, Value):
        parameters = [parameters]
    elif isinstance(parameters, (str, bytes, numbers.Real)) or not isinstance(parameters, Iterable):
        raise TypeError(f"{name}: expected parameters (Values), got {_brief(parameters)}")
    values = []
    for p in parameters:
        if isinstance(p, bool) or not isinstance(p, (Value, numbers.Real)):
            raise TypeError(f"{name}: each parameter must be a Value or a number, got {_brief(p)}")
        values.append(p if isinstance(p, Value) else Value(p))
    if not values:
        return Value(0.0)
    return sum(term(p) for p in values)


PER_SAMPLE: dict = {
    hinge_loss: _hinge,
    mse_loss: _squared_error,
    binary_cross_entropy: _binary_cross_entropy,
    binary_cross_entropy_with_logits: _binary_cross_entropy_with_logits,
    cross_entropy: _cross_entropy,
}
"""Each loss above as the loss of one sample, term(output, target), that the loss takes the
mean of: what compiled training traces (nn.steps), with the target a traced Value (for
cross_entropy, the class probabilities, a list of them) and the batch's mean taken over
the samples' terms. Traced through the loss itself, a sample's term would come wrapped in
the mean of a batch of one, (0 + term) * 1.0: two more steps every pass."""
