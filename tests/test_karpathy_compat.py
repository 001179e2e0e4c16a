"""karpathy/micrograd's own test file runs unchanged against this engine.

The file comes from the sdist of its PyPI release 0.1.0 (fetched with pip at run time; none of
its code is committed here) and runs in a subprocess where ``micrograd`` is this package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks import karpathy_release

ROOT = Path(__file__).resolve().parent.parent


def test_karpathys_test_engine_passes_unchanged(tmp_path):
    source = karpathy_release.test_engine_source()
    assert "def test_sanity_check" in source and "def test_more_ops" in source
    (tmp_path / "test_engine.py").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_engine.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_it_imported_this_engine_not_the_release(tmp_path):
    probe = "import micrograd.engine as e; print(e.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).resolve() == ROOT / "micrograd" / "engine.py"


# -- the lecture's own way of adding ops: Value(data, children, op) and a _backward closure --


import pytest  # noqa: E402
import torch  # noqa: E402
from lecture_ops import lecture_exp, lecture_tanh, lecture_times  # noqa: E402
from oracle import same, tensors  # noqa: E402

import micrograd  # noqa: E402
from micrograd import Value, grad  # noqa: E402


def lecture_neuron():
    """The lecture's neuron, o = tanh(x1*w1 + x2*w2 + b), with its own ops mixed in."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = lecture_times(x1, w1) + x2 * w2 + b
    o = lecture_tanh(n) * lecture_exp(w2 * 0.5)
    return o, [x1, x2, w1, w2, b]


def torch_lecture_neuron():
    x1, x2, w1, w2, b = tensors(2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    o = torch.tanh(x1 * w1 + x2 * w2 + b) * torch.exp(w2 * 0.5)
    o.backward()
    return o.item(), [t.grad.item() for t in (x1, x2, w1, w2, b)]


def test_nodes_made_the_lectures_way_backpropagate_as_torch_does():
    o, leaves = lecture_neuron()
    o.backward()
    t_value, t_grads = torch_lecture_neuron()
    assert same(o.data, t_value)
    assert all(same(leaf.grad, t) for leaf, t in zip(leaves, t_grads)), [v.grad for v in leaves]


def test_calling_backward_by_hand_in_reversed_topological_order():
    """The lecture's own loop: its topological sort, then node._backward() for every node,
    built-in ops (whose _backward is their rule) and the lecture's closures alike."""
    o, leaves = lecture_neuron()
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    _, t_grads = torch_lecture_neuron()
    assert all(same(leaf.grad, t) for leaf, t in zip(leaves, t_grads)), [v.grad for v in leaves]


def test_grad_and_drawings_see_exactly_what_a_closure_hands_on():
    o, leaves = lecture_neuron()
    _, t_grads = torch_lecture_neuron()
    got = grad(o, leaves)
    assert all(same(g, t) for g, t in zip(got, t_grads))
    assert all(leaf.grad == 0.0 for leaf in leaves)  # grad() leaves .grad alone
    final = list(micrograd.backward_steps(o))[-1].grads
    order = micrograd.topological_order(o)
    assert all(same(final[order.index(leaf)], t) for leaf, t in zip(leaves, t_grads))


def test_what_needs_a_rule_refuses_a_closure_node_clearly():
    o, leaves = lecture_neuron()
    with pytest.raises(TypeError, match=r"'tanh' was made the lecture's way.*create_graph"):
        o.backward(create_graph=True)
    with pytest.raises(TypeError, match="lecture's way"):
        grad(o, leaves, create_graph=True)
    w = Value(0.5)
    step = micrograd.compile(lambda x: lecture_tanh(w * x))
    with pytest.raises(micrograd.compiler.TracingError, match=r"reading \.data.*lecture's way"):
        step([1.0, 2.0])
    made_before = lecture_tanh(w * 2.0)  # a closure node made outside, captured by the function
    with pytest.raises(TypeError, match=r"'tanh'.*lecture's way.*micrograd.compile"):
        micrograd.compile(lambda x: made_before * x)([1.0, 2.0])

    def zero(x):  # made inside, reading no .data: it was said to come from another thread
        out = Value(0.0, (x,), "zero")
        out._backward = lambda: None
        return out

    with pytest.raises(TypeError, match=r"'zero' was made the lecture's way.*micrograd.compile"):
        micrograd.compile(lambda x: zero(x * w))([1.0, 2.0])


def test_ordinary_nodes_keep_their_size_and_class():
    class SameSlots:
        __slots__ = ("a", "b", "c", "d", "e", "f", "__weakref__")

    x, y = Value(1.0), Value(2.0)
    for node in (x, x * y, x.tanh(), Value(3.0, label="z")):
        assert type(node) is Value and sys.getsizeof(node) == sys.getsizeof(SameSlots())
    assert type(lecture_tanh(x)) is not Value  # only the lecture's nodes carry a closure


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda: Value(1.0, "x"), r"label='x'"),  # a label given where _children goes
        (lambda: Value(1.0, (1.0, 2.0), "+"), r"_children must be one or two Values"),
        (lambda: Value(1.0, (Value(1.0),) * 3, "+"), r"_children must be one or two Values"),
        (lambda: Value(1.0, (Value(1.0),), 5), r"_op must be a string"),
    ],
)
def test_the_lecture_constructor_says_what_it_expects(bad, message):
    with pytest.raises(TypeError, match=message):
        bad()


def test_op_looks_up_like_its_string():
    a, b = Value(1.0), Value(2.0)
    node = a + b
    assert {"+": "add", "*": "mul"}[node._op] == "add"
    assert node._op in {"+"} and node._op == "+" and (a * b)._op in ("*",)
    assert {"tanh": 1}[lecture_tanh(a)._op] == 1
    assert a._op == "" and str(node._op) == "+"


def test_an_overridden_call_of_a_neuron_or_layer_is_honoured():
    """Layer and MLP call their parts as users do: a subclass's own __call__ runs."""
    import random

    from micrograd import nn

    class Doubled(nn.Neuron):
        def __call__(self, x):
            return super().__call__(x) * 2.0

    class Shifted(nn.Layer):
        def __call__(self, x):
            return [v + 1.0 for v in super().__call__(x)]

    x = [0.5, -1.0]
    plain = nn.Layer(2, 3, activation="tanh", rng=random.Random(0))
    layer = nn.Layer(2, 3, activation="tanh", rng=random.Random(0))
    layer.neurons = [Doubled(2, activation="tanh") for _ in range(3)]
    for ours, theirs in zip(layer.neurons, plain.neurons):
        ours.w, ours.b = theirs.w, theirs.b
    assert [v.data for v in layer(x)] == [2 * v.data for v in plain(x)]

    model = nn.MLP(2, [3, 1], rng=random.Random(1))
    first, second = model.layers
    shifted = Shifted(2, 3)
    shifted.neurons = first.neurons
    model.layers[0] = shifted
    by_hand = second([v + 1.0 for v in first(x)])  # what the shifted first layer hands on
    assert model(x).data == by_hand.data


def test_a_neuron_made_linear_by_setting_nonlin_as_his_users_do():
    import random

    from micrograd.nn import Neuron

    neuron = Neuron(2, rng=random.Random(3))
    neuron.nonlin = False  # an AttributeError: nonlin was a read-only property
    x = [1.5, -2.0]
    by_hand = neuron.b.data + neuron.w[0].data * x[0] + neuron.w[1].data * x[1]
    assert (neuron.nonlin, neuron(x).data) == (False, by_hand)  # his order of additions
    neuron.nonlin = True
    assert neuron(x).data == max(by_hand, 0.0)
    with pytest.raises(TypeError, match="nonlin must be True or False"):
        neuron.nonlin = "no"


def test_a_value_set_from_numpy_numbers_prints_as_his_does():
    import numpy as np

    from micrograd.engine import Value

    p = Value(0.5)
    p.data -= np.float64(0.1) * 1.0  # np.float64(0.4) leaked into the repr
    p.grad = np.float64(0.25)
    assert repr(p) == "Value(data=0.4, grad=0.25)"


def test_a_layer_subclass_may_keep_its_own_nin_as_his_users_write_it():
    import random

    from micrograd.nn import MLP, Layer, Neuron

    class Logged(Layer):  # his Layer has no nin: a subclass sets its own
        def __init__(self, nin, nout, **kwargs):
            self.nin = nin  # an AttributeError here: nin was a read-only property
            super().__init__(nin, nout, **kwargs)
            self.nout = nout

    layer = Logged(3, 2, rng=random.Random(0))
    assert (layer.nin, layer.nout, len(layer.parameters())) == (3, 2, 8)

    class Plain(Layer):  # his users' own __init__, which never calls Layer's
        def __init__(self, nin, nout):
            self.neurons = [Neuron(nin, rng=random.Random(k)) for k in range(nout)]

    plain = Plain(2, 3)
    assert plain.nin == 2 and len(plain([1.0, 2.0])) == 3  # no nin was set: its neurons'
    model = MLP(3, [2, 1], rng=random.Random(0))
    model.layers[0] = layer
    x = [0.5, -1.0, 2.0]
    hidden = [max(n.b.data + sum(w.data * v for w, v in zip(n.w, x)), 0.0) for n in layer.neurons]
    out = model.layers[1].neurons[0]
    by_hand = out.b.data + sum(w.data * h for w, h in zip(out.w, hidden))
    assert model(x).data == pytest.approx(by_hand, rel=1e-15)


def test_a_value_subclass_of_ones_own_makes_nodes_the_lectures_way():
    # "property '_backward' of 'Lectured' object has no setter": only Value itself made
    # closure nodes, so a subclass writing the lecture's ops could not give them closures
    import torch

    from micrograd import Value

    class Lectured(Value):
        def __add__(self, other):
            out = Lectured(self.data + other.data, (self, other), "+")

            def _backward():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = _backward
            return out

        def __mul__(self, other):
            out = Lectured(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad

            out._backward = _backward
            return out

    a, b = Lectured(1.5), Lectured(-2.0)
    c = a * b + a
    c.backward()
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1.5, -2.0))
    (ta * tb + ta).backward()
    assert type(c) is Lectured and (a.grad, b.grad) == (ta.grad.item(), tb.grad.item())
    with pytest.raises(AttributeError, match="Value: a _backward closure is held by a node"):
        Value(1.0)._backward = lambda: None

    class Slotted(Value):
        __slots__ = ()

    with pytest.raises(AttributeError, match="a subclass with __slots__ needs a '_backward'"):
        Slotted(1.0, (a,), "f")


def test_the_lectures_overwriting_bug_shows_in_backward_as_in_his_engine():
    """The lecture's deliberate bug, a _backward that sets its inputs' grads instead of adding
    to them, loses what another consumer handed. backward() ran closures on grads set aside
    and added the shares itself, so the bug the lecture shows came out right here."""
    import torch

    import micrograd
    from micrograd import Value, topological_order

    def buggy_add(x, y):
        out = Value(x.data + y.data, (x, y), "+")

        def _backward():
            x.grad = 1.0 * out.grad  # = where the fix has +=
            y.grad = 1.0 * out.grad

        out._backward = _backward
        return out

    def graph():
        x = Value(2.0)
        return x, buggy_add(x, Value(1.0)) + buggy_add(x, Value(5.0))  # x read twice

    x, z = graph()
    z.backward()
    by_his_loop, z2 = graph()
    z2.grad = 1.0
    for node in reversed(topological_order(z2)):  # the lecture's own loop over _backward
        node._backward()
    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ((tx + 1.0) + (tx + 5.0)).backward()
    assert x.grad == by_his_loop.grad == 1.0 and tx.grad.item() == 2.0  # the bug, shown
    watched, z3 = graph()
    with micrograd.detect_anomaly():  # a debugging mode gave 2.0: it changed the numbers
        z3.backward()
    assert watched.grad == 1.0
    inner = Value(3.0) * 2.0
    silent = Value(inner.data + 1.0, (inner,), "f")  # given no closure: it hands nothing on
    silent.backward()
    assert type(inner.grad) is float and inner.grad == 0.0  # not the walk's marker


# -- his nn's parameters(): w + [b], and nothing else a subclass keeps --


def _caching(neuron_class, layer_class, mlp_class):
    """Subclasses, of his nn's classes or of ours, that keep each output in self.out."""

    class CachingNeuron(neuron_class):
        def __call__(self, x):
            self.out = super().__call__(x)
            return self.out

    class CachingLayer(layer_class):
        def __init__(self, nin, nout, **kwargs):
            super().__init__(nin, nout, **kwargs)
            self.neurons = [CachingNeuron(nin, **kwargs) for _ in range(nout)]

    class CachingMLP(mlp_class):
        def __init__(self, nin, nouts):
            super().__init__(nin, nouts)
            sizes = [nin, *nouts]
            self.layers = [
                CachingLayer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1)
                for i in range(len(nouts))
            ]

    return CachingMLP


def _train(mlp_class, value_class, steps=4):
    """Losses of karpathy's demo loop (hinge + 1e-4 * sum(p*p), SGD) on a few points."""
    import random

    random.seed(1337)
    model = mlp_class(2, [4, 4, 1])
    points = [([0.5, -1.0], 1.0), ([-0.3, 0.8], -1.0), ([1.2, 0.1], 1.0), ([-1.0, -0.5], -1.0)]
    losses, counts = [], []
    for _ in range(steps):
        scores = [model([value_class(x) for x in row]) for row, _ in points]
        hinge = sum((1 + -y * s).relu() for (_, y), s in zip(points, scores)) * (1 / len(points))
        loss = hinge + 1e-4 * sum(p * p for p in model.parameters())
        counts.append(len(model.parameters()))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
        losses.append(loss.data)
    return losses, counts


def test_a_subclass_keeping_its_output_trains_as_with_karpathys_nn():
    # the output kept in self.out counted as a parameter here: 46 where his nn has 37 after
    # a forward pass, the l2 term took it in and SGD moved it
    from benchmarks import karpathy_release
    from micrograd import nn

    his = karpathy_release.load()
    theirs = _train(_caching(his.nn.Neuron, his.nn.Layer, his.nn.MLP), his.engine.Value)
    ours = _train(_caching(nn.Neuron, nn.Layer, nn.MLP), Value)
    assert ours[1] == theirs[1] == [37] * 4
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)


def test_a_node_made_the_lectures_way_under_no_grad_is_a_leaf_as_every_result_there():
    # it kept its inputs, so a target computed under no_grad passed gradient back: 4.0 where
    # torch, whose custom Function under no_grad gives no graph, gives -2.0
    w = micrograd.Value(0.5)
    with micrograd.no_grad():
        target = lecture_times(w, micrograd.Value(3.0))
    assert target._prev == () and target.data == 1.5
    ((w - target) ** 2).backward()

    class Times(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

    tw = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        t_target = Times.apply(tw, torch.tensor(3.0, dtype=torch.float64))
    ((tw - t_target) ** 2).backward()
    assert w.grad == tw.grad.item() == -2.0
    outside = lecture_times(w, micrograd.Value(3.0))  # with grad on, a node as ever
    assert outside._prev == (w, outside._b)


def test_anomaly_mode_watches_nodes_made_the_lectures_way_as_its_own():
    """detect_anomaly names the op and the line of a node made the lecture's way, as of any
    other: it neither checked such a node's forward nor knew where it was made ('created
    outside detect_anomaly' for a node made inside it)."""
    import math

    import micrograd
    from micrograd import Value

    def lecture_sqrt(x):
        out = Value(math.sqrt(x.data) if x.data >= 0 else math.nan, (x,), "sqrt")  # made here

        def _backward():
            x.grad += out.grad * (0.5 / out.data if out.data else math.inf)  # inf at 0

        out._backward = _backward
        return out

    here = rf"test_karpathy_compat\.py:{lecture_sqrt.__code__.co_firstlineno + 1}\b"
    with micrograd.detect_anomaly():
        forward = rf"'sqrt' on inputs \(-1\.0\).*forward.*{here}"
        with pytest.raises(FloatingPointError, match=forward):
            lecture_sqrt(Value(-1.0))
        x = Value(0.0)
        y = lecture_sqrt(x * 1.0) * 0.0  # finite forward; the closure makes nan of a finite grad
        with pytest.raises(FloatingPointError, match=rf"'sqrt'.*backward.*created at .*{here}"):
            y.backward()
    assert math.isnan(lecture_sqrt(Value(-1.0)).data)  # outside the mode nothing is checked
