"""micrograd.compile on random graphs built from every op: the compiled batch against the eager
engine sample by sample (1e-12 relative) and against PyTorch float64 on the whole batch (each
op at its awkward points, compiled, is checked by test_ops through check_op)."""

from __future__ import annotations

import contextlib
import math
from unittest import mock

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, GRAPH_FORMS
from oracle import same

import micrograd
import micrograd.runner
from micrograd import OPS, Value

# Each op on Values, applied to raw operands: nan and inf are allowed to appear, and must
# appear identically in the compiled batch and the eager engine.
RAW = {name: (case.ours, case.torch) for name, case in CASES.items()}
# The same ops on the gentle domains of their cases, so that graphs compared with PyTorch
# mostly stay finite and a mismatch means something.
GENTLE = GRAPH_FORMS
BINARY = {name for name, op in OPS.items() if op.arity == 2}


def test_the_generator_uses_every_op():
    assert sorted(RAW) == sorted(GENTLE) == sorted(OPS)


@st.composite
def problems(draw):
    """(inputs (batch, k), parameter values, steps); a step is (op, operand, operand or
    constant), operands indexing inputs, then parameters, then earlier steps."""
    k = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 5))
    # Tiny magnitudes are left out: dividing by 1e-80 makes gradients near 1e80 that cancel,
    # and what survives a cancellation depends on the order of summation, which legitimately
    # differs between the engines (PyTorch's order gives yet another answer).
    sizeable = st.floats(-3.0, 3.0).filter(lambda v: abs(v) >= 1e-3)
    number = st.one_of(sizeable, st.sampled_from([0.0, 1.0, -1.0]))
    inputs = draw(
        st.lists(st.lists(number, min_size=k, max_size=k), min_size=batch, max_size=batch)
    )
    parameters = draw(st.lists(number, min_size=1, max_size=3))
    steps = []
    for n in range(draw(st.integers(1, 25))):
        available = k + len(parameters) + n
        name = draw(st.sampled_from(sorted(OPS)))
        a = draw(st.integers(0, available - 1))
        b = None
        if name in BINARY:
            operand = st.integers(0, available - 1)
            b = draw(st.one_of(operand, st.sampled_from([2.0, 0.5, -1.5, 0.01])))
        steps.append((name, a, b))
    return np.array(inputs), parameters, steps


def run(steps, x: list, parameters: list, table: dict, side: int):
    """The program on one sample's Values (or the batch's columns as tensors): the sum of
    its last three nodes."""
    nodes = [*x, *parameters]
    for name, a, b in steps:
        if b is None:
            nodes.append(table[name][side](nodes[a]))
        else:
            other = nodes[b] if isinstance(b, int) else b
            nodes.append(table[name][side](nodes[a], other))
    last = nodes[-3:]
    return sum(last[1:], last[0])


def eager(steps, inputs: np.ndarray, parameters: list[Value], table: dict):
    """The eager engine, one graph per sample, mean over the batch: (loss, gradients)."""
    losses = [run(steps, [Value(v) for v in row], parameters, table, 0) for row in inputs.tolist()]
    loss = sum(losses[1:], losses[0]) / len(losses)
    loss.backward()
    return loss.data, [p.grad for p in parameters]


def close(ours: float, theirs: float, rel: float) -> bool:
    return same(ours, theirs, rel=rel, abs_tol=rel)


def kernels_on_any_size(on: bool):
    """The runner uses micrograd.kernels on big arrays only; these batches are small, so
    half the examples lower the bar to run the kernels too."""
    if not on:
        return contextlib.nullcontext()
    return mock.patch.object(micrograd.runner, "KERNEL_NUMBERS", 0)


@settings(max_examples=150)
@given(problems(), st.booleans(), st.booleans())
def test_random_graphs_match_the_eager_engine(problem, group, kernels):
    inputs, values, steps = problem
    parameters = [Value(v) for v in values]
    step = micrograd.compile(lambda x: run(steps, x, parameters, RAW, 0), group=group)
    with kernels_on_any_size(kernels):
        loss = step(inputs)
    grads = [p.grad for p in parameters]
    for p in parameters:
        p.grad = 0.0
    e_loss, e_grads = eager(steps, inputs, parameters, RAW)
    assert close(loss, e_loss, 1e-12), (loss, e_loss)
    for ours, theirs in zip(grads, e_grads):
        assert close(ours, theirs, 1e-12), (grads, e_grads)


@settings(max_examples=60)
@given(problems(), st.booleans(), st.booleans())
def test_random_graphs_match_torch(problem, group, kernels):
    inputs, values, steps = problem
    parameters = [Value(v) for v in values]
    step = micrograd.compile(lambda x: run(steps, x, parameters, GENTLE, 0), group=group)
    with kernels_on_any_size(kernels):
        loss = step(inputs)
    t_parameters = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    columns = list(torch.tensor(inputs, dtype=torch.float64).T)
    t_loss = run(steps, columns, t_parameters, GENTLE, 1).mean()
    if t_loss.requires_grad:  # else no parameter is used, and every gradient is 0
        t_loss.backward()
    assert close(loss, t_loss.item(), 1e-9), (loss, t_loss.item())
    for p, tp in zip(parameters, t_parameters):
        t_grad = 0.0 if tp.grad is None else tp.grad.item()
        assert close(p.grad, t_grad, 1e-9), (p.grad, t_grad)


# ---------------------------------------------------------------------------------------
# Stacks of banks: the sums of products that lifting runs as matrix products


@st.composite
def stacks(draw):
    """(inputs, banks, read): banks of sums of products as lifting sees them. Each bank reads
    an earlier vector (the inputs are vector 0) as it is, reversed or with its first entry
    twice; its weights are its own or an earlier bank's of the same shape (a layer used
    again); its bias is a parameter, a constant or none, added first, last or as sum()'s
    start; an activation follows. The loss is the sum of the last vector and the first entry
    of vector `read`, which is also returned whole: the loss reads some banks in part, and
    a row only an output reads gets no gradient. Inputs may be infinite."""
    k, batch = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    number = st.one_of(st.floats(-2.0, 2.0).filter(lambda v: abs(v) >= 1e-2),
                       st.sampled_from([0.0, -0.0, 1.0]))  # fmt: skip
    entry = st.one_of(number, st.sampled_from([math.inf, -math.inf]))  # inputs only
    inputs = draw(st.lists(st.lists(entry, min_size=k, max_size=k), min_size=batch,
                           max_size=batch))  # fmt: skip
    widths, banks = [k], []
    for _ in range(draw(st.integers(1, 4))):
        source = draw(st.integers(0, len(widths) - 1))
        order = draw(st.sampled_from(["as is", "reversed", "first twice"]))
        width = widths[source] + (order == "first twice")
        earlier = [j for j, bank in enumerate(banks) if bank["shape"][1] == width]
        shares = draw(st.sampled_from([None, *earlier]))
        shape = (draw(st.integers(1, 4)) if shares is None else banks[shares]["shape"][0], width)
        banks.append({
            "source": source, "order": order, "shape": shape, "shares": shares,
            "weights": draw(st.lists(number, min_size=shape[0] * shape[1],
                                     max_size=shape[0] * shape[1])),
            "bias": draw(st.sampled_from(["parameter", "constant", "none"])),
            "biases": draw(st.lists(number, min_size=shape[0], max_size=shape[0])),
            "adds": draw(st.sampled_from(["bias first", "bias last", "sum"])),
            "activation": draw(st.sampled_from(["relu", "tanh", "tanh(1/x)", "none"])),
        })  # fmt: skip
        widths.append(shape[0])
    return np.array(inputs), banks, draw(st.integers(0, len(widths) - 1))


def bank_parameters(banks: list, make) -> list:
    """(weight rows, biases) of each bank, made by make(number)."""
    return [
        ([[make(w) for w in bank["weights"][r * n : (r + 1) * n]] for r in range(m)],
         [make(b) for b in bank["biases"]])
        for bank in banks
        for m, n in [bank["shape"]]
    ]  # fmt: skip


def stack(x: list, banks: list, parameters: list, read: int, side: int):
    """[the loss, *vector read] on one sample's Values (side 0), or on the batch's columns as
    tensors (side 1)."""
    vectors = [list(x)]
    for bank, (own, biases) in zip(banks, parameters):
        v = vectors[bank["source"]]
        v = {"as is": v, "reversed": v[::-1], "first twice": [v[0], *v]}[bank["order"]]
        rows = own if bank["shares"] is None else parameters[bank["shares"]][0]
        out = []
        for row, b in zip(rows, biases):
            terms = [w * xi for w, xi in zip(row, v)]
            bias = {"parameter": b, "constant": 0.25, "none": None}[bank["bias"]]
            if bank["adds"] == "sum":
                total = sum(terms) if bias is None else sum(terms, bias)
            else:
                first = [bias] if bias is not None and bank["adds"] == "bias first" else []
                last = [bias] if bias is not None and bank["adds"] == "bias last" else []
                chain = [*first, *terms, *last]
                total = chain[0]
                for term in chain[1:]:
                    total = total + term
            out.append(_activation(total, bank["activation"], side))
        vectors.append(out)
    return [sum(vectors[-1], vectors[read][0]), *vectors[read]]


def _activation(x, name: str, side: int):
    """name applied to x; tanh(1/x) tells -0.0 (-1.0) from +0.0 (1.0)."""
    if name == "none":
        return x
    if name == "tanh(1/x)":
        return _activation(1.0 / x, "tanh", side)
    return getattr(x, name)() if side == 0 else getattr(torch, name)(x)


@settings(max_examples=200, deadline=None)
@given(stacks(), st.booleans())
def test_random_stacks_of_banks_match_torch_and_the_eager_engine(problem, kernels):
    """Lifting on random stacks: the compiled loss and gradients against PyTorch (float64,
    whole batch) and the eager engine (one graph per sample), to 1e-9 and 1e-12."""
    inputs, banks, read = problem
    parameters = bank_parameters(banks, Value)
    leaves = [p for rows, biases in parameters for p in (*sum(rows, []), *biases)]
    step = micrograd.compile(lambda x: stack(x, banks, parameters, read, 0))
    with kernels_on_any_size(kernels):
        outputs, gradient = step.value_and_grad(inputs)
    with np.errstate(invalid="ignore"):  # inf + -inf is nan, as in the eager sum
        loss = outputs[:, 0].mean()
    traced = dict(zip(step.parameters(), gradient.tolist()))
    grads = [traced.get(p, 0.0) for p in leaves]
    samples = [stack([Value(v) for v in row], banks, parameters, read, 0)
               for row in inputs.tolist()]  # fmt: skip
    for row, sample in zip(outputs.tolist(), samples):
        assert all(close(ours, v.data, 1e-12) for ours, v in zip(row, sample)), (row, sample)
    e_loss = sum((s[0] for s in samples[1:]), samples[0][0]) / len(samples)
    e_loss.backward()
    assert close(loss, e_loss.data, 1e-12), (loss, e_loss.data)
    for ours, p in zip(grads, leaves):
        assert close(ours, p.grad, 1e-12), (ours, p.grad)
    t_parameters = bank_parameters(
        banks, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
    )
    t_leaves = [p for rows, biases in t_parameters for p in (*sum(rows, []), *biases)]
    columns = list(torch.tensor(inputs, dtype=torch.float64).T)
    t_loss = stack(columns, banks, t_parameters, read, 1)[0].mean()
    if t_loss.requires_grad:
        t_loss.backward()
    assert close(loss, t_loss.item(), 1e-9), (loss, t_loss.item())
    for ours, tp in zip(grads, t_leaves):
        assert close(ours, 0.0 if tp.grad is None else tp.grad.item(), 1e-9)
