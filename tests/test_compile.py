"""micrograd.compile on the demo workload: an MLP with a hinge loss, traced once and run over
a batch, against PyTorch float64 on the whole batch and against the eager engine sample by
sample; the calling convention, re-tracing, the listing, and its errors."""

from __future__ import annotations

import copy
import json
import math
import pickle
import random
import re
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from oracle import same

import micrograd
from micrograd import Value, nn
from micrograd.ops import Op
from micrograd.runner import LinearStep

GROUPINGS = [pytest.param(True, id="grouped"), pytest.param(False, id="one-op-per-call")]


def moons(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles with noise, labels -1 / +1 (as sklearn's make_moons)."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    X = np.where(
        upper[:, None],
        np.c_[np.cos(angles), np.sin(angles)],
        np.c_[1 - np.cos(angles), 0.5 - np.sin(angles)],
    )
    return X + rng.normal(0, 0.1, X.shape), np.where(upper, 1.0, -1.0)


def demo_model() -> nn.MLP:
    return nn.MLP(2, [16, 16, 1], rng=random.Random(1))


def hinge(model):
    return lambda x, y: (1 - y * model(x)).relu()


def torch_mlp_hinge(model: nn.MLP, X: np.ndarray, Y: np.ndarray, reduce: str = "mean"):
    """The same network on the whole batch in PyTorch float64: (loss, grads in parameter order)."""
    params = [
        torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in model.parameters()
    ]
    found = iter(params)
    h = torch.tensor(X, dtype=torch.float64)
    for k, layer in enumerate(model.layers):
        weights, biases = [], []
        for _neuron in layer.neurons:
            weights.append(torch.stack([next(found) for _ in range(layer.nin)]))
            biases.append(next(found))
        h = h @ torch.stack(weights).T + torch.stack(biases)
        if k < len(model.layers) - 1:
            h = torch.relu(h)
    losses = torch.relu(1 - torch.tensor(Y) * h[:, 0])
    loss = losses.mean() if reduce == "mean" else losses.sum()
    loss.backward()
    return losses.detach().numpy(), loss.item(), [p.grad.item() for p in params]


def eager_loop(fn, params, *batches, reduce="mean"):
    """The eager engine over the batch, one graph per sample: (per-sample outputs, grads)."""
    for p in params:
        p.grad = 0.0
    outputs = []
    for sample in zip(*[np.asarray(b).tolist() for b in batches]):
        args = [[Value(v) for v in x] if isinstance(x, list) else Value(x) for x in sample]
        outputs.append(fn(*args))
    total = sum(outputs)
    (total / len(outputs) if reduce == "mean" else total).backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return [o.data for o in outputs], grads


def assert_all_same(ours, theirs, rel=1e-12, abs_tol=0.0):
    pairs = enumerate(zip(ours, theirs))
    bad = [(i, a, b) for i, (a, b) in pairs if not same(a, b, rel=rel, abs_tol=abs_tol)]
    assert len(ours) == len(theirs) and not bad, bad[:5]


def assert_grads_same(step, grad, expected: dict):
    """grad, in step.parameters()'s order, is expected's, parameter by parameter (same():
    nan, inf and zeros exactly, other numbers to 1e-12, whatever BLAS adds them)."""
    by_value = dict(zip(step.parameters(), grad.tolist()))
    assert by_value.keys() == expected.keys()
    assert_all_same([by_value[p] for p in expected], list(expected.values()))


@pytest.mark.parametrize("group", GROUPINGS)
def test_demo_step_matches_torch_and_the_eager_engine(group):
    model = demo_model()
    X, Y = moons(100)
    step = micrograd.compile(hinge(model), group=group)
    loss = step(X, Y)
    grads = [p.grad for p in model.parameters()]

    t_losses, t_loss, t_grads = torch_mlp_hinge(model, X, Y)
    assert same(loss, t_loss)
    assert_all_same(grads, t_grads)
    assert_all_same(step.forward(X, Y), t_losses)

    e_losses, e_grads = eager_loop(hinge(model), model.parameters(), X, Y)
    assert same(loss, sum(e_losses) / len(e_losses))
    assert_all_same(grads, e_grads)


@pytest.mark.parametrize("group", GROUPINGS)
@pytest.mark.parametrize("reduce", ["sum", "none"])
def test_sum_and_none_reductions_give_the_gradient_of_the_sum(group, reduce):
    model = nn.MLP(2, [4, 1], rng=random.Random(2))
    X, Y = moons(12, seed=3)
    step = micrograd.compile(hinge(model), reduce=reduce, group=group)
    result = step(X, Y)
    t_losses, t_sum, t_grads = torch_mlp_hinge(model, X, Y, reduce="sum")
    if reduce == "none":
        assert result.shape == (12,)
        assert_all_same(result, t_losses)
    else:
        assert same(result, t_sum)
    assert_all_same([p.grad for p in model.parameters()], t_grads)


def test_gradients_accumulate_and_parameters_are_read_live():
    model = nn.MLP(2, [3, 1], rng=random.Random(4))
    X, Y = moons(10, seed=5)
    step = micrograd.compile(hinge(model))
    step(X, Y)
    step(X, Y)
    _, _, t_grads = torch_mlp_hinge(model, X, Y)
    assert_all_same([p.grad for p in model.parameters()], [2 * g for g in t_grads])

    for p in model.parameters():  # an optimizer step the compiled function must see
        p.data -= 0.5 * p.grad
        p.grad = 0.0
    loss = step(X, Y)
    _, t_loss, t_grads = torch_mlp_hinge(model, X, Y)
    assert same(loss, t_loss)
    assert_all_same([p.grad for p in model.parameters()], t_grads)
    assert step.trace_count == 1


def test_forward_gives_per_sample_outputs_and_leaves_gradients_alone():
    model = nn.MLP(3, [5, 2], rng=random.Random(6))
    X = np.random.default_rng(7).normal(size=(8, 3))
    predict = micrograd.compile(lambda x: model(x))
    outputs = predict.forward(X)
    assert outputs.shape == (8, 2)
    for row, x in zip(outputs, X.tolist()):
        assert_all_same(row, [v.data for v in model(x)])
    assert all(p.grad == 0.0 for p in model.parameters())
    with pytest.raises(ValueError, match="one output per sample.*forward"):
        predict(X)
    single = micrograd.compile(lambda x: model(x)[0]).forward(X)
    assert single.shape == (8,)
    assert_all_same(single, outputs[:, 0])


def test_a_one_dimensional_batch_gives_one_value_per_sample():
    w = Value(1.5)
    step = micrograd.compile(lambda x, y: (w * x - y) ** 2, reduce="sum")
    x, y = np.array([1.0, 2.0, -3.0]), [0.5, 1.0, 2.0]
    loss = step(x, y)
    tw = torch.tensor(1.5, requires_grad=True)
    t_loss = ((tw * torch.tensor(x) - torch.tensor(y)) ** 2).sum()
    t_loss.backward()
    assert same(loss, t_loss.item()) and same(w.grad, tw.grad.item())


def test_each_new_sample_shape_is_traced_once():
    w = [Value(0.5), Value(-1.0), Value(2.0)]
    step = micrograd.compile(lambda x: sum((wi * xi for wi, xi in zip(w, x)), 0.0).tanh())
    two, three = np.ones((4, 2)), np.ones((4, 3))
    step(two)
    step(two * 2)
    assert step.trace_count == 1
    listing_two = step.program.listing()
    step(three)
    assert step.trace_count == 2
    assert step.program.listing() != listing_two and "v2 = x[2]" in step.program.listing()
    step(two[:3])  # a different batch size is not a different sample shape
    assert step.trace_count == 2


def test_captured_intermediate_nodes_and_parameter_only_terms():
    w, b = Value(0.3), Value(-0.2)
    w_squared = w * w  # computed before tracing: recomputed live from w on every call
    step = micrograd.compile(lambda x: (w_squared * x + b).sigmoid() + 0.1 * (w * w + b * b))
    X = np.array([0.5, -1.0, 2.0, 0.0])
    w.data = 0.7
    loss = step(X)
    tw = torch.tensor(0.7, requires_grad=True)
    tb = torch.tensor(-0.2, requires_grad=True)
    t_loss = (torch.sigmoid(tw * tw * torch.tensor(X) + tb) + 0.1 * (tw * tw + tb * tb)).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    assert same(w.grad, tw.grad.item()) and same(b.grad, tb.grad.item())


@pytest.mark.parametrize("group", GROUPINGS)
def test_repeated_inputs_and_shared_terms(group):
    """x*x, a+a and terms shared between sums: gradients from repeated uses add up."""
    p, q = Value(0.8), Value(-1.3)

    def fn(x):
        shared = p * x[0]
        first = shared + q * x[1] + shared + p
        second = shared + shared * shared + (q + q)
        return first * second + x[0] * x[0] * p

    X = np.random.default_rng(8).normal(size=(6, 2))
    step = micrograd.compile(fn, group=group)
    loss = step(X)
    tp, tq = (torch.tensor(v, requires_grad=True) for v in (0.8, -1.3))
    tx = torch.tensor(X)
    shared = tp * tx[:, 0]
    t_out = (shared + tq * tx[:, 1] + shared + tp) * (shared + shared * shared + (tq + tq))
    t_loss = (t_out + tx[:, 0] * tx[:, 0] * tp).mean()
    t_loss.backward()
    assert same(loss, t_loss.item())
    assert same(p.grad, tp.grad.item()) and same(q.grad, tq.grad.item())


def test_listing_is_straight_line_code_over_numbered_slots():
    w = Value(2.0, label="w")
    step = micrograd.compile(lambda x, y: (w * x[0] + 3.0 - y).tanh())
    step.trace(np.zeros((1, 2)), np.zeros(1))
    assert step.program.listing() == "\n".join(
        [
            "def traced(x, y):",
            "    v0 = x[0]",
            "    v1 = y",
            "    v2 = parameters[0]  # w",
            "    v3 = 3.0",
            "    v4 = mul(v2, v0)",
            "    v5 = add(v4, v3)",
            "    v6 = sub(v5, v1)",
            "    v7 = tanh(v6)",
            "    return v7",
        ]
    )
    assert step.parameters() == [w]


def test_the_traced_graph_is_a_value_graph_of_the_program():
    model = nn.MLP(2, [3, 1], rng=random.Random(9))
    step = micrograd.compile(hinge(model))
    step.trace([[0.5, -0.5]], [1.0])
    root = step.graph()
    assert isinstance(root, Value) and type(root) is Value
    nodes = micrograd.topological_order(root)
    assert sum(1 for n in nodes if n._prev) == len(step.program.instructions)
    assert {n.label for n in nodes if not n._prev and n._op is micrograd.ops.LEAF} >= {
        "x[0]",
        "x[1]",
        "y",
    }
    assert root > -1.0  # no longer traced: comparisons work again


def line_of(text: str) -> int:
    """The line number in this file of the line containing text."""
    with open(__file__) as source:
        return next(n for n, line in enumerate(source, 1) if text in line and "line_of" not in line)


def branchy_compare(x):
    return x[0].relu() if x[0] * 2 > 0 else -x[0]  # marker: compare


def branchy_float(x):
    return Value(float(x[0] + x[1]))  # marker: float


def branchy_bool(x):
    h = x[0] * x[1]
    if h:  # marker: bool
        return h
    return -h


def branchy_data(x):
    return x[0] * (x[1].data + 1)  # marker: data


def branchy_reflected(x):
    return x[0] if 0.0 < x[0] + 1 else x[1]  # marker: reflected


WEIGHT = Value(1.0)


def branchy_parameter(x):
    y = WEIGHT * x[0]
    return y if WEIGHT > 0 else -y  # marker: parameter


def no_grad_on_an_input(x):
    with micrograd.no_grad():
        scale = x[0] * x[0]  # marker: no_grad input
    return WEIGHT * scale  # compiled, every sample would get the first sample's scale


def no_grad_on_a_parameter(x):
    with micrograd.no_grad():
        doubled = WEIGHT * 2.0  # marker: no_grad parameter
    return doubled * x[0]  # compiled, later steps would keep this step's weight


def compared_before_use(x):
    sign = 1.0 if WEIGHT > 0 else -1.0  # marker: before use
    return WEIGHT * x[0] * sign  # compiled, the sign would stay this step's


def data_read_before_use(x):
    scale = 2.0 if WEIGHT.data > 0 else 1.0  # marker: data before use
    return WEIGHT * x[0] * scale


def detached_before_use(x):
    frozen = WEIGHT.detach()  # marker: detached
    return (WEIGHT - frozen) * x[0]


# A captured parameter used only as a number never enters an op, so nothing in the traced
# graph shows it: its value would be baked into the program as a constant, and stay stale.
def only_detached(x):
    return x[0] * WEIGHT.detach()  # marker: only detached


def only_data(x):
    return x[0] * WEIGHT.data  # marker: only data


def only_float(x):
    return x[0] * float(WEIGHT)  # marker: only float


def only_through_math(x):
    return x[0] * math.exp(WEIGHT.data)  # marker: only math


def only_compared(x):
    return x[0] * 2.0 if WEIGHT > 0 else x[0]  # marker: only compared


@pytest.mark.parametrize(
    "fn, marker",
    [
        (compared_before_use, "before use"),
        (detached_before_use, "detached"),
        (only_detached, "only detached"),
        (only_data, "only data"),
        (only_float, "only float"),
        (only_through_math, "only math"),
        (only_compared, "only compared"),
        (data_read_before_use, "data before use"),
        (no_grad_on_an_input, "no_grad input"),
        (no_grad_on_a_parameter, "no_grad parameter"),
        (branchy_compare, "compare"),
        (branchy_float, "float"),
        (branchy_bool, "bool"),
        (branchy_data, "data"),
        (branchy_reflected, "reflected"),
        (branchy_parameter, "parameter"),
    ],
)
def test_control_flow_on_traced_numbers_names_the_line(fn, marker):
    step = micrograd.compile(fn)
    with pytest.raises(micrograd.compiler.TracingError) as caught:
        step(np.ones((3, 2)))
    assert f"{__file__}:{line_of(f'# marker: {marker}')}:" in str(caught.value)
    assert "baked in" in str(caught.value)


def test_after_a_refused_trace_values_behave_normally():
    w = Value(1.0)
    step = micrograd.compile(lambda x: w * x if w * x > 0 else -x)
    with pytest.raises(micrograd.compiler.TracingError):
        step([1.0, 2.0])
    assert w > 0 and float(w) == 1.0 and type(w) is Value


def test_a_parameter_used_only_as_a_number_is_never_replayed_stale():
    """The issue's example: eager gives 2.0 after w.data changes; a compiled function must
    never give the 0.7 it saw while tracing. It refuses, naming the line."""
    w = Value(0.7)
    f = micrograd.compile(lambda x: x[0] * w.detach())  # marker: stale detach
    with pytest.raises(micrograd.compiler.TracingError) as caught:
        f([[1.0]])
    assert f"{__file__}:{line_of('# marker: stale detach')}:" in str(caught.value)
    w.data = 2.0
    assert (Value(1.0) * w.detach()).data == 2.0  # eager, for comparison


def test_after_tracing_value_is_the_plain_class_again():
    methods = dict(vars(Value))
    step = micrograd.compile(lambda x: x[0] * 2.0, reduce="none")
    assert_all_same(step.forward(np.array([[1.0], [3.0]])), [2.0, 6.0])
    assert dict(vars(Value)) == methods  # nothing wrapped while tracing is left behind
    assert vars(Value)["data"].fget == vars(Value)["_data"].__get__  # the slot, read in C
    limit = Value(0.5)
    assert limit > 0 and float(limit) == 0.5 and limit.data == 0.5


def test_tracing_works_inside_no_grad():
    w = Value(0.5)
    step = micrograd.compile(lambda x: (w * x).exp())
    with micrograd.no_grad():
        outputs = step.forward([0.0, 2.0])
    assert_all_same(outputs, [1.0, np.exp(1.0)])


def test_tracing_in_another_thread_leaves_this_threads_values_alone():
    """While another thread traces (the first call of a compiled function), this thread's
    eager code reads numbers, compares them and backpropagates as ever, and its ops stay out
    of that trace. Its decisions were TracingErrors and is_tracing() was True here."""
    tracing, finish = threading.Event(), threading.Event()
    results = []

    def slow(x):
        tracing.set()
        finish.wait(30)
        return x * 2.0

    thread = threading.Thread(target=lambda: results.append(micrograd.compile(slow).forward([1.5])))
    thread.start()
    assert tracing.wait(30)
    try:
        assert not micrograd.tracing.is_tracing()
        x = Value(3.0)
        y = x * x if x > 1 else x  # a decision on a number, refused only while tracing
        y.backward()
        assert (y.data, float(y), x.grad) == (9.0, 9.0, 6.0)
    finally:
        finish.set()
        thread.join()
    assert_all_same(results[0], [3.0])  # the trace holds its own op alone


def test_higher_order_is_refused_clearly():
    step = micrograd.compile(lambda x: x * x)
    with pytest.raises(NotImplementedError, match="create_graph"):
        step([1.0], create_graph=True)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda step: step(3.0), ValueError, "one row per sample, got a scalar"),
        (lambda step: step([1.0, 2.0], [1.0]), ValueError, "differ in length"),
        (lambda step: step(np.zeros((0, 2))), ValueError, "empty"),
        (lambda step: step([["a"]]), TypeError, "expected real numbers"),
        (lambda step: step([[1.0], [1.0, 2.0]]), TypeError, "expected numbers, one row"),
        (lambda step: step.listing(), RuntimeError, "not traced yet"),
    ],
)
def test_bad_calls_say_what_was_expected(call, error, message):
    step = micrograd.compile(lambda *xs: xs[0] * 2.0)
    with pytest.raises(error, match=message):
        call(step)


def test_bad_functions_and_options_say_what_was_expected():
    with pytest.raises(ValueError, match="reduce must be one of"):
        micrograd.compile(lambda x: x, reduce="max")
    with pytest.raises(TypeError, match="expected a function"):
        micrograd.compile(3)
    with pytest.raises(TypeError, match="must return a Value"):
        micrograd.compile(lambda x: 1.0)([1.0])


def test_a_function_of_the_parameters_alone_runs_once():
    model = nn.MLP(2, [3, 1], rng=random.Random(10))
    penalty = micrograd.compile(lambda: 1e-4 * sum(p * p for p in model.parameters()))
    value = penalty()
    params = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    t_value = 1e-4 * sum(p * p for p in params)
    t_value.backward()
    assert same(value, t_value.item())
    assert_all_same([p.grad for p in model.parameters()], [p.grad.item() for p in params])


def test_decorator_forms():
    w = Value(2.0)

    @micrograd.compile
    def mean_step(x):
        return w * x

    @micrograd.compile(reduce="sum")
    def sum_step(x):
        return w * x

    assert same(mean_step([1.0, 3.0]), 4.0) and same(sum_step([1.0, 3.0]), 8.0)
    assert same(w.grad, 2.0 + 4.0)


def test_importing_micrograd_does_not_import_numpy():
    code = "import sys, micrograd; assert 'numpy' not in sys.modules; micrograd.compile"
    code += "; assert 'numpy' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("group", GROUPINGS)
def test_static_arguments_trace_one_program_per_value(group):
    """A label passed as a plain number (as nn's losses want it): one trace per class."""
    model = nn.MLP(2, [4, 1], rng=random.Random(11))
    seen = []

    def loss(x, label):
        seen.append(label)
        assert isinstance(label, float)
        return (1 - label * model(x)).relu()

    X, Y = moons(15, seed=12)
    step = micrograd.compile(loss, static=(1,), group=group)
    result = step(X, Y)
    assert sorted(seen) == [-1.0, 1.0] and step.trace_count == 2
    _, t_loss, t_grads = torch_mlp_hinge(model, X, Y)
    assert same(result, t_loss)
    assert_all_same([p.grad for p in model.parameters()], t_grads)
    assert_all_same(step.forward(X, Y), torch_mlp_hinge(model, X, Y)[0])
    assert "# label = " in step.program.listing() and "static" in step.program.listing()
    with pytest.raises(ValueError, match="static"):
        micrograd.compile(loss, static=(2,))(X, Y)


def test_static_arguments_keep_their_type():
    w = [Value(0.5), Value(-0.5)]
    pick = micrograd.compile(lambda x, k: w[k] * x, static=(1,), reduce="none")
    assert_all_same(pick([1.0, 2.0, 3.0], [0, 1, 0]), [0.5, -1.0, 1.5])
    assert same(w[0].grad, 4.0) and same(w[1].grad, 2.0)


def test_fit_with_compile_reproduces_karpathy_demo():
    """nn.fit(compile=True) on demo.ipynb's setup gives the reference run's losses,
    accuracies and final weights (karpathy/micrograd's, recorded in tests/data)."""
    reference = json.loads((Path(__file__).parent / "data" / "karpathy_reference.json").read_text())
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    schedule = nn.optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    steps = reference["steps"]
    history = nn.fit(
        model, X, y * 2 - 1, loss="hinge", optimizer=opt, scheduler=schedule,
        epochs=len(steps), l2=1e-4, shuffle=False, progress=False, compile=True,
    )  # fmt: skip
    assert history["loss"] == pytest.approx([s["loss"] for s in steps], rel=1e-12)
    assert history["accuracy"] == [s["accuracy"] for s in steps]
    assert [p.data for p in model.parameters()] == pytest.approx(
        reference["final_parameters"], rel=1e-12, abs=1e-15
    )


def test_fit_with_compile_on_mini_batches_matches_eager_fit():
    def run(compile):
        model = nn.MLP(3, [4, 1], activation="tanh", rng=random.Random(0))
        X, y = np.random.default_rng(1).normal(size=(9, 3)), np.random.default_rng(2).normal(size=9)
        history = nn.fit(model, X, y, loss="mse", epochs=3, batch_size=4, l2=1e-3,
                         progress=False, compile=compile)  # fmt: skip
        return history["loss"], [p.data for p in model.parameters()]

    eager_losses, eager_params = run(False)
    losses, params = run(True)
    assert_all_same(losses, eager_losses)
    assert_all_same(params, eager_params)


@pytest.mark.parametrize("group", GROUPINGS)
def test_a_big_batch_runs_in_chunks_with_the_same_result(group, monkeypatch):
    monkeypatch.setattr(micrograd.runner, "CHUNK_NUMBERS", 500)  # a few samples per chunk
    model = nn.MLP(2, [4, 1], rng=random.Random(13))
    X, Y = moons(50, seed=14)
    step = micrograd.compile(hinge(model), static=(1,), group=group)
    loss = step(X, Y)
    t_losses, t_loss, t_grads = torch_mlp_hinge(model, X, Y)
    assert same(loss, t_loss)
    assert_all_same([p.grad for p in model.parameters()], t_grads)
    assert_all_same(step.forward(X, Y), t_losses)


def test_outputs_that_are_leaves_and_nested_samples():
    w = Value(3.0)
    assert_all_same(micrograd.compile(lambda x: x, reduce="none")([1.0, -2.0]), [1.0, -2.0])
    assert same(micrograd.compile(lambda x: w)([1.0, 2.0]), 3.0) and same(w.grad, 1.0)
    images = np.arange(12.0).reshape(2, 3, 2)  # two samples of 3 x 2
    total = micrograd.compile(lambda m: sum(v * w for row in m for v in row), reduce="none")
    assert_all_same(total(images), [3.0 * images[0].sum(), 3.0 * images[1].sum()])
    assert "v5 = m[2][1]" in total.program.listing()


def test_draw_dot_draws_the_traced_program():
    draw = pytest.importorskip("micrograd.draw")
    w = Value(2.0, label="w")
    step = micrograd.compile(lambda x, y: (w * x[0] + 3.0 - y).tanh())
    step.trace([[0.5, 1.5]], [1.0])
    source = draw.draw_dot(step.graph(), params=step).source
    for label in ["x[0]", "y", "w", "tanh"]:
        assert label in source
    assert "x[1]" not in source  # an input the function never reads is not in the program


# (model factory, targets) for each of nn's losses: every one of them traces.
LOSS_SETUPS = {
    "hinge": (lambda rng: nn.MLP(2, [4, 1], rng=rng), lambda y: y * 2 - 1),
    "mse": (lambda rng: nn.MLP(2, [4, 1], activation="tanh", rng=rng), lambda y: y * 0.5),
    "binary_cross_entropy": (
        lambda rng: nn.MLP(2, [4, 1], output_activation="sigmoid", rng=rng),
        lambda y: y.astype(float),
    ),
    "binary_cross_entropy_with_logits": (
        lambda rng: nn.MLP(2, [4, 1], rng=rng),
        lambda y: y.astype(float),
    ),
    "cross_entropy": (lambda rng: nn.MLP(2, [4, 3], rng=rng), lambda y: y),
}


def test_every_nn_loss_has_a_compile_setup():
    assert sorted(LOSS_SETUPS) == sorted(nn.train.LOSSES)


@pytest.mark.parametrize("loss", sorted(LOSS_SETUPS))
def test_fit_with_compile_matches_eager_fit_for_every_loss(loss):
    """Each nn loss is branch-free, so fit(compile=True) traces it and reproduces eager fit."""
    make_model, targets_of = LOSS_SETUPS[loss]
    X, labels = nn.data.make_blobs(12, centers=3 if loss == "cross_entropy" else 2, seed=5)

    def run(compile):
        model = make_model(random.Random(3))
        history = nn.fit(model, X, targets_of(labels), loss=loss, epochs=3, batch_size=5,
                         l2=1e-3, progress=False, compile=compile)  # fmt: skip
        return history["loss"], [p.data for p in model.parameters()]

    eager_losses, eager_params = run(False)
    losses, params = run(True)
    assert_all_same(losses, eager_losses)
    # the batch sums its gradients in another order: parameters of order 1 agree to 1e-16,
    # and one that has shrunk to 1e-8 keeps that absolute agreement, not a relative 1e-12
    assert_all_same(params, eager_params, abs_tol=1e-15)


# each nn loss per sample, as torch computes it (reduction="none"), from outputs and targets
TORCH_TERMS = {
    "hinge": lambda out, t: torch.relu(1 - t * out[:, 0]),
    "mse": lambda out, t: (out[:, 0] - t) ** 2,
    "binary_cross_entropy": lambda out, t: torch.nn.functional.binary_cross_entropy(
        out[:, 0], t, reduction="none"
    ),
    "binary_cross_entropy_with_logits": lambda out, t: (
        torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t, reduction="none")
    ),
    "cross_entropy": lambda out, t: torch.nn.functional.cross_entropy(out, t, reduction="none"),
}


@pytest.mark.parametrize("loss", sorted(LOSS_SETUPS))
def test_fit_traces_an_nn_loss_as_one_samples_term_without_a_mean_around_it(loss):
    """Traced through the loss itself, one sample's loss is the mean of a batch of one,
    (0 + term) * 1.0; fit traces the term (F.PER_SAMPLE), two instructions fewer. Each
    sample's loss and the gradient of their mean are torch's."""
    make_model, targets_of = LOSS_SETUPS[loss]
    X, labels = nn.data.make_blobs(9, centers=3 if loss == "cross_entropy" else 2, seed=4)
    model = make_model(random.Random(2))
    loss_fn, classes = nn.train.LOSSES[loss], (3 if loss == "cross_entropy" else None)
    T = np.eye(3)[labels] if classes else targets_of(labels).astype(float)
    term = micrograd.compile(nn.steps.per_sample_loss(model, loss_fn, classes))
    whole = micrograd.compile(
        nn.steps.per_sample_loss(model, lambda out, t: loss_fn(out, t), classes)
    )
    outputs, grad = term.value_and_grad(X, T)
    whole.trace(X, T)
    assert len(term.program.instructions) == len(whole.program.instructions) - 2
    theirs = nn.to_torch(model)
    t_targets = torch.tensor(labels if classes else T)
    t_terms = TORCH_TERMS[loss](theirs(torch.tensor(X)), t_targets)
    assert_all_same(outputs[:, 0], t_terms.tolist())
    t_terms.mean().backward()
    grads = dict(zip(term.parameters(), grad))
    for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(model, theirs):
        t_grad = dict(theirs.named_parameters())[torch_name].grad[index].item()
        assert same(grads[value], t_grad, rel=1e-11, abs_tol=1e-15), name


@pytest.mark.parametrize(
    "batch, what",
    [
        (np.array([[1 + 2j], [3.0 + 0j]]), "complex numbers"),
        ([["1.5"], ["2"]], "strings"),
        (np.array([[b"1"]]), "bytes"),
        ([[Value(1.0)], [Value(2.0)]], "objects"),
    ],
)
def test_a_batch_of_anything_but_real_numbers_is_refused(batch, what):
    """numpy would truncate complex numbers (with only a warning) and parse numeric strings;
    the eager engine refuses both, and so does the compiler."""
    w = Value(0.5)
    step = micrograd.compile(lambda x: w * x[0])
    with pytest.raises(TypeError, match=f"argument 0: expected real numbers.*{what}"):
        step(batch)
    assert w.grad == 0.0


def test_a_constant_a_product_reads_as_a_row_can_be_returned_too(monkeypatch):
    """The constant 2.0 of w2 * 2.0 is read as a row of V by the bank w1 * x + w2 * 2.0 + b;
    returned as well, it is that row, which holds 2.0 in every sample (its output row once
    pointed at a row nothing wrote). Fresh arrays are filled with nan to show it."""
    w1, w2, b = Value(0.5), Value(-1.5), Value(0.25)

    def f(x):
        scaled = w2 * 2.0
        return [w1 * x[0] + scaled + b, scaled._b]  # _b: the node of the constant 2.0

    with monkeypatch.context() as patched:
        patched.setattr(np, "empty", lambda shape, *args, **kw: np.full(shape, np.nan))
        out = micrograd.compile(f).forward(np.arange(4.0).reshape(4, 1))
    assert out.tolist() == [[0.5 * x - 3.0 + 0.25, 2.0] for x in range(4)]


def test_a_second_outputs_own_steps_send_no_nan_back_into_the_gradient():
    """value_and_grad differentiates the first output. The second, log(w2 * x1), is -inf
    where x1 = 0, and its rule's gradient there, 0 / 0, would be nan: its steps run no
    backward, so w2's gradient is 0, as torch (and the eager walk) gives it. Nor is w2 * x1
    grouped with w1 * x0, whose step does run backward: there its zero gradient times
    x1 = inf would be nan."""
    w1, w2 = Value(0.5), Value(2.0)
    step = micrograd.compile(lambda x: [w1 * x[0], (w2 * x[1]).log()])
    X = np.array([[1.0, 0.0], [2.0, 1.0], [4.0, np.inf]])
    outputs, grad = step.value_and_grad(X)
    t_w1, t_w2 = (torch.tensor(v, requires_grad=True) for v in (0.5, 2.0))
    x = torch.tensor(X)
    first, second = t_w1 * x[:, 0], torch.log(t_w2 * x[:, 1])
    t_grads = torch.autograd.grad(first.mean(), [t_w1, t_w2], allow_unused=True)
    assert_all_same(outputs[:, 1], second.tolist())
    expected = [0.0 if g is None else g.item() for g in t_grads]
    assert_grads_same(step, grad, {w1: expected[0], w2: expected[1]})


def test_a_neuron_only_a_second_output_reads_gets_no_nan_from_its_layers_product():
    """Two neurons over the same inputs would be one matrix product, but the loss (the first
    output) reads only the first; the second is returned as a second output. The eager walk
    never visits the second's sum, so its weights get no gradient, as in torch. Lifted into
    one product with the first, the second's zero gradient times the input inf would give
    its weight nan: the product runs backward over the first row of W alone."""
    w = [[Value(0.5), Value(-1.0), Value(0.25)], [Value(2.0), Value(1.5), Value(-0.5)]]
    b = [Value(0.1), Value(-0.2)]

    def f(x):
        return [sum((wi * xi for wi, xi in zip(row, x)), bias) for row, bias in zip(w, b)]

    step = micrograd.compile(f)
    X = np.array([[1.0, 2.0, 3.0], [np.inf, 1.0, 2.0], [0.5, -1.0, 4.0]])
    outputs, grad = step.value_and_grad(X)
    assert "matmul" in step.plan.listing()
    # a tensor per neuron, as the scalar graph has them: the second's reach no loss
    t_w = [torch.tensor([v.data for v in row], requires_grad=True) for row in w]
    t_b = [torch.tensor(v.data, requires_grad=True) for v in b]
    t_out = [torch.tensor(X) @ t_w[r] + t_b[r] for r in range(2)]
    t_grads = torch.autograd.grad(t_out[0].mean(), t_w + t_b, allow_unused=True)
    assert_all_same(outputs.T.ravel(), torch.cat(t_out).tolist())
    expected = {}
    for params, g in zip([*w, *([v] for v in b)], t_grads):
        expected.update(zip(params, [0.0] * len(params) if g is None else g.reshape(-1).tolist()))
    assert_grads_same(step, grad, expected)


def test_a_layer_after_a_layer_runs_backward_over_the_neurons_the_loss_reads():
    """The second layer's two neurons are one product, their bias folded in (a row of ones
    after the first layer's rows); the loss reads the first alone. The input inf passes the
    relu, and the second neuron, which only the second output reads, gets no gradient (the
    product's backward runs over the first row of W), where its zero times inf was nan."""
    rng = random.Random(3)
    hidden = [[Value(rng.uniform(0.5, 1.0)) for _ in range(3)] for _ in range(2)]
    top = [[Value(rng.uniform(-1.0, 1.0)) for _ in range(3)] for _ in range(2)]  # 2 + a bias

    def f(x):
        h = [sum((w * xi for w, xi in zip(row, x)), 0.0).relu() for row in hidden]
        return [sum((w * hi for w, hi in zip(row, h)), row[2]) for row in top]

    step = micrograd.compile(f)
    X = np.array([[1.0, 2.0, 3.0], [np.inf, 1.0, 2.0], [0.5, -1.0, 4.0]])
    outputs, grad = step.value_and_grad(X)
    (second,) = [s for s in step.plan.steps if isinstance(s, LinearStep) and s.shape[0] == 2][1:]
    assert second.ones_follow and second.reach == [0]
    t = {p: torch.tensor(p.data, requires_grad=True) for row in hidden + top for p in row}
    x = torch.tensor(X)
    h = [torch.relu(sum(t[w] * x[:, k] for k, w in enumerate(row))) for row in hidden]
    t_out = [sum(t[w] * h[k] for k, w in enumerate(row[:2])) + t[row[2]] for row in top]
    t_grads = torch.autograd.grad(t_out[0].mean(), list(t.values()), allow_unused=True)
    assert_all_same(outputs.T.ravel(), torch.cat(t_out).tolist())
    expected = {p: 0.0 if g is None else g.item() for p, g in zip(t, t_grads)}
    assert_grads_same(step, grad, expected)
    assert all(v == 0.0 for p, v in expected.items() if p in top[1])


def test_a_convolutions_positions_only_a_second_output_reads_are_a_product_of_their_own():
    """Two filters of two taps over three positions; the loss reads positions 0 and 1, and
    the other outputs position 2, which alone reads x[3] = inf. One product over all
    three would send position 2's zero gradients times inf into both filters' second tap
    as nan: the positions the loss reads are a product of their own."""
    W = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(1.5)]]

    def f(x):
        sums = [[W[r][0] * x[c] + W[r][1] * x[c + 1] for c in range(3)] for r in range(2)]
        loss = sums[0][0] * sums[0][0] + sums[0][1] * sums[1][0] - sums[1][1]
        return [loss, sums[0][2], sums[1][2]]

    step = micrograd.compile(f)
    X = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, np.inf]])
    outputs, grad = step.value_and_grad(X)
    assert [s.shape for s in step.plan.steps if isinstance(s, LinearStep)] == [(2, 2, 2), (2, 1, 2)]
    t_W = torch.tensor([[w.data for w in row] for row in W], requires_grad=True)
    x = torch.tensor(X)
    sums = [[t_W[r, 0] * x[:, c] + t_W[r, 1] * x[:, c + 1] for c in range(3)] for r in range(2)]
    t_loss = sums[0][0] * sums[0][0] + sums[0][1] * sums[1][0] - sums[1][1]
    (t_grad,) = torch.autograd.grad(t_loss.mean(), [t_W])
    assert_all_same(outputs.T.ravel(), torch.cat([t_loss, sums[0][2], sums[1][2]]).tolist())
    assert_all_same(grad.tolist(), t_grad.ravel().tolist())


def test_a_static_nan_is_refused_instead_of_tracing_once_per_row_forever():
    step = micrograd.compile(lambda x, t: x[0] * t, static=(1,), reduce="none")
    X, T = np.ones((4, 1)), np.array([1.0, np.nan, 2.0, np.nan])
    for _ in range(3):
        with pytest.raises(ValueError, match=r"static argument 1 holds nan \(row 1\)"):
            step.forward(X, T)
    assert step.trace_count == 0
    assert_all_same(step.forward(X, np.array([1.0, 2.0, 1.0, 2.0])), [1.0, 2.0, 1.0, 2.0])
    assert step.trace_count == 2


@pytest.mark.parametrize("static", ["1", 1.0, True, (0, "1"), (-1,), (1, 1), None])
def test_a_bad_static_is_a_clear_error_when_compiling(static):
    with pytest.raises((TypeError, ValueError), match="micrograd.compile: static"):
        micrograd.compile(lambda x, t: x[0] * t, static=static)


def test_static_may_be_one_position():
    step = micrograd.compile(lambda x, t: x[0] * t, static=1, reduce="none")
    assert_all_same(step.forward(np.ones((2, 1)), np.array([3, 4])), [3.0, 4.0])


@pytest.mark.parametrize("group", GROUPINGS)
@pytest.mark.parametrize("exponent", [0.5, 2.0, -1.0, 0.0, 1.0, -0.5, 3.0])
def test_a_constant_exponent_is_c_pow_as_in_the_eager_engine(exponent, group):
    """numpy takes x ** 0.5 with a constant exponent as sqrt(x), which is nan at -inf and -0.0
    at -0.0 where pow gives inf and 0.0 (found by Hypothesis: compiled nan, eager inf)."""
    points = [-math.inf, -0.0, 0.0, -2.0, 3.0, math.inf, 1e-300, 7.0]
    step = micrograd.compile(lambda x: x[0] ** exponent, reduce="none", group=group)
    compiled = step.forward(np.array([[p] for p in points]))
    eager = [(Value(p) ** exponent).data for p in points]
    assert_all_same(compiled, eager)


@pytest.mark.parametrize("enabled", [True, False])
def test_tracing_pauses_the_cyclic_collector_and_restores_it_even_on_refusal(enabled):
    """A trace holds one Value per op until its program is built; the collector would walk
    them all at each full collection and find no cycle, so tracing runs with it off."""
    import gc

    seen = []

    def fn(x):
        seen.append(gc.isenabled())
        return x[0] * 2.0

    def refused(x):
        if x[0] > 0:  # a decision on a traced number: refused
            return x[0]
        return -x[0]

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        micrograd.compile(fn).forward(np.ones((3, 1)))
        assert seen == [False] and gc.isenabled() is enabled
        with pytest.raises(micrograd.compiler.TracingError):
            micrograd.compile(refused).forward(np.ones((3, 1)))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# -- what the engine would read while tracing, and the keys of static values --------------

W_TRACED = Value(1.5)


def gradient_inside(x):
    (g,) = micrograd.grad((W_TRACED * x).relu(), [W_TRACED])  # marker: grad inside
    return x * g


def backward_inside(x):
    y = x * x
    y.backward()  # marker: backward inside
    return y


INNER = micrograd.compile(lambda: W_TRACED * W_TRACED)


def compiled_inside(x):
    return W_TRACED * x + INNER()  # marker: compiled inside


def copied_inside(x):
    return x * copy.copy(x)  # marker: copied inside


def pickled_parameter(x):
    return x * pickle.loads(pickle.dumps(W_TRACED))  # marker: pickled inside


def clipped(x):
    return np.clip(x, 0.0, 1.0)  # marker: inside numpy


def reads_grad(x):
    return x * W_TRACED.grad  # marker: grad read


@pytest.mark.parametrize(
    "fn, marker, action",
    [
        (gradient_inside, "grad inside", "taking gradients"),
        (backward_inside, "backward inside", "backward()"),
        (compiled_inside, "compiled inside", "running a compiled function"),
        (copied_inside, "copied inside", "copying or pickling"),
        (pickled_parameter, "pickled inside", "copying or pickling"),
        (clipped, "inside numpy", "comparing"),
        (reads_grad, "grad read", "reading .grad of"),  # kept the grad of tracing time
    ],
)
def test_what_would_bake_in_one_samples_numbers_is_refused_naming_the_line(fn, marker, action):
    """Each of these ran and gave the traced sample's number for every sample (relu's branch
    in a gradient, the inner function's result, the copy's number): the eager engine gives
    -0.0 * 2 + 0 for x = -3 in gradient_inside, the traced program 1.5 * -3."""
    step = micrograd.compile(fn, reduce="none")
    with pytest.raises(micrograd.compiler.TracingError, match=re.escape(action)) as caught:
        step.forward([2.0, -3.0, 0.5])
    site = f"{__file__}:{line_of(f'# marker: {marker}')}"
    assert str(caught.value).startswith(f"micrograd.compile: {site}")  # a library's line after
    assert W_TRACED.grad == 0.0  # nothing ran into the parameter's grad


def test_gradients_outside_a_trace_still_work():
    x = Value(-3.0)
    (g,) = micrograd.grad((W_TRACED * x).relu(), [W_TRACED])
    assert g == 0.0 and INNER() == 2.25 and copy.copy(x).data == -3.0


@pytest.mark.parametrize(
    "statics, whole_batch",
    [
        ([0.0, -0.0, 0.0, -0.0], True),  # equal, but 1 / t is inf or -inf
        ([[1, 2], [3, 4], [1, 2], [3, 4]], True),  # a static value per sample of shape (2,)
        # equal, but the function looks at the type; in one batch numpy makes True an int
        ([1, True, 1, True], False),
    ],
)
def test_static_values_that_compare_equal_trace_apart(statics, whole_batch):
    def fn(x, t):
        if isinstance(t, list):
            return x * t[0] + t[1]
        return x * (2.0 if t is True else 3.0) + 1.0 / (x * t)

    X = [1.0, 2.0, 3.0, 4.0]
    eager = [fn(Value(x), t).data for x, t in zip(X, statics)]
    step = micrograd.compile(fn, static=1, reduce="none")
    if whole_batch:
        assert_all_same(step.forward(X, statics), eager)
    again = [step.forward([x], [t])[0] for x, t in zip(X, statics)]  # one sample a call
    assert_all_same(again, eager)
    assert step.trace_count == 2


def test_a_parameter_whose_data_is_not_a_number_is_a_type_error():
    w = Value(2.0, label="w")
    step = micrograd.compile(lambda x: w * x, reduce="none")
    assert step.forward([1.0])[0] == 2.0
    for wrong in (None, "3"):  # numpy read them as nan and 3.0
        w._data = wrong  # (w.data = wrong is refused itself: a subclass might store them)
        with pytest.raises(TypeError, match=r"parameter 0 \(w\) has .data"):
            step.forward([1.0])
    w.data = 2.0
    with pytest.raises(ValueError, match="parameters must hold"):
        step.forward([1.0], parameters=[10**400])  # was a bare OverflowError


def test_a_masked_array_is_refused_where_entries_are_masked():
    step = micrograd.compile(lambda x: x * 2.0, reduce="none")
    assert_all_same(step.forward(np.ma.array([1.0, 2.0], mask=[0, 0])), [2.0, 4.0])
    with pytest.raises(TypeError, match="argument 0: a masked array"):
        step.forward(np.ma.array([1.0, 99.0], mask=[0, 1]))  # gave 198.0 for the masked one


def test_an_op_whose_rule_is_not_written_for_arrays_is_named():
    softplus = micrograd.Op(
        "my_softplus", 1,
        lambda F, a: math.log1p(math.exp(a)),
        lambda F, g, out, a: (g / (1 + math.exp(-a)),),
    )  # fmt: skip
    assert same(softplus(Value(0.1)).data, math.log1p(math.exp(0.1)))  # eager: floats
    with pytest.raises(TypeError, match="op 'my_softplus': its forward rule failed on arrays"):
        micrograd.compile(lambda x: softplus(x), reduce="none").forward([0.1, 0.2])


def test_one_value_for_some_static_values_and_a_list_for_others_is_refused():
    w = Value(2.0)
    step = micrograd.compile(lambda x, k: [w * x] if k == 0 else w * x, static=1)
    for order in ([0, 1], [1, 0]):  # the shape was (2, 1) or (2,), by which came first
        with pytest.raises(ValueError, match="one Value for some static values and a list"):
            step.forward([1.0, 2.0], order)


def test_a_batch_of_fractions_runs_as_value_takes_them_and_a_huge_integer_is_named():
    step = micrograd.compile(lambda x: x * 3.0, reduce="none")
    batch = [Fraction(1, 3), 2, Fraction(-7, 2)]  # refused as "objects"; Value() takes them
    assert_all_same(step.forward(batch), [(Value(v) * 3.0).data for v in batch])
    with pytest.raises(ValueError, match="argument 0: a number too large for a float64"):
        step.forward([10**400])


def test_a_sum_whose_products_overflow_is_eagers_with_group_false():
    """The documented difference: BLAS's fused multiply-add need not round 2 * 1e308 to inf
    before adding -2e308 (the lifted product may give -inf where the eager sum is nan; a
    CPU without fused multiply-adds gives nan); group=False forms each product as the
    eager engine does."""
    w0, w1 = Value(2.0), Value(2.0)
    X = np.array([[1e308, -1e308], [1.0, 2.0]])
    eager = [(w0 * float(a) + w1 * float(b)).data for a, b in X]
    assert math.isnan(eager[0]) and eager[1] == 6.0
    ungrouped = micrograd.compile(lambda x: w0 * x[0] + w1 * x[1], group=False, reduce="none")
    outputs = ungrouped.forward(X)
    assert math.isnan(outputs[0]) and outputs[1] == 6.0
    grouped = micrograd.compile(lambda x: w0 * x[0] + w1 * x[1], reduce="none").forward(X)
    assert not math.isfinite(grouped[0]) and grouped[1] == 6.0  # -inf or nan, by the CPU


def test_a_gradient_summed_past_the_largest_float_overflows_in_its_own_order():
    """The documented difference of sums: eager adds each sample's two terms first (1e308 -
    1e308 = 0, the true gradient), compile each term over the batch first (1e308 + 1e308 =
    inf, then inf - inf = nan), grouped or not, as torch does on the whole batch. Every term
    is finite; only the order differs."""
    w = Value(1.0)
    fn = lambda x: w * x[0] * 1e308 + w * x[1] * -1e308  # noqa: E731
    X = np.ones((2, 2))
    for row in X.tolist():
        fn(row).backward()
    tw = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (tw * torch.ones(2) * 1e308 + tw * torch.ones(2) * -1e308).sum().backward()
    assert w.grad == 0.0 and not math.isfinite(tw.grad.item())
    for group in (True, False):
        _, gradient = micrograd.compile(fn, reduce="sum", group=group).value_and_grad(X)
        assert not math.isfinite(gradient[0])


def test_batches_given_by_name_are_a_type_error_saying_they_go_by_position():
    # "CompiledFunction.__call__() got an unexpected keyword argument 'x'" before
    w = Value(2.0)
    step = micrograd.compile(lambda x, y: (w * x[0] - y) ** 2)
    X, Y = np.array([[1.0], [2.0]]), np.array([1.0, 3.0])
    for call in (step, step.forward, step.value_and_grad, step.trace):
        with pytest.raises(TypeError, match="takes its batches by position.* got x=, y="):
            call(x=X, y=Y)
    assert step(X, Y) == pytest.approx(((2.0 - 1.0) ** 2 + (4.0 - 3.0) ** 2) / 2)


@pytest.mark.parametrize(
    "gradient",
    [None, "1", True, 1j, np.array([True, True, True]), np.ones(3, dtype=complex)],
    ids=["None", "text", "bool", "complex", "bools", "complexes"],
)
def test_a_derivative_of_ones_own_handing_what_is_no_gradient_is_refused_everywhere(gradient):
    # compiled, None gave the parameter's gradient nan, "1" and True counted as 1, a complex
    # lost its imaginary part with a warning; create_graph took "1" and True as 1.0
    op = Op("odd", 1, lambda F, a: a * 1.0, lambda F, g, out, a: (gradient,))
    w = Value(2.0)
    step = micrograd.compile(lambda x: op(x * w), reduce="sum")
    with pytest.raises(TypeError, match=r"the derivative of op .odd. returned .*; on arrays each "
                       "gradient must be real numbers") as raised:  # fmt: skip
        step(np.array([1.0, 2.0, 3.0]))
    assert "math's functions" not in str(raised.value)  # said as it is, not as a failed rule
    assert w.grad == 0.0
    with pytest.raises(TypeError, match="on Values each gradient must be a Value or a real number"):
        op(Value(1.0) * w).backward(create_graph=True)
    with pytest.raises(TypeError, match="on floats each gradient must be one real number"):
        op(Value(1.0) * w).backward()


def test_a_rule_of_ones_own_giving_arrays_of_the_wrong_kind_or_shape_is_refused():
    w = Value(2.0)
    too_long = Op("long", 1, lambda F, a: a * 1.0, lambda F, g, out, a: (np.ones(7),))
    with pytest.raises(ValueError, match=r"derivative of op 'long' returned a gradient of shape "
                       r"\(7,\) for arrays of shape"):  # fmt: skip
        micrograd.compile(lambda x: too_long(x * w), reduce="sum")(np.array([1.0, 2.0, 3.0]))
    complex_forward = Op(  # real on the floats traced, complex on arrays: stored as its real part
        "root",
        1,
        lambda F, a: a * 1.0 if isinstance(a, float) else a + 0j,
        lambda F, g, out, a: (g,),
    )
    with pytest.raises(TypeError, match="op 'root': its forward must return real numbers"):
        micrograd.compile(lambda x: complex_forward(x * w), reduce="sum").forward(np.ones(3))
    assert w.grad == 0.0


@pytest.mark.parametrize(
    "gradient",
    [lambda g: 3, lambda g: np.int64(3), lambda g: np.float32(3.0), lambda g: Fraction(3),
     lambda g: np.array(3.0), lambda g: g * 3],
    ids=["int", "np.int64", "np.float32", "Fraction", "0-d array", "g * 3"],
)  # fmt: skip
def test_a_derivative_of_ones_own_handing_any_real_number_is_taken_everywhere(gradient):
    # the checks above must not refuse a gradient that is a number; where a rule hands a
    # plain number, the oracle is torch's 3 * x, whose derivative is 3 (g is 1 at the root;
    # the compiled seed of reduce="sum" is 1 too)
    op = Op("triple", 1, lambda F, a: a * 3.0, lambda F, g, out, a: (gradient(g),))
    w = Value(2.0)
    micrograd.compile(lambda x: op(x * w), reduce="sum")(np.array([1.0, 2.0, 3.0]))
    tw = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) * tw * 3.0).sum().backward()
    assert w.grad == tw.grad.item()
    x = Value(1.5)
    (g,) = micrograd.grad(op(x), [x], create_graph=True)
    assert isinstance(g, Value) and g.data == 3.0
    if not isinstance(gradient(1.0), np.ndarray):  # on floats, an array would land in .grad
        y = op(x)
        y.backward()
        assert x.grad == 3.0


def test_micrograds_own_functions_called_on_a_traced_value_are_refused_at_your_line():
    # their reads were the engine's own, so unreported: FLOAT.exp(x[1]) took the first
    # sample's exp for every row, to_json handed its number out
    from micrograd.floatmath import FLOAT

    w = Value(0.7)
    rows = np.array([[1.5, -0.5], [0.5, 3.0], [2.5, 1.0]])
    functions = [
        lambda x: x[0] * w * FLOAT.exp(x[1]),
        lambda x: x[0] * w + micrograd.ops.RELU.forward(FLOAT, x[1]),
        lambda x: x[0] * w * micrograd.to_json(x[1])["nodes"][-1]["data"],
        lambda x: x[0] * w * nn.accuracy([x[1]], [1.0]),  # nn's line named after yours
    ]
    for fn in functions:
        at_your_line = re.escape(__file__) + r":\d+ \(in .*(micrograd|nn)"
        with pytest.raises(micrograd.compiler.TracingError, match=at_your_line):
            micrograd.compile(fn)(rows)


def test_ops_on_the_inputs_made_in_another_thread_are_refused():
    # the decision hooks are the tracing thread's: the worker's branch on x[1] went unseen,
    # and its first sample's choice was replayed for all (outputs -1.05, 0.35, -1.75 where
    # the eager engine gives -1.05, -0.35, 1.75)
    from concurrent.futures import ThreadPoolExecutor

    w = Value(0.7)

    def f(x):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: x[0] * w if x[1] > 0 else -x[0] * w).result()

    rows = np.array([[1.5, -0.5], [0.5, 3.0], [2.5, 1.0]])
    refused = "an op on input x.0. was made outside this trace, in another thread"
    with pytest.raises(micrograd.compiler.TracingError, match=refused):
        micrograd.compile(f)(rows)
    squared = w * w  # made before tracing, from no input: captured, as before
    assert micrograd.compile(lambda x: x[0] * squared).forward(rows).tolist() == [
        r * squared.data for r in rows[:, 0]
    ]


def test_the_graphs_shape_may_be_read_while_tracing_but_not_its_numbers():
    # a sort's marks in .grad are no number: topological_order inside the traced function
    # is fine (it was refused once the engine's own reads reached the tracer); a drawing's
    # numbers are not
    w = Value(0.7)

    def f(x):
        y = x[0] * w
        assert len(micrograd.topological_order(y)) == 3
        return y

    assert micrograd.compile(f).forward(np.array([[2.0], [3.0]])).tolist() == [
        2.0 * w.data,
        3.0 * w.data,
    ]
    with pytest.raises(micrograd.compiler.TracingError, match="reading .data of"):
        micrograd.compile(lambda x: x[0] * micrograd.to_json(x[0] * w)["nodes"][0]["data"])(
            np.ones((2, 1))
        )


# -- the compiled function's own contract: what eager code would do, or a clear refusal --


def test_a_value_made_inside_the_traced_function_is_refused_naming_the_line():
    # it was read as a parameter: kept from call to call, given a .grad, and trained by an
    # optimizer over step.parameters() (a bias eager code never had: loss 0.006 against 0.125)
    w = [Value(0.1), Value(-0.2)]
    X, Y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0.5, -0.5])
    step = micrograd.compile(lambda x, y: (sum((a * b for a, b in zip(w, x)), Value(0.0)) - y) ** 2)
    with pytest.raises(
        micrograd.compiler.TracingError, match=r"test_compile\.py:\d+: a Value made"
    ):
        step(X, Y)
    plain = micrograd.compile(lambda x, y: (sum((a * b for a, b in zip(w, x)), 0.0) - y) ** 2)
    eager = sum(
        (sum((a * b for a, b in zip(w, row)), 0.0) - t) ** 2 for row, t in zip(X.tolist(), Y)
    )
    eager = eager * (1 / len(Y))
    eager.backward()
    expected = [p.grad for p in w]
    for p in w:
        p.grad = 0.0
    assert plain(X, Y) == pytest.approx(eager.data, rel=1e-12)
    assert plain.parameters() == w
    assert [p.grad for p in w] == pytest.approx(expected, rel=1e-12)


def test_a_compiled_call_under_no_grad_adds_to_no_grad():
    # eagerly, no graph is recorded under no_grad and backward() then hands nothing on; the
    # compiled call added the batch gradient to w.grad all the same
    w = Value(2.0)
    step = micrograd.compile(lambda x: w * x)
    X = np.array([1.0, 2.0])
    with micrograd.no_grad():
        assert step(X) == 3.0
        eager = w * 1.5
    eager.backward()
    assert w.grad == 0.0
    assert step(X) == 3.0 and w.grad == 1.5  # with gradients on, it adds as before


def test_a_function_calling_its_own_compiled_form_is_refused_not_a_recursion_error():
    X = np.array([1.0, 2.0])
    step = micrograd.compile(lambda x: step(X) * x)
    with pytest.raises(micrograd.compiler.TracingError, match="running a compiled function"):
        step(X)


@pytest.mark.parametrize(
    "make", [lambda: micrograd.compile(lambda x: x, group="no"),
             lambda: micrograd.compile(lambda x: 2 * x)(np.ones(2), backward="no")],
)  # fmt: skip
def test_flags_that_are_no_bools_are_refused(make):
    # group="no" grouped, backward="no" ran backward
    with pytest.raises(TypeError, match=r"micrograd.compile: (group|backward) must be True or"):
        make()


def test_a_numpy_integer_names_a_static_argument():
    step = micrograd.compile(lambda x, k: x * k, static=np.int64(1))
    assert step.static == (1,) and type(step.static[0]) is int
    assert step(np.array([1.0, 2.0]), np.array([1, 2])) == 2.5


def test_a_listing_of_one_instruction_says_instruction():
    w = Value(2.0)
    step = micrograd.compile(lambda x: w * x)
    step(np.ones(2))
    assert step.listing().splitlines()[0].startswith("# 1 instruction, run as 1 step ")


@pytest.mark.parametrize(
    "batches, error, message",
    [
        # the function's own "<lambda>() takes 2 positional arguments but 3 were given",
        # raised from inside the trace
        (3, TypeError, r"<lambda> was given 3 batches, one per argument, but too many"),
        (1, TypeError, r"<lambda> was given 1 batch, one per argument, but missing .*'y'"),
    ],
)
def test_too_many_or_too_few_batches_are_named_as_compiles_error(batches, error, message):
    step = micrograd.compile(lambda x, y: x - y)
    with pytest.raises(error, match=f"^micrograd.compile: {message}"):
        step(*[np.ones(3)] * batches)


def test_batches_of_different_lengths_say_which_is_which():
    step = micrograd.compile(lambda x, y: x - y)
    with pytest.raises(ValueError, match=r"\(argument 0: 3, argument 1: 4 samples\)"):
        step(np.ones(3), np.ones(4))


def test_a_torch_tensor_that_requires_grad_is_compiles_type_error():
    # torch's own RuntimeError came through ("Can't call numpy() on Tensor that requires grad")
    step = micrograd.compile(lambda x: x * 2.0)
    with pytest.raises(TypeError, match="micrograd.compile: argument 0: expected numbers"):
        step(torch.ones(3, requires_grad=True))
    assert step(torch.ones(3)) == 2.0


def test_a_type_error_from_a_column_of_targets_gets_a_note_on_the_shape():
    # y of shape (batch, 1): each sample's y is a list of one Value, and Value - list failed
    # with nothing said about the shape
    w = Value(1.0)
    step = micrograd.compile(lambda x, y: (w * x - y) ** 2)
    with pytest.raises(TypeError, match="Value - list") as raised:
        step(np.ones(3), np.ones((3, 1)))
    if sys.version_info >= (3, 11):  # add_note
        notes = getattr(raised.value, "__notes__", [])
        assert any("traced argument(s) [1] are columns, shape (batch, 1)" in n for n in notes)
    assert step(np.ones(3), np.ones((3, 1)).ravel()) == 0.0
