"""softmax, log_softmax and losses: values and gradients against torch.nn.functional (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import same

import micrograd
from micrograd import Value, nn

LOGITS = [
    [0.5, -1.25, 2.0],
    [1000.0, 999.0, -1000.0],  # large magnitudes: exp would overflow without the max shift
    [-1000.0, -1001.5, -999.0],
    [0.0, 0.0, 0.0],
    [30.0, -30.0, 1e-9],
]


def values(rows):
    return [[Value(x) for x in row] for row in rows]


def tensor(rows):
    return torch.tensor(rows, dtype=torch.float64, requires_grad=True)


def close(ours: float, theirs: float, rel: float = 1e-12, abs_tol: float = 1e-15) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_tol)


def assert_grads(ours, theirs: torch.Tensor):
    flat = [v for row in ours for v in row] if isinstance(ours[0], list) else ours
    expected = theirs.grad.reshape(-1).tolist()
    for v, g in zip(flat, expected, strict=True):
        assert close(v.grad, g), (v.grad, g)


@pytest.mark.parametrize("row", LOGITS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_matches_torch(name, row):
    ours_in = [Value(x) for x in row]
    ours = getattr(nn, name)(ours_in)
    theirs_in = tensor(row)
    theirs = getattr(torch, name)(theirs_in, dim=0)
    weights = [1.0, -2.0, 0.5]  # a weighted sum, so each output's gradient matters
    sum(w * o for w, o in zip(weights, ours)).backward()
    (theirs * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    for o, t in zip(ours, theirs.tolist()):
        assert math.isfinite(o.data) and close(o.data, t)
    assert_grads(ours_in, theirs_in)


def test_cross_entropy_matches_torch():
    targets = [2, 0, 1, 1, 0]
    ours_in = values(LOGITS)
    loss = nn.cross_entropy(ours_in, targets)
    loss.backward()
    theirs_in = tensor(LOGITS)
    expected = TF.cross_entropy(theirs_in, torch.tensor(targets))
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours_in, theirs_in)


@pytest.mark.parametrize("row", LOGITS)
@pytest.mark.parametrize(
    "target", [0, 2, np.array(1), [0.2, 0.5, 0.3], np.array([0.0, 1.0, 0.0]), [0, 1.0, 0]]
)
def test_cross_entropy_of_one_flat_row_is_torchs_unbatched_loss(row, target):
    # a class index (a number or a 0-d array) or a row of class probabilities (floats)
    ours_in = [Value(x) for x in row]
    loss = nn.cross_entropy(ours_in, target)
    loss.backward()
    theirs_in = tensor(row)
    theirs_target = torch.tensor(target, dtype=torch.float64 if np.ndim(target) else None)
    expected = TF.cross_entropy(theirs_in, theirs_target)  # a 1-D input: one sample
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours_in, theirs_in)


@pytest.mark.parametrize("logits", [[1.0, 2.0], [1.0]])
def test_cross_entropy_refuses_a_flat_row_with_a_list_of_class_indices(logits):
    # read as samples of one class each, its loss was 0 whatever the logits; torch reads
    # a 1-D input as one sample, and refuses these integer targets as class probabilities
    with pytest.raises(ValueError, match=f"cross_entropy: got a flat list of {len(logits)} logit"):
        nn.cross_entropy([Value(x) for x in logits], [0] * len(logits))
    with pytest.raises(RuntimeError, match="Expected floating point type for target"):
        TF.cross_entropy(tensor(logits), torch.tensor([0] * len(logits)))


def test_a_0_d_array_is_a_class_index_as_torchs_0_d_tensor():
    # iterating it, as a row of class probabilities, was a bare "iteration over a 0-d array"
    ours_in = values(LOGITS[:2])
    loss = nn.cross_entropy(ours_in, [np.array(2), np.array(0)])
    loss.backward()
    theirs_in = tensor(LOGITS[:2])
    expected = TF.cross_entropy(theirs_in, torch.stack([torch.tensor(2), torch.tensor(0)]))
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours_in, theirs_in)


def test_class_indices_traced_by_compile_are_refused_with_the_way_out():
    X, labels = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 1])
    traced = micrograd.compile(lambda x, t: nn.cross_entropy([[x[0], x[1]]], [t]))
    with pytest.raises(TypeError, match=r"give class indices as one, compile\(fn, static="):
        traced(X, labels)
    static = micrograd.compile(lambda x, t: nn.cross_entropy([[x[0], x[1]]], [t]), static=(1,))
    expected = TF.cross_entropy(torch.tensor(X), torch.tensor(labels))  # the batch's mean
    assert close(static(X, labels), expected.item())


PAIRS = [(0.3, 1.0), (-1.7, 0.0), (2.5, 0.25), (0.0, 1.0), (-0.01, 0.5)]


def test_mse_loss_matches_torch():
    preds, targets = [Value(p) for p, _ in PAIRS], [t for _, t in PAIRS]
    loss = nn.mse_loss(preds, targets)
    loss.backward()
    theirs = tensor([p for p, _ in PAIRS])
    expected = TF.mse_loss(theirs, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(preds, theirs)


def test_targets_may_be_numpy_scalars():
    preds = [Value(p) for p, _ in PAIRS]
    targets = np.array([t for _, t in PAIRS])  # iterating gives np.float64, which has a .data
    loss = nn.mse_loss(preds, targets)
    expected = TF.mse_loss(tensor([p for p, _ in PAIRS]), torch.tensor(targets))
    assert close(loss.data, expected.item())


def test_binary_cross_entropy_matches_torch():
    probs = [0.2, 0.9, 0.5, 1e-6, 0.999999]
    targets = [1.0, 0.0, 0.3, 0.0, 1.0]
    ours = [Value(p) for p in probs]
    loss = nn.binary_cross_entropy(ours, targets)
    loss.backward()
    theirs = tensor(probs)
    expected = TF.binary_cross_entropy(theirs, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours, theirs)


def test_binary_cross_entropy_clamps_log_like_torch():
    loss = nn.binary_cross_entropy([Value(0.0), Value(1.0)], [1.0, 0.0])
    expected = TF.binary_cross_entropy(
        torch.tensor([0.0, 1.0]).double(), torch.tensor([1.0, 0.0]).double()
    )
    assert loss.data == expected.item() == 100.0


def test_binary_cross_entropy_at_exactly_0_and_1_has_finite_gradients():
    """At p = 0 or 1 our gradient is the derivative of the clamped forward (checked with
    torch's autograd on that formula). torch's own BCE backward uses (p - t) / max(p(1 - p),
    1e-12) instead, which differs exactly there; everywhere else the two agree (above)."""
    probs, targets = [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]
    ours = [Value(p) for p in probs]
    loss = nn.binary_cross_entropy(ours, targets)
    loss.backward()
    theirs, t = tensor(probs), torch.tensor(targets, dtype=torch.float64)
    floor = math.exp(-100.0)
    clamped = -(t * theirs.clamp(min=floor).log() + (1 - t) * (1 - theirs).clamp(min=floor).log())
    clamped.mean().backward()
    assert loss.data == TF.binary_cross_entropy(theirs.detach(), t).item() == 50.0
    assert all(math.isfinite(v.grad) for v in ours)
    assert_grads(ours, theirs)


@pytest.mark.parametrize(
    "logits",
    [
        [0.3, -1.7, 2.5, 0.0, -0.01],
        [40.0, -40.0, 800.0, -800.0, 15.0],
        [1e-12, -3.0, 3.0, 9.0, -9.0],
    ],
)
def test_binary_cross_entropy_with_logits_matches_torch(logits):
    targets = [1.0, 0.0, 0.3, 1.0, 0.0]
    ours = [Value(x) for x in logits]
    loss = nn.binary_cross_entropy_with_logits(ours, targets)
    loss.backward()
    theirs = tensor(logits)
    expected = TF.binary_cross_entropy_with_logits(
        theirs, torch.tensor(targets, dtype=torch.float64)
    )
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours, theirs)


def test_hinge_loss_matches_torch():
    scores, targets = [0.3, -1.7, 2.5, 0.0, 1.4], [1, 1, -1, -1, 1]  # off the kink at 1
    ours = [Value(s) for s in scores]
    loss = nn.hinge_loss(ours, targets)
    loss.backward()
    theirs = tensor(scores)
    expected = torch.clamp(1 - torch.tensor(targets, dtype=torch.float64) * theirs, min=0).mean()
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours, theirs)


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
def test_penalties_match_torch(name):
    data = [0.3, -1.7, 2.5, -0.2, 4.0]
    ours = [Value(x) for x in data]
    loss = getattr(nn, name)(ours)
    loss.backward()
    theirs = tensor(data)
    expected = theirs.abs().sum() if name == "l1_penalty" else (theirs * theirs).sum()
    expected.backward()
    assert close(loss.data, expected.item())
    assert_grads(ours, theirs)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.mse_loss([Value(1.0)], [1.0, 2.0]), ValueError, "1 predictions but 2"),
        (lambda: nn.cross_entropy([[Value(1.0)] * 3], [3]), ValueError, "target 3 out of range"),
        (lambda: nn.cross_entropy([[Value(1.0)] * 3], [0.5]), TypeError, "a class index or"),
        (lambda: nn.hinge_loss([Value(1.0)], [0]), ValueError, "-1 or \\+1"),
        (lambda: nn.binary_cross_entropy([Value(1.5)], [1.0]), ValueError, r"in \[0, 1\]"),
        (lambda: nn.softmax([]), ValueError, "softmax: expected a non-empty list"),
        # rows one level too deep: Value() said it expected a number, naming no loss
        (lambda: nn.cross_entropy([[[Value(1.0), Value(2.0)]]], [1]), TypeError,
         r"cross_entropy: expected numbers \(Values\) in a row, got \[Value"),
        (lambda: nn.log_softmax([[Value(1.0)]]), TypeError, "log_softmax: expected numbers"),
        (lambda: nn.softmax([True, False]), TypeError, "softmax: expected numbers .* got True"),
        # float(10**400) is an OverflowError
        (lambda: nn.mse_loss([Value(1.0)], [10**400]), ValueError,
         "mse_loss: a target is too large for a float: an integer of 401 digits"),
    ],
)  # fmt: skip
def test_bad_inputs_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("target", [2.0, -0.5, float("nan")])
def test_binary_cross_entropy_refuses_targets_outside_0_1_as_torch(target):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: targets must be in \[0, 1\]"):
        nn.binary_cross_entropy([Value(0.3)], [target])
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(
            torch.tensor([0.3], dtype=torch.float64), torch.tensor([target], dtype=torch.float64)
        )


@pytest.mark.parametrize("p, t", [(2.0**-45, 0.0), (1e-20, 1.0), (2.0**-45, 0.5)])
def test_binary_cross_entropy_gradient_near_0_and_1_is_the_clamped_losss_own(p, t):
    """The difference from PyTorch the README states: torch's backward divides by
    max(p(1 - p), 1e-12); ours is the derivative of the loss it computes, by finite
    differences, where torch's is not."""
    x = Value(p)
    nn.binary_cross_entropy([x], [t]).backward()

    def loss(q):
        return -(t * max(math.log(q), -100.0) + (1 - t) * max(math.log1p(-q), -100.0))

    step = p * 1e-6  # near 0, where floats are dense enough for finite differences
    slope = (loss(p + step) - loss(p - step)) / (2 * step)
    assert x.grad == pytest.approx(slope, rel=1e-6)
    tp = torch.tensor([p], dtype=torch.float64, requires_grad=True)
    TF.binary_cross_entropy(tp, torch.tensor([t], dtype=torch.float64)).backward()
    assert tp.grad.item() != pytest.approx(slope, rel=1e-2)  # torch's clamp moves it


def test_losses_of_plain_numbers_are_values_with_torchs_numbers():
    # hinge_loss raised AttributeError ('float' object has no attribute 'relu'); mse_loss
    # and the penalties returned floats, whose .backward() does not exist
    scores, targets = [0.5, -2.0, 1.5], [1.0, 1.0, -1.0]
    t_scores, t_targets = torch.tensor(scores, dtype=torch.float64), torch.tensor(targets)
    cases = [
        (nn.hinge_loss(scores, targets), torch.relu(1 - t_targets * t_scores).mean()),
        (nn.mse_loss(scores, targets), TF.mse_loss(t_scores, t_targets.double())),
        (nn.l1_penalty(scores), t_scores.abs().sum()),
        (nn.l2_penalty(scores), (t_scores * t_scores).sum()),
        (nn.l2_penalty([]), torch.zeros(())),
        (nn.l2_penalty(Value(3.0)), torch.tensor(9.0)),
    ]
    for ours, theirs in cases:
        assert isinstance(ours, Value)
        assert ours.data == pytest.approx(theirs.item(), rel=1e-15)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.mse_loss({1: 2}, [1.0]), TypeError, "mse_loss: expected a list"),  # its keys
        (lambda: nn.mse_loss(None, [1.0]), TypeError, "mse_loss: expected a list"),
        (lambda: nn.l2_penalty("ab"), TypeError, "l2_penalty: expected parameters"),
        (lambda: nn.l1_penalty([None]), TypeError, "l1_penalty: each parameter must be"),
        (lambda: nn.cross_entropy([[1.0, 2.0], [1.0, 2.0, 3.0]], [0, 2]), ValueError,
         "cross_entropy: every sample needs as many logits, got 2 and 3"),
    ],
)  # fmt: skip
def test_inputs_a_loss_would_misread_are_clear_errors_naming_it(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call()


def test_the_bce_of_logits_gradient_is_torchs_at_confident_logits_eager_and_compiled():
    """Made of its terms, the gradient at a confidently right negative was their
    derivatives' sum, (1 - t) - 1 + sigmoid(x), 16 digits of 1 and not of sigmoid(x): 2e-8
    off at x = -20, 30% at -37, 0 below -38. As one op it is torch's sigmoid(x) - t."""
    import micrograd

    points = [(-20.0, 0.0), (-37.0, 0.0), (-40.0, 0.0), (-100.0, 0.0), (40.0, 1.0), (-5.0, 0.25)]
    for x, t in points:
        tx = torch.tensor([x], dtype=torch.float64, requires_grad=True)
        tt = torch.tensor([t], dtype=torch.float64, requires_grad=True)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(tx, tt)
        loss.backward()
        xv, tv = Value(x), Value(t)
        ours = nn.binary_cross_entropy_with_logits([xv], [tv])
        ours.backward()
        assert same(ours.data, loss.item()) and same(xv.grad, tx.grad.item())
        assert same(tv.grad, tt.grad.item()), (x, t)
        w = Value(0.0)

        def shifted(row, w=w, t=t):
            return nn.functional.PER_SAMPLE[nn.binary_cross_entropy_with_logits](row[0] + w, t)

        micrograd.compile(shifted)(np.array([[x], [x]]))  # the mean of a batch of two
        assert same(w.grad, tx.grad.item()), (x, t)
