"""micrograd.compile at the size of real networks: linear maps lifted into matrix products,
value_and_grad, and fit(compile=True) with one trace and the optimizer stepping arrays.
PyTorch float64 is the oracle; the eager engine is compared to 1e-12 as the issue asks."""

from __future__ import annotations

import math
import random
import unittest.mock
from fractions import Fraction

import numpy as np
import pytest
import torch
from micrograd.nn.optim.arrays import ArrayStep
from oracle import same

import micrograd
from micrograd import Value, nn, runner
from micrograd.arraymath import ARRAY
from micrograd.ops import EXP, LOG, MAXIMUM, STOP_GRADIENT, Op
from micrograd.runner import LinearStep, LogSoftmaxStep, OpStep, SumStep

torch.set_default_dtype(torch.float64)


def digits_like(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12)), rng.integers(0, 4, n)


def torch_copy(model):
    return nn.to_torch(model)


def assert_cross_entropy_is_torchs(model, X, y, loss):
    """loss and every parameter's .grad are torch's cross-entropy over (X, y) and its
    gradients, on a copy of model."""
    theirs = torch_copy(model)
    t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y))
    t_loss.backward()
    assert same(loss, t_loss.item())
    for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(model, theirs):
        t_grad = dict(theirs.named_parameters())[torch_name].grad[index].item()
        assert same(value.grad, t_grad, rel=1e-11), name


def test_each_dense_layer_runs_as_one_matrix_product():
    model = nn.MLP(12, [8, 6, 4], rng=random.Random(0))
    step = micrograd.compile(lambda x: model(x))
    step.trace(np.zeros((1, 12)))
    linear = [s for s in step.plan.steps if isinstance(s, LinearStep)]
    assert [s.shape for s in linear] == [(8, 1, 12), (6, 1, 8), (4, 1, 6)]
    assert step.listing().count("= matmul(") == 3
    assert "matmul(W 8x12" in step.listing()
    one_by_one = micrograd.compile(lambda x: model(x), group=False)
    one_by_one.trace(np.zeros((1, 12)))
    assert not any(isinstance(s, LinearStep) for s in one_by_one.plan.steps)
    assert len(one_by_one.plan.steps) == len(one_by_one.program.instructions)


def test_a_model_called_twice_on_one_input_is_lifted_both_times():
    """The same sums twice (the model called for the loss, and again for the outputs) made
    one group of sums whose pairs repeat, which no product covers: the first layer ran as
    scalar products and sums. Each call is now a product of its own; torch is the oracle."""
    model = nn.MLP(4, [8, 3], rng=random.Random(0))
    step = micrograd.compile(lambda x, t: [nn.cross_entropy([model(x)], [list(t)]), *model(x)])
    X, y = np.random.default_rng(5).standard_normal((7, 4)), np.arange(7) % 3
    outputs, grad = step.value_and_grad(X, np.eye(3)[y])
    assert [s.shape for s in step.plan.steps if isinstance(s, LinearStep)] == [
        (8, 1, 4), (8, 1, 4), (3, 1, 8), (3, 1, 8)
    ]  # fmt: skip
    theirs = torch_copy(model)
    logits = theirs(torch.tensor(X))
    t_loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    t_loss.backward()
    assert same(outputs[:, 0].mean(), t_loss.item())
    assert all(same(a, b) for a, b in zip(outputs[:, 1:].ravel(), logits.ravel().tolist()))
    t_grads = {n: p.grad for n, p in theirs.named_parameters()}
    by_value = dict(zip(step.parameters(), grad.tolist()))
    for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(model, theirs):
        assert same(by_value[value], t_grads[torch_name][index].item(), rel=1e-11), name


@pytest.mark.parametrize("group", [True, False])
def test_lifted_mlp_values_and_gradients_match_torch(group):
    X, y = digits_like()
    model = nn.MLP(12, [8, 6, 4], activation="tanh", rng=random.Random(1))
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]), group=group)
    loss = step(X, np.eye(4)[y])
    theirs = torch_copy(model)
    t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y))
    t_loss.backward()
    assert same(loss, t_loss.item())
    t_grads = {n: p.grad for n, p in theirs.named_parameters()}
    for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(model, theirs):
        assert same(value.grad, t_grads[torch_name][index].item(), rel=1e-11), name


def test_a_log_softmax_runs_as_one_step_and_its_max_tree_is_not_walked_backward():
    X, y = digits_like()
    model = nn.MLP(12, [4], rng=random.Random(2))
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]))
    loss = step(X, np.eye(4)[y])
    (fused,) = [s for s in step.plan.steps if isinstance(s, LogSoftmaxStep)]
    assert sum(ins.op is MAXIMUM for ins in fused.instructions) == 3  # two pairs, their max
    assert not any(isinstance(s, OpStep) and s.op in (MAXIMUM, STOP_GRADIENT, EXP, LOG)
                   for s in step.plan.steps)  # fmt: skip
    assert "= log_softmax(" in step.listing()
    assert_cross_entropy_is_torchs(model, X, y, loss)


def _log_softmax_case(n: int, rows: np.ndarray):
    """(per-sample outputs, gradients of their sum) of sum_i c_i * log_softmax(w * x)_i
    compiled, the same from the eager engine, sample by sample, the compiled function, and
    (w, c)."""
    rng = np.random.default_rng(n)
    w = [Value(v) for v in rng.uniform(0.5, 1.5, n)]
    c = rng.normal(size=n).tolist()

    def f(x):
        return sum(ci * p for ci, p in zip(c, nn.log_softmax([wi * xi for wi, xi in zip(w, x)])))

    step = micrograd.compile(f, reduce="sum")
    outputs = step.forward(rows)
    step(rows)
    grads = [v.grad for v in w]
    for v in w:
        v.grad = 0.0
    eager = []
    for row in rows.tolist():
        out = f(row)
        out.backward()
        eager.append(out.data)
    return (outputs, grads), (eager, [v.grad for v in w]), step, ([v.data for v in w], c)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_a_fused_log_softmax_is_the_eager_one_where_a_nan_or_a_zero_wins(n):
    """The max of the logits is one np.max, not the tree of maxima eager takes: the two can
    differ only in which nan or which zero's sign wins, which must not show in an output or
    a gradient. Every row here is such a case, or next to one, and must come out as eager's
    (plain rows as torch's)."""
    inf, nan = math.inf, math.nan
    special = [
        [nan] + [1.0] * (n - 1), [1.0] * (n - 1) + [nan], [-0.0, 0.0] + [-1.0] * (n - 2),
        [0.0, -0.0] + [-1.0] * (n - 2), [-0.0] * n, [-inf] * n, [inf] + [0.0] * (n - 1),
        [inf, inf] + [2.0] * (n - 2), [-inf] + [-0.0] * (n - 1), [5.0] * n,
        [1e308, -1e308] + [0.0] * (n - 2),
    ]  # fmt: skip
    rows = np.vstack([special, np.random.default_rng(0).normal(size=(6, n)) * 30])
    (outputs, grads), (eager, eager_grads), step, (w, c) = _log_softmax_case(n, rows)
    assert any(isinstance(s, LogSoftmaxStep) for s in step.plan.steps)
    assert all(same(a, b) for a, b in zip(outputs, eager)), (outputs, eager)
    assert all(same(a, b) for a, b in zip(grads, eager_grads)), (grads, eager_grads)
    plain = torch.tensor(rows[len(special) :])  # and torch's, where the numbers are plain
    t_w = torch.tensor(w, requires_grad=True)
    theirs = (torch.log_softmax(plain * t_w, dim=1) * torch.tensor(c)).sum(1)
    theirs.sum().backward()
    np.testing.assert_allclose(outputs[len(special) :], theirs.detach().numpy(), rtol=1e-12)
    (_, plain_grads), _, _, _ = _log_softmax_case(n, rows[len(special) :])
    np.testing.assert_allclose(plain_grads, t_w.grad.numpy(), rtol=1e-11)


def test_a_log_softmax_read_at_one_class_or_two_is_fused_too():
    """Cross-entropy with a class index reads one output of log_softmax, and the trace keeps
    no other: the step computes that row, and the gradient still reaches every logit."""
    X, y = digits_like(seed=4)
    model = nn.MLP(12, [6, 4], rng=random.Random(4))
    step = micrograd.compile(lambda x, k: nn.cross_entropy([model(x)], [k]), static=(1,))
    loss = step(X, y)
    fused = [s for s in step.plan.steps if isinstance(s, LogSoftmaxStep)]
    assert len(fused) == 1 and fused[0].out.stop - fused[0].out.start == 1
    assert "the max, 4 exps, their sum, its log" in step.listing()
    assert_cross_entropy_is_torchs(model, X, y, loss)
    w = [Value(v) for v in (0.5, -1.0, 1.5, 2.0, -0.25)]

    def two_of_five(x):
        lp = nn.log_softmax([wi * xi for wi, xi in zip(w, x)])
        return lp[1] * 2.0 - lp[3]

    two = micrograd.compile(two_of_five, reduce="sum")
    rows = np.random.default_rng(5).normal(size=(9, 5)) * 4
    total = two(rows)
    (fused,) = [s for s in two.plan.steps if isinstance(s, LogSoftmaxStep)]
    assert fused.out.stop - fused.out.start == 2
    eager, eager_grads, grads = _eager_sum(two_of_five, rows, w)
    assert same(total, eager)
    assert all(same(a, b, rel=1e-12, abs_tol=1e-15) for a, b in zip(grads, eager_grads))


def test_a_log_softmax_whose_inner_numbers_are_read_elsewhere_is_not_fused():
    """Only a log_softmax whose inner numbers nothing else reads is one step; here the
    user also reads its largest logit and its log of the sum, so it runs as groups of ops,
    and must still be eager's."""
    w = [Value(v) for v in (0.5, -1.25, 2.0)]

    def shared(x):
        z = [wi * xi for wi, xi in zip(w, x)]
        top = z[0].maximum(z[1]).maximum(z[2])
        d = [v - top.stop_gradient() for v in z]
        log_total = (d[0].exp() + d[1].exp() + d[2].exp()).log()
        return sum(v - log_total for v in d) * top + log_total

    step = micrograd.compile(shared, reduce="sum")
    rows = np.random.default_rng(3).normal(size=(7, 3))
    total = step(rows)
    assert not any(isinstance(s, LogSoftmaxStep) for s in step.plan.steps)
    eager, eager_grads, grads = _eager_sum(shared, rows, w)
    assert same(total, eager)
    assert all(same(a, b) for a, b in zip(grads, eager_grads))


def _eager_sum(f, rows, params):
    """(sum of f over the rows, its gradients, by the eager engine; the gradients the params
    held before, which it zeroes first)."""
    before = [v.grad for v in params]
    for v in params:
        v.grad = 0.0
    total = sum(f(row) for row in rows.tolist())
    total.backward()
    return total.data, [v.grad for v in params], before


def test_a_layer_after_a_layer_adds_its_bias_in_the_product_by_a_row_of_ones():
    """A dense layer whose inputs are the rows laid out last gets a row of ones after them
    and its bias as W's last column. A layer reading some of them only (the third here) and
    the first layer (reading the data itself) add their bias apart. All of them must still
    be torch's, on arrays reused from an earlier call."""
    rng = np.random.default_rng(8)
    W1, W2, W3 = rng.normal(size=(5, 4)), rng.normal(size=(3, 5)), rng.normal(size=(2, 4))
    b1, b2, b3 = rng.normal(size=5), rng.normal(size=3), rng.normal(size=2)
    params = [[[Value(v) for v in row] for row in a] for a in (W1, W2, W3)]
    biases = [[Value(v) for v in b] for b in (b1, b2, b3)]

    def layer(k, x):
        return [sum((w * xi for w, xi in zip(row, x)), b) for row, b in zip(params[k], biases[k])]

    def f(x):
        h = [v.tanh() for v in layer(0, x)]
        return sum(v.relu() for v in layer(1, h)) * sum(layer(2, h[:4]))

    step = micrograd.compile(f)
    X = rng.normal(size=(7, 4))
    step(X)  # a second call runs on the first one's arrays
    for v in [v for p in params for row in p for v in row] + [v for b in biases for v in b]:
        v.grad = 0.0
    loss = step(X)
    linear = [s for s in step.plan.steps if isinstance(s, LinearStep)]
    assert [(s.shape[0], s.ones_follow, s.bias is None) for s in linear] == [
        (5, False, False), (3, True, True), (2, False, False)
    ]  # fmt: skip
    assert step.listing().count("+ bias") == 3
    t = [torch.tensor(a, requires_grad=True) for a in (W1, W2, W3, b1, b2, b3)]
    h = torch.tanh(torch.tensor(X) @ t[0].T + t[3])
    t_out = torch.relu(h @ t[1].T + t[4]).sum(1) * (h[:, :4] @ t[2].T + t[5]).sum(1)
    t_out.mean().backward()
    assert same(loss, t_out.mean().item())
    for ours, theirs in zip(params + biases, t):
        got = np.array([[v.grad for v in row] for row in ours] if theirs.dim() == 2
                       else [v.grad for v in ours])  # fmt: skip
        np.testing.assert_allclose(got, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_an_op_of_a_layers_depth_does_not_stop_the_next_layer_folding_its_bias():
    """fit's hinge loss negates the target, which reads an input as the first layer does:
    both are at depth 1. Laid out before the layer's rows, the neg leaves those rows the last
    ones, so that the second layer folds its bias too. The hinge loss and every gradient are
    torch's, over batches of both sizes around the kernel threshold."""
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1))
    step = micrograd.compile(nn.steps.per_sample_loss(model, nn.hinge_loss, None))
    rng = np.random.default_rng(2)
    for n in (100, 200):
        X, y = rng.normal(size=(n, 2)), rng.choice([-1.0, 1.0], n)
        outputs, grad = step.value_and_grad(X, y)
        linear = [s for s in step.plan.steps if isinstance(s, LinearStep)]
        assert [s.ones_follow for s in linear] == [False, True, True]
        theirs = torch_copy(model)
        t_loss = torch.relu(1 - torch.tensor(y) * theirs(torch.tensor(X)).squeeze(1)).mean()
        t_loss.backward()
        assert same(outputs[:, 0].mean(), t_loss.item())
        grads = dict(zip(step.parameters(), grad))
        for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(model, theirs):
            t_grad = dict(theirs.named_parameters())[torch_name].grad[index].item()
            assert same(grads[value], t_grad, rel=1e-11, abs_tol=1e-15), name


def test_a_relu_over_a_layers_sums_takes_their_rows_and_its_readers_gradients_add_up():
    """relu after a lifted layer writes its outputs over the layer's sums (nothing else reads
    them, and the product's backward does not); its outputs here have three readers, two
    heads and the function itself, whose gradients must add up in the rows they share."""
    rng = np.random.default_rng(6)
    W1, b1 = rng.normal(size=(6, 12)), rng.normal(size=6)
    W2, W3 = rng.normal(size=(3, 6)), rng.normal(size=(2, 6))
    values = [[Value(v) for v in row] for row in (*W1, b1, *W2, *W3)]
    w1, (bias,), w2, w3 = values[:6], values[6:7], values[7:10], values[10:]

    def f(x):
        h = [sum((w * xi for w, xi in zip(row, x)), b).relu() for row, b in zip(w1, bias)]
        heads = [[sum(w * hj for w, hj in zip(row, h)) for row in w] for w in (w2, w3)]
        return sum(heads[0]) * sum(heads[1]) + h[0]

    step = micrograd.compile(f)
    X = rng.normal(size=(9, 12))
    step(X)  # once, so that the second call finds the last call's gradients in its arrays
    for row in values:
        for v in row:
            v.grad = 0.0
    loss = step(X)
    (relu,) = [s for s in step.plan.steps if isinstance(s, OpStep) and s.op.name == "relu"]
    assert relu.in_place
    t = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, W3)]
    h = torch.relu(torch.tensor(X) @ t[0].T + t[1])
    t_loss = ((h @ t[2].T).sum(1) * (h @ t[3].T).sum(1) + h[:, 0]).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    ours = [[v.grad for v in row] for row in values]
    theirs = [*t[0].grad.tolist(), t[1].grad.tolist(), *t[2].grad.tolist(), *t[3].grad.tolist()]
    for row, t_row in zip(ours, theirs):
        assert all(same(a, b, rel=1e-11, abs_tol=1e-14) for a, b in zip(row, t_row))


def test_only_a_relu_right_after_the_product_writes_over_its_rows():
    """relu(relu(layer)): the first takes the layer's rows; the second must not take the
    first's, whose backward reads them (relu's derivative reads its own outputs)."""
    W = [[Value(w) for w in row] for row in ([0.5, -1.0], [2.0, 0.25], [-0.75, 1.5])]
    step = micrograd.compile(lambda x: sum(sum(w * xi for w, xi in zip(r, x)).relu().relu()
                                           for r in W))  # fmt: skip
    loss = step(np.array([[1.0, 2.0], [-1.0, 0.5]]))
    relus = [s for s in step.plan.steps if isinstance(s, OpStep) and s.op.name == "relu"]
    assert [s.in_place for s in relus] == [True, False]
    t_W = torch.tensor([[w.data for w in row] for row in W], requires_grad=True)
    t_loss = torch.relu(torch.relu(torch.tensor([[1.0, 2.0], [-1.0, 0.5]]) @ t_W.T)).sum(1)
    t_loss.mean().backward()
    assert same(loss, t_loss.mean().item())
    theirs = t_W.grad.reshape(-1).tolist()
    assert [w.grad for row in W for w in row] == pytest.approx(theirs, rel=1e-12, abs=0.0)


def test_relu_never_writes_over_an_output_whose_rule_reads_it():
    """An op's derivative may read its own output: relu must not overwrite it. This op's
    gradient is g * out / out, g where out is not 0, nan where it is (relu's +0.0s)."""
    same_number = micrograd.Op(
        "same", 1, lambda F, a: a, lambda F, g, out, a: (g * F.div(out, out),), "a"
    )
    w = Value(-1.5)
    step = micrograd.compile(lambda x: same_number(x * w).relu())
    step(np.array([1.0, -2.0, 3.0]))
    assert w.grad == pytest.approx(-2.0 / 3.0)  # only x = -2 passes relu: d/dw = x, mean


def test_a_layer_read_only_through_stop_gradient_sends_back_nothing():
    """The layer's sums reach the loss only through stop_gradient, whose backward never runs,
    so their gradient rows are never written: they must read as zero, not as whatever the
    reused arrays held (once, a gradient of 1e172)."""
    rng = np.random.default_rng(0)
    W = [[Value(float(v)) for v in row] for row in rng.normal(size=(3, 4))]
    b = [Value(float(v)) for v in rng.normal(size=3)]

    def f(x):
        h = [sum((w * xi for w, xi in zip(row, x)), bias).relu() for row, bias in zip(W, b)]
        return sum(v.stop_gradient() for v in h) * W[0][0]

    X = rng.normal(size=(5, 4))
    step = micrograd.compile(f)
    for _ in range(3):  # the arrays are reused from call to call
        for p in [*sum(W, []), *b]:
            p.grad = 0.0
        loss = step(X)
    t_W = torch.tensor([[w.data for w in row] for row in W], requires_grad=True)
    t_b = torch.tensor([v.data for v in b])
    h = torch.relu(torch.tensor(X) @ t_W.T + t_b).detach()
    t_loss = (h.sum(dim=1) * t_W[0, 0]).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    theirs = t_W.grad.reshape(-1).tolist()
    assert [w.grad for row in W for w in row] == pytest.approx(theirs, rel=1e-12, abs=0.0)
    assert [v.grad for v in b] == [0.0, 0.0, 0.0]


def test_a_grouped_step_whose_one_output_only_stop_gradient_reads_gets_no_stale_gradient():
    """Two tanh run as one step; the first reaches the loss only through stop_gradient, so
    nothing writes its gradient row, which must read as zero in the step's backward."""
    w1, w2 = Value(0.7), Value(-1.3)
    step = micrograd.compile(lambda x: (x * w1).tanh().stop_gradient() * (x * w2).tanh())
    X = np.array([0.5, -1.0, 2.0])
    for _ in range(3):  # the arrays are reused from call to call
        w1.grad = w2.grad = 0.0
        step(X)
    t1, t2 = (torch.tensor(w.data, requires_grad=True) for w in (w1, w2))
    x = torch.tensor(X)
    (torch.tanh(x * t1).detach() * torch.tanh(x * t2)).mean().backward()
    assert w1.grad == 0.0 and same(w2.grad, t2.grad.item())


def test_gradients_of_repeated_rows_add_up_as_numpy_add_at_does():
    """Rows read up to ROUNDS times go by rounds of indexed adds, more by reduceat; entries
    whose gradient does not matter are left out."""
    rng = np.random.default_rng(0)
    rows = [int(r) for r in rng.integers(0, 12, 80)] + [3] * (runner.ROUNDS + 5)
    wanted = [bool(w) for w in rng.random(len(rows)) < 0.8]
    local = rng.standard_normal((len(rows), 5))
    expected = rng.standard_normal((14, 5))
    G = expected.copy()
    runner.RowSet(rows, wanted).add(G, None, local)
    keep = np.array(wanted)
    np.add.at(expected, np.array(rows)[keep], local[keep])
    assert np.allclose(G, expected, rtol=1e-14, atol=1e-14)


def test_rounds_that_read_a_run_of_rows_add_to_a_slice_of_them():
    """A round of repeated rows is added in the order of its rows, so that a round reading
    every row of a run (a convolution's inner pixels) adds to a slice; partial rounds stay
    indexed. Either way each row gets one add a round, in the order of the rounds."""
    rng = np.random.default_rng(1)
    rows = [int(r) for r in rng.permutation(10) + 2] * 2 + [4, 9, 2] + [7] * 3
    local = rng.standard_normal((len(rows), 6))
    G = rng.standard_normal((13, 6))
    expected = G.copy()
    added = runner.RowSet(rows)
    assert [isinstance(r, slice) for _, r in added.rounds] == [True, True, False, True, True]
    added.add(G, None, local)
    for entry, row in enumerate(rows):  # each row's entries in their order: the rounds'
        expected[row] += local[entry]
    np.testing.assert_array_equal(G, expected)


@pytest.mark.parametrize("seed", range(40))
def test_rows_in_blocks_are_read_and_added_as_views_of_the_same_numbers(seed):
    """An op step's rows that run in equal blocks evenly spaced read as a view (blocks,
    size, batch) of the rows fancy indexing gathers (or, full, as those rows), and add (or
    write) back to the same rows; the last block may end at V's last row, or the stride
    reach past it."""
    rng = np.random.default_rng(seed)
    size, count = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    stride = size + int(rng.integers(1, 4))
    first = int(rng.integers(0, 3))
    rows = [first + b * stride + k for b in range(count) for k in range(size)]
    V = rng.standard_normal((rows[-1] + 1 + int(rng.integers(0, stride)), 3))
    blocks = runner.RowSet(rows, blocks=True)
    assert blocks.shape == (count, size) and blocks.blocks == (first, count, stride, size)
    view = blocks.gather(V)
    assert view.shape == (count, size, 3) and np.shares_memory(view, V)
    np.testing.assert_array_equal(view.reshape(-1, 3), V[rows])
    np.testing.assert_array_equal(blocks.gather(V, full=True), V[rows])
    local = rng.standard_normal((count, size, 3))
    G, expected = V.copy(), V.copy()
    blocks.add(G, None, local)  # through the view
    expected[rows] += local.reshape(-1, 3)
    np.testing.assert_array_equal(G, expected)
    blocks.add(G, None, local.reshape(-1, 3))  # (count, batch), gathered: by index
    expected[rows] += local.reshape(-1, 3)
    np.testing.assert_array_equal(G, expected)
    blocks.sole_reader = True
    blocks.rows_to_write(G)[...] = local
    expected[rows] = local.reshape(-1, 3)
    np.testing.assert_array_equal(G, expected)
    # evenly spaced rows stay a slice, and blocks are taken only when asked for
    assert runner.RowSet(list(range(0, 12, 2)), blocks=True).blocks is None
    assert runner.RowSet(rows).blocks is None


@pytest.mark.parametrize("kernels", [False, True])
def test_an_op_step_reading_blocks_computes_in_their_shape_with_any_other_input(
    kernels, monkeypatch
):
    """Products of rows in blocks (two blocks of four, eight apart) with a parameter, a
    row repeated for every term and rows gathered one by one: forward and every gradient
    are torch's, by the ops' rules and by their kernels (first_max has one)."""
    if kernels:
        monkeypatch.setattr(runner, "KERNEL_NUMBERS", 0)
    w = Value(0.75)
    a_rows = [b * 8 + k for b in range(2) for k in range(4)]
    b_rows = [r + 4 for r in a_rows]
    odd = [17, 16, 19, 18, 21, 20, 23, 22]

    def f(x):
        firsts = [x[i].first_max(x[j]) for i, j in zip(a_rows, b_rows)]
        products = [w * x[i] * x[0] for i in a_rows]  # w: a parameter; x[0]: one row for all
        mixed = [x[i] * x[j] for i, j in zip(a_rows, odd)]  # odd: gathered row by row
        return sum(firsts) + sum(products) + sum(mixed)

    step = micrograd.compile(f)
    X = np.random.default_rng(3).normal(size=(9, 24))
    X[:, 4] = X[:, 0]  # ties: the first takes the gradient
    loss = step(X)
    shaped = [s for s in step.plan.steps if isinstance(s, OpStep) and s.shape == (2, 4)]
    assert {s.op.name for s in shaped} >= {"first_max", "mul"}
    x = torch.tensor(X, requires_grad=True)
    t_w = torch.tensor(0.75, requires_grad=True)
    a, b = x[:, a_rows], x[:, b_rows]
    firsts = torch.where(b > a, b, a)
    t_out = firsts.sum(1) + (t_w * a * x[:, :1]).sum(1) + (a * x[:, odd]).sum(1)
    t_out.mean().backward()
    assert same(loss, t_out.mean().item())
    assert same(w.grad, t_w.grad.item(), rel=1e-12)
    grads = step.value_and_grad(X)[1]
    assert same(grads[0], t_w.grad.item(), rel=1e-12)


def test_pooling_after_a_convolution_reads_its_rows_as_blocks(monkeypatch):
    """A convolution's positions are laid out in the order max pooling's first level reads
    them (the left number of each pair, then the right), so that level reads two blocks of
    rows per channel as views, and its relu still writes in place. The first level's
    results come even image rows first, then odd ones, so that the second level reads two
    blocks per channel too. Chunked, by rules and by kernels, the loss and gradients are
    torch's."""
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, rng=random.Random(1)), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Layer(3 * 4 * 4, 4, activation="linear", rng=random.Random(2)),
    )  # fmt: skip
    rng = np.random.default_rng(4)
    X, labels = rng.random((30, 1, 8, 8)), rng.integers(0, 4, 30)
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]))
    step.trace(X[:1], np.eye(4)[labels[:1]])
    relu, first, second = [s for s in step.plan.steps if isinstance(s, OpStep)][:3]
    assert relu.op.name == "relu" and relu.in_place
    assert first.shape == (3, 32) and second.shape == (3, 16)
    for kernels, chunk in [(False, None), (True, None), (True, 7)]:
        monkeypatch.setattr(runner, "KERNEL_NUMBERS", 0 if kernels else 1 << 30)
        if chunk:
            monkeypatch.setattr(runner, "CHUNK_NUMBERS", chunk * step.plan.rows_in_use)
        model.zero_grad()
        assert_cross_entropy_is_torchs(model, X, labels, step(X, np.eye(4)[labels]))


def test_a_bank_with_shared_weights_is_one_product_over_positions():
    """A 1-D convolution written in scalars: 3 filters of width 4 sliding over 9 positions
    share their weights across positions, so the 27 sums are one product (R=3, C=9)."""
    rng = random.Random(2)
    W = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(3)]
    b = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def conv(x):
        return [
            sum((w * x[p + t] for t, w in enumerate(W[r])), b[r]).tanh()
            for r in range(3)
            for p in range(9)
        ]

    total = micrograd.compile(lambda x: sum(conv(x)))
    X = np.random.default_rng(3).random((5, 12))
    loss = total(X)
    (linear,) = [s for s in total.plan.steps if isinstance(s, LinearStep)]
    assert linear.shape == (3, 9, 4)
    tX = torch.tensor(X)[:, None, :]
    tW = torch.tensor([[w.data for w in row] for row in W], requires_grad=True)
    tb = torch.tensor([v.data for v in b], requires_grad=True)
    t_out = torch.tanh(torch.nn.functional.conv1d(tX, tW[:, None, :], tb)).sum(dim=(1, 2)).mean()
    t_out.backward()
    assert same(loss, t_out.item())
    assert all(same(w.grad, tw, rel=1e-11) for row, trow in zip(W, tW.grad.tolist())
               for w, tw in zip(row, trow))  # fmt: skip
    assert all(same(v.grad, t, rel=1e-11) for v, t in zip(b, tb.grad.tolist()))


def test_value_and_grad_gives_the_calls_gradient_and_touches_no_grad():
    X, y = digits_like()
    model = nn.MLP(12, [5, 4], rng=random.Random(4))
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]))
    targets = np.eye(4)[y]
    outputs, gradient = step.value_and_grad(X, targets)
    assert all(p.grad == 0.0 for p in model.parameters())
    loss = step(X, targets)
    assert same(loss, outputs.mean())
    assert all(same(p.grad, g) for p, g in zip(step.parameters(), gradient))
    moved = np.array([p.data for p in step.parameters()]) * 0.5  # other numbers, given
    halved, _ = step.value_and_grad(X, targets, parameters=moved)
    for p, value in zip(step.parameters(), moved):
        p.data = value
    assert same(step(X, targets), halved.mean())
    with pytest.raises(ValueError, match=r"parameters must hold \d+ numbers .* got shape"):
        step.value_and_grad(X, targets, parameters=moved[:-1])
    with pytest.raises(ValueError, match=r"forward: parameters must hold .* got \['a', 'a', "):
        step.forward(X, targets, parameters=["a"] * len(moved))  # was numpy's own message
    for wrong in ([None] * len(moved), ["0.5"] * len(moved), moved + 0j):  # numpy reads them
        with pytest.raises(ValueError, match="forward: parameters must hold"):  # as nan, 0.5
            step.forward(X, targets, parameters=wrong)
    as_fractions = [Fraction(value) for value in moved.tolist()]  # float() of each: the same
    given = step.forward(X, targets, parameters=as_fractions)
    assert np.array_equal(given, step.forward(X, targets))


OPTIMIZERS = [
    (nn.optim.SGD, dict(lr=0.1)),
    (nn.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (nn.optim.Adam, dict(lr=0.01)),
    (nn.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (nn.optim.AdamW, dict(lr=0.01)),
    (nn.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (nn.optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("make, settings", OPTIMIZERS)
def test_an_array_step_is_the_scalar_step_to_the_bit(make, settings):
    rng = np.random.default_rng(5)
    start, grads = rng.normal(size=7), rng.normal(size=(4, 7))
    scalar_params = [Value(v) for v in start]
    array_params = [Value(v) for v in start]
    scalar = make(scalar_params, **settings)
    arrays = ArrayStep(make(array_params, **settings))
    theta = arrays.values()
    for g in grads:
        for p, v in zip(scalar_params, g):
            p.grad = float(v)
        scalar.step()
        arrays.step(theta, g)
    arrays.write_back(theta, grads[-1])
    assert [p.data for p in array_params] == [p.data for p in scalar_params]  # exactly
    assert arrays.optimizer.state_dict() == scalar.state_dict()


def test_compiled_fit_traces_once_for_ten_classes_and_matches_eager_fit():
    rng = np.random.default_rng(6)
    X, y = rng.random((50, 6)), np.arange(50) % 10
    runs = {}
    for compile_ in (False, True):
        model = nn.MLP(6, [7, 10], rng=random.Random(7))
        optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
        history = nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=4,
                         batch_size=16, l2=1e-3, progress=False, compile=compile_)  # fmt: skip
        runs[compile_] = (model, optimizer, history)
    (eager_model, eager_opt, eager_history), (model, opt, history) = runs[False], runs[True]
    assert all(same(a, b, rel=1e-12) for a, b in zip(history["loss"], eager_history["loss"]))
    assert history["accuracy"] == eager_history["accuracy"]
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert same(p.data, q.data, rel=1e-11) and same(p.grad, q.grad, rel=1e-9, abs_tol=1e-15)
    ours, theirs = opt.state_dict(), eager_opt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    for k, entry in theirs["state"].items():
        assert ours["state"][k]["step"] == entry["step"] == 16  # 4 epochs of 4 batches
        assert same(ours["state"][k]["exp_avg_sq"], entry["exp_avg_sq"], rel=1e-9, abs_tol=1e-18)


def test_compiled_fit_traces_once_and_the_loss_matches_torch():
    rng = np.random.default_rng(8)
    X, y = rng.random((40, 5)), np.arange(40) % 10
    model = nn.MLP(5, [6, 10], rng=random.Random(9))
    theirs = nn.to_torch(model)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    traces = []
    original = micrograd.compiler.CompiledFunction._lookup

    def counting(self, *args):
        known = original(self, *args)
        traces.append(self.trace_count)
        return known

    micrograd.compiler.CompiledFunction._lookup = counting
    try:
        history = nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=3,
                         shuffle=False, progress=False, compile=True)  # fmt: skip
    finally:
        micrograd.compiler.CompiledFunction._lookup = original
    assert set(traces) == {1}  # ten classes, one program
    t_opt = torch.optim.Adam(theirs.parameters(), lr=0.05)
    for epoch in range(3):
        t_opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y))
        loss.backward()
        t_opt.step()
        assert same(history["loss"][epoch], loss.item(), rel=1e-12)


def test_an_interrupted_compiled_fit_leaves_values_where_it_stopped(monkeypatch):
    X, y = digits_like(30)
    model = nn.MLP(12, [4], rng=random.Random(10))
    before = [p.data for p in model.parameters()]
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    calls = 0
    original = nn.optim.arrays.ArrayStep.step

    def step_then_stop(self, theta, grad):
        nonlocal calls
        original(self, theta, grad)
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(nn.optim.arrays.ArrayStep, "step", step_then_stop)
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=5,
               progress=False, compile=True)  # fmt: skip
    after = [p.data for p in model.parameters()]
    assert after != before and all(p.grad != 0.0 for p in model.parameters()[:4])


SPECIAL = [0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -1e308]


@pytest.mark.parametrize(
    "x_shape, y_shape, cond_shape",
    [
        ((), (64, 300), (64, 300)),
        ((64, 300), (), (64, 300)),
        ((64, 300), (64, 300), (64, 300)),
        ((64, 1), (64, 300), (64, 300)),
        ((64, 300), (1, 300), (64, 300)),
        ((64, 300), (64, 300), (64, 1)),  # a small mask: np.where itself
    ],
)
def test_the_array_rules_where_is_np_where_bit_for_bit(x_shape, y_shape, cond_shape):
    """micrograd's where picks big arrays by bit masks: every float, signs of zeros and
    nan payloads included, must come out as np.where gives it, at every broadcast."""
    rng = np.random.default_rng(0)

    def numbers(shape):
        return rng.choice(SPECIAL, size=shape) * rng.choice([1.0, 0.5], size=shape)

    cond = rng.random(cond_shape) < 0.5
    xs = [numbers(x_shape)] if x_shape else [np.float64(v) for v in SPECIAL] + [0, 2]
    ys = [numbers(y_shape)] if y_shape else [np.float64(v) for v in SPECIAL] + [0, 2]
    for x in xs:
        for y in ys:
            ours, theirs = ARRAY.where(cond, x, y), np.where(cond, x, y)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
            assert np.array_equal(ours.view(np.int64), theirs.view(np.int64)), (x, y)


def test_a_chunk_counts_the_rows_a_pass_touches_not_the_inputs_a_first_layer_reads(monkeypatch):
    """A first dense layer reads its inputs from the argument, so their rows of V stay empty
    (and unpaged): the chunk's budget counts only the rows a pass writes, which a pass over
    arrays filled with a marker shows. Chunked, the result is still torch's."""
    model = nn.MLP(40, [3, 2], rng=random.Random(5))
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]))
    rng = np.random.default_rng(6)
    X, labels = rng.normal(size=(20, 40)), rng.integers(0, 2, 20)
    T = np.eye(2)[labels]
    step(X, T)
    plan, run = step.plan, step._latest.runner
    assert plan.rows_in_use < plan.n_rows - 30  # the 40 inputs' rows do not count
    marker = np.array([-1], dtype=np.int64).view(np.float64)[0]  # a nan no pass computes
    V, G = run._arrays(20)
    V.fill(marker)
    V[plan.constant_rows] = plan.constant_row_values[:, None]  # as V is made: no pass writes
    G.fill(marker)  # them (the ones row after the first layer's outputs, here)
    step(X, T)
    touched = [bool((V[r].view(np.int64) != -1).any()) for r in range(plan.n_rows)]
    assert sum(touched) == plan.rows_in_use
    assert not any(touched[:40])  # the inputs' rows: never written, in V or in G
    assert not (G[:40].view(np.int64) != -1).any()

    monkeypatch.setattr(micrograd.runner, "CHUNK_NUMBERS", 7 * plan.rows_in_use)
    assert run.chunk() == 7  # chunks of 7, 7 and 6 samples
    for p in model.parameters():
        p.grad = 0.0
    assert_cross_entropy_is_torchs(model, X, labels, step(X, T))


def chain_sum(numbers) -> float:
    """Left to right, rounding after each add: what the eager engine's chain of adds does."""
    total = numbers[0]
    for x in numbers[1:]:
        total = total + x
    return total


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_a_sum_of_many_terms_rounds_as_its_chain_of_adds_at_any_batch(batch):
    """One sum of 16 inputs of magnitudes 1e-8 to 1e8: numpy sums a single column
    pairwise, which rounds otherwise than the chain of adds the sum stands for; at a batch
    of one too, the step adds the terms one after another."""
    rng = np.random.default_rng(batch)
    step = micrograd.compile(lambda x: chain_sum(list(x)), reduce="none")
    for _ in range(20):
        X = rng.standard_normal((batch, 16)) * 10.0 ** rng.integers(-8, 8, (batch, 16))
        assert step.forward(X).tolist() == [chain_sum(row) for row in X.tolist()]
    assert any(isinstance(s, SumStep) and s.terms == 16 for s in step.plan.steps)


@pytest.mark.parametrize("batch", [1, 3])
def test_a_sum_of_negative_zeros_is_negative_zero_as_its_chain_gives_it(batch):
    """-0.0 + -0.0 is -0.0, and a chain of adds starts from its first term: a sum of terms
    that are all -0.0 is -0.0 (1 / it is -inf), whether its terms are rows or include a
    parameter, at any batch. np.sum, starting from +0.0, gave +0.0."""
    w = Value(-0.0)
    for f in (lambda x: x[0] * x[1] + x[0] + x[0] * x[1], lambda x: x[0] * x[1] + w + x[0] + w):
        step = micrograd.compile(f, reduce="none")
        X = np.tile([-0.0, 2.0], (batch, 1))
        signs = [math.copysign(1.0, v) for v in step.forward(X).tolist()]
        assert any(isinstance(s, SumStep) for s in step.plan.steps)
        assert signs == [math.copysign(1.0, chain_sum([-0.0, -0.0, -0.0]))] * batch
        assert signs == [-1.0] * batch


@pytest.mark.parametrize("bias", [None, -0.0, 0.0, 0.5])
def test_a_lifted_sum_of_negative_zeros_is_negative_zero_as_its_chain_gives_it(bias):
    """A bank of sums run as one product: where a sum's terms are all -0.0 (relu's zeros
    times negative weights) and it has no bias or a bias of -0.0, its chain of adds gives
    -0.0, the product +0.0 (numpy's and torch's matmul alike), and 1 / it was +inf, not -inf.
    A bias of +0.0 or of any other number gives what the product gives."""
    rng = random.Random(0)
    W = [[Value(-rng.uniform(0.5, 1.0)) for _ in range(4)] for _ in range(3)]
    b = [Value(0.0 if bias is None else bias) for _ in range(3)]

    def sums(h, W, b):
        out = []
        for row, bias_term in zip(W, b):
            total = row[0] * h[0]
            for w, x in zip(row[1:], h[1:]):
                total = total + w * x
            out.append(total if bias is None else total + bias_term)
        return out

    step = micrograd.compile(lambda x: [1.0 / s for s in sums([v.relu() for v in x], W, b)],
                             reduce="none")  # fmt: skip
    X = np.array([[-1.0, -2.0, -0.5, -3.0], [1.0, -2.0, -0.5, -3.0], [-0.0, 0.0, -1.0, -1.0]])
    got = step.forward(X)
    assert any(isinstance(s, LinearStep) for s in step.plan.steps)
    floats = [[w.data for w in row] for row in W]
    for x, row in zip(X.tolist(), got.tolist()):
        relu = [0.0 if v < 0 else v for v in x]  # Value.relu's numbers (-0.0 stays)
        expected = sums(relu, floats, [bias] * 3)  # Python's float adds: the chain's signs
        assert [math.copysign(1.0, v) for v in row] == [math.copysign(1.0, e) for e in expected]
        assert all(math.isinf(v) for v, e in zip(row, expected) if e == 0.0)


def test_a_softmax_of_many_logits_sums_its_exps_in_order_at_a_batch_of_one():
    """log_softmax run as one step adds its exps in order, as the traced SUM does."""
    rng = np.random.default_rng(7)
    step = micrograd.compile(lambda x: nn.functional.log_softmax(list(x)), reduce="none")
    for _ in range(20):
        z = rng.standard_normal(12) * 3.0
        d = z - z.max()
        total = chain_sum(np.exp(d).tolist())  # numpy's exp, as the step's: only the order
        expected = (d - np.log(total)).tolist()  # of the adds is checked
        assert step.forward(z[None, :])[0].tolist() == expected
    assert any(isinstance(s, LogSoftmaxStep) for s in step.plan.steps)


def test_a_penalty_over_the_parameters_is_one_sum_step():
    """sum(p * p for p in params), Python's sum starting from the integer 0: the constant
    first term joins the parameters' squares in one SumStep (an op step of a source per term
    took 400 us on the demo's 337 parameters), and the numbers are torch's."""
    rng = random.Random(4)
    params = [Value(rng.uniform(-1, 1)) for _ in range(40)]
    step = micrograd.compile(lambda: 1e-4 * sum(p * p for p in params))
    loss = step()
    assert not any(isinstance(s, OpStep) and len(s.sources) > 2 for s in step.plan.steps)
    assert any(isinstance(s, SumStep) for s in step.plan.steps)
    assert "= sum(v40, v42, ... (41 terms))" in step.listing()  # the 0, then the squares
    t = torch.tensor([p.data for p in params], requires_grad=True)
    t_loss = 1e-4 * (t * t).sum()
    t_loss.backward()
    assert same(loss, t_loss.item())
    for p, g in zip(params, t.grad.tolist()):
        assert same(p.grad, g)


def test_sums_with_a_parameter_among_their_terms_add_it_in_place_and_hand_it_its_gradient():
    """Two sums of the same shape, grouped into one SumStep, each with a parameter as its
    second term (no product: not a linear map): the parameter is added in its place in the
    order, and its gradient is the sum's, summed over the samples; torch is the oracle."""
    w, v = Value(0.75), Value(-2.5)

    def f(x):
        first = x[0] * x[1] + w + x[2] + x[3]
        second = x[1] * x[2] + v + x[3] + x[0]
        return first * second

    X = np.random.default_rng(3).standard_normal((5, 4)) * 1e3
    step = micrograd.compile(f)
    loss = step(X)
    (sums,) = [s for s in step.plan.steps if isinstance(s, SumStep)]
    assert sums.count == 2 and sums.places == ([0, 2, 3], [1])
    t_w, t_v = (torch.tensor(p.data, requires_grad=True) for p in (w, v))
    x = torch.tensor(X).T
    t_loss = ((x[0] * x[1] + t_w + x[2] + x[3]) * (x[1] * x[2] + t_v + x[3] + x[0])).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    assert same(w.grad, t_w.grad.item()) and same(v.grad, t_v.grad.item())


@pytest.mark.parametrize("other", ["a run of rows", "repeated rows"])
def test_a_pooling_step_of_blocks_against_plain_rows_hands_each_its_gradient(other):
    """first_max of a convolution's relu at even positions (rows in blocks, read as a view
    where the kernel runs) against products u another step also reads (plain rows: a run,
    or rows repeated). The kernel computes in the blocks' shape; the plain rows' gradient
    goes back in theirs (it raised a ValueError, or an IndexError). Kernels are forced on at
    this small batch; torch is the oracle, first_max as where(b > a, b, a), ties to a."""
    R, C, taps = 2, 8, 2

    def f(x, W, w2, relu, first_max):
        h = [[relu(sum(W[r][t] * x[c + t] for t in range(taps))) for c in range(C)]
             for r in range(R)]  # fmt: skip
        u = [[x[i] * w2[r] for i in range(C // 2)] for r in range(R)]
        loss = 0.0
        for r in range(R):
            for i in range(C // 2):
                b = u[r][i] if other == "a run of rows" else u[0][i // 2 + 2 * r]
                loss = loss + first_max(h[r][2 * i], b) * (1 + i) + u[r][i] * h[r][2 * i + 1]
        return loss

    W = [[Value(0.3 + 0.1 * r + 0.05 * t) for t in range(taps)] for r in range(R)]
    w2 = [Value(0.9 - 0.2 * r) for r in range(R)]
    X = np.random.default_rng(0).standard_normal((6, C + taps - 1))
    step = micrograd.compile(lambda x: f(x, W, w2, Value.relu, Value.first_max))
    with unittest.mock.patch.object(runner, "KERNEL_NUMBERS", 0):
        loss = step(X)
    pooling = [s for s in step.plan.steps if isinstance(s, OpStep) and s.op.name == "first_max"]
    assert pooling[0].shape is not None and not all(pooling[0]._blocked)
    t_W = [[torch.tensor(p.data, requires_grad=True) for p in row] for row in W]
    t_w2 = [torch.tensor(p.data, requires_grad=True) for p in w2]
    t_max = lambda a, b: torch.where(b > a, b, a)  # noqa: E731
    t_loss = f(torch.tensor(X).T, t_W, t_w2, torch.relu, t_max).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    for p, tp in zip([*W[0], *W[1], *w2], [*t_W[0], *t_W[1], *t_w2]):
        assert same(p.grad, tp.grad.item(), rel=1e-11)


def test_an_op_of_ones_own_named_plus_is_not_taken_for_the_sum_of_a_log_softmax():
    # Op is a str: `op in (SUM, ADD)` compared symbols, and this op, in a log-softmax's
    # place, ran as the fused log-softmax (0.78 for w's gradient, where it is 1.54)
    weighted = Op("+", 2, lambda F, a, b: a + 3.0 * b, lambda F, g, out, a, b: (g, 3.0 * g),
                  name="weighted_add")  # fmt: skip
    w = Value(0.7)

    def f(x0, x1):
        z0, z1 = x0 * w, x1 * w
        shift = z0.maximum(z1).stop_gradient()
        d0, d1 = z0 - shift, z1 - shift
        return d0 - weighted(d0.exp(), d1.exp()).log()

    rows = np.array([[0.3, -1.2], [2.0, 0.5], [-0.4, 0.9]])
    step = micrograd.compile(f, reduce="sum")
    total = step(rows[:, 0], rows[:, 1])
    x = torch.tensor(rows)
    t_w = torch.tensor(0.7, requires_grad=True)
    z = x * t_w
    d = z - z.max(dim=1, keepdim=True).values.detach()
    theirs = (d[:, 0] - torch.log(d[:, 0].exp() + 3.0 * d[:, 1].exp())).sum()
    theirs.backward()
    assert same(total, theirs.item(), rel=1e-12)
    assert same(w.grad, t_w.grad.item(), rel=1e-12)
