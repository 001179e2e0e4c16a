"""The step-through captions: each states the chain rule at its step, in symbols (the op
row's formula for every local derivative) and in numbers. PyTorch float64 is the oracle for
every local derivative, both the formulas in the op table and the numbers in the captions."""

from __future__ import annotations

import math
import re

import pytest
import torch
from op_cases import CASES
from oracle import torch_grads

import micrograd
from micrograd import OPS, Value
from micrograd.draw import backward_steps, caption
from micrograd.formulas import as_python
from micrograd.ops import Op
from micrograd.viz.graph import fmt

# Points where each op is smooth (or, for a kink, on one side of it), plus ties.
POINTS = {1: [(0.7,), (-0.4,), (1.9,)], 2: [(0.7, 1.3), (1.3, 0.7), (-0.4, 0.2), (0.6, -1.5)]}
TIES = {"maximum": [(0.5, 0.5)], "first_max": [(0.5, 0.5)]}
DOMAIN = {  # where the op is defined in real numbers
    "log": lambda a: a > 0,
    "log1p": lambda a: a > -1,
    "sqrt": lambda a: a > 0,
    "pow": lambda a, b: a > 0,
}
NAMES = ("p", "q")  # the inputs' labels: not the rule's own names a and b
ROOT = "y"


def points(name: str) -> list[tuple[float, ...]]:
    inside = DOMAIN.get(name, lambda *xs: True)
    return [p for p in POINTS[OPS[name].arity] + TIES.get(name, []) if inside(*p)]


def torch_partials(name: str, point) -> tuple[list[float], float, list[float]]:
    """(d out / d input for each input, out, the inputs) by PyTorch's autograd."""
    inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = CASES[name].torch(*inputs)
    return [g.item() for g in torch_grads(out, inputs)], out.item(), list(point)


class Number(float):
    """A float that is always a new object, so that 'out is a' tells equal inputs apart."""


def namespace(name: str, point, out: float) -> dict:
    """The rule's names bound to the inputs (as objects, so that 'out is a' can be asked) and
    out; first_max's out is the very input PyTorch's max pooling picks."""
    symbols = dict(zip(OPS[name].inputs, [Number(x) for x in point]))
    if name == "first_max":
        window = torch.tensor([[list(point)]], dtype=torch.float64)
        _, index = torch.nn.functional.max_pool1d(window, 2, return_indices=True)
        out = symbols[OPS[name].inputs[index.item()]]
    functions = {f: getattr(math, f) for f in ("exp", "log", "sin", "cos", "tanh", "sqrt")}
    functions["sigmoid"] = lambda x: torch.sigmoid(torch.tensor(float(x), dtype=torch.float64))
    return {**functions, "sign": lambda x: (x > 0) - (x < 0), **symbols, "out": out}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_rows_formulas_are_its_derivatives(name):
    op = OPS[name]
    assert op.partials is not None and len(op.partials) == op.arity
    for point in points(name):
        expected, out, _ = torch_partials(name, point)
        scope = namespace(name, point, out)
        for formula, want in zip(op.partials, expected):
            got = eval(as_python(formula), scope)  # the op table's own text
            assert float(got) == pytest.approx(want, rel=1e-12, abs=1e-15), (formula, point)


def substituted(formula: str, names: dict[str, str]) -> str:
    return re.sub(r"\b(a|b|alpha|out)\b", lambda m: names[m.group()], formula)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_caption_names_the_formula_and_multiplies_by_torchs_derivative(name):
    op = OPS[name]
    for point in points(name):
        inputs = [Value(x, label=label) for x, label in zip(point, NAMES)]
        root = CASES[name].ours(*inputs)
        root.label = ROOT
        frame = next(iter(backward_steps(root)))
        text = caption(frame)
        assert text.startswith(f"Step 1: {ROOT} = "), text
        assert f"{ROOT}.grad = 1.000." in text
        names = dict(zip(op.inputs, NAMES), out=ROOT)
        expected, _, _ = torch_partials(name, point)
        for label, formula, derivative in zip(NAMES, op.partials, expected):
            written = substituted(formula, names)
            assert f"d{ROOT}/d{label} = {written}" in text, text
            local = fmt(derivative)  # the root's grad is 1: what it sends is the derivative
            assert f"{label}.grad += 1.000 × {local} = {local}" in text, text


def test_a_caption_multiplies_the_grad_that_arrived_by_the_local_derivative():
    # karpathy's lecture neuron: o = tanh(n) with n = 0.8814, so do/dn = 1 - o**2 = 0.5
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432).items()}  # fmt: skip
    tn = t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]
    tn.retain_grad()
    torch.tanh(tn).backward()
    frames = list(backward_steps(o))
    first, second = caption(frames[0]), caption(frames[1])
    assert first == (
        f"Step 1: o = tanh(n), and o.grad = 1.000. The chain rule: do/dn = 1 - o ** 2 = "
        f"{fmt(tn.grad.item())}, so n.grad += 1.000 × {fmt(tn.grad.item())} = "
        f"{fmt(tn.grad.item())}."
    )
    # n = (x1*w1 + x2*w2) + b: the sum's unnamed input is called by its number
    assert re.match(rf"Step 2: n = #\d+ \+ b, and n.grad = {fmt(tn.grad.item())}\.", second)
    assert f"dn/db = 1, so b.grad += {fmt(tn.grad.item())} × 1.000 = " in second
    last = caption(frames[-1])  # x1 * w1 (or x2 * w2): which the walk reaches last
    product = re.search(r"= (x\d) \* (w\d)", last).groups()
    for name, other in (product, product[::-1]):
        grad = fmt(t[name].grad.item())
        assert f"d#{frames[-1].index}/d{name} = {other} = {fmt(t[other].item())}" in last
        assert re.search(rf"{name}\.grad \+= \S+ × \S+ = {re.escape(grad)}", last), last


def test_a_repeated_input_shows_the_sum_it_accumulates():
    a = Value(0.8, label="a")
    root = a * a + a
    root.label = "y"
    ta = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    (ta * ta + ta).backward()
    frames = list(backward_steps(root))
    assert "a.grad += 1.000 × 1.000 = 1.000." in caption(frames[0])  # from the sum first
    square = caption(frames[1])
    assert f"now 1.000 + {fmt(0.8)} = {fmt(1.8)}" in square  # one factor of a * a
    assert square.endswith(f"now {fmt(1.8)} + {fmt(0.8)} = {fmt(ta.grad.item())}.")


def test_constants_are_left_out_and_a_step_of_constants_says_so():
    x = Value(1.5, label="x")
    root = 2.0 * x
    root.label = "y"
    text = caption(next(iter(backward_steps(root))))
    assert "dy/dx = 2.000" in text and "x.grad += 1.000 × 2.000 = 2.000" in text
    assert "dy/d2" not in text and text.count(".grad +=") == 1


def test_an_op_without_formulas_gives_its_numbers_by_its_rule():
    cube = Op("cube", 1, lambda F, a: a * a * a, lambda F, g, out, a: (g * 3 * F.plain(a) ** 2,))
    x = Value(0.5, label="x")
    root = micrograd.engine.apply_op(cube, x)
    root.label = "y"
    tx = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    (tx**3).backward()
    text = caption(next(iter(backward_steps(root))))
    assert text.startswith("Step 1: y = cube(x), and y.grad = 1.000.")
    assert f"dy/dx = {fmt(tx.grad.item())} (by the op's derivative rule)" in text


@pytest.mark.parametrize(
    "partials, error, expected",
    [
        (("b",), ValueError, "must be 2 formulas, one per input, got 1"),
        (("b", "a", "1"), ValueError, "must be 2 formulas, one per input, got 3"),
        (("b", 3), TypeError, "must be a tuple of formulas"),
        ("ba", TypeError, "must be a tuple of formulas"),  # not the two formulas 'b', 'a'
    ],
)
def test_an_op_rows_formulas_are_checked_when_it_is_made(partials, error, expected):
    with pytest.raises(error, match=rf"Op\('twice'\): partials {expected}"):
        Op("twice", 2, lambda F, a, b: a * b, lambda F, g, out, a, b: (g * b, g * a),
           partials=partials)  # fmt: skip
